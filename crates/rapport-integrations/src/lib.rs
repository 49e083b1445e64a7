//! The integration hub: everything Rapport sends to the outside world. Today: outbound
//! webhooks (`webhooks`) — subscriptions per workspace, payloads signed as the Standard
//! Webhooks specification says, fanned out from the outbox and delivered at least once through
//! the job queue, with a delivery log.

pub mod webhooks;
pub mod workers;

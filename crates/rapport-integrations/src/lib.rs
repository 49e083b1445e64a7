//! The integration hub: everything Rapport sends to the outside world. Today: outbound
//! webhooks (`webhooks`) — subscriptions per workspace, payloads signed as the Standard
//! Webhooks specification says, fanned out from the outbox and delivered at least once through
//! the job queue, behind a circuit breaker per destination, with a delivery log and a health
//! map.

pub mod webhooks;
pub mod workers;

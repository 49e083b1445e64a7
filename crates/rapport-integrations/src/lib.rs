//! The integration hub: everything Rapport sends to the outside world. Outbound webhooks
//! (`webhooks`) — subscriptions per workspace, payloads signed as the Standard Webhooks
//! specification says, fanned out from the outbox and delivered at least once through the job
//! queue, behind a circuit breaker per destination, with a delivery log and a health map — and
//! connectors (`connectors`): email, SMS, chat robots and HTTP / ERP calls with credentials
//! sealed at rest, sent through the job queue with a log of every send — and the semantic
//! dictionary (`dictionary`) both translate values through. And what the outside sends in:
//! inbound webhooks (`inbound`) mapped into record upserts.

pub mod connectors;
pub mod dictionary;
pub mod inbound;
mod owned;
pub mod webhooks;
pub mod workers;

//! Hooklane's domain: ids, records, actions, queue envelopes, the
//! template context of an inbound call, time.

pub mod action;
pub mod call_context;
pub mod clock;
pub mod envelope;
pub mod id;
pub mod model;
pub mod validate;

pub use action::{Action, ActionSpec};
pub use clock::{Clock, ManualClock, SystemClock};
pub use envelope::{Envelope, Job};
pub use id::{BotId, CallId, DeliveryId, EndpointId, HookId, InvalidId, MessageId};
pub use model::*;

/// RFC 3339 text of a time, as every JSON answer carries it.
pub fn rfc3339(t: time::OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

//! Hooklane's domain: ids, records, actions, queue envelopes, the
//! template context of an inbound call, time.
//!
//! Values with rules are types that check them when made (parse, don't
//! validate): ids (`id`), [`EventType`] and [`EventFilter`] (`event`),
//! [`IdempotencyKey`] (`idempotency`), [`MediaType`] (`media_type`) and
//! credentials as [`Secret`] (`secret`). Each keeps the JSON form of the plain string.

#![warn(missing_docs)]

pub mod action;
pub mod call_context;
pub mod clock;
pub mod envelope;
pub mod event;
pub mod id;
pub mod idempotency;
pub mod media_type;
pub mod model;
pub mod secret;
pub mod validate;

pub use action::{Action, ActionSpec};
pub use clock::{Clock, ManualClock, SystemClock};
pub use envelope::{Envelope, Job};
pub use event::{EventFilter, EventType, InvalidEvent};
pub use id::{BotId, CallId, DeliveryId, EndpointId, HookId, InvalidId, MessageId};
pub use idempotency::{IdempotencyKey, InvalidIdempotencyKey};
pub use media_type::{InvalidMediaType, MediaType};
pub use model::*;
pub use secret::Secret;

/// RFC 3339 text of a time, as every JSON answer carries it.
pub fn rfc3339(t: time::OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

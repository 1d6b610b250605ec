//! What travels through the queue: one job per message.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use time::OffsetDateTime;

use crate::event::EventType;
use crate::id::{BotId, CallId, DeliveryId, EndpointId, HookId, MessageId};

/// How many publishes may chain (a hook publishing an event whose delivery
/// calls a hook that publishes again, …) before the chain is stopped.
pub const MAX_PUBLISH_DEPTH: u32 = 5;

/// How many levels of arrays and objects a value carried in an envelope may
/// nest: a hook call's body, a signed URL's context, a published event's
/// data. An envelope wraps the value in a few levels of its own and is read
/// back by the dispatcher with serde_json's default recursion limit (128),
/// so a value within this limit is always readable; anything deeper is
/// refused where it enters (400 at the ingress and the admin API, a
/// permanent action failure for a `publish` action) rather than queued.
pub const MAX_JSON_DEPTH: usize = 100;

/// How many arrays and objects nest in `value` at its deepest (a scalar is 0).
pub fn json_depth(value: &Value) -> usize {
    match value {
        Value::Array(items) => 1 + items.iter().map(json_depth).max().unwrap_or(0),
        Value::Object(map) => 1 + map.values().map(json_depth).max().unwrap_or(0),
        _ => 0,
    }
}

/// The request header carrying the publish depth (a decimal count) along
/// deliveries and `http_request` actions, so a call that lands on a
/// Hooklane hook continues the count.
pub const DEPTH_HEADER: &str = "x-hooklane-depth";

/// A queued unit of work. `not_before` lets a job wait longer than the
/// queue's own delay cap: a job received early is sent back with the rest
/// of its wait.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Envelope {
    /// The work, its `kind` and fields flattened into the envelope.
    #[serde(flatten)]
    pub job: Job,
    /// Not to run before this time (RFC 3339 in JSON); `None` to run when received.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "time::serde::rfc3339::option"
    )]
    pub not_before: Option<OffsetDateTime>,
}

impl Envelope {
    /// `job`, to run as soon as it is received.
    pub fn now(job: Job) -> Self {
        Self {
            job,
            not_before: None,
        }
    }

    /// The envelope as the queue carries it: one JSON object.
    pub fn to_json(&self) -> String {
        // An envelope holds only strings, numbers and JSON values: it always serializes.
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// The kinds of queued work, tagged by `kind` in JSON (`hook_call`,
/// `publish`, `deliver`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Job {
    /// An inbound call whose hook's actions are to run.
    HookCall(HookCall),
    /// A published event to fan out to the bot's endpoints.
    Publish(Publish),
    /// One message to one endpoint, attempt `attempt` (serialized `"kind": "deliver"`).
    Deliver(DeliveryTask),
}

/// What the actions can read of the inbound request.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct InboundRequest {
    /// The HTTP method, uppercase (`POST`).
    pub method: String,
    /// Query parameters by name (a repeated one as an array), less the
    /// signed URL's `ctx` and `sig` and any credential.
    #[serde(default)]
    pub query: Map<String, Value>,
    /// Lowercase header names; credentials are never kept here.
    #[serde(default)]
    pub headers: Map<String, Value>,
    /// The caller's address, when known.
    #[serde(default)]
    pub ip: Option<String>,
    /// The body less `variables`: JSON, a form as an object, or text as a string.
    #[serde(default)]
    pub payload: Value,
    /// Caller variables by name (`amount` for `{amount}`).
    #[serde(default)]
    pub variables: Map<String, Value>,
    /// The context of a signed URL.
    #[serde(default)]
    pub context: Option<Value>,
}

/// The largest request, as JSON, a run keeps for replays (64 KiB): a
/// run is rewritten at each action's checkpoint, and a DynamoDB item holds
/// at most 400 KB.
pub const MAX_KEPT_REQUEST_BYTES: usize = 64 * 1024;

impl InboundRequest {
    /// A copy to keep with the call's run, so it can be replayed; `None`
    /// when it is over [`MAX_KEPT_REQUEST_BYTES`] as JSON.
    pub fn kept_for_replay(&self) -> Option<Self> {
        // Counted as it is written, never buffered; past the limit the
        // writer refuses, which ends the count at once.
        let mut size = JsonSize(0);
        serde_json::to_writer(&mut size, self).ok()?;
        Some(self.clone())
    }
}

/// Counts the bytes of JSON written to it, refusing past
/// [`MAX_KEPT_REQUEST_BYTES`].
struct JsonSize(usize);

impl std::io::Write for JsonSize {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0 += bytes.len();
        if self.0 > MAX_KEPT_REQUEST_BYTES {
            return Err(std::io::Error::other("over the size kept for replays"));
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// An inbound call of a hook, queued for its actions to run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HookCall {
    /// The call's id (`evt_…`), also its run's id. JSON: `event_id`, the
    /// name queued messages already carry.
    #[serde(rename = "event_id")]
    pub call_id: CallId,
    /// The bot the hook belongs to.
    pub bot_id: BotId,
    /// The hook called.
    pub hook_id: HookId,
    /// When the ingress took the call (RFC 3339 in JSON).
    #[serde(with = "time::serde::rfc3339")]
    pub received_at: OffsetDateTime,
    /// What the actions read of the request.
    pub request: InboundRequest,
    /// How many times the run has been tried before (retries of a run that had no side effect).
    #[serde(default)]
    pub attempt: u32,
    /// Publish depth of the call (from `x-hooklane-depth`), for loop protection.
    #[serde(default)]
    pub depth: u32,
}

/// A published event, queued to be kept and fanned out to endpoints.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Publish {
    /// The message's id (`msg_…`).
    pub message_id: MessageId,
    /// The bot that published it.
    pub bot_id: BotId,
    /// The event type.
    pub event: EventType,
    /// The event's data, any JSON.
    pub data: Value,
    /// When it was published (RFC 3339 in JSON).
    #[serde(with = "time::serde::rfc3339")]
    pub timestamp: OffsetDateTime,
    /// How many publishes led to this one (loop protection).
    #[serde(default)]
    pub depth: u32,
    /// Deliver to this endpoint only (test sends, resends), even if it would not match.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub only_endpoint: Option<EndpointId>,
}

/// The queued work of one delivery attempt: `message_id`'s event to
/// `endpoint_id`, attempt `attempt` (1 for the first). Its log row is a
/// [`Delivery`](crate::Delivery).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeliveryTask {
    /// The message delivered (`msg_…`, the `webhook-id` sent).
    pub message_id: MessageId,
    /// The bot that published it.
    pub bot_id: BotId,
    /// The endpoint it goes to.
    pub endpoint_id: EndpointId,
    /// The message's event type.
    pub event: EventType,
    /// The message's data.
    pub data: Value,
    /// When the message was published (RFC 3339 in JSON; the body's `timestamp`).
    #[serde(with = "time::serde::rfc3339")]
    pub timestamp: OffsetDateTime,
    /// Which attempt this is, from 1.
    pub attempt: u32,
    /// The log row of the previous attempt, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous: Option<DeliveryId>,
    /// Publish depth carried along (loop protection).
    #[serde(default)]
    pub depth: u32,
    /// Deliver even to a disabled endpoint (test sends and replays).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub force: bool,
    /// How many times the endpoint answered this attempt 429 (too many
    /// requests): such an answer is waited out and sent again without
    /// counting as an attempt, up to a limit.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub throttled: u32,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_is_kept_for_replays_up_to_64_kib_of_json_and_not_a_byte_more() {
        let with = |text: String| InboundRequest {
            method: "POST".into(),
            payload: serde_json::Value::String(text),
            ..Default::default()
        };
        let base = serde_json::to_vec(&with(String::new())).unwrap().len();
        let at_limit = with("x".repeat(MAX_KEPT_REQUEST_BYTES - base));
        assert_eq!(
            serde_json::to_vec(&at_limit).unwrap().len(),
            MAX_KEPT_REQUEST_BYTES
        );
        assert_eq!(at_limit.kept_for_replay(), Some(at_limit.clone()));
        let over = with("x".repeat(MAX_KEPT_REQUEST_BYTES - base + 1));
        assert_eq!(over.kept_for_replay(), None);
    }

    #[test]
    fn a_queued_hook_call_keeps_its_event_id_field() {
        let json = serde_json::json!({
            "kind": "hook_call",
            "event_id": "evt_01",
            "bot_id": "bot_1",
            "hook_id": "hk_01",
            "received_at": "2026-01-01T00:00:00Z",
            "request": {"method": "POST"},
        });
        let envelope: Envelope = serde_json::from_value(json.clone()).unwrap();
        let Job::HookCall(call) = &envelope.job else {
            panic!("a hook call")
        };
        assert_eq!(call.call_id.as_str(), "evt_01");
        let back = serde_json::to_value(&envelope).unwrap();
        assert_eq!(back["event_id"], "evt_01");
        assert!(back.get("call_id").is_none());
    }
}

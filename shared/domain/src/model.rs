//! The records Hooklane keeps: bots, hooks, endpoints, messages, runs,
//! deliveries and variables. These are the stored forms; the admin API
//! answers with views of them that leave secrets out.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use time::OffsetDateTime;

use crate::action::ActionSpec;
use crate::envelope::InboundRequest;
use crate::event::{EventFilter, EventType};
use crate::id::{BotId, CallId, DeliveryId, EndpointId, HookId, MessageId};
use crate::media_type::MediaType;
use crate::secret::Secret;

/// A bot: the owner of hooks, endpoints and variables.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Bot {
    /// `bot_…` when generated, or the caller's `[A-Za-z0-9_-]{1,64}`.
    pub id: BotId,
    /// A display name, 1 to 100 characters.
    pub name: String,
    /// Lowercase hex SHA-256 of the bot's API key; the key itself is never kept.
    pub api_key_hash: String,
    /// When the bot was created (RFC 3339 in JSON).
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// The provider whose signature an `hmac` hook expects. JSON: the
/// snake_case name (`"standard"`, `"github"`, …), also its `FromStr` text.
/// Stored in [`HookAuth::Hmac`]; `hooklane-auth` checks each scheme.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    strum::EnumString,
    strum::IntoStaticStr,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Scheme {
    /// Standard Webhooks: `webhook-id`, `webhook-timestamp`,
    /// `webhook-signature`; or the same under Svix's names `svix-id`,
    /// `svix-timestamp`, `svix-signature`.
    Standard,
    /// `X-Hub-Signature-256: sha256=<hex>` over the body.
    Github,
    /// `Stripe-Signature: t=<ts>,v1=<hex>` over `{t}.{body}`.
    Stripe,
    /// `X-Slack-Signature: v0=<hex>` over `v0:{ts}:{body}`.
    Slack,
    /// `X-Shopify-Hmac-Sha256: <base64>` over the body.
    Shopify,
    /// An HMAC of the body in a header the hook names, with the hook's
    /// `header`, `algorithm`, `encoding` and `prefix`.
    Generic,
    /// `X-Twilio-Signature: <base64>`: HMAC-SHA1 over the hook's public URL
    /// followed by the POST form parameters sorted by name.
    Twilio,
}

impl Scheme {
    /// The stored and wire text: `"standard"`, `"github"`, ….
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// Compares with the wire text (`"github"`).
impl PartialEq<str> for Scheme {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

/// How callers of a hook prove who they are.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum HookAuth {
    /// The bot's API key in `Authorization`, with or without `Bearer`.
    ApiKey,
    /// A shared secret in a header the hook names.
    SecretHeader {
        /// The header's name, such as `x-hook-secret`.
        header: String,
        /// The value the header must carry (8 to 512 characters), compared
        /// in constant time.
        secret: Secret,
    },
    /// A provider's signature over the raw body.
    Hmac {
        /// Whose signature format the calls carry.
        scheme: Scheme,
        /// The provider's signing secret (1 to 1024 characters), as the
        /// provider shows it (`whsec_…` for Standard Webhooks).
        secret: Secret,
        /// `generic` only: the header carrying the signature.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        header: Option<String>,
        /// `generic` only: `sha256` (the default) or `sha512`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        algorithm: Option<String>,
        /// `generic` only: `hex` (the default) or `base64`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        encoding: Option<String>,
        /// `generic` only: text before the signature in the header (such as
        /// `sha256=`), at most 64 characters.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        prefix: Option<String>,
    },
    /// `?ctx=…&sig=…` minted by the admin API; `key` signs them (base64).
    SignedUrl {
        /// Standard base64 of 16 to 64 random bytes.
        key: Secret,
    },
    /// A Discord interaction: `X-Signature-Ed25519` (hex) over
    /// `X-Signature-Timestamp` + the body, under the application's
    /// `public_key` (64 hex characters; not a secret).
    Discord {
        /// The application's Ed25519 public key, 64 hex characters.
        public_key: String,
    },
    /// A Telegram Bot API update: `X-Telegram-Bot-Api-Secret-Token` equal to
    /// `secret_token` (1 to 256 of `A-Z a-z 0-9 _ -`).
    Telegram {
        /// The `secret_token` given to Telegram's `setWebhook`.
        secret_token: Secret,
    },
    /// Nothing: the hook id is the only secret.
    None,
}

impl HookAuth {
    /// The `type` as written in JSON: `api_key`, `secret_header`, `hmac`,
    /// `signed_url`, `discord`, `telegram` or `none`.
    pub fn kind(&self) -> &'static str {
        match self {
            HookAuth::ApiKey => "api_key",
            HookAuth::SecretHeader { .. } => "secret_header",
            HookAuth::Hmac { .. } => "hmac",
            HookAuth::SignedUrl { .. } => "signed_url",
            HookAuth::Discord { .. } => "discord",
            HookAuth::Telegram { .. } => "telegram",
            HookAuth::None => "none",
        }
    }

    /// The public form: the same fields less every secret.
    pub fn view(&self) -> Value {
        match self {
            HookAuth::ApiKey => serde_json::json!({"type": "api_key"}),
            HookAuth::SecretHeader { header, .. } => {
                serde_json::json!({"type": "secret_header", "header": header})
            }
            HookAuth::Hmac {
                scheme,
                header,
                algorithm,
                encoding,
                prefix,
                ..
            } => {
                let mut v = serde_json::json!({"type": "hmac", "scheme": scheme});
                for (k, f) in [
                    ("header", header),
                    ("algorithm", algorithm),
                    ("encoding", encoding),
                    ("prefix", prefix),
                ] {
                    if let Some(f) = f {
                        v[k] = Value::String(f.clone());
                    }
                }
                v
            }
            HookAuth::SignedUrl { .. } => serde_json::json!({"type": "signed_url"}),
            HookAuth::Discord { public_key } => {
                serde_json::json!({"type": "discord", "public_key": public_key})
            }
            HookAuth::Telegram { .. } => serde_json::json!({"type": "telegram"}),
            HookAuth::None => serde_json::json!({"type": "none"}),
        }
    }
}

/// A hook's or an endpoint's rate: fixed windows of `burst / per_second`
/// seconds (a hook's at least 1 s, an outbound target's at least 100 ms),
/// each taking `burst` calls or sends, counted across every instance. The average rate is
/// `per_second`; at a window's edge up to twice `burst` can pass in one
/// window's length. JSON: `{"per_second": 10, "burst": 20}`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RateLimit {
    /// The average rate, in calls per second.
    pub per_second: f64,
    /// The calls one window takes.
    pub burst: u32,
}

/// One window of a [`RateLimit`]: its number (milliseconds since the Unix
/// epoch divided by its length, so consecutive windows count up), its
/// length and when it ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// The window's number.
    pub number: i64,
    /// Its length in milliseconds.
    pub length_ms: i64,
    /// When it ends, in milliseconds since the Unix epoch.
    pub ends_ms: i64,
}

impl RateLimit {
    /// The window `now` falls in, `burst / per_second` seconds long but at
    /// least `min_ms` milliseconds.
    pub fn window_at(&self, now: OffsetDateTime, min_ms: i64) -> Window {
        let length_ms = ((f64::from(self.burst.max(1)) / self.per_second.max(0.001)) * 1000.0)
            .max(min_ms.max(1) as f64) as i64;
        let now_ms = i64::try_from(now.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX);
        let number = now_ms / length_ms;
        Window {
            number,
            length_ms,
            ends_ms: (number + 1) * length_ms,
        }
    }
}

/// What a hook answers once the call is queued.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum HookResponse {
    /// `{"redirect_to": "https://…"}`: a 303 to this http(s) URL.
    Redirect {
        /// Where the caller is sent; a template.
        redirect_to: String,
    },
    /// `{"status": 200, "body": …, "content_type": "text/xml"}`: this
    /// status and body, sent as this media type.
    Content {
        /// 200 to 299; 200 when left out.
        #[serde(default = "default_response_status")]
        status: u16,
        /// Any JSON, rendered as a template; `null` when left out.
        #[serde(default)]
        body: Value,
        /// The answer's `Content-Type`; left out, a body that renders to a
        /// string is `text/plain` and anything else JSON.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        content_type: Option<MediaType>,
    },
}

fn default_response_status() -> u16 {
    200
}

impl HookResponse {
    /// Whether an answer with HTTP status `status` may carry a body: not a
    /// 1xx, 204 No Content, 205 Reset Content or 304 Not Modified, which
    /// HTTP sends without one (RFC 9110).
    pub fn status_carries_body(status: u16) -> bool {
        !matches!(status, 100..=199 | 204 | 205 | 304)
    }
}

/// The request body limit of a hook that sets none, in bytes (256 KiB);
/// a hook may set 1 byte to 512 KiB (`max_body_bytes`).
pub const DEFAULT_MAX_BODY_BYTES: usize = 256 * 1024;

/// An inbound hook: a URL that runs the bot's custom event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Hook {
    /// `hk_…`, the secret part of the hook's URL.
    pub id: HookId,
    /// The bot that owns the hook.
    pub bot_id: BotId,
    /// A display name, 1 to 100 characters.
    pub name: String,
    /// Whether calls are taken (a disabled hook answers 404).
    pub enabled: bool,
    /// The HTTP methods taken, uppercase: some of `GET`, `POST`, `PUT`,
    /// `PATCH`, `DELETE`; at least one.
    pub methods: Vec<String>,
    /// How callers prove who they are.
    pub auth: HookAuth,
    /// Origins allowed by CORS (`https://app.example` or `*`); empty for none.
    #[serde(default)]
    pub allowed_origins: Vec<String>,
    /// Caller addresses or CIDR ranges taken; empty for any.
    #[serde(default)]
    pub allowed_ips: Vec<String>,
    /// The hook's call rate; `None` for no limit.
    #[serde(default)]
    pub rate_limit: Option<RateLimit>,
    /// The largest request body taken, in bytes (after decoding a
    /// `Content-Encoding`); [`DEFAULT_MAX_BODY_BYTES`] unless set.
    pub max_body_bytes: usize,
    /// What a queued call is answered with; `None` for the default 202
    /// `{"id": "evt_…", "status": "queued"}`.
    #[serde(default)]
    pub response: Option<HookResponse>,
    /// The actions the dispatcher runs for each call, in order.
    #[serde(default)]
    pub actions: Vec<ActionSpec>,
    /// When the hook was created (RFC 3339 in JSON).
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// When the hook was last changed (RFC 3339 in JSON).
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

/// Where an outbound endpoint's body is shaped for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EndpointType {
    /// The Standard Webhooks body `{"type", "timestamp", "data"}`, signed.
    Custom,
    /// A Discord webhook message (content and an embed) built from the event.
    Discord,
    /// A Slack incoming-webhook message (text and blocks) built from the event.
    Slack,
}

/// A signing secret that still signs until `expires_at` (after a rotation).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OldSecret {
    /// The earlier signing secret (`whsec_…`).
    pub secret: Secret,
    /// When it stops signing (RFC 3339 in JSON).
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
}

/// An outbound endpoint subscribed to a bot's events.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Endpoint {
    /// `ep_…`.
    pub id: EndpointId,
    /// The bot whose events the endpoint receives.
    pub bot_id: BotId,
    /// A display name, 1 to 100 characters.
    pub name: String,
    /// How the body is shaped (JSON: `type`).
    #[serde(rename = "type")]
    pub kind: EndpointType,
    /// The http(s) URL deliveries are POSTed to.
    pub url: String,
    /// Whether events are delivered; cleared by the auto-disable after a
    /// long run of failures.
    pub enabled: bool,
    /// Why the endpoint was disabled automatically; `None` otherwise.
    #[serde(default)]
    pub disabled_reason: Option<String>,
    /// The event filters it subscribes with; empty for every event.
    #[serde(default)]
    pub events: Vec<EventFilter>,
    /// The Standard Webhooks signing secret: `whsec_` + base64 of 24 to 64 bytes.
    pub secret: Secret,
    /// Earlier secrets still signing after a rotation (each signature header
    /// carries one signature per secret).
    #[serde(default)]
    pub old_secrets: Vec<OldSecret>,
    /// The delay before each retry, in seconds: entry `i` is the wait after
    /// attempt `i + 1` fails (at most 20 entries of 0 to 604800, with
    /// jitter added); past its end the last entry repeats.
    pub retry_schedule: Vec<u64>,
    /// The most attempts of one message, the first included (1 to 50).
    pub max_attempts: u32,
    /// Extra request headers sent with every delivery: names to text values.
    #[serde(default)]
    pub headers: Map<String, Value>,
    /// How fast deliveries may go out to it; `None` takes the default of
    /// its type (Discord's and Slack's published limits; none for custom).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_limit: Option<RateLimit>,
    /// When the current run of failures began; cleared by a success.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub failing_since: Option<OffsetDateTime>,
    /// A `discord` endpoint's own Discord `allowed_mentions` object, sent
    /// with every message as it is; `None` sends `{"parse": []}` (the
    /// event's data pings no one). Only `discord` endpoints have one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_mentions: Option<Value>,
    /// When the endpoint was created (RFC 3339 in JSON).
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// When the endpoint was last changed (RFC 3339 in JSON).
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

/// A published outbound event, kept for resends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    /// `msg_…`, also the deliveries' `webhook-id`.
    pub id: MessageId,
    /// The bot that published it.
    pub bot_id: BotId,
    /// Its event type.
    pub event: EventType,
    /// The event's data, any JSON (at most [`MAX_JSON_DEPTH`](crate::envelope::MAX_JSON_DEPTH) levels deep).
    pub data: Value,
    /// When it was published (RFC 3339 in JSON).
    #[serde(with = "time::serde::rfc3339")]
    pub timestamp: OffsetDateTime,
}

/// Where a run is. JSON: the snake_case name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    /// Its actions are running (or it was cut short and will resume).
    Running,
    /// Failed before anything took effect; queued to run again.
    Retrying,
    /// Every action ran without stopping the run.
    Succeeded,
    /// An action stopped the run for good (see `error`).
    Failed,
}

/// How one action ended. JSON: the snake_case name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionStatus {
    /// It did what it says.
    Succeeded,
    /// It failed; `detail.error` says why.
    Failed,
    /// It did not run (a `condition`'s branch not taken).
    Skipped,
    /// Only in a `running` run's checkpoint: a `condition` whose branch was
    /// part done when the checkpoint was written (its `detail.actions` are
    /// the branch's results so far).
    Running,
}

/// One action's outcome in a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActionResult {
    /// The action's position in its list, from 0.
    pub index: usize,
    /// The action's `type` (`http_request`, …; JSON: `type`).
    #[serde(rename = "type")]
    pub kind: String,
    /// How it ended.
    pub status: ActionStatus,
    /// How long it ran, in milliseconds.
    pub duration_ms: u64,
    /// What it did, per type (a target's status and answer, a variable's
    /// new value, a condition's branch results in `actions`, …), with
    /// credentials masked; `error` on a failure.
    pub detail: Value,
}

/// One inbound call of a hook and what its actions did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Run {
    /// The call's id (`evt_…`), which is also the run's.
    pub id: CallId,
    /// The bot the hook belongs to.
    pub bot_id: BotId,
    /// The hook that was called.
    pub hook_id: HookId,
    /// Where the run is.
    pub status: RunStatus,
    /// When the ingress took the call (RFC 3339 in JSON).
    #[serde(with = "time::serde::rfc3339")]
    pub received_at: OffsetDateTime,
    /// When the run ended; `None` while running or retrying.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub finished_at: Option<OffsetDateTime>,
    /// Which try of the run this is, from 1.
    pub attempt: u32,
    /// One result per top-level action that ran, in order.
    pub actions: Vec<ActionResult>,
    /// Placeholders the templates named that were not found (such as
    /// `payload.amount`), in order of first appearance.
    #[serde(default)]
    pub unknown_placeholders: Vec<String>,
    /// Why the run failed (the action and the reason); `None` otherwise.
    #[serde(default)]
    pub error: Option<String>,
    /// The call's request as the actions read it (it never holds
    /// credentials), kept so the run can be replayed; `None` when it was
    /// too large to keep (see [`InboundRequest::kept_for_replay`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<InboundRequest>,
}

/// How a delivery attempt ended. JSON: the snake_case name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    /// Not attempted yet (the contract's status; the dispatcher writes a
    /// row once an attempt has ended).
    Pending,
    /// The endpoint answered 2xx.
    Succeeded,
    /// It failed and another attempt is queued: its retry, due at
    /// `next_attempt_at` (cleared once the retry is made), or a resend's
    /// attempt that superseded the retry.
    Failed,
    /// It failed and no attempt follows (the last of `max_attempts`, or a
    /// failure no retry mends such as a 410).
    Exhausted,
}

/// One delivery attempt of a message to an endpoint (a delivery log row).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Delivery {
    /// `dlv_…`, one per attempt.
    pub id: DeliveryId,
    /// The bot that published the message.
    pub bot_id: BotId,
    /// The message delivered.
    pub message_id: MessageId,
    /// The endpoint it was sent to.
    pub endpoint_id: EndpointId,
    /// The message's event type.
    pub event: EventType,
    /// Which attempt this is, from 1.
    pub attempt: u32,
    /// How it ended.
    pub status: DeliveryStatus,
    /// The endpoint's HTTP status; `None` when no answer came.
    pub http_status: Option<u16>,
    /// Why it failed (never a credential); `None` on success.
    pub error: Option<String>,
    /// When the attempt was made (RFC 3339 in JSON).
    #[serde(with = "time::serde::rfc3339")]
    pub triggered_at: OffsetDateTime,
    /// How long the endpoint took to answer, in milliseconds; `None` when
    /// no answer came.
    pub response_time_ms: Option<u64>,
    /// When the retry this attempt scheduled is due: set on a `failed` row
    /// until the retry is made (or a resend supersedes it), `None` on
    /// every other status and after.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub next_attempt_at: Option<OffsetDateTime>,
}

/// What a row whose retry a resend or a recover took over says about it
/// (after its own error).
pub const SUPERSEDED: &str = "its retry was superseded by a resend";

impl Delivery {
    /// Whether this row's retry is still to come: `next_attempt_at` is set,
    /// and is not over `lost_after` in the past at `now` (a retry that
    /// late is taken as lost, e.g. to the dead-letter queue).
    pub fn retry_pending(&self, now: OffsetDateTime, lost_after: time::Duration) -> bool {
        self.next_attempt_at
            .is_some_and(|due| due + lost_after > now)
    }

    /// Gives up the retry this row scheduled, for a resend or a recover
    /// that sends the message now: `next_attempt_at` is cleared (the queued
    /// retry drops itself when it comes, finding its row no longer due)
    /// and the error says why. Returns whether there was a retry to give up.
    pub fn supersede(&mut self) -> bool {
        if self.next_attempt_at.take().is_none() {
            return false;
        }
        self.error = Some(match self.error.take() {
            Some(e) if !e.is_empty() => format!("{e}; {SUPERSEDED}"),
            _ => SUPERSEDED.to_owned(),
        });
        true
    }
}

/// A stored bot variable; `version` increases with every write.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Variable {
    /// 1 to 64 of `[A-Za-z0-9_.-]` (read as `{var.NAME}`).
    pub name: String,
    /// Any JSON, at most 64 KiB.
    pub value: Value,
    /// 1 on the first write, one more on each after.
    pub version: u64,
    /// When it was last written (RFC 3339 in JSON).
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn failed_row(next: Option<OffsetDateTime>, error: Option<&str>) -> Delivery {
        Delivery {
            id: DeliveryId::generate(),
            bot_id: BotId::parse("bot-1").unwrap(),
            message_id: MessageId::generate(),
            endpoint_id: EndpointId::generate(),
            event: EventType::parse("order.paid").unwrap(),
            attempt: 1,
            status: DeliveryStatus::Failed,
            http_status: Some(500),
            error: error.map(str::to_owned),
            triggered_at: datetime!(2026-12-01 10:00 UTC),
            response_time_ms: Some(3),
            next_attempt_at: next,
        }
    }

    #[test]
    fn superseding_a_row_clears_its_retry_and_says_why_once() {
        let mut row = failed_row(
            Some(datetime!(2026-12-01 10:05 UTC)),
            Some("the endpoint answered 500"),
        );
        assert!(row.supersede());
        assert_eq!(row.next_attempt_at, None);
        assert_eq!(
            row.error.as_deref(),
            Some("the endpoint answered 500; its retry was superseded by a resend")
        );
        assert!(!row.supersede(), "no retry left to give up");
        assert_eq!(
            row.error.as_deref(),
            Some("the endpoint answered 500; its retry was superseded by a resend")
        );
        let mut bare = failed_row(Some(datetime!(2026-12-01 10:05 UTC)), None);
        assert!(bare.supersede());
        assert_eq!(bare.error.as_deref(), Some(SUPERSEDED));
    }

    #[test]
    fn a_retry_is_pending_until_it_is_over_the_grace_late() {
        let due = datetime!(2026-12-01 10:05 UTC);
        let grace = time::Duration::minutes(15);
        let row = failed_row(Some(due), None);
        assert!(row.retry_pending(datetime!(2026-12-01 10:01 UTC), grace));
        assert!(row.retry_pending(datetime!(2026-12-01 10:19 UTC), grace));
        assert!(!row.retry_pending(datetime!(2026-12-01 10:20 UTC), grace));
        assert!(!failed_row(None, None).retry_pending(due, grace));
    }
}

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
use crate::secret::Secret;

/// A bot: the owner of hooks, endpoints and variables.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Bot {
    pub id: BotId,
    pub name: String,
    /// Lowercase hex SHA-256 of the bot's API key; the key itself is never kept.
    pub api_key_hash: String,
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
    SecretHeader { header: String, secret: Secret },
    /// A provider's signature over the raw body.
    Hmac {
        scheme: Scheme,
        secret: Secret,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        header: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        algorithm: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        encoding: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        prefix: Option<String>,
    },
    /// `?ctx=…&sig=…` minted by the admin API; `key` signs them (base64).
    SignedUrl { key: Secret },
    /// A Discord interaction: `X-Signature-Ed25519` (hex) over
    /// `X-Signature-Timestamp` + the body, under the application's
    /// `public_key` (64 hex characters; not a secret).
    Discord { public_key: String },
    /// A Telegram Bot API update: `X-Telegram-Bot-Api-Secret-Token` equal to
    /// `secret_token` (1 to 256 of `A-Z a-z 0-9 _ -`).
    Telegram { secret_token: Secret },
    /// Nothing: the hook id is the only secret.
    None,
}

impl HookAuth {
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

/// A hook's rate: fixed windows of `burst / per_second` seconds (at least
/// 1 s), each taking `burst` calls, counted across every instance. The
/// average rate is `per_second`; at a window's edge up to twice `burst` can
/// pass in one window's length. JSON: `{"per_second": 10, "burst": 20}`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RateLimit {
    /// The average rate, in calls per second.
    pub per_second: f64,
    /// The calls one window takes.
    pub burst: u32,
}

/// What a hook answers once the call is queued.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum HookResponse {
    Redirect {
        redirect_to: String,
    },
    Content {
        #[serde(default = "default_response_status")]
        status: u16,
        #[serde(default)]
        body: Value,
    },
}

fn default_response_status() -> u16 {
    200
}

/// The default and largest request body a hook accepts.
pub const DEFAULT_MAX_BODY_BYTES: usize = 256 * 1024;

/// An inbound hook: a URL that runs the bot's custom event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Hook {
    pub id: HookId,
    pub bot_id: BotId,
    pub name: String,
    pub enabled: bool,
    pub methods: Vec<String>,
    pub auth: HookAuth,
    #[serde(default)]
    pub allowed_origins: Vec<String>,
    #[serde(default)]
    pub allowed_ips: Vec<String>,
    #[serde(default)]
    pub rate_limit: Option<RateLimit>,
    pub max_body_bytes: usize,
    #[serde(default)]
    pub response: Option<HookResponse>,
    #[serde(default)]
    pub actions: Vec<ActionSpec>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

/// Where an outbound endpoint's body is shaped for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EndpointType {
    Custom,
    Discord,
    Slack,
}

/// A signing secret that still signs until `expires_at` (after a rotation).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OldSecret {
    pub secret: Secret,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
}

/// An outbound endpoint subscribed to a bot's events.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Endpoint {
    pub id: EndpointId,
    pub bot_id: BotId,
    pub name: String,
    #[serde(rename = "type")]
    pub kind: EndpointType,
    pub url: String,
    pub enabled: bool,
    #[serde(default)]
    pub disabled_reason: Option<String>,
    #[serde(default)]
    pub events: Vec<EventFilter>,
    pub secret: Secret,
    #[serde(default)]
    pub old_secrets: Vec<OldSecret>,
    pub retry_schedule: Vec<u64>,
    pub max_attempts: u32,
    #[serde(default)]
    pub headers: Map<String, Value>,
    /// When the current run of failures began; cleared by a success.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub failing_since: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

/// A published outbound event, kept for resends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    pub id: MessageId,
    pub bot_id: BotId,
    pub event: EventType,
    pub data: Value,
    #[serde(with = "time::serde::rfc3339")]
    pub timestamp: OffsetDateTime,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    Running,
    /// Failed before anything took effect; queued to run again.
    Retrying,
    Succeeded,
    Failed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionStatus {
    Succeeded,
    Failed,
    Skipped,
    /// Only in a `running` run's checkpoint: a `condition` whose branch was
    /// part done when the checkpoint was written (its `detail.actions` are
    /// the branch's results so far).
    Running,
}

/// One action's outcome in a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActionResult {
    pub index: usize,
    #[serde(rename = "type")]
    pub kind: String,
    pub status: ActionStatus,
    pub duration_ms: u64,
    pub detail: Value,
}

/// One inbound call of a hook and what its actions did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Run {
    pub id: CallId,
    pub bot_id: BotId,
    pub hook_id: HookId,
    pub status: RunStatus,
    #[serde(with = "time::serde::rfc3339")]
    pub received_at: OffsetDateTime,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub finished_at: Option<OffsetDateTime>,
    pub attempt: u32,
    pub actions: Vec<ActionResult>,
    #[serde(default)]
    pub unknown_placeholders: Vec<String>,
    #[serde(default)]
    pub error: Option<String>,
    /// The call's request as the actions read it (it never holds
    /// credentials), kept so the run can be replayed; `None` when it was
    /// too large to keep (see [`InboundRequest::kept_for_replay`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<InboundRequest>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    Pending,
    Succeeded,
    Failed,
    Exhausted,
}

/// One delivery attempt of a message to an endpoint (a delivery log row).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Delivery {
    pub id: DeliveryId,
    pub bot_id: BotId,
    pub message_id: MessageId,
    pub endpoint_id: EndpointId,
    pub event: EventType,
    pub attempt: u32,
    pub status: DeliveryStatus,
    pub http_status: Option<u16>,
    pub error: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub triggered_at: OffsetDateTime,
    pub response_time_ms: Option<u64>,
    /// When the next attempt is due: set on a `failed` row (another attempt
    /// is queued), `None` on every other status.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub next_attempt_at: Option<OffsetDateTime>,
}

/// A stored bot variable; `version` increases with every write.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Variable {
    pub name: String,
    pub value: Value,
    pub version: u64,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

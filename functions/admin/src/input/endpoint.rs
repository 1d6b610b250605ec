//! An outbound endpoint's body (name, type, URL, events, secret, retry
//! schedule, attempts, headers, rate limit) and the bodies of its secret rotation and
//! its recovery of failed deliveries.

use super::action_url::check_target_at;
use base64::Engine as _;
use hooklane_domain::EventFilter;
use hooklane_domain::{Endpoint, EndpointType, RateLimit};
use hooklane_web::{ApiError, ErrorCode};
use serde_json::{Map, Value};

use super::fields::{body_object, input_of, invalid, refuse_read_only, Fields, MAX_LIST_ENTRIES};

/// The most delays in a retry schedule.
pub const MAX_SCHEDULE: usize = 20;
/// The longest single delay of a retry schedule, in seconds (7 days).
pub const MAX_DELAY_SECONDS: u64 = 7 * 86_400;
/// The most attempts an endpoint may make of one message.
pub const MAX_ATTEMPTS: u64 = 50;

/// Fields of an endpoint the API sets; a body may not write them.
const ENDPOINT_READ_ONLY: &[&str] = &[
    "id",
    "bot_id",
    "disabled_reason",
    "failing_since",
    "created_at",
    "updated_at",
];

/// The fields an endpoint body may hold.
const ENDPOINT_FIELDS: &[&str] = &[
    "name",
    "type",
    "url",
    "enabled",
    "events",
    "secret",
    "retry_schedule",
    "max_attempts",
    "headers",
    "allowed_mentions",
    "rate_limit",
];

/// Headers an endpoint's own `headers` may not set.
const RESERVED_HEADERS: &[&str] = &[
    "host",
    "content-length",
    "content-type",
    "user-agent",
    "transfer-encoding",
    "connection",
];

/// The fields of an endpoint as a body would write them (its secret left
/// out): the object a PATCH is laid over with [`merge`](super::merge).
pub fn endpoint_input(ep: &Endpoint) -> Map<String, Value> {
    let mut input = input_of(ep, ENDPOINT_FIELDS);
    input.remove("secret");
    input
}

/// What checking an endpoint gives: its checked fields.
pub struct CheckedEndpoint {
    /// The display name, trimmed; `Endpoint` when left out.
    pub name: String,
    /// `custom`, `discord` or `slack`; `custom` when left out.
    pub kind: EndpointType,
    /// The URL events are sent to, trimmed and checked as a target.
    pub url: String,
    /// Whether events are sent; `true` when left out.
    pub enabled: bool,
    /// Event filters (`order.paid`, `order.*`); empty for every event.
    pub events: Vec<EventFilter>,
    /// The caller's own signing secret (`whsec_…`), if given.
    pub secret: Option<String>,
    /// Delays between attempts, in seconds; the engine's default when left out.
    pub retry_schedule: Vec<u64>,
    /// The most attempts of one message, 1 to [`MAX_ATTEMPTS`]; one more
    /// than the schedule's delays (at most [`MAX_ATTEMPTS`]) when left out.
    pub max_attempts: u32,
    /// Extra headers sent with each delivery, name to text value.
    pub headers: Map<String, Value>,
    /// A `discord` endpoint's own `allowed_mentions` object (checked as
    /// Discord takes it); `None` when left out.
    pub allowed_mentions: Option<Value>,
    /// How fast deliveries may go out; `None` for the type's default.
    pub rate_limit: Option<RateLimit>,
}

/// Checks an endpoint secret: `whsec_` followed by the base64 of 24 to 64
/// bytes.
///
/// # Errors
/// 400 `invalid_secret` naming `secret` for anything else.
pub fn check_secret(secret: &str) -> Result<(), ApiError> {
    let ok = secret
        .strip_prefix("whsec_")
        .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
        .is_some_and(|k| (24..=64).contains(&k.len()));
    if ok {
        Ok(())
    } else {
        Err(invalid(
            ErrorCode::InvalidSecret,
            "`secret` must be `whsec_` followed by the base64 of 24 to 64 random bytes",
        ))
    }
}

/// Checks a whole endpoint (a create body, or the current endpoint with a
/// PATCH laid over it). `allow_private` lets `url` be a private or
/// plain-http address.
///
/// # Errors
/// 400 naming the field at fault: `invalid_json` (not an object),
/// `invalid_url` (`url` missing or refused as a target), `invalid_secret`,
/// `invalid_endpoint` (any other field, or a read-only or unknown one).
pub async fn check_endpoint(
    value: Value,
    allow_private: bool,
) -> Result<CheckedEndpoint, ApiError> {
    let obj = body_object(value)?;
    refuse_read_only(&obj, ENDPOINT_READ_ONLY, ErrorCode::InvalidEndpoint)?;
    let f = Fields::new(&obj, "", ErrorCode::InvalidEndpoint);
    f.only(ENDPOINT_FIELDS, "an endpoint")?;
    let name = f.name("name", "Endpoint")?;
    let kind = match f.str("type")? {
        None | Some("custom") => EndpointType::Custom,
        Some("discord") => EndpointType::Discord,
        Some("slack") => EndpointType::Slack,
        Some(other) => {
            return Err(f.err(
                "type",
                format!("is `{other}`; it is custom, discord or slack"),
            ))
        }
    };
    let url = f
        .with_code(ErrorCode::InvalidUrl)
        .required_str("url", "the https URL events are sent to")?
        .trim()
        .to_owned();
    check_target_at(&url, "url", allow_private).await?;
    let enabled = f.bool("enabled")?.unwrap_or(true);
    let events = f
        .strings("events", MAX_LIST_ENTRIES)?
        .unwrap_or_default()
        .iter()
        .enumerate()
        .map(|(i, e)| {
            EventFilter::parse(e).map_err(|m| f.err(&format!("events[{i}]"), m.to_string()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let secret = f.str("secret")?.map(str::to_owned);
    if let Some(s) = &secret {
        check_secret(s)?;
    }
    let retry_schedule = match f.array("retry_schedule")? {
        None => hooklane_engine::retry::DEFAULT_RETRY_SCHEDULE.to_vec(),
        Some(list) => {
            if list.len() > MAX_SCHEDULE {
                return Err(f.err(
                    "retry_schedule",
                    format!("holds at most {MAX_SCHEDULE} delays (got {})", list.len()),
                ));
            }
            list.iter()
                .enumerate()
                .map(|(i, d)| f.seconds(&format!("retry_schedule[{i}]"), d, 0..=MAX_DELAY_SECONDS))
                .collect::<Result<Vec<_>, _>>()?
        }
    };
    let max_attempts =
        f.u64_in("max_attempts", 1..=MAX_ATTEMPTS)?
            .unwrap_or((retry_schedule.len() as u64 + 1).min(MAX_ATTEMPTS)) as u32;
    let headers = f.object("headers")?.cloned().unwrap_or_default();
    if headers.len() > MAX_LIST_ENTRIES {
        return Err(f.err(
            "headers",
            format!("holds at most {MAX_LIST_ENTRIES} headers"),
        ));
    }
    for (k, v) in &headers {
        let lower = k.to_ascii_lowercase();
        if axum::http::HeaderName::from_bytes(k.as_bytes()).is_err()
            || RESERVED_HEADERS.contains(&lower.as_str())
            || lower.starts_with("webhook-")
            || lower.starts_with("x-webhook-")
            || lower.starts_with("x-hooklane-")
        {
            return Err(f.err(
                &format!("headers.{k}"),
                "is not a header an endpoint may set",
            ));
        }
        let usable = v
            .as_str()
            .is_some_and(|s| axum::http::HeaderValue::from_str(s).is_ok());
        if !usable {
            return Err(f.err(&format!("headers.{k}"), "must be a text value"));
        }
    }
    let allowed_mentions = f.allowed_mentions()?;
    if allowed_mentions.is_some() && kind != EndpointType::Discord {
        return Err(f.err("allowed_mentions", "goes with discord endpoints only"));
    }
    let rate_limit = match f.object("rate_limit")? {
        None => None,
        Some(r) => Some(super::hook::check_rate_limit(
            r,
            ErrorCode::InvalidEndpoint,
        )?),
    };
    Ok(CheckedEndpoint {
        rate_limit,
        name,
        kind,
        url,
        enabled,
        events,
        secret,
        retry_schedule,
        max_attempts,
        headers,
        allowed_mentions,
    })
}

/// The longest grace an old endpoint secret may keep signing: 7 days.
pub const MAX_GRACE_SECONDS: u64 = 7 * 86_400;

/// What rotating an endpoint's secret takes: `{"grace_seconds": 86400,
/// "secret": "whsec_…"}`, both optional. Answers them as given.
///
/// # Errors
/// 400 `invalid_json` (not an object, or another field), `invalid_grace`
/// (`grace_seconds` not 0 to [`MAX_GRACE_SECONDS`]), `invalid_secret`.
pub fn check_rotate_request(value: Value) -> Result<(Option<u64>, Option<String>), ApiError> {
    let obj = body_object(value)?;
    Fields::new(&obj, "", ErrorCode::InvalidJson)
        .only(&["grace_seconds", "secret"], "a rotation")?;
    let grace = Fields::new(&obj, "", ErrorCode::InvalidGrace);
    let grace_seconds = grace.seconds_field("grace_seconds", 0..=MAX_GRACE_SECONDS)?;
    let secret = Fields::new(&obj, "", ErrorCode::InvalidSecret)
        .str("secret")?
        .map(str::to_owned);
    if let Some(s) = &secret {
        check_secret(s)?;
    }
    Ok((grace_seconds, secret))
}

/// What recovering an endpoint's failed deliveries takes: `{"since":
/// "2026-01-31T00:00:00Z"}`, an RFC 3339 time. Answers that time.
///
/// # Errors
/// 400 `invalid_json` for a body that is not an object; `invalid_since`
/// for a missing or unreadable `since`, or another field.
pub fn check_recover_request(value: Value) -> Result<time::OffsetDateTime, ApiError> {
    let obj = body_object(value)?;
    let f = Fields::new(&obj, "", ErrorCode::InvalidSince);
    f.only(&["since"], "a recovery")?;
    f.required_time("since")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotation_and_recovery_requests_name_their_fields() {
        use serde_json::json;
        assert_eq!(check_rotate_request(json!({})).unwrap(), (None, None));
        assert_eq!(
            check_rotate_request(json!({"grace_seconds": 60})).unwrap(),
            (Some(60), None)
        );
        for (body, code, field) in [
            (
                json!({"grace_seconds": -1}),
                "invalid_grace",
                "`grace_seconds`",
            ),
            (
                json!({"grace_seconds": 604_801}),
                "invalid_grace",
                "`grace_seconds`",
            ),
            (json!({"secret": "nope"}), "invalid_secret", "`secret`"),
            (json!({"secret": 5}), "invalid_secret", "`secret`"),
            (json!({"grace": 5}), "invalid_json", "`grace`"),
        ] {
            let e = check_rotate_request(body.clone()).unwrap_err();
            assert_eq!(e.code, code, "{body}");
            assert!(e.message.contains(field), "{body}: {}", e.message);
        }
        assert!(check_recover_request(json!({"since": "2026-01-31T00:00:00Z"})).is_ok());
        for body in [
            json!({}),
            json!({"since": "yesterday"}),
            json!({"since": 5}),
        ] {
            let e = check_recover_request(body.clone()).unwrap_err();
            assert_eq!(e.code, "invalid_since", "{body}");
            assert!(e.message.contains("`since`"), "{body}: {}", e.message);
        }
    }
}

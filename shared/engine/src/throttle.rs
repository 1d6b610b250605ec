//! Throttling of outbound sends, so a burst reaches a chat platform (or any
//! endpoint with a `rate_limit`) as a steady stream instead of 429s.
//!
//! A target's rate is counted in fixed windows (see
//! [`RateLimit::window_at`]) by the store's atomic count of the target
//! ([`Store::count_send`](hooklane_store::Store::count_send): one record
//! per bot and target, holding its latest window's count), so the rate
//! holds across every dispatcher. A send over the rate is told how long to
//! wait: to the end of the window, plus one window for each `burst` of
//! sends already waiting ahead of it, so a burst is spread over the windows
//! to come instead of coming back at once.
//!
//! A target that answered 429 is slowed down for its `Retry-After`
//! ([`slow_down`]): in this process at once, and through the store for
//! every dispatcher, since the same atomic count that takes a send's place
//! answers the target's pause (one write, no read). A process keeps the
//! pauses it has seen, so while a target is paused its sends there wait
//! without touching the store.
//!
//! Default rates from the platforms' published limits:
//! - Discord ([`DISCORD`]): webhooks are held to about 5 requests per 2
//!   seconds and 30 messages per minute per channel
//!   (<https://discord.com/developers/docs/topics/rate-limits>): 5 per 10 s.
//! - Slack ([`SLACK`]): incoming webhooks and chat.postMessage take 1
//!   message per second per channel (<https://api.slack.com/apis/rate-limits>).
//! - Telegram ([`TELEGRAM_CHAT`], [`TELEGRAM_GROUP`]): no more than 1
//!   message per second in one chat and 20 per minute in a group
//!   (<https://core.telegram.org/bots/faq#my-bot-is-hitting-limits-how-do-i-avoid-this>).

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use hooklane_domain::{BotId, Endpoint, EndpointType, RateLimit};
use hooklane_runtime::Services;
use hooklane_store::{SendTarget, StoreError};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

/// Discord: 5 messages per 10 seconds to one webhook (30 per minute).
pub const DISCORD: RateLimit = RateLimit {
    per_second: 0.5,
    burst: 5,
};
/// Slack: 1 message per second to one channel.
pub const SLACK: RateLimit = RateLimit {
    per_second: 1.0,
    burst: 1,
};
/// Telegram: 1 message per second to one private chat.
pub const TELEGRAM_CHAT: RateLimit = RateLimit {
    per_second: 1.0,
    burst: 1,
};
/// Telegram: 20 messages per minute to one group or channel (a negative
/// chat id, or an `@channel` name).
pub const TELEGRAM_GROUP: RateLimit = RateLimit {
    per_second: 20.0 / 60.0,
    burst: 1,
};

/// The shortest counting window of an outbound target, in milliseconds.
pub const MIN_WINDOW_MS: i64 = 100;

/// How long a 429 without `Retry-After` slows its target down.
pub const DEFAULT_SLOW_DOWN: Duration = Duration::from_secs(1);

/// The longest a 429 slows its target down, whatever its `Retry-After`
/// (a day, the longest wait a delivery honours).
pub const MAX_SLOW_DOWN: Duration = crate::retry::MAX_RETRY_AFTER;

/// How long the store keeps a target's count and pause past its window's
/// end or its pause's end. As long as [`MAX_SLOW_DOWN`], so a count made
/// while a target is paused (which may shorten how long its state is kept)
/// never drops the pause before its end.
const STATE_KEPT: time::Duration = time::Duration::days(1);

/// The rate deliveries to `endpoint` keep: its own `rate_limit`, else
/// [`DISCORD`] or [`SLACK`] by its type; `None` (unlimited) for a custom
/// endpoint without one.
pub fn endpoint_rate(endpoint: &Endpoint) -> Option<RateLimit> {
    endpoint.rate_limit.or(match endpoint.kind {
        EndpointType::Discord => Some(DISCORD),
        EndpointType::Slack => Some(SLACK),
        EndpointType::Custom => None,
    })
}

/// The counted target of an endpoint: its id.
pub fn endpoint_target(endpoint: &Endpoint) -> String {
    endpoint.id.to_string()
}

/// The counted target of a chat action: `{platform}:` and a digest of
/// `address` (a webhook URL, or a bot token with a chat id), so the key
/// names the target without holding its credential.
pub fn chat_target(platform: &str, address: &str) -> String {
    let digest = Sha256::digest(address.as_bytes());
    format!("{platform}:{}", hex::encode(&digest[..16]))
}

/// The rate of a Telegram chat: [`TELEGRAM_GROUP`] for a group or channel
/// (a negative id or an `@name`), else [`TELEGRAM_CHAT`].
pub fn telegram_rate(chat_id: &serde_json::Value) -> RateLimit {
    let group = match chat_id {
        serde_json::Value::Number(n) => n.to_string().starts_with('-'),
        serde_json::Value::String(s) => s.starts_with('-') || s.starts_with('@'),
        _ => false,
    };
    if group {
        TELEGRAM_GROUP
    } else {
        TELEGRAM_CHAT
    }
}

/// Takes a place for one send to `target` of `bot` at `now`: `None` to send
/// now, or how long to wait first (the target is slowed down after a 429,
/// or its current window is full). Without a `rate` nothing is counted and
/// only a slow-down seen by this process can make it wait. A send that has
/// to wait is counted in the window it was refused in, which is what
/// spreads a burst over the windows to come.
///
/// # Errors
/// The store's, when the count cannot be written.
pub async fn acquire(
    svc: &Services,
    bot: &BotId,
    target: &str,
    rate: Option<RateLimit>,
    now: OffsetDateTime,
) -> Result<Option<Duration>, StoreError> {
    if let Some(until) = slowed_until(bot, target) {
        if until > now {
            return Ok(Some((until - now).unsigned_abs()));
        }
    }
    let Some(rate) = rate else {
        return Ok(None);
    };
    let window = rate.window_at(now, MIN_WINDOW_MS);
    let expires = time_of_ms(window.ends_ms).unwrap_or(now) + STATE_KEPT;
    let counted = svc
        .store
        .count_send(&SendTarget { bot, target }, window.number, expires)
        .await?;
    if let Some(until) = counted.paused_until.filter(|until| *until > now) {
        // Paused by a 429 another dispatcher (or this one) was answered.
        remember(bot, target, until);
        return Ok(Some((until - now).unsigned_abs()));
    }
    let burst = u64::from(rate.burst.max(1));
    if counted.count <= burst {
        return Ok(None);
    }
    let ahead = (counted.count - burst - 1) / burst;
    let now_ms = i64::try_from(now.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX);
    let wait_ms =
        (window.ends_ms - now_ms).max(1) as u64 + ahead.saturating_mul(window.length_ms as u64);
    Ok(Some(Duration::from_millis(wait_ms)))
}

/// Slows `target` of `bot` down until `until` (after it answered 429; at
/// most [`MAX_SLOW_DOWN`] from now): [`acquire`] makes sends to it wait
/// until then, in this process at once and, for a target with a `rate`
/// (the targets `acquire` counts in the store), in every process through
/// the store. A pause that cannot be stored is logged and kept here only.
pub async fn slow_down(
    svc: &Services,
    bot: &BotId,
    target: &str,
    rate: Option<RateLimit>,
    until: OffsetDateTime,
) {
    let until = until.min(svc.now() + MAX_SLOW_DOWN);
    remember(bot, target, until);
    if rate.is_none() {
        return;
    }
    let paused = svc
        .store
        .pause_sends(&SendTarget { bot, target }, until, until + STATE_KEPT)
        .await;
    if let Err(e) = paused {
        tracing::warn!(
            error.message = %e,
            "the target's slow-down could not be stored; only this dispatcher keeps it"
        );
    }
}

/// `ms` milliseconds after the Unix epoch.
fn time_of_ms(ms: i64) -> Option<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).ok()
}

/// Keeps, in this process, that `target` of `bot` is slowed down until
/// `until` (a later time already kept wins).
fn remember(bot: &BotId, target: &str, until: OffsetDateTime) {
    let mut slowed = slowed().lock().unwrap_or_else(|e| e.into_inner());
    let now = OffsetDateTime::now_utc();
    slowed.retain(|_, t| *t > now);
    let entry = slowed.entry(key(bot, target)).or_insert(until);
    if *entry < until {
        *entry = until;
    }
}

fn slowed_until(bot: &BotId, target: &str) -> Option<OffsetDateTime> {
    let slowed = slowed().lock().unwrap_or_else(|e| e.into_inner());
    slowed.get(&key(bot, target)).copied()
}

fn key(bot: &BotId, target: &str) -> String {
    format!("{bot}:{target}")
}

/// Targets this process knows to be slowed down after a 429, until when.
fn slowed() -> &'static Mutex<HashMap<String, OffsetDateTime>> {
    static SLOWED: OnceLock<Mutex<HashMap<String, OffsetDateTime>>> = OnceLock::new();
    SLOWED.get_or_init(Mutex::default)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn chat_targets_name_the_target_without_its_credential() {
        let url = "https://discord.com/api/webhooks/123/SeCrEtToKeN";
        let target = chat_target("discord", url);
        assert!(target.starts_with("discord:"));
        assert!(!target.contains("SeCrEtToKeN"));
        assert_eq!(target.len(), "discord:".len() + 32);
        assert_eq!(target, chat_target("discord", url));
        assert_ne!(
            target,
            chat_target("discord", "https://discord.com/api/webhooks/123/other")
        );
    }

    #[test]
    fn telegram_groups_and_channels_get_the_group_rate() {
        assert_eq!(telegram_rate(&json!(-100123)), TELEGRAM_GROUP);
        assert_eq!(telegram_rate(&json!("@news")), TELEGRAM_GROUP);
        assert_eq!(telegram_rate(&json!(42)), TELEGRAM_CHAT);
        assert_eq!(telegram_rate(&json!("42")), TELEGRAM_CHAT);
    }

    #[test]
    fn a_slow_down_is_kept_until_its_time_and_the_later_one_wins() {
        let bot = BotId::parse("throttle-test-bot").unwrap();
        let now = OffsetDateTime::now_utc();
        remember(&bot, "ep_x", now + time::Duration::seconds(2));
        remember(&bot, "ep_x", now + time::Duration::seconds(1));
        assert_eq!(
            slowed_until(&bot, "ep_x"),
            Some(now + time::Duration::seconds(2))
        );
        assert_eq!(slowed_until(&bot, "ep_y"), None);
    }
}

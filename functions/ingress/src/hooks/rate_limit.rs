//! A hook call's rate limit (`rate_limit: {"per_second", "burst"}`).
//!
//! Fixed windows of `burst / per_second` seconds (at least 1 s), each
//! taking `burst` calls: the average rate is `per_second` and bursts reach
//! `burst`. The count is an atomic counter in the store (one per
//! [`RateWindow`]: bot, hook and window number), exact across concurrent instances;
//! at a window's edge up to two windows' worth of calls can pass within one
//! window's time. Only calls that passed auth are counted.

use hooklane_domain::Hook;
use hooklane_store::RateWindow;
use hooklane_web::ApiError;
use time::OffsetDateTime;

use crate::IngressState;

/// Counts this call in the hook's current window; a hook without a
/// `rate_limit` is not counted.
///
/// # Errors
/// 429 `rate_limited` with `Retry-After` (the whole seconds until the window
/// ends, at least 1) when the window already took `burst` calls; a store
/// error as 500 (the call is refused, not let through).
pub(super) async fn check(
    state: &IngressState,
    hook: &Hook,
    now: OffsetDateTime,
) -> Result<(), ApiError> {
    let Some(rate) = hook.rate_limit else {
        return Ok(());
    };
    let window = rate.window_at(now, 1000);
    let now_ms = i64::try_from(now.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX);
    let expires = OffsetDateTime::from_unix_timestamp_nanos(i128::from(window.ends_ms) * 1_000_000)
        .unwrap_or(now)
        + time::Duration::minutes(5);
    let counted = RateWindow {
        bot: &hook.bot_id,
        hook: &hook.id,
        window: window.number,
    };
    let count = state.svc.store.increment_counter(&counted, expires).await?;
    if count > u64::from(rate.burst.max(1)) {
        let wait = ((window.ends_ms - now_ms) as u64).div_ceil(1000).max(1);
        return Err(ApiError::rate_limited(wait));
    }
    Ok(())
}

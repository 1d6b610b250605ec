//! Telegram Bot API updates: `X-Telegram-Bot-Api-Secret-Token` equal to the
//! `secret_token` given to `setWebhook`, compared in constant time.
//!
//! Telegram's rules: <https://core.telegram.org/bots/api#setwebhook>.

use super::common::{optional, Headers};
use crate::constant_time_eq;

const SECRET_TOKEN: &str = "X-Telegram-Bot-Api-Secret-Token";

/// Why a Telegram update was refused. The messages name the header and
/// where its value comes from, never the token.
#[derive(Debug, Clone, Copy, thiserror::Error, PartialEq, Eq)]
pub enum TelegramTokenError {
    /// No `X-Telegram-Bot-Api-Secret-Token` (or a blank one).
    #[error("send the hook's secret token in X-Telegram-Bot-Api-Secret-Token (setWebhook's secret_token)")]
    Missing,
    /// The header is not the hook's secret token (or the hook has none).
    #[error("the X-Telegram-Bot-Api-Secret-Token is not valid for this hook")]
    Mismatch,
}

/// Whether `token` is one Telegram accepts as a `secret_token`: 1 to 256
/// characters of `A-Z`, `a-z`, `0-9`, `_` and `-`.
pub fn is_telegram_secret_token(token: &str) -> bool {
    (1..=256).contains(&token.len())
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// Checks a Telegram update's secret token header against `secret_token`.
///
/// # Errors
/// [`TelegramTokenError::Missing`] without the header;
/// [`TelegramTokenError::Mismatch`] when it differs (or `secret_token` is
/// empty).
pub fn verify_telegram(
    secret_token: &str,
    headers: &dyn Headers,
) -> Result<(), TelegramTokenError> {
    let presented = optional(headers, SECRET_TOKEN).ok_or(TelegramTokenError::Missing)?;
    if secret_token.is_empty() || !constant_time_eq(presented.as_bytes(), secret_token.as_bytes()) {
        return Err(TelegramTokenError::Mismatch);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::testing::headers;
    use super::*;

    #[test]
    fn telegram_accepts_only_the_hooks_secret_token() {
        let h = headers(&[("X-Telegram-Bot-Api-Secret-Token", "tg_secret-123")]);
        assert_eq!(verify_telegram("tg_secret-123", &h), Ok(()));
        assert_eq!(
            verify_telegram("tg_secret-124", &h),
            Err(TelegramTokenError::Mismatch)
        );
        assert_eq!(verify_telegram("", &h), Err(TelegramTokenError::Mismatch));
        assert_eq!(
            verify_telegram("tg_secret-123", &headers(&[])),
            Err(TelegramTokenError::Missing)
        );
    }

    #[test]
    fn secret_tokens_are_what_telegram_accepts() {
        assert!(is_telegram_secret_token("Abc_-09"));
        assert!(is_telegram_secret_token(&"a".repeat(256)));
        for bad in ["", "has space", "dot.", "é", &"a".repeat(257)] {
            assert!(!is_telegram_secret_token(bad), "{bad}");
        }
    }
}

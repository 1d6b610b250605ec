//! Telegram Bot API updates: `X-Telegram-Bot-Api-Secret-Token` equal to the
//! `secret_token` given to `setWebhook`, compared in constant time.
//!
//! Telegram's rules: <https://core.telegram.org/bots/api#setwebhook>.

use super::common::{required, Headers, SignatureError};
use crate::constant_time_eq;

const SECRET_TOKEN: &str = "X-Telegram-Bot-Api-Secret-Token";

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
/// [`SignatureError::MissingHeader`] without the header;
/// [`SignatureError::Mismatch`] when it differs (or `secret_token` is empty).
pub fn verify_telegram(secret_token: &str, headers: &dyn Headers) -> Result<(), SignatureError> {
    let presented = required(headers, SECRET_TOKEN)?;
    if secret_token.is_empty() || !constant_time_eq(presented.as_bytes(), secret_token.as_bytes()) {
        return Err(SignatureError::Mismatch);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::testing::{headers, missing};
    use super::*;

    #[test]
    fn telegram_accepts_only_the_hooks_secret_token() {
        let h = headers(&[("X-Telegram-Bot-Api-Secret-Token", "tg_secret-123")]);
        assert_eq!(verify_telegram("tg_secret-123", &h), Ok(()));
        assert_eq!(
            verify_telegram("tg_secret-124", &h),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(verify_telegram("", &h), Err(SignatureError::Mismatch));
        assert_eq!(
            verify_telegram("tg_secret-123", &headers(&[])),
            Err(missing("X-Telegram-Bot-Api-Secret-Token"))
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

//! Consumer portal tokens: a signed, expiring credential that opens the web
//! console scoped to one bot's endpoints and deliveries.
//!
//! A token is `hlp_{bot_id}.{expires_at}.{sig}`: `expires_at` in Unix
//! seconds and `sig` the unpadded base64url of
//! `HMAC-SHA256(key, "hooklane-portal.v1.{bot_id}.{expires_at}")`, where
//! `key` is the bot's portal key ([`bot_key`]: the installation's portal
//! key, never the admin token, bound to the bot's creation time, so a link
//! does not open a bot deleted and created again under the same id). Bot
//! ids are `[A-Za-z0-9_-]`, so the dots split a token unambiguously.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::digest::KeyInit;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::constant_time_eq;

/// Every portal token starts with this.
pub const PREFIX: &str = "hlp_";

/// Why a portal token was refused. The messages never repeat the token.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PortalTokenError {
    #[error("the portal link is malformed; open it exactly as it was given")]
    Malformed,
    #[error("the portal link's signature does not match; ask for a new link")]
    BadSignature,
    #[error("the portal link has expired; ask for a new one")]
    Expired,
}

/// The key that signs one bot's tokens: `HMAC-SHA256(installation_key,
/// "hooklane-portal.bot.{created_unix_nanos}")`. A bot created again under
/// the same id has another creation time, so the tokens of the first one
/// do not open it.
pub fn bot_key(installation_key: &[u8], created_unix_nanos: i128) -> Vec<u8> {
    if installation_key.is_empty() {
        return Vec::new();
    }
    let mut m = <Hmac<Sha256> as KeyInit>::new_from_slice(installation_key)
        .expect("HMAC takes any key length");
    m.update(format!("hooklane-portal.bot.{created_unix_nanos}").as_bytes());
    m.finalize().into_bytes().to_vec()
}

/// The bot id a token names, read without checking its signature (to find
/// the bot whose key checks it).
///
/// # Errors
/// [`PortalTokenError::Malformed`] when it is not `hlp_{bot}.{unix}.{sig}`.
pub fn bot_of(token: &str) -> Result<&str, PortalTokenError> {
    let body = token
        .strip_prefix(PREFIX)
        .ok_or(PortalTokenError::Malformed)?;
    match body.split('.').collect::<Vec<_>>()[..] {
        [bot_id, _, _] if !bot_id.is_empty() => Ok(bot_id),
        _ => Err(PortalTokenError::Malformed),
    }
}

/// The token for `bot_id`, valid until `expires_at` (Unix seconds).
pub fn mint(key: &[u8], bot_id: &str, expires_at: i64) -> String {
    let sig = URL_SAFE_NO_PAD.encode(mac(key, bot_id, expires_at));
    format!("{PREFIX}{bot_id}.{expires_at}.{sig}")
}

/// Checks `token` and answers the bot id it opens and its expiry (Unix
/// seconds).
///
/// The signature is compared in constant time before the expiry is looked
/// at; a token is expired from `expires_at` on (`now_unix >= expires_at`).
/// An empty key matches nothing.
///
/// # Errors
/// [`PortalTokenError::Malformed`] when it is not `hlp_{bot}.{unix}.{sig}`,
/// `BadSignature` when the key did not sign it, `Expired` after its time.
pub fn verify(key: &[u8], token: &str, now_unix: i64) -> Result<(String, i64), PortalTokenError> {
    let body = token
        .strip_prefix(PREFIX)
        .ok_or(PortalTokenError::Malformed)?;
    let mut parts = body.split('.');
    let (Some(bot_id), Some(expires), Some(sig), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(PortalTokenError::Malformed);
    };
    let well_formed_bot = !bot_id.is_empty()
        && bot_id.len() <= 64
        && bot_id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    let expires_at: i64 = expires.parse().map_err(|_| PortalTokenError::Malformed)?;
    // One spelling per time: `0123` or `+123` is not how a token is minted.
    if expires_at.to_string() != expires {
        return Err(PortalTokenError::Malformed);
    }
    let presented = URL_SAFE_NO_PAD
        .decode(sig)
        .map_err(|_| PortalTokenError::Malformed)?;
    if !well_formed_bot {
        return Err(PortalTokenError::Malformed);
    }
    if key.is_empty() || !constant_time_eq(&mac(key, bot_id, expires_at), &presented) {
        return Err(PortalTokenError::BadSignature);
    }
    if now_unix >= expires_at {
        return Err(PortalTokenError::Expired);
    }
    Ok((bot_id.to_owned(), expires_at))
}

fn mac(key: &[u8], bot_id: &str, expires_at: i64) -> Vec<u8> {
    let mut m = <Hmac<Sha256> as KeyInit>::new_from_slice(key).expect("HMAC takes any key length");
    m.update(format!("hooklane-portal.v1.{bot_id}.{expires_at}").as_bytes());
    m.finalize().into_bytes().to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &[u8] = b"portal-key-for-tests-0123456789abcdef";

    #[test]
    fn a_minted_token_opens_its_bot_until_it_expires() {
        let token = mint(KEY, "shop-bot", 1_000);
        assert!(token.starts_with("hlp_shop-bot.1000."));
        assert_eq!(verify(KEY, &token, 999), Ok(("shop-bot".into(), 1_000)));
        assert_eq!(verify(KEY, &token, 1_000), Err(PortalTokenError::Expired));
    }

    #[test]
    fn an_edited_or_foreign_token_is_refused() {
        let token = mint(KEY, "shop-bot", 1_000);
        let sig = token.rsplit('.').next().unwrap();
        let cases = [
            (
                format!("hlp_other-bot.1000.{sig}"),
                PortalTokenError::BadSignature,
            ),
            (
                format!("hlp_shop-bot.9999.{sig}"),
                PortalTokenError::BadSignature,
            ),
            (
                mint(b"another key", "shop-bot", 1_000),
                PortalTokenError::BadSignature,
            ),
            (
                token.replacen("hlp_", "hla_", 1),
                PortalTokenError::Malformed,
            ),
            (format!("{token}.x"), PortalTokenError::Malformed),
            ("hlp_a.b.c".to_owned(), PortalTokenError::Malformed),
            (
                format!("hlp_bad/bot.1000.{sig}"),
                PortalTokenError::Malformed,
            ),
            (String::new(), PortalTokenError::Malformed),
            (
                format!("hlp_shop-bot.01000.{sig}"),
                PortalTokenError::Malformed,
            ),
            (
                format!("hlp_shop-bot.+1000.{sig}"),
                PortalTokenError::Malformed,
            ),
        ];
        for (bad, why) in cases {
            assert_eq!(verify(KEY, &bad, 10), Err(why), "{bad}");
        }
        assert_eq!(
            verify(b"", &mint(b"", "b", 1_000), 10),
            Err(PortalTokenError::BadSignature)
        );
    }

    #[test]
    fn a_bot_created_again_under_its_id_has_another_key() {
        let first = bot_key(KEY, 1_700_000_000_000_000_000);
        let again = bot_key(KEY, 1_700_000_000_000_000_001);
        assert_ne!(first, again);
        let token = mint(&first, "shop-bot", 1_000);
        assert_eq!(bot_of(&token), Ok("shop-bot"));
        assert!(verify(&first, &token, 10).is_ok());
        assert_eq!(
            verify(&again, &token, 10),
            Err(PortalTokenError::BadSignature)
        );
        assert!(bot_key(b"", 1).is_empty());
        assert_eq!(bot_of("hlp_.1.x"), Err(PortalTokenError::Malformed));
    }
}

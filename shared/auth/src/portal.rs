//! Consumer portal tokens: a signed, expiring credential that opens the web
//! console scoped to one bot's endpoints and deliveries.
//!
//! A token is `hlp_{bot_id}.{created}.{expires_at}.{sig}`: `created` is the
//! bot's creation time in Unix nanoseconds, `expires_at` in Unix seconds and
//! `sig` the unpadded base64url of
//! `HMAC-SHA256(key, "hooklane-portal.v1.{bot_id}.{expires_at}")`, where
//! `key` is the bot's portal key ([`bot_key`]: the installation's portal
//! key, never the admin token, bound to `created`). A token opens its bot
//! only while the bot's creation time is `created`, so a link does not open
//! a bot deleted and created again under the same id; since `created` is
//! signed (through the key), a refusal can say so without telling a forger
//! anything. Tokens minted before `created` was carried
//! (`hlp_{bot_id}.{expires_at}.{sig}`) are checked with the bot's creation
//! time as it is now. Bot ids are `[A-Za-z0-9_-]`, so the dots split a
//! token unambiguously.

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
    /// The token is genuine, but its bot is gone or is another bot under
    /// the same id.
    #[error("this link is no longer valid: its bot was deleted or created again")]
    BotGone,
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

/// A token's parts, read before its signature is checked.
struct Parts<'a> {
    bot_id: &'a str,
    /// `None` in a token minted before the creation time was carried.
    created: Option<i128>,
    expires_at: i64,
    sig: Vec<u8>,
}

/// `text` as a number written the one way a token is minted (`0123` or
/// `+123` is not).
fn number<T: std::str::FromStr + ToString>(text: &str) -> Result<T, PortalTokenError> {
    let n: T = text.parse().map_err(|_| PortalTokenError::Malformed)?;
    if n.to_string() != text {
        return Err(PortalTokenError::Malformed);
    }
    Ok(n)
}

fn parts(token: &str) -> Result<Parts<'_>, PortalTokenError> {
    let body = token
        .strip_prefix(PREFIX)
        .ok_or(PortalTokenError::Malformed)?;
    let (bot_id, created, expires, sig) = match body.split('.').collect::<Vec<_>>()[..] {
        [bot_id, created, expires, sig] => (bot_id, Some(number(created)?), expires, sig),
        [bot_id, expires, sig] => (bot_id, None, expires, sig),
        _ => return Err(PortalTokenError::Malformed),
    };
    let well_formed_bot = !bot_id.is_empty()
        && bot_id.len() <= 64
        && bot_id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if !well_formed_bot {
        return Err(PortalTokenError::Malformed);
    }
    Ok(Parts {
        bot_id,
        created,
        expires_at: number(expires)?,
        sig: URL_SAFE_NO_PAD
            .decode(sig)
            .map_err(|_| PortalTokenError::Malformed)?,
    })
}

/// The bot id a token names, read without checking its signature (to find
/// the bot whose creation time checks it).
///
/// # Errors
/// [`PortalTokenError::Malformed`] when it is not a token.
pub fn bot_of(token: &str) -> Result<&str, PortalTokenError> {
    parts(token).map(|p| p.bot_id)
}

/// The token for the bot `bot_id` created at `created_unix_nanos`, valid
/// until `expires_at` (Unix seconds), signed with the bot's key under
/// `installation_key` ([`bot_key`]).
pub fn mint(
    installation_key: &[u8],
    bot_id: &str,
    created_unix_nanos: i128,
    expires_at: i64,
) -> String {
    let key = bot_key(installation_key, created_unix_nanos);
    let sig = URL_SAFE_NO_PAD.encode(mac(&key, bot_id, expires_at));
    format!("{PREFIX}{bot_id}.{created_unix_nanos}.{expires_at}.{sig}")
}

/// Checks `token` against the bot it names as it is now (created at
/// `bot_created_unix_nanos`, `None` when there is no such bot) and answers
/// the bot id it opens and its expiry (Unix seconds).
///
/// The signature is compared in constant time first; then the bot, then
/// the expiry: a token is expired from `expires_at` on
/// (`now_unix >= expires_at`). An empty key matches nothing.
///
/// # Errors
/// [`PortalTokenError::Malformed`] when it is not a token; `BadSignature`
/// when the installation did not sign it (or, for a token without its
/// bot's creation time, the bot is gone or was created again); `BotGone`
/// when it did, but the bot is gone or was created again; `Expired` after
/// its time.
pub fn verify(
    installation_key: &[u8],
    token: &str,
    bot_created_unix_nanos: Option<i128>,
    now_unix: i64,
) -> Result<(String, i64), PortalTokenError> {
    let p = parts(token)?;
    let created = p
        .created
        .or(bot_created_unix_nanos)
        .ok_or(PortalTokenError::BadSignature)?;
    let key = bot_key(installation_key, created);
    if key.is_empty() || !constant_time_eq(&mac(&key, p.bot_id, p.expires_at), &p.sig) {
        return Err(PortalTokenError::BadSignature);
    }
    if bot_created_unix_nanos != Some(created) {
        return Err(PortalTokenError::BotGone);
    }
    if now_unix >= p.expires_at {
        return Err(PortalTokenError::Expired);
    }
    Ok((p.bot_id.to_owned(), p.expires_at))
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
    /// The test bot's creation time, in Unix nanoseconds.
    const BORN: i128 = 1_700_000_000_123_456_789;

    /// A token as minted before it carried the bot's creation time.
    fn legacy(key: &[u8], bot_id: &str, expires_at: i64) -> String {
        let sig = URL_SAFE_NO_PAD.encode(mac(key, bot_id, expires_at));
        format!("{PREFIX}{bot_id}.{expires_at}.{sig}")
    }

    #[test]
    fn a_minted_token_opens_its_bot_until_it_expires() {
        let token = mint(KEY, "shop-bot", BORN, 1_000);
        assert!(token.starts_with("hlp_shop-bot.1700000000123456789.1000."));
        assert_eq!(bot_of(&token), Ok("shop-bot"));
        assert_eq!(
            verify(KEY, &token, Some(BORN), 999),
            Ok(("shop-bot".into(), 1_000))
        );
        assert_eq!(
            verify(KEY, &token, Some(BORN), 1_000),
            Err(PortalTokenError::Expired)
        );
    }

    #[test]
    fn an_edited_or_foreign_token_is_refused() {
        let token = mint(KEY, "shop-bot", BORN, 1_000);
        let sig = token.rsplit('.').next().unwrap();
        let cases = [
            (
                format!("hlp_other-bot.{BORN}.1000.{sig}"),
                PortalTokenError::BadSignature,
            ),
            (
                format!("hlp_shop-bot.{BORN}.9999.{sig}"),
                PortalTokenError::BadSignature,
            ),
            (
                format!("hlp_shop-bot.{}.1000.{sig}", BORN + 1),
                PortalTokenError::BadSignature,
            ),
            (
                mint(b"another key", "shop-bot", BORN, 1_000),
                PortalTokenError::BadSignature,
            ),
            (
                token.replacen("hlp_", "hla_", 1),
                PortalTokenError::Malformed,
            ),
            (format!("{token}.x"), PortalTokenError::Malformed),
            ("hlp_a.b.c".to_owned(), PortalTokenError::Malformed),
            ("hlp_a.1.b.c".to_owned(), PortalTokenError::Malformed),
            (
                format!("hlp_bad/bot.{BORN}.1000.{sig}"),
                PortalTokenError::Malformed,
            ),
            (String::new(), PortalTokenError::Malformed),
            (
                format!("hlp_shop-bot.{BORN}.01000.{sig}"),
                PortalTokenError::Malformed,
            ),
            (
                format!("hlp_shop-bot.0{BORN}.1000.{sig}"),
                PortalTokenError::Malformed,
            ),
            (
                format!("hlp_shop-bot.{BORN}.+1000.{sig}"),
                PortalTokenError::Malformed,
            ),
        ];
        for (bad, why) in cases {
            assert_eq!(verify(KEY, &bad, Some(BORN), 10), Err(why), "{bad}");
        }
        assert_eq!(
            verify(b"", &mint(b"", "b", BORN, 1_000), Some(BORN), 10),
            Err(PortalTokenError::BadSignature)
        );
        assert_eq!(bot_of("hlp_.1.2.x"), Err(PortalTokenError::Malformed));
    }

    #[test]
    fn a_genuine_token_of_a_bot_gone_or_created_again_says_so_and_opens_nothing() {
        let token = mint(KEY, "shop-bot", BORN, 1_000);
        for now in [None, Some(BORN + 1)] {
            assert_eq!(
                verify(KEY, &token, now, 10),
                Err(PortalTokenError::BotGone),
                "{now:?}"
            );
            // Also past its expiry: a new link is what it needs.
            assert_eq!(
                verify(KEY, &token, now, 2_000),
                Err(PortalTokenError::BotGone)
            );
        }
        // A forged one learns nothing about the bot: its signature is
        // checked first.
        let forged = mint(b"a guessed key", "shop-bot", BORN, 1_000);
        assert_eq!(
            verify(KEY, &forged, None, 10),
            Err(PortalTokenError::BadSignature)
        );
    }

    #[test]
    fn a_token_without_its_bots_creation_time_is_checked_with_the_bot_as_it_is() {
        let token = legacy(&bot_key(KEY, BORN), "shop-bot", 1_000);
        assert_eq!(
            verify(KEY, &token, Some(BORN), 10),
            Ok(("shop-bot".into(), 1_000))
        );
        assert_eq!(bot_of(&token), Ok("shop-bot"));
        for now in [None, Some(BORN + 1)] {
            assert_eq!(
                verify(KEY, &token, now, 10),
                Err(PortalTokenError::BadSignature)
            );
        }
    }

    #[test]
    fn a_bot_created_again_under_its_id_has_another_key() {
        assert_ne!(bot_key(KEY, BORN), bot_key(KEY, BORN + 1));
        assert!(bot_key(b"", 1).is_empty());
    }
}

//! Signed hook URLs: `?ctx=…&sig=…`, minted by the admin API for one user or
//! context, so a caller needs nothing but the URL.
//!
//! `ctx` is unpadded base64url of `{"c": <context>, "e": <expires_at or null>}`
//! and `sig` is unpadded base64url of
//! `HMAC-SHA256(key, "{bot_id}.{hook_id}.{ctx}")`, so a URL is bound to one
//! hook and its context cannot be edited.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::digest::KeyInit;
use hmac::{Hmac, Mac};
use serde::Deserialize;
use serde_json::{json, Value};
use sha2::Sha256;

use crate::{constant_time_eq, random_bytes};

/// Why a signed URL was refused. The messages never repeat `ctx` or `sig`.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SignedUrlError {
    #[error("this hook needs a signed URL: add both the `ctx` and `sig` query parameters the admin API minted")]
    Missing,
    #[error("the signed URL is malformed: {0}")]
    Malformed(String),
    #[error("the signed URL's signature does not match; use the URL exactly as the admin API minted it for this hook")]
    BadSignature,
    #[error("the signed URL has expired; ask for a new one")]
    Expired,
}

/// The `ctx` and `sig` query values for a URL to hook `hook_id` of `bot_id`,
/// carrying `context` and valid until `expires_at` (Unix seconds; `None`
/// never expires).
pub fn mint(
    key: &[u8],
    bot_id: &str,
    hook_id: &str,
    context: &Value,
    expires_at: Option<i64>,
) -> (String, String) {
    let claims = json!({ "c": context, "e": expires_at });
    let ctx = URL_SAFE_NO_PAD.encode(claims.to_string());
    let sig = URL_SAFE_NO_PAD.encode(mac(key, bot_id, hook_id, &ctx));
    (ctx, sig)
}

/// Checks a signed URL's `ctx` and `sig` for hook `hook_id` of `bot_id` and
/// returns the context it carries.
///
/// The signature is checked, in constant time, before `ctx` is decoded. A URL
/// is expired from `expires_at` on (`now_unix >= expires_at`). An empty key
/// matches nothing.
pub fn verify(
    key: &[u8],
    bot_id: &str,
    hook_id: &str,
    ctx: &str,
    sig: &str,
    now_unix: i64,
) -> Result<Value, SignedUrlError> {
    if ctx.is_empty() || sig.is_empty() {
        return Err(SignedUrlError::Missing);
    }
    let presented = URL_SAFE_NO_PAD
        .decode(sig)
        .map_err(|_| SignedUrlError::Malformed("`sig` is not base64url".to_owned()))?;
    if key.is_empty() || !constant_time_eq(&mac(key, bot_id, hook_id, ctx), &presented) {
        return Err(SignedUrlError::BadSignature);
    }
    let claims: Claims = URL_SAFE_NO_PAD
        .decode(ctx)
        .ok()
        .and_then(|json| serde_json::from_slice(&json).ok())
        .ok_or_else(|| {
            SignedUrlError::Malformed("`ctx` is not a context the admin API minted".to_owned())
        })?;
    match claims.e {
        Some(expires_at) if now_unix >= expires_at => Err(SignedUrlError::Expired),
        _ => Ok(claims.c),
    }
}

/// The lengths, in bytes, a signing key may have.
pub const KEY_BYTES: std::ops::RangeInclusive<usize> = 16..=64;

/// A stored signing key that is not the standard base64 of
/// [`KEY_BYTES`] bytes. Its text never repeats the key.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("the signed-URL key is not the base64 of 16 to 64 bytes")]
pub struct BadUrlKey;

/// The key bytes of a hook's signed-URL key as stored and sent to the
/// admin API: standard base64 (with padding) of 16 to 64 bytes.
///
/// # Errors
/// [`BadUrlKey`] when `stored` is not base64 or decodes to another length.
pub fn decode_key(stored: &str) -> Result<Vec<u8>, BadUrlKey> {
    base64::engine::general_purpose::STANDARD
        .decode(stored)
        .ok()
        .filter(|b| KEY_BYTES.contains(&b.len()))
        .ok_or(BadUrlKey)
}

/// A new signing key: 32 random bytes.
pub fn generate_key() -> Vec<u8> {
    random_bytes::<32>().to_vec()
}

#[derive(Deserialize)]
struct Claims {
    c: Value,
    e: Option<i64>,
}

fn mac(key: &[u8], bot_id: &str, hook_id: &str, ctx: &str) -> Vec<u8> {
    let mut mac =
        <Hmac<Sha256> as KeyInit>::new_from_slice(key).expect("HMAC accepts a key of any length");
    for part in [bot_id, ".", hook_id, ".", ctx] {
        mac.update(part.as_bytes());
    }
    mac.finalize().into_bytes().to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &[u8] = &[b'k'; 32];
    const NOW: i64 = 1_700_000_000;

    #[test]
    fn minting_matches_an_independently_computed_url() {
        // python3 -c 'import base64,hmac,hashlib
        // ctx = base64.urlsafe_b64encode(b"{\"c\":{\"user\":\"42\"},\"e\":1700000000}").rstrip(b"=").decode()
        // sig = base64.urlsafe_b64encode(hmac.new(b"k"*32, f"bot_1.hk_1.{ctx}".encode(), hashlib.sha256).digest()).rstrip(b"=").decode()
        // print(ctx, sig)'
        let (ctx, sig) = mint(KEY, "bot_1", "hk_1", &json!({"user": "42"}), Some(NOW));
        assert_eq!(ctx, "eyJjIjp7InVzZXIiOiI0MiJ9LCJlIjoxNzAwMDAwMDAwfQ");
        assert_eq!(sig, "-5f4X_KVSN1LYR-Ahg23xFLD9KbduNDfDWanx19Wdm8");
    }

    #[test]
    fn a_minted_url_verifies_and_returns_its_context() {
        let contexts = [
            json!({"user": "42", "chat": 7}),
            json!("a plain string"),
            json!(null),
            json!([1, 2, 3]),
        ];
        for context in contexts {
            for expires_at in [None, Some(NOW + 60)] {
                let (ctx, sig) = mint(KEY, "bot_1", "hk_1", &context, expires_at);
                assert_eq!(
                    verify(KEY, "bot_1", "hk_1", &ctx, &sig, NOW),
                    Ok(context.clone()),
                    "{context} until {expires_at:?}"
                );
            }
        }
    }

    #[test]
    fn minted_values_are_safe_in_a_query_string() {
        let (ctx, sig) = mint(KEY, "bot_1", "hk_1", &json!({"q": "a+b/c=?&"}), None);
        for value in [ctx, sig] {
            assert!(
                value
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
                "{value}"
            );
        }
    }

    #[test]
    fn a_url_expires_at_its_expiry_time() {
        let (ctx, sig) = mint(KEY, "bot_1", "hk_1", &json!(1), Some(NOW));
        let cases = [
            (NOW - 1, Ok(json!(1))),
            (NOW, Err(SignedUrlError::Expired)),
            (NOW + 3600, Err(SignedUrlError::Expired)),
        ];
        for (now, expected) in cases {
            assert_eq!(
                verify(KEY, "bot_1", "hk_1", &ctx, &sig, now),
                expected,
                "now = {now}"
            );
        }
    }

    /// A presented URL: what `verify` is asked, and what it must answer.
    struct Presented<'a> {
        case: &'static str,
        key: &'a [u8],
        bot_id: &'static str,
        hook_id: &'static str,
        ctx: &'a str,
        sig: &'a str,
        expected: SignedUrlError,
    }

    #[test]
    fn a_url_for_another_hook_or_with_edited_values_is_refused() {
        let (ctx, sig) = mint(KEY, "bot_1", "hk_1", &json!({"user": "42"}), Some(NOW + 60));
        let (edited_ctx, _) = mint(KEY, "bot_1", "hk_1", &json!({"user": "43"}), Some(NOW + 60));
        let (_, other_hook_sig) =
            mint(KEY, "bot_1", "hk_2", &json!({"user": "42"}), Some(NOW + 60));
        let other_key = generate_key();
        let good = |case, expected| Presented {
            case,
            key: KEY,
            bot_id: "bot_1",
            hook_id: "hk_1",
            ctx: &ctx,
            sig: &sig,
            expected,
        };
        let cases = [
            Presented {
                hook_id: "hk_2",
                ..good("another hook", SignedUrlError::BadSignature)
            },
            Presented {
                bot_id: "bot_2",
                ..good("another bot", SignedUrlError::BadSignature)
            },
            Presented {
                key: &other_key,
                ..good("another key", SignedUrlError::BadSignature)
            },
            Presented {
                key: b"",
                ..good("an empty key", SignedUrlError::BadSignature)
            },
            Presented {
                ctx: &edited_ctx,
                ..good("an edited context", SignedUrlError::BadSignature)
            },
            Presented {
                sig: &other_hook_sig,
                ..good("another hook's signature", SignedUrlError::BadSignature)
            },
            Presented {
                ctx: "",
                ..good("no ctx", SignedUrlError::Missing)
            },
            Presented {
                sig: "",
                ..good("no sig", SignedUrlError::Missing)
            },
            Presented {
                sig: "not+base64/",
                ..good(
                    "a sig that is not base64url",
                    SignedUrlError::Malformed("`sig` is not base64url".to_owned()),
                )
            },
        ];
        for p in cases {
            assert_eq!(
                verify(p.key, p.bot_id, p.hook_id, p.ctx, p.sig, NOW),
                Err(p.expected),
                "{}",
                p.case
            );
        }
    }

    #[test]
    fn a_correctly_signed_ctx_that_is_not_a_minted_context_is_malformed() {
        for ctx in ["bm90IGpzb24", "eyJlIjpudWxsfQ", "%%%"] {
            let sig = URL_SAFE_NO_PAD.encode(mac(KEY, "bot_1", "hk_1", ctx));
            assert!(
                matches!(
                    verify(KEY, "bot_1", "hk_1", ctx, &sig, NOW),
                    Err(SignedUrlError::Malformed(_))
                ),
                "{ctx}"
            );
        }
    }

    #[test]
    fn a_stored_key_is_the_base64_of_16_to_64_bytes() {
        let b64 = |n: usize| base64::engine::general_purpose::STANDARD.encode(vec![7u8; n]);
        let cases = [
            (b64(16), true),
            (b64(32), true),
            (b64(64), true),
            (b64(15), false),
            (b64(65), false),
            ("not base64!".to_owned(), false),
            (URL_SAFE_NO_PAD.encode([1u8; 32]).replace('A', "-"), false),
        ];
        for (stored, ok) in cases {
            assert_eq!(decode_key(&stored).is_ok(), ok, "{stored}");
        }
    }

    #[test]
    fn generated_keys_are_32_fresh_random_bytes() {
        let key = generate_key();
        assert_eq!(key.len(), 32);
        assert_ne!(key, generate_key());
    }
}

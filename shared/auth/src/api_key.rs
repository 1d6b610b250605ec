//! Bot API keys: `hlk_` followed by 32 random bytes in unpadded base64url.
//!
//! The key is shown once; the store keeps only [`hash`]. Callers present it as
//! `Authorization: <key>` or `Authorization: Bearer <key>`.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use sha2::{Digest, Sha256};

use crate::{constant_time_eq, random_bytes};

/// The prefix every key starts with, so a leaked key is recognisable.
pub const PREFIX: &str = "hlk_";

/// A new API key: `"hlk_"` + 43 base64url characters (32 random bytes).
pub fn generate() -> String {
    format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(random_bytes::<32>()))
}

/// The lowercase hex SHA-256 of `key`: what the store keeps.
pub fn hash(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

/// Whether an `Authorization` header value carries the key whose hash is
/// `stored_hash`.
///
/// Accepts `KEY` and `Bearer KEY` (the scheme in any case), with surrounding
/// whitespace ignored. The hashes are compared in constant time; a
/// `stored_hash` that is not hex never matches.
pub fn verify_authorization(header_value: &str, stored_hash: &str) -> bool {
    let key = presented_key(header_value);
    if key.is_empty() {
        return false;
    }
    let Ok(stored) = hex::decode(stored_hash.trim()) else {
        return false;
    };
    constant_time_eq(&Sha256::digest(key.as_bytes()), &stored)
}

/// The key in a header value, without a `Bearer` scheme.
fn presented_key(header_value: &str) -> &str {
    let value = header_value.trim();
    match value.split_once(char::is_whitespace) {
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("bearer") => rest.trim(),
        _ => value,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_are_hlk_and_43_base64url_characters() {
        let key = generate();
        let body = key.strip_prefix("hlk_").expect("prefix");
        assert_eq!(body.len(), 43);
        assert!(body
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
        assert_eq!(URL_SAFE_NO_PAD.decode(body).expect("base64url").len(), 32);
    }

    #[test]
    fn two_generated_keys_differ() {
        assert_ne!(generate(), generate());
    }

    #[test]
    fn hash_is_the_lowercase_hex_sha256_of_the_key() {
        // FIPS 180-2 example: SHA-256("abc").
        assert_eq!(
            hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        // python3 -c 'import hashlib; print(hashlib.sha256(b"hlk_test").hexdigest())'
        assert_eq!(
            hash("hlk_test"),
            "b61c89a4def1d751f53f84aa0c38e9931c92d6753c9ceb8e16b9fba1477f4016"
        );
    }

    #[test]
    fn the_key_is_accepted_bare_or_as_a_bearer_token_in_any_case() {
        let key = generate();
        let stored = hash(&key);
        for value in [
            key.clone(),
            format!("Bearer {key}"),
            format!("bearer {key}"),
            format!("BEARER {key}"),
            format!("  Bearer \t {key}  "),
            format!(" {key}\n"),
        ] {
            assert!(verify_authorization(&value, &stored), "{value:?}");
        }
    }

    #[test]
    fn a_wrong_missing_or_mangled_key_is_rejected() {
        let key = generate();
        let stored = hash(&key);
        for value in [
            String::new(),
            "   ".to_owned(),
            "Bearer".to_owned(),
            "Bearer ".to_owned(),
            generate(),
            format!("Bearer {}", generate()),
            format!("Basic {key}"),
            format!("Bearer {key}x"),
            format!("Bearer{key}"),
            key.to_uppercase(),
        ] {
            assert!(!verify_authorization(&value, &stored), "{value:?}");
        }
    }

    #[test]
    fn a_stored_hash_that_is_not_hex_never_matches() {
        let key = generate();
        for stored in ["", "not hex", &hash(&key)[..63], &key] {
            assert!(!verify_authorization(&key, stored), "{stored:?}");
        }
    }

    #[test]
    fn a_stored_hash_in_uppercase_hex_still_matches() {
        let key = generate();
        assert!(verify_authorization(&key, &hash(&key).to_uppercase()));
    }
}

//! Discord interactions: `X-Signature-Ed25519: <hex Ed25519 signature>`
//! over `X-Signature-Timestamp` followed by the body, under the
//! application's public key (hex, from the Developer Portal). Discord
//! requires a 401 for a missing or wrong signature: it sends such probes on
//! purpose when the URL is saved.
//!
//! Discord's rules: <https://discord.com/developers/docs/interactions/overview#setting-up-an-endpoint-validating-security-request-headers>.

use ed25519_dalek::{Signature, VerifyingKey};

use super::common::{check_timestamp, malformed, required, Headers, SignatureError};

const SIGNATURE: &str = "X-Signature-Ed25519";
const TIMESTAMP: &str = "X-Signature-Timestamp";

/// Parses an application's public key: 64 hex characters naming a valid
/// Ed25519 point that is not of small order (a weak key, under which the
/// strict check verifies no signature).
///
/// # Errors
/// A reason, for an admin API message, when it is not.
pub fn discord_public_key(hex_key: &str) -> Result<VerifyingKey, &'static str> {
    let bytes: [u8; 32] = hex::decode(hex_key.trim())
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or("must be the application's public key: 64 hex characters")?;
    let key = VerifyingKey::from_bytes(&bytes).map_err(|_| "is not an Ed25519 public key")?;
    if key.is_weak() {
        return Err("is a weak Ed25519 key (of small order), under which no signature verifies; give the application's public key");
    }
    Ok(key)
}

/// Checks a Discord interaction: the signature in `X-Signature-Ed25519`
/// over `X-Signature-Timestamp` + `body` under `public_key` (hex). The
/// timestamp (Unix seconds) must be within [`super::TOLERANCE_SECONDS`] of
/// `now_unix`, so a captured interaction cannot be replayed later.
///
/// # Errors
/// [`SignatureError::MissingHeader`] without either header,
/// [`SignatureError::Malformed`] when the signature is not 128 hex
/// characters, the timestamp not whole seconds, or `public_key` not a key;
/// [`SignatureError::StaleTimestamp`]; [`SignatureError::Mismatch`] when
/// the signature does not verify.
pub fn verify_discord(
    public_key: &str,
    headers: &dyn Headers,
    body: &[u8],
    now_unix: i64,
) -> Result<(), SignatureError> {
    let signature = required(headers, SIGNATURE)?;
    let timestamp = required(headers, TIMESTAMP)?;
    let signature: [u8; 64] = hex::decode(signature)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| malformed(format!("`{SIGNATURE}` must be 128 hex characters")))?;
    check_timestamp(TIMESTAMP, timestamp, now_unix)?;
    let key = discord_public_key(public_key)
        .map_err(|_| malformed("the hook's public key is not an Ed25519 key".to_owned()))?;
    let mut message = Vec::with_capacity(timestamp.len() + body.len());
    message.extend_from_slice(timestamp.as_bytes());
    message.extend_from_slice(body);
    key.verify_strict(&message, &Signature::from_bytes(&signature))
        .map_err(|_| SignatureError::Mismatch)
}

#[cfg(test)]
mod tests {
    use ed25519_dalek::{Signer, SigningKey};

    use super::super::testing::{headers, missing, HeaderList};
    use super::*;

    const NOW: i64 = 1_700_000_000;
    const PING: &[u8] = br#"{"type":1,"id":"1","application_id":"2","token":"t"}"#;

    fn signed(key: &SigningKey, timestamp: &str, body: &[u8]) -> String {
        let mut message = timestamp.as_bytes().to_vec();
        message.extend_from_slice(body);
        hex::encode(key.sign(&message).to_bytes())
    }

    #[test]
    fn discord_accepts_an_interaction_signed_by_the_applications_key() {
        let key = SigningKey::generate(&mut rand::rngs::OsRng);
        let public = hex::encode(key.verifying_key().to_bytes());
        let ts = NOW.to_string();
        let h = headers(&[
            ("X-Signature-Ed25519", &signed(&key, &ts, PING)),
            ("X-Signature-Timestamp", &ts),
        ]);
        assert_eq!(verify_discord(&public, &h, PING, NOW), Ok(()));
        assert_eq!(
            verify_discord(&public.to_uppercase(), &h, PING, NOW + 300),
            Ok(())
        );
    }

    #[test]
    fn discord_refuses_other_keys_bodies_timestamps_and_missing_headers() {
        let key = SigningKey::generate(&mut rand::rngs::OsRng);
        let other = SigningKey::generate(&mut rand::rngs::OsRng);
        let public = hex::encode(key.verifying_key().to_bytes());
        let ts = NOW.to_string();
        let good = signed(&key, &ts, PING);
        type Case<'a> = (&'a str, HeaderList, &'a [u8], i64, SignatureError);
        let cases: Vec<Case> = vec![
            (
                "another key",
                headers(&[
                    ("X-Signature-Ed25519", &signed(&other, &ts, PING)),
                    ("X-Signature-Timestamp", &ts),
                ]),
                PING,
                NOW,
                SignatureError::Mismatch,
            ),
            (
                "another body",
                headers(&[
                    ("X-Signature-Ed25519", &good),
                    ("X-Signature-Timestamp", &ts),
                ]),
                b"{\"type\":2}",
                NOW,
                SignatureError::Mismatch,
            ),
            (
                "another timestamp",
                headers(&[
                    ("X-Signature-Ed25519", &good),
                    ("X-Signature-Timestamp", &(NOW + 1).to_string()),
                ]),
                PING,
                NOW,
                SignatureError::Mismatch,
            ),
            (
                "an old timestamp",
                headers(&[
                    ("X-Signature-Ed25519", &good),
                    ("X-Signature-Timestamp", &ts),
                ]),
                PING,
                NOW + 301,
                SignatureError::StaleTimestamp,
            ),
            (
                "no signature",
                headers(&[("X-Signature-Timestamp", &ts)]),
                PING,
                NOW,
                missing("X-Signature-Ed25519"),
            ),
            (
                "no timestamp",
                headers(&[("X-Signature-Ed25519", &good)]),
                PING,
                NOW,
                missing("X-Signature-Timestamp"),
            ),
        ];
        for (case, h, body, now, expected) in cases {
            assert_eq!(
                verify_discord(&public, &h, body, now),
                Err(expected),
                "{case}"
            );
        }
        let short = headers(&[
            ("X-Signature-Ed25519", "abcd"),
            ("X-Signature-Timestamp", &ts),
        ]);
        assert!(matches!(
            verify_discord(&public, &short, PING, NOW),
            Err(SignatureError::Malformed(_))
        ));
    }

    #[test]
    fn a_public_key_is_64_hex_characters_of_a_valid_point() {
        let key = SigningKey::from_bytes(&[7; 32]);
        assert!(discord_public_key(&hex::encode(key.verifying_key().to_bytes())).is_ok());
        assert!(discord_public_key("abcd").is_err());
        assert!(discord_public_key(&"zz".repeat(32)).is_err());
        // y = 2 is on no point of the curve.
        assert_eq!(
            discord_public_key(&format!("02{}", "0".repeat(62))),
            Err("is not an Ed25519 public key")
        );
        // y = 1 is the identity, of small order.
        assert!(discord_public_key(&format!("01{}", "0".repeat(62)))
            .is_err_and(|reason| reason.contains("weak")));
    }
}

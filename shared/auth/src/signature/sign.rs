//! Signing a request the way each provider signs its calls: the headers a
//! sender adds, for `hooklane trigger` and for tests. Every MAC here is the
//! one [`verify`](super::verify) checks, built from the same pieces; a
//! Discord interaction is signed by [`DiscordSigner`], as
//! [`verify_discord`](super::verify_discord) checks it (Twilio's signature
//! is [`twilio_sign`](super::twilio_sign)).

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use ed25519_dalek::{Signer as _, SigningKey};

use super::{standard_key, standard_sign, Algorithm, Scheme, SignatureError};

/// The signature headers `scheme`'s sender adds to a request with `body`,
/// signed with `secret` at `now_unix` (Unix seconds), as `(name, value)`:
///
/// - `standard`: `webhook-id` (`id`), `webhook-timestamp`, `webhook-signature`;
/// - `github`: `X-Hub-Signature-256: sha256=<hex>`, `X-GitHub-Delivery` (`id`);
/// - `stripe`: `Stripe-Signature: t=<ts>,v1=<hex>`;
/// - `slack`: `X-Slack-Request-Timestamp`, `X-Slack-Signature: v0=<hex>`;
/// - `shopify`: `X-Shopify-Hmac-Sha256: <base64>`, `X-Shopify-Webhook-Id` (`id`).
///
/// The values are signatures: they go on the request, never to a log.
///
/// # Errors
/// [`SignatureError::Malformed`] for `generic` (its settings are the
/// hook's own) and `twilio` (it signs the URL and form fields, not a body).
pub fn sign(
    scheme: &Scheme,
    secret: &str,
    id: &str,
    body: &[u8],
    now_unix: i64,
) -> Result<Vec<(&'static str, String)>, SignatureError> {
    let ts = now_unix.to_string();
    let mac = |parts: &[&[u8]]| Algorithm::Sha256.mac(secret.as_bytes(), parts);
    Ok(match scheme {
        Scheme::Standard => vec![
            ("webhook-id", id.to_owned()),
            ("webhook-timestamp", ts),
            (
                "webhook-signature",
                standard_sign(&standard_key(secret), id, now_unix, body),
            ),
        ],
        Scheme::Github => vec![
            (
                "X-Hub-Signature-256",
                format!("sha256={}", hex::encode(mac(&[body]))),
            ),
            ("X-GitHub-Delivery", id.to_owned()),
        ],
        Scheme::Stripe => {
            let v1 = hex::encode(mac(&[ts.as_bytes(), b".", body]));
            vec![("Stripe-Signature", format!("t={ts},v1={v1}"))]
        }
        Scheme::Slack => {
            let v0 = hex::encode(mac(&[b"v0:", ts.as_bytes(), b":", body]));
            vec![
                ("X-Slack-Request-Timestamp", ts),
                ("X-Slack-Signature", format!("v0={v0}")),
            ]
        }
        Scheme::Shopify => vec![
            ("X-Shopify-Hmac-Sha256", STANDARD.encode(mac(&[body]))),
            ("X-Shopify-Webhook-Id", id.to_owned()),
        ],
        Scheme::Generic | Scheme::Twilio => {
            return Err(SignatureError::Malformed(format!(
                "the {} scheme is not signed from a secret and a body alone",
                scheme.as_str()
            )))
        }
    })
}

/// A Discord application's Ed25519 signing key, to sign interactions as
/// Discord does when standing in for it: made from the key's 32-byte seed
/// (the private key), whose [`public_key`](Self::public_key) is what a
/// hook with `discord` auth is given. Never printed (no `Debug`).
pub struct DiscordSigner(SigningKey);

impl DiscordSigner {
    /// The key whose seed is `seed_hex`: 64 hex characters (32 bytes).
    ///
    /// # Errors
    /// [`SignatureError::Malformed`] when it is not; the message does not
    /// repeat it.
    pub fn from_seed_hex(seed_hex: &str) -> Result<Self, SignatureError> {
        let seed: [u8; 32] = hex::decode(seed_hex.trim())
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| {
                SignatureError::Malformed(
                    "an Ed25519 private key is given as its 32-byte seed in hex: 64 characters of 0-9 and a-f"
                        .to_owned(),
                )
            })?;
        Ok(Self(SigningKey::from_bytes(&seed)))
    }

    /// The public key, 64 hex characters: a `discord` hook's `public_key`.
    pub fn public_key(&self) -> String {
        hex::encode(self.0.verifying_key().to_bytes())
    }

    /// The headers Discord adds to an interaction with `body` sent at
    /// `now_unix`: `X-Signature-Ed25519` (hex) over `X-Signature-Timestamp`
    /// followed by the body, and that timestamp.
    pub fn sign(&self, body: &[u8], now_unix: i64) -> Vec<(&'static str, String)> {
        let ts = now_unix.to_string();
        let mut message = Vec::with_capacity(ts.len() + body.len());
        message.extend_from_slice(ts.as_bytes());
        message.extend_from_slice(body);
        vec![
            (
                "X-Signature-Ed25519",
                hex::encode(self.0.sign(&message).to_bytes()),
            ),
            ("X-Signature-Timestamp", ts),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::super::{verify, verify_discord};
    use super::*;

    #[test]
    fn a_discord_signed_interaction_verifies_under_its_public_key_only() {
        let body = br#"{"type":2,"id":"1","application_id":"2","token":"t"}"#;
        let now = 1_764_633_600;
        let signer = DiscordSigner::from_seed_hex(&"0b".repeat(32)).unwrap();
        let headers = signer.sign(body, now);
        assert_eq!(
            verify_discord(&signer.public_key(), &headers, body, now),
            Ok(())
        );
        let other = DiscordSigner::from_seed_hex(&"0c".repeat(32)).unwrap();
        assert_eq!(
            verify_discord(&other.public_key(), &headers, body, now),
            Err(SignatureError::Mismatch)
        );
        for bad in ["", "0b", &"zz".repeat(32), &"0b".repeat(33)] {
            assert!(
                matches!(DiscordSigner::from_seed_hex(bad), Err(SignatureError::Malformed(m)) if !m.contains("0b0b")),
                "{bad}"
            );
        }
    }

    #[test]
    fn every_signed_request_verifies_and_fails_under_another_secret() {
        let body = br#"{"id":"evt_1","amount":12.50}"#;
        let now = 1_764_633_600;
        for scheme in [
            Scheme::Standard,
            Scheme::Github,
            Scheme::Stripe,
            Scheme::Slack,
            Scheme::Shopify,
        ] {
            let headers = sign(&scheme, "whsec_c2VjcmV0LXNlY3JldA==", "msg_1", body, now).unwrap();
            assert!(
                verify(
                    &scheme,
                    None,
                    "whsec_c2VjcmV0LXNlY3JldA==",
                    &headers,
                    body,
                    now
                )
                .is_ok(),
                "{scheme:?}"
            );
            assert_eq!(
                verify(&scheme, None, "another-secret", &headers, body, now),
                Err(SignatureError::Mismatch),
                "{scheme:?}"
            );
        }
        assert!(sign(&Scheme::Twilio, "s", "i", body, now).is_err());
    }
}

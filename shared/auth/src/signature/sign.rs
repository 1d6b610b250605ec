//! Signing a request the way each provider signs its calls: the headers a
//! sender adds, for `hooklane trigger` and for tests. Every MAC here is the
//! one [`verify`](super::verify) checks, built from the same pieces.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;

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

#[cfg(test)]
mod tests {
    use super::super::verify;
    use super::*;

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

//! Shopify: `X-Shopify-Hmac-Sha256: <base64 HMAC-SHA256(secret, body)>`,
//! with no timestamp; the delivery id is `X-Shopify-Webhook-Id`.

use super::common::{check, malformed, optional, required, Algorithm, Encoding, Headers};
use super::common::{SignatureError, Verified};

const HMAC: &str = "X-Shopify-Hmac-Sha256";
const WEBHOOK_ID: &str = "X-Shopify-Webhook-Id";

/// Checks a `shopify` request.
pub(super) fn verify(
    secret: &str,
    headers: &dyn Headers,
    body: &[u8],
) -> Result<Verified, SignatureError> {
    let value = required(headers, HMAC)?;
    let signature = Encoding::Base64
        .decode(value)
        .ok_or_else(|| malformed(format!("`{HMAC}` must be base64")))?;
    check(secret.as_bytes(), Algorithm::Sha256, &[body], &[signature])?;
    Ok(Verified {
        delivery_id: optional(headers, WEBHOOK_ID),
    })
}

#[cfg(test)]
mod tests {
    use super::super::testing::{assert_refusals, headers, missing, Refusal};
    use super::super::{verify, Scheme, SignatureError, Verified};

    // Shopify documents the algorithm but publishes no secret/body/HMAC
    // triple, so this vector was computed with:
    // python3 -c 'import hmac,hashlib,base64; print(base64.b64encode(hmac.new(
    //   b"shpss_test_secret",
    //   b"{\"id\":820982911946154508,\"email\":\"jon@example.com\",\"total_price\":\"403.00\"}",
    //   hashlib.sha256).digest()).decode())'
    const SHOPIFY_SECRET: &str = "shpss_test_secret";
    const SHOPIFY_BODY: &[u8] =
        br#"{"id":820982911946154508,"email":"jon@example.com","total_price":"403.00"}"#;
    const SHOPIFY_SIG: &str = "4Xm/EQjpsrybMNSNnYtbzvhc5sN2NqHZlXDv0xRrCK0=";

    #[test]
    fn shopify_accepts_a_valid_hmac_and_reports_the_webhook_id() {
        let h = headers(&[
            ("X-Shopify-Hmac-Sha256", SHOPIFY_SIG),
            (
                "X-Shopify-Webhook-Id",
                "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043",
            ),
        ]);
        assert_eq!(
            verify(&Scheme::Shopify, None, SHOPIFY_SECRET, &h, SHOPIFY_BODY, 0),
            Ok(Verified {
                delivery_id: Some("b54557e4-bdd9-4b37-8a5f-bf7d70bcd043".to_owned())
            })
        );
    }

    #[test]
    fn shopify_refuses_forged_tampered_and_incomplete_requests() {
        let good = || headers(&[("X-Shopify-Hmac-Sha256", SHOPIFY_SIG)]);
        let refusal = |case, headers, expected| Refusal {
            case,
            secret: SHOPIFY_SECRET,
            headers,
            body: SHOPIFY_BODY,
            now: 0,
            expected,
        };
        assert_refusals(
            &Scheme::Shopify,
            None,
            vec![
                Refusal {
                    secret: "shpss_other_secret",
                    ..refusal("wrong secret", good(), SignatureError::Mismatch)
                },
                Refusal {
                    body: br#"{"id":820982911946154508,"email":"jon@example.com","total_price":"0.01"}"#,
                    ..refusal("tampered body", good(), SignatureError::Mismatch)
                },
                refusal(
                    "missing header",
                    headers(&[("X-Shopify-Webhook-Id", "b54557e4")]),
                    missing("X-Shopify-Hmac-Sha256"),
                ),
                refusal(
                    "hex instead of base64",
                    headers(&[(
                        "X-Shopify-Hmac-Sha256",
                        "e179bf1108e9b2bc9b30d48d9d8b5bcef85ce6c37636a1d99570efd3146b08ad",
                    )]),
                    SignatureError::Mismatch,
                ),
                refusal(
                    "not base64",
                    headers(&[("X-Shopify-Hmac-Sha256", "not base64!")]),
                    SignatureError::Malformed("`X-Shopify-Hmac-Sha256` must be base64".to_owned()),
                ),
            ],
        );
    }
}

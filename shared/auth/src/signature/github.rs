//! GitHub: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256(secret, body)>`,
//! with no timestamp; the delivery id is `X-GitHub-Delivery`.

use super::common::{check, malformed, optional, required, Algorithm, Encoding, Headers};
use super::common::{SignatureError, Verified};

const SIGNATURE: &str = "X-Hub-Signature-256";
const DELIVERY: &str = "X-GitHub-Delivery";

/// Checks a `github` request; the hex may be in either case.
pub(super) fn verify(
    secret: &str,
    headers: &dyn Headers,
    body: &[u8],
) -> Result<Verified, SignatureError> {
    let value = required(headers, SIGNATURE)?;
    let signature = value
        .strip_prefix("sha256=")
        .and_then(|hex| Encoding::Hex.decode(hex))
        .ok_or_else(|| malformed(format!("`{SIGNATURE}` must be `sha256=<hex>`")))?;
    check(secret.as_bytes(), Algorithm::Sha256, &[body], &[signature])?;
    Ok(Verified {
        delivery_id: optional(headers, DELIVERY),
    })
}

#[cfg(test)]
pub(super) mod tests {
    use super::super::testing::{assert_refusals, headers, missing, Refusal};
    use super::super::{verify, Scheme, SignatureError, Verified};

    // docs.github.com, "Validating webhook deliveries", testing the signature.
    const GH_SECRET: &str = "It's a Secret to Everybody";
    const GH_BODY: &[u8] = b"Hello, World!";
    pub(in crate::signature) const GH_SIG: &str =
        "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";

    #[test]
    fn github_accepts_its_documented_example_and_reports_the_delivery_id() {
        let h = headers(&[
            ("X-Hub-Signature-256", GH_SIG),
            ("X-GitHub-Delivery", "72d3162e-cc78-11e3-81ab-4c9367dc0958"),
        ]);
        assert_eq!(
            verify(&Scheme::Github, None, GH_SECRET, &h, GH_BODY, 0),
            Ok(Verified {
                delivery_id: Some("72d3162e-cc78-11e3-81ab-4c9367dc0958".to_owned())
            })
        );
        let upper = format!("sha256={}", GH_SIG[7..].to_uppercase());
        let h = headers(&[("x-hub-signature-256", &upper)]);
        assert_eq!(
            verify(&Scheme::Github, None, GH_SECRET, &h, GH_BODY, 0),
            Ok(Verified::default())
        );
    }

    #[test]
    fn github_refuses_forged_tampered_and_incomplete_requests() {
        let sig = |value: &str| headers(&[("X-Hub-Signature-256", value)]);
        let not_prefixed = &GH_SIG[7..];
        assert_refusals(
            &Scheme::Github,
            None,
            vec![
                Refusal {
                    case: "wrong secret",
                    secret: "It's a Secret to Nobody",
                    headers: sig(GH_SIG),
                    body: GH_BODY,
                    now: 0,
                    expected: SignatureError::Mismatch,
                },
                Refusal {
                    case: "tampered body",
                    secret: GH_SECRET,
                    headers: sig(GH_SIG),
                    body: b"Hello, World?",
                    now: 0,
                    expected: SignatureError::Mismatch,
                },
                Refusal {
                    case: "missing header",
                    secret: GH_SECRET,
                    headers: headers(&[("X-Hub-Signature", "sha1=00")]),
                    body: GH_BODY,
                    now: 0,
                    expected: missing("X-Hub-Signature-256"),
                },
                Refusal {
                    case: "no sha256= prefix",
                    secret: GH_SECRET,
                    headers: sig(not_prefixed),
                    body: GH_BODY,
                    now: 0,
                    expected: SignatureError::Malformed(
                        "`X-Hub-Signature-256` must be `sha256=<hex>`".to_owned(),
                    ),
                },
                Refusal {
                    case: "not hex",
                    secret: GH_SECRET,
                    headers: sig("sha256=zz"),
                    body: GH_BODY,
                    now: 0,
                    expected: SignatureError::Malformed(
                        "`X-Hub-Signature-256` must be `sha256=<hex>`".to_owned(),
                    ),
                },
                Refusal {
                    case: "truncated signature",
                    secret: GH_SECRET,
                    headers: sig(&GH_SIG[..GH_SIG.len() - 2]),
                    body: GH_BODY,
                    now: 0,
                    expected: SignatureError::Mismatch,
                },
            ],
        );
    }
}

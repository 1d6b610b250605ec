//! Standard Webhooks (<https://www.standardwebhooks.com>): the inbound
//! `standard` scheme, and the signing Hooklane puts on outbound deliveries.
//!
//! A request carries `webhook-id`, `webhook-timestamp` (Unix seconds) and
//! `webhook-signature`: space-separated `v1,<base64 HMAC-SHA256>` entries
//! over `{webhook-id}.{webhook-timestamp}.{body}`. Svix-powered senders sign
//! the same way under the names `svix-id`, `svix-timestamp` and
//! `svix-signature` (<https://docs.svix.com/receiving/verifying-payloads/how-manual>);
//! a request is read under whichever set of names it carries.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;

use super::common::{
    check, check_timestamp, decode_all, malformed, required, Algorithm, Encoding, Headers,
    SignatureError, Verified,
};
use crate::random_bytes;

const SECRET_PREFIX: &str = "whsec_";

/// The header names of one spelling of the scheme: id, timestamp, signature.
struct Names {
    id: &'static str,
    timestamp: &'static str,
    signature: &'static str,
}

/// Standard Webhooks' names.
const WEBHOOK: Names = Names {
    id: "webhook-id",
    timestamp: "webhook-timestamp",
    signature: "webhook-signature",
};

/// Svix's names for the same three headers.
const SVIX: Names = Names {
    id: "svix-id",
    timestamp: "svix-timestamp",
    signature: "svix-signature",
};

impl Names {
    /// The names a request uses: Svix's when it carries any `svix-*`
    /// header and no `webhook-*` one, else Standard Webhooks' (so a request
    /// with neither is told about the `webhook-*` names).
    fn of(headers: &dyn Headers) -> &'static Names {
        let carries = |n: &Names| {
            [n.id, n.timestamp, n.signature]
                .iter()
                .any(|name| headers.get(name).is_some())
        };
        if !carries(&WEBHOOK) && carries(&SVIX) {
            &SVIX
        } else {
            &WEBHOOK
        }
    }
}

/// The HMAC key for a Standard Webhooks secret: the base64-decoded part of
/// `whsec_<base64>`; any other secret (or a `whsec_` one whose rest is not
/// standard base64) is used as its raw UTF-8 bytes. Never fails; an empty
/// secret gives an empty key, which signs nothing that verifies.
pub fn standard_key(secret: &str) -> Vec<u8> {
    secret
        .strip_prefix(SECRET_PREFIX)
        .and_then(|encoded| STANDARD.decode(encoded).ok())
        .unwrap_or_else(|| secret.as_bytes().to_vec())
}

/// A Standard Webhooks signature for one attempt:
/// `v1,<base64 HMAC-SHA256(key, "{msg_id}.{timestamp}.{body}")>`.
///
/// `key` is the raw key (see [`standard_key`]); `timestamp` is the attempt's
/// time in Unix seconds, the value sent as `webhook-timestamp`. Never fails.
pub fn standard_sign(key: &[u8], msg_id: &str, timestamp: i64, body: &[u8]) -> String {
    let timestamp = timestamp.to_string();
    let mac = Algorithm::Sha256.mac(
        key,
        &[msg_id.as_bytes(), b".", timestamp.as_bytes(), b".", body],
    );
    format!("v1,{}", STANDARD.encode(mac))
}

/// A new endpoint secret: `whsec_` + standard base64 (with padding) of 24
/// bytes from the operating system's CSPRNG, 38 characters in all.
pub fn generate_endpoint_secret() -> String {
    format!("{SECRET_PREFIX}{}", STANDARD.encode(random_bytes::<24>()))
}

/// Checks a `standard` request under the `webhook-*` or the `svix-*`
/// names; the delivery id is its `webhook-id` (or `svix-id`).
pub(super) fn verify(
    secret: &str,
    headers: &dyn Headers,
    body: &[u8],
    now_unix: i64,
) -> Result<Verified, SignatureError> {
    let names = Names::of(headers);
    let id = required(headers, names.id)?;
    let timestamp = required(headers, names.timestamp)?;
    let signatures = required(headers, names.signature)?;
    check_timestamp(names.timestamp, timestamp, now_unix)?;
    let v1: Vec<&str> = signatures
        .split_whitespace()
        .filter_map(|entry| entry.split_once(','))
        .filter(|(version, _)| *version == "v1")
        .map(|(_, signature)| signature)
        .collect();
    if v1.is_empty() {
        return Err(malformed(format!(
            "`{}` holds no `v1,<base64>` signature",
            names.signature
        )));
    }
    check(
        &standard_key(secret),
        Algorithm::Sha256,
        &[id.as_bytes(), b".", timestamp.as_bytes(), b".", body],
        &decode_all(Encoding::Base64, v1),
    )?;
    Ok(Verified {
        delivery_id: Some(id.to_owned()),
    })
}

#[cfg(test)]
pub(super) mod tests {
    use super::super::testing::{assert_refusals, headers, missing, HeaderList, Refusal};
    use super::super::{verify, Scheme, SignatureError, Verified};
    use super::*;

    // The vector from the Standard Webhooks reference libraries' tests.
    pub(in crate::signature) const STD_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    pub(in crate::signature) const STD_ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    pub(in crate::signature) const STD_TS: i64 = 1614265330;
    pub(in crate::signature) const STD_BODY: &[u8] = br#"{"test": 2432232314}"#;
    pub(in crate::signature) const STD_SIG: &str =
        "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

    pub(in crate::signature) fn standard_headers(
        id: &str,
        timestamp: &str,
        signature: &str,
    ) -> HeaderList {
        headers(&[
            ("webhook-id", id),
            ("webhook-timestamp", timestamp),
            ("webhook-signature", signature),
        ])
    }

    #[test]
    fn standard_signing_reproduces_the_reference_vector() {
        assert_eq!(
            standard_sign(&standard_key(STD_SECRET), STD_ID, STD_TS, STD_BODY),
            STD_SIG
        );
    }

    #[test]
    fn standard_accepts_the_reference_vector_and_reports_the_webhook_id() {
        let h = standard_headers(STD_ID, &STD_TS.to_string(), STD_SIG);
        for now in [STD_TS, STD_TS - 300, STD_TS + 300] {
            assert_eq!(
                verify(&Scheme::Standard, None, STD_SECRET, &h, STD_BODY, now),
                Ok(Verified {
                    delivery_id: Some(STD_ID.to_owned())
                }),
                "now = {now}"
            );
        }
    }

    /// The reference vector under Svix's header names, as Svix's
    /// "Verifying webhooks manually" spells them.
    fn svix_headers(id: &str, timestamp: &str, signature: &str) -> HeaderList {
        headers(&[
            ("svix-id", id),
            ("svix-timestamp", timestamp),
            ("svix-signature", signature),
        ])
    }

    #[test]
    fn standard_accepts_either_spelling_of_the_headers_and_reports_its_id() {
        let ts = STD_TS.to_string();
        let cases: Vec<(&str, HeaderList)> = vec![
            ("webhook-*", standard_headers(STD_ID, &ts, STD_SIG)),
            ("svix-*", svix_headers(STD_ID, &ts, STD_SIG)),
            (
                "Svix-* as Svix's SDKs capitalise them",
                headers(&[
                    ("Svix-Id", STD_ID),
                    ("Svix-Timestamp", &ts),
                    ("Svix-Signature", STD_SIG),
                ]),
            ),
            (
                "svix-* with a rotated-out signature first",
                svix_headers(
                    STD_ID,
                    &ts,
                    &format!("v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc= {STD_SIG}"),
                ),
            ),
            (
                "both spellings: webhook-* is read",
                [
                    standard_headers(STD_ID, &ts, STD_SIG),
                    svix_headers("msg_other", "0", "v1,AAAA"),
                ]
                .concat(),
            ),
        ];
        for (what, h) in cases {
            assert_eq!(
                verify(&Scheme::Standard, None, STD_SECRET, &h, STD_BODY, STD_TS),
                Ok(Verified {
                    delivery_id: Some(STD_ID.to_owned())
                }),
                "{what}"
            );
        }
    }

    #[test]
    fn standard_refusals_under_svix_names_name_the_svix_headers() {
        let ts = STD_TS.to_string();
        let good = || svix_headers(STD_ID, &ts, STD_SIG);
        let without =
            |name: &str| -> HeaderList { good().into_iter().filter(|(n, _)| *n != name).collect() };
        let refusal = |case, headers, expected| Refusal {
            case,
            secret: STD_SECRET,
            headers,
            body: STD_BODY,
            now: STD_TS,
            expected,
        };
        assert_refusals(
            &Scheme::Standard,
            None,
            vec![
                refusal("missing svix-id", without("svix-id"), missing("svix-id")),
                refusal(
                    "missing svix-timestamp",
                    without("svix-timestamp"),
                    missing("svix-timestamp"),
                ),
                refusal(
                    "missing svix-signature",
                    without("svix-signature"),
                    missing("svix-signature"),
                ),
                refusal(
                    "svix-timestamp not a number",
                    svix_headers(STD_ID, "soon", STD_SIG),
                    SignatureError::Malformed(
                        "`svix-timestamp` must give a Unix time in whole seconds".to_owned(),
                    ),
                ),
                refusal(
                    "no v1 in svix-signature",
                    svix_headers(STD_ID, &ts, "v2,abc"),
                    SignatureError::Malformed(
                        "`svix-signature` holds no `v1,<base64>` signature".to_owned(),
                    ),
                ),
                refusal(
                    "svix-id changed",
                    svix_headers("msg_other", &ts, STD_SIG),
                    SignatureError::Mismatch,
                ),
                Refusal {
                    now: STD_TS + 301,
                    ..refusal(
                        "stale svix-timestamp",
                        good(),
                        SignatureError::StaleTimestamp,
                    )
                },
                refusal(
                    "svix-id with webhook-timestamp and webhook-signature",
                    headers(&[
                        ("svix-id", STD_ID),
                        ("webhook-timestamp", &ts),
                        ("webhook-signature", STD_SIG),
                    ]),
                    missing("webhook-id"),
                ),
                refusal("no headers at all", headers(&[]), missing("webhook-id")),
            ],
        );
    }

    #[test]
    fn standard_accepts_a_header_where_only_a_later_signature_matches() {
        // As in the reference libraries' multi-signature test: a wrong v1, an
        // unknown version carrying the right bytes, then the right v1.
        let several = format!(
            "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc= v1a,{} {STD_SIG}",
            &STD_SIG[3..]
        );
        for signatures in [
            format!("v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc= {STD_SIG}"),
            several,
            format!("v1,not-base64!! {STD_SIG}"),
        ] {
            let h = standard_headers(STD_ID, &STD_TS.to_string(), &signatures);
            assert!(
                verify(&Scheme::Standard, None, STD_SECRET, &h, STD_BODY, STD_TS).is_ok(),
                "{signatures}"
            );
        }
    }

    #[test]
    fn standard_refuses_stale_forged_tampered_and_incomplete_requests() {
        let ts = STD_TS.to_string();
        let good = || standard_headers(STD_ID, &STD_TS.to_string(), STD_SIG);
        let without =
            |name: &str| -> HeaderList { good().into_iter().filter(|(n, _)| *n != name).collect() };
        let right_bytes_wrong_version = format!("v1a,{}", &STD_SIG[3..]);
        assert_refusals(
            &Scheme::Standard,
            None,
            vec![
                Refusal {
                    case: "timestamp more than 5 minutes old",
                    secret: STD_SECRET,
                    headers: good(),
                    body: STD_BODY,
                    now: STD_TS + 301,
                    expected: SignatureError::StaleTimestamp,
                },
                Refusal {
                    case: "timestamp more than 5 minutes ahead",
                    secret: STD_SECRET,
                    headers: good(),
                    body: STD_BODY,
                    now: STD_TS - 301,
                    expected: SignatureError::StaleTimestamp,
                },
                Refusal {
                    case: "wrong secret",
                    secret: "whsec_dGhpcyBpcyBub3QgdGhlIHNlY3JldA==",
                    headers: good(),
                    body: STD_BODY,
                    now: STD_TS,
                    expected: SignatureError::Mismatch,
                },
                Refusal {
                    case: "tampered body",
                    secret: STD_SECRET,
                    headers: good(),
                    body: br#"{"test": 2432232315}"#,
                    now: STD_TS,
                    expected: SignatureError::Mismatch,
                },
                Refusal {
                    case: "different message id",
                    secret: STD_SECRET,
                    headers: standard_headers("msg_other", &ts, STD_SIG),
                    body: STD_BODY,
                    now: STD_TS,
                    expected: SignatureError::Mismatch,
                },
                Refusal {
                    case: "only a non-v1 entry carries the right bytes",
                    secret: STD_SECRET,
                    headers: standard_headers(STD_ID, &ts, &right_bytes_wrong_version),
                    body: STD_BODY,
                    now: STD_TS,
                    expected: SignatureError::Malformed(
                        "`webhook-signature` holds no `v1,<base64>` signature".to_owned(),
                    ),
                },
                Refusal {
                    case: "timestamp not a number",
                    secret: STD_SECRET,
                    headers: standard_headers(STD_ID, "yesterday", STD_SIG),
                    body: STD_BODY,
                    now: STD_TS,
                    expected: SignatureError::Malformed(
                        "`webhook-timestamp` must give a Unix time in whole seconds".to_owned(),
                    ),
                },
                Refusal {
                    case: "empty secret",
                    secret: "",
                    headers: good(),
                    body: STD_BODY,
                    now: STD_TS,
                    expected: SignatureError::Mismatch,
                },
                Refusal {
                    case: "missing webhook-id",
                    secret: STD_SECRET,
                    headers: without("webhook-id"),
                    body: STD_BODY,
                    now: STD_TS,
                    expected: missing("webhook-id"),
                },
                Refusal {
                    case: "missing webhook-timestamp",
                    secret: STD_SECRET,
                    headers: without("webhook-timestamp"),
                    body: STD_BODY,
                    now: STD_TS,
                    expected: missing("webhook-timestamp"),
                },
                Refusal {
                    case: "missing webhook-signature",
                    secret: STD_SECRET,
                    headers: without("webhook-signature"),
                    body: STD_BODY,
                    now: STD_TS,
                    expected: missing("webhook-signature"),
                },
                Refusal {
                    case: "blank webhook-signature",
                    secret: STD_SECRET,
                    headers: standard_headers(STD_ID, &ts, "  "),
                    body: STD_BODY,
                    now: STD_TS,
                    expected: missing("webhook-signature"),
                },
            ],
        );
    }

    #[test]
    fn standard_key_decodes_whsec_secrets_and_keeps_others_raw() {
        let cases: &[(&str, &[u8])] = &[
            ("whsec_aGVsbG8=", b"hello"),
            ("hello", b"hello"),
            ("whsec_not base64!", b"whsec_not base64!"),
            ("", b""),
        ];
        for &(secret, key) in cases {
            assert_eq!(standard_key(secret), key, "{secret:?}");
        }
    }

    #[test]
    fn generated_endpoint_secrets_are_whsec_and_24_random_bytes() {
        let secret = generate_endpoint_secret();
        let encoded = secret.strip_prefix("whsec_").expect("prefix");
        assert_eq!(STANDARD.decode(encoded).expect("base64").len(), 24);
        assert_eq!(standard_key(&secret).len(), 24);
        assert_ne!(secret, generate_endpoint_secret());
    }

    #[test]
    fn a_delivery_signed_with_a_generated_secret_verifies_as_standard() {
        let secret = generate_endpoint_secret();
        let body = br#"{"id":"msg_1","event":"server.created"}"#;
        let signature = standard_sign(&standard_key(&secret), "msg_1", 1_700_000_000, body);
        let h = standard_headers("msg_1", "1700000000", &signature);
        assert!(verify(&Scheme::Standard, None, &secret, &h, body, 1_700_000_000).is_ok());
    }
}

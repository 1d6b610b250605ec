//! Standard Webhooks (<https://www.standardwebhooks.com>): the inbound
//! `standard` scheme, and the signing Hooklane puts on outbound deliveries.
//!
//! A request carries `webhook-id`, `webhook-timestamp` (Unix seconds) and
//! `webhook-signature`: space-separated `v1,<base64 HMAC-SHA256>` entries
//! over `{webhook-id}.{webhook-timestamp}.{body}`.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;

use super::{
    check, check_timestamp, decode_all, malformed, required, Algorithm, Encoding, Headers,
    SignatureError, Verified,
};
use crate::random_bytes;

const SECRET_PREFIX: &str = "whsec_";

const WEBHOOK_ID: &str = "webhook-id";
const WEBHOOK_TIMESTAMP: &str = "webhook-timestamp";
const WEBHOOK_SIGNATURE: &str = "webhook-signature";

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

/// Checks a `standard` request; the delivery id is its `webhook-id`.
pub(super) fn verify(
    secret: &str,
    headers: &dyn Headers,
    body: &[u8],
    now_unix: i64,
) -> Result<Verified, SignatureError> {
    let id = required(headers, WEBHOOK_ID)?;
    let timestamp = required(headers, WEBHOOK_TIMESTAMP)?;
    let signatures = required(headers, WEBHOOK_SIGNATURE)?;
    check_timestamp(WEBHOOK_TIMESTAMP, timestamp, now_unix)?;
    let v1: Vec<&str> = signatures
        .split_whitespace()
        .filter_map(|entry| entry.split_once(','))
        .filter(|(version, _)| *version == "v1")
        .map(|(_, signature)| signature)
        .collect();
    if v1.is_empty() {
        return Err(malformed(format!(
            "`{WEBHOOK_SIGNATURE}` holds no `v1,<base64>` signature"
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

//! Slack: `X-Slack-Signature: v0=<hex HMAC-SHA256(secret, "v0:{ts}:{body}")>`
//! with `X-Slack-Request-Timestamp: <unix seconds>`. Slack sends no
//! delivery id.

use super::common::{check, check_timestamp, malformed, required, Algorithm, Encoding, Headers};
use super::common::{SignatureError, Verified};

const TIMESTAMP: &str = "X-Slack-Request-Timestamp";
const SIGNATURE: &str = "X-Slack-Signature";

/// Checks a `slack` request.
pub(super) fn verify(
    secret: &str,
    headers: &dyn Headers,
    body: &[u8],
    now_unix: i64,
) -> Result<Verified, SignatureError> {
    let timestamp = required(headers, TIMESTAMP)?;
    let value = required(headers, SIGNATURE)?;
    let signature = value
        .strip_prefix("v0=")
        .and_then(|hex| Encoding::Hex.decode(hex))
        .ok_or_else(|| malformed(format!("`{SIGNATURE}` must be `v0=<hex>`")))?;
    check_timestamp(TIMESTAMP, timestamp, now_unix)?;
    check(
        secret.as_bytes(),
        Algorithm::Sha256,
        &[b"v0:", timestamp.as_bytes(), b":", body],
        &[signature],
    )?;
    Ok(Verified::default())
}

#[cfg(test)]
pub(super) mod tests {
    use super::super::testing::{assert_refusals, headers, missing, HeaderList, Refusal};
    use super::super::{verify, Scheme, SignatureError, Verified};

    // The worked example in Slack's "Verifying requests from Slack".
    const SLACK_SECRET: &str = "8f742231b10e8888abcd99yyyzzz85a5";
    pub(in crate::signature) const SLACK_TS: i64 = 1531420618;
    const SLACK_BODY: &[u8] = b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c";
    pub(in crate::signature) const SLACK_SIG: &str =
        "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503";

    pub(in crate::signature) fn slack_headers(timestamp: &str, signature: &str) -> HeaderList {
        headers(&[
            ("X-Slack-Request-Timestamp", timestamp),
            ("X-Slack-Signature", signature),
        ])
    }

    #[test]
    fn slack_accepts_its_documented_example() {
        let h = slack_headers("1531420618", SLACK_SIG);
        assert_eq!(
            verify(
                &Scheme::Slack,
                None,
                SLACK_SECRET,
                &h,
                SLACK_BODY,
                SLACK_TS + 60
            ),
            Ok(Verified::default())
        );
    }

    #[test]
    fn slack_refuses_stale_forged_tampered_and_incomplete_requests() {
        let good = || slack_headers("1531420618", SLACK_SIG);
        let refusal = |case, headers, expected| Refusal {
            case,
            secret: SLACK_SECRET,
            headers,
            body: SLACK_BODY,
            now: SLACK_TS,
            expected,
        };
        assert_refusals(
            &Scheme::Slack,
            None,
            vec![
                Refusal {
                    now: SLACK_TS + 301,
                    ..refusal(
                        "timestamp more than 5 minutes old",
                        good(),
                        SignatureError::StaleTimestamp,
                    )
                },
                Refusal {
                    secret: "8f742231b10e8888abcd99yyyzzz85a6",
                    ..refusal("wrong secret", good(), SignatureError::Mismatch)
                },
                Refusal {
                    body: b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&command=%2Fevil",
                    ..refusal("tampered body", good(), SignatureError::Mismatch)
                },
                refusal(
                    "signed timestamp replaced",
                    slack_headers("1531420619", SLACK_SIG),
                    SignatureError::Mismatch,
                ),
                refusal(
                    "missing timestamp header",
                    headers(&[("X-Slack-Signature", SLACK_SIG)]),
                    missing("X-Slack-Request-Timestamp"),
                ),
                refusal(
                    "missing signature header",
                    headers(&[("X-Slack-Request-Timestamp", "1531420618")]),
                    missing("X-Slack-Signature"),
                ),
                refusal(
                    "no v0= prefix",
                    slack_headers("1531420618", &SLACK_SIG[3..]),
                    SignatureError::Malformed("`X-Slack-Signature` must be `v0=<hex>`".to_owned()),
                ),
            ],
        );
    }
}

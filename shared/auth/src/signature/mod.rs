//! Provider signature schemes for `hmac` hooks, and the Standard Webhooks
//! signing Hooklane uses on outbound deliveries.
//!
//! [`verify`] checks one inbound request against a hook's secret. It never
//! echoes the secret or a presented signature in an error, and compares every
//! MAC in constant time.
//!
//! One file per scheme, each with its test vectors: `standard` (Standard
//! Webhooks, also the outbound signing), `github`, `stripe`,
//! `slack`, `shopify`, `generic`, `twilio` (over the URL too:
//! [`verify_twilio`]); and the bot platforms' own checks: `discord`
//! ([`verify_discord`], Ed25519) and `telegram` ([`verify_telegram`]). `common` holds what they share:
//! header access ([`Headers`]), the timestamp tolerance, the MAC and its
//! constant-time check, and the errors; this file picks the scheme.

pub use hooklane_domain::Scheme;

use common::malformed;

mod common;
mod discord;
mod generic;
mod github;
mod shopify;
mod sign;
mod slack;
mod standard;
mod stripe;
mod telegram;
#[cfg(test)]
mod testing;
mod twilio;

pub use common::{
    Algorithm, Encoding, FnHeaders, Headers, SignatureError, Verified, TOLERANCE_SECONDS,
};
pub use discord::{discord_public_key, verify_discord};
pub use generic::{Generic, GenericError, MAX_PREFIX_BYTES};
pub use sign::{sign, DiscordSigner};
pub use standard::{generate_endpoint_secret, standard_key, standard_sign};
pub use telegram::{is_telegram_secret_token, verify_telegram, TelegramTokenError};
pub use twilio::{twilio_sign, verify_twilio};

/// Checks `body` and `headers` against `secret` under `scheme`.
///
/// `generic` holds the settings for [`Scheme::Generic`] and is ignored by the
/// other schemes. Timestamped schemes (standard, stripe, slack) refuse a
/// timestamp (Unix seconds) more than [`TOLERANCE_SECONDS`] away from
/// `now_unix`. An empty secret matches nothing.
///
/// # Errors
/// [`SignatureError::MissingHeader`] when a needed header is absent or blank,
/// [`SignatureError::Malformed`] when a header is not in the scheme's format
/// (or `generic` settings are missing), [`SignatureError::StaleTimestamp`],
/// and [`SignatureError::Mismatch`] when no signature matches.
pub fn verify(
    scheme: &Scheme,
    generic: Option<&Generic>,
    secret: &str,
    headers: &dyn Headers,
    body: &[u8],
    now_unix: i64,
) -> Result<Verified, SignatureError> {
    match scheme {
        Scheme::Standard => standard::verify(secret, headers, body, now_unix),
        Scheme::Github => github::verify(secret, headers, body),
        Scheme::Stripe => stripe::verify(secret, headers, body, now_unix),
        Scheme::Slack => slack::verify(secret, headers, body, now_unix),
        Scheme::Shopify => shopify::verify(secret, headers, body),
        Scheme::Generic => generic::verify(generic, secret, headers, body),
        // The URL is part of what Twilio signs: checked by `verify_twilio`.
        Scheme::Twilio => Err(malformed(
            "a twilio signature covers the hook's public URL; check it with verify_twilio"
                .to_owned(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::generic::tests::generic;
    use super::github::tests::GH_SIG;
    use super::slack::tests::{slack_headers, SLACK_SIG, SLACK_TS};
    use super::standard::tests::{standard_headers, STD_ID, STD_SECRET, STD_SIG, STD_TS};
    use super::stripe::tests::{stripe_headers, STRIPE_V1};
    use super::testing::{headers, HeaderList};
    use super::*;

    // --- Headers ---------------------------------------------------------

    #[test]
    fn header_lists_match_names_case_insensitively_and_return_the_first_value() {
        let list = headers(&[
            ("Content-Type", "text/plain"),
            ("x-hub-signature-256", "first"),
            ("X-Hub-Signature-256", "second"),
        ]);
        assert_eq!(Headers::get(&list, "X-HUB-SIGNATURE-256"), Some("first"));
        assert_eq!(Headers::get(&list, "content-type"), Some("text/plain"));
        assert_eq!(Headers::get(&list, "webhook-id"), None);

        let owned: Vec<(String, String)> = vec![("A".to_owned(), "1".to_owned())];
        assert_eq!(Headers::get(owned.as_slice(), "a"), Some("1"));
        assert_eq!(Headers::get(&[("B", "2")], "b"), Some("2"));
    }

    #[test]
    fn a_lookup_function_can_serve_as_headers() {
        let map: HashMap<String, String> = [(
            "x-hub-signature-256".to_owned(),
            "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17".to_owned(),
        )]
        .into();
        let lookup =
            FnHeaders::new(|name: &str| map.get(&name.to_ascii_lowercase()).map(String::as_str));
        let verified = verify(
            &Scheme::Github,
            None,
            "It's a Secret to Everybody",
            &lookup,
            b"Hello, World!",
            0,
        );
        assert_eq!(verified, Ok(Verified::default()));
    }

    // --- Errors and settings ----------------------------------------------------

    #[test]
    fn error_messages_never_contain_the_secret_or_the_presented_signature() {
        let forged = "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=";
        let requests: Vec<(Scheme, HeaderList, i64)> = vec![
            (
                Scheme::Standard,
                standard_headers(STD_ID, &STD_TS.to_string(), forged),
                STD_TS,
            ),
            (
                Scheme::Standard,
                standard_headers(STD_ID, &STD_TS.to_string(), STD_SIG),
                0,
            ),
            (
                Scheme::Github,
                headers(&[("X-Hub-Signature-256", &GH_SIG[7..])]),
                0,
            ),
            (
                Scheme::Stripe,
                stripe_headers(&format!("v1={STRIPE_V1}")),
                0,
            ),
            (
                Scheme::Slack,
                slack_headers("1531420618", &SLACK_SIG[3..]),
                SLACK_TS,
            ),
            (
                Scheme::Shopify,
                headers(&[("X-Shopify-Hmac-Sha256", "%%%")]),
                0,
            ),
            (Scheme::Generic, headers(&[("X-Signature", "zz-top")]), 0),
        ];
        let config = generic(Algorithm::Sha256, Encoding::Hex, None);
        for (scheme, h, now) in requests {
            let error = verify(&scheme, Some(&config), STD_SECRET, &h, b"{}", now)
                .expect_err("the request is refused");
            let message = error.to_string();
            assert!(!message.contains(STD_SECRET), "{message}");
            assert!(!message.contains(&STD_SECRET[6..]), "{message}");
            for (_, value) in &h {
                assert!(
                    !message.contains(value.as_str()),
                    "{message} contains {value}"
                );
            }
        }
    }

    #[test]
    fn schemes_use_snake_case() {
        let schemes: Vec<Scheme> =
            serde_json::from_str(r#"["standard","github","stripe","slack","shopify","generic"]"#)
                .expect("schemes");
        assert_eq!(
            schemes,
            [
                Scheme::Standard,
                Scheme::Github,
                Scheme::Stripe,
                Scheme::Slack,
                Scheme::Shopify,
                Scheme::Generic
            ]
        );
        assert_eq!(
            serde_json::to_string(&Scheme::Github).expect("json"),
            r#""github""#
        );
    }
}

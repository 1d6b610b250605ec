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
//! ([`verify_discord`], Ed25519) and `telegram` ([`verify_telegram`]). This file holds what they share: the
//! [`Scheme`] enum, header access ([`Headers`]), the timestamp tolerance,
//! the MAC check, and the errors.

use std::fmt;
use std::marker::PhantomData;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::digest::KeyInit;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::{Sha256, Sha512};

pub use hooklane_domain::Scheme;

use crate::constant_time_eq;

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

pub use discord::{discord_public_key, verify_discord};
pub use generic::{Generic, GenericError, MAX_PREFIX_BYTES};
pub use sign::sign;
pub use standard::{generate_endpoint_secret, standard_key, standard_sign};
pub use telegram::{is_telegram_secret_token, verify_telegram};
pub use twilio::{twilio_sign, verify_twilio};

/// How far a signed timestamp may be from the server's clock, either way,
/// in seconds (5 minutes).
pub const TOLERANCE_SECONDS: i64 = 300;

/// Read access to a request's headers.
pub trait Headers {
    /// The first value of the header `name`, matched case-insensitively;
    /// `None` when the request has no such header.
    fn get(&self, name: &str) -> Option<&str>;
}

impl<K: AsRef<str>, V: AsRef<str>> Headers for [(K, V)] {
    fn get(&self, name: &str) -> Option<&str> {
        self.iter()
            .find(|(key, _)| key.as_ref().eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_ref())
    }
}

impl<K: AsRef<str>, V: AsRef<str>, const N: usize> Headers for [(K, V); N] {
    fn get(&self, name: &str) -> Option<&str> {
        Headers::get(self.as_slice(), name)
    }
}

impl<K: AsRef<str>, V: AsRef<str>> Headers for Vec<(K, V)> {
    fn get(&self, name: &str) -> Option<&str> {
        Headers::get(self.as_slice(), name)
    }
}

/// [`Headers`] backed by a lookup function, e.g. over an `http::HeaderMap`:
/// `FnHeaders::new(|name| map.get(name).and_then(|v| v.to_str().ok()))`.
///
/// The function must match names case-insensitively itself (a `HeaderMap`
/// does).
pub struct FnHeaders<'h, F> {
    lookup: F,
    values: PhantomData<&'h str>,
}

impl<'h, F> FnHeaders<'h, F>
where
    F: Fn(&str) -> Option<&'h str>,
{
    /// Wraps `lookup`, which answers a header name with its first value
    /// (or `None`).
    pub fn new(lookup: F) -> Self {
        Self {
            lookup,
            values: PhantomData,
        }
    }
}

impl<'h, F> Headers for FnHeaders<'h, F>
where
    F: Fn(&str) -> Option<&'h str>,
{
    fn get(&self, name: &str) -> Option<&str> {
        (self.lookup)(name)
    }
}

/// The hash behind a [`Generic`] HMAC. JSON: `"sha256"` (the default) or
/// `"sha512"`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Algorithm {
    /// HMAC-SHA256: a 32-byte MAC.
    #[default]
    Sha256,
    /// HMAC-SHA512: a 64-byte MAC.
    Sha512,
}

/// How a [`Generic`] signature is spelled in its header. JSON: `"hex"` (the
/// default) or `"base64"`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Encoding {
    /// Hexadecimal, in either case.
    #[default]
    Hex,
    /// Standard base64 with padding.
    Base64,
}

/// A request whose signature checked out.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Verified {
    /// The provider's own id for this delivery, for duplicate suppression:
    /// `webhook-id` or `svix-id` (standard), `X-GitHub-Delivery` (github), the event's
    /// top-level `"id"` (stripe), `X-Shopify-Webhook-Id` (shopify); `None`
    /// for slack and generic, or when the provider did not send one.
    pub delivery_id: Option<String>,
}

/// Why a request's signature was refused. The messages name headers and
/// formats, never the secret or the signature the caller sent.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SignatureError {
    /// A header the scheme needs is absent or blank; holds the header's name.
    #[error(
        "the `{0}` header is missing; the sender must sign each request with this hook's secret"
    )]
    MissingHeader(String),
    /// A header is present but not in the scheme's format, or the hook's
    /// generic settings name no header; holds the reason.
    #[error("the signature is malformed: {0}")]
    Malformed(String),
    /// The signed timestamp is more than [`TOLERANCE_SECONDS`] away from now.
    #[error("the signature timestamp is more than 5 minutes away from the server's clock; send a freshly signed request and check the sender's clock")]
    StaleTimestamp,
    /// No presented signature equals the MAC under the hook's secret (or the
    /// secret is empty).
    #[error("the signature does not match; check that the sender signs with this hook's secret and that the body reaches Hooklane unchanged")]
    Mismatch,
}

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

impl Algorithm {
    fn mac(self, key: &[u8], message: &[&[u8]]) -> Vec<u8> {
        match self {
            Algorithm::Sha256 => mac::<Hmac<Sha256>>(key, message),
            Algorithm::Sha512 => mac::<Hmac<Sha512>>(key, message),
        }
    }
}

impl Encoding {
    fn decode(self, value: &str) -> Option<Vec<u8>> {
        match self {
            Encoding::Hex => hex::decode(value).ok(),
            Encoding::Base64 => STANDARD.decode(value).ok(),
        }
    }
}

impl fmt::Display for Encoding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Encoding::Hex => "hex",
            Encoding::Base64 => "base64",
        })
    }
}

fn mac<M: Mac + KeyInit>(key: &[u8], message: &[&[u8]]) -> Vec<u8> {
    let mut mac = <M as KeyInit>::new_from_slice(key).expect("HMAC accepts a key of any length");
    for part in message {
        mac.update(part);
    }
    mac.finalize().into_bytes().to_vec()
}

/// `Ok` when any candidate equals the MAC of `message`. Every candidate is
/// compared, in constant time. An empty key never matches.
fn check(
    key: &[u8],
    algorithm: Algorithm,
    message: &[&[u8]],
    candidates: &[Vec<u8>],
) -> Result<(), SignatureError> {
    if key.is_empty() {
        return Err(SignatureError::Mismatch);
    }
    let expected = algorithm.mac(key, message);
    let matched = candidates.iter().fold(false, |matched, candidate| {
        matched | constant_time_eq(&expected, candidate)
    });
    if matched {
        Ok(())
    } else {
        Err(SignatureError::Mismatch)
    }
}

/// The candidates that decode; the rest cannot match and are skipped.
fn decode_all<'a>(encoding: Encoding, values: impl IntoIterator<Item = &'a str>) -> Vec<Vec<u8>> {
    values
        .into_iter()
        .filter_map(|value| encoding.decode(value))
        .collect()
}

/// The trimmed value of `name`, or [`SignatureError::MissingHeader`] when it
/// is absent or blank.
fn required<'h>(headers: &'h dyn Headers, name: &str) -> Result<&'h str, SignatureError> {
    headers
        .get(name)
        .map(str::trim)
        .filter(|value| !value.is_empty())
        .ok_or_else(|| SignatureError::MissingHeader(name.to_owned()))
}

/// The trimmed value of `name`, or `None` when it is absent or blank.
fn optional(headers: &dyn Headers, name: &str) -> Option<String> {
    headers
        .get(name)
        .map(str::trim)
        .filter(|value| !value.is_empty())
        .map(str::to_owned)
}

/// `value` (header `header`) as Unix seconds within [`TOLERANCE_SECONDS`] of
/// `now_unix`.
fn check_timestamp(header: &str, value: &str, now_unix: i64) -> Result<(), SignatureError> {
    let timestamp: i64 = value
        .parse()
        .map_err(|_| malformed(format!("`{header}` must give a Unix time in whole seconds")))?;
    if timestamp.abs_diff(now_unix) > TOLERANCE_SECONDS.unsigned_abs() {
        return Err(SignatureError::StaleTimestamp);
    }
    Ok(())
}

fn malformed(reason: String) -> SignatureError {
    SignatureError::Malformed(reason)
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

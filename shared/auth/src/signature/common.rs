//! What every scheme shares: header reading ([`Headers`], `required`,
//! `optional`), the timestamp tolerance (`check_timestamp`), the MAC and
//! its constant-time comparison with every candidate signature (`check`,
//! `any_matches`), the hashes and encodings of a MAC, and the errors.

use std::fmt;
use std::marker::PhantomData;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::digest::KeyInit;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::{Sha256, Sha512};

use crate::constant_time_eq;

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
    /// The request has a body the signature does not cover: a `twilio`
    /// call whose body is not a form and whose URL carries no
    /// `bodySHA256`.
    #[error("the body is not covered by the signature: Twilio signs a form body's parameters, or another body through its SHA-256 in the URL's `bodySHA256` query parameter, and this call has neither; send a form, or call a URL with bodySHA256")]
    UnsignedBody,
}

impl Algorithm {
    pub(super) fn mac(self, key: &[u8], message: &[&[u8]]) -> Vec<u8> {
        match self {
            Algorithm::Sha256 => mac::<Hmac<Sha256>>(key, message),
            Algorithm::Sha512 => mac::<Hmac<Sha512>>(key, message),
        }
    }
}

impl Encoding {
    pub(super) fn decode(self, value: &str) -> Option<Vec<u8>> {
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

pub(super) fn mac<M: Mac + KeyInit>(key: &[u8], message: &[&[u8]]) -> Vec<u8> {
    let mut mac = <M as KeyInit>::new_from_slice(key).expect("HMAC accepts a key of any length");
    for part in message {
        mac.update(part);
    }
    mac.finalize().into_bytes().to_vec()
}

/// `Ok` when any candidate equals the MAC of `message`. Every candidate is
/// compared, in constant time. An empty key never matches.
pub(super) fn check(
    key: &[u8],
    algorithm: Algorithm,
    message: &[&[u8]],
    candidates: &[Vec<u8>],
) -> Result<(), SignatureError> {
    if key.is_empty() {
        return Err(SignatureError::Mismatch);
    }
    any_matches(&algorithm.mac(key, message), candidates)
}

/// `Ok` when any of `candidates` equals `expected`; every candidate is
/// compared, in constant time, so the time taken says nothing about which
/// (or how much of one) matched.
///
/// # Errors
/// [`SignatureError::Mismatch`] when none does.
pub(super) fn any_matches(expected: &[u8], candidates: &[Vec<u8>]) -> Result<(), SignatureError> {
    let matched = candidates.iter().fold(false, |matched, candidate| {
        matched | constant_time_eq(expected, candidate)
    });
    if matched {
        Ok(())
    } else {
        Err(SignatureError::Mismatch)
    }
}

/// The candidates that decode; the rest cannot match and are skipped.
pub(super) fn decode_all<'a>(
    encoding: Encoding,
    values: impl IntoIterator<Item = &'a str>,
) -> Vec<Vec<u8>> {
    values
        .into_iter()
        .filter_map(|value| encoding.decode(value))
        .collect()
}

/// The trimmed value of `name`, or [`SignatureError::MissingHeader`] when it
/// is absent or blank.
pub(super) fn required<'h>(
    headers: &'h dyn Headers,
    name: &str,
) -> Result<&'h str, SignatureError> {
    headers
        .get(name)
        .map(str::trim)
        .filter(|value| !value.is_empty())
        .ok_or_else(|| SignatureError::MissingHeader(name.to_owned()))
}

/// The trimmed value of `name`, or `None` when it is absent or blank.
pub(super) fn optional(headers: &dyn Headers, name: &str) -> Option<String> {
    headers
        .get(name)
        .map(str::trim)
        .filter(|value| !value.is_empty())
        .map(str::to_owned)
}

/// `value` (header `header`) as Unix seconds within [`TOLERANCE_SECONDS`] of
/// `now_unix`.
pub(super) fn check_timestamp(
    header: &str,
    value: &str,
    now_unix: i64,
) -> Result<(), SignatureError> {
    let timestamp: i64 = value
        .parse()
        .map_err(|_| malformed(format!("`{header}` must give a Unix time in whole seconds")))?;
    if timestamp.abs_diff(now_unix) > TOLERANCE_SECONDS.unsigned_abs() {
        return Err(SignatureError::StaleTimestamp);
    }
    Ok(())
}

pub(super) fn malformed(reason: String) -> SignatureError {
    SignatureError::Malformed(reason)
}

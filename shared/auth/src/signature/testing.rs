//! What the schemes' tests share: header lists, and a table of refused
//! requests with the error each must get.

use super::{verify, Generic, Scheme, SignatureError};

pub(super) type HeaderList = Vec<(&'static str, String)>;

pub(super) fn headers(pairs: &[(&'static str, &str)]) -> HeaderList {
    pairs
        .iter()
        .map(|&(name, value)| (name, value.to_owned()))
        .collect()
}

/// One refused request: what it sends and the error it must get.
pub(super) struct Refusal {
    pub case: &'static str,
    pub secret: &'static str,
    pub headers: HeaderList,
    pub body: &'static [u8],
    pub now: i64,
    pub expected: SignatureError,
}

pub(super) fn assert_refusals(scheme: &Scheme, generic: Option<&Generic>, refusals: Vec<Refusal>) {
    for r in refusals {
        let result = verify(scheme, generic, r.secret, &r.headers, r.body, r.now);
        assert_eq!(result, Err(r.expected), "{scheme:?}: {}", r.case);
    }
}

pub(super) fn missing(name: &str) -> SignatureError {
    SignatureError::MissingHeader(name.to_owned())
}

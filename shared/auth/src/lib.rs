//! Inbound authentication for Hooklane.
//!
//! Everything here is pure and synchronous: no I/O, no clock (callers pass
//! `now_unix`), no logging. Every comparison of a secret, hash or signature
//! goes through [`constant_time_eq`].
//!
//! - [`api_key`]: bot API keys (`hlk_…`), stored only as a SHA-256 hash.
//! - [`signature`]: provider signature schemes for `hmac` hooks, and the
//!   Standard Webhooks signing used on outbound deliveries.
//! - [`signed_url`]: `?ctx=…&sig=…` URLs minted for one user or context.
//! - [`portal`]: consumer portal tokens, scoped to one bot and expiring.

use rand::rngs::OsRng;
use rand::RngCore;
use subtle::ConstantTimeEq;

pub mod api_key;
pub mod portal;
pub mod signature;
pub mod signed_url;

pub use signature::{
    Algorithm, Encoding, FnHeaders, Generic, GenericError, Headers, Scheme, SignatureError,
    Verified,
};
pub use signed_url::SignedUrlError;

/// Compares two byte strings in time that depends only on their lengths.
///
/// Slices of different lengths are unequal; the length itself is not secret
/// for anything this crate compares (hashes and MACs have fixed sizes).
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.ct_eq(b).into()
}

/// `N` bytes from the operating system's CSPRNG.
pub(crate) fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    OsRng.fill_bytes(&mut bytes);
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constant_time_eq_is_true_only_for_identical_byte_strings() {
        let cases: &[(&[u8], &[u8], bool)] = &[
            (b"", b"", true),
            (b"abc", b"abc", true),
            (b"abc", b"abd", false),
            (b"abc", b"ab", false),
            (b"", b"a", false),
        ];
        for &(a, b, expected) in cases {
            assert_eq!(constant_time_eq(a, b), expected, "{a:?} vs {b:?}");
        }
    }

    #[test]
    fn random_bytes_are_not_repeated() {
        assert_ne!(random_bytes::<32>(), random_bytes::<32>());
    }
}

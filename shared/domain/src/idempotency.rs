//! The id under which a repeated inbound call or publish is recognised.

use std::fmt;

/// The longest idempotency key tracked, in bytes (docs/inbound.md: "Ids
/// longer than 256 characters are not tracked").
pub const MAX_IDEMPOTENCY_KEY_LEN: usize = 256;

/// An idempotency key failed its rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidIdempotencyKey {
    /// The key is the empty string.
    #[error("the idempotency id is empty")]
    Empty,
    /// The key is over [`MAX_IDEMPOTENCY_KEY_LEN`] bytes.
    #[error("the idempotency id is longer than 256 characters")]
    TooLong,
}

/// An idempotency key: 1 to 256 bytes of any text, as the caller sent it
/// (docs/inbound.md, "Duplicate calls"): a verified signature's delivery id,
/// the `Idempotency-Key` header, a `webhook-id`/`svix-id`/
/// `X-GitHub-Delivery` header, a Slack event's `event_id`, or a publish's
/// `id`. Claimed per bot and scope for 24 hours by the store.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    /// Checks `s` as it is (no trimming).
    ///
    /// # Errors
    /// [`InvalidIdempotencyKey::Empty`] for `""`,
    /// [`InvalidIdempotencyKey::TooLong`] past 256 bytes.
    pub fn parse(s: &str) -> Result<Self, InvalidIdempotencyKey> {
        if s.is_empty() {
            Err(InvalidIdempotencyKey::Empty)
        } else if s.len() > MAX_IDEMPOTENCY_KEY_LEN {
            Err(InvalidIdempotencyKey::TooLong)
        } else {
            Ok(Self(s.to_owned()))
        }
    }

    /// The key's text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for IdempotencyKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_one_to_256_bytes() {
        assert_eq!(
            IdempotencyKey::parse("order-42").unwrap().as_str(),
            "order-42"
        );
        assert_eq!(IdempotencyKey::parse(""), Err(InvalidIdempotencyKey::Empty));
        assert!(IdempotencyKey::parse(&"k".repeat(256)).is_ok());
        assert_eq!(
            IdempotencyKey::parse(&"k".repeat(257))
                .unwrap_err()
                .to_string(),
            "the idempotency id is longer than 256 characters"
        );
    }
}

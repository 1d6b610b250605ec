//! Prefixed, time-sortable identifiers.
//!
//! Every id is `<prefix>_<ULID>`: the ULID's first part is the creation time,
//! so ids sort by creation time, which the stores use for newest-first lists.
//! A bot may also carry a caller-chosen id (`[A-Za-z0-9_-]{1,64}`), since bot
//! platforms already have their own.

use std::fmt;

use serde::{Deserialize, Serialize};

/// An id failed to parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{value}` is not a valid {kind} id: {reason}")]
pub struct InvalidId {
    /// Which id: `bot`, `hook`, `endpoint`, `message`, `event` or `delivery`.
    pub kind: &'static str,
    /// The text given, cut to 80 characters.
    pub value: String,
    /// The rule it breaks.
    pub reason: &'static str,
}

/// A new ULID, strictly greater than every earlier one from this process,
/// so ids made in the same millisecond still sort by creation order.
fn next_ulid() -> ulid::Ulid {
    static GENERATOR: std::sync::Mutex<Option<ulid::Generator>> = std::sync::Mutex::new(None);
    let mut guard = GENERATOR.lock().unwrap_or_else(|e| e.into_inner());
    let generator = guard.get_or_insert_with(ulid::Generator::new);
    generator.generate().unwrap_or_else(|_| ulid::Ulid::new())
}

fn is_id_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-'
}

/// True when `s` is 1..=64 characters of `[A-Za-z0-9_-]`.
pub fn is_plain_id(s: &str) -> bool {
    !s.is_empty() && s.len() <= 64 && s.chars().all(is_id_char)
}

macro_rules! prefixed_id {
    ($(#[$doc:meta])* $name:ident, $prefix:literal, $kind:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// The prefix before `_`.
            pub const PREFIX: &'static str = $prefix;

            /// A new id whose random part sorts by the current time.
            pub fn generate() -> Self {
                Self(format!("{}_{}", $prefix, next_ulid()))
            }

            /// Checks `s`: the prefix, `_`, then 1 to 60 of `[A-Za-z0-9_-]`.
            ///
            /// # Errors
            /// [`InvalidId`] naming the rule broken.
            pub fn parse(s: &str) -> Result<Self, InvalidId> {
                let rest = s.strip_prefix(concat!($prefix, "_")).ok_or_else(|| InvalidId {
                    kind: $kind,
                    value: s.chars().take(80).collect(),
                    reason: concat!("it must start with `", $prefix, "_`"),
                })?;
                if rest.is_empty() || rest.len() > 60 || !rest.chars().all(is_id_char) {
                    return Err(InvalidId {
                        kind: $kind,
                        value: s.chars().take(80).collect(),
                        reason: "it has characters other than letters, digits, `_` and `-`",
                    });
                }
                Ok(Self(s.to_owned()))
            }

            /// The id's text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl TryFrom<String> for $name {
            type Error = InvalidId;
            fn try_from(s: String) -> Result<Self, Self::Error> {
                Self::parse(&s)
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }
    };
}

prefixed_id!(
    /// An inbound hook: `hk_…`.
    HookId, "hk", "hook"
);
prefixed_id!(
    /// An outbound endpoint: `ep_…`.
    EndpointId, "ep", "endpoint"
);
prefixed_id!(
    /// A published (outbound) event: `msg_…`.
    MessageId, "msg", "message"
);
prefixed_id!(
    /// An inbound call of a hook: `evt_…` (the contract's prefix for
    /// inbound calls; a hook run's id is its call's id).
    CallId, "evt", "event"
);
prefixed_id!(
    /// One delivery attempt of a message to an endpoint: `dlv_…`.
    DeliveryId, "dlv", "delivery"
);

/// A bot: `bot_…` when generated, or any `[A-Za-z0-9_-]{1,64}` chosen by the caller.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct BotId(String);

impl BotId {
    /// A new `bot_…` id whose random part sorts by the current time.
    pub fn generate() -> Self {
        Self(format!("bot_{}", next_ulid()))
    }

    /// Checks `s`: 1 to 64 of `[A-Za-z0-9_-]`.
    ///
    /// # Errors
    /// [`InvalidId`] naming the rule.
    pub fn parse(s: &str) -> Result<Self, InvalidId> {
        if is_plain_id(s) {
            Ok(Self(s.to_owned()))
        } else {
            Err(InvalidId {
                kind: "bot",
                value: s.chars().take(80).collect(),
                reason: "it must be 1 to 64 letters, digits, `_` or `-`",
            })
        }
    }

    /// The id's text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for BotId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for BotId {
    type Error = InvalidId;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<BotId> for String {
    fn from(id: BotId) -> String {
        id.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_ids_carry_their_prefix_and_parse_back() {
        let id = HookId::generate();
        assert!(id.as_str().starts_with("hk_"));
        assert_eq!(HookId::parse(id.as_str()), Ok(id));
    }

    #[test]
    fn ids_with_the_wrong_prefix_are_refused() {
        assert!(HookId::parse("ep_01H").is_err());
        assert!(EndpointId::parse("ep_").is_err());
        assert!(CallId::parse("evt_a/b").is_err());
    }

    #[test]
    fn generated_ids_sort_by_creation_time() {
        let a = MessageId::generate();
        std::thread::sleep(std::time::Duration::from_millis(2));
        let b = MessageId::generate();
        assert!(a < b);
    }

    #[test]
    fn caller_chosen_bot_ids_follow_the_contract_pattern() {
        assert!(BotId::parse("1234567890").is_ok());
        assert!(BotId::parse("my-bot_1").is_ok());
        assert!(BotId::parse("").is_err());
        assert!(BotId::parse("a b").is_err());
        assert!(BotId::parse(&"x".repeat(65)).is_err());
    }
}

//! Event type names and the filters endpoints subscribe with.

use std::fmt;

use serde::{Deserialize, Serialize};

/// An event type or filter failed its rule. The message names the text and
/// the rule, as the admin API and the ingress answer it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidEvent(String);

/// An event type: 1 to 128 of `[A-Za-z0-9_.:-]`, such as `order.paid`.
/// JSON: the plain string (validated when read).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct EventType(String);

impl EventType {
    /// Checks `s` against the rule.
    ///
    /// # Errors
    /// [`InvalidEvent`] with "`…` is not an event name: use 1 to 128
    /// letters, digits, `_`, `.`, `:` or `-`" (the text cut at 130 characters).
    pub fn parse(s: &str) -> Result<Self, InvalidEvent> {
        if !s.is_empty()
            && s.len() <= 128
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || "_.:-".contains(c))
        {
            Ok(Self(s.to_owned()))
        } else {
            Err(InvalidEvent(format!(
                "`{}` is not an event name: use 1 to 128 letters, digits, `_`, `.`, `:` or `-`",
                s.chars().take(130).collect::<String>()
            )))
        }
    }

    /// The name as sent and stored.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What an endpoint subscribes to: an exact event type, `category.*` (every
/// type that starts with `category.` and has more after it) or `*` (every
/// type). JSON: the plain string (validated when read).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct EventFilter(String);

impl EventFilter {
    /// Checks `s`: `*`, or an event type optionally followed by `.*`.
    ///
    /// # Errors
    /// [`InvalidEvent`] naming the event type part (`order` of `order.**`
    /// names `order.*`) as [`EventType::parse`] does.
    pub fn parse(s: &str) -> Result<Self, InvalidEvent> {
        if s != "*" {
            EventType::parse(s.strip_suffix(".*").unwrap_or(s))?;
        }
        Ok(Self(s.to_owned()))
    }

    /// The filter as sent and stored.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// True when this filter takes events of type `event`.
    pub fn matches(&self, event: &EventType) -> bool {
        let (filter, name) = (self.0.as_str(), event.as_str());
        if filter == "*" {
            return true;
        }
        match filter.strip_suffix(".*") {
            Some(prefix) => {
                name.len() > prefix.len() + 1
                    && name.starts_with(prefix)
                    && name.as_bytes()[prefix.len()] == b'.'
            }
            None => filter == name,
        }
    }
}

macro_rules! string_conversions {
    ($name:ident) => {
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl TryFrom<String> for $name {
            type Error = InvalidEvent;
            fn try_from(s: String) -> Result<Self, Self::Error> {
                Self::parse(&s)
            }
        }

        impl From<$name> for String {
            fn from(v: $name) -> String {
                v.0
            }
        }

        /// Compares with the plain text (`"order.paid"`).
        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        /// Compares with the plain text (`"order.paid"`).
        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }
    };
}

string_conversions!(EventType);
string_conversions!(EventFilter);

#[cfg(test)]
mod tests {
    use super::*;

    fn matches(filter: &str, name: &str) -> bool {
        EventFilter::parse(filter)
            .unwrap()
            .matches(&EventType::parse(name).unwrap())
    }

    #[test]
    fn filters_match_exact_names_and_categories() {
        assert!(matches("order.paid", "order.paid"));
        assert!(!matches("order.paid", "order.paid.late"));
        assert!(matches("order.*", "order.paid"));
        assert!(matches("order.*", "order.paid.late"));
        assert!(!matches("order.*", "orders.paid"));
        assert!(!matches("order.*", "order"));
        assert!(matches("*", "anything"));
    }

    #[test]
    fn names_follow_their_patterns() {
        assert!(EventType::parse("server.created").is_ok());
        assert!(EventType::parse("").is_err());
        assert!(EventType::parse("a b").is_err());
        assert!(EventFilter::parse("order.*").is_ok());
        assert!(EventFilter::parse("order.**").is_err());
        assert_eq!(
            EventType::parse("a b").unwrap_err().to_string(),
            "`a b` is not an event name: use 1 to 128 letters, digits, `_`, `.`, `:` or `-`"
        );
    }

    #[test]
    fn json_is_the_plain_string_and_is_checked_when_read() {
        let t = EventType::parse("order.paid").unwrap();
        assert_eq!(serde_json::to_string(&t).unwrap(), "\"order.paid\"");
        assert!(serde_json::from_str::<EventType>("\"a b\"").is_err());
        assert!(serde_json::from_str::<EventFilter>("\"order.*\"").is_ok());
    }
}

//! A credential held in a record: a signing secret, a hook's shared
//! secret, a signed-URL key, a chat webhook URL or bot token.

use std::fmt;

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use subtle::ConstantTimeEq;

/// A credential whose `Debug` prints `[redacted]`, so it cannot reach a log
/// line by accident; [`Secret::expose_secret`] is the one way to its text.
/// JSON (stored and wire form): the plain string, exactly as without the
/// wrapper. Equality compares the bytes in constant time. The memory is
/// zeroed on drop (`secrecy`).
#[derive(Clone, Default)]
pub struct Secret(SecretString);

impl Secret {
    /// Wraps `text` as a secret.
    pub fn new(text: impl Into<String>) -> Self {
        Self(SecretString::from(text.into()))
    }

    /// The secret's text, for the few places that sign, compare or send it.
    pub fn expose_secret(&self) -> &str {
        self.0.expose_secret()
    }

    /// True when the secret is the empty string.
    pub fn is_empty(&self) -> bool {
        self.expose_secret().is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl From<String> for Secret {
    fn from(text: String) -> Self {
        Self::new(text)
    }
}

impl From<&str> for Secret {
    fn from(text: &str) -> Self {
        Self::new(text)
    }
}

impl PartialEq for Secret {
    fn eq(&self, other: &Self) -> bool {
        self == other.expose_secret()
    }
}

impl Eq for Secret {}

/// Compares with a plain text in constant time (for equal lengths).
impl PartialEq<str> for Secret {
    fn eq(&self, other: &str) -> bool {
        self.expose_secret()
            .as_bytes()
            .ct_eq(other.as_bytes())
            .into()
    }
}

impl PartialEq<&str> for Secret {
    fn eq(&self, other: &&str) -> bool {
        self == *other
    }
}

impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.expose_secret())
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Self::new)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_prints_redacted_and_json_is_the_plain_text() {
        let s = Secret::new("whsec_abc");
        assert_eq!(format!("{s:?}"), "[redacted]");
        assert_eq!(serde_json::to_string(&s).unwrap(), "\"whsec_abc\"");
        let back: Secret = serde_json::from_str("\"whsec_abc\"").unwrap();
        assert_eq!(back, s);
        assert!(back == "whsec_abc");
        assert!(back != "whsec_abd");
        assert_eq!(back.expose_secret(), "whsec_abc");
    }
}

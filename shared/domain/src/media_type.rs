//! The media type a hook's own answer is sent as (`response.content_type`):
//! `text/xml` for Twilio's TwiML, `text/html` for a page, `application/json`…

use serde::{Deserialize, Serialize};

/// The longest media type a hook answers with, in bytes.
pub const MAX_MEDIA_TYPE_BYTES: usize = 200;

/// Why a text is not a media type a hook can answer with. The message
/// names the text (its first 100 characters) and the rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidMediaType(String);

/// A media type as a `Content-Type` header carries it: `type/subtype`,
/// optionally followed by parameters (`text/xml; charset=utf-8`), in
/// printable ASCII, without wildcards. JSON: the plain string (validated
/// when read), kept as it was written apart from surrounding spaces.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct MediaType(String);

impl MediaType {
    /// Checks `s` (surrounding spaces left out) with the `mime` crate's
    /// parser (RFC 2045 tokens and parameters).
    ///
    /// # Errors
    /// [`InvalidMediaType`] for an empty text, one over
    /// [`MAX_MEDIA_TYPE_BYTES`] or with characters a header cannot carry, a
    /// text that is not `type/subtype[; name=value]…`, and a wildcard type
    /// or subtype (`*/*`, `text/*`).
    pub fn parse(s: &str) -> Result<Self, InvalidMediaType> {
        let s = s.trim();
        let shown: String = s.chars().take(100).collect();
        let refuse = |why: &str| InvalidMediaType(format!("`{shown}` is not a media type: {why}"));
        if s.is_empty() {
            return Err(InvalidMediaType(
                "is empty; a media type is type/subtype, such as text/xml".to_owned(),
            ));
        }
        if s.len() > MAX_MEDIA_TYPE_BYTES {
            return Err(refuse(&format!(
                "it is {} bytes long; at most {MAX_MEDIA_TYPE_BYTES}",
                s.len()
            )));
        }
        if !s
            .bytes()
            .all(|b| b == b' ' || b == b'\t' || b.is_ascii_graphic())
        {
            return Err(refuse(
                "a Content-Type header holds printable ASCII characters only",
            ));
        }
        let form = "write type/subtype, optionally with parameters, such as text/xml, application/json or text/plain; charset=utf-8";
        let parsed: mime::Mime = s.parse().map_err(|_| refuse(form))?;
        if parsed.type_().as_str().is_empty() || parsed.subtype().as_str().is_empty() {
            return Err(refuse(form));
        }
        if parsed.type_() == mime::STAR || parsed.subtype() == mime::STAR {
            return Err(refuse(
                "a wildcard names no type to answer with; name one, such as text/xml",
            ));
        }
        Ok(Self(s.to_owned()))
    }

    /// The media type as written and sent in `Content-Type`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `type/subtype` in lower case, without parameters.
    fn essence(&self) -> String {
        self.0
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase()
    }

    /// Whether the body is markup whose text a substituted value could
    /// break out of: XML (`text/xml`, `application/xml`, any `…+xml` such
    /// as `application/xhtml+xml`) or HTML (`text/html`).
    pub fn is_markup(&self) -> bool {
        let essence = self.essence();
        matches!(
            essence.as_str(),
            "text/xml" | "application/xml" | "text/html"
        ) || essence.ends_with("+xml")
    }

    /// Whether the body is JSON: `application/json` or any `…+json`.
    pub fn is_json(&self) -> bool {
        let essence = self.essence();
        essence == "application/json" || essence.ends_with("+json")
    }
}

impl TryFrom<String> for MediaType {
    type Error = InvalidMediaType;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<MediaType> for String {
    fn from(m: MediaType) -> Self {
        m.0
    }
}

impl std::fmt::Display for MediaType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_types_are_type_and_subtype_with_optional_parameters() {
        for ok in [
            "text/xml",
            "application/json",
            "text/plain; charset=utf-8",
            "application/vnd.api+json",
            "  text/html  ",
            "text/xml;charset=\"UTF-8\"",
        ] {
            assert!(MediaType::parse(ok).is_ok(), "{ok}");
        }
        assert_eq!(MediaType::parse(" text/xml ").unwrap().as_str(), "text/xml");
        for bad in [
            "",
            "text",
            "text/",
            "/xml",
            "xml",
            "*/*",
            "text/*",
            "text/xml; charset",
            "text xml",
            "text/xml\r\nx-evil: 1",
            "téxt/xml",
        ] {
            assert!(MediaType::parse(bad).is_err(), "{bad:?} is taken");
        }
        assert!(MediaType::parse(&format!("text/{}", "x".repeat(200))).is_err());
    }

    #[test]
    fn xml_and_html_are_markup_and_json_types_are_json() {
        let m = |s: &str| MediaType::parse(s).unwrap();
        for markup in [
            "text/xml",
            "Text/XML; charset=utf-8",
            "application/xml",
            "application/xhtml+xml",
            "application/rss+xml",
            "text/html",
        ] {
            assert!(m(markup).is_markup(), "{markup}");
            assert!(!m(markup).is_json(), "{markup}");
        }
        for json in ["application/json", "application/problem+json"] {
            assert!(m(json).is_json(), "{json}");
            assert!(!m(json).is_markup(), "{json}");
        }
        for neither in ["text/plain", "text/csv", "application/octet-stream"] {
            assert!(
                !m(neither).is_markup() && !m(neither).is_json(),
                "{neither}"
            );
        }
    }

    #[test]
    fn a_media_type_reads_back_from_its_json_string_and_a_bad_one_does_not() {
        let m: MediaType = serde_json::from_str("\"text/xml\"").unwrap();
        assert_eq!(serde_json::to_string(&m).unwrap(), "\"text/xml\"");
        assert!(serde_json::from_str::<MediaType>("\"nope\"").is_err());
    }
}

//! `?limit=&cursor=` and the `{"data": [...], "next": …}` answer of lists.
//!
//! A store's cursor may hold characters a query string cannot carry as
//! they are (SQLite's is a sort key such as `HOOK#hk_…`), so the API hands
//! out its base64url form: `next` can be pasted into `?cursor=` unchanged.
//!
//! [`ListQuery`] is its own extractor, so a bad `limit` answers the
//! contract's 400 `invalid_limit` with our text, never axum's.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hooklane_engine::platforms::cut;
use hooklane_store::{Page, Paged};
use hooklane_web::{ApiError, ErrorCode};
use serde::Serialize;
use serde_json::{json, Value};

/// The most items one page holds; a larger `limit` is lowered to it.
pub const MAX_LIMIT: usize = 100;
/// The page size when `limit` is left out.
pub const DEFAULT_LIMIT: usize = 50;

/// The `?limit=&cursor=` of a list route. Other parameters are ignored; of
/// one given twice, the last counts.
#[derive(Debug, Default)]
pub struct ListQuery {
    /// Items per page: [`DEFAULT_LIMIT`] when left out or 0, at most [`MAX_LIMIT`].
    pub limit: Option<usize>,
    /// The `next` of an earlier page (base64url of the store's cursor).
    pub cursor: Option<String>,
}

impl<S: Send + Sync> FromRequestParts<S> for ListQuery {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Self::parse(parts.uri.query().unwrap_or_default())
    }
}

impl ListQuery {
    /// The list parameters of a query string (percent-decoded); an empty
    /// `limit=` or `cursor=` is as if left out.
    ///
    /// # Errors
    /// 400 `invalid_limit` for a `limit` that is not a whole number.
    pub fn parse(query: &str) -> Result<Self, ApiError> {
        let (mut limit, mut cursor) = (None, None);
        for (name, value) in form_urlencoded::parse(query.as_bytes()) {
            match &*name {
                "limit" => limit = Some(value),
                "cursor" => cursor = Some(value.into_owned()),
                _ => {}
            }
        }
        Ok(ListQuery {
            limit: match limit.filter(|l| !l.is_empty()) {
                Some(l) => Some(parse_limit(&l)?),
                None => None,
            },
            cursor,
        })
    }

    /// The page asked for. A cursor that is not one this API handed out is
    /// passed to the store as it is.
    pub fn page(&self) -> Page {
        let cursor = self
            .cursor
            .as_deref()
            .filter(|c| !c.is_empty())
            .map(|c| decode_cursor(c).unwrap_or_else(|| c.to_owned()));
        Page {
            limit: match self.limit {
                None | Some(0) => DEFAULT_LIMIT,
                Some(n) => n.min(MAX_LIMIT),
            },
            cursor,
        }
    }

    /// The page asked for; 400 `invalid_cursor` for a cursor this API did
    /// not hand out.
    pub fn checked_page(&self) -> Result<Page, ApiError> {
        if let Some(c) = self.cursor.as_deref().filter(|c| !c.is_empty()) {
            if decode_cursor(c).is_none() {
                return Err(ApiError::bad_request(
                    ErrorCode::InvalidCursor,
                    "`cursor` must be the `next` of an earlier page, as it was answered",
                ));
            }
        }
        Ok(self.page())
    }
}

/// A `limit` of decimal digits (not empty); one too large for a number is lowered to
/// [`MAX_LIMIT`] like any other over it.
fn parse_limit(value: &str) -> Result<usize, ApiError> {
    if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ApiError::bad_request(
            ErrorCode::InvalidLimit,
            format!(
                "`limit` is `{}`; it must be a whole number from 1 to {MAX_LIMIT} \
                 (0 or left out is {DEFAULT_LIMIT}, more is lowered to {MAX_LIMIT})",
                cut(value, 40).0
            ),
        ));
    }
    Ok(value.parse().unwrap_or(MAX_LIMIT))
}

fn decode_cursor(c: &str) -> Option<String> {
    URL_SAFE_NO_PAD
        .decode(c)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
}

fn encode_cursor(c: &str) -> String {
    URL_SAFE_NO_PAD.encode(c)
}

/// `{"data": [view(item), …], "next": cursor or null}` for one page; `next`
/// is the store's cursor in base64url, ready for `?cursor=`.
pub fn answer<T, V: Serialize>(paged: Paged<T>, view: impl Fn(T) -> V) -> Value {
    let data: Vec<V> = paged.items.into_iter().map(view).collect();
    json!({"data": data, "next": paged.next.as_deref().map(encode_cursor)})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_travel_in_a_query_string_and_come_back_as_the_store_gave_them() {
        let paged = Paged {
            items: vec![1],
            next: Some("HOOK#hk_01ABC".to_owned()),
        };
        let next = answer(paged, |i| i)["next"].as_str().unwrap().to_owned();
        assert!(next
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
        let q = ListQuery {
            limit: Some(1000),
            cursor: Some(next),
        };
        let page = q.checked_page().unwrap();
        assert_eq!(page.cursor.as_deref(), Some("HOOK#hk_01ABC"));
        assert_eq!(page.limit, MAX_LIMIT);
        let bad = ListQuery {
            limit: None,
            cursor: Some("not a cursor!".into()),
        };
        assert_eq!(bad.checked_page().unwrap_err().code, "invalid_cursor");
    }

    #[test]
    fn a_limit_is_a_whole_number_and_anything_else_is_refused_with_our_text() {
        for (query, limit) in [
            ("limit=7", Some(7)),
            ("limit=0", Some(0)),
            ("limit=", None),
            ("", None),
            ("limit=99999999999999999999999", Some(MAX_LIMIT)),
            ("limit=abc&limit=3", Some(3)),
            ("other=x", None),
        ] {
            assert_eq!(
                ListQuery::parse(query).map(|q| q.limit).ok(),
                Some(limit),
                "{query}"
            );
        }
        for query in [
            "limit=abc",
            "limit=-1",
            "limit=1.5",
            "limit=%2B3",
            "limit=3&limit=x",
        ] {
            let e = ListQuery::parse(query).unwrap_err();
            assert_eq!(e.code, "invalid_limit", "{query}");
            assert!(
                e.message.contains("must be a whole number from 1 to 100"),
                "{query}: {}",
                e.message
            );
        }
        let q = ListQuery::parse("cursor=SE9PSw&limit=2").unwrap();
        assert_eq!(q.cursor.as_deref(), Some("SE9PSw"));
        assert_eq!(q.checked_page().unwrap().limit, 2);
    }
}

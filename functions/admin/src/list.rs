//! `?limit=&cursor=` and the `{"data": [...], "next": …}` answer of lists.
//!
//! A store's cursor may hold characters a query string cannot carry as
//! they are (SQLite's is a sort key such as `HOOK#hk_…`), so the API hands
//! out its base64url form: `next` can be pasted into `?cursor=` unchanged.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hooklane_store::{Page, Paged};
use hooklane_web::{ApiError, ErrorCode};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// The most items one page holds; a larger `limit` is lowered to it.
pub const MAX_LIMIT: usize = 100;
/// The page size when `limit` is left out.
pub const DEFAULT_LIMIT: usize = 50;

/// The `?limit=&cursor=` of a list route.
#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    /// Items per page: [`DEFAULT_LIMIT`] when left out or 0, at most [`MAX_LIMIT`].
    #[serde(default)]
    pub limit: Option<usize>,
    /// The `next` of an earlier page (base64url of the store's cursor).
    #[serde(default)]
    pub cursor: Option<String>,
}

impl ListQuery {
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
}

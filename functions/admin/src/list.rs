//! `?limit=&cursor=` and the `{"data": [...], "next": …}` answer of lists.

use hooklane_store::{Page, Paged};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    pub limit: Option<usize>,
    #[serde(default)]
    pub cursor: Option<String>,
}

impl ListQuery {
    pub fn page(&self) -> Page {
        Page {
            limit: self.limit.unwrap_or(50),
            cursor: self.cursor.clone().filter(|c| !c.is_empty()),
        }
    }
}

pub fn answer<T, V: Serialize>(paged: Paged<T>, view: impl Fn(T) -> V) -> Value {
    let data: Vec<V> = paged.items.into_iter().map(view).collect();
    json!({"data": data, "next": paged.next})
}

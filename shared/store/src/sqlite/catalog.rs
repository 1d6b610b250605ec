//! The installation-wide reads and writes of the embedded adapter: the
//! list of every bot, and settings stored once.

use hooklane_domain::Bot;
use rusqlite::{params, OptionalExtension};

use super::handle::Sqlite;
use super::records::{from_json, into_page, prefix_bounds};
use crate::keys::{self, BOT_SK, SETTING_SK};
use crate::ports::{Page, Paged, StoreError};

impl Sqlite {
    /// One page of bots by id descending; the cursor is the last bot's id.
    pub(super) async fn bots_page(&self, page: &Page) -> Result<Paged<Bot>, StoreError> {
        let (lo, mut hi) = prefix_bounds(&keys::bot_pk(""));
        if let Some(cursor) = page.cursor.as_deref().filter(|c| !c.is_empty()) {
            let after = keys::bot_pk(cursor);
            if after < hi {
                hi = after;
            }
        }
        let limit = page.size();
        let rows: Vec<(String, String)> = self
            .db
            .read(move |c| {
                let mut stmt = c.prepare_cached(
                    "SELECT pk, data FROM records WHERE sk = ?1 AND pk >= ?2 AND pk < ?3
                     ORDER BY pk DESC LIMIT ?4",
                )?;
                let rows = stmt
                    .query_map(params![BOT_SK, lo, hi, limit as i64 + 1], |r| {
                        Ok((r.get(0)?, r.get(1)?))
                    })?
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(rows)
            })
            .await?;
        into_page(rows, limit, |pk| keys::bot_of_pk(pk).to_owned())
    }

    /// Inserts `value` under `name` unless a value is there; answers the
    /// stored one (in one transaction, so concurrent calls agree).
    pub(super) async fn setting_once(&self, name: &str, value: &str) -> Result<String, StoreError> {
        let pk = keys::setting_pk(name);
        let value = serde_json::Value::String(value.to_owned()).to_string();
        let stored: String = self
            .db
            .write(move |c| {
                c.execute(
                    "INSERT OR IGNORE INTO records (pk, sk, data) VALUES (?1, ?2, ?3)",
                    params![pk, SETTING_SK, value],
                )?;
                Ok(c.query_row(
                    "SELECT data FROM records WHERE pk = ?1 AND sk = ?2",
                    params![pk, SETTING_SK],
                    |r| r.get::<_, String>(0),
                )
                .optional()?
                .unwrap_or_default())
            })
            .await?;
        from_json(&stored)
    }
}

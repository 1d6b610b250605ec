//! Reads and writes of rows of the `records` table, shared by the `Store`
//! methods: get, insert, replace, upsert, newest-first page, delete.

use anyhow::Context as _;
use rusqlite::{params, OptionalExtension};
use serde::de::DeserializeOwned;
use serde::Serialize;
use time::OffsetDateTime;

use super::handle::Sqlite;
use super::schema::{now_ms, unix_ms};
use crate::ports::{Page, Paged, StoreError};

pub(super) fn to_json<T: Serialize>(v: &T) -> Result<String, StoreError> {
    serde_json::to_string(v)
        .context("encoding a record")
        .map_err(StoreError::Unexpected)
}

pub(super) fn from_json<T: DeserializeOwned>(s: &str) -> Result<T, StoreError> {
    serde_json::from_str(s)
        .context("decoding a stored record")
        .map_err(StoreError::Unexpected)
}

/// Bounds of every key starting with `prefix`: `[prefix, prefix + U+10FFFF)`.
pub(super) fn prefix_bounds(prefix: &str) -> (String, String) {
    (prefix.to_owned(), format!("{prefix}\u{10FFFF}"))
}

/// The page made of `rows` (key, JSON data), read with `limit + 1` so a
/// row past `limit` shows there is more: the first `limit` rows decoded,
/// and then `cursor(key)` of the last one as the next cursor.
pub(super) fn into_page<T: DeserializeOwned>(
    rows: Vec<(String, String)>,
    limit: usize,
    cursor: impl Fn(&str) -> String,
) -> Result<Paged<T>, StoreError> {
    let more = rows.len() > limit;
    let rows = &rows[..rows.len().min(limit)];
    let next = match rows.last() {
        Some((key, _)) if more => Some(cursor(key)),
        _ => None,
    };
    let items = rows
        .iter()
        .map(|(_, data)| from_json(data))
        .collect::<Result<Vec<T>, _>>()?;
    Ok(Paged { items, next })
}

impl Sqlite {
    pub(super) async fn get_raw(
        &self,
        pk: String,
        sk: String,
    ) -> Result<Option<String>, StoreError> {
        Ok(self
            .db
            .read(move |c| {
                Ok(c.query_row(
                    "SELECT data FROM records WHERE pk = ?1 AND sk = ?2
                     AND (expires_at IS NULL OR expires_at > ?3)",
                    params![pk, sk, now_ms()],
                    |r| r.get::<_, String>(0),
                )
                .optional()?)
            })
            .await?)
    }

    pub(super) async fn get<T: DeserializeOwned>(
        &self,
        pk: String,
        sk: String,
    ) -> Result<Option<T>, StoreError> {
        self.get_raw(pk, sk)
            .await?
            .map(|s| from_json(&s))
            .transpose()
    }

    /// Inserts; `Conflict` when the key exists.
    pub(super) async fn insert(
        &self,
        pk: String,
        sk: String,
        data: String,
    ) -> Result<(), StoreError> {
        let inserted = self
            .db
            .write(move |c| {
                Ok(c.prepare_cached(
                    "INSERT OR IGNORE INTO records (pk, sk, data) VALUES (?1, ?2, ?3)",
                )?
                .execute(params![pk, sk, data])?)
            })
            .await?;
        if inserted == 0 {
            Err(StoreError::Conflict)
        } else {
            Ok(())
        }
    }

    /// Replaces an existing record; `NotFound` when absent.
    pub(super) async fn replace(
        &self,
        pk: String,
        sk: String,
        data: String,
    ) -> Result<(), StoreError> {
        let changed = self
            .db
            .write(move |c| {
                Ok(
                    c.prepare_cached("UPDATE records SET data = ?3 WHERE pk = ?1 AND sk = ?2")?
                        .execute(params![pk, sk, data])?,
                )
            })
            .await?;
        if changed == 0 {
            Err(StoreError::NotFound)
        } else {
            Ok(())
        }
    }

    pub(super) async fn upsert(
        &self,
        pk: String,
        sk: String,
        data: String,
        expires_at: Option<OffsetDateTime>,
    ) -> Result<(), StoreError> {
        let expires = expires_at.map(unix_ms);
        self.db.write(move |c| {
            c.prepare_cached(
                "INSERT INTO records (pk, sk, data, expires_at) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (pk, sk) DO UPDATE SET data = excluded.data, expires_at = excluded.expires_at",
            )?
            .execute(params![pk, sk, data, expires])?;
            Ok(())
        })
        .await?;
        Ok(())
    }

    /// Newest-first page of the records in `pk` whose sort key starts with `prefix`.
    pub(super) async fn list<T: DeserializeOwned>(
        &self,
        pk: String,
        prefix: &str,
        page: &Page,
    ) -> Result<Paged<T>, StoreError> {
        let (lo, mut hi) = prefix_bounds(prefix);
        if let Some(cursor) = &page.cursor {
            if cursor.as_str() < hi.as_str() {
                hi = cursor.clone();
            }
        }
        let limit = page.size();
        let rows: Vec<(String, String)> = self
            .db
            .read(move |c| {
                let mut stmt = c.prepare_cached(
                    "SELECT sk, data FROM records WHERE pk = ?1 AND sk >= ?2 AND sk < ?3
                     AND (expires_at IS NULL OR expires_at > ?4)
                     ORDER BY sk DESC LIMIT ?5",
                )?;
                let rows = stmt
                    .query_map(params![pk, lo, hi, now_ms(), limit as i64 + 1], |r| {
                        Ok((r.get(0)?, r.get(1)?))
                    })?
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(rows)
            })
            .await?;
        into_page(rows, limit, str::to_owned)
    }

    /// Deletes one record; `NotFound` when absent.
    pub(super) async fn delete_one(&self, pk: String, sk: String) -> Result<(), StoreError> {
        let n = self
            .db
            .write(move |c| {
                Ok(c.execute(
                    "DELETE FROM records WHERE pk = ?1 AND sk = ?2",
                    params![pk, sk],
                )?)
            })
            .await?;
        if n == 0 {
            Err(StoreError::NotFound)
        } else {
            Ok(())
        }
    }
}

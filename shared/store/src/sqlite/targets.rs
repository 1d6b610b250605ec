//! Outbound targets on the embedded adapter: one record per bot and target
//! (`keys::send_target_pk`, sort key `CTR`) whose `version` is the count of
//! its latest window and whose `data` is `{"window": n, "paused_until_ms":
//! t}` (the pause left out until there is one). Each call reads and writes
//! it in one write transaction, so concurrent counts never lose one. A
//! record past its `expires_at` is taken as absent.

use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::handle::Sqlite;
use super::records::{from_json, to_json};
use super::schema::{now_ms, unix_ms};
use crate::keys::{self, COUNTER_SK};
use crate::ports::{SendCount, SendTarget, StoreError};

/// The `data` of a target's record.
#[derive(Debug, Default, Serialize, Deserialize)]
struct TargetState {
    /// The window `version` counts; `None` before the first count.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    window: Option<i64>,
    /// The latest pause, Unix milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    paused_until_ms: Option<i64>,
}

/// The target's state, count and expiry as stored; the default (nothing
/// counted, no pause) when absent or expired.
fn load(c: &Connection, pk: &str) -> anyhow::Result<(TargetState, u64, i64)> {
    let row: Option<(String, i64, Option<i64>)> = c
        .query_row(
            "SELECT data, version, expires_at FROM records WHERE pk = ?1 AND sk = ?2",
            params![pk, COUNTER_SK],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    match row {
        Some((data, count, expires)) if expires.is_none_or(|e| e > now_ms()) => Ok((
            from_json(&data)?,
            u64::try_from(count).unwrap_or(0),
            expires.unwrap_or(i64::MAX),
        )),
        _ => Ok((TargetState::default(), 0, i64::MIN)),
    }
}

fn store(
    c: &Connection,
    pk: &str,
    state: &TargetState,
    count: u64,
    expires: i64,
) -> anyhow::Result<()> {
    c.execute(
        "INSERT INTO records (pk, sk, data, version, expires_at) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (pk, sk) DO UPDATE SET data = excluded.data, version = excluded.version,
             expires_at = excluded.expires_at",
        params![
            pk,
            COUNTER_SK,
            to_json(state)?,
            i64::try_from(count).unwrap_or(i64::MAX),
            expires
        ],
    )?;
    Ok(())
}

fn time_of(ms: i64) -> Option<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).ok()
}

impl Sqlite {
    /// [`Store::count_send`](crate::Store::count_send).
    pub(super) async fn count_target_send(
        &self,
        target: &SendTarget<'_>,
        window: i64,
        expires_at: OffsetDateTime,
    ) -> Result<SendCount, StoreError> {
        let pk = keys::send_target_pk(target);
        let expires = unix_ms(expires_at);
        Ok(self
            .db
            .write(move |c| {
                let (mut state, count, stored_expires) = load(c, &pk)?;
                let count = match state.window {
                    // The stored window, or a later one than ours: count there.
                    Some(stored) if stored >= window => count + 1,
                    _ => {
                        state.window = Some(window);
                        1
                    }
                };
                store(c, &pk, &state, count, expires.max(stored_expires))?;
                Ok(SendCount {
                    count,
                    paused_until: state.paused_until_ms.and_then(time_of),
                })
            })
            .await?)
    }

    /// [`Store::pause_sends`](crate::Store::pause_sends).
    pub(super) async fn pause_target(
        &self,
        target: &SendTarget<'_>,
        until: OffsetDateTime,
        expires_at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let pk = keys::send_target_pk(target);
        let (until, expires) = (unix_ms(until), unix_ms(expires_at));
        Ok(self
            .db
            .write(move |c| {
                let (mut state, count, stored_expires) = load(c, &pk)?;
                if state.paused_until_ms.is_some_and(|p| p >= until) {
                    return Ok(());
                }
                state.paused_until_ms = Some(until);
                store(c, &pk, &state, count, expires.max(stored_expires))
            })
            .await?)
    }
}

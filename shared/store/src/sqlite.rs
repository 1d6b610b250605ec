//! The embedded adapter: one SQLite file (WAL, `synchronous=FULL`) holds
//! both the records and the queue, so an acknowledged message survives a
//! `kill -9` of the process and a power cut alike.
//!
//! Records use the same key scheme as the DynamoDB adapter: a partition key
//! (`pk`) and a sort key (`sk`), with the record's JSON in `data`.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context as _;
use async_trait::async_trait;
use hooklane_domain::{
    Bot, BotId, Delivery, DeliveryId, Endpoint, EndpointId, EventId, Hook, HookId, Message,
    MessageId, Run, Variable,
};
use rusqlite::{params, Connection, OptionalExtension};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;
use time::OffsetDateTime;
use tokio::sync::Notify;

use crate::ports::{Page, Paged, Queue, QueueError, Received, Store, StoreError};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS records (
    pk TEXT NOT NULL,
    sk TEXT NOT NULL,
    data TEXT NOT NULL,
    version INTEGER NOT NULL DEFAULT 0,
    expires_at INTEGER,
    PRIMARY KEY (pk, sk)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS queue (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    body TEXT NOT NULL,
    visible_at INTEGER NOT NULL,
    receive_count INTEGER NOT NULL DEFAULT 0,
    receipt TEXT
);
CREATE INDEX IF NOT EXISTS queue_visible ON queue (visible_at);
CREATE TABLE IF NOT EXISTS dead_letters (
    id INTEGER PRIMARY KEY,
    body TEXT NOT NULL,
    receive_count INTEGER NOT NULL,
    died_at INTEGER NOT NULL
);
";

/// How the embedded queue behaves.
#[derive(Debug, Clone, Copy)]
pub struct SqliteQueueSettings {
    /// Receives after which a message goes to the dead-letter table.
    pub max_receives: u32,
    /// How long a received message stays invisible.
    pub visibility: Duration,
    /// The largest message body.
    pub max_message_bytes: usize,
}

impl Default for SqliteQueueSettings {
    fn default() -> Self {
        Self {
            max_receives: 5,
            visibility: Duration::from_secs(360),
            max_message_bytes: 1024 * 1024,
        }
    }
}

/// One SQLite file serving as both `Store` and `Queue`.
#[derive(Clone)]
pub struct Sqlite {
    conn: Arc<Mutex<Connection>>,
    queue: SqliteQueueSettings,
    sent: Arc<Notify>,
}

fn unix_ms(t: OffsetDateTime) -> i64 {
    (t.unix_timestamp_nanos() / 1_000_000) as i64
}

fn now_ms() -> i64 {
    unix_ms(OffsetDateTime::now_utc())
}

fn to_json<T: Serialize>(v: &T) -> Result<String, StoreError> {
    serde_json::to_string(v)
        .context("encoding a record")
        .map_err(StoreError::Unexpected)
}

fn from_json<T: DeserializeOwned>(s: &str) -> Result<T, StoreError> {
    serde_json::from_str(s)
        .context("decoding a stored record")
        .map_err(StoreError::Unexpected)
}

fn bot_pk(bot: &BotId) -> String {
    format!("BOT#{bot}")
}

fn runs_pk(bot: &BotId, hook: &HookId) -> String {
    format!("RUN#{bot}#{hook}")
}

fn deliveries_pk(bot: &BotId, endpoint: &EndpointId) -> String {
    format!("DLV#{bot}#{endpoint}")
}

/// Bounds of every key starting with `prefix`: `[prefix, prefix + U+10FFFF)`.
fn prefix_bounds(prefix: &str) -> (String, String) {
    (prefix.to_owned(), format!("{prefix}\u{10FFFF}"))
}

impl Sqlite {
    /// Opens (creating when absent) the database at `path`.
    pub fn open(path: &Path, queue: SqliteQueueSettings) -> anyhow::Result<Self> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        let conn = Connection::open(path).with_context(|| format!("opening {}", path.display()))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "busy_timeout", 5000)?;
        conn.execute_batch(SCHEMA).context("creating the schema")?;
        Ok(Self {
            conn: Arc::new(Mutex::new(conn)),
            queue,
            sent: Arc::new(Notify::new()),
        })
    }

    async fn call<T, F>(&self, f: F) -> anyhow::Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> anyhow::Result<T> + Send + 'static,
    {
        let conn = self.conn.clone();
        tokio::task::spawn_blocking(move || {
            let mut guard = conn.lock().unwrap_or_else(|e| e.into_inner());
            f(&mut guard)
        })
        .await
        .context("the SQLite worker stopped")?
    }

    async fn get_raw(&self, pk: String, sk: String) -> Result<Option<String>, StoreError> {
        Ok(self
            .call(move |c| {
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

    async fn get<T: DeserializeOwned>(
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
    async fn insert(&self, pk: String, sk: String, data: String) -> Result<(), StoreError> {
        let inserted = self
            .call(move |c| {
                Ok(c.execute(
                    "INSERT OR IGNORE INTO records (pk, sk, data) VALUES (?1, ?2, ?3)",
                    params![pk, sk, data],
                )?)
            })
            .await?;
        if inserted == 0 {
            Err(StoreError::Conflict)
        } else {
            Ok(())
        }
    }

    /// Replaces an existing record; `NotFound` when absent.
    async fn replace(&self, pk: String, sk: String, data: String) -> Result<(), StoreError> {
        let changed = self
            .call(move |c| {
                Ok(c.execute(
                    "UPDATE records SET data = ?3 WHERE pk = ?1 AND sk = ?2",
                    params![pk, sk, data],
                )?)
            })
            .await?;
        if changed == 0 {
            Err(StoreError::NotFound)
        } else {
            Ok(())
        }
    }

    async fn upsert(
        &self,
        pk: String,
        sk: String,
        data: String,
        expires_at: Option<OffsetDateTime>,
    ) -> Result<(), StoreError> {
        let expires = expires_at.map(unix_ms);
        self.call(move |c| {
            c.execute(
                "INSERT INTO records (pk, sk, data, expires_at) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (pk, sk) DO UPDATE SET data = excluded.data, expires_at = excluded.expires_at",
                params![pk, sk, data, expires],
            )?;
            Ok(())
        })
        .await?;
        Ok(())
    }

    /// Newest-first page of the records in `pk` whose sort key starts with `prefix`.
    async fn list<T: DeserializeOwned>(
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
            .call(move |c| {
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
        let more = rows.len() > limit;
        let rows = &rows[..rows.len().min(limit)];
        let next = if more {
            rows.last().map(|(sk, _)| sk.clone())
        } else {
            None
        };
        let items = rows
            .iter()
            .map(|(_, data)| from_json(data))
            .collect::<Result<Vec<T>, _>>()?;
        Ok(Paged { items, next })
    }

    /// Deletes one record; `NotFound` when absent.
    async fn delete_one(&self, pk: String, sk: String) -> Result<(), StoreError> {
        let n = self
            .call(move |c| {
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

    /// Removes records that are past their expiry.
    pub async fn purge_expired(&self) -> anyhow::Result<usize> {
        self.call(|c| {
            Ok(c.execute(
                "DELETE FROM records WHERE expires_at IS NOT NULL AND expires_at <= ?1",
                params![now_ms()],
            )?)
        })
        .await
    }
}

#[async_trait]
impl Store for Sqlite {
    async fn create_bot(&self, bot: &Bot) -> Result<(), StoreError> {
        self.insert(bot_pk(&bot.id), "BOT".into(), to_json(bot)?)
            .await
    }

    async fn get_bot(&self, id: &BotId) -> Result<Option<Bot>, StoreError> {
        self.get(bot_pk(id), "BOT".into()).await
    }

    async fn update_bot(&self, bot: &Bot) -> Result<(), StoreError> {
        self.replace(bot_pk(&bot.id), "BOT".into(), to_json(bot)?)
            .await
    }

    async fn delete_bot(&self, id: &BotId) -> Result<(), StoreError> {
        let pk = bot_pk(id);
        let (run_lo, run_hi) = prefix_bounds(&format!("RUN#{id}#"));
        let (dlv_lo, dlv_hi) = prefix_bounds(&format!("DLV#{id}#"));
        let existed = self
            .call(move |c| {
                let tx = c.transaction()?;
                let existed = tx.execute(
                    "DELETE FROM records WHERE pk = ?1 AND sk = 'BOT'",
                    params![pk],
                )?;
                if existed > 0 {
                    tx.execute("DELETE FROM records WHERE pk = ?1", params![pk])?;
                    tx.execute(
                        "DELETE FROM records WHERE pk >= ?1 AND pk < ?2",
                        params![run_lo, run_hi],
                    )?;
                    tx.execute(
                        "DELETE FROM records WHERE pk >= ?1 AND pk < ?2",
                        params![dlv_lo, dlv_hi],
                    )?;
                }
                tx.commit()?;
                Ok(existed)
            })
            .await?;
        if existed == 0 {
            Err(StoreError::NotFound)
        } else {
            Ok(())
        }
    }

    async fn create_hook(&self, hook: &Hook) -> Result<(), StoreError> {
        self.insert(
            bot_pk(&hook.bot_id),
            format!("HOOK#{}", hook.id),
            to_json(hook)?,
        )
        .await
    }

    async fn get_hook(&self, bot: &BotId, id: &HookId) -> Result<Option<Hook>, StoreError> {
        self.get(bot_pk(bot), format!("HOOK#{id}")).await
    }

    async fn list_hooks(&self, bot: &BotId, page: &Page) -> Result<Paged<Hook>, StoreError> {
        self.list(bot_pk(bot), "HOOK#", page).await
    }

    async fn update_hook(&self, hook: &Hook) -> Result<(), StoreError> {
        self.replace(
            bot_pk(&hook.bot_id),
            format!("HOOK#{}", hook.id),
            to_json(hook)?,
        )
        .await
    }

    async fn delete_hook(&self, bot: &BotId, id: &HookId) -> Result<(), StoreError> {
        self.delete_one(bot_pk(bot), format!("HOOK#{id}")).await?;
        let runs = runs_pk(bot, id);
        self.call(move |c| Ok(c.execute("DELETE FROM records WHERE pk = ?1", params![runs])?))
            .await?;
        Ok(())
    }

    async fn put_run(&self, run: &Run, expires_at: OffsetDateTime) -> Result<(), StoreError> {
        self.upsert(
            runs_pk(&run.bot_id, &run.hook_id),
            run.id.to_string(),
            to_json(run)?,
            Some(expires_at),
        )
        .await
    }

    async fn get_run(
        &self,
        bot: &BotId,
        hook: &HookId,
        id: &EventId,
    ) -> Result<Option<Run>, StoreError> {
        self.get(runs_pk(bot, hook), id.to_string()).await
    }

    async fn list_runs(
        &self,
        bot: &BotId,
        hook: &HookId,
        page: &Page,
    ) -> Result<Paged<Run>, StoreError> {
        self.list(runs_pk(bot, hook), "", page).await
    }

    async fn create_endpoint(&self, endpoint: &Endpoint) -> Result<(), StoreError> {
        self.insert(
            bot_pk(&endpoint.bot_id),
            format!("EP#{}", endpoint.id),
            to_json(endpoint)?,
        )
        .await
    }

    async fn get_endpoint(
        &self,
        bot: &BotId,
        id: &EndpointId,
    ) -> Result<Option<Endpoint>, StoreError> {
        self.get(bot_pk(bot), format!("EP#{id}")).await
    }

    async fn list_endpoints(
        &self,
        bot: &BotId,
        page: &Page,
    ) -> Result<Paged<Endpoint>, StoreError> {
        self.list(bot_pk(bot), "EP#", page).await
    }

    async fn update_endpoint(&self, endpoint: &Endpoint) -> Result<(), StoreError> {
        self.replace(
            bot_pk(&endpoint.bot_id),
            format!("EP#{}", endpoint.id),
            to_json(endpoint)?,
        )
        .await
    }

    async fn delete_endpoint(&self, bot: &BotId, id: &EndpointId) -> Result<(), StoreError> {
        self.delete_one(bot_pk(bot), format!("EP#{id}")).await?;
        let dlv = deliveries_pk(bot, id);
        self.call(move |c| Ok(c.execute("DELETE FROM records WHERE pk = ?1", params![dlv])?))
            .await?;
        Ok(())
    }

    async fn put_message(
        &self,
        message: &Message,
        expires_at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        self.upsert(
            bot_pk(&message.bot_id),
            format!("MSG#{}", message.id),
            to_json(message)?,
            Some(expires_at),
        )
        .await
    }

    async fn get_message(
        &self,
        bot: &BotId,
        id: &MessageId,
    ) -> Result<Option<Message>, StoreError> {
        self.get(bot_pk(bot), format!("MSG#{id}")).await
    }

    async fn put_delivery(
        &self,
        delivery: &Delivery,
        expires_at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        self.upsert(
            deliveries_pk(&delivery.bot_id, &delivery.endpoint_id),
            delivery.id.to_string(),
            to_json(delivery)?,
            Some(expires_at),
        )
        .await
    }

    async fn get_delivery(
        &self,
        bot: &BotId,
        id: &DeliveryId,
    ) -> Result<Option<Delivery>, StoreError> {
        let (lo, hi) = prefix_bounds(&format!("DLV#{bot}#"));
        let sk = id.to_string();
        let raw: Option<String> = self
            .call(move |c| {
                Ok(c.query_row(
                    "SELECT data FROM records WHERE pk >= ?1 AND pk < ?2 AND sk = ?3
                     AND (expires_at IS NULL OR expires_at > ?4)",
                    params![lo, hi, sk, now_ms()],
                    |r| r.get(0),
                )
                .optional()?)
            })
            .await?;
        raw.map(|s| from_json(&s)).transpose()
    }

    async fn list_deliveries(
        &self,
        bot: &BotId,
        endpoint: &EndpointId,
        page: &Page,
    ) -> Result<Paged<Delivery>, StoreError> {
        self.list(deliveries_pk(bot, endpoint), "", page).await
    }

    async fn list_variables(&self, bot: &BotId) -> Result<Vec<Variable>, StoreError> {
        let mut all = Vec::new();
        let mut page = Page::first(100);
        loop {
            let got: Paged<Variable> = self.list(bot_pk(bot), "VAR#", &page).await?;
            all.extend(got.items);
            match got.next {
                Some(next) => page.cursor = Some(next),
                None => break,
            }
        }
        all.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(all)
    }

    async fn get_variable(&self, bot: &BotId, name: &str) -> Result<Option<Variable>, StoreError> {
        self.get(bot_pk(bot), format!("VAR#{name}")).await
    }

    async fn swap_variable(
        &self,
        bot: &BotId,
        name: &str,
        expected: Option<u64>,
        value: Option<&Value>,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let pk = bot_pk(bot);
        let sk = format!("VAR#{name}");
        let new_version = expected.unwrap_or(0) + 1;
        let data = value
            .map(|v| {
                to_json(&Variable {
                    name: name.to_owned(),
                    value: v.clone(),
                    version: new_version,
                    updated_at: now,
                })
            })
            .transpose()?;
        Ok(self
            .call(move |c| {
                let n = match (expected, data) {
                    (None, Some(data)) => c.execute(
                        "INSERT OR IGNORE INTO records (pk, sk, data, version) VALUES (?1, ?2, ?3, 1)",
                        params![pk, sk, data],
                    )?,
                    (Some(v), Some(data)) => c.execute(
                        "UPDATE records SET data = ?3, version = ?4 WHERE pk = ?1 AND sk = ?2 AND version = ?5",
                        params![pk, sk, data, v as i64 + 1, v as i64],
                    )?,
                    (Some(v), None) => c.execute(
                        "DELETE FROM records WHERE pk = ?1 AND sk = ?2 AND version = ?3",
                        params![pk, sk, v as i64],
                    )?,
                    (None, None) => {
                        let exists: bool = c.query_row(
                            "SELECT EXISTS (SELECT 1 FROM records WHERE pk = ?1 AND sk = ?2)",
                            params![pk, sk],
                            |r| r.get(0),
                        )?;
                        usize::from(!exists)
                    }
                };
                Ok(n == 1)
            })
            .await?)
    }

    async fn claim_key(
        &self,
        bot: &BotId,
        key: &str,
        value: &str,
        expires_at: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Result<Option<String>, StoreError> {
        let pk = bot_pk(bot);
        let sk = format!("IDEM#{key}");
        let value = value.to_owned();
        let (now, expires) = (unix_ms(now), unix_ms(expires_at));
        Ok(self
            .call(move |c| {
                let tx = c.transaction()?;
                let existing: Option<(String, Option<i64>)> = tx
                    .query_row(
                        "SELECT data, expires_at FROM records WHERE pk = ?1 AND sk = ?2",
                        params![pk, sk],
                        |r| Ok((r.get(0)?, r.get(1)?)),
                    )
                    .optional()?;
                let answer = match existing {
                    Some((held, exp)) if exp.is_none_or(|e| e > now) => Some(held),
                    _ => {
                        tx.execute(
                            "INSERT INTO records (pk, sk, data, expires_at) VALUES (?1, ?2, ?3, ?4)
                             ON CONFLICT (pk, sk) DO UPDATE SET data = excluded.data, expires_at = excluded.expires_at",
                            params![pk, sk, value, expires],
                        )?;
                        None
                    }
                };
                tx.commit()?;
                Ok(answer)
            })
            .await?)
    }

    async fn release_key(&self, bot: &BotId, key: &str) -> Result<(), StoreError> {
        let pk = bot_pk(bot);
        let sk = format!("IDEM#{key}");
        self.call(move |c| {
            c.execute(
                "DELETE FROM records WHERE pk = ?1 AND sk = ?2",
                params![pk, sk],
            )?;
            Ok(())
        })
        .await?;
        Ok(())
    }

    async fn increment_counter(
        &self,
        key: &str,
        expires_at: OffsetDateTime,
    ) -> Result<u64, StoreError> {
        let pk = format!("CTR#{key}");
        let expires = unix_ms(expires_at);
        Ok(self
            .call(move |c| {
                let n: i64 = c.query_row(
                    "INSERT INTO records (pk, sk, data, version, expires_at) VALUES (?1, 'CTR', '', 1, ?2)
                     ON CONFLICT (pk, sk) DO UPDATE SET version = version + 1
                     RETURNING version",
                    params![pk, expires],
                    |r| r.get(0),
                )?;
                Ok(n as u64)
            })
            .await?)
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.call(|c| Ok(c.query_row("SELECT 1", [], |_| Ok(()))?))
            .await?;
        Ok(())
    }
}

#[async_trait]
impl Queue for Sqlite {
    fn max_delay(&self) -> Duration {
        Duration::from_secs(900)
    }

    fn max_message_bytes(&self) -> usize {
        self.queue.max_message_bytes
    }

    async fn send(&self, body: &str, delay: Duration) -> Result<(), QueueError> {
        if body.len() > self.queue.max_message_bytes {
            return Err(QueueError::TooLarge {
                size: body.len(),
                max: self.queue.max_message_bytes,
            });
        }
        let visible_at = now_ms() + delay.min(self.max_delay()).as_millis() as i64;
        let body = body.to_owned();
        self.call(move |c| {
            c.execute(
                "INSERT INTO queue (body, visible_at) VALUES (?1, ?2)",
                params![body, visible_at],
            )?;
            Ok(())
        })
        .await?;
        self.sent.notify_waiters();
        Ok(())
    }

    async fn receive(&self, max: usize, wait: Duration) -> Result<Vec<Received>, QueueError> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let notified = self.sent.notified();
            let got = self.receive_now(max).await?;
            let now = tokio::time::Instant::now();
            if !got.is_empty() || now >= deadline {
                return Ok(got);
            }
            let nap = (deadline - now).min(Duration::from_millis(100));
            let _ = tokio::time::timeout(nap, notified).await;
        }
    }

    async fn delete(&self, receipt: &str) -> Result<(), QueueError> {
        let receipt = receipt.to_owned();
        self.call(move |c| {
            c.execute("DELETE FROM queue WHERE receipt = ?1", params![receipt])?;
            Ok(())
        })
        .await?;
        Ok(())
    }

    async fn retry_after(&self, receipt: &str, delay: Duration) -> Result<(), QueueError> {
        let receipt = receipt.to_owned();
        let visible_at = now_ms() + delay.as_millis() as i64;
        self.call(move |c| {
            c.execute(
                "UPDATE queue SET visible_at = ?2, receipt = NULL WHERE receipt = ?1",
                params![receipt, visible_at],
            )?;
            Ok(())
        })
        .await?;
        self.sent.notify_waiters();
        Ok(())
    }

    async fn dead_letter_count(&self) -> Result<usize, QueueError> {
        Ok(self
            .call(|c| {
                Ok(c.query_row("SELECT COUNT(*) FROM dead_letters", [], |r| {
                    r.get::<_, i64>(0)
                })? as usize)
            })
            .await?)
    }

    async fn ping(&self) -> Result<(), QueueError> {
        self.call(|c| Ok(c.query_row("SELECT 1", [], |_| Ok(()))?))
            .await?;
        Ok(())
    }
}

impl Sqlite {
    async fn receive_now(&self, max: usize) -> Result<Vec<Received>, QueueError> {
        let settings = self.queue;
        Ok(self
            .call(move |c| {
                let now = now_ms();
                let tx = c.transaction()?;
                let due: Vec<(i64, String, u32)> = {
                    let mut stmt = tx.prepare_cached(
                        "SELECT id, body, receive_count FROM queue WHERE visible_at <= ?1
                         ORDER BY visible_at, id LIMIT ?2",
                    )?;
                    let rows = stmt
                        .query_map(params![now, max as i64], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                        .collect::<Result<Vec<_>, _>>()?;
                    rows
                };
                let mut out = Vec::new();
                for (id, body, count) in due {
                    if count >= settings.max_receives {
                        tx.execute(
                            "INSERT INTO dead_letters (id, body, receive_count, died_at) VALUES (?1, ?2, ?3, ?4)",
                            params![id, body, count, now],
                        )?;
                        tx.execute("DELETE FROM queue WHERE id = ?1", params![id])?;
                        continue;
                    }
                    let receipt = format!("{id}:{}", ulid::Ulid::new());
                    tx.execute(
                        "UPDATE queue SET receive_count = receive_count + 1, visible_at = ?2, receipt = ?3 WHERE id = ?1",
                        params![id, now + settings.visibility.as_millis() as i64, receipt],
                    )?;
                    out.push(Received {
                        receipt,
                        body,
                        receive_count: count + 1,
                    });
                }
                tx.commit()?;
                Ok(out)
            })
            .await?)
    }
}

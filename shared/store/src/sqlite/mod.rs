//! The embedded adapter: one SQLite file (WAL, `synchronous=FULL`) holds
//! both the records and the queue, so an acknowledged message survives a
//! `kill -9` of the process and a power cut alike.
//!
//! Records use the key scheme of `keys.rs`, the same as the DynamoDB
//! adapter's: a partition key (`pk`) and a sort key (`sk`), with the
//! record's JSON in `data` (`schema.rs` has the tables). The `Store` methods
//! are here, idempotency claims in `claims.rs`, the bot list and settings in
//! `catalog.rs`, outbound targets' counts and pauses in `targets.rs`, the
//! `Queue` in `queue.rs`; all reach the file only through
//! `connection.rs`: `read` on a pool of read-only connections, and `write`
//! through the group commit (`group_commit.rs`: one writer thread, many
//! writes per transaction and fsync, each in its own savepoint).

mod catalog;
mod claims;
mod connection;
mod group_commit;
mod handle;
mod queue;
mod records;
mod schema;
mod targets;

use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use hooklane_domain::{
    Bot, BotId, CallId, Delivery, DeliveryId, Endpoint, EndpointId, Hook, HookId, IdempotencyKey,
    Message, MessageId, Run, Variable,
};
use rusqlite::{params, OptionalExtension};
use serde_json::Value;
use time::OffsetDateTime;
use tokio::sync::Notify;

use self::connection::Db;
pub use self::handle::{Sqlite, SqliteQueueSettings};
use self::records::{from_json, prefix_bounds, to_json};
use self::schema::{now_ms, unix_ms};
use crate::keys::{self, BOT_SK, COUNTER_SK};
use crate::ports::{ClaimScope, Page, Paged, RateWindow, SendCount, SendTarget, Store, StoreError};

impl Sqlite {
    /// Opens (creating it and its directory when absent) the database at
    /// `path`, with `queue` settings for its `Queue` side. A new file is
    /// created `0600` (an existing one is made so): it holds secrets.
    ///
    /// The file is taken to belong to this process alone (`hooklane dev`
    /// locks its data dir): messages that were received and not deleted
    /// belonged to a process that is gone, so they are made visible at once
    /// (see `queue::release_receipts`). Errors when the file cannot be
    /// created, opened or given its tables.
    pub fn open(path: &Path, queue: SqliteQueueSettings) -> anyhow::Result<Self> {
        Ok(Self {
            db: Db::open(path, queue::release_receipts)?,
            queue,
            sent: Arc::new(Notify::new()),
        })
    }

    /// How many transactions (each one fsync) have committed writes since
    /// the file was opened; many writes share one when they arrive together.
    pub fn commits(&self) -> u64 {
        self.db.commits()
    }

    /// Removes records that are past their expiry; returns how many.
    pub async fn purge_expired(&self) -> anyhow::Result<usize> {
        Ok(self
            .db
            .write(|c| {
                Ok(c.execute(
                    "DELETE FROM records WHERE expires_at IS NOT NULL AND expires_at <= ?1",
                    params![now_ms()],
                )?)
            })
            .await?)
    }
}

#[async_trait]
impl Store for Sqlite {
    async fn create_bot(&self, bot: &Bot) -> Result<(), StoreError> {
        self.insert(keys::bot_pk(&bot.id), BOT_SK.into(), to_json(bot)?)
            .await
    }

    async fn get_bot(&self, id: &BotId) -> Result<Option<Bot>, StoreError> {
        self.get(keys::bot_pk(id), BOT_SK.into()).await
    }

    async fn update_bot(&self, bot: &Bot) -> Result<(), StoreError> {
        self.replace(keys::bot_pk(&bot.id), BOT_SK.into(), to_json(bot)?)
            .await
    }

    async fn delete_bot(&self, id: &BotId) -> Result<(), StoreError> {
        let pk = keys::bot_pk(id);
        let (run_lo, run_hi) = prefix_bounds(&keys::runs_of_bot(id));
        let (dlv_lo, dlv_hi) = prefix_bounds(&keys::deliveries_of_bot(id));
        let existed = self
            .db
            .write(move |tx| {
                let existed = tx.execute(
                    "DELETE FROM records WHERE pk = ?1 AND sk = ?2",
                    params![pk, BOT_SK],
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
                Ok(existed)
            })
            .await?;
        if existed == 0 {
            Err(StoreError::NotFound)
        } else {
            Ok(())
        }
    }

    async fn list_bots(&self, page: &Page) -> Result<Paged<Bot>, StoreError> {
        self.bots_page(page).await
    }

    async fn create_hook(&self, hook: &Hook) -> Result<(), StoreError> {
        self.insert(
            keys::bot_pk(&hook.bot_id),
            keys::hook_sk(&hook.id),
            to_json(hook)?,
        )
        .await
    }

    async fn get_hook(&self, bot: &BotId, id: &HookId) -> Result<Option<Hook>, StoreError> {
        self.get(keys::bot_pk(bot), keys::hook_sk(id)).await
    }

    async fn list_hooks(&self, bot: &BotId, page: &Page) -> Result<Paged<Hook>, StoreError> {
        self.list(keys::bot_pk(bot), keys::HOOK_PREFIX, page).await
    }

    async fn update_hook(&self, hook: &Hook) -> Result<(), StoreError> {
        self.replace(
            keys::bot_pk(&hook.bot_id),
            keys::hook_sk(&hook.id),
            to_json(hook)?,
        )
        .await
    }

    async fn delete_hook(&self, bot: &BotId, id: &HookId) -> Result<(), StoreError> {
        self.delete_one(keys::bot_pk(bot), keys::hook_sk(id))
            .await?;
        let runs = keys::run_pk(bot, id);
        self.db
            .write(move |c| Ok(c.execute("DELETE FROM records WHERE pk = ?1", params![runs])?))
            .await?;
        Ok(())
    }

    async fn put_run(&self, run: &Run, expires_at: OffsetDateTime) -> Result<(), StoreError> {
        self.upsert(
            keys::run_pk(&run.bot_id, &run.hook_id),
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
        id: &CallId,
    ) -> Result<Option<Run>, StoreError> {
        self.get(keys::run_pk(bot, hook), id.to_string()).await
    }

    async fn list_runs(
        &self,
        bot: &BotId,
        hook: &HookId,
        page: &Page,
    ) -> Result<Paged<Run>, StoreError> {
        self.list(keys::run_pk(bot, hook), "", page).await
    }

    async fn create_endpoint(&self, endpoint: &Endpoint) -> Result<(), StoreError> {
        self.insert(
            keys::bot_pk(&endpoint.bot_id),
            keys::endpoint_sk(&endpoint.id),
            to_json(endpoint)?,
        )
        .await
    }

    async fn get_endpoint(
        &self,
        bot: &BotId,
        id: &EndpointId,
    ) -> Result<Option<Endpoint>, StoreError> {
        self.get(keys::bot_pk(bot), keys::endpoint_sk(id)).await
    }

    async fn list_endpoints(
        &self,
        bot: &BotId,
        page: &Page,
    ) -> Result<Paged<Endpoint>, StoreError> {
        self.list(keys::bot_pk(bot), keys::ENDPOINT_PREFIX, page)
            .await
    }

    async fn update_endpoint(&self, endpoint: &Endpoint) -> Result<(), StoreError> {
        self.replace(
            keys::bot_pk(&endpoint.bot_id),
            keys::endpoint_sk(&endpoint.id),
            to_json(endpoint)?,
        )
        .await
    }

    async fn delete_endpoint(&self, bot: &BotId, id: &EndpointId) -> Result<(), StoreError> {
        self.delete_one(keys::bot_pk(bot), keys::endpoint_sk(id))
            .await?;
        let dlv = keys::delivery_pk(bot, id);
        self.db
            .write(move |c| Ok(c.execute("DELETE FROM records WHERE pk = ?1", params![dlv])?))
            .await?;
        Ok(())
    }

    async fn put_message(
        &self,
        message: &Message,
        expires_at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        self.upsert(
            keys::bot_pk(&message.bot_id),
            keys::message_sk(&message.id),
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
        self.get(keys::bot_pk(bot), keys::message_sk(id)).await
    }

    async fn list_messages(&self, bot: &BotId, page: &Page) -> Result<Paged<Message>, StoreError> {
        self.list(keys::bot_pk(bot), keys::MESSAGE_PREFIX, page)
            .await
    }

    async fn put_delivery(
        &self,
        delivery: &Delivery,
        expires_at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        self.upsert(
            keys::delivery_pk(&delivery.bot_id, &delivery.endpoint_id),
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
        let (lo, hi) = prefix_bounds(&keys::deliveries_of_bot(bot));
        let sk = id.to_string();
        let raw: Option<String> = self
            .db
            .read(move |c| {
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

    async fn get_endpoint_delivery(
        &self,
        bot: &BotId,
        endpoint: &EndpointId,
        id: &DeliveryId,
    ) -> Result<Option<Delivery>, StoreError> {
        self.get(keys::delivery_pk(bot, endpoint), id.to_string())
            .await
    }

    async fn list_deliveries(
        &self,
        bot: &BotId,
        endpoint: &EndpointId,
        page: &Page,
    ) -> Result<Paged<Delivery>, StoreError> {
        self.list(keys::delivery_pk(bot, endpoint), "", page).await
    }

    async fn list_variables(&self, bot: &BotId) -> Result<Vec<Variable>, StoreError> {
        let mut all = Vec::new();
        let mut page = Page::first(100);
        loop {
            let got: Paged<Variable> = self
                .list(keys::bot_pk(bot), keys::VARIABLE_PREFIX, &page)
                .await?;
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
        self.get(keys::bot_pk(bot), keys::variable_sk(name)).await
    }

    async fn swap_variable(
        &self,
        bot: &BotId,
        name: &str,
        expected: Option<u64>,
        value: Option<&Value>,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let pk = keys::bot_pk(bot);
        let sk = keys::variable_sk(name);
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
            .db
            .write(move |c| {
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

    async fn claim_idempotency_key(
        &self,
        bot: &BotId,
        scope: ClaimScope<'_>,
        key: &IdempotencyKey,
        value: &str,
        expires_at: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Result<Option<String>, StoreError> {
        self.claim(bot, scope, key, value, expires_at, now).await
    }

    async fn release_idempotency_key(
        &self,
        bot: &BotId,
        scope: ClaimScope<'_>,
        key: &IdempotencyKey,
    ) -> Result<(), StoreError> {
        self.release_claim(bot, scope, key).await
    }

    async fn increment_counter(
        &self,
        window: &RateWindow<'_>,
        expires_at: OffsetDateTime,
    ) -> Result<u64, StoreError> {
        let pk = keys::counter_pk(window);
        let expires = unix_ms(expires_at);
        Ok(self
            .db
            .write(move |c| {
                let n: i64 = c.query_row(
                    "INSERT INTO records (pk, sk, data, version, expires_at) VALUES (?1, ?2, '', 1, ?3)
                     ON CONFLICT (pk, sk) DO UPDATE SET version = version + 1
                     RETURNING version",
                    params![pk, COUNTER_SK, expires],
                    |r| r.get(0),
                )?;
                Ok(n as u64)
            })
            .await?)
    }

    async fn count_send(
        &self,
        target: &SendTarget<'_>,
        window: i64,
        expires_at: OffsetDateTime,
    ) -> Result<SendCount, StoreError> {
        self.count_target_send(target, window, expires_at).await
    }

    async fn pause_sends(
        &self,
        target: &SendTarget<'_>,
        until: OffsetDateTime,
        expires_at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        self.pause_target(target, until, expires_at).await
    }

    async fn put_setting_once(&self, name: &str, value: &str) -> Result<String, StoreError> {
        self.setting_once(name, value).await
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.db
            .read(|c| Ok(c.query_row("SELECT 1", [], |_| Ok(()))?))
            .await?;
        Ok(())
    }
}

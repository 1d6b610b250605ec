//! The `Store` on DynamoDB: one table, single-table design.
//!
//! Every item has a string `pk` (partition) and `sk` (sort key), built by
//! `keys.rs`; `items.rs` says how a record is encoded in an item,
//! `requests.rs` holds the requests the methods share, `claims.rs` the
//! idempotency claims, `catalog.rs` the bot list and settings, `targets.rs`
//! outbound targets' counts and pauses, and `provision.rs` creates the
//! table. Runs and deliveries get their own partitions, so the busiest
//! writes spread over many partition keys; an attempt of a delivery is one
//! write of its row (`get_delivery` looks for a row by id under each of the
//! bot's endpoints).
//! Lists are Queries with `ScanIndexForward=false`, newest first.

mod catalog;
mod claims;
mod items;
mod provision;
mod requests;
mod targets;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};
use hooklane_domain::{
    Bot, BotId, CallId, Delivery, DeliveryId, Endpoint, EndpointId, Hook, HookId, IdempotencyKey,
    Message, MessageId, Run, Variable,
};
use serde_json::Value;
use time::OffsetDateTime;

use self::items::{attr_n, attr_s, decode, decode_all, epoch_seconds, key, n, record_item, Item};
use crate::keys::{self, BOT_SK, COUNTER_SK};
use crate::ports::{ClaimScope, Page, Paged, RateWindow, SendCount, SendTarget, Store, StoreError};

/// The DynamoDB adapter of [`Store`]: every record in one table whose key
/// is `pk` (S, HASH) + `sk` (S, RANGE), with TTL on `ttl`.
///
/// Cheap to clone (the SDK client is shared). Every method answers
/// `StoreError::Unexpected` when DynamoDB fails or the table is missing.
#[derive(Debug, Clone)]
pub struct DynamoStore {
    client: aws_sdk_dynamodb::Client,
    table: String,
    /// The window each outbound target was last counted in, here.
    last_windows: targets::LastWindows,
}

impl DynamoStore {
    /// The adapter on the table named `table`, with the SDK settings of
    /// `config`. Makes no request: a missing table shows on first use (or
    /// call [`DynamoStore::ensure_table`]).
    pub fn new(config: &aws_config::SdkConfig, table: impl Into<String>) -> Self {
        Self {
            client: aws_sdk_dynamodb::Client::new(config),
            table: table.into(),
            last_windows: targets::LastWindows::default(),
        }
    }

    /// The table this store uses.
    pub fn table(&self) -> &str {
        &self.table
    }
}

#[async_trait]
impl Store for DynamoStore {
    // ---- bots ----

    async fn create_bot(&self, bot: &Bot) -> Result<(), StoreError> {
        self.create_bot_listed(bot).await
    }

    async fn get_bot(&self, id: &BotId) -> Result<Option<Bot>, StoreError> {
        self.get_record(&keys::bot_pk(id), BOT_SK).await
    }

    async fn update_bot(&self, bot: &Bot) -> Result<(), StoreError> {
        let pk = keys::bot_pk(&bot.id);
        self.replace(record_item(&pk, BOT_SK, bot, None)?).await?;
        self.put_bot_entry(bot).await
    }

    async fn delete_bot(&self, id: &BotId) -> Result<(), StoreError> {
        let bot = id.as_str();
        let pk = keys::bot_pk(bot);
        if self.get_item(&pk, BOT_SK).await?.is_none() {
            return Err(StoreError::NotFound);
        }
        // The runs and delivery logs live in partitions of their own.
        let items = self.query_all(&pk, "", true).await?;
        for item in &items {
            let sk = attr_s(item, "sk")?;
            if let Some(hook) = sk.strip_prefix(keys::HOOK_PREFIX) {
                self.delete_runs(bot, hook).await?;
            } else if let Some(endpoint) = sk.strip_prefix(keys::ENDPOINT_PREFIX) {
                self.delete_deliveries(bot, endpoint).await?;
            }
        }
        // The bot item goes last: a delete that fails half way can be retried.
        let (mut rest, bot_item): (Vec<Item>, Vec<Item>) = items.into_iter().partition(
            |item| !matches!(item.get("sk"), Some(AttributeValue::S(sk)) if sk == BOT_SK),
        );
        rest.push(Self::bot_entry_key(bot));
        self.delete_keys(rest).await?;
        self.delete_keys(bot_item).await
    }

    async fn list_bots(&self, page: &Page) -> Result<Paged<Bot>, StoreError> {
        self.bots_page(page).await
    }

    // ---- hooks ----

    async fn create_hook(&self, hook: &Hook) -> Result<(), StoreError> {
        let pk = keys::bot_pk(&hook.bot_id);
        let sk = keys::hook_sk(&hook.id);
        self.create(record_item(&pk, &sk, hook, None)?).await
    }

    async fn get_hook(&self, bot: &BotId, id: &HookId) -> Result<Option<Hook>, StoreError> {
        self.get_record(&keys::bot_pk(bot), &keys::hook_sk(id))
            .await
    }

    async fn list_hooks(&self, bot: &BotId, page: &Page) -> Result<Paged<Hook>, StoreError> {
        let (items, next) = self
            .query_page(&keys::bot_pk(bot), keys::HOOK_PREFIX, page)
            .await?;
        Ok(Paged {
            items: decode_all(&items)?,
            next,
        })
    }

    async fn update_hook(&self, hook: &Hook) -> Result<(), StoreError> {
        let pk = keys::bot_pk(&hook.bot_id);
        let sk = keys::hook_sk(&hook.id);
        self.replace(record_item(&pk, &sk, hook, None)?).await
    }

    async fn delete_hook(&self, bot: &BotId, id: &HookId) -> Result<(), StoreError> {
        let pk = keys::bot_pk(bot);
        self.delete_parent(
            &pk,
            &keys::hook_sk(id),
            self.delete_runs(bot.as_str(), id.as_str()),
        )
        .await
    }

    // ---- runs ----

    async fn put_run(&self, run: &Run, expires_at: OffsetDateTime) -> Result<(), StoreError> {
        let pk = keys::run_pk(&run.bot_id, &run.hook_id);
        let item = record_item(&pk, run.id.as_str(), run, Some(expires_at))?;
        self.put_if(item, None).await.map(drop)
    }

    async fn get_run(
        &self,
        bot: &BotId,
        hook: &HookId,
        id: &CallId,
    ) -> Result<Option<Run>, StoreError> {
        self.get_record(&keys::run_pk(bot, hook), id.as_str()).await
    }

    async fn list_runs(
        &self,
        bot: &BotId,
        hook: &HookId,
        page: &Page,
    ) -> Result<Paged<Run>, StoreError> {
        let pk = keys::run_pk(bot, hook);
        let (items, next) = self.query_page(&pk, "", page).await?;
        Ok(Paged {
            items: decode_all(&items)?,
            next,
        })
    }

    // ---- endpoints ----

    async fn create_endpoint(&self, endpoint: &Endpoint) -> Result<(), StoreError> {
        let pk = keys::bot_pk(&endpoint.bot_id);
        let sk = keys::endpoint_sk(&endpoint.id);
        self.create(record_item(&pk, &sk, endpoint, None)?).await
    }

    async fn get_endpoint(
        &self,
        bot: &BotId,
        id: &EndpointId,
    ) -> Result<Option<Endpoint>, StoreError> {
        self.get_record(&keys::bot_pk(bot), &keys::endpoint_sk(id))
            .await
    }

    async fn list_endpoints(
        &self,
        bot: &BotId,
        page: &Page,
    ) -> Result<Paged<Endpoint>, StoreError> {
        let (items, next) = self
            .query_page(&keys::bot_pk(bot), keys::ENDPOINT_PREFIX, page)
            .await?;
        Ok(Paged {
            items: decode_all(&items)?,
            next,
        })
    }

    async fn update_endpoint(&self, endpoint: &Endpoint) -> Result<(), StoreError> {
        let pk = keys::bot_pk(&endpoint.bot_id);
        let sk = keys::endpoint_sk(&endpoint.id);
        self.replace(record_item(&pk, &sk, endpoint, None)?).await
    }

    async fn delete_endpoint(&self, bot: &BotId, id: &EndpointId) -> Result<(), StoreError> {
        let pk = keys::bot_pk(bot);
        self.delete_parent(
            &pk,
            &keys::endpoint_sk(id),
            self.delete_deliveries(bot.as_str(), id.as_str()),
        )
        .await
    }

    // ---- messages ----

    async fn put_message(
        &self,
        message: &Message,
        expires_at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let pk = keys::bot_pk(&message.bot_id);
        let sk = keys::message_sk(&message.id);
        let item = record_item(&pk, &sk, message, Some(expires_at))?;
        self.put_if(item, None).await.map(drop)
    }

    async fn get_message(
        &self,
        bot: &BotId,
        id: &MessageId,
    ) -> Result<Option<Message>, StoreError> {
        self.get_record(&keys::bot_pk(bot), &keys::message_sk(id))
            .await
    }

    async fn list_messages(&self, bot: &BotId, page: &Page) -> Result<Paged<Message>, StoreError> {
        let (items, next) = self
            .query_page(&keys::bot_pk(bot), keys::MESSAGE_PREFIX, page)
            .await?;
        Ok(Paged {
            items: decode_all(&items)?,
            next,
        })
    }

    // ---- deliveries ----

    async fn put_delivery(
        &self,
        delivery: &Delivery,
        expires_at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let item = record_item(
            &keys::delivery_pk(&delivery.bot_id, &delivery.endpoint_id),
            delivery.id.as_str(),
            delivery,
            Some(expires_at),
        )?;
        self.put_if(item, None).await.map(drop)
    }

    /// The row is looked for under each of the bot's endpoints (one Query
    /// for the endpoints, one BatchGetItem per 100 of them): an admin read,
    /// so that each attempt of a delivery is one write, not a row and a
    /// pointer to it.
    async fn get_delivery(
        &self,
        bot: &BotId,
        id: &DeliveryId,
    ) -> Result<Option<Delivery>, StoreError> {
        let endpoints = self
            .query_all(&keys::bot_pk(bot), keys::ENDPOINT_PREFIX, true)
            .await?;
        let mut rows = Vec::with_capacity(endpoints.len());
        for endpoint in &endpoints {
            let sk = attr_s(endpoint, "sk")?;
            let endpoint = sk.strip_prefix(keys::ENDPOINT_PREFIX).unwrap_or(&sk);
            rows.push(key(&keys::delivery_pk(bot, endpoint), id.as_str()));
        }
        self.get_first(rows)
            .await?
            .map(|item| decode(&item))
            .transpose()
    }

    async fn get_endpoint_delivery(
        &self,
        bot: &BotId,
        endpoint: &EndpointId,
        id: &DeliveryId,
    ) -> Result<Option<Delivery>, StoreError> {
        self.get_record(&keys::delivery_pk(bot, endpoint), id.as_str())
            .await
    }

    async fn list_deliveries(
        &self,
        bot: &BotId,
        endpoint: &EndpointId,
        page: &Page,
    ) -> Result<Paged<Delivery>, StoreError> {
        let pk = keys::delivery_pk(bot, endpoint);
        let (items, next) = self.query_page(&pk, "", page).await?;
        Ok(Paged {
            items: decode_all(&items)?,
            next,
        })
    }

    // ---- variables ----

    async fn list_variables(&self, bot: &BotId) -> Result<Vec<Variable>, StoreError> {
        let items = self
            .query_all(&keys::bot_pk(bot), keys::VARIABLE_PREFIX, false)
            .await?;
        decode_all(&items)
    }

    async fn get_variable(&self, bot: &BotId, name: &str) -> Result<Option<Variable>, StoreError> {
        self.get_record(&keys::bot_pk(bot), &keys::variable_sk(name))
            .await
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
        match (expected, value) {
            // Deleting what must not exist: nothing to write either way.
            (None, None) => Ok(self.get_item(&pk, &sk).await?.is_none()),
            (Some(expected), None) => {
                let deleted = self
                    .client
                    .delete_item()
                    .table_name(&self.table)
                    .set_key(Some(key(&pk, &sk)))
                    .condition_expression("#version = :expected")
                    .expression_attribute_names("#version", "version")
                    .expression_attribute_values(":expected", n(expected))
                    .send()
                    .await;
                self.condition_held(&format!("DeleteItem {pk} {sk}"), deleted)
            }
            (expected, Some(value)) => {
                let version = expected.map_or(1, |v| v + 1);
                let variable = Variable {
                    name: name.to_owned(),
                    value: value.clone(),
                    version,
                    updated_at: now,
                };
                let mut item = record_item(&pk, &sk, &variable, None)?;
                item.insert("version".to_owned(), n(version));
                let mut put = self
                    .client
                    .put_item()
                    .table_name(&self.table)
                    .set_item(Some(item));
                put = match expected {
                    None => put.condition_expression("attribute_not_exists(pk)"),
                    Some(expected) => put
                        .condition_expression("#version = :expected")
                        .expression_attribute_names("#version", "version")
                        .expression_attribute_values(":expected", n(expected)),
                };
                self.condition_held(&format!("PutItem {pk} {sk}"), put.send().await)
            }
        }
    }

    // ---- idempotency ----

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

    // ---- counters ----

    async fn increment_counter(
        &self,
        window: &RateWindow<'_>,
        expires_at: OffsetDateTime,
    ) -> Result<u64, StoreError> {
        let pk = keys::counter_pk(window);
        let out = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(&pk, COUNTER_SK)))
            .update_expression("ADD #n :one SET #ttl = if_not_exists(#ttl, :ttl)")
            .expression_attribute_names("#n", "n")
            .expression_attribute_names("#ttl", "ttl")
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":ttl", n(epoch_seconds(expires_at)))
            .return_values(ReturnValue::UpdatedNew)
            .send()
            .await
            .map_err(|e| self.sdk_error(&format!("UpdateItem {pk}"), e))?;
        let attributes = out.attributes.unwrap_or_default();
        attr_n(&attributes, "n")
    }

    // ---- outbound targets ----

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
        self.get_item(keys::PING, keys::PING).await.map(drop)
    }
}

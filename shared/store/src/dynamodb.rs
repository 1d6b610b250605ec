//! The `Store` on DynamoDB: one table, single-table design.
//!
//! Every item has a string `pk` (partition) and `sk` (sort key). Records are
//! kept whole as JSON in the string attribute `data`; an item that expires
//! also carries `ttl` (epoch seconds, DynamoDB's TTL attribute).
//!
//! | what | pk | sk | extra |
//! |---|---|---|---|
//! | bot | `BOT#{bot}` | `BOT` | |
//! | hook | `BOT#{bot}` | `HOOK#{hook}` | |
//! | endpoint | `BOT#{bot}` | `EP#{endpoint}` | |
//! | message | `BOT#{bot}` | `MSG#{message}` | `ttl` |
//! | variable | `BOT#{bot}` | `VAR#{name}` | `version` (N) |
//! | idempotency claim | `BOT#{bot}` | `IDEM#{key}` | `value`, `exp` (ms), `ttl` |
//! | delivery pointer | `BOT#{bot}` | `DLVPTR#{delivery}` | `endpoint`, `ttl` |
//! | run | `RUN#{bot}#{hook}` | `{run}` | `ttl` |
//! | delivery | `DLV#{bot}#{endpoint}` | `{delivery}` | `ttl` |
//! | counter | `CTR#{key}` | `CTR` | `n` (N), `ttl` |
//!
//! Ids end in a time-sortable ULID, so a Query with `ScanIndexForward=false`
//! lists newest first. Runs and deliveries get their own partitions, so the
//! busiest writes spread over many partition keys; the delivery pointer lets
//! `get_delivery` find a row by its id alone. Bot ids, hook ids and endpoint
//! ids never contain `#` (`[A-Za-z0-9_-]`), so the keys cannot collide.
//!
//! A list cursor is the last item's id (its `sk` less the kind prefix).

use std::collections::HashMap;
use std::time::Duration;

use anyhow::{anyhow, Context as _};
use async_trait::async_trait;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, DeleteRequest, KeySchemaElement, KeyType,
    ReturnValue, ReturnValuesOnConditionCheckFailure, ScalarAttributeType, TableStatus, Tag,
    TimeToLiveSpecification, TimeToLiveStatus, WriteRequest,
};
use hooklane_domain::{
    Bot, BotId, Delivery, DeliveryId, Endpoint, EndpointId, EventId, Hook, HookId, Message,
    MessageId, Run, Variable,
};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;
use time::OffsetDateTime;

use crate::ports::{Page, Paged, Store, StoreError};

type Item = HashMap<String, AttributeValue>;

/// The items BatchWriteItem takes in one call.
const BATCH_SIZE: usize = 25;
/// How many times unprocessed batch items are sent again before giving up.
const BATCH_RETRIES: u32 = 8;

/// The DynamoDB adapter of [`Store`].
#[derive(Debug, Clone)]
pub struct DynamoStore {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

impl DynamoStore {
    pub fn new(config: &aws_config::SdkConfig, table: impl Into<String>) -> Self {
        Self {
            client: aws_sdk_dynamodb::Client::new(config),
            table: table.into(),
        }
    }

    /// The table this store uses.
    pub fn table(&self) -> &str {
        &self.table
    }

    /// Creates the table when it does not exist, with the SAM template's
    /// schema (`pk` S HASH, `sk` S RANGE, on demand, TTL on `ttl`), and waits
    /// until it is ACTIVE. An existing table is checked, not changed, except
    /// that TTL is turned on when it is off. For `hooklane dev --backend aws`
    /// and tests; in Lambda the template creates the table.
    pub async fn ensure_table(&self) -> anyhow::Result<()> {
        let table = &self.table;
        match self.client.describe_table().table_name(table).send().await {
            Ok(out) => {
                let keys = out.table().map(|t| t.key_schema()).unwrap_or_default();
                let has = |name: &str, kind: KeyType| {
                    keys.iter()
                        .any(|k| k.attribute_name() == name && *k.key_type() == kind)
                };
                if keys.len() != 2 || !has("pk", KeyType::Hash) || !has("sk", KeyType::Range) {
                    anyhow::bail!(
                        "DynamoDB table `{table}` exists but its key is not `pk` (HASH) + `sk` \
                         (RANGE); point HOOKLANE_TABLE at a Hooklane table or a new name"
                    );
                }
            }
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_resource_not_found_exception()) =>
            {
                self.create_table().await?;
            }
            Err(e) => {
                return Err(anyhow::Error::new(e))
                    .with_context(|| format!("could not describe DynamoDB table `{table}`"));
            }
        }
        self.wait_until_active().await?;
        self.ensure_ttl().await
    }

    async fn create_table(&self) -> anyhow::Result<()> {
        let table = &self.table;
        let attribute = |name: &str| {
            AttributeDefinition::builder()
                .attribute_name(name)
                .attribute_type(ScalarAttributeType::S)
                .build()
        };
        let key = |name: &str, kind: KeyType| {
            KeySchemaElement::builder()
                .attribute_name(name)
                .key_type(kind)
                .build()
        };
        let created = self
            .client
            .create_table()
            .table_name(table)
            .attribute_definitions(attribute("pk")?)
            .attribute_definitions(attribute("sk")?)
            .key_schema(key("pk", KeyType::Hash)?)
            .key_schema(key("sk", KeyType::Range)?)
            .billing_mode(BillingMode::PayPerRequest)
            .tags(Tag::builder().key("app").value("hooklane").build()?)
            .send()
            .await;
        match created {
            Ok(_) => {
                tracing::info!(table = %table, "created DynamoDB table");
                Ok(())
            }
            // Someone else created it at the same time.
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_resource_in_use_exception()) =>
            {
                Ok(())
            }
            Err(e) => Err(anyhow::Error::new(e))
                .with_context(|| format!("could not create DynamoDB table `{table}`")),
        }
    }

    async fn wait_until_active(&self) -> anyhow::Result<()> {
        let table = &self.table;
        for _ in 0..240 {
            let out = self
                .client
                .describe_table()
                .table_name(table)
                .send()
                .await
                .with_context(|| format!("could not describe DynamoDB table `{table}`"))?;
            match out.table().and_then(|t| t.table_status()) {
                Some(TableStatus::Active) => return Ok(()),
                Some(TableStatus::Creating) | Some(TableStatus::Updating) | None => {
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
                Some(other) => {
                    anyhow::bail!("DynamoDB table `{table}` is {other}, not ACTIVE")
                }
            }
        }
        anyhow::bail!("DynamoDB table `{table}` did not become ACTIVE within 2 minutes")
    }

    async fn ensure_ttl(&self) -> anyhow::Result<()> {
        let table = &self.table;
        let out = self
            .client
            .describe_time_to_live()
            .table_name(table)
            .send()
            .await
            .with_context(|| format!("could not read the TTL setting of `{table}`"))?;
        let ttl = out.time_to_live_description();
        let status = ttl.and_then(|t| t.time_to_live_status());
        let attribute = ttl.and_then(|t| t.attribute_name());
        match status {
            Some(TimeToLiveStatus::Enabled) | Some(TimeToLiveStatus::Enabling) => {
                if attribute.is_some_and(|a| a != "ttl") {
                    anyhow::bail!(
                        "DynamoDB table `{table}` has TTL on `{}`, Hooklane needs it on `ttl`",
                        attribute.unwrap_or_default()
                    );
                }
                Ok(())
            }
            _ => {
                self.client
                    .update_time_to_live()
                    .table_name(table)
                    .time_to_live_specification(
                        TimeToLiveSpecification::builder()
                            .attribute_name("ttl")
                            .enabled(true)
                            .build()?,
                    )
                    .send()
                    .await
                    .with_context(|| format!("could not turn on TTL for `{table}`"))?;
                Ok(())
            }
        }
    }

    // ---- item helpers ----

    fn unexpected<E>(&self, what: &str, err: E) -> StoreError
    where
        E: std::error::Error + Send + Sync + 'static,
    {
        StoreError::Unexpected(
            anyhow::Error::new(err).context(format!("DynamoDB {what} on table `{}`", self.table)),
        )
    }

    /// Deletes a record after its children (`children`, run only when the
    /// record exists): a delete that fails half way can be retried.
    /// `NotFound` when the record is absent.
    async fn delete_parent(
        &self,
        pk: &str,
        sk: &str,
        children: impl std::future::Future<Output = Result<(), StoreError>>,
    ) -> Result<(), StoreError> {
        if self.get_item(pk, sk).await?.is_none() {
            return Err(StoreError::NotFound);
        }
        children.await?;
        match self.delete_existing(pk, sk).await? {
            true => Ok(()),
            false => Err(StoreError::NotFound),
        }
    }

    async fn get_item(&self, pk: &str, sk: &str) -> Result<Option<Item>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key(pk, sk)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| self.unexpected(&format!("GetItem {pk} {sk}"), e))?;
        Ok(out.item)
    }

    async fn get_record<T: DeserializeOwned>(
        &self,
        pk: &str,
        sk: &str,
    ) -> Result<Option<T>, StoreError> {
        match self.get_item(pk, sk).await? {
            Some(item) => decode(&item).map(Some),
            None => Ok(None),
        }
    }

    /// Puts `item`; `condition` failing answers `Ok(false)`.
    async fn put_if(&self, item: Item, condition: Option<&str>) -> Result<bool, StoreError> {
        let mut put = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item));
        if let Some(condition) = condition {
            put = put.condition_expression(condition);
        }
        match put.send().await {
            Ok(_) => Ok(true),
            Err(e) if is_condition_failed(&e) => Ok(false),
            Err(e) => Err(self.unexpected("PutItem", e)),
        }
    }

    /// Puts a new record: `Conflict` when the key is taken.
    async fn create(&self, item: Item) -> Result<(), StoreError> {
        match self.put_if(item, Some("attribute_not_exists(pk)")).await? {
            true => Ok(()),
            false => Err(StoreError::Conflict),
        }
    }

    /// Replaces a record: `NotFound` when the key is free.
    async fn replace(&self, item: Item) -> Result<(), StoreError> {
        match self.put_if(item, Some("attribute_exists(pk)")).await? {
            true => Ok(()),
            false => Err(StoreError::NotFound),
        }
    }

    /// Deletes one item; `false` when it was not there.
    async fn delete_existing(&self, pk: &str, sk: &str) -> Result<bool, StoreError> {
        let deleted = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key(pk, sk)))
            .condition_expression("attribute_exists(pk)")
            .send()
            .await;
        match deleted {
            Ok(_) => Ok(true),
            Err(e) if is_condition_failed(&e) => Ok(false),
            Err(e) => Err(self.unexpected(&format!("DeleteItem {pk} {sk}"), e)),
        }
    }

    /// One newest-first page of the items of `pk` whose sk starts with
    /// `prefix`; the cursor is the sk less `prefix`.
    async fn query_page(
        &self,
        pk: &str,
        prefix: &str,
        page: &Page,
    ) -> Result<(Vec<Item>, Option<String>), StoreError> {
        let size = page.size();
        let mut start = page
            .cursor
            .as_deref()
            .filter(|c| !c.is_empty())
            .map(|c| key(pk, &format!("{prefix}{c}")));
        let mut items = Vec::with_capacity(size + 1);
        // Ask for one more than the page holds: it tells whether a next page exists.
        loop {
            let want = size + 1 - items.len();
            let out = self
                .query(pk, prefix)
                .scan_index_forward(false)
                .limit(i32::try_from(want).unwrap_or(i32::MAX))
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| self.unexpected(&format!("Query {pk} {prefix}"), e))?;
            items.extend(out.items.unwrap_or_default());
            match out.last_evaluated_key {
                Some(last) if items.len() <= size => start = Some(last),
                _ => break,
            }
        }
        let next = if items.len() > size {
            items.truncate(size);
            let last = items.last().map(|item| attr_s(item, "sk")).transpose()?;
            last.map(|sk| sk.strip_prefix(prefix).unwrap_or(&sk).to_owned())
        } else {
            None
        };
        Ok((items, next))
    }

    /// Every item of `pk` whose sk starts with `prefix`, in sk order.
    /// `keys_only` reads just `pk` and `sk`.
    async fn query_all(
        &self,
        pk: &str,
        prefix: &str,
        keys_only: bool,
    ) -> Result<Vec<Item>, StoreError> {
        let mut items = Vec::new();
        let mut start = None;
        loop {
            let mut query = self.query(pk, prefix).set_exclusive_start_key(start.take());
            if keys_only {
                query = query.projection_expression("pk, sk");
            }
            let out = query
                .send()
                .await
                .map_err(|e| self.unexpected(&format!("Query {pk} {prefix}"), e))?;
            items.extend(out.items.unwrap_or_default());
            match out.last_evaluated_key {
                Some(last) => start = Some(last),
                None => return Ok(items),
            }
        }
    }

    fn query(
        &self,
        pk: &str,
        prefix: &str,
    ) -> aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder {
        let query = self
            .client
            .query()
            .table_name(&self.table)
            .consistent_read(true)
            .expression_attribute_values(":pk", s(pk));
        if prefix.is_empty() {
            query.key_condition_expression("pk = :pk")
        } else {
            query
                .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
                .expression_attribute_values(":prefix", s(prefix))
        }
    }

    /// Deletes `keys` with BatchWriteItem, 25 at a time, sending unprocessed
    /// items again with a growing pause.
    async fn delete_keys(&self, keys: Vec<Item>) -> Result<(), StoreError> {
        for chunk in keys.chunks(BATCH_SIZE) {
            let mut pending = chunk
                .iter()
                .map(|key| {
                    DeleteRequest::builder()
                        .set_key(Some(key.clone()))
                        .build()
                        .map(|delete| WriteRequest::builder().delete_request(delete).build())
                })
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| self.unexpected("BatchWriteItem (building the request)", e))?;
            let mut retries = 0;
            while !pending.is_empty() {
                let out = self
                    .client
                    .batch_write_item()
                    .request_items(&self.table, pending)
                    .send()
                    .await
                    .map_err(|e| self.unexpected("BatchWriteItem", e))?;
                pending = out
                    .unprocessed_items
                    .and_then(|mut left| left.remove(&self.table))
                    .unwrap_or_default();
                if !pending.is_empty() {
                    retries += 1;
                    if retries > BATCH_RETRIES {
                        return Err(StoreError::Unexpected(anyhow!(
                            "DynamoDB BatchWriteItem on table `{}` left {} items unprocessed \
                             after {BATCH_RETRIES} retries",
                            self.table,
                            pending.len()
                        )));
                    }
                    tokio::time::sleep(Duration::from_millis(25 << retries.min(6))).await;
                }
            }
        }
        Ok(())
    }

    /// Deletes the runs of a hook.
    async fn delete_runs(&self, bot: &str, hook: &str) -> Result<(), StoreError> {
        let keys = self.query_all(&run_pk(bot, hook), "", true).await?;
        self.delete_keys(keys).await
    }

    /// Deletes the delivery log of an endpoint and the rows' pointers.
    async fn delete_deliveries(&self, bot: &str, endpoint: &str) -> Result<(), StoreError> {
        let rows = self
            .query_all(&delivery_pk(bot, endpoint), "", true)
            .await?;
        let mut keys = Vec::with_capacity(rows.len() * 2);
        for row in rows {
            let id = attr_s(&row, "sk")?;
            keys.push(key(&bot_pk(bot), &format!("{DELIVERY_POINTER}{id}")));
            keys.push(row);
        }
        self.delete_keys(keys).await
    }
}

// ---- keys ----

const BOT_SK: &str = "BOT";
const HOOK: &str = "HOOK#";
const ENDPOINT: &str = "EP#";
const MESSAGE: &str = "MSG#";
const VARIABLE: &str = "VAR#";
const IDEMPOTENCY: &str = "IDEM#";
const DELIVERY_POINTER: &str = "DLVPTR#";
const COUNTER_SK: &str = "CTR";

fn bot_pk(bot: &str) -> String {
    format!("BOT#{bot}")
}

fn run_pk(bot: &str, hook: &str) -> String {
    format!("RUN#{bot}#{hook}")
}

fn delivery_pk(bot: &str, endpoint: &str) -> String {
    format!("DLV#{bot}#{endpoint}")
}

fn counter_pk(key: &str) -> String {
    format!("CTR#{key}")
}

fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

fn n(value: impl ToString) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

fn key(pk: &str, sk: &str) -> Item {
    HashMap::from([("pk".to_owned(), s(pk)), ("sk".to_owned(), s(sk))])
}

fn epoch_seconds(at: OffsetDateTime) -> i64 {
    at.unix_timestamp()
}

fn epoch_millis(at: OffsetDateTime) -> i64 {
    i64::try_from(at.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

/// The item holding `record` as JSON in `data`, expiring at `expires_at`.
fn record_item<T: Serialize>(
    pk: &str,
    sk: &str,
    record: &T,
    expires_at: Option<OffsetDateTime>,
) -> Result<Item, StoreError> {
    let data = serde_json::to_string(record)
        .with_context(|| format!("could not serialize the record {pk} {sk}"))?;
    let mut item = key(pk, sk);
    item.insert("data".to_owned(), s(data));
    if let Some(at) = expires_at {
        item.insert("ttl".to_owned(), n(epoch_seconds(at)));
    }
    Ok(item)
}

fn attr_s(item: &Item, name: &str) -> Result<String, StoreError> {
    match item.get(name) {
        Some(AttributeValue::S(value)) => Ok(value.clone()),
        _ => Err(StoreError::Unexpected(anyhow!(
            "a DynamoDB item has no string attribute `{name}`"
        ))),
    }
}

fn attr_n<T: std::str::FromStr>(item: &Item, name: &str) -> Result<T, StoreError> {
    match item.get(name) {
        Some(AttributeValue::N(value)) => value.parse().map_err(|_| {
            StoreError::Unexpected(anyhow!(
                "the DynamoDB attribute `{name}` holds `{value}`, not the number expected"
            ))
        }),
        _ => Err(StoreError::Unexpected(anyhow!(
            "a DynamoDB item has no number attribute `{name}`"
        ))),
    }
}

fn decode<T: DeserializeOwned>(item: &Item) -> Result<T, StoreError> {
    let data = attr_s(item, "data")?;
    serde_json::from_str(&data).map_err(|e| {
        let pk = attr_s(item, "pk").unwrap_or_default();
        let sk = attr_s(item, "sk").unwrap_or_default();
        StoreError::Unexpected(
            anyhow::Error::new(e).context(format!("the stored record {pk} {sk} does not parse")),
        )
    })
}

fn decode_all<T: DeserializeOwned>(items: &[Item]) -> Result<Vec<T>, StoreError> {
    items.iter().map(decode).collect()
}

fn is_condition_failed<E: ProvideErrorMetadata>(err: &SdkError<E>) -> bool {
    err.code() == Some("ConditionalCheckFailedException")
}

#[async_trait]
impl Store for DynamoStore {
    // ---- bots ----

    async fn create_bot(&self, bot: &Bot) -> Result<(), StoreError> {
        let pk = bot_pk(bot.id.as_str());
        self.create(record_item(&pk, BOT_SK, bot, None)?).await
    }

    async fn get_bot(&self, id: &BotId) -> Result<Option<Bot>, StoreError> {
        self.get_record(&bot_pk(id.as_str()), BOT_SK).await
    }

    async fn update_bot(&self, bot: &Bot) -> Result<(), StoreError> {
        let pk = bot_pk(bot.id.as_str());
        self.replace(record_item(&pk, BOT_SK, bot, None)?).await
    }

    async fn delete_bot(&self, id: &BotId) -> Result<(), StoreError> {
        let bot = id.as_str();
        let pk = bot_pk(bot);
        if self.get_item(&pk, BOT_SK).await?.is_none() {
            return Err(StoreError::NotFound);
        }
        // The runs and delivery logs live in partitions of their own.
        let items = self.query_all(&pk, "", true).await?;
        for item in &items {
            let sk = attr_s(item, "sk")?;
            if let Some(hook) = sk.strip_prefix(HOOK) {
                self.delete_runs(bot, hook).await?;
            } else if let Some(endpoint) = sk.strip_prefix(ENDPOINT) {
                self.delete_deliveries(bot, endpoint).await?;
            }
        }
        // The bot item goes last: a delete that fails half way can be retried.
        let (rest, bot_item): (Vec<Item>, Vec<Item>) = items.into_iter().partition(
            |item| !matches!(item.get("sk"), Some(AttributeValue::S(sk)) if sk == BOT_SK),
        );
        self.delete_keys(rest).await?;
        self.delete_keys(bot_item).await
    }

    // ---- hooks ----

    async fn create_hook(&self, hook: &Hook) -> Result<(), StoreError> {
        let pk = bot_pk(hook.bot_id.as_str());
        let sk = format!("{HOOK}{}", hook.id);
        self.create(record_item(&pk, &sk, hook, None)?).await
    }

    async fn get_hook(&self, bot: &BotId, id: &HookId) -> Result<Option<Hook>, StoreError> {
        self.get_record(&bot_pk(bot.as_str()), &format!("{HOOK}{id}"))
            .await
    }

    async fn list_hooks(&self, bot: &BotId, page: &Page) -> Result<Paged<Hook>, StoreError> {
        let (items, next) = self.query_page(&bot_pk(bot.as_str()), HOOK, page).await?;
        Ok(Paged {
            items: decode_all(&items)?,
            next,
        })
    }

    async fn update_hook(&self, hook: &Hook) -> Result<(), StoreError> {
        let pk = bot_pk(hook.bot_id.as_str());
        let sk = format!("{HOOK}{}", hook.id);
        self.replace(record_item(&pk, &sk, hook, None)?).await
    }

    async fn delete_hook(&self, bot: &BotId, id: &HookId) -> Result<(), StoreError> {
        let pk = bot_pk(bot.as_str());
        self.delete_parent(
            &pk,
            &format!("{HOOK}{id}"),
            self.delete_runs(bot.as_str(), id.as_str()),
        )
        .await
    }

    // ---- runs ----

    async fn put_run(&self, run: &Run, expires_at: OffsetDateTime) -> Result<(), StoreError> {
        let pk = run_pk(run.bot_id.as_str(), run.hook_id.as_str());
        let item = record_item(&pk, run.id.as_str(), run, Some(expires_at))?;
        self.put_if(item, None).await.map(drop)
    }

    async fn get_run(
        &self,
        bot: &BotId,
        hook: &HookId,
        id: &EventId,
    ) -> Result<Option<Run>, StoreError> {
        self.get_record(&run_pk(bot.as_str(), hook.as_str()), id.as_str())
            .await
    }

    async fn list_runs(
        &self,
        bot: &BotId,
        hook: &HookId,
        page: &Page,
    ) -> Result<Paged<Run>, StoreError> {
        let pk = run_pk(bot.as_str(), hook.as_str());
        let (items, next) = self.query_page(&pk, "", page).await?;
        Ok(Paged {
            items: decode_all(&items)?,
            next,
        })
    }

    // ---- endpoints ----

    async fn create_endpoint(&self, endpoint: &Endpoint) -> Result<(), StoreError> {
        let pk = bot_pk(endpoint.bot_id.as_str());
        let sk = format!("{ENDPOINT}{}", endpoint.id);
        self.create(record_item(&pk, &sk, endpoint, None)?).await
    }

    async fn get_endpoint(
        &self,
        bot: &BotId,
        id: &EndpointId,
    ) -> Result<Option<Endpoint>, StoreError> {
        self.get_record(&bot_pk(bot.as_str()), &format!("{ENDPOINT}{id}"))
            .await
    }

    async fn list_endpoints(
        &self,
        bot: &BotId,
        page: &Page,
    ) -> Result<Paged<Endpoint>, StoreError> {
        let (items, next) = self
            .query_page(&bot_pk(bot.as_str()), ENDPOINT, page)
            .await?;
        Ok(Paged {
            items: decode_all(&items)?,
            next,
        })
    }

    async fn update_endpoint(&self, endpoint: &Endpoint) -> Result<(), StoreError> {
        let pk = bot_pk(endpoint.bot_id.as_str());
        let sk = format!("{ENDPOINT}{}", endpoint.id);
        self.replace(record_item(&pk, &sk, endpoint, None)?).await
    }

    async fn delete_endpoint(&self, bot: &BotId, id: &EndpointId) -> Result<(), StoreError> {
        let pk = bot_pk(bot.as_str());
        self.delete_parent(
            &pk,
            &format!("{ENDPOINT}{id}"),
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
        let pk = bot_pk(message.bot_id.as_str());
        let sk = format!("{MESSAGE}{}", message.id);
        let item = record_item(&pk, &sk, message, Some(expires_at))?;
        self.put_if(item, None).await.map(drop)
    }

    async fn get_message(
        &self,
        bot: &BotId,
        id: &MessageId,
    ) -> Result<Option<Message>, StoreError> {
        self.get_record(&bot_pk(bot.as_str()), &format!("{MESSAGE}{id}"))
            .await
    }

    // ---- deliveries ----

    async fn put_delivery(
        &self,
        delivery: &Delivery,
        expires_at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let bot = delivery.bot_id.as_str();
        let endpoint = delivery.endpoint_id.as_str();
        // The pointer first, so a row that can be listed can also be found by id.
        let mut pointer = key(&bot_pk(bot), &format!("{DELIVERY_POINTER}{}", delivery.id));
        pointer.insert("endpoint".to_owned(), s(endpoint));
        pointer.insert("ttl".to_owned(), n(epoch_seconds(expires_at)));
        self.put_if(pointer, None).await?;
        let item = record_item(
            &delivery_pk(bot, endpoint),
            delivery.id.as_str(),
            delivery,
            Some(expires_at),
        )?;
        self.put_if(item, None).await.map(drop)
    }

    async fn get_delivery(
        &self,
        bot: &BotId,
        id: &DeliveryId,
    ) -> Result<Option<Delivery>, StoreError> {
        let pointer = self
            .get_item(&bot_pk(bot.as_str()), &format!("{DELIVERY_POINTER}{id}"))
            .await?;
        let Some(pointer) = pointer else {
            return Ok(None);
        };
        let endpoint = attr_s(&pointer, "endpoint")?;
        self.get_record(&delivery_pk(bot.as_str(), &endpoint), id.as_str())
            .await
    }

    async fn list_deliveries(
        &self,
        bot: &BotId,
        endpoint: &EndpointId,
        page: &Page,
    ) -> Result<Paged<Delivery>, StoreError> {
        let pk = delivery_pk(bot.as_str(), endpoint.as_str());
        let (items, next) = self.query_page(&pk, "", page).await?;
        Ok(Paged {
            items: decode_all(&items)?,
            next,
        })
    }

    // ---- variables ----

    async fn list_variables(&self, bot: &BotId) -> Result<Vec<Variable>, StoreError> {
        let items = self
            .query_all(&bot_pk(bot.as_str()), VARIABLE, false)
            .await?;
        decode_all(&items)
    }

    async fn get_variable(&self, bot: &BotId, name: &str) -> Result<Option<Variable>, StoreError> {
        self.get_record(&bot_pk(bot.as_str()), &format!("{VARIABLE}{name}"))
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
        let pk = bot_pk(bot.as_str());
        let sk = format!("{VARIABLE}{name}");
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
                match deleted {
                    Ok(_) => Ok(true),
                    Err(e) if is_condition_failed(&e) => Ok(false),
                    Err(e) => Err(self.unexpected(&format!("DeleteItem {pk} {sk}"), e)),
                }
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
                match put.send().await {
                    Ok(_) => Ok(true),
                    Err(e) if is_condition_failed(&e) => Ok(false),
                    Err(e) => Err(self.unexpected(&format!("PutItem {pk} {sk}"), e)),
                }
            }
        }
    }

    // ---- idempotency ----

    async fn claim_key(
        &self,
        bot: &BotId,
        key_name: &str,
        value: &str,
        expires_at: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Result<Option<String>, StoreError> {
        let pk = bot_pk(bot.as_str());
        let sk = format!("{IDEMPOTENCY}{key_name}");
        // A claim can be released between a failed put and the read of the
        // holder; then the put is tried again.
        for _ in 0..5 {
            let mut item = key(&pk, &sk);
            item.insert("value".to_owned(), s(value));
            item.insert("exp".to_owned(), n(epoch_millis(expires_at)));
            item.insert("ttl".to_owned(), n(epoch_seconds(expires_at)));
            let put = self
                .client
                .put_item()
                .table_name(&self.table)
                .set_item(Some(item))
                .condition_expression("attribute_not_exists(pk) OR #exp <= :now")
                .expression_attribute_names("#exp", "exp")
                .expression_attribute_values(":now", n(epoch_millis(now)))
                .return_values_on_condition_check_failure(
                    ReturnValuesOnConditionCheckFailure::AllOld,
                )
                .send()
                .await;
            let holder = match put {
                Ok(_) => return Ok(None),
                Err(SdkError::ServiceError(e)) => match e.into_err() {
                    PutItemError::ConditionalCheckFailedException(e) => e.item,
                    other => return Err(self.unexpected(&format!("PutItem {pk} {sk}"), other)),
                },
                Err(e) => return Err(self.unexpected(&format!("PutItem {pk} {sk}"), e)),
            };
            let holder = match holder {
                Some(holder) => Some(holder),
                None => self.get_item(&pk, &sk).await?,
            };
            if let Some(holder) = holder {
                return attr_s(&holder, "value").map(Some);
            }
        }
        Err(StoreError::Unexpected(anyhow!(
            "the idempotency key {sk} of bot {bot} kept changing hands; gave up claiming it"
        )))
    }

    async fn release_key(&self, bot: &BotId, key_name: &str) -> Result<(), StoreError> {
        let pk = bot_pk(bot.as_str());
        let sk = format!("{IDEMPOTENCY}{key_name}");
        self.client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key(&pk, &sk)))
            .send()
            .await
            .map_err(|e| self.unexpected(&format!("DeleteItem {pk} {sk}"), e))?;
        Ok(())
    }

    // ---- counters ----

    async fn increment_counter(
        &self,
        key_name: &str,
        expires_at: OffsetDateTime,
    ) -> Result<u64, StoreError> {
        let pk = counter_pk(key_name);
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
            .map_err(|e| self.unexpected(&format!("UpdateItem {pk}"), e))?;
        let attributes = out.attributes.unwrap_or_default();
        attr_n(&attributes, "n")
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.get_item("PING", "PING").await.map(drop)
    }
}

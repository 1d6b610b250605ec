//! The DynamoDB requests the `Store` methods are built from: reads,
//! conditional puts and deletes, paged queries and batched deletes.

use std::time::Duration;

use anyhow::anyhow;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;
use aws_sdk_dynamodb::types::{DeleteRequest, KeysAndAttributes, WriteRequest};
use serde::de::DeserializeOwned;

use super::items::{attr_s, decode, is_condition_failed, key, s, Item};
use super::DynamoStore;
use crate::aws_errors::cannot_answer;
use crate::keys;
use crate::ports::{Page, StoreError};

/// The items BatchWriteItem takes in one call.
const BATCH_SIZE: usize = 25;
/// The keys BatchGetItem takes in one call.
const BATCH_GET_SIZE: usize = 100;
/// How many times unprocessed batch items are sent again before giving up.
const BATCH_RETRIES: u32 = 8;

impl DynamoStore {
    /// An SDK error of `what`: `Unavailable` when DynamoDB could not be
    /// reached or could not answer now, `Unexpected` otherwise.
    pub(super) fn sdk_error<E, R>(&self, what: &str, err: SdkError<E, R>) -> StoreError
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
        R: std::fmt::Debug + Send + Sync + 'static,
    {
        let unavailable = cannot_answer(&err);
        let err =
            anyhow::Error::new(err).context(format!("DynamoDB {what} on table `{}`", self.table));
        if unavailable {
            StoreError::Unavailable(err)
        } else {
            StoreError::Unexpected(err)
        }
    }

    /// The answer of a conditional write `what`: `true` when it was made,
    /// `false` when its condition failed, the SDK error otherwise.
    pub(super) fn condition_held<T, E>(
        &self,
        what: &str,
        result: Result<T, SdkError<E>>,
    ) -> Result<bool, StoreError>
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        match result {
            Ok(_) => Ok(true),
            Err(e) if is_condition_failed(&e) => Ok(false),
            Err(e) => Err(self.sdk_error(what, e)),
        }
    }

    pub(super) fn unexpected<E>(&self, what: &str, err: E) -> StoreError
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
    pub(super) async fn delete_parent(
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

    pub(super) async fn get_item(&self, pk: &str, sk: &str) -> Result<Option<Item>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key(pk, sk)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| self.sdk_error(&format!("GetItem {pk} {sk}"), e))?;
        Ok(out.item)
    }

    pub(super) async fn get_record<T: DeserializeOwned>(
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
    pub(super) async fn put_if(
        &self,
        item: Item,
        condition: Option<&str>,
    ) -> Result<bool, StoreError> {
        let mut put = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item));
        if let Some(condition) = condition {
            put = put.condition_expression(condition);
        }
        self.condition_held("PutItem", put.send().await)
    }

    /// Puts a new record: `Conflict` when the key is taken.
    pub(super) async fn create(&self, item: Item) -> Result<(), StoreError> {
        match self.put_if(item, Some("attribute_not_exists(pk)")).await? {
            true => Ok(()),
            false => Err(StoreError::Conflict),
        }
    }

    /// Replaces a record: `NotFound` when the key is free.
    pub(super) async fn replace(&self, item: Item) -> Result<(), StoreError> {
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
        self.condition_held(&format!("DeleteItem {pk} {sk}"), deleted)
    }

    /// One newest-first page of the items of `pk` whose sk starts with
    /// `prefix`; the cursor is the sk less `prefix`.
    pub(super) async fn query_page(
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
                .map_err(|e| self.sdk_error(&format!("Query {pk} {prefix}"), e))?;
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
    pub(super) async fn query_all(
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
                .map_err(|e| self.sdk_error(&format!("Query {pk} {prefix}"), e))?;
            items.extend(out.items.unwrap_or_default());
            match out.last_evaluated_key {
                Some(last) => start = Some(last),
                None => return Ok(items),
            }
        }
    }

    fn query(&self, pk: &str, prefix: &str) -> QueryFluentBuilder {
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
    pub(super) async fn delete_keys(&self, keys: Vec<Item>) -> Result<(), StoreError> {
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
                    .map_err(|e| self.sdk_error("BatchWriteItem", e))?;
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

    /// The first of `keys` (in their order) that names an item, read with
    /// BatchGetItem, 100 keys a call (strongly consistent), sending
    /// unprocessed keys again with a growing pause; `None` when none does.
    pub(super) async fn get_first(&self, keys: Vec<Item>) -> Result<Option<Item>, StoreError> {
        for chunk in keys.chunks(BATCH_GET_SIZE) {
            let mut pending = Some(
                KeysAndAttributes::builder()
                    .set_keys(Some(chunk.to_vec()))
                    .consistent_read(true)
                    .build()
                    .map_err(|e| self.unexpected("BatchGetItem (building the request)", e))?,
            );
            let mut found: Vec<Item> = Vec::new();
            let mut retries = 0;
            while let Some(request) = pending.take() {
                let out = self
                    .client
                    .batch_get_item()
                    .request_items(&self.table, request)
                    .send()
                    .await
                    .map_err(|e| self.sdk_error("BatchGetItem", e))?;
                found.extend(
                    out.responses
                        .and_then(|mut got| got.remove(&self.table))
                        .unwrap_or_default(),
                );
                pending = out
                    .unprocessed_keys
                    .and_then(|mut left| left.remove(&self.table))
                    .filter(|left| !left.keys().is_empty());
                if pending.is_some() {
                    retries += 1;
                    if retries > BATCH_RETRIES {
                        return Err(StoreError::Unexpected(anyhow!(
                            "DynamoDB BatchGetItem on table `{}` left keys unprocessed \
                             after {BATCH_RETRIES} retries",
                            self.table
                        )));
                    }
                    tokio::time::sleep(Duration::from_millis(25 << retries.min(6))).await;
                }
            }
            // BatchGetItem answers in no particular order: keep the keys' order.
            let first = chunk.iter().find_map(|wanted| {
                found
                    .iter()
                    .position(|item| {
                        item.get("pk") == wanted.get("pk") && item.get("sk") == wanted.get("sk")
                    })
                    .map(|at| found.swap_remove(at))
            });
            if first.is_some() {
                return Ok(first);
            }
        }
        Ok(None)
    }

    /// Deletes the runs of a hook.
    pub(super) async fn delete_runs(&self, bot: &str, hook: &str) -> Result<(), StoreError> {
        let keys = self.query_all(&keys::run_pk(bot, hook), "", true).await?;
        self.delete_keys(keys).await
    }

    /// Deletes the delivery log of an endpoint, and the `DLVPTR#` pointers
    /// that rows written by earlier versions had in the bot's partition.
    pub(super) async fn delete_deliveries(
        &self,
        bot: &str,
        endpoint: &str,
    ) -> Result<(), StoreError> {
        let rows = self
            .query_all(&keys::delivery_pk(bot, endpoint), "", true)
            .await?;
        let mut keys = Vec::with_capacity(rows.len() * 2);
        for row in rows {
            let id = attr_s(&row, "sk")?;
            keys.push(key(&keys::bot_pk(bot), &keys::delivery_pointer_sk(id)));
            keys.push(row);
        }
        self.delete_keys(keys).await
    }
}

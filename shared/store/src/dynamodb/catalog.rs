//! The installation-wide records on DynamoDB: the bot list and settings
//! stored once.
//!
//! A table holds no cheap list of its partitions, so every bot also has an
//! entry in the `BOTS` partition (`sk` `BOT#{bot}`, the bot record in
//! `data`), written in one transaction with the bot on create, after it
//! on update, and deleted before it: `list_bots` is one Query. A bot
//! stored before the list existed has no entry until
//! [`DynamoStore::backfill_bot_list`] writes it (`hooklane backfill-bot-list`).

use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use std::collections::HashSet;

use aws_sdk_dynamodb::types::{ConditionCheck, Put, TransactWriteItem};
use hooklane_domain::Bot;

use super::items::{attr_s, decode, decode_all, is_condition_failed, key, record_item, s, Item};
use super::DynamoStore;
use crate::keys::{self, BOTS_PK, BOT_SK, SETTING_SK};
use crate::ports::{Page, Paged, StoreError};

impl DynamoStore {
    /// Creates the bot and its list entry together; `Conflict` when the id is taken.
    pub(super) async fn create_bot_listed(&self, bot: &Bot) -> Result<(), StoreError> {
        let record = record_item(&keys::bot_pk(&bot.id), BOT_SK, bot, None)?;
        let entry = record_item(BOTS_PK, &keys::bot_pk(&bot.id), bot, None)?;
        let put = |item: Item, condition: Option<&str>| {
            Put::builder()
                .table_name(&self.table)
                .set_item(Some(item))
                .set_condition_expression(condition.map(str::to_owned))
                .build()
                .map(|put| TransactWriteItem::builder().put(put).build())
                .map_err(|e| self.unexpected("TransactWriteItems (building the request)", e))
        };
        let result = self
            .client
            .transact_write_items()
            .transact_items(put(record, Some("attribute_not_exists(pk)"))?)
            .transact_items(put(entry, None)?)
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(SdkError::ServiceError(e))
                if matches!(
                    e.err(),
                    TransactWriteItemsError::TransactionCanceledException(c)
                        if c.cancellation_reasons().iter().any(|r| r.code() == Some("ConditionalCheckFailed"))
                ) =>
            {
                Err(StoreError::Conflict)
            }
            Err(e) => Err(self.sdk_error(&format!("TransactWriteItems bot {}", bot.id), e)),
        }
    }

    /// Writes the list entry of every bot stored without one (created
    /// before the bot list existed), so `list_bots` lists it; answers how
    /// many it wrote. Reads the list (one Query) and the bot records (one
    /// Scan of the whole table: it reads, and is billed for, every item
    /// once); each missing entry is written in a transaction that takes it
    /// only if there is still none and the bot is still there, so it is
    /// safe beside the running functions (a bot deleted meanwhile stays
    /// unlisted) and safe to run again (a second run writes nothing).
    pub async fn backfill_bot_list(&self) -> Result<usize, StoreError> {
        let listed: HashSet<String> = self
            .query_all(BOTS_PK, &keys::bot_pk(""), true)
            .await?
            .iter()
            .map(|entry| attr_s(entry, "sk"))
            .collect::<Result<_, _>>()?;
        let mut written = 0;
        let mut start = None;
        loop {
            let page = self
                .client
                .scan()
                .table_name(&self.table)
                .filter_expression("sk = :bot")
                .expression_attribute_values(":bot", s(BOT_SK))
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| self.sdk_error("Scan for bots (the bot list's backfill)", e))?;
            for record in page.items() {
                if listed.contains(&attr_s(record, "pk")?) {
                    continue;
                }
                let bot: Bot = decode(record)?;
                if self.put_missing_entry(&bot).await? {
                    written += 1;
                }
            }
            match page.last_evaluated_key {
                Some(last) => start = Some(last),
                None => return Ok(written),
            }
        }
    }

    /// Writes the bot's list entry if there is none and the bot is still
    /// stored; answers whether it wrote it.
    async fn put_missing_entry(&self, bot: &Bot) -> Result<bool, StoreError> {
        let pk = keys::bot_pk(&bot.id);
        let entry = Put::builder()
            .table_name(&self.table)
            .set_item(Some(record_item(BOTS_PK, &pk, bot, None)?))
            .condition_expression("attribute_not_exists(pk)")
            .build()
            .map_err(|e| self.unexpected("TransactWriteItems (building the entry)", e))?;
        let still_there = ConditionCheck::builder()
            .table_name(&self.table)
            .set_key(Some(key(&pk, BOT_SK)))
            .condition_expression("attribute_exists(pk)")
            .build()
            .map_err(|e| self.unexpected("TransactWriteItems (building the check)", e))?;
        let result = self
            .client
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().put(entry).build())
            .transact_items(
                TransactWriteItem::builder()
                    .condition_check(still_there)
                    .build(),
            )
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            // Listed meanwhile, or deleted meanwhile: nothing to write.
            Err(SdkError::ServiceError(e))
                if matches!(
                    e.err(),
                    TransactWriteItemsError::TransactionCanceledException(c)
                        if c.cancellation_reasons().iter().any(|r| r.code() == Some("ConditionalCheckFailed"))
                ) =>
            {
                Ok(false)
            }
            Err(e) => {
                Err(self.sdk_error(&format!("TransactWriteItems bot list entry {}", bot.id), e))
            }
        }
    }

    /// Writes the bot's list entry (after the bot itself was replaced).
    pub(super) async fn put_bot_entry(&self, bot: &Bot) -> Result<(), StoreError> {
        let entry = record_item(BOTS_PK, &keys::bot_pk(&bot.id), bot, None)?;
        self.put_if(entry, None).await.map(drop)
    }

    /// The key of the bot's list entry.
    pub(super) fn bot_entry_key(bot: &str) -> Item {
        key(BOTS_PK, &keys::bot_pk(bot))
    }

    /// One page of the bot list, by id descending.
    pub(super) async fn bots_page(&self, page: &Page) -> Result<Paged<Bot>, StoreError> {
        let (items, next) = self.query_page(BOTS_PK, &keys::bot_pk(""), page).await?;
        Ok(Paged {
            items: decode_all(&items)?,
            next,
        })
    }

    /// Puts `value` under `name` unless the setting exists; answers the
    /// stored value.
    pub(super) async fn setting_once(&self, name: &str, value: &str) -> Result<String, StoreError> {
        let pk = keys::setting_pk(name);
        let mut item = key(&pk, SETTING_SK);
        item.insert("value".to_owned(), s(value));
        let put = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await;
        match put {
            Ok(_) => Ok(value.to_owned()),
            Err(e) if is_condition_failed(&e) => match self.get_item(&pk, SETTING_SK).await? {
                Some(stored) => attr_s(&stored, "value"),
                None => Err(StoreError::Unexpected(anyhow::anyhow!(
                    "the setting {name} was there and then was not"
                ))),
            },
            Err(e) => Err(self.sdk_error(&format!("PutItem {pk}"), e)),
        }
    }
}

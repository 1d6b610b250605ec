//! The installation-wide records on DynamoDB: the bot list and settings
//! stored once.
//!
//! A table holds no cheap list of its partitions, so every bot also has an
//! entry in the `BOTS` partition (`sk` `BOT#{bot}`, the bot record in
//! `data`), written in one transaction with the bot on create, after it
//! on update, and deleted before it: `list_bots` is one Query.

use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{Put, TransactWriteItem};
use hooklane_domain::Bot;

use super::items::{attr_s, decode_all, is_condition_failed, key, record_item, s, Item};
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

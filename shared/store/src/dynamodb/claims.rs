//! Idempotency claims on DynamoDB: a claim is an item in the bot's
//! partition (`keys::claim_sk`: `IDEM#call:{hook}:{key}` or
//! `IDEM#publish:{key}`) with the claimed `value`, its end in `exp` (epoch
//! ms) and `ttl` (epoch s, for DynamoDB's expiry). A conditional put
//! (absent, or expired by now) makes the claim atomic.

use anyhow::anyhow;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::ReturnValuesOnConditionCheckFailure;
use hooklane_domain::{BotId, IdempotencyKey};
use time::OffsetDateTime;

use super::items::{attr_s, epoch_millis, epoch_seconds, key, n, s};
use super::DynamoStore;
use crate::keys;
use crate::ports::{ClaimScope, StoreError};

impl DynamoStore {
    /// [`Store::claim_idempotency_key`](crate::Store::claim_idempotency_key):
    /// `None` when the claim is new or took over an expired one, else the
    /// value of the unexpired claim.
    pub(super) async fn claim(
        &self,
        bot: &BotId,
        scope: ClaimScope<'_>,
        key_name: &IdempotencyKey,
        value: &str,
        expires_at: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Result<Option<String>, StoreError> {
        let pk = keys::bot_pk(bot);
        let sk = keys::claim_sk(&scope, key_name);
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
                Err(e) => return Err(self.sdk_error(&format!("PutItem {pk} {sk}"), e)),
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

    /// [`Store::release_idempotency_key`](crate::Store::release_idempotency_key):
    /// deletes the claim; no error when there is none.
    pub(super) async fn release_claim(
        &self,
        bot: &BotId,
        scope: ClaimScope<'_>,
        key_name: &IdempotencyKey,
    ) -> Result<(), StoreError> {
        let pk = keys::bot_pk(bot);
        let sk = keys::claim_sk(&scope, key_name);
        self.client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key(&pk, &sk)))
            .send()
            .await
            .map_err(|e| self.sdk_error(&format!("DeleteItem {pk} {sk}"), e))?;
        Ok(())
    }
}

//! Outbound targets on DynamoDB: one item per bot and target
//! (`keys::send_target_pk`, sort key `CTR`) with the latest counted window
//! in `w` (N), its count in `n` (N), the pause in `pause` (N, epoch
//! milliseconds) and `ttl`.
//!
//! A count is one conditional UpdateItem answering the whole item
//! (`ALL_NEW`), so the pause comes back with the count at no extra cost:
//! either `ADD n 1` while the stored window is ours or later, or, when it
//! is earlier (or there is none), `SET w = ours, n = 1`. The two
//! conditions are each other's opposite and `w` only grows, so when the
//! first one tried fails the second holds, unless another dispatcher
//! started our window in between, and then the first holds again: at most
//! three writes, usually one. Which comes first is guessed from the last
//! window this process saw for the target (a new window first when it has
//! seen none), so a steady stream pays one write a send.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use anyhow::anyhow;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};
use time::OffsetDateTime;

use super::items::{attr_n, epoch_millis, epoch_seconds, is_condition_failed, key, n, Item};
use super::DynamoStore;
use crate::keys::{self, COUNTER_SK};
use crate::ports::{SendCount, SendTarget, StoreError};

/// The most targets whose last window a process remembers; past it the
/// memory starts again (a wrong guess costs one write, nothing else).
const REMEMBERED_TARGETS: usize = 4096;

/// The window each target was last counted in by this process, by key.
#[derive(Debug, Clone, Default)]
pub(super) struct LastWindows(Arc<Mutex<HashMap<String, i64>>>);

impl LastWindows {
    fn get(&self, pk: &str) -> Option<i64> {
        let map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        map.get(pk).copied()
    }

    fn set(&self, pk: &str, window: i64) {
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() >= REMEMBERED_TARGETS && !map.contains_key(pk) {
            map.clear();
        }
        map.insert(pk.to_owned(), window);
    }
}

/// One try at counting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    /// `ADD n 1` if the stored window is ours or later.
    Add,
    /// `SET w = ours, n = 1` if the stored window is earlier or absent.
    Start,
}

impl DynamoStore {
    /// [`Store::count_send`](crate::Store::count_send).
    pub(super) async fn count_target_send(
        &self,
        target: &SendTarget<'_>,
        window: i64,
        expires_at: OffsetDateTime,
    ) -> Result<SendCount, StoreError> {
        let pk = keys::send_target_pk(target);
        let mut step = if self.last_windows.get(&pk) == Some(window) {
            Step::Add
        } else {
            Step::Start
        };
        for _ in 0..4 {
            let update = self
                .client
                .update_item()
                .table_name(&self.table)
                .set_key(Some(key(&pk, COUNTER_SK)))
                .expression_attribute_names("#w", "w")
                .expression_attribute_names("#n", "n")
                .expression_attribute_values(":w", n(window))
                .expression_attribute_values(":one", n(1))
                .return_values(ReturnValue::AllNew);
            let update = match step {
                Step::Add => update
                    .update_expression("ADD #n :one")
                    .condition_expression("#w >= :w"),
                Step::Start => update
                    .update_expression("SET #w = :w, #n = :one, #ttl = :ttl")
                    .condition_expression("attribute_not_exists(#w) OR #w < :w")
                    .expression_attribute_names("#ttl", "ttl")
                    .expression_attribute_values(":ttl", n(epoch_seconds(expires_at))),
            };
            match update.send().await {
                Ok(out) => {
                    let item = out.attributes.unwrap_or_default();
                    let counted = send_count(&item)?;
                    self.last_windows.set(&pk, attr_n(&item, "w")?);
                    return Ok(counted);
                }
                Err(e) if is_condition_failed(&e) => {
                    step = match step {
                        Step::Add => Step::Start,
                        Step::Start => Step::Add,
                    };
                }
                Err(e) => return Err(self.sdk_error(&format!("UpdateItem {pk}"), e)),
            }
        }
        Err(StoreError::Unexpected(anyhow!(
            "the send count of {pk} kept changing under four tries; gave up counting"
        )))
    }

    /// [`Store::pause_sends`](crate::Store::pause_sends): sets `pause`
    /// unless a later one is stored.
    pub(super) async fn pause_target(
        &self,
        target: &SendTarget<'_>,
        until: OffsetDateTime,
        expires_at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let pk = keys::send_target_pk(target);
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(&pk, COUNTER_SK)))
            .update_expression("SET #p = :p, #ttl = :ttl")
            .condition_expression("attribute_not_exists(#p) OR #p < :p")
            .expression_attribute_names("#p", "pause")
            .expression_attribute_names("#ttl", "ttl")
            .expression_attribute_values(":p", n(epoch_millis(until)))
            .expression_attribute_values(":ttl", n(epoch_seconds(expires_at)))
            .send()
            .await;
        // A failed condition: a later pause is stored, and stands.
        self.condition_held(&format!("UpdateItem {pk}"), result)
            .map(drop)
    }
}

/// The count and pause of a target's item as `ALL_NEW` answered it.
fn send_count(item: &Item) -> Result<SendCount, StoreError> {
    let paused_until = match item.get("pause") {
        Some(AttributeValue::N(_)) => {
            let ms: i64 = attr_n(item, "pause")?;
            OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).ok()
        }
        _ => None,
    };
    Ok(SendCount {
        count: attr_n(item, "n")?,
        paused_until,
    })
}

//! A Store and Queue that count their calls by method name, around the
//! real ones: how the per-job store and queue call counts are measured.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use hooklane_domain::{
    Bot, BotId, CallId, Delivery, DeliveryId, Endpoint, EndpointId, Hook, HookId, Message,
    MessageId, Run, Variable,
};
use hooklane_store::{
    ClaimScope, Page, Paged, Queue, QueueError, RateWindow, Received, SendCount, SendTarget, Store,
    StoreError,
};
use serde_json::Value;
use time::OffsetDateTime;

/// Calls by method name; batch calls count each entry under the method's
/// name as well (`send_batch` 3 entries: `send_batch` 1, `send_batch.entries` 3).
#[derive(Clone, Default)]
pub struct Calls(Arc<Mutex<BTreeMap<String, usize>>>);

impl Calls {
    pub fn add(&self, name: &str, n: usize) {
        *self.0.lock().unwrap().entry(name.to_owned()).or_default() += n;
    }

    pub fn take(&self) -> BTreeMap<String, usize> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

/// Store reads: every getter and list.
pub const READS: [&str; 10] = [
    "get_bot",
    "get_hook",
    "list_hooks",
    "get_run",
    "list_runs",
    "get_endpoint",
    "list_endpoints",
    "get_message",
    "list_variables",
    "get_variable",
];

pub fn sum(calls: &BTreeMap<String, usize>, names: &[&str]) -> usize {
    names
        .iter()
        .map(|n| calls.get(*n).copied().unwrap_or(0))
        .sum()
}

pub fn reads(calls: &BTreeMap<String, usize>) -> usize {
    sum(calls, &READS)
}

/// Store writes: every call that is not a read (nor `ping`).
pub fn writes(calls: &BTreeMap<String, usize>) -> usize {
    calls
        .iter()
        .filter(|(name, _)| !READS.contains(&name.as_str()) && *name != "ping")
        .map(|(_, n)| n)
        .sum()
}

pub struct CountingStore {
    pub inner: Arc<dyn Store>,
    pub calls: Calls,
}

impl CountingStore {
    fn count(&self, name: &str) {
        self.calls.add(name, 1);
    }
}

pub struct CountingQueue {
    pub inner: Arc<dyn Queue>,
    pub calls: Calls,
}

#[async_trait]
impl Queue for CountingQueue {
    fn max_delay(&self) -> Duration {
        self.inner.max_delay()
    }

    fn max_message_bytes(&self) -> usize {
        self.inner.max_message_bytes()
    }

    async fn send(&self, body: &str, delay: Duration) -> Result<(), QueueError> {
        self.calls.add("send", 1);
        self.inner.send(body, delay).await
    }

    async fn send_batch(&self, messages: &[(String, Duration)]) -> Vec<Result<(), QueueError>> {
        self.calls.add("send_batch", 1);
        self.calls.add("send_batch.entries", messages.len());
        self.inner.send_batch(messages).await
    }

    async fn receive(&self, max: usize, wait: Duration) -> Result<Vec<Received>, QueueError> {
        self.calls.add("receive", 1);
        self.inner.receive(max, wait).await
    }

    async fn delete(&self, receipt: &str) -> Result<(), QueueError> {
        self.calls.add("delete", 1);
        self.inner.delete(receipt).await
    }

    async fn delete_batch(&self, receipts: &[String]) -> Vec<Result<(), QueueError>> {
        self.calls.add("delete_batch", 1);
        self.calls.add("delete_batch.entries", receipts.len());
        self.inner.delete_batch(receipts).await
    }

    async fn retry_after(&self, receipt: &str, delay: Duration) -> Result<(), QueueError> {
        self.calls.add("retry_after", 1);
        self.inner.retry_after(receipt, delay).await
    }

    async fn dead_letter_count(&self) -> Result<usize, QueueError> {
        self.inner.dead_letter_count().await
    }

    async fn max_receives(&self) -> Option<u32> {
        self.inner.max_receives().await
    }

    async fn extend_visibility(
        &self,
        receipt: &str,
        visibility: Duration,
    ) -> Result<(), QueueError> {
        self.inner.extend_visibility(receipt, visibility).await
    }

    async fn ping(&self) -> Result<(), QueueError> {
        self.inner.ping().await
    }
}

#[async_trait]
impl Store for CountingStore {
    async fn create_bot(&self, bot: &Bot) -> Result<(), StoreError> {
        self.count("create_bot");
        self.inner.create_bot(bot).await
    }

    async fn get_bot(&self, id: &BotId) -> Result<Option<Bot>, StoreError> {
        self.count("get_bot");
        self.inner.get_bot(id).await
    }

    async fn update_bot(&self, bot: &Bot) -> Result<(), StoreError> {
        self.count("update_bot");
        self.inner.update_bot(bot).await
    }

    async fn delete_bot(&self, id: &BotId) -> Result<(), StoreError> {
        self.count("delete_bot");
        self.inner.delete_bot(id).await
    }

    async fn list_bots(&self, page: &Page) -> Result<Paged<Bot>, StoreError> {
        self.count("list_bots");
        self.inner.list_bots(page).await
    }

    async fn create_hook(&self, hook: &Hook) -> Result<(), StoreError> {
        self.count("create_hook");
        self.inner.create_hook(hook).await
    }

    async fn get_hook(&self, bot: &BotId, id: &HookId) -> Result<Option<Hook>, StoreError> {
        self.count("get_hook");
        self.inner.get_hook(bot, id).await
    }

    async fn list_hooks(&self, bot: &BotId, page: &Page) -> Result<Paged<Hook>, StoreError> {
        self.count("list_hooks");
        self.inner.list_hooks(bot, page).await
    }

    async fn update_hook(&self, hook: &Hook) -> Result<(), StoreError> {
        self.count("update_hook");
        self.inner.update_hook(hook).await
    }

    async fn delete_hook(&self, bot: &BotId, id: &HookId) -> Result<(), StoreError> {
        self.count("delete_hook");
        self.inner.delete_hook(bot, id).await
    }

    async fn put_run(&self, run: &Run, expires_at: OffsetDateTime) -> Result<(), StoreError> {
        self.count("put_run");
        self.inner.put_run(run, expires_at).await
    }

    async fn get_run(
        &self,
        bot: &BotId,
        hook: &HookId,
        id: &CallId,
    ) -> Result<Option<Run>, StoreError> {
        self.count("get_run");
        self.inner.get_run(bot, hook, id).await
    }

    async fn list_runs(
        &self,
        bot: &BotId,
        hook: &HookId,
        page: &Page,
    ) -> Result<Paged<Run>, StoreError> {
        self.count("list_runs");
        self.inner.list_runs(bot, hook, page).await
    }

    async fn create_endpoint(&self, endpoint: &Endpoint) -> Result<(), StoreError> {
        self.count("create_endpoint");
        self.inner.create_endpoint(endpoint).await
    }

    async fn get_endpoint(
        &self,
        bot: &BotId,
        id: &EndpointId,
    ) -> Result<Option<Endpoint>, StoreError> {
        self.count("get_endpoint");
        self.inner.get_endpoint(bot, id).await
    }

    async fn list_endpoints(
        &self,
        bot: &BotId,
        page: &Page,
    ) -> Result<Paged<Endpoint>, StoreError> {
        self.count("list_endpoints");
        self.inner.list_endpoints(bot, page).await
    }

    async fn update_endpoint(&self, endpoint: &Endpoint) -> Result<(), StoreError> {
        self.count("update_endpoint");
        self.inner.update_endpoint(endpoint).await
    }

    async fn delete_endpoint(&self, bot: &BotId, id: &EndpointId) -> Result<(), StoreError> {
        self.count("delete_endpoint");
        self.inner.delete_endpoint(bot, id).await
    }

    async fn put_message(
        &self,
        message: &Message,
        expires_at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        self.count("put_message");
        self.inner.put_message(message, expires_at).await
    }

    async fn get_message(
        &self,
        bot: &BotId,
        id: &MessageId,
    ) -> Result<Option<Message>, StoreError> {
        self.count("get_message");
        self.inner.get_message(bot, id).await
    }

    async fn list_messages(&self, bot: &BotId, page: &Page) -> Result<Paged<Message>, StoreError> {
        self.count("list_messages");
        self.inner.list_messages(bot, page).await
    }

    async fn put_delivery(
        &self,
        delivery: &Delivery,
        expires_at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        self.count("put_delivery");
        self.inner.put_delivery(delivery, expires_at).await
    }

    async fn get_delivery(
        &self,
        bot: &BotId,
        id: &DeliveryId,
    ) -> Result<Option<Delivery>, StoreError> {
        self.count("get_delivery");
        self.inner.get_delivery(bot, id).await
    }

    async fn get_endpoint_delivery(
        &self,
        bot: &BotId,
        endpoint: &EndpointId,
        id: &DeliveryId,
    ) -> Result<Option<Delivery>, StoreError> {
        self.count("get_endpoint_delivery");
        self.inner.get_endpoint_delivery(bot, endpoint, id).await
    }

    async fn list_deliveries(
        &self,
        bot: &BotId,
        endpoint: &EndpointId,
        page: &Page,
    ) -> Result<Paged<Delivery>, StoreError> {
        self.count("list_deliveries");
        self.inner.list_deliveries(bot, endpoint, page).await
    }

    async fn list_variables(&self, bot: &BotId) -> Result<Vec<Variable>, StoreError> {
        self.count("list_variables");
        self.inner.list_variables(bot).await
    }

    async fn get_variable(&self, bot: &BotId, name: &str) -> Result<Option<Variable>, StoreError> {
        self.count("get_variable");
        self.inner.get_variable(bot, name).await
    }

    async fn swap_variable(
        &self,
        bot: &BotId,
        name: &str,
        expected: Option<u64>,
        value: Option<&Value>,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        self.count("swap_variable");
        self.inner
            .swap_variable(bot, name, expected, value, now)
            .await
    }

    async fn claim_idempotency_key(
        &self,
        bot: &BotId,
        scope: ClaimScope<'_>,
        key: &hooklane_domain::IdempotencyKey,
        value: &str,
        expires_at: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Result<Option<String>, StoreError> {
        self.count("claim_idempotency_key");
        self.inner
            .claim_idempotency_key(bot, scope, key, value, expires_at, now)
            .await
    }

    async fn release_idempotency_key(
        &self,
        bot: &BotId,
        scope: ClaimScope<'_>,
        key: &hooklane_domain::IdempotencyKey,
    ) -> Result<(), StoreError> {
        self.count("release_idempotency_key");
        self.inner.release_idempotency_key(bot, scope, key).await
    }

    async fn increment_counter(
        &self,
        window: &RateWindow<'_>,
        expires_at: OffsetDateTime,
    ) -> Result<u64, StoreError> {
        self.count("increment_counter");
        self.inner.increment_counter(window, expires_at).await
    }

    async fn count_send(
        &self,
        target: &SendTarget<'_>,
        window: i64,
        expires_at: OffsetDateTime,
    ) -> Result<SendCount, StoreError> {
        self.count("count_send");
        self.inner.count_send(target, window, expires_at).await
    }

    async fn pause_sends(
        &self,
        target: &SendTarget<'_>,
        until: OffsetDateTime,
        expires_at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        self.count("pause_sends");
        self.inner.pause_sends(target, until, expires_at).await
    }

    async fn put_setting_once(&self, name: &str, value: &str) -> Result<String, StoreError> {
        self.count("put_setting_once");
        self.inner.put_setting_once(name, value).await
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.count("ping");
        self.inner.ping().await
    }
}

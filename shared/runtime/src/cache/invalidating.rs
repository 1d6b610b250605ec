//! A [`Store`] around another that drops the cached entries a write
//! touches, so what this process changes is what it reads next.

use async_trait::async_trait;
use hooklane_domain::{
    Bot, BotId, CallId, Delivery, DeliveryId, Endpoint, EndpointId, Hook, HookId, IdempotencyKey,
    Message, MessageId, Run, Variable,
};
use hooklane_store::{
    ClaimScope, Page, Paged, RateWindow, SendCount, SendTarget, Store, StoreError,
};
use serde_json::Value;
use std::sync::Arc;
use time::OffsetDateTime;

use super::Lookups;

/// Passes every call to `inner`; after a write of a hook or endpoint, or a
/// bot's deletion
/// (whatever its result: a write that timed out may still have happened)
/// drops the entries of `lookups` it touched. Reads pass through, uncached.
pub struct Invalidating {
    inner: Arc<dyn Store>,
    lookups: Lookups,
}

impl Invalidating {
    /// `inner`, dropping entries of `lookups` on writes.
    pub fn new(inner: Arc<dyn Store>, lookups: Lookups) -> Self {
        Self { inner, lookups }
    }
}

#[async_trait]
impl Store for Invalidating {
    async fn create_bot(&self, bot: &Bot) -> Result<(), StoreError> {
        self.inner.create_bot(bot).await
    }

    async fn get_bot(&self, id: &BotId) -> Result<Option<Bot>, StoreError> {
        self.inner.get_bot(id).await
    }

    async fn update_bot(&self, bot: &Bot) -> Result<(), StoreError> {
        self.inner.update_bot(bot).await
    }

    async fn delete_bot(&self, id: &BotId) -> Result<(), StoreError> {
        let r = self.inner.delete_bot(id).await;
        self.lookups.forget_bot(id);
        r
    }

    async fn list_bots(&self, page: &Page) -> Result<Paged<Bot>, StoreError> {
        self.inner.list_bots(page).await
    }

    async fn create_hook(&self, hook: &Hook) -> Result<(), StoreError> {
        let r = self.inner.create_hook(hook).await;
        self.lookups.forget_hook(&hook.bot_id, &hook.id);
        r
    }

    async fn get_hook(&self, bot: &BotId, id: &HookId) -> Result<Option<Hook>, StoreError> {
        self.inner.get_hook(bot, id).await
    }

    async fn list_hooks(&self, bot: &BotId, page: &Page) -> Result<Paged<Hook>, StoreError> {
        self.inner.list_hooks(bot, page).await
    }

    async fn update_hook(&self, hook: &Hook) -> Result<(), StoreError> {
        let r = self.inner.update_hook(hook).await;
        self.lookups.forget_hook(&hook.bot_id, &hook.id);
        r
    }

    async fn delete_hook(&self, bot: &BotId, id: &HookId) -> Result<(), StoreError> {
        let r = self.inner.delete_hook(bot, id).await;
        self.lookups.forget_hook(bot, id);
        r
    }

    async fn put_run(&self, run: &Run, expires_at: OffsetDateTime) -> Result<(), StoreError> {
        self.inner.put_run(run, expires_at).await
    }

    async fn get_run(
        &self,
        bot: &BotId,
        hook: &HookId,
        id: &CallId,
    ) -> Result<Option<Run>, StoreError> {
        self.inner.get_run(bot, hook, id).await
    }

    async fn list_runs(
        &self,
        bot: &BotId,
        hook: &HookId,
        page: &Page,
    ) -> Result<Paged<Run>, StoreError> {
        self.inner.list_runs(bot, hook, page).await
    }

    async fn create_endpoint(&self, endpoint: &Endpoint) -> Result<(), StoreError> {
        let r = self.inner.create_endpoint(endpoint).await;
        self.lookups.forget_endpoints(&endpoint.bot_id);
        r
    }

    async fn get_endpoint(
        &self,
        bot: &BotId,
        id: &EndpointId,
    ) -> Result<Option<Endpoint>, StoreError> {
        self.inner.get_endpoint(bot, id).await
    }

    async fn list_endpoints(
        &self,
        bot: &BotId,
        page: &Page,
    ) -> Result<Paged<Endpoint>, StoreError> {
        self.inner.list_endpoints(bot, page).await
    }

    async fn update_endpoint(&self, endpoint: &Endpoint) -> Result<(), StoreError> {
        let r = self.inner.update_endpoint(endpoint).await;
        self.lookups.forget_endpoints(&endpoint.bot_id);
        r
    }

    async fn delete_endpoint(&self, bot: &BotId, id: &EndpointId) -> Result<(), StoreError> {
        let r = self.inner.delete_endpoint(bot, id).await;
        self.lookups.forget_endpoints(bot);
        r
    }

    async fn put_message(
        &self,
        message: &Message,
        expires_at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        self.inner.put_message(message, expires_at).await
    }

    async fn get_message(
        &self,
        bot: &BotId,
        id: &MessageId,
    ) -> Result<Option<Message>, StoreError> {
        self.inner.get_message(bot, id).await
    }

    async fn list_messages(&self, bot: &BotId, page: &Page) -> Result<Paged<Message>, StoreError> {
        self.inner.list_messages(bot, page).await
    }

    async fn put_delivery(
        &self,
        delivery: &Delivery,
        expires_at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        self.inner.put_delivery(delivery, expires_at).await
    }

    async fn get_delivery(
        &self,
        bot: &BotId,
        id: &DeliveryId,
    ) -> Result<Option<Delivery>, StoreError> {
        self.inner.get_delivery(bot, id).await
    }

    async fn get_endpoint_delivery(
        &self,
        bot: &BotId,
        endpoint: &EndpointId,
        id: &DeliveryId,
    ) -> Result<Option<Delivery>, StoreError> {
        self.inner.get_endpoint_delivery(bot, endpoint, id).await
    }

    async fn list_deliveries(
        &self,
        bot: &BotId,
        endpoint: &EndpointId,
        page: &Page,
    ) -> Result<Paged<Delivery>, StoreError> {
        self.inner.list_deliveries(bot, endpoint, page).await
    }

    async fn list_variables(&self, bot: &BotId) -> Result<Vec<Variable>, StoreError> {
        self.inner.list_variables(bot).await
    }

    async fn get_variable(&self, bot: &BotId, name: &str) -> Result<Option<Variable>, StoreError> {
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
        self.inner
            .swap_variable(bot, name, expected, value, now)
            .await
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
        self.inner
            .claim_idempotency_key(bot, scope, key, value, expires_at, now)
            .await
    }

    async fn release_idempotency_key(
        &self,
        bot: &BotId,
        scope: ClaimScope<'_>,
        key: &IdempotencyKey,
    ) -> Result<(), StoreError> {
        self.inner.release_idempotency_key(bot, scope, key).await
    }

    async fn increment_counter(
        &self,
        window: &RateWindow<'_>,
        expires_at: OffsetDateTime,
    ) -> Result<u64, StoreError> {
        self.inner.increment_counter(window, expires_at).await
    }

    async fn count_send(
        &self,
        target: &SendTarget<'_>,
        window: i64,
        expires_at: OffsetDateTime,
    ) -> Result<SendCount, StoreError> {
        self.inner.count_send(target, window, expires_at).await
    }

    async fn pause_sends(
        &self,
        target: &SendTarget<'_>,
        until: OffsetDateTime,
        expires_at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        self.inner.pause_sends(target, until, expires_at).await
    }

    async fn put_setting_once(&self, name: &str, value: &str) -> Result<String, StoreError> {
        self.inner.put_setting_once(name, value).await
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.inner.ping().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hooklane_store::sqlite::{Sqlite, SqliteQueueSettings};

    fn hook(bot: &BotId, name: &str) -> Hook {
        let now = OffsetDateTime::now_utc();
        serde_json::from_value(serde_json::json!({
            "id": HookId::generate(), "bot_id": bot, "name": name, "enabled": true,
            "methods": ["POST"], "auth": {"type": "api_key"}, "max_body_bytes": 1024,
            "created_at": now.format(&time::format_description::well_known::Rfc3339).unwrap(),
            "updated_at": now.format(&time::format_description::well_known::Rfc3339).unwrap(),
        }))
        .unwrap()
    }

    #[tokio::test]
    async fn a_write_through_the_store_is_read_at_once_through_the_cache() {
        let dir = tempfile::tempdir().unwrap();
        let db = Sqlite::open(&dir.path().join("h.db"), SqliteQueueSettings::default()).unwrap();
        let lookups = Lookups::default();
        let store = Invalidating::new(Arc::new(db), lookups.clone());
        let bot = BotId::generate();
        let mut h = hook(&bot, "before");
        assert_eq!(lookups.hook(&store, &bot, &h.id).await.unwrap(), None);
        store.create_hook(&h).await.unwrap();
        let cached = lookups.hook(&store, &bot, &h.id).await.unwrap().unwrap();
        assert_eq!(cached.name, "before");
        h.name = "after".into();
        store.update_hook(&h).await.unwrap();
        let cached = lookups.hook(&store, &bot, &h.id).await.unwrap().unwrap();
        assert_eq!(cached.name, "after");
        store.delete_hook(&bot, &h.id).await.unwrap();
        assert_eq!(lookups.hook(&store, &bot, &h.id).await.unwrap(), None);
    }
}

//! The behaviour every `Store` and `Queue` adapter must show, written once
//! (only with the `conformance` feature: it is test support, not part of
//! the production API). Each adapter's tests call `store_suite`,
//! `store_concurrency_suite` and `queue_suite` on a fresh instance; a failing
//! check panics with what was expected. The checks are in `store.rs` and
//! `queue.rs`; the records they write are built here.

mod catalog;
mod queue;
mod store;

pub use self::catalog::*;
pub use self::queue::*;
pub use self::store::*;

use std::sync::Arc;

use hooklane_domain::{
    ActionResult, ActionStatus, Bot, BotId, CallId, Delivery, DeliveryId, DeliveryStatus, Endpoint,
    EndpointId, EndpointType, EventFilter, EventType, Hook, HookAuth, HookId, MessageId, Run,
    RunStatus,
};
use serde_json::json;
use time::OffsetDateTime;

use crate::ports::Store;

fn now() -> OffsetDateTime {
    // Whole seconds: every backend keeps at least that.
    let t = OffsetDateTime::now_utc();
    t.replace_nanosecond(0).unwrap_or(t)
}

fn later() -> OffsetDateTime {
    now() + time::Duration::days(1)
}

/// A bot record with id `id`, as the suite creates it.
pub fn bot(id: &BotId) -> Bot {
    Bot {
        id: id.clone(),
        name: "Conformance".into(),
        api_key_hash: "00".repeat(32),
        created_at: now(),
    }
}

/// A new hook of `bot` (fresh id, bearer auth, one action).
pub fn hook(bot: &BotId) -> Hook {
    Hook {
        id: HookId::generate(),
        bot_id: bot.clone(),
        name: "Payments".into(),
        enabled: true,
        methods: vec!["POST".into()],
        auth: HookAuth::ApiKey,
        allowed_origins: vec![],
        allowed_ips: vec![],
        rate_limit: None,
        max_body_bytes: 1024,
        response: None,
        actions: vec![],
        created_at: now(),
        updated_at: now(),
    }
}

/// A new `custom` endpoint of `bot` (fresh id).
pub fn endpoint(bot: &BotId) -> Endpoint {
    Endpoint {
        id: EndpointId::generate(),
        bot_id: bot.clone(),
        name: "Alerts".into(),
        kind: EndpointType::Custom,
        url: "https://example.com/hook".into(),
        enabled: true,
        disabled_reason: None,
        events: vec![EventFilter::parse("order.*").unwrap()],
        secret: "whsec_c2VjcmV0".into(),
        old_secrets: vec![],
        retry_schedule: vec![5, 300],
        max_attempts: 3,
        headers: Default::default(),
        rate_limit: None,
        failing_since: None,
        allowed_mentions: None,
        created_at: now(),
        updated_at: now(),
    }
}

fn run(bot: &BotId, hook: &HookId) -> Run {
    Run {
        id: CallId::generate(),
        bot_id: bot.clone(),
        hook_id: hook.clone(),
        status: RunStatus::Succeeded,
        received_at: now(),
        finished_at: Some(now()),
        attempt: 1,
        actions: vec![ActionResult {
            index: 0,
            kind: "log".into(),
            status: ActionStatus::Succeeded,
            duration_ms: 1,
            detail: json!({"message": "hi"}),
        }],
        unknown_placeholders: vec![],
        error: None,
        request: None,
    }
}

fn delivery(bot: &BotId, endpoint: &EndpointId, message: &MessageId, attempt: u32) -> Delivery {
    Delivery {
        id: DeliveryId::generate(),
        bot_id: bot.clone(),
        message_id: message.clone(),
        endpoint_id: endpoint.clone(),
        event: EventType::parse("order.paid").unwrap(),
        attempt,
        status: DeliveryStatus::Failed,
        http_status: Some(500),
        error: None,
        triggered_at: now(),
        response_time_ms: Some(12),
        next_attempt_at: None,
    }
}

fn fresh_bot_id() -> BotId {
    BotId::generate()
}

/// Runs every Store check against one adapter.
pub async fn store_suite(store: &dyn Store) {
    bots_are_created_once_read_updated_and_deleted(store).await;
    hooks_are_created_listed_newest_first_updated_and_deleted(store).await;
    lists_page_with_cursors(store).await;
    runs_are_upserted_and_listed_newest_first(store).await;
    endpoints_and_their_deliveries_go_together(store).await;
    messages_are_kept_for_resends(store).await;
    variables_swap_only_from_the_expected_version(store).await;
    keys_are_claimed_once_until_released(store).await;
    claims_of_one_key_in_other_scopes_do_not_collide(store).await;
    counters_count_up(store).await;
    deleting_a_bot_removes_everything_under_it(store).await;
    bots_are_listed_by_id_descending(store).await;
    messages_are_listed_newest_first(store).await;
    settings_are_stored_once(store).await;
    store.ping().await.expect("ping");
}

/// Runs the concurrency checks that need a shareable store.
pub async fn store_concurrency_suite(store: Arc<dyn Store>) {
    concurrent_increments_never_lose_one(store.clone()).await;
    concurrent_counter_increments_never_lose_one(store.clone()).await;
    concurrent_claims_of_one_key_let_exactly_one_win(store.clone()).await;
    concurrent_settings_agree_on_one_value(store).await;
}

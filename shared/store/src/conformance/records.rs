//! The records the suite writes: a bot, a hook, an endpoint, a run and a
//! delivery, each filled in as every backend must keep it, and the times
//! they carry.

use hooklane_domain::{
    ActionResult, ActionStatus, Bot, BotId, CallId, Delivery, DeliveryId, DeliveryStatus, Endpoint,
    EndpointId, EndpointType, EventFilter, EventType, Hook, HookAuth, HookId, MessageId, Run,
    RunStatus,
};
use serde_json::json;
use time::OffsetDateTime;

pub(super) fn now() -> OffsetDateTime {
    // Whole seconds: every backend keeps at least that.
    let t = OffsetDateTime::now_utc();
    t.replace_nanosecond(0).unwrap_or(t)
}

pub(super) fn later() -> OffsetDateTime {
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

pub(super) fn run(bot: &BotId, hook: &HookId) -> Run {
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

pub(super) fn delivery(
    bot: &BotId,
    endpoint: &EndpointId,
    message: &MessageId,
    attempt: u32,
) -> Delivery {
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

pub(super) fn fresh_bot_id() -> BotId {
    BotId::generate()
}

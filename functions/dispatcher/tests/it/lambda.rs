//! The dispatcher driven the way Lambda drives it: an SQS event (the shape
//! of aws_lambda_events' fixture) with three records, one of them not an
//! envelope. Only that record is reported as a batch item failure.

use std::sync::Arc;

use aws_lambda_events::event::sqs::SqsEvent;
use hooklane_domain::envelope::{HookCall, InboundRequest};
use hooklane_domain::{Bot, BotId, CallId, Envelope, Hook, HookAuth, HookId, Job, RunStatus};
use hooklane_runtime::config::Settings;
use hooklane_runtime::Services;
use hooklane_store::{Page, Store};
use hooklane_testkit::Embedded;
use serde_json::json;

fn hook(bot: &BotId) -> Hook {
    let now = time::OffsetDateTime::now_utc();
    Hook {
        id: HookId::generate(),
        bot_id: bot.clone(),
        name: "Fixture".into(),
        enabled: true,
        methods: vec!["POST".into()],
        auth: HookAuth::ApiKey,
        allowed_origins: vec![],
        allowed_ips: vec![],
        rate_limit: None,
        max_body_bytes: 1024,
        response: None,
        actions: serde_json::from_value(json!([{"type": "log", "message": "hello {name}"}]))
            .unwrap(),
        created_at: now,
        updated_at: now,
    }
}

fn call(bot: &BotId, hook: &HookId, name: &str) -> String {
    Envelope::now(Job::HookCall(HookCall {
        call_id: CallId::generate(),
        bot_id: bot.clone(),
        hook_id: hook.clone(),
        received_at: time::OffsetDateTime::now_utc(),
        request: InboundRequest {
            method: "POST".into(),
            variables: serde_json::from_value(json!({"name": name})).unwrap(),
            ..Default::default()
        },
        attempt: 0,
        depth: 0,
    }))
    .to_json()
}

#[tokio::test]
async fn a_bad_record_is_reported_alone_and_the_good_ones_run() {
    let (_dir, svc, store, bot, h) = setup(None).await;

    let fixture = include_str!("../fixtures/sqs-event.json")
        .replace(
            "\"BODY_0\"",
            &serde_json::to_string(&call(&bot, &h.id, "Ada")).unwrap(),
        )
        .replace("\"BODY_1\"", "\"not an envelope\"")
        .replace(
            "\"BODY_2\"",
            &serde_json::to_string(&call(&bot, &h.id, "Grace")).unwrap(),
        );
    let event: SqsEvent = serde_json::from_str(&fixture).unwrap();
    let response = hooklane_dispatcher::handle_batch(&svc, event).await;

    let failed: Vec<_> = response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.as_str())
        .collect();
    assert_eq!(failed, vec!["MessageID_2"]);
    let runs = store
        .list_runs(&bot, &h.id, &Page::first(10))
        .await
        .unwrap()
        .items;
    let mut messages: Vec<_> = runs
        .iter()
        .map(|r| {
            assert_eq!(r.status, RunStatus::Succeeded);
            r.actions[0].detail["message"].as_str().unwrap().to_owned()
        })
        .collect();
    messages.sort();
    assert_eq!(messages, vec!["hello Ada", "hello Grace"]);
}

#[tokio::test]
async fn the_batch_response_serializes_as_lambda_expects() {
    let embedded = Embedded::start(Settings::default());
    let svc = embedded.svc.clone();
    let fixture = include_str!("../fixtures/sqs-event.json");
    let event: SqsEvent = serde_json::from_str(fixture).unwrap();
    let response = hooklane_dispatcher::handle_batch(&svc, event).await;
    let json = serde_json::to_value(&response).unwrap();
    assert_eq!(
        json["batchItemFailures"],
        json!([
            {"itemIdentifier": "MessageID_1"},
            {"itemIdentifier": "MessageID_2"},
            {"itemIdentifier": "MessageID_3"}
        ])
    );
}

/// A SQLite store and queue with one bot and one hook (its actions
/// replaced when given).
async fn setup(
    actions: Option<serde_json::Value>,
) -> (tempfile::TempDir, Services, Arc<dyn Store>, BotId, Hook) {
    let Embedded { dir, db, svc } = Embedded::start(Settings::default());
    let store: Arc<dyn Store> = Arc::new(db);
    let bot = BotId::generate();
    store
        .create_bot(&Bot {
            id: bot.clone(),
            name: "b".into(),
            api_key_hash: "00".repeat(32),
            created_at: time::OffsetDateTime::now_utc(),
        })
        .await
        .unwrap();
    let mut h = hook(&bot);
    if let Some(actions) = actions {
        h.actions = serde_json::from_value(actions).unwrap();
    }
    store.create_hook(&h).await.unwrap();
    (dir, svc, store, bot, h)
}

async fn counting_setup() -> (tempfile::TempDir, Services, Arc<dyn Store>, BotId, Hook) {
    setup(Some(
        json!([{"type": "update_variable", "name": "runs", "op": "add", "value": 1}]),
    ))
    .await
}

/// An SQS event with these bodies, each received `receives` times.
fn event_of(bodies: &[String], receives: u32) -> SqsEvent {
    let records: Vec<_> = bodies
        .iter()
        .enumerate()
        .map(|(i, b)| json!({"messageId": format!("m{i}"), "body": b, "attributes": {"ApproximateReceiveCount": receives.to_string()}}))
        .collect();
    serde_json::from_value(json!({"Records": records})).unwrap()
}

#[tokio::test]
async fn a_repeated_delivery_of_a_finished_run_does_not_run_it_again() {
    let (_dir, svc, store, bot, h) = counting_setup().await;
    let body = call(&bot, &h.id, "x");
    // SQS hands a message over again with a higher ApproximateReceiveCount.
    for receives in 1..=3 {
        let response = hooklane_dispatcher::handle_batch(
            &svc,
            event_of(std::slice::from_ref(&body), receives),
        )
        .await;
        assert!(response.batch_item_failures.is_empty());
    }
    let runs = store.get_variable(&bot, "runs").await.unwrap().unwrap();
    assert_eq!(runs.value, json!(1), "the actions ran once");
}

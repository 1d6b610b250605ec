//! The bot list, the published messages with their delivery summaries,
//! replays of past runs, and a portal key kept in the store.

use axum::http::{Method, StatusCode};
use hooklane_domain::envelope::{Envelope, InboundRequest, Job};
use hooklane_domain::{
    BotId, CallId, Delivery, DeliveryId, DeliveryStatus, EndpointId, HookId, Message, MessageId,
    Run, RunStatus,
};
use hooklane_store::{Queue, Store};
use serde_json::{json, Value};

use crate::common::{request, send, spawn_app, App, TOKEN};

fn now() -> time::OffsetDateTime {
    time::OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .unwrap()
}

fn later() -> time::OffsetDateTime {
    now() + time::Duration::days(1)
}

#[tokio::test]
async fn bots_are_listed_newest_first_paged_and_without_their_keys() {
    let app = spawn_app();
    let first = app.bot().await;
    let second = app.bot().await;
    let third = app.bot().await;
    let a = app.get("/v1/bots?limit=2").await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
    let ids: Vec<&str> = a.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec![third.as_str(), second.as_str()]);
    assert!(a.body["data"][0].get("api_key").is_none());
    assert!(a.body["data"][0].get("api_key_hash").is_none());
    assert_eq!(a.body["data"][0]["name"], "Test bot");
    let next = a.body["next"].as_str().expect("a next page").to_owned();
    let b = app.get(&format!("/v1/bots?limit=2&cursor={next}")).await;
    assert_eq!(b.body["data"][0]["id"], first.as_str());
    assert_eq!(b.body["next"], Value::Null);
    let bad = app.get("/v1/bots?cursor=not%20one").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad.code(), "invalid_cursor");
    let unauthorized = send(&app.router, request(Method::GET, "/v1/bots", None, None)).await;
    assert_eq!(unauthorized.status, StatusCode::UNAUTHORIZED);
}

fn row(bot: &BotId, message: &MessageId, endpoint: &str, status: DeliveryStatus) -> Delivery {
    Delivery {
        id: DeliveryId::generate(),
        bot_id: bot.clone(),
        message_id: message.clone(),
        endpoint_id: EndpointId::parse(endpoint).unwrap(),
        event: hooklane_domain::EventType::parse("order.paid").unwrap(),
        attempt: 1,
        status,
        http_status: Some(200),
        error: None,
        triggered_at: now(),
        response_time_ms: Some(3),
        next_attempt_at: None,
    }
}

#[tokio::test]
async fn messages_are_listed_newest_first_with_each_ones_delivery_summary() {
    let app = spawn_app();
    let bot = app.bot().await;
    let bot_id = BotId::parse(&bot).unwrap();
    let ep = |name: &str| json!({"name": name, "url": "https://example.com/in"});
    let one = app.endpoint(&bot, ep("one")).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let two = app.endpoint(&bot, ep("two")).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let message = |event: &str| Message {
        id: MessageId::generate(),
        bot_id: bot_id.clone(),
        event: hooklane_domain::EventType::parse(event).unwrap(),
        data: serde_json::from_str(r#"{"amount": 12.50}"#).unwrap(),
        timestamp: now(),
    };
    let older = message("order.created");
    let newer = message("order.paid");
    for m in [&older, &newer] {
        app.db.put_message(m, later()).await.unwrap();
    }
    // `older`: failed once on `one`, then succeeded there; exhausted on `two`.
    for d in [
        row(&bot_id, &older.id, &one, DeliveryStatus::Failed),
        row(&bot_id, &older.id, &one, DeliveryStatus::Succeeded),
        row(&bot_id, &older.id, &two, DeliveryStatus::Exhausted),
        row(&bot_id, &newer.id, &two, DeliveryStatus::Pending),
    ] {
        app.db.put_delivery(&d, later()).await.unwrap();
    }

    let a = app.get(&format!("/v1/bots/{bot}/messages")).await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
    let data = a.body["data"].as_array().unwrap();
    assert_eq!(data.len(), 2);
    assert_eq!(data[0]["id"], newer.id.as_str());
    assert_eq!(data[0]["event"], "order.paid");
    assert_eq!(data[0]["data"]["amount"].to_string(), "12.50");
    assert_eq!(
        data[0]["deliveries"],
        json!({"endpoints": 1, "pending": 1, "succeeded": 0, "failed": 0, "exhausted": 0})
    );
    assert_eq!(data[1]["id"], older.id.as_str());
    assert_eq!(
        data[1]["deliveries"],
        json!({"endpoints": 2, "pending": 0, "succeeded": 1, "failed": 0, "exhausted": 1})
    );
    assert_eq!(a.body["next"], Value::Null);
    let paged = app.get(&format!("/v1/bots/{bot}/messages?limit=1")).await;
    assert_eq!(paged.body["data"][0]["id"], newer.id.as_str());
    assert!(paged.body["next"].is_string());
    assert_eq!(
        app.get("/v1/bots/nobody/messages").await.status,
        StatusCode::NOT_FOUND
    );
}

async fn stored_run(app: &App, bot: &str, hook: &str, request: Option<InboundRequest>) -> Run {
    let run = Run {
        id: CallId::generate(),
        bot_id: BotId::parse(bot).unwrap(),
        hook_id: HookId::parse(hook).unwrap(),
        status: RunStatus::Failed,
        received_at: now(),
        finished_at: Some(now()),
        attempt: 1,
        actions: vec![],
        unknown_placeholders: vec![],
        error: Some("action 0 (http_request) failed".into()),
        request,
    };
    app.db.put_run(&run, later()).await.unwrap();
    run
}

#[tokio::test]
async fn a_past_run_is_replayed_as_a_new_call_with_the_same_request() {
    let app = spawn_app();
    let bot = app.bot().await;
    let hook = app.hook(&bot, json!({"name": "Orders"})).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let sent = InboundRequest {
        method: "POST".into(),
        payload: json!({"order": 42}),
        variables: serde_json::from_value(json!({"amount": "12"})).unwrap(),
        ..Default::default()
    };
    let run = stored_run(&app, &bot, &hook, Some(sent.clone())).await;
    let path = format!("/v1/bots/{bot}/hooks/{hook}/runs/{}/replay", run.id);
    let a = app.post(&path, json!({})).await;
    assert_eq!(a.status, StatusCode::ACCEPTED, "{:?}", a.body);
    assert_eq!(a.body["status"], "queued");
    assert_eq!(a.body["replay_of"], run.id.as_str());
    let id = a.body["id"].as_str().unwrap();
    assert!(id.starts_with("evt_") && id != run.id.as_str());
    // The run's view never shows the kept request.
    let read = app
        .get(&format!("/v1/bots/{bot}/hooks/{hook}/runs/{}", run.id))
        .await;
    assert!(read.body.get("request").is_none(), "{:?}", read.body);

    let queued = app
        .db
        .receive(10, std::time::Duration::from_secs(1))
        .await
        .unwrap();
    assert_eq!(queued.len(), 1);
    let envelope: Envelope = serde_json::from_str(&queued[0].body).unwrap();
    let Job::HookCall(call) = envelope.job else {
        panic!("a hook call was queued: {envelope:?}");
    };
    assert_eq!(call.call_id.as_str(), id);
    assert_eq!(call.hook_id.as_str(), hook);
    assert_eq!(call.request, sent);

    let bare = stored_run(&app, &bot, &hook, None).await;
    let a = app
        .post(
            &format!("/v1/bots/{bot}/hooks/{hook}/runs/{}/replay", bare.id),
            json!({}),
        )
        .await;
    assert_eq!(a.status, StatusCode::CONFLICT, "{:?}", a.body);
    let a = app
        .post(
            &format!("/v1/bots/{bot}/hooks/{hook}/runs/evt_01HZZZZZZZZZZZZZZZZZZZZZZZ/replay"),
            json!({}),
        )
        .await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_portal_key_kept_in_the_store_is_made_once_and_shared_by_every_instance() {
    let app = spawn_app();
    let bot = app.bot().await;
    let instance = || {
        hooklane_admin::router(hooklane_admin::AdminState {
            svc: app.svc.clone(),
            auth: hooklane_admin::AdminAuth::Token(TOKEN.into()),
            public_url: None,
            portal: hooklane_admin::PortalKey::stored(),
        })
    };
    let (minting, reading) = (instance(), instance());
    let admin = format!("Bearer {TOKEN}");
    let a = send(
        &minting,
        request(
            Method::POST,
            &format!("/v1/bots/{bot}/portal"),
            Some(&admin),
            None,
        ),
    )
    .await;
    assert_eq!(a.status, StatusCode::CREATED, "{:?}", a.body);
    let url = a.body["url"].as_str().unwrap();
    let token = url.split_once("#portal=").unwrap().1;
    let a = send(
        &reading,
        request(
            Method::GET,
            &format!("/portal/v1/bots/{bot}/endpoints"),
            Some(&format!("Bearer {token}")),
            None,
        ),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
    let stored = app
        .db
        .put_setting_once(hooklane_admin::portal::PORTAL_KEY_SETTING, "other")
        .await
        .unwrap();
    assert_eq!(
        stored.len(),
        64,
        "64 hex digits, made by the first instance"
    );
}

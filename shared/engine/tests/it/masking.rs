//! Credentials never reach the run log, even when a target echoes its
//! request back in a failed answer; a 3xx is logged with its `Location`; a
//! name that does not resolve is logged as such; a placeholder not found in
//! a credential is named, and a bot token that is none is never sent.

use hooklane_testkit::{Reply, Sink};
use serde_json::{json, Value};

use crate::actions::Engine;

const BOT_TOKEN: &str = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawQ";
const DISCORD_TOKEN: &str = "dIsCoRdWeBhOoKtOkEn-0123456789_abcdef";
const SLACK_TOKEN: &str = "SlackWebhookSecret0123";
const BEARER: &str = "sk_live_0123456789abcdef";
const API_KEY: &str = "key-abcdef0123456789";
const URL_PASSWORD: &str = "hunter2-hunter2";
const QUERY_TOKEN: &str = "q-token-0123456789";

/// What a target that echoes its request says: its path and query, and
/// with `headers` the credentials it was sent.
fn echo(path: &str, headers: bool) -> Reply {
    let mut body = json!({
        "error": format!("bad request: POST {path}"),
        "description": format!("Bad Request: not found: {path}"),
    });
    if headers {
        body["echo"] = json!({
            "authorization": format!("Bearer {BEARER}"),
            "x-api-key": API_KEY,
            "url": format!("https://shop:{URL_PASSWORD}@crm.example{path}"),
        });
    }
    Reply::json(400, body)
}

#[tokio::test]
async fn tokens_a_target_echoes_back_never_reach_the_run_log() {
    let sink = Sink::start().await;
    let engine = Engine::new(&sink);
    let http_url = format!(
        "http://shop:{URL_PASSWORD}@{}/orders?token={QUERY_TOKEN}&page=1",
        sink.addr
    );
    // action, the path the target echoes
    let cases = [
        (
            json!({"type": "telegram_message", "bot_token": BOT_TOKEN, "chat_id": 1, "text": "hi"}),
            format!("/bot{BOT_TOKEN}/sendMessage"),
        ),
        (
            json!({"type": "discord_message", "webhook_url": sink.url(&format!("/api/webhooks/42/{DISCORD_TOKEN}")), "content": "hi"}),
            format!("/api/webhooks/42/{DISCORD_TOKEN}"),
        ),
        (
            json!({"type": "slack_message", "webhook_url": sink.url(&format!("/services/T1/B2/{SLACK_TOKEN}")), "text": "hi"}),
            format!("/services/T1/B2/{SLACK_TOKEN}"),
        ),
        (
            json!({"type": "http_request", "url": http_url, "headers": {
                "Authorization": format!("Bearer {BEARER}"), "X-Api-Key": API_KEY}, "body": {"n": 1}}),
            format!("/orders?token={QUERY_TOKEN}&page=1"),
        ),
    ];
    for (action, path) in cases {
        let headers = action["type"] == "http_request";
        sink.reply_with([echo(&path, headers)]);
        let (outcome, _) = engine.run(json!([action]), json!({})).await;
        let failure = outcome.failure.clone().expect("a 400 fails the action");
        let logged = format!(
            "{} {}",
            serde_json::to_string(&outcome.results).unwrap(),
            failure.reason
        );
        assert!(logged.contains("\"status\":400"), "{logged}");
        assert!(logged.contains("****"), "{logged}");
        for secret in [
            BOT_TOKEN,
            "AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawQ",
            DISCORD_TOKEN,
            SLACK_TOKEN,
            BEARER,
            API_KEY,
            URL_PASSWORD,
            QUERY_TOKEN,
        ] {
            assert!(!logged.contains(secret), "{secret} in {logged}");
        }
    }
}

#[tokio::test]
async fn a_redirect_is_logged_with_its_location_masked() {
    let sink = Sink::start().await;
    let engine = Engine::new(&sink);
    // Location, what the run log shows
    let cases = [
        ("https://new.example/hook", "https://new.example/hook"),
        ("/moved?x=1", &*format!("http://{}/moved?x=1", sink.addr)),
        (
            "https://new.example/hook?token=abcdef123456&x=1",
            "https://new.example/hook?token=****&x=1",
        ),
        (
            "https://discord.com/api/webhooks/1/AbCdEfGhIjKlMnOp",
            "https://discord.com/api/webhooks/1/****",
        ),
    ];
    for (location, want) in cases {
        let mut reply = Reply::status(302);
        reply.headers.push(("location".into(), location.into()));
        sink.reply_with([reply]);
        let (outcome, _) = engine
            .run(
                json!([{"type": "http_request", "url": sink.url("/old")}]),
                json!({}),
            )
            .await;
        let detail = &outcome.results[0].detail;
        assert_eq!(detail["status"], 302);
        assert_eq!(detail["location"], Value::String(want.into()), "{location}");
        let reason = outcome.failure.unwrap().reason;
        assert!(
            reason.contains(&format!("redirecting to {want}")),
            "{reason}"
        );
    }
}

#[tokio::test]
async fn a_name_that_does_not_resolve_is_logged_as_such() {
    let sink = Sink::start().await;
    let engine = Engine::new(&sink);
    let (outcome, _) = engine
        .run(
            json!([{"type": "http_request", "url": "http://no-such-host.invalid/x"}]),
            json!({}),
        )
        .await;
    assert_eq!(
        outcome.failure.unwrap().reason,
        "the host no-such-host.invalid does not resolve"
    );
}

#[tokio::test]
async fn a_placeholder_not_found_in_a_credential_is_named_in_the_failure() {
    let sink = Sink::start().await;
    let engine = Engine::new(&sink);
    // action, the failure's reason
    let cases = [
        (
            json!({"type": "telegram_message", "bot_token": "{var.tg_token}", "chat_id": 1, "text": "hi"}),
            "the bot token holds the placeholder {var.tg_token}, which was not found",
        ),
        (
            json!({"type": "slack_message", "webhook_url": sink.url("/services/T1/B2/{var.slack_token}"), "text": "hi"}),
            "the webhook URL holds the placeholder {var.slack_token}, which was not found",
        ),
        (
            json!({"type": "http_request", "url": sink.url("/orders?token={payload.api_token}")}),
            "holds the placeholder {payload.api_token}, which was not found",
        ),
    ];
    for (action, says) in cases {
        let (outcome, _) = engine.run(json!([action]), json!({})).await;
        let reason = outcome.failure.expect("the action fails").reason;
        assert!(reason.contains(says), "{reason}");
    }
    assert_eq!(sink.received().len(), 0, "nothing was called");
}

#[tokio::test]
async fn a_bot_token_that_renders_to_no_bot_token_fails_without_a_call() {
    let sink = Sink::start().await;
    let engine = Engine::new(&sink);
    for token in ["abc:def", "12345", "123:", "123:abc/../x"] {
        let (outcome, _) = engine
            .run(
                json!([{"type": "telegram_message", "bot_token": "{payload.token}", "chat_id": 1, "text": "hi"}]),
                json!({"token": token}),
            )
            .await;
        let reason = outcome.failure.expect("the action fails").reason;
        assert!(
            reason.contains("the bot token is not a Telegram bot token"),
            "{token}: {reason}"
        );
    }
    assert_eq!(sink.received().len(), 0, "nothing was called");
}

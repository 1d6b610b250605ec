//! The action engine end to end: `hooklane dev` as a real process, loopback
//! sinks standing in for Discord, Slack, Telegram and a CRM, on the embedded
//! backend and (with moto) on DynamoDB + SQS. Each sink checks the request
//! shape the real API documents:
//! - Discord execute webhook: `POST /api/webhooks/{id}/{token}`, JSON with
//!   `content`, `embeds`, `username`;
//! - Slack incoming webhook: `POST /services/…`, JSON with `text`, `blocks`;
//! - Telegram Bot API: `POST /bot{token}/sendMessage`, JSON with `chat_id`,
//!   `text`, `parse_mode` (the base URL comes from `HOOKLANE_TELEGRAM_API_BASE`).

use std::time::{Duration, Instant};

use crate::common::{bin, SETTLE, WAIT};
use hooklane_testkit::{on_every_backend, Backend, Dev, Received, Reply, Sink};
use reqwest::Method;
use serde_json::{json, Value};

const DISCORD_PATH: &str = "/api/webhooks/112233445566/DISCORD-WEBHOOK-SECRET";
const SLACK_PATH: &str = "/services/T0001/B0001/SLACK-WEBHOOK-SECRET";
const TELEGRAM_TOKEN: &str = "7000001:TELEGRAM-BOT-SECRET";

/// One sink per platform, so each one's scripted replies stay its own.
struct Platforms {
    discord: Sink,
    slack: Sink,
    telegram: Sink,
}

impl Platforms {
    async fn start() -> Self {
        Self {
            discord: Sink::start().await,
            slack: Sink::start().await,
            telegram: Sink::start().await,
        }
    }

    /// `hooklane dev` sending Telegram calls to the Telegram sink.
    async fn dev(&self, backend: &Backend) -> Dev {
        let base = self.telegram.url("");
        Dev::start(
            bin(),
            backend.clone(),
            &[("HOOKLANE_TELEGRAM_API_BASE", base.as_str())],
        )
        .await
    }

    fn discord_url(&self) -> String {
        self.discord.url(DISCORD_PATH)
    }

    fn slack_url(&self) -> String {
        self.slack.url(SLACK_PATH)
    }
}

async fn call(dev: &Dev, hook: &Value, key: &str, body: Value) -> String {
    let r = dev
        .client
        .post(hook["url"].as_str().unwrap())
        .header("authorization", format!("Bearer {key}"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
    let answer: Value = r.json().await.unwrap();
    answer["id"].as_str().unwrap().to_owned()
}

fn run_of<'a>(runs: &'a [Value], event_id: &str) -> &'a Value {
    runs.iter()
        .find(|r| r["id"] == event_id)
        .unwrap_or_else(|| panic!("no run {event_id} in {runs:?}"))
}

async fn variables(dev: &Dev, bot: &str) -> Value {
    let page = dev.get(&format!("/v1/bots/{bot}/variables")).await;
    let mut out = serde_json::Map::new();
    for v in page["data"].as_array().unwrap() {
        out.insert(v["name"].as_str().unwrap().to_owned(), v["value"].clone());
    }
    Value::Object(out)
}

/// The request a platform sink received, checked to be a JSON POST.
fn json_post(got: &Received, path: &str) -> Value {
    assert_eq!(got.method, "POST");
    assert_eq!(got.path, path);
    assert_eq!(
        got.header("content-type").as_deref(),
        Some("application/json")
    );
    got.json()
}

fn assert_no_tokens(run: &Value) {
    let text = run.to_string();
    for secret in [
        "DISCORD-WEBHOOK-SECRET",
        "SLACK-WEBHOOK-SECRET",
        "TELEGRAM-BOT-SECRET",
    ] {
        assert!(!text.contains(secret), "{secret} in the run log: {text}");
    }
}

on_every_backend! {
    #[tokio::test(flavor = "multi_thread")]
    async fn every_action_reaches_its_target_in_the_shape_the_platform_documents_on_every_backend(backend) {
        let p = Platforms::start().await;
        let crm = Sink::start().await;
        let subscriber = Sink::start().await;
        let dev = p.dev(&backend).await;
        let (bot, key) = dev.bot().await;
        dev.admin_json(
            Method::POST,
            &format!("/v1/bots/{bot}/endpoints"),
            json!({"name": "Orders", "type": "custom", "url": subscriber.url("/orders"), "events": ["order.*"]}),
            201,
        )
        .await;
        let hook = dev
            .hook(
                &bot,
                json!({
                    "name": "Every action",
                    "actions": [
                        {"type": "discord_message", "webhook_url": p.discord_url(),
                         "content": "Order {payload.order} paid by {payload.user.name}",
                         "username": "Shop",
                         "embeds": [{"title": "Order {payload.order}",
                                     "fields": [{"name": "Amount", "value": "{payload.amount}", "inline": true}]}]},
                        {"type": "slack_message", "webhook_url": p.slack_url(),
                         "text": "Order {payload.order}: {payload.amount}",
                         "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "*{payload.user.name}* paid {payload.amount}"}}]},
                        {"type": "telegram_message", "bot_token": TELEGRAM_TOKEN,
                         "chat_id": "{payload.user.chat_id}",
                         "text": "<b>Thanks</b>, {payload.user.name}!", "parse_mode": "HTML"},
                        {"type": "http_request", "method": "PUT", "url": crm.url("/orders/{payload.order}"),
                         "headers": {"x-order": "{payload.order}"},
                         "body": {"amount": "{payload.amount}", "user": "{payload.user}"}},
                        {"type": "set_variable", "name": "last_order", "value": "{payload.order}"},
                        {"type": "set_variable", "name": "scratch", "value": "temporary"},
                        {"type": "delete_variable", "name": "scratch"},
                        {"type": "update_variable", "name": "orders", "op": "add", "value": 1},
                        {"type": "condition", "if": {"left": "{payload.amount}", "op": ">", "right": "100"},
                         "then": [{"type": "log", "message": "big order {payload.order}"}],
                         "else": [{"type": "log", "message": "small order {payload.order}"}]},
                        {"type": "publish", "event": "order.paid", "data": {"order": "{payload.order}", "amount": "{payload.amount}"}},
                        {"type": "log", "message": "done with {payload.order} ({var.orders} orders)"}
                    ]
                }),
            )
            .await;
        let event = call(
            &dev,
            &hook,
            &key,
            json!({"order": "A-17", "amount": 150, "user": {"name": "Ada", "chat_id": 424242}}),
        )
        .await;

        let discord = p.discord.wait_for(1, WAIT).await;
        assert_eq!(
            json_post(&discord[0], DISCORD_PATH),
            json!({
                "content": "Order A-17 paid by Ada",
                "username": "Shop",
                "embeds": [{"title": "Order A-17", "fields": [{"name": "Amount", "value": "150", "inline": true}]}],
                "allowed_mentions": {"parse": ["users"]}
            }),
            "embed texts are strings, as Discord requires ({backend:?})"
        );
        assert_eq!(
            json_post(&discord[0], DISCORD_PATH)["content"],
            "Order A-17 paid by Ada",
            "{backend:?}"
        );
        let slack = p.slack.wait_for(1, WAIT).await;
        assert_eq!(
            json_post(&slack[0], SLACK_PATH),
            json!({
                "text": "Order A-17: 150",
                "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "*Ada* paid 150"}}]
            })
        );
        let telegram = p.telegram.wait_for(1, WAIT).await;
        assert_eq!(
            json_post(&telegram[0], &format!("/bot{TELEGRAM_TOKEN}/sendMessage")),
            json!({"chat_id": 424242, "text": "<b>Thanks</b>, Ada!", "parse_mode": "HTML"})
        );
        let crm_got = crm.wait_for(1, WAIT).await;
        assert_eq!(crm_got[0].method, "PUT");
        assert_eq!(crm_got[0].path, "/orders/A-17");
        assert_eq!(crm_got[0].header("x-order").as_deref(), Some("A-17"));
        assert_eq!(
            crm_got[0].json(),
            json!({"amount": 150, "user": {"name": "Ada", "chat_id": 424242}})
        );
        let published = subscriber.wait_for(1, WAIT).await;
        let delivered = published[0].json();
        assert_eq!(delivered["event"], "order.paid");
        assert_eq!(delivered["data"], json!({"order": "A-17", "amount": 150}));
        assert_eq!(
            published[0].header("x-hooklane-depth").as_deref(),
            Some("1")
        );

        let runs = dev.runs(&bot, hook["id"].as_str().unwrap(), 1, WAIT).await;
        let run = run_of(&runs, &event);
        assert_eq!(run["status"], "succeeded", "{run}");
        let actions = run["actions"].as_array().unwrap();
        assert_eq!(actions.len(), 11);
        assert!(actions.iter().all(|a| a["status"] == "succeeded"), "{run}");
        assert_eq!(
            actions[0]["detail"]["url"],
            p.discord.url("/api/webhooks/112233445566/****")
        );
        assert_eq!(
            actions[1]["detail"]["url"],
            p.slack.url("/services/T0001/B0001/****")
        );
        assert_eq!(
            actions[2]["detail"]["url"],
            p.telegram.url("/bot****/sendMessage")
        );
        assert_eq!(actions[8]["detail"]["branch"], "then");
        assert_eq!(
            actions[8]["detail"]["actions"][0]["detail"]["message"],
            "big order A-17"
        );
        assert_eq!(
            actions[10]["detail"]["message"],
            "done with A-17 (1 orders)"
        );
        assert_no_tokens(run);
        assert_eq!(
            variables(&dev, &bot).await,
            json!({"last_order": "A-17", "orders": 1})
        );
    }
}

on_every_backend! {
    #[tokio::test(flavor = "multi_thread")]
    async fn a_429_is_retried_after_the_wait_each_platform_asks_for_on_every_backend(backend) {
        let p = Platforms::start().await;
        // Discord: `retry_after` in the JSON body (seconds, fractional).
        p.discord.reply_with([Reply {
            status: 429,
            body: json!({"message": "You are being rate limited.", "retry_after": 0.4, "global": false}),
            headers: vec![],
        }]);
        // Slack: a `Retry-After` header.
        p.slack.reply_with([Reply {
            status: 429,
            body: json!("rate_limited"),
            headers: vec![("retry-after".into(), "1".into())],
        }]);
        // Telegram: `parameters.retry_after`.
        p.telegram.reply_with([Reply {
            status: 429,
            body: json!({"ok": false, "error_code": 429,
                         "description": "Too Many Requests: retry after 1",
                         "parameters": {"retry_after": 1}}),
            headers: vec![],
        }]);
        let dev = p.dev(&backend).await;
        let (bot, key) = dev.bot().await;
        let hook = dev
            .hook(
                &bot,
                json!({"actions": [
                    {"type": "discord_message", "webhook_url": p.discord_url(), "content": "hello {payload.n}"},
                    {"type": "slack_message", "webhook_url": p.slack_url(), "text": "hello {payload.n}"},
                    {"type": "telegram_message", "bot_token": TELEGRAM_TOKEN, "chat_id": "@shop", "text": "hello {payload.n}"}
                ]}),
            )
            .await;
        let event = call(&dev, &hook, &key, json!({"n": 1})).await;
        // (platform, sink, the wait it asked for, in seconds)
        let cases = [
            ("discord", &p.discord, 0.4),
            ("slack", &p.slack, 1.0),
            ("telegram", &p.telegram, 1.0),
        ];
        for (what, sink, wait) in cases {
            let got = sink.wait_for(2, WAIT).await;
            assert_eq!(got.len(), 2, "{what}: one 429, one retry ({backend:?})");
            assert_eq!(got[0].body, got[1].body, "{what}: the same message again");
            let gap = got[1].at - got[0].at;
            assert!(
                gap >= Duration::from_secs_f64(wait * 0.9),
                "{what}: retried after {gap:?}, asked for {wait} s"
            );
        }
        let runs = dev.runs(&bot, hook["id"].as_str().unwrap(), 1, WAIT).await;
        let run = run_of(&runs, &event);
        assert_eq!(run["status"], "succeeded", "{run}");
        for (i, (what, _, wait)) in cases.iter().enumerate() {
            let detail = &run["actions"][i]["detail"];
            assert_eq!(detail["status"], 200, "{what}: {detail}");
            assert_eq!(
                detail["rate_limited_waits_s"],
                json!([wait]),
                "{what}: {detail}"
            );
        }
        assert_no_tokens(run);
    }
}

on_every_backend! {
    #[tokio::test(flavor = "multi_thread")]
    async fn an_over_long_text_is_cut_with_a_note_instead_of_failing_on_every_backend(backend) {
        let p = Platforms::start().await;
        let dev = p.dev(&backend).await;
        let (bot, key) = dev.bot().await;
        let hook = dev
            .hook(
                &bot,
                json!({"actions": [
                    {"type": "discord_message", "webhook_url": p.discord_url(), "content": "{payload.long}"},
                    {"type": "slack_message", "webhook_url": p.slack_url(), "text": "{payload.longer}"},
                    {"type": "telegram_message", "bot_token": TELEGRAM_TOKEN, "chat_id": 1,
                     "text": "<b>Report</b> {payload.long}{payload.long}{payload.long}", "parse_mode": "HTML"}
                ]}),
            )
            .await;
        let long = "é".repeat(2500);
        let longer = "s".repeat(41_000);
        let event = call(&dev, &hook, &key, json!({"long": long, "longer": longer})).await;

        let chars = |v: &Value| v.as_str().unwrap().chars().count();
        let discord = p.discord.wait_for(1, WAIT).await[0].json();
        assert_eq!(chars(&discord["content"]), 2000, "{backend:?}");
        assert!(discord["content"].as_str().unwrap().ends_with("é…"));
        let slack = p.slack.wait_for(1, WAIT).await[0].json();
        assert_eq!(chars(&slack["text"]), 40_000);
        let telegram = p.telegram.wait_for(1, WAIT).await[0].json();
        let text = telegram["text"].as_str().unwrap();
        assert!(text.starts_with("<b>Report</b> éé"));
        assert!(text.ends_with("é…"));
        assert_eq!(
            text.chars().count(),
            4096 + "<b></b>".len(),
            "4096 visible characters"
        );
        assert_eq!(telegram["parse_mode"], "HTML");

        let runs = dev.runs(&bot, hook["id"].as_str().unwrap(), 1, WAIT).await;
        let run = run_of(&runs, &event);
        assert_eq!(run["status"], "succeeded", "{run}");
        let notes: Vec<&Value> = (0..3)
            .map(|i| &run["actions"][i]["detail"]["notes"][0])
            .collect();
        assert_eq!(notes[0], "content cut to 2000 characters");
        assert_eq!(notes[1], "text cut to 40000 characters");
        assert_eq!(notes[2], "text cut to 4096 characters (HTML tags closed)");
    }
}

on_every_backend! {
    #[tokio::test(flavor = "multi_thread")]
    async fn the_payment_received_scenario_thanks_the_user_tells_the_team_and_the_crm_and_keeps_the_balance(backend) {
        let p = Platforms::start().await;
        let crm = Sink::start().await;
        let dev = p.dev(&backend).await;
        let (bot, key) = dev.bot().await;
        let hook = dev
            .hook(
                &bot,
                json!({
                    "name": "Payment received",
                    "actions": [
                        {"type": "telegram_message", "bot_token": TELEGRAM_TOKEN,
                         "chat_id": "{payload.user.telegram_chat_id}", "parse_mode": "HTML",
                         "text": "Thank you, <b>{payload.user.name}</b>! We received {payload.amount} {payload.currency}."},
                        {"type": "discord_message", "webhook_url": p.discord_url(), "username": "Payments",
                         "content": "{payload.user.name} paid {payload.amount} {payload.currency} (order {payload.order_id})"},
                        {"type": "update_variable", "name": "balance_{payload.user.id}", "op": "add", "value": "{payload.amount}"},
                        {"type": "condition",
                         "if": {"left": "{payload.amount}", "op": ">=", "right": "{big_payment}"},
                         "then": [{"type": "slack_message", "webhook_url": p.slack_url(),
                                   "text": "Big payment: {payload.amount} {payload.currency} from {payload.user.name}"}],
                         "else": [{"type": "log", "message": "regular payment of {payload.amount}"}]},
                        {"type": "http_request", "method": "POST", "url": crm.url("/api/payments"),
                         "headers": {"x-idempotency-key": "{event.id}"},
                         "body": {"customer_id": "{payload.user.id}", "amount": "{payload.amount}",
                                  "currency": "{payload.currency}", "order": "{payload.order_id}",
                                  "note": "Paid {payload.amount} {payload.currency}"}}
                    ]
                }),
            )
            .await;
        let hook_id = hook["id"].as_str().unwrap();
        let payment = |order: &str, amount: Value| {
            json!({
                "variables": [{"name": "Big payment", "variable": "{big_payment}", "value": "500"}],
                "order_id": order,
                "amount": amount,
                "currency": "EUR",
                "user": {"id": "u42", "name": "Ada", "telegram_chat_id": 987654321}
            })
        };
        let big = call(&dev, &hook, &key, payment("ord_1", json!(750))).await;
        dev.runs(&bot, hook_id, 1, WAIT).await;
        let small = call(&dev, &hook, &key, payment("ord_2", json!(20.5))).await;
        let runs = dev.runs(&bot, hook_id, 2, WAIT).await;

        let telegram = p.telegram.wait_for(2, WAIT).await;
        let tg_path = format!("/bot{TELEGRAM_TOKEN}/sendMessage");
        assert_eq!(
            json_post(&telegram[0], &tg_path),
            json!({"chat_id": 987654321, "parse_mode": "HTML",
                   "text": "Thank you, <b>Ada</b>! We received 750 EUR."}),
            "{backend:?}"
        );
        assert_eq!(
            json_post(&telegram[1], &tg_path)["text"],
            "Thank you, <b>Ada</b>! We received 20.5 EUR."
        );
        let discord = p.discord.wait_for(2, WAIT).await;
        assert_eq!(
            json_post(&discord[0], DISCORD_PATH),
            json!({"username": "Payments", "content": "Ada paid 750 EUR (order ord_1)",
                   "allowed_mentions": {"parse": ["users"]}})
        );
        assert_eq!(
            json_post(&discord[1], DISCORD_PATH)["content"],
            "Ada paid 20.5 EUR (order ord_2)"
        );
        let slack = p.slack.wait_for(1, WAIT).await;
        assert_eq!(
            json_post(&slack[0], SLACK_PATH),
            json!({"text": "Big payment: 750 EUR from Ada"})
        );
        let crm_got = crm.wait_for(2, WAIT).await;
        assert_eq!(
            json_post(&crm_got[0], "/api/payments"),
            json!({"customer_id": "u42", "amount": 750, "currency": "EUR",
                   "order": "ord_1", "note": "Paid 750 EUR"}),
            "the amount keeps its number type"
        );
        assert_eq!(
            crm_got[0].header("x-idempotency-key").as_deref(),
            Some(big.as_str())
        );
        assert_eq!(crm_got[1].json()["amount"], json!(20.5));
        assert_eq!(
            variables(&dev, &bot).await,
            json!({"balance_u42": 770.5}),
            "750 + 20.5"
        );
        tokio::time::sleep(SETTLE).await;
        assert_eq!(
            p.slack.received().len(),
            1,
            "the small payment did not go to Slack"
        );

        let big_run = run_of(&runs, &big);
        let small_run = run_of(&runs, &small);
        assert_eq!(big_run["status"], "succeeded", "{big_run}");
        assert_eq!(small_run["status"], "succeeded", "{small_run}");
        assert_eq!(
            big_run["actions"][2]["detail"],
            json!({"name": "balance_u42", "value": 750})
        );
        assert_eq!(big_run["actions"][3]["detail"]["branch"], "then");
        assert_eq!(small_run["actions"][3]["detail"]["branch"], "else");
        assert_eq!(
            small_run["actions"][2]["detail"],
            json!({"name": "balance_u42", "value": 770.5})
        );
        assert_no_tokens(big_run);
        assert_no_tokens(small_run);
        eprintln!(
            "run log of the big payment ({backend:?}):\n{}",
            serde_json::to_string_pretty(big_run).unwrap()
        );
    }
}

on_every_backend! {
    #[tokio::test(flavor = "multi_thread")]
    async fn concurrent_update_variable_adds_never_lose_one_on_every_backend(backend) {
        const CALLS: usize = 20;
        let dev = Dev::start(bin(), backend.clone(), &[]).await;
        let (bot, key) = dev.bot().await;
        let hook = dev
            .hook(
                &bot,
                json!({"actions": [
                    {"type": "update_variable", "name": "visits", "op": "add", "value": 1},
                    {"type": "update_variable", "name": "points", "op": "add", "value": "{payload.points}"}
                ]}),
            )
            .await;
        let calls: Vec<_> = (0..CALLS)
            .map(|i| {
                let client = dev.client.clone();
                let url = hook["url"].as_str().unwrap().to_owned();
                let key = key.clone();
                tokio::spawn(async move {
                    client
                        .post(url)
                        .header("authorization", key)
                        .json(&json!({"points": i}))
                        .send()
                        .await
                        .unwrap()
                        .status()
                })
            })
            .collect();
        for c in calls {
            assert_eq!(c.await.unwrap(), 202);
        }
        let runs = dev
            .runs(&bot, hook["id"].as_str().unwrap(), CALLS, WAIT)
            .await;
        assert_eq!(runs.len(), CALLS);
        for run in &runs {
            assert_eq!(run["status"], "succeeded", "{run}");
        }
        let mut seen: Vec<u64> = runs
            .iter()
            .map(|r| r["actions"][0]["detail"]["value"].as_u64().unwrap())
            .collect();
        seen.sort();
        assert_eq!(
            seen,
            (1..=CALLS as u64).collect::<Vec<_>>(),
            "each add saw its own total ({backend:?})"
        );
        assert_eq!(
            variables(&dev, &bot).await,
            json!({"visits": CALLS, "points": (0..CALLS).sum::<usize>()}),
            "{backend:?}"
        );
    }
}

on_every_backend! {
    #[tokio::test(flavor = "multi_thread")]
    async fn a_publish_loop_stops_at_the_documented_depth_on_every_backend(backend) {
        let dev = Dev::start(bin(), backend.clone(), &[]).await;
        let (bot, _) = dev.bot().await;
        // The hook publishes `loop.ping`; the endpoint subscribed to it is the hook itself.
        let hook = dev
            .hook(
                &bot,
                json!({"auth": {"type": "none"}, "actions": [
                    {"type": "publish", "event": "loop.ping", "data": {"from": "{event.id}"}}
                ]}),
            )
            .await;
        let hook_id = hook["id"].as_str().unwrap();
        dev.admin_json(
            Method::POST,
            &format!("/v1/bots/{bot}/endpoints"),
            json!({"name": "Itself", "url": hook["url"], "events": ["loop.ping"]}),
            201,
        )
        .await;
        let r = dev
            .client
            .post(hook["url"].as_str().unwrap())
            .json(&json!({"start": true}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 202);

        // Depth 0 (the first call) to 5: five publishes, then the sixth is refused.
        let runs = dev.runs(&bot, hook_id, 6, WAIT).await;
        tokio::time::sleep(SETTLE).await;
        let runs_after = dev
            .get(&format!("/v1/bots/{bot}/hooks/{hook_id}/runs"))
            .await;
        assert_eq!(
            runs_after["data"].as_array().unwrap().len(),
            6,
            "the loop stopped ({backend:?}): {runs:?}"
        );
        let failed: Vec<&Value> = runs.iter().filter(|r| r["status"] == "failed").collect();
        assert_eq!(failed.len(), 1, "{runs:?}");
        assert!(
            failed[0]["error"]
                .as_str()
                .unwrap()
                .contains("loop protection"),
            "{}",
            failed[0]
        );
        assert_eq!(
            runs.iter().filter(|r| r["status"] == "succeeded").count(),
            5
        );
        assert_eq!(
            failed[0]["id"], runs[0]["id"],
            "the last run is the refused one"
        );
    }
}

on_every_backend! {
    #[tokio::test(flavor = "multi_thread")]
    async fn a_run_is_retried_whole_only_when_its_failure_is_transient_and_nothing_took_effect(backend) {
        let first_call_fails = Sink::start().await;
        first_call_fails.reply_with([Reply::status(503)]);
        let second_call_fails = Sink::start().await;
        second_call_fails.reply_with([Reply::status(200), Reply::status(503)]);
        let dev = Dev::start(bin(), backend.clone(), &[]).await;
        let (bot, key) = dev.bot().await;
        let retried = dev
            .hook(
                &bot,
                json!({"actions": [
                    {"type": "log", "message": "no effect"},
                    {"type": "http_request", "url": first_call_fails.url("/a"), "body": {"n": "{payload.n}"}}
                ]}),
            )
            .await;
        let not_retried = dev
            .hook(
                &bot,
                json!({"actions": [
                    {"type": "http_request", "url": second_call_fails.url("/effect"), "body": {}},
                    {"type": "http_request", "url": second_call_fails.url("/fails"), "body": {}}
                ]}),
            )
            .await;
        let started = Instant::now();
        let a = call(&dev, &retried, &key, json!({"n": 1})).await;
        let b = call(&dev, &not_retried, &key, json!({})).await;

        let runs = dev
            .runs(&bot, not_retried["id"].as_str().unwrap(), 1, WAIT)
            .await;
        let run = run_of(&runs, &b);
        assert_eq!(run["status"], "failed", "{run}");
        assert_eq!(run["attempt"], 1);
        assert!(run["error"]
            .as_str()
            .unwrap()
            .starts_with("action 1 (http_request) failed"));

        // The first run is retried (the dispatcher waits 5 s) and then succeeds.
        let got = first_call_fails.wait_for(2, WAIT).await;
        assert!(got[1].at - got[0].at >= Duration::from_secs(4));
        // `runs` waits past the `retrying` state.
        let runs = dev
            .runs(&bot, retried["id"].as_str().unwrap(), 1, WAIT)
            .await;
        let run = run_of(&runs, &a);
        assert_eq!(run["status"], "succeeded", "{run}");
        assert_eq!(run["attempt"], 2, "{run}");
        assert_eq!(got[1].json(), json!({"n": 1}));
        assert!(started.elapsed() < WAIT);
        assert_eq!(
            second_call_fails.received().len(),
            2,
            "the run with an effect was not retried ({backend:?})"
        );
    }
}

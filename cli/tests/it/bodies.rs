//! Bodies as senders send them, end to end: `hooklane dev` as a real
//! process, a sink HTTP server on loopback standing for the APIs actions
//! call and the endpoints events go to, on the embedded backend and (with
//! moto) on DynamoDB + SQS. JSON numbers keep their digits on every path a
//! value takes (call → envelope → dispatcher → template → action body;
//! action publish and API publish → fan-out → delivery body); Slack's
//! retries and Svix's header names work against each store.

use std::io::Write;

use crate::common::{bin, WAIT};
use flate2::write::GzEncoder;
use flate2::Compression;
use hooklane_testkit::crypto::{base64_decode, base64_encode, hex, hmac_sha256};
use hooklane_testkit::{on_every_backend, Dev, Sink};
use reqwest::Method;
use serde_json::json;

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), Compression::default());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

/// A call's body with numbers JSON can carry but an `f64` cannot keep.
const NUMBERS: &str = r#"{"price": 12.50, "huge": 1e400, "long": 123456789012345678901234567890, "zero": -0.0, "variables": [{"name": "Amount", "variable": "{amount}", "value": 12.50}]}"#;

/// Each number as it must arrive: its digits and sign as sent (an
/// exponent is spelled `e+`).
const DIGITS: [(&str, &str); 4] = [
    ("price", "12.50"),
    ("huge", "1e+400"),
    ("long", "123456789012345678901234567890"),
    ("zero", "-0.0"),
];

/// What of [`DIGITS`] `text` does not hold as compact JSON writes it
/// (`"key":digits` then `,` or `}`).
fn written(text: &str) -> Vec<String> {
    DIGITS
        .iter()
        .filter(|(key, digits)| {
            let at = format!("\"{key}\":{digits}");
            ![",", "}"]
                .iter()
                .any(|end| text.contains(&format!("{at}{end}")))
        })
        .map(|(key, digits)| format!("{key} is not {digits}"))
        .collect()
}

on_every_backend! {
    #[tokio::test(flavor = "multi_thread")]
    async fn numbers_keep_their_digits_through_actions_publishes_and_deliveries_on_every_backend(backend) {
        let sink = Sink::start().await;
        let dev = Dev::start(bin(), backend.clone(), &[]).await;
        let (bot, key) = dev.bot().await;
        dev.admin_json(
            Method::POST,
            &format!("/v1/bots/{bot}/endpoints"),
            json!({"name": "Orders", "type": "custom", "url": sink.url("/endpoint"), "events": ["order.*"]}),
            201,
        )
        .await;
        let data = json!({
            "price": "{payload.price}", "huge": "{payload.huge}",
            "long": "{payload.long}", "zero": "{payload.zero}",
        });
        let mut body = data.clone();
        body["amount"] = json!("{amount}");
        body["text"] = json!("{payload.price} {payload.long} {amount}");
        body["whole"] = json!("{payload}");
        let hook = dev
            .hook(
                &bot,
                json!({"name": "Numbers", "auth": {"type": "none"}, "actions": [
                    {"type": "http_request", "url": sink.url("/action"), "body": body},
                    {"type": "publish", "event": "order.paid", "data": data},
                ]}),
            )
            .await;
        let url = hook["url"].as_str().unwrap().to_owned();
        let calls = [
            (
                "curl -d (a form type)",
                "application/x-www-form-urlencoded",
                None,
                NUMBERS.as_bytes().to_vec(),
            ),
            (
                "gzip JSON",
                "application/json",
                Some("gzip"),
                gzip(NUMBERS.as_bytes()),
            ),
        ];
        for (what, content_type, coding, bytes) in calls {
            let mut request = dev.client.post(&url).header("content-type", content_type);
            if let Some(coding) = coding {
                request = request.header("content-encoding", coding);
            }
            let r = request.body(bytes).send().await.unwrap();
            assert_eq!(r.status(), 202, "{backend:?} {what}");
        }
        let published = dev
            .client
            .post(format!("{}/v1/bots/{bot}/events", dev.base))
            .bearer_auth(&key)
            .header("content-type", "application/json")
            .body(r#"{"event": "order.direct", "data": {"price": 12.50, "huge": 1e400, "long": 123456789012345678901234567890, "zero": -0.0}}"#)
            .send()
            .await
            .unwrap();
        assert_eq!(published.status(), 202, "{backend:?}");

        // Two action calls, two deliveries of the actions' publishes, one of the API's.
        let got = sink.wait_for(5, WAIT).await;
        let runs = dev.runs(&bot, hook["id"].as_str().unwrap(), 2, WAIT).await;
        for run in &runs {
            assert_eq!(run["status"], "succeeded", "{backend:?}: {run}");
        }
        let mut failures = Vec::new();
        for r in &got {
            let text = r.text();
            let mut wrong = written(&text);
            if r.path == "/action" {
                for want in [
                    r#""amount":12.50"#,
                    r#""text":"12.50 123456789012345678901234567890 12.50""#,
                    r#""whole":{"huge":1e+400,"long":123456789012345678901234567890,"price":12.50,"zero":-0.0}"#,
                ] {
                    if !text.contains(want) {
                        wrong.push(format!("no {want}"));
                    }
                }
            }
            if !wrong.is_empty() {
                failures.push(format!(
                    "{} {}: {}\n  {text}",
                    r.path,
                    wrong.join(", "),
                    r.header("x-webhook-event").unwrap_or_default()
                ));
            }
        }
        let paths: Vec<&str> = got.iter().map(|r| r.path.as_str()).collect();
        assert_eq!(
            paths.iter().filter(|p| **p == "/action").count(),
            2,
            "{backend:?}: {paths:?}"
        );
        assert_eq!(
            paths.iter().filter(|p| **p == "/endpoint").count(),
            3,
            "{backend:?}: {paths:?}"
        );
        assert!(failures.is_empty(), "{backend:?}:\n{}", failures.join("\n"));
    }
}

/// `v0=` + hex HMAC-SHA256 of `v0:{ts}:{body}` (Slack's "Verifying requests").
fn slack_signature(secret: &str, ts: i64, body: &str) -> String {
    format!(
        "v0={}",
        hex(&hmac_sha256(
            secret.as_bytes(),
            format!("v0:{ts}:{body}").as_bytes()
        ))
    )
}

/// `v1,` + base64 HMAC-SHA256 of `{id}.{ts}.{body}`, keyed with the decoded
/// part of `whsec_…` (Standard Webhooks, as Svix signs).
fn svix_signature(secret: &str, id: &str, ts: i64, body: &str) -> String {
    let key = base64_decode(secret.strip_prefix("whsec_").unwrap()).unwrap();
    format!(
        "v1,{}",
        base64_encode(&hmac_sha256(&key, format!("{id}.{ts}.{body}").as_bytes()))
    )
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

on_every_backend! {
    #[tokio::test(flavor = "multi_thread")]
    async fn slack_retries_and_svix_redeliveries_are_duplicates_on_every_backend(backend) {
        const SLACK_SECRET: &str = "8f742231b10e8888abcd99yyyzzz85a5";
        const SVIX_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let dev = Dev::start(bin(), backend.clone(), &[]).await;
        let (bot, _) = dev.bot().await;
        let log = json!([{"type": "log", "message": "{payload.event_id}{payload.type}"}]);
        let slack = dev
            .hook(&bot, json!({"name": "Slack", "auth": {"type": "hmac", "scheme": "slack", "secret": SLACK_SECRET}, "actions": log}))
            .await;
        let svix = dev
            .hook(&bot, json!({"name": "Svix", "auth": {"type": "hmac", "scheme": "standard", "secret": SVIX_SECRET}, "actions": log}))
            .await;
        let event = r#"{"type":"event_callback","event_id":"Ev0PV52K21","event":{"type":"app_mention","text":"hi"}}"#;
        let other = r#"{"type":"event_callback","event_id":"Ev0PV52K22","event":{"type":"app_mention","text":"hi"}}"#;
        let svix_body = r#"{"type":"invoice.paid","amount":12.50}"#;
        let slack_call = |body: &'static str, ts: i64, retry: Option<&'static str>| {
            let mut r = dev
                .client
                .post(slack["url"].as_str().unwrap())
                .header("content-type", "application/json")
                .header("x-slack-request-timestamp", ts.to_string())
                .header("x-slack-signature", slack_signature(SLACK_SECRET, ts, body));
            if let Some(n) = retry {
                r = r
                    .header("x-slack-retry-num", n)
                    .header("x-slack-retry-reason", "http_timeout");
            }
            r.body(body)
        };
        let svix_call = |id: &'static str, ts: i64| {
            dev.client
                .post(svix["url"].as_str().unwrap())
                .header("content-type", "application/json")
                .header("svix-id", id)
                .header("svix-timestamp", ts.to_string())
                .header(
                    "svix-signature",
                    svix_signature(SVIX_SECRET, id, ts, svix_body),
                )
                .body(svix_body)
        };
        let t = now();
        // Each call, and whether it is a duplicate of an earlier one.
        let calls = vec![
            ("a Slack event", slack_call(event, t, None), false),
            (
                "Slack's first retry of it",
                slack_call(event, t + 2, Some("1")),
                true,
            ),
            (
                "Slack's second retry of it",
                slack_call(event, t + 4, Some("2")),
                true,
            ),
            ("another Slack event", slack_call(other, t + 4, None), false),
            ("a Svix message", svix_call("msg_2Lx9", t), false),
            ("Svix redelivering it", svix_call("msg_2Lx9", t + 5), true),
            ("another Svix message", svix_call("msg_2Lx8", t + 5), false),
        ];
        for (what, call, duplicate) in calls {
            let r = call.send().await.unwrap();
            assert_eq!(r.status(), 202, "{backend:?} {what}");
            let dup = r.headers().get("x-hooklane-duplicate").is_some();
            assert_eq!(dup, duplicate, "{backend:?} {what}");
        }
        assert_eq!(
            dev.runs(&bot, slack["id"].as_str().unwrap(), 2, WAIT)
                .await
                .len(),
            2,
            "{backend:?}"
        );
        assert_eq!(
            dev.runs(&bot, svix["id"].as_str().unwrap(), 2, WAIT)
                .await
                .len(),
            2,
            "{backend:?}"
        );
    }
}

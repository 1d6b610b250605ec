//! End to end: `hooklane dev` as a real process, a sink HTTP server on
//! loopback, on the embedded backend and (with moto) on DynamoDB + SQS.

use std::time::Duration;

use crate::common::{bin, WAIT};
use hooklane_testkit::{on_every_backend, Dev, Sink};
use reqwest::Method;
use serde_json::{json, Value};

/// what, method, url, Authorization, body, status, error code
type Case = (
    &'static str,
    Method,
    String,
    Option<String>,
    String,
    u16,
    &'static str,
);

async fn call(dev: &Dev, url: &str, key: &str, body: Value) -> reqwest::Response {
    dev.client
        .post(url)
        .header("authorization", key)
        .json(&body)
        .send()
        .await
        .unwrap()
}

on_every_backend! {
    #[tokio::test(flavor = "multi_thread")]
    async fn a_hook_call_posts_the_rendered_body_to_the_sink_on_every_backend(backend) {
        let sink = Sink::start().await;
        let dev = Dev::start(bin(), backend.clone(), &[]).await;
        let (bot, key) = dev.bot().await;
        let hook = dev
            .hook(
                &bot,
                json!({
                    "name": "Payments",
                    "actions": [{
                        "type": "http_request",
                        "method": "POST",
                        "url": sink.url("/crm?src={query.src}"),
                        "headers": {"x-event": "{event.id}"},
                        "body": {
                            "amount": "{amount}",
                            "user": "{payload.user.name}",
                            "items": "{payload.items}",
                            "first_sku": "{payload.items.0.sku}",
                            "text": "Paid {amount} by {payload.user.name}",
                            "bot": "{bot.id}",
                            "source": "{headers.x-source}",
                            "unknown": "{nope}"
                        }
                    }, {"type": "log", "message": "done {event.id}"}]
                }),
            )
            .await;
        let url = format!("{}?src=shop", hook["url"].as_str().unwrap());
        let r = dev
            .client
            .post(&url)
            .header("authorization", format!("Bearer {key}"))
            .header("x-source", "test-suite")
            .json(&json!({
                "variables": [{"name": "Amount", "variable": "{amount}", "value": "12"}],
                "user": {"name": "Ada"},
                "items": [{"sku": "A1"}, {"sku": "B2"}]
            }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 202, "{backend:?}");
        let answer: Value = r.json().await.unwrap();
        let event_id = answer["id"].as_str().unwrap().to_owned();
        assert!(event_id.starts_with("evt_"));
        assert_eq!(answer["status"], "queued");

        let got = sink.wait_for(1, WAIT).await;
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].path, "/crm");
        assert_eq!(got[0].query.as_deref(), Some("src=shop"));
        assert_eq!(got[0].header("x-event").as_deref(), Some(event_id.as_str()));
        assert_eq!(
            got[0].json(),
            json!({
                "amount": "12",
                "user": "Ada",
                "items": [{"sku": "A1"}, {"sku": "B2"}],
                "first_sku": "A1",
                "text": "Paid 12 by Ada",
                "bot": bot,
                "source": "test-suite",
                "unknown": "{nope}"
            }),
            "{backend:?}"
        );
        let runs = dev.runs(&bot, hook["id"].as_str().unwrap(), 1, WAIT).await;
        assert_eq!(runs[0]["id"], event_id.as_str());
        assert_eq!(runs[0]["status"], "succeeded");
        assert_eq!(runs[0]["actions"][0]["status"], "succeeded");
        assert_eq!(runs[0]["actions"][0]["detail"]["status"], 200);
        assert_eq!(
            runs[0]["actions"][1]["detail"]["message"],
            format!("done {event_id}")
        );
        assert_eq!(runs[0]["unknown_placeholders"], json!(["nope"]));
    }
}

on_every_backend! {
    #[tokio::test(flavor = "multi_thread")]
    async fn an_event_accepted_before_a_kill_9_still_runs_after_a_restart(backend) {
        let sink = Sink::start().await;
        // The dispatcher is off, so the event can only be in the queue when the process dies.
        let mut dev = Dev::start(bin(), backend.clone(), &[("HOOKLANE_DISPATCH", "false")]).await;
        let (bot, key) = dev.bot().await;
        let hook = dev
            .hook(&bot, json!({"actions": [{"type": "http_request", "url": sink.url("/after-crash"), "body": {"n": "{n}"}}]}))
            .await;
        let r = call(
            &dev,
            hook["url"].as_str().unwrap(),
            &key,
            json!({"variables": [{"name": "N", "variable": "{n}", "value": "7"}]}),
        )
        .await;
        assert_eq!(r.status(), 202);
        dev.kill9();
        assert!(sink.received().is_empty());

        dev.restart_with(&[("HOOKLANE_DISPATCH", "true")]).await;
        let got = sink.wait_for(1, WAIT).await;
        assert_eq!(got[0].json(), json!({"n": "7"}), "{backend:?}");
    }
}

on_every_backend! {
    #[tokio::test(flavor = "multi_thread")]
    async fn bad_calls_get_their_status_and_code_and_nothing_is_queued(backend) {
        let sink = Sink::start().await;
        let mut dev = Dev::start(bin(), backend.clone(), &[("HOOKLANE_DISPATCH", "false")]).await;
        let (bot, key) = dev.bot().await;
        let hook = dev
            .hook(&bot, json!({"actions": [{"type": "http_request", "url": sink.url("/ok"), "body": {"v": "{v}"}}]}))
            .await;
        let url = hook["url"].as_str().unwrap().to_owned();
        let unknown = format!("{}/hooks/{bot}/hk_01J0000000000000000000000", dev.base);
        let cases: Vec<Case> = vec![
            (
                "wrong key",
                Method::POST,
                url.clone(),
                Some("hlk_wrong".into()),
                "{}".into(),
                401,
                "unauthorized",
            ),
            (
                "no key",
                Method::POST,
                url.clone(),
                None,
                "{}".into(),
                401,
                "unauthorized",
            ),
            (
                "unknown hook",
                Method::POST,
                unknown,
                Some(key.clone()),
                "{}".into(),
                404,
                "not_found",
            ),
            (
                "wrong method",
                Method::PUT,
                url.clone(),
                Some(key.clone()),
                "{}".into(),
                405,
                "method_not_allowed",
            ),
            (
                "malformed JSON",
                Method::POST,
                url.clone(),
                Some(key.clone()),
                "{\"a\":".into(),
                400,
                "invalid_json",
            ),
            (
                "variables not an array",
                Method::POST,
                url.clone(),
                Some(key.clone()),
                r#"{"variables": {}}"#.into(),
                400,
                "invalid_variables",
            ),
            (
                "variable without value",
                Method::POST,
                url.clone(),
                Some(key.clone()),
                r#"{"variables": [{"name": "V", "variable": "{v}"}]}"#.into(),
                400,
                "invalid_variables",
            ),
            (
                "variable not in braces",
                Method::POST,
                url.clone(),
                Some(key.clone()),
                r#"{"variables": [{"name": "V", "variable": "v", "value": "1"}]}"#.into(),
                400,
                "invalid_variables",
            ),
            (
                "variable entry not an object",
                Method::POST,
                url.clone(),
                Some(key.clone()),
                r#"{"variables": ["v"]}"#.into(),
                400,
                "invalid_variables",
            ),
        ];
        for (what, method, url, auth, body, status, code) in cases {
            let mut req = dev
                .client
                .request(method, &url)
                .header("content-type", "application/json")
                .body(body);
            if let Some(auth) = auth {
                req = req.header("authorization", auth);
            }
            let r = req.send().await.unwrap();
            assert_eq!(r.status().as_u16(), status, "{what} ({backend:?})");
            if status == 405 {
                assert_eq!(r.headers()["allow"], "POST, OPTIONS");
            }
            let answer: Value = r.json().await.unwrap();
            assert_eq!(answer["error"]["code"], code, "{what}: {answer}");
            assert!(answer["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty()));
        }
        // One good call after the bad ones: the dispatcher runs exactly that one.
        let r = call(
            &dev,
            &url,
            &key,
            json!({"variables": [{"name": "V", "variable": "{v}", "value": "ok"}]}),
        )
        .await;
        assert_eq!(r.status(), 202);
        dev.restart_with(&[("HOOKLANE_DISPATCH", "true")]).await;
        let got = sink.wait_for(1, WAIT).await;
        tokio::time::sleep(Duration::from_millis(1500)).await;
        assert_eq!(
            sink.received().len(),
            1,
            "only the good call was queued ({backend:?})"
        );
        assert_eq!(got[0].json(), json!({"v": "ok"}));
        let runs = dev.runs(&bot, hook["id"].as_str().unwrap(), 1, WAIT).await;
        assert_eq!(runs.len(), 1);
    }
}

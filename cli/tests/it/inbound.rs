//! Inbound hooks end to end: `hooklane dev` as a real process, callers on
//! loopback, a sink HTTP server standing for the APIs the actions call, on
//! the embedded backend and (with moto) on DynamoDB + SQS. Each auth scheme
//! is exercised the way its real callers do it: a signed GET link, a
//! Botpress-style `x-bp-secret`, a GitHub-signed delivery (the signature
//! computed here from GitHub's documented scheme, with SHA-256 and HMAC
//! written out so the check shares no code with Hooklane), a browser page
//! with CORS, and the bot's API key across a rotation.

use std::time::{Duration, Instant};

use crate::common::{bin, WAIT};
use hooklane_testkit::{on_every_backend, Dev, Sink};
use reqwest::{Method, Url};
use serde_json::{json, Value};

// ------------------------------------------------------ signing, by hand

/// SHA-256 and HMAC from the RustCrypto crates (via the test kit).
mod sha256 {
    pub use hooklane_testkit::crypto::hex;

    pub fn hmac(key: &[u8], message: &[u8]) -> [u8; 32] {
        hooklane_testkit::crypto::hmac_sha256(key, message)
    }
}

fn github_signature(secret: &str, body: &[u8]) -> String {
    format!(
        "sha256={}",
        sha256::hex(&sha256::hmac(secret.as_bytes(), body))
    )
}

#[test]
fn the_github_signature_here_matches_githubs_documented_example() {
    // From GitHub's "Validating webhook deliveries".
    assert_eq!(
        github_signature("It's a Secret to Everybody", b"Hello, World!"),
        "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
    );
}

/// URL-safe base64 without padding (via the test kit).
mod base64url {
    pub fn encode(bytes: &[u8]) -> String {
        hooklane_testkit::crypto::base64url_encode(bytes)
    }

    pub fn decode(text: &str) -> Vec<u8> {
        hooklane_testkit::crypto::base64url_decode(text)
    }
}

#[test]
fn base64url_here_round_trips() {
    for text in [
        "",
        "a",
        "ab",
        "abc",
        "{\"c\":{\"user_id\":\"42\"},\"e\":null}",
    ] {
        assert_eq!(
            base64url::decode(&base64url::encode(text.as_bytes())),
            text.as_bytes()
        );
    }
    assert_eq!(base64url::encode(b"\xfb\xff"), "-_8");
}

// ---------------------------------------------------------------- helpers

/// A copy of `url` with one query parameter set to `value`.
fn with_param(url: &str, name: &str, value: &str) -> String {
    let mut url = Url::parse(url).unwrap();
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .map(|(k, v)| {
            let v = if k == name {
                value.into()
            } else {
                v.into_owned()
            };
            (k.into_owned(), v)
        })
        .collect();
    url.query_pairs_mut().clear().extend_pairs(pairs);
    url.to_string()
}

fn param(url: &str, name: &str) -> String {
    Url::parse(url)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
        .unwrap()
}

async fn error_code(response: reqwest::Response) -> Value {
    let body: Value = response.json().await.unwrap_or(Value::Null);
    body["error"]["code"].clone()
}

/// Bodies the sink received at `path`.
fn bodies(sink: &Sink, path: &str) -> Vec<Value> {
    sink.received()
        .into_iter()
        .filter(|r| r.path == path)
        .map(|r| r.json())
        .collect()
}

// ------------------------------------------------------------------ tests

on_every_backend! {
    #[tokio::test(flavor = "multi_thread")]
    async fn a_signed_get_link_runs_with_its_context_and_a_changed_or_expired_link_gets_401(backend) {
        let sink = Sink::start().await;
        let dev = Dev::start(bin(), backend.clone(), &[]).await;
        let (bot, _) = dev.bot().await;
        let hook = dev
            .hook(
                &bot,
                json!({
                    "name": "Confirm link",
                    "methods": ["GET"],
                    "auth": {"type": "signed_url"},
                    "actions": [{
                        "type": "http_request",
                        "method": "POST",
                        "url": sink.url("/confirmed"),
                        "body": {"user": "{context.user_id}", "ref": "{query.ref}"}
                    }]
                }),
            )
            .await;
        let hook_id = hook["id"].as_str().unwrap();
        let minted = dev
            .admin_json(
                Method::POST,
                &format!("/v1/bots/{bot}/hooks/{hook_id}/urls"),
                json!({"context": {"user_id": "42"}}),
                201,
            )
            .await;
        let link = minted["url"].as_str().unwrap().to_owned();
        assert!(link.starts_with(hook["url"].as_str().unwrap()), "{link}");
        assert_eq!(minted["context"], json!({"user_id": "42"}));

        // A browser follows the link (plus a parameter of the page's own).
        let r = dev
            .client
            .get(format!("{link}&ref=mail"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 202, "{backend:?}");
        sink.wait_for(1, WAIT).await;
        assert_eq!(
            bodies(&sink, "/confirmed"),
            vec![json!({"user": "42", "ref": "mail"})],
            "{backend:?}"
        );

        // The holder edits the context to be someone else.
        let ctx = param(&link, "ctx");
        let mut claims: Value = serde_json::from_slice(&base64url::decode(&ctx)).unwrap();
        assert_eq!(claims["c"]["user_id"], "42");
        claims["c"]["user_id"] = json!("43");
        let forged = base64url::encode(claims.to_string().as_bytes());
        let sig = param(&link, "sig");
        let flipped_sig = format!(
            "{}{}",
            if sig.starts_with('A') { "B" } else { "A" },
            &sig[1..]
        );
        for (what, url) in [
            ("context changed", with_param(&link, "ctx", &forged)),
            ("sig changed", with_param(&link, "sig", &flipped_sig)),
            (
                "sig left out",
                link.split("&sig=").next().unwrap().to_owned(),
            ),
        ] {
            let r = dev.client.get(&url).send().await.unwrap();
            assert_eq!(r.status(), 401, "{what} ({backend:?})");
            assert_eq!(error_code(r).await, "unauthorized", "{what}");
        }

        // A link minted to expire in 1 s is refused once that second is over.
        let expiring = dev
            .admin_json(
                Method::POST,
                &format!("/v1/bots/{bot}/hooks/{hook_id}/urls"),
                json!({"context": {"user_id": "expiring"}, "expires_in": 1}),
                201,
            )
            .await;
        assert!(expiring["expires_at"].is_string());
        let expiring = expiring["url"].as_str().unwrap();
        let deadline = Instant::now() + Duration::from_secs(5);
        let refused = loop {
            let r = dev.client.get(expiring).send().await.unwrap();
            match r.status().as_u16() {
                401 => break r,
                202 => {}
                other => panic!("an expiring link answered {other}"),
            }
            assert!(
                Instant::now() < deadline,
                "the link still works 5 s after minting"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        let body: Value = refused.json().await.unwrap();
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("expired"),
            "{body}"
        );

        // Only the genuine link (and the expiring one while it was valid) ran.
        let users: Vec<Value> = bodies(&sink, "/confirmed")
            .into_iter()
            .map(|b| b["user"].clone())
            .collect();
        assert!(
            users.iter().all(|u| u == "42" || u == "expiring"),
            "{users:?}"
        );
        assert_eq!(users.iter().filter(|u| *u == "42").count(), 1);
    }
}

on_every_backend! {
    #[tokio::test(flavor = "multi_thread")]
    async fn botpress_github_and_browser_callers_are_accepted_and_impostors_are_not(backend) {
        const BP_SECRET: &str = "bp-shared-secret-1234";
        const GH_SECRET: &str = "gh-webhook-secret";
        let sink = Sink::start().await;
        let dev = Dev::start(bin(), backend.clone(), &[]).await;
        let (bot, _) = dev.bot().await;

        // Botpress-style: the secret in x-bp-secret, bot-builder variables.
        let botpress = dev
            .hook(
                &bot,
                json!({
                    "name": "Botpress",
                    "auth": {"type": "secret_header", "header": "x-bp-secret", "secret": BP_SECRET},
                    "actions": [{
                        "type": "http_request",
                        "url": sink.url("/botpress"),
                        "body": {"user": "{user}", "secret_seen": "{headers.x-bp-secret}"}
                    }]
                }),
            )
            .await;
        assert_eq!(
            botpress["auth"],
            json!({"type": "secret_header", "header": "x-bp-secret"})
        );
        let url = botpress["url"].as_str().unwrap();
        let body = json!({"variables": [{"name": "User", "variable": "{user}", "value": "ada"}]});
        for (secret, status) in [
            (Some("wrong-secret-1234"), 401),
            (None, 401),
            (Some(BP_SECRET), 202),
        ] {
            let mut req = dev.client.post(url).json(&body);
            if let Some(s) = secret {
                req = req.header("x-bp-secret", s);
            }
            let r = req.send().await.unwrap();
            assert_eq!(
                r.status().as_u16(),
                status,
                "x-bp-secret {secret:?} ({backend:?})"
            );
        }

        // GitHub: X-Hub-Signature-256 over the raw body.
        let github = dev
            .hook(
                &bot,
                json!({
                    "name": "GitHub",
                    "auth": {"type": "hmac", "scheme": "github", "secret": GH_SECRET},
                    "actions": [{
                        "type": "http_request",
                        "url": sink.url("/github"),
                        "body": {
                            "event": "{headers.x-github-event}",
                            "repo": "{payload.repository.full_name}",
                            "title": "{payload.issue.title}"
                        }
                    }]
                }),
            )
            .await;
        let url = github["url"].as_str().unwrap();
        let raw = r#"{"action":"opened","issue":{"title":"Grüße ✓"},"repository":{"full_name":"acme/bot"}}"#;
        let gh = |signature: String| {
            dev.client
                .post(url)
                .header("content-type", "application/json")
                .header("x-github-event", "issues")
                .header("x-github-delivery", "72d3162e-cc78-11e3-81ab-4c9367dc0958")
                .header("x-hub-signature-256", signature)
                .body(raw)
        };
        let tampered = gh(github_signature(GH_SECRET, raw.as_bytes()))
            .body(raw.replace("opened", "closed"))
            .send()
            .await
            .unwrap();
        assert_eq!(tampered.status(), 401, "{backend:?}");
        let wrong = gh(github_signature("not-the-secret", raw.as_bytes()))
            .send()
            .await
            .unwrap();
        assert_eq!(wrong.status(), 401);
        let r = gh(github_signature(GH_SECRET, raw.as_bytes()))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 202, "{backend:?}");

        // A browser page on an allowed origin: preflight, then the call.
        let cors = dev
            .hook(
                &bot,
                json!({
                    "name": "Widget",
                    "auth": {"type": "none"},
                    "allowed_origins": ["https://app.example.com"],
                    "actions": [{"type": "http_request", "url": sink.url("/widget"), "body": {"clicked": "{payload.button}"}}]
                }),
            )
            .await;
        let url = cors["url"].as_str().unwrap();
        let preflight = dev
            .client
            .request(Method::OPTIONS, url)
            .header("origin", "https://app.example.com")
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "content-type")
            .send()
            .await
            .unwrap();
        assert_eq!(preflight.status(), 204, "{backend:?}");
        assert_eq!(
            preflight.headers()["access-control-allow-origin"],
            "https://app.example.com"
        );
        assert!(preflight.headers()["access-control-allow-methods"]
            .to_str()
            .unwrap()
            .contains("POST"));
        let from_page = dev
            .client
            .post(url)
            .header("origin", "https://app.example.com")
            .json(&json!({"button": "buy"}))
            .send()
            .await
            .unwrap();
        assert_eq!(from_page.status(), 202);
        assert_eq!(
            from_page.headers()["access-control-allow-origin"],
            "https://app.example.com"
        );
        for origin in ["https://evil.example.net", "null"] {
            let r = dev
                .client
                .post(url)
                .header("origin", origin)
                .json(&json!({"button": "steal"}))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 403, "{origin}");
            assert_eq!(error_code(r).await, "forbidden");
            let r = dev
                .client
                .request(Method::OPTIONS, url)
                .header("origin", origin)
                .header("access-control-request-method", "POST")
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 403, "preflight from {origin}");
            assert!(r.headers().get("access-control-allow-origin").is_none());
        }

        sink.wait_for(3, WAIT).await;
        assert_eq!(
            bodies(&sink, "/botpress"),
            // The secret header never reaches the actions.
            vec![json!({"user": "ada", "secret_seen": "{headers.x-bp-secret}"})],
            "{backend:?}"
        );
        assert_eq!(
            bodies(&sink, "/github"),
            vec![json!({"event": "issues", "repo": "acme/bot", "title": "Grüße ✓"})]
        );
        assert_eq!(bodies(&sink, "/widget"), vec![json!({"clicked": "buy"})]);
    }
}

on_every_backend! {
    #[tokio::test(flavor = "multi_thread")]
    async fn a_hook_answers_with_its_own_response_or_redirect_and_a_repeated_idempotency_key_runs_once(backend) {
        let sink = Sink::start().await;
        let dev = Dev::start(bin(), backend.clone(), &[]).await;
        let (bot, key) = dev.bot().await;

        let respond = dev
            .hook(
                &bot,
                json!({
                    "name": "Form",
                    "auth": {"type": "none"},
                    "response": {"status": 200, "body": {"message": "Thanks, {payload.name}!", "order": "{payload.order}", "event": "{event.id}"}},
                    "actions": [{"type": "log", "message": "form from {payload.name}"}]
                }),
            )
            .await;
        let r = dev
            .client
            .post(respond["url"].as_str().unwrap())
            .header("content-type", "application/x-www-form-urlencoded")
            .body("name=Ada+Lovelace&order=7")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{backend:?}");
        let event_id = r.headers()["x-hooklane-event-id"]
            .to_str()
            .unwrap()
            .to_owned();
        let answer: Value = r.json().await.unwrap();
        assert_eq!(
            answer,
            json!({"message": "Thanks, Ada Lovelace!", "order": "7", "event": event_id})
        );

        let redirect = dev
            .hook(
                &bot,
                json!({
                    "name": "Link",
                    "methods": ["GET"],
                    "auth": {"type": "none"},
                    "response": {"redirect_to": "https://shop.example/thanks?order={query.order}"},
                    "actions": [{"type": "http_request", "url": sink.url("/clicked"), "body": {"order": "{query.order}"}}]
                }),
            )
            .await;
        let r = dev
            .client
            .get(format!("{}?order=A-17", redirect["url"].as_str().unwrap()))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303, "{backend:?}");
        assert_eq!(
            r.headers()["location"],
            "https://shop.example/thanks?order=A-17"
        );

        // The same Idempotency-Key twice: one event, one action run.
        let once = dev
            .hook(
                &bot,
                json!({
                    "name": "Orders",
                    "actions": [{"type": "http_request", "url": sink.url("/orders"), "body": {"n": "{payload.n}"}}]
                }),
            )
            .await;
        let url = once["url"].as_str().unwrap();
        let send = |n: u32, idem: &str| {
            dev.client
                .post(url)
                .header("authorization", &key)
                .header("idempotency-key", idem)
                .json(&json!({"n": n}))
                .send()
        };
        let first = send(1, "order-1").await.unwrap();
        assert_eq!(first.status(), 202);
        let first: Value = first.json().await.unwrap();
        let again = send(1, "order-1").await.unwrap();
        assert_eq!(again.status(), 202, "{backend:?}");
        assert_eq!(
            again.headers()["x-hooklane-duplicate"],
            "true",
            "{backend:?}"
        );
        let again: Value = again.json().await.unwrap();
        assert_eq!(again["id"], first["id"], "the first call's id");
        // A later call with another key: once its action has run, a queued
        // duplicate would have run too.
        let later = send(2, "order-2").await.unwrap();
        assert_eq!(later.status(), 202);
        let deadline = Instant::now() + WAIT;
        while bodies(&sink, "/orders").len() < 2 || sink.received().len() < 3 {
            assert!(Instant::now() < deadline, "{:?}", sink.received());
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        let runs = dev.runs(&bot, once["id"].as_str().unwrap(), 2, WAIT).await;
        assert_eq!(runs.len(), 2, "{backend:?}: {runs:?}");
        let mut orders = bodies(&sink, "/orders");
        orders.sort_by_key(|b| b["n"].as_u64());
        assert_eq!(
            orders,
            vec![json!({"n": 1}), json!({"n": 2})],
            "{backend:?}"
        );
        assert_eq!(bodies(&sink, "/clicked"), vec![json!({"order": "A-17"})]);
    }
}

on_every_backend! {
    #[tokio::test(flavor = "multi_thread")]
    async fn after_an_api_key_rotation_the_old_key_gets_401_within_10_seconds(backend) {
        let dev = Dev::start(bin(), backend.clone(), &[("HOOKLANE_DISPATCH", "false")]).await;
        let (bot, old_key) = dev.bot().await;
        let hook = dev
            .hook(
                &bot,
                json!({"name": "Keyed", "actions": [{"type": "log", "message": "ok"}]}),
            )
            .await;
        let url = hook["url"].as_str().unwrap().to_owned();
        let call = |key: String| {
            dev.client
                .post(&url)
                .header("authorization", format!("Bearer {key}"))
                .json(&json!({}))
                .send()
        };
        assert_eq!(call(old_key.clone()).await.unwrap().status(), 202);
        let rotated = dev
            .admin_json(
                Method::POST,
                &format!("/v1/bots/{bot}/api-key/rotate"),
                json!({}),
                200,
            )
            .await;
        let new_key = rotated["api_key"].as_str().unwrap().to_owned();
        assert_ne!(new_key, old_key);
        let rotated_at = Instant::now();
        loop {
            let r = call(old_key.clone()).await.unwrap();
            match r.status().as_u16() {
                401 => {
                    assert_eq!(error_code(r).await, "unauthorized");
                    break;
                }
                202 => {}
                other => panic!("the old key got {other}"),
            }
            assert!(
                rotated_at.elapsed() < Duration::from_secs(10),
                "the old key still works 10 s after the rotation ({backend:?})"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        eprintln!(
            "{backend:?}: the old key stopped {:?} after the rotation",
            rotated_at.elapsed()
        );
        assert_eq!(call(new_key.clone()).await.unwrap().status(), 202);
        assert_eq!(call(old_key.clone()).await.unwrap().status(), 401);
    }
}

on_every_backend! {
    #[tokio::test(flavor = "multi_thread")]
    async fn a_new_api_key_works_at_once_after_a_rotation(backend) {
        let dev = Dev::start(bin(), backend.clone(), &[("HOOKLANE_DISPATCH", "false")]).await;
        let (bot, old_key) = dev.bot().await;
        let hook = dev
            .hook(
                &bot,
                json!({"name": "Keyed", "actions": [{"type": "log", "message": "ok"}]}),
            )
            .await;
        let url = hook["url"].as_str().unwrap().to_owned();
        let call = |key: String| {
            dev.client
                .post(&url)
                .header("authorization", key)
                .json(&json!({}))
                .send()
        };
        // The ingress has the bot (and its old key) cached now.
        assert_eq!(call(old_key.clone()).await.unwrap().status(), 202);
        let rotated = dev
            .admin_json(
                Method::POST,
                &format!("/v1/bots/{bot}/api-key/rotate"),
                json!({}),
                200,
            )
            .await;
        let new_key = rotated["api_key"].as_str().unwrap().to_owned();
        assert_eq!(call(new_key).await.unwrap().status(), 202, "{backend:?}");
        assert_eq!(call(old_key).await.unwrap().status(), 401, "{backend:?}");
    }
}

//! No secret reaches a log line at any level: `hooklane dev` at
//! `HOOKLANE_LOG=trace`, on every backend, takes a call through every hook
//! auth scheme and runs every action kind (an `http_request` with
//! credentials in its headers, URL and query; Discord, Slack and Telegram
//! messages with their tokens, to loopback stand-ins; a Discord follow-up
//! with its interaction token; variables; a publish to an endpoint with a
//! signing secret and a credential header); then everything the process
//! wrote (stdout and stderr) is scanned for every secret the test made, and
//! for every signature computed or received, raw and as base64 and hex.

use std::time::{SystemTime, UNIX_EPOCH};

use crate::common::{bin, WAIT};
use ed25519_dalek::{Signer as _, SigningKey};
use hmac::{Hmac, Mac};
use hooklane_testkit::crypto::{base64_encode, base64url_encode, hex, hmac_sha256};
use hooklane_testkit::{on_every_backend, unique, Dev, Sink};
use reqwest::Method;
use serde_json::{json, Value};
use sha1::Sha1;

/// Every text that must never be logged, with what it is.
#[derive(Default)]
struct Secrets(Vec<(String, String)>);

impl Secrets {
    /// A new random secret named `what` (kept for the scan).
    fn make(&mut self, what: &str) -> String {
        let s = unique(&format!("sec{}", what.replace(['_', ' '], "")));
        self.add(what, &s);
        s
    }

    /// Keeps `value` (and its base64 and hex forms) for the scan.
    fn add(&mut self, what: &str, value: &str) {
        self.0.push((what.to_owned(), value.to_owned()));
        let bytes = value.as_bytes();
        self.0
            .push((format!("{what} (base64)"), base64_encode(bytes)));
        self.0
            .push((format!("{what} (base64url)"), base64url_encode(bytes)));
        self.0.push((format!("{what} (hex)"), hex(bytes)));
    }

    /// Keeps raw key bytes as base64 and hex.
    fn add_bytes(&mut self, what: &str, bytes: &[u8]) {
        self.0
            .push((format!("{what} (base64)"), base64_encode(bytes)));
        self.0.push((format!("{what} (hex)"), hex(bytes)));
    }

    /// The secrets found in `log`, with where.
    fn found_in(&self, log: &str) -> Vec<String> {
        self.0
            .iter()
            // Short encodings could match by chance.
            .filter(|(_, v)| v.len() >= 12)
            .filter_map(|(what, v)| {
                log.lines()
                    .find(|l| l.contains(v.as_str()))
                    .map(|line| format!("{what} in: {line}"))
            })
            .collect()
    }
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// A hook with this auth whose one action logs, so the call's run is seen.
async fn hook(dev: &Dev, bot: &str, auth: Value) -> Value {
    dev.hook(
        bot,
        json!({"name": "Scan", "auth": auth, "actions": [{"type": "log", "message": "ran {payload.n}"}]}),
    )
    .await
}

async fn expect_accepted(r: reqwest::RequestBuilder, what: &str) {
    let r = r.send().await.unwrap();
    let status = r.status().as_u16();
    let body = r.text().await.unwrap_or_default();
    assert!((200..300).contains(&status), "{what}: {status} {body}");
}

on_every_backend! {
    #[tokio::test(flavor = "multi_thread")]
    async fn no_secret_of_any_auth_scheme_or_action_is_logged_at_trace(backend) {
        let crm = Sink::start().await;
        let chat = Sink::start().await;
        let telegram = Sink::start().await;
        let discord_api = chat.url("/api/v10");
        let telegram_api = telegram.url("");
        let mut dev = Dev::start(
            bin(),
            backend.clone(),
            &[
                ("HOOKLANE_LOG", "trace"),
                ("HOOKLANE_DISCORD_API_BASE", discord_api.as_str()),
                ("HOOKLANE_TELEGRAM_API_BASE", telegram_api.as_str()),
            ],
        )
        .await;
        let mut secrets = Secrets::default();
        let (bot, api_key) = dev.bot().await;
        secrets.add("api key", &api_key);
        let client = reqwest::Client::new();
        let body = br#"{"n": 1}"#.to_vec();
        let mut hooks = Vec::new();

        // api_key
        let h = hook(&dev, &bot, json!({"type": "api_key"})).await;
        expect_accepted(client.post(h["url"].as_str().unwrap()).bearer_auth(&api_key).body(body.clone()).header("content-type", "application/json"), "api_key").await;
        hooks.push(h);

        // secret_header
        let secret = secrets.make("secret_header");
        let h = hook(&dev, &bot, json!({"type": "secret_header", "header": "x-bp-secret", "secret": secret})).await;
        expect_accepted(client.post(h["url"].as_str().unwrap()).header("x-bp-secret", &secret).body(body.clone()).header("content-type", "application/json"), "secret_header").await;
        hooks.push(h);

        // hmac: standard, github, stripe, slack, shopify, generic
        let ts = now().to_string();
        let key = [7u8; 32];
        let standard = format!("whsec_{}", base64_encode(&key));
        secrets.add("standard secret", &standard);
        secrets.add_bytes("standard key", &key);
        let mut signed = |scheme: &str, secret: String, headers: Vec<(String, String)>| {
            for (_, v) in &headers {
                secrets.add(&format!("{scheme} signature"), v);
            }
            (scheme.to_owned(), secret, headers)
        };
        let sig = |key: &[u8], parts: &[&[u8]]| hmac_sha256(key, &parts.concat());
        let gh = unique("gh");
        let st = unique("st");
        let sl = unique("sl");
        let sh = unique("sh");
        let ge = unique("ge");
        let cases = vec![
            signed("standard", standard.clone(), vec![
                ("webhook-id".into(), "msg_scan".into()),
                ("webhook-timestamp".into(), ts.clone()),
                ("webhook-signature".into(), format!("v1,{}", base64_encode(&sig(&key, &[b"msg_scan.", ts.as_bytes(), b".", &body])))),
            ]),
            signed("github", gh.clone(), vec![("x-hub-signature-256".into(), format!("sha256={}", hex(&sig(gh.as_bytes(), &[&body]))))]),
            signed("stripe", st.clone(), vec![("stripe-signature".into(), format!("t={ts},v1={}", hex(&sig(st.as_bytes(), &[ts.as_bytes(), b".", &body]))))]),
            signed("slack", sl.clone(), vec![
                ("x-slack-request-timestamp".into(), ts.clone()),
                ("x-slack-signature".into(), format!("v0={}", hex(&sig(sl.as_bytes(), &[b"v0:", ts.as_bytes(), b":", &body])))),
            ]),
            signed("shopify", sh.clone(), vec![("x-shopify-hmac-sha256".into(), base64_encode(&sig(sh.as_bytes(), &[&body])))]),
            signed("generic", ge.clone(), vec![("x-signature".into(), format!("sha256={}", hex(&sig(ge.as_bytes(), &[&body]))))]),
        ];
        for (_, s, _) in &cases {
            secrets.add("hmac secret", s);
        }
        for (scheme, secret, headers) in cases {
            let mut auth = json!({"type": "hmac", "scheme": scheme, "secret": secret});
            if scheme == "generic" {
                auth = json!({"type": "hmac", "scheme": "generic", "secret": secret, "header": "X-Signature", "algorithm": "sha256", "encoding": "hex", "prefix": "sha256="});
            }
            let h = hook(&dev, &bot, auth).await;
            let mut r = client.post(h["url"].as_str().unwrap()).header("content-type", "application/json").body(body.clone());
            for (k, v) in headers {
                r = r.header(k, v);
            }
            expect_accepted(r, &scheme).await;
            hooks.push(h);
        }

        // hmac twilio: over the URL and the sorted form
        let tw = secrets.make("twilio auth token");
        let h = hook(&dev, &bot, json!({"type": "hmac", "scheme": "twilio", "secret": tw})).await;
        let url = h["url"].as_str().unwrap().to_owned();
        let mut mac = <Hmac<Sha1> as Mac>::new_from_slice(tw.as_bytes()).unwrap();
        mac.update(format!("{url}Bodyhin1").as_bytes());
        let tw_sig = base64_encode(&mac.finalize().into_bytes());
        secrets.add("twilio signature", &tw_sig);
        expect_accepted(client.post(&url).header("x-twilio-signature", &tw_sig).form(&[("n", "1"), ("Body", "hi")]), "twilio").await;
        hooks.push(h);

        // signed_url
        let h = hook(&dev, &bot, json!({"type": "signed_url"})).await;
        let minted = dev
            .admin_json(Method::POST, &format!("/v1/bots/{bot}/hooks/{}/urls", h["id"].as_str().unwrap()), json!({"context": {"user": "u1"}}), 201)
            .await;
        let link = minted["url"].as_str().unwrap().to_owned();
        let url_sig = link.split("sig=").nth(1).unwrap().split('&').next().unwrap().to_owned();
        secrets.add("signed URL sig", &url_sig);
        expect_accepted(client.post(&link).json(&json!({"n": 1})), "signed_url").await;
        hooks.push(h);

        // discord: an interaction, followed up with its token
        let app = SigningKey::from_bytes(&[21; 32]);
        let interaction_token = secrets.make("discord interaction token");
        let h = dev
            .hook(&bot, json!({
                "name": "Scan", "auth": {"type": "discord", "public_key": hex(&app.verifying_key().to_bytes())},
                "actions": [{"type": "discord_followup", "content": "done"}]
            }))
            .await;
        let interaction = json!({"type": 2, "id": "31", "application_id": "9001", "token": interaction_token, "data": {"name": "x"}}).to_string();
        let signature = hex(&app.sign(format!("{ts}{interaction}").as_bytes()).to_bytes());
        secrets.add("discord signature", &signature);
        expect_accepted(client.post(h["url"].as_str().unwrap()).header("content-type", "application/json").header("x-signature-ed25519", &signature).header("x-signature-timestamp", &ts).body(interaction), "discord").await;
        hooks.push(h);

        // telegram
        let tg_secret = secrets.make("telegram secret token");
        let h = hook(&dev, &bot, json!({"type": "telegram", "secret_token": tg_secret})).await;
        expect_accepted(client.post(h["url"].as_str().unwrap()).header("x-telegram-bot-api-secret-token", &tg_secret).json(&json!({"update_id": 77, "n": 1})), "telegram").await;
        hooks.push(h);

        // Every action kind, with credentials.
        let http_bearer = secrets.make("http bearer");
        let http_key = secrets.make("http api key header");
        let url_password = secrets.make("url password");
        let query_token = secrets.make("query token");
        let discord_token = secrets.make("discord webhook token");
        let slack_token = secrets.make("slack webhook token");
        let bot_token = format!("7000001:{}", secrets.make("telegram bot token"));
        secrets.add("telegram bot token", &bot_token);
        let endpoint_header = secrets.make("endpoint header");
        let endpoint_query = secrets.make("endpoint query token");
        let endpoint = dev
            .admin_json(Method::POST, &format!("/v1/bots/{bot}/endpoints"), json!({
                "name": "Signed", "url": format!("{}?token={endpoint_query}", crm.url("/endpoint")),
                "events": ["scan.*"], "headers": {"x-api-token": endpoint_header}
            }), 201)
            .await;
        let whsec = endpoint["secret"].as_str().unwrap().to_owned();
        secrets.add("endpoint secret", &whsec);
        let crm_addr = crm.addr;
        let actions = dev
            .hook(&bot, json!({
                "name": "Every action",
                "actions": [
                    {"type": "http_request", "method": "POST",
                     "url": format!("http://scan:{url_password}@{crm_addr}/crm?token={query_token}"),
                     "headers": {"Authorization": format!("Bearer {http_bearer}"), "X-Api-Key": http_key},
                     "body": {"n": "{payload.n}"}},
                    {"type": "discord_message", "webhook_url": chat.url(&format!("/api/webhooks/1122/{discord_token}")), "content": "hi {payload.n}"},
                    {"type": "slack_message", "webhook_url": chat.url(&format!("/services/T1/B1/{slack_token}")), "text": "hi {payload.n}"},
                    {"type": "telegram_message", "bot_token": bot_token, "chat_id": "5", "text": "hi {payload.n}"},
                    {"type": "set_variable", "name": "count", "value": "1"},
                    {"type": "update_variable", "name": "count", "op": "add", "value": "2"},
                    {"type": "set_variable", "name": "gone", "value": "x"},
                    {"type": "delete_variable", "name": "gone"},
                    {"type": "condition", "if": {"left": "{payload.n}", "op": "==", "right": "1"},
                     "then": [{"type": "log", "message": "one"}], "else": []},
                    {"type": "publish", "event": "scan.done", "data": {"n": "{payload.n}"}},
                    {"type": "log", "message": "done"}
                ]
            }))
            .await;
        expect_accepted(
            client.post(actions["url"].as_str().unwrap()).bearer_auth(&api_key)
                .json(&json!({"n": 1})),
            "actions",
        )
        .await;
        hooks.push(actions);
        // A publish from the bot itself, and the admin reading credentials back.
        expect_accepted(
            client.post(format!("{}/v1/bots/{bot}/events", dev.base)).bearer_auth(&api_key).json(&json!({"event": "scan.direct", "data": {"n": 2}})),
            "publish",
        )
        .await;
        dev.get(&format!("/v1/bots/{bot}/hooks")).await;
        dev.get(&format!("/v1/bots/{bot}/endpoints")).await;

        for h in &hooks {
            let runs = dev.runs(&bot, h["id"].as_str().unwrap(), 1, WAIT).await;
            assert!(runs.iter().all(|r| r["status"] == "succeeded"), "{} {runs:?}", h["name"]);
        }
        // Both deliveries arrived; their signatures are secrets too.
        let deliveries = {
            let deadline = std::time::Instant::now() + WAIT;
            loop {
                let got: Vec<_> = crm.received().into_iter().filter(|r| r.path == "/endpoint").collect();
                if got.len() >= 2 {
                    break got;
                }
                assert!(std::time::Instant::now() < deadline, "deliveries: {got:?}");
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
        };
        for d in &deliveries {
            for name in ["webhook-signature", "x-webhook-signature"] {
                let v = d.header(name).unwrap();
                secrets.add(name, &v);
                for part in v.split([' ', ',', '=']) {
                    secrets.add(name, part);
                }
            }
        }
        assert_eq!(chat.received().len(), 3, "discord, slack and the follow-up");
        assert_eq!(telegram.received().len(), 1);
        dev.kill9();

        let log = dev.log();
        let lines = log.lines().count();
        assert!(
            log.contains("TRACE") || log.contains("DEBUG"),
            "trace was on ({lines} lines)"
        );
        // The scan reads what the process wrote: the admin token, which
        // the banner prints on purpose, is found by it.
        let mut banner = Secrets::default();
        banner.add("admin token", &dev.token);
        assert!(!banner.found_in(&log).is_empty(), "the scan sees the output");
        let leaks = secrets.found_in(&log);
        assert!(
            leaks.is_empty(),
            "{backend:?}: {} secret(s) in {lines} log lines:\n{}",
            leaks.len(),
            leaks.join("\n")
        );
        eprintln!("{backend:?}: {} secret forms, none in {lines} log lines at trace", secrets.0.len());
    }
}

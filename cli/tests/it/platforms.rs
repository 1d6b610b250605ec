//! Bot platforms end to end, each against a loopback stand-in for the
//! platform's API: a Discord slash command answered at once and followed up,
//! a Telegram bot answering the chat of an update, an SMS from Twilio; and
//! `hooklane telegram set-webhook`'s request to the Bot API.

use std::time::Duration;

use ed25519_dalek::{Signer as _, SigningKey};
use hmac::{Hmac, Mac};
use hooklane_testkit::crypto::base64_encode;
use hooklane_testkit::{free_addr, on_every_backend, Dev, Reply, Sink};
use serde_json::{json, Value};
use sha1::Sha1;

use crate::common::{bin, SETTLE, WAIT};

const INTERACTION_TOKEN: &str = "aW50ZXJhY3Rpb246MTE4MDpzZWNyZXQ";
const TELEGRAM_BOT_TOKEN: &str = "123456:ABC-def_ghi";
const TELEGRAM_SECRET: &str = "tgs_e2e-secret";

/// A Discord interaction signed now with `app`'s key, as Discord posts it.
fn interaction(url: &str, app: &SigningKey, body: &str) -> reqwest::RequestBuilder {
    let ts = time_now().to_string();
    let signature = app.sign(format!("{ts}{body}").as_bytes());
    reqwest::Client::new()
        .post(url)
        .header("content-type", "application/json")
        .header("x-signature-ed25519", hex::encode(signature.to_bytes()))
        .header("x-signature-timestamp", ts)
        .body(body.to_owned())
}

fn time_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

on_every_backend! {
    #[tokio::test(flavor = "multi_thread")]
    async fn a_discord_slash_command_is_answered_at_once_and_followed_up_on_every_backend(backend) {
        let discord = Sink::start().await;
        let api = discord.url("/api/v10");
        let dev = Dev::start(bin(), backend.clone(), &[("HOOKLANE_DISCORD_API_BASE", &api)]).await;
        let (bot, _) = dev.bot().await;
        let app = SigningKey::from_bytes(&[11; 32]);
        let hook = dev
            .hook(&bot, json!({
                "name": "Roll",
                "auth": {"type": "discord", "public_key": hex::encode(app.verifying_key().to_bytes())},
                "actions": [{"type": "discord_followup", "edit_original": true,
                             "content": "{payload.member.user.username} rolled a d{payload.data.options.0.value}"}]
            }))
            .await;
        let url = hook["url"].as_str().unwrap();
        let hook_id = hook["id"].as_str().unwrap();

        // Discord checks the URL with a PING and with bad signatures when it is saved.
        let pong = interaction(url, &app, r#"{"type":1,"id":"1","application_id":"9001","token":"t"}"#)
            .send().await.unwrap();
        assert_eq!(pong.status(), 200);
        assert_eq!(pong.json::<Value>().await.unwrap(), json!({"type": 1}));
        let forged = interaction(url, &SigningKey::from_bytes(&[12; 32]), r#"{"type":1}"#)
            .send().await.unwrap();
        assert_eq!(forged.status(), 401);

        let command = json!({"type": 2, "id": "1180", "application_id": "9001", "token": INTERACTION_TOKEN,
            "data": {"name": "roll", "options": [{"name": "sides", "type": 4, "value": 20}]},
            "member": {"user": {"id": "42", "username": "ada"}}}).to_string();
        let started = std::time::Instant::now();
        let answer = interaction(url, &app, &command).send().await.unwrap();
        assert_eq!(answer.status(), 200);
        assert_eq!(answer.json::<Value>().await.unwrap(), json!({"type": 5}));
        assert!(started.elapsed() < Duration::from_secs(3), "Discord waits 3 s at most");

        let got = discord.wait_for(1, WAIT).await;
        assert_eq!(got[0].method, "PATCH");
        assert_eq!(got[0].path, format!("/api/v10/webhooks/9001/{INTERACTION_TOKEN}/messages/@original"));
        assert_eq!(got[0].json()["content"], "ada rolled a d20");
        let runs = dev.runs(&bot, hook_id, 1, WAIT).await;
        assert_eq!(runs.len(), 1, "the PING and the forgery never ran: {runs:?}");
        assert_eq!(runs[0]["status"], "succeeded", "{}", runs[0]);
        assert!(!runs[0].to_string().contains(INTERACTION_TOKEN), "{}", runs[0]);
        assert!(!dev.log().contains(INTERACTION_TOKEN));
    }
}

on_every_backend! {
    #[tokio::test(flavor = "multi_thread")]
    async fn a_telegram_bot_answers_the_chat_of_each_update_once_on_every_backend(backend) {
        let telegram = Sink::start().await;
        let api = telegram.url("");
        let dev = Dev::start(bin(), backend.clone(), &[("HOOKLANE_TELEGRAM_API_BASE", &api)]).await;
        let (bot, _) = dev.bot().await;
        let hook = dev
            .hook(&bot, json!({
                "name": "Echo bot",
                "auth": {"type": "telegram", "secret_token": TELEGRAM_SECRET},
                "actions": [{"type": "telegram_message", "bot_token": TELEGRAM_BOT_TOKEN,
                             "chat_id": "{payload.message.chat.id}", "text": "You said: {payload.message.text}"}]
            }))
            .await;
        assert_eq!(hook["auth"], json!({"type": "telegram"}));
        let url = hook["url"].as_str().unwrap();
        let hook_id = hook["id"].as_str().unwrap();
        let update = |secret: Option<&str>| {
            let call = reqwest::Client::new().post(url).json(&json!({
                "update_id": 700123,
                "message": {"message_id": 5, "chat": {"id": -1001234, "type": "supergroup"},
                            "from": {"id": 42, "first_name": "Ada"}, "text": "hello"}}));
            match secret {
                Some(s) => call.header("X-Telegram-Bot-Api-Secret-Token", s),
                None => call,
            }
        };
        assert_eq!(update(Some(TELEGRAM_SECRET)).send().await.unwrap().status(), 202);
        // Telegram redelivers an update it thinks was lost: the same update_id.
        let again = update(Some(TELEGRAM_SECRET)).send().await.unwrap();
        assert_eq!(again.status(), 202);
        assert_eq!(again.headers()["x-hooklane-duplicate"], "true");
        assert_eq!(update(Some("tgs_wrong")).send().await.unwrap().status(), 401);
        assert_eq!(update(None).send().await.unwrap().status(), 401);

        let got = telegram.wait_for(1, WAIT).await;
        assert_eq!(got[0].path, format!("/bot{TELEGRAM_BOT_TOKEN}/sendMessage"));
        assert_eq!(got[0].json(), json!({"chat_id": -1001234, "text": "You said: hello"}));
        let runs = dev.runs(&bot, hook_id, 1, WAIT).await;
        tokio::time::sleep(SETTLE).await;
        assert_eq!(telegram.received().len(), 1, "one update, one answer");
        assert_eq!(runs.len(), 1);
        let log = dev.log();
        assert!(!log.contains(TELEGRAM_SECRET) && !log.contains("ABC-def_ghi"));
    }
}

/// Twilio's signature: base64 HMAC-SHA1(auth token, url + the form's
/// parameters sorted by name, each name then its value).
fn twilio_signature(token: &str, url: &str, params: &[(&str, &str)]) -> String {
    let mut sorted = params.to_vec();
    sorted.sort();
    let mut text = url.to_owned();
    for (k, v) in sorted {
        text.push_str(k);
        text.push_str(v);
    }
    let mut mac = <Hmac<Sha1> as Mac>::new_from_slice(token.as_bytes()).unwrap();
    mac.update(text.as_bytes());
    base64_encode(&mac.finalize().into_bytes())
}

#[tokio::test(flavor = "multi_thread")]
async fn an_sms_from_twilio_runs_the_hook_with_its_form_fields() {
    let crm = Sink::start().await;
    let dev = Dev::start(bin(), hooklane_testkit::Backend::Embedded, &[]).await;
    let (bot, _) = dev.bot().await;
    let auth_token = "0123456789abcdef0123456789abcdef";
    let hook = dev
        .hook(
            &bot,
            json!({
                "name": "SMS in",
                "auth": {"type": "hmac", "scheme": "twilio", "secret": auth_token},
                "response": {"status": 200, "content_type": "text/xml",
                             "body": "<Response><Message>Got {payload.Body}</Message></Response>"},
                "actions": [{"type": "http_request", "url": crm.url("/sms"),
                             "body": {"from": "{payload.From}", "text": "{payload.Body}"}}]
            }),
        )
        .await;
    let url = format!("{}?src=sms", hook["url"].as_str().unwrap());
    let params = [
        ("MessageSid", "SM0123"),
        ("AccountSid", "AC0123"),
        ("From", "+14155550100"),
        ("To", "+14155550199"),
        ("Body", "Hello & bye"),
        ("NumMedia", "0"),
    ];
    let sms = |signature: String| {
        reqwest::Client::new()
            .post(&url)
            .header("X-Twilio-Signature", signature)
            .form(&params)
    };
    let forged = sms(twilio_signature("another-token", &url, &params))
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 401);
    let answer = sms(twilio_signature(auth_token, &url, &params))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    // TwiML, as XML, with the SMS's text escaped for it.
    assert_eq!(
        answer.headers()["content-type"].to_str().unwrap(),
        "text/xml"
    );
    assert_eq!(
        answer.text().await.unwrap(),
        "<Response><Message>Got Hello &amp; bye</Message></Response>"
    );
    let got = crm.wait_for(1, WAIT).await;
    assert_eq!(
        got[0].json(),
        json!({"from": "+14155550100", "text": "Hello & bye"})
    );
    let read = dev
        .get(&format!(
            "/v1/bots/{bot}/hooks/{}",
            hook["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(read["auth"], json!({"type": "hmac", "scheme": "twilio"}));
    assert!(!dev.log().contains(auth_token));
}

async fn set_webhook(args: &[&str]) -> (bool, String, String) {
    let out = tokio::process::Command::new(bin())
        .args(["telegram", "set-webhook"])
        .args(args)
        .env_remove("TELEGRAM_BOT_TOKEN")
        .env_remove("TELEGRAM_SECRET_TOKEN")
        .env_remove("HOOKLANE_TELEGRAM_API_BASE")
        .output()
        .await
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn set_webhook_sends_telegram_the_hook_url_secret_token_and_allowed_updates() {
    let bot_api = Sink::start().await;
    bot_api.reply_with([Reply::json(
        200,
        json!({"ok": true, "result": true, "description": "Webhook was set"}),
    )]);
    let hook_url = "https://abc123.execute-api.eu-west-1.amazonaws.com/hooks/my-bot/hk_01J";
    let (ok, out, err) = set_webhook(&[
        "--bot-token",
        TELEGRAM_BOT_TOKEN,
        "--hook-url",
        hook_url,
        "--secret-token",
        TELEGRAM_SECRET,
        "--allowed-updates",
        "message,callback_query",
        "--api-base",
        &bot_api.url(""),
    ])
    .await;
    assert!(ok, "{err}");
    assert_eq!(out.trim(), "Webhook was set");
    let got = bot_api.received();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].method, "POST");
    assert_eq!(got[0].path, format!("/bot{TELEGRAM_BOT_TOKEN}/setWebhook"));
    assert_eq!(
        got[0].header("content-type").as_deref(),
        Some("application/json")
    );
    assert_eq!(
        got[0].json(),
        json!({"url": hook_url, "secret_token": TELEGRAM_SECRET,
               "allowed_updates": ["message", "callback_query"]})
    );

    // Telegram's refusal is shown; the bot token never is.
    bot_api.reply_with([Reply::json(
        401,
        json!({"ok": false, "error_code": 401, "description": "Unauthorized"}),
    )]);
    let (ok, out, err) = set_webhook(&[
        "--bot-token",
        TELEGRAM_BOT_TOKEN,
        "--hook-url",
        hook_url,
        "--secret-token",
        TELEGRAM_SECRET,
        "--api-base",
        &bot_api.url(""),
    ])
    .await;
    assert!(!ok);
    assert!(err.contains("Unauthorized"), "{err}");
    assert!(!format!("{out}{err}").contains("ABC-def_ghi"), "{out}{err}");

    // What Telegram would refuse, and what names no server, is refused
    // before calling it, naming the option.
    let base = bot_api.url("");
    let bare_base = base.trim_start_matches("http://").to_owned();
    for (hook_url, secret, api_base, says) in [
        (
            "http://example.com/hooks/b/h",
            TELEGRAM_SECRET,
            base.as_str(),
            "--hook-url `http://example.com/hooks/b/h` is not an https URL",
        ),
        (
            "example.com/hooks/b/h",
            TELEGRAM_SECRET,
            base.as_str(),
            "--hook-url `example.com/hooks/b/h` is not an https URL",
        ),
        (
            "https://example.com:8080/hooks/b/h",
            TELEGRAM_SECRET,
            base.as_str(),
            "port 8080; Telegram posts updates to ports 443, 80, 88 and 8443 only",
        ),
        (hook_url, "has spaces", base.as_str(), "--secret-token"),
        (
            hook_url,
            TELEGRAM_SECRET,
            bare_base.as_str(),
            "is not an http(s) URL: give the Bot API server with its scheme",
        ),
        (
            hook_url,
            TELEGRAM_SECRET,
            "localhost:8081",
            "--api-base `localhost:8081` (or HOOKLANE_TELEGRAM_API_BASE) is not an http(s) URL",
        ),
    ] {
        let (ok, _, err) = set_webhook(&[
            "--bot-token",
            TELEGRAM_BOT_TOKEN,
            "--hook-url",
            hook_url,
            "--secret-token",
            secret,
            "--api-base",
            api_base,
        ])
        .await;
        assert!(!ok, "{hook_url} {api_base}");
        assert!(err.contains(says), "{err}");
        assert!(!err.contains("builder error"), "{err}");
        assert!(!err.contains("ABC-def_ghi"), "{err}");
    }
    assert_eq!(bot_api.received().len(), 2);
}

const HOOK_URL: &str = "https://abc123.execute-api.eu-west-1.amazonaws.com/hooks/my-bot/hk_01J";

#[tokio::test(flavor = "multi_thread")]
async fn set_webhook_sends_allowed_updates_trimmed_once_each_without_empty_names() {
    let bot_api = Sink::start().await;
    bot_api.reply_with([Reply::json(
        200,
        json!({"ok": true, "result": true, "description": "Webhook was set"}),
    )]);
    let (ok, _, err) = set_webhook(&[
        "--bot-token",
        TELEGRAM_BOT_TOKEN,
        "--hook-url",
        HOOK_URL,
        "--secret-token",
        TELEGRAM_SECRET,
        "--allowed-updates",
        "message, callback_query,,message",
        "--api-base",
        &bot_api.url(""),
    ])
    .await;
    assert!(ok, "{err}");
    let got = bot_api.received();
    assert_eq!(got.len(), 1);
    assert_eq!(
        got[0].json()["allowed_updates"],
        json!(["message", "callback_query"])
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn set_webhook_refuses_a_bot_token_or_update_type_telegram_does_not_have_before_calling_it() {
    let bot_api = Sink::start().await;
    let base = bot_api.url("");
    // (bot token, allowed updates, what the error says)
    let cases = [
        ("notatoken", "message", "--bot-token is not a Telegram bot token (digits, `:`, then letters, digits, `_` or `-`)"),
        ("123:", "message", "--bot-token is not a Telegram bot token"),
        (":abc", "message", "--bot-token is not a Telegram bot token"),
        ("abc:def", "message", "--bot-token is not a Telegram bot token"),
        ("123:abc/../x", "message", "--bot-token is not a Telegram bot token"),
        (
            TELEGRAM_BOT_TOKEN,
            "message,callback_querry",
            "--allowed-updates: `callback_querry` is not a Telegram update type; the types are message, edited_message,",
        ),
        (
            TELEGRAM_BOT_TOKEN,
            "Message",
            "--allowed-updates: `Message` is not a Telegram update type",
        ),
        (
            TELEGRAM_BOT_TOKEN,
            " , ,",
            "--allowed-updates names no update type",
        ),
    ];
    for (token, updates, says) in cases {
        let (ok, _, err) = set_webhook(&[
            "--bot-token",
            token,
            "--hook-url",
            HOOK_URL,
            "--secret-token",
            TELEGRAM_SECRET,
            "--allowed-updates",
            updates,
            "--api-base",
            &base,
        ])
        .await;
        assert!(!ok, "{token} {updates}");
        assert!(err.contains(says), "{token} {updates}: {err}");
        assert!(!err.contains("ABC-def_ghi"), "{err}");
    }
    assert_eq!(bot_api.received().len(), 0, "nothing was sent");
}

#[tokio::test(flavor = "multi_thread")]
async fn set_webhook_says_why_a_bot_api_did_not_answer_without_the_token() {
    // (API base, what the cause says)
    let closed = format!("http://{}", free_addr());
    let cases = [
        (closed.as_str(), "onnection refused"),
        ("http://no-such-host.invalid", "dns error"),
    ];
    for (base, says) in cases {
        let (ok, _, err) = set_webhook(&[
            "--bot-token",
            TELEGRAM_BOT_TOKEN,
            "--hook-url",
            HOOK_URL,
            "--secret-token",
            TELEGRAM_SECRET,
            "--api-base",
            base,
        ])
        .await;
        assert!(!ok, "{base}");
        assert!(
            err.contains(&format!(
                "the Bot API at {base} did not answer: error sending request"
            )),
            "{err}"
        );
        assert!(err.contains(says), "{base}: {err}");
        assert!(!err.contains("ABC-def_ghi"), "{err}");
    }
}

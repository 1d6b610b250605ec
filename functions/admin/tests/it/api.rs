//! The admin API over its real router, on a real SQLite store and queue.

use std::time::Duration;

use crate::common::{request, send, spawn_app, spawn_app_with, PUBLIC_URL, TOKEN};
use axum::http::{Method, StatusCode};
use base64::Engine as _;
use hooklane_auth::api_key;
use hooklane_domain::{
    ActionResult, ActionStatus, BotId, CallId, HookAuth, HookId, Run, RunStatus,
};
use hooklane_runtime::config::Settings;
use serde_json::{json, Value};

fn is_rfc3339(v: &Value) -> bool {
    v.as_str().is_some_and(|s| {
        time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).is_ok()
    })
}

// ------------------------------------------------------------------ auth

#[tokio::test]
async fn admin_routes_answer_401_without_the_admin_token_or_with_a_wrong_one() {
    let app = spawn_app();
    let wrong_bearer = format!("Bearer {TOKEN}x");
    let bare_token = TOKEN.to_owned();
    let basic = format!("Basic {TOKEN}");
    let cases: [(&str, Option<&str>); 5] = [
        ("no Authorization header", None),
        ("a wrong token", Some(&wrong_bearer)),
        ("the token without Bearer", Some(&bare_token)),
        ("the token as Basic", Some(&basic)),
        ("an empty bearer", Some("Bearer ")),
    ];
    for (method, path) in [
        (Method::POST, "/v1/bots"),
        (Method::GET, "/v1/bots/bot_x"),
        (Method::GET, "/v1/bots/bot_x/hooks"),
        (Method::DELETE, "/v1/bots/bot_x"),
        (Method::GET, "/v1/bots/bot_x/variables"),
    ] {
        for (case, authorization) in cases {
            let a = send(
                &app.router,
                request(
                    method.clone(),
                    path,
                    authorization,
                    Some(&json!({"name": "x"})),
                ),
            )
            .await;
            assert_eq!(
                a.status,
                StatusCode::UNAUTHORIZED,
                "{method} {path} with {case}"
            );
            assert_eq!(a.code(), "unauthorized", "{method} {path} with {case}");
        }
    }
    let lower = format!("bearer {TOKEN}");
    let a = send(
        &app.router,
        request(Method::GET, "/v1/bots/bot_x", Some(&lower), None),
    )
    .await;
    assert_eq!(
        a.status,
        StatusCode::NOT_FOUND,
        "the scheme is case-insensitive"
    );
}

#[tokio::test]
async fn health_and_the_openapi_document_need_no_token() {
    let app = spawn_app();
    for path in ["/healthz", "/openapi.json"] {
        let a = send(&app.router, request(Method::GET, path, None, None)).await;
        assert_eq!(a.status, StatusCode::OK, "{path}");
        assert!(a.body.is_object(), "{path} answers JSON");
    }
}

// ------------------------------------------------------------------ bots

#[tokio::test]
async fn a_bot_is_created_with_a_generated_id_and_its_api_key_is_shown_once() {
    let app = spawn_app();
    let a = app.post("/v1/bots", json!({"name": "  Shop bot  "})).await;
    assert_eq!(a.status, StatusCode::CREATED);
    let id = a.body["id"].as_str().expect("an id");
    assert!(id.starts_with("bot_"), "{id}");
    assert_eq!(a.body["name"], "Shop bot");
    assert!(is_rfc3339(&a.body["created_at"]));
    let key = a.body["api_key"].as_str().expect("the key, once");

    let stored = app
        .svc
        .store
        .get_bot(&BotId::parse(id).unwrap())
        .await
        .unwrap()
        .expect("the bot is stored");
    assert_eq!(stored.api_key_hash, api_key::hash(key));
    assert_ne!(stored.api_key_hash, key, "only a hash is kept");

    let read = app.get(&format!("/v1/bots/{id}")).await;
    assert_eq!(read.status, StatusCode::OK);
    assert_eq!(read.body["id"], id);
    assert!(read.body.get("api_key").is_none(), "{:?}", read.body);
    assert!(!read.body.to_string().contains(key));
}

#[tokio::test]
async fn a_bot_takes_a_caller_chosen_id_and_a_taken_id_answers_409() {
    let app = spawn_app();
    let a = app
        .post(
            "/v1/bots",
            json!({"name": "Discord bot", "id": "1234567890_guild-A"}),
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{:?}", a.body);
    assert_eq!(a.body["id"], "1234567890_guild-A");
    let again = app
        .post(
            "/v1/bots",
            json!({"name": "Other", "id": "1234567890_guild-A"}),
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert_eq!(again.code(), "conflict");
    assert!(again.message().contains("1234567890_guild-A"));
    let read = app.get("/v1/bots/1234567890_guild-A").await;
    assert_eq!(
        read.body["name"], "Discord bot",
        "the first bot is untouched"
    );
}

#[tokio::test]
async fn bad_bot_bodies_answer_400_naming_the_field() {
    let app = spawn_app();
    let long_id = "a".repeat(65);
    let long_name = "n".repeat(101);
    let cases = [
        (
            json!({"name": "x", "id": "has space"}),
            "invalid_id",
            "`id`",
        ),
        (json!({"name": "x", "id": long_id}), "invalid_id", "`id`"),
        (json!({"name": "x", "id": "a/b"}), "invalid_id", "`id`"),
        (json!({"name": "x", "id": 42}), "invalid_id", "`id`"),
        (json!({}), "invalid_name", "`name` is missing"),
        (json!({"name": "   "}), "invalid_name", "`name`"),
        (json!({"name": long_name}), "invalid_name", "`name`"),
        (
            json!({"name": 5}),
            "invalid_name",
            "`name` must be a string",
        ),
        (
            json!({"name": "x", "colour": "red"}),
            "invalid_bot",
            "`colour`",
        ),
        (json!(["name"]), "invalid_json", "object"),
    ];
    for (body, code, needle) in cases {
        let a = app.post("/v1/bots", body.clone()).await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(a.code(), code, "{body}: {}", a.message());
        assert!(a.message().contains(needle), "{body}: {}", a.message());
    }
}

#[tokio::test]
async fn deleting_a_bot_removes_everything_under_it() {
    let app = spawn_app();
    let bot = "acme";
    app.post("/v1/bots", json!({"name": "Acme", "id": bot}))
        .await;
    let hook = app.hook(bot, json!({"name": "Payments"})).await;
    let hook_id = hook["id"].as_str().unwrap().to_owned();
    let ep = app
        .endpoint(bot, json!({"url": "https://receiver.example/hook"}))
        .await;
    let ep_id = ep["id"].as_str().unwrap().to_owned();
    let bot_id = BotId::parse(bot).unwrap();
    let now = app.svc.now();
    assert!(app
        .svc
        .store
        .swap_variable(&bot_id, "balance", None, Some(&json!(10)), now)
        .await
        .unwrap());
    app.svc
        .store
        .put_run(&sample_run(bot, &hook_id), now + time::Duration::days(1))
        .await
        .unwrap();

    let a = app.delete(&format!("/v1/bots/{bot}")).await;
    assert_eq!(a.status, StatusCode::NO_CONTENT);
    assert_eq!(
        app.get(&format!("/v1/bots/{bot}")).await.status,
        StatusCode::NOT_FOUND
    );
    let again = app.delete(&format!("/v1/bots/{bot}")).await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
    assert_eq!(again.code(), "not_found");

    // The same id again starts empty: nothing of the old bot is left.
    app.post("/v1/bots", json!({"name": "Acme again", "id": bot}))
        .await;
    for list in ["hooks", "endpoints", "variables"] {
        let a = app.get(&format!("/v1/bots/{bot}/{list}")).await;
        assert_eq!(a.status, StatusCode::OK);
        assert_eq!(a.body["data"], json!([]), "{list} after the delete");
    }
    assert_eq!(
        app.get(&format!("/v1/bots/{bot}/hooks/{hook_id}"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get(&format!("/v1/bots/{bot}/endpoints/{ep_id}"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let runs = app
        .svc
        .store
        .list_runs(
            &bot_id,
            &HookId::parse(&hook_id).unwrap(),
            &Default::default(),
        )
        .await
        .unwrap();
    assert!(runs.items.is_empty(), "runs are gone with the bot");
}

#[tokio::test]
async fn rotating_the_api_key_answers_a_new_key_once_and_replaces_the_old_hash() {
    let app = spawn_app();
    let created = app.post("/v1/bots", json!({"name": "Bot"})).await;
    let id = created.body["id"].as_str().unwrap();
    let old_key = created.body["api_key"].as_str().unwrap();

    let a = app
        .post(&format!("/v1/bots/{id}/api-key/rotate"), json!({}))
        .await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.body["id"], id);
    let new_key = a.body["api_key"].as_str().expect("the new key");
    assert_ne!(new_key, old_key);

    let stored = app
        .svc
        .store
        .get_bot(&BotId::parse(id).unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.api_key_hash, api_key::hash(new_key));
    assert!(api_key::verify_authorization(
        &format!("Bearer {new_key}"),
        &stored.api_key_hash
    ));
    assert!(!api_key::verify_authorization(
        &format!("Bearer {old_key}"),
        &stored.api_key_hash
    ));
    let read = app.get(&format!("/v1/bots/{id}")).await;
    assert!(read.body.get("api_key").is_none());

    let missing = app.post("/v1/bots/nobody/api-key/rotate", json!({})).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}

// ----------------------------------------------------------------- hooks

#[tokio::test]
async fn a_hook_is_created_with_defaults_and_answers_its_url() {
    let app = spawn_app();
    let bot = app.bot().await;
    let a = app.post(&format!("/v1/bots/{bot}/hooks"), json!({})).await;
    assert_eq!(a.status, StatusCode::CREATED);
    let h = &a.body;
    let id = h["id"].as_str().unwrap();
    assert!(id.starts_with("hk_"));
    assert_eq!(h["url"], format!("{PUBLIC_URL}/hooks/{bot}/{id}"));
    assert_eq!(h["enabled"], true);
    assert_eq!(h["methods"], json!(["POST"]));
    assert_eq!(h["auth"], json!({"type": "api_key"}));
    assert_eq!(h["max_body_bytes"], 262_144);
    assert_eq!(h["actions"], json!([]));
    assert!(is_rfc3339(&h["created_at"]));

    let read = app.get(&format!("/v1/bots/{bot}/hooks/{id}")).await;
    assert_eq!(read.status, StatusCode::OK);
    assert_eq!(&read.body, h, "a read answers what the create did");

    let unknown_bot = app.post("/v1/bots/nobody/hooks", json!({})).await;
    assert_eq!(unknown_bot.status, StatusCode::NOT_FOUND);
    let unknown_hook = app.get(&format!("/v1/bots/{bot}/hooks/hk_01NOPE")).await;
    assert_eq!(unknown_hook.status, StatusCode::NOT_FOUND);
    assert_eq!(unknown_hook.code(), "not_found");
}

#[tokio::test]
async fn hooks_are_listed_newest_first_and_paged_by_cursor() {
    let app = spawn_app();
    let bot = app.bot().await;
    let mut created = Vec::new();
    for i in 0..5 {
        let h = app.hook(&bot, json!({"name": format!("Hook {i}")})).await;
        created.push(h["id"].as_str().unwrap().to_owned());
    }
    created.reverse();

    let mut seen = Vec::new();
    let mut path = format!("/v1/bots/{bot}/hooks?limit=2");
    let mut pages = 0;
    loop {
        let a = app.get(&path).await;
        assert_eq!(a.status, StatusCode::OK);
        let data = a.body["data"].as_array().expect("data");
        assert!(data.len() <= 2);
        for h in data {
            assert!(h["url"].as_str().unwrap().starts_with(PUBLIC_URL));
            seen.push(h["id"].as_str().unwrap().to_owned());
        }
        pages += 1;
        match &a.body["next"] {
            Value::Null => break,
            Value::String(next) => {
                assert!(
                    next.chars()
                        .all(|c| c.is_ascii_alphanumeric() || "-_".contains(c)),
                    "a cursor goes in a query string as it is: {next}"
                );
                path = format!("/v1/bots/{bot}/hooks?limit=2&cursor={next}")
            }
            other => panic!("`next` is a cursor or null, not {other}"),
        }
    }
    assert_eq!(seen, created, "newest first, each once");
    assert_eq!(pages, 3);

    let all = app.get(&format!("/v1/bots/{bot}/hooks")).await;
    assert_eq!(all.body["data"].as_array().unwrap().len(), 5);
    assert_eq!(all.body["next"], Value::Null);
}

#[tokio::test]
async fn hook_secrets_are_never_read_back() {
    let app = spawn_app();
    let bot = app.bot().await;
    let cases = [
        json!({"type": "secret_header", "header": "X-BP-Secret", "secret": "given-secret-123"}),
        json!({"type": "hmac", "scheme": "github", "secret": "github-secret-456"}),
        json!({"type": "hmac", "scheme": "generic", "header": "X-Signature", "algorithm": "sha512",
               "encoding": "base64", "prefix": "sha512=", "secret": "generic-secret-789"}),
    ];
    for auth in cases {
        let secret = auth["secret"].as_str().unwrap();
        let created = app.hook(&bot, json!({"auth": auth})).await;
        assert!(created["auth"].get("secret").is_none(), "{created}");
        assert!(!created.to_string().contains(secret));
        let id = created["id"].as_str().unwrap();
        let read = app.get(&format!("/v1/bots/{bot}/hooks/{id}")).await;
        assert!(read.body["auth"].get("secret").is_none());
        assert!(!read.body.to_string().contains(secret));
        assert_eq!(read.body["auth"]["type"], auth["type"]);
        let list = app.get(&format!("/v1/bots/{bot}/hooks")).await;
        assert!(!list.body.to_string().contains(secret));
    }
    let read_generic = app.get(&format!("/v1/bots/{bot}/hooks")).await;
    let generic = &read_generic.body["data"][0]["auth"];
    assert_eq!(
        generic,
        &json!({"type": "hmac", "scheme": "generic", "header": "x-signature",
                "algorithm": "sha512", "encoding": "base64", "prefix": "sha512="})
    );

    let signed = app
        .hook(&bot, json!({"auth": {"type": "signed_url"}}))
        .await;
    assert_eq!(
        signed["auth"],
        json!({"type": "signed_url"}),
        "the URL key stays inside"
    );
}

#[tokio::test]
async fn a_generated_secret_header_secret_is_shown_once_on_create() {
    let app = spawn_app();
    let bot = app.bot().await;
    let created = app
        .hook(
            &bot,
            json!({"auth": {"type": "secret_header", "header": "x-bp-secret"}}),
        )
        .await;
    let secret = created["auth"]["secret"]
        .as_str()
        .expect("the generated secret");
    assert!(secret.starts_with("hks_") && secret.len() >= 24, "{secret}");
    assert_eq!(created["auth"]["header"], "x-bp-secret");
    let id = created["id"].as_str().unwrap();
    let read = app.get(&format!("/v1/bots/{bot}/hooks/{id}")).await;
    assert_eq!(
        read.body["auth"],
        json!({"type": "secret_header", "header": "x-bp-secret"})
    );

    let stored = app
        .svc
        .store
        .get_hook(&BotId::parse(&bot).unwrap(), &HookId::parse(id).unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        stored.auth,
        HookAuth::SecretHeader {
            header: "x-bp-secret".into(),
            secret: secret.into()
        }
    );

    // A patch that leaves auth alone keeps the secret and does not show it.
    let patched = app
        .patch(
            &format!("/v1/bots/{bot}/hooks/{id}"),
            json!({"name": "Renamed"}),
        )
        .await;
    assert_eq!(patched.status, StatusCode::OK);
    assert!(patched.body["auth"].get("secret").is_none());
}

#[tokio::test]
async fn a_patch_changes_the_fields_it_names_and_keeps_the_rest_and_the_secrets() {
    let app = spawn_app();
    let bot = app.bot().await;
    let created = app
        .hook(
            &bot,
            json!({"name": "Orders", "methods": ["POST", "GET"],
                   "auth": {"type": "hmac", "scheme": "stripe", "secret": "whsec_stripe_1"},
                   "allowed_ips": ["203.0.113.0/24"],
                   "rate_limit": {"per_second": 10, "burst": 20},
                   "actions": [{"type": "log", "message": "order {payload.id}"}]}),
        )
        .await;
    let id = created["id"].as_str().unwrap();
    let path = format!("/v1/bots/{bot}/hooks/{id}");

    let a = app
        .patch(
            &path,
            json!({"enabled": false, "response": {"status": 200, "body": {"ok": true}}}),
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
    assert_eq!(a.body["enabled"], false);
    assert_eq!(a.body["name"], "Orders");
    assert_eq!(a.body["methods"], json!(["POST", "GET"]));
    assert_eq!(
        a.body["rate_limit"],
        json!({"per_second": 10.0, "burst": 20})
    );
    assert_eq!(
        a.body["response"],
        json!({"status": 200, "body": {"ok": true}})
    );
    assert_eq!(a.body["actions"], created["actions"]);
    assert_eq!(a.body["created_at"], created["created_at"]);

    // A new auth object of the same type without a secret keeps the secret.
    let a = app
        .patch(&path, json!({"auth": {"type": "hmac", "scheme": "github"}}))
        .await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
    let stored = app
        .svc
        .store
        .get_hook(&BotId::parse(&bot).unwrap(), &HookId::parse(id).unwrap())
        .await
        .unwrap()
        .unwrap();
    assert!(matches!(
        &stored.auth,
        HookAuth::Hmac { scheme, secret, .. } if scheme == "github" && secret == "whsec_stripe_1"
    ));

    // A null clears an optional field.
    let a = app
        .patch(&path, json!({"rate_limit": null, "response": null}))
        .await;
    assert_eq!(a.body["rate_limit"], Value::Null);
    assert_eq!(a.body["response"], Value::Null);

    // A type change without the secret the new type needs is refused, and nothing changes.
    let a = app
        .patch(
            &path,
            json!({"auth": {"type": "secret_header"}, "name": "Changed"}),
        )
        .await;
    assert_eq!(
        a.status,
        StatusCode::OK,
        "a secret_header secret is generated"
    );
    assert!(a.body["auth"]["secret"]
        .as_str()
        .is_some_and(|s| s.starts_with("hks_")));
    let a = app
        .patch(
            &path,
            json!({"auth": {"type": "hmac", "scheme": "slack"}, "name": "Nope"}),
        )
        .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert_eq!(a.code(), "invalid_auth");
    assert!(a.message().contains("`auth.secret`"), "{}", a.message());
    assert_eq!(app.get(&path).await.body["name"], "Changed");

    let not_object = app.patch(&path, json!([1, 2])).await;
    assert_eq!(not_object.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn deleting_a_hook_answers_204_and_then_404() {
    let app = spawn_app();
    let bot = app.bot().await;
    let id = app.hook(&bot, json!({})).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/v1/bots/{bot}/hooks/{id}");
    assert_eq!(app.delete(&path).await.status, StatusCode::NO_CONTENT);
    assert_eq!(app.get(&path).await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.delete(&path).await.status, StatusCode::NOT_FOUND);
    assert_eq!(
        app.get(&format!("/v1/bots/{bot}/hooks")).await.body["data"],
        json!([])
    );
}

fn log(message: &str) -> Value {
    json!({"type": "log", "message": message})
}

fn condition(then: Vec<Value>) -> Value {
    json!({"type": "condition", "if": {"left": "{payload.a}", "op": "==", "right": 1}, "then": then, "else": []})
}

/// A condition chain `depth` conditions deep, with a log at the bottom.
fn nested(depth: usize) -> Value {
    (0..depth).fold(log("deep"), |inner, _| condition(vec![inner]))
}

/// Bodies a hook create or update refuses: the body, the code, and what
/// the message must name.
fn invalid_hooks() -> Vec<(&'static str, Value, &'static str, Vec<&'static str>)> {
    let discord = json!({"type": "discord", "public_key": hex::encode(
        ed25519_dalek::SigningKey::from_bytes(&[5; 32]).verifying_key().to_bytes())});
    vec![
        (
            "an unknown action type",
            json!({"actions": [log("a"), log("b"), {"type": "send_fax", "to": "x"}]}),
            "invalid_action",
            vec!["`actions[2].type`", "send_fax"],
        ),
        (
            "an action without a type",
            json!({"actions": [{"message": "x"}]}),
            "invalid_action",
            vec!["`actions[0].type`", "missing"],
        ),
        (
            "an action that is not an object",
            json!({"actions": ["log"]}),
            "invalid_action",
            vec!["`actions[0]`"],
        ),
        (
            "a missing url",
            json!({"actions": [log("a"), {"type": "http_request", "method": "POST"}]}),
            "invalid_action",
            vec!["`actions[1].url`", "missing"],
        ),
        (
            "a missing log message",
            json!({"actions": [{"type": "log"}]}),
            "invalid_action",
            vec!["`actions[0].message`"],
        ),
        (
            "a field of the wrong type",
            json!({"actions": [{"type": "log", "message": 5}]}),
            "invalid_action",
            vec!["`actions[0].message`", "string"],
        ),
        (
            "a field the action does not take",
            json!({"actions": [{"type": "log", "message": "x", "colour": "red"}]}),
            "invalid_action",
            vec!["`actions[0].colour`"],
        ),
        (
            "a set_variable without a value",
            json!({"actions": [{"type": "set_variable", "name": "a"}]}),
            "invalid_action",
            vec!["`actions[0].value`"],
        ),
        (
            "a bad variable name",
            json!({"actions": [{"type": "set_variable", "name": "a b", "value": 1}]}),
            "invalid_action",
            vec!["`actions[0].name`"],
        ),
        (
            "a bad variable operator",
            json!({"actions": [{"type": "update_variable", "name": "n", "op": "modulo", "value": 2}]}),
            "invalid_action",
            vec!["`actions[0].op`", "modulo"],
        ),
        (
            "a non-numeric update",
            json!({"actions": [{"type": "update_variable", "name": "n", "op": "add", "value": "two"}]}),
            "invalid_action",
            vec!["`actions[0].value`"],
        ),
        (
            "a bad comparison operator",
            json!({"actions": [log("a"), log("b"),
            {"type": "condition", "if": {"left": "{payload.a}", "op": "=~", "right": "x"}, "then": [log("c")]}]}),
            "invalid_action",
            vec!["`actions[2].if.op`", "=~"],
        ),
        (
            "a condition without if",
            json!({"actions": [{"type": "condition", "then": []}]}),
            "invalid_action",
            vec!["`actions[0].if`"],
        ),
        (
            "a bad nested action",
            json!({"actions": [condition(vec![log("a"), json!({"type": "http_request"})])]}),
            "invalid_action",
            vec!["`actions[0].then[1].url`"],
        ),
        (
            "a bad URL in a nested action",
            json!({"actions": [condition(vec![log("a"), json!({"type": "http_request", "url": "not a url"})])]}),
            "invalid_url",
            vec!["`actions[0].then[1].url`"],
        ),
        (
            "a bad URL in an else branch",
            json!({"actions": [{"type": "condition", "if": {"left": 1, "op": "<", "right": 2},
            "else": [{"type": "slack_message", "webhook_url": "ftp://files.example/x", "text": "hi"}]}]}),
            "invalid_url",
            vec!["`actions[0].else[0].webhook_url`"],
        ),
        (
            "a bad HTTP method",
            json!({"actions": [{"type": "http_request", "method": "FETCH", "url": "https://api.example/x"}]}),
            "invalid_action",
            vec!["`actions[0].method`", "FETCH"],
        ),
        (
            "a bad request header",
            json!({"actions": [{"type": "http_request", "url": "https://api.example/x", "headers": {"x-list": [1]}}]}),
            "invalid_action",
            vec!["`actions[0].headers.x-list`"],
        ),
        (
            "a Discord message with nothing to say",
            json!({"actions": [{"type": "discord_message", "webhook_url": "https://discord.example/api/webhooks/1/t"}]}),
            "invalid_action",
            vec!["`actions[0].content`"],
        ),
        (
            "a bad Telegram parse mode",
            json!({"actions": [{"type": "telegram_message", "bot_token": "1:abc", "chat_id": 5, "text": "hi", "parse_mode": "RTF"}]}),
            "invalid_action",
            vec!["`actions[0].parse_mode`"],
        ),
        (
            "a literal bot token that is no bot token",
            json!({"actions": [{"type": "telegram_message", "bot_token": "abc:def", "chat_id": 5, "text": "hi"}]}),
            "invalid_action",
            vec!["`actions[0].bot_token` is not a Telegram bot token"],
        ),
        (
            "a literal bot token without its secret part",
            json!({"actions": [{"type": "telegram_message", "bot_token": "12345", "chat_id": 5, "text": "hi"}]}),
            "invalid_action",
            vec!["`actions[0].bot_token` is not a Telegram bot token"],
        ),
        (
            "a literal bot token that would change the Bot API path",
            json!({"actions": [log("a"), condition(vec![json!({"type": "telegram_message", "bot_token": "123:abc/../../x", "chat_id": 5, "text": "hi"})])]}),
            "invalid_action",
            vec!["`actions[1].then[0].bot_token` is not a Telegram bot token"],
        ),
        (
            "a bad event name to publish",
            json!({"actions": [{"type": "publish", "event": "order paid"}]}),
            "invalid_action",
            vec!["`actions[0].event`"],
        ),
        (
            "too many actions",
            json!({"actions": vec![log("x"); 51]}),
            "invalid_action",
            vec!["`actions`", "50"],
        ),
        (
            "too many actions in all",
            json!({"actions": (0..11).map(|_| condition(vec![log("x"); 9])).collect::<Vec<_>>()}),
            "invalid_action",
            vec!["`actions[10]", "100"],
        ),
        (
            "conditions nested too deep",
            json!({"actions": [nested(6)]}),
            "invalid_action",
            vec!["`actions[0].then[0].then[0].then[0].then[0].then[0]`", "5"],
        ),
        (
            "an unknown auth type",
            json!({"auth": {"type": "password"}}),
            "invalid_auth",
            vec!["`auth.type`", "password"],
        ),
        (
            "an auth that is not an object",
            json!({"auth": "api_key"}),
            "invalid_auth",
            vec!["`auth`"],
        ),
        (
            "an hmac auth without a secret",
            json!({"auth": {"type": "hmac", "scheme": "github"}}),
            "invalid_auth",
            vec!["`auth.secret`"],
        ),
        (
            "an unknown hmac scheme",
            json!({"auth": {"type": "hmac", "scheme": "paypal", "secret": "s"}}),
            "invalid_auth",
            vec!["`auth.scheme`", "paypal"],
        ),
        (
            "a generic hmac without a header",
            json!({"auth": {"type": "hmac", "scheme": "generic", "secret": "s"}}),
            "invalid_auth",
            vec!["`auth.header`"],
        ),
        (
            "a generic hmac with a bad algorithm",
            json!({"auth": {"type": "hmac", "scheme": "generic", "header": "x-sig", "algorithm": "md5", "secret": "s"}}),
            "invalid_auth",
            vec!["`auth.algorithm`"],
        ),
        (
            "generic settings on another scheme",
            json!({"auth": {"type": "hmac", "scheme": "github", "secret": "s", "prefix": "x="}}),
            "invalid_auth",
            vec!["`auth.prefix`"],
        ),
        (
            "a secret that is not text",
            json!({"auth": {"type": "secret_header", "secret": 12345678}}),
            "invalid_auth",
            vec!["`auth.secret`", "string"],
        ),
        (
            "a short secret",
            json!({"auth": {"type": "secret_header", "secret": "short"}}),
            "invalid_auth",
            vec!["`auth.secret`"],
        ),
        (
            "a secret in the Authorization header",
            json!({"auth": {"type": "secret_header", "header": "Authorization", "secret": "long-enough"}}),
            "invalid_auth",
            vec!["`auth.header`"],
        ),
        (
            "a discord_followup with neither content nor embeds",
            json!({"actions": [{"type": "discord_followup", "ephemeral": true}]}),
            "invalid_action",
            vec!["`actions[0].content`"],
        ),
        (
            "an ephemeral edit of the original answer",
            json!({"actions": [{"type": "discord_followup", "content": "x", "ephemeral": true, "edit_original": true}]}),
            "invalid_action",
            vec!["`actions[0].ephemeral`"],
        ),
        (
            "a discord_followup with a webhook URL",
            json!({"actions": [{"type": "discord_followup", "content": "x", "webhook_url": "https://discord.com/api/webhooks/1/t"}]}),
            "invalid_action",
            vec!["`actions[0].webhook_url`"],
        ),
        (
            "a discord auth without a public key",
            json!({"auth": {"type": "discord"}}),
            "invalid_auth",
            vec!["`auth.public_key`"],
        ),
        (
            "a discord public key that is not 64 hex characters",
            json!({"auth": {"type": "discord", "public_key": "abc123"}}),
            "invalid_auth",
            vec!["`auth.public_key`", "64 hex"],
        ),
        (
            "a discord public key that is not a point of the curve",
            json!({"auth": {"type": "discord", "public_key": format!("02{}", "0".repeat(62))}}),
            "invalid_auth",
            vec!["`auth.public_key`", "Ed25519"],
        ),
        (
            "a weak discord public key, which verifies no signature",
            json!({"auth": {"type": "discord", "public_key": format!("01{}", "0".repeat(62))}}),
            "invalid_auth",
            vec!["`auth.public_key`", "weak"],
        ),
        (
            "a discord hook taking another method than POST",
            json!({"auth": discord, "methods": ["POST", "post", "GET"]}),
            "invalid_hook",
            vec!["`methods[2]`", "`GET`", "POST only"],
        ),
        (
            "a discord hook answering without a body",
            json!({"auth": discord, "response": {"status": 200}}),
            "invalid_hook",
            vec!["`response.body`", "interaction's answer"],
        ),
        (
            "a discord hook answering with a redirect",
            json!({"auth": discord, "response": {"redirect_to": "https://site.example/"}}),
            "invalid_hook",
            vec!["`response.redirect_to`", "Discord"],
        ),
        (
            "a telegram secret token Telegram would refuse",
            json!({"auth": {"type": "telegram", "secret_token": "has spaces!"}}),
            "invalid_auth",
            vec!["`auth.secret_token`", "A-Z"],
        ),
        (
            "a field the auth type does not take",
            json!({"auth": {"type": "api_key", "secret": "x"}}),
            "invalid_auth",
            vec!["`auth.secret`"],
        ),
        (
            "an unknown method",
            json!({"methods": ["POST", "FETCH"]}),
            "invalid_hook",
            vec!["`methods[1]`", "FETCH"],
        ),
        (
            "no methods",
            json!({"methods": []}),
            "invalid_hook",
            vec!["`methods`"],
        ),
        (
            "a bad allowed address",
            json!({"allowed_ips": ["203.0.113.0/24", "nope"]}),
            "invalid_hook",
            vec!["`allowed_ips[1]`", "nope"],
        ),
        (
            "an origin with a path",
            json!({"allowed_origins": ["https://app.example/page"]}),
            "invalid_hook",
            vec!["`allowed_origins[0]`"],
        ),
        (
            "a zero rate",
            json!({"rate_limit": {"per_second": 0, "burst": 1}}),
            "invalid_hook",
            vec!["`rate_limit.per_second`"],
        ),
        (
            "a rate without burst",
            json!({"rate_limit": {"per_second": 5}}),
            "invalid_hook",
            vec!["`rate_limit.burst`"],
        ),
        (
            "a fractional burst",
            json!({"rate_limit": {"per_second": 5, "burst": 2.5}}),
            "invalid_hook",
            vec!["`rate_limit.burst` must be a whole number of at least 1"],
        ),
        (
            "a zero burst",
            json!({"rate_limit": {"per_second": 5, "burst": 0}}),
            "invalid_hook",
            vec!["`rate_limit.burst` must be a whole number of at least 1"],
        ),
        (
            "a negative burst",
            json!({"rate_limit": {"per_second": 5, "burst": -1}}),
            "invalid_hook",
            vec!["`rate_limit.burst` must be a whole number of at least 1"],
        ),
        (
            "a zero body limit",
            json!({"max_body_bytes": 0}),
            "invalid_hook",
            vec!["`max_body_bytes`"],
        ),
        (
            "a body limit over the most",
            json!({"max_body_bytes": 10_000_000}),
            "invalid_hook",
            vec!["`max_body_bytes`"],
        ),
        (
            "a response status that is not 2xx",
            json!({"response": {"status": 404}}),
            "invalid_hook",
            vec!["`response.status`"],
        ),
        (
            "a response status that carries no body, with a body",
            json!({"response": {"status": 204, "body": {"ok": true}}}),
            "invalid_hook",
            vec!["`response.status`", "204", "without a body"],
        ),
        (
            "a Reset Content response with a body",
            json!({"response": {"status": 205, "body": "done"}}),
            "invalid_hook",
            vec!["`response.status`", "205"],
        ),
        (
            "a redirect with a status",
            json!({"response": {"redirect_to": "https://site.example/thanks", "status": 200}}),
            "invalid_hook",
            vec!["`response.status`"],
        ),
        (
            "a redirect that is not a URL",
            json!({"response": {"redirect_to": "thanks"}}),
            "invalid_hook",
            vec!["`response.redirect_to`"],
        ),
        (
            "a response content type that is not a media type",
            json!({"response": {"body": "<Response/>", "content_type": "xml"}}),
            "invalid_hook",
            vec!["`response.content_type`", "`xml` is not a media type"],
        ),
        (
            "a wildcard response content type",
            json!({"response": {"body": "x", "content_type": "text/*"}}),
            "invalid_hook",
            vec!["`response.content_type`", "wildcard"],
        ),
        (
            "a response content type that is not text",
            json!({"response": {"body": "x", "content_type": 12}}),
            "invalid_hook",
            vec!["`response.content_type`"],
        ),
        (
            "a response content type that would split the header",
            json!({"response": {"body": "x", "content_type": "text/xml\r\nset-cookie: a=b"}}),
            "invalid_hook",
            vec!["`response.content_type`"],
        ),
        (
            "an XML response whose body is an object",
            json!({"response": {"body": {"Response": "x"}, "content_type": "text/xml"}}),
            "invalid_hook",
            vec!["`response.body`", "string"],
        ),
        (
            "a discord_followup on a hook without discord auth",
            json!({"actions": [{"type": "discord_followup", "content": "done"}]}),
            "invalid_action",
            vec![
                "`actions[0]`",
                "discord_followup",
                "`discord` auth",
                "`api_key`",
            ],
        ),
        (
            "a discord_followup in a branch on a hook without discord auth",
            json!({"auth": {"type": "none"},
                   "actions": [condition(vec![json!({"type": "discord_followup", "content": "done"})])]}),
            "invalid_action",
            vec!["`actions[0].then[0]`", "`none`"],
        ),
        (
            "an unknown hook field",
            json!({"colour": "red"}),
            "invalid_hook",
            vec!["`colour`"],
        ),
        (
            "a read-only field",
            json!({"id": "hk_mine"}),
            "invalid_hook",
            vec!["`id`"],
        ),
        (
            "a name of the wrong type",
            json!({"name": ["x"]}),
            "invalid_hook",
            vec!["`name`"],
        ),
        (
            "enabled as text",
            json!({"enabled": "yes"}),
            "invalid_hook",
            vec!["`enabled`"],
        ),
    ]
}

#[tokio::test]
async fn invalid_hooks_answer_400_naming_the_field_on_create_and_on_update() {
    let app = spawn_app();
    let bot = app.bot().await;
    let existing = app.hook(&bot, json!({"name": "Existing"})).await;
    let patch_path = format!("/v1/bots/{bot}/hooks/{}", existing["id"].as_str().unwrap());
    for (case, body, code, needles) in invalid_hooks() {
        for (how, a) in [
            (
                "create",
                app.post(&format!("/v1/bots/{bot}/hooks"), body.clone())
                    .await,
            ),
            ("update", app.patch(&patch_path, body.clone()).await),
        ] {
            assert_eq!(
                a.status,
                StatusCode::BAD_REQUEST,
                "{how} with {case}: {:?}",
                a.body
            );
            assert_eq!(a.code(), code, "{how} with {case}: {}", a.message());
            for needle in &needles {
                assert!(
                    a.message().contains(needle),
                    "{how} with {case}: `{}` does not name {needle}",
                    a.message()
                );
            }
        }
    }
    let list = app.get(&format!("/v1/bots/{bot}/hooks")).await;
    assert_eq!(
        list.body["data"].as_array().unwrap().len(),
        1,
        "no refused hook was stored"
    );
    assert_eq!(
        app.get(&patch_path).await.body,
        existing,
        "no refused patch was applied"
    );
}

#[tokio::test]
async fn hooks_at_the_limits_are_accepted() {
    let app = spawn_app();
    let bot = app.bot().await;
    let cases = [
        (
            "50 top-level actions",
            json!({"actions": vec![log("x"); 50]}),
        ),
        (
            "100 actions in all",
            json!({"actions": (0..10).map(|_| condition(vec![log("x"); 9])).collect::<Vec<_>>()}),
        ),
        ("conditions 5 deep", json!({"actions": [nested(5)]})),
        (
            "templated targets",
            json!({"actions": [
            {"type": "http_request", "url": "{payload.callback}", "method": "{payload.method}", "headers": {}},
            {"type": "discord_message", "webhook_url": "https://discord.example/api/webhooks/{var.hook}", "content": "hi {name}"},
            {"type": "publish", "event": "order.{payload.kind}", "data": {"id": "{payload.id}"}},
            {"type": "set_variable", "name": "user.{payload.user}", "value": null},
            {"type": "update_variable", "name": "count", "op": "add", "value": "{payload.n}"},
            {"type": "telegram_message", "bot_token": "{var.tg_token}", "chat_id": "@news", "text": "x", "parse_mode": "HTML"},
            {"type": "delete_variable", "name": "old", "continue_on_error": true}]}),
        ),
        ("the largest body limit", json!({"max_body_bytes": 524_288})),
        (
            "a redirect with a placeholder",
            json!({"response": {"redirect_to": "https://site.example/t?u={context.user}"}}),
        ),
        (
            "a status that carries no body, without one",
            json!({"response": {"status": 204}}),
        ),
    ];
    for (case, body) in cases {
        let a = app
            .post(&format!("/v1/bots/{bot}/hooks"), body.clone())
            .await;
        assert_eq!(a.status, StatusCode::CREATED, "{case}: {:?}", a.body);
        assert_eq!(
            a.body["actions"],
            body.get("actions").cloned().unwrap_or(json!([])),
            "{case}: the actions are stored as sent"
        );
    }
}

#[tokio::test]
async fn private_targets_answer_400_invalid_url_when_the_installation_forbids_them() {
    let app = spawn_app_with(Settings {
        allow_private_targets: false,
        ..Default::default()
    });
    let bot = app.bot().await;
    let cases = [
        (
            json!({"type": "http_request", "url": "https://10.0.0.7/admin"}),
            "`actions[1].url`",
        ),
        (
            json!({"type": "http_request", "url": "https://127.0.0.1/{payload.path}"}),
            "`actions[1].url`",
        ),
        (
            json!({"type": "http_request", "url": "http://api.example/x"}),
            "`actions[1].url`",
        ),
        (
            json!({"type": "slack_message", "webhook_url": "https://[::1]/hook", "text": "x"}),
            "`actions[1].webhook_url`",
        ),
        (
            json!({"type": "discord_message", "webhook_url": "https://localhost/hook", "content": "x"}),
            "`actions[1].webhook_url`",
        ),
    ];
    for (action, needle) in cases {
        let body = json!({"actions": [log("first"), action]});
        let a = app
            .post(&format!("/v1/bots/{bot}/hooks"), body.clone())
            .await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(a.code(), "invalid_url", "{body}: {}", a.message());
        assert!(a.message().contains(needle), "{body}: {}", a.message());
    }
    let templated_host = app
        .post(
            &format!("/v1/bots/{bot}/hooks"),
            json!({"actions": [{"type": "http_request", "url": "https://{payload.host}/x"}]}),
        )
        .await;
    assert_eq!(
        templated_host.status,
        StatusCode::CREATED,
        "a templated host is checked at run time"
    );

    for url in [
        "https://192.168.1.10/hook",
        "https://169.254.169.254/latest",
        "http://receiver.example/x",
    ] {
        let a = app
            .post(&format!("/v1/bots/{bot}/endpoints"), json!({"url": url}))
            .await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{url}");
        assert_eq!(a.code(), "invalid_url", "{url}");
        assert!(a.message().contains("`url`"), "{}", a.message());
    }
}

// ------------------------------------------------------------- signed URLs

#[tokio::test]
async fn signed_urls_are_minted_only_for_signed_url_hooks() {
    let app = spawn_app();
    let bot = app.bot().await;
    let hook = app
        .hook(&bot, json!({"auth": {"type": "signed_url"}}))
        .await;
    let id = hook["id"].as_str().unwrap();
    let path = format!("/v1/bots/{bot}/hooks/{id}/urls");

    let a = app
        .post(
            &path,
            json!({"context": {"user": "u_42"}, "expires_in": 3600}),
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{:?}", a.body);
    assert_eq!(a.body["context"], json!({"user": "u_42"}));
    assert!(is_rfc3339(&a.body["expires_at"]));
    let url = url::Url::parse(a.body["url"].as_str().unwrap()).unwrap();
    assert_eq!(url.path(), format!("/hooks/{bot}/{id}"));
    assert!(a.body["url"].as_str().unwrap().starts_with(PUBLIC_URL));
    let q: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();

    let stored = app
        .svc
        .store
        .get_hook(&BotId::parse(&bot).unwrap(), &HookId::parse(id).unwrap())
        .await
        .unwrap()
        .unwrap();
    let HookAuth::SignedUrl { key } = stored.auth else {
        panic!("a signed_url hook")
    };
    let key = base64::engine::general_purpose::STANDARD
        .decode(key.expose_secret())
        .unwrap();
    let now = app.svc.now().unix_timestamp();
    let context = hooklane_auth::signed_url::verify(&key, &bot, id, &q["ctx"], &q["sig"], now)
        .expect("the minted URL verifies");
    assert_eq!(context, json!({"user": "u_42"}));
    assert!(
        hooklane_auth::signed_url::verify(&key, &bot, id, &q["ctx"], &q["sig"], now + 3601)
            .is_err(),
        "it expires"
    );

    let forever = app.post(&path, json!({})).await;
    assert_eq!(forever.status, StatusCode::CREATED);
    assert_eq!(forever.body["expires_at"], Value::Null);
    assert_eq!(forever.body["context"], json!({}));

    for (body, code) in [
        (json!({"context": "u_42"}), "invalid_context"),
        (
            json!({"context": {"big": "x".repeat(3000)}}),
            "invalid_context",
        ),
        (json!({"expires_in": 0}), "invalid_expiry"),
        (json!({"expires_in": -5}), "invalid_expiry"),
        (json!({"expires_in": "1h"}), "invalid_expiry"),
        (json!({"expires_in": 400_000_000}), "invalid_expiry"),
        (json!({"ctx": {}}), "invalid_json"),
    ] {
        let a = app.post(&path, body.clone()).await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(a.code(), code, "{body}: {}", a.message());
        let field = body.as_object().unwrap().keys().next().unwrap();
        assert!(
            a.message().contains(&format!("`{field}`")),
            "{body}: {}",
            a.message()
        );
    }

    let api_key_hook = app.hook(&bot, json!({})).await;
    let a = app
        .post(
            &format!(
                "/v1/bots/{bot}/hooks/{}/urls",
                api_key_hook["id"].as_str().unwrap()
            ),
            json!({"context": {}}),
        )
        .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert_eq!(a.code(), "invalid_auth");
    assert!(a.message().contains("signed_url"));
}

// ------------------------------------------------------------------ runs

fn sample_run(bot: &str, hook: &str) -> Run {
    let at = time::OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .unwrap();
    Run {
        id: CallId::generate(),
        bot_id: BotId::parse(bot).unwrap(),
        hook_id: HookId::parse(hook).unwrap(),
        status: RunStatus::Failed,
        received_at: at,
        finished_at: Some(at + time::Duration::milliseconds(40)),
        attempt: 1,
        actions: vec![
            ActionResult {
                index: 0,
                kind: "log".into(),
                status: ActionStatus::Succeeded,
                duration_ms: 0,
                detail: json!({"message": "hello"}),
            },
            ActionResult {
                index: 1,
                kind: "http_request".into(),
                status: ActionStatus::Failed,
                duration_ms: 31,
                detail: json!({"http_status": 500}),
            },
        ],
        unknown_placeholders: vec!["payload.missing".into()],
        error: Some("action 1 (http_request) failed".into()),
        request: None,
    }
}

#[tokio::test]
async fn the_run_log_answers_the_shape_the_contract_names() {
    let app = spawn_app();
    let bot = app.bot().await;
    let hook = app.hook(&bot, json!({})).await;
    let hook_id = hook["id"].as_str().unwrap();
    let path = format!("/v1/bots/{bot}/hooks/{hook_id}/runs");

    let empty = app.get(&path).await;
    assert_eq!(empty.status, StatusCode::OK);
    assert_eq!(empty.body, json!({"data": [], "next": null}));

    let run = sample_run(&bot, hook_id);
    app.svc
        .store
        .put_run(&run, app.svc.now() + time::Duration::days(1))
        .await
        .unwrap();
    let a = app.get(&path).await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.body["next"], Value::Null);
    let row = &a.body["data"][0];
    assert_eq!(row["id"], run.id.as_str());
    assert_eq!(row["hook_id"], hook_id);
    assert_eq!(row["status"], "failed");
    assert!(is_rfc3339(&row["received_at"]));
    assert_eq!(
        row["actions"],
        json!([
            {"index": 0, "type": "log", "status": "succeeded", "duration_ms": 0, "detail": {"message": "hello"}},
            {"index": 1, "type": "http_request", "status": "failed", "duration_ms": 31, "detail": {"http_status": 500}},
        ])
    );
    assert_eq!(row["unknown_placeholders"], json!(["payload.missing"]));

    let other_hook = app.hook(&bot, json!({})).await;
    let others = app
        .get(&format!(
            "/v1/bots/{bot}/hooks/{}/runs",
            other_hook["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(others.body["data"], json!([]), "runs belong to their hook");
}

#[tokio::test]
async fn one_run_is_read_by_the_id_its_call_was_answered_with() {
    let app = spawn_app();
    let bot = app.bot().await;
    let hook = app.hook(&bot, json!({})).await;
    let hook_id = hook["id"].as_str().unwrap();
    let run = sample_run(&bot, hook_id);
    app.svc
        .store
        .put_run(&run, app.svc.now() + time::Duration::days(1))
        .await
        .unwrap();
    let path = format!("/v1/bots/{bot}/hooks/{hook_id}/runs/{}", run.id);
    let one = app.get(&path).await;
    assert_eq!(one.status, StatusCode::OK, "{:?}", one.body);
    let listed = app
        .get(&format!("/v1/bots/{bot}/hooks/{hook_id}/runs"))
        .await;
    assert_eq!(
        one.body, listed.body["data"][0],
        "the same view as the log's row"
    );

    let other_hook = app.hook(&bot, json!({})).await;
    let elsewhere = format!(
        "/v1/bots/{bot}/hooks/{}/runs/{}",
        other_hook["id"].as_str().unwrap(),
        run.id
    );
    for missing in [
        elsewhere,
        format!("/v1/bots/{bot}/hooks/{hook_id}/runs/{}", CallId::generate()),
        format!("/v1/bots/{bot}/hooks/{hook_id}/runs/not-an-id"),
    ] {
        let a = app.get(&missing).await;
        assert_eq!(a.status, StatusCode::NOT_FOUND, "{missing}");
        assert!(a.message().starts_with("no such run"), "{}", a.message());
    }
}

#[tokio::test]
async fn stored_variables_are_listed() {
    let app = spawn_app();
    let bot = app.bot().await;
    let now = app.svc.now();
    let id = BotId::parse(&bot).unwrap();
    for (name, value) in [("balance", json!(150)), ("greeting", json!("hi"))] {
        assert!(app
            .svc
            .store
            .swap_variable(&id, name, None, Some(&value), now)
            .await
            .unwrap());
    }
    let a = app.get(&format!("/v1/bots/{bot}/variables")).await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.body["next"], Value::Null);
    let mut rows: Vec<(String, Value)> = a.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            assert!(is_rfc3339(&v["updated_at"]));
            (v["name"].as_str().unwrap().to_owned(), v["value"].clone())
        })
        .collect();
    rows.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        rows,
        vec![
            ("balance".into(), json!(150)),
            ("greeting".into(), json!("hi"))
        ]
    );
    assert_eq!(
        app.get("/v1/bots/nobody/variables").await.status,
        StatusCode::NOT_FOUND
    );
}

// -------------------------------------------------------------- endpoints

#[tokio::test]
async fn an_endpoint_answers_its_generated_secret_once() {
    let app = spawn_app();
    let bot = app.bot().await;
    let a = app
        .post(
            &format!("/v1/bots/{bot}/endpoints"),
            json!({"name": "Orders", "url": "https://receiver.example/hook", "events": ["order.*"]}),
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{:?}", a.body);
    let secret = a.body["secret"].as_str().expect("the secret, once");
    let key = base64::engine::general_purpose::STANDARD
        .decode(secret.strip_prefix("whsec_").expect("whsec_"))
        .unwrap();
    assert!((24..=64).contains(&key.len()));
    let id = a.body["id"].as_str().unwrap();
    assert!(id.starts_with("ep_"));
    assert_eq!(a.body["type"], "custom");
    assert_eq!(a.body["enabled"], true);
    assert_eq!(a.body["disabled_reason"], Value::Null);
    assert_eq!(
        a.body["retry_schedule"],
        json!([5, 300, 1800, 7200, 18000, 36000, 36000])
    );
    assert_eq!(a.body["max_attempts"], 8);
    assert!(is_rfc3339(&a.body["created_at"]));

    let read = app.get(&format!("/v1/bots/{bot}/endpoints/{id}")).await;
    assert_eq!(read.status, StatusCode::OK);
    assert!(read.body.get("secret").is_none());
    assert!(!read.body.to_string().contains(secret));
    let list = app.get(&format!("/v1/bots/{bot}/endpoints")).await;
    assert_eq!(list.body["data"][0]["id"], id);
    assert!(!list.body.to_string().contains(secret));

    let own = "whsec_".to_owned() + &base64::engine::general_purpose::STANDARD.encode([7u8; 32]);
    let given = app
        .post(
            &format!("/v1/bots/{bot}/endpoints"),
            json!({"url": "https://receiver.example/2", "secret": own}),
        )
        .await;
    assert_eq!(given.status, StatusCode::CREATED);
    assert_eq!(given.body["secret"], own.as_str());
}

#[tokio::test]
async fn invalid_endpoints_answer_400_naming_the_field() {
    let app = spawn_app();
    let bot = app.bot().await;
    let short = "whsec_".to_owned() + &base64::engine::general_purpose::STANDARD.encode([1u8; 8]);
    let url = "https://receiver.example/hook";
    let cases = [
        (
            json!({"url": url, "secret": "nope"}),
            "invalid_secret",
            "`secret`",
        ),
        (
            json!({"url": url, "secret": short}),
            "invalid_secret",
            "`secret`",
        ),
        (
            json!({"url": url, "secret": "whsec_!!!not-base64!!!"}),
            "invalid_secret",
            "`secret`",
        ),
        (json!({}), "invalid_url", "`url` is missing"),
        (json!({"url": "receiver.example"}), "invalid_url", "`url`"),
        (
            json!({"url": url, "type": "teams"}),
            "invalid_endpoint",
            "`type`",
        ),
        (
            json!({"url": url, "events": ["order.paid", "a b"]}),
            "invalid_endpoint",
            "`events[1]`",
        ),
        (
            json!({"url": url, "retry_schedule": [5, -1]}),
            "invalid_endpoint",
            "`retry_schedule[1]`",
        ),
        (
            json!({"url": url, "retry_schedule": vec![5; 21]}),
            "invalid_endpoint",
            "`retry_schedule`",
        ),
        (
            json!({"url": url, "max_attempts": 0}),
            "invalid_endpoint",
            "`max_attempts`",
        ),
        (
            json!({"url": url, "rate_limit": {"per_second": 0, "burst": 5}}),
            "invalid_endpoint",
            "`rate_limit.per_second`",
        ),
        (
            json!({"url": url, "rate_limit": {"per_second": 5}}),
            "invalid_endpoint",
            "`rate_limit.burst`",
        ),
        (
            json!({"url": url, "rate_limit": {"per_second": 5, "burst": 2.5}}),
            "invalid_endpoint",
            "`rate_limit.burst` must be a whole number of at least 1",
        ),
        (
            json!({"url": url, "headers": {"content-type": "text/plain"}}),
            "invalid_endpoint",
            "`headers.content-type`",
        ),
        (
            json!({"url": url, "headers": {"x-team": 5}}),
            "invalid_endpoint",
            "`headers.x-team`",
        ),
        (
            json!({"url": url, "colour": "red"}),
            "invalid_endpoint",
            "`colour`",
        ),
    ];
    for (body, code, needle) in cases {
        let a = app
            .post(&format!("/v1/bots/{bot}/endpoints"), body.clone())
            .await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(a.code(), code, "{body}: {}", a.message());
        assert!(a.message().contains(needle), "{body}: {}", a.message());
    }
    assert_eq!(
        app.get(&format!("/v1/bots/{bot}/endpoints")).await.body["data"],
        json!([])
    );
}

#[tokio::test]
async fn an_endpoint_is_patched_and_deleted() {
    let app = spawn_app();
    let bot = app.bot().await;
    let ep = app
        .endpoint(
            &bot,
            json!({"url": "https://receiver.example/hook", "retry_schedule": [5, 300]}),
        )
        .await;
    let id = ep["id"].as_str().unwrap();
    let path = format!("/v1/bots/{bot}/endpoints/{id}");
    assert_eq!(ep["max_attempts"], 3, "one more than the schedule");

    let a = app
        .patch(&path, json!({"name": "Alerts", "type": "discord", "events": ["server.created"], "headers": {"x-team": "ops"}}))
        .await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
    assert_eq!(a.body["name"], "Alerts");
    assert_eq!(a.body["type"], "discord");
    assert_eq!(a.body["events"], json!(["server.created"]));
    assert_eq!(a.body["headers"], json!({"x-team": "ops"}));
    assert_eq!(a.body["url"], "https://receiver.example/hook");
    assert!(a.body.get("secret").is_none());

    let disabled = app.patch(&path, json!({"enabled": false})).await;
    assert_eq!(disabled.body["enabled"], false);
    assert!(disabled.body["disabled_reason"].is_string());
    let enabled = app.patch(&path, json!({"enabled": true})).await;
    assert_eq!(enabled.body["disabled_reason"], Value::Null);

    let secret = app
        .patch(
            &path,
            json!({"secret": "whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}),
        )
        .await;
    assert_eq!(
        secret.status,
        StatusCode::BAD_REQUEST,
        "secrets change through rotate"
    );
    let bad = app.patch(&path, json!({"max_attempts": 51})).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.message().contains("`max_attempts`"));

    assert_eq!(app.delete(&path).await.status, StatusCode::NO_CONTENT);
    assert_eq!(app.get(&path).await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.delete(&path).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_test_send_is_queued_for_the_endpoint() {
    let app = spawn_app();
    let bot = app.bot().await;
    let ep = app
        .endpoint(&bot, json!({"url": "https://receiver.example/hook"}))
        .await;
    let id = ep["id"].as_str().unwrap();
    let a = app
        .post(&format!("/v1/bots/{bot}/endpoints/{id}/test"), json!({}))
        .await;
    assert_eq!(a.status, StatusCode::ACCEPTED);
    let message_id = a.body["id"].as_str().unwrap();
    assert!(message_id.starts_with("msg_"));
    use hooklane_store::Queue as _;
    let got = app
        .db
        .receive(10, Duration::from_secs(2))
        .await
        .expect("the queue answers");
    assert_eq!(got.len(), 1);
    let body: Value = serde_json::from_str(&got[0].body).unwrap();
    let text = body.to_string();
    assert!(
        text.contains(message_id) && text.contains("webhook.test") && text.contains(id),
        "{text}"
    );

    let log = app
        .get(&format!("/v1/bots/{bot}/endpoints/{id}/deliveries"))
        .await;
    assert_eq!(log.body, json!({"data": [], "next": null}));
}

#[tokio::test]
async fn an_empty_admin_token_lets_nobody_in() {
    let app = spawn_app();
    let open = hooklane_admin::router(hooklane_admin::AdminState {
        svc: app.svc.clone(),
        auth: hooklane_admin::AdminAuth::Token("".into()),
        public_url: None,
        portal: hooklane_admin::PortalKey::Off,
    });
    for authorization in [None, Some("Bearer "), Some("Bearer")] {
        let a = send(
            &open,
            request(Method::GET, "/v1/bots/x", authorization, None),
        )
        .await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED, "{authorization:?}");
    }
}

#[tokio::test]
async fn endpoints_are_listed_newest_first_and_paged_by_cursor() {
    let app = spawn_app();
    let bot = app.bot().await;
    let mut created = Vec::new();
    for i in 0..3 {
        let ep = app
            .endpoint(
                &bot,
                json!({"url": format!("https://receiver.example/{i}")}),
            )
            .await;
        created.push(ep["id"].as_str().unwrap().to_owned());
    }
    created.reverse();
    let first = app.get(&format!("/v1/bots/{bot}/endpoints?limit=2")).await;
    let next = first.body["next"].as_str().expect("a second page");
    let second = app
        .get(&format!("/v1/bots/{bot}/endpoints?limit=2&cursor={next}"))
        .await;
    assert_eq!(second.body["next"], Value::Null);
    let seen: Vec<&str> = first.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .chain(second.body["data"].as_array().unwrap())
        .map(|e| e["id"].as_str().unwrap())
        .collect();
    assert_eq!(seen, created);
}

#[tokio::test]
async fn a_list_limit_is_kept_between_1_and_100() {
    let app = spawn_app();
    let bot = app.bot().await;
    for _ in 0..3 {
        app.hook(&bot, json!({})).await;
    }
    for (query, expect) in [("limit=0", 3), ("limit=1", 1), ("limit=1000", 3), ("", 3)] {
        let a = app.get(&format!("/v1/bots/{bot}/hooks?{query}")).await;
        assert_eq!(a.status, StatusCode::OK, "{query}");
        assert_eq!(a.body["data"].as_array().unwrap().len(), expect, "{query}");
    }
    let bad = app
        .get(&format!("/v1/bots/{bot}/hooks?cursor=%25%25"))
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad.code(), "invalid_cursor");
}

#[tokio::test]
async fn a_list_limit_that_is_not_a_whole_number_answers_400_invalid_limit_in_our_words() {
    let app = spawn_app();
    let bot = app.bot().await;
    let hook = app.hook(&bot, json!({})).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let ep = app
        .endpoint(&bot, json!({"url": "https://example.com/in"}))
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for list in [
        "/v1/bots".to_owned(),
        format!("/v1/bots/{bot}/hooks"),
        format!("/v1/bots/{bot}/hooks/{hook}/runs"),
        format!("/v1/bots/{bot}/endpoints"),
        format!("/v1/bots/{bot}/endpoints/{ep}/deliveries"),
        format!("/v1/bots/{bot}/messages"),
    ] {
        for limit in ["abc", "-1", "2.5"] {
            let a = app.get(&format!("{list}?limit={limit}")).await;
            assert_eq!(a.status, StatusCode::BAD_REQUEST, "{list} {limit}");
            assert_eq!(a.code(), "invalid_limit", "{list} {limit}: {:?}", a.body);
            assert!(
                a.message().starts_with(&format!(
                    "`limit` is `{limit}`; it must be a whole number from 1 to 100"
                )),
                "{list}: {}",
                a.message()
            );
            assert!(!a.message().contains("deserialize"), "{}", a.message());
        }
        let a = app.get(&format!("{list}?limit=&unknown=1")).await;
        assert_eq!(a.status, StatusCode::OK, "{list}: {:?}", a.body);
    }
}

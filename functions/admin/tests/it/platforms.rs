//! Hooks for bot platforms: `discord` and `telegram` auth as created, read
//! back and updated; a `discord_followup` only on a `discord` hook; a
//! response `content_type` (Twilio's TwiML) checked, stored and read back.

use axum::http::StatusCode;
use serde_json::json;

use crate::common::*;

/// The public key of a fixed Ed25519 key pair (seed `[5; 32]`).
fn discord_public_key() -> String {
    hex::encode(
        ed25519_dalek::SigningKey::from_bytes(&[5; 32])
            .verifying_key()
            .to_bytes(),
    )
}

#[tokio::test]
async fn a_discord_hook_reads_back_its_public_key_which_is_not_a_secret() {
    let app = spawn_app();
    let bot = app.bot().await;
    let key = discord_public_key();
    let created = app
        .post(
            &format!("/v1/bots/{bot}/hooks"),
            json!({"name": "Slash", "auth": {"type": "discord", "public_key": key.to_uppercase()}}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert_eq!(
        created.body["auth"],
        json!({"type": "discord", "public_key": key})
    );
    let id = created.body["id"].as_str().unwrap();
    let read = app.get(&format!("/v1/bots/{bot}/hooks/{id}")).await;
    assert_eq!(
        read.body["auth"],
        json!({"type": "discord", "public_key": key})
    );
}

#[tokio::test]
async fn a_discord_followup_is_kept_to_hooks_with_discord_auth() {
    let app = spawn_app();
    let bot = app.bot().await;
    let followup = json!([{"type": "discord_followup", "content": "done"}]);
    let created = app
        .post(
            &format!("/v1/bots/{bot}/hooks"),
            json!({"name": "Slash", "auth": {"type": "discord", "public_key": discord_public_key()},
                   "actions": followup}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let path = format!(
        "/v1/bots/{bot}/hooks/{}",
        created.body["id"].as_str().unwrap()
    );

    // Moving the hook off discord auth would leave the follow-up nothing to answer.
    let moved = app
        .patch(&path, json!({"auth": {"type": "telegram"}}))
        .await;
    assert_eq!(moved.status, StatusCode::BAD_REQUEST, "{}", moved.body);
    assert_eq!(moved.code(), "invalid_action");
    assert!(
        moved
            .message()
            .starts_with("`actions[0]` is a discord_followup")
            && moved.message().contains("`telegram`"),
        "{}",
        moved.message()
    );
    assert_eq!(app.get(&path).await.body, created.body, "nothing changed");

    // Without the follow-up the move is taken.
    let moved = app
        .patch(&path, json!({"auth": {"type": "telegram"}, "actions": []}))
        .await;
    assert_eq!(moved.status, StatusCode::OK, "{}", moved.body);
}

#[tokio::test]
async fn a_response_content_type_is_stored_read_back_and_cleared() {
    let app = spawn_app();
    let bot = app.bot().await;
    let twiml = json!({"status": 200, "content_type": " text/xml ",
                       "body": "<Response><Message>Got {payload.Body}</Message></Response>"});
    let created = app
        .post(
            &format!("/v1/bots/{bot}/hooks"),
            json!({"name": "SMS", "auth": {"type": "hmac", "scheme": "twilio", "secret": "twilio-auth-token"},
                   "response": twiml}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let expected = json!({"status": 200, "content_type": "text/xml",
                          "body": "<Response><Message>Got {payload.Body}</Message></Response>"});
    assert_eq!(created.body["response"], expected);
    let id = created.body["id"].as_str().unwrap();
    let path = format!("/v1/bots/{bot}/hooks/{id}");
    assert_eq!(app.get(&path).await.body["response"], expected);
    let (bot_id, hook_id) = (
        hooklane_domain::BotId::parse(&bot).unwrap(),
        hooklane_domain::HookId::parse(id).unwrap(),
    );
    let stored = app.svc.store.get_hook(&bot_id, &hook_id).await;
    let Some(hooklane_domain::HookResponse::Content { content_type, .. }) =
        stored.unwrap().unwrap().response
    else {
        panic!("no content response stored")
    };
    assert_eq!(content_type.unwrap().as_str(), "text/xml");

    // A PATCH of another field keeps it; a response without it drops it.
    let renamed = app.patch(&path, json!({"name": "SMS in"})).await;
    assert_eq!(renamed.body["response"], expected);
    let plain = app
        .patch(
            &path,
            json!({"response": {"body": "ok", "content_type": null}}),
        )
        .await;
    assert_eq!(plain.status, StatusCode::OK, "{}", plain.body);
    assert_eq!(plain.body["response"], json!({"status": 200, "body": "ok"}));

    // Discord takes JSON only.
    let discord = app
        .post(
            &format!("/v1/bots/{bot}/hooks"),
            json!({"auth": {"type": "discord", "public_key": discord_public_key()},
                   "response": {"body": "<x/>", "content_type": "text/xml"}}),
        )
        .await;
    assert_eq!(discord.status, StatusCode::BAD_REQUEST, "{}", discord.body);
    assert!(
        discord.message().starts_with("`response.content_type`"),
        "{}",
        discord.message()
    );
    let discord = app
        .post(
            &format!("/v1/bots/{bot}/hooks"),
            json!({"auth": {"type": "discord", "public_key": discord_public_key()},
                   "response": {"body": {"type": 4, "data": {"content": "hi"}}, "content_type": "application/json"}}),
        )
        .await;
    assert_eq!(discord.status, StatusCode::CREATED, "{}", discord.body);
}

#[tokio::test]
async fn a_telegram_secret_token_is_shown_once_and_kept_when_left_out() {
    let app = spawn_app();
    let bot = app.bot().await;
    let given = app
        .post(
            &format!("/v1/bots/{bot}/hooks"),
            json!({"name": "Bot", "auth": {"type": "telegram", "secret_token": "my_token-1"}}),
        )
        .await;
    assert_eq!(given.status, StatusCode::CREATED, "{}", given.body);
    assert_eq!(given.body["auth"], json!({"type": "telegram"}));
    assert!(!given.body.to_string().contains("my_token-1"));

    let made = app
        .post(
            &format!("/v1/bots/{bot}/hooks"),
            json!({"name": "Bot", "auth": {"type": "telegram"}}),
        )
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
    let token = made.body["auth"]["secret_token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        hooklane_auth::signature::is_telegram_secret_token(&token),
        "{token}"
    );
    let id = made.body["id"].as_str().unwrap();
    let path = format!("/v1/bots/{bot}/hooks/{id}");
    let read = app.get(&path).await;
    assert_eq!(read.body["auth"], json!({"type": "telegram"}));
    assert!(!read.body.to_string().contains(&token));

    let renamed = app
        .patch(
            &path,
            json!({"name": "Renamed", "auth": {"type": "telegram"}}),
        )
        .await;
    assert_eq!(renamed.status, StatusCode::OK, "{}", renamed.body);
    assert!(!renamed.body.to_string().contains(&token));
    let (bot_id, hook_id) = (
        hooklane_domain::BotId::parse(&bot).unwrap(),
        hooklane_domain::HookId::parse(id).unwrap(),
    );
    let stored = app.svc.store.get_hook(&bot_id, &hook_id).await;
    let stored = stored.unwrap().unwrap();
    assert_eq!(
        stored.auth,
        hooklane_domain::HookAuth::Telegram {
            secret_token: token.into()
        }
    );
}

#[tokio::test]
async fn an_endpoints_rate_limit_is_read_back_and_can_be_cleared() {
    let app = spawn_app();
    let bot = app.bot().await;
    let created = app
        .post(
            &format!("/v1/bots/{bot}/endpoints"),
            json!({"type": "discord", "url": "https://discord.com/api/webhooks/1/tok",
                   "rate_limit": {"per_second": 0.2, "burst": 2}}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert_eq!(
        created.body["rate_limit"],
        json!({"per_second": 0.2, "burst": 2})
    );
    let path = format!(
        "/v1/bots/{bot}/endpoints/{}",
        created.body["id"].as_str().unwrap()
    );
    let cleared = app.patch(&path, json!({"rate_limit": null})).await;
    assert_eq!(cleared.status, StatusCode::OK, "{}", cleared.body);
    assert_eq!(
        cleared.body["rate_limit"],
        json!(null),
        "the type's default applies"
    );
}

//! Credentials the admin API reads back masked, the keep-rule of a PATCH
//! that sends them back so (only while their target keeps its host), and
//! the chat fields it checks at save time.

use axum::http::StatusCode;
use hooklane_domain::{ActionStatus, BotId, HookId};
use hooklane_engine::actions::{run_actions, RunState};
use hooklane_runtime::config::Settings;
use hooklane_template::Context;
use hooklane_testkit::Sink;
use serde_json::{json, Value};

use crate::common::{spawn_app, spawn_app_with};

const BOT_TOKEN: &str = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawQ";
const DISCORD_TOKEN: &str = "DiscordWebhookToken0123456789";
const BEARER: &str = "sk_live_0123456789";

#[tokio::test]
async fn credentials_read_back_masked_and_a_patch_of_the_masked_form_keeps_them_working() {
    let sink = Sink::start().await;
    let app = spawn_app_with(Settings {
        allow_private_targets: true,
        telegram_api_base: sink.url(""),
        ..Default::default()
    });
    let bot = app.bot().await;
    let discord = sink.url(&format!("/api/webhooks/42/{DISCORD_TOKEN}"));
    let crm = format!(
        "http://crm:pw-0123456@{}/orders?token=qtok-0123456&page=1",
        sink.addr
    );
    let created = app
        .hook(
            &bot,
            json!({"actions": [
                {"type": "telegram_message", "bot_token": BOT_TOKEN, "chat_id": 7, "text": "hi"},
                {"type": "discord_message", "webhook_url": discord, "content": "hi"},
                {"type": "http_request", "url": crm,
                 "headers": {"Authorization": format!("Bearer {BEARER}"), "X-Team": "ops"}},
            ]}),
        )
        .await;
    let path = format!("/v1/bots/{bot}/hooks/{}", created["id"].as_str().unwrap());
    let masked = json!([
        {"type": "telegram_message", "bot_token": "123456789:****", "chat_id": 7, "text": "hi"},
        {"type": "discord_message", "webhook_url": sink.url("/api/webhooks/42/****"), "content": "hi"},
        {"type": "http_request", "method": "POST",
         "url": format!("http://crm:****@{}/orders?token=****&page=1", sink.addr),
         "headers": {"Authorization": "Bearer ****", "X-Team": "ops"}},
    ]);
    // Every way the hook is read back: create, read, list.
    let listed = app.get(&format!("/v1/bots/{bot}/hooks")).await;
    let read = app.get(&path).await;
    for (what, actions) in [
        ("create", &created["actions"]),
        ("read", &read.body["actions"]),
        ("list", &listed.body["data"][0]["actions"]),
    ] {
        assert_eq!(actions, &masked, "{what}");
        let text = actions.to_string();
        for secret in [
            BOT_TOKEN,
            DISCORD_TOKEN,
            BEARER,
            "pw-0123456",
            "qtok-0123456",
        ] {
            assert!(!text.contains(secret), "{what}: {secret} in {text}");
        }
    }

    // A PATCH of what was read back (plus a change elsewhere) keeps them.
    let mut actions = masked.clone();
    actions[0]["text"] = json!("hello");
    let a = app.patch(&path, json!({"actions": actions})).await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
    assert_eq!(a.body["actions"][0]["bot_token"], "123456789:****");
    let bot_id = BotId::parse(&bot).unwrap();
    let hook_id = HookId::parse(created["id"].as_str().unwrap()).unwrap();
    let hook = app
        .svc
        .store
        .get_hook(&bot_id, &hook_id)
        .await
        .unwrap()
        .unwrap();
    let mut state = RunState::new(Context::default(), bot_id.clone(), 0);
    let outcome = run_actions(&app.svc, &hook.actions, &mut state).await;
    assert!(
        outcome
            .results
            .iter()
            .all(|r| r.status == ActionStatus::Succeeded),
        "{:?}",
        outcome.results
    );
    let got = sink.received();
    assert_eq!(got[0].path, format!("/bot{BOT_TOKEN}/sendMessage"));
    assert_eq!(got[0].text(), r#"{"chat_id":7,"text":"hello"}"#);
    assert_eq!(got[1].path, format!("/api/webhooks/42/{DISCORD_TOKEN}"));
    assert_eq!(got[2].target(), "/orders?token=qtok-0123456&page=1");
    // The URL's user and password go as Basic auth, the header as given.
    let auth: Vec<_> = got[2].headers.get_all("authorization").iter().collect();
    assert!(
        auth.iter()
            .any(|v| *v == format!("Bearer {BEARER}").as_str()),
        "{auth:?}"
    );

    // A changed value replaces the stored one.
    let mut actions = masked.clone();
    actions[0]["bot_token"] = json!("987:NewToken");
    let a = app.patch(&path, json!({"actions": actions})).await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
    let hook = app
        .svc
        .store
        .get_hook(&bot_id, &hook_id)
        .await
        .unwrap()
        .unwrap();
    let stored = serde_json::to_value(&hook.actions).unwrap();
    assert_eq!(stored[0]["bot_token"], "987:NewToken");
    assert_eq!(stored[1]["webhook_url"], Value::String(discord));
}

#[tokio::test]
async fn endpoint_credential_headers_read_back_masked_and_are_kept_by_a_masked_patch() {
    let app = spawn_app();
    let bot = app.bot().await;
    let created = app
        .endpoint(
            &bot,
            json!({"url": "https://receiver.example/hook?api_key=k-0123456&v=2",
                   "headers": {"Authorization": "Bearer ep-secret-0123", "X-Api-Key": "key-0123456", "X-Team": "ops"}}),
        )
        .await;
    let path = format!(
        "/v1/bots/{bot}/endpoints/{}",
        created["id"].as_str().unwrap()
    );
    let read = app.get(&path).await;
    for body in [&created, &read.body] {
        assert_eq!(
            body["headers"],
            json!({"Authorization": "Bearer ****", "X-Api-Key": "****", "X-Team": "ops"})
        );
        assert_eq!(
            body["url"],
            "https://receiver.example/hook?api_key=****&v=2"
        );
    }
    // Sent back masked: kept; changed: replaced.
    let a = app
        .patch(&path, json!({"url": read.body["url"], "headers": {"Authorization": "Bearer ****", "X-Api-Key": "new-key-99", "X-Team": "dev"}}))
        .await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
    let ep = app
        .svc
        .store
        .get_endpoint(
            &BotId::parse(&bot).unwrap(),
            &hooklane_domain::EndpointId::parse(created["id"].as_str().unwrap()).unwrap(),
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        ep.url,
        "https://receiver.example/hook?api_key=k-0123456&v=2"
    );
    assert_eq!(
        Value::Object(ep.headers),
        json!({"Authorization": "Bearer ep-secret-0123", "X-Api-Key": "new-key-99", "X-Team": "dev"})
    );
}

#[tokio::test]
async fn a_slack_endpoints_url_reads_back_masked_whatever_its_host_and_a_masked_patch_keeps_it() {
    let app = spawn_app();
    let bot = app.bot().await;
    // The URL, as it reads back.
    let cases = [
        (
            "https://slack-proxy.example/services/T1/B2/SlackSecret0123",
            "https://slack-proxy.example/services/T1/B2/****",
        ),
        (
            "https://hooks.slack.com/services/T1/B2/SlackSecret0123",
            "https://hooks.slack.com/services/T1/B2/****",
        ),
    ];
    for (url, masked) in cases {
        let created = app
            .endpoint(&bot, json!({"type": "slack", "url": url}))
            .await;
        let id = created["id"].as_str().unwrap().to_owned();
        let path = format!("/v1/bots/{bot}/endpoints/{id}");
        let listed = app.get(&format!("/v1/bots/{bot}/endpoints")).await;
        let listed = listed.body["data"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["id"] == id.as_str())
            .unwrap()
            .clone();
        let read = app.get(&path).await;
        for (what, body) in [
            ("create", &created),
            ("read", &read.body),
            ("list", &listed),
        ] {
            assert_eq!(body["url"], masked, "{what}");
        }
        let stored = || async {
            app.svc
                .store
                .get_endpoint(
                    &BotId::parse(&bot).unwrap(),
                    &hooklane_domain::EndpointId::parse(&id).unwrap(),
                )
                .await
                .unwrap()
                .unwrap()
                .url
        };
        // Sent back masked: kept whole.
        let a = app
            .patch(&path, json!({"url": masked, "name": "renamed"}))
            .await;
        assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
        assert_eq!(a.body["url"], masked);
        assert_eq!(stored().await, url);
        // The masked path on another host is no keep: the credential
        // never goes there.
        let moved = "https://attacker.example/services/T1/B2/****";
        let a = app.patch(&path, json!({"url": moved})).await;
        assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
        assert_eq!(stored().await, moved);
    }
}

#[tokio::test]
async fn discord_usernames_and_allowed_mentions_are_checked_when_the_hook_is_saved() {
    let app = spawn_app();
    let bot = app.bot().await;
    let discord = |extra: Value| {
        let mut a = json!({"type": "discord_message", "webhook_url": "https://discord.example/api/webhooks/1/t", "content": "hi"});
        for (k, v) in extra.as_object().unwrap() {
            a[k] = v.clone();
        }
        json!({"actions": [a]})
    };
    // fields, accepted, the field a refusal names
    let cases = [
        (json!({"username": "Shop"}), true, ""),
        (json!({"username": "x".repeat(80)}), true, ""),
        (json!({"username": "{payload.name}"}), true, ""),
        (json!({"username": "Discord {payload.x}"}), true, ""),
        (json!({"username": ""}), false, "actions[0].username"),
        (
            json!({"username": "x".repeat(81)}),
            false,
            "actions[0].username",
        ),
        (
            json!({"username": "My Discord Bot"}),
            false,
            "actions[0].username",
        ),
        (json!({"username": "Clyde"}), false, "actions[0].username"),
        (
            json!({"username": "everyone"}),
            false,
            "actions[0].username",
        ),
        (json!({"username": "here"}), false, "actions[0].username"),
        (json!({"allowed_mentions": {"parse": []}}), true, ""),
        (
            json!({"allowed_mentions": {"parse": ["users", "roles", "everyone"]}}),
            true,
            "",
        ),
        (
            json!({"allowed_mentions": {"users": ["123"], "roles": ["456"], "replied_user": false}}),
            true,
            "",
        ),
        (
            json!({"allowed_mentions": {"parse": ["channels"]}}),
            false,
            "actions[0].allowed_mentions.parse[0]",
        ),
        (
            json!({"allowed_mentions": {"parse": ["users"], "users": ["1"]}}),
            false,
            "actions[0].allowed_mentions.users",
        ),
        (
            json!({"allowed_mentions": {"roles": ["abc"]}}),
            false,
            "actions[0].allowed_mentions.roles[0]",
        ),
        (
            json!({"allowed_mentions": {"everyone": true}}),
            false,
            "actions[0].allowed_mentions.everyone",
        ),
        (
            json!({"allowed_mentions": "none"}),
            false,
            "actions[0].allowed_mentions",
        ),
    ];
    for (extra, ok, field) in cases {
        let a = app
            .post(&format!("/v1/bots/{bot}/hooks"), discord(extra.clone()))
            .await;
        if ok {
            assert_eq!(a.status, StatusCode::CREATED, "{extra}: {:?}", a.body);
            assert_eq!(a.body["actions"][0]["content"], "hi");
        } else {
            assert_eq!(a.status, StatusCode::BAD_REQUEST, "{extra}: {:?}", a.body);
            assert_eq!(a.code(), "invalid_action", "{extra}");
            assert!(
                a.message().contains(&format!("`{field}`")),
                "{extra}: {}",
                a.message()
            );
        }
    }
}

#[tokio::test]
async fn a_masked_credential_is_refused_when_the_update_moves_its_target_to_another_host() {
    let app = spawn_app();
    let bot = app.bot().await;
    let created = app
        .hook(
            &bot,
            json!({"actions": [
                {"type": "http_request", "url": "https://crm.example/orders",
                 "headers": {"Authorization": format!("Bearer {BEARER}"), "X-Team": "ops"}},
                {"type": "discord_message", "webhook_url": format!("https://discord.example/api/webhooks/42/{DISCORD_TOKEN}"), "content": "hi"},
            ]}),
        )
        .await;
    let path = format!("/v1/bots/{bot}/hooks/{}", created["id"].as_str().unwrap());
    let bot_id = BotId::parse(&bot).unwrap();
    let hook_id = HookId::parse(created["id"].as_str().unwrap()).unwrap();
    let stored = || async {
        let hook = app
            .svc
            .store
            .get_hook(&bot_id, &hook_id)
            .await
            .unwrap()
            .unwrap();
        serde_json::to_value(&hook.actions).unwrap()
    };
    let before = stored().await;
    let masked = created["actions"].clone();
    assert_eq!(masked[0]["headers"]["Authorization"], "Bearer ****");

    // Another scheme, host or port with the header sent back masked: refused,
    // and nothing changes.
    for url in [
        "https://attacker.example/orders",
        "http://crm.example/orders",
        "https://crm.example:8443/orders",
    ] {
        let mut actions = masked.clone();
        actions[0]["url"] = json!(url);
        let a = app.patch(&path, json!({"actions": actions})).await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{url}: {:?}", a.body);
        assert_eq!(a.code(), "invalid_action");
        assert!(
            a.message().contains("`actions[0].headers.Authorization`")
                && a.message().contains("`actions[0].url`")
                && a.message()
                    .contains("send the credential again when changing the host"),
            "{}",
            a.message()
        );
        assert!(!a.message().contains(BEARER));
        assert_eq!(stored().await, before, "{url}");
    }
    // The same host (another path, another case): kept.
    let mut actions = masked.clone();
    actions[0]["url"] = json!("https://CRM.example:443/orders/v2");
    let a = app.patch(&path, json!({"actions": actions})).await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
    let after = stored().await;
    assert_eq!(
        after[0]["headers"]["Authorization"],
        format!("Bearer {BEARER}")
    );
    assert_eq!(after[1]["webhook_url"], before[1]["webhook_url"]);

    // Another host with the credential sent again: accepted as sent.
    let mut actions = masked.clone();
    actions[0]["url"] = json!("https://new-crm.example/orders");
    actions[0]["headers"]["Authorization"] = json!("Bearer sk_new_0123456789");
    let a = app.patch(&path, json!({"actions": actions})).await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
    assert_eq!(
        stored().await[0]["headers"]["Authorization"],
        "Bearer sk_new_0123456789"
    );
}

#[tokio::test]
async fn an_endpoint_update_to_another_host_must_send_its_credential_headers_again() {
    let app = spawn_app();
    let bot = app.bot().await;
    let created = app
        .endpoint(
            &bot,
            json!({"url": "https://receiver.example/hook?api_key=k-0123456",
                   "headers": {"Authorization": "Bearer ep-secret-0123", "X-Team": "ops"}}),
        )
        .await;
    let id = created["id"].as_str().unwrap();
    let path = format!("/v1/bots/{bot}/endpoints/{id}");
    let stored = || async {
        app.svc
            .store
            .get_endpoint(
                &BotId::parse(&bot).unwrap(),
                &hooklane_domain::EndpointId::parse(id).unwrap(),
            )
            .await
            .unwrap()
            .unwrap()
    };
    let masked = created["headers"].clone();
    // patch, the header a refusal names
    let refused = [
        json!({"url": "https://attacker.example/hook", "headers": masked}),
        json!({"url": "http://receiver.example/hook", "headers": masked}),
        json!({"url": "https://attacker.example/hook"}),
        json!({"url": "https://attacker.example/hook", "name": "moved"}),
    ];
    for patch in refused {
        let a = app.patch(&path, patch.clone()).await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{patch}: {:?}", a.body);
        assert_eq!(a.code(), "invalid_endpoint", "{patch}");
        assert!(
            a.message().contains("`headers.Authorization`")
                && a.message()
                    .contains("send the credential again when changing the host"),
            "{patch}: {}",
            a.message()
        );
        let ep = stored().await;
        assert_eq!(ep.url, "https://receiver.example/hook?api_key=k-0123456");
        assert_eq!(ep.headers["Authorization"], "Bearer ep-secret-0123");
    }
    // The same host: kept.
    let a = app
        .patch(
            &path,
            json!({"url": "https://receiver.example/v2", "headers": masked}),
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
    assert_eq!(
        stored().await.headers["Authorization"],
        "Bearer ep-secret-0123"
    );
    // Another host with the credential sent again, or without it: accepted.
    let a = app
        .patch(
            &path,
            json!({"url": "https://other.example/hook", "headers": {"Authorization": "Bearer other-0123", "X-Team": "ops"}}),
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
    assert_eq!(stored().await.headers["Authorization"], "Bearer other-0123");
    let a = app
        .patch(
            &path,
            json!({"url": "https://third.example/hook", "headers": {"X-Team": "ops"}}),
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
    let ep = stored().await;
    assert_eq!(ep.url, "https://third.example/hook");
    assert!(!ep.headers.contains_key("Authorization"));
}

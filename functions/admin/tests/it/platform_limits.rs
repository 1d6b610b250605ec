//! What the chat platforms refuse, refused when it is saved: a chat text
//! whose literal part (every placeholder left out) is already over the
//! platform's limit, a Telegram text whose own markup Telegram cannot parse
//! under its `parse_mode`, and a `discord` endpoint's own `allowed_mentions`
//! checked as Discord takes it.

use axum::http::StatusCode;
use serde_json::{json, Value};

use crate::common::spawn_app;

const DISCORD_WEBHOOK: &str = "https://discord.example/api/webhooks/1/t";
const SLACK_WEBHOOK: &str = "https://hooks.slack.example/services/T/B/x";

#[tokio::test]
async fn chat_texts_whose_literal_part_is_over_the_platforms_limit_are_refused_at_save() {
    let app = spawn_app();
    let bot = app.bot().await;
    let discord = |extra: Value| {
        let mut a = json!({"type": "discord_message", "webhook_url": DISCORD_WEBHOOK});
        for (k, v) in extra.as_object().unwrap() {
            a[k] = v.clone();
        }
        a
    };
    let telegram = |text: String, mode: Option<&str>| {
        let mut a = json!({"type": "telegram_message", "bot_token": "123:abc", "chat_id": 42, "text": text});
        if let Some(mode) = mode {
            a["parse_mode"] = json!(mode);
        }
        a
    };
    let slack =
        |text: String| json!({"type": "slack_message", "webhook_url": SLACK_WEBHOOK, "text": text});
    let x = |n: usize| "x".repeat(n);
    // (what, action, the field a refusal names; "" when accepted)
    let cases: Vec<(&str, Value, &str)> = vec![
        (
            "discord content at 2000",
            discord(json!({"content": x(2000)})),
            "",
        ),
        (
            "discord content at 2001",
            discord(json!({"content": x(2001)})),
            "content",
        ),
        (
            "discord content of 1990 literal characters and a placeholder",
            discord(json!({"content": format!("{}{{payload.note}}", x(1990))})),
            "",
        ),
        (
            "discord content of 2001 literal characters around a placeholder",
            discord(json!({"content": format!("{}{{payload.note}}{}", x(1000), x(1001))})),
            "content",
        ),
        (
            "discord content of 2000 emoji (characters, not bytes)",
            discord(json!({"content": "🦀".repeat(2000)})),
            "",
        ),
        (
            "discord followup content at 2001",
            json!({"type": "discord_followup", "content": x(2001)}),
            "content",
        ),
        (
            "discord embed title at 256",
            discord(json!({"embeds": [{"title": x(256)}]})),
            "",
        ),
        (
            "discord embed title at 257",
            discord(json!({"embeds": [{"title": x(257)}]})),
            "embeds",
        ),
        (
            "discord embed description templated past 4096",
            discord(json!({"embeds": [{"description": format!("{}{{payload.long}}", x(4000))}]})),
            "",
        ),
        (
            "discord embeds over 6000 together",
            discord(json!({"embeds": [{"description": x(4000)}, {"description": x(2001)}]})),
            "embeds",
        ),
        ("telegram text at 4096", telegram(x(4096), None), ""),
        ("telegram text at 4097", telegram(x(4097), None), "text"),
        (
            "telegram text of 4096 UTF-16 units in 2048 emoji",
            telegram("🦀".repeat(2048), None),
            "",
        ),
        (
            "telegram text of 4098 UTF-16 units in 2049 emoji",
            telegram("🦀".repeat(2049), None),
            "text",
        ),
        (
            "telegram HTML whose tags take it past 4096 but not its text",
            telegram(format!("<b>{}</b>", x(4096)), Some("HTML")),
            "",
        ),
        (
            "telegram HTML text past 4096",
            telegram(format!("<b>{}</b>", x(4097)), Some("HTML")),
            "text",
        ),
        (
            "telegram text past 4096 only once a placeholder renders",
            telegram(format!("{}{{payload.note}}", x(4096)), None),
            "",
        ),
        ("slack text at 40000", slack(x(40_000)), ""),
        ("slack text at 40001", slack(x(40_001)), "text"),
    ];
    for (what, action, field) in cases {
        let a = app
            .post(
                &format!("/v1/bots/{bot}/hooks"),
                json!({"actions": [action]}),
            )
            .await;
        if field.is_empty() {
            assert_eq!(a.status, StatusCode::CREATED, "{what}: {:?}", a.message());
        } else {
            assert_eq!(a.status, StatusCode::BAD_REQUEST, "{what}");
            assert_eq!(a.code(), "invalid_action", "{what}");
            assert!(
                a.message().starts_with(&format!("`actions[0].{field}`")),
                "{what}: {}",
                a.message()
            );
        }
    }
}

#[tokio::test]
async fn a_telegram_text_whose_own_markup_telegram_cannot_parse_is_refused_at_save() {
    let app = spawn_app();
    let bot = app.bot().await;
    let telegram = |text: &str, mode: &str| {
        json!({"type": "telegram_message", "bot_token": "123:abc", "chat_id": 42,
               "text": text, "parse_mode": mode})
    };
    // (text, parse_mode, words of the refusal; "" when accepted)
    let cases: &[(&str, &str, &str)] = &[
        (
            "<b>Paid</b> {payload.amount} &amp; <i>thanks</i>",
            "HTML",
            "",
        ),
        ("<a href=\"{payload.url}\">{payload.name}</a>", "HTML", ""),
        (
            "<span class=\"tg-spoiler\">{payload.code}</span>",
            "HTML",
            "",
        ),
        (
            "<blockquote expandable>{payload.log}</blockquote>",
            "HTML",
            "",
        ),
        (
            "<pre><code class=\"language-json\">{payload}</code></pre>",
            "HTML",
            "",
        ),
        // A value that would be markup is escaped when substituted.
        ("<b>{payload.html}</b>", "HTML", ""),
        ("<b>unclosed {payload.x}", "HTML", "`<b>` is never closed"),
        (
            "<blink>{payload.x}</blink>",
            "HTML",
            "`<blink>` is not a tag",
        ),
        ("<b>x</i>", "HTML", "`</i>` comes where `</b>` is expected"),
        ("{payload.a} < {payload.b}", "HTML", "a `<` starts no tag"),
        ("<span>{payload.x}</span>", "HTML", "tg-spoiler"),
        (
            "<a href={payload.url}>x</a>",
            "HTML",
            "attribute value to put in quotes",
        ),
        ("*Paid* {payload.amount}\\.", "MarkdownV2", ""),
        ("[receipt]({payload.url}) `{payload.id}`", "MarkdownV2", ""),
        ("Paid {payload.amount}.", "MarkdownV2", "`.` after `Paid …`"),
        ("Paid {payload.amount}.", "Markdown", ""),
        ("<b>unclosed", "Markdown", ""),
        ("<blink>", "MarkdownV2", ""),
        ("a < b.", "", ""),
    ];
    for (text, mode, want) in cases {
        let mut action = telegram(text, mode);
        if mode.is_empty() {
            action.as_object_mut().unwrap().remove("parse_mode");
        }
        let a = app
            .post(
                &format!("/v1/bots/{bot}/hooks"),
                json!({"actions": [action]}),
            )
            .await;
        if want.is_empty() {
            assert_eq!(
                a.status,
                StatusCode::CREATED,
                "{text} ({mode}): {:?}",
                a.message()
            );
        } else {
            assert_eq!(a.status, StatusCode::BAD_REQUEST, "{text} ({mode})");
            assert_eq!(a.code(), "invalid_action", "{text}");
            assert!(
                a.message()
                    .starts_with("`actions[0].text` is not valid under parse_mode")
                    && a.message().contains(want),
                "{text} ({mode}): {}",
                a.message()
            );
        }
    }
    // A PATCH is checked the same; nothing changes when it is refused.
    let created = app
        .hook(&bot, json!({"actions": [telegram("<b>ok</b>", "HTML")]}))
        .await;
    let path = format!("/v1/bots/{bot}/hooks/{}", created["id"].as_str().unwrap());
    let a = app
        .patch(&path, json!({"actions": [telegram("<b>ok", "HTML")]}))
        .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert_eq!(app.get(&path).await.body["actions"][0]["text"], "<b>ok</b>");
}

#[tokio::test]
async fn a_discord_endpoint_takes_its_own_allowed_mentions_checked_as_discord_does() {
    let app = spawn_app();
    let bot = app.bot().await;
    let endpoint = |kind: &str, mentions: Value| json!({"name": "Chat", "type": kind, "url": DISCORD_WEBHOOK, "allowed_mentions": mentions});
    // (what, type, allowed_mentions, the field a refusal names; "" when accepted)
    let cases: Vec<(&str, &str, Value, &str)> = vec![
        ("no pings", "discord", json!({"parse": []}), ""),
        (
            "users and roles",
            "discord",
            json!({"parse": ["users", "roles"]}),
            "",
        ),
        (
            "listed ids",
            "discord",
            json!({"users": ["123"], "roles": ["456"], "replied_user": false}),
            "",
        ),
        ("everyone", "discord", json!({"parse": ["everyone"]}), ""),
        (
            "an unknown kind",
            "discord",
            json!({"parse": ["channels"]}),
            "allowed_mentions.parse[0]",
        ),
        (
            "users listed and parsed",
            "discord",
            json!({"parse": ["users"], "users": ["1"]}),
            "allowed_mentions.users",
        ),
        (
            "an id that is not digits",
            "discord",
            json!({"roles": ["abc"]}),
            "allowed_mentions.roles[0]",
        ),
        (
            "a key Discord does not take",
            "discord",
            json!({"everyone": true}),
            "allowed_mentions.everyone",
        ),
        (
            "not an object",
            "discord",
            json!("none"),
            "allowed_mentions",
        ),
        (
            "on a custom endpoint",
            "custom",
            json!({"parse": []}),
            "allowed_mentions",
        ),
        (
            "on a slack endpoint",
            "slack",
            json!({"parse": []}),
            "allowed_mentions",
        ),
    ];
    for (what, kind, mentions, field) in cases {
        let a = app
            .post(
                &format!("/v1/bots/{bot}/endpoints"),
                endpoint(kind, mentions.clone()),
            )
            .await;
        if field.is_empty() {
            assert_eq!(a.status, StatusCode::CREATED, "{what}: {:?}", a.message());
            assert_eq!(a.body["allowed_mentions"], mentions, "{what}");
            let id = a.body["id"].as_str().unwrap();
            let read = app.get(&format!("/v1/bots/{bot}/endpoints/{id}")).await;
            assert_eq!(read.body["allowed_mentions"], mentions, "{what}: read back");
        } else {
            assert_eq!(a.status, StatusCode::BAD_REQUEST, "{what}");
            assert_eq!(a.code(), "invalid_endpoint", "{what}");
            assert!(
                a.message().starts_with(&format!("`{field}`")),
                "{what}: {}",
                a.message()
            );
        }
    }

    // Left out, an endpoint has none (its deliveries send {"parse": []});
    // a PATCH sets it and another PATCH without it keeps it.
    let ep = app
        .post(
            &format!("/v1/bots/{bot}/endpoints"),
            json!({"name": "Chat", "type": "discord", "url": DISCORD_WEBHOOK}),
        )
        .await;
    assert_eq!(ep.status, StatusCode::CREATED);
    assert!(ep.body.get("allowed_mentions").is_none(), "{:?}", ep.body);
    let id = ep.body["id"].as_str().unwrap();
    let path = format!("/v1/bots/{bot}/endpoints/{id}");
    let set = app
        .patch(&path, json!({"allowed_mentions": {"parse": ["users"]}}))
        .await;
    assert_eq!(set.status, StatusCode::OK, "{:?}", set.body);
    assert_eq!(set.body["allowed_mentions"], json!({"parse": ["users"]}));
    let kept = app.patch(&path, json!({"name": "Chat 2"})).await;
    assert_eq!(kept.body["allowed_mentions"], json!({"parse": ["users"]}));
}

//! What the chat actions send, byte for byte, to loopback sinks standing in
//! for Telegram, Slack and Discord: substituted values escaped for the
//! platform's markup, the template's own markup kept, Discord's mentions
//! and username rules, their pace per target and what a 429 leaves behind.

use hooklane_domain::ActionStatus;
use hooklane_engine::throttle;
use hooklane_store::SendTarget;
use hooklane_testkit::{Reply, Sink};
use serde_json::{json, Value};

use crate::actions::Engine;

/// Runs one action with `payload` and answers the one body the sink got
/// (and the run log's notes, if any).
async fn sent(sink: &Sink, action: Value, payload: Value) -> (String, Value) {
    let engine = Engine::new(sink);
    let before = sink.received().len();
    let (outcome, _) = engine.run(json!([action]), payload).await;
    assert_eq!(
        outcome.results[0].status,
        ActionStatus::Succeeded,
        "{:?}",
        outcome.results[0].detail
    );
    let got = sink.received();
    assert_eq!(got.len(), before + 1);
    (
        got[before].text(),
        outcome.results[0].detail["notes"].clone(),
    )
}

#[tokio::test]
async fn telegram_values_are_escaped_for_the_texts_parse_mode() {
    let sink = Sink::start().await;
    // parse mode, template, payload, the exact body sent
    let cases = [
        (
            Some("HTML"),
            "Order from <b>{payload.name}</b>: {payload.note}",
            json!({"name": "Tom & Jerry", "note": "<script> \"x\""}),
            r#"{"chat_id":7,"parse_mode":"HTML","text":"Order from <b>Tom &amp; Jerry</b>: &lt;script&gt; &quot;x&quot;"}"#,
        ),
        (
            Some("HTML"),
            "<a href=\"https://shop.example/o/{payload.id}\">&amp; {payload.id}</a>",
            json!({"id": 42}),
            r#"{"chat_id":7,"parse_mode":"HTML","text":"<a href=\"https://shop.example/o/42\">&amp; 42</a>"}"#,
        ),
        (
            Some("MarkdownV2"),
            "*Total:* {payload.total}",
            json!({"total": "12.50 (incl. tax)!"}),
            r#"{"chat_id":7,"parse_mode":"MarkdownV2","text":"*Total:* 12\\.50 \\(incl\\. tax\\)\\!"}"#,
        ),
        (
            Some("MarkdownV2"),
            "_{payload.user}_ paid {payload.n}",
            json!({"user": "a_b*c", "n": -1.5}),
            r#"{"chat_id":7,"parse_mode":"MarkdownV2","text":"_a\\_b\\*c_ paid \\-1\\.5"}"#,
        ),
        (
            Some("Markdown"),
            "*{payload.user}* wrote `{payload.code}`",
            json!({"user": "snake_case", "code": "a`b [c]"}),
            r#"{"chat_id":7,"parse_mode":"Markdown","text":"*snake\\_case* wrote `a\\`b \\[c]`"}"#,
        ),
        (
            None,
            "<b>{payload.name}</b> *{payload.name}*",
            json!({"name": "Tom & <Jerry>_"}),
            r#"{"chat_id":7,"text":"<b>Tom & <Jerry>_</b> *Tom & <Jerry>_*"}"#,
        ),
    ];
    for (mode, text, payload, want) in cases {
        let mut action = json!({"type": "telegram_message", "bot_token": "1:abc",
                                "chat_id": 7, "text": text});
        if let Some(mode) = mode {
            action["parse_mode"] = json!(mode);
        }
        let (body, _) = sent(&sink, action, payload).await;
        assert_eq!(body, want, "{mode:?} {text}");
    }
}

#[tokio::test]
async fn slack_values_are_escaped_in_text_and_block_texts_only() {
    let sink = Sink::start().await;
    let action = json!({
        "type": "slack_message",
        "webhook_url": sink.url("/services/T1/B1/tok"),
        "text": "<!here> New order from {payload.name}: <{payload.url}|open>",
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": "*{payload.name}* {payload.note}"},
             "accessory": {"type": "image", "image_url": "{payload.url}", "alt_text": "x"}},
            {"type": "section", "fields": [{"type": "mrkdwn", "text": "{payload.note}"}]},
        ],
    });
    let payload = json!({"name": "Tom & Jerry", "note": "<!channel> <https://evil.example|click>",
                         "url": "https://shop.example/o?a=1&b=2"});
    let (body, _) = sent(&sink, action, payload).await;
    let body: Value = serde_json::from_str(&body).unwrap();
    // where, the exact text sent
    let cases = [
        (
            &body["text"],
            "<!here> New order from Tom &amp; Jerry: <https://shop.example/o?a=1&amp;b=2|open>",
        ),
        (
            &body["blocks"][0]["text"]["text"],
            "*Tom &amp; Jerry* &lt;!channel&gt; &lt;https://evil.example|click&gt;",
        ),
        (
            &body["blocks"][0]["accessory"]["image_url"],
            "https://shop.example/o?a=1&b=2",
        ),
        (
            &body["blocks"][1]["fields"][0]["text"],
            "&lt;!channel&gt; &lt;https://evil.example|click&gt;",
        ),
    ];
    for (got, want) in cases {
        assert_eq!(got, want);
    }
}

#[tokio::test]
async fn discord_messages_carry_allowed_mentions_and_a_username_discord_takes() {
    let sink = Sink::start().await;
    let url = sink.url("/api/webhooks/1/tok");
    // action fields, payload, the exact body sent
    let cases = [
        (
            json!({"content": "Paid: {payload.name}"}),
            json!({"name": "@everyone <@&99> @here"}),
            "{\"allowed_mentions\":{\"parse\":[\"users\"]},\"content\":\"Paid: @\u{200B}everyone <@&99> @\u{200B}here\"}",
        ),
        (
            json!({"content": "@here <@&12> paid: {payload.name}"}),
            json!({"name": "<@&99>"}),
            r#"{"allowed_mentions":{"parse":["users","everyone"],"roles":["12"]},"content":"@here <@&12> paid: <@&99>"}"#,
        ),
        (
            json!({"content": "@here paid: {payload.name}", "embeds": [{"description": "{payload.name}", "url": "https://x.example/{payload.path}"}]}),
            json!({"name": "@everyone @here", "path": "@here"}),
            "{\"allowed_mentions\":{\"parse\":[\"users\",\"everyone\"]},\"content\":\"@here paid: @\u{200B}everyone @\u{200B}here\",\"embeds\":[{\"description\":\"@\u{200B}everyone @\u{200B}here\",\"url\":\"https://x.example/@here\"}]}",
        ),
        (
            json!({"content": "{payload.name}", "allowed_mentions": {"parse": []}}),
            json!({"name": "<@1>"}),
            r#"{"allowed_mentions":{"parse":[]},"content":"<@1>"}"#,
        ),
        (
            json!({"content": "hi", "username": "{payload.name}"}),
            json!({"name": "Shop"}),
            r#"{"allowed_mentions":{"parse":["users"]},"content":"hi","username":"Shop"}"#,
        ),
        (
            json!({"content": "hi", "username": "{payload.name}"}),
            json!({"name": ""}),
            r#"{"allowed_mentions":{"parse":["users"]},"content":"hi"}"#,
        ),
        (
            json!({"content": "hi", "username": "{payload.name}"}),
            json!({"name": "My Discord"}),
            r#"{"allowed_mentions":{"parse":["users"]},"content":"hi"}"#,
        ),
        (
            json!({"content": "hi", "username": "{payload.name}"}),
            json!({"name": "everyone"}),
            r#"{"allowed_mentions":{"parse":["users"]},"content":"hi"}"#,
        ),
        (
            json!({"content": "hi", "username": "{payload.missing}"}),
            json!({}),
            r#"{"allowed_mentions":{"parse":["users"]},"content":"hi"}"#,
        ),
    ];
    for (fields, payload, want) in cases {
        let mut action = json!({"type": "discord_message", "webhook_url": url});
        for (k, v) in fields.as_object().unwrap() {
            action[k] = v.clone();
        }
        let (body, notes) = sent(&sink, action, payload.clone()).await;
        assert_eq!(body, want, "{fields} {payload}");
        if !want.contains("username") && fields.get("username").is_some() {
            assert!(notes.to_string().contains("username left out"), "{notes}");
        }
    }
}

const INTERACTION_TOKEN: &str = "aW50ZXJhY3Rpb246MTE4MDpzZWNyZXQ";

fn slash_command() -> Value {
    json!({"type": 2, "id": "1180", "application_id": "9001", "token": INTERACTION_TOKEN,
           "data": {"name": "roll", "options": [{"name": "sides", "value": 20}]},
           "member": {"user": {"id": "42", "username": "ada"}}})
}

#[tokio::test]
async fn a_discord_followup_posts_to_the_interactions_webhook_with_its_token() {
    let sink = Sink::start().await;
    let engine = Engine::new(&sink);
    let (outcome, _) = engine
        .run(
            json!([{"type": "discord_followup",
                    "content": "{payload.member.user.username} rolled a d{payload.data.options.0.value}",
                    "embeds": [{"title": "Roll"}], "ephemeral": true}]),
            slash_command(),
        )
        .await;
    let result = &outcome.results[0];
    assert_eq!(
        result.status,
        ActionStatus::Succeeded,
        "{:?}",
        result.detail
    );
    let got = &sink.received()[0];
    assert_eq!(got.method, "POST");
    assert_eq!(
        got.path,
        format!("/api/v10/webhooks/9001/{INTERACTION_TOKEN}")
    );
    assert_eq!(
        got.json(),
        json!({"content": "ada rolled a d20", "embeds": [{"title": "Roll"}], "flags": 64,
               "allowed_mentions": {"parse": ["users"]}})
    );
    let log = serde_json::to_string(&result.detail).unwrap();
    assert!(!log.contains(INTERACTION_TOKEN), "{log}");
    assert!(log.contains("/webhooks/9001/"), "{log}");
}

#[tokio::test]
async fn a_discord_followup_can_edit_the_deferred_answer() {
    let sink = Sink::start().await;
    let (body, _) = sent(
        &sink,
        json!({"type": "discord_followup", "content": "Done: {payload.data.name}",
               "edit_original": true, "allowed_mentions": {"parse": []}}),
        slash_command(),
    )
    .await;
    let got = &sink.received()[0];
    assert_eq!(got.method, "PATCH");
    assert_eq!(
        got.path,
        format!("/api/v10/webhooks/9001/{INTERACTION_TOKEN}/messages/@original")
    );
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap(),
        json!({"content": "Done: roll", "allowed_mentions": {"parse": []}})
    );
}

#[tokio::test]
async fn a_discord_followup_outside_an_interaction_fails_for_good_and_an_expired_token_too() {
    let sink = Sink::start().await;
    let engine = Engine::new(&sink);
    let (outcome, _) = engine
        .run(
            json!([{"type": "discord_followup", "content": "hi"}]),
            json!({"order": 1}),
        )
        .await;
    let failure = outcome.failure.expect("no interaction to answer");
    assert!(!failure.transient);
    assert!(
        failure.reason.contains("application_id and token"),
        "{}",
        failure.reason
    );
    assert!(sink.received().is_empty());

    // Discord answers 404 Unknown Webhook once the token's 15 minutes are up.
    sink.reply_with([hooklane_testkit::Reply::json(
        404,
        json!({"message": format!("Unknown Webhook {INTERACTION_TOKEN}"), "code": 10015}),
    )]);
    let (outcome, _) = engine
        .run(
            json!([{"type": "discord_followup", "content": "late"}]),
            slash_command(),
        )
        .await;
    let failure = outcome.failure.expect("the token expired");
    assert!(!failure.transient);
    let log = serde_json::to_string(&outcome.results[0].detail).unwrap();
    assert!(!log.contains(INTERACTION_TOKEN), "{log}");
    assert!(
        !failure.reason.contains(INTERACTION_TOKEN),
        "{}",
        failure.reason
    );
}

#[tokio::test]
async fn messages_to_one_telegram_chat_go_out_no_faster_than_one_a_second() {
    let sink = Sink::start().await;
    let engine = Engine::new(&sink);
    let message =
        json!({"type": "telegram_message", "bot_token": "1:abc", "chat_id": 7, "text": "hi"});
    let (outcome, _) = engine
        .run(json!([message, message, message]), json!({}))
        .await;
    assert!(outcome.failure.is_none(), "{:?}", outcome.failure);
    let got = sink.received();
    assert_eq!(got.len(), 3);
    // One a second in fixed windows: three messages span two window edges.
    let span = got[2].at - got[0].at;
    assert!(span >= std::time::Duration::from_millis(1000), "{span:?}");
    let waits: Vec<&Value> = outcome
        .results
        .iter()
        .filter_map(|r| r.detail.get("throttled_wait_ms"))
        .collect();
    assert_eq!(waits.len(), 2, "{:?}", outcome.results);
}

#[tokio::test]
async fn a_429_from_a_chat_target_pauses_it_in_the_store_for_every_dispatcher() {
    let sink = Sink::start().await;
    let url = sink.url("/api/webhooks/2/tok");
    sink.reply_with([Reply::json(
        429,
        json!({"message": "You are being rate limited.", "retry_after": 1.5, "global": false}),
    )]);
    let engine = Engine::new(&sink);
    let before = engine.svc().now();
    let (outcome, _) = engine
        .run(
            json!([{"type": "discord_message", "webhook_url": url, "content": "hi"}]),
            json!({}),
        )
        .await;
    assert!(outcome.failure.is_none(), "{:?}", outcome.failure);
    assert_eq!(sink.received().len(), 2, "one 429, then the message again");
    // Another dispatcher counting a send to this webhook is told the pause.
    let target = throttle::chat_target("discord", &url);
    let counted = engine
        .svc()
        .store
        .count_send(
            &SendTarget {
                bot: engine.bot(),
                target: &target,
            },
            0,
            before + time::Duration::days(1),
        )
        .await
        .unwrap();
    let paused_until = counted
        .paused_until
        .expect("the webhook is paused in the store");
    assert!(
        paused_until >= before + time::Duration::milliseconds(1_500),
        "paused until {paused_until}, the 429 came after {before} and asked for 1.5 s"
    );
}

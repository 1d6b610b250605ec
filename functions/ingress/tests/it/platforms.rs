//! Bot platforms as callers: Twilio's signature over the public URL and the
//! form; Discord interactions (Ed25519, PING, the immediate answer);
//! Telegram updates (the secret token, `update_id` duplicates). Signatures
//! are made here with each platform's documented rules.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use hooklane_domain::Job;
use serde_json::json;
use sha1::Sha1;

use crate::support::*;

/// A Twilio SMS webhook's form, as Twilio posts it.
const SMS_FORM: &str = "ToCountry=US&SmsSid=SM7c1d2e&Body=Hello+there%21&From=%2B14155550100&To=%2B14155550199&AccountSid=AC0123&NumMedia=0";

/// Twilio's rule: base64 HMAC-SHA1(auth token, url + each form parameter's
/// name and value, sorted by name).
fn twilio_signature(token: &str, url: &str, form: &str) -> String {
    let mut params: Vec<(String, String)> = form_urlencoded::parse(form.as_bytes())
        .into_owned()
        .collect();
    params.sort();
    let mut text = url.to_owned();
    for (k, v) in params {
        text.push_str(&k);
        text.push_str(&v);
    }
    let mut mac = <Hmac<Sha1> as Mac>::new_from_slice(token.as_bytes()).unwrap();
    mac.update(text.as_bytes());
    STANDARD.encode(mac.finalize().into_bytes())
}

fn twilio_call(signed_url: &str, form: &str) -> Call {
    Call::post(format!("{}?src=sms", path("hk_twilio")))
        .header("host", "hooks.example.com")
        .header("x-forwarded-proto", "https")
        .header("content-type", "application/x-www-form-urlencoded")
        .header("i-twilio-idempotency-token", "3b4a-sms-1")
        .header(
            "x-twilio-signature",
            twilio_signature(TWILIO_TOKEN, signed_url, SMS_FORM),
        )
        .body(form.to_owned())
}

const PUBLIC_URL: &str = "https://hooks.example.com/hooks/acme-bot/hk_twilio?src=sms";

#[tokio::test]
async fn a_twilio_sms_signed_over_the_public_url_and_form_is_queued_once() {
    let t = Ingress::start().await;
    let answer = t.send(twilio_call(PUBLIC_URL, SMS_FORM).build()).await;
    assert_eq!(answer.status, 202, "{}", answer.body);
    let queued = t.drain().await;
    assert_eq!(queued.len(), 1);
    let Job::HookCall(call) = &queued[0].job else {
        panic!("not a hook call")
    };
    assert_eq!(call.request.payload["Body"], "Hello there!");
    assert_eq!(call.request.payload["From"], "+14155550100");
    assert_eq!(call.request.query["src"], "sms");
    assert!(!call.request.headers.contains_key("x-twilio-signature"));

    // Twilio retries with the same idempotency token: a duplicate.
    let again = t.send(twilio_call(PUBLIC_URL, SMS_FORM).build()).await;
    assert_eq!(again.status, 202);
    assert_eq!(again.header("x-hooklane-duplicate"), Some("true"));
    assert!(t.drain().await.is_empty());
}

#[tokio::test]
async fn a_twilio_signature_over_another_url_or_form_or_token_is_refused() {
    let t = Ingress::start().await;
    let refused = [
        (
            "signed for http, called through https",
            twilio_call(
                "http://hooks.example.com/hooks/acme-bot/hk_twilio?src=sms",
                SMS_FORM,
            ),
        ),
        (
            "signed without the query",
            twilio_call(
                "https://hooks.example.com/hooks/acme-bot/hk_twilio",
                SMS_FORM,
            ),
        ),
        (
            "a parameter changed on the way",
            twilio_call(PUBLIC_URL, &SMS_FORM.replace("Hello", "Hallo")),
        ),
        (
            "no signature",
            Call::post(format!("{}?src=sms", path("hk_twilio")))
                .header("host", "hooks.example.com")
                .header("content-type", "application/x-www-form-urlencoded")
                .body(SMS_FORM),
        ),
    ];
    for (case, call) in refused {
        let answer = t.send(call.build()).await;
        assert_eq!(answer.status, 401, "{case}: {}", answer.body);
        assert_eq!(answer.body["error"]["code"], "unauthorized", "{case}");
    }
    let other_token = Call::post(format!("{}?src=sms", path("hk_twilio")))
        .header("host", "hooks.example.com")
        .header("x-forwarded-proto", "https")
        .header("content-type", "application/x-www-form-urlencoded")
        .header(
            "x-twilio-signature",
            twilio_signature("another-token", PUBLIC_URL, SMS_FORM),
        )
        .body(SMS_FORM);
    assert_eq!(t.send(other_token.build()).await.status, 401);
    assert!(t.drain().await.is_empty());
}

/// A JSON call to the `hk_twilio` hook at `query`, through the public URL
/// `https://hooks.example.com/…`, with `X-Twilio-Signature` over that URL
/// alone (no parameters), as Twilio signs a call whose body is not a form.
fn twilio_json_call(query: &str, body: &str) -> Call {
    let signed_url = format!("https://hooks.example.com{}?{query}", path("hk_twilio"));
    Call::post(format!("{}?{query}", path("hk_twilio")))
        .header("host", "hooks.example.com")
        .header("x-forwarded-proto", "https")
        .header(
            "x-twilio-signature",
            twilio_signature(TWILIO_TOKEN, &signed_url, ""),
        )
        .json(body.to_owned())
}

#[tokio::test]
async fn a_twilio_signature_of_the_url_alone_does_not_cover_a_json_body() {
    let t = Ingress::start().await;
    let answer = t
        .send(twilio_json_call("src=sms", r#"{"amount": 1000000}"#).build())
        .await;
    assert_eq!(answer.status, 401, "{}", answer.body);
    assert_eq!(answer.body["error"]["code"], "unauthorized");
    let message = answer.body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("not covered by the signature") && message.contains("bodySHA256"),
        "{message}"
    );
    assert!(t.drain().await.is_empty());
}

#[tokio::test]
async fn a_twilio_json_body_is_accepted_when_its_sha256_is_the_signed_urls_body_sha256() {
    use sha2::Digest as _;
    let t = Ingress::start().await;
    let body = r#"{"AccountSid":"AC0123","Payload":{"status":"delivered"}}"#;
    let query = format!(
        "src=sms&bodySHA256={}",
        hex::encode(sha2::Sha256::digest(body))
    );
    let answer = t.send(twilio_json_call(&query, body).build()).await;
    assert_eq!(answer.status, 202, "{}", answer.body);
    let queued = t.drain().await;
    assert_eq!(queued.len(), 1);
    let Job::HookCall(call) = &queued[0].job else {
        panic!("not a hook call")
    };
    assert_eq!(call.request.payload["Payload"]["status"], "delivered");

    // The same URL and signature with another body: its hash is not the URL's.
    let other = t
        .send(twilio_json_call(&query, &body.replace("delivered", "failed")).build())
        .await;
    assert_eq!(other.status, 401, "{}", other.body);
    assert_eq!(other.body["error"]["code"], "unauthorized");
    assert!(t.drain().await.is_empty());
}

/// A Discord interaction to `hook`, signed now with the application's key
/// (`signer`), as Discord sends it.
fn interaction(t: &Ingress, hook: &str, signer: &ed25519_dalek::SigningKey, body: &str) -> Call {
    use ed25519_dalek::Signer as _;
    let ts = t.now.to_string();
    let signature = signer.sign(format!("{ts}{body}").as_bytes());
    Call::post(path(hook))
        .json(body)
        .header("x-signature-ed25519", hex::encode(signature.to_bytes()))
        .header("x-signature-timestamp", ts)
}

const SLASH_COMMAND: &str = r#"{"type":2,"id":"1180","application_id":"9001","token":"aW50ZXJhY3Rpb24tdG9rZW4","data":{"name":"roll","options":[{"name":"sides","value":20}]},"member":{"user":{"id":"42","username":"ada"}}}"#;

#[tokio::test]
async fn a_discord_ping_is_answered_pong_at_once_and_never_queued() {
    let t = Ingress::start().await;
    let app = ed25519_dalek::SigningKey::from_bytes(&DISCORD_SEED);
    let ping = r#"{"type":1,"id":"1","application_id":"9001","token":"t","version":1}"#;
    for hook in ["hk_discord", "hk_discordsays"] {
        let answer = t.send(interaction(&t, hook, &app, ping).build()).await;
        assert_eq!(answer.status, 200, "{hook}: {}", answer.body);
        assert_eq!(answer.body, serde_json::json!({"type": 1}), "{hook}");
        assert_eq!(answer.header("content-type"), Some("application/json"));
    }
    assert!(t.drain().await.is_empty(), "a PING is never queued");
}

#[tokio::test]
async fn a_discord_interaction_without_a_valid_signature_is_401_as_discord_requires() {
    let t = Ingress::start().await;
    let app = ed25519_dalek::SigningKey::from_bytes(&DISCORD_SEED);
    let stranger = ed25519_dalek::SigningKey::from_bytes(&[6; 32]);
    let ping = r#"{"type":1}"#;
    let refused = [
        (
            "signed by another key",
            interaction(&t, "hk_discord", &stranger, ping),
        ),
        (
            "the body changed after signing",
            Call::post(path("hk_discord"))
                .json(r#"{"type":1 }"#)
                .header(
                    "x-signature-ed25519",
                    interaction(&t, "hk_discord", &app, ping).build().headers()
                        ["x-signature-ed25519"]
                        .to_str()
                        .unwrap(),
                )
                .header("x-signature-timestamp", t.now.to_string()),
        ),
        ("no signature", Call::post(path("hk_discord")).json(ping)),
        (
            "a signature that is not hex",
            Call::post(path("hk_discord"))
                .json(ping)
                .header("x-signature-ed25519", "not hex")
                .header("x-signature-timestamp", t.now.to_string()),
        ),
    ];
    for (case, call) in refused {
        let answer = t.send(call.build()).await;
        assert_eq!(answer.status, 401, "{case}: {}", answer.body);
        assert_eq!(answer.body["error"]["code"], "unauthorized", "{case}");
        // A Discord hook holds the application's public key, not a secret.
        let message = answer.body["error"]["message"].as_str().unwrap();
        assert!(!message.contains("secret"), "{case}: {message}");
        if case != "a signature that is not hex" {
            assert!(
                message
                    .contains("signed by the Discord application whose public key this hook holds")
                    && message.contains("X-Signature-Timestamp"),
                "{case}: {message}"
            );
        }
    }
    assert!(t.drain().await.is_empty());
}

#[tokio::test]
async fn a_discord_ping_is_answered_whatever_the_rate_and_is_not_counted_by_it() {
    let t = Ingress::start().await;
    let app = ed25519_dalek::SigningKey::from_bytes(&DISCORD_SEED);
    let stranger = ed25519_dalek::SigningKey::from_bytes(&[6; 32]);
    let ping = r#"{"type":1,"id":"1","application_id":"9001","token":"t","version":1}"#;
    let hook = "hk_discordrated";

    // PINGs first: the window's one call is still there for the command.
    for _ in 0..3 {
        let pong = t.send(interaction(&t, hook, &app, ping).build()).await;
        assert_eq!(pong.status, 200, "{}", pong.body);
        assert_eq!(pong.body, json!({"type": 1}));
    }
    let command = t
        .send(interaction(&t, hook, &app, SLASH_COMMAND).build())
        .await;
    assert_eq!(command.status, 200, "{}", command.body);

    // The rate is used up: a command waits, a PING is answered all the same.
    let second = SLASH_COMMAND.replacen("\"1180\"", "\"1181\"", 1);
    let limited = t.send(interaction(&t, hook, &app, &second).build()).await;
    assert_eq!(limited.status, 429, "{}", limited.body);
    let pong = t.send(interaction(&t, hook, &app, ping).build()).await;
    assert_eq!(pong.status, 200, "{}", pong.body);
    assert_eq!(pong.body, json!({"type": 1}));

    // Only once its signature checks out.
    let forged = t.send(interaction(&t, hook, &stranger, ping).build()).await;
    assert_eq!(forged.status, 401, "{}", forged.body);
    assert_eq!(t.drain().await.len(), 1, "the command alone is queued");
}

#[tokio::test]
async fn a_slash_command_is_queued_and_answered_at_once_with_the_hooks_response_or_deferred() {
    let t = Ingress::start().await;
    let app = ed25519_dalek::SigningKey::from_bytes(&DISCORD_SEED);

    let deferred = t
        .send(interaction(&t, "hk_discord", &app, SLASH_COMMAND).build())
        .await;
    assert_eq!(deferred.status, 200, "{}", deferred.body);
    assert_eq!(deferred.body, serde_json::json!({"type": 5}));
    let id = deferred.header("x-hooklane-event-id").unwrap().to_owned();

    let says = t
        .send(interaction(&t, "hk_discordsays", &app, SLASH_COMMAND).build())
        .await;
    assert_eq!(says.status, 200, "{}", says.body);
    assert_eq!(
        says.body,
        serde_json::json!({"type": 4, "data": {"content": "Got it, ada", "allowed_mentions": {"parse": []}}})
    );

    let queued = t.drain().await;
    assert_eq!(queued.len(), 2);
    let Job::HookCall(call) = &queued[0].job else {
        panic!("not a hook call")
    };
    assert_eq!(call.call_id.as_str(), id);
    assert_eq!(call.request.payload["data"]["options"][0]["value"], 20);
    assert_eq!(call.request.payload["token"], "aW50ZXJhY3Rpb24tdG9rZW4");
    assert!(!call.request.headers.contains_key("x-signature-ed25519"));
}

fn update(update_id: u64, secret: Option<&str>) -> Call {
    let body = format!(
        r#"{{"update_id":{update_id},"message":{{"message_id":7,"chat":{{"id":-100123,"type":"group"}},"from":{{"id":42,"first_name":"Ada"}},"text":"/start"}}}}"#
    );
    let call = Call::post(path("hk_telegram")).json(body);
    match secret {
        Some(s) => call.header("x-telegram-bot-api-secret-token", s),
        None => call,
    }
}

#[tokio::test]
async fn a_telegram_update_with_the_secret_token_is_queued_once_per_update_id() {
    let t = Ingress::start().await;
    let first = t.send(update(900_001, Some(TELEGRAM_TOKEN)).build()).await;
    assert_eq!(first.status, 202, "{}", first.body);
    let again = t.send(update(900_001, Some(TELEGRAM_TOKEN)).build()).await;
    assert_eq!(again.status, 202);
    assert_eq!(again.header("x-hooklane-duplicate"), Some("true"));
    assert_eq!(again.body["id"], first.body["id"]);
    assert_eq!(
        t.send(update(900_002, Some(TELEGRAM_TOKEN)).build())
            .await
            .status,
        202
    );
    let queued = t.drain().await;
    assert_eq!(queued.len(), 2, "update 900001 once, 900002 once");
    let Job::HookCall(call) = &queued[0].job else {
        panic!("not a hook call")
    };
    assert_eq!(call.request.payload["message"]["chat"]["id"], -100123);
    assert!(!call
        .request
        .headers
        .contains_key("x-telegram-bot-api-secret-token"));

    for (case, secret) in [("a wrong token", Some("tg_other")), ("no token", None)] {
        let answer = t.send(update(900_003, secret).build()).await;
        assert_eq!(answer.status, 401, "{case}: {}", answer.body);
        assert_eq!(answer.body["error"]["code"], "unauthorized", "{case}");
    }
    assert!(t.drain().await.is_empty());
}

/// A Slack Events API call to the `hk_slack` hook (hmac, slack scheme),
/// signed at `ts` with `secret`, as JSON.
fn slack_event(t: &Ingress, secret: &str, body: &str) -> Call {
    crate::signatures::slack(
        Some(t.now),
        Some(crate::signatures::slack_signature(secret, t.now, body)),
        body,
    )
    .header("content-type", "application/json")
}

#[tokio::test]
async fn slacks_url_verification_is_answered_with_its_challenge_and_never_queued() {
    let t = Ingress::start().await;
    let challenge = r#"{"token":"Jhj5dZrVaK7ZwHHjRyZWjbDl","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","type":"url_verification"}"#;
    /// (what, body, signed with, status, the answer's challenge, queued)
    type Case<'a> = (&'a str, &'a str, &'a str, u16, Option<&'a str>, usize);
    let cases: [Case; 5] = [
        (
            "signed url_verification",
            challenge,
            SLACK_SECRET,
            200,
            Some("3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"),
            0,
        ),
        (
            "url_verification signed with another secret",
            challenge,
            "another-secret",
            401,
            None,
            0,
        ),
        (
            "url_verification without a challenge is an ordinary call",
            r#"{"type":"url_verification"}"#,
            SLACK_SECRET,
            202,
            None,
            1,
        ),
        (
            "an event callback is an ordinary call",
            r#"{"type":"event_callback","event_id":"Ev01","event":{"type":"app_mention"}}"#,
            SLACK_SECRET,
            202,
            None,
            1,
        ),
        (
            "a challenge that is not text is an ordinary call",
            r#"{"type":"url_verification","challenge":7}"#,
            SLACK_SECRET,
            202,
            None,
            1,
        ),
    ];
    for (what, body, secret, status, answer, queued) in cases {
        let got = t.send(slack_event(&t, secret, body).build()).await;
        assert_eq!(got.status, status, "{what}: {}", got.body);
        if let Some(answer) = answer {
            assert_eq!(got.body, json!({"challenge": answer}), "{what}");
        }
        assert_eq!(t.drain().await.len(), queued, "{what}");
    }

    // The same body to a hook of another auth is a call like any other.
    let unsigned = t
        .send(
            Call::post(path("hk_open"))
                .json(challenge.to_owned())
                .build(),
        )
        .await;
    assert_eq!(unsigned.status, 202, "{}", unsigned.body);
    assert_eq!(t.drain().await.len(), 1);
}

#[tokio::test]
async fn a_discord_answers_values_ping_no_one() {
    let t = Ingress::start().await;
    let app = ed25519_dalek::SigningKey::from_bytes(&DISCORD_SEED);
    let command = SLASH_COMMAND.replace("\"ada\"", "\"@everyone <@&5> @here\"");
    let says = t
        .send(interaction(&t, "hk_discordsays", &app, &command).build())
        .await;
    assert_eq!(says.status, 200, "{}", says.body);
    assert_eq!(
        says.body,
        serde_json::json!({"type": 4, "data": {
            "content": "Got it, @\u{200B}everyone <@&5> @\u{200B}here",
            "allowed_mentions": {"parse": []}}})
    );
}

#[tokio::test]
async fn a_discord_interaction_is_deferred_as_its_type_requires() {
    let t = Ingress::start().await;
    let app = ed25519_dalek::SigningKey::from_bytes(&DISCORD_SEED);
    // interaction type, the deferred answer
    let cases = [
        (2, serde_json::json!({"type": 5})),
        (3, serde_json::json!({"type": 6})),
        (4, serde_json::json!({"type": 8, "data": {"choices": []}})),
        (5, serde_json::json!({"type": 5})),
    ];
    for (kind, want) in cases {
        let body = SLASH_COMMAND
            .replacen("\"type\":2", &format!("\"type\":{kind}"), 1)
            .replacen("\"1180\"", &format!("\"118{kind}\""), 1);
        let answer = t
            .send(interaction(&t, "hk_discord", &app, &body).build())
            .await;
        assert_eq!(answer.status, 200, "{kind}: {}", answer.body);
        assert_eq!(answer.body, want, "{kind}");
    }
}

#[tokio::test]
async fn a_replayed_discord_interaction_is_a_duplicate_answered_again_and_marked_as_one() {
    let t = Ingress::start().await;
    let app = ed25519_dalek::SigningKey::from_bytes(&DISCORD_SEED);
    let first = t
        .send(interaction(&t, "hk_discord", &app, SLASH_COMMAND).build())
        .await;
    let again = t
        .send(interaction(&t, "hk_discord", &app, SLASH_COMMAND).build())
        .await;
    assert_eq!(again.status, 200, "{}", again.body);
    assert_eq!(again.body, serde_json::json!({"type": 5}));
    assert_eq!(
        again.header("x-hooklane-event-id"),
        first.header("x-hooklane-event-id")
    );
    assert_eq!(again.header("x-hooklane-duplicate"), Some("true"));
    assert_eq!(first.header("x-hooklane-duplicate"), None);

    // A hook's own response is rendered again, `{event.id}` the first's.
    let says = |t: &Ingress| interaction(t, "hk_discordevent", &app, SLASH_COMMAND).build();
    let first_says = t.send(says(&t)).await;
    let id = first_says.header("x-hooklane-event-id").unwrap();
    let content = json!({"type": 4, "data": {"content": format!("Call {id}"), "allowed_mentions": {"parse": []}}});
    assert_eq!(first_says.body, content);
    let again_says = t.send(says(&t)).await;
    assert_eq!(again_says.status, 200, "{}", again_says.body);
    assert_eq!(again_says.body, content);
    assert_eq!(again_says.header("x-hooklane-event-id"), Some(id));
    assert_eq!(again_says.header("x-hooklane-duplicate"), Some("true"));
    assert_eq!(t.drain().await.len(), 2, "each queued once");
}

//! `hooklane trigger FIXTURE --hook-url URL --secret S`: a sample call, signed
//! the way its sender signs it, so a hook can be checked without the real
//! service. The signatures come from `hooklane_auth::signature::sign`, the
//! same code whose `verify` the ingress runs.

use anyhow::Context as _;
use clap::ValueEnum;
use hooklane_auth::signature::sign;
use hooklane_domain::Scheme;
use serde_json::{json, Value};

use crate::output;

/// The senders `hooklane trigger` can stand in for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Fixture {
    /// A GitHub `push` event, `X-Hub-Signature-256` (hook auth: hmac, scheme github).
    GithubPush,
    /// A Stripe `payment_intent.succeeded` event, `Stripe-Signature` (hmac, stripe).
    StripeEvent,
    /// A Slack slash command (a form), `X-Slack-Signature` (hmac, slack).
    SlackCommand,
    /// A Standard Webhooks `invoice.paid` event, `webhook-signature` (hmac, standard).
    StandardWebhooks,
    /// A Shopify `orders/create` webhook, `X-Shopify-Hmac-Sha256` (hmac, shopify).
    Shopify,
    /// A BotGhost-style call with `variables`, the bot's API key in
    /// `Authorization` (auth api_key: --secret is the bot's API key).
    BotghostVariables,
}

/// One sample request: its body, content type, extra headers and how it is signed.
struct Sample {
    body: Vec<u8>,
    content_type: &'static str,
    headers: Vec<(&'static str, String)>,
    scheme: Option<Scheme>,
}

fn sample(fixture: Fixture, id: &str, now: i64) -> Sample {
    let json_body = |v: Value| v.to_string().into_bytes();
    match fixture {
        Fixture::GithubPush => Sample {
            body: json_body(json!({
                "ref": "refs/heads/main",
                "before": "6113728f27ae82c7b1a177c8d03f9e96e0adf246",
                "after": "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c",
                "repository": {"id": 1296269, "full_name": "octocat/Hello-World", "html_url": "https://github.com/octocat/Hello-World"},
                "pusher": {"name": "octocat", "email": "octocat@github.com"},
                "sender": {"login": "octocat", "id": 1},
                "head_commit": {"id": "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c", "message": "Update README", "author": {"name": "Monalisa Octocat"}},
                "commits": [{"id": "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c", "message": "Update README"}]
            })),
            content_type: "application/json",
            headers: vec![
                ("X-GitHub-Event", "push".into()),
                ("User-Agent", "GitHub-Hookshot/hooklane-trigger".into()),
            ],
            scheme: Some(Scheme::Github),
        },
        Fixture::StripeEvent => Sample {
            body: json_body(json!({
                "id": format!("evt_{id}"),
                "object": "event",
                "api_version": "2024-06-20",
                "created": now,
                "type": "payment_intent.succeeded",
                "livemode": false,
                "data": {"object": {"id": "pi_3MtwBwLkdIwHu7ix28a3tqPa", "object": "payment_intent",
                                    "amount": 2000, "currency": "usd", "status": "succeeded"}}
            })),
            content_type: "application/json",
            headers: vec![],
            scheme: Some(Scheme::Stripe),
        },
        Fixture::SlackCommand => Sample {
            body: form_urlencoded::Serializer::new(String::new())
                .append_pair("token", "gIkuvaNzQIHg97ATvDxqgjtO")
                .append_pair("team_id", "T0001")
                .append_pair("team_domain", "example")
                .append_pair("channel_id", "C2147483705")
                .append_pair("channel_name", "test")
                .append_pair("user_id", "U2147483697")
                .append_pair("user_name", "steve")
                .append_pair("command", "/hooklane")
                .append_pair("text", "status")
                .append_pair("response_url", "https://hooks.slack.com/commands/1234/5678")
                .append_pair("trigger_id", "13345224609.738474920.8088930838d88f008e0")
                .finish()
                .into_bytes(),
            content_type: "application/x-www-form-urlencoded",
            headers: vec![],
            scheme: Some(Scheme::Slack),
        },
        Fixture::StandardWebhooks => Sample {
            body: json_body(json!({
                "type": "invoice.paid",
                "timestamp": time::OffsetDateTime::from_unix_timestamp(now)
                    .ok()
                    .map(hooklane_domain::rfc3339),
                "data": {"invoice_id": "in_1001", "amount": 4200, "currency": "eur"}
            })),
            content_type: "application/json",
            headers: vec![],
            scheme: Some(Scheme::Standard),
        },
        Fixture::Shopify => Sample {
            body: json_body(json!({
                "id": 820982911946154508_u64,
                "email": "jon@example.com",
                "total_price": "403.00",
                "currency": "USD",
                "line_items": [{"title": "IPod Nano - 8GB", "quantity": 1, "price": "199.00"}]
            })),
            content_type: "application/json",
            headers: vec![
                ("X-Shopify-Topic", "orders/create".into()),
                ("X-Shopify-Shop-Domain", "example.myshopify.com".into()),
            ],
            scheme: Some(Scheme::Shopify),
        },
        Fixture::BotghostVariables => Sample {
            body: json_body(json!({
                "variables": [
                    {"name": "User", "variable": "{user}", "value": "steve#0001"},
                    {"name": "Amount", "variable": "{amount}", "value": "12"},
                    {"name": "Server", "variable": "{server}", "value": "Hooklane HQ"}
                ]
            })),
            content_type: "application/json",
            headers: vec![],
            scheme: None,
        },
    }
}

/// Sends `fixture` to `hook_url`, signed with `secret`; prints the answer
/// (`json`: `{"fixture", "status", "body"}`). Errors when the call fails or
/// the hook answers outside 2xx (after printing the answer).
pub async fn run(fixture: Fixture, hook_url: &str, secret: &str, json: bool) -> anyhow::Result<()> {
    let id = ulid::Ulid::new().to_string();
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let s = sample(fixture, &id, now);
    let mut headers = s.headers;
    match s.scheme {
        Some(scheme) => headers.extend(sign(&scheme, secret, &format!("msg_{id}"), &s.body, now)?),
        None => headers.push(("Authorization", secret.to_owned())),
    }
    let mut request = reqwest::Client::new()
        .post(hook_url)
        .header("content-type", s.content_type)
        .body(s.body);
    for (name, value) in headers {
        request = request.header(name, value);
    }
    let response = request
        .send()
        .await
        .with_context(|| format!("calling {hook_url}"))?;
    let status = response.status();
    let text = response.text().await.unwrap_or_default();
    let name = fixture
        .to_possible_value()
        .map(|v| v.get_name().to_owned())
        .unwrap_or_default();
    if json {
        let body = serde_json::from_str::<Value>(&text).unwrap_or(Value::String(text.clone()));
        output::json(&json!({"fixture": name, "status": status.as_u16(), "body": body}));
    } else {
        let word = if status.is_success() { "ok" } else { "error" };
        anstream::println!(
            "{name} → {} {}",
            output::paint(output::status_style(word), status.as_str()),
            text.trim()
        );
    }
    if !status.is_success() {
        anyhow::bail!("the hook answered {status}");
    }
    Ok(())
}

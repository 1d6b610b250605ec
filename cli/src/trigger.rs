//! `hooklane trigger FIXTURE --hook-url URL --secret S`: a sample call, signed
//! the way its sender signs it, so a hook can be checked without the real
//! service. The signatures come from `hooklane_auth::signature` (`sign`,
//! `twilio_sign`, `DiscordSigner`), the code whose checks the ingress runs.

use anyhow::{bail, Context as _};
use clap::ValueEnum;
use hooklane_auth::signature::{
    is_telegram_secret_token, sign, twilio_sign, DiscordSigner, SignatureError,
};
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
    /// A Telegram update (a message), `X-Telegram-Bot-Api-Secret-Token`
    /// (auth telegram: --secret is the hook's secret_token).
    Telegram,
    /// An SMS as Twilio posts it (a form), `X-Twilio-Signature` over the
    /// --hook-url and the fields (hmac, twilio: --secret is the Auth Token).
    Twilio,
    /// A Discord slash command interaction, `X-Signature-Ed25519` (auth
    /// discord: --secret is the 32-byte seed of an Ed25519 private key in
    /// hex; the hook's public_key is its public key, see --print-public-key).
    Discord,
}

/// How a sample is signed.
enum Signing {
    /// A provider's HMAC over the body (`sign`).
    Scheme(Scheme),
    /// The bot's API key in `Authorization`.
    ApiKey,
    /// The hook's secret token in `X-Telegram-Bot-Api-Secret-Token`.
    TelegramToken,
    /// Twilio's HMAC over the URL and the form's fields.
    Twilio,
    /// Discord's Ed25519 signature over the timestamp and the body.
    Discord,
}

/// One sample request: its body, content type, extra headers and how it is signed.
struct Sample {
    body: Vec<u8>,
    content_type: &'static str,
    headers: Vec<(&'static str, String)>,
    signing: Signing,
}

/// A sample of `fixture`; `id` (a ULID) and `n` (random) make each call's
/// ids its own, so a sender's repeat detection never takes one for another.
fn sample(fixture: Fixture, id: &str, n: u64, now: i64) -> Sample {
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
            signing: Signing::Scheme(Scheme::Github),
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
            signing: Signing::Scheme(Scheme::Stripe),
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
            signing: Signing::Scheme(Scheme::Slack),
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
            signing: Signing::Scheme(Scheme::Standard),
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
            signing: Signing::Scheme(Scheme::Shopify),
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
            signing: Signing::ApiKey,
        },
        Fixture::Telegram => Sample {
            // https://core.telegram.org/bots/api#update
            body: json_body(json!({
                "update_id": 100_000_000 + n % 900_000_000,
                "message": {
                    "message_id": 1 + n % 100_000,
                    "date": now,
                    "from": {"id": 111_111_111, "is_bot": false, "first_name": "Ada",
                             "username": "ada_lovelace", "language_code": "en"},
                    "chat": {"id": 111_111_111, "type": "private", "first_name": "Ada",
                             "username": "ada_lovelace"},
                    "text": "/start hello",
                    "entities": [{"offset": 0, "length": 6, "type": "bot_command"}]
                }
            })),
            content_type: "application/json",
            headers: vec![],
            signing: Signing::TelegramToken,
        },
        Fixture::Twilio => {
            // https://www.twilio.com/docs/messaging/guides/webhook-request
            let sid = format!("SM{:032x}", u128::from(n) << 64 | u128::from(now as u64));
            Sample {
                body: form_urlencoded::Serializer::new(String::new())
                    .append_pair("ToCountry", "US")
                    .append_pair("SmsMessageSid", &sid)
                    .append_pair("NumMedia", "0")
                    .append_pair("SmsSid", &sid)
                    .append_pair("SmsStatus", "received")
                    .append_pair("Body", "Hello from Hooklane")
                    .append_pair("FromCountry", "US")
                    .append_pair("To", "+15005550006")
                    .append_pair("NumSegments", "1")
                    .append_pair("MessageSid", &sid)
                    .append_pair("AccountSid", "AC00000000000000000000000000000000")
                    .append_pair("From", "+14155550100")
                    .append_pair("ApiVersion", "2010-04-01")
                    .finish()
                    .into_bytes(),
                content_type: "application/x-www-form-urlencoded",
                headers: vec![
                    ("I-Twilio-Idempotency-Token", id.to_ascii_lowercase()),
                    ("User-Agent", "TwilioProxy/1.1".into()),
                ],
                signing: Signing::Twilio,
            }
        }
        Fixture::Discord => {
            // https://discord.com/developers/docs/interactions/receiving-and-responding#interaction-object
            // A snowflake: milliseconds since Discord's epoch (2015), then 22 bits.
            let snowflake =
                ((now.max(1_420_070_400) - 1_420_070_400) as u64 * 1000) << 22 | (n & 0x3F_FFFF);
            Sample {
                body: json_body(json!({
                    "type": 2,
                    "id": snowflake.to_string(),
                    "application_id": "1180000000000000001",
                    "token": format!("aW50ZXJhY3Rpb246dHJpZ2dlcjo{}", id.to_ascii_lowercase()),
                    "version": 1,
                    "guild_id": "1180000000000000002",
                    "channel_id": "1180000000000000003",
                    "locale": "en-US",
                    "member": {"user": {"id": "1180000000000000004", "username": "ada",
                                        "global_name": "Ada"},
                               "roles": [], "permissions": "0"},
                    "data": {"id": "1180000000000000005", "name": "roll", "type": 1,
                             "options": [{"name": "sides", "type": 4, "value": 20}]}
                })),
                content_type: "application/json",
                headers: vec![(
                    "User-Agent",
                    "Discord-Interactions/1.0 (+https://discord.com)".into(),
                )],
                signing: Signing::Discord,
            }
        }
    }
}

/// The public key of the discord fixture's --secret (the seed of an
/// Ed25519 private key, 64 hex characters): the hook's `public_key`.
///
/// # Errors
/// When --secret is not such a seed (the message does not repeat it).
pub fn discord_public_key(secret: &str) -> anyhow::Result<String> {
    Ok(discord_signer(secret)?.public_key())
}

fn discord_signer(secret: &str) -> anyhow::Result<DiscordSigner> {
    DiscordSigner::from_seed_hex(secret).map_err(|e| {
        // It is the seed that is malformed, not a signature.
        let why = match e {
            SignatureError::Malformed(why) => why,
            other => other.to_string(),
        };
        anyhow::anyhow!(
            "--secret for the discord fixture is the private key's seed, and it is malformed: {why}"
        )
    })
}

/// `--hook-url` as an http(s) URL, as it is called and (Twilio) signed.
fn hook_url_of(given: &str) -> anyhow::Result<reqwest::Url> {
    reqwest::Url::parse(given.trim())
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
        .with_context(|| {
            format!(
                "--hook-url `{given}` is not an http(s) URL: give the hook's url as the admin API answers it, such as http://127.0.0.1:8080/hooks/my-bot/hk_…"
            )
        })
}

/// Sends `fixture` to `hook_url`, signed with `secret`; prints the answer
/// (`json`: `{"fixture", "status", "body"}`). Errors when the call fails or
/// the hook answers outside 2xx (after printing the answer).
pub async fn run(fixture: Fixture, hook_url: &str, secret: &str, json: bool) -> anyhow::Result<()> {
    let url = hook_url_of(hook_url)?;
    let id = ulid::Ulid::new().to_string();
    let n: u64 = rand::random();
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let s = sample(fixture, &id, n, now);
    let mut headers = s.headers;
    let mut public_key = None;
    match s.signing {
        Signing::Scheme(scheme) => {
            headers.extend(sign(&scheme, secret, &format!("msg_{id}"), &s.body, now)?);
        }
        Signing::ApiKey => headers.push(("Authorization", secret.to_owned())),
        Signing::TelegramToken => {
            if !is_telegram_secret_token(secret) {
                bail!("--secret for the telegram fixture is the hook's secret_token: 1 to 256 characters of A-Z, a-z, 0-9, _ and -");
            }
            headers.push(("X-Telegram-Bot-Api-Secret-Token", secret.to_owned()));
        }
        Signing::Twilio => {
            headers.push((
                "X-Twilio-Signature",
                twilio_sign(secret, url.as_str(), &s.body),
            ));
        }
        Signing::Discord => {
            let signer = discord_signer(secret)?;
            headers.extend(signer.sign(&s.body, now));
            public_key = Some(signer.public_key());
        }
    }
    let mut request = reqwest::Client::new()
        .post(url)
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
        let mut answer = json!({"fixture": name, "status": status.as_u16(), "body": body});
        if let Some(key) = &public_key {
            answer["public_key"] = json!(key);
        }
        output::json(&answer);
    } else {
        let word = if status.is_success() { "ok" } else { "error" };
        anstream::println!(
            "{name} → {} {}",
            output::paint(output::status_style(word), status.as_str()),
            text.trim()
        );
    }
    if !status.is_success() {
        if let Some(key) = public_key.filter(|_| status.as_u16() == 401) {
            bail!("the hook answered {status}; a discord hook takes this call when its auth.public_key is {key}, the public key of --secret");
        }
        if fixture == Fixture::Twilio && status.as_u16() == 401 {
            bail!("the hook answered {status}; the twilio signature is over --hook-url, which must be the public URL the hook sees (its url as the admin API answers it, from HOOKLANE_PUBLIC_URL when that is set), query string included, and --secret the account's Auth Token");
        }
        bail!("the hook answered {status}");
    }
    Ok(())
}

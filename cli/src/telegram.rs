//! `hooklane telegram set-webhook`: registers a hook with Telegram, so the
//! bot's updates are posted to it (the Bot API's `setWebhook`, with the
//! hook's secret token and the update types to receive).
//!
//! Telegram's rules: <https://core.telegram.org/bots/api#setwebhook>.

use anyhow::{bail, Context as _};
use hooklane_auth::signature::is_telegram_secret_token;
use hooklane_domain::validate::is_telegram_bot_token;
use serde_json::{json, Value};

/// What `set-webhook` sends.
pub struct SetWebhook {
    /// The bot's token (`123456:ABC…`, from @BotFather); never printed.
    pub bot_token: String,
    /// The hook's URL, as the admin API answers it (`https://…/hooks/{bot}/{hook}`).
    pub hook_url: String,
    /// The hook's `auth.secret_token`, which Telegram then sends in
    /// `X-Telegram-Bot-Api-Secret-Token` with every update.
    pub secret_token: Option<String>,
    /// The update types to receive (`message`, `callback_query`, …), as
    /// given (trimmed, checked and de-duplicated here); left out, Telegram
    /// keeps the previous setting.
    pub allowed_updates: Vec<String>,
    /// Drop the updates waiting to be delivered.
    pub drop_pending_updates: bool,
    /// The Bot API server, `https://api.telegram.org` unless testing.
    pub api_base: String,
}

/// The ports Telegram posts updates to ("Ports currently supported for
/// webhooks: 443, 80, 88, 8443").
const WEBHOOK_PORTS: [u16; 4] = [443, 80, 88, 8443];

/// The update types a bot may receive, the names `allowed_updates` takes:
/// the optional fields of Telegram's `Update`
/// (<https://core.telegram.org/bots/api#update>).
const UPDATE_TYPES: [&str; 23] = [
    "message",
    "edited_message",
    "channel_post",
    "edited_channel_post",
    "business_connection",
    "business_message",
    "edited_business_message",
    "deleted_business_messages",
    "message_reaction",
    "message_reaction_count",
    "inline_query",
    "chosen_inline_result",
    "callback_query",
    "shipping_query",
    "pre_checkout_query",
    "purchased_paid_media",
    "poll",
    "poll_answer",
    "my_chat_member",
    "chat_member",
    "chat_join_request",
    "chat_boost",
    "removed_chat_boost",
];

/// Calls `setWebhook` and answers Telegram's `description` ("Webhook was
/// set").
///
/// # Errors
/// Before any request: a bot token or secret token Telegram would refuse,
/// a hook URL that is not `https` or on a port Telegram does not post to
/// (Telegram's rules), an update type Telegram does not have, an API base
/// that is not an `http(s)` URL. Then a Bot API that cannot be reached
/// (with the cause), or its answer `{"ok": false, "description": …}`. No
/// message repeats the bot token.
pub async fn set_webhook(args: SetWebhook) -> anyhow::Result<String> {
    let token = args.bot_token.trim();
    if !is_telegram_bot_token(token) {
        bail!("--bot-token is not a Telegram bot token (digits, `:`, then letters, digits, `_` or `-`)");
    }
    let url = reqwest::Url::parse(args.hook_url.trim())
        .ok()
        .filter(|u| u.scheme() == "https" && u.host().is_some())
        .with_context(|| {
            format!(
                "--hook-url `{}` is not an https URL (Telegram posts updates to https only): give the hook's url as the admin API answers it, such as https://abc123.execute-api.eu-west-1.amazonaws.com/hooks/my-bot/hk_…",
                args.hook_url
            )
        })?;
    if let Some(port) = url.port().filter(|p| !WEBHOOK_PORTS.contains(p)) {
        bail!(
            "--hook-url `{url}` is on port {port}; Telegram posts updates to ports 443, 80, 88 and 8443 only"
        );
    }
    if url.fragment().is_some() {
        bail!("--hook-url `{url}` has a #fragment, which is never sent to the hook; leave it out");
    }
    if let Some(secret) = &args.secret_token {
        if !is_telegram_secret_token(secret) {
            bail!("--secret-token must be 1 to 256 characters of A-Z, a-z, 0-9, _ and -");
        }
    }
    let allowed_updates = allowed_updates(&args.allowed_updates)?;
    let base = api_base(&args.api_base)?;
    let mut body = json!({"url": url.as_str()});
    if let Some(secret) = &args.secret_token {
        body["secret_token"] = json!(secret);
    }
    if let Some(updates) = allowed_updates {
        body["allowed_updates"] = json!(updates);
    }
    if args.drop_pending_updates {
        body["drop_pending_updates"] = json!(true);
    }
    let endpoint = format!("{base}/bot{token}/setWebhook");
    let answer = reqwest::Client::new()
        .post(&endpoint)
        .json(&body)
        .timeout(std::time::Duration::from_secs(30))
        .send()
        .await
        .map_err(|e| {
            anyhow::anyhow!(
                "the Bot API at {base} did not answer: {}",
                no_answer(e, token)
            )
        })?;
    let status = answer.status();
    let answer: Value = answer.json().await.map_err(|e| {
        anyhow::anyhow!(
            "the Bot API answered {status} with a body that is not JSON: {}",
            e.without_url()
        )
    })?;
    let description = answer["description"]
        .as_str()
        .unwrap_or_default()
        .replace(token, "****");
    if answer["ok"] != json!(true) {
        bail!("Telegram refused the webhook ({status}): {description}");
    }
    Ok(if description.is_empty() {
        "Webhook was set".to_owned()
    } else {
        description
    })
}

/// `--allowed-updates` as sent: each name trimmed, empty ones dropped,
/// each once in the order given; `None` when the option was left out.
///
/// # Errors
/// Naming a name that is not one of [`UPDATE_TYPES`], or a list that names
/// none.
fn allowed_updates(given: &[String]) -> anyhow::Result<Option<Vec<&str>>> {
    if given.is_empty() {
        return Ok(None);
    }
    let mut names: Vec<&str> = Vec::new();
    for name in given.iter().map(|n| n.trim()).filter(|n| !n.is_empty()) {
        if !UPDATE_TYPES.contains(&name) {
            bail!(
                "--allowed-updates: `{name}` is not a Telegram update type; the types are {}",
                UPDATE_TYPES.join(", ")
            );
        }
        if !names.contains(&name) {
            names.push(name);
        }
    }
    if names.is_empty() {
        bail!("--allowed-updates names no update type: give one or more of {} (comma-separated), or leave it out to keep Telegram's current setting", UPDATE_TYPES.join(", "));
    }
    Ok(Some(names))
}

/// Why a request got no answer: the error and each of its causes
/// (connection refused, a name that does not resolve, a timeout), without
/// the URL, which holds `token`; the token is masked wherever else it
/// would appear.
fn no_answer(e: reqwest::Error, token: &str) -> String {
    let e = e.without_url();
    let mut text = e.to_string();
    let mut cause = std::error::Error::source(&e);
    while let Some(c) = cause {
        let said = c.to_string();
        if !text.contains(&said) {
            text = format!("{text}: {said}");
        }
        cause = c.source();
    }
    text.replace(token, "****")
}

/// `--api-base` without its trailing `/`: an `http(s)` URL with a host and
/// neither query nor fragment (the method's path follows it).
///
/// # Errors
/// Naming the option, what it was given and what is expected; a URL
/// without a scheme (`localhost:8081`) in particular.
fn api_base(given: &str) -> anyhow::Result<String> {
    let trimmed = given.trim().trim_end_matches('/');
    let ok = reqwest::Url::parse(trimmed).is_ok_and(|u| {
        matches!(u.scheme(), "http" | "https")
            && u.host().is_some()
            && u.query().is_none()
            && u.fragment().is_none()
    });
    if !ok {
        bail!(
            "--api-base `{given}` (or HOOKLANE_TELEGRAM_API_BASE) is not an http(s) URL: give the Bot API server with its scheme, such as https://api.telegram.org or http://localhost:8081 (a local Bot API server)"
        );
    }
    Ok(trimmed.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_api_base_is_an_http_url_with_a_host() {
        assert_eq!(
            api_base("https://api.telegram.org/").unwrap(),
            "https://api.telegram.org"
        );
        assert_eq!(
            api_base("http://localhost:8081/tg").unwrap(),
            "http://localhost:8081/tg"
        );
        for bad in [
            "localhost:8081",
            "api.telegram.org",
            "ftp://api.telegram.org",
            "http://",
            "https://api.telegram.org/?x=1",
            "",
        ] {
            let e = api_base(bad).unwrap_err().to_string();
            assert!(e.starts_with("--api-base"), "{bad}: {e}");
            assert!(e.contains("http(s)"), "{bad}: {e}");
        }
    }
}

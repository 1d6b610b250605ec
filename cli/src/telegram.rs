//! `hooklane telegram set-webhook`: registers a hook with Telegram, so the
//! bot's updates are posted to it (the Bot API's `setWebhook`, with the
//! hook's secret token and the update types to receive).
//!
//! Telegram's rules: <https://core.telegram.org/bots/api#setwebhook>.

use anyhow::{bail, Context as _};
use hooklane_auth::signature::is_telegram_secret_token;
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
    /// The update types to receive (`message`, `callback_query`, …); left
    /// out, Telegram keeps the previous setting.
    pub allowed_updates: Vec<String>,
    /// Drop the updates waiting to be delivered.
    pub drop_pending_updates: bool,
    /// The Bot API server, `https://api.telegram.org` unless testing.
    pub api_base: String,
}

/// Calls `setWebhook` and answers Telegram's `description` ("Webhook was
/// set").
///
/// # Errors
/// A bot token or secret token Telegram would refuse, a hook URL that is
/// not `https` (Telegram's rule), a Bot API that cannot be reached, or its
/// answer `{"ok": false, "description": …}`. No message repeats the bot token.
pub async fn set_webhook(args: SetWebhook) -> anyhow::Result<String> {
    let token = args.bot_token.trim();
    if token.is_empty()
        || !token
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, ':' | '_' | '-'))
    {
        bail!("--bot-token is not a Telegram bot token (digits, `:`, then letters, digits, `_` or `-`)");
    }
    let url = reqwest::Url::parse(args.hook_url.trim())
        .ok()
        .filter(|u| u.scheme() == "https")
        .with_context(|| {
            format!(
                "--hook-url `{}` is not an https URL (Telegram posts updates to https only)",
                args.hook_url
            )
        })?;
    if let Some(secret) = &args.secret_token {
        if !is_telegram_secret_token(secret) {
            bail!("--secret-token must be 1 to 256 characters of A-Z, a-z, 0-9, _ and -");
        }
    }
    let mut body = json!({"url": url.as_str()});
    if let Some(secret) = &args.secret_token {
        body["secret_token"] = json!(secret);
    }
    if !args.allowed_updates.is_empty() {
        body["allowed_updates"] = json!(args.allowed_updates);
    }
    if args.drop_pending_updates {
        body["drop_pending_updates"] = json!(true);
    }
    let base = args.api_base.trim_end_matches('/');
    let endpoint = format!("{base}/bot{token}/setWebhook");
    let answer = reqwest::Client::new()
        .post(&endpoint)
        .json(&body)
        .timeout(std::time::Duration::from_secs(30))
        .send()
        .await
        // The error would name the URL, and the URL holds the token.
        .map_err(|e| {
            anyhow::anyhow!("the Bot API at {base} did not answer: {}", e.without_url())
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

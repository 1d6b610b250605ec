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

/// The ports Telegram posts updates to ("Ports currently supported for
/// webhooks: 443, 80, 88, 8443").
const WEBHOOK_PORTS: [u16; 4] = [443, 80, 88, 8443];

/// Calls `setWebhook` and answers Telegram's `description` ("Webhook was
/// set").
///
/// # Errors
/// Before any request: a bot token or secret token Telegram would refuse,
/// a hook URL that is not `https` or on a port Telegram does not post to
/// (Telegram's rules), an API base that is not an `http(s)` URL. Then a
/// Bot API that cannot be reached, or its answer `{"ok": false,
/// "description": …}`. No message repeats the bot token.
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
    let base = api_base(&args.api_base)?;
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

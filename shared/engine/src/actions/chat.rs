//! The chat actions: `discord_message` and `slack_message` (a POST to the
//! channel's webhook URL), `discord_followup` (an answer to the
//! interaction that started the run) and `telegram_message` (the Bot API's
//! `sendMessage`), each fitted to its platform's limits first and sent no
//! faster than its platform's published rate for the target ([`keep_rate`]).

use std::time::Duration;

use hooklane_domain::validate::is_telegram_bot_token;
use hooklane_domain::{BotId, RateLimit};
use hooklane_runtime::Services;
use serde_json::{json, Map, Value};

use super::http::{send, with_idempotency_key};
use super::state::{ActionError, ActionResultOf, RunState};
use crate::mask::{mask_secret, mask_url, mask_webhook_url, MASK};
use crate::platforms::{cut, discord, escape, slack, telegram, Cuts};
use crate::throttle;

/// The fields of a `discord_message` besides its webhook URL, as the
/// hook holds them (templates).
pub(super) struct DiscordMessage<'a> {
    pub content: Option<&'a str>,
    pub embeds: Option<&'a [Value]>,
    pub username: Option<&'a str>,
    pub allowed_mentions: Option<&'a Value>,
}

/// `discord_message`: the message ([`discord_body`]) POSTed to the
/// webhook URL. Fails when neither content nor embeds are left.
pub(super) async fn discord(
    svc: &Services,
    state: &mut RunState,
    webhook_url: &str,
    message: DiscordMessage<'_>,
) -> ActionResultOf {
    let url = state.target(webhook_url, "webhook URL")?;
    let (body, cuts) = discord_body(state, &message)?;
    let paced = keep_rate(svc, state, "discord", &url, throttle::DISCORD).await;
    post_to_webhook(svc, state, &url, &Value::Object(body), cuts, &paced).await
}

/// What a `discord_followup` does besides its message.
pub(super) struct Followup {
    /// Only the user who interacted sees the message (flag 64).
    pub ephemeral: bool,
    /// Replace the deferred answer instead of posting a new message.
    pub edit_original: bool,
}

/// `discord_followup`: the message built as for `discord_message` (no
/// `username`), sent to the interaction's webhook on Discord's API
/// ([`Settings::discord_api_base`](hooklane_runtime::config::Settings)):
/// `POST /webhooks/{application_id}/{token}` (with `flags: 64` when
/// ephemeral), or `PATCH …/messages/@original` to edit the deferred answer.
/// `application_id` and `token` come from the call's payload (a Discord
/// interaction); the token is masked in the run log. Fails for good when
/// the payload has none, and when the interaction's token has expired
/// (Discord answers 401 or 404 after 15 minutes).
pub(super) async fn discord_followup(
    svc: &Services,
    state: &mut RunState,
    message: DiscordMessage<'_>,
    followup: Followup,
) -> ActionResultOf {
    let payload = state.tpl.root.get("payload");
    let field = |name: &str| {
        payload
            .and_then(|p| p.get(name))
            .and_then(|v| match v {
                Value::String(s) => Some(s.clone()),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            })
            .filter(|s| !s.is_empty())
    };
    let (Some(application_id), Some(token)) = (field("application_id"), field("token")) else {
        return Err(ActionError::permanent(
            "discord_followup answers a Discord interaction: the call's payload has no application_id and token (call the hook from Discord, with discord auth)",
        ));
    };
    state.secrets.add(&token);
    if !application_id.bytes().all(|b| b.is_ascii_digit())
        || !token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
    {
        return Err(ActionError::permanent(
            "the interaction's application_id or token is not in Discord's format",
        ));
    }
    let (mut body, cuts) = discord_body(state, &message)?;
    let base = &svc.settings.discord_api_base;
    let (method, url, shown) = if followup.edit_original {
        (
            reqwest::Method::PATCH,
            format!("{base}/webhooks/{application_id}/{token}/messages/@original"),
            format!("{base}/webhooks/{application_id}/{MASK}/messages/@original"),
        )
    } else {
        if followup.ephemeral {
            body.insert("flags".into(), json!(discord::EPHEMERAL));
        }
        (
            reqwest::Method::POST,
            format!("{base}/webhooks/{application_id}/{token}"),
            format!("{base}/webhooks/{application_id}/{MASK}"),
        )
    };
    let paced = keep_rate(svc, state, "discord", &url, throttle::DISCORD).await;
    let req = svc
        .outbound
        .request(method, &url)
        .map_err(ActionError::target)?
        .json(&Value::Object(body));
    let req = with_idempotency_key(req, state);
    send(
        svc,
        state,
        req,
        sent_to(&mask_url(&shown), &paced),
        Some(cuts),
        Some(&paced),
    )
    .await
    .map_err(|mut e| {
        e.reason = mask_secret(&e.reason, &token);
        e
    })
}

/// A Discord message body: `content` (cut to [`discord::CONTENT`]; an
/// empty one is left out), `embeds` (fitted by [`discord::fit_embeds`];
/// in both, substituted values have `@everyone`/`@here` neutralised by
/// [`escape::discord`]),
/// `username` (left out, with a note, when it renders to a name Discord
/// refuses) and `allowed_mentions` (the action's own, or
/// [`discord::default_allowed_mentions`] of the content template). Fails
/// when neither content nor embeds are left.
fn discord_body(
    state: &mut RunState,
    message: &DiscordMessage<'_>,
) -> Result<(Map<String, Value>, Cuts), ActionError> {
    let mut cuts = Cuts::default();
    let mut body = Map::new();
    if let Some(content) = message.content {
        let (text, was_cut) = cut(
            &state.text_escaped(content, &|_, v| escape::discord(v)),
            discord::CONTENT,
        );
        if was_cut {
            cuts.0
                .push(format!("content cut to {} characters", discord::CONTENT));
        }
        // Discord refuses an empty `content`; embeds alone are fine.
        if !text.is_empty() {
            body.insert("content".into(), Value::String(text));
        }
    }
    if let Some(embeds) = message.embeds {
        let rendered: Vec<Value> = embeds
            .iter()
            .map(|e| state.json_escaped(e, &escape::discord_field))
            .collect();
        body.insert(
            "embeds".into(),
            Value::Array(discord::fit_embeds(rendered, &mut cuts)),
        );
    }
    if let Some(username) = message.username {
        let (name, unknown) = state.text_and_unknown(username);
        let (name, was_cut) = cut(name.trim(), discord::USERNAME);
        let problem = match unknown.first() {
            Some(_) => Some("holds a placeholder that was not found"),
            None => discord::username_problem(&name),
        };
        match problem {
            // Discord refuses the whole message for a bad name: the
            // webhook's own name is used instead.
            Some(problem) => cuts.0.push(format!(
                "username left out: it rendered to a name that {problem}"
            )),
            None => {
                if was_cut {
                    cuts.0
                        .push(format!("username cut to {} characters", discord::USERNAME));
                }
                body.insert("username".into(), Value::String(name));
            }
        }
    }
    let mentions = match message.allowed_mentions {
        Some(own) => own.clone(),
        None => discord::default_allowed_mentions(message.content.unwrap_or_default()),
    };
    body.insert("allowed_mentions".into(), mentions);
    if body.get("content").is_none()
        && body
            .get("embeds")
            .is_none_or(|e| e.as_array().is_none_or(Vec::is_empty))
    {
        return Err(ActionError::permanent(
            "the Discord message has neither content nor embeds",
        ));
    }
    Ok((body, cuts))
}

/// `slack_message`: `text` (cut to [`slack::TEXT`]) and `blocks` (fitted by
/// [`slack::fit_blocks`]), rendered and POSTed to the webhook URL. Values
/// substituted into `text` and into the blocks' `text` fields are escaped
/// ([`escape::slack`]), so they cannot make links or mentions.
pub(super) async fn slack(
    svc: &Services,
    state: &mut RunState,
    webhook_url: &str,
    text: &str,
    blocks: Option<&[Value]>,
) -> ActionResultOf {
    let url = state.target(webhook_url, "webhook URL")?;
    let mut cuts = Cuts::default();
    let (text, was_cut) = cut(
        &state.text_escaped(text, &|_, v| escape::slack(v)),
        slack::TEXT,
    );
    if was_cut {
        cuts.0
            .push(format!("text cut to {} characters", slack::TEXT));
    }
    let mut body = json!({ "text": text });
    if let Some(blocks) = blocks {
        let in_text = |key: Option<&str>, v: &str| match key {
            Some("text") => escape::slack(v),
            _ => v.to_owned(),
        };
        let rendered: Vec<Value> = blocks
            .iter()
            .map(|b| state.json_escaped(b, &in_text))
            .collect();
        body["blocks"] = Value::Array(slack::fit_blocks(rendered, &mut cuts));
    }
    let paced = keep_rate(svc, state, "slack", &url, throttle::SLACK).await;
    post_to_webhook(svc, state, &url, &body, cuts, &paced).await
}

/// `telegram_message`: `sendMessage` with the rendered `chat_id` (a
/// placeholder not found fails the action), `text` with its substituted
/// values escaped for its `parse_mode` ([`escape::telegram`]) and fitted by
/// [`telegram::fit_text`]. The bot token never reaches
/// the run log.
pub(super) async fn telegram(
    svc: &Services,
    state: &mut RunState,
    bot_token: &str,
    chat_id: &Value,
    text: &str,
    parse_mode: Option<&str>,
) -> ActionResultOf {
    let token = state.target(bot_token, "bot token")?;
    // `{id}:{secret}`; anything else would also change the path it goes into.
    if !is_telegram_bot_token(&token) {
        return Err(ActionError::permanent(
                    "the bot token is not a Telegram bot token (digits, `:`, then letters, digits, `_` or `-`)",
                ));
    }
    let base = &svc.settings.telegram_api_base;
    let url = format!("{base}/bot{token}/sendMessage");
    let shown = mask_url(&format!("{base}/bot{MASK}/sendMessage"));
    let mut cuts = Cuts::default();
    let parse_mode = parse_mode.as_ref().map(|m| state.text(m));
    let mode = parse_mode.clone();
    let text = state.text_escaped(text, &|_, v| escape::telegram(mode.as_deref(), v));
    let (text, parse_mode) = telegram::fit_text(&text, parse_mode, &mut cuts);
    let chat_id = state.complete_json(chat_id, "chat_id")?;
    let mut body = json!({ "chat_id": chat_id, "text": text });
    if let Some(mode) = parse_mode {
        body["parse_mode"] = Value::String(mode);
    }
    let chat = format!("{token}\n{chat_id}");
    let paced = keep_rate(
        svc,
        state,
        "telegram",
        &chat,
        throttle::telegram_rate(&chat_id),
    )
    .await;
    let req = svc
        .outbound
        .request(reqwest::Method::POST, &url)
        .map_err(ActionError::target)?
        .json(&body);
    let req = with_idempotency_key(req, state);
    send(
        svc,
        state,
        req,
        sent_to(&shown, &paced),
        Some(cuts),
        Some(&paced),
    )
    .await
    .map_err(|mut e| {
        e.reason = mask_secret(&e.reason, &token);
        e
    })
}

/// POSTs a chat message body to a Discord or Slack webhook URL, with the
/// action's idempotency key; the run log shows the URL with its token masked.
async fn post_to_webhook(
    svc: &Services,
    state: &RunState,
    url: &str,
    body: &Value,
    cuts: Cuts,
    paced: &Paced,
) -> ActionResultOf {
    let req = svc
        .outbound
        .request(reqwest::Method::POST, url)
        .map_err(ActionError::target)?
        .json(body);
    let req = with_idempotency_key(req, state);
    send(
        svc,
        state,
        req,
        sent_to(&mask_webhook_url(url), paced),
        Some(cuts),
        Some(paced),
    )
    .await
}

/// The longest a chat action waits for its turn under its target's rate;
/// past it the message is sent anyway (a 429 is then waited out as usual).
pub const MAX_CHAT_WAIT: Duration = Duration::from_secs(30);

/// A chat target whose rate a send keeps: a 429 from it slows it down for
/// every run, in every dispatcher ([`throttle::slow_down`]).
pub(super) struct Paced {
    /// The bot sending.
    pub bot: BotId,
    /// The counted target ([`throttle::chat_target`]).
    pub target: String,
    /// Its platform's rate.
    pub rate: RateLimit,
    /// The milliseconds this send waited for its turn, if any.
    pub waited_ms: Option<u64>,
}

/// Waits for this message's turn under `rate` at the chat target `address`
/// (a webhook URL, or a bot token and chat id; only its digest is stored),
/// at most [`MAX_CHAT_WAIT`]; answers the target with the milliseconds
/// waited, if any. A store that cannot count does not hold the message back.
async fn keep_rate(
    svc: &Services,
    state: &RunState,
    platform: &str,
    address: &str,
    rate: RateLimit,
) -> Paced {
    let target = throttle::chat_target(platform, address);
    let mut waited = Duration::ZERO;
    // Each turn is counted in its own window, as a delivery sent again is.
    while waited < MAX_CHAT_WAIT {
        match throttle::acquire(svc, &state.bot_id, &target, Some(rate), svc.now()).await {
            Ok(Some(wait)) => {
                let wait = wait.min(MAX_CHAT_WAIT - waited);
                tokio::time::sleep(wait).await;
                waited += wait;
            }
            Ok(None) => break,
            Err(e) => {
                tracing::warn!(error.message = %e, "the chat target's rate could not be counted; sent without waiting");
                break;
            }
        }
    }
    Paced {
        bot: state.bot_id.clone(),
        target,
        rate,
        waited_ms: (!waited.is_zero()).then_some(waited.as_millis() as u64),
    }
}

/// A chat action's detail before its answer: the masked `url`, and
/// `throttled_wait_ms` when it waited for its turn.
fn sent_to(shown: &str, paced: &Paced) -> Value {
    let mut detail = json!({ "url": shown });
    if let Some(ms) = paced.waited_ms {
        detail["throttled_wait_ms"] = json!(ms);
    }
    detail
}

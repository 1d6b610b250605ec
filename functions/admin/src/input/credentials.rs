//! Credentials in what the admin API reads back, and the keep-rule of a
//! PATCH that sends them back masked.
//!
//! Masked forms (`****` is [`MASK`]):
//! - `telegram_message` `bot_token`: `123456:****` (the bot id stays);
//! - `discord_message`/`slack_message` `webhook_url`: the last path segment,
//!   `https://discord.com/api/webhooks/123/****`;
//! - `http_request` `url` and an endpoint's `url`: the password, query
//!   values whose name looks secret, Telegram `bot…` segments and Discord
//!   webhook tokens (`https://user:****@crm.example/x?api_key=****`);
//! - header values (an action's or an endpoint's) whose name looks secret
//!   (see [`is_sensitive_key`]): `****`, or `Bearer ****` keeping the scheme.
//!
//! A value that holds a placeholder is shown as written (its credential
//! lives elsewhere), with credential-shaped text masked. Keep-rule: a PATCH
//! field equal to the masked form of the value stored at the same place
//! (same action position and type, same header name) keeps the stored
//! value; any other value replaces it.

use hooklane_engine::mask::{is_sensitive_key, mask_patterns, mask_url, mask_webhook_url, MASK};
use serde_json::{Map, Value};

/// True when `s` holds a placeholder (`{name}`).
pub(super) fn has_placeholder(s: &str) -> bool {
    s.char_indices().filter(|(_, c)| *c == '{').any(|(i, _)| {
        s[i..]
            .find('}')
            .is_some_and(|end| hooklane_template::is_placeholder(&s[i..=i + end]))
    })
}

/// The kinds of credential field, each with its masked form.
#[derive(Clone, Copy)]
enum Kind {
    BotToken,
    WebhookUrl,
    Url,
}

fn mask_field(kind: Kind, raw: &str) -> String {
    if has_placeholder(raw) {
        return mask_patterns(raw);
    }
    match kind {
        Kind::BotToken => match raw.split_once(':') {
            Some((id, _)) if !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()) => {
                format!("{id}:{MASK}")
            }
            _ => MASK.to_owned(),
        },
        Kind::WebhookUrl => mask_webhook_url(raw),
        Kind::Url => mask_url(raw),
    }
}

/// A header value as the admin API shows it: masked when the header's name
/// looks secret (`Bearer ****` keeps the scheme), as it is otherwise.
fn mask_header(name: &str, value: &Value) -> Value {
    if !is_sensitive_key(name) {
        return value.clone();
    }
    let text = match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let masked = match text.trim().split_once(' ') {
        Some((scheme, cred)) if !cred.trim().is_empty() => {
            if hooklane_template::is_placeholder(cred.trim()) {
                text.clone()
            } else {
                format!("{scheme} {MASK}")
            }
        }
        _ if hooklane_template::is_placeholder(text.trim()) => text.clone(),
        _ => MASK.to_owned(),
    };
    Value::String(masked)
}

/// Headers with their credential values masked (see [`mask_header`]).
pub fn mask_headers(headers: &Map<String, Value>) -> Map<String, Value> {
    headers
        .iter()
        .map(|(k, v)| (k.clone(), mask_header(k, v)))
        .collect()
}

/// The credential fields of an action type.
fn fields_of(kind: &str) -> &'static [(&'static str, Kind)] {
    match kind {
        "telegram_message" => &[("bot_token", Kind::BotToken)],
        "discord_message" | "slack_message" => &[("webhook_url", Kind::WebhookUrl)],
        "http_request" => &[("url", Kind::Url)],
        _ => &[],
    }
}

/// A hook's `actions` (as serialized) with every credential masked,
/// conditions' branches included.
pub fn mask_actions(actions: &Value) -> Value {
    let Value::Array(items) = actions else {
        return actions.clone();
    };
    Value::Array(items.iter().map(mask_action).collect())
}

fn mask_action(action: &Value) -> Value {
    let mut out = action.clone();
    let Value::Object(obj) = &mut out else {
        return out;
    };
    let kind = obj
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    for (field, k) in fields_of(&kind) {
        if let Some(Value::String(s)) = obj.get_mut(*field) {
            *s = mask_field(*k, s);
        }
    }
    if let Some(Value::Object(headers)) = obj.get_mut("headers") {
        *headers = mask_headers(headers);
    }
    for branch in ["then", "else"] {
        if let Some(list) = obj.get_mut(branch) {
            *list = mask_actions(list);
        }
    }
    out
}

/// Applies the keep-rule to a PATCH's `actions` against the stored ones
/// (as serialized): a credential field or header sent back in its masked
/// form gets the stored value again.
pub fn keep_masked_actions(sent: &mut Value, stored: &Value) {
    let (Value::Array(sent), Value::Array(stored)) = (sent, stored) else {
        return;
    };
    for (new, old) in sent.iter_mut().zip(stored) {
        let (Value::Object(new), Value::Object(old)) = (new, old) else {
            continue;
        };
        let kind = old.get("type").and_then(Value::as_str).unwrap_or_default();
        if new.get("type").and_then(Value::as_str) != Some(kind) {
            continue;
        }
        for (field, k) in fields_of(kind) {
            if let (Some(Value::String(n)), Some(Value::String(o))) =
                (new.get(*field), old.get(*field))
            {
                if *n == mask_field(*k, o) {
                    new.insert((*field).to_owned(), Value::String(o.clone()));
                }
            }
        }
        if let (Some(Value::Object(n)), Some(Value::Object(o))) =
            (new.get_mut("headers"), old.get("headers"))
        {
            keep_masked_headers(n, o);
        }
        for branch in ["then", "else"] {
            if let (Some(n), Some(o)) = (new.get_mut(branch), old.get(branch)) {
                keep_masked_actions(n, o);
            }
        }
    }
}

/// Applies the keep-rule to headers: a value equal to the masked form of
/// the stored value of the same header (names compared without case) gets
/// the stored value again.
pub fn keep_masked_headers(sent: &mut Map<String, Value>, stored: &Map<String, Value>) {
    for (name, value) in sent.iter_mut() {
        let old = stored.iter().find(|(k, _)| k.eq_ignore_ascii_case(name));
        if let Some((_, old)) = old {
            if *value == mask_header(name, old) {
                *value = old.clone();
            }
        }
    }
}

/// An endpoint URL as the admin API shows it (see [`mask_url`]).
pub fn mask_endpoint_url(url: &str) -> String {
    mask_field(Kind::Url, url)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn credentials_read_back_masked_and_the_masked_form_keeps_the_stored_value() {
        let stored = json!([
            {"type": "telegram_message", "bot_token": "123456:AAHsecret", "chat_id": 1, "text": "x"},
            {"type": "telegram_message", "bot_token": "{var.tg}", "chat_id": 1, "text": "x"},
            {"type": "discord_message", "webhook_url": "https://discord.com/api/webhooks/1/DiscordTok", "content": "x"},
            {"type": "slack_message", "webhook_url": "https://hooks.slack.com/services/T1/B2/SlackTok", "text": "x"},
            {"type": "http_request", "url": "https://user:pw123456@crm.example/x?api_key=k123456&page=2",
             "headers": {"Authorization": "Bearer sk_live_1", "X-Api-Key": "abc123", "X-Team": "ops",
                         "X-Token": "{var.token}", "Authorization-2": "Bearer {var.t}"}},
            {"type": "condition", "if": {"left": 1, "op": "==", "right": 1},
             "then": [{"type": "discord_message", "webhook_url": "https://discord.com/api/webhooks/2/Tok2", "content": "x"}],
             "else": []},
        ]);
        let masked = mask_actions(&stored);
        assert_eq!(
            masked,
            json!([
                {"type": "telegram_message", "bot_token": "123456:****", "chat_id": 1, "text": "x"},
                {"type": "telegram_message", "bot_token": "{var.tg}", "chat_id": 1, "text": "x"},
                {"type": "discord_message", "webhook_url": "https://discord.com/api/webhooks/1/****", "content": "x"},
                {"type": "slack_message", "webhook_url": "https://hooks.slack.com/services/T1/B2/****", "text": "x"},
                {"type": "http_request", "url": "https://user:****@crm.example/x?api_key=****&page=2",
                 "headers": {"Authorization": "Bearer ****", "X-Api-Key": "****", "X-Team": "ops",
                             "X-Token": "{var.token}", "Authorization-2": "Bearer {var.t}"}},
                {"type": "condition", "if": {"left": 1, "op": "==", "right": 1},
                 "then": [{"type": "discord_message", "webhook_url": "https://discord.com/api/webhooks/2/****", "content": "x"}],
                 "else": []},
            ])
        );
        // Sent back as read: every credential is kept.
        let mut sent = masked.clone();
        keep_masked_actions(&mut sent, &stored);
        assert_eq!(sent, stored);
        // A changed value replaces the stored one; a masked form at another
        // place (another type at that position) is not a keep.
        let mut sent = masked.clone();
        sent[0]["bot_token"] = json!("654321:NewToken");
        sent[4]["headers"]["x-api-key"] = json!("****");
        sent[4]["headers"]["Authorization"] = json!("Bearer new-token");
        sent[2]["type"] = json!("slack_message");
        keep_masked_actions(&mut sent, &stored);
        assert_eq!(sent[0]["bot_token"], "654321:NewToken");
        assert_eq!(sent[4]["headers"]["Authorization"], "Bearer new-token");
        assert_eq!(sent[4]["headers"]["x-api-key"], "abc123");
        assert_eq!(
            sent[2]["webhook_url"],
            "https://discord.com/api/webhooks/1/****"
        );
        assert_eq!(
            sent[5]["then"][0]["webhook_url"],
            stored[5]["then"][0]["webhook_url"]
        );
    }
}

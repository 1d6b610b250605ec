//! Credentials in what the admin API reads back, and the keep-rule of a
//! PATCH that sends them back masked.
//!
//! Masked forms (`****` is [`MASK`]):
//! - `telegram_message` `bot_token`: `123456:****` (the bot id stays);
//! - `discord_message`/`slack_message` `webhook_url` and a `slack`
//!   endpoint's `url`: the last path segment, whatever the host,
//!   `https://discord.com/api/webhooks/123/****`;
//! - `http_request` `url` and another endpoint's `url`: the password, query
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
//!
//! Host rule: a stored credential is kept only while it still goes to the
//! same origin (scheme, host and port) — an `http_request`'s or an
//! endpoint's `url`, a chat message's `webhook_url`. An update that moves
//! the target to another origin and sends a credential back masked (or, for
//! an endpoint, leaves its credential headers out) is refused: kept, the
//! credential would go to whoever controls the new host. A Telegram
//! `bot_token` always goes to the installation's Telegram API base, so it
//! has no per-action target.

use hooklane_domain::EndpointType;
use hooklane_engine::mask::{is_sensitive_key, mask_patterns, mask_url, mask_webhook_url, MASK};
use hooklane_web::{ApiError, ErrorCode};
use serde_json::{Map, Value};

use super::fields::invalid;

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

/// The field of an action type whose URL its credentials are sent to;
/// `None` for a type whose target is fixed by the installation (Telegram's
/// API base) or that carries no credential.
fn target_of(kind: &str) -> Option<&'static str> {
    match kind {
        "http_request" => Some("url"),
        "discord_message" | "slack_message" => Some("webhook_url"),
        _ => None,
    }
}

/// The origin of a target URL, the part a credential's recipient depends
/// on: `scheme://host:port` (the port the scheme implies when none is
/// written), case and default port normalized. When the scheme or host is
/// templated, or the URL does not parse, its text up to the path as
/// written (the whole text when it has no `://`).
fn origin(url: &str) -> String {
    let url = url.trim();
    let head_end = url.find("://").map_or(url.len(), |s| {
        let rest = &url[s + 3..];
        s + 3 + rest.find(['/', '?', '#']).unwrap_or(rest.len())
    });
    let head = &url[..head_end];
    if !has_placeholder(head) {
        if let Ok(u) = url::Url::parse(url) {
            if let Some(host) = u.host_str() {
                let port = u
                    .port_or_known_default()
                    .map(|p| p.to_string())
                    .unwrap_or_default();
                return format!("{}://{host}:{port}", u.scheme());
            }
        }
    }
    head.to_owned()
}

/// True when `new` and `old` are both text with the same [`origin`].
fn same_origin(new: Option<&Value>, old: Option<&Value>) -> bool {
    match (new.and_then(Value::as_str), old.and_then(Value::as_str)) {
        (Some(n), Some(o)) => origin(n) == origin(o),
        _ => false,
    }
}

/// The refusal of a credential kept for another host: `field` (its path)
/// was sent back masked while `target` (its path) moved to another origin.
fn moved_credential(code: ErrorCode, field: &str, target: &str) -> ApiError {
    invalid(
        code,
        format!(
            "`{field}` is a stored credential sent back masked, and `{target}` now goes to another host (scheme, host or port): the stored credential is kept only for the same host; send the credential again when changing the host"
        ),
    )
}

/// Applies the keep-rule to a PATCH's `actions` against the stored ones
/// (as serialized): a credential field or header sent back in its masked
/// form gets the stored value again, as long as the action's target keeps
/// its origin (the host rule, see the module's documentation).
///
/// # Errors
/// 400 `invalid_action` naming the header (`actions[0].headers.Authorization`)
/// sent back masked while its action's target moved to another origin.
pub fn keep_masked_actions(sent: &mut Value, stored: &Value) -> Result<(), ApiError> {
    keep_masked_actions_at(sent, stored, "actions")
}

fn keep_masked_actions_at(sent: &mut Value, stored: &Value, at: &str) -> Result<(), ApiError> {
    let (Value::Array(sent), Value::Array(stored)) = (sent, stored) else {
        return Ok(());
    };
    for (i, (new, old)) in sent.iter_mut().zip(stored).enumerate() {
        let at = format!("{at}[{i}]");
        let (Value::Object(new), Value::Object(old)) = (new, old) else {
            continue;
        };
        let kind = old.get("type").and_then(Value::as_str).unwrap_or_default();
        if new.get("type").and_then(Value::as_str) != Some(kind) {
            continue;
        }
        // A masked URL is kept whole, so keeping it keeps its origin.
        for (field, k) in fields_of(kind) {
            if let (Some(Value::String(n)), Some(Value::String(o))) =
                (new.get(*field), old.get(*field))
            {
                if *n == mask_field(*k, o) {
                    new.insert((*field).to_owned(), Value::String(o.clone()));
                }
            }
        }
        let target = target_of(kind);
        let same_target = target.is_none_or(|t| same_origin(new.get(t), old.get(t)));
        if let (Some(Value::Object(n)), Some(Value::Object(o))) =
            (new.get_mut("headers"), old.get("headers"))
        {
            if let Err(name) = keep_masked_headers(n, o, same_target) {
                return Err(moved_credential(
                    ErrorCode::InvalidAction,
                    &format!("{at}.headers.{name}"),
                    &format!("{at}.{}", target.unwrap_or("url")),
                ));
            }
        }
        for branch in ["then", "else"] {
            if let (Some(n), Some(o)) = (new.get_mut(branch), old.get(branch)) {
                keep_masked_actions_at(n, o, &format!("{at}.{branch}"))?;
            }
        }
    }
    Ok(())
}

/// Applies the keep-rule to headers: a value equal to the masked form of
/// the stored value of the same header (names compared without case) gets
/// the stored value again. With `same_target` false (the headers' target
/// moved to another origin) nothing is kept, and the first header sent
/// back masked is answered as `Err(its name)`.
fn keep_masked_headers(
    sent: &mut Map<String, Value>,
    stored: &Map<String, Value>,
    same_target: bool,
) -> Result<(), String> {
    for (name, value) in sent.iter_mut() {
        let old = stored.iter().find(|(k, _)| k.eq_ignore_ascii_case(name));
        if let Some((_, old)) = old {
            let masked = mask_header(name, old);
            if *value == masked && masked != *old {
                if !same_target {
                    return Err(name.clone());
                }
                *value = old.clone();
            }
        }
    }
    Ok(())
}

/// Applies the keep-rule to an endpoint PATCH against the stored endpoint's
/// `kind`, `url` and `headers`: a `url` sent back masked (as the stored
/// type shows it) is the stored one again; a credential header sent back
/// masked is kept while the URL keeps its origin (the host rule, see the
/// module's documentation).
///
/// # Errors
/// 400 `invalid_endpoint` naming the header when `url` moves to another
/// origin and a stored credential header would be kept: sent back masked,
/// or left out with `headers` (a PATCH keeps the fields it leaves out).
pub fn keep_masked_endpoint(
    patch: &mut Value,
    kind: EndpointType,
    url: &str,
    headers: &Map<String, Value>,
) -> Result<(), ApiError> {
    let Value::Object(patch) = patch else {
        return Ok(());
    };
    if patch.get("url").and_then(Value::as_str) == Some(mask_endpoint_url(kind, url).as_str()) {
        patch.insert("url".to_owned(), Value::String(url.to_owned()));
    }
    let stored_url = Value::String(url.to_owned());
    let same_target = match patch.get("url") {
        None | Some(Value::Null) => true,
        new => same_origin(new, Some(&stored_url)),
    };
    match patch.get_mut("headers") {
        Some(Value::Object(sent)) => keep_masked_headers(sent, headers, same_target)
            .map_err(|name| {
                moved_credential(ErrorCode::InvalidEndpoint, &format!("headers.{name}"), "url")
            }),
        None if !same_target => {
            match headers.iter().find(|(k, v)| mask_header(k, v) != **v) {
                Some((name, _)) => Err(invalid(
                    ErrorCode::InvalidEndpoint,
                    format!(
                        "`headers.{name}` holds a stored credential, and `url` now goes to another host (scheme, host or port): the stored credential is kept only for the same host; send the credential again when changing the host (or send `headers` without it)"
                    ),
                )),
                None => Ok(()),
            }
        }
        _ => Ok(()),
    }
}

/// An endpoint URL as the admin API shows it: a `slack` endpoint's as a
/// chat webhook URL, its last path segment masked whatever the host (see
/// [`mask_webhook_url`]); any other's as [`mask_url`] masks it (a Discord
/// webhook's token is known by its path on any host).
pub fn mask_endpoint_url(kind: EndpointType, url: &str) -> String {
    let kind = match kind {
        EndpointType::Slack => Kind::WebhookUrl,
        EndpointType::Custom | EndpointType::Discord => Kind::Url,
    };
    mask_field(kind, url)
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
        keep_masked_actions(&mut sent, &stored).unwrap();
        assert_eq!(sent, stored);
        // A changed value replaces the stored one; a masked form at another
        // place (another type at that position) is not a keep.
        let mut sent = masked.clone();
        sent[0]["bot_token"] = json!("654321:NewToken");
        sent[4]["headers"]["x-api-key"] = json!("****");
        sent[4]["headers"]["Authorization"] = json!("Bearer new-token");
        sent[2]["type"] = json!("slack_message");
        keep_masked_actions(&mut sent, &stored).unwrap();
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

    #[test]
    fn the_origin_is_scheme_host_and_port_and_a_templated_one_is_compared_as_written() {
        // a, b, same origin
        let cases = [
            (
                "https://crm.example/x?k=1",
                "https://CRM.example:443/y",
                true,
            ),
            ("https://u:p@crm.example/x", "https://crm.example", true),
            ("https://crm.example/x", "http://crm.example/x", false),
            ("https://crm.example/x", "https://crm.example:8443/x", false),
            ("https://crm.example/x", "https://crm.example.evil/x", false),
            (
                "https://crm.example/{payload.p}",
                "https://crm.example/z",
                true,
            ),
            ("https://{var.host}/x", "https://{var.host}/y", true),
            ("https://{var.host}/x", "https://{var.other}/x", false),
            (
                "https://crm.example{payload.p}",
                "https://crm.example/x",
                false,
            ),
            ("{var.url}", "{var.url}", true),
            ("{var.url}/a", "{var.url}/b", false),
        ];
        for (a, b, same) in cases {
            assert_eq!(
                origin(a) == origin(b),
                same,
                "{a} / {b}: {} {}",
                origin(a),
                origin(b)
            );
        }
    }

    #[test]
    fn a_masked_credential_is_refused_when_its_target_moves_to_another_host() {
        let stored = json!([
            {"type": "http_request", "url": "https://crm.example/a",
             "headers": {"Authorization": "Bearer sk_live_1", "X-Team": "ops"}},
            {"type": "condition", "if": {"left": 1, "op": "==", "right": 1},
             "then": [{"type": "http_request", "url": "https://crm.example/b",
                       "headers": {"X-Api-Key": "abc123"}}],
             "else": []},
        ]);
        let masked = mask_actions(&stored);
        // Same host, another path: kept.
        let mut sent = masked.clone();
        sent[0]["url"] = json!("https://crm.example/other?x=1");
        keep_masked_actions(&mut sent, &stored).unwrap();
        assert_eq!(sent[0]["headers"]["Authorization"], "Bearer sk_live_1");
        // Another host with the credential sent back masked: refused, nested too.
        for (i, at, field) in [
            (
                None,
                "https://evil.example/a",
                "actions[0].headers.Authorization",
            ),
            (
                Some(0),
                "https://evil.example/b",
                "actions[1].then[0].headers.X-Api-Key",
            ),
            (
                None,
                "http://crm.example/a",
                "actions[0].headers.Authorization",
            ),
        ] {
            let mut sent = masked.clone();
            match i {
                None => sent[0]["url"] = json!(at),
                Some(j) => sent[1]["then"][j]["url"] = json!(at),
            }
            let e = keep_masked_actions(&mut sent, &stored).unwrap_err();
            assert_eq!(e.code.as_str(), "invalid_action");
            assert!(e.message.contains(&format!("`{field}`")), "{}", e.message);
            assert!(
                e.message
                    .contains("send the credential again when changing the host"),
                "{}",
                e.message
            );
        }
        // Another host with the credential sent again, or a header that is
        // no credential: accepted as sent.
        let mut sent = masked.clone();
        sent[0]["url"] = json!("https://new.example/a");
        sent[0]["headers"]["Authorization"] = json!("Bearer new-token");
        keep_masked_actions(&mut sent, &stored).unwrap();
        assert_eq!(sent[0]["headers"]["Authorization"], "Bearer new-token");
        assert_eq!(sent[0]["headers"]["X-Team"], "ops");
    }

    #[test]
    fn an_endpoint_keeps_its_credential_headers_only_while_its_url_keeps_its_host() {
        let url = "https://receiver.example/hook?api_key=k-0123456";
        let stored = json!({"Authorization": "Bearer ep-secret-0123", "X-Team": "ops"});
        let stored = stored.as_object().unwrap();
        let masked_url = mask_endpoint_url(EndpointType::Custom, url);
        let masked = json!({"Authorization": "Bearer ****", "X-Team": "ops"});
        /// The patch, and Ok(the url, the Authorization after the keep)
        /// or Err(the field the refusal names).
        type Case<'a> = (Value, Result<(&'a str, &'a str), &'a str>);
        let cases: Vec<Case> = vec![
            (
                json!({"url": masked_url, "headers": masked}),
                Ok((url, "Bearer ep-secret-0123")),
            ),
            (
                json!({"headers": masked}),
                Ok((url, "Bearer ep-secret-0123")),
            ),
            (
                json!({"url": "https://receiver.example/other", "headers": masked}),
                Ok(("https://receiver.example/other", "Bearer ep-secret-0123")),
            ),
            (
                json!({"url": "https://evil.example/hook", "headers": masked}),
                Err("`headers.Authorization`"),
            ),
            (
                json!({"url": "https://evil.example/hook"}),
                Err("`headers.Authorization`"),
            ),
            (
                json!({"url": "https://evil.example/hook", "headers": {"Authorization": "Bearer new", "X-Team": "ops"}}),
                Ok(("https://evil.example/hook", "Bearer new")),
            ),
        ];
        for (patch, want) in cases {
            let mut sent = patch.clone();
            let got = keep_masked_endpoint(&mut sent, EndpointType::Custom, url, stored);
            match want {
                Ok((want_url, auth)) => {
                    assert!(got.is_ok(), "{patch}");
                    if sent.get("url").is_some() {
                        assert_eq!(sent["url"], want_url, "{patch}");
                    }
                    if sent.get("headers").is_some() {
                        assert_eq!(sent["headers"]["Authorization"], auth, "{patch}");
                    }
                }
                Err(field) => {
                    let e = got.unwrap_err();
                    assert_eq!(e.code.as_str(), "invalid_endpoint");
                    assert!(e.message.contains(field), "{patch}: {}", e.message);
                    assert!(e
                        .message
                        .contains("send the credential again when changing the host"));
                }
            }
        }
    }
}

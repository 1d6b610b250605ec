//! A hook's `actions`: each action's `type` (one of the domain's
//! [`Action::TYPES`]), the fields that type takes and their rules,
//! conditions and their branches, and the limits on how many actions a
//! hook holds and how deep conditions nest. Target URLs are gathered as
//! the actions are walked and checked at the end (`action_url`).

use hooklane_domain::action::{ActionSpec, Condition};
use hooklane_domain::validate::{is_telegram_bot_token, is_variable_name};
use hooklane_domain::EventType;
use hooklane_domain::{Action, HookAuth};
use hooklane_engine::platforms::discord;
use hooklane_web::{ApiError, ErrorCode};
use serde_json::{Map, Value};

use super::action_url::check_action_url;
use super::credentials::has_placeholder;
use super::fields::{invalid, kind_of, Fields, MAX_LIST_ENTRIES};
use super::fits;
use super::markup;

/// The most top-level actions a hook holds.
pub const MAX_ACTIONS: usize = 50;
/// The most actions in all, nested ones (in `then`/`else`) included.
pub const MAX_ACTIONS_TOTAL: usize = 100;
/// How deep conditions may nest: a condition inside `MAX_NESTING - 1`
/// others is the deepest allowed.
pub const MAX_NESTING: usize = 5;

/// What checking a hook's actions collects besides the actions: the
/// outbound URLs to check, each with its path; and the hook's auth type,
/// which some actions need.
struct ActionWalk {
    total: usize,
    urls: Vec<(String, String)>,
    /// The hook's `auth.type` (`discord`, `api_key`, …).
    auth: &'static str,
}

/// Checks a hook's `actions` list and, once every action parses, each
/// target URL's literal part (see `action_url`). `auth` is the hook's
/// (a `discord_followup` needs `discord`); `allow_private` lets targets be
/// private and plain-http addresses.
///
/// # Errors
/// 400 `invalid_action` naming the action or field at fault by its index
/// path (`actions[1].then[0].url`): over [`MAX_ACTIONS`] top-level or
/// [`MAX_ACTIONS_TOTAL`] in all, conditions over [`MAX_NESTING`] deep, an
/// unknown `type`, a missing, mistyped or unknown field, a
/// `discord_followup` on a hook whose auth is not `discord`; 400
/// `invalid_url` for a target URL that is refused.
pub(super) async fn check_actions(
    raw: &[Value],
    auth: &HookAuth,
    allow_private: bool,
) -> Result<Vec<ActionSpec>, ApiError> {
    if raw.len() > MAX_ACTIONS {
        return Err(invalid(
            ErrorCode::InvalidAction,
            format!(
                "`actions` holds at most {MAX_ACTIONS} actions (got {}); more can run in a condition's branches, up to {MAX_ACTIONS_TOTAL} in all",
                raw.len()
            ),
        ));
    }
    let mut walk = ActionWalk {
        total: 0,
        urls: Vec::new(),
        auth: auth.kind(),
    };
    let actions = parse_actions(raw, "actions", 1, &mut walk)?;
    for (path, url) in &walk.urls {
        check_action_url(url, path, allow_private).await?;
    }
    Ok(actions)
}

/// Parses a list of actions at `at` (`actions`, `actions[0].then`, …);
/// `depth` is 1 for a hook's own actions and one more in each branch.
fn parse_actions(
    raw: &[Value],
    at: &str,
    depth: usize,
    walk: &mut ActionWalk,
) -> Result<Vec<ActionSpec>, ApiError> {
    raw.iter()
        .enumerate()
        .map(|(i, v)| parse_action(v, &format!("{at}[{i}]"), depth, walk))
        .collect()
}

/// The fields each action type takes, besides `type` and `continue_on_error`
/// (a test keeps this in step with [`Action::TYPES`]).
fn action_fields(kind: &str) -> &'static [&'static str] {
    match kind {
        "http_request" => &["method", "url", "headers", "body"],
        "discord_message" => &[
            "webhook_url",
            "content",
            "embeds",
            "username",
            "allowed_mentions",
        ],
        "discord_followup" => &[
            "content",
            "embeds",
            "allowed_mentions",
            "ephemeral",
            "edit_original",
        ],
        "slack_message" => &["webhook_url", "text", "blocks"],
        "telegram_message" => &["bot_token", "chat_id", "text", "parse_mode"],
        "set_variable" => &["name", "value"],
        "update_variable" => &["name", "op", "value"],
        "delete_variable" => &["name"],
        "condition" => &["if", "then", "else"],
        "publish" => &["event", "data"],
        "log" => &["message"],
        _ => &[],
    }
}

/// Parses one action at `at` (`actions[2]`): its `type`, the fields that
/// type takes and their rules, then the action itself through serde.
fn parse_action(
    v: &Value,
    at: &str,
    depth: usize,
    walk: &mut ActionWalk,
) -> Result<ActionSpec, ApiError> {
    let Value::Object(obj) = v else {
        return Err(invalid(
            ErrorCode::InvalidAction,
            format!("`{at}` must be an object with a `type`, not {}", kind_of(v)),
        ));
    };
    walk.total += 1;
    if walk.total > MAX_ACTIONS_TOTAL {
        return Err(invalid(
            ErrorCode::InvalidAction,
            format!("`{at}` is one action too many: a hook holds at most {MAX_ACTIONS_TOTAL} actions in all, nested ones included"),
        ));
    }
    let f = Fields::new(obj, at, ErrorCode::InvalidAction);
    let kind = f.required_str("type", &format!("one of {}", Action::TYPES.join(", ")))?;
    if !Action::TYPES.contains(&kind) {
        return Err(f.err(
            "type",
            format!(
                "`{kind}` is not an action type; the types are {}",
                Action::TYPES.join(", ")
            ),
        ));
    }
    let mut allowed = vec!["type", "continue_on_error"];
    allowed.extend_from_slice(action_fields(kind));
    f.only(&allowed, &format!("{kind} actions"))?;
    let continue_on_error = f.bool("continue_on_error")?.unwrap_or(false);

    let variable_name = |key: &str| -> Result<(), ApiError> {
        let name = f.required_str(key, "the variable's name")?;
        if is_variable_name(name) || (name.contains('{') && name.contains('}')) {
            Ok(())
        } else {
            Err(f.err(
                key,
                format!("`{name}` is not a variable name (1 to 64 of A-Z a-z 0-9 _ . -)"),
            ))
        }
    };
    let url = |key: &str, walk: &mut ActionWalk| -> Result<(), ApiError> {
        let u = f.required_str(key, "the URL to call")?;
        walk.urls.push((f.path(key), u.to_owned()));
        Ok(())
    };

    match kind {
        "http_request" => {
            if let Some(method) = f.str("method")? {
                let known = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
                    .contains(&method.to_ascii_uppercase().as_str());
                if !known && !method.contains('{') {
                    return Err(f.err(
                        "method",
                        format!(
                            "`{method}` is not one of GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS"
                        ),
                    ));
                }
            }
            url("url", walk)?;
            if let Some(headers) = f.object("headers")? {
                if headers.len() > MAX_LIST_ENTRIES {
                    return Err(f.err(
                        "headers",
                        format!("holds at most {MAX_LIST_ENTRIES} headers"),
                    ));
                }
                for (k, v) in headers {
                    if axum::http::HeaderName::from_bytes(k.as_bytes()).is_err() {
                        return Err(f.err(&format!("headers.{k}"), "is not a valid header name"));
                    }
                    if !(v.is_string() || v.is_number() || v.is_boolean()) {
                        return Err(f.err(
                            &format!("headers.{k}"),
                            format!("must be text, not {}", kind_of(v)),
                        ));
                    }
                }
            }
        }
        "discord_message" => {
            url("webhook_url", walk)?;
            check_discord_message(&f)?;
            fits::discord_message(&f)?;
            if let Some(name) = f.str("username")? {
                // A templated name is checked when it renders (a bad one
                // is left out then); a literal one is checked now.
                if !has_placeholder(name) {
                    if let Some(problem) = discord::username_problem(name) {
                        return Err(f.err("username", format!("{problem} (Discord's username rules: 1 to 80 characters, not containing \"discord\" or \"clyde\", not \"everyone\" or \"here\")")));
                    }
                }
            }
            f.allowed_mentions()?;
        }
        "discord_followup" => {
            check_discord_message(&f)?;
            fits::discord_message(&f)?;
            f.allowed_mentions()?;
            let ephemeral = f.bool("ephemeral")?.unwrap_or(false);
            if ephemeral && f.bool("edit_original")?.unwrap_or(false) {
                return Err(f.err(
                    "ephemeral",
                    "goes with a new follow-up only: an edited original keeps the visibility of the deferred answer",
                ));
            }
            if walk.auth != "discord" {
                return Err(invalid(
                    ErrorCode::InvalidAction,
                    format!(
                        "`{at}` is a discord_followup, which answers the Discord interaction that started the run with its application_id and token: it runs only on a hook with `discord` auth, and this hook's auth is `{}`; use discord_message with a webhook_url to post to a channel",
                        walk.auth
                    ),
                ));
            }
        }
        "slack_message" => {
            url("webhook_url", walk)?;
            let text = f.required_str("text", "the message text")?;
            if text.is_empty() {
                return Err(f.err("text", "is empty"));
            }
            fits::slack_text(&f, text)?;
            if let Some(blocks) = f.array("blocks")? {
                if let Some(i) = blocks.iter().position(|b| !b.is_object()) {
                    return Err(f.err(&format!("blocks[{i}]"), "must be an object"));
                }
            }
        }
        "telegram_message" => {
            let token = f.required_str("bot_token", "the Telegram bot's token")?;
            if token.trim().is_empty() {
                return Err(f.err("bot_token", "is empty"));
            }
            // A templated token is checked when it renders; a literal one
            // now (the message never repeats it).
            if !has_placeholder(token) && !is_telegram_bot_token(token) {
                return Err(f.err(
                    "bot_token",
                    "is not a Telegram bot token: digits, `:`, then letters, digits, `_` or `-`, as @BotFather gives it (123456:ABC-def_ghi), or a placeholder such as {var.tg_token}",
                ));
            }
            let chat = f.required("chat_id", "the chat id or @channel name")?;
            if !(chat.as_str().is_some_and(|s| !s.trim().is_empty()) || chat.is_i64()) {
                return Err(f.err("chat_id", "must be a chat id or @channel name"));
            }
            let text = f.required_str("text", "the message text")?;
            if text.is_empty() {
                return Err(f.err("text", "is empty"));
            }
            let parse_mode = f.str("parse_mode")?;
            if let Some(mode) = parse_mode {
                if !["HTML", "Markdown", "MarkdownV2"].contains(&mode) {
                    return Err(f.err(
                        "parse_mode",
                        format!("is `{mode}`; it is HTML, Markdown or MarkdownV2"),
                    ));
                }
            }
            fits::telegram_text(&f, text, parse_mode)?;
            markup::telegram_text(&f, text, parse_mode)?;
        }
        "set_variable" => {
            variable_name("name")?;
            if !obj.contains_key("value") {
                return Err(f.err("value", "is missing: the value to store"));
            }
        }
        "update_variable" => {
            variable_name("name")?;
            let op = f.required_str("op", "add, subtract, multiply or divide")?;
            if !["add", "subtract", "multiply", "divide"].contains(&op) {
                return Err(f.err(
                    "op",
                    format!("is `{op}`; it is add, subtract, multiply or divide"),
                ));
            }
            let value = f.required("value", "the number to apply")?;
            let numeric = value.is_number()
                || value
                    .as_str()
                    .is_some_and(|s| s.contains('{') || s.trim().parse::<f64>().is_ok());
            if !numeric {
                return Err(f.err("value", "must be a number (or a placeholder)"));
            }
        }
        "delete_variable" => variable_name("name")?,
        "condition" => return parse_condition(&f, depth, continue_on_error, walk),
        "publish" => {
            let event = f.required_str("event", "the event type to publish")?;
            if !event.contains('{') {
                EventType::parse(event).map_err(|e| f.err("event", e.to_string()))?;
            }
        }
        "log" => {
            f.required_str("message", "the text to log")?;
        }
        // A type with no checks of its own is read by serde alone.
        _ => {}
    }
    // A field set to null counts as left out (`value` keeps null: it is data).
    let given: Map<String, Value> = obj
        .iter()
        .filter(|(k, v)| !v.is_null() || k.as_str() == "value")
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    serde_json::from_value(Value::Object(given)).map_err(|e| {
        invalid(
            ErrorCode::InvalidAction,
            format!("`{at}` is not a valid {kind} action: {e}"),
        )
    })
}

/// Checks a Discord message's `content` and `embeds`: at least one of
/// them, at most 10 embeds, each an object.
fn check_discord_message(f: &Fields<'_>) -> Result<(), ApiError> {
    let content = f.str("content")?.filter(|c| !c.is_empty());
    let embeds = f.array("embeds")?.filter(|e| !e.is_empty());
    if content.is_none() && embeds.is_none() {
        return Err(f.err(
            "content",
            "is missing: a Discord message needs `content` or `embeds`",
        ));
    }
    if let Some(embeds) = embeds {
        if embeds.len() > 10 {
            return Err(f.err("embeds", "holds at most 10 embeds (Discord's limit)"));
        }
        if let Some(i) = embeds.iter().position(|e| !e.is_object()) {
            return Err(f.err(&format!("embeds[{i}]"), "must be an object"));
        }
    }
    Ok(())
}

/// Parses a `condition` action: its `if` and, one level deeper, its
/// `then` and `else` branches.
fn parse_condition(
    f: &Fields<'_>,
    depth: usize,
    continue_on_error: bool,
    walk: &mut ActionWalk,
) -> Result<ActionSpec, ApiError> {
    if depth > MAX_NESTING {
        return Err(invalid(
            ErrorCode::InvalidAction,
            format!(
                "`{}` nests too deep: conditions nest at most {MAX_NESTING} deep",
                f.base
            ),
        ));
    }
    let cond = f
        .object("if")?
        .ok_or_else(|| f.err("if", "is missing: {\"left\", \"op\", \"right\"}"))?;
    let c = Fields::new(cond, f.path("if"), ErrorCode::InvalidAction);
    c.only(&["left", "op", "right"], "a condition's `if`")?;
    const OPS: &str = "==, !=, >, >=, <, <= or contains";
    let op = c.required_str("op", OPS)?;
    if !["==", "!=", ">", ">=", "<", "<=", "contains"].contains(&op) {
        return Err(c.err("op", format!("is `{op}`; it is one of {OPS}")));
    }
    for side in ["left", "right"] {
        if !cond.contains_key(side) {
            return Err(c.err(side, "is missing: a value or template to compare"));
        }
    }
    let condition: Condition =
        serde_json::from_value(Value::Object(cond.clone())).map_err(|e| c.err("op", e))?;
    let branch = |key: &str, walk: &mut ActionWalk| -> Result<Vec<ActionSpec>, ApiError> {
        match f.array(key)? {
            None => Ok(Vec::new()),
            Some(list) => parse_actions(list, &f.path(key), depth + 1, walk),
        }
    };
    let then = branch("then", walk)?;
    let otherwise = branch("else", walk)?;
    Ok(ActionSpec {
        action: Action::Condition {
            condition,
            then,
            otherwise,
        },
        continue_on_error,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_action_type_of_the_domain_has_its_fields_listed() {
        for kind in Action::TYPES {
            assert!(!action_fields(kind).is_empty(), "{kind} takes no fields");
        }
    }

    #[test]
    fn admin_api_md_lists_every_action_type_with_its_fields_and_the_real_refusal() {
        let doc = include_str!("../../../../docs/admin-api.md");
        let table = doc
            .split_once("The fields of each action type")
            .and_then(|(_, rest)| rest.split_once("What refusals look like"))
            .map(|(table, _)| table)
            .expect("admin-api.md has the table of action fields");
        for kind in Action::TYPES {
            let row = table
                .lines()
                .find(|l| l.starts_with(&format!("| `{kind}` |")))
                .unwrap_or_else(|| panic!("admin-api.md has no row for {kind}"));
            for field in action_fields(kind) {
                assert!(row.contains(&format!("`{field}`")), "{kind}: {field}");
            }
        }
        assert!(doc.contains(&format!(
            "is not an action type; the types are {}\"",
            Action::TYPES.join(", ")
        )));
    }
}

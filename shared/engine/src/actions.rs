//! The action runner: a hook's actions, in order, against a template context.
//!
//! Failure semantics: a failing action stops the run unless it says
//! `continue_on_error`. The dispatcher retries a failed run as a whole only
//! when nothing with an effect (an outside call, a variable write, a
//! publish) has succeeded before the failure and the failure is transient
//! (a connection error, a timeout, a 429 or a 5xx); otherwise the run is
//! recorded as failed, naming the action and the reason.

use std::time::{Duration, Instant};

use futures::future::BoxFuture;
use hooklane_domain::action::{CompareOp, Condition, VariableOp};
use hooklane_domain::envelope::Publish;
use hooklane_domain::{
    Action, ActionResult, ActionSpec, ActionStatus, BotId, Envelope, Job, MessageId,
};
use hooklane_template::{render_json, render_str, Context};
use serde_json::{json, Map, Value};

use crate::mask::{mask_secret, mask_url, mask_webhook_url, MASK};
use crate::outbound::{bounded_text, describe_send_error, TargetError};
use crate::platforms::{cut, discord, slack, telegram, Cuts};
use crate::retry;
use crate::{Services, DEPTH_HEADER, MAX_PUBLISH_DEPTH};

/// The largest value `set_variable` stores, as JSON.
pub const MAX_VARIABLE_BYTES: usize = 64 * 1024;

/// How much of a `log` message goes to the run log.
pub const MAX_LOG_MESSAGE: usize = 2000;

/// How much of one value (a compared side, a stored variable) the run log
/// shows; the run log is one record and must stay small.
const DETAIL_VALUE_CHARS: usize = 1000;

/// Everything a run reads and writes besides the services.
pub struct RunState {
    pub tpl: Context,
    pub bot_id: BotId,
    /// Publish depth of the call that started this run.
    pub depth: u32,
    /// Placeholders that were not found, in order of first appearance.
    pub unknown: Vec<String>,
    /// True once an action with an effect has succeeded.
    pub effect: bool,
}

impl RunState {
    pub fn new(tpl: Context, bot_id: BotId, depth: u32) -> Self {
        Self {
            tpl,
            bot_id,
            depth,
            unknown: Vec::new(),
            effect: false,
        }
    }

    fn note_unknown(&mut self, unknown: Vec<String>) {
        for u in unknown {
            if !self.unknown.contains(&u) {
                self.unknown.push(u);
            }
        }
    }

    fn text(&mut self, template: &str) -> String {
        self.text_and_unknown(template).0
    }

    /// Renders a text template; also answers the placeholders of this
    /// template that were not found.
    fn text_and_unknown(&mut self, template: &str) -> (String, Vec<String>) {
        let r = render_str(template, &self.tpl);
        self.note_unknown(r.unknown.clone());
        (r.value, r.unknown)
    }

    /// Renders a URL (or a token that goes into one): a placeholder that
    /// was not found would send the call to a wrong address, so it fails
    /// the action instead.
    fn target(&mut self, template: &str, what: &str) -> Result<String, ActionError> {
        let (value, unknown) = self.text_and_unknown(template);
        match unknown.first() {
            None => Ok(value),
            Some(name) => Err(ActionError::permanent(format!(
                "the {what} holds the placeholder {{{name}}}, which was not found"
            ))),
        }
    }

    fn json(&mut self, template: &Value) -> Value {
        let r = render_json(template, &self.tpl);
        self.note_unknown(r.unknown);
        r.value
    }

    /// Renders a JSON template that must be complete (an address such as a
    /// chat id): a placeholder that was not found fails the action.
    fn complete_json(&mut self, template: &Value, what: &str) -> Result<Value, ActionError> {
        let r = render_json(template, &self.tpl);
        self.note_unknown(r.unknown.clone());
        match r.unknown.first() {
            None => Ok(r.value),
            Some(name) => Err(ActionError::permanent(format!(
                "the {what} holds the placeholder {{{name}}}, which was not found"
            ))),
        }
    }

    fn set_var(&mut self, name: &str, value: Option<Value>) {
        let vars = self
            .tpl
            .root
            .entry("var")
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(vars) = vars {
            match value {
                Some(v) => vars.insert(name.to_owned(), v),
                None => vars.remove(name),
            };
        }
    }
}

/// How a list of actions ended.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub results: Vec<ActionResult>,
    /// The action that stopped the run and why.
    pub failure: Option<Failure>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    pub index: usize,
    pub kind: String,
    pub reason: String,
    /// Worth retrying the whole run (only meaningful with no effect before it).
    pub transient: bool,
}

/// A failed action: what to log and whether a retry may help.
struct ActionError {
    reason: String,
    detail: Value,
    transient: bool,
}

impl ActionError {
    fn permanent(reason: impl Into<String>) -> Self {
        Self {
            reason: reason.into(),
            detail: Value::Null,
            transient: false,
        }
    }

    /// A refused target, without the URL itself when it is malformed (it
    /// may hold a token).
    fn target(e: TargetError) -> Self {
        match e {
            TargetError::Invalid(_) => Self::permanent("the URL is not a valid URL"),
            other => Self::permanent(other.to_string()),
        }
    }
}

type ActionResultOf = Result<Value, ActionError>;

/// Runs `actions` in order; results are numbered from 0 within the list.
pub fn run_actions<'a>(
    svc: &'a Services,
    actions: &'a [ActionSpec],
    state: &'a mut RunState,
) -> BoxFuture<'a, Outcome> {
    Box::pin(async move {
        let mut results = Vec::with_capacity(actions.len());
        for (index, spec) in actions.iter().enumerate() {
            let started = Instant::now();
            let result = run_one(svc, &spec.action, state).await;
            let duration_ms = started.elapsed().as_millis() as u64;
            let kind = spec.action.kind().to_owned();
            match result {
                Ok(detail) => {
                    if spec.action.has_outside_effect() || is_variable_write(&spec.action) {
                        state.effect = true;
                    }
                    results.push(ActionResult {
                        index,
                        kind,
                        status: ActionStatus::Succeeded,
                        duration_ms,
                        detail,
                    });
                }
                Err(e) => {
                    let mut detail = match e.detail {
                        Value::Object(o) => o,
                        _ => Map::new(),
                    };
                    detail.insert("error".into(), Value::String(e.reason.clone()));
                    results.push(ActionResult {
                        index,
                        kind: kind.clone(),
                        status: ActionStatus::Failed,
                        duration_ms,
                        detail: Value::Object(detail),
                    });
                    if !spec.continue_on_error {
                        return Outcome {
                            results,
                            failure: Some(Failure {
                                index,
                                kind,
                                reason: e.reason,
                                transient: e.transient,
                            }),
                        };
                    }
                }
            }
        }
        Outcome {
            results,
            failure: None,
        }
    })
}

fn is_variable_write(action: &Action) -> bool {
    matches!(
        action,
        Action::SetVariable { .. } | Action::UpdateVariable { .. } | Action::DeleteVariable { .. }
    )
}

async fn run_one(svc: &Services, action: &Action, state: &mut RunState) -> ActionResultOf {
    match action {
        Action::Log { message } => {
            let (message, _) = cut(&state.text(message), MAX_LOG_MESSAGE);
            tracing::info!(action.message = %message, "hook action log");
            Ok(json!({ "message": message }))
        }
        Action::HttpRequest {
            method,
            url,
            headers,
            body,
        } => {
            // Hooks calling hooks: past the depth limit the chain stops here.
            if state.depth >= MAX_PUBLISH_DEPTH {
                return Err(ActionError::permanent(format!(
                    "not sent: {MAX_PUBLISH_DEPTH} hooks already led here (loop protection)"
                )));
            }
            let url = state.target(url, "URL")?;
            let method = state.text(method).to_ascii_uppercase();
            let method = reqwest::Method::from_bytes(method.as_bytes())
                .map_err(|_| ActionError::permanent(format!("`{method}` is not an HTTP method")))?;
            // The depth travels on, so a chain of hooks calling hooks
            // through publishes and requests alike is still counted.
            let mut req = svc
                .outbound
                .request(method.clone(), &url)
                .map_err(ActionError::target)?
                .header(DEPTH_HEADER, (state.depth + 1).to_string());
            for (name, value) in headers {
                if name.eq_ignore_ascii_case(DEPTH_HEADER) {
                    continue;
                }
                let v = match value {
                    Value::String(s) => state.text(s),
                    other => other.to_string(),
                };
                req = req.header(name.as_str(), v);
            }
            if let Some(body) = body {
                req = match state.json(body) {
                    Value::String(text) => req.body(text),
                    other => req.json(&other),
                };
            }
            let detail = json!({ "method": method.as_str(), "url": mask_url(&url) });
            send(svc, req, detail, None).await
        }
        Action::DiscordMessage {
            webhook_url,
            content,
            embeds,
            username,
        } => {
            let url = state.target(webhook_url, "webhook URL")?;
            let mut cuts = Cuts::default();
            let mut body = Map::new();
            if let Some(content) = content {
                let (text, was_cut) = cut(&state.text(content), discord::CONTENT);
                if was_cut {
                    cuts.0
                        .push(format!("content cut to {} characters", discord::CONTENT));
                }
                // Discord refuses an empty `content`; embeds alone are fine.
                if !text.is_empty() {
                    body.insert("content".into(), Value::String(text));
                }
            }
            if let Some(embeds) = embeds {
                let rendered: Vec<Value> = embeds.iter().map(|e| state.json(e)).collect();
                body.insert(
                    "embeds".into(),
                    Value::Array(discord::fit_embeds(rendered, &mut cuts)),
                );
            }
            if let Some(username) = username {
                body.insert(
                    "username".into(),
                    Value::String(cut(&state.text(username), discord::USERNAME).0),
                );
            }
            if body.get("content").is_none()
                && body
                    .get("embeds")
                    .is_none_or(|e| e.as_array().is_none_or(Vec::is_empty))
            {
                return Err(ActionError::permanent(
                    "the Discord message has neither content nor embeds",
                ));
            }
            post_to_webhook(svc, &url, &Value::Object(body), cuts).await
        }
        Action::SlackMessage {
            webhook_url,
            text,
            blocks,
        } => {
            let url = state.target(webhook_url, "webhook URL")?;
            let mut cuts = Cuts::default();
            let (text, was_cut) = cut(&state.text(text), slack::TEXT);
            if was_cut {
                cuts.0
                    .push(format!("text cut to {} characters", slack::TEXT));
            }
            let mut body = json!({ "text": text });
            if let Some(blocks) = blocks {
                let rendered: Vec<Value> = blocks.iter().map(|b| state.json(b)).collect();
                body["blocks"] = Value::Array(slack::fit_blocks(rendered, &mut cuts));
            }
            post_to_webhook(svc, &url, &body, cuts).await
        }
        Action::TelegramMessage {
            bot_token,
            chat_id,
            text,
            parse_mode,
        } => {
            let token = state.target(bot_token, "bot token")?;
            // `{id}:{secret}`; anything else would also change the path it goes into.
            if token.is_empty()
                || !token
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, ':' | '_' | '-'))
            {
                return Err(ActionError::permanent(
                    "the bot token is not a Telegram bot token (digits, `:`, then letters, digits, `_` or `-`)",
                ));
            }
            let base = &svc.settings.telegram_api_base;
            let url = format!("{base}/bot{token}/sendMessage");
            let shown = mask_url(&format!("{base}/bot{MASK}/sendMessage"));
            let mut cuts = Cuts::default();
            let parse_mode = parse_mode.as_ref().map(|m| state.text(m));
            let (text, parse_mode) = telegram::fit_text(&state.text(text), parse_mode, &mut cuts);
            let chat_id = state.complete_json(chat_id, "chat_id")?;
            let mut body = json!({ "chat_id": chat_id, "text": text });
            if let Some(mode) = parse_mode {
                body["parse_mode"] = Value::String(mode);
            }
            let req = svc
                .outbound
                .request(reqwest::Method::POST, &url)
                .map_err(ActionError::target)?
                .json(&body);
            send(svc, req, json!({ "url": shown }), Some(cuts))
                .await
                .map_err(|mut e| {
                    e.reason = mask_secret(&e.reason, &token);
                    e
                })
        }
        Action::SetVariable { name, value } => {
            let name = state.text(name);
            let value = state.json(value);
            let size = value.to_string().len();
            if size > MAX_VARIABLE_BYTES {
                return Err(ActionError::permanent(format!(
                    "the value is {size} bytes of JSON; a variable holds at most {MAX_VARIABLE_BYTES}"
                )));
            }
            let stored =
                write_variable(svc, &state.bot_id, &name, |_| Ok(Some(value.clone()))).await?;
            state.set_var(&name, stored.clone());
            Ok(json!({ "name": name, "value": brief(stored.unwrap_or_default()) }))
        }
        Action::UpdateVariable { name, op, value } => {
            let name = state.text(name);
            let operand = state.json(value);
            let operand = as_number(&operand).ok_or_else(|| {
                ActionError::permanent(format!(
                    "the value `{}` is not a number",
                    cut(&show(&operand), 100).0
                ))
            })?;
            let op = *op;
            let stored = write_variable(svc, &state.bot_id, &name, |current| {
                let current = match current {
                    None => 0.into(),
                    Some(v) => as_number(v).ok_or_else(|| {
                        ActionError::permanent(format!(
                            "the variable `{name}` holds `{}`, which is not a number",
                            cut(&show(v), 100).0
                        ))
                    })?,
                };
                apply(op, &current, &operand).map(Some)
            })
            .await?;
            state.set_var(&name, stored.clone());
            Ok(json!({ "name": name, "value": stored }))
        }
        Action::DeleteVariable { name } => {
            let name = state.text(name);
            write_variable(svc, &state.bot_id, &name, |_| Ok(None)).await?;
            state.set_var(&name, None);
            Ok(json!({ "name": name }))
        }
        Action::Condition {
            condition,
            then,
            otherwise,
        } => {
            let (left, right) = (state.json(&condition.left), state.json(&condition.right));
            let taken = compare(condition, &left, &right);
            let branch = if taken { then } else { otherwise };
            let outcome = run_actions(svc, branch, state).await;
            let detail = json!({
                "left": brief(left),
                "op": condition.op,
                "right": brief(right),
                "result": taken,
                "branch": if taken { "then" } else { "else" },
                "actions": outcome.results,
            });
            match outcome.failure {
                None => Ok(detail),
                Some(f) => Err(ActionError {
                    reason: format!(
                        "{} action {} ({}) failed: {}",
                        if taken { "then" } else { "else" },
                        f.index,
                        f.kind,
                        f.reason
                    ),
                    detail,
                    transient: f.transient,
                }),
            }
        }
        Action::Publish { event, data } => {
            let event = state.text(event);
            if hooklane_domain::validate::validate_event_name(&event).is_err() {
                return Err(ActionError::permanent(format!(
                    "`{event}` is not a valid event name"
                )));
            }
            if state.depth >= MAX_PUBLISH_DEPTH {
                return Err(ActionError::permanent(format!(
                    "not published: {MAX_PUBLISH_DEPTH} publishes already led here (loop protection)"
                )));
            }
            let data = state.json(data);
            let message_id = MessageId::generate();
            let job = Job::Publish(Publish {
                message_id: message_id.clone(),
                bot_id: state.bot_id.clone(),
                event: event.clone(),
                data,
                timestamp: svc.now(),
                depth: state.depth + 1,
                only_endpoint: None,
            });
            svc.enqueue(Envelope::now(job), Duration::ZERO)
                .await
                .map_err(|e| ActionError {
                    reason: format!("the event could not be queued: {e}"),
                    detail: Value::Null,
                    transient: true,
                })?;
            Ok(json!({ "event": event, "message_id": message_id }))
        }
    }
}

/// POSTs a chat message body to a Discord or Slack webhook URL; the run
/// log shows the URL with its token masked.
async fn post_to_webhook(svc: &Services, url: &str, body: &Value, cuts: Cuts) -> ActionResultOf {
    let req = svc
        .outbound
        .request(reqwest::Method::POST, url)
        .map_err(ActionError::target)?
        .json(body);
    send(
        svc,
        req,
        json!({ "url": mask_webhook_url(url) }),
        Some(cuts),
    )
    .await
}

/// Sends a request; 2xx is success. A 429 is retried after the wait the
/// server asks for (`Retry-After`, Discord's `retry_after`, Telegram's
/// `parameters.retry_after`): at most [`retry::RATE_LIMIT_RETRIES`] times,
/// each wait at most [`retry::RATE_LIMIT_MAX_WAIT`]. The waits go to the run log.
async fn send(
    svc: &Services,
    req: reqwest::RequestBuilder,
    mut detail: Value,
    cuts: Option<Cuts>,
) -> ActionResultOf {
    if let Some(cuts) = cuts.filter(|c| !c.0.is_empty()) {
        detail["notes"] = json!(cuts.0);
    }
    let mut waits: Vec<f64> = Vec::new();
    loop {
        let Some(attempt) = req.try_clone() else {
            return Err(ActionError::permanent("the request body cannot be sent"));
        };
        let started = Instant::now();
        let response = match attempt.send().await {
            Ok(r) => r,
            Err(e) => {
                return Err(ActionError {
                    reason: describe_send_error(&e),
                    detail,
                    transient: !e.is_builder(),
                })
            }
        };
        let status = response.status();
        let retry_after = retry::retry_after(response.headers(), svc.now());
        // A success's body is not needed; a failure's is read only so far.
        let text = if status.is_success() {
            String::new()
        } else {
            bounded_text(response).await
        };
        detail["status"] = json!(status.as_u16());
        detail["response_time_ms"] = json!(started.elapsed().as_millis() as u64);
        if !waits.is_empty() {
            detail["rate_limited_waits_s"] = json!(waits);
        }
        if status.is_success() {
            if let Value::Object(d) = &mut detail {
                d.remove("response");
            }
            return Ok(detail);
        }
        detail["response"] = Value::String(cut(&text, 512).0);
        if status.as_u16() == 429 {
            if let Some(wait) = retry::rate_limit_wait(waits.len(), &text, retry_after) {
                tracing::info!(
                    wait_ms = wait.as_millis() as u64,
                    "rate limited; retrying after the wait the target asked for"
                );
                waits.push(wait.as_secs_f64());
                tokio::time::sleep(wait).await;
                continue;
            }
        }
        return Err(ActionError {
            reason: format!("the target answered {status}"),
            transient: status.as_u16() == 429 || status.is_server_error(),
            detail,
        });
    }
}

/// Read-modify-write of one variable with compare-and-swap, so concurrent
/// updates never lose one. Returns the stored value (`None` when deleted).
async fn write_variable<F>(
    svc: &Services,
    bot: &BotId,
    name: &str,
    f: F,
) -> Result<Option<Value>, ActionError>
where
    F: Fn(Option<&Value>) -> Result<Option<Value>, ActionError>,
{
    if !hooklane_domain::validate::is_variable_name(name) {
        return Err(ActionError::permanent(format!(
            "`{name}` is not a variable name (1 to 64 letters, digits, `_`, `-` or `.`)"
        )));
    }
    for attempt in 0..50u64 {
        if attempt > 0 {
            // Another run wrote first: back off a little (with jitter) so
            // many concurrent writers of one name do not keep colliding.
            let ms = rand::random::<u64>() % (5 * attempt.min(20) + 1);
            tokio::time::sleep(Duration::from_millis(ms)).await;
        }
        let current = svc
            .store
            .get_variable(bot, name)
            .await
            .map_err(store_error)?;
        let next = f(current.as_ref().map(|v| &v.value))?;
        if current.is_none() && next.is_none() {
            return Ok(None);
        }
        let swapped = svc
            .store
            .swap_variable(
                bot,
                name,
                current.map(|v| v.version),
                next.as_ref(),
                svc.now(),
            )
            .await
            .map_err(store_error)?;
        if swapped {
            return Ok(next);
        }
    }
    Err(ActionError {
        reason: format!("the variable `{name}` kept changing under concurrent writes"),
        detail: Value::Null,
        transient: true,
    })
}

fn store_error(e: hooklane_store::StoreError) -> ActionError {
    tracing::error!(error.message = %e, error.cause_chain = ?e, "variable store failed");
    ActionError {
        reason: "the variable store is unavailable".into(),
        detail: Value::Null,
        transient: true,
    }
}

/// The value itself when its JSON is short, else its JSON cut short (as text).
fn brief(v: Value) -> Value {
    let text = v.to_string();
    if text.chars().count() <= DETAIL_VALUE_CHARS {
        return v;
    }
    Value::String(cut(&text, DETAIL_VALUE_CHARS).0)
}

/// A value as text, the way a placeholder inside text renders it (`null`
/// is the empty text).
fn show(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// A number, or a string holding one (bot builders send numbers as text).
fn as_number(v: &Value) -> Option<serde_json::Number> {
    match v {
        Value::Number(n) => Some(n.clone()),
        Value::String(s) => {
            let s = s.trim();
            if let Ok(i) = s.parse::<i64>() {
                return Some(i.into());
            }
            s.parse::<f64>().ok().and_then(serde_json::Number::from_f64)
        }
        _ => None,
    }
}

fn apply(
    op: VariableOp,
    a: &serde_json::Number,
    b: &serde_json::Number,
) -> Result<Value, ActionError> {
    if let (Some(x), Some(y)) = (a.as_i64(), b.as_i64()) {
        let exact = match op {
            VariableOp::Add => x.checked_add(y),
            VariableOp::Subtract => x.checked_sub(y),
            VariableOp::Multiply => x.checked_mul(y),
            VariableOp::Divide if y == 0 => return Err(ActionError::permanent("division by zero")),
            VariableOp::Divide => (x % y == 0).then(|| x / y),
        };
        if let Some(n) = exact {
            return Ok(n.into());
        }
    }
    let (x, y) = (a.as_f64().unwrap_or(0.0), b.as_f64().unwrap_or(0.0));
    let r = match op {
        VariableOp::Add => x + y,
        VariableOp::Subtract => x - y,
        VariableOp::Multiply => x * y,
        VariableOp::Divide if y == 0.0 => return Err(ActionError::permanent("division by zero")),
        VariableOp::Divide => x / y,
    };
    serde_json::Number::from_f64(r)
        .map(Value::Number)
        .ok_or_else(|| ActionError::permanent("the result is not a finite number"))
}

/// Compares two rendered values: numerically when both are numbers (or
/// numeric text), as text otherwise; `contains` looks into text and arrays.
pub fn compare(condition: &Condition, left: &Value, right: &Value) -> bool {
    if condition.op == CompareOp::Contains {
        return match left {
            Value::Array(items) => items.iter().any(|i| i == right || show(i) == show(right)),
            other => show(other).contains(&show(right)),
        };
    }
    let ordering = match (as_number(left), as_number(right)) {
        (Some(a), Some(b)) => a
            .as_f64()
            .unwrap_or(0.0)
            .partial_cmp(&b.as_f64().unwrap_or(0.0)),
        _ => Some(show(left).cmp(&show(right))),
    };
    use std::cmp::Ordering::*;
    match (condition.op, ordering) {
        (CompareOp::Eq, Some(Equal)) => true,
        (CompareOp::Ne, o) => o != Some(Equal),
        (CompareOp::Gt, Some(Greater)) => true,
        (CompareOp::Ge, Some(Greater | Equal)) => true,
        (CompareOp::Lt, Some(Less)) => true,
        (CompareOp::Le, Some(Less | Equal)) => true,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cond(op: &str) -> Condition {
        serde_json::from_value(json!({"left": "", "op": op, "right": ""})).unwrap()
    }

    #[test]
    fn conditions_compare_numbers_numerically_and_text_as_text() {
        let cases = [
            (json!(10), "==", json!("10"), true),
            (json!("9"), "<", json!("10"), true),
            (json!("b"), ">", json!("a"), true),
            (json!("9x"), "<", json!("10x"), false),
            (json!(1.5), ">=", json!(1.5), true),
            (json!("paid"), "!=", json!("refunded"), true),
            (json!("order paid"), "contains", json!("paid"), true),
            (json!(["a", "b"]), "contains", json!("b"), true),
            (json!(["a", "b"]), "contains", json!("c"), false),
        ];
        for (left, op, right, want) in cases {
            assert_eq!(
                compare(&cond(op), &left, &right),
                want,
                "{left} {op} {right}"
            );
        }
    }

    #[test]
    fn arithmetic_keeps_integers_exact_and_refuses_division_by_zero() {
        let n = |v: Value| as_number(&v).unwrap();
        assert_eq!(
            apply(VariableOp::Add, &n(json!(2)), &n(json!("3"))).ok(),
            Some(json!(5))
        );
        assert_eq!(
            apply(VariableOp::Divide, &n(json!(7)), &n(json!(2))).ok(),
            Some(json!(3.5))
        );
        assert_eq!(
            apply(VariableOp::Multiply, &n(json!(1.5)), &n(json!(2))).ok(),
            Some(json!(3.0))
        );
        assert!(apply(VariableOp::Divide, &n(json!(1)), &n(json!(0))).is_err());
        assert!(as_number(&json!("abc")).is_none());
    }
}

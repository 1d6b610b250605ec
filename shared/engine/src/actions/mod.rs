//! The action runner: a hook's actions, in order, against a template context.
//! Each kind of action runs in its own module: `http` (`http_request`, and
//! the sending every outside call shares), `chat` (`discord_message`,
//! `discord_followup`, `slack_message`, `telegram_message`), `variables` (`set_variable`,
//! `update_variable`, `delete_variable`), `condition`, `publish`; a
//! `log` runs here.
//!
//! Failure semantics: a failing action stops the run unless it says
//! `continue_on_error`. The dispatcher retries a failed run as a whole only
//! when nothing with an effect (an outside call, a variable write, a
//! publish) has succeeded before the failure and the failure is transient
//! (a connection error, a timeout, a 408, 409, 425, 429 or 5xx); otherwise
//! the run is recorded as failed, naming the action and the reason. A
//! refused target, any other 4xx and a template that cannot render are
//! permanent.
//!
//! Progress (`progress`): each action with an effect that completes is
//! checkpointed (see [`Checkpoints`]); a run cut short resumes from the
//! first action without an outcome ([`RunState::resuming`]). Every outside
//! call carries `Idempotency-Key: {run id}:{action path}`
//! ([`RunState::idempotency_key`]), the same on every try of that action.

use std::sync::Arc;
use std::time::Instant;

use futures::future::BoxFuture;
use hooklane_domain::{Action, ActionResult, ActionSpec, ActionStatus, BotId};
use hooklane_runtime::outbound::TargetError;
use hooklane_runtime::Services;
use hooklane_template::{
    render_json, render_json_with, render_str, render_str_with, Context, Escaper,
};
use serde_json::{json, Map, Value};

use crate::mask::Secrets;
use crate::platforms::cut;

mod chat;
mod condition;
mod http;
mod progress;
mod publish;
mod values;
mod variables;

pub use condition::compare;
pub use progress::Checkpoints;
pub use variables::MAX_VARIABLE_BYTES;

/// How much of a `log` message goes to the run log, in characters.
pub const MAX_LOG_MESSAGE: usize = 2000;

/// Everything a run reads and writes besides the services.
pub struct RunState {
    /// The template context placeholders render from (`payload`, `var`, …);
    /// variable writes update its `var` as they succeed.
    pub tpl: Context,
    /// The bot the run belongs to (its variables, its publishes).
    pub bot_id: BotId,
    /// Publish depth of the call that started this run.
    pub depth: u32,
    /// Placeholders that were not found, in order of first appearance.
    pub unknown: Vec<String>,
    /// True once an action with an effect has succeeded.
    pub effect: bool,
    /// The run's id (the call's event id), the start of idempotency keys.
    run_id: Option<String>,
    progress: progress::Progress,
    /// The credentials the run's actions have rendered (URL tokens, bot
    /// tokens, credential headers), masked in every result it logs.
    secrets: Secrets,
}

impl RunState {
    /// A fresh run at publish depth `depth`: nothing unknown, no effect yet,
    /// no id (so no idempotency keys), no checkpoints.
    pub fn new(tpl: Context, bot_id: BotId, depth: u32) -> Self {
        Self {
            tpl,
            bot_id,
            depth,
            unknown: Vec::new(),
            effect: false,
            run_id: None,
            progress: progress::Progress::default(),
            secrets: Secrets::default(),
        }
    }

    /// The run's id: outside calls carry `Idempotency-Key: {id}:{path}`.
    pub fn for_run(mut self, id: impl Into<String>) -> Self {
        self.run_id = Some(id.into());
        self
    }

    /// Sends the run's progress to `sink` as actions complete.
    pub fn with_checkpoints(mut self, sink: Arc<dyn Checkpoints>) -> Self {
        self.progress.sink = Some(sink);
        self
    }

    /// Resumes a run cut short from its checkpoint: `recorded` are the
    /// checkpoint's results (top-level, a condition part done last with
    /// status `running`), `unknown` its placeholders not found. Actions with
    /// an outcome there are not run again and keep their results; the run
    /// goes on from the first action without one (inside a condition's
    /// recorded branch, when it stopped there). An effect among the recorded
    /// results counts as the run's effect.
    pub fn resuming(mut self, recorded: Vec<ActionResult>, unknown: Vec<String>) -> Self {
        self.progress.resume = Some(recorded);
        self.note_unknown(unknown);
        self
    }

    /// The idempotency key of the action running now: `{run id}:{path}`,
    /// the path being its place in the hook (`2`, or `2.then.0` inside a
    /// condition); `None` for a run without an id.
    pub fn idempotency_key(&self) -> Option<String> {
        self.run_id
            .as_ref()
            .map(|id| format!("{id}:{}", self.progress.path()))
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

    /// Renders a text template whose substituted values are escaped by
    /// `escape` (a chat text in its platform's markup).
    fn text_escaped(&mut self, template: &str, escape: Escaper<'_>) -> String {
        let r = render_str_with(template, &self.tpl, escape);
        self.note_unknown(r.unknown);
        r.value
    }

    /// Renders a JSON template whose substituted strings are escaped by
    /// `escape` (chat blocks in their platform's markup).
    fn json_escaped(&mut self, template: &Value, escape: Escaper<'_>) -> Value {
        let r = render_json_with(template, &self.tpl, escape);
        self.note_unknown(r.unknown);
        r.value
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
    /// What it renders is a credential for the rest of the run: a bot
    /// token whole, a URL's token parts (a chat webhook URL's last segment
    /// too), masked wherever the run log would repeat them.
    fn target(&mut self, template: &str, what: &str) -> Result<String, ActionError> {
        let (value, unknown) = self.text_and_unknown(template);
        match what {
            "bot token" => self.secrets.add(&value),
            "webhook URL" => self.secrets.add_url(&value, true),
            _ => self.secrets.add_url(&value, false),
        }
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
    /// One result per action that ran, in order (the branch of a
    /// `condition` inside its own result's detail).
    pub results: Vec<ActionResult>,
    /// The action that stopped the run and why.
    pub failure: Option<Failure>,
}

/// The action that stopped a run.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    /// Its position in its list, from 0.
    pub index: usize,
    /// Its type, as in the hook's JSON (`http_request`, …).
    pub kind: String,
    /// Why it failed, for the run log (never a secret or token).
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

    /// A refused target (permanent), without the URL itself when it is
    /// malformed (it may hold a token).
    fn target(e: TargetError) -> Self {
        match e {
            TargetError::Invalid(_) => Self::permanent("the URL is not a valid URL"),
            other => Self::permanent(other.to_string()),
        }
    }
}

type ActionResultOf = Result<Value, ActionError>;

/// Runs `actions` in order; results are numbered from 0 within the list.
/// A failing action stops the list unless it says `continue_on_error`;
/// failures are in the [`Outcome`], never an `Err`. Boxed, as a `condition`
/// runs its branch through it. A resumed run
/// ([`RunState::resuming`]) skips what is recorded.
pub fn run_actions<'a>(
    svc: &'a Services,
    actions: &'a [ActionSpec],
    state: &'a mut RunState,
) -> BoxFuture<'a, Outcome> {
    Box::pin(async move {
        let (done, mut running) = match state.progress.resume.take() {
            Some(recorded) => progress::split_recorded(recorded, actions.len()),
            None => (Vec::new(), None),
        };
        if progress::recorded_effect(actions, &done) {
            state.effect = true;
        }
        let start = done.len();
        state.progress.enter(done);
        for (index, spec) in actions.iter().enumerate().skip(start) {
            state.progress.at(index, actions.len());
            let started = Instant::now();
            let result = match (running.take().filter(|r| r.index == index), &spec.action) {
                (
                    Some(recorded),
                    Action::Condition {
                        then, otherwise, ..
                    },
                ) => condition::resume(svc, state, recorded.detail, then, otherwise).await,
                _ => run_one(svc, &spec.action, state).await,
            };
            let result = result
                .map(|mut detail| {
                    state.secrets.mask_json(&mut detail);
                    detail
                })
                .map_err(|mut e| {
                    // The target's answer may echo the request: its path,
                    // its Authorization header.
                    e.reason = state.secrets.mask(&e.reason);
                    state.secrets.mask_json(&mut e.detail);
                    e
                });
            let duration_ms = started.elapsed().as_millis() as u64;
            let kind = spec.action.kind().to_owned();
            match result {
                Ok(detail) => {
                    if has_effect(&spec.action) {
                        state.effect = true;
                    }
                    state.progress.push(ActionResult {
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
                    state.progress.push(ActionResult {
                        index,
                        kind: kind.clone(),
                        status: ActionStatus::Failed,
                        duration_ms,
                        detail: Value::Object(detail),
                    });
                    if !spec.continue_on_error {
                        return Outcome {
                            results: state.progress.leave(),
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
            if has_effect(&spec.action) && state.progress.more() {
                state.checkpoint().await;
            }
        }
        Outcome {
            results: state.progress.leave(),
            failure: None,
        }
    })
}

impl RunState {
    /// Saves the run so far through the checkpoint sink, if any.
    async fn checkpoint(&self) {
        if let Some(sink) = &self.progress.sink {
            sink.save(&self.progress.snapshot(), &self.unknown).await;
        }
    }
}

/// Whether an action changes something beyond the run log when it succeeds:
/// an outside call, a publish, a variable write.
fn has_effect(action: &Action) -> bool {
    action.has_outside_effect() || is_variable_write(action)
}

fn is_variable_write(action: &Action) -> bool {
    matches!(
        action,
        Action::SetVariable { .. } | Action::UpdateVariable { .. } | Action::DeleteVariable { .. }
    )
}

/// Runs one action: hands it to the function for its kind.
async fn run_one(svc: &Services, action: &Action, state: &mut RunState) -> ActionResultOf {
    match action {
        Action::Log { message } => Ok(log(state, message)),
        Action::HttpRequest {
            method,
            url,
            headers,
            body,
        } => http::request(svc, state, method, url, headers, body.as_ref()).await,
        Action::DiscordMessage {
            webhook_url,
            content,
            embeds,
            username,
            allowed_mentions,
        } => {
            let message = chat::DiscordMessage {
                content: content.as_deref(),
                embeds: embeds.as_deref(),
                username: username.as_deref(),
                allowed_mentions: allowed_mentions.as_ref(),
            };
            chat::discord(svc, state, webhook_url.expose_secret(), message).await
        }
        Action::DiscordFollowup {
            content,
            embeds,
            allowed_mentions,
            ephemeral,
            edit_original,
        } => {
            let message = chat::DiscordMessage {
                content: content.as_deref(),
                embeds: embeds.as_deref(),
                username: None,
                allowed_mentions: allowed_mentions.as_ref(),
            };
            let followup = chat::Followup {
                ephemeral: *ephemeral,
                edit_original: *edit_original,
            };
            chat::discord_followup(svc, state, message, followup).await
        }
        Action::SlackMessage {
            webhook_url,
            text,
            blocks,
        } => {
            chat::slack(
                svc,
                state,
                webhook_url.expose_secret(),
                text,
                blocks.as_deref(),
            )
            .await
        }
        Action::TelegramMessage {
            bot_token,
            chat_id,
            text,
            parse_mode,
        } => {
            chat::telegram(
                svc,
                state,
                bot_token.expose_secret(),
                chat_id,
                text,
                parse_mode.as_deref(),
            )
            .await
        }
        Action::SetVariable { name, value } => variables::set(svc, state, name, value).await,
        Action::UpdateVariable { name, op, value } => {
            variables::update(svc, state, name, *op, value).await
        }
        Action::DeleteVariable { name } => variables::delete(svc, state, name).await,
        Action::Condition {
            condition,
            then,
            otherwise,
        } => condition::run(svc, state, condition, then, otherwise).await,
        Action::Publish { event, data } => publish::run(svc, state, event, data).await,
    }
}

/// `log`: the rendered message, cut to [`MAX_LOG_MESSAGE`] characters, to
/// the process log and the run log.
fn log(state: &mut RunState, message: &str) -> Value {
    let (message, _) = cut(&state.text(message), MAX_LOG_MESSAGE);
    tracing::info!(action.message = %message, "hook action log");
    json!({ "message": message })
}

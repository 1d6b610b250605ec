//! The state one run carries through its actions ([`RunState`]: the
//! template context, the progress, the credentials to mask) and what an
//! action answers ([`ActionResultOf`], [`ActionError`]). Every action kind
//! reads and writes the run through these.

use std::sync::Arc;
use std::time::Duration;

use hooklane_domain::{ActionResult, BotId};
use hooklane_runtime::outbound::TargetError;
use hooklane_template::{
    render_json, render_json_with, render_str, render_str_with, Context, Escaper,
};
use serde_json::{Map, Value};

use super::progress::{Checkpoints, Progress};
use crate::mask::Secrets;

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
    /// True once an action that can have an effect (an outside call, a
    /// variable write, a publish) has run, whatever its outcome: from then
    /// on the run is not put back in the queue for a busy host (it would
    /// repeat that action); its calls wait for their turn.
    pub touched: bool,
    /// Set when an outside call was not sent because its host already had
    /// its share of calls in flight
    /// ([`HOST_IN_FLIGHT`](hooklane_runtime::outbound::HOST_IN_FLIGHT))
    /// before the run was [`touched`](Self::touched): the run stopped
    /// there, and its dispatcher puts the call back in the queue for this
    /// long, to run again from the start (not an attempt).
    pub deferred: Option<Duration>,
    /// The run's id (the call's event id), the start of idempotency keys.
    run_id: Option<String>,
    pub(super) progress: Progress,
    /// The credentials the run's actions have rendered (URL tokens, bot
    /// tokens, credential headers), masked in every result it logs.
    pub(super) secrets: Secrets,
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
            touched: false,
            deferred: None,
            run_id: None,
            progress: Progress::default(),
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

    pub(super) fn note_unknown(&mut self, unknown: Vec<String>) {
        for u in unknown {
            if !self.unknown.contains(&u) {
                self.unknown.push(u);
            }
        }
    }

    pub(super) fn text(&mut self, template: &str) -> String {
        self.text_and_unknown(template).0
    }

    /// Renders a text template whose substituted values are escaped by
    /// `escape` (a chat text in its platform's markup).
    pub(super) fn text_escaped(&mut self, template: &str, escape: Escaper<'_>) -> String {
        let r = render_str_with(template, &self.tpl, escape);
        self.note_unknown(r.unknown);
        r.value
    }

    /// Renders a JSON template whose substituted strings are escaped by
    /// `escape` (chat blocks in their platform's markup).
    pub(super) fn json_escaped(&mut self, template: &Value, escape: Escaper<'_>) -> Value {
        let r = render_json_with(template, &self.tpl, escape);
        self.note_unknown(r.unknown);
        r.value
    }

    /// Renders a text template; also answers the placeholders of this
    /// template that were not found.
    pub(super) fn text_and_unknown(&mut self, template: &str) -> (String, Vec<String>) {
        let r = render_str(template, &self.tpl);
        self.note_unknown(r.unknown.clone());
        (r.value, r.unknown)
    }

    /// Renders a URL (or a token that goes into one): a placeholder that
    /// was not found would send the call to a wrong address, so it fails
    /// the action instead.
    /// What it renders is a credential for the rest of the run: a bot
    /// token whole, a URL's token parts (a chat webhook URL's last segment
    /// too), masked wherever the run log would repeat them. The failure
    /// names the placeholder that was not found (a name is no secret):
    /// what was rendered then goes nowhere and is not taken as a
    /// credential, which would mask the name.
    pub(super) fn target(&mut self, template: &str, what: &str) -> Result<String, ActionError> {
        let (value, unknown) = self.text_and_unknown(template);
        if let Some(name) = unknown.first() {
            return Err(ActionError::permanent(format!(
                "the {what} holds the placeholder {{{name}}}, which was not found"
            )));
        }
        match what {
            "bot token" => self.secrets.add(&value),
            "webhook URL" => self.secrets.add_url(&value, true),
            _ => self.secrets.add_url(&value, false),
        }
        Ok(value)
    }

    pub(super) fn json(&mut self, template: &Value) -> Value {
        let r = render_json(template, &self.tpl);
        self.note_unknown(r.unknown);
        r.value
    }

    /// Renders a JSON template that must be complete (an address such as a
    /// chat id): a placeholder that was not found fails the action.
    pub(super) fn complete_json(
        &mut self,
        template: &Value,
        what: &str,
    ) -> Result<Value, ActionError> {
        let r = render_json(template, &self.tpl);
        self.note_unknown(r.unknown.clone());
        match r.unknown.first() {
            None => Ok(r.value),
            Some(name) => Err(ActionError::permanent(format!(
                "the {what} holds the placeholder {{{name}}}, which was not found"
            ))),
        }
    }

    pub(super) fn set_var(&mut self, name: &str, value: Option<Value>) {
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

    /// Saves the run so far through the checkpoint sink, if any.
    pub(super) async fn checkpoint(&self) {
        if let Some(sink) = &self.progress.sink {
            sink.save(&self.progress.snapshot(), &self.unknown).await;
        }
    }
}

/// A failed action: what to log and whether a retry may help.
pub(super) struct ActionError {
    /// Why it failed, for the run log.
    pub(super) reason: String,
    /// What the run log shows beside the reason (a target's answer, …).
    pub(super) detail: Value,
    /// Worth retrying the whole run.
    pub(super) transient: bool,
    /// Not sent because its host was over its share: the run is put back
    /// in the queue for this long, whatever `continue_on_error` says (see
    /// [`RunState::deferred`]).
    pub(super) deferred: Option<Duration>,
}

impl ActionError {
    /// A failure no retry mends.
    pub(super) fn permanent(reason: impl Into<String>) -> Self {
        Self {
            reason: reason.into(),
            detail: Value::Null,
            transient: false,
            deferred: None,
        }
    }

    /// A refused target (permanent), without the URL itself when it is
    /// malformed (it may hold a token).
    pub(super) fn target(e: TargetError) -> Self {
        match e {
            TargetError::Invalid(_) => Self::permanent("the URL is not a valid URL"),
            other => Self::permanent(other.to_string()),
        }
    }
}

/// What an action answers: its run-log detail, or why it failed.
pub(super) type ActionResultOf = Result<Value, ActionError>;

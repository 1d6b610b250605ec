//! The action runner: a hook's actions, in order, against a template context.
//! Each kind of action runs in its own module: `http` (`http_request`, and
//! the sending every outside call shares), `chat` (`discord_message`,
//! `discord_followup`, `slack_message`, `telegram_message`), `variables` (`set_variable`,
//! `update_variable`, `delete_variable`), `condition`, `publish`; a
//! `log` runs here. What they share is in `state` ([`RunState`], the
//! action's error) and `progress` (checkpoints, resuming, which actions
//! have an effect).
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
//! Hosts' shares: an outside call over its host's share of calls in flight
//! ([`HOST_IN_FLIGHT`](hooklane_runtime::outbound::HOST_IN_FLIGHT)) in a
//! run that has made no outside call or write yet is not sent; the run
//! stops there with [`RunState::deferred`] set, and the dispatcher puts
//! the call back in the queue, to run again from the start (not an
//! attempt). In a run that has, the call waits for its turn.
//!
//! Progress (`progress`): each action with an effect that completes is
//! checkpointed (see [`Checkpoints`]); a run cut short resumes from the
//! first action without an outcome ([`RunState::resuming`]). Every outside
//! call carries `Idempotency-Key: {run id}:{action path}`
//! ([`RunState::idempotency_key`]), the same on every try of that action.

use std::time::Instant;

use futures::future::BoxFuture;
use hooklane_domain::{Action, ActionResult, ActionSpec, ActionStatus};
use hooklane_runtime::Services;
use serde_json::{json, Map, Value};

use self::progress::has_effect;
use self::state::ActionResultOf;
use crate::platforms::cut;

mod chat;
mod condition;
mod http;
mod progress;
mod publish;
mod state;
mod values;
mod variables;

pub use condition::compare;
pub use progress::Checkpoints;
use state::ActionError;
pub use state::RunState;
pub use variables::MAX_VARIABLE_BYTES;

/// How much of a `log` message goes to the run log, in characters.
pub const MAX_LOG_MESSAGE: usize = 2000;

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
            // Not sent for its host's share (here or in a branch): the run
            // stops whole, to be put back in the queue.
            if let Err(ActionError {
                deferred: Some(wait),
                ..
            }) = &result
            {
                state.deferred = Some(*wait);
            }
            if state.deferred.is_some() {
                return Outcome {
                    results: state.progress.leave(),
                    failure: Some(Failure {
                        index,
                        kind,
                        reason: result.err().map(|e| e.reason).unwrap_or_default(),
                        transient: true,
                    }),
                };
            }
            if has_effect(&spec.action) {
                state.touched = true;
            }
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

//! The one way into the queue, for hook calls and publishes alike: claim the
//! idempotency key, enqueue the envelope, release the claim when the enqueue
//! fails, and turn a queue error into the contract's answer (503
//! `unavailable`, or 413 `payload_too_large` when the envelope is over the
//! queue's size).

use std::time::Duration;

use hooklane_domain::{BotId, Envelope, HookId, IdempotencyKey, Job};
use hooklane_runtime::Services;
use hooklane_store::{ClaimScope, QueueError};
use hooklane_web::ApiError;
use time::OffsetDateTime;

/// Idempotency ids (`webhook-id`, `X-GitHub-Delivery`, Stripe event ids,
/// `Idempotency-Key`) are remembered this long: 24 hours from the first call.
pub const IDEMPOTENCY_WINDOW: Duration = Duration::from_secs(24 * 3600);

/// What is being taken in. It names the idempotency claim's scope (claims
/// are per hook for calls, per bot for publishes) and what a 413 says is
/// too large.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Subject<'a> {
    /// An inbound call of this hook.
    HookCall(&'a HookId),
    /// An event a bot publishes.
    Publish,
}

/// How an intake ended when the work was accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Intake {
    /// The envelope is durably queued.
    Queued,
    /// The idempotency key was claimed within [`IDEMPOTENCY_WINDOW`] by an
    /// earlier call; nothing was queued. Holds the id the first one was
    /// answered with (`evt_…` or `msg_…`).
    Duplicate(String),
}

/// Takes in `job` for `bot`: the only place the ingress writes the queue.
///
/// With an `idempotency_key`, the key is claimed for `id` (the job's `evt_…`/`msg_…` id)
/// until `now` + [`IDEMPOTENCY_WINDOW`]; a key already claimed answers
/// [`Intake::Duplicate`] and queues nothing. The envelope goes on the queue
/// with no delay; if that fails the claim is released, so a retry of the
/// same call is not taken for a duplicate.
///
/// # Errors
/// A store error while claiming (via `From<StoreError>`: 503 `unavailable`
/// when the store cannot answer, else 500 `internal`);
/// [`QueueError::TooLarge`] as 413 `payload_too_large`; any other queue
/// error as 503 `unavailable` (nothing was accepted).
pub(crate) async fn take_in(
    svc: &Services,
    bot: &BotId,
    subject: Subject<'_>,
    idempotency_key: Option<&IdempotencyKey>,
    id: &str,
    job: Job,
    now: OffsetDateTime,
) -> Result<Intake, ApiError> {
    let scope = subject.claim_scope();
    if let Some(key) = idempotency_key {
        let expires = now + IDEMPOTENCY_WINDOW;
        let claimed = svc
            .store
            .claim_idempotency_key(bot, scope, key, id, expires, now);
        if let Some(first) = claimed.await? {
            return Ok(Intake::Duplicate(first));
        }
    }
    let Err(e) = svc.enqueue(Envelope::now(job), Duration::ZERO).await else {
        return Ok(Intake::Queued);
    };
    if let Some(key) = idempotency_key {
        if let Err(release) = svc.store.release_idempotency_key(bot, scope, key).await {
            tracing::error!(error.message = %release, "an idempotency claim could not be released");
        }
    }
    Err(match e {
        QueueError::TooLarge { max, .. } => ApiError::too_large(subject.too_large(max)),
        other => other.into(),
    })
}

impl<'a> Subject<'a> {
    /// The scope an idempotency key is claimed in.
    fn claim_scope(self) -> ClaimScope<'a> {
        match self {
            Subject::HookCall(hook_id) => ClaimScope::HookCall(hook_id),
            Subject::Publish => ClaimScope::Publish,
        }
    }

    /// The message of a 413 for an envelope over `max` bytes.
    fn too_large(self, max: usize) -> String {
        match self {
            Subject::HookCall(_) => {
                "the call, with its headers and query, is larger than the queue carries".to_owned()
            }
            Subject::Publish => format!("the event is larger than the queue carries ({max} bytes)"),
        }
    }
}

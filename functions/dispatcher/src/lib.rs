//! The dispatcher: runs what the queue carries: a hook call's actions
//! (`hook_call`), a published event's fan-out (`fan_out`) and one delivery
//! attempt (`deliver`). `process` handles one envelope and knows nothing of Lambda; `handle_batch` wraps it for an SQS
//! event (partial batch failures), and `poll` for the embedded queue.

use std::panic::AssertUnwindSafe;
use std::time::Duration;

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use futures::future::BoxFuture;
use futures::FutureExt;
use hooklane_domain::{Envelope, Job};
use hooklane_runtime::Services;
use tracing::Instrument;

mod deliver;
mod fan_out;
mod hook_call;

pub use deliver::deliver;
pub use fan_out::{fan_out, subscribed};
pub use hook_call::run_hook_call;

/// Why an envelope could not be handled; the queue will hand it back.
#[derive(Debug, thiserror::Error)]
pub enum DispatchError {
    /// The body is not a JSON envelope.
    #[error("the message is not a Hooklane envelope: {0}")]
    Malformed(#[from] serde_json::Error),
    /// A store or queue error (or a panic) while handling it.
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

/// Handles one envelope. `receive_count` is how many times the queue has
/// handed its message over (1 on the first receive; 0 when not known), so
/// a first receive skips looking for what an earlier one left. `Ok` means
/// it is done with (even when the work failed and was logged, or was
/// scheduled again); `Err` means the queue must hand it back later.
pub async fn process(
    svc: &Services,
    envelope: Envelope,
    receive_count: u32,
) -> Result<(), DispatchError> {
    if let Some(not_before) = envelope.not_before {
        let now = svc.now();
        if not_before > now {
            let wait = (not_before - now).unsigned_abs();
            tracing::debug!(wait_s = wait.as_secs(), "not due yet; sent back");
            svc.enqueue(envelope, wait)
                .await
                .map_err(anyhow::Error::from)?;
            return Ok(());
        }
    }
    match envelope.job {
        Job::HookCall(call) => run_hook_call(svc, call, receive_count).await,
        Job::Publish(publish) => fan_out(svc, publish)
            .await
            .map_err(DispatchError::Unexpected),
        Job::Deliver(job) => deliver(svc, job).await.map_err(DispatchError::Unexpected),
    }
}

/// What the dispatcher runs for one envelope: [`process`] (see
/// [`run`]) in production. [`handle_batch_with`] and [`poll_with`] take
/// another so a test can make one record panic or fail.
pub trait Handler:
    Fn(Services, Envelope, u32) -> BoxFuture<'static, Result<(), DispatchError>>
    + Clone
    + Send
    + Sync
    + 'static
{
}

impl<H> Handler for H where
    H: Fn(Services, Envelope, u32) -> BoxFuture<'static, Result<(), DispatchError>>
        + Clone
        + Send
        + Sync
        + 'static
{
}

/// The production [`Handler`]: [`process`] on an owned [`Services`].
pub fn run(
    svc: Services,
    envelope: Envelope,
    receive_count: u32,
) -> BoxFuture<'static, Result<(), DispatchError>> {
    async move { process(&svc, envelope, receive_count).await }.boxed()
}

/// Parses and processes one message body (received `receive_count` times,
/// as [`process`] takes it), catching panics, in a span that carries the
/// queue's id for the message and the ids of the job it holds.
pub async fn process_body(
    svc: &Services,
    body: &str,
    queue_message_id: &str,
    receive_count: u32,
) -> Result<(), DispatchError> {
    process_body_with(svc, body, queue_message_id, receive_count, &run).await
}

/// [`process_body`] with `handler` in place of [`process`]; a panic of the
/// handler is this message's `Unexpected` error, nothing more.
pub async fn process_body_with(
    svc: &Services,
    body: &str,
    queue_message_id: &str,
    receive_count: u32,
    handler: &impl Handler,
) -> Result<(), DispatchError> {
    let span = tracing::info_span!(
        "dispatch",
        queue_message_id,
        receive_count,
        job = tracing::field::Empty,
        bot_id = tracing::field::Empty,
        event_id = tracing::field::Empty,
        message_id = tracing::field::Empty,
        endpoint_id = tracing::field::Empty,
    );
    async {
        let envelope: Envelope = serde_json::from_str(body)?;
        record_ids(&envelope.job);
        // The handler's future is built inside the guard too: a handler that
        // panics before its first await fails this message alone.
        let handled =
            AssertUnwindSafe(async { handler(svc.clone(), envelope, receive_count).await })
                .catch_unwind()
                .await;
        match handled {
            Ok(result) => result,
            Err(_) => Err(DispatchError::Unexpected(anyhow::anyhow!(
                "the handler panicked"
            ))),
        }
    }
    .instrument(span)
    .await
}

/// Puts the job's ids on the current span, so every line about it (a send
/// back, a failure) names them.
fn record_ids(job: &Job) {
    let span = tracing::Span::current();
    match job {
        Job::HookCall(c) => {
            span.record("job", "hook_call");
            span.record("bot_id", tracing::field::display(&c.bot_id));
            span.record("event_id", tracing::field::display(&c.call_id));
        }
        Job::Publish(p) => {
            span.record("job", "publish");
            span.record("bot_id", tracing::field::display(&p.bot_id));
            span.record("message_id", tracing::field::display(&p.message_id));
        }
        Job::Deliver(d) => {
            span.record("job", "deliver");
            span.record("bot_id", tracing::field::display(&d.bot_id));
            span.record("message_id", tracing::field::display(&d.message_id));
            span.record("endpoint_id", tracing::field::display(&d.endpoint_id));
        }
    }
}

/// Logs a message that failed and hands it back to the queue to be seen
/// again after [`redelivery_delay`] (`ChangeMessageVisibility` on SQS),
/// not after the queue's whole visibility timeout (6 minutes). On the
/// message's last receive (the queue's `max_receives`, when it knows it)
/// the line is an error that says it goes to the dead-letter queue, and
/// the `DeadLettered` metric counts it. The line names the queue's id for
/// the message and its receive count, never its body. `Err` when the
/// queue could not take it back (the message then waits out its
/// visibility timeout).
async fn give_back(
    svc: &Services,
    e: &DispatchError,
    queue_message_id: &str,
    receipt: &str,
    receive_count: u32,
) -> Result<(), hooklane_store::QueueError> {
    match svc.queue.max_receives().await {
        Some(max_receives) if receive_count >= max_receives => {
            tracing::error!(
                queue_message_id,
                receive_count,
                max_receives,
                error.message = %e,
                error.cause_chain = ?e,
                "dispatch failed on the message's last receive; the queue moves it to the dead-letter queue"
            );
            hooklane_runtime::metrics::count("DeadLettered", &[]);
        }
        _ => tracing::error!(
            queue_message_id,
            receive_count,
            error.message = %e,
            error.cause_chain = ?e,
            "dispatch failed; the queue will retry"
        ),
    }
    svc.queue
        .retry_after(receipt, redelivery_delay(receive_count))
        .await
}

/// The Lambda entry point: every record runs concurrently; only the records
/// that failed are reported, so SQS retries them alone (and moves them to
/// the dead-letter queue after the redrive policy's receives). A failed
/// record is made visible again after [`redelivery_delay`] (seconds), so
/// an outage of the store delays it by seconds, not by the queue's
/// visibility timeout.
pub async fn handle_batch(svc: &Services, event: SqsEvent) -> SqsBatchResponse {
    handle_batch_with(svc, event, run).await
}

/// [`handle_batch`] with `handler` in place of [`process`] for each record.
pub async fn handle_batch_with(
    svc: &Services,
    event: SqsEvent,
    handler: impl Handler,
) -> SqsBatchResponse {
    let handler = &handler;
    let results = futures::future::join_all(event.records.iter().map(|record| async move {
        let id = record.message_id.clone().unwrap_or_default();
        let body = record.body.as_deref().unwrap_or_default();
        // 0 (not known) when the event source left the attribute out.
        let receives = record
            .attributes
            .get("ApproximateReceiveCount")
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        match process_body_with(svc, body, &id, receives, handler).await {
            Ok(()) => None,
            Err(e) => {
                let receipt = record.receipt_handle.as_deref().unwrap_or_default();
                if let Err(qe) = give_back(svc, &e, &id, receipt, receives).await {
                    tracing::warn!(queue_message_id = %id, error.message = %qe, "the message could not be made visible sooner; it waits out the queue's visibility timeout");
                }
                Some(id)
            }
        }
    }))
    .await;
    let mut response = SqsBatchResponse::default();
    for id in results.into_iter().flatten() {
        let mut failure = BatchItemFailure::default();
        failure.item_identifier = id;
        response.batch_item_failures.push(failure);
    }
    response
}

/// The wait before a failed message is received again: 5 s, 10 s, 20 s, …, at most 5 minutes.
pub fn redelivery_delay(receive_count: u32) -> Duration {
    Duration::from_secs(
        5u64.saturating_mul(1 << receive_count.saturating_sub(1).min(6))
            .min(300),
    )
}

/// The embedded queue's poller (`hooklane dev`, also on SQS with
/// `--backend aws`): receives up to [`RECEIVE_BATCH`] at a time, runs up to
/// [`POLL_IN_FLIGHT`] messages at once, each as its own task (so a slow
/// one holds back neither the others nor the next receive), deletes what
/// is done in batches ([`ACK_GATHER`]) and hands back what failed, until
/// `shutdown` turns true.
pub async fn poll(svc: Services, shutdown: tokio::sync::watch::Receiver<bool>) {
    poll_with(svc, shutdown, run).await
}

/// [`poll`] with `handler` in place of [`process`] for each message.
pub async fn poll_with(
    svc: Services,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
    handler: impl Handler,
) {
    let slots = std::sync::Arc::new(tokio::sync::Semaphore::new(POLL_IN_FLIGHT));
    let (done_tx, done_rx) = tokio::sync::mpsc::unbounded_channel::<String>();
    let acker = tokio::spawn(ack_in_batches(svc.clone(), done_rx));
    let mut running = tokio::task::JoinSet::new();
    loop {
        if *shutdown.borrow() {
            break;
        }
        while running.try_join_next().is_some() {}
        let free = slots.available_permits().min(RECEIVE_BATCH);
        if free == 0 {
            tokio::select! {
                _ = running.join_next() => {}
                _ = shutdown.changed() => break,
            }
            continue;
        }
        let received = tokio::select! {
            r = svc.queue.receive(free, Duration::from_secs(1)) => r,
            _ = shutdown.changed() => break,
        };
        let messages = match received {
            Ok(m) => m,
            Err(e) => {
                tracing::error!(error.message = %e, error.cause_chain = ?e, "the queue could not be read");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        for m in messages {
            let Ok(permit) = slots.clone().try_acquire_owned() else {
                // Cannot happen (at most `free` messages); hand it back at once.
                let _ = svc.queue.retry_after(&m.receipt, Duration::ZERO).await;
                continue;
            };
            let svc = svc.clone();
            let done = done_tx.clone();
            let handler = handler.clone();
            running.spawn(async move {
                let work = process_body_with(&svc, &m.body, &m.receipt, m.receive_count, &handler);
                let result = keeping_hidden(&svc, &m.receipt, work).await;
                // Its slot is free once it is handled, handed back or not.
                drop(permit);
                match result {
                    // The acker deletes it with others that finished about now.
                    Ok(()) => {
                        let _ = done.send(m.receipt);
                    }
                    Err(e) => {
                        let given =
                            give_back(&svc, &e, &m.receipt, &m.receipt, m.receive_count).await;
                        if given.is_err() {
                            hand_back_when_the_queue_answers(&svc, &m.receipt, m.receive_count)
                                .await;
                        }
                    }
                }
            });
        }
    }
    // Let the messages in hand finish, and their deletes go out, before stopping.
    while running.join_next().await.is_some() {}
    drop(done_tx);
    let _ = acker.await;
}

/// Runs `work` on the message of `receipt`, extending its visibility by
/// [`HIDDEN_FOR`] every [`HEARTBEAT`] while it runs (SQS hides what the
/// poller receives only briefly, so that a receive lost in an outage frees
/// its messages soon; the embedded queue needs no extension).
async fn keeping_hidden<T>(
    svc: &Services,
    receipt: &str,
    work: impl std::future::Future<Output = T>,
) -> T {
    tokio::pin!(work);
    loop {
        tokio::select! {
            out = &mut work => return out,
            _ = tokio::time::sleep(HEARTBEAT) => {
                if let Err(e) = svc.queue.extend_visibility(receipt, HIDDEN_FOR).await {
                    tracing::warn!(queue_message_id = receipt, error.message = %e, "the message's visibility could not be extended; another receive may take it");
                }
            }
        }
    }
}

/// Keeps trying to make a failed message visible again (the queue is
/// down too: a frozen or unreachable SQS), waiting 1 s, 2 s, 4 s, … at
/// most [`GIVE_BACK_PATIENCE`] in all, so after an outage of both store and
/// queue the message runs again seconds after the queue answers, not after
/// its visibility timeout. Past that the timeout frees it anyway.
async fn hand_back_when_the_queue_answers(svc: &Services, receipt: &str, receive_count: u32) {
    let started = tokio::time::Instant::now();
    let mut wait = Duration::from_secs(1);
    loop {
        tokio::time::sleep(wait).await;
        match svc
            .queue
            .retry_after(receipt, redelivery_delay(receive_count))
            .await
        {
            Ok(()) => return,
            Err(e) if started.elapsed() + wait >= GIVE_BACK_PATIENCE => {
                tracing::warn!(queue_message_id = receipt, error.message = %e, "the message could not be handed back; it waits out the queue's visibility timeout");
                return;
            }
            Err(_) => wait = (wait * 2).min(Duration::from_secs(8)),
        }
    }
}

/// Deletes finished messages in batches: what finished within
/// [`ACK_GATHER`] of the first one (at most [`ACK_BATCH`]) goes in one
/// `delete_batch`. Ends when every sender is gone and all is deleted.
async fn ack_in_batches(svc: Services, mut done: tokio::sync::mpsc::UnboundedReceiver<String>) {
    while let Some(first) = done.recv().await {
        let mut receipts = vec![first];
        let gather = tokio::time::sleep(ACK_GATHER);
        tokio::pin!(gather);
        while receipts.len() < ACK_BATCH {
            tokio::select! {
                next = done.recv() => match next {
                    Some(r) => receipts.push(r),
                    None => break,
                },
                _ = &mut gather => break,
            }
        }
        for e in svc
            .queue
            .delete_batch(&receipts)
            .await
            .into_iter()
            .filter_map(Result::err)
        {
            // Not deleted: the message comes back after its visibility
            // timeout, and its row says it finished, so it is dropped then.
            tracing::error!(error.message = %e, "a finished message could not be deleted");
        }
    }
}

/// How long the poller keeps trying to hand a failed message back to a
/// queue that does not answer (the embedded and SAM queues' visibility
/// timeout is 6 minutes).
pub const GIVE_BACK_PATIENCE: Duration = Duration::from_secs(300);

/// How often the poller extends the visibility of a message it is still
/// working on.
pub const HEARTBEAT: Duration = Duration::from_secs(5);

/// How long each extension hides the message from now (four heartbeats).
pub const HIDDEN_FOR: Duration = Duration::from_secs(20);

/// How many messages `poll` works on at once.
pub const POLL_IN_FLIGHT: usize = 128;

/// The most messages `poll` asks the queue for at once (SQS answers at most 10).
pub const RECEIVE_BATCH: usize = 32;

/// How long the poller gathers finished messages before deleting them together.
pub const ACK_GATHER: Duration = Duration::from_millis(5);

/// The most receipts one `delete_batch` of the poller carries.
pub const ACK_BATCH: usize = 100;

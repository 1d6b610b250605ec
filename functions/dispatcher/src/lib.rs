//! The dispatcher: runs what the queue carries: a hook call's actions
//! (`hook_call`), a published event's fan-out (`fan_out`) and one delivery
//! attempt (`deliver`). `process` handles one envelope and knows nothing of Lambda; `handle_batch` wraps it for an SQS
//! event (partial batch failures), and `poll` for the embedded queue.

use std::panic::AssertUnwindSafe;
use std::time::Duration;

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
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

/// Parses and processes one message body (received `receive_count` times,
/// as [`process`] takes it), catching panics, in a span that carries the
/// queue's id for the message and the ids of the job it holds.
pub async fn process_body(
    svc: &Services,
    body: &str,
    queue_message_id: &str,
    receive_count: u32,
) -> Result<(), DispatchError> {
    let span = tracing::info_span!(
        "dispatch",
        queue_message_id,
        job = tracing::field::Empty,
        bot_id = tracing::field::Empty,
        event_id = tracing::field::Empty,
        message_id = tracing::field::Empty,
        endpoint_id = tracing::field::Empty,
    );
    async {
        let envelope: Envelope = serde_json::from_str(body)?;
        record_ids(&envelope.job);
        match AssertUnwindSafe(process(svc, envelope, receive_count))
            .catch_unwind()
            .await
        {
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
            span.record("event_id", tracing::field::display(&c.event_id));
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

fn log_failure(e: &DispatchError) {
    tracing::error!(error.message = %e, error.cause_chain = ?e, "dispatch failed; the queue will retry");
}

/// The Lambda entry point: every record runs concurrently; only the records
/// that failed are reported, so SQS retries them alone (and moves them to
/// the dead-letter queue after the redrive policy's receives).
pub async fn handle_batch(svc: &Services, event: SqsEvent) -> SqsBatchResponse {
    let results = futures::future::join_all(event.records.iter().map(|record| async move {
        let id = record.message_id.clone().unwrap_or_default();
        let body = record.body.as_deref().unwrap_or_default();
        // 0 (not known) when the event source left the attribute out.
        let receives = record
            .attributes
            .get("ApproximateReceiveCount")
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        match process_body(svc, body, &id, receives).await {
            Ok(()) => None,
            Err(e) => {
                log_failure(&e);
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
pub async fn poll(svc: Services, mut shutdown: tokio::sync::watch::Receiver<bool>) {
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
            running.spawn(async move {
                let _permit = permit;
                match process_body(&svc, &m.body, &m.receipt, m.receive_count).await {
                    // The acker deletes it with others that finished about now.
                    Ok(()) => {
                        let _ = done.send(m.receipt);
                    }
                    Err(e) => {
                        log_failure(&e);
                        let delay = redelivery_delay(m.receive_count);
                        if let Err(e) = svc.queue.retry_after(&m.receipt, delay).await {
                            tracing::error!(error.message = %e, "the queue could not be updated");
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

/// How many messages `poll` works on at once.
pub const POLL_IN_FLIGHT: usize = 128;

/// The most messages `poll` asks the queue for at once (SQS answers at most 10).
pub const RECEIVE_BATCH: usize = 32;

/// How long the poller gathers finished messages before deleting them together.
pub const ACK_GATHER: Duration = Duration::from_millis(5);

/// The most receipts one `delete_batch` of the poller carries.
pub const ACK_BATCH: usize = 100;

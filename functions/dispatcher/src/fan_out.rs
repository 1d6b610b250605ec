//! Fan-out: a published event becomes one delivery per endpoint that takes
//! it: made by the fan-out job itself when there is one endpoint, queued as
//! one job each for more (so one slow endpoint never keeps the job, and
//! with it a sibling's delivery, open).

use std::time::Duration;

use hooklane_domain::envelope::{DeliveryTask, Publish};
use hooklane_domain::{Endpoint, Envelope, EventType, Job, Message};
use hooklane_runtime::Services;

use crate::deliver;

/// Whether an endpoint takes `event`: it has no event filters, or one of
/// them matches (see [`EventFilter::matches`](hooklane_domain::EventFilter::matches)).
pub fn subscribed(endpoint: &Endpoint, event: &EventType) -> bool {
    endpoint.events.is_empty() || endpoint.events.iter().any(|f| f.matches(event))
}

/// Keeps the message for resends (for the delivery log's time to live) and
/// makes attempt 1 to each enabled, subscribed endpoint of the bot, or only
/// to `publish.only_endpoint` whatever its state (a forced resend; nothing
/// when that endpoint is gone): to one endpoint the attempt is made here,
/// sparing a queue message (as [`deliver`] does; its retries are queued as
/// usual); to more, one `DeliveryTask` job each is queued.
///
/// The bot's endpoints are read through [`Services::lookups`] (at most
/// [`CACHE_TTL`](hooklane_runtime::cache::CACHE_TTL) old: an endpoint
/// created, changed or disabled in another process takes part within that
/// time). Queued jobs go to the queue in one
/// [`send_batch`](hooklane_store::Queue::send_batch).
///
/// # Errors
/// A store or queue error; jobs queued before it (or beside it in the
/// batch) stay queued, and deliveries made stay made, so a fan-out handed
/// back may queue or deliver some twice.
#[tracing::instrument(skip_all, fields(bot_id = %publish.bot_id, message_id = %publish.message_id))]
pub async fn fan_out(svc: &Services, publish: Publish) -> anyhow::Result<()> {
    let message = Message {
        id: publish.message_id.clone(),
        bot_id: publish.bot_id.clone(),
        event: publish.event.clone(),
        data: publish.data.clone(),
        timestamp: publish.timestamp,
    };
    svc.store
        .put_message(&message, svc.now() + svc.settings.delivery_log_ttl)
        .await?;
    let targets: Vec<Endpoint> = match &publish.only_endpoint {
        // A forced resend reads its endpoint as it is now.
        Some(id) => svc
            .store
            .get_endpoint(&publish.bot_id, id)
            .await?
            .into_iter()
            .collect(),
        None => svc
            .lookups
            .endpoints(svc.store.as_ref(), &publish.bot_id)
            .await?
            .iter()
            .filter(|e| e.enabled && subscribed(e, &publish.event))
            .cloned()
            .collect(),
    };
    tracing::info!(endpoints = targets.len(), event = %publish.event, "fanning out");
    let mut tasks: Vec<DeliveryTask> = targets
        .into_iter()
        .map(|endpoint| DeliveryTask {
            message_id: publish.message_id.clone(),
            bot_id: publish.bot_id.clone(),
            endpoint_id: endpoint.id.clone(),
            event: publish.event.clone(),
            data: publish.data.clone(),
            timestamp: publish.timestamp,
            attempt: 1,
            previous: None,
            depth: publish.depth,
            force: publish.only_endpoint.is_some(),
            throttled: 0,
        })
        .collect();
    if tasks.len() == 1 {
        return deliver(svc, tasks.remove(0)).await;
    }
    let jobs: Vec<_> = tasks
        .into_iter()
        .map(|d| (Envelope::now(Job::Deliver(d)).to_json(), Duration::ZERO))
        .collect();
    // One batch for all (SQS: SendMessageBatch, 10 a call); the first
    // entry that failed fails the fan-out, so the publish is handed back.
    for result in svc.queue.send_batch(&jobs).await {
        result?;
    }
    Ok(())
}

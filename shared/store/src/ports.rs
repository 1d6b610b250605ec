//! The Store and Queue ports. Every adapter MUST behave as the rustdoc here
//! says; the conformance suite (the `conformance` feature) checks it, once,
//! for every adapter. Callers pass typed values (ids, a [`ClaimScope`], a
//! [`RateWindow`]); how they become storage keys is the adapters' business
//! (see `keys.rs`), never the caller's.

use std::time::Duration;

use async_trait::async_trait;
use hooklane_domain::{
    Bot, BotId, CallId, Delivery, DeliveryId, Endpoint, EndpointId, Hook, HookId, IdempotencyKey,
    Message, MessageId, Run, Variable,
};
use serde_json::Value;
use time::OffsetDateTime;

/// Why a [`Store`] call failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The record the call needs (to replace or delete it) does not exist.
    #[error("not found")]
    NotFound,
    /// A record with the id being created exists already.
    #[error("already exists")]
    Conflict,
    /// The backend could not be reached or could not answer now (a
    /// connection failure, a timeout, throttling, the service's own 5xx);
    /// the same call may succeed later. The chain says what.
    #[error("the store could not answer: {0:#}")]
    Unavailable(anyhow::Error),
    /// The backend failed or answered something unreadable (a stored record
    /// that does not parse, a network or service error); the chain says what.
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

/// Why a [`Queue`] call failed.
#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    /// The body is `size` bytes, more than the queue's `max` bytes; nothing
    /// was queued.
    #[error("the message is {size} bytes; the queue carries at most {max}")]
    TooLarge { size: usize, max: usize },
    /// The backend could not be reached or could not answer now (a
    /// connection failure, a timeout, throttling, the service's own 5xx);
    /// nothing was queued, and the same call may succeed later.
    #[error("the queue could not answer: {0:#}")]
    Unavailable(anyhow::Error),
    /// The backend failed; the chain says what.
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

/// What an idempotency key is claimed for: keys of different scopes never
/// collide, so a hook call and a publish (or two hooks) may use one key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClaimScope<'a> {
    /// An inbound call of this hook (the key comes from the call's
    /// `Idempotency-Key`, `webhook-id` or provider delivery id).
    HookCall(&'a HookId),
    /// A published event (the key is the publish request's idempotency id).
    Publish,
}

/// One fixed rate-limit window of one hook: the thing a counter counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateWindow<'a> {
    /// The bot owning the hook.
    pub bot: &'a BotId,
    /// The hook whose inbound calls are counted.
    pub hook: &'a HookId,
    /// The window's number: milliseconds since the Unix epoch divided by the
    /// window's length in milliseconds (so consecutive windows count up).
    pub window: i64,
}

/// One outbound target of a bot, whose sends are counted and paused
/// together.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SendTarget<'a> {
    /// The bot sending.
    pub bot: &'a BotId,
    /// The target: an endpoint's id (`ep_…`), or a digest naming a chat
    /// target (never a credential), at most 128 characters of
    /// `[A-Za-z0-9_:.-]`.
    pub target: &'a str,
}

/// What [`Store::count_send`] answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SendCount {
    /// The sends counted in the target's current window, this one
    /// included (from 1).
    pub count: u64,
    /// The latest time [`Store::pause_sends`] paused the target until,
    /// whether past or not; `None` when it never was (or the pause was
    /// dropped with the target's state, past its `expires_at`).
    pub paused_until: Option<OffsetDateTime>,
}

/// One page of a newest-first list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Page {
    /// At most this many items (adapters cap it at 100; 0 means 50).
    pub limit: usize,
    /// The `next` of the previous page.
    pub cursor: Option<String>,
}

impl Page {
    /// The first page, of at most `limit` items (see [`Page::size`]).
    pub fn first(limit: usize) -> Self {
        Self {
            limit,
            cursor: None,
        }
    }

    /// The effective limit: 1..=100, 50 when unset.
    pub fn size(&self) -> usize {
        match self.limit {
            0 => 50,
            n => n.min(100),
        }
    }
}

/// One page of a list: up to [`Page::size`] items, newest first.
#[derive(Debug, Clone, PartialEq)]
pub struct Paged<T> {
    /// The items of this page, newest (highest id) first.
    pub items: Vec<T>,
    /// Opaque; `None` on the last page.
    pub next: Option<String>,
}

/// Where Hooklane keeps its records.
///
/// Lists are newest first: every record id ends in a time-sortable ULID, and
/// adapters MUST order lists by id, descending. A cursor is opaque to callers
/// and MUST resume right after the last item of the page that returned it.
/// Records past their `expires_at` MAY still be returned until the backend
/// purges them (DynamoDB TTL deletes within days); callers tolerate that.
/// `expires_at` arguments are absolute times (UTC); adapters MUST keep at
/// least whole seconds of them.
///
/// Errors: only the variants named on a method, or `Unexpected` when the
/// backend fails. A getter answers `Ok(None)` for an absent record, never
/// `NotFound`. Every write MUST be durable when it returns `Ok`.
#[async_trait]
pub trait Store: Send + Sync {
    // ---- bots ----
    /// MUST return `Conflict` when a bot with this id exists.
    async fn create_bot(&self, bot: &Bot) -> Result<(), StoreError>;
    /// The bot, or `None`.
    async fn get_bot(&self, id: &BotId) -> Result<Option<Bot>, StoreError>;
    /// Replaces the bot. MUST return `NotFound` when it does not exist.
    async fn update_bot(&self, bot: &Bot) -> Result<(), StoreError>;
    /// MUST remove the bot and everything under it (hooks, runs, endpoints,
    /// messages, deliveries, variables, idempotency keys). `NotFound` when absent.
    async fn delete_bot(&self, id: &BotId) -> Result<(), StoreError>;
    /// Every bot of the installation, by id descending, one page. A bot
    /// MUST be listed once `create_bot` returns and no longer once
    /// `delete_bot` returns; a listed bot carries what `update_bot` last
    /// wrote.
    async fn list_bots(&self, page: &Page) -> Result<Paged<Bot>, StoreError>;

    // ---- hooks ----
    /// MUST return `Conflict` when the id exists.
    async fn create_hook(&self, hook: &Hook) -> Result<(), StoreError>;
    /// The hook of this bot, or `None`.
    async fn get_hook(&self, bot: &BotId, id: &HookId) -> Result<Option<Hook>, StoreError>;
    /// The bot's hooks, newest first, one page.
    async fn list_hooks(&self, bot: &BotId, page: &Page) -> Result<Paged<Hook>, StoreError>;
    /// Replaces the hook. MUST return `NotFound` when it does not exist.
    async fn update_hook(&self, hook: &Hook) -> Result<(), StoreError>;
    /// MUST remove the hook and its runs. `NotFound` when absent.
    async fn delete_hook(&self, bot: &BotId, id: &HookId) -> Result<(), StoreError>;

    // ---- runs ----
    /// Inserts or replaces the run with this id.
    /// MAY be dropped after `expires_at`.
    async fn put_run(&self, run: &Run, expires_at: OffsetDateTime) -> Result<(), StoreError>;
    /// The run (a hook call's record) of this hook, or `None`.
    async fn get_run(
        &self,
        bot: &BotId,
        hook: &HookId,
        id: &CallId,
    ) -> Result<Option<Run>, StoreError>;
    /// The hook's runs, newest first, one page.
    async fn list_runs(
        &self,
        bot: &BotId,
        hook: &HookId,
        page: &Page,
    ) -> Result<Paged<Run>, StoreError>;

    // ---- endpoints ----
    /// MUST return `Conflict` when the id exists.
    async fn create_endpoint(&self, endpoint: &Endpoint) -> Result<(), StoreError>;
    /// The endpoint of this bot, or `None`.
    async fn get_endpoint(
        &self,
        bot: &BotId,
        id: &EndpointId,
    ) -> Result<Option<Endpoint>, StoreError>;
    /// The bot's endpoints, newest first, one page.
    async fn list_endpoints(&self, bot: &BotId, page: &Page)
        -> Result<Paged<Endpoint>, StoreError>;
    /// Replaces the endpoint. MUST return `NotFound` when it does not exist.
    async fn update_endpoint(&self, endpoint: &Endpoint) -> Result<(), StoreError>;
    /// MUST remove the endpoint and its delivery log. `NotFound` when absent.
    async fn delete_endpoint(&self, bot: &BotId, id: &EndpointId) -> Result<(), StoreError>;

    // ---- messages (published events, kept for resends) ----
    /// Inserts or replaces the message with this id; MAY be dropped after
    /// `expires_at`.
    async fn put_message(
        &self,
        message: &Message,
        expires_at: OffsetDateTime,
    ) -> Result<(), StoreError>;
    /// The message, or `None`.
    async fn get_message(&self, bot: &BotId, id: &MessageId)
        -> Result<Option<Message>, StoreError>;
    /// The bot's messages, newest first, one page.
    async fn list_messages(&self, bot: &BotId, page: &Page) -> Result<Paged<Message>, StoreError>;

    // ---- deliveries (one row per attempt) ----
    /// Inserts or replaces the row with this id; MAY be dropped after
    /// `expires_at`. Once it returns, `get_delivery` by id MUST find it.
    async fn put_delivery(
        &self,
        delivery: &Delivery,
        expires_at: OffsetDateTime,
    ) -> Result<(), StoreError>;
    /// Finds a row by id alone (the endpoint is not known to the caller);
    /// `None` when absent.
    async fn get_delivery(
        &self,
        bot: &BotId,
        id: &DeliveryId,
    ) -> Result<Option<Delivery>, StoreError>;
    /// The row with this id in the endpoint's log, or `None` (also when the
    /// row is another endpoint's). One key read where `get_delivery` may
    /// look under every endpoint of the bot.
    async fn get_endpoint_delivery(
        &self,
        bot: &BotId,
        endpoint: &EndpointId,
        id: &DeliveryId,
    ) -> Result<Option<Delivery>, StoreError>;
    /// The endpoint's rows, newest first.
    async fn list_deliveries(
        &self,
        bot: &BotId,
        endpoint: &EndpointId,
        page: &Page,
    ) -> Result<Paged<Delivery>, StoreError>;

    // ---- variables ----
    /// Every variable of the bot, by name, ascending (not paged).
    async fn list_variables(&self, bot: &BotId) -> Result<Vec<Variable>, StoreError>;
    /// The variable, or `None`.
    async fn get_variable(&self, bot: &BotId, name: &str) -> Result<Option<Variable>, StoreError>;
    /// Compare-and-swap: writes `value` (or deletes, when `None`) only if the
    /// stored version is `expected` (`None` = the variable must not exist).
    /// A write stores version `expected + 1` (1 for a new variable).
    /// MUST return `Ok(false)`, changing nothing, when the version differs;
    /// concurrent swaps on one name MUST NOT both succeed.
    async fn swap_variable(
        &self,
        bot: &BotId,
        name: &str,
        expected: Option<u64>,
        value: Option<&Value>,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError>;

    // ---- idempotency ----
    /// Claims the idempotency `key` in `scope` for `value` (the id of the
    /// work the key first asked for) until `expires_at`.
    ///
    /// Returns `None` when the claim is new (or the earlier claim had
    /// expired by `now`: it is taken over), or `Some` with the value of an
    /// earlier, unexpired claim. Claims are per bot and per scope: one key
    /// may be claimed once as a publish and once for each hook. MUST be
    /// atomic: of concurrent claims of one key exactly one gets `None`.
    async fn claim_idempotency_key(
        &self,
        bot: &BotId,
        scope: ClaimScope<'_>,
        key: &IdempotencyKey,
        value: &str,
        expires_at: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Result<Option<String>, StoreError>;
    /// Drops a claim (used when the work it guarded could not be queued).
    /// MUST succeed when there is no such claim.
    async fn release_idempotency_key(
        &self,
        bot: &BotId,
        scope: ClaimScope<'_>,
        key: &IdempotencyKey,
    ) -> Result<(), StoreError>;

    // ---- counters (rate limits) ----
    /// Atomically adds 1 to the call count of `window` (created at 0, kept
    /// at least until `expires_at`) and returns the new count, from 1.
    /// MUST NOT lose an increment under concurrent calls.
    async fn increment_counter(
        &self,
        window: &RateWindow<'_>,
        expires_at: OffsetDateTime,
    ) -> Result<u64, StoreError>;

    // ---- outbound targets (throttling) ----
    /// Counts one send to `target` in rate window `window` (numbered as
    /// [`RateWindow::window`]) and answers the window's count with the
    /// target's pause, in one atomic step (on DynamoDB one write, no read).
    ///
    /// A target keeps one count, for its latest window: counting in a later
    /// window starts it again at 1; counting in an earlier window than the
    /// stored one (a dispatcher whose clock is behind) counts in the stored
    /// one. MUST NOT lose a count under concurrent calls, also when they
    /// start a new window together (exactly one of them answers 1).
    ///
    /// The target's state (count and pause) is kept at least until
    /// `expires_at`, or until the `expires_at` of a later call of this
    /// method or of [`Store::pause_sends`] (which MAY be earlier).
    async fn count_send(
        &self,
        target: &SendTarget<'_>,
        window: i64,
        expires_at: OffsetDateTime,
    ) -> Result<SendCount, StoreError>;
    /// Pauses sends to `target` until `until` (kept to the millisecond):
    /// every [`Store::count_send`] answers it from then on, in every
    /// process. A later pause wins; an earlier one than the stored one
    /// changes nothing. The state is kept as `count_send` says.
    async fn pause_sends(
        &self,
        target: &SendTarget<'_>,
        until: OffsetDateTime,
        expires_at: OffsetDateTime,
    ) -> Result<(), StoreError>;

    // ---- installation settings ----
    /// Stores `value` under `name` unless something is stored there
    /// already, and answers what is stored: `value`, or the value stored
    /// first. Used for values made once per installation (the key portal
    /// links are signed with). MUST be atomic: concurrent calls with
    /// different values all answer the same one. Never expires.
    async fn put_setting_once(&self, name: &str, value: &str) -> Result<String, StoreError>;

    /// `Ok` when the store answers (for `/healthz`); `Unexpected` otherwise.
    async fn ping(&self) -> Result<(), StoreError>;
}

/// A received queue message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    /// Hands the message back to `delete` / `retry_after`.
    pub receipt: String,
    /// The body as sent.
    pub body: String,
    /// 1 on the first receive.
    pub receive_count: u32,
}

/// The durable queue between ingress and dispatcher.
///
/// `send` MUST return only once the message is durable. A received message
/// is invisible to other receivers until deleted or until its visibility
/// timeout passes. A message received `max_receives` times and not deleted
/// MUST go to the dead-letter queue instead of being received again.
#[async_trait]
pub trait Queue: Send + Sync {
    /// The longest delay `send` takes (SQS: 15 minutes).
    fn max_delay(&self) -> Duration;
    /// The largest message body `send` takes, in bytes.
    fn max_message_bytes(&self) -> usize;
    /// MUST return `TooLarge` and queue nothing when the body is too large.
    /// Delays above `max_delay` are cut to it.
    async fn send(&self, body: &str, delay: Duration) -> Result<(), QueueError>;
    /// Up to `max` messages (an adapter MAY return fewer: SQS at most 10),
    /// waiting up to `wait` for the first; an empty list when none came.
    async fn receive(&self, max: usize, wait: Duration) -> Result<Vec<Received>, QueueError>;
    /// Sends each `(body, delay)` as [`Queue::send`] does, in as few calls
    /// to the backend as it allows (SQS: `SendMessageBatch`, 10 at a time).
    /// Answers one result per message, in order: a message whose result is
    /// `Ok` is durable; the others were not queued (a body too large is
    /// `TooLarge`, the others' sends go on). The default sends one by one.
    async fn send_batch(&self, messages: &[(String, Duration)]) -> Vec<Result<(), QueueError>> {
        let mut results = Vec::with_capacity(messages.len());
        for (body, delay) in messages {
            results.push(self.send(body, *delay).await);
        }
        results
    }
    /// Removes a received message for good. A receipt whose message was
    /// received again since MAY be refused or ignored.
    async fn delete(&self, receipt: &str) -> Result<(), QueueError>;
    /// Deletes each receipt as [`Queue::delete`] does, in as few calls to
    /// the backend as it allows (SQS: `DeleteMessageBatch`, 10 at a time).
    /// Answers one result per receipt, in order. The default deletes one
    /// by one.
    async fn delete_batch(&self, receipts: &[String]) -> Vec<Result<(), QueueError>> {
        let mut results = Vec::with_capacity(receipts.len());
        for receipt in receipts {
            results.push(self.delete(receipt).await);
        }
        results
    }
    /// Makes a received message visible again after `delay` (SQS rounds it
    /// up to whole seconds, at most 12 hours).
    async fn retry_after(&self, receipt: &str, delay: Duration) -> Result<(), QueueError>;
    /// Keeps a message that is being worked on hidden for `visibility`
    /// from now (SQS: `ChangeMessageVisibility`), for a receiver that
    /// hides what it receives only briefly. The default does nothing: a
    /// queue whose receive hides a message for its whole visibility
    /// timeout needs no extension.
    async fn extend_visibility(
        &self,
        receipt: &str,
        visibility: Duration,
    ) -> Result<(), QueueError> {
        let _ = (receipt, visibility);
        Ok(())
    }
    /// How many messages sit in the dead-letter queue.
    async fn dead_letter_count(&self) -> Result<usize, QueueError>;
    /// The receives after which a message goes to the dead-letter queue
    /// (SQS: the RedrivePolicy's `maxReceiveCount`, read once), so the
    /// dispatcher can say a message failed for the last time; `None` when
    /// not known (the default, or SQS could not be asked).
    async fn max_receives(&self) -> Option<u32> {
        None
    }
    /// `Ok` when the queue answers (for `/healthz`); `Unexpected` otherwise.
    async fn ping(&self) -> Result<(), QueueError>;
}

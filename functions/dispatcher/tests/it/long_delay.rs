//! A delivery due further out than the queue can delay a message (SQS: 15
//! minutes) carries its due time in the envelope (`not_before`). Each time
//! the queue hands it over early, the dispatcher sends it back with the rest
//! of its wait; once the time has come, the next receive delivers it.
//!
//! The clock is a `ManualClock`, so two hours pass at once. The queue's real
//! delays are shortened by `ShortCap`, a wrapper that reports a 1-second
//! `max_delay`: the envelope then comes back after a second instead of 15
//! minutes, and everything else (the SQS or SQLite queue, the store, the
//! HTTP delivery to a loopback sink) is real. The same scenario runs on
//! SQLite and on DynamoDB + SQS (moto).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use aws_lambda_events::event::sqs::SqsEvent;
use hooklane_domain::envelope::DeliveryTask;
use hooklane_domain::{
    Bot, BotId, Endpoint, EndpointId, EndpointType, Envelope, Job, ManualClock, MessageId,
};
use hooklane_runtime::config::Settings;
use hooklane_runtime::Services;
use hooklane_store::dynamodb::DynamoStore;
use hooklane_store::sqs::SqsQueue;
use hooklane_store::{Page, Queue, QueueError, Received, Store};
use hooklane_testkit::{moto, unique, Sink};
use serde_json::json;
use time::OffsetDateTime;

/// The queue under test with a short delay cap, recording each `send`: its
/// delay and the envelope's `not_before`.
struct ShortCap {
    inner: Arc<dyn Queue>,
    cap: Duration,
    sent: Mutex<Vec<(Duration, Option<OffsetDateTime>)>>,
}

impl ShortCap {
    fn new(inner: Arc<dyn Queue>, cap: Duration) -> Self {
        Self {
            inner,
            cap,
            sent: Mutex::new(Vec::new()),
        }
    }

    fn sent(&self) -> Vec<(Duration, Option<OffsetDateTime>)> {
        self.sent.lock().unwrap().clone()
    }
}

#[async_trait]
impl Queue for ShortCap {
    fn max_delay(&self) -> Duration {
        self.cap
    }

    fn max_message_bytes(&self) -> usize {
        self.inner.max_message_bytes()
    }

    async fn send(&self, body: &str, delay: Duration) -> Result<(), QueueError> {
        let not_before = serde_json::from_str::<Envelope>(body).unwrap().not_before;
        self.sent.lock().unwrap().push((delay, not_before));
        self.inner.send(body, delay.min(self.cap)).await
    }

    async fn receive(&self, max: usize, wait: Duration) -> Result<Vec<Received>, QueueError> {
        self.inner.receive(max, wait).await
    }

    async fn delete(&self, receipt: &str) -> Result<(), QueueError> {
        self.inner.delete(receipt).await
    }

    async fn retry_after(&self, receipt: &str, delay: Duration) -> Result<(), QueueError> {
        self.inner.retry_after(receipt, delay).await
    }

    async fn dead_letter_count(&self) -> Result<usize, QueueError> {
        self.inner.dead_letter_count().await
    }

    async fn ping(&self) -> Result<(), QueueError> {
        self.inner.ping().await
    }
}

const TWO_HOURS: Duration = Duration::from_secs(2 * 3600);

/// Waits (up to 30 s, real time) for the one message in the queue.
async fn receive_one(queue: &dyn Queue) -> Received {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let mut got = queue.receive(10, Duration::from_secs(2)).await.unwrap();
        assert!(got.len() <= 1, "one message in the queue, got {got:?}");
        if let Some(m) = got.pop() {
            return m;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the envelope did not come back"
        );
    }
}

/// Hands one received message to the dispatcher the way Lambda does (an
/// SQS event), and deletes it when no batch item failed, as Lambda would.
async fn dispatch(svc: &Services, queue: &dyn Queue, m: Received) {
    let event: SqsEvent = serde_json::from_value(json!({
        "Records": [{"messageId": "m-1", "receiptHandle": m.receipt, "body": m.body}]
    }))
    .unwrap();
    let response = hooklane_dispatcher::handle_batch(svc, event).await;
    assert!(
        response.batch_item_failures.is_empty(),
        "the record failed: {response:?}"
    );
    queue.delete(&m.receipt).await.unwrap();
}

fn not_before(m: &Received) -> Option<OffsetDateTime> {
    serde_json::from_str::<Envelope>(&m.body)
        .unwrap()
        .not_before
}

/// The whole scenario, on whichever store and queue it is given.
async fn a_delivery_two_hours_out_waits_in_the_queue_then_goes_out(
    store: Arc<dyn Store>,
    queue: Arc<dyn Queue>,
) {
    let sink = Sink::start().await;
    let start = OffsetDateTime::now_utc().replace_nanosecond(0).unwrap();
    let clock = ManualClock::new(start);
    let queue = Arc::new(ShortCap::new(queue, Duration::from_secs(1)));
    let settings = Settings {
        allow_private_targets: true,
        ..Settings::default()
    };
    let svc = hooklane_testkit::embedded::services(store.clone(), queue.clone(), settings)
        .with_clock(Arc::new(clock.clone()));

    let bot = BotId::generate();
    store
        .create_bot(&Bot {
            id: bot.clone(),
            name: "Late bot".into(),
            api_key_hash: "0".repeat(64),
            created_at: start,
        })
        .await
        .unwrap();
    let endpoint = Endpoint {
        id: EndpointId::generate(),
        bot_id: bot.clone(),
        name: "Receiver".into(),
        kind: EndpointType::Custom,
        url: sink.url("/late"),
        enabled: true,
        disabled_reason: None,
        events: Vec::new(),
        secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".into(),
        old_secrets: Vec::new(),
        retry_schedule: vec![7200],
        max_attempts: 2,
        headers: serde_json::Map::new(),
        rate_limit: None,
        failing_since: None,
        allowed_mentions: None,
        created_at: start,
        updated_at: start,
    };
    store.create_endpoint(&endpoint).await.unwrap();
    let message = MessageId::generate();

    // Attempt 2 of a delivery, due in two hours (as a retry would be).
    let job = Job::Deliver(DeliveryTask {
        message_id: message.clone(),
        bot_id: bot.clone(),
        endpoint_id: endpoint.id.clone(),
        event: hooklane_domain::EventType::parse("server.created").unwrap(),
        data: json!({"name": "eu-1"}),
        timestamp: start,
        attempt: 2,
        previous: None,
        depth: 0,
        force: false,
        throttled: 0,
    });
    svc.enqueue(Envelope::now(job), TWO_HOURS).await.unwrap();
    let due = start + TWO_HOURS;
    let cap = Duration::from_secs(1);
    // The queue takes at most its cap; the due time travels in the envelope.
    assert_eq!(queue.sent(), vec![(cap, Some(due))]);

    // The queue hands it over after the cap: too early. It goes back, due
    // at the same time, and nothing is sent.
    let m = receive_one(queue.as_ref()).await;
    assert_eq!(not_before(&m), Some(due));
    dispatch(&svc, queue.as_ref(), m).await;
    assert_eq!(queue.sent()[1], (cap, Some(due)));
    assert!(sink.received().is_empty());

    // Half a second before it is due, it goes back with exactly that
    // half second to wait.
    let half = Duration::from_millis(500);
    clock.advance(time::Duration::try_from(TWO_HOURS - half).unwrap());
    let m = receive_one(queue.as_ref()).await;
    assert_eq!(not_before(&m), Some(due), "the due time travels unchanged");
    dispatch(&svc, queue.as_ref(), m).await;
    assert_eq!(queue.sent()[2], (half, Some(due)));
    assert!(sink.received().is_empty());
    let log = store
        .list_deliveries(&bot, &endpoint.id, &Page::first(10))
        .await
        .unwrap();
    assert!(log.items.is_empty(), "no attempt was made: {log:?}");

    // Once the time has come, the next receive delivers it.
    clock.advance(time::Duration::try_from(half).unwrap());
    let m = receive_one(queue.as_ref()).await;
    dispatch(&svc, queue.as_ref(), m).await;
    let got = sink.wait_for(1, Duration::from_secs(10)).await;
    assert_eq!(got[0].path, "/late");
    assert_eq!(
        got[0].header("webhook-id").as_deref(),
        Some(message.as_str())
    );
    assert_eq!(got[0].header("x-webhook-attempt").as_deref(), Some("2"));
    assert_eq!(
        got[0].header("webhook-timestamp"),
        Some(due.unix_timestamp().to_string()),
        "signed at the (manual) time of the attempt"
    );
    assert_eq!(got[0].json()["data"], json!({"name": "eu-1"}));
    let log = store
        .list_deliveries(&bot, &endpoint.id, &Page::first(10))
        .await
        .unwrap();
    assert_eq!(log.items.len(), 1);
    assert_eq!(log.items[0].attempt, 2);
    assert_eq!(
        log.items[0].status,
        hooklane_domain::DeliveryStatus::Succeeded
    );
    assert_eq!(log.items[0].triggered_at, due);

    // Delivered once: nothing was sent again, nothing is left in the queue.
    assert_eq!(queue.sent().len(), 3, "{:?}", queue.sent());
    assert!(queue
        .receive(10, Duration::from_secs(2))
        .await
        .unwrap()
        .is_empty());
    assert_eq!(sink.received().len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_delivery_two_hours_out_goes_out_when_due_on_sqlite() {
    let (_dir, db) = hooklane_testkit::embedded::sqlite();
    a_delivery_two_hours_out_waits_in_the_queue_then_goes_out(Arc::new(db.clone()), Arc::new(db))
        .await;
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs moto: tests/run.sh starts one"]
async fn a_delivery_two_hours_out_goes_out_when_due_on_dynamodb_and_sqs() {
    moto();
    let aws = hooklane_store::aws_config().await.unwrap();
    let store = DynamoStore::new(&aws, unique("hl-long-delay"));
    store.ensure_table().await.expect("create the table");
    let queue = SqsQueue::ensure_queue(&aws, &unique("hl-long-delay"), 3)
        .await
        .expect("create the queues");
    a_delivery_two_hours_out_waits_in_the_queue_then_goes_out(Arc::new(store), Arc::new(queue))
        .await;
}

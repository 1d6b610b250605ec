//! Records that fail on purpose: one that panics the handler fails alone
//! (a batch item failure in Lambda; retried, then dead-lettered by the
//! poller); a poison message reaches the dead-letter queue with an error
//! line naming its id and receive count (never its body) and the
//! `DeadLettered` metric; a failed message is visible again within
//! seconds, not after the queue's 6-minute visibility timeout, also when
//! the queue itself was down when it failed.
//!
//! The panics come through the dispatcher's one seam for it: the per-record
//! handler that `handle_batch_with` and `poll_with` take (production passes
//! `hooklane_dispatcher::run`).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use aws_lambda_events::event::sqs::SqsEvent;
use futures::future::BoxFuture;
use futures::FutureExt;
use hooklane_dispatcher::DispatchError;
use hooklane_domain::{Envelope, Job, RunStatus};
use hooklane_runtime::config::Settings;
use hooklane_runtime::Services;
use hooklane_store::sqlite::SqliteQueueSettings;
use hooklane_store::sqs::SqsQueue;
use hooklane_store::{Page, Queue, QueueError, Received};
use hooklane_testkit::{moto, unique};
use serde_json::json;

use crate::support::{Lines, Setup};

/// The handler of these tests: panics on a hook call whose payload says
/// `boom`, runs every other envelope as production does.
fn panics_on_boom(
    svc: Services,
    envelope: Envelope,
    receive_count: u32,
) -> BoxFuture<'static, Result<(), DispatchError>> {
    async move {
        if let Job::HookCall(call) = &envelope.job {
            if call.request.payload["boom"] == json!(true) {
                panic!("a record that panics the dispatcher");
            }
        }
        hooklane_dispatcher::process(&svc, envelope, receive_count).await
    }
    .boxed()
}

/// A bot and a hook with one `log` action on SQLite, the queue moving a
/// message to its dead-letter table after `max_receives` receives.
async fn setup(max_receives: u32) -> (Setup, hooklane_domain::Hook) {
    let (dir, db) = hooklane_testkit::embedded::sqlite_with(SqliteQueueSettings {
        max_receives,
        ..SqliteQueueSettings::default()
    });
    let setup = Setup::on(dir, Arc::new(db.clone()), Arc::new(db), Settings::default()).await;
    let hook = setup
        .hook(json!([{"type": "log", "message": "ran {payload.n}"}]))
        .await;
    (setup, hook)
}

/// The queued body of a call of `hook` with this payload.
fn body(setup: &Setup, hook: &hooklane_domain::Hook, payload: serde_json::Value) -> String {
    let mut call = setup.call(hook);
    call.request.payload = payload;
    Envelope::now(Job::HookCall(call)).to_json()
}

/// An SQS event of `(message id, receipt, body)` records, received once.
fn event(records: &[(String, String, String)]) -> SqsEvent {
    let records: Vec<_> = records
        .iter()
        .map(|(id, receipt, body)| {
            json!({"messageId": id, "receiptHandle": receipt, "body": body,
                   "attributes": {"ApproximateReceiveCount": "1"}})
        })
        .collect();
    serde_json::from_value(json!({"Records": records})).unwrap()
}

/// The `n` of every succeeded run's log line, sorted.
async fn ran(setup: &Setup, hook: &hooklane_domain::Hook) -> Vec<String> {
    let runs = setup
        .store
        .list_runs(&setup.bot, &hook.id, &Page::first(50))
        .await
        .unwrap()
        .items;
    let mut out: Vec<String> = runs
        .iter()
        .filter(|r| r.status == RunStatus::Succeeded)
        .map(|r| r.actions[0].detail["message"].as_str().unwrap().to_owned())
        .collect();
    out.sort();
    out
}

#[tokio::test]
async fn a_record_that_panics_the_dispatcher_is_the_only_batch_item_failure() {
    let (setup, hook) = setup(5).await;
    let records: Vec<_> = [json!({"n": 1}), json!({"boom": true}), json!({"n": 3})]
        .into_iter()
        .enumerate()
        .map(|(i, p)| (format!("m{i}"), format!("r{i}"), body(&setup, &hook, p)))
        .collect();
    let response =
        hooklane_dispatcher::handle_batch_with(&setup.svc, event(&records), panics_on_boom).await;
    let failed: Vec<_> = response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.as_str())
        .collect();
    assert_eq!(failed, ["m1"], "only the record that panicked");
    assert_eq!(ran(&setup, &hook).await, ["ran 1", "ran 3"]);
}

/// Runs the poller with `handler` until `done` says so (or 40 s pass).
async fn poll_until<F: std::future::Future<Output = bool>>(
    svc: &Services,
    handler: impl hooklane_dispatcher::Handler,
    mut done: impl FnMut() -> F,
) -> Duration {
    let (stop, stop_rx) = tokio::sync::watch::channel(false);
    let poller = tokio::spawn(hooklane_dispatcher::poll_with(
        svc.clone(),
        stop_rx,
        handler,
    ));
    let started = Instant::now();
    while !done().await {
        assert!(
            started.elapsed() < Duration::from_secs(40),
            "not done in 40 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let took = started.elapsed();
    stop.send(true).unwrap();
    poller.await.unwrap();
    took
}

#[tokio::test]
async fn a_panicking_record_and_a_poison_message_are_retried_then_dead_lettered_alone_with_an_error_line_and_a_metric(
) {
    let (lines, _guard) = Lines::capture();
    let (setup, hook) = setup(2).await;
    let poison = "not an envelope: poison-body-7f3a";
    for b in [
        body(&setup, &hook, json!({"n": 1})),
        body(&setup, &hook, json!({"boom": true})),
        poison.to_owned(),
        body(&setup, &hook, json!({"n": 4})),
    ] {
        setup.queue.send(&b, Duration::ZERO).await.unwrap();
    }
    let queue = setup.queue.clone();
    let took = poll_until(&setup.svc, panics_on_boom, || {
        let queue = queue.clone();
        async move { queue.dead_letter_count().await.unwrap() == 2 }
    })
    .await;
    assert_eq!(ran(&setup, &hook).await, ["ran 1", "ran 4"]);
    // The first failure waits 5 s, the second 10 s: then the next receive dead-letters.
    assert!(took < Duration::from_secs(25), "{took:?}");

    let text = lines.text();
    let last: Vec<_> = text
        .lines()
        .filter(|l| l.contains("ERROR") && l.contains("dead-letter queue"))
        .collect();
    assert_eq!(
        last.len(),
        2,
        "one line per message on its last receive:\n{text}"
    );
    for line in &last {
        assert!(line.contains("receive_count=2"), "{line}");
        assert!(line.contains("queue_message_id="), "{line}");
    }
    assert!(
        last.iter().any(|l| l.contains("panicked")),
        "the panic is named:\n{text}"
    );
    assert!(
        text.lines()
            .filter(|l| l.contains("metric=\"DeadLettered\""))
            .count()
            == 2,
        "the DeadLettered metric, once per message:\n{text}"
    );
    assert!(
        !text.contains("poison-body-7f3a"),
        "no body in the logs:\n{text}"
    );
}

#[tokio::test]
async fn a_failed_lambda_record_is_visible_again_in_seconds_not_after_the_visibility_timeout() {
    let (setup, _hook) = setup(5).await;
    setup
        .queue
        .send("not an envelope", Duration::ZERO)
        .await
        .unwrap();
    let got = setup.queue.receive(1, Duration::ZERO).await.unwrap();
    let records = [("m0".to_owned(), got[0].receipt.clone(), got[0].body.clone())];
    let response = hooklane_dispatcher::handle_batch(&setup.svc, event(&records)).await;
    assert_eq!(response.batch_item_failures.len(), 1);
    let started = Instant::now();
    let again = setup
        .queue
        .receive(1, Duration::from_secs(8))
        .await
        .unwrap();
    assert_eq!(again.len(), 1, "received again within 8 s, not 360 s");
    assert_eq!(again[0].receive_count, 2);
    assert!(started.elapsed() >= Duration::from_secs(4), "after its 5 s");
}

/// The queue under test, with `retry_after` failing as if it were down
/// while `down` is above zero (each failure counts it down).
struct DownQueue {
    inner: Arc<dyn Queue>,
    down: AtomicUsize,
}

#[async_trait]
impl Queue for DownQueue {
    fn max_delay(&self) -> Duration {
        self.inner.max_delay()
    }
    fn max_message_bytes(&self) -> usize {
        self.inner.max_message_bytes()
    }
    async fn send(&self, body: &str, delay: Duration) -> Result<(), QueueError> {
        self.inner.send(body, delay).await
    }
    async fn receive(&self, max: usize, wait: Duration) -> Result<Vec<Received>, QueueError> {
        self.inner.receive(max, wait).await
    }
    async fn delete(&self, receipt: &str) -> Result<(), QueueError> {
        self.inner.delete(receipt).await
    }
    async fn retry_after(&self, receipt: &str, delay: Duration) -> Result<(), QueueError> {
        if self
            .down
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
        {
            return Err(QueueError::Unavailable(anyhow::anyhow!(
                "the queue is down"
            )));
        }
        self.inner.retry_after(receipt, delay).await
    }
    async fn dead_letter_count(&self) -> Result<usize, QueueError> {
        self.inner.dead_letter_count().await
    }
    async fn ping(&self) -> Result<(), QueueError> {
        self.inner.ping().await
    }
}

#[tokio::test]
async fn a_message_that_failed_while_the_queue_was_down_is_handed_back_once_it_answers() {
    let (dir, db) = hooklane_testkit::embedded::sqlite();
    let queue = Arc::new(DownQueue {
        inner: Arc::new(db.clone()),
        down: AtomicUsize::new(3),
    });
    let setup = Setup::on(
        dir,
        Arc::new(db.clone()),
        queue.clone(),
        Settings::default(),
    )
    .await;
    let hook = setup
        .hook(json!([{"type": "log", "message": "ran {payload.n}"}]))
        .await;
    // Fails on its first receive (as if the store were down), then runs.
    let failures = Arc::new(AtomicUsize::new(1));
    let failing_once = {
        let failures = failures.clone();
        move |svc: Services, envelope: Envelope, n: u32| {
            let fail = failures
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                .is_ok();
            async move {
                if fail {
                    return Err(DispatchError::Unexpected(anyhow::anyhow!(
                        "the store is down"
                    )));
                }
                hooklane_dispatcher::process(&svc, envelope, n).await
            }
            .boxed()
        }
    };
    setup
        .queue
        .send(&body(&setup, &hook, json!({"n": 1})), Duration::ZERO)
        .await
        .unwrap();
    let (s, h) = (&setup, &hook);
    let took = poll_until(&setup.svc, failing_once, || async move {
        ran(s, h).await == ["ran 1"]
    })
    .await;
    assert_eq!(
        queue.down.load(Ordering::SeqCst),
        0,
        "the queue was down 3 times"
    );
    // 1 s + 2 s of retries, then its 5 s: far from the 360 s visibility timeout.
    assert!(took < Duration::from_secs(20), "{took:?}");
}

#[tokio::test]
#[ignore = "needs moto: tests/run.sh starts one"]
async fn on_sqs_a_failed_record_is_visible_again_in_seconds_and_its_last_failure_names_the_dead_letter_queue(
) {
    moto();
    let (lines, _guard) = Lines::capture();
    let aws = hooklane_store::aws_config().await.unwrap();
    let queue = SqsQueue::ensure_queue(&aws, &unique("hl-faults"), 2)
        .await
        .expect("create the queues");
    let (setup, _hook) = setup(5).await;
    let svc = hooklane_testkit::embedded::services(
        setup.store.clone(),
        Arc::new(queue.clone()),
        Settings::default(),
    );
    queue
        .send("not an envelope: poison-body-51c2", Duration::ZERO)
        .await
        .unwrap();
    let started = Instant::now();
    for receive in 1..=2u32 {
        let got = queue.receive(1, Duration::from_secs(20)).await.unwrap();
        assert_eq!(
            got.len(),
            1,
            "receive {receive} after {:?}",
            started.elapsed()
        );
        assert_eq!(got[0].receive_count, receive);
        let mut e = event(&[("m0".into(), got[0].receipt.clone(), got[0].body.clone())]);
        e.records[0]
            .attributes
            .insert("ApproximateReceiveCount".into(), receive.to_string());
        let response = hooklane_dispatcher::handle_batch(&svc, e).await;
        assert_eq!(response.batch_item_failures.len(), 1);
    }
    // 5 s after the first failure (ChangeMessageVisibility), not 360 s.
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "{:?}",
        started.elapsed()
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    while queue.dead_letter_count().await.unwrap() == 0 {
        // SQS moves it on the receive after its last one.
        let _ = queue.receive(1, Duration::from_secs(1)).await.unwrap();
        assert!(Instant::now() < deadline, "not in the dead-letter queue");
    }
    let text = lines.text();
    let last: Vec<_> = text
        .lines()
        .filter(|l| l.contains("ERROR") && l.contains("dead-letter queue"))
        .collect();
    assert_eq!(last.len(), 1, "{text}");
    assert!(last[0].contains("queue_message_id=\"m0\""), "{}", last[0]);
    assert!(last[0].contains("receive_count=2"), "{}", last[0]);
    assert!(!text.contains("poison-body-51c2"), "{text}");
}

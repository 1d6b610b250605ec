//! The Queue checks: each `pub async fn …(queue)` is one behaviour every
//! Queue adapter MUST show; `queue_suite` runs them all.

use std::time::Duration;

use crate::ports::{Queue, QueueError};

/// What a queue adapter is configured with, for the checks that depend on it.
#[derive(Debug, Clone, Copy)]
pub struct QueueTraits {
    /// Receives after which a message goes to the dead-letter queue.
    pub max_receives: u32,
}

async fn receive_until(queue: &dyn Queue, want: usize, within: Duration) -> Vec<crate::Received> {
    let deadline = tokio::time::Instant::now() + within;
    let mut got = Vec::new();
    while got.len() < want && tokio::time::Instant::now() < deadline {
        got.extend(queue.receive(10, Duration::from_millis(500)).await.unwrap());
    }
    got
}

/// Runs every Queue check against one adapter, which must start empty.
pub async fn queue_suite(queue: &dyn Queue, traits: QueueTraits) {
    messages_are_received_and_deleted(queue).await;
    delayed_messages_wait(queue).await;
    retried_messages_come_back_with_a_higher_count(queue).await;
    messages_received_too_often_go_to_the_dead_letter_queue(queue, traits).await;
    oversized_messages_are_refused(queue).await;
    batches_answer_each_message(queue).await;
    queue.ping().await.expect("ping");
}

/// A sent message is received once, with count 1, and gone once deleted.
pub async fn messages_are_received_and_deleted(queue: &dyn Queue) {
    queue.send("one", Duration::ZERO).await.unwrap();
    queue.send("two", Duration::ZERO).await.unwrap();
    let got = receive_until(queue, 2, Duration::from_secs(10)).await;
    let mut bodies: Vec<_> = got.iter().map(|m| m.body.as_str()).collect();
    bodies.sort();
    assert_eq!(bodies, vec!["one", "two"]);
    assert!(got.iter().all(|m| m.receive_count == 1));
    for m in &got {
        queue.delete(&m.receipt).await.unwrap();
    }
    assert!(queue.receive(10, Duration::ZERO).await.unwrap().is_empty());
}

/// A message sent with a delay is not received before it.
pub async fn delayed_messages_wait(queue: &dyn Queue) {
    queue.send("later", Duration::from_secs(2)).await.unwrap();
    assert!(
        queue.receive(10, Duration::ZERO).await.unwrap().is_empty(),
        "a delayed message is not visible at once"
    );
    let got = receive_until(queue, 1, Duration::from_secs(10)).await;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].body, "later");
    queue.delete(&got[0].receipt).await.unwrap();
}

/// `retry_after` makes a message come back, its receive count one higher.
pub async fn retried_messages_come_back_with_a_higher_count(queue: &dyn Queue) {
    queue.send("again", Duration::ZERO).await.unwrap();
    let first = receive_until(queue, 1, Duration::from_secs(10)).await;
    assert_eq!(first.len(), 1);
    assert!(
        queue.receive(10, Duration::ZERO).await.unwrap().is_empty(),
        "a received message is invisible to others"
    );
    queue
        .retry_after(&first[0].receipt, Duration::from_secs(1))
        .await
        .unwrap();
    let second = receive_until(queue, 1, Duration::from_secs(10)).await;
    assert_eq!(second.len(), 1);
    assert_eq!(second[0].body, "again");
    assert_eq!(second[0].receive_count, 2);
    queue.delete(&second[0].receipt).await.unwrap();
}

/// After `max_receives` receives a message goes to the dead-letter queue.
pub async fn messages_received_too_often_go_to_the_dead_letter_queue(
    queue: &dyn Queue,
    traits: QueueTraits,
) {
    let before = queue.dead_letter_count().await.unwrap();
    queue.send("poison", Duration::ZERO).await.unwrap();
    for n in 1..=traits.max_receives {
        let got = receive_until(queue, 1, Duration::from_secs(10)).await;
        assert_eq!(got.len(), 1, "receive {n} of the poison message");
        assert_eq!(got[0].receive_count, n);
        queue
            .retry_after(&got[0].receipt, Duration::ZERO)
            .await
            .unwrap();
    }
    // One more receive moves it to the dead-letter queue instead.
    let got = queue.receive(10, Duration::from_secs(1)).await.unwrap();
    assert!(
        got.is_empty(),
        "a message past max_receives is not received again"
    );
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while queue.dead_letter_count().await.unwrap() == before {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the dead-letter queue got nothing"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(queue.dead_letter_count().await.unwrap(), before + 1);
}

/// A body over `max_message_bytes` is refused with `TooLarge`.
pub async fn oversized_messages_are_refused(queue: &dyn Queue) {
    let big = "x".repeat(queue.max_message_bytes() + 1);
    assert!(matches!(
        queue.send(&big, Duration::ZERO).await,
        Err(QueueError::TooLarge { .. })
    ));
    assert!(queue.receive(10, Duration::ZERO).await.unwrap().is_empty());
}

/// `send_batch` queues every message that fits and refuses the one too
/// large alone; `delete_batch` deletes every receipt it is given.
pub async fn batches_answer_each_message(queue: &dyn Queue) {
    let big = "x".repeat(queue.max_message_bytes() + 1);
    let mut batch: Vec<_> = (0..12)
        .map(|i| (format!("batched {i}"), Duration::ZERO))
        .collect();
    batch.insert(5, (big, Duration::ZERO));
    let sent = queue.send_batch(&batch).await;
    assert_eq!(sent.len(), 13);
    for (i, r) in sent.iter().enumerate() {
        if i == 5 {
            assert!(matches!(r, Err(QueueError::TooLarge { .. })), "{r:?}");
        } else {
            assert!(r.is_ok(), "entry {i}: {r:?}");
        }
    }
    let got = receive_until(queue, 12, Duration::from_secs(10)).await;
    assert_eq!(got.len(), 12);
    assert!(got.iter().all(|m| m.body.starts_with("batched ")));
    let receipts: Vec<_> = got.into_iter().map(|m| m.receipt).collect();
    let deleted = queue.delete_batch(&receipts).await;
    assert_eq!(deleted.len(), 12);
    assert!(deleted.iter().all(Result::is_ok), "{deleted:?}");
    assert!(queue
        .receive(10, Duration::from_millis(500))
        .await
        .unwrap()
        .is_empty());
}

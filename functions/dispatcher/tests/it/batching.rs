//! Queue calls in batches: the poller deletes what finished together, and
//! a fan-out queues all its delivery jobs with one `send_batch`.

use std::time::Duration;

use hooklane_domain::envelope::Publish;
use hooklane_domain::{Endpoint, EndpointId, EndpointType, Envelope, Job, MessageId};
use hooklane_runtime::config::Settings;
use hooklane_store::Page;
use serde_json::json;

use crate::support::Setup;

#[tokio::test]
async fn the_poller_deletes_finished_messages_in_batches() {
    let s = Setup::new(Settings::default()).await;
    let hook = s.hook(json!([{"type": "log", "message": "hi"}])).await;
    let calls: Vec<_> = (0..40).map(|_| s.call(&hook)).collect();
    for c in &calls {
        let body = Envelope::now(Job::HookCall(c.clone())).to_json();
        s.queue.send(&body, Duration::ZERO).await.unwrap();
    }
    s.calls.take();
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let poller = tokio::spawn(hooklane_dispatcher::poll(s.svc.clone(), stopped));
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let runs = s
            .store
            .list_runs(&s.bot, &hook.id, &Page::first(100))
            .await
            .unwrap()
            .items;
        if runs.len() == calls.len() {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{} runs", runs.len());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    stop.send(true).unwrap();
    poller.await.unwrap();
    let counted = s.calls.take();
    assert_eq!(counted.get("delete"), None, "{counted:?}");
    assert_eq!(
        counted.get("delete_batch.entries"),
        Some(&40),
        "{counted:?}"
    );
    assert!(counted["delete_batch"] < 40, "{counted:?}");
}

#[tokio::test]
async fn a_fan_out_queues_its_delivery_jobs_in_one_batch() {
    let s = Setup::new(Settings::default()).await;
    let now = time::OffsetDateTime::now_utc();
    for n in 0..3 {
        s.store
            .create_endpoint(&Endpoint {
                id: EndpointId::generate(),
                bot_id: s.bot.clone(),
                name: format!("Receiver {n}"),
                kind: EndpointType::Custom,
                url: format!("https://example.com/{n}"),
                enabled: true,
                disabled_reason: None,
                events: Vec::new(),
                secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".into(),
                old_secrets: Vec::new(),
                retry_schedule: vec![1],
                max_attempts: 2,
                headers: serde_json::Map::new(),
                rate_limit: None,
                failing_since: None,
                allowed_mentions: None,
                created_at: now,
                updated_at: now,
            })
            .await
            .unwrap();
    }
    s.calls.take();
    let job = Job::Publish(Publish {
        message_id: MessageId::generate(),
        bot_id: s.bot.clone(),
        event: hooklane_domain::EventType::parse("order.paid").unwrap(),
        data: json!({}),
        timestamp: now,
        depth: 0,
        only_endpoint: None,
    });
    hooklane_dispatcher::process(&s.svc, Envelope::now(job), 1)
        .await
        .unwrap();
    let counted = s.calls.take();
    assert_eq!(counted.get("send"), None, "{counted:?}");
    assert_eq!(counted.get("send_batch"), Some(&1), "{counted:?}");
    assert_eq!(counted.get("send_batch.entries"), Some(&3), "{counted:?}");
    let queued = s
        .queue
        .receive(10, Duration::from_millis(300))
        .await
        .unwrap();
    assert_eq!(queued.len(), 3);
}

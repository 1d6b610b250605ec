//! Permanent is permanent: a target refused at send time, a 4xx no retry
//! can change and a template that cannot render fail a run (or a
//! delivery) for good, with the reason in the log and nothing queued
//! again. And every outside call carries a stable `Idempotency-Key`.

use std::time::Duration;

use hooklane_domain::envelope::DeliveryTask;
use hooklane_domain::{
    DeliveryStatus, Endpoint, EndpointId, EndpointType, Envelope, Job, MessageId, RunStatus,
};
use hooklane_runtime::config::Settings;
use hooklane_runtime::outbound::{check_url, is_forbidden};
use hooklane_store::Page;
use hooklane_testkit::{Reply, Sink};
use serde_json::json;

use crate::support::Setup;

/// A host name that passes the URL check (not `localhost`) but resolves
/// only to forbidden addresses: this machine's own name (in /etc/hosts or
/// from the resolver's `myhostname`), else `localhost.localdomain`.
async fn a_name_resolving_inward() -> String {
    let own = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
    for name in [own.trim(), "localhost.localdomain", "ip6-localhost"] {
        if name.is_empty() || check_url(&format!("https://{name}/"), false).is_err() {
            continue;
        }
        let Ok(addrs) = tokio::net::lookup_host((name, 443)).await else {
            continue;
        };
        let addrs: Vec<_> = addrs.collect();
        if !addrs.is_empty() && addrs.iter().all(|a| is_forbidden(a.ip())) {
            return name.to_owned();
        }
    }
    panic!("no host name on this machine resolves to a private or loopback address");
}

/// How many messages the queue hands over now.
async fn queued_now(s: &Setup) -> usize {
    s.queue
        .receive(10, Duration::from_millis(300))
        .await
        .unwrap()
        .len()
}

#[tokio::test]
async fn a_target_refused_at_send_time_fails_the_run_for_good() {
    let s = Setup::new(Settings::default()).await;
    let name = a_name_resolving_inward().await;
    let hook = s
        .hook(json!([{"type": "http_request", "method": "POST", "url": format!("https://{name}:9/x"), "body": {}}]))
        .await;
    let call = s.call(&hook);
    s.process(&call, 1).await;

    let run = s.run_of(&call).await.unwrap();
    assert_eq!(run.status, RunStatus::Failed, "{run:?}");
    let error = run.error.unwrap();
    assert!(error.contains("private"), "{error}");
    assert!(
        error.contains("not retried: the failure is permanent"),
        "{error}"
    );
    assert_eq!(queued_now(&s).await, 0, "no retry was queued");
}

#[tokio::test]
async fn a_4xx_that_cannot_change_fails_the_run_for_good_and_a_409_is_retried() {
    let sink = Sink::start().await;
    let s = Setup::new(Settings {
        allow_private_targets: true,
        ..Settings::default()
    })
    .await;
    sink.reply_with([Reply::status(422)]);
    let hook = s
        .hook(json!([{"type": "http_request", "url": sink.url("/a"), "body": {}}]))
        .await;
    let call = s.call(&hook);
    s.process(&call, 1).await;
    let run = s.run_of(&call).await.unwrap();
    assert_eq!(run.status, RunStatus::Failed);
    assert!(run.error.unwrap().contains("permanent"));
    assert_eq!(queued_now(&s).await, 0);

    sink.reply_with([Reply::status(409)]);
    let call = s.call(&hook);
    s.calls.take();
    s.process(&call, 1).await;
    let run = s.run_of(&call).await.unwrap();
    assert_eq!(run.status, RunStatus::Retrying, "{run:?}");
    assert_eq!(s.calls.take().get("send"), Some(&1), "the retry is queued");
}

#[tokio::test]
async fn outside_calls_carry_the_run_id_and_the_action_path_as_idempotency_key() {
    let sink = Sink::start().await;
    let s = Setup::new(Settings {
        allow_private_targets: true,
        ..Settings::default()
    })
    .await;
    let hook = s
        .hook(json!([
            {"type": "http_request", "url": sink.url("/a"), "body": {}},
            {"type": "condition", "if": {"left": "1", "op": "==", "right": "1"},
             "then": [{"type": "slack_message", "webhook_url": sink.url("/b"), "text": "hi"}], "else": []},
            {"type": "http_request", "url": sink.url("/c"), "headers": {"Idempotency-Key": "mine-{event.id}"}}
        ]))
        .await;
    let call = s.call(&hook);
    s.process(&call, 1).await;
    let got = sink.wait_for(3, Duration::from_secs(10)).await;
    let keys: Vec<Vec<String>> = got
        .iter()
        .map(|r| {
            r.headers
                .get_all("idempotency-key")
                .iter()
                .map(|v| v.to_str().unwrap().to_owned())
                .collect()
        })
        .collect();
    let id = call.call_id.as_str();
    assert_eq!(
        keys,
        vec![
            vec![format!("{id}:0")],
            vec![format!("{id}:1.then.0")],
            vec![format!("mine-{id}")]
        ]
    );
}

#[tokio::test]
async fn a_delivery_answered_404_is_not_retried_and_carries_the_message_id_as_key() {
    let sink = Sink::start().await;
    let s = Setup::new(Settings {
        allow_private_targets: true,
        ..Settings::default()
    })
    .await;
    let now = time::OffsetDateTime::now_utc();
    let endpoint = Endpoint {
        id: EndpointId::generate(),
        bot_id: s.bot.clone(),
        name: "Receiver".into(),
        kind: EndpointType::Custom,
        url: sink.url("/gone-missing"),
        enabled: true,
        disabled_reason: None,
        events: Vec::new(),
        secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".into(),
        old_secrets: Vec::new(),
        retry_schedule: vec![1],
        max_attempts: 3,
        headers: serde_json::Map::new(),
        rate_limit: None,
        failing_since: None,
        allowed_mentions: None,
        created_at: now,
        updated_at: now,
    };
    s.store.create_endpoint(&endpoint).await.unwrap();
    sink.reply_with([Reply::status(404)]);
    let message = MessageId::generate();
    let job = Job::Deliver(DeliveryTask {
        message_id: message.clone(),
        bot_id: s.bot.clone(),
        endpoint_id: endpoint.id.clone(),
        event: hooklane_domain::EventType::parse("order.paid").unwrap(),
        data: json!({}),
        timestamp: now,
        attempt: 1,
        previous: None,
        depth: 0,
        force: false,
        throttled: 0,
    });
    hooklane_dispatcher::process(&s.svc, Envelope::now(job), 1)
        .await
        .unwrap();

    let got = sink.wait_for(1, Duration::from_secs(10)).await;
    assert_eq!(
        got[0].header("idempotency-key").as_deref(),
        Some(message.as_str())
    );
    let rows = s
        .store
        .list_deliveries(&s.bot, &endpoint.id, &Page::first(10))
        .await
        .unwrap()
        .items;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].status, DeliveryStatus::Exhausted);
    assert!(
        rows[0].error.as_deref().unwrap().contains("not retried"),
        "{:?}",
        rows[0].error
    );
    assert_eq!(queued_now(&s).await, 0, "no retry was queued");
}

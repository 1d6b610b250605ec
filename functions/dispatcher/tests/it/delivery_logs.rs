//! What a delivery attempt writes to the log: a failure is a WARN line whose
//! message starts with the target's HTTP status; a success stays at INFO.
//! The attempt's row in the delivery log names the status the endpoint
//! answered and the start of its body.

use std::time::Duration;

use hooklane_domain::envelope::DeliveryTask;
use hooklane_domain::{Endpoint, EndpointId, EndpointType, Envelope, EventType, Job, MessageId};
use hooklane_runtime::config::Settings;
use hooklane_store::Page;
use hooklane_testkit::{Reply, Sink};
use serde_json::json;

use crate::support::{Lines, Setup};

/// One attempt of a delivery to `sink`'s `/in`, answered with `reply`:
/// the log lines it wrote and its row's `error`.
async fn one_attempt(reply: Reply, max_attempts: u32) -> (String, Option<String>) {
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
        url: sink.url("/in"),
        enabled: true,
        disabled_reason: None,
        events: Vec::new(),
        secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".into(),
        old_secrets: Vec::new(),
        retry_schedule: vec![60],
        max_attempts,
        headers: serde_json::Map::new(),
        failing_since: None,
        allowed_mentions: None,
        rate_limit: None,
        created_at: now,
        updated_at: now,
    };
    s.store.create_endpoint(&endpoint).await.unwrap();
    sink.reply_with([reply]);
    let job = Job::Deliver(DeliveryTask {
        message_id: MessageId::generate(),
        bot_id: s.bot.clone(),
        endpoint_id: endpoint.id.clone(),
        event: EventType::parse("order.paid").unwrap(),
        data: json!({"order": 7}),
        timestamp: now,
        attempt: 1,
        previous: None,
        depth: 0,
        force: false,
        throttled: 0,
    });
    let (lines, _guard) = Lines::capture();
    hooklane_dispatcher::process(&s.svc, Envelope::now(job), 1)
        .await
        .unwrap();
    sink.wait_for(1, Duration::from_secs(10)).await;
    let rows = s
        .store
        .list_deliveries(&s.bot, &endpoint.id, &Page::first(10))
        .await
        .unwrap()
        .items;
    assert_eq!(rows.len(), 1, "{rows:?}");
    (lines.text(), rows[0].error.clone())
}

#[tokio::test]
async fn a_failed_delivery_is_a_warn_line_with_its_http_status_first() {
    // (reply, max attempts, the WARN message's start; None: no WARN line)
    let cases: [(Reply, u32, Option<&str>); 6] = [
        (
            Reply::status(500),
            3,
            Some("HTTP 500: delivery attempt failed, retried"),
        ),
        (
            Reply::status(503),
            1,
            Some("HTTP 503: delivery attempt failed, not retried"),
        ),
        (
            Reply::status(429),
            3,
            Some("HTTP 429: delivery attempt failed, retried"),
        ),
        (
            Reply::status(404),
            3,
            Some("HTTP 404: delivery attempt failed, not retried"),
        ),
        (
            Reply::status(410),
            3,
            Some("HTTP 410: delivery attempt failed, not retried"),
        ),
        (Reply::status(200), 3, None),
    ];
    for (reply, max_attempts, want) in cases {
        let (log, _) = one_attempt(reply, max_attempts).await;
        let attempt_lines: Vec<&str> = log
            .lines()
            .filter(|l| l.contains("delivery attempt"))
            .collect();
        assert_eq!(attempt_lines.len(), 1, "{want:?}: {log}");
        let line = attempt_lines[0];
        match want {
            Some(message) => {
                assert!(line.contains(" WARN "), "{message}: {line}");
                // The message follows the target (`…::deliver: `) at once.
                assert!(
                    line.contains(&format!("hooklane_dispatcher::deliver: {message}")),
                    "{message}: {line}"
                );
            }
            None => assert!(line.contains(" INFO "), "{line}"),
        }
        assert!(!line.contains("whsec_"), "no secret in the log: {line}");
    }
}

#[tokio::test]
async fn a_failed_delivery_row_names_the_status_and_the_start_of_the_body() {
    let long = "x".repeat(1000);
    // (reply, the row's error: the body cut to 300 characters)
    let cases = [
        (
            Reply::json(500, json!("ok")),
            "the endpoint answered 500: \"ok\"".to_owned(),
        ),
        (
            Reply::json(503, json!({"ok": false})),
            "the endpoint answered 503: {\"ok\":false}".to_owned(),
        ),
        (
            Reply::json(500, json!(long)),
            format!("the endpoint answered 500: \"{}…", "x".repeat(298)),
        ),
    ];
    for (reply, want) in cases {
        let (log, error) = one_attempt(reply, 3).await;
        assert_eq!(error.as_deref(), Some(want.as_str()));
        let status = &want[..want.find(':').unwrap()];
        assert!(log.contains(status), "the log line says it too: {log}");
    }
}

#[tokio::test]
async fn a_failed_delivery_row_masks_a_credential_the_body_echoes() {
    let (_, error) = one_attempt(
        Reply::json(
            401,
            json!({"error": "bad signature", "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}),
        ),
        3,
    )
    .await;
    let error = error.unwrap();
    assert!(
        error.starts_with("the endpoint answered 401: {\"error\":\"bad signature\""),
        "{error}"
    );
    assert!(
        !error.contains("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"),
        "{error}"
    );
    assert!(error.contains("****"), "{error}");
}

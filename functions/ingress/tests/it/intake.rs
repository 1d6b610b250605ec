//! Duplicate calls: a repeated idempotency key or provider delivery id
//! answers the first id and queues once.

use crate::signatures::*;
use crate::support::*;

#[tokio::test]
async fn a_repeated_idempotency_key_answers_the_first_id_and_queues_once() {
    let t = Ingress::start().await;
    let call = || {
        Call::post(path("hk_open"))
            .json("{}")
            .header("idempotency-key", "order-7")
            .build()
    };
    let first = t.send(call()).await;
    let second = t.send(call()).await;
    assert_eq!(first.status, 202);
    assert_eq!(second.status, 202);
    assert_eq!(second.body["id"], first.body["id"]);
    assert_eq!(t.drain().await.len(), 1);
    // Each provider's own delivery id works the same way.
    let dup = |c: Call| c.build();
    for (what, a, b) in [
        (
            "Standard Webhooks webhook-id",
            standard("msg_dup", t.now, BODY, BODY),
            standard("msg_dup", t.now + 1, BODY, BODY),
        ),
        (
            "Svix's svix-id",
            svix("msg_svixdup", t.now, BODY),
            svix("msg_svixdup", t.now + 1, BODY),
        ),
        (
            "X-GitHub-Delivery",
            github(GITHUB_SECRET, BODY, BODY).header("x-github-delivery", "d-1"),
            github(GITHUB_SECRET, BODY, BODY).header("x-github-delivery", "d-1"),
        ),
        (
            "the Stripe event id",
            stripe(stripe_header(STRIPE_SECRET, t.now, BODY), BODY),
            stripe(stripe_header(STRIPE_SECRET, t.now - 5, BODY), BODY),
        ),
    ] {
        let first = t.send(dup(a)).await;
        let second = t.send(dup(b)).await;
        assert_eq!(first.status, 202, "{what}: {}", first.body);
        assert_eq!(second.status, 202, "{what}: {}", second.body);
        assert_eq!(second.body["id"], first.body["id"], "{what}");
        assert_eq!(t.drain().await.len(), 1, "{what}");
    }
}

/// A Slack Events API callback, as Slack sends it.
fn slack_event(event_id: &str) -> String {
    format!(
        r#"{{"token":"z26uFbvR1xHJEdHE1OQiO6t8","team_id":"T061EG9RZ","api_app_id":"A0FFV41KK","event":{{"type":"app_mention","user":"U061F7AUR","text":"<@U0LAN0Z89> is it everything a river should be?","ts":"1515449522.000016","channel":"C0LAN2Q65","event_ts":"1515449522000016"}},"type":"event_callback","event_id":"{event_id}","event_time":1515449522000016,"authed_users":["U0LAN0Z89"]}}"#
    )
}

/// A Slack call of `body` signed at `ts`, retried `retry` times before.
fn slack_call(ts: i64, body: &str, content_type: &str, retry: Option<u32>) -> Call {
    let call = Call::post(path("hk_slack"))
        .header("content-type", content_type)
        .header("x-slack-request-timestamp", ts.to_string())
        .header("x-slack-signature", slack_signature(SLACK_SECRET, ts, body))
        .body(body.to_owned());
    match retry {
        Some(n) => call
            .header("x-slack-retry-num", n.to_string())
            .header("x-slack-retry-reason", "http_timeout"),
        None => call,
    }
}

#[tokio::test]
async fn slacks_retries_of_an_accepted_event_are_duplicates_and_other_calls_are_not() {
    let t = Ingress::start().await;
    let json = "application/json";
    let form = "application/x-www-form-urlencoded";
    let ev1 = slack_event("Ev0PV52K21");
    let ev2 = slack_event("Ev0PV52K22");
    // Each call in order, and whether it starts a new run.
    let calls: Vec<(&str, Call, bool)> = vec![
        ("an event", slack_call(t.now, &ev1, json, None), true),
        (
            "its first retry",
            slack_call(t.now + 3, &ev1, json, Some(1)),
            false,
        ),
        (
            "its second retry, after a minute",
            slack_call(t.now + 60, &ev1, json, Some(2)),
            false,
        ),
        (
            "another event",
            slack_call(t.now + 61, &ev2, json, Some(1)),
            true,
        ),
        (
            "a slash command",
            slack_call(t.now, SLACK_BODY, form, None),
            true,
        ),
        (
            "the same slash command again (Slack does not retry those)",
            slack_call(t.now + 1, SLACK_BODY, form, None),
            true,
        ),
    ];
    let mut first_id = None;
    for (what, call, new_run) in calls {
        let answer = t.send(call.build()).await;
        assert_eq!(answer.status, 202, "{what}: {}", answer.body);
        let queued = t.drain().await.len();
        assert_eq!(queued, usize::from(new_run), "{what}");
        let id = answer.body["id"].clone();
        match &first_id {
            None => first_id = Some(id),
            Some(first) if !new_run => {
                assert_eq!(&id, first, "{what}");
                assert_eq!(
                    answer.header("x-hooklane-duplicate"),
                    Some("true"),
                    "{what}"
                );
            }
            Some(first) => assert_ne!(&id, first, "{what}"),
        }
    }
}

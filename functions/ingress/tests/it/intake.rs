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

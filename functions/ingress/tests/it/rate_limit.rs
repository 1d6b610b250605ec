//! A hook call's rate limit: fixed windows, 429 with `Retry-After`.

use crate::support::*;

#[tokio::test]
async fn the_rate_limit_answers_429_until_the_window_ends_and_then_accepts_again() {
    let t = Ingress::start().await;
    let call = || Call::post(path("hk_rated")).json("{}").build();
    assert_eq!(t.send(call()).await.status, 202);
    let limited = t.send(call()).await;
    assert_eq!(limited.status, 429);
    assert_eq!(limited.body["error"]["code"], "rate_limited");
    assert_eq!(limited.header("retry-after"), Some("2"));
    t.clock.advance(time::Duration::seconds(1));
    let limited = t.send(call()).await;
    assert_eq!(limited.status, 429);
    assert_eq!(limited.header("retry-after"), Some("1"));
    t.clock.advance(time::Duration::seconds(1));
    assert_eq!(t.send(call()).await.status, 202);
    assert_eq!(t.drain().await.len(), 2, "only the two accepted calls");
}

//! Browser origins: CORS preflight and the CORS headers on errors.

use axum::http::Method;

use crate::support::*;

#[tokio::test]
async fn a_preflight_from_an_allowed_origin_is_answered_and_queues_nothing() {
    let t = Ingress::start().await;
    let answer = t
        .send(
            Call::new(Method::OPTIONS, path("hk_cors"))
                .header("origin", "https://app.example.com")
                .header("access-control-request-method", "POST")
                .header("access-control-request-headers", "content-type, x-token")
                .build(),
        )
        .await;
    assert_eq!(answer.status, 204);
    assert_eq!(
        answer.header("access-control-allow-origin"),
        Some("https://app.example.com")
    );
    assert_eq!(
        answer.header("access-control-allow-methods"),
        Some("POST, OPTIONS")
    );
    assert_eq!(
        answer.header("access-control-allow-headers"),
        Some("content-type, x-token")
    );
    assert_eq!(answer.header("vary"), Some("Origin"));

    // Without an Origin it is no preflight: the answer lists the methods.
    let plain = t
        .send(Call::new(Method::OPTIONS, path("hk_cors")).build())
        .await;
    assert_eq!(plain.status, 204);
    assert_eq!(plain.header("allow"), Some("POST, OPTIONS"));
    assert_eq!(plain.header("access-control-allow-origin"), None);
    assert!(t.drain().await.is_empty());
}

#[tokio::test]
async fn errors_for_an_allowed_origin_carry_cors_headers_so_the_page_can_read_them() {
    let t = Ingress::start().await;
    let answer = t
        .send(
            Call::post(path("hk_cors"))
                .json("{\"a\":")
                .header("origin", "https://app.example.com")
                .build(),
        )
        .await;
    assert_eq!(answer.status, 400);
    assert_eq!(answer.body["error"]["code"], "invalid_json");
    assert_eq!(
        answer.header("access-control-allow-origin"),
        Some("https://app.example.com")
    );
    assert!(answer
        .header("access-control-expose-headers")
        .is_some_and(|h| h.contains("retry-after")));
    assert!(t.drain().await.is_empty());
}

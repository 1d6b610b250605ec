//! Every 405 names the allowed methods, in `Allow` and in its message; a
//! 401 carries no `Allow`. The router is served as Lambda serves it
//! (`hooklane_web::lambda::app`, which `hooklane dev` matches).

use axum::http::{header, Method, StatusCode};

use crate::common::*;

#[tokio::test]
async fn every_405_names_the_allowed_methods_and_no_401_carries_allow() {
    let app = spawn_app();
    let router = hooklane_web::lambda::app(app.router.clone());
    let bearer = format!("Bearer {TOKEN}");
    // A route, a method it does not take, and the methods it takes.
    let cases: &[(&str, Method, &[&str])] = &[
        ("/v1/bots", Method::PUT, &["POST"]),
        ("/v1/bots", Method::DELETE, &["POST"]),
        ("/v1/bots/b1", Method::POST, &["GET", "DELETE"]),
        ("/v1/bots/b1/api-key/rotate", Method::GET, &["POST"]),
        ("/v1/bots/b1/hooks", Method::PATCH, &["GET", "POST"]),
        (
            "/v1/bots/b1/hooks/hk_1",
            Method::POST,
            &["GET", "PATCH", "DELETE"],
        ),
        ("/v1/bots/b1/variables", Method::POST, &["GET"]),
        ("/healthz", Method::POST, &["GET"]),
    ];
    let mut failures = Vec::new();
    for (path, method, allowed) in cases {
        let with_token = send(&router, request(method.clone(), path, Some(&bearer), None)).await;
        let allow = with_token
            .headers
            .get(header::ALLOW)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let message = with_token.message().to_owned();
        let named = allowed
            .iter()
            .all(|m| allow.contains(m) && message.contains(m));
        if with_token.status != StatusCode::METHOD_NOT_ALLOWED
            || with_token.code() != "method_not_allowed"
            || !named
        {
            failures.push(format!(
                "{method} {path}: {} {} Allow: {allow:?} message: {message:?}",
                with_token.status,
                with_token.code()
            ));
        }
        for authorization in [None, Some("Bearer wrong-token-0123456789-0123456789")] {
            let answer = send(&router, request(method.clone(), path, authorization, None)).await;
            if answer.status == StatusCode::UNAUTHORIZED
                && answer.headers.contains_key(header::ALLOW)
            {
                failures.push(format!(
                    "{method} {path} with {authorization:?}: a 401 with Allow"
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

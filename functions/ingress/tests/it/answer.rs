//! A hook's own answer: its `response` template and `redirect_to`.

use axum::http::Method;
use hooklane_domain::Job;
use serde_json::json;

use crate::signatures::BODY;
use crate::support::*;

#[tokio::test]
async fn a_hook_response_is_rendered_with_the_call() {
    let t = Ingress::start().await;
    let answer = t
        .send(Call::post(path("hk_responds")).json(BODY).build())
        .await;
    assert_eq!(answer.status, 200);
    assert_eq!(
        answer.body,
        json!({"ok": true, "order": {"id": 7, "total": "12.50"}})
    );
    let queued = t.drain().await;
    assert_eq!(queued.len(), 1);
    let Job::HookCall(call) = &queued[0].job else {
        panic!("not a hook call")
    };
    assert_eq!(
        answer.header("x-hooklane-event-id"),
        Some(call.call_id.as_str())
    );
}

#[tokio::test]
async fn a_redirect_goes_only_to_an_http_url_and_otherwise_answers_202() {
    let t = Ingress::start().await;
    let to = |next: &str| {
        let query: String = form_urlencoded_pair("next", next);
        Call::new(Method::GET, format!("{}?{query}", path("hk_redirects"))).build()
    };
    let answer = t
        .send(to("https://shop.example/thanks?name=Jürgen Müller"))
        .await;
    assert_eq!(answer.status, 303);
    assert_eq!(
        answer.header("location"),
        Some("https://shop.example/thanks?name=J%C3%BCrgen%20M%C3%BCller")
    );
    assert!(answer.header("x-hooklane-event-id").is_some());
    assert_eq!(t.drain().await.len(), 1);
    for next in [
        "javascript:alert(1)",
        "//evil.example/",
        "data:text/html,hi",
    ] {
        let answer = t.send(to(next)).await;
        assert_eq!(answer.status, 202, "{next}");
        assert_eq!(answer.header("location"), None, "{next}");
        assert_eq!(t.drain().await.len(), 1, "the call is queued all the same");
    }
}

fn form_urlencoded_pair(name: &str, value: &str) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .append_pair(name, value)
        .finish()
}

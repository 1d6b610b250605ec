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
async fn a_response_status_that_carries_no_body_is_sent_without_one() {
    let t = Ingress::start().await;
    let answer = t
        .send(Call::post(path("hk_nocontent")).json(BODY).build())
        .await;
    assert_eq!(answer.status, 204);
    assert_eq!(answer.text, "", "not even the `null` of a body left out");
    assert_eq!(answer.header("content-type"), None);
    assert!(answer.header("x-hooklane-event-id").is_some());
    assert_eq!(t.drain().await.len(), 1);
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

/// An SMS as Twilio posts it (a form), whose text tries to add TwiML.
fn sms(hook: &str, text: &str) -> Call {
    let form = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("From", "+15005550006\" x=\"1")
        .append_pair("Body", text)
        .finish();
    Call::post(path(hook))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form)
}

#[tokio::test]
async fn an_xml_response_is_sent_as_its_content_type_with_the_callers_values_escaped() {
    let t = Ingress::start().await;
    let answer = t
        .send(
            sms(
                "hk_twiml",
                "hi</Message><Redirect>https://evil.example/</Redirect><Message>&'",
            )
            .build(),
        )
        .await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.header("content-type"), Some("text/xml"));
    assert_eq!(
        answer.text,
        "<Response><Message to=\"+15005550006&quot; x=&quot;1\">Got hi&lt;/Message&gt;&lt;Redirect&gt;https://evil.example/&lt;/Redirect&gt;&lt;Message&gt;&amp;&#39;</Message></Response>"
    );
    assert!(answer.header("x-hooklane-event-id").is_some());
    assert_eq!(t.drain().await.len(), 1);
}

#[tokio::test]
async fn a_json_or_other_response_type_is_sent_as_set_and_no_type_keeps_the_default() {
    let t = Ingress::start().await;
    // A JSON type: the rendered body is JSON, a string body a JSON string.
    let answer = t.send(sms("hk_typedjson", "a \"quote\" <b>").build()).await;
    assert_eq!(answer.status, 201);
    assert_eq!(
        answer.header("content-type"),
        Some("application/problem+json")
    );
    assert_eq!(answer.body, json!("Got a \"quote\" <b>"));
    // Another type: a string body as its text, values as they are.
    let answer = t.send(sms("hk_typedtext", "a <b>").build()).await;
    assert_eq!(
        answer.header("content-type"),
        Some("text/csv; charset=utf-8")
    );
    assert_eq!(answer.text, "Body,a <b>");
    // No type: JSON as before.
    let answer = t
        .send(Call::post(path("hk_responds")).json(BODY).build())
        .await;
    assert_eq!(answer.header("content-type"), Some("application/json"));
}

//! API Gateway events (real fixtures under `tests/fixtures`) through the
//! Lambda handler.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use hooklane_domain::Job;
use lambda_http::request::LambdaRequest;
use lambda_http::{Context, LambdaEvent};
use serde_json::{json, Value};

use crate::signatures::*;
use crate::support::*;

fn fixture(name: &str) -> Value {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

impl Ingress {
    /// One API Gateway invocation, the way `hooklane_web::lambda::run` handles it.
    async fn invoke(&self, event: Value) -> Value {
        let request: LambdaRequest = serde_json::from_value(event).unwrap();
        hooklane_web::lambda::handle(
            self.app.clone(),
            LambdaEvent::new(request, Context::default()),
        )
        .await
        .unwrap()
    }
}

fn lambda_body(response: &Value) -> Value {
    let body = response["body"].as_str().unwrap_or_default();
    let bytes = if response["isBase64Encoded"] == true {
        STANDARD.decode(body).unwrap()
    } else {
        body.as_bytes().to_vec()
    };
    serde_json::from_slice(&bytes).unwrap_or(Value::Null)
}

#[tokio::test]
async fn an_api_gateway_body_flagged_base64_that_is_not_base64_is_refused_400() {
    let t = Ingress::start().await;
    let response = t.invoke(fixture("apigw-v2-bad-base64-body.json")).await;
    assert_eq!(response["statusCode"], 400, "{response}");
    assert_eq!(lambda_body(&response)["error"]["code"], "invalid_body");
    assert!(t.drain().await.is_empty());
}

#[tokio::test]
async fn an_api_gateway_call_is_queued_with_the_source_ip_of_the_event() {
    let t = Ingress::start().await;
    let event = fixture("apigw-v2-hook-call.json");
    let response = t.invoke(event).await;
    assert_eq!(response["statusCode"], 202, "{response}");
    let answer = lambda_body(&response);
    let queued = t.drain().await;
    assert_eq!(queued.len(), 1);
    let Job::HookCall(call) = &queued[0].job else {
        panic!("not a hook call")
    };
    assert_eq!(answer["id"], call.call_id.as_str());
    // sourceIp, not the first X-Forwarded-For entry the caller could forge.
    assert_eq!(call.request.ip.as_deref(), Some("198.51.100.7"));
    assert_eq!(call.request.method, "POST");
    assert_eq!(
        Value::Object(call.request.query.clone()),
        json!({"src": "apigw", "lang": "de"})
    );
    assert_eq!(call.request.payload, json!({"order": {"id": 7}}));
    assert_eq!(call.request.variables["amount"], "12");
}

#[tokio::test]
async fn allowed_ips_are_checked_against_the_source_ip_of_an_api_gateway_event() {
    let t = Ingress::start().await;
    for (source, forwarded, status) in [
        ("198.51.100.7", "203.0.113.5", 403),
        ("203.0.113.5", "198.51.100.7", 202),
    ] {
        let mut event = fixture("apigw-v2-hook-call.json");
        event["rawPath"] = json!(path("hk_ips"));
        event["requestContext"]["http"]["path"] = json!(path("hk_ips"));
        event["requestContext"]["http"]["sourceIp"] = json!(source);
        event["headers"]["x-forwarded-for"] = json!(forwarded);
        let response = t.invoke(event).await;
        assert_eq!(response["statusCode"], status, "from {source}: {response}");
        let queued = t.drain().await;
        assert_eq!(queued.len(), usize::from(status == 202), "from {source}");
    }
}

#[tokio::test]
async fn a_base64_encoded_api_gateway_body_verifies_a_signature_over_its_raw_bytes() {
    let t = Ingress::start().await;
    // The fixture calls `hk_lambdagh`, signed with its secret.
    let event = fixture("apigw-v2-github-base64-body.json");
    let raw = STANDARD.decode(event["body"].as_str().unwrap()).unwrap();
    assert_eq!(
        event["headers"]["x-hub-signature-256"],
        github_signature(LAMBDA_GITHUB_SECRET, &raw),
        "the fixture's signature is over its decoded body"
    );
    let response = t.invoke(event.clone()).await;
    assert_eq!(response["statusCode"], 202, "{response}");
    let queued = t.drain().await;
    assert_eq!(queued.len(), 1);
    let Job::HookCall(call) = &queued[0].job else {
        panic!("not a hook call")
    };
    assert_eq!(
        call.request.payload["issue"]["title"],
        "Grüße aus München ✓"
    );
    assert_eq!(call.request.ip.as_deref(), Some("140.82.115.20"));
    assert!(!call.request.headers.contains_key("x-hub-signature-256"));

    // The same delivery again is a duplicate (X-GitHub-Delivery).
    let again = t.invoke(event.clone()).await;
    assert_eq!(again["statusCode"], 202);
    assert_eq!(lambda_body(&again)["id"], call.call_id.as_str());
    assert!(t.drain().await.is_empty());

    // One byte of the encoded body changed: the signature no longer holds.
    let mut tampered = event;
    let mut bytes = raw;
    bytes[10] ^= 1;
    tampered["body"] = json!(STANDARD.encode(&bytes));
    tampered["headers"]["x-github-delivery"] = json!("another-delivery");
    let refused = t.invoke(tampered).await;
    assert_eq!(refused["statusCode"], 401, "{refused}");
    assert_eq!(lambda_body(&refused)["error"]["code"], "unauthorized");
    assert!(t.drain().await.is_empty());
}

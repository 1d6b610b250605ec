//! Stored variables set and deleted through the admin API.

use crate::common::spawn_app;
use axum::http::{Method, StatusCode};
use hooklane_domain::BotId;
use serde_json::{json, Value};

#[tokio::test]
async fn a_variable_is_set_to_any_json_replaced_and_deleted() {
    let app = spawn_app();
    let bot = app.bot().await;
    let path = format!("/v1/bots/{bot}/variables/user.balance");
    let value = json!({"coins": 150, "tags": ["a", "b"], "ok": true});

    let created = app
        .call(Method::PUT, &path, Some(json!({"value": value})))
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
    assert_eq!(created.body["name"], "user.balance");
    assert_eq!(created.body["value"], value);
    let stored = app
        .svc
        .store
        .get_variable(&BotId::parse(&bot).unwrap(), "user.balance")
        .await
        .unwrap()
        .expect("stored");
    assert_eq!(stored.value, value);

    let replaced = app
        .call(Method::PUT, &path, Some(json!({"value": null})))
        .await;
    assert_eq!(replaced.status, StatusCode::OK);
    assert_eq!(replaced.body["value"], Value::Null);
    let listed = app.get(&format!("/v1/bots/{bot}/variables")).await;
    assert_eq!(listed.body["data"][0]["value"], Value::Null);
    assert_eq!(listed.body["data"].as_array().unwrap().len(), 1);

    assert_eq!(app.delete(&path).await.status, StatusCode::NO_CONTENT);
    let gone = app.delete(&path).await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    assert_eq!(gone.message(), "no such variable");
    let listed = app.get(&format!("/v1/bots/{bot}/variables")).await;
    assert_eq!(listed.body["data"], json!([]));
}

#[tokio::test]
async fn a_bad_variable_write_is_refused_with_a_message_naming_what_is_wrong() {
    let app = spawn_app();
    let bot = app.bot().await;
    let big = "x".repeat(64 * 1024);
    let cases: [(&str, Option<Value>, &str); 5] = [
        (
            "bad name!",
            Some(json!({"value": 1})),
            "not a variable name",
        ),
        ("n", Some(json!({})), "`value` is required"),
        ("n", Some(json!({"value": 1, "extra": 2})), "`extra`"),
        ("n", Some(json!([1])), "JSON object"),
        ("n", Some(json!({"value": big})), "at most 65536"),
    ];
    for (name, body, says) in cases {
        let path = format!("/v1/bots/{bot}/variables/{}", name.replace(' ', "%20"));
        let a = app.call(Method::PUT, &path, body).await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{name}: {:?}", a.body);
        assert_eq!(a.code(), "invalid_variable");
        assert!(a.message().contains(says), "{name}: {}", a.message());
    }
    let nobody = app
        .call(
            Method::PUT,
            "/v1/bots/nobody/variables/n",
            Some(json!({"value": 1})),
        )
        .await;
    assert_eq!(nobody.status, StatusCode::NOT_FOUND);
    assert_eq!(
        app.get(&format!("/v1/bots/{bot}/variables")).await.body["data"],
        json!([]),
        "nothing refused was stored"
    );
}

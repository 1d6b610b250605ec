//! `functions/admin/openapi.json` against the routers: every route the
//! source serves is documented, every documented admin operation reaches
//! its handler on the real router, and what the router answers (and what
//! it accepts) fits the documented schemas.

use std::collections::{BTreeMap, BTreeSet};

use crate::common::{portal_token, request, send, spawn_app, Answer, TOKEN};
use axum::http::{Method, StatusCode};
use hooklane_domain::{
    ActionResult, ActionStatus, BotId, CallId, Delivery, DeliveryId, DeliveryStatus, EndpointId,
    HookId, Message, MessageId, Run, RunStatus,
};
use serde_json::{json, Value};

/// The methods a hook URL serves (its handler takes any method and answers
/// 405 with `Allow` for those the hook does not take).
const HOOK_METHODS: &[&str] = &["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];

/// Every route the routers serve, as their source writes it: (router, path,
/// methods). Kept here by hand so a new route has to be added knowingly;
/// `the_route_list_is_the_one_in_the_routers_source` keeps it honest.
const SOURCE_ROUTES: &[(&str, &str, &[&str])] = &[
    ("ingress", "/hooks/{bot_id}/{hook_id}", HOOK_METHODS),
    ("ingress", "/webhook/{bot_id}/{hook_id}", HOOK_METHODS),
    ("ingress", "/v1/bots/{bot}/events", &["POST"]),
    ("admin", "/healthz", &["GET"]),
    ("admin", "/openapi.json", &["GET"]),
    ("admin", "/console", &["GET"]),
    ("admin", "/console/", &["GET"]),
    ("admin", "/console/{asset}", &["GET"]),
    ("admin", "/v1/bots/{bot}/portal", &["POST"]),
    ("admin", "/portal/v1/bots/{bot}", &["GET"]),
    ("admin", "/portal/v1/bots/{bot}/endpoints", &["GET"]),
    ("admin", "/portal/v1/bots/{bot}/endpoints/{ep}", &["GET"]),
    (
        "admin",
        "/portal/v1/bots/{bot}/endpoints/{ep}/deliveries",
        &["GET"],
    ),
    (
        "admin",
        "/portal/v1/bots/{bot}/endpoints/{ep}/test",
        &["POST"],
    ),
    (
        "admin",
        "/portal/v1/bots/{bot}/endpoints/{ep}/secret/rotate",
        &["POST"],
    ),
    (
        "admin",
        "/portal/v1/bots/{bot}/endpoints/{ep}/recover",
        &["POST"],
    ),
    (
        "admin",
        "/portal/v1/bots/{bot}/deliveries/{dlv}/resend",
        &["POST"],
    ),
    ("admin", "/v1/bots", &["POST", "GET"]),
    ("admin", "/v1/bots/{bot}/messages", &["GET"]),
    (
        "admin",
        "/v1/bots/{bot}/hooks/{hook}/runs/{run}/replay",
        &["POST"],
    ),
    ("admin", "/v1/bots/{bot}", &["GET", "DELETE"]),
    ("admin", "/v1/bots/{bot}/api-key/rotate", &["POST"]),
    ("admin", "/v1/bots/{bot}/hooks", &["POST", "GET"]),
    (
        "admin",
        "/v1/bots/{bot}/hooks/{hook}",
        &["GET", "PATCH", "DELETE"],
    ),
    ("admin", "/v1/bots/{bot}/hooks/{hook}/urls", &["POST"]),
    ("admin", "/v1/bots/{bot}/hooks/{hook}/runs", &["GET"]),
    ("admin", "/v1/bots/{bot}/hooks/{hook}/runs/{run}", &["GET"]),
    ("admin", "/v1/bots/{bot}/endpoints", &["POST", "GET"]),
    (
        "admin",
        "/v1/bots/{bot}/endpoints/{ep}",
        &["GET", "PATCH", "DELETE"],
    ),
    ("admin", "/v1/bots/{bot}/endpoints/{ep}/test", &["POST"]),
    (
        "admin",
        "/v1/bots/{bot}/endpoints/{ep}/secret/rotate",
        &["POST"],
    ),
    (
        "admin",
        "/v1/bots/{bot}/endpoints/{ep}/deliveries",
        &["GET"],
    ),
    ("admin", "/v1/bots/{bot}/endpoints/{ep}/recover", &["POST"]),
    ("admin", "/v1/bots/{bot}/deliveries/{dlv}", &["GET"]),
    ("admin", "/v1/bots/{bot}/deliveries/{dlv}/resend", &["POST"]),
    ("admin", "/v1/bots/{bot}/variables", &["GET"]),
    (
        "admin",
        "/v1/bots/{bot}/variables/{name}",
        &["PUT", "DELETE"],
    ),
];

/// The source files that declare routes, by router.
const SOURCES: &[(&str, &str)] = &[
    ("admin", include_str!("../../src/lib.rs")),
    ("admin", include_str!("../../src/bots.rs")),
    ("admin", include_str!("../../src/bot_list.rs")),
    ("admin", include_str!("../../src/messages.rs")),
    ("admin", include_str!("../../src/replay.rs")),
    ("admin", include_str!("../../src/console.rs")),
    ("admin", include_str!("../../src/portal.rs")),
    ("admin", include_str!("../../src/hooks.rs")),
    ("admin", include_str!("../../src/runs.rs")),
    ("admin", include_str!("../../src/endpoints.rs")),
    ("admin", include_str!("../../src/variables.rs")),
    ("ingress", include_str!("../../../ingress/src/lib.rs")),
];

/// What the contract's ingress table promises a hook call can answer.
const HOOK_CALL_STATUSES: &[&str] = &["202", "400", "401", "403", "404", "405", "429", "503"];

fn doc() -> Value {
    serde_json::from_str(hooklane_admin::OPENAPI).expect("openapi.json is JSON")
}

/// `/v1/bots/{bot}/hooks/{hook}` → `/v1/bots/{}/hooks/{}`.
fn shape(path: &str) -> String {
    let mut out = String::new();
    let mut in_param = false;
    for c in path.chars() {
        match c {
            '{' => {
                in_param = true;
                out.push_str("{}");
            }
            '}' => in_param = false,
            c if !in_param => out.push(c),
            _ => {}
        }
    }
    out
}

const OPERATION_KEYS: &[&str] = &[
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// Every documented operation: (path, METHOD, operation).
fn operations(doc: &Value) -> Vec<(String, String, Value)> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (key, op) in item.as_object().expect("a path item") {
            if OPERATION_KEYS.contains(&key.as_str()) {
                out.push((path.clone(), key.to_ascii_uppercase(), op.clone()));
            }
        }
    }
    out
}

fn is_ingress(path: &str) -> bool {
    path.starts_with("/hooks/") || path.starts_with("/webhook/") || path.ends_with("/events")
}

/// The routes declared in `source`: each `.route("path", method(handler)…)`.
fn routes_in_source(source: &str) -> Vec<(String, BTreeSet<String>)> {
    let mut out = Vec::new();
    let mut rest = source;
    while let Some(at) = rest.find(".route(") {
        rest = &rest[at + ".route(".len()..];
        let after = rest.trim_start();
        let Some(quoted) = after.strip_prefix('"') else {
            continue;
        };
        let end = quoted.find('"').expect("a closed route string");
        let path = quoted[..end].to_owned();
        let tail = &quoted[end + 1..];
        let stop = [".route(", ".merge(", ".route_layer(", ".with_state(", "\n}"]
            .iter()
            .filter_map(|s| tail.find(s))
            .min()
            .unwrap_or(tail.len());
        out.push((path, methods_in(&tail[..stop])));
    }
    out
}

/// The method routers named in a route's handler chain (`get(a).patch(b)`).
fn methods_in(chain: &str) -> BTreeSet<String> {
    let mut methods = BTreeSet::new();
    let bytes = chain.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i].is_ascii_alphabetic() || bytes[i] == b'_' {
            let start = i;
            while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                i += 1;
            }
            let word = &chain[start..i];
            let called = bytes.get(i) == Some(&b'(');
            let qualified = start >= 1 && bytes[start - 1] == b':';
            if called && !qualified {
                match word {
                    "get" | "post" | "put" | "patch" | "delete" => {
                        methods.insert(word.to_ascii_uppercase());
                    }
                    "any" => methods.extend(HOOK_METHODS.iter().map(|m| m.to_string())),
                    _ => {}
                }
            }
        } else {
            i += 1;
        }
    }
    methods
}

fn source_route_set() -> BTreeSet<(String, String, String)> {
    SOURCE_ROUTES
        .iter()
        .flat_map(|(router, path, methods)| {
            methods
                .iter()
                .map(move |m| (router.to_string(), shape(path), m.to_string()))
        })
        .collect()
}

#[test]
fn the_route_list_is_the_one_in_the_routers_source() {
    let mut scanned = BTreeSet::new();
    for (router, source) in SOURCES {
        for (path, methods) in routes_in_source(source) {
            assert!(!methods.is_empty(), "no method found for {path}");
            for m in methods {
                scanned.insert((router.to_string(), shape(&path), m));
            }
        }
    }
    let listed = source_route_set();
    let unlisted: Vec<_> = scanned.difference(&listed).collect();
    let gone: Vec<_> = listed.difference(&scanned).collect();
    assert!(
        unlisted.is_empty(),
        "routes in the source missing from SOURCE_ROUTES: {unlisted:?}"
    );
    assert!(
        gone.is_empty(),
        "SOURCE_ROUTES lists routes the source no longer has: {gone:?}"
    );
}

#[test]
fn every_route_the_routers_serve_is_documented_and_nothing_else() {
    let doc = doc();
    let documented: BTreeSet<(String, String)> = operations(&doc)
        .into_iter()
        .map(|(path, method, _)| (shape(&path), method))
        .collect();
    let served: BTreeSet<(String, String)> = source_route_set()
        .into_iter()
        .map(|(_, path, method)| (path, method))
        .collect();
    let undocumented: Vec<_> = served.difference(&documented).collect();
    let unserved: Vec<_> = documented.difference(&served).collect();
    assert!(
        undocumented.is_empty(),
        "served but not documented: {undocumented:?}"
    );
    assert!(
        unserved.is_empty(),
        "documented but not served: {unserved:?}"
    );
}

/// Resolves a local `$ref` such as `#/components/schemas/Hook`.
fn resolve<'a>(doc: &'a Value, reference: &str) -> Option<&'a Value> {
    let pointer = reference.strip_prefix('#')?;
    doc.pointer(pointer)
}

fn walk_refs(doc: &Value, v: &Value, at: &str, bad: &mut Vec<String>) {
    match v {
        Value::Object(o) => {
            if let Some(Value::String(r)) = o.get("$ref") {
                if resolve(doc, r).is_none() {
                    bad.push(format!("{at}: {r}"));
                }
            }
            for (k, child) in o {
                walk_refs(doc, child, &format!("{at}/{k}"), bad);
            }
        }
        Value::Array(a) => {
            for (i, child) in a.iter().enumerate() {
                walk_refs(doc, child, &format!("{at}/{i}"), bad);
            }
        }
        _ => {}
    }
}

/// A parameter, following its `$ref`.
fn param<'a>(doc: &'a Value, p: &'a Value) -> &'a Value {
    match p.get("$ref").and_then(Value::as_str) {
        Some(r) => resolve(doc, r).expect("a resolvable parameter"),
        None => p,
    }
}

#[test]
fn the_document_is_well_formed_openapi_3_1() {
    let doc = doc();
    assert!(doc["openapi"]
        .as_str()
        .is_some_and(|v| v.starts_with("3.1.")));
    assert_eq!(doc["info"]["version"], env!("CARGO_PKG_VERSION"));

    let mut bad = Vec::new();
    walk_refs(&doc, &doc, "#", &mut bad);
    assert!(bad.is_empty(), "references that do not resolve: {bad:?}");

    let schemes = doc["components"]["securitySchemes"]
        .as_object()
        .expect("security schemes");
    let tags: BTreeSet<&str> = doc["tags"]
        .as_array()
        .expect("tags")
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    let mut ids = BTreeSet::new();
    for (path, method, op) in operations(&doc) {
        let here = format!("{method} {path}");
        let id = op["operationId"].as_str().expect("an operationId");
        assert!(
            ids.insert(id.to_owned()),
            "{here}: operationId {id} is used twice"
        );
        assert!(op["summary"].is_string(), "{here}: a summary");
        for tag in op["tags"].as_array().expect("tags") {
            assert!(
                tags.contains(tag.as_str().unwrap()),
                "{here}: undeclared tag {tag}"
            );
        }
        let responses = op["responses"].as_object().expect("responses");
        // A redirect is the success of a route that only redirects.
        assert!(
            responses
                .keys()
                .any(|k| k.starts_with('2') || k.starts_with('3')),
            "{here}: a success answer"
        );
        let security = op["security"].as_array().expect("explicit security");
        for requirement in security {
            for name in requirement.as_object().unwrap().keys() {
                assert!(schemes.contains_key(name), "{here}: unknown scheme {name}");
            }
        }

        // Path templates and path parameters match one to one.
        let mut declared = BTreeSet::new();
        let path_level = doc["paths"][&path]["parameters"].as_array().cloned();
        let op_level = op["parameters"].as_array().cloned();
        for p in path_level.iter().chain(op_level.iter()).flatten() {
            let p = param(&doc, p);
            if p["in"] == "path" {
                assert_eq!(p["required"], true, "{here}: path parameters are required");
                declared.insert(p["name"].as_str().unwrap().to_owned());
            }
        }
        let templated: BTreeSet<String> = path
            .split('/')
            .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .map(str::to_owned)
            .collect();
        assert_eq!(declared, templated, "{here}: path parameters");

        if path.starts_with("/v1/") && !is_ingress(&path) {
            assert!(
                responses.contains_key("401"),
                "{here}: admin routes answer 401"
            );
            let names: BTreeSet<&String> = security
                .iter()
                .flat_map(|r| r.as_object().unwrap().keys())
                .collect();
            assert!(
                names.contains(&"adminToken".to_owned()) && names.contains(&"awsSigV4".to_owned()),
                "{here}: the admin token under dev, SigV4 in AWS"
            );
        }
        if (path.starts_with("/hooks/") || path.starts_with("/webhook/")) && method != "OPTIONS" {
            for status in HOOK_CALL_STATUSES {
                assert!(
                    responses.contains_key(*status),
                    "{here}: documents {status}"
                );
            }
            if method != "GET" {
                assert!(responses.contains_key("413"), "{here}: documents 413");
            }
        }
    }
}

#[tokio::test]
async fn the_document_is_served_at_openapi_json() {
    let app = spawn_app();
    let response = send(
        &app.router,
        request(Method::GET, "/openapi.json", None, None),
    )
    .await;
    assert_eq!(response.status, StatusCode::OK);
    assert_eq!(response.headers["content-type"], "application/json");
    assert_eq!(response.body, doc());
}

// ------------------------------------------------------- schema checking

/// Checks `v` against `schema`, the subset of JSON Schema the document
/// uses: `$ref`, `oneOf` (exactly one), `allOf`, `type`, `const`, `enum`,
/// `properties`, `required`, `additionalProperties`, `items`, lengths and
/// bounds, and `format: date-time`.
fn check(doc: &Value, schema: &Value, v: &Value, at: &str) -> Result<(), String> {
    let fail = |what: String| Err(format!("{at}: {what} (value {v})"));
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        let target = resolve(doc, r).ok_or_else(|| format!("{at}: {r} does not resolve"))?;
        return check(doc, target, v, at);
    }
    if let Some(c) = schema.get("const") {
        if c != v {
            return fail(format!("is not {c}"));
        }
    }
    if let Some(Value::Array(options)) = schema.get("enum") {
        if !options.contains(v) {
            return fail(format!("is not one of {options:?}"));
        }
    }
    if let Some(t) = schema.get("type") {
        let types: Vec<&str> = match t {
            Value::String(s) => vec![s.as_str()],
            Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
            _ => vec![],
        };
        let fits = types.iter().any(|t| match *t {
            "null" => v.is_null(),
            "boolean" => v.is_boolean(),
            "string" => v.is_string(),
            "integer" => v.is_i64() || v.is_u64(),
            "number" => v.is_number(),
            "array" => v.is_array(),
            "object" => v.is_object(),
            _ => false,
        });
        if !fits {
            return fail(format!("is not of type {types:?}"));
        }
    }
    if let Some(Value::Array(all)) = schema.get("allOf") {
        for s in all {
            check(doc, s, v, at)?;
        }
    }
    if let Some(Value::Array(one)) = schema.get("oneOf") {
        let results: Vec<Result<(), String>> = one.iter().map(|s| check(doc, s, v, at)).collect();
        let matched = results.iter().filter(|r| r.is_ok()).count();
        if matched != 1 {
            let why: Vec<String> = results.into_iter().filter_map(Result::err).collect();
            return fail(format!("matches {matched} of oneOf, not 1: {why:?}"));
        }
    }
    if let Some(s) = v.as_str() {
        let chars = s.chars().count() as u64;
        if schema
            .get("minLength")
            .and_then(Value::as_u64)
            .is_some_and(|m| chars < m)
        {
            return fail("is too short".into());
        }
        if schema
            .get("maxLength")
            .and_then(Value::as_u64)
            .is_some_and(|m| chars > m)
        {
            return fail("is too long".into());
        }
        if schema.get("format").and_then(Value::as_str) == Some("date-time")
            && time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
                .is_err()
        {
            return fail("is not an RFC 3339 time".into());
        }
    }
    if let Some(n) = v.as_f64() {
        if schema
            .get("minimum")
            .and_then(Value::as_f64)
            .is_some_and(|m| n < m)
        {
            return fail("is below the minimum".into());
        }
        if schema
            .get("maximum")
            .and_then(Value::as_f64)
            .is_some_and(|m| n > m)
        {
            return fail("is above the maximum".into());
        }
        if schema
            .get("exclusiveMinimum")
            .and_then(Value::as_f64)
            .is_some_and(|m| n <= m)
        {
            return fail("is not above the minimum".into());
        }
    }
    if let Value::Array(items) = v {
        if schema
            .get("maxItems")
            .and_then(Value::as_u64)
            .is_some_and(|m| items.len() as u64 > m)
        {
            return fail("has too many items".into());
        }
        if schema
            .get("minItems")
            .and_then(Value::as_u64)
            .is_some_and(|m| (items.len() as u64) < m)
        {
            return fail("has too few items".into());
        }
        if let Some(item) = schema.get("items") {
            for (i, x) in items.iter().enumerate() {
                check(doc, item, x, &format!("{at}[{i}]"))?;
            }
        }
    }
    if let Value::Object(o) = v {
        let props = schema.get("properties").and_then(Value::as_object);
        if let Some(Value::Array(required)) = schema.get("required") {
            for r in required.iter().filter_map(Value::as_str) {
                if !o.contains_key(r) {
                    return fail(format!("lacks `{r}`"));
                }
            }
        }
        for (k, x) in o {
            let here = format!("{at}.{k}");
            match (
                props.and_then(|p| p.get(k)),
                schema.get("additionalProperties"),
            ) {
                (Some(s), _) => check(doc, s, x, &here)?,
                (None, Some(Value::Bool(false))) => {
                    return fail(format!("has `{k}`, which the schema does not document"))
                }
                (None, Some(extra @ Value::Object(_))) => check(doc, extra, x, &here)?,
                (None, _) => {}
            }
        }
    }
    Ok(())
}

/// The documented operation for a concrete request path.
fn operation_for<'a>(
    ops: &'a [(String, String, Value)],
    method: &str,
    concrete: &str,
) -> Option<&'a (String, String, Value)> {
    let concrete = concrete.split('?').next().unwrap_or(concrete);
    let parts: Vec<&str> = concrete.split('/').collect();
    ops.iter().find(|(path, m, _)| {
        let template: Vec<&str> = path.split('/').collect();
        m == method
            && template.len() == parts.len()
            && template
                .iter()
                .zip(&parts)
                .all(|(t, p)| t.starts_with('{') || t == p)
    })
}

/// The schema of a documented answer (following a `$ref`'d response).
fn response_schema<'a>(doc: &'a Value, op: &'a Value, status: StatusCode) -> Option<&'a Value> {
    let responses = &op["responses"];
    let exact = responses.get(status.as_str());
    let range = responses.get(format!("{}XX", status.as_u16() / 100));
    let mut response = exact.or(range)?;
    if let Some(r) = response.get("$ref").and_then(Value::as_str) {
        response = resolve(doc, r)?;
    }
    Some(
        response
            .pointer("/content/application~1json/schema")
            .unwrap_or(&Value::Null),
    )
}

fn request_schema<'a>(doc: &'a Value, op: &'a Value) -> Option<&'a Value> {
    let mut body = op.get("requestBody")?;
    if let Some(r) = body.get("$ref").and_then(Value::as_str) {
        body = resolve(doc, r)?;
    }
    body.pointer("/content/application~1json/schema")
}

// ---------------------------------------------- the admin router, driven

/// One request of the tour: the method, the concrete path, the body, and
/// the status the handler must answer.
struct Step {
    method: Method,
    path: String,
    body: Option<Value>,
    expect: StatusCode,
    /// The `Authorization` bearer: the admin token unless a step says otherwise.
    bearer: Option<String>,
}

fn step(method: Method, path: String, body: Option<Value>, expect: u16) -> Step {
    Step {
        method,
        path,
        body,
        expect: StatusCode::from_u16(expect).unwrap(),
        bearer: None,
    }
}

/// A step sent with `bearer` (a portal token) instead of the admin token.
fn step_as(bearer: &str, method: Method, path: String, body: Option<Value>, expect: u16) -> Step {
    Step {
        bearer: Some(bearer.to_owned()),
        ..step(method, path, body, expect)
    }
}

#[tokio::test]
async fn every_documented_admin_operation_reaches_its_handler_and_answers_as_documented() {
    let app = spawn_app();
    let doc = doc();
    let ops = operations(&doc);
    // A request no route takes answers 418 here, so a documented path the
    // router does not serve cannot pass for a handler's 404.
    let router = app
        .router
        .clone()
        .fallback(|| async { StatusCode::IM_A_TEAPOT });

    // What the tour runs against: a bot, hooks, an endpoint, and log rows.
    let bot = "tour-bot";
    let created = app
        .post("/v1/bots", json!({"name": "Tour", "id": bot}))
        .await;
    assert_eq!(created.status, StatusCode::CREATED);
    let hook = app.hook(bot, json!({"auth": {"type": "signed_url"}})).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let ep = app
        .endpoint(bot, json!({"url": "https://receiver.example/hook"}))
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let bot_id = BotId::parse(bot).unwrap();
    let now = app.svc.now().replace_nanosecond(0).unwrap();
    let later = now + time::Duration::days(1);
    let message = Message {
        id: MessageId::generate(),
        bot_id: bot_id.clone(),
        event: hooklane_domain::EventType::parse("order.paid").unwrap(),
        data: json!({"id": 7}),
        timestamp: now,
    };
    app.svc.store.put_message(&message, later).await.unwrap();
    let delivery = Delivery {
        id: DeliveryId::generate(),
        bot_id: bot_id.clone(),
        message_id: message.id.clone(),
        endpoint_id: EndpointId::parse(&ep).unwrap(),
        event: hooklane_domain::EventType::parse("order.paid").unwrap(),
        attempt: 1,
        status: DeliveryStatus::Failed,
        http_status: Some(500),
        error: Some("the endpoint answered 500".into()),
        triggered_at: now,
        response_time_ms: Some(12),
        next_attempt_at: None,
    };
    app.svc.store.put_delivery(&delivery, later).await.unwrap();
    let run = Run {
        id: CallId::generate(),
        bot_id: bot_id.clone(),
        hook_id: HookId::parse(&hook).unwrap(),
        status: RunStatus::Succeeded,
        received_at: now,
        finished_at: Some(now),
        attempt: 1,
        actions: vec![ActionResult {
            index: 0,
            kind: "log".into(),
            status: ActionStatus::Succeeded,
            duration_ms: 1,
            detail: json!({"message": "hi"}),
        }],
        unknown_placeholders: vec![],
        error: None,
        request: Some(hooklane_domain::envelope::InboundRequest::default()),
    };
    app.svc.store.put_run(&run, later).await.unwrap();
    assert!(app
        .svc
        .store
        .swap_variable(&bot_id, "count", None, Some(&json!(3)), now)
        .await
        .unwrap());

    let b = format!("/v1/bots/{bot}");
    let h = format!("{b}/hooks/{hook}");
    let e = format!("{b}/endpoints/{ep}");
    let portal = portal_token(
        &app.svc,
        bot,
        (now + time::Duration::hours(1)).unix_timestamp(),
    )
    .await;
    // A valid link of another bot: refused on this bot's routes.
    let other = app
        .post("/v1/bots", json!({"name": "Other", "id": "tour-other"}))
        .await;
    assert_eq!(other.status, StatusCode::CREATED);
    let other_portal = portal_token(
        &app.svc,
        "tour-other",
        (now + time::Duration::hours(1)).unix_timestamp(),
    )
    .await;
    let pb = format!("/portal{b}");
    let pe = format!("/portal{e}");
    let since = hooklane_domain::rfc3339(now - time::Duration::hours(1));
    let tour = vec![
        step(Method::GET, "/healthz".into(), None, 200),
        step(Method::GET, "/openapi.json".into(), None, 200),
        step(Method::GET, "/console".into(), None, 200),
        step(Method::GET, "/console/".into(), None, 308),
        step(Method::GET, "/console/console.js".into(), None, 200),
        step(Method::GET, "/console/nothing.js".into(), None, 404),
        step(
            Method::POST,
            "/v1/bots".into(),
            Some(json!({"name": "Second", "id": "second"})),
            201,
        ),
        step(
            Method::POST,
            "/v1/bots".into(),
            Some(json!({"name": "Again", "id": "second"})),
            409,
        ),
        step(
            Method::POST,
            "/v1/bots".into(),
            Some(json!({"id": "x y"})),
            400,
        ),
        step(Method::GET, b.clone(), None, 200),
        step(Method::GET, "/v1/bots?limit=1".into(), None, 200),
        step(Method::GET, "/v1/bots?cursor=%21".into(), None, 400),
        step(Method::GET, format!("{b}/messages"), None, 200),
        step(Method::GET, "/v1/bots/nobody/messages".into(), None, 404),
        step(Method::POST, format!("{b}/api-key/rotate"), None, 200),
        step(
            Method::POST,
            format!("{b}/hooks"),
            Some(json!({"name": "Orders", "methods": ["POST", "GET"],
            "auth": {"type": "secret_header", "header": "x-bp-secret"},
            "allowed_origins": ["https://app.example"], "allowed_ips": ["203.0.113.0/24"],
            "rate_limit": {"per_second": 5, "burst": 10}, "max_body_bytes": 65536,
            "response": {"status": 200, "body": {"ok": "{payload.id}"}},
            "actions": [
                {"type": "http_request", "method": "POST", "url": "https://api.example/orders", "headers": {"x-n": 1}, "body": {"id": "{payload.id}"}},
                {"type": "discord_message", "webhook_url": "https://discord.example/api/webhooks/1/t", "content": "hi", "embeds": [{"title": "t"}], "username": "bot"},
                {"type": "slack_message", "webhook_url": "https://hooks.slack.example/services/x", "text": "hi", "blocks": [{"type": "section"}]},
                {"type": "telegram_message", "bot_token": "1:abc", "chat_id": 42, "text": "hi", "parse_mode": "HTML"},
                {"type": "set_variable", "name": "last", "value": "{payload.id}"},
                {"type": "update_variable", "name": "count", "op": "add", "value": 1},
                {"type": "delete_variable", "name": "old", "continue_on_error": true},
                {"type": "condition", "if": {"left": "{payload.amount}", "op": ">=", "right": 100},
                 "then": [{"type": "publish", "event": "order.big", "data": {"id": "{payload.id}"}}],
                 "else": [{"type": "log", "message": "small"}]}
            ]})),
            201,
        ),
        step(
            Method::POST,
            format!("{b}/hooks"),
            Some(
                json!({"auth": {"type": "hmac", "scheme": "generic", "header": "x-sig", "algorithm": "sha512", "encoding": "base64", "prefix": "v1=", "secret": "s3cret"},
                        "response": {"redirect_to": "https://site.example/thanks"}}),
            ),
            201,
        ),
        step(
            Method::POST,
            format!("{b}/hooks"),
            Some(
                json!({"auth": {"type": "hmac", "scheme": "twilio", "secret": "twilio-token"},
                        "response": {"status": 200, "content_type": "text/xml", "body": "<Response><Message>Got {payload.Body}</Message></Response>"}}),
            ),
            201,
        ),
        step(
            Method::POST,
            format!("{b}/hooks"),
            Some(json!({"actions": [{"type": "nope"}]})),
            400,
        ),
        step(Method::GET, format!("{b}/hooks?limit=2"), None, 200),
        step(Method::GET, format!("{b}/hooks?cursor=%21"), None, 400),
        step(Method::GET, h.clone(), None, 200),
        step(
            Method::PATCH,
            h.clone(),
            Some(json!({"name": "Renamed", "rate_limit": null})),
            200,
        ),
        step(
            Method::POST,
            format!("{h}/urls"),
            Some(json!({"context": {"user": "u1"}, "expires_in": 60})),
            201,
        ),
        step(Method::POST, format!("{h}/urls"), None, 201),
        step(Method::GET, format!("{h}/runs"), None, 200),
        step(Method::GET, format!("{h}/runs/{}", run.id), None, 200),
        step(
            Method::GET,
            format!("{h}/runs/evt_01NOSUCHRUN0000000000000"),
            None,
            404,
        ),
        step(
            Method::POST,
            format!("{h}/runs/{}/replay", run.id),
            None,
            202,
        ),
        step(
            Method::POST,
            format!("{h}/runs/evt_01NOSUCHRUN0000000000000/replay"),
            None,
            404,
        ),
        step(Method::GET, format!("{b}/endpoints"), None, 200),
        step(
            Method::POST,
            format!("{b}/endpoints"),
            Some(
                json!({"name": "Alerts", "type": "discord", "url": "https://discord.example/api/webhooks/2/t",
                        "events": ["server.created", "order.*"], "retry_schedule": [5, 300], "max_attempts": 3,
                        "headers": {"x-team": "ops"}}),
            ),
            201,
        ),
        step(Method::GET, e.clone(), None, 200),
        step(
            Method::PATCH,
            e.clone(),
            Some(json!({"enabled": false, "events": []})),
            200,
        ),
        step(Method::POST, format!("{e}/test"), None, 202),
        step(
            Method::POST,
            format!("{e}/secret/rotate"),
            Some(json!({"grace_seconds": 600})),
            200,
        ),
        step(Method::POST, format!("{e}/secret/rotate"), None, 200),
        step(Method::GET, format!("{e}/deliveries"), None, 200),
        step(
            Method::POST,
            format!("{e}/recover"),
            Some(json!({"since": since})),
            202,
        ),
        step(
            Method::GET,
            format!("{b}/deliveries/{}", delivery.id),
            None,
            200,
        ),
        step(
            Method::GET,
            format!("{b}/deliveries/dlv_01NOSUCHROW0000000000000"),
            None,
            404,
        ),
        step(
            Method::POST,
            format!("{b}/deliveries/{}/resend", delivery.id),
            None,
            202,
        ),
        step(Method::POST, format!("{b}/portal"), None, 201),
        step(
            Method::POST,
            format!("{b}/portal"),
            Some(json!({"expires_in": 86400})),
            201,
        ),
        step(
            Method::POST,
            format!("{b}/portal"),
            Some(json!({"expires_in": 5})),
            400,
        ),
        step_as(&portal, Method::GET, pb.clone(), None, 200),
        step_as(&other_portal, Method::GET, pb.clone(), None, 403),
        step(Method::GET, pb.clone(), None, 401),
        step_as(&portal, Method::GET, format!("{pb}/endpoints"), None, 200),
        step_as(&portal, Method::GET, pe.clone(), None, 200),
        step_as(&portal, Method::GET, format!("{pe}/deliveries"), None, 200),
        step_as(&portal, Method::POST, format!("{pe}/test"), None, 202),
        step_as(
            &portal,
            Method::POST,
            format!("{pe}/recover"),
            Some(json!({"since": since})),
            202,
        ),
        step_as(
            &portal,
            Method::POST,
            format!("{pb}/deliveries/{}/resend", delivery.id),
            None,
            202,
        ),
        step_as(
            &portal,
            Method::POST,
            format!("{pe}/secret/rotate"),
            Some(json!({"grace_seconds": 60})),
            200,
        ),
        step(Method::GET, format!("{b}/variables"), None, 200),
        step(
            Method::PUT,
            format!("{b}/variables/greeting"),
            Some(json!({"value": {"text": "hi", "n": [1, 2]}})),
            201,
        ),
        step(
            Method::PUT,
            format!("{b}/variables/count"),
            Some(json!({"value": 4})),
            200,
        ),
        step(
            Method::PUT,
            format!("{b}/variables/count"),
            Some(json!({"nope": 4})),
            400,
        ),
        step(Method::DELETE, format!("{b}/variables/greeting"), None, 204),
        step(Method::DELETE, format!("{b}/variables/greeting"), None, 404),
        step(Method::DELETE, h.clone(), None, 204),
        step(Method::DELETE, e.clone(), None, 204),
        step(Method::DELETE, b.clone(), None, 204),
    ];

    let mut reached = BTreeSet::new();
    for s in &tour {
        let here = format!("{} {}", s.method, s.path);
        let (path, method, op) = operation_for(&ops, s.method.as_str(), &s.path)
            .unwrap_or_else(|| panic!("{here} is not documented"));
        if let (Some(body), Some(schema)) = (&s.body, request_schema(&doc, op)) {
            if s.expect.is_success() {
                check(&doc, schema, body, "request").unwrap_or_else(|e| {
                    panic!("{here}: the documented request refuses what the router takes: {e}")
                });
            }
        }
        let bearer = format!("Bearer {}", s.bearer.as_deref().unwrap_or(TOKEN));
        let a: Answer = send(
            &router,
            request(s.method.clone(), &s.path, Some(&bearer), s.body.as_ref()),
        )
        .await;
        assert_eq!(a.status, s.expect, "{here}: {:?}", a.body);
        let schema = response_schema(&doc, op, a.status)
            .unwrap_or_else(|| panic!("{here}: {} is not documented", a.status));
        if !schema.is_null() {
            check(&doc, schema, &a.body, "answer")
                .unwrap_or_else(|e| panic!("{here}: the answer does not fit the document: {e}"));
        }
        reached.insert((path.clone(), method.clone()));
    }

    // Every documented admin operation was in the tour.
    let admin_ops: BTreeSet<(String, String)> = ops
        .iter()
        .filter(|(path, _, _)| !is_ingress(path))
        .map(|(path, method, _)| (path.clone(), method.clone()))
        .collect();
    let missed: Vec<_> = admin_ops.difference(&reached).collect();
    assert!(
        missed.is_empty(),
        "operations the tour did not reach: {missed:?}"
    );

    // And with ids that do not exist, each still reaches its handler and
    // answers a documented error (not the router's fallback).
    for (path, method, op) in &ops {
        if is_ingress(path) {
            continue;
        }
        let concrete = path
            .replace("{bot_id}", "no-such-bot")
            .replace("{hook_id}", "hk_01NOSUCHHOOK")
            .replace("{endpoint_id}", "ep_01NOSUCHEP")
            .replace("{delivery_id}", "dlv_01NOSUCHDLV");
        let bearer = format!("Bearer {TOKEN}");
        let m = Method::from_bytes(method.as_bytes()).unwrap();
        let a = send(
            &router,
            request(m, &concrete, Some(&bearer), Some(&json!({}))),
        )
        .await;
        let here = format!("{method} {concrete}");
        assert_ne!(
            a.status,
            StatusCode::IM_A_TEAPOT,
            "{here}: no route serves it"
        );
        assert_ne!(
            a.status,
            StatusCode::METHOD_NOT_ALLOWED,
            "{here}: the route lacks the method"
        );
        let schema = response_schema(&doc, op, a.status)
            .unwrap_or_else(|| panic!("{here}: {} is not documented", a.status));
        if !schema.is_null() {
            check(&doc, schema, &a.body, "answer").unwrap_or_else(|e| panic!("{here}: {e}"));
        }
    }
}

#[test]
fn the_schema_checker_refuses_what_does_not_fit() {
    let doc = doc();
    let hook = &doc["components"]["schemas"]["Hook"];
    let cases: BTreeMap<&str, Value> = [
        ("a missing field", json!({"id": "hk_1"})),
        (
            "a secret read back",
            json!({"type": "secret_header", "header": "x", "secret": "s", "extra": 1}),
        ),
    ]
    .into_iter()
    .collect();
    assert!(check(&doc, hook, &cases["a missing field"], "hook").is_err());
    let auth = &doc["components"]["schemas"]["HookAuth"];
    assert!(check(&doc, auth, &cases["a secret read back"], "auth").is_err());
    assert!(check(&doc, auth, &json!({"type": "api_key"}), "auth").is_ok());
    let error = &doc["components"]["schemas"]["Error"];
    assert!(check(
        &doc,
        error,
        &json!({"error": {"code": "not_found", "message": "x"}}),
        "e"
    )
    .is_ok());
    assert!(check(&doc, error, &json!({"message": "Forbidden"}), "e").is_err());
}

/// `InvalidSince` → `invalid_since`.
fn snake_case(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_ascii_uppercase() {
            if !out.is_empty() {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// Every `ErrorCode::…` the admin function's source names, as wire text.
fn codes_in_admin_source() -> BTreeSet<String> {
    fn walk(dir: &std::path::Path, codes: &mut BTreeSet<String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, codes);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let source = std::fs::read_to_string(&path).unwrap();
                for (at, _) in source.match_indices("ErrorCode::") {
                    let name: String = source[at + "ErrorCode::".len()..]
                        .chars()
                        .take_while(char::is_ascii_alphanumeric)
                        .collect();
                    codes.insert(snake_case(&name));
                }
            }
        }
    }
    let mut codes = BTreeSet::new();
    walk(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut codes,
    );
    codes
}

#[test]
fn every_400_code_the_admin_source_answers_is_in_the_docs_error_table_and_the_openapi() {
    let codes = codes_in_admin_source();
    assert!(codes.contains("invalid_since"), "{codes:?}");
    let docs = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/admin-api.md"),
    )
    .unwrap();
    let table = &docs[docs.find("## Error codes").expect("the error code table")..];
    let table_400: String = table.lines().filter(|l| l.starts_with("| 400 ")).collect();
    let doc = doc();
    let bad_request = doc["components"]["responses"]["BadRequest"]["description"]
        .as_str()
        .unwrap();
    for code in &codes {
        let quoted = format!("`{code}`");
        assert!(
            table_400.contains(&quoted),
            "{code} is missing from the 400 rows of admin-api.md's error codes"
        );
        assert!(
            bad_request.contains(&quoted),
            "{code} is missing from openapi.json's BadRequest: {bad_request}"
        );
    }
}

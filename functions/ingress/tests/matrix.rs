//! The ingress router against everything a caller can get wrong: each bad
//! call gets the contract's status and error code, and nothing reaches the
//! queue. The router runs as Lambda serves it (`hooklane_web::lambda::app`)
//! on a real SQLite store and queue in a temp dir; bots and hooks are written
//! straight to the store. Signatures are computed here, independently of the
//! code under test, with each provider's documented scheme.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{HeaderName, HeaderValue, Method, Request};
use axum::Router;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use hmac::{Hmac, Mac};
use hooklane_domain::config::Settings;
use hooklane_domain::{
    Bot, BotId, Envelope, Hook, HookAuth, HookId, HookResponse, Job, ManualClock, RateLimit,
    DEFAULT_MAX_BODY_BYTES,
};
use hooklane_engine::Services;
use hooklane_ingress::{router, IngressState};
use hooklane_store::sqlite::{Sqlite, SqliteQueueSettings};
use hooklane_store::{Queue, Store};
use hooklane_web::ClientIp;
use lambda_http::request::LambdaRequest;
use lambda_http::{Context, LambdaEvent};
use serde_json::{json, Value};
use sha2::{Sha256, Sha512};
use time::OffsetDateTime;
use tower::ServiceExt;

// ------------------------------------------------------------------ setup

const BOT: &str = "acme-bot";
const OTHER_BOT: &str = "other-bot";

const STANDARD_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const GITHUB_SECRET: &str = "It's a Secret to Everybody";
const LAMBDA_GITHUB_SECRET: &str = "lambda-github-secret";
const STRIPE_SECRET: &str = "whsec_stripe_test_secret";
const SLACK_SECRET: &str = "8f742231b10e8888abcd99yyyzzz85a5";
const SHOPIFY_SECRET: &str = "shpss_0123456789abcdef";
const GENERIC_SECRET: &str = "generic-shared-secret";
const BOTPRESS_SECRET: &str = "bp-secret-0123456789";
/// The signed-URL key of `hk_signed` (and a different one for `hk_signed2`).
const URL_KEY: [u8; 32] = [7; 32];
const OTHER_URL_KEY: [u8; 32] = [9; 32];

/// The `max_body_bytes` of `hk_small`.
const SMALL_LIMIT: usize = 1024;
/// Queue messages carry at most this much (the embedded queue's default).
const QUEUE_MAX: usize = 1024 * 1024;

/// The ingress as Lambda serves it, on SQLite, with a clock that stands
/// still (so signature timestamps and rate-limit windows are exact).
struct Ingress {
    app: Router,
    store: Arc<Sqlite>,
    clock: ManualClock,
    now: i64,
    key: String,
    other_key: String,
    _dir: tempfile::TempDir,
}

fn hook(bot: &str, id: &str, auth: HookAuth) -> Hook {
    let t = OffsetDateTime::now_utc();
    Hook {
        id: HookId::parse(id).unwrap(),
        bot_id: BotId::parse(bot).unwrap(),
        name: id.to_owned(),
        enabled: true,
        methods: vec!["POST".into()],
        auth,
        allowed_origins: vec![],
        allowed_ips: vec![],
        rate_limit: None,
        max_body_bytes: DEFAULT_MAX_BODY_BYTES,
        response: None,
        actions: vec![],
        created_at: t,
        updated_at: t,
    }
}

fn hmac_auth(scheme: &str, secret: &str) -> HookAuth {
    HookAuth::Hmac {
        scheme: scheme.into(),
        secret: secret.into(),
        header: None,
        algorithm: None,
        encoding: None,
        prefix: None,
    }
}

/// Every hook the tests call, by id.
fn hooks() -> Vec<Hook> {
    let mut all = vec![
        hook(BOT, "hk_apikey", HookAuth::ApiKey),
        hook(
            BOT,
            "hk_botpress",
            HookAuth::SecretHeader {
                header: "x-bp-secret".into(),
                secret: BOTPRESS_SECRET.into(),
            },
        ),
        hook(BOT, "hk_standard", hmac_auth("standard", STANDARD_SECRET)),
        hook(BOT, "hk_github", hmac_auth("github", GITHUB_SECRET)),
        hook(BOT, "hk_stripe", hmac_auth("stripe", STRIPE_SECRET)),
        hook(BOT, "hk_slack", hmac_auth("slack", SLACK_SECRET)),
        hook(BOT, "hk_shopify", hmac_auth("shopify", SHOPIFY_SECRET)),
        hook(
            BOT,
            "hk_generic",
            HookAuth::Hmac {
                scheme: "generic".into(),
                secret: GENERIC_SECRET.into(),
                header: Some("x-signature".into()),
                algorithm: Some("sha512".into()),
                encoding: Some("base64".into()),
                prefix: Some("sha512=".into()),
            },
        ),
        hook(
            BOT,
            "hk_signed",
            HookAuth::SignedUrl {
                key: STANDARD.encode(URL_KEY),
            },
        ),
        hook(
            BOT,
            "hk_signed2",
            HookAuth::SignedUrl {
                key: STANDARD.encode(OTHER_URL_KEY),
            },
        ),
        hook(BOT, "hk_open", HookAuth::None),
        hook(OTHER_BOT, "hk_elsewhere", HookAuth::None),
    ];
    for signed in all
        .iter_mut()
        .filter(|h| h.id.as_str().starts_with("hk_signed"))
    {
        signed.methods = vec!["GET".into()];
    }
    let mut small = hook(BOT, "hk_small", HookAuth::None);
    small.max_body_bytes = SMALL_LIMIT;
    let mut get_only = hook(BOT, "hk_getonly", HookAuth::None);
    get_only.methods = vec!["GET".into()];
    let mut disabled = hook(BOT, "hk_disabled", HookAuth::None);
    disabled.enabled = false;
    let mut cors = hook(BOT, "hk_cors", HookAuth::None);
    cors.allowed_origins = vec!["https://app.example.com".into()];
    let mut ips = hook(BOT, "hk_ips", HookAuth::None);
    ips.allowed_ips = vec!["203.0.113.0/24".into(), "2001:db8::/32".into()];
    let mut rated = hook(BOT, "hk_rated", HookAuth::None);
    // Windows of 2 s taking one call each.
    rated.rate_limit = Some(RateLimit {
        per_second: 0.5,
        burst: 1,
    });
    let mut lambda_github = hook(
        BOT,
        "hk_lambdagh",
        hmac_auth("github", LAMBDA_GITHUB_SECRET),
    );
    lambda_github.name = "GitHub through API Gateway".into();
    let mut responds = hook(BOT, "hk_responds", HookAuth::None);
    responds.response = Some(HookResponse::Content {
        status: 200,
        body: json!({"ok": true, "order": "{payload.order}"}),
    });
    let mut redirects = hook(BOT, "hk_redirects", HookAuth::None);
    redirects.methods = vec!["GET".into()];
    redirects.response = Some(HookResponse::Redirect {
        redirect_to: "{query.next}".into(),
    });
    all.extend([
        redirects,
        small,
        get_only,
        disabled,
        cors,
        ips,
        rated,
        lambda_github,
        responds,
    ]);
    all
}

impl Ingress {
    async fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let db = Sqlite::open(
            &dir.path().join("hooklane.db"),
            SqliteQueueSettings::default(),
        )
        .unwrap();
        let store = Arc::new(db);
        // A whole minute, so a rate-limit window of 2 s starts exactly now.
        let real = OffsetDateTime::now_utc().unix_timestamp();
        let now = real - real % 60;
        let clock = ManualClock::new(OffsetDateTime::from_unix_timestamp(now).unwrap());
        let svc = Services::new(store.clone(), store.clone(), Settings::default())
            .unwrap()
            .with_clock(Arc::new(clock.clone()));

        let key = hooklane_auth::api_key::generate();
        let other_key = hooklane_auth::api_key::generate();
        for (id, key) in [(BOT, &key), (OTHER_BOT, &other_key)] {
            store
                .create_bot(&Bot {
                    id: BotId::parse(id).unwrap(),
                    name: id.into(),
                    api_key_hash: hooklane_auth::api_key::hash(key),
                    created_at: OffsetDateTime::now_utc(),
                })
                .await
                .unwrap();
        }
        for h in hooks() {
            store.create_hook(&h).await.unwrap();
        }
        Self {
            app: hooklane_web::lambda::app(router(IngressState::new(svc))),
            store,
            clock,
            now,
            key,
            other_key,
            _dir: dir,
        }
    }

    async fn send(&self, request: Request<Body>) -> Answer {
        let response = self.app.clone().oneshot(request).await.unwrap();
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_owned(),
                    v.to_str().unwrap_or_default().to_owned(),
                )
            })
            .collect();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        Answer {
            status,
            headers,
            body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        }
    }

    /// Everything in the queue now (taken out of it).
    async fn drain(&self) -> Vec<Envelope> {
        let mut out = Vec::new();
        loop {
            let got = self.store.receive(10, Duration::ZERO).await.unwrap();
            if got.is_empty() {
                return out;
            }
            for m in got {
                self.store.delete(&m.receipt).await.unwrap();
                out.push(serde_json::from_str(&m.body).unwrap());
            }
        }
    }
}

struct Answer {
    status: u16,
    headers: BTreeMap<String, String>,
    body: Value,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(String::as_str)
    }
}

fn path(hook: &str) -> String {
    format!("/hooks/{BOT}/{hook}")
}

/// A request under construction.
struct Call {
    method: Method,
    uri: String,
    headers: Vec<(HeaderName, HeaderValue)>,
    body: Body,
    ip: Option<IpAddr>,
}

impl Call {
    fn new(method: Method, uri: impl Into<String>) -> Self {
        Self {
            method,
            uri: uri.into(),
            headers: Vec::new(),
            body: Body::empty(),
            ip: Some("192.0.2.10".parse().unwrap()),
        }
    }

    fn post(uri: impl Into<String>) -> Self {
        Self::new(Method::POST, uri)
    }

    fn header(self, name: &str, value: impl AsRef<str>) -> Self {
        self.raw_header(name, value.as_ref().as_bytes())
    }

    fn raw_header(mut self, name: &str, value: &[u8]) -> Self {
        self.headers.push((
            HeaderName::from_bytes(name.as_bytes()).unwrap(),
            HeaderValue::from_bytes(value).unwrap(),
        ));
        self
    }

    fn body(mut self, body: impl Into<Body>) -> Self {
        self.body = body.into();
        self
    }

    fn json(self, body: impl Into<String>) -> Self {
        self.header("content-type", "application/json")
            .body(body.into())
    }

    fn ip(mut self, ip: Option<&str>) -> Self {
        self.ip = ip.map(|i| i.parse().unwrap());
        self
    }

    fn build(self) -> Request<Body> {
        let mut request = Request::builder()
            .method(self.method)
            .uri(self.uri)
            .body(self.body)
            .unwrap();
        for (k, v) in self.headers {
            request.headers_mut().append(k, v);
        }
        if let Some(ip) = self.ip {
            request.extensions_mut().insert(ClientIp(ip));
        }
        request
    }
}

// ------------------------------------------------------------- signatures

fn mac256(key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    let mut m = <Hmac<Sha256> as Mac>::new_from_slice(key).unwrap();
    for p in parts {
        m.update(p);
    }
    m.finalize().into_bytes().to_vec()
}

fn mac512(key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    let mut m = <Hmac<Sha512> as Mac>::new_from_slice(key).unwrap();
    for p in parts {
        m.update(p);
    }
    m.finalize().into_bytes().to_vec()
}

const BODY: &str = r#"{"id":"evt_1NG8Du2eZvKYlo2CUI79vXWy","order":{"id":7,"total":"12.50"}}"#;

/// Standard Webhooks: `v1,` + base64 HMAC-SHA256 of `{id}.{ts}.{body}` with
/// the base64-decoded part of `whsec_…` as the key.
fn standard(id: &str, ts: i64, signed: &str, sent: &str) -> Call {
    let key = STANDARD
        .decode(STANDARD_SECRET.strip_prefix("whsec_").unwrap())
        .unwrap();
    let ts_s = ts.to_string();
    let sig = STANDARD.encode(mac256(
        &key,
        &[
            id.as_bytes(),
            b".",
            ts_s.as_bytes(),
            b".",
            signed.as_bytes(),
        ],
    ));
    Call::post(path("hk_standard"))
        .json(sent)
        .header("webhook-id", id)
        .header("webhook-timestamp", &ts_s)
        .header("webhook-signature", format!("v1,{sig}"))
}

fn github_signature(secret: &str, body: &[u8]) -> String {
    format!("sha256={}", hex::encode(mac256(secret.as_bytes(), &[body])))
}

/// GitHub: `X-Hub-Signature-256: sha256=` + hex HMAC-SHA256 of the body.
fn github(secret: &str, signed: &str, sent: &str) -> Call {
    Call::post(path("hk_github"))
        .json(sent)
        .header("x-github-event", "push")
        .header(
            "x-hub-signature-256",
            github_signature(secret, signed.as_bytes()),
        )
}

/// Stripe: `Stripe-Signature: t=<ts>,v1=<hex HMAC-SHA256 of "{ts}.{body}">`.
fn stripe_header(secret: &str, ts: i64, body: &str) -> String {
    let ts_s = ts.to_string();
    let sig = hex::encode(mac256(
        secret.as_bytes(),
        &[ts_s.as_bytes(), b".", body.as_bytes()],
    ));
    format!("t={ts_s},v1={sig}")
}

fn stripe(header: String, sent: &str) -> Call {
    Call::post(path("hk_stripe"))
        .json(sent)
        .header("stripe-signature", header)
}

/// Slack: `X-Slack-Signature: v0=<hex HMAC-SHA256 of "v0:{ts}:{body}">`.
fn slack_signature(secret: &str, ts: i64, body: &str) -> String {
    let ts_s = ts.to_string();
    format!(
        "v0={}",
        hex::encode(mac256(
            secret.as_bytes(),
            &[b"v0:", ts_s.as_bytes(), b":", body.as_bytes()]
        ))
    )
}

fn slack(ts: Option<i64>, signature: Option<String>, sent: &str) -> Call {
    let mut call = Call::post(path("hk_slack"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(sent.to_owned());
    if let Some(ts) = ts {
        call = call.header("x-slack-request-timestamp", ts.to_string());
    }
    if let Some(sig) = signature {
        call = call.header("x-slack-signature", sig);
    }
    call
}

const SLACK_BODY: &str =
    "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&command=%2Fweather&text=94070";

/// Shopify: `X-Shopify-Hmac-Sha256:` base64 HMAC-SHA256 of the body.
fn shopify(value: String, sent: &str) -> Call {
    Call::post(path("hk_shopify"))
        .json(sent)
        .header("x-shopify-hmac-sha256", value)
        .header(
            "x-shopify-webhook-id",
            "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043",
        )
}

fn shopify_signature(secret: &str, body: &str) -> String {
    STANDARD.encode(mac256(secret.as_bytes(), &[body.as_bytes()]))
}

/// The generic hook: `x-signature: sha512=` + base64 HMAC-SHA512 of the body.
fn generic(value: String, sent: &str) -> Call {
    Call::post(path("hk_generic"))
        .json(sent)
        .header("x-signature", value)
}

fn generic_signature(body: &str) -> String {
    format!(
        "sha512={}",
        STANDARD.encode(mac512(GENERIC_SECRET.as_bytes(), &[body.as_bytes()]))
    )
}

/// A signed URL as the admin API mints it: `ctx` = base64url of
/// `{"c": context, "e": expires}`, `sig` = base64url HMAC-SHA256 of
/// `{bot}.{hook}.{ctx}`.
fn signed_url_parts(
    key: &[u8],
    hook: &str,
    context: Value,
    expires: Option<i64>,
) -> (String, String) {
    let ctx = URL_SAFE_NO_PAD.encode(json!({"c": context, "e": expires}).to_string());
    let sig = URL_SAFE_NO_PAD.encode(mac256(key, &[format!("{BOT}.{hook}.{ctx}").as_bytes()]));
    (ctx, sig)
}

fn signed(hook: &str, ctx: &str, sig: &str) -> Call {
    Call::new(
        Method::GET,
        format!("{}?ctx={ctx}&sig={sig}&ref=mail", path(hook)),
    )
}

/// A copy of `s` with the character at `at` changed.
fn flip(s: &str, at: usize) -> String {
    let mut chars: Vec<char> = s.chars().collect();
    chars[at] = if chars[at] == 'A' { 'B' } else { 'A' };
    chars.into_iter().collect()
}

fn nested(depth: usize) -> String {
    format!("{}{}", "[".repeat(depth), "]".repeat(depth))
}

/// A body that arrives in chunks, with no length known up front.
fn streamed(total: usize) -> Body {
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> = (0..total)
        .step_by(100)
        .map(|start| Ok(vec![b'a'; (total - start).min(100)]))
        .collect();
    Body::from_stream(futures::stream::iter(chunks))
}

// ------------------------------------------------------------------ cases

/// One bad call: what it is, the request, and the answer the contract gives.
struct Case {
    what: &'static str,
    call: Call,
    status: u16,
    code: &'static str,
    /// A header the answer must carry, and its value.
    header: Option<(&'static str, &'static str)>,
    /// Words the error message must contain.
    message: Option<&'static str>,
}

fn case(what: &'static str, call: Call, status: u16, code: &'static str) -> Case {
    Case {
        what,
        call,
        status,
        code,
        header: None,
        message: None,
    }
}

impl Case {
    fn with_header(mut self, name: &'static str, value: &'static str) -> Self {
        self.header = Some((name, value));
        self
    }

    fn saying(mut self, words: &'static str) -> Self {
        self.message = Some(words);
        self
    }
}

fn variables(entries: &str) -> Call {
    Call::post(path("hk_open")).json(format!(r#"{{"order": 1, "variables": {entries}}}"#))
}

fn bad_calls(t: &Ingress) -> Vec<Case> {
    let now = t.now;
    let key = t.key.clone();
    let (ctx, sig) = signed_url_parts(&URL_KEY, "hk_signed", json!({"user_id": "42"}), None);
    let (changed_ctx, _) = signed_url_parts(&URL_KEY, "hk_signed", json!({"user_id": "43"}), None);
    let (expired_ctx, expired_sig) =
        signed_url_parts(&URL_KEY, "hk_signed", json!({"user_id": "42"}), Some(now));
    let (other_ctx, other_sig) =
        signed_url_parts(&URL_KEY, "hk_signed2", json!({"user_id": "42"}), None);
    let stripe_body = BODY;
    let huge = "x".repeat(QUEUE_MAX + 1);
    let mut many_headers = Call::post(path("hk_open")).json("{}");
    for i in 0..1200 {
        many_headers = many_headers.header(&format!("x-pad-{i}"), "y".repeat(1000));
    }

    vec![
        // --- routes and methods -------------------------------------------
        case("PUT on a POST hook", Call::new(Method::PUT, path("hk_open")).json("{}"), 405, "method_not_allowed")
            .with_header("allow", "POST, OPTIONS"),
        case("GET on a POST hook", Call::new(Method::GET, path("hk_open")), 405, "method_not_allowed")
            .with_header("allow", "POST, OPTIONS"),
        case("DELETE on a POST hook", Call::new(Method::DELETE, path("hk_open")), 405, "method_not_allowed"),
        case("PATCH on a POST hook", Call::new(Method::PATCH, path("hk_open")).json("{}"), 405, "method_not_allowed"),
        case("HEAD on a POST hook", Call::new(Method::HEAD, path("hk_open")), 405, "method_not_allowed")
            .with_header("allow", "POST, OPTIONS"),
        case("a made-up method", Call::new(Method::from_bytes(b"PURGE").unwrap(), path("hk_open")), 405, "method_not_allowed"),
        case("POST on a GET-only hook", Call::post(path("hk_getonly")).json("{}"), 405, "method_not_allowed")
            .with_header("allow", "GET, OPTIONS"),
        case("PUT under /webhook/", Call::new(Method::PUT, format!("/webhook/{BOT}/hk_open")), 405, "method_not_allowed"),
        case("GET on the publish route", Call::new(Method::GET, format!("/v1/bots/{BOT}/events")), 405, "method_not_allowed")
            .with_header("allow", "POST"),
        case("a publish larger than the router reads", Call::post(format!("/v1/bots/{BOT}/events")).json(format!(r#"{{"event": "a.b", "data": "{}"}}"#, "x".repeat(3 << 20))).header("authorization", &key), 413, "payload_too_large"),
        case("a publish larger than a queue message", Call::post(format!("/v1/bots/{BOT}/events")).json(format!(r#"{{"event": "a.b", "data": "{}"}}"#, "x".repeat(QUEUE_MAX))).header("authorization", &key), 413, "payload_too_large"),
        case("a publish with a wrong key", Call::post(format!("/v1/bots/{BOT}/events")).json(r#"{"event": "a.b"}"#).header("authorization", "hlk_wrong"), 401, "unauthorized"),
        case("a publish with a bad event name", Call::post(format!("/v1/bots/{BOT}/events")).json(r#"{"event": "a b"}"#).header("authorization", &key), 400, "invalid_event"),
        case("a publish with truncated JSON", Call::post(format!("/v1/bots/{BOT}/events")).json(r#"{"event": "a.b""#).header("authorization", &key), 400, "invalid_json"),
        case("DELETE on the publish route", Call::new(Method::DELETE, format!("/v1/bots/{BOT}/events")), 405, "method_not_allowed"),
        case("a path with no hook", Call::post(format!("/hooks/{BOT}")).json("{}"), 404, "not_found"),
        case("a path below a hook", Call::post(format!("{}/more", path("hk_open"))).json("{}"), 404, "not_found"),
        // --- unknown, foreign and disabled hooks --------------------------
        case("unknown bot", Call::post("/hooks/no-such-bot/hk_open").json("{}"), 404, "not_found"),
        case("bot id that does not decode as UTF-8", Call::post("/hooks/%FF%FE/hk_open").json("{}"), 404, "not_found"),
        case("bot id with characters ids never have", Call::post("/hooks/b%20t%21/hk_open").json("{}"), 404, "not_found"),
        case("unknown hook", Call::post(path("hk_01J0000000000000000000000")).json("{}"), 404, "not_found"),
        case("hook id without its prefix", Call::post(path("open")).json("{}"), 404, "not_found"),
        case("unknown hook under /webhook/", Call::post(format!("/webhook/{BOT}/hk_nope")).json("{}"), 404, "not_found"),
        case("another bot's hook", Call::post(path("hk_elsewhere")).json("{}"), 404, "not_found"),
        case("disabled hook", Call::post(path("hk_disabled")).json("{}"), 404, "not_found"),
        case("preflight of a disabled hook", Call::new(Method::OPTIONS, path("hk_disabled")).header("origin", "https://app.example.com"), 404, "not_found"),
        // --- api_key -------------------------------------------------------
        case("api key missing", Call::post(path("hk_apikey")).json("{}"), 401, "unauthorized"),
        case("api key wrong", Call::post(path("hk_apikey")).json("{}").header("authorization", "Bearer hlk_wrongwrongwrong"), 401, "unauthorized"),
        case("api key of another bot", Call::post(path("hk_apikey")).json("{}").header("authorization", format!("Bearer {}", t.other_key)), 401, "unauthorized"),
        case("Bearer and nothing else", Call::post(path("hk_apikey")).json("{}").header("authorization", "Bearer "), 401, "unauthorized"),
        case("api key as Basic credentials", Call::post(path("hk_apikey")).json("{}").header("authorization", format!("Basic {key}")), 401, "unauthorized"),
        case("api key with a character cut off", Call::post(path("hk_apikey")).json("{}").header("authorization", &key[..key.len() - 1]), 401, "unauthorized"),
        case("api key in x-api-key instead", Call::post(path("hk_apikey")).json("{}").header("x-api-key", &key), 401, "unauthorized"),
        case("api key header that is not text", Call::post(path("hk_apikey")).json("{}").raw_header("authorization", b"Bearer \xff\xfe"), 401, "unauthorized"),
        case("api key header of a megabyte", Call::post(path("hk_apikey")).json("{}").header("authorization", format!("Bearer {}", "k".repeat(1 << 20))), 401, "unauthorized"),
        // --- secret_header -------------------------------------------------
        case("x-bp-secret missing", Call::post(path("hk_botpress")).json("{}"), 401, "unauthorized").saying("x-bp-secret"),
        case("x-bp-secret wrong", Call::post(path("hk_botpress")).json("{}").header("x-bp-secret", "bp-secret-0123456788"), 401, "unauthorized"),
        case("x-bp-secret with a byte more", Call::post(path("hk_botpress")).json("{}").header("x-bp-secret", format!("{BOTPRESS_SECRET}0")), 401, "unauthorized"),
        case("x-bp-secret empty", Call::post(path("hk_botpress")).json("{}").header("x-bp-secret", ""), 401, "unauthorized"),
        case("the secret in the default header instead", Call::post(path("hk_botpress")).json("{}").header("x-hook-secret", BOTPRESS_SECRET), 401, "unauthorized"),
        case("the secret as Authorization", Call::post(path("hk_botpress")).json("{}").header("authorization", BOTPRESS_SECRET), 401, "unauthorized"),
        // --- hmac: standard ------------------------------------------------
        case("standard: no headers", Call::post(path("hk_standard")).json(BODY), 401, "unauthorized").saying("webhook-id"),
        case("standard: signed with another secret", {
            let sig = STANDARD.encode(mac256(b"another secret", &[format!("msg_1.{now}.{BODY}").as_bytes()]));
            Call::post(path("hk_standard")).json(BODY).header("webhook-id", "msg_1").header("webhook-timestamp", now.to_string()).header("webhook-signature", format!("v1,{sig}"))
        }, 401, "unauthorized"),
        case("standard: body changed after signing", standard("msg_1", now, BODY, &BODY.replace("12.50", "0.01")), 401, "unauthorized").saying("does not match"),
        case("standard: timestamp 301 s old", standard("msg_1", now - 301, BODY, BODY), 401, "unauthorized").saying("5 minutes"),
        case("standard: timestamp 301 s ahead", standard("msg_1", now + 301, BODY, BODY), 401, "unauthorized").saying("5 minutes"),
        case("standard: timestamp not a number", {
            Call::post(path("hk_standard")).json(BODY).header("webhook-id", "msg_1").header("webhook-timestamp", "yesterday").header("webhook-signature", "v1,AAAA")
        }, 401, "unauthorized"),
        case("standard: signature not base64", {
            Call::post(path("hk_standard")).json(BODY).header("webhook-id", "msg_1").header("webhook-timestamp", now.to_string()).header("webhook-signature", "v1,***")
        }, 401, "unauthorized"),
        case("standard: only a v2 signature", {
            Call::post(path("hk_standard")).json(BODY).header("webhook-id", "msg_1").header("webhook-timestamp", now.to_string()).header("webhook-signature", "v2,AAAA")
        }, 401, "unauthorized"),
        case("standard: signed for another message id", {
            let c = standard("msg_1", now, BODY, BODY);
            let mut c2 = Call::post(path("hk_standard")).json(BODY).header("webhook-id", "msg_2");
            for (k, v) in c.headers.into_iter().filter(|(k, _)| k != "webhook-id" && k != "content-type") {
                c2.headers.push((k, v));
            }
            c2
        }, 401, "unauthorized"),
        // --- hmac: github ---------------------------------------------------
        case("github: no signature", Call::post(path("hk_github")).json(BODY), 401, "unauthorized").saying("X-Hub-Signature-256"),
        case("github: wrong secret", github("not the secret", BODY, BODY), 401, "unauthorized"),
        case("github: body changed", github(GITHUB_SECRET, BODY, &format!("{BODY} ")), 401, "unauthorized"),
        case("github: SHA-1 signature in the SHA-256 header", {
            Call::post(path("hk_github")).json(BODY).header("x-hub-signature-256", format!("sha1={}", "0".repeat(40)))
        }, 401, "unauthorized"),
        case("github: only the old SHA-1 header", {
            Call::post(path("hk_github")).json(BODY).header("x-hub-signature", format!("sha1={}", "0".repeat(40)))
        }, 401, "unauthorized"),
        case("github: hex garbled", {
            Call::post(path("hk_github")).json(BODY).header("x-hub-signature-256", format!("sha256={}", "zz".repeat(32)))
        }, 401, "unauthorized"),
        case("github: signature cut short", {
            let full = github_signature(GITHUB_SECRET, BODY.as_bytes());
            Call::post(path("hk_github")).json(BODY).header("x-hub-signature-256", &full[..full.len() - 2])
        }, 401, "unauthorized"),
        // --- hmac: stripe ---------------------------------------------------
        case("stripe: no header", Call::post(path("hk_stripe")).json(stripe_body), 401, "unauthorized"),
        case("stripe: wrong secret", stripe(stripe_header("whsec_other", now, stripe_body), stripe_body), 401, "unauthorized"),
        case("stripe: timestamp 10 minutes old", stripe(stripe_header(STRIPE_SECRET, now - 600, stripe_body), stripe_body), 401, "unauthorized").saying("5 minutes"),
        case("stripe: no t=", {
            let h = stripe_header(STRIPE_SECRET, now, stripe_body);
            stripe(h.split_once(',').unwrap().1.to_owned(), stripe_body)
        }, 401, "unauthorized"),
        case("stripe: only a v0 signature", {
            let h = stripe_header(STRIPE_SECRET, now, stripe_body).replace("v1=", "v0=");
            stripe(h, stripe_body)
        }, 401, "unauthorized"),
        case("stripe: body changed", stripe(stripe_header(STRIPE_SECRET, now, stripe_body), &stripe_body.replace("7", "8")), 401, "unauthorized"),
        // --- hmac: slack ----------------------------------------------------
        case("slack: no headers", slack(None, None, SLACK_BODY), 401, "unauthorized"),
        case("slack: no timestamp", slack(None, Some(slack_signature(SLACK_SECRET, now, SLACK_BODY)), SLACK_BODY), 401, "unauthorized"),
        case("slack: timestamp 6 minutes old", slack(Some(now - 360), Some(slack_signature(SLACK_SECRET, now - 360, SLACK_BODY)), SLACK_BODY), 401, "unauthorized"),
        case("slack: signed with another timestamp", slack(Some(now), Some(slack_signature(SLACK_SECRET, now - 1, SLACK_BODY)), SLACK_BODY), 401, "unauthorized"),
        case("slack: without the v0= prefix", slack(Some(now), Some(slack_signature(SLACK_SECRET, now, SLACK_BODY)[3..].to_owned()), SLACK_BODY), 401, "unauthorized"),
        case("slack: wrong secret", slack(Some(now), Some(slack_signature("another", now, SLACK_BODY)), SLACK_BODY), 401, "unauthorized"),
        // --- hmac: shopify --------------------------------------------------
        case("shopify: no header", Call::post(path("hk_shopify")).json(BODY), 401, "unauthorized"),
        case("shopify: hex instead of base64", shopify(hex::encode(mac256(SHOPIFY_SECRET.as_bytes(), &[BODY.as_bytes()])), BODY), 401, "unauthorized"),
        case("shopify: wrong secret", shopify(shopify_signature("shpss_other", BODY), BODY), 401, "unauthorized"),
        case("shopify: body changed", shopify(shopify_signature(SHOPIFY_SECRET, BODY), "{}"), 401, "unauthorized"),
        // --- hmac: generic --------------------------------------------------
        case("generic: no header", Call::post(path("hk_generic")).json(BODY), 401, "unauthorized").saying("x-signature"),
        case("generic: prefix left out", generic(generic_signature(BODY)["sha512=".len()..].to_owned(), BODY), 401, "unauthorized"),
        case("generic: SHA-256 where the hook wants SHA-512", generic(format!("sha512={}", STANDARD.encode(mac256(GENERIC_SECRET.as_bytes(), &[BODY.as_bytes()]))), BODY), 401, "unauthorized"),
        case("generic: hex where the hook wants base64", generic(format!("sha512={}", hex::encode(mac512(GENERIC_SECRET.as_bytes(), &[BODY.as_bytes()]))), BODY), 401, "unauthorized"),
        case("generic: body changed", generic(generic_signature(BODY), "{}"), 401, "unauthorized"),
        // --- signed_url -----------------------------------------------------
        case("signed URL: no ctx or sig", Call::new(Method::GET, path("hk_signed")), 401, "unauthorized"),
        case("signed URL: sig only", Call::new(Method::GET, format!("{}?sig={sig}", path("hk_signed"))), 401, "unauthorized"),
        case("signed URL: ctx only", Call::new(Method::GET, format!("{}?ctx={ctx}", path("hk_signed"))), 401, "unauthorized"),
        case("signed URL: context changed", signed("hk_signed", &changed_ctx, &sig), 401, "unauthorized").saying("signature does not match"),
        case("signed URL: sig changed", signed("hk_signed", &ctx, &flip(&sig, 5)), 401, "unauthorized"),
        case("signed URL: sig not base64url", signed("hk_signed", &ctx, "%2B%2F%3D"), 401, "unauthorized"),
        case("signed URL: expired", signed("hk_signed", &expired_ctx, &expired_sig), 401, "unauthorized").saying("expired"),
        case("signed URL: minted for another hook", signed("hk_signed", &other_ctx, &other_sig), 401, "unauthorized"),
        case("signed URL: empty ctx and sig", signed("hk_signed", "", ""), 401, "unauthorized"),
        case("signed URL whose context nests too deep to queue", {
            let deep: Value = serde_json::from_str(&nested(101)).unwrap();
            let (ctx, sig) = signed_url_parts(&URL_KEY, "hk_signed", json!({"deep": deep}), None);
            signed("hk_signed", &ctx, &sig)
        }, 400, "invalid_context"),
        // --- bodies ---------------------------------------------------------
        case("JSON body that is not UTF-8", Call::post(path("hk_open")).header("content-type", "application/json").body(b"{\"a\":\"\xff\xfe\"}".to_vec()), 400, "invalid_body").saying("UTF-8"),
        case("text body that is not UTF-8", Call::post(path("hk_open")).header("content-type", "text/plain").body(b"caf\xe9".to_vec()), 400, "invalid_body"),
        case("form body that is not UTF-8", Call::post(path("hk_open")).header("content-type", "application/x-www-form-urlencoded").body(b"a=\xc3\x28".to_vec()), 400, "invalid_body"),
        case("truncated JSON", Call::post(path("hk_open")).json(&BODY[..BODY.len() - 3]), 400, "invalid_json"),
        case("JSON cut after a key", Call::post(path("hk_open")).json("{\"a\":"), 400, "invalid_json"),
        case("JSON with trailing garbage", Call::post(path("hk_open")).json("{\"a\":1} trailing"), 400, "invalid_json"),
        case("JSON with a trailing comma", Call::post(path("hk_open")).json("{\"a\":1,}"), 400, "invalid_json"),
        case("JSON nested 101 deep", Call::post(path("hk_open")).json(nested(101)), 400, "invalid_json").saying("deeper than 100"),
        case("JSON object nested 101 deep", Call::post(path("hk_open")).json(format!("{}1{}", "{\"a\":".repeat(101), "}".repeat(101))), 400, "invalid_json"),
        case("JSON nested 128 deep, past serde's limit", Call::post(path("hk_open")).json(nested(128)), 400, "invalid_json"),
        case("JSON nested 10 000 deep", Call::post(path("hk_open")).json(nested(10_000)), 400, "invalid_json"),
        case("untyped body that looks like JSON but is not", Call::post(path("hk_open")).body("{not json"), 400, "invalid_json"),
        case("one byte over the limit, with Content-Length", {
            Call::post(path("hk_small")).header("content-type", "text/plain").header("content-length", (SMALL_LIMIT + 1).to_string()).body(vec![b'a'; SMALL_LIMIT + 1])
        }, 413, "payload_too_large"),
        case("one byte over the limit, streamed without Content-Length", {
            Call::post(path("hk_small")).header("content-type", "text/plain").body(streamed(SMALL_LIMIT + 1))
        }, 413, "payload_too_large"),
        case("one byte over the limit, with a Content-Length that understates it", {
            Call::post(path("hk_small")).header("content-type", "text/plain").header("content-length", "10").body(vec![b'a'; SMALL_LIMIT + 1])
        }, 413, "payload_too_large"),
        case("a body that breaks off mid-stream", {
            let parts: [Result<Vec<u8>, std::io::Error>; 2] = [Ok(b"part of it".to_vec()), Err(std::io::Error::new(std::io::ErrorKind::ConnectionReset, "reset"))];
            Call::post(path("hk_open")).header("content-type", "text/plain").body(Body::from_stream(futures::stream::iter(parts)))
        }, 400, "invalid_body"),
        case("Content-Length over the limit, nothing sent yet", {
            Call::post(path("hk_small")).header("content-length", "99999999999")
        }, 413, "payload_too_large"),
        case("one byte over the default 256 KiB", {
            Call::post(path("hk_open")).header("content-type", "text/plain").body(vec![b'a'; DEFAULT_MAX_BODY_BYTES + 1])
        }, 413, "payload_too_large"),
        // --- variables --------------------------------------------------------
        case("variables as an object", variables("{}"), 400, "invalid_variables").saying("must be an array"),
        case("variables as a string", variables("\"amount=12\""), 400, "invalid_variables"),
        case("variables as null", variables("null"), 400, "invalid_variables"),
        case("variables as a number", variables("12"), 400, "invalid_variables"),
        case("variables entry a string", variables(r#"["{amount}"]"#), 400, "invalid_variables").saying("variables[0]"),
        case("variables entry an array", variables(r#"[["Amount", "{amount}", "12"]]"#), 400, "invalid_variables").saying("variables[0]"),
        case("variables entry null", variables("[null]"), 400, "invalid_variables").saying("variables[0]"),
        case("variables entry without name", variables(r#"[{"variable": "{amount}", "value": "12"}]"#), 400, "invalid_variables").saying("variables[0] has no `name`"),
        case("variables entry without variable", variables(r#"[{"name": "Amount", "value": "12"}]"#), 400, "invalid_variables").saying("variables[0] has no `variable`"),
        case("variables entry without value", variables(r#"[{"name": "Amount", "variable": "{amount}"}]"#), 400, "invalid_variables").saying("variables[0] has no `value`"),
        case("variables name a number", variables(r#"[{"name": 1, "variable": "{amount}", "value": "12"}]"#), 400, "invalid_variables").saying("variables[0].name"),
        case("variables variable a number", variables(r#"[{"name": "A", "variable": 12, "value": "12"}]"#), 400, "invalid_variables").saying("variables[0].variable"),
        case("variables variable without braces", variables(r#"[{"name": "A", "variable": "amount", "value": "12"}]"#), 400, "invalid_variables").saying("variables[0].variable"),
        case("variables variable with one brace", variables(r#"[{"name": "A", "variable": "{amount", "value": "12"}]"#), 400, "invalid_variables"),
        case("variables variable empty braces", variables(r#"[{"name": "A", "variable": "{}", "value": "12"}]"#), 400, "invalid_variables"),
        case("variables variable with a space", variables(r#"[{"name": "A", "variable": "{my amount}", "value": "12"}]"#), 400, "invalid_variables"),
        case("variables variable double braces", variables(r#"[{"name": "A", "variable": "{{amount}}", "value": "12"}]"#), 400, "invalid_variables"),
        case("variables variable of 65 characters", variables(&format!(r#"[{{"name": "A", "variable": "{{{}}}", "value": "12"}}]"#, "a".repeat(65))), 400, "invalid_variables"),
        case("variables value an object", variables(r#"[{"name": "A", "variable": "{a}", "value": {"x": 1}}]"#), 400, "invalid_variables").saying("variables[0].value"),
        case("variables value an array", variables(r#"[{"name": "A", "variable": "{a}", "value": [1]}]"#), 400, "invalid_variables").saying("variables[0].value"),
        case("variables value null", variables(r#"[{"name": "A", "variable": "{a}", "value": null}]"#), 400, "invalid_variables").saying("variables[0].value"),
        case("second variables entry bad", variables(r#"[{"name": "A", "variable": "{a}", "value": "1"}, {"name": "B", "variable": "{b}"}]"#), 400, "invalid_variables").saying("variables[1] has no `value`"),
        // --- huge headers and queries ---------------------------------------
        case("one header larger than the queue carries", Call::post(path("hk_open")).json("{}").header("x-padding", &huge), 413, "payload_too_large"),
        case("1200 headers of 1 KB", many_headers, 413, "payload_too_large"),
        // --- CORS -----------------------------------------------------------
        case("origin not allowed", Call::post(path("hk_cors")).json("{}").header("origin", "https://evil.example.net"), 403, "forbidden"),
        case("origin allowed only as a prefix", Call::post(path("hk_cors")).json("{}").header("origin", "https://app.example.com.evil.net"), 403, "forbidden"),
        case("origin allowed but over http", Call::post(path("hk_cors")).json("{}").header("origin", "http://app.example.com"), 403, "forbidden"),
        case("the null origin", Call::post(path("hk_cors")).json("{}").header("origin", "null"), 403, "forbidden"),
        case("any origin on a hook that allows none", Call::post(path("hk_open")).json("{}").header("origin", "https://app.example.com"), 403, "forbidden"),
        case("preflight from an origin not allowed", Call::new(Method::OPTIONS, path("hk_cors")).header("origin", "https://evil.example.net").header("access-control-request-method", "POST"), 403, "forbidden"),
        case("preflight on a hook that allows no origin", Call::new(Method::OPTIONS, path("hk_open")).header("origin", "https://app.example.com"), 403, "forbidden"),
        // --- allowed_ips ----------------------------------------------------
        case("address outside allowed_ips", Call::post(path("hk_ips")).json("{}").ip(Some("198.51.100.1")), 403, "forbidden"),
        case("IPv6 address outside allowed_ips", Call::post(path("hk_ips")).json("{}").ip(Some("2001:db9::1")), 403, "forbidden"),
        case("no known address at all", Call::post(path("hk_ips")).json("{}").ip(None), 403, "forbidden"),
        case("an allowed address claimed in X-Forwarded-For", Call::post(path("hk_ips")).json("{}").ip(Some("198.51.100.1")).header("x-forwarded-for", "203.0.113.5"), 403, "forbidden"),
        case("an allowed address claimed in X-Real-IP", Call::post(path("hk_ips")).json("{}").ip(Some("198.51.100.1")).header("x-real-ip", "203.0.113.5"), 403, "forbidden"),
        // --- rate limit (the window's one call was spent before) -------------
        case("over the rate limit", Call::post(path("hk_rated")).json("{}"), 429, "rate_limited")
            .with_header("retry-after", "2"),
    ]
}

#[tokio::test]
async fn every_bad_call_gets_its_status_and_code_and_nothing_is_queued() {
    let t = Ingress::start().await;
    // Spend the rate-limited hook's one call of this window.
    let spent = t
        .send(Call::post(path("hk_rated")).json("{}").build())
        .await;
    assert_eq!(spent.status, 202, "{}", spent.body);
    assert_eq!(t.drain().await.len(), 1);

    let cases = bad_calls(&t);
    let size = cases.len();
    let mut failures = Vec::new();
    for c in cases {
        // An answer to HEAD has no body to carry the error.
        let bodyless = c.call.method == Method::HEAD;
        let answer = t.send(c.call.build()).await;
        let mut wrong = Vec::new();
        if answer.status != c.status {
            wrong.push(format!("status {} (want {})", answer.status, c.status));
        }
        if !bodyless && answer.body["error"]["code"] != c.code {
            wrong.push(format!(
                "code {} (want {})",
                answer.body["error"]["code"], c.code
            ));
        }
        let message = answer.body["error"]["message"].as_str().unwrap_or_default();
        if !bodyless && message.is_empty() {
            wrong.push("no error message".into());
        }
        if let Some(words) = c.message {
            if !message.contains(words) {
                wrong.push(format!("message {message:?} lacks {words:?}"));
            }
        }
        if let Some((name, value)) = c.header {
            if answer.header(name) != Some(value) {
                wrong.push(format!(
                    "{name}: {:?} (want {value:?})",
                    answer.header(name)
                ));
            }
        }
        let queued = t.drain().await;
        if !queued.is_empty() {
            wrong.push(format!("{} envelope(s) were queued", queued.len()));
        }
        if !wrong.is_empty() {
            failures.push(format!("{}: {}", c.what, wrong.join("; ")));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {size} bad calls were answered wrongly:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(size >= 100, "the matrix has {size} cases");
}

// ------------------------------------------------------------ good calls

/// One call that is right in every way, and what its envelope must carry.
struct Good {
    what: &'static str,
    call: Call,
    hook: &'static str,
    check: fn(&hooklane_domain::envelope::HookCall),
}

fn good_calls(t: &Ingress) -> Vec<Good> {
    let now = t.now;
    let (ctx, sig) = signed_url_parts(
        &URL_KEY,
        "hk_signed",
        json!({"user_id": "42"}),
        Some(now + 60),
    );
    vec![
        Good {
            what: "api key with Bearer",
            call: Call::post(path("hk_apikey"))
                .json(BODY)
                .header("authorization", format!("Bearer {}", t.key)),
            hook: "hk_apikey",
            check: |c| assert!(!c.request.headers.contains_key("authorization")),
        },
        Good {
            what: "api key without Bearer",
            call: Call::post(path("hk_apikey"))
                .json(BODY)
                .header("authorization", &t.key),
            hook: "hk_apikey",
            check: |c| assert_eq!(c.request.payload["order"]["id"], 7),
        },
        Good {
            what: "Botpress-style x-bp-secret",
            call: Call::post(path("hk_botpress"))
                .json(BODY)
                .header("x-bp-secret", BOTPRESS_SECRET),
            hook: "hk_botpress",
            check: |c| {
                assert!(
                    !c.request.headers.contains_key("x-bp-secret"),
                    "the secret reached the actions"
                )
            },
        },
        Good {
            what: "Standard Webhooks",
            call: standard("msg_good", now, BODY, BODY),
            hook: "hk_standard",
            check: |c| assert!(!c.request.headers.contains_key("webhook-signature")),
        },
        Good {
            what: "Standard Webhooks, 300 s old",
            call: standard("msg_older", now - 300, BODY, BODY),
            hook: "hk_standard",
            check: |_| {},
        },
        Good {
            what: "GitHub",
            call: github(GITHUB_SECRET, BODY, BODY),
            hook: "hk_github",
            check: |c| {
                assert_eq!(c.request.headers["x-github-event"], "push");
                assert!(!c.request.headers.contains_key("x-hub-signature-256"));
            },
        },
        Good {
            what: "Stripe",
            call: stripe(stripe_header(STRIPE_SECRET, now, BODY), BODY),
            hook: "hk_stripe",
            check: |c| assert!(!c.request.headers.contains_key("stripe-signature")),
        },
        Good {
            what: "Slack slash command (a form)",
            call: slack(
                Some(now),
                Some(slack_signature(SLACK_SECRET, now, SLACK_BODY)),
                SLACK_BODY,
            ),
            hook: "hk_slack",
            check: |c| assert_eq!(c.request.payload["command"], "/weather"),
        },
        Good {
            what: "Shopify",
            call: shopify(shopify_signature(SHOPIFY_SECRET, BODY), BODY),
            hook: "hk_shopify",
            check: |_| {},
        },
        Good {
            what: "generic SHA-512 base64 with a prefix",
            call: generic(generic_signature(BODY), BODY),
            hook: "hk_generic",
            check: |c| assert!(!c.request.headers.contains_key("x-signature")),
        },
        Good {
            what: "signed URL",
            call: signed("hk_signed", &ctx, &sig),
            hook: "hk_signed",
            check: |c| {
                assert_eq!(c.request.context, Some(json!({"user_id": "42"})));
                assert_eq!(
                    Value::Object(c.request.query.clone()),
                    json!({"ref": "mail"})
                );
                assert_eq!(c.request.method, "GET");
            },
        },
        Good {
            what: "exactly at the body limit",
            call: Call::post(path("hk_small"))
                .header("content-type", "text/plain")
                .header("content-length", SMALL_LIMIT.to_string())
                .body(vec![b'a'; SMALL_LIMIT]),
            hook: "hk_small",
            check: |c| assert_eq!(c.request.payload.as_str().map(str::len), Some(SMALL_LIMIT)),
        },
        Good {
            what: "JSON nested 100 deep (its envelope still decodes)",
            call: Call::post(path("hk_open")).json(nested(100)),
            hook: "hk_open",
            check: |_| {},
        },
        Good {
            what: "allowed origin",
            call: Call::post(path("hk_cors"))
                .json("{}")
                .header("origin", "https://app.example.com"),
            hook: "hk_cors",
            check: |_| {},
        },
        Good {
            what: "address inside allowed_ips",
            call: Call::post(path("hk_ips"))
                .json("{}")
                .ip(Some("203.0.113.77")),
            hook: "hk_ips",
            check: |c| assert_eq!(c.request.ip.as_deref(), Some("203.0.113.77")),
        },
        Good {
            what: "IPv4-mapped IPv6 address inside allowed_ips",
            call: Call::post(path("hk_ips"))
                .json("{}")
                .ip(Some("::ffff:203.0.113.9")),
            hook: "hk_ips",
            check: |_| {},
        },
        Good {
            what: "IPv6 address inside allowed_ips",
            call: Call::post(path("hk_ips"))
                .json("{}")
                .ip(Some("2001:db8::1")),
            hook: "hk_ips",
            check: |_| {},
        },
    ]
}

#[tokio::test]
async fn each_auth_scheme_accepts_a_correct_call_and_queues_exactly_one_envelope() {
    let t = Ingress::start().await;
    for g in good_calls(&t) {
        let answer = t.send(g.call.build()).await;
        assert_eq!(answer.status, 202, "{}: {}", g.what, answer.body);
        let id = answer.body["id"].as_str().unwrap_or_default().to_owned();
        assert!(id.starts_with("evt_"), "{}: {}", g.what, answer.body);
        let queued = t.drain().await;
        assert_eq!(queued.len(), 1, "{}", g.what);
        let Job::HookCall(call) = &queued[0].job else {
            panic!("{}: not a hook call", g.what)
        };
        assert_eq!(call.event_id.as_str(), id, "{}", g.what);
        assert_eq!(call.hook_id.as_str(), g.hook, "{}", g.what);
        (g.check)(call);
    }
}

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

// ---------------------------------------------------------------- Lambda

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
    assert_eq!(answer["id"], call.event_id.as_str());
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
    assert_eq!(lambda_body(&again)["id"], call.event_id.as_str());
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
        Some(call.event_id.as_str())
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

#[tokio::test]
async fn a_new_api_key_or_secret_works_at_once_while_the_old_one_was_cached() {
    let t = Ingress::start().await;
    let with_key = |key: &str| {
        Call::post(path("hk_apikey"))
            .json("{}")
            .header("authorization", format!("Bearer {key}"))
            .build()
    };
    // The bot and its key hash are now cached.
    assert_eq!(t.send(with_key(&t.key)).await.status, 202);
    let rotated = hooklane_auth::api_key::generate();
    let mut bot = t
        .store
        .get_bot(&BotId::parse(BOT).unwrap())
        .await
        .unwrap()
        .unwrap();
    bot.api_key_hash = hooklane_auth::api_key::hash(&rotated);
    t.store.update_bot(&bot).await.unwrap();
    assert_eq!(t.send(with_key(&rotated)).await.status, 202);
    // Checking the new key refreshed the cache: the old key is refused here at once.
    let old = t.send(with_key(&t.key)).await;
    assert_eq!(old.status, 401);
    assert_eq!(old.body["error"]["code"], "unauthorized");

    // Publishing takes the rotated key at once too.
    let publish = |key: &str| {
        Call::post(format!("/v1/bots/{BOT}/events"))
            .json(r#"{"event": "order.created", "data": {"n": 1}}"#)
            .header("authorization", format!("Bearer {key}"))
            .build()
    };
    assert_eq!(t.send(publish(&t.key)).await.status, 401);
    let again = hooklane_auth::api_key::generate();
    bot.api_key_hash = hooklane_auth::api_key::hash(&again);
    t.store.update_bot(&bot).await.unwrap();
    assert_eq!(t.send(publish(&again)).await.status, 202);
    assert_eq!(t.send(publish(&rotated)).await.status, 401);
    assert_eq!(t.drain().await.len(), 3, "two calls and one publish");

    let with_secret = |secret: &str| {
        Call::post(path("hk_botpress"))
            .json("{}")
            .header("x-bp-secret", secret)
            .build()
    };
    assert_eq!(t.send(with_secret(BOTPRESS_SECRET)).await.status, 202);
    let mut hook = t
        .store
        .get_hook(
            &BotId::parse(BOT).unwrap(),
            &HookId::parse("hk_botpress").unwrap(),
        )
        .await
        .unwrap()
        .unwrap();
    // A new secret in a new header: it works at once, and that header is
    // kept from the actions like the old one.
    hook.auth = HookAuth::SecretHeader {
        header: "x-team-secret".into(),
        secret: "team-secret-rotated".into(),
    };
    t.store.update_hook(&hook).await.unwrap();
    let rotated_call = Call::post(path("hk_botpress"))
        .json("{}")
        .header("x-team-secret", "team-secret-rotated")
        .build();
    assert_eq!(t.send(rotated_call).await.status, 202);
    assert_eq!(t.send(with_secret(BOTPRESS_SECRET)).await.status, 401);
    let queued = t.drain().await;
    assert_eq!(queued.len(), 2, "only the accepted calls");
    let Job::HookCall(call) = &queued[1].job else {
        panic!("not a hook call")
    };
    assert!(
        !call.request.headers.contains_key("x-team-secret"),
        "the new secret reached the actions: {:?}",
        call.request.headers
    );
}

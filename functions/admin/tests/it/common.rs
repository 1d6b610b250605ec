//! The admin router over a real SQLite store and queue in a temporary
//! directory, and request helpers that drive it with `oneshot`.

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use axum::Router;
use hooklane_admin::{router, AdminAuth, AdminState};
use hooklane_runtime::config::Settings;
use hooklane_runtime::Services;
use hooklane_store::sqlite::Sqlite;
use hooklane_testkit::Embedded;
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tower::ServiceExt;

pub const TOKEN: &str = "admin-token-for-tests-0123456789";
pub const PUBLIC_URL: &str = "https://hooks.example.test";
pub const PORTAL_KEY: &str = "portal-key-for-tests-0123456789abcdef";

pub struct App {
    pub router: Router,
    pub svc: Services,
    pub db: Sqlite,
    _dir: tempfile::TempDir,
}

/// An admin API that lets outbound targets be private (as `hooklane dev` does).
pub fn spawn_app() -> App {
    spawn_app_with(Settings {
        allow_private_targets: true,
        ..Default::default()
    })
}

pub fn spawn_app_with(settings: Settings) -> App {
    let Embedded { dir, db, svc } = Embedded::start(settings);
    let router = router(AdminState {
        svc: svc.clone(),
        auth: AdminAuth::Token(TOKEN.into()),
        public_url: Some(PUBLIC_URL.to_owned()),
        portal: hooklane_admin::PortalKey::Fixed(PORTAL_KEY.as_bytes().into()),
    });
    App {
        router,
        svc,
        db,
        _dir: dir,
    }
}

/// One answer: status and JSON body (`Value::Null` when the body is empty
/// or not JSON).
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub body: Value,
    pub headers: axum::http::HeaderMap,
}

impl Answer {
    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or_default()
    }

    pub fn message(&self) -> &str {
        self.body["error"]["message"].as_str().unwrap_or_default()
    }
}

pub async fn send(router: &Router, request: Request<Body>) -> Answer {
    let response = router
        .clone()
        .oneshot(request)
        .await
        .expect("the router answers");
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("the body reads")
        .to_bytes();
    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    Answer {
        status,
        body,
        headers,
    }
}

pub fn request(
    method: Method,
    path: &str,
    authorization: Option<&str>,
    body: Option<&Value>,
) -> Request<Body> {
    let mut builder = Request::builder().method(method).uri(path);
    if let Some(a) = authorization {
        builder = builder.header(header::AUTHORIZATION, a);
    }
    let body = match body {
        Some(b) => {
            builder = builder.header(header::CONTENT_TYPE, "application/json");
            Body::from(b.to_string())
        }
        None => Body::empty(),
    };
    builder.body(body).expect("a valid request")
}

impl App {
    /// A call with the admin token.
    pub async fn call(&self, method: Method, path: &str, body: Option<Value>) -> Answer {
        let bearer = format!("Bearer {TOKEN}");
        send(
            &self.router,
            request(method, path, Some(&bearer), body.as_ref()),
        )
        .await
    }

    pub async fn get(&self, path: &str) -> Answer {
        self.call(Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Answer {
        self.call(Method::POST, path, Some(body)).await
    }

    pub async fn patch(&self, path: &str, body: Value) -> Answer {
        self.call(Method::PATCH, path, Some(body)).await
    }

    pub async fn delete(&self, path: &str) -> Answer {
        self.call(Method::DELETE, path, None).await
    }

    /// Creates a bot and answers its id.
    pub async fn bot(&self) -> String {
        let a = self.post("/v1/bots", json!({"name": "Test bot"})).await;
        assert_eq!(a.status, StatusCode::CREATED, "{:?}", a.body);
        a.body["id"].as_str().expect("an id").to_owned()
    }

    /// Creates a hook and answers the creation's body.
    pub async fn hook(&self, bot: &str, body: Value) -> Value {
        let a = self.post(&format!("/v1/bots/{bot}/hooks"), body).await;
        assert_eq!(a.status, StatusCode::CREATED, "{:?}", a.body);
        a.body
    }

    /// Creates an endpoint and answers the creation's body.
    pub async fn endpoint(&self, bot: &str, body: Value) -> Value {
        let a = self.post(&format!("/v1/bots/{bot}/endpoints"), body).await;
        assert_eq!(a.status, StatusCode::CREATED, "{:?}", a.body);
        a.body
    }
}

/// A portal token for `bot` as it is stored now (signed with its bot key),
/// valid until `expires_at` (Unix seconds).
pub async fn portal_token(svc: &Services, bot: &str, expires_at: i64) -> String {
    let id = hooklane_domain::BotId::parse(bot).unwrap();
    let stored = svc.store.get_bot(&id).await.unwrap().expect("the bot");
    hooklane_auth::portal::mint(
        PORTAL_KEY.as_bytes(),
        bot,
        stored.created_at.unix_timestamp_nanos(),
        expires_at,
    )
}

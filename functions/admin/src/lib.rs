//! The admin API: bots, keys, hooks, endpoints, logs, test sends, replays.
//!
//! Under `hooklane dev` every `/v1` route wants `Authorization: Bearer
//! <admin token>`; in AWS, API Gateway checks IAM (SigV4) before a request
//! gets here, so the router is built without a token. The `/portal/v1`
//! routes take a portal link's token instead, checked here in both places
//! (see [`portal`]); `/console` serves the web console's files to anyone
//! (they hold no data: the page asks the API with its credential).

use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::get;
use axum::{Json, Router};
use hooklane_auth::constant_time_eq;
use hooklane_runtime::Services;
use hooklane_web::ApiError;
use serde_json::json;

mod bot_list;
mod bots;
mod console;
mod endpoints;
mod hooks;
pub mod input;
mod list;
mod lookup;
mod messages;
pub mod portal;
mod replay;
mod runs;
mod variables;

pub use list::ListQuery;
pub use portal::PortalKey;

/// How admin calls are authorized.
#[derive(Clone)]
pub enum AdminAuth {
    /// A bearer token (`hooklane dev`).
    Token(std::sync::Arc<str>),
    /// Done in front of the function (API Gateway IAM authorization).
    Gateway,
}

/// What every admin handler shares.
#[derive(Clone)]
pub struct AdminState {
    /// The store, the queue, the outbound client and the settings.
    pub svc: Services,
    /// How `/v1` calls are authorized.
    pub auth: AdminAuth,
    /// The base URL hook URLs are built on; `None` takes it from each request's Host.
    pub public_url: Option<String>,
    /// The key portal links are signed with.
    pub portal: PortalKey,
}

/// The admin API: `/healthz` and `/openapi.json` open to all, every `/v1`
/// route behind [`AdminAuth`]. Errors answer the contract's error body
/// (`{"error": {"code", "message"}}`).
pub fn router(state: AdminState) -> Router {
    let v1 = Router::new()
        .merge(bots::router())
        .merge(bot_list::router())
        .merge(messages::router())
        .merge(replay::router())
        .merge(hooks::router())
        .merge(runs::router())
        .merge(endpoints::router())
        .merge(variables::router())
        .merge(portal::mint_router())
        .route_layer(middleware::from_fn_with_state(state.clone(), authorize));
    Router::new()
        .route("/healthz", get(healthz))
        .route("/openapi.json", get(openapi))
        .merge(console::router())
        .merge(portal::router(state.clone()))
        .merge(v1)
        .with_state(state)
}

async fn authorize(
    State(state): State<AdminState>,
    request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    if let AdminAuth::Token(token) = &state.auth {
        let presented = bearer(request.headers()).ok_or_else(|| {
            ApiError::unauthorized("send the admin token as `Authorization: Bearer <token>`")
        })?;
        // An empty configured token matches nothing, not an empty bearer.
        if token.is_empty() || !constant_time_eq(presented.as_bytes(), token.as_bytes()) {
            return Err(ApiError::unauthorized("the admin token is not valid"));
        }
    }
    Ok(next.run(request).await)
}

/// The longest `/healthz` waits for the store and queue to answer; past it
/// the answer is 503 `unavailable`.
pub const HEALTH_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(3);

/// The credential of `Authorization: Bearer <credential>` (the scheme in
/// any case), trimmed; `None` without one.
pub(crate) fn bearer(headers: &axum::http::HeaderMap) -> Option<&str> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?.trim();
    v.get(..7)
        .filter(|p| p.eq_ignore_ascii_case("bearer "))
        .map(|_| v[7..].trim())
}

/// Why `/healthz` answers 503: the store or queue did not answer in
/// time, or answered with an error.
#[derive(Debug, thiserror::Error)]
enum Unhealthy {
    #[error("the store and queue did not answer within {HEALTH_TIMEOUT:?}")]
    Timeout(#[from] tokio::time::error::Elapsed),
    #[error(transparent)]
    Store(#[from] hooklane_store::StoreError),
    #[error(transparent)]
    Queue(#[from] hooklane_store::QueueError),
}

/// Every [`Unhealthy`] is 503 `unavailable` (with `Retry-After`); the
/// cause is logged.
impl From<Unhealthy> for ApiError {
    fn from(e: Unhealthy) -> Self {
        ApiError::unavailable_with(&e, "the store or queue is not answering; try again")
    }
}

async fn healthz(State(state): State<AdminState>) -> Result<Json<serde_json::Value>, ApiError> {
    check_health(&state).await?;
    Ok(Json(
        json!({"status": "ok", "version": env!("CARGO_PKG_VERSION")}),
    ))
}

async fn check_health(state: &AdminState) -> Result<(), Unhealthy> {
    let (store, queue) = tokio::time::timeout(HEALTH_TIMEOUT, async {
        tokio::join!(state.svc.store.ping(), state.svc.queue.ping())
    })
    .await?;
    store?;
    queue?;
    Ok(())
}

/// The OpenAPI document of every route.
pub const OPENAPI: &str = include_str!("../openapi.json");

async fn openapi() -> Response {
    let mut response = Response::new(axum::body::Body::from(OPENAPI));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/json"),
    );
    response
}

/// The base URL for hook URLs: the configured one, or the request's own.
pub(crate) fn base_url(state: &AdminState, headers: &axum::http::HeaderMap) -> String {
    if let Some(url) = &state.public_url {
        return url.trim_end_matches('/').to_owned();
    }
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("localhost");
    let proto = headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .unwrap_or(if matches!(state.auth, AdminAuth::Gateway) {
            "https"
        } else {
            "http"
        });
    format!("{proto}://{host}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unhealthy_store_or_queue_is_named_in_the_503() {
        let e = ApiError::from(Unhealthy::Store(hooklane_store::StoreError::Unavailable(
            anyhow::anyhow!("down"),
        )));
        assert_eq!(e.status, axum::http::StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(e.message, "the store or queue is not answering; try again");
    }
}

//! What the ingress and admin routers share: the contract's error body and
//! every conversion into it ([`ApiError`], [`ErrorCode`]), the caller's
//! address, and JSON bodies that fail with that error body.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequest, Request};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Router;
use serde::de::DeserializeOwned;

mod error;
pub mod lambda;

pub use error::{About, AboutRecord, ApiError, ErrorCode, UNAVAILABLE_RETRY_AFTER_SECS};

/// The caller's address as the platform saw it: the TCP peer under
/// `hooklane dev`, API Gateway's `sourceIp` in Lambda. Never a header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientIp(pub IpAddr);

/// Middleware for `hooklane dev`: the TCP peer as `ClientIp`.
pub async fn client_ip_from_peer(mut req: Request, next: Next) -> Response {
    if let Some(ConnectInfo(addr)) = req.extensions().get::<ConnectInfo<SocketAddr>>().copied() {
        req.extensions_mut().insert(ClientIp(addr.ip()));
    }
    next.run(req).await
}

/// Middleware for Lambda: API Gateway's source IP as `ClientIp`.
pub async fn client_ip_from_api_gateway(mut req: Request, next: Next) -> Response {
    use lambda_http::request::RequestContext;
    let ip = match req.extensions().get::<RequestContext>() {
        Some(RequestContext::ApiGatewayV2(ctx)) => ctx.http.source_ip.clone(),
        Some(RequestContext::ApiGatewayV1(ctx)) => ctx.identity.source_ip.clone(),
        _ => None,
    };
    if let Some(ip) = ip.and_then(|s| s.parse::<IpAddr>().ok()) {
        req.extensions_mut().insert(ClientIp(ip));
    }
    next.run(req).await
}

/// A JSON body whose problems answer 400 `invalid_json` in the contract's shape.
pub struct Json<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Json<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = bytes::Bytes::from_request(req, state).await.map_err(|e| {
            let code = if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ErrorCode::PayloadTooLarge
            } else {
                ErrorCode::InvalidBody
            };
            ApiError::new(e.status(), code, e.body_text())
        })?;
        if bytes.is_empty() {
            return serde_json::from_slice(b"{}").map(Json).map_err(|e| {
                ApiError::bad_request(
                    ErrorCode::InvalidJson,
                    format!("the body is empty and this route needs one: {e}"),
                )
            });
        }
        serde_json::from_slice(&bytes).map(Json).map_err(|e| {
            ApiError::bad_request(
                ErrorCode::InvalidJson,
                format!("the body is not valid here: {e}"),
            )
        })
    }
}

/// Puts error answers that did not come from `ApiError` (axum's own 405s
/// and extractor rejections) into the contract's shape. A 405 names the
/// methods of its `Allow` header in its message; of the error answers, only
/// a 405 keeps `Allow` (axum puts it on whatever answers a method a route
/// does not take, a 401 of the auth layer too); a 2xx to `OPTIONS` keeps it.
pub async fn contract_errors(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let status = response.status();
    let is_error = status.is_client_error() || status.is_server_error();
    if is_error && status != StatusCode::METHOD_NOT_ALLOWED {
        response.headers_mut().remove(axum::http::header::ALLOW);
    }
    let is_json = response
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !is_error || is_json {
        return response;
    }
    let (parts, body) = response.into_parts();
    if status == StatusCode::METHOD_NOT_ALLOWED {
        let allow = parts
            .headers
            .get(axum::http::header::ALLOW)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        let allowed: Vec<&str> = allow
            .split(',')
            .map(str::trim)
            .filter(|m| !m.is_empty())
            .collect();
        return ApiError::method_not_allowed(&allowed).into_response();
    }
    let code = match status {
        StatusCode::NOT_FOUND => ErrorCode::NotFound,
        StatusCode::PAYLOAD_TOO_LARGE => ErrorCode::PayloadTooLarge,
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ErrorCode::UnsupportedMediaType,
        StatusCode::UNAUTHORIZED => ErrorCode::Unauthorized,
        StatusCode::FORBIDDEN => ErrorCode::Forbidden,
        StatusCode::TOO_MANY_REQUESTS => ErrorCode::RateLimited,
        s if s.is_server_error() => ErrorCode::Internal,
        _ => ErrorCode::InvalidRequest,
    };
    let text = axum::body::to_bytes(body, 4096).await.unwrap_or_default();
    let mut message = String::from_utf8_lossy(&text).trim().to_owned();
    if message.is_empty() || status.is_server_error() {
        message = status.canonical_reason().unwrap_or("error").to_lowercase();
    }
    ApiError::new(status, code, message).into_response()
}

/// `router` as a whole (routing and method dispatch included) behind
/// [`contract_errors`]. A layer on the router itself runs per route, inside
/// axum's method dispatch, which puts `Allow` on an answer after such a
/// layer has seen it; behind this, every answer passes through it last.
pub fn contract_shaped(router: Router) -> Router {
    Router::new()
        .fallback_service(router)
        .layer(axum::middleware::from_fn(contract_errors))
}

/// Answers 404 in the contract's shape for unknown routes.
pub async fn fallback() -> ApiError {
    ApiError::not_found("no such route")
}

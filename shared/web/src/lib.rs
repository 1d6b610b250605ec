//! What the ingress and admin routers share: the contract's error body,
//! the caller's address, and JSON bodies that fail with that error body.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequest, Request};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use serde_json::json;

pub mod lambda;

/// An answer in the contract's error shape:
/// `{"error": {"code": "<snake_case>", "message": "<text>"}}`.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub headers: Vec<(HeaderName, HeaderValue)>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            headers: Vec::new(),
        }
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, "conflict", message)
    }

    /// 405 with the `Allow` header listing `allowed`.
    pub fn method_not_allowed(allowed: &[&str]) -> Self {
        let allow = allowed.join(", ");
        let mut e = Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            format!("this route takes {allow}"),
        );
        if let Ok(v) = HeaderValue::from_str(&allow) {
            e.headers.push((axum::http::header::ALLOW, v));
        }
        e
    }

    pub fn payload_too_large(limit: usize) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!("the body is larger than this hook's limit of {limit} bytes"),
        )
    }

    pub fn rate_limited(retry_after_secs: u64) -> Self {
        let mut e = Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            format!("too many calls; try again in {retry_after_secs} s"),
        );
        e.headers.push((
            axum::http::header::RETRY_AFTER,
            HeaderValue::from(retry_after_secs),
        ));
        e
    }

    /// 503: the queue could not be written; nothing was accepted.
    pub fn unavailable(cause: &dyn std::fmt::Display) -> Self {
        tracing::error!(error.message = %cause, "answering 503");
        let mut e = Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "the call could not be queued and was not accepted; try again",
        );
        e.headers
            .push((axum::http::header::RETRY_AFTER, HeaderValue::from(5u64)));
        e
    }

    /// 500 that hides the cause from the caller and logs the whole chain.
    pub fn internal(cause: anyhow::Error) -> Self {
        tracing::error!(error.message = %cause, error.cause_chain = ?cause, "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "something went wrong on our side",
        )
    }

    pub fn with_header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.headers.push((name, value));
        self
    }
}

impl From<hooklane_store::StoreError> for ApiError {
    fn from(e: hooklane_store::StoreError) -> Self {
        match e {
            hooklane_store::StoreError::NotFound => Self::not_found("not found"),
            hooklane_store::StoreError::Conflict => Self::conflict("it already exists"),
            hooklane_store::StoreError::Unexpected(e) => Self::internal(e),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({"error": {"code": self.code, "message": self.message}});
        let mut response = (self.status, axum::Json(body)).into_response();
        for (name, value) in self.headers {
            response.headers_mut().insert(name, value);
        }
        response
    }
}

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
                "payload_too_large"
            } else {
                "invalid_body"
            };
            ApiError::new(e.status(), code, e.body_text())
        })?;
        if bytes.is_empty() {
            return serde_json::from_slice(b"{}").map(Json).map_err(|e| {
                ApiError::bad_request(
                    "invalid_json",
                    format!("the body is empty and this route needs one: {e}"),
                )
            });
        }
        serde_json::from_slice(&bytes).map(Json).map_err(|e| {
            ApiError::bad_request("invalid_json", format!("the body is not valid here: {e}"))
        })
    }
}

/// Puts error answers that did not come from `ApiError` (axum's own 405s
/// and extractor rejections) into the contract's shape, keeping `Allow`.
pub async fn contract_errors(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let status = response.status();
    let is_json = response
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    let code = match status {
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::PAYLOAD_TOO_LARGE => "payload_too_large",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        StatusCode::UNAUTHORIZED => "unauthorized",
        StatusCode::FORBIDDEN => "forbidden",
        StatusCode::TOO_MANY_REQUESTS => "rate_limited",
        s if s.is_server_error() => "internal",
        _ => "invalid_request",
    };
    let (parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, 4096).await.unwrap_or_default();
    let mut message = String::from_utf8_lossy(&text).trim().to_owned();
    if message.is_empty() || status.is_server_error() {
        message = status.canonical_reason().unwrap_or("error").to_lowercase();
    }
    let mut error = ApiError::new(status, code, message);
    if let Some(allow) = parts.headers.get(axum::http::header::ALLOW) {
        error
            .headers
            .push((axum::http::header::ALLOW, allow.clone()));
    }
    error.into_response()
}

/// Answers 404 in the contract's shape for unknown routes.
pub async fn fallback() -> ApiError {
    ApiError::not_found("no such route")
}

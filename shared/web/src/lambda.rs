//! Serving a router in Lambda behind API Gateway, with one guard
//! `lambda_http` lacks: a body flagged base64 that does not decode would
//! make it panic, so such a request is answered 400 `invalid_body` instead.

use axum::extract::Request;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::Router;
use base64::Engine as _;
use lambda_http::request::LambdaRequest;
use lambda_http::{service_fn, Adapter, LambdaEvent};
use tower::ServiceExt;

use crate::{client_ip_from_api_gateway, ApiError};

/// Marks a request whose body could not be decoded (set by the guard only:
/// a caller's own header of this name is removed first).
const INVALID_BODY_MARK: &str = "x-hooklane-invalid-base64-body";

/// Clears a body flagged base64 that does not decode, and marks the request.
pub fn guard_body(request: &mut LambdaRequest) {
    fn check(headers: &mut http::HeaderMap, body: &mut Option<String>, base64: &mut bool) {
        headers.remove(INVALID_BODY_MARK);
        let bad = *base64
            && body
                .as_deref()
                .is_some_and(|b| base64::engine::general_purpose::STANDARD.decode(b).is_err());
        if bad {
            *body = None;
            *base64 = false;
            headers.insert(INVALID_BODY_MARK, http::HeaderValue::from_static("1"));
        }
    }
    match request {
        LambdaRequest::ApiGatewayV2(r) => {
            check(&mut r.headers, &mut r.body, &mut r.is_base64_encoded)
        }
        LambdaRequest::ApiGatewayV1(r) => {
            r.multi_value_headers.remove(INVALID_BODY_MARK);
            check(&mut r.headers, &mut r.body, &mut r.is_base64_encoded)
        }
        _ => {}
    }
}

async fn reject_marked(request: Request, next: Next) -> Response {
    if request.headers().contains_key(INVALID_BODY_MARK) {
        return ApiError::bad_request(
            crate::ErrorCode::InvalidBody,
            "the body is flagged base64 but is not valid base64",
        )
        .into_response();
    }
    next.run(request).await
}

/// The router as Lambda serves it: the body guard and the caller's address
/// from API Gateway's request context.
pub fn app(router: Router) -> Router {
    crate::contract_shaped(
        router
            .fallback(crate::fallback)
            .layer(middleware::from_fn(client_ip_from_api_gateway))
            .layer(middleware::from_fn(reject_marked)),
    )
}

/// Handles one API Gateway event (the path `run` takes for each invocation).
pub async fn handle(
    router: Router,
    mut event: LambdaEvent<LambdaRequest>,
) -> Result<serde_json::Value, lambda_http::Error> {
    guard_body(&mut event.payload);
    let response = Adapter::from(router).oneshot(event).await?;
    Ok(serde_json::to_value(response)?)
}

/// Serves `router` as a Lambda function behind API Gateway.
pub async fn run(router: Router) -> Result<(), lambda_http::Error> {
    let app = app(router);
    lambda_http::lambda_runtime::run(service_fn(move |event: LambdaEvent<LambdaRequest>| {
        let app = app.clone();
        handle(app, event)
    }))
    .await
}

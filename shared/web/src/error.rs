//! Errors at the HTTP edge: one [`ErrorCode`] per code the contract names,
//! the [`ApiError`] answer in the contract's shape, and the conversions that
//! turn the ports', ids', signatures' and signed URLs' errors into it, so a
//! handler writes `?` and never maps an error by hand.

use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use hooklane_auth::portal::PortalTokenError;
use hooklane_auth::signature::TelegramTokenError;
use hooklane_auth::signed_url::BadUrlKey;
use hooklane_auth::{GenericError, SignatureError, SignedUrlError};
use hooklane_domain::{InvalidEvent, InvalidId, InvalidIdempotencyKey};
use hooklane_store::{QueueError, StoreError};
use serde_json::json;

/// Seconds a 503 `unavailable` asks the caller to wait (`Retry-After`).
pub const UNAVAILABLE_RETRY_AFTER_SECS: u64 = 5;

/// Every error code an answer carries (`{"error": {"code": …}}`), as the
/// contract and docs/ name them. [`ErrorCode::as_str`] is the wire text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, strum::IntoStaticStr, strum::EnumIter)]
#[strum(serialize_all = "snake_case")]
pub enum ErrorCode {
    /// 401: a missing or wrong key, secret, token or signature; a stale timestamp.
    Unauthorized,
    /// 403: the caller's IP or origin is not allowed.
    Forbidden,
    /// 404: no such route or record (or a disabled hook).
    NotFound,
    /// 405: the route does not take this method (with `Allow`).
    MethodNotAllowed,
    /// 409: a record with this id exists already.
    Conflict,
    /// 413: the body is over the limit, or the envelope over the queue's size.
    PayloadTooLarge,
    /// 415: a `Content-Encoding` other than gzip or deflate.
    UnsupportedMediaType,
    /// 429: over the hook's rate (with `Retry-After`).
    RateLimited,
    /// 500: something failed on our side; the detail is only logged.
    Internal,
    /// 503: the queue or store could not answer; nothing was accepted (with `Retry-After`).
    Unavailable,
    /// 4xx: a request error axum answered that has no code of its own.
    InvalidRequest,
    /// 400: the body could not be read, or not as this route needs it.
    InvalidBody,
    /// 400: the body is not valid JSON, or not the JSON this route takes.
    InvalidJson,
    /// 400: a caller's `variables` array is malformed.
    InvalidVariables,
    /// 400: an event type or filter breaks its rule.
    InvalidEvent,
    /// 400: an id (a bot's chosen id, an idempotency id) breaks its rule.
    InvalidId,
    /// 400: a name breaks its rule.
    InvalidName,
    /// 400: a bot's fields are wrong.
    InvalidBot,
    /// 400: a hook's fields are wrong.
    InvalidHook,
    /// 400: a hook's `auth` is wrong.
    InvalidAuth,
    /// 400: an action is wrong.
    InvalidAction,
    /// 400: an endpoint's fields are wrong.
    InvalidEndpoint,
    /// 400: a URL is malformed or a refused target.
    InvalidUrl,
    /// 400: a secret is malformed.
    InvalidSecret,
    /// 400: a signed URL's context is wrong.
    InvalidContext,
    /// 400: an expiry is out of range.
    InvalidExpiry,
    /// 400: a rotation's grace is out of range.
    InvalidGrace,
    /// 400: a `since` time is malformed.
    InvalidSince,
    /// 400: a list cursor is malformed.
    InvalidCursor,
    /// 400: a list `limit` is not a whole number.
    InvalidLimit,
    /// 400: a stored variable's name or `{"value"}` body is wrong.
    InvalidVariable,
}

impl ErrorCode {
    /// The wire text: `snake_case`, as in `"not_found"`.
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<&str> for ErrorCode {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

/// An answer in the contract's error shape:
/// `{"error": {"code": "<snake_case>", "message": "<text>"}}`, with `status`
/// and any `headers` (`Allow`, `Retry-After`, CORS).
#[derive(Debug)]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// The body's `error.code`.
    pub code: ErrorCode,
    /// The body's `error.message`: text a person can act on, never a secret.
    pub message: String,
    /// Headers put on the answer.
    pub headers: Vec<(HeaderName, HeaderValue)>,
}

impl ApiError {
    /// An answer with `status`, `code` and `message`, no headers.
    pub fn new(status: StatusCode, code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            headers: Vec::new(),
        }
    }

    /// 400 with `code`.
    pub fn bad_request(code: ErrorCode, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    /// 401 `unauthorized`.
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, ErrorCode::Unauthorized, message)
    }

    /// 403 `forbidden`.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, ErrorCode::Forbidden, message)
    }

    /// 404 `not_found`.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, ErrorCode::NotFound, message)
    }

    /// 409 `conflict`.
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, ErrorCode::Conflict, message)
    }

    /// 405 `method_not_allowed` with the `Allow` header listing `allowed`.
    pub fn method_not_allowed(allowed: &[&str]) -> Self {
        let allow = allowed.join(", ");
        let mut e = Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            ErrorCode::MethodNotAllowed,
            format!("this route takes {allow}"),
        );
        if let Ok(v) = HeaderValue::from_str(&allow) {
            e.headers.push((axum::http::header::ALLOW, v));
        }
        e
    }

    /// 413 `payload_too_large` for a body over a hook's `limit` in bytes.
    pub fn payload_too_large(limit: usize) -> Self {
        Self::too_large(format!(
            "the body is larger than this hook's limit of {limit} bytes"
        ))
    }

    /// 413 `payload_too_large` with `message`.
    pub fn too_large(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::PayloadTooLarge,
            message,
        )
    }

    /// 429 `rate_limited` with `Retry-After: retry_after_secs`.
    pub fn rate_limited(retry_after_secs: u64) -> Self {
        Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            ErrorCode::RateLimited,
            format!("too many calls; try again in {retry_after_secs} s"),
        )
        .with_header(
            axum::http::header::RETRY_AFTER,
            HeaderValue::from(retry_after_secs),
        )
    }

    /// 503 `unavailable`: the queue could not be written; nothing was
    /// accepted. Logs `cause`; answers `Retry-After` of
    /// [`UNAVAILABLE_RETRY_AFTER_SECS`].
    pub fn unavailable(cause: &dyn std::fmt::Display) -> Self {
        Self::unavailable_with(
            cause,
            "the call could not be queued and was not accepted; try again",
        )
    }

    /// 503 `unavailable` with `message` (with `Retry-After` of
    /// [`UNAVAILABLE_RETRY_AFTER_SECS`]); logs `cause`.
    pub fn unavailable_with(cause: &dyn std::fmt::Display, message: &str) -> Self {
        tracing::error!(error.message = %cause, "answering 503");
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::Unavailable,
            message,
        )
        .with_header(
            axum::http::header::RETRY_AFTER,
            HeaderValue::from(UNAVAILABLE_RETRY_AFTER_SECS),
        )
    }

    /// 500 `internal` that hides the cause from the caller and logs the whole chain.
    pub fn internal(cause: anyhow::Error) -> Self {
        tracing::error!(error.message = %cause, error.cause_chain = ?cause, "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            ErrorCode::Internal,
            "something went wrong on our side",
        )
    }

    /// The same answer with one more header.
    pub fn with_header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.headers.push((name, value));
        self
    }
}

/// `NotFound` → 404 `not_found`, `Conflict` → 409 `conflict`, `Unavailable`
/// → 503 `unavailable` (with `Retry-After`), `Unexpected` → 500 `internal`.
impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => Self::not_found("not found"),
            StoreError::Conflict => Self::conflict("it already exists"),
            StoreError::Unavailable(cause) => Self::unavailable_with(
                &cause,
                "the store could not be reached and nothing was changed; try again",
            ),
            StoreError::Unexpected(e) => Self::internal(e),
        }
    }
}

/// `TooLarge` → 413 `payload_too_large`; any other queue error → 503
/// `unavailable` (with `Retry-After`): nothing was queued.
impl From<QueueError> for ApiError {
    fn from(e: QueueError) -> Self {
        match e {
            QueueError::TooLarge { .. } => Self::too_large(e.to_string()),
            other => Self::unavailable(&other),
        }
    }
}

/// An id from a path that does not parse names nothing: 404 `not_found`,
/// "no such bot" (hook, endpoint, delivery, …).
impl From<InvalidId> for ApiError {
    fn from(e: InvalidId) -> Self {
        Self::not_found(format!("no such {}", e.kind))
    }
}

/// 400 `invalid_event` with the error's text (it names the text and the rule).
impl From<InvalidEvent> for ApiError {
    fn from(e: InvalidEvent) -> Self {
        Self::bad_request(ErrorCode::InvalidEvent, e.to_string())
    }
}

/// 400 `invalid_id`: "the idempotency id is empty" or "… is longer than
/// 256 characters".
impl From<InvalidIdempotencyKey> for ApiError {
    fn from(e: InvalidIdempotencyKey) -> Self {
        Self::bad_request(ErrorCode::InvalidId, e.to_string())
    }
}

/// 401 `unauthorized` with the error's text (it never repeats a signature).
impl From<SignatureError> for ApiError {
    fn from(e: SignatureError) -> Self {
        Self::unauthorized(e.to_string())
    }
}

/// 401 `unauthorized` with the error's text (it never repeats the token).
impl From<TelegramTokenError> for ApiError {
    fn from(e: TelegramTokenError) -> Self {
        Self::unauthorized(e.to_string())
    }
}

/// 401 `unauthorized` with the error's own text, one message per error
/// (it never repeats `ctx` or `sig`).
impl From<SignedUrlError> for ApiError {
    fn from(e: SignedUrlError) -> Self {
        Self::unauthorized(e.to_string())
    }
}

/// 401 `unauthorized` with the error's own text (it never repeats the token).
impl From<PortalTokenError> for ApiError {
    fn from(e: PortalTokenError) -> Self {
        Self::unauthorized(e.to_string())
    }
}

/// A stored signed-URL key that does not decode is our fault: 500
/// `internal` (the cause is logged, never the key).
impl From<BadUrlKey> for ApiError {
    fn from(e: BadUrlKey) -> Self {
        Self::internal(anyhow::Error::new(e))
    }
}

/// Stored generic signature settings that do not parse are our fault: 500
/// `internal` naming the setting in the log.
impl From<GenericError> for ApiError {
    fn from(e: GenericError) -> Self {
        Self::internal(anyhow::anyhow!(
            "stored generic signature settings: `{}` {e}",
            e.field()
        ))
    }
}

/// An error about one record: its kind (`"bot"`, `"run"`) and the id it
/// was asked by. Made by [`About::about`]; its conversion into [`ApiError`]
/// names the record where the bare error cannot.
#[derive(Debug)]
pub struct AboutRecord<E> {
    kind: &'static str,
    id: String,
    error: E,
}

/// Names the record a result is about, so that `?` answers in its terms.
pub trait About<T, E> {
    /// The same result, its error tagged with the record's `kind` and `id`
    /// (the id is formatted only when there is an error).
    fn about(self, kind: &'static str, id: &dyn std::fmt::Display) -> Result<T, AboutRecord<E>>;
}

impl<T, E> About<T, E> for Result<T, E> {
    fn about(self, kind: &'static str, id: &dyn std::fmt::Display) -> Result<T, AboutRecord<E>> {
        self.map_err(|error| AboutRecord {
            kind,
            id: id.to_string(),
            error,
        })
    }
}

/// `NotFound` → 404 "no such {kind}", `Conflict` → 409 "a {kind} with id
/// `{id}` exists"; any other store error as [`StoreError`]'s own conversion.
impl From<AboutRecord<StoreError>> for ApiError {
    fn from(e: AboutRecord<StoreError>) -> Self {
        match e.error {
            StoreError::NotFound => Self::not_found(format!("no such {}", e.kind)),
            StoreError::Conflict => {
                Self::conflict(format!("a {} with id `{}` exists", e.kind, e.id))
            }
            other => other.into(),
        }
    }
}

/// An id that does not parse names no record of the kind: 404 "no such
/// {kind}" (the kind of the record asked for, such as a run asked for by
/// its call's id).
impl From<AboutRecord<InvalidId>> for ApiError {
    fn from(e: AboutRecord<InvalidId>) -> Self {
        Self::not_found(format!("no such {}", e.kind))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({"error": {"code": self.code.as_str(), "message": self.message}});
        let mut response = (self.status, axum::Json(body)).into_response();
        for (name, value) in self.headers {
            response.headers_mut().insert(name, value);
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use strum::IntoEnumIterator as _;

    use super::*;

    #[test]
    fn codes_are_the_contracts_snake_case_text() {
        assert_eq!(ErrorCode::NotFound.as_str(), "not_found");
        assert_eq!(ErrorCode::PayloadTooLarge.as_str(), "payload_too_large");
        assert_eq!(ErrorCode::InvalidJson.as_str(), "invalid_json");
        for code in ErrorCode::iter() {
            let text = code.as_str();
            assert!(
                text.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
                "{text}"
            );
        }
    }

    #[test]
    fn a_store_that_cannot_answer_is_503_with_retry_after_and_a_broken_one_500() {
        let e = ApiError::from(StoreError::Unavailable(anyhow::anyhow!("timed out")));
        assert_eq!(e.status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(e.code, "unavailable");
        assert!(e
            .headers
            .iter()
            .any(|(n, v)| n == axum::http::header::RETRY_AFTER && v == "5"));
        let e = ApiError::from(StoreError::Unexpected(anyhow::anyhow!("bad record")));
        assert_eq!(e.status, StatusCode::INTERNAL_SERVER_ERROR);
    }

    #[test]
    fn queue_errors_are_413_when_too_large_and_503_otherwise() {
        let e = ApiError::from(QueueError::TooLarge { size: 2, max: 1 });
        assert_eq!(
            (e.status, e.code.as_str()),
            (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large")
        );
        let e = ApiError::from(QueueError::Unavailable(anyhow::anyhow!("no route")));
        assert_eq!(
            (e.status, e.code.as_str()),
            (StatusCode::SERVICE_UNAVAILABLE, "unavailable")
        );
    }

    #[test]
    fn an_error_about_a_record_names_its_kind_and_id() {
        let cases: [(Result<(), StoreError>, StatusCode, &str); 3] = [
            (
                Err(StoreError::NotFound),
                StatusCode::NOT_FOUND,
                "no such bot",
            ),
            (
                Err(StoreError::Conflict),
                StatusCode::CONFLICT,
                "a bot with id `b1` exists",
            ),
            (
                Err(StoreError::Unexpected(anyhow::anyhow!("bad record"))),
                StatusCode::INTERNAL_SERVER_ERROR,
                "something went wrong on our side",
            ),
        ];
        for (result, status, message) in cases {
            let e = ApiError::from(result.about("bot", &"b1").unwrap_err());
            assert_eq!((e.status, e.message.as_str()), (status, message));
        }
        let e = ApiError::from(
            hooklane_domain::CallId::parse("nope")
                .about("run", &"nope")
                .unwrap_err(),
        );
        assert_eq!(
            (e.status, e.message.as_str()),
            (StatusCode::NOT_FOUND, "no such run")
        );
    }

    #[test]
    fn a_portal_token_error_is_401_with_its_text() {
        let e = ApiError::from(PortalTokenError::Expired);
        assert_eq!(
            (e.status, e.message),
            (
                StatusCode::UNAUTHORIZED,
                PortalTokenError::Expired.to_string()
            )
        );
    }

    #[test]
    fn an_id_that_does_not_parse_names_nothing() {
        let e = ApiError::from(hooklane_domain::HookId::parse("nope").unwrap_err());
        assert_eq!(
            (e.status, e.message.as_str()),
            (StatusCode::NOT_FOUND, "no such hook")
        );
    }
}

//! The body that mints a signed URL for a `signed_url` hook.

use hooklane_web::{ApiError, ErrorCode};
use serde_json::Value;

use super::fields::{body_object, invalid, Fields};

/// The longest a signed URL may stay valid: 10 years.
pub const MAX_URL_LIFETIME_SECONDS: u64 = 10 * 365 * 86_400;
/// The most a signed URL's context may hold, as JSON.
pub const MAX_CONTEXT_BYTES: usize = 2048;

use hooklane_domain::envelope::{json_depth, MAX_JSON_DEPTH as MAX_CONTEXT_DEPTH};

/// What minting a signed URL takes: `{"context": {…}, "expires_in": 3600}`.
/// Answers the `context` object (default `{}`) and `expires_in` in seconds,
/// if given.
///
/// # Errors
/// 400 `invalid_json` for a body that is not an object or has other
/// fields; `invalid_context` for a context that is not an object, nests
/// more than 100 levels or is over [`MAX_CONTEXT_BYTES`] as JSON;
/// `invalid_expiry` for an `expires_in` outside 1 to
/// [`MAX_URL_LIFETIME_SECONDS`].
pub fn check_signed_url_request(value: Value) -> Result<(Value, Option<u64>), ApiError> {
    let obj = body_object(value)?;
    Fields::new(&obj, "", ErrorCode::InvalidJson)
        .only(&["context", "expires_in"], "a signed URL request")?;
    let context = Fields::new(&obj, "", ErrorCode::InvalidContext)
        .object("context")?
        .cloned()
        .unwrap_or_default();
    if json_depth(&Value::Object(context.clone())) > MAX_CONTEXT_DEPTH {
        return Err(invalid(
            ErrorCode::InvalidContext,
            format!("`context` nests more than {MAX_CONTEXT_DEPTH} levels deep"),
        ));
    }
    let size = Value::Object(context.clone()).to_string().len();
    if size > MAX_CONTEXT_BYTES {
        return Err(invalid(
            ErrorCode::InvalidContext,
            format!("`context` is {size} bytes as JSON; at most {MAX_CONTEXT_BYTES}"),
        ));
    }
    let expiry = Fields::new(&obj, "", ErrorCode::InvalidExpiry);
    let expires_in = expiry.seconds_field("expires_in", 1..=MAX_URL_LIFETIME_SECONDS)?;
    Ok((Value::Object(context), expires_in))
}

//! The body that mints a consumer portal link.

use hooklane_web::{ApiError, ErrorCode};
use serde_json::Value;

use super::fields::{body_object, Fields};

/// How long a portal link stays valid when `expires_in` is left out: 1 hour.
pub const DEFAULT_PORTAL_SECONDS: u64 = 3_600;
/// The longest a portal link may stay valid: 30 days.
pub const MAX_PORTAL_SECONDS: u64 = 30 * 86_400;

/// What minting a portal link takes: `{"expires_in": 3600}` or nothing.
/// Answers `expires_in` in seconds ([`DEFAULT_PORTAL_SECONDS`] when left out).
///
/// # Errors
/// 400 `invalid_json` for a body that is not an object or has other fields;
/// `invalid_expiry` for an `expires_in` outside 60 to [`MAX_PORTAL_SECONDS`].
pub fn check_portal_request(value: Value) -> Result<u64, ApiError> {
    let obj = match value {
        Value::Null => Default::default(),
        other => body_object(other)?,
    };
    Fields::new(&obj, "", ErrorCode::InvalidJson).only(&["expires_in"], "a portal link request")?;
    let expires_in = Fields::new(&obj, "", ErrorCode::InvalidExpiry)
        .seconds_field("expires_in", 60..=MAX_PORTAL_SECONDS)?;
    Ok(expires_in.unwrap_or(DEFAULT_PORTAL_SECONDS))
}

//! Why a call's body was refused, and the one place each reason becomes
//! its HTTP answer.

use axum::http::StatusCode;
use hooklane_domain::envelope::MAX_JSON_DEPTH;
use hooklane_web::{ApiError, ErrorCode};

/// A body refused as sent, as coded, or as read. The texts are the
/// answers' messages; none repeats the body beyond a JSON parser's position.
#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    /// Over the hook's limit of this many bytes as sent: 413.
    #[error("the body is larger than this hook's limit of {0} bytes")]
    TooLarge(usize),
    /// The connection ended or failed before the body's end: 400.
    #[error("the body could not be read to its end")]
    Unreadable,
    /// A `Content-Encoding` Hooklane does not undo (the text says which): 415.
    #[error("{0}")]
    UnsupportedCoding(String),
    /// Bytes that are not what their coding (`gzip`, `deflate`) says: 400.
    #[error("the body is not valid {coding} data as its Content-Encoding says ({source})")]
    Corrupt {
        /// The coding's name.
        coding: &'static str,
        /// What the decoder found.
        source: std::io::Error,
    },
    /// Over the hook's `limit` in bytes once `coding` is undone: 413.
    #[error("the body, once its {coding} coding is undone, is larger than this hook's limit of {limit} bytes")]
    TooLargeDecoded {
        /// The coding's name.
        coding: &'static str,
        /// The hook's limit, in bytes.
        limit: usize,
    },
    /// Not UTF-8 text: 400.
    #[error("the body is not UTF-8 text (invalid byte at offset {})", .0.valid_up_to())]
    NotUtf8(#[from] std::str::Utf8Error),
    /// JSON that does not parse: 400 `invalid_json`.
    #[error("the body is not valid JSON: {0}")]
    InvalidJson(#[from] serde_json::Error),
    /// JSON nested deeper than [`MAX_JSON_DEPTH`]: 400 `invalid_json`.
    #[error("the body nests deeper than {MAX_JSON_DEPTH} levels of arrays and objects")]
    TooDeep,
    /// A malformed `variables` array (the text names the entry and key): 400.
    #[error("{0}")]
    InvalidVariables(String),
}

/// 413 `payload_too_large`, 415 `unsupported_media_type`, or 400
/// `invalid_body`/`invalid_json`/`invalid_variables`, with the error's text.
impl From<BodyError> for ApiError {
    fn from(e: BodyError) -> Self {
        let (status, code) = match &e {
            BodyError::TooLarge(_) | BodyError::TooLargeDecoded { .. } => {
                (StatusCode::PAYLOAD_TOO_LARGE, ErrorCode::PayloadTooLarge)
            }
            BodyError::UnsupportedCoding(_) => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                ErrorCode::UnsupportedMediaType,
            ),
            BodyError::Unreadable | BodyError::Corrupt { .. } | BodyError::NotUtf8(_) => {
                (StatusCode::BAD_REQUEST, ErrorCode::InvalidBody)
            }
            BodyError::InvalidJson(_) | BodyError::TooDeep => {
                (StatusCode::BAD_REQUEST, ErrorCode::InvalidJson)
            }
            BodyError::InvalidVariables(_) => {
                (StatusCode::BAD_REQUEST, ErrorCode::InvalidVariables)
            }
        };
        ApiError::new(status, code, e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_reason_answers_its_status_code_and_text() {
        let utf8 = std::str::from_utf8(&[b'a', b'b', 0xff][..]).unwrap_err();
        let cases = [
            (
                BodyError::TooLarge(10),
                413,
                "payload_too_large",
                "the body is larger than this hook's limit of 10 bytes",
            ),
            (
                BodyError::Unreadable,
                400,
                "invalid_body",
                "the body could not be read to its end",
            ),
            (
                BodyError::UnsupportedCoding("br".into()),
                415,
                "unsupported_media_type",
                "br",
            ),
            (
                BodyError::NotUtf8(utf8),
                400,
                "invalid_body",
                "the body is not UTF-8 text (invalid byte at offset 2)",
            ),
            (
                BodyError::TooDeep,
                400,
                "invalid_json",
                "the body nests deeper than 100 levels of arrays and objects",
            ),
            (
                BodyError::InvalidVariables("variables[0] has no `name`".into()),
                400,
                "invalid_variables",
                "variables[0] has no `name`",
            ),
        ];
        for (e, status, code, message) in cases {
            let e = ApiError::from(e);
            assert_eq!(
                (e.status.as_u16(), e.code.as_str(), e.message.as_str()),
                (status, code, message)
            );
        }
    }
}

//! What an AWS SDK error means to the ports: a backend that could not
//! answer now (`Unavailable`), or anything else (`Unexpected`).

use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};

/// Error codes DynamoDB and SQS answer when they cannot serve a call now
/// (throttling, their own failures); the same call may succeed later.
const CANNOT_ANSWER_NOW: &[&str] = &[
    "ThrottlingException",
    "ProvisionedThroughputExceededException",
    "RequestLimitExceeded",
    "InternalServerError",
    "InternalFailure",
    "ServiceUnavailable",
    "ServiceUnavailableException",
    "RequestThrottled",
];

/// True when `err` says the service could not be reached (a connection or
/// I/O failure, a timeout) or could not answer now (a code in
/// [`CANNOT_ANSWER_NOW`]). Missing credentials, a missing table or queue,
/// and refused requests are not this.
pub(crate) fn cannot_answer<E: ProvideErrorMetadata, R>(err: &SdkError<E, R>) -> bool {
    match err {
        SdkError::TimeoutError(_) => true,
        SdkError::DispatchFailure(failure) => failure.is_io() || failure.is_timeout(),
        SdkError::ServiceError(_) => err.code().is_some_and(|c| CANNOT_ANSWER_NOW.contains(&c)),
        _ => false,
    }
}

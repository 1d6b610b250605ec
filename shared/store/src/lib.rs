//! Hooklane's storage and queue: the `Store` and `Queue` ports and their
//! adapters, `sqlite` (embedded, one file) and `dynamodb` + `sqs` (AWS).
//!
//! `keys` is the storage key scheme both store adapters share; with the
//! `conformance` feature, `conformance` is the behaviour suite every adapter's
//! tests run.

mod aws_errors;
#[cfg(feature = "conformance")]
pub mod conformance;
pub mod dynamodb;
mod keys;
pub mod ports;
pub mod sqlite;
pub mod sqs;

pub use ports::{
    ClaimScope, Page, Paged, Queue, QueueError, RateWindow, Received, Store, StoreError,
};

/// The AWS SDK configuration from the standard environment
/// (`AWS_ENDPOINT_URL` points it at a local emulator such as moto).
pub async fn aws_config() -> aws_config::SdkConfig {
    aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await
}

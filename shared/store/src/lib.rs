//! Hooklane's storage and queue: the `Store` and `Queue` ports and their
//! adapters, `sqlite` (embedded, one file) and `dynamodb` + `sqs` (AWS).
//!
//! `aws` builds the AWS SDK configuration (with bounded waits) both AWS
//! adapters use, `aws_errors` tells an SDK failure's kind. `keys` is the
//! storage key scheme both store adapters share; with the `conformance`
//! feature, `conformance` is the behaviour suite every adapter's tests run.

pub mod aws;
mod aws_errors;
#[cfg(feature = "conformance")]
pub mod conformance;
pub mod dynamodb;
mod keys;
pub mod ports;
pub mod sqlite;
pub mod sqs;

pub use aws::{aws_config, aws_config_with, AwsTimeouts};
pub use ports::{
    ClaimScope, Page, Paged, Queue, QueueError, RateWindow, Received, SendCount, SendTarget, Store,
    StoreError,
};

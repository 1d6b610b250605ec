//! The dispatcher's integration tests, one binary: `lambda` drives it the
//! way Lambda does (SQS batch events); `long_delay` follows a delivery due
//! past the queue's longest delay on SQLite and on DynamoDB + SQS (moto).
//! `resume`: runs cut short resume from their checkpoint; `permanent`:
//! final failures are not retried, and outside calls carry idempotency
//! keys. `faults`: panics, poison messages, the dead-letter queue and
//! quick redelivery. `delivery_logs`: a failed delivery is a WARN line with
//! its HTTP status first. `counting` and `support` are the helpers.

mod batching;
mod counting;
mod delivery_logs;
mod faults;
mod lambda;
mod long_delay;
mod permanent;
mod resume;
mod support;

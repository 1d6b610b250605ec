//! The dispatcher's integration tests, one binary: `lambda` drives it the
//! way Lambda does (SQS batch events); `long_delay` follows a delivery due
//! past the queue's longest delay on SQLite and on DynamoDB + SQS (moto).

mod lambda;
mod long_delay;

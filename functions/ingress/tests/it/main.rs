//! The ingress's integration tests, one binary. The router runs as Lambda
//! serves it (`hooklane_web::lambda::app`) on a real SQLite store and queue
//! in a temp dir; bots and hooks are written straight to the store.
//! Signatures are computed here, independently of the code under test, with
//! each provider's documented scheme.
//!
//! - `support`: the app, its store and clock, the request builder;
//! - `signatures`: each provider's signing, and the calls that carry it;
//! - `matrix`: every bad call and every auth scheme's good call;
//! - `bodies`: content types, byte order marks, content codings, numbers;
//! - `access`, `authenticate`, `rate_limit`, `intake`, `answer`: one
//!   behaviour each, named like the ingress's own files;
//! - `platforms`: bot platforms as callers (Twilio, Discord interactions,
//!   Telegram updates);
//! - `lambda`: API Gateway events from `tests/fixtures`.

mod access;
mod answer;
mod authenticate;
mod bodies;
mod intake;
mod lambda;
mod matrix;
mod platforms;
mod rate_limit;
mod signatures;
mod support;

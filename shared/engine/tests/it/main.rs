//! The engine's integration tests, one binary: each module drives the
//! engine against a real SQLite store and the test kit's loopback sink.

mod actions;
mod chat;
mod masking;

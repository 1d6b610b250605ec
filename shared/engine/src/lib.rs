//! Hooklane's engine: the action runner (`actions`), what a delivery
//! carries and how it is signed and retried (`payload`, `signing`,
//! `retry`), the chat platforms' limits (`platforms`), the outbound HTTP
//! client with its SSRF guard, and the services every function shares.

pub mod actions;
pub mod context;
pub mod mask;
pub mod outbound;
pub mod payload;
pub mod platforms;
pub mod retry;
pub mod services;
pub mod signing;

pub use services::Services;

/// `user-agent` of every outbound call.
pub const USER_AGENT: &str = concat!("Hooklane-Webhook/", env!("CARGO_PKG_VERSION"));

/// How many publishes may chain (a hook publishing an event whose delivery
/// calls a hook that publishes again, …) before the chain is stopped.
pub const MAX_PUBLISH_DEPTH: u32 = 5;

/// The request header carrying the publish depth along deliveries, so a
/// delivery that lands on a Hooklane hook continues the count.
pub const DEPTH_HEADER: &str = "x-hooklane-depth";

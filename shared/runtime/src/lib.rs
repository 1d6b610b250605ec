//! What every Hooklane binary needs at start and at the edge: settings
//! from the environment (`config`), logging (`telemetry`), CloudWatch
//! metrics (`metrics`), the services the functions share (`Services`: the
//! store, the queue, the cached lookups of `cache`, the outbound client,
//! the settings, the clock) and the
//! outbound HTTP client with its SSRF guard (`outbound`).

pub mod cache;
pub mod config;
pub mod metrics;
pub mod outbound;
pub mod services;
pub mod telemetry;

pub use services::Services;

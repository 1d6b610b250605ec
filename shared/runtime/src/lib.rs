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

/// The memory allocator of Hooklane's binaries (mimalloc): each `main.rs`
/// installs it with `#[global_allocator]`. Under load a request allocates
/// and frees many small JSON values across threads, which glibc's malloc
/// serves from contended arenas; mimalloc's thread-local free lists cut the
/// allocator's share of the CPU (see docs/operations.md, Throughput).
pub type Allocator = mimalloc::MiMalloc;

/// The allocator value for `#[global_allocator] static ALLOC: Allocator = ALLOCATOR;`.
pub const ALLOCATOR: Allocator = mimalloc::MiMalloc;

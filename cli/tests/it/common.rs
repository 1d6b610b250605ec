//! What every module of the CLI's integration tests shares: the `hooklane`
//! binary under test and how long the tests wait.

use std::path::Path;
use std::time::Duration;

/// The `hooklane` binary cargo built for these tests.
pub fn bin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_hooklane"))
}

/// How long a positive check (something arrives, a run finishes) waits.
pub const WAIT: Duration = Duration::from_secs(20);

/// How long a negative check (nothing more happens) gives stray requests to
/// show up.
pub const SETTLE: Duration = Duration::from_millis(1500);

//! Logging: JSON lines in Lambda (CloudWatch), readable lines on a terminal.

use tracing_subscriber::{fmt, EnvFilter};

/// Installs the global subscriber once; later calls do nothing.
/// The filter comes from `HOOKLANE_LOG` (default `info`).
pub fn init(json: bool) {
    let filter = EnvFilter::try_from_env("HOOKLANE_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = fmt().with_env_filter(filter).with_target(false);
    let result = if json {
        builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .try_init()
    } else {
        builder.try_init()
    };
    drop(result);
}

/// True when running inside AWS Lambda.
pub fn in_lambda() -> bool {
    std::env::var_os("AWS_LAMBDA_FUNCTION_NAME").is_some()
}

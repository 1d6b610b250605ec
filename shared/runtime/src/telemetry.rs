//! Logging: JSON lines in Lambda (CloudWatch), readable lines on stderr
//! elsewhere (coloured only on a terminal).

use std::io::IsTerminal as _;

use tracing_subscriber::filter::Directive;
use tracing_subscriber::{fmt, EnvFilter};

/// Libraries whose `debug` and `trace` lines can print request and response
/// bodies, headers or signing material (DynamoDB items with hook secrets,
/// SQS bodies, `Authorization` headers, URLs with chat tokens). They are
/// held at `info` whatever `HOOKLANE_LOG` asks for, so no log level can
/// reveal a secret through them. Targets match by prefix.
const CAPPED_TARGETS: &[&str] = &[
    "aws_smithy",
    "aws_sdk",
    "aws_sigv4",
    "aws_config",
    "aws_credential_types",
    "aws_runtime",
    "hyper",
    "h2",
    "reqwest",
    "rustls",
    "tower",
    "lambda_runtime",
    "lambda_http",
];

/// The filter: `HOOKLANE_LOG` (default `info`) with [`CAPPED_TARGETS`] at
/// `info` at most.
pub fn filter() -> EnvFilter {
    capped(EnvFilter::try_from_env("HOOKLANE_LOG").unwrap_or_else(|_| EnvFilter::new("info")))
}

/// `filter` with [`CAPPED_TARGETS`] held at `info` at most.
fn capped(mut filter: EnvFilter) -> EnvFilter {
    for target in CAPPED_TARGETS {
        if let Ok(directive) = format!("{target}=info").parse::<Directive>() {
            filter = filter.add_directive(directive);
        }
    }
    filter
}

/// Installs the global subscriber once; later calls do nothing.
/// The filter is [`filter`]: `HOOKLANE_LOG` (default `info`), libraries
/// that could print secrets held at `info`. JSON lines go to stdout (Lambda
/// sends them to CloudWatch); readable lines go to stderr, with colours only
/// when stderr is a terminal.
pub fn init(json: bool) {
    // A log line that cannot be written (a full disk under a redirected
    // stderr) is dropped: tracing-subscriber's own report of it goes through
    // `eprintln!`, which would panic the request being served.
    let builder = fmt()
        .with_env_filter(filter())
        .with_target(false)
        .log_internal_errors(false);
    let result = if json {
        builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .try_init()
    } else {
        builder
            .with_writer(std::io::stderr)
            .with_ansi(std::io::stderr().is_terminal())
            .try_init()
    };
    drop(result);
}

/// True when running inside AWS Lambda (`AWS_LAMBDA_FUNCTION_NAME` is set).
pub fn in_lambda() -> bool {
    std::env::var_os("AWS_LAMBDA_FUNCTION_NAME").is_some()
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Buffer {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn at_trace_the_sdk_and_http_stack_print_nothing_below_info_and_hooklane_prints_all() {
        let buffer = Buffer::default();
        let writer = buffer.clone();
        let subscriber = fmt()
            .with_env_filter(capped(EnvFilter::new("trace")))
            .with_writer(move || writer.clone())
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            tracing::trace!(target: "aws_smithy_runtime::client::orchestrator", "sdk body whsec_1");
            tracing::debug!(target: "aws_sigv4::http_request", "canonical request sig_2");
            tracing::trace!(target: "hyper::proto::h1", "header bytes tok_3");
            tracing::trace!(target: "reqwest::connect", "url tok_4");
            tracing::debug!(target: "lambda_runtime::layers", "event tok_5");
            tracing::info!(target: "aws_smithy_runtime::client", "sdk info line");
            tracing::trace!(target: "hooklane_engine::actions", "our trace line");
        });
        let text = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
        for secret in ["whsec_1", "sig_2", "tok_3", "tok_4", "tok_5"] {
            assert!(!text.contains(secret), "{secret} in {text}");
        }
        assert!(text.contains("sdk info line"), "{text}");
        assert!(text.contains("our trace line"), "{text}");
    }
}

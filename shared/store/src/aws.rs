//! The AWS SDK configuration every DynamoDB and SQS client is built from,
//! with bounded waits: a stalled service fails a call (`Unavailable`, see
//! `aws_errors.rs`) within a few seconds instead of hanging it.

use std::time::Duration;

use anyhow::Context as _;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;

/// The environment variable that sets [`AwsTimeouts::operation`], in
/// milliseconds.
pub const TIMEOUT_ENV: &str = "HOOKLANE_AWS_TIMEOUT_MS";

/// The default longest wait for one AWS call, retries included.
pub const DEFAULT_OPERATION_TIMEOUT: Duration = Duration::from_secs(4);

/// How long one AWS call may take: a stalled DynamoDB or SQS makes the call
/// fail with `Unavailable` after at most `operation`, never hang.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AwsTimeouts {
    /// Longest wait to open a connection.
    pub connect: Duration,
    /// Longest wait for one attempt (one HTTP request and its answer).
    pub attempt: Duration,
    /// Longest wait for the whole call, retries and back-off included.
    pub operation: Duration,
    /// Attempts per call, the first included (standard retry mode).
    pub max_attempts: u32,
}

impl AwsTimeouts {
    /// Bounds sized from the whole call's: attempts of half of it (so a
    /// stalled attempt leaves time for one retry), connections of at most
    /// 1 s, 3 attempts at most.
    pub fn for_operation(operation: Duration) -> Self {
        let attempt = operation / 2;
        Self {
            connect: attempt.min(Duration::from_secs(1)),
            attempt,
            operation,
            max_attempts: 3,
        }
    }

    /// From `HOOKLANE_AWS_TIMEOUT_MS` (the whole call's bound, in
    /// milliseconds, at least 100), else [`DEFAULT_OPERATION_TIMEOUT`]: by
    /// default 1 s to connect, 2 s per attempt, 4 s in all. Errors name the
    /// variable when its value is not such a number.
    pub fn from_env() -> anyhow::Result<Self> {
        let operation = match std::env::var(TIMEOUT_ENV)
            .ok()
            .filter(|v| !v.trim().is_empty())
        {
            None => DEFAULT_OPERATION_TIMEOUT,
            Some(v) => {
                let ms: u64 = v.trim().parse().ok().filter(|ms| *ms >= 100).with_context(|| {
                    format!("{TIMEOUT_ENV}={v}: expected a whole number of milliseconds, at least 100")
                })?;
                Duration::from_millis(ms)
            }
        };
        Ok(Self::for_operation(operation))
    }

    /// The SDK's form of these bounds.
    pub fn sdk(&self) -> TimeoutConfig {
        TimeoutConfig::builder()
            .connect_timeout(self.connect)
            .operation_attempt_timeout(self.attempt)
            .operation_timeout(self.operation)
            .build()
    }
}

impl Default for AwsTimeouts {
    fn default() -> Self {
        Self::for_operation(DEFAULT_OPERATION_TIMEOUT)
    }
}

/// The AWS SDK configuration from the standard environment
/// (`AWS_ENDPOINT_URL` points it at a local emulator such as moto), with
/// the timeouts of [`AwsTimeouts::from_env`] and standard retries. Errors
/// when `HOOKLANE_AWS_TIMEOUT_MS` is not valid.
pub async fn aws_config() -> anyhow::Result<aws_config::SdkConfig> {
    Ok(aws_config_with(AwsTimeouts::from_env()?).await)
}

/// As [`aws_config`], with these timeouts.
pub async fn aws_config_with(timeouts: AwsTimeouts) -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .timeout_config(timeouts.sdk())
        .retry_config(RetryConfig::standard().with_max_attempts(timeouts.max_attempts))
        .load()
        .await
}

/// `base` with `extra` added to its attempt and operation bounds (for a
/// long poll, which may wait that long by design).
pub(crate) fn extended(base: &TimeoutConfig, extra: Duration) -> TimeoutConfig {
    let mut out = TimeoutConfig::builder();
    if let Some(connect) = base.connect_timeout() {
        out = out.connect_timeout(connect);
    }
    if let Some(attempt) = base.operation_attempt_timeout() {
        out = out.operation_attempt_timeout(attempt + extra);
    }
    if let Some(operation) = base.operation_timeout() {
        out = out.operation_timeout(operation + extra);
    }
    out.build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeouts_are_sized_from_the_whole_call() {
        let t = AwsTimeouts::default();
        assert_eq!(t.connect, Duration::from_secs(1));
        assert_eq!(t.attempt, Duration::from_secs(2));
        assert_eq!(t.operation, Duration::from_secs(4));
        assert_eq!(t.max_attempts, 3);
        let t = AwsTimeouts::for_operation(Duration::from_millis(1000));
        assert_eq!(t.connect, Duration::from_millis(500));
        assert_eq!(t.attempt, Duration::from_millis(500));
    }
}

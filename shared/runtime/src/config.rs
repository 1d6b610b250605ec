//! Installation settings, read from `HOOKLANE_*` environment variables and
//! checked at start: a missing or bad variable names itself in the error.

use std::time::Duration;

/// Where a setting came from and why it is wrong.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A required variable is unset or empty; holds its name.
    #[error("{0} is not set")]
    Missing(&'static str),
    /// A variable is set to something it cannot be.
    #[error("{name} is `{value}`: {reason}")]
    Invalid {
        /// The variable's name (`HOOKLANE_…`).
        name: &'static str,
        /// Its value as set.
        value: String,
        /// What it should have been.
        reason: &'static str,
    },
}

/// Settings every function shares.
#[derive(Debug, Clone)]
pub struct Settings {
    /// `HOOKLANE_ALLOW_PRIVATE_TARGETS`: let outbound calls reach private,
    /// loopback and link-local addresses and plain `http`. Default false.
    pub allow_private_targets: bool,
    /// `HOOKLANE_TELEGRAM_API_BASE`: the Bot API server. Default `https://api.telegram.org`.
    pub telegram_api_base: String,
    /// `HOOKLANE_DISCORD_API_BASE`: Discord's HTTP API, where interaction
    /// follow-ups go. Default `https://discord.com/api/v10`.
    pub discord_api_base: String,
    /// `HOOKLANE_PUBLIC_URL`: the base URL callers reach hooks at (scheme and
    /// host, no trailing `/`), when a proxy or custom domain stands between
    /// them and the functions. `None` takes each request's own URL (API
    /// Gateway's, or `Host` with `X-Forwarded-Proto`). Signatures over the
    /// URL (Twilio's) are checked against it.
    pub public_url: Option<String>,
    /// `HOOKLANE_RUN_LOG_DAYS`: how long runs are kept. Default 30.
    pub run_log_ttl: Duration,
    /// `HOOKLANE_DELIVERY_LOG_DAYS`: how long delivery attempts are kept. Default 30.
    pub delivery_log_ttl: Duration,
    /// `HOOKLANE_DISABLE_FAILING_ENDPOINT_AFTER_HOURS`: an endpoint failing
    /// for this long is disabled. Default 120 (5 days).
    pub disable_failing_after: Duration,
    /// `HOOKLANE_OUTBOUND_TIMEOUT_SECONDS`: per outbound call. Default 15.
    pub outbound_timeout: Duration,
    /// `HOOKLANE_RUN_LOG`: which runs get a row in the run log. Default all.
    pub run_log: RunLog,
}

/// `HOOKLANE_RUN_LOG`: which finished runs are written to the run log.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum RunLog {
    /// `all`: every run.
    #[default]
    All,
    /// `failures`: only runs that did not succeed (`failed`, `retrying`);
    /// a succeeded run is written only when it had written a checkpoint
    /// (which its final row then replaces).
    Failures,
}

impl RunLog {
    fn from_env() -> Result<Option<Self>, ConfigError> {
        match env_opt("HOOKLANE_RUN_LOG") {
            None => Ok(None),
            Some(v) => match v.trim().to_ascii_lowercase().as_str() {
                "all" => Ok(Some(Self::All)),
                "failures" => Ok(Some(Self::Failures)),
                _ => Err(ConfigError::Invalid {
                    name: "HOOKLANE_RUN_LOG",
                    value: v,
                    reason: "expected all or failures",
                }),
            },
        }
    }
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            allow_private_targets: false,
            telegram_api_base: "https://api.telegram.org".to_owned(),
            discord_api_base: "https://discord.com/api/v10".to_owned(),
            public_url: None,
            run_log_ttl: Duration::from_secs(30 * 86_400),
            delivery_log_ttl: Duration::from_secs(30 * 86_400),
            disable_failing_after: Duration::from_secs(5 * 86_400),
            outbound_timeout: Duration::from_secs(15),
            run_log: RunLog::All,
        }
    }
}

impl Settings {
    /// Reads the settings; `allow_private_default` is the default of
    /// `HOOKLANE_ALLOW_PRIVATE_TARGETS` (true under `hooklane dev`).
    /// Unset or empty variables take the defaults of [`Settings::default`].
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] naming the first variable that is not a
    /// boolean or a whole number where one is expected.
    pub fn from_env(allow_private_default: bool) -> Result<Self, ConfigError> {
        let d = Self::default();
        Ok(Self {
            allow_private_targets: env_bool("HOOKLANE_ALLOW_PRIVATE_TARGETS")?
                .unwrap_or(allow_private_default),
            telegram_api_base: env_opt("HOOKLANE_TELEGRAM_API_BASE")
                .map(|s| s.trim_end_matches('/').to_owned())
                .unwrap_or(d.telegram_api_base),
            discord_api_base: env_opt("HOOKLANE_DISCORD_API_BASE")
                .map(|s| s.trim_end_matches('/').to_owned())
                .unwrap_or(d.discord_api_base),
            public_url: env_opt("HOOKLANE_PUBLIC_URL").map(|s| s.trim_end_matches('/').to_owned()),
            run_log_ttl: env_positive_u64("HOOKLANE_RUN_LOG_DAYS")?
                .map(|n| Duration::from_secs(n * 86_400))
                .unwrap_or(d.run_log_ttl),
            delivery_log_ttl: env_positive_u64("HOOKLANE_DELIVERY_LOG_DAYS")?
                .map(|n| Duration::from_secs(n * 86_400))
                .unwrap_or(d.delivery_log_ttl),
            disable_failing_after: env_u64("HOOKLANE_DISABLE_FAILING_ENDPOINT_AFTER_HOURS")?
                .map(|n| Duration::from_secs(n * 3_600))
                .unwrap_or(d.disable_failing_after),
            outbound_timeout: env_positive_u64("HOOKLANE_OUTBOUND_TIMEOUT_SECONDS")?
                .map(Duration::from_secs)
                .unwrap_or(d.outbound_timeout),
            run_log: RunLog::from_env()?.unwrap_or(d.run_log),
        })
    }
}

/// The AWS resources a function uses (`HOOKLANE_TABLE`, `HOOKLANE_QUEUE_URL`).
#[derive(Debug, Clone)]
pub struct AwsResources {
    /// The DynamoDB table's name.
    pub table: String,
    /// The SQS queue's URL.
    pub queue_url: String,
}

impl AwsResources {
    /// Reads both variables.
    ///
    /// # Errors
    /// [`ConfigError::Missing`] naming the first one unset or empty.
    pub fn from_env() -> Result<Self, ConfigError> {
        Ok(Self {
            table: env_opt("HOOKLANE_TABLE").ok_or(ConfigError::Missing("HOOKLANE_TABLE"))?,
            queue_url: env_opt("HOOKLANE_QUEUE_URL")
                .ok_or(ConfigError::Missing("HOOKLANE_QUEUE_URL"))?,
        })
    }
}

/// A variable's value, or `None` when unset or empty.
pub fn env_opt(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// A boolean variable: `1`/`true`/`yes`/`on` or `0`/`false`/`no`/`off`
/// (any case); `None` when unset or empty.
///
/// # Errors
/// [`ConfigError::Invalid`] for any other value.
pub fn env_bool(name: &'static str) -> Result<Option<bool>, ConfigError> {
    match env_opt(name) {
        None => Ok(None),
        Some(v) => match v.trim().to_ascii_lowercase().as_str() {
            "1" | "true" | "yes" | "on" => Ok(Some(true)),
            "0" | "false" | "no" | "off" => Ok(Some(false)),
            _ => Err(ConfigError::Invalid {
                name,
                value: v,
                reason: "expected true or false",
            }),
        },
    }
}

/// A whole-number variable (surrounding spaces ignored); `None` when unset
/// or empty.
///
/// # Errors
/// [`ConfigError::Invalid`] when it is not a whole number that fits in a `u64`.
pub fn env_u64(name: &'static str) -> Result<Option<u64>, ConfigError> {
    match env_opt(name) {
        None => Ok(None),
        Some(v) => v
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| ConfigError::Invalid {
                name,
                value: v,
                reason: "expected a whole number",
            }),
    }
}

/// [`env_u64`], and not 0.
///
/// # Errors
/// [`ConfigError::Invalid`] for anything but a whole number of at least 1.
pub fn env_positive_u64(name: &'static str) -> Result<Option<u64>, ConfigError> {
    match env_u64(name) {
        Ok(Some(0)) => Err(ConfigError::Invalid {
            name,
            value: "0".into(),
            reason: "expected a whole number of at least 1",
        }),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The SAM template passes optional parameters as empty variables.
    /// (The only test here that sets these variables: nothing else in this
    /// crate's tests reads them.)
    #[test]
    fn empty_urls_are_unset_and_set_ones_lose_their_trailing_slash() {
        let names = [
            "HOOKLANE_PUBLIC_URL",
            "HOOKLANE_DISCORD_API_BASE",
            "HOOKLANE_TELEGRAM_API_BASE",
        ];
        for (name, value) in names.iter().zip(["", "  ", ""]) {
            std::env::set_var(name, value);
        }
        let settings = Settings::from_env(false).unwrap();
        let defaults = Settings::default();
        assert_eq!(settings.public_url, None);
        assert_eq!(settings.discord_api_base, defaults.discord_api_base);
        assert_eq!(settings.telegram_api_base, defaults.telegram_api_base);

        std::env::set_var("HOOKLANE_PUBLIC_URL", "https://hooks.example.com/");
        std::env::set_var("HOOKLANE_DISCORD_API_BASE", "http://127.0.0.1:9/api/");
        let settings = Settings::from_env(false).unwrap();
        assert_eq!(
            settings.public_url.as_deref(),
            Some("https://hooks.example.com")
        );
        assert_eq!(settings.discord_api_base, "http://127.0.0.1:9/api");
        for name in names {
            std::env::remove_var(name);
        }
    }
}

//! The CLI's integration tests, one binary. Each module runs `hooklane` as a
//! real process (through the test kit's `Dev`, beside its loopback `Sink`):
//! `e2e` (a hook call to a sink, a kill -9, bad calls), `inbound` (each auth
//! scheme the way its callers use it), `outbound` (published events,
//! signatures, retries, endpoint disabling), `actions` (every action against
//! stand-ins for Discord, Slack, Telegram and a CRM), `api` (`hooklane api`),
//! `dev_server` (`hooklane dev` as a server others reach), `bodies` (bodies
//! as senders send them), `platforms` (a Discord slash command, a Telegram
//! bot and a Twilio SMS end to end; `hooklane telegram set-webhook`),
//! `throttling` (a burst to a rate-limited endpoint, a 429 shared by two
//! dispatchers, a Telegram chat's pace), `storage_faults` (crashes, a full
//! disk, a frozen or dead AWS backend), `log_secrets` (every auth scheme and action at trace,
//! the whole output scanned for every secret), `console` (the web console in
//! a headless browser), `isolation` (a hung host beside a fast one: each
//! host's share of calls in flight, the circuit breaker), `commands` (`tail`, `listen`, `trigger` and the
//! resource commands), `template` (the SAM dashboard and saved queries
//! against the code).
//! Tests that run on every backend are written once with `on_every_backend!`:
//! `…::embedded` always runs, `…::aws` needs moto (tests/run.sh starts one).
//! `common` holds the shared helpers.

mod actions;
mod api;
mod bodies;
mod commands;
mod common;
mod console;
mod dev_server;
mod e2e;
mod inbound;
mod isolation;
mod log_secrets;
mod outbound;
mod platforms;
mod storage_faults;
mod template;
mod throttling;

//! `hooklane bots|hooks|endpoints|deliveries|runs|variables …`: the common admin
//! calls as commands. Lists print a table (`--json`: the API's answer);
//! single records print as JSON.

use anyhow::Context as _;
use clap::Subcommand;
use serde_json::{json, Value};

use crate::api::{read_data, Admin};
use crate::output::{self, Column};

const BOT_COLUMNS: &[Column] = &[("ID", "/id"), ("NAME", "/name"), ("CREATED", "/created_at")];
const HOOK_COLUMNS: &[Column] = &[
    ("ID", "/id"),
    ("NAME", "/name"),
    ("ENABLED", "/enabled"),
    ("AUTH", "/auth/type"),
    ("URL", "/url"),
];
const ENDPOINT_COLUMNS: &[Column] = &[
    ("ID", "/id"),
    ("NAME", "/name"),
    ("TYPE", "/type"),
    ("ENABLED", "/enabled"),
    ("EVENTS", "/events"),
    ("URL", "/url"),
];
const DELIVERY_COLUMNS: &[Column] = &[
    ("ID", "/id"),
    ("EVENT", "/event"),
    ("STATUS", "/status"),
    ("HTTP", "/http_status"),
    ("ATTEMPT", "/attempt"),
    ("TRIGGERED", "/triggered_at"),
    ("MS", "/response_time_ms"),
    ("NEXT RETRY", "/next_attempt_at"),
];
const VARIABLE_COLUMNS: &[Column] = &[
    ("NAME", "/name"),
    ("VALUE", "/value"),
    ("UPDATED", "/updated_at"),
];
const RUN_COLUMNS: &[Column] = &[
    ("ID", "/id"),
    ("STATUS", "/status"),
    ("RECEIVED", "/received_at"),
    ("ATTEMPT", "/attempt"),
    ("ERROR", "/error"),
];

/// The page a list command asks for.
#[derive(Debug, clap::Args)]
pub struct PageArgs {
    /// Items per page (1 to 100).
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u64).range(1..=100))]
    limit: u64,
    /// The `next` of an earlier page.
    #[arg(long)]
    cursor: Option<String>,
}

/// `hooklane bots …`.
#[derive(Debug, Subcommand)]
pub enum Bots {
    /// Every bot, newest first.
    List {
        #[command(flatten)]
        page: PageArgs,
    },
    /// One bot.
    Get { bot: String },
    /// A new bot; its API key is printed this once.
    Create {
        #[arg(long)]
        name: String,
        /// A chosen id (`[A-Za-z0-9_-]{1,64}`); generated when left out.
        #[arg(long)]
        id: Option<String>,
    },
    /// Deletes a bot with everything under it.
    Delete { bot: String },
}

/// `hooklane hooks …`.
#[derive(Debug, Subcommand)]
pub enum Hooks {
    /// The bot's hooks, newest first.
    List {
        #[arg(long)]
        bot: String,
        #[command(flatten)]
        page: PageArgs,
    },
    /// One hook.
    Get {
        #[arg(long)]
        bot: String,
        hook: String,
    },
    /// A new hook: `--data` is the hook as JSON (or @file), `--name` sets its name.
    Create {
        /// The bot the hook belongs to.
        #[arg(long)]
        bot: String,
        /// The hook's name (over a `name` in --data).
        #[arg(long)]
        name: Option<String>,
        /// The hook as JSON (`auth`, `actions`, `methods`, …: see the admin
        /// API's docs), or @file to read it from a file; left out, a hook
        /// with the defaults.
        #[arg(long)]
        data: Option<String>,
    },
    /// Deletes a hook and its runs.
    Delete {
        #[arg(long)]
        bot: String,
        hook: String,
    },
}

/// `hooklane endpoints …`.
#[derive(Debug, Subcommand)]
pub enum Endpoints {
    /// The bot's endpoints, newest first.
    List {
        #[arg(long)]
        bot: String,
        #[command(flatten)]
        page: PageArgs,
    },
    /// One endpoint.
    Get {
        #[arg(long)]
        bot: String,
        endpoint: String,
    },
    /// A new endpoint; its secret is printed this once.
    Create {
        #[arg(long)]
        bot: String,
        #[arg(long)]
        url: String,
        #[arg(long)]
        name: Option<String>,
        /// custom, discord or slack.
        #[arg(long = "type", default_value = "custom")]
        kind: String,
        /// An event filter (`order.paid`, `order.*`); repeat or separate with commas. None: every event.
        #[arg(long, value_delimiter = ',')]
        events: Vec<String>,
    },
    /// Deletes an endpoint and its delivery log.
    Delete {
        #[arg(long)]
        bot: String,
        endpoint: String,
    },
    /// Sends a `webhook.test` event to the endpoint now.
    Test {
        #[arg(long)]
        bot: String,
        endpoint: String,
    },
    /// A new signing secret; the old one keeps signing for `--grace-seconds`.
    RotateSecret {
        #[arg(long)]
        bot: String,
        endpoint: String,
        #[arg(long)]
        grace_seconds: Option<u64>,
    },
    /// Sends again every message whose delivery failed since a time (RFC
    /// 3339) with no attempt to come (one whose retry is queued is left to it).
    Recover {
        #[arg(long)]
        bot: String,
        endpoint: String,
        #[arg(long)]
        since: String,
    },
}

/// `hooklane deliveries …`.
#[derive(Debug, Subcommand)]
pub enum Deliveries {
    /// An endpoint's delivery log, newest first.
    List {
        #[arg(long)]
        bot: String,
        #[arg(long)]
        endpoint: String,
        #[command(flatten)]
        page: PageArgs,
    },
    /// One delivery row (one attempt), with when its retry is due.
    Get {
        #[arg(long)]
        bot: String,
        delivery: String,
    },
    /// Sends one delivery's message again now; a retry of it still queued
    /// for the endpoint is superseded.
    Resend {
        #[arg(long)]
        bot: String,
        delivery: String,
    },
}

/// `hooklane runs …`.
#[derive(Debug, Subcommand)]
pub enum Runs {
    /// A hook's run log, newest first.
    List {
        #[arg(long)]
        bot: String,
        #[arg(long)]
        hook: String,
        #[command(flatten)]
        page: PageArgs,
    },
    /// One run, by the id its call was answered with.
    Get {
        #[arg(long)]
        bot: String,
        #[arg(long)]
        hook: String,
        run: String,
    },
    /// Runs a past call again, as a new call.
    Replay {
        #[arg(long)]
        bot: String,
        #[arg(long)]
        hook: String,
        run: String,
    },
}

/// `hooklane variables …`.
#[derive(Debug, Subcommand)]
pub enum Variables {
    /// The bot's stored variables, by name.
    List {
        #[arg(long)]
        bot: String,
    },
    /// Creates or replaces a variable.
    Set {
        #[arg(long)]
        bot: String,
        /// The variable's name (1 to 64 of A-Z a-z 0-9 _ . -).
        name: String,
        /// The value: read as JSON when it is JSON (`42`, `true`, `null`,
        /// `{"a": 1}`, `"42"` for the string 42), else taken as a string
        /// (`tok_123`).
        value: String,
    },
    /// Deletes a variable.
    Delete {
        #[arg(long)]
        bot: String,
        name: String,
    },
}

/// How an answer is shown.
enum View {
    /// A list: `data` as a table of these columns.
    Table(&'static [Column]),
    /// One record, as JSON.
    Record,
    /// No body: this line.
    Done(String),
}

/// One admin call and how to show its answer.
struct Call {
    method: &'static str,
    path: String,
    body: Option<Value>,
    view: View,
    /// Shown beside a spinner while the call runs.
    slow: Option<&'static str>,
}

impl Call {
    fn get(path: String, view: View) -> Self {
        Self {
            method: "GET",
            path,
            body: None,
            view,
            slow: None,
        }
    }

    fn post(path: String, body: Value) -> Self {
        Self {
            method: "POST",
            path,
            body: Some(body),
            view: View::Record,
            slow: None,
        }
    }

    fn put(path: String, body: Value) -> Self {
        Self {
            method: "PUT",
            ..Self::post(path, body)
        }
    }

    fn delete(path: String, what: String) -> Self {
        Self {
            method: "DELETE",
            path,
            body: None,
            view: View::Done(format!("deleted {what}")),
            slow: Some("deleting"),
        }
    }

    /// Makes the call and prints its answer (`json`: as the API answered).
    async fn run(self, admin: &Admin, json: bool) -> anyhow::Result<()> {
        let work = admin.json(self.method, &self.path, self.body);
        let answer = match self.slow {
            Some(message) => output::with_progress(message, work).await?,
            None => work.await?,
        };
        match self.view {
            _ if json => output::json(&answer),
            View::Table(columns) => {
                let items = answer["data"].as_array().cloned().unwrap_or_default();
                output::table(columns, &items);
                if let Some(next) = answer["next"].as_str() {
                    anstream::println!("{}", output::dim(&format!("more: --cursor {next}")));
                }
            }
            View::Record => output::json(&answer),
            View::Done(line) => anstream::println!("{line}"),
        }
        Ok(())
    }
}

fn list(path: String, page: PageArgs, columns: &'static [Column]) -> Call {
    let mut query = format!("{path}?limit={}", page.limit);
    if let Some(cursor) = page.cursor {
        query.push_str(&format!("&cursor={cursor}"));
    }
    Call::get(query, View::Table(columns))
}

/// Runs `hooklane bots …`.
pub async fn bots(cmd: Bots, admin: &Admin, json: bool) -> anyhow::Result<()> {
    let call = match cmd {
        Bots::List { page } => list("/v1/bots".into(), page, BOT_COLUMNS),
        Bots::Get { bot } => Call::get(format!("/v1/bots/{bot}"), View::Record),
        Bots::Create { name, id } => {
            let mut body = json!({"name": name});
            if let Some(id) = id {
                body["id"] = Value::String(id);
            }
            Call::post("/v1/bots".into(), body)
        }
        Bots::Delete { bot } => Call::delete(format!("/v1/bots/{bot}"), format!("bot {bot}")),
    };
    call.run(admin, json).await
}

/// Runs `hooklane hooks …`.
pub async fn hooks(cmd: Hooks, admin: &Admin, json: bool) -> anyhow::Result<()> {
    let call = match cmd {
        Hooks::List { bot, page } => list(format!("/v1/bots/{bot}/hooks"), page, HOOK_COLUMNS),
        Hooks::Get { bot, hook } => Call::get(format!("/v1/bots/{bot}/hooks/{hook}"), View::Record),
        Hooks::Create { bot, name, data } => {
            let mut body: Value = match read_data(data.as_deref())? {
                Some(bytes) => serde_json::from_slice(&bytes).context("--data is not JSON")?,
                None => json!({}),
            };
            if let Some(name) = name {
                body["name"] = Value::String(name);
            }
            Call::post(format!("/v1/bots/{bot}/hooks"), body)
        }
        Hooks::Delete { bot, hook } => Call::delete(
            format!("/v1/bots/{bot}/hooks/{hook}"),
            format!("hook {hook}"),
        ),
    };
    call.run(admin, json).await
}

/// Runs `hooklane endpoints …`.
pub async fn endpoints(cmd: Endpoints, admin: &Admin, json: bool) -> anyhow::Result<()> {
    let base = |bot: &str| format!("/v1/bots/{bot}/endpoints");
    let call = match cmd {
        Endpoints::List { bot, page } => list(base(&bot), page, ENDPOINT_COLUMNS),
        Endpoints::Get { bot, endpoint } => {
            Call::get(format!("{}/{endpoint}", base(&bot)), View::Record)
        }
        Endpoints::Create {
            bot,
            url,
            name,
            kind,
            events,
        } => {
            let name = name.unwrap_or_else(|| url.clone());
            let body = json!({"name": name, "url": url, "type": kind, "events": events});
            Call::post(base(&bot), body)
        }
        Endpoints::Delete { bot, endpoint } => Call::delete(
            format!("{}/{endpoint}", base(&bot)),
            format!("endpoint {endpoint}"),
        ),
        Endpoints::Test { bot, endpoint } => {
            Call::post(format!("{}/{endpoint}/test", base(&bot)), json!({}))
        }
        Endpoints::RotateSecret {
            bot,
            endpoint,
            grace_seconds,
        } => {
            let body = match grace_seconds {
                Some(g) => json!({"grace_seconds": g}),
                None => json!({}),
            };
            Call::post(format!("{}/{endpoint}/secret/rotate", base(&bot)), body)
        }
        Endpoints::Recover {
            bot,
            endpoint,
            since,
        } => Call {
            slow: Some("recovering failed deliveries"),
            ..Call::post(
                format!("{}/{endpoint}/recover", base(&bot)),
                json!({"since": since}),
            )
        },
    };
    call.run(admin, json).await
}

/// Runs `hooklane deliveries …`.
pub async fn deliveries(cmd: Deliveries, admin: &Admin, json: bool) -> anyhow::Result<()> {
    let call = match cmd {
        Deliveries::List {
            bot,
            endpoint,
            page,
        } => list(
            format!("/v1/bots/{bot}/endpoints/{endpoint}/deliveries"),
            page,
            DELIVERY_COLUMNS,
        ),
        Deliveries::Get { bot, delivery } => Call::get(
            format!("/v1/bots/{bot}/deliveries/{delivery}"),
            View::Record,
        ),
        Deliveries::Resend { bot, delivery } => Call::post(
            format!("/v1/bots/{bot}/deliveries/{delivery}/resend"),
            json!({}),
        ),
    };
    call.run(admin, json).await
}

/// Runs `hooklane runs …`.
pub async fn runs(cmd: Runs, admin: &Admin, json: bool) -> anyhow::Result<()> {
    let call = match cmd {
        Runs::List { bot, hook, page } => list(
            format!("/v1/bots/{bot}/hooks/{hook}/runs"),
            page,
            RUN_COLUMNS,
        ),
        Runs::Get { bot, hook, run } => Call::get(
            format!("/v1/bots/{bot}/hooks/{hook}/runs/{run}"),
            View::Record,
        ),
        Runs::Replay { bot, hook, run } => Call::post(
            format!("/v1/bots/{bot}/hooks/{hook}/runs/{run}/replay"),
            json!({}),
        ),
    };
    call.run(admin, json).await
}

/// A variable's value as `variables set` reads it: JSON when it is JSON,
/// else the text as a string.
fn variable_value(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_owned()))
}

/// `name` as one path segment: percent-encoded, so a name that is not one
/// reaches the API (and is refused there by name) instead of another route.
fn segment(name: &str) -> String {
    form_urlencoded::byte_serialize(name.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

/// Runs `hooklane variables …`.
pub async fn variables(cmd: Variables, admin: &Admin, json: bool) -> anyhow::Result<()> {
    let base = |bot: &str| format!("/v1/bots/{bot}/variables");
    let call = match cmd {
        Variables::List { bot } => Call::get(base(&bot), View::Table(VARIABLE_COLUMNS)),
        Variables::Set { bot, name, value } => Call::put(
            format!("{}/{}", base(&bot), segment(&name)),
            json!({"value": variable_value(&value)}),
        ),
        Variables::Delete { bot, name } => Call::delete(
            format!("{}/{}", base(&bot), segment(&name)),
            format!("variable {name}"),
        ),
    };
    call.run(admin, json).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_variable_value_is_json_when_it_parses_and_a_string_otherwise() {
        for (text, want) in [
            ("42", json!(42)),
            ("true", json!(true)),
            ("null", Value::Null),
            (r#"{"a": [1]}"#, json!({"a": [1]})),
            (r#""42""#, json!("42")),
            ("tok_123", json!("tok_123")),
            ("hello world", json!("hello world")),
            ("", json!("")),
            ("{not json", json!("{not json")),
        ] {
            assert_eq!(variable_value(text), want, "{text}");
        }
    }

    #[test]
    fn a_variable_name_is_one_path_segment() {
        assert_eq!(segment("orders.count-1_a"), "orders.count-1_a");
        assert_eq!(segment("a/b c?"), "a%2Fb%20c%3F");
    }
}

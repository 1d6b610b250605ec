//! `hooklane tail`: follows runs and deliveries as they happen, one line
//! each, by polling the admin API's run and delivery logs (so it works the
//! same against `hooklane dev` and a deployed stack).
//!
//! What was logged before `tail` started is not shown; after that, a run
//! or delivery row is printed when it first appears and again each time
//! its status changes (`running` → `succeeded`).

use std::collections::HashMap;
use std::time::Duration;

use serde_json::{json, Value};

use crate::api::Admin;
use crate::output::{dim, paint, status_style};

/// What `tail` follows.
#[derive(Debug, Clone, clap::Args)]
pub struct Filter {
    /// Only this bot (default: every bot, re-listed every 10 seconds).
    #[arg(long)]
    pub bot: Option<String>,
    /// Only this hook's runs (with --endpoint: that endpoint's deliveries too).
    #[arg(long)]
    pub hook: Option<String>,
    /// Only this endpoint's deliveries (with --hook: that hook's runs too).
    #[arg(long)]
    pub endpoint: Option<String>,
    /// How often the logs are read, in milliseconds.
    #[arg(long, default_value_t = 500)]
    pub interval_ms: u64,
}

/// The rows per log read on each poll.
const PAGE: usize = 25;
/// How often, in polls, the bot list is read again (without --bot).
const BOTS_EVERY: u64 = 20;

/// The last status printed for each row, by row id.
type Seen = HashMap<String, String>;

/// Follows the logs until interrupted; `json` prints each line as a JSON
/// object (`{"kind": "run"|"delivery", "bot_id", …the row}`). Errors when
/// the first read fails (a wrong URL or token); a later failed read is
/// reported on stderr and the next one tried.
pub async fn run(admin: &Admin, filter: Filter, json: bool) -> anyhow::Result<()> {
    let mut tail = Tail {
        admin,
        filter,
        json,
        seen: Seen::new(),
        bots: Vec::new(),
    };
    anstream::eprintln!(
        "{}",
        dim(&format!(
            "following {} (^C to stop)",
            describe(&tail.filter)
        ))
    );
    for poll in 0u64.. {
        match tail.poll(poll).await {
            Ok(()) => {}
            Err(e) if poll == 0 => return Err(e),
            Err(e) => anstream::eprintln!("{}", dim(&format!("could not read the logs: {e:#}"))),
        }
        tokio::time::sleep(Duration::from_millis(tail.filter.interval_ms)).await;
    }
    Ok(())
}

struct Tail<'a> {
    admin: &'a Admin,
    filter: Filter,
    json: bool,
    seen: Seen,
    bots: Vec<String>,
}

impl Tail<'_> {
    /// One read of every log followed; poll 0 only learns what is there.
    async fn poll(&mut self, poll: u64) -> anyhow::Result<()> {
        let (admin, filter) = (self.admin, &self.filter);
        let show_runs = filter.endpoint.is_none() || filter.hook.is_some();
        let show_deliveries = filter.hook.is_none() || filter.endpoint.is_some();
        if self.bots.is_empty() || (filter.bot.is_none() && poll.is_multiple_of(BOTS_EVERY)) {
            self.bots = match &filter.bot {
                Some(bot) => vec![bot.clone()],
                None => ids(&admin.get("/v1/bots?limit=100").await?),
            };
        }
        let print = poll > 0;
        for bot in &self.bots {
            if show_runs {
                let hooks = match &filter.hook {
                    Some(h) => vec![h.clone()],
                    None => ids(&admin
                        .get(&format!("/v1/bots/{bot}/hooks?limit=100"))
                        .await?),
                };
                for hook in hooks {
                    let path = format!("/v1/bots/{bot}/hooks/{hook}/runs?limit={PAGE}");
                    let rows = admin.get(&path).await?;
                    report(&mut self.seen, bot, "run", &rows, print, self.json);
                }
            }
            if show_deliveries {
                let endpoints = match &filter.endpoint {
                    Some(e) => vec![e.clone()],
                    None => ids(&admin
                        .get(&format!("/v1/bots/{bot}/endpoints?limit=100"))
                        .await?),
                };
                for endpoint in endpoints {
                    let path =
                        format!("/v1/bots/{bot}/endpoints/{endpoint}/deliveries?limit={PAGE}");
                    let rows = admin.get(&path).await?;
                    report(&mut self.seen, bot, "delivery", &rows, print, self.json);
                }
            }
        }
        Ok(())
    }
}

fn describe(filter: &Filter) -> String {
    let mut parts = vec![format!(
        "bot {}",
        filter.bot.as_deref().unwrap_or("(every bot)")
    )];
    if let Some(h) = &filter.hook {
        parts.push(format!("hook {h}"));
    }
    if let Some(e) = &filter.endpoint {
        parts.push(format!("endpoint {e}"));
    }
    parts.join(", ")
}

/// The `id`s of a list answer's `data`.
fn ids(list: &Value) -> Vec<String> {
    list["data"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|i| i["id"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// Prints the rows of `list` that are new or changed since last seen,
/// oldest first (when `print`), and remembers them.
fn report(seen: &mut Seen, bot: &str, kind: &str, list: &Value, print: bool, json: bool) {
    let rows = list["data"].as_array().cloned().unwrap_or_default();
    for row in rows.iter().rev() {
        let (Some(id), Some(status)) = (row["id"].as_str(), row["status"].as_str()) else {
            continue;
        };
        if seen.get(id).map(String::as_str) == Some(status) {
            continue;
        }
        seen.insert(id.to_owned(), status.to_owned());
        if print {
            println_row(bot, kind, row, json);
        }
    }
}

fn println_row(bot: &str, kind: &str, row: &Value, json: bool) {
    if json {
        let mut line = json!({"kind": kind, "bot_id": bot});
        if let (Some(line), Some(fields)) = (line.as_object_mut(), row.as_object()) {
            line.extend(fields.clone());
        }
        anstream::println!("{line}");
        return;
    }
    let text = |k: &str| row[k].as_str().unwrap_or("-").to_owned();
    let status = text("status");
    let time = time::OffsetDateTime::now_utc();
    let clock = format!(
        "{:02}:{:02}:{:02}",
        time.hour(),
        time.minute(),
        time.second()
    );
    let detail = match kind {
        "run" => {
            let actions = row["actions"].as_array().map_or(0, Vec::len);
            let error = row["error"]
                .as_str()
                .map(|e| format!("  {e}"))
                .unwrap_or_default();
            format!(
                "{bot}/{}  {actions} action{}{error}",
                text("hook_id"),
                if actions == 1 { "" } else { "s" }
            )
        }
        _ => {
            let http = row["http_status"]
                .as_u64()
                .map(|s| s.to_string())
                .unwrap_or_else(|| "-".into());
            let ms = row["response_time_ms"]
                .as_u64()
                .map(|ms| format!("  {ms} ms"))
                .unwrap_or_default();
            let error = row["error"]
                .as_str()
                .map(|e| format!("  {e}"))
                .unwrap_or_default();
            format!(
                "{}  {bot}/{}  HTTP {http}  attempt {}{ms}{error}",
                text("event"),
                text("endpoint_id"),
                row["attempt"]
            )
        }
    };
    anstream::println!(
        "{}  {kind:<8} {}  {}  {detail}",
        dim(&clock),
        text("id"),
        paint(status_style(&status), &format!("{status:<9}")),
    );
}

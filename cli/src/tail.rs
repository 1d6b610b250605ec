//! `hooklane tail`: follows runs and deliveries as they happen, one line
//! each, by polling the admin API's run and delivery logs (so it works the
//! same against `hooklane dev` and a deployed stack).
//!
//! What was logged before `tail` started is not shown; after that, a run
//! or delivery row is printed when it first appears and again each time
//! its status changes (`running` → `succeeded`). Each poll follows a log's
//! `next` pages until a page holds only rows already seen, or rows from
//! before `tail` started, so a burst of more rows than a page between two
//! polls is shown whole.

use std::collections::HashMap;
use std::time::Duration;

use serde_json::{json, Value};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::api::{is_not_found, Admin};
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

/// The rows per page of a log read (the API's largest page).
const PAGE: usize = 100;
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
        started: OffsetDateTime::now_utc(),
    };
    anstream::eprintln!(
        "{}",
        dim(&format!(
            "following {} (^C to stop)",
            describe(&tail.filter)
        ))
    );
    let mut waiting = false;
    for poll in 0u64.. {
        match tail.poll(poll).await {
            Ok(()) => {}
            Err(e) if is_not_found(&e) && tail.filter.bot.is_some() => {
                if !waiting {
                    waiting = true;
                    anstream::eprintln!(
                        "{}",
                        dim(&format!(
                            "waiting for {} to exist: {e:#}",
                            describe(&tail.filter)
                        ))
                    );
                }
            }
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
    /// When `tail` started: older rows are never printed.
    started: OffsetDateTime,
}

impl Tail<'_> {
    /// One read of every log followed; poll 0 only learns what is there.
    async fn poll(&mut self, poll: u64) -> anyhow::Result<()> {
        let (admin, filter) = (self.admin, self.filter.clone());
        let show_runs = filter.endpoint.is_none() || filter.hook.is_some();
        let show_deliveries = filter.hook.is_none() || filter.endpoint.is_some();
        if self.bots.is_empty() || (filter.bot.is_none() && poll.is_multiple_of(BOTS_EVERY)) {
            self.bots = match &filter.bot {
                Some(bot) => vec![bot.clone()],
                None => ids(&admin.all("/v1/bots?limit=100").await?),
            };
        }
        let print = poll > 0;
        for bot in &self.bots.clone() {
            if show_runs {
                let hooks = match &filter.hook {
                    Some(h) => vec![h.clone()],
                    None => ids(&admin
                        .all(&format!("/v1/bots/{bot}/hooks?limit=100"))
                        .await?),
                };
                for hook in hooks {
                    let path = format!("/v1/bots/{bot}/hooks/{hook}/runs?limit={PAGE}");
                    let rows = match self.read(&path, "received_at", print).await {
                        Err(e) if filter.bot.is_none() && is_not_found(&e) => continue,
                        rows => rows?,
                    };
                    report(&mut self.seen, bot, "run", &rows, print, self.json);
                }
            }
            if show_deliveries {
                let endpoints = match &filter.endpoint {
                    Some(e) => vec![e.clone()],
                    None => ids(&admin
                        .all(&format!("/v1/bots/{bot}/endpoints?limit=100"))
                        .await?),
                };
                for endpoint in endpoints {
                    let path =
                        format!("/v1/bots/{bot}/endpoints/{endpoint}/deliveries?limit={PAGE}");
                    let rows = match self.read(&path, "triggered_at", print).await {
                        Err(e) if filter.bot.is_none() && is_not_found(&e) => continue,
                        rows => rows?,
                    };
                    report(&mut self.seen, bot, "delivery", &rows, print, self.json);
                }
            }
        }
        Ok(())
    }

    /// The newest rows of the log at `path`, newest first: the first page
    /// (only that when `!follow`), then each `next` page while the last
    /// one held a row not yet seen and nothing from before `tail` started
    /// (`at` names the row's RFC 3339 time).
    /// Rows first met here that are from before `tail` started are
    /// remembered as seen (never printed).
    async fn read(&mut self, path: &str, at: &str, follow: bool) -> anyhow::Result<Vec<Value>> {
        let mut rows = Vec::new();
        let mut cursor = None;
        loop {
            let (page, next) = self.admin.page(path, cursor.as_deref()).await?;
            let mut unseen = false;
            let mut before_start = false;
            for row in &page {
                let (Some(id), Some(status)) = (row["id"].as_str(), row["status"].as_str()) else {
                    continue;
                };
                let old = row[at]
                    .as_str()
                    .and_then(|t| OffsetDateTime::parse(t, &Rfc3339).ok())
                    .is_some_and(|t| t < self.started);
                before_start |= old;
                if !self.seen.contains_key(id) {
                    if old {
                        self.seen.insert(id.to_owned(), status.to_owned());
                    } else {
                        unseen = true;
                    }
                }
            }
            rows.extend(page);
            match next {
                Some(next) if follow && unseen && !before_start => cursor = Some(next),
                _ => return Ok(rows),
            }
        }
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

/// The `id`s of a list's items.
fn ids(items: &[Value]) -> Vec<String> {
    items
        .iter()
        .filter_map(|i| i["id"].as_str().map(str::to_owned))
        .collect()
}

/// Prints the `rows` (newest first) that are new or changed since last
/// seen, oldest first (when `print`), and remembers them.
fn report(seen: &mut Seen, bot: &str, kind: &str, rows: &[Value], print: bool, json: bool) {
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

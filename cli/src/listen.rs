//! `hooklane listen --bot B --forward-to URL`: every event published for
//! the bot is also delivered to a local URL, signed as Hooklane signs
//! deliveries, and each forward is printed with its status.
//!
//! How the event reaches a local URL: the CLI reads the bot's published
//! messages through the admin API (`GET /v1/bots/{bot}/messages`, the same
//! call with the admin token under `hooklane dev` or signed with SigV4 for
//! a deployed stack) and delivers each new one itself, from this machine,
//! with the body and headers of a `custom` endpoint's delivery, signed
//! with a secret of its own (`--secret`, else one made once and kept in
//! the data dir's `listen-secret`). Nothing is created on the server and
//! a deployed stack never has to reach this machine; the bot's real
//! endpoints get their deliveries as usual.

use std::collections::{HashSet, VecDeque};
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use hooklane_domain::envelope::DeliveryTask;
use hooklane_domain::{
    BotId, Endpoint, EndpointId, EndpointType, EventFilter, EventType, MessageId,
};
use hooklane_engine::payload::body_for;
use hooklane_engine::signing::signature_headers;
use serde_json::{json, Value};

use crate::api::Admin;
use crate::output::{dim, paint, status_style};

/// What `listen` forwards, and where.
#[derive(Debug, Clone, clap::Args)]
pub struct Options {
    /// The bot whose events to forward.
    #[arg(long)]
    pub bot: String,
    /// The local URL each event is POSTed to.
    #[arg(long)]
    pub forward_to: String,
    /// Only these events (`order.paid`, `order.*`); repeat or separate with commas. None: every event.
    #[arg(long, value_delimiter = ',')]
    pub events: Vec<String>,
    /// The `whsec_…` secret forwards are signed with (default: one made once
    /// and kept in the data dir's `listen-secret`).
    #[arg(long, env = "HOOKLANE_LISTEN_SECRET", hide_env_values = true)]
    pub secret: Option<String>,
    /// How often the bot's messages are read, in milliseconds.
    #[arg(long, default_value_t = 500)]
    pub interval_ms: u64,
}

/// The messages per page read (pages are followed back to the overlap).
const PAGE: usize = 100;
/// The most pages read back in one poll.
const MAX_PAGES: usize = 20;
/// How far before the newest message already read each poll reads back
/// again: a message stored after a newer one (a burst) is still met.
const OVERLAP: time::Duration = time::Duration::seconds(5);
/// The most message ids remembered as forwarded (the oldest are dropped).
const REMEMBERED: usize = 20_000;

/// The ids of the messages already met (forwarded or skipped), at most
/// [`REMEMBERED`], and the newest message time read.
#[derive(Default)]
struct Seen {
    ids: HashSet<String>,
    order: VecDeque<String>,
    newest: Option<time::OffsetDateTime>,
}

impl Seen {
    /// Remembers `message`; false when it was met before.
    fn insert(&mut self, message: &Value) -> bool {
        if let Some(t) = timestamp(message) {
            self.newest = Some(self.newest.map_or(t, |n| n.max(t)));
        }
        let id = id_of(message);
        if !self.ids.insert(id.clone()) {
            return false;
        }
        self.order.push_back(id);
        if self.order.len() > REMEMBERED {
            if let Some(old) = self.order.pop_front() {
                self.ids.remove(&old);
            }
        }
        true
    }
}

/// The secret to sign with: `given`, or the one kept in `data_dir`
/// (made once). Errors: the secret cannot be kept.
fn secret(given: Option<String>, data_dir: &Path) -> anyhow::Result<String> {
    if let Some(s) = given {
        return Ok(s);
    }
    let path = data_dir.join("listen-secret");
    if let Ok(text) = std::fs::read_to_string(&path) {
        if text.trim().starts_with("whsec_") {
            return Ok(text.trim().to_owned());
        }
    }
    let fresh = hooklane_auth::signature::generate_endpoint_secret();
    std::fs::create_dir_all(data_dir).ok();
    std::fs::write(&path, &fresh)
        .with_context(|| format!("keeping the listen secret in {}", path.display()))?;
    Ok(fresh)
}

/// Forwards until interrupted; `json` prints one JSON object per forward
/// (`{"message_id", "event", "status", "error", "ms"}`). Errors when the
/// first read fails; a later failed read is reported on stderr and the next
/// one tried.
pub async fn run(admin: &Admin, opts: Options, data_dir: &Path, json: bool) -> anyhow::Result<()> {
    match reqwest::Url::parse(&opts.forward_to) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => {}
        _ => anyhow::bail!(
            "--forward-to `{}` is not an http(s) URL such as http://localhost:3000/webhooks",
            opts.forward_to
        ),
    }
    let secret = secret(opts.secret.clone(), data_dir)?;
    let bot = BotId::parse(&opts.bot).with_context(|| format!("`{}` is not a bot id", opts.bot))?;
    let filters = opts
        .events
        .iter()
        .map(|f| EventFilter::parse(f).map_err(|e| anyhow::anyhow!("--events `{f}`: {e}")))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let endpoint = local_endpoint(&bot, &opts.forward_to, &secret);
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(15))
        .build()?;
    let mut seen = Seen::default();
    for message in recent_messages(admin, &opts.bot, None).await? {
        seen.insert(&message);
    }
    anstream::eprintln!(
        "Ready. Forwarding the events of bot {} to {} (^C to stop).\nForwards are signed with {} (verify them as any Hooklane endpoint's deliveries).",
        opts.bot,
        opts.forward_to,
        if opts.secret.is_some() { "the --secret given".to_owned() } else { format!("{secret}, kept in {}", data_dir.join("listen-secret").display()) },
    );
    loop {
        tokio::time::sleep(Duration::from_millis(opts.interval_ms)).await;
        let horizon = seen.newest.map(|n| n - OVERLAP);
        let fresh = match recent_messages(admin, &opts.bot, horizon).await {
            Ok(fresh) => fresh,
            Err(e) => {
                anstream::eprintln!("{}", dim(&format!("could not read the messages: {e:#}")));
                continue;
            }
        };
        for message in fresh.iter().rev() {
            if !seen.insert(message) {
                continue;
            }
            let Some(task) = task(message, &bot, &endpoint.id) else {
                continue;
            };
            if !filters.is_empty() && !filters.iter().any(|f| f.matches(&task.event)) {
                continue;
            }
            let outcome = forward(&client, &endpoint, &task).await;
            print(&task, &outcome, json);
        }
    }
}

fn id_of(message: &Value) -> String {
    message["id"].as_str().unwrap_or_default().to_owned()
}

/// A message's `timestamp`.
fn timestamp(message: &Value) -> Option<time::OffsetDateTime> {
    message["timestamp"].as_str().and_then(|t| {
        time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339).ok()
    })
}

/// The bot's newest messages, newest first: pages are followed until one
/// reaches back past `horizon` (at most [`MAX_PAGES`]); with no horizon,
/// the first page only.
async fn recent_messages(
    admin: &Admin,
    bot: &str,
    horizon: Option<time::OffsetDateTime>,
) -> anyhow::Result<Vec<Value>> {
    let path = format!("/v1/bots/{bot}/messages?limit={PAGE}");
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..MAX_PAGES {
        let (page, next) = admin.page(&path, cursor.as_deref()).await?;
        let past = page
            .iter()
            .any(|m| timestamp(m).zip(horizon).is_some_and(|(t, h)| t < h));
        out.extend(page);
        match next {
            Some(next) if horizon.is_some() && !past => cursor = Some(next),
            _ => break,
        }
    }
    Ok(out)
}

/// The endpoint this CLI stands in for: `custom`, at `url`, signing with `secret`.
fn local_endpoint(bot: &BotId, url: &str, secret: &str) -> Endpoint {
    let now = time::OffsetDateTime::now_utc();
    Endpoint {
        id: EndpointId::generate(),
        bot_id: bot.clone(),
        name: "hooklane listen".into(),
        kind: EndpointType::Custom,
        url: url.to_owned(),
        enabled: true,
        disabled_reason: None,
        events: vec![],
        secret: secret.to_owned().into(),
        old_secrets: vec![],
        retry_schedule: vec![],
        max_attempts: 1,
        headers: Default::default(),
        rate_limit: None,
        failing_since: None,
        allowed_mentions: None,
        created_at: now,
        updated_at: now,
    }
}

/// The delivery of `message` (an item of the messages list) to the local endpoint.
fn task(message: &Value, bot: &BotId, endpoint: &EndpointId) -> Option<DeliveryTask> {
    let timestamp = timestamp(message)?;
    Some(DeliveryTask {
        message_id: MessageId::parse(message["id"].as_str()?).ok()?,
        bot_id: bot.clone(),
        endpoint_id: endpoint.clone(),
        event: EventType::parse(message["event"].as_str()?).ok()?,
        data: message["data"].clone(),
        timestamp,
        attempt: 1,
        previous: None,
        depth: 0,
        force: false,
        throttled: 0,
    })
}

/// A forward's result: the HTTP status or the error, and how long it took.
struct Outcome {
    status: Option<u16>,
    error: Option<String>,
    ms: u128,
}

/// POSTs the delivery with a `custom` endpoint's body and headers.
async fn forward(client: &reqwest::Client, endpoint: &Endpoint, task: &DeliveryTask) -> Outcome {
    let body = serde_json::to_vec(&body_for(EndpointType::Custom, None, task)).unwrap_or_default();
    let now = time::OffsetDateTime::now_utc();
    let mut request = client
        .post(&endpoint.url)
        .header("content-type", "application/json")
        .header("user-agent", hooklane_runtime::outbound::USER_AGENT)
        .header("x-webhook-event", task.event.as_str())
        .header("x-webhook-attempt", task.attempt.to_string())
        .header("idempotency-key", task.message_id.as_str());
    for (name, value) in signature_headers(
        endpoint,
        task.message_id.as_str(),
        now.unix_timestamp(),
        &body,
        now,
    ) {
        request = request.header(name, value);
    }
    let started = Instant::now();
    let result = request.body(body).send().await;
    let ms = started.elapsed().as_millis();
    match result {
        Ok(response) => Outcome {
            status: Some(response.status().as_u16()),
            error: None,
            ms,
        },
        Err(e) => Outcome {
            status: None,
            error: Some(send_error(e)),
            ms,
        },
    }
}

/// A failed forward's error with its causes, joined with `: ` (the
/// connection refused, the timeout, the name that does not resolve), as in
/// `error sending request for url (http://127.0.0.1:3000/webhooks): client
/// error (Connect): tcp connect error: Connection refused (os error 111)`.
fn send_error(e: reqwest::Error) -> String {
    format!("{:#}", anyhow::Error::new(e))
}

fn print(task: &DeliveryTask, outcome: &Outcome, json: bool) {
    if json {
        anstream::println!(
            "{}",
            json!({"message_id": task.message_id, "event": task.event,
                   "status": outcome.status, "error": outcome.error, "ms": outcome.ms as u64})
        );
        return;
    }
    let (word, shown) = match (outcome.status, &outcome.error) {
        (Some(s), _) if (200..300).contains(&s) => ("ok", format!("[{s}]")),
        (Some(s), _) => ("error", format!("[{s}]")),
        (None, Some(e)) => ("error", format!("[{e}]")),
        (None, None) => ("error", "[?]".to_owned()),
    };
    let now = time::OffsetDateTime::now_utc();
    anstream::println!(
        "{}  --> {}  {}  {} {}",
        dim(&format!(
            "{:02}:{:02}:{:02}",
            now.hour(),
            now.minute(),
            now.second()
        )),
        task.event,
        task.message_id,
        paint(status_style(word), &shown),
        dim(&format!("{} ms", outcome.ms)),
    );
}

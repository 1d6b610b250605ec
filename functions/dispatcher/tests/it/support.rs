//! One bot with one hook on a SQLite file, behind counting wrappers, and
//! the envelopes the tests hand to the dispatcher.

use std::io::Write;
use std::sync::{Arc, Mutex};

use hooklane_domain::envelope::{HookCall, InboundRequest};
use hooklane_domain::{Bot, BotId, CallId, Envelope, Hook, HookAuth, HookId, Job};
use hooklane_runtime::config::Settings;
use hooklane_runtime::Services;
use hooklane_store::{Queue, Store};
use serde_json::{json, Value};

use crate::counting::{Calls, CountingQueue, CountingStore};

pub struct Setup {
    pub _dir: tempfile::TempDir,
    pub svc: Services,
    /// The real store and queue, past the counters.
    pub store: Arc<dyn Store>,
    pub queue: Arc<dyn Queue>,
    pub calls: Calls,
    pub bot: BotId,
}

impl Setup {
    /// A fresh SQLite file and a bot; `settings` as given.
    pub async fn new(settings: Settings) -> Self {
        let (dir, db) = hooklane_testkit::embedded::sqlite();
        Self::on(dir, Arc::new(db.clone()), Arc::new(db), settings).await
    }

    /// The bot on the given store and queue.
    pub async fn on(
        dir: tempfile::TempDir,
        store: Arc<dyn Store>,
        queue: Arc<dyn Queue>,
        settings: Settings,
    ) -> Self {
        let calls = Calls::default();
        let svc = hooklane_testkit::embedded::services(
            Arc::new(CountingStore {
                inner: store.clone(),
                calls: calls.clone(),
            }),
            Arc::new(CountingQueue {
                inner: queue.clone(),
                calls: calls.clone(),
            }),
            settings,
        );
        let bot = BotId::generate();
        store
            .create_bot(&Bot {
                id: bot.clone(),
                name: "b".into(),
                api_key_hash: "00".repeat(32),
                created_at: time::OffsetDateTime::now_utc(),
            })
            .await
            .unwrap();
        Self {
            _dir: dir,
            svc,
            store,
            queue,
            calls,
            bot,
        }
    }

    /// A hook of the bot with these actions.
    pub async fn hook(&self, actions: Value) -> Hook {
        let now = time::OffsetDateTime::now_utc();
        let hook = Hook {
            id: HookId::generate(),
            bot_id: self.bot.clone(),
            name: "Fixture".into(),
            enabled: true,
            methods: vec!["POST".into()],
            auth: HookAuth::ApiKey,
            allowed_origins: vec![],
            allowed_ips: vec![],
            rate_limit: None,
            max_body_bytes: 1024,
            response: None,
            actions: serde_json::from_value(actions).unwrap(),
            created_at: now,
            updated_at: now,
        };
        self.store.create_hook(&hook).await.unwrap();
        hook
    }

    /// A call of `hook` (attempt 0), as the ingress queues it.
    pub fn call(&self, hook: &Hook) -> HookCall {
        HookCall {
            call_id: CallId::generate(),
            bot_id: self.bot.clone(),
            hook_id: hook.id.clone(),
            received_at: time::OffsetDateTime::now_utc(),
            request: InboundRequest {
                method: "POST".into(),
                payload: json!({"n": 1}),
                ..Default::default()
            },
            attempt: 0,
            depth: 0,
        }
    }

    /// Hands `call` to the dispatcher as received `receives` times.
    pub async fn process(&self, call: &HookCall, receives: u32) {
        hooklane_dispatcher::process(
            &self.svc,
            Envelope::now(Job::HookCall(call.clone())),
            receives,
        )
        .await
        .unwrap();
    }

    pub async fn var(&self, name: &str) -> Option<Value> {
        self.store
            .get_variable(&self.bot, name)
            .await
            .unwrap()
            .map(|v| v.value)
    }

    pub async fn seed(&self, name: &str, value: Value) {
        assert!(self
            .store
            .swap_variable(
                &self.bot,
                name,
                None,
                Some(&value),
                time::OffsetDateTime::now_utc()
            )
            .await
            .unwrap());
    }

    pub async fn run_of(&self, call: &HookCall) -> Option<hooklane_domain::Run> {
        self.store
            .get_run(&self.bot, &call.hook_id, &call.call_id)
            .await
            .unwrap()
    }
}

/// `update_variable NAME add 1`.
pub fn add_one(name: &str) -> Value {
    json!({"type": "update_variable", "name": name, "op": "add", "value": 1})
}

/// Log lines written while the guard lives (this thread only: the tests
/// run on tokio's current-thread runtime, so the dispatcher's tasks too).
#[derive(Clone, Default)]
pub struct Lines(Arc<Mutex<Vec<u8>>>);

impl Write for Lines {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Lines {
    pub fn capture() -> (Self, tracing::subscriber::DefaultGuard) {
        let lines = Lines::default();
        let writer = lines.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::DEBUG)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish();
        (lines, tracing::subscriber::set_default(subscriber))
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

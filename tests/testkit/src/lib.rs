//! Test helpers shared by the workspace's integration and end-to-end tests:
//! a sink HTTP server on loopback that records what it receives, a running
//! `hooklane dev` process, the moto endpoint for the AWS backend's tests,
//! `on_every_backend!`, which writes one test per backend, and the embedded
//! backend with its services for in-process tests ([`Embedded`]).

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

pub mod embedded;
mod own_moto;
pub use embedded::Embedded;
pub use own_moto::OwnMoto;

// ------------------------------------------------------------------ moto

/// The moto endpoint (`AWS_ENDPOINT_URL`) for a test that needs the AWS
/// backend.
///
/// Such a test is marked `#[ignore = "needs moto: tests/run.sh starts one"]`,
/// so a plain `cargo test` lists it as ignored with that reason; the test
/// script starts moto and runs it with `--include-ignored`. A test that runs
/// and finds no moto fails: a skip never looks like a pass.
///
/// # Panics
/// When `AWS_ENDPOINT_URL` is unset or empty.
pub fn moto() -> String {
    match std::env::var("AWS_ENDPOINT_URL")
        .ok()
        .filter(|v| !v.is_empty())
    {
        Some(url) => url,
        None => panic!(
            "this test needs moto but AWS_ENDPOINT_URL is not set: run it with \
             `bash tests/run.sh` (which starts moto), or start \
             `moto_server -H 127.0.0.1 -p PORT` and export AWS_ENDPOINT_URL=http://127.0.0.1:PORT"
        ),
    }
}

/// Writes one test per backend from one body: `NAME::embedded` and
/// `NAME::aws`, the second ignored unless moto is there
/// (`needs moto: tests/run.sh starts one`). The attributes (e.g.
/// `#[tokio::test(flavor = "multi_thread")]`) go on both; the body sees the
/// [`Backend`] under the name given in the parentheses.
///
/// ```text
/// on_every_backend! {
///     #[tokio::test(flavor = "multi_thread")]
///     async fn a_call_reaches_the_sink(backend) {
///         let dev = Dev::start(bin(), backend, &[]).await;
///     }
/// }
/// ```
#[macro_export]
macro_rules! on_every_backend {
    ($(#[$attr:meta])* async fn $name:ident($backend:ident) $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            $(#[$attr])*
            async fn embedded() {
                let $backend = $crate::Backend::Embedded;
                $body
            }

            $(#[$attr])*
            #[ignore = "needs moto: tests/run.sh starts one"]
            async fn aws() {
                let $backend = $crate::Backend::aws();
                $body
            }
        }
    };
}

/// A loopback address nothing listens on (bound once, then released): a
/// port to hand a process, or a target that refuses connections.
pub fn free_addr() -> SocketAddr {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap()
}

/// A loopback port held bound (never accepting) until the listener is
/// dropped: for "address in use" checks.
pub fn busy_port() -> std::net::TcpListener {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap()
}

/// A fresh name for a table or queue.
pub fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", ulid::Ulid::new().to_string().to_lowercase())
}

// ------------------------------------------------------------------ sink

/// One request as the sink saw it.
#[derive(Debug, Clone)]
pub struct Received {
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    pub headers: HeaderMap,
    pub body: bytes::Bytes,
    pub at: Instant,
}

impl Received {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }

    /// The path and query, as sent (`/crm/u1?src=hook`).
    pub fn target(&self) -> String {
        match &self.query {
            Some(q) => format!("{}?{q}", self.path),
            None => self.path.clone(),
        }
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    }
}

/// What the sink answers next: a status, a body, extra headers.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub body: Value,
    pub headers: Vec<(String, String)>,
}

impl Reply {
    pub fn status(status: u16) -> Self {
        Self {
            status,
            body: json!({"ok": status < 300}),
            headers: Vec::new(),
        }
    }

    /// `status` with this JSON body.
    pub fn json(status: u16, body: Value) -> Self {
        Self {
            status,
            body,
            headers: Vec::new(),
        }
    }
}

#[derive(Default)]
struct SinkState {
    received: Vec<Received>,
    replies: VecDeque<Reply>,
}

/// A loopback HTTP receiver: records every request, answers from a script
/// of replies (then 200).
#[derive(Clone)]
pub struct Sink {
    pub addr: SocketAddr,
    state: Arc<Mutex<SinkState>>,
}

async fn record(State(state): State<Arc<Mutex<SinkState>>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, 16 * 1024 * 1024)
        .await
        .unwrap_or_default();
    let reply = {
        let mut s = state.lock().unwrap();
        s.received.push(Received {
            method: parts.method.to_string(),
            path: parts.uri.path().to_owned(),
            query: parts.uri.query().map(str::to_owned),
            headers: parts.headers,
            body,
            at: Instant::now(),
        });
        s.replies.pop_front().unwrap_or_else(|| Reply::status(200))
    };
    let mut response = (
        StatusCode::from_u16(reply.status).unwrap(),
        axum::Json(reply.body),
    )
        .into_response();
    for (k, v) in reply.headers {
        response.headers_mut().insert(
            axum::http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
            v.parse().unwrap(),
        );
    }
    response
}

impl Sink {
    pub async fn start() -> Self {
        let state = Arc::new(Mutex::new(SinkState::default()));
        let app = axum::Router::new()
            .fallback(record)
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Self { addr, state }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// Answers the next requests with these replies, in order.
    pub fn reply_with(&self, replies: impl IntoIterator<Item = Reply>) {
        self.state.lock().unwrap().replies.extend(replies);
    }

    pub fn received(&self) -> Vec<Received> {
        self.state.lock().unwrap().received.clone()
    }

    /// Waits until at least `n` requests have arrived; panics after `within`.
    pub async fn wait_for(&self, n: usize, within: Duration) -> Vec<Received> {
        let deadline = Instant::now() + within;
        loop {
            let got = self.received();
            if got.len() >= n {
                return got;
            }
            assert!(
                Instant::now() < deadline,
                "the sink got {} request(s), expected {n} within {within:?}",
                got.len()
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }
}

// ------------------------------------------------------------ hooklane dev

/// Which backend a `hooklane dev` runs on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Backend {
    Embedded,
    /// moto's endpoint; a fresh table and queue per process.
    Aws {
        endpoint: String,
        table: String,
        queue: String,
    },
}

impl Backend {
    /// DynamoDB + SQS on moto, with a fresh table and queue.
    ///
    /// # Panics
    /// Without moto (see [`moto`]).
    pub fn aws() -> Backend {
        Backend::Aws {
            endpoint: moto(),
            table: unique("hl-e2e"),
            queue: unique("hl-e2e"),
        }
    }
}

/// A running `hooklane dev`.
pub struct Dev {
    pub base: String,
    pub token: String,
    pub client: reqwest::Client,
    bin: PathBuf,
    backend: Backend,
    addr: SocketAddr,
    data_dir: tempfile::TempDir,
    env: Vec<(String, String)>,
    child: Option<Child>,
}

impl Dev {
    /// Starts `bin` (the `hooklane` binary) and waits for `/healthz`.
    pub async fn start(bin: &Path, backend: Backend, env: &[(&str, &str)]) -> Self {
        let mut dev = Dev {
            base: String::new(),
            token: format!("test-token-{}", ulid::Ulid::new()),
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            bin: bin.to_owned(),
            backend,
            addr: free_addr(),
            data_dir: tempfile::tempdir().unwrap(),
            env: env
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            child: None,
        };
        dev.base = format!("http://{}", dev.addr);
        dev.launch().await;
        dev
    }

    async fn launch(&mut self) {
        // stdout (logs, the banner) and stderr both go to dev.log, appended across restarts.
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.data_dir.path().join("dev.log"))
            .unwrap();
        let mut cmd = Command::new(&self.bin);
        cmd.arg("dev")
            .arg("--addr")
            .arg(self.addr.to_string())
            .arg("--data-dir")
            .arg(self.data_dir.path())
            .env("HOOKLANE_ADMIN_TOKEN", &self.token)
            .env("HOOKLANE_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::from(log.try_clone().unwrap()))
            .stderr(Stdio::from(log));
        match &self.backend {
            Backend::Embedded => {
                cmd.arg("--backend").arg("embedded");
            }
            Backend::Aws {
                endpoint,
                table,
                queue,
            } => {
                cmd.arg("--backend")
                    .arg("aws")
                    .env("AWS_ENDPOINT_URL", endpoint)
                    .env("HOOKLANE_TABLE", table)
                    .env("HOOKLANE_QUEUE_NAME", queue)
                    .env_remove("HOOKLANE_QUEUE_URL");
            }
        }
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        self.child = Some(cmd.spawn().expect("start hooklane dev"));
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(r) = self
                .client
                .get(format!("{}/healthz", self.base))
                .send()
                .await
            {
                if r.status().is_success() {
                    return;
                }
            }
            if let Some(status) = self.child.as_mut().unwrap().try_wait().unwrap() {
                panic!("hooklane dev exited with {status}:\n{}", self.log());
            }
            assert!(
                Instant::now() < deadline,
                "hooklane dev did not become ready:\n{}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The data dir this instance keeps its files in.
    pub fn data_dir(&self) -> &Path {
        self.data_dir.path()
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.data_dir.path().join("dev.log")).unwrap_or_default()
    }

    /// SIGKILL: no shutdown, no flush.
    pub fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().unwrap();
            child.wait().unwrap();
        }
    }

    /// Starts the process again on the same data dir, port and backend.
    pub async fn restart(&mut self) {
        self.kill9();
        self.launch().await;
    }

    /// Restarts with some environment changed.
    pub async fn restart_with(&mut self, env: &[(&str, &str)]) {
        for (k, v) in env {
            self.env.retain(|(name, _)| name != k);
            self.env.push((k.to_string(), v.to_string()));
        }
        self.restart().await;
    }

    pub fn admin(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.client
            .request(method, format!("{}{}", self.base, path))
            .bearer_auth(&self.token)
    }

    /// POSTs JSON to an admin route; panics unless it answers `want`.
    pub async fn admin_json(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Value,
        want: u16,
    ) -> Value {
        let r = self
            .admin(method.clone(), path)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        let answer: Value = r.json().await.unwrap_or(Value::Null);
        assert_eq!(status, want, "{method} {path}: {answer}");
        answer
    }

    pub async fn get(&self, path: &str) -> Value {
        let r = self.admin(reqwest::Method::GET, path).send().await.unwrap();
        assert!(r.status().is_success(), "GET {path}: {}", r.status());
        r.json().await.unwrap()
    }

    /// Creates a bot; returns (id, api_key).
    pub async fn bot(&self) -> (String, String) {
        let b = self
            .admin_json(
                reqwest::Method::POST,
                "/v1/bots",
                json!({"name": "Test bot"}),
                201,
            )
            .await;
        (
            b["id"].as_str().unwrap().to_owned(),
            b["api_key"].as_str().unwrap().to_owned(),
        )
    }

    /// Creates a hook; returns its JSON.
    pub async fn hook(&self, bot: &str, hook: Value) -> Value {
        self.admin_json(
            reqwest::Method::POST,
            &format!("/v1/bots/{bot}/hooks"),
            hook,
            201,
        )
        .await
    }

    /// Waits until the hook has `n` runs that are done; returns them, newest first.
    pub async fn runs(&self, bot: &str, hook: &str, n: usize, within: Duration) -> Vec<Value> {
        let deadline = Instant::now() + within;
        loop {
            let page = self.get(&format!("/v1/bots/{bot}/hooks/{hook}/runs")).await;
            let runs: Vec<Value> = page["data"].as_array().cloned().unwrap_or_default();
            let done = runs
                .iter()
                .filter(|r| r["status"] != "running" && r["status"] != "retrying")
                .count();
            if done >= n {
                return runs;
            }
            assert!(
                Instant::now() < deadline,
                "expected {n} finished runs, got {runs:?}\n{}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Dev {
    fn drop(&mut self) {
        self.kill9();
    }
}

// ---------------------------------------------------------------- crypto

/// Hashing, HMAC and base64 for test-side verifiers, from the RustCrypto
/// and base64 crates: independent of Hooklane's own signing code.
pub mod crypto {
    use base64::Engine as _;
    use hmac::{Hmac, Mac};
    use sha2::{Digest, Sha256};

    pub fn sha256(data: &[u8]) -> [u8; 32] {
        Sha256::digest(data).into()
    }

    pub fn hmac_sha256(key: &[u8], data: &[u8]) -> [u8; 32] {
        let mut mac =
            <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes any key length");
        mac.update(data);
        mac.finalize().into_bytes().into()
    }

    pub fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    pub fn base64_encode(data: &[u8]) -> String {
        base64::engine::general_purpose::STANDARD.encode(data)
    }

    pub fn base64_decode(text: &str) -> Option<Vec<u8>> {
        base64::engine::general_purpose::STANDARD.decode(text).ok()
    }

    pub fn base64url_encode(data: &[u8]) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(data)
    }

    pub fn base64url_decode(text: &str) -> Vec<u8> {
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(text)
            .unwrap_or_default()
    }
}

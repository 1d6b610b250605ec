//! `hooklane dev`: the ingress and admin routers on one port, the
//! dispatcher as an in-process poller, on the embedded backend by default.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use axum::middleware;
use hooklane_admin::{AdminAuth, AdminState, PortalKey};
use hooklane_ingress::IngressState;
use hooklane_runtime::config::{env_bool, env_opt, env_u64, Settings};
use hooklane_runtime::Services;
use hooklane_store::sqlite::{Sqlite, SqliteQueueSettings};
use hooklane_store::{Queue, Store};

use clap::ValueEnum;

use crate::{data_dir, serve};

/// Which store and queue `hooklane dev` runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Backend {
    /// One SQLite file in the data dir: nothing else to install.
    Embedded,
    /// DynamoDB and SQS (HOOKLANE_TABLE, HOOKLANE_QUEUE_URL, the standard AWS environment).
    Aws,
}

/// Listens on `addr` (`host:port`, `:port` or `port`; a bare port means
/// 127.0.0.1), trying each address a host name resolves to.
///
/// Errors name the address and, for a busy port, the option that changes it.
async fn listen(addr: &str) -> anyhow::Result<tokio::net::TcpListener> {
    let addr = listen_address(addr)?;
    let candidates: Vec<SocketAddr> = tokio::net::lookup_host(addr.as_str())
        .await
        .with_context(|| format!("--addr {addr}: the host name does not resolve"))?
        .collect();
    let mut last = None;
    for candidate in candidates {
        match tokio::net::TcpListener::bind(candidate).await {
            Ok(listener) => return Ok(listener),
            Err(e) => last = Some((candidate, e)),
        }
    }
    match last {
        Some((at, e)) if e.kind() == std::io::ErrorKind::AddrInUse => anyhow::bail!(
            "cannot listen on {at}: the port is in use by another program; \
             choose another with --addr (or HOOKLANE_ADDR), e.g. --addr 127.0.0.1:8081"
        ),
        Some((at, e)) => Err(anyhow::Error::new(e).context(format!("cannot listen on {at}"))),
        None => anyhow::bail!("--addr {addr}: the host name has no address"),
    }
}

/// `host:port` from what `--addr` accepts: `host:port`, `[v6]:port`,
/// `:port` or a bare `port` (both on 127.0.0.1).
pub fn listen_address(addr: &str) -> anyhow::Result<String> {
    let addr = addr.trim();
    let bad = || {
        anyhow::anyhow!(
            "--addr `{addr}` is not an address to listen on: give host:port (127.0.0.1:8080, localhost:8080, [::1]:8080), :port or a port"
        )
    };
    let (host, port) = match addr.rsplit_once(':') {
        Some((host, port)) => (host, port),
        None => ("", addr),
    };
    let port: u16 = port.parse().map_err(|_| bad())?;
    let host = host.trim();
    if host.is_empty() {
        return Ok(format!("127.0.0.1:{port}"));
    }
    if host.contains(':') && !(host.starts_with('[') && host.ends_with(']')) {
        return Err(bad());
    }
    Ok(format!("{host}:{port}"))
}

/// The shortest admin token `hooklane dev` accepts, in characters.
pub const MIN_ADMIN_TOKEN_CHARS: usize = 32;

/// `HOOKLANE_ADMIN_TOKEN` when set; an error when it is too short to be a
/// credential (fewer than [`MIN_ADMIN_TOKEN_CHARS`] characters).
fn admin_token_from_env() -> anyhow::Result<Option<String>> {
    match env_opt("HOOKLANE_ADMIN_TOKEN") {
        Some(token) if token.trim().chars().count() < MIN_ADMIN_TOKEN_CHARS => anyhow::bail!(
            "HOOKLANE_ADMIN_TOKEN is too short: an admin token needs at least {MIN_ADMIN_TOKEN_CHARS} characters \
             (unset it and one is generated and kept in the data dir)"
        ),
        token => Ok(token.map(|t| t.trim().to_owned())),
    }
}

/// The admin token: `HOOKLANE_ADMIN_TOKEN`, or one generated once and kept in the data dir.
fn admin_token(data_dir: &Path, from_env: Option<String>) -> anyhow::Result<String> {
    if let Some(token) = from_env {
        return Ok(token);
    }
    let path = data_dir.join("admin-token");
    if let Ok(token) = std::fs::read_to_string(&path) {
        let token = token.trim().to_owned();
        if !token.is_empty() {
            return Ok(token);
        }
    }
    let bytes: [u8; 24] = rand::random();
    let token = format!(
        "hla_{}",
        bytes.iter().map(|b| format!("{b:02x}")).collect::<String>()
    );
    write_private(&path, &token)
        .with_context(|| format!("keeping the admin token in {}", path.display()))?;
    Ok(token)
}

/// The key portal links are signed with: 32 random bytes, generated once and
/// kept as 64 hex digits (the HMAC key) in the data dir's `portal-key`,
/// readable by its owner only. It is not the admin token: a portal link
/// never reveals or stands for it.
fn portal_key(data_dir: &Path) -> anyhow::Result<Arc<[u8]>> {
    let path = data_dir.join("portal-key");
    if let Ok(text) = std::fs::read_to_string(&path) {
        let key = text.trim();
        if key.len() >= 64 {
            return Ok(key.as_bytes().into());
        }
    }
    let bytes: [u8; 32] = rand::random();
    let key: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    write_private(&path, &key)
        .with_context(|| format!("keeping the portal key in {}", path.display()))?;
    Ok(key.as_bytes().into())
}

fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(text.as_bytes())?;
    file.sync_all()
}

async fn backend(
    kind: Backend,
    data_dir: &Path,
) -> anyhow::Result<(Arc<dyn Store>, Arc<dyn Queue>, Option<Sqlite>)> {
    match kind {
        Backend::Embedded => {
            let max_receives = env_u64("HOOKLANE_MAX_RECEIVES")?.unwrap_or(5) as u32;
            let db = Sqlite::open(
                &data_dir.join("hooklane.db"),
                SqliteQueueSettings {
                    max_receives,
                    ..Default::default()
                },
            )?;
            Ok((Arc::new(db.clone()), Arc::new(db.clone()), Some(db)))
        }
        Backend::Aws => {
            use hooklane_store::dynamodb::DynamoStore;
            use hooklane_store::sqs::SqsQueue;
            let aws = hooklane_store::aws_config().await?;
            let table = env_opt("HOOKLANE_TABLE").unwrap_or_else(|| "hooklane-dev".into());
            let store = DynamoStore::new(&aws, &table);
            store
                .ensure_table()
                .await
                .with_context(|| format!("preparing the table {table}"))?;
            let queue = match env_opt("HOOKLANE_QUEUE_URL") {
                Some(url) => SqsQueue::new(&aws, url),
                None => {
                    let max_receives = env_u64("HOOKLANE_MAX_RECEIVES")?.unwrap_or(5) as u32;
                    let name =
                        env_opt("HOOKLANE_QUEUE_NAME").unwrap_or_else(|| "hooklane-dev".into());
                    SqsQueue::ensure_queue(&aws, &name, max_receives)
                        .await
                        .with_context(|| format!("preparing the queue {name}"))?
                }
            };
            Ok((Arc::new(store), Arc::new(queue), None))
        }
    }
}

pub async fn run(addr: &str, data_dir: PathBuf, kind: Backend) -> anyhow::Result<()> {
    hooklane_runtime::telemetry::init(false);
    let settings = Settings::from_env(true)?;
    let limits = serve::Limits::from_env()?;
    let env_token = admin_token_from_env()?;
    // The port first: a busy one leaves the data dir untouched.
    let listener = listen(addr).await?;
    let local = listener.local_addr()?;
    if !local.ip().is_loopback() {
        tracing::warn!(
            addr = %local,
            "listening beyond this machine: anyone who can reach {local} can call hooks, and the admin API answers to the admin token; \
             hooklane dev is meant for loopback (--addr 127.0.0.1:PORT)"
        );
    }
    let _lock = data_dir::prepare(&data_dir)?;
    let token = admin_token(&data_dir, env_token)?;
    // On AWS the key is the table's, shared with a deployed admin function.
    let portal = match kind {
        Backend::Embedded => PortalKey::Fixed(portal_key(&data_dir)?),
        Backend::Aws => PortalKey::stored(),
    };
    let (store, queue, sqlite) = backend(kind, &data_dir).await?;
    let svc = Services::new(store, queue, settings)?;
    let base = format!("http://{local}");

    let admin = hooklane_admin::router(AdminState {
        svc: svc.clone(),
        auth: AdminAuth::Token(token.clone().into()),
        public_url: env_opt("HOOKLANE_PUBLIC_URL").or_else(|| Some(base.clone())),
        portal,
    });
    let app = hooklane_web::contract_shaped(
        hooklane_ingress::router(IngressState::new(svc.clone()))
            .merge(admin)
            .fallback(hooklane_web::fallback)
            .layer(middleware::from_fn(hooklane_web::client_ip_from_peer)),
    );

    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    // HOOKLANE_DISPATCH=false serves ingress and admin only (the dispatcher runs elsewhere).
    let dispatch = env_bool("HOOKLANE_DISPATCH")?.unwrap_or(true);
    let poller =
        dispatch.then(|| tokio::spawn(hooklane_dispatcher::poll(svc.clone(), stop_rx.clone())));
    if let Some(db) = sqlite {
        let mut stop = stop_rx.clone();
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_secs(600)) => {}
                    _ = stop.changed() => return,
                }
                if let Err(e) = db.purge_expired().await {
                    tracing::warn!(error.message = %e, "purging expired records failed");
                }
            }
        });
    }

    println!(
        "Hooklane dev is listening on {base} ({kind:?} backend, data in {})",
        data_dir.display()
    );
    if !dispatch {
        println!("The dispatcher is off (HOOKLANE_DISPATCH=false): calls are queued, not run.");
    }
    println!("Admin token: {token}");
    println!();
    println!("Try it:");
    println!("  curl -s -X POST {base}/v1/bots -H 'Authorization: Bearer {token}' -H 'content-type: application/json' -d '{{\"name\": \"My bot\"}}'");
    println!(
        "  # then create a hook with the bot's id, and call the hook's url with the bot's api_key:"
    );
    println!("  curl -s -X POST {base}/v1/bots/BOT_ID/hooks -H 'Authorization: Bearer {token}' -H 'content-type: application/json' \\");
    println!("       -d '{{\"name\": \"Payments\", \"actions\": [{{\"type\": \"log\", \"message\": \"paid {{amount}}\"}}]}}'");
    println!("  curl -s -X POST {base}/hooks/BOT_ID/HOOK_ID -H 'Authorization: API_KEY' -H 'content-type: application/json' \\");
    println!("       -d '{{\"variables\": [{{\"name\": \"Amount\", \"variable\": \"{{amount}}\", \"value\": \"12\"}}]}}'");
    println!();

    serve::serve(listener, app, limits, async {
        shutdown_signal().await;
        tracing::info!("stopping");
    })
    .await?;
    let _ = stop_tx.send(true);
    if let Some(poller) = poller {
        let _ = poller.await;
    }
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
}

#[cfg(test)]
mod tests {
    use super::listen_address;

    #[test]
    fn addr_takes_host_names_bare_ports_and_v6() {
        for (given, want) in [
            ("127.0.0.1:8080", "127.0.0.1:8080"),
            ("localhost:8080", "localhost:8080"),
            (":8080", "127.0.0.1:8080"),
            ("8080", "127.0.0.1:8080"),
            ("[::1]:8080", "[::1]:8080"),
            (" 0.0.0.0:9000 ", "0.0.0.0:9000"),
        ] {
            assert_eq!(listen_address(given).unwrap(), want, "{given}");
        }
        for bad in ["", "localhost", "::1:8080", "host:99999", "host:port"] {
            assert!(listen_address(bad).is_err(), "{bad}");
        }
    }
}

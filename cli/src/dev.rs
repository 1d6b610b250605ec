//! `hooklane dev`: the ingress and admin routers on one port, the
//! dispatcher as an in-process poller, on the embedded backend by default.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use axum::middleware;
use hooklane_admin::{AdminAuth, AdminState};
use hooklane_domain::config::{env_bool, env_opt, env_u64, Settings};
use hooklane_engine::Services;
use hooklane_ingress::IngressState;
use hooklane_store::sqlite::{Sqlite, SqliteQueueSettings};
use hooklane_store::{Queue, Store};

use crate::Backend;

/// The admin token: `HOOKLANE_ADMIN_TOKEN`, or one generated once and kept in the data dir.
fn admin_token(data_dir: &Path) -> anyhow::Result<String> {
    if let Some(token) = env_opt("HOOKLANE_ADMIN_TOKEN") {
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
            let aws = hooklane_store::aws_config().await;
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

pub async fn run(addr: SocketAddr, data_dir: PathBuf, kind: Backend) -> anyhow::Result<()> {
    hooklane_domain::telemetry::init(false);
    std::fs::create_dir_all(&data_dir)
        .with_context(|| format!("creating {}", data_dir.display()))?;
    let settings = Settings::from_env(true)?;
    let token = admin_token(&data_dir)?;
    let (store, queue, sqlite) = backend(kind, &data_dir).await?;
    let svc = Services::new(store, queue, settings)?;

    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("listening on {addr}"))?;
    let local = listener.local_addr()?;
    let base = format!("http://{local}");

    let admin = hooklane_admin::router(AdminState {
        svc: svc.clone(),
        auth: AdminAuth::Token(token.clone().into()),
        public_url: env_opt("HOOKLANE_PUBLIC_URL").or_else(|| Some(base.clone())),
    });
    let app = hooklane_ingress::router(IngressState::new(svc.clone()))
        .merge(admin)
        .fallback(hooklane_web::fallback)
        .layer(middleware::from_fn(hooklane_web::contract_errors))
        .layer(middleware::from_fn(hooklane_web::client_ip_from_peer));

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

    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async {
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

//! The HTTP server of `hooklane dev`: the axum app on hyper's HTTP/1.1
//! connections, with the limits a server open to callers needs (a slow or
//! stalled client cannot hold the server: see [`Limits`]).

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use anyhow::Context as _;
use axum::extract::ConnectInfo;
use axum::Router;
use hooklane_runtime::config::env_u64;
use hyper::body::{Body, Bytes, Frame, Incoming, SizeHint};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower::ServiceExt as _;
use tower_http::timeout::RequestBodyTimeoutLayer;

/// The server's limits; each can be set from the environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Longest wait for a request's headers to arrive in full, also between
    /// two requests on a kept-alive connection
    /// (`HOOKLANE_HEADER_TIMEOUT_SECS`, default 10 s).
    pub header_read_timeout: Duration,
    /// Longest wait between two parts of a request body, so a body shorter
    /// than its `Content-Length` cannot hold a connection open
    /// (`HOOKLANE_BODY_TIMEOUT_SECS`, default 30 s); the request is then
    /// answered 400 `invalid_body` ("data was not received within the
    /// designated timeout") and nothing of it is kept.
    pub body_read_timeout: Duration,
    /// Longest time a request body may take in full, counted from the
    /// request's headers, so a body sent a byte at a time cannot hold a
    /// connection open (`HOOKLANE_BODY_DEADLINE_SECS`, default 30 s); the
    /// request is then answered as for `body_read_timeout`.
    pub body_deadline: Duration,
    /// Most connections open at once (`HOOKLANE_MAX_CONNECTIONS`, default
    /// 1024); further ones wait in the listen backlog until one closes.
    pub max_connections: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            header_read_timeout: Duration::from_secs(10),
            body_read_timeout: Duration::from_secs(30),
            body_deadline: Duration::from_secs(30),
            max_connections: 1024,
        }
    }
}

impl Limits {
    /// The defaults, overridden by the `HOOKLANE_*` variables above.
    ///
    /// Errors: a variable that is not a positive whole number names itself.
    pub fn from_env() -> anyhow::Result<Self> {
        let default = Self::default();
        let positive = |name: &'static str| -> anyhow::Result<Option<u64>> {
            match env_u64(name)? {
                Some(0) => anyhow::bail!("{name} must be at least 1"),
                other => Ok(other),
            }
        };
        Ok(Self {
            header_read_timeout: positive("HOOKLANE_HEADER_TIMEOUT_SECS")?
                .map_or(default.header_read_timeout, Duration::from_secs),
            body_read_timeout: positive("HOOKLANE_BODY_TIMEOUT_SECS")?
                .map_or(default.body_read_timeout, Duration::from_secs),
            body_deadline: positive("HOOKLANE_BODY_DEADLINE_SECS")?
                .map_or(default.body_deadline, Duration::from_secs),
            max_connections: positive("HOOKLANE_MAX_CONNECTIONS")?
                .map_or(default.max_connections, |n| n as usize),
        })
    }
}

/// The body's time is up: its text is the one the gap timeout gives, so
/// both are answered alike (400 `invalid_body`).
#[derive(Debug)]
struct BodyDeadlineElapsed;

impl std::fmt::Display for BodyDeadlineElapsed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("data was not received within the designated timeout")
    }
}

impl std::error::Error for BodyDeadlineElapsed {}

/// A request body that fails with [`BodyDeadlineElapsed`] once `deadline`
/// has passed since it was made, however often parts of it arrive.
struct DeadlineBody {
    inner: Incoming,
    deadline: Pin<Box<tokio::time::Sleep>>,
}

impl DeadlineBody {
    fn new(inner: Incoming, deadline: Duration) -> Self {
        Self {
            inner,
            deadline: Box::pin(tokio::time::sleep(deadline)),
        }
    }
}

impl Body for DeadlineBody {
    type Data = Bytes;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        if self.deadline.as_mut().poll(cx).is_ready() {
            return Poll::Ready(Some(Err(Box::new(BodyDeadlineElapsed))));
        }
        Pin::new(&mut self.inner)
            .poll_frame(cx)
            .map(|frame| frame.map(|f| f.map_err(Into::into)))
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// How long open connections get to finish their requests after `shutdown`.
const DRAIN: Duration = Duration::from_secs(10);

/// Serves `app` on `listener` until `shutdown` completes, then lets open
/// requests finish (at most [`DRAIN`]). Each request carries the caller's
/// address as `ConnectInfo<SocketAddr>`.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let graceful = GracefulShutdown::new();
    let app = tower::ServiceBuilder::new()
        .layer(RequestBodyTimeoutLayer::new(limits.body_read_timeout))
        .service(app);
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            p = slots.clone().acquire_owned() => p.context("the connection limit was closed")?,
            _ = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors and the like: wait, do not spin.
                    tracing::warn!(error.message = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let service = app
            .clone()
            .map_request(move |request: http::Request<Incoming>| {
                let mut request = request.map(|body| DeadlineBody::new(body, limits.body_deadline));
                request
                    .extensions_mut()
                    .insert(ConnectInfo::<SocketAddr>(peer));
                request
            });
        let connection = hyper::server::conn::http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(limits.header_read_timeout)
            .serve_connection(TokioIo::new(stream), TowerToHyperService::new(service));
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            let _permit = permit;
            if let Err(e) = connection.await {
                tracing::debug!(error.message = %e, %peer, "connection ended with an error");
            }
        });
    }
    drop(listener);
    tokio::select! {
        _ = graceful.shutdown() => {}
        _ = tokio::time::sleep(DRAIN) => {
            tracing::warn!("open connections did not finish within {} s; closing them", DRAIN.as_secs());
        }
    }
    Ok(())
}

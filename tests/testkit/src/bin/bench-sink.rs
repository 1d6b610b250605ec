//! A fast HTTP/1.1 sink for `tests/bench.sh`: answers `200 OK` to every
//! request and counts the unique messages it has received.
//!
//! A message's key is its `webhook-id` header when present (signed
//! deliveries), otherwise its whole body (an `http_request` action whose
//! body carries a unique id). `GET /_stats` answers
//! `{"unique": N, "total": N, "first_ms": T, "last_ms": T}` where the times
//! are Unix epoch milliseconds of the first request and of the last request
//! that brought a new key (0 before any). `POST /_reset` forgets everything.
//!
//! Usage: `bench-sink [ADDR]` (default `127.0.0.1:0`). Prints
//! `listening ADDR` on stdout once bound, then serves until killed.

use std::collections::HashSet;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Method, Request, Response};
use hyper_util::rt::TokioIo;

#[derive(Default)]
struct Tally {
    keys: HashSet<Bytes>,
    total: u64,
    first_ms: u128,
    last_ms: u128,
}

type Shared = Arc<Mutex<Tally>>;

fn now_ms() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0)
}

async fn handle(
    tally: Shared,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let (parts, body) = req.into_parts();
    match (parts.method.clone(), parts.uri.path()) {
        (Method::GET, "/_stats") => {
            let t = tally.lock().expect("tally lock");
            let json = format!(
                r#"{{"unique": {}, "total": {}, "first_ms": {}, "last_ms": {}}}"#,
                t.keys.len(),
                t.total,
                t.first_ms,
                t.last_ms
            );
            return Ok(Response::new(Full::new(Bytes::from(json))));
        }
        (Method::POST, "/_reset") => {
            *tally.lock().expect("tally lock") = Tally::default();
            return Ok(Response::new(Full::new(Bytes::new())));
        }
        _ => {}
    }
    let body = body
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let key = match parts.headers.get("webhook-id") {
        Some(id) => Bytes::copy_from_slice(id.as_bytes()),
        None => body,
    };
    let now = now_ms();
    let mut t = tally.lock().expect("tally lock");
    if t.total == 0 {
        t.first_ms = now;
    }
    t.total += 1;
    if t.keys.insert(key) {
        t.last_ms = now;
    }
    Ok(Response::new(Full::new(Bytes::new())))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:0".into());
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    println!("listening {}", listener.local_addr()?);
    let tally: Shared = Arc::default();
    loop {
        let (stream, _) = listener.accept().await?;
        let _ = stream.set_nodelay(true);
        let tally = tally.clone();
        tokio::spawn(async move {
            let svc = hyper::service::service_fn(move |req| handle(tally.clone(), req));
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), svc)
                .await;
        });
    }
}

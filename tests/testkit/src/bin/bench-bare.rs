//! A bare hyper HTTP/1.1 server that reads each request body and answers
//! `202 Accepted` with an empty body: the ceiling `tests/bench.sh` compares
//! `hooklane dev` against.
//!
//! Usage: `bench-bare [ADDR]` (default `127.0.0.1:0`). Prints
//! `listening ADDR` on stdout once bound, then serves until killed.

use std::convert::Infallible;

use http_body_util::{BodyExt, Empty};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;

async fn accept(req: Request<Incoming>) -> Result<Response<Empty<Bytes>>, Infallible> {
    // Read the body as a real handler would; a broken body still answers.
    let _ = req.into_body().collect().await;
    let mut res = Response::new(Empty::new());
    *res.status_mut() = StatusCode::ACCEPTED;
    Ok(res)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:0".into());
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    println!("listening {}", listener.local_addr()?);
    loop {
        let (stream, _) = listener.accept().await?;
        let _ = stream.set_nodelay(true);
        tokio::spawn(async move {
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), hyper::service::service_fn(accept))
                .await;
        });
    }
}

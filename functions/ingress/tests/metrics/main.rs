//! The metrics the dashboard reads: every hook call and every publish is
//! counted once, `Accepted` by route, or `Rejected` by route and error
//! code. Outside Lambda a data point is a `debug` line of target
//! `hooklane::metrics`, captured here.
//!
//! A binary of its own: tracing caches whether a callsite is wanted, for
//! every thread at once, so tests of another binary hitting the same
//! callsites on other threads with no subscriber could hide the lines this
//! one captures.

#[allow(dead_code)]
#[path = "../it/support.rs"]
mod support;

use std::io::Write;
use std::sync::{Arc, Mutex};

use support::*;

/// The lines logged on this thread while the guard lives (the test runs on
/// tokio's current-thread runtime, so the router's work too).
#[derive(Clone, Default)]
struct Lines(Arc<Mutex<Vec<u8>>>);

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
    fn capture() -> (Self, tracing::subscriber::DefaultGuard) {
        let lines = Lines::default();
        let writer = lines.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::DEBUG)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish();
        (lines, tracing::subscriber::set_default(subscriber))
    }

    /// The metric lines, each cut to what follows `metric=`, taken out.
    fn metrics(&self) -> Vec<String> {
        let text =
            String::from_utf8_lossy(&std::mem::take(&mut *self.0.lock().unwrap())).into_owned();
        text.lines()
            .filter(|l| l.contains("hooklane::metrics"))
            .filter_map(|l| l.split_once("metric=").map(|(_, m)| m.to_owned()))
            .collect()
    }
}

/// One data point of `name` with these dimensions, as the debug line reads.
fn point(name: &str, dims: &str) -> String {
    format!("\"{name}\" value=1.0 unit=\"Count\" dimensions=[{dims}]")
}

#[tokio::test]
async fn a_refused_publish_is_counted_as_rejected_by_route_and_code_as_a_refused_hook_call_is() {
    let t = Ingress::start().await;
    let (lines, _guard) = Lines::capture();
    let publish = |key: &str, body: &str| {
        Call::post(format!("/v1/bots/{BOT}/events"))
            .json(body.to_owned())
            .header("authorization", format!("Bearer {key}"))
            .build()
    };
    let good = r#"{"event": "order.created", "data": {"n": 1}}"#;

    let cases = [
        (
            publish(&t.key, good),
            202,
            point("Accepted", r#"("Route", "publish")"#),
        ),
        (
            publish("hlk_wrong", good),
            401,
            point(
                "Rejected",
                r#"("Route", "publish"), ("Code", "unauthorized")"#,
            ),
        ),
        (
            publish(&t.key, r#"{"event": "a b"}"#),
            400,
            point(
                "Rejected",
                r#"("Route", "publish"), ("Code", "invalid_event")"#,
            ),
        ),
        (
            Call::post("/v1/bots/nobody/events")
                .json(good)
                .header("authorization", "Bearer hlk_x")
                .build(),
            404,
            point("Rejected", r#"("Route", "publish"), ("Code", "not_found")"#),
        ),
        (
            Call::post(path("hk_apikey"))
                .json("{}")
                .header("authorization", "hlk_wrong")
                .build(),
            401,
            point("Rejected", r#"("Route", "hook"), ("Code", "unauthorized")"#),
        ),
    ];
    for (request, status, want) in cases {
        let answer = t.send(request).await;
        assert_eq!(answer.status, status, "{want}: {:?}", answer.body);
        assert_eq!(lines.metrics(), vec![want]);
    }
}

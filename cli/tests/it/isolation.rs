//! A slow or dead host holds back no other: beside a host that accepts
//! connections and never answers, hook calls and deliveries to a fast sink
//! go through at once, the hung host never has more than its share of calls
//! in flight (what is over it waits in the queue, not as an attempt), and a
//! host whose calls time out in a row is paused (its calls fail at once).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use hooklane_testkit::{on_every_backend, Backend, Dev, Sink};
use reqwest::Method;
use serde_json::{json, Value};

use crate::common::{bin, WAIT};

/// Calls to the hung host: more than the embedded poller works on at once
/// (128), so without each host's share they would fill every slot.
const HUNG_CALLS: usize = 200;
const FAST_CALLS: usize = 50;

/// The most calls to one host in flight at once (`HOST_IN_FLIGHT`).
const HOST_SHARE: usize = 64;

/// A loopback host that accepts every connection, reads nothing and never
/// answers (or answers only the start of a failure, then stalls); counts
/// the connections it took.
struct Hung {
    addr: std::net::SocketAddr,
    accepted: Arc<AtomicUsize>,
}

impl Hung {
    async fn start() -> Self {
        Self::writing(b"").await
    }

    /// Headers of a 503 promising 1000 bytes of body, 7 of them, then nothing.
    async fn stalling_its_answers() -> Self {
        Self::writing(b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 1000\r\n\r\npartial")
            .await
    }

    async fn writing(start: &'static [u8]) -> Self {
        use tokio::io::AsyncWriteExt as _;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let accepted = Arc::new(AtomicUsize::new(0));
        let count = accepted.clone();
        tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((mut socket, _)) = listener.accept().await {
                count.fetch_add(1, Ordering::SeqCst);
                if !start.is_empty() {
                    // The request comes first; an answer before it is not read.
                    let mut buf = vec![0u8; 64 * 1024];
                    let _ = tokio::time::timeout(
                        Duration::from_millis(200),
                        tokio::io::AsyncReadExt::read(&mut socket, &mut buf),
                    )
                    .await;
                    let _ = socket.write_all(start).await;
                }
                held.push(socket);
            }
        });
        Self { addr, accepted }
    }

    fn url(&self) -> String {
        format!("http://{}/in", self.addr)
    }

    fn accepted(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }
}

async fn call(dev: &Dev, hook: &Value, key: &str, n: usize) {
    let r = dev
        .client
        .post(hook["url"].as_str().unwrap())
        .bearer_auth(key)
        .json(&json!({ "n": n }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202, "{}", r.text().await.unwrap_or_default());
}

/// Publishes `tick` with `data`; it must be accepted.
async fn publish(dev: &Dev, bot: &str, key: &str, data: Value) {
    let r = dev
        .client
        .post(format!("{}/v1/bots/{bot}/events", dev.base))
        .bearer_auth(key)
        .json(&json!({"event": "tick", "data": data}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
}

/// Waits until `host` has taken `n` connections.
async fn wait_accepted(host: &Hung, n: usize, dev: &Dev) {
    let deadline = Instant::now() + WAIT;
    while host.accepted() < n {
        assert!(
            Instant::now() < deadline,
            "{} calls reached the host, not {n}\n{}",
            host.accepted(),
            dev.log()
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// A hook making a call with an effect (to `sink`'s `/first`), then one to `hung`.
async fn first_then_hung(dev: &Dev, bot: &str, sink: &Sink, hung: &Hung) -> Value {
    dev.hook(
        bot,
        json!({"name": "Both", "actions": [
            {"type": "http_request", "method": "POST", "url": sink.url("/first"), "body": {"n": "{payload.n}"}},
            {"type": "http_request", "method": "POST", "url": hung.url(), "body": {"n": "{payload.n}"}}
        ]}),
    )
    .await
}

async fn to(dev: &Dev, bot: &str, name: &str, url: String) -> Value {
    dev.hook(
        bot,
        json!({"name": name, "actions": [
            {"type": "http_request", "method": "POST", "url": url, "body": {"n": "{payload.n}"}}
        ]}),
    )
    .await
}

on_every_backend! {
    #[tokio::test(flavor = "multi_thread")]
    async fn hook_calls_to_a_fast_host_are_not_held_back_by_a_hung_one_on_every_backend(backend) {
        let hung = Hung::start().await;
        let sink = Sink::start().await;
        // Longer than the test waits: no hung call ends by timing out.
        let dev = Dev::start(bin(), backend.clone(), &[("HOOKLANE_OUTBOUND_TIMEOUT_SECONDS", "60")]).await;
        let (bot, key) = dev.bot().await;
        let stuck = to(&dev, &bot, "Hung", hung.url()).await;
        let fast = to(&dev, &bot, "Fast", sink.url("/fast")).await;

        for n in 0..HUNG_CALLS {
            call(&dev, &stuck, &key, n).await;
        }
        // The hung host's calls are taken up first.
        wait_accepted(&hung, HOST_SHARE, &dev).await;
        let started = Instant::now();
        for n in 0..FAST_CALLS {
            call(&dev, &fast, &key, n).await;
        }
        sink.wait_for(FAST_CALLS, Duration::from_secs(15)).await;
        let took = started.elapsed();
        assert!(took < Duration::from_secs(15), "{took:?}");
        // Within its share, however long it waits: the rest wait in the
        // queue, and none of them counts as a failed run.
        tokio::time::sleep(Duration::from_secs(2)).await;
        assert_eq!(hung.accepted(), HOST_SHARE, "{backend:?}\n{}", dev.log());
        let runs = dev.get(&format!("/v1/bots/{bot}/hooks/{}/runs", stuck["id"].as_str().unwrap())).await;
        assert_eq!(runs["data"].as_array().map(Vec::len), Some(0), "{runs}");
    }
}

on_every_backend! {
    #[tokio::test(flavor = "multi_thread")]
    async fn runs_that_made_a_call_before_a_hung_host_wait_their_turn_and_repeat_nothing_on_every_backend(backend) {
        let hung = Hung::start().await;
        let sink = Sink::start().await;
        let dev = Dev::start(bin(), backend.clone(), &[("HOOKLANE_OUTBOUND_TIMEOUT_SECONDS", "2")]).await;
        let (bot, key) = dev.bot().await;
        // A call with an effect first, then one to the hung host: once the
        // first is made, the run is not put back (it would repeat it).
        let both = first_then_hung(&dev, &bot, &sink, &hung).await;
        const CALLS: usize = 100;
        for n in 0..CALLS {
            call(&dev, &both, &key, n).await;
        }
        let hook = both["id"].as_str().unwrap();
        let deadline = Instant::now() + Duration::from_secs(60);
        let runs = loop {
            let page = dev.get(&format!("/v1/bots/{bot}/hooks/{hook}/runs?limit=100")).await;
            let runs = page["data"].as_array().cloned().unwrap_or_default();
            if runs.len() == CALLS && runs.iter().all(|r| r["status"] == "failed") {
                break runs;
            }
            assert!(Instant::now() < deadline, "{page}\n{}", dev.log());
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        for run in &runs {
            assert_eq!(run["status"], "failed", "{run}");
            let error = run["error"].as_str().unwrap();
            assert!(error.ends_with("not retried: an earlier action had taken effect"), "{error}");
        }
        let first = sink.received().iter().filter(|r| r.path == "/first").count();
        assert_eq!(first, CALLS, "{backend:?}");
        // 64 at once time out; until the fifth of them the host is not
        // paused, so four slots may be used again; then calls fail unsent.
        assert!(hung.accepted() <= HOST_SHARE + 4, "{}", hung.accepted());
        let paused = runs
            .iter()
            .filter(|r| r["error"].as_str().unwrap().contains("calls to it are paused"))
            .count();
        assert!(paused >= CALLS - HOST_SHARE - 4, "{paused}");
    }
}

on_every_backend! {
    #[tokio::test(flavor = "multi_thread")]
    async fn a_host_stalling_its_answers_is_held_to_its_share_and_paused_like_a_hung_one_on_every_backend(backend) {
        let stalling = Hung::stalling_its_answers().await;
        let sink = Sink::start().await;
        let dev = Dev::start(bin(), backend.clone(), &[("HOOKLANE_OUTBOUND_TIMEOUT_SECONDS", "3")]).await;
        let (bot, key) = dev.bot().await;
        let stuck = to(&dev, &bot, "Stalling", stalling.url()).await;
        let fast = to(&dev, &bot, "Fast", sink.url("/fast")).await;
        // One delivery goes there first: its row is kept whatever follows.
        let endpoint = dev
            .admin_json(Method::POST, &format!("/v1/bots/{bot}/endpoints"),
                json!({"name": "Stalling", "url": stalling.url(), "events": ["tick"]}), 201)
            .await["id"]
            .as_str()
            .unwrap()
            .to_owned();
        publish(&dev, &bot, &key, json!({})).await;
        wait_accepted(&stalling, 1, &dev).await;
        for n in 0..HUNG_CALLS {
            call(&dev, &stuck, &key, n).await;
        }
        wait_accepted(&stalling, HOST_SHARE, &dev).await;
        for n in 0..FAST_CALLS {
            call(&dev, &fast, &key, n).await;
        }
        sink.wait_for(FAST_CALLS, Duration::from_secs(2)).await;
        // Its answers stall until the timeout (3 s): counted as timeouts,
        // they pause the host, and what was put back then fails unsent.
        let hook = stuck["id"].as_str().unwrap();
        let deadline = Instant::now() + WAIT;
        loop {
            let runs = dev.get(&format!("/v1/bots/{bot}/hooks/{hook}/runs")).await;
            let paused = runs["data"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|r| r["error"].as_str().is_some_and(|e| e.contains("calls to it are paused")))
                .count();
            if paused > 0 {
                break;
            }
            assert!(Instant::now() < deadline, "{runs}\n{}", dev.log());
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        // The first 64 time out together; until the fifth of them the host
        // is not paused, so the four slots freed before may be used again.
        assert!(stalling.accepted() <= HOST_SHARE + 4, "{}", stalling.accepted());
        // A stalled answer's row says what came and that the rest did not.
        let rows = dev.get(&format!("/v1/bots/{bot}/endpoints/{endpoint}/deliveries")).await;
        let told = rows["data"].as_array().unwrap().iter().any(|r| {
            r["error"].as_str().is_some_and(|e| {
                e.starts_with("the endpoint answered 503: [the rest of this answer did not come within the timeout] partial")
            })
        });
        assert!(told, "{rows}");
    }
}

on_every_backend! {
    #[tokio::test(flavor = "multi_thread")]
    async fn deliveries_to_a_fast_endpoint_are_not_held_back_by_a_hung_one_on_every_backend(backend) {
        let hung = Hung::start().await;
        let sink = Sink::start().await;
        let dev = Dev::start(bin(), backend.clone(), &[("HOOKLANE_OUTBOUND_TIMEOUT_SECONDS", "60")]).await;
        let (bot, key) = dev.bot().await;
        let mut stuck = String::new();
        for (name, url) in [("Hung", hung.url()), ("Fast", sink.url("/fast"))] {
            let ep = dev
                .admin_json(Method::POST, &format!("/v1/bots/{bot}/endpoints"),
                    json!({"name": name, "url": url, "events": ["tick"]}), 201)
                .await;
            if name == "Hung" {
                stuck = ep["id"].as_str().unwrap().to_owned();
            }
        }
        let started = Instant::now();
        for n in 0..HUNG_CALLS {
            publish(&dev, &bot, &key, json!({ "n": n })).await;
        }
        // Well before the hung calls' 60 s timeout would free any job, on a
        // loaded machine too (200 publishes through moto take a while).
        let got = sink.wait_for(HUNG_CALLS, Duration::from_secs(45)).await;
        let took = started.elapsed();
        assert!(took < Duration::from_secs(45), "{took:?}");
        let mut ids: Vec<_> = got.iter().filter_map(|r| r.header("webhook-id")).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), HUNG_CALLS);
        tokio::time::sleep(Duration::from_secs(2)).await;
        assert_eq!(hung.accepted(), HOST_SHARE, "{backend:?}\n{}", dev.log());
        // What waits for the hung host's share is not an attempt: no row.
        let rows = dev.get(&format!("/v1/bots/{bot}/endpoints/{stuck}/deliveries")).await;
        assert_eq!(rows["data"].as_array().map(Vec::len), Some(0), "{rows}");
    }
}

on_every_backend! {
    #[tokio::test(flavor = "multi_thread")]
    async fn a_host_whose_calls_time_out_in_a_row_is_paused_and_its_calls_fail_at_once_on_every_backend(backend) {
        let hung = Hung::start().await;
        let dev = Dev::start(bin(), backend.clone(), &[("HOOKLANE_OUTBOUND_TIMEOUT_SECONDS", "1")]).await;
        let (bot, key) = dev.bot().await;
        let stuck = to(&dev, &bot, "Hung", hung.url()).await;
        let hook = stuck["id"].as_str().unwrap().to_owned();
        // Five calls time out (the breaker's count)…
        for n in 0..5 {
            call(&dev, &stuck, &key, n).await;
        }
        let deadline = Instant::now() + WAIT;
        loop {
            let runs = dev.get(&format!("/v1/bots/{bot}/hooks/{hook}/runs")).await;
            let timed_out = runs["data"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|r| r["error"].as_str().is_some_and(|e| e.contains("timed out")))
                .count();
            if timed_out == 5 {
                break;
            }
            assert!(Instant::now() < deadline, "{runs}\n{}", dev.log());
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_eq!(hung.accepted(), 5);
        // …so the next ones are not sent: they fail at once, transiently
        // (the run is retried on its schedule).
        let sent_at = Instant::now();
        for n in 5..8 {
            call(&dev, &stuck, &key, n).await;
        }
        let deadline = Instant::now() + WAIT;
        let paused = loop {
            let runs = dev.get(&format!("/v1/bots/{bot}/hooks/{hook}/runs")).await;
            let paused: Vec<Value> = runs["data"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|r| r["error"].as_str().is_some_and(|e| e.contains("paused")))
                .cloned()
                .collect();
            if paused.len() >= 3 {
                break paused;
            }
            assert!(Instant::now() < deadline, "{runs}\n{}", dev.log());
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        assert!(sent_at.elapsed() < Duration::from_secs(3), "{:?}", sent_at.elapsed());
        let port = hung.addr.port();
        for run in &paused {
            assert_eq!(run["status"], "retrying", "{run}");
            let error = run["error"].as_str().unwrap();
            assert!(
                error.starts_with(&format!("action 0 (http_request) failed: not sent: 5 calls in a row to 127.0.0.1:{port} timed out; calls to it are paused for another ")),
                "{error}"
            );
        }
        assert_eq!(hung.accepted(), 5, "nothing was sent while paused");
    }
}

/// A run resumed from its checkpoint after a crash is never put back for a
/// busy host (put back, it would start over): what its checkpoint records
/// is not made again. (Embedded only: after a kill -9 its queue hands the
/// messages back at once; SQS waits out their visibility.)
#[tokio::test(flavor = "multi_thread")]
async fn a_run_resumed_after_a_kill_9_waits_for_a_busy_host_and_repeats_nothing_recorded() {
    let hung = Hung::start().await;
    let sink = Sink::start().await;
    let mut dev = Dev::start(
        bin(),
        Backend::Embedded,
        &[("HOOKLANE_OUTBOUND_TIMEOUT_SECONDS", "60")],
    )
    .await;
    let (bot, key) = dev.bot().await;
    let both = first_then_hung(&dev, &bot, &sink, &hung).await;
    const CALLS: usize = 100;
    for n in 0..CALLS {
        call(&dev, &both, &key, n).await;
    }
    // Every run has made its first call and written its checkpoint; 64 wait
    // on the hung host, the others for a slot to it.
    sink.wait_for(CALLS, WAIT).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    dev.kill9();
    dev.restart().await;
    // The runs resume after their first call, and wait again.
    wait_accepted(&hung, 2 * HOST_SHARE, &dev).await;
    tokio::time::sleep(Duration::from_secs(4)).await;
    let first = sink
        .received()
        .iter()
        .filter(|r| r.path == "/first")
        .count();
    assert_eq!(first, CALLS, "{}", dev.log());
}

//! The storage under `hooklane dev`, crashed and starved on purpose (the
//! fault campaign; each scenario prints its figures as `calls=…
//! acknowledged=… delivered=… lost=0 duplicates=…`): writes committed
//! together are each durable across `kill -9`; `kill -9` under hook calls
//! and publishes with the dispatcher running loses nothing acknowledged and
//! repeats only what was in hand; a full disk
//! answers 503 and keeps nothing of the refused calls; a frozen or dead
//! DynamoDB + SQS (a moto the test owns) answers 503 within seconds, never
//! 500 and never a hang, and loses nothing it answered 202.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::common::bin;
use hooklane_testkit::{unique, Backend, Dev, OwnMoto, Sink};
use serde_json::{json, Value};

/// A hook without auth whose one action posts the call's `c` to the sink.
async fn counting_hook(dev: &Dev, sink: &Sink) -> String {
    let (bot, _) = dev.bot().await;
    let hook = dev
        .hook(
            &bot,
            json!({
                "name": "Count",
                "auth": {"type": "none"},
                "actions": [{"type": "http_request", "url": sink.url("/count"), "body": {"c": "{payload.c}"}}]
            }),
        )
        .await;
    hook["url"].as_str().unwrap().to_owned()
}

/// The distinct `c` values the sink has received.
fn counted(sink: &Sink) -> BTreeSet<String> {
    sink.received()
        .iter()
        .filter_map(|r| r.json()["c"].as_str().map(str::to_owned))
        .collect()
}

/// Waits until the sink has seen every value of `want`.
async fn wait_for_all(sink: &Sink, want: &BTreeSet<String>, within: Duration, dev: &Dev) {
    let deadline = Instant::now() + within;
    loop {
        let got = counted(sink);
        let missing: Vec<_> = want.difference(&got).take(5).collect();
        if missing.is_empty() {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{} of {} accepted calls never ran (e.g. {missing:?})\n{}",
            want.difference(&got).count(),
            want.len(),
            dev.log()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn post(client: &reqwest::Client, url: &str, c: &str) -> (u16, Value, Duration) {
    let started = Instant::now();
    match client.post(url).json(&json!({"c": c})).send().await {
        Ok(r) => {
            let status = r.status().as_u16();
            let retry_after = r.headers().contains_key("retry-after");
            let mut body: Value = r.json().await.unwrap_or(Value::Null);
            body["retry_after_header"] = json!(retry_after);
            (status, body, started.elapsed())
        }
        Err(e) => (0, json!({"transport": e.to_string()}), started.elapsed()),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn every_call_answered_202_in_a_crowd_runs_after_a_kill_9_and_restart() {
    const CLIENTS: usize = 64;
    const CALLS: usize = 20;
    let sink = Sink::start().await;
    // The dispatcher is off: every accepted call is only in the queue when the process dies.
    let mut dev = Dev::start(bin(), Backend::Embedded, &[("HOOKLANE_DISPATCH", "false")]).await;
    let url = counting_hook(&dev, &sink).await;

    let accepted = Arc::new(Mutex::new(BTreeSet::new()));
    let clients: Vec<_> = (0..CLIENTS)
        .map(|client| {
            let (http, url, accepted) = (dev.client.clone(), url.clone(), accepted.clone());
            tokio::spawn(async move {
                for call in 0..CALLS {
                    let c = format!("{client}-{call}");
                    let (status, body, _) = post(&http, &url, &c).await;
                    assert_eq!(status, 202, "{c}: {body}");
                    accepted.lock().unwrap().insert(c);
                }
            })
        })
        .collect();
    for c in clients {
        c.await.unwrap();
    }
    let accepted = accepted.lock().unwrap().clone();
    assert_eq!(accepted.len(), CLIENTS * CALLS);
    dev.kill9();
    assert!(sink.received().is_empty());

    dev.restart_with(&[("HOOKLANE_DISPATCH", "true")]).await;
    wait_for_all(&sink, &accepted, Duration::from_secs(180), &dev).await;
    let delivered = counted(&sink).intersection(&accepted).count();
    eprintln!(
        "fault campaign, kill -9 with {} calls queued (embedded): calls={} acknowledged={} delivered={delivered} lost={} duplicates={}",
        accepted.len(),
        CLIENTS * CALLS,
        accepted.len(),
        accepted.len() - delivered,
        sink.received().len() - counted(&sink).len()
    );
}

/// The id a sink request carries: a hook call's `c`, or a delivery's `data.c`.
fn carried(r: &hooklane_testkit::Received) -> Option<String> {
    let body = r.json();
    body["c"]
        .as_str()
        .or_else(|| body["data"]["c"].as_str())
        .map(str::to_owned)
}

/// Hook calls and publishes from `clients` tasks, alternating, until `stop`:
/// every id sent, and those answered 202.
fn mixed_load(
    dev: &Dev,
    hook_url: &str,
    publish_url: &str,
    api_key: &str,
    round: usize,
    clients: usize,
    stop: Arc<std::sync::atomic::AtomicBool>,
) -> tokio::task::JoinHandle<(Vec<String>, Vec<String>)> {
    let (client, hook_url, publish_url, key) = (
        dev.client.clone(),
        hook_url.to_owned(),
        publish_url.to_owned(),
        api_key.to_owned(),
    );
    tokio::spawn(async move {
        let tasks: Vec<_> = (0..clients)
            .map(|n| {
                let (client, hook_url, publish_url, key, stop) = (
                    client.clone(),
                    hook_url.clone(),
                    publish_url.clone(),
                    key.clone(),
                    stop.clone(),
                );
                tokio::spawn(async move {
                    let (mut sent, mut acked) = (Vec::new(), Vec::new());
                    let mut i = 0;
                    while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                        let publish = i % 2 == 1;
                        let c = format!("{}{round}-{n}-{i}", if publish { "p" } else { "h" });
                        i += 1;
                        let request = if publish {
                            client
                                .post(&publish_url)
                                .bearer_auth(&key)
                                .json(&json!({"event": "load.tick", "data": {"c": c}}))
                        } else {
                            client.post(&hook_url).json(&json!({"c": c}))
                        };
                        sent.push(c.clone());
                        match request.timeout(Duration::from_secs(10)).send().await {
                            Ok(r) if r.status() == 202 => acked.push(c),
                            Ok(r) => panic!("{c}: {} (only 202 before the kill)", r.status()),
                            // The process died with this call in hand: not acknowledged.
                            Err(_) => break,
                        }
                    }
                    (sent, acked)
                })
            })
            .collect();
        let (mut sent, mut acked) = (Vec::new(), Vec::new());
        for t in tasks {
            let (s, a) = t.await.unwrap();
            sent.extend(s);
            acked.extend(a);
        }
        (sent, acked)
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn kill_9_under_hook_calls_and_publishes_with_the_dispatcher_running_loses_nothing_acknowledged(
) {
    const CLIENTS: usize = 16;
    const ROUNDS: usize = 2;
    let sink = Sink::start().await;
    let mut dev = Dev::start(bin(), Backend::Embedded, &[]).await;
    let (bot, key) = dev.bot().await;
    let hook = dev
        .hook(
            &bot,
            json!({
                "name": "Count",
                "auth": {"type": "none"},
                "actions": [{"type": "http_request", "url": sink.url("/hook"), "body": {"c": "{payload.c}"}}]
            }),
        )
        .await;
    let hook_url = hook["url"].as_str().unwrap().to_owned();
    dev.admin_json(
        reqwest::Method::POST,
        &format!("/v1/bots/{bot}/endpoints"),
        json!({"name": "Sink", "url": sink.url("/endpoint"), "events": ["load.*"]}),
        201,
    )
    .await;
    let publish_url = format!("{}/v1/bots/{bot}/events", dev.base);

    let (mut calls, mut acknowledged) = (0, BTreeSet::new());
    for round in 0..ROUNDS {
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let load = mixed_load(
            &dev,
            &hook_url,
            &publish_url,
            &key,
            round,
            CLIENTS,
            stop.clone(),
        );
        // Long enough for the dispatcher to have runs and deliveries in hand.
        tokio::time::sleep(Duration::from_millis(2500)).await;
        dev.kill9();
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        let (sent, acked) = load.await.unwrap();
        calls += sent.len();
        acknowledged.extend(acked);
        dev.restart().await;
    }

    // The drain: every acknowledged call ran, every acknowledged publish was delivered.
    let deadline = Instant::now() + Duration::from_secs(45);
    loop {
        let seen: BTreeSet<String> = sink.received().iter().filter_map(carried).collect();
        if acknowledged.is_subset(&seen) || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let received: Vec<String> = sink.received().iter().filter_map(carried).collect();
    let seen: BTreeSet<String> = received.iter().cloned().collect();
    let delivered = acknowledged.intersection(&seen).count();
    let lost: Vec<_> = acknowledged.difference(&seen).collect();
    let duplicates = received.len() - seen.len();
    let line = format!(
        "calls={calls} acknowledged={} delivered={delivered} lost={} duplicates={duplicates}",
        acknowledged.len(),
        lost.len()
    );
    eprintln!(
        "fault campaign, kill -9 x{ROUNDS} under hook calls and publishes (embedded): {line}"
    );
    assert!(
        acknowledged.len() > 100,
        "the load reached the process: {line}"
    );
    assert!(
        lost.is_empty(),
        "{line}; lost e.g. {:?}\n{}",
        lost.iter().take(5).collect::<Vec<_>>(),
        dev.log()
    );
    // Only what was in hand at a kill repeats (a fan-out repeated repeats
    // its delivery): finished messages are deleted as they finish, not
    // left to run again after the crash.
    assert!(
        duplicates < acknowledged.len() / 2,
        "finished messages were left undeleted: {line}"
    );
}

/// A small tmpfs mounted over a folder for the test's life.
struct Tmpfs(std::path::PathBuf);

impl Tmpfs {
    /// Mounts it.
    ///
    /// # Panics
    /// When this process may not mount (not root, or in a sandbox): the
    /// test that needs it is `#[ignore]`d, and tests/run.sh (as root) runs it.
    fn mount(at: &Path, size: &str) -> Self {
        let out = Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size},mode=0700"),
                "tmpfs",
            ])
            .arg(at)
            .output()
            .expect("run mount");
        assert!(
            out.status.success(),
            "could not mount a tmpfs at {} (this test needs root; tests/run.sh runs it): {}",
            at.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        );
        Self(at.to_owned())
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

/// Fills the file system of `dir` with `dir/filler` until it has no room.
fn fill(dir: &Path) {
    use std::io::Write;
    let mut f = std::fs::File::create(dir.join("filler")).unwrap();
    let chunk = vec![0u8; 16 * 1024];
    while f.write_all(&chunk).is_ok() {}
    let _ = f.sync_all();
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs root to mount a tmpfs: tests/run.sh runs it"]
async fn a_full_disk_answers_503_keeps_nothing_refused_and_takes_calls_again_once_there_is_room() {
    let sink = Sink::start().await;
    let mut dev = Dev::start(bin(), Backend::Embedded, &[("HOOKLANE_DISPATCH", "false")]).await;
    dev.kill9();
    // From here on the data dir is a 4 MiB file system of its own.
    let _tmpfs = Tmpfs::mount(dev.data_dir(), "4m");
    dev.restart().await;
    let url = counting_hook(&dev, &sink).await;
    let client = dev.client.clone();

    let mut accepted = BTreeSet::new();
    let (status, body, _) = post(&client, &url, "before").await;
    assert_eq!(status, 202, "{body}");
    accepted.insert("before".to_owned());

    fill(dev.data_dir());
    let mut answers = Vec::new();
    for i in 0..60 {
        let c = format!("full-{i}");
        let (status, body, took) = post(&client, &url, &c).await;
        assert!(
            status == 202 || status == 503,
            "{c}: {status} {body} (a full disk is never a 500)\n{}",
            dev.log()
        );
        assert!(took < Duration::from_secs(10), "{c} took {took:?}");
        if status == 202 {
            accepted.insert(c);
        } else {
            assert_eq!(body["error"]["code"], "unavailable", "{body}");
            assert_eq!(body["retry_after_header"], true, "{body}");
        }
        answers.push(status);
    }
    assert!(
        answers[answers.len() - 20..].iter().all(|s| *s == 503),
        "calls go on being refused while the disk is full: {answers:?}"
    );

    std::fs::remove_file(dev.data_dir().join("filler")).unwrap();
    let (status, body, _) = post(&client, &url, "after").await;
    assert_eq!(status, 202, "room again, no restart: {body}");
    accepted.insert("after".to_owned());

    // Exactly the calls answered 202 run: the refused ones left nothing.
    dev.restart_with(&[("HOOKLANE_DISPATCH", "true")]).await;
    wait_for_all(&sink, &accepted, Duration::from_secs(60), &dev).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(counted(&sink), accepted, "only the acknowledged calls ran");
    eprintln!(
        "fault campaign, disk full (embedded): calls={} acknowledged={} delivered={} lost=0 duplicates={} refused_while_full={}",
        answers.len() + 2,
        accepted.len(),
        counted(&sink).len(),
        sink.received().len() - counted(&sink).len(),
        answers.iter().filter(|s| **s == 503).count()
    );
    dev.kill9();
}

/// Calls `url` from `clients` tasks until `stop` is set; every answer as
/// (call, status, body, time taken, when it was sent).
type Answer = (String, u16, Value, Duration, Instant);

fn load(
    client: &reqwest::Client,
    url: &str,
    clients: usize,
    stop: Arc<std::sync::atomic::AtomicBool>,
) -> tokio::task::JoinHandle<Vec<Answer>> {
    let (client, url) = (client.clone(), url.to_owned());
    tokio::spawn(async move {
        let tasks: Vec<_> = (0..clients)
            .map(|n| {
                let (client, url, stop) = (client.clone(), url.clone(), stop.clone());
                tokio::spawn(async move {
                    let mut out = Vec::new();
                    let mut i = 0;
                    while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                        let c = format!("load-{n}-{i}");
                        i += 1;
                        let sent = Instant::now();
                        let (status, body, took) = post(&client, &url, &c).await;
                        out.push((c, status, body, took, sent));
                        tokio::time::sleep(Duration::from_millis(20)).await;
                    }
                    out
                })
            })
            .collect();
        let mut all = Vec::new();
        for t in tasks {
            all.extend(t.await.unwrap());
        }
        all
    })
}

/// The longest a caller may wait while the AWS backend is frozen or dead:
/// a lookup and a send each bounded by the SDK's 4 s operation timeout
/// (`HOOKLANE_AWS_TIMEOUT_MS`), with room for a loaded 2-core test machine;
/// the fault this guards against held callers for the whole freeze.
const ANSWER_BOUND: Duration = Duration::from_secs(10);

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs moto: tests/run.sh starts one"]
async fn a_frozen_aws_backend_answers_503_within_seconds_and_a_dead_one_503_not_500() {
    let mut moto = OwnMoto::start().await;
    let sink = Sink::start().await;
    let queue = unique("hl-outage");
    let backend = Backend::Aws {
        endpoint: moto.endpoint.clone(),
        table: unique("hl-outage"),
        queue: queue.clone(),
    };
    let env = [
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("AWS_REGION", "us-east-1"),
        ("HOOKLANE_AWS_TIMEOUT_MS", "2000"),
    ];
    let dev = Dev::start(bin(), backend, &env).await;
    let url = counting_hook(&dev, &sink).await;
    // A second hook, never called before the outage: its lookup meets it.
    let (bot, _) = dev.bot().await;
    let cold = dev
        .hook(
            &bot,
            json!({"auth": {"type": "none"}, "actions": [{"type": "log", "message": "cold"}]}),
        )
        .await;
    let cold_url = cold["url"].as_str().unwrap().to_owned();
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(15))
        .build()
        .unwrap();

    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let running = load(&client, &url, 8, stop.clone());
    tokio::time::sleep(Duration::from_secs(2)).await;

    moto.freeze();
    let frozen_at = Instant::now();
    tokio::time::sleep(Duration::from_secs(10)).await;
    let (cold_status, cold_body, cold_took) = post(&client, &cold_url, "cold").await;
    let health_started = Instant::now();
    let health = client.get(format!("{}/healthz", dev.base)).send().await;
    let health_took = health_started.elapsed();
    moto.thaw();
    let thawed_at = Instant::now();
    tokio::time::sleep(Duration::from_secs(6)).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let answers = running.await.unwrap();

    assert_eq!(
        cold_status, 503,
        "a hook lookup that cannot be made: {cold_body}"
    );
    assert!(cold_took < ANSWER_BOUND, "{cold_took:?}");
    let health = health.expect("/healthz answers while the backend is frozen");
    assert_eq!(health.status(), 503);
    assert!(health_took < Duration::from_secs(5), "{health_took:?}");

    let mut accepted = BTreeSet::new();
    let mut refused_while_frozen = 0;
    for (c, status, body, took, sent) in &answers {
        assert!(
            *status == 202 || *status == 503,
            "{c}: {status} {body} (never a 500, never a hang)"
        );
        assert!(*took < ANSWER_BOUND, "{c} waited {took:?}");
        if *status == 202 {
            accepted.insert(c.clone());
        } else {
            assert_eq!(body["error"]["code"], "unavailable", "{body}");
            assert_eq!(body["retry_after_header"], true, "{body}");
            if *sent >= frozen_at && *sent < thawed_at {
                refused_while_frozen += 1;
            }
        }
    }
    assert!(
        refused_while_frozen > 0,
        "calls during the freeze were refused"
    );
    let recovered = answers
        .iter()
        .filter(|(_, status, _, _, sent)| {
            *status == 202 && *sent > thawed_at + Duration::from_secs(3)
        })
        .count();
    assert!(recovered > 0, "calls are accepted again after the thaw");
    // Every call answered 202 runs: those whose dispatch met the freeze
    // are handed back within seconds of the thaw (not after the queue's
    // 6-minute visibility timeout), and runs cut short resume.
    let deadline = thawed_at + Duration::from_secs(45);
    loop {
        if counted(&sink).is_superset(&accepted) || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let drained_after = thawed_at.elapsed();
    let delivered = counted(&sink).intersection(&accepted).count();
    let lost: Vec<_> = accepted.difference(&counted(&sink)).cloned().collect();
    let held = sqs_messages(&client, &moto.endpoint, &queue).await;
    let ran_for_accepted = sink
        .received()
        .iter()
        .filter(|r| r.json()["c"].as_str().is_some_and(|c| accepted.contains(c)))
        .count();
    let line = format!(
        "calls={} acknowledged={} delivered={delivered} lost={} duplicates={}",
        answers.len(),
        accepted.len(),
        lost.len(),
        ran_for_accepted - delivered,
    );
    eprintln!(
        "fault campaign, moto frozen 10 s under load (aws): {line} refused_while_frozen={refused_while_frozen} drained_in={:.1}s",
        drained_after.as_secs_f64()
    );
    assert!(
        lost.is_empty(),
        "{line}: e.g. {:?} did not run within 45 s of the thaw ({held} messages still in the queue)\n{}",
        lost.iter().take(5).collect::<Vec<_>>(),
        dev.log()
    );

    moto.kill();
    for c in ["dead-1", "dead-2", "dead-3"] {
        let (status, body, took) = post(&client, &url, c).await;
        assert_eq!(status, 503, "moto is gone: {body}");
        assert!(took < ANSWER_BOUND, "{took:?}");
    }
    let r = dev
        .admin(reqwest::Method::GET, &format!("/v1/bots/{bot}/hooks"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 503, "the admin API too");
}

/// Messages in the SQS queue `name` (visible, in flight and delayed), asked
/// of moto directly.
async fn sqs_messages(client: &reqwest::Client, endpoint: &str, name: &str) -> usize {
    async fn call(client: &reqwest::Client, endpoint: &str, action: &str, body: Value) -> Value {
        client
            .post(endpoint)
            .header("x-amz-target", format!("AmazonSQS.{action}"))
            .header("content-type", "application/x-amz-json-1.0")
            .header(
                "authorization",
                "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/sqs/aws4_request, SignedHeaders=host, Signature=0",
            )
            .body(body.to_string())
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }
    let url = call(client, endpoint, "GetQueueUrl", json!({"QueueName": name})).await;
    let url = url["QueueUrl"]
        .as_str()
        .expect("the queue's URL")
        .to_owned();
    let attrs = call(
        client,
        endpoint,
        "GetQueueAttributes",
        json!({"QueueUrl": url, "AttributeNames": ["All"]}),
    )
    .await;
    [
        "ApproximateNumberOfMessages",
        "ApproximateNumberOfMessagesNotVisible",
        "ApproximateNumberOfMessagesDelayed",
    ]
    .iter()
    .map(|a| {
        attrs["Attributes"][a]
            .as_str()
            .and_then(|n| n.parse::<usize>().ok())
            .unwrap_or(0)
    })
    .sum()
}

//! Outbound deliveries end to end: a bot publishes, `hooklane dev` fans the
//! event out to its endpoints (a loopback sink), on the embedded backend and
//! (with moto) on DynamoDB + SQS. Every delivery the sink captures is checked
//! the way a receiver would check it: by the Standard Webhooks verifier
//! below, written here from the specification and sharing no code with
//! Hooklane, and for one delivery per test also by the official Python
//! library (`tests/verify_standard_webhook.py`).

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::common::{bin, SETTLE, WAIT};
use hooklane_testkit::{on_every_backend, Dev, Received, Reply, Sink};
use reqwest::Method;
use serde_json::{json, Value};

// ------------------------------------------------------------ the verifier

/// Standard Webhooks verification from the specification
/// (<https://www.standardwebhooks.com/>), on the RustCrypto and base64
/// crates (via the test kit), so the check shares nothing with the code it
/// checks.
pub(crate) mod standard_webhooks {
    pub use hooklane_testkit::crypto::{base64_decode, base64_encode, hmac_sha256, sha256};

    pub fn key(secret: &str) -> Vec<u8> {
        base64_decode(secret.strip_prefix("whsec_").expect("a whsec_ secret"))
            .expect("the secret is base64")
    }

    /// `v1,<base64 HMAC-SHA256(key, "{id}.{timestamp}.{body}")>`.
    pub fn sign(secret: &str, id: &str, timestamp: &str, body: &[u8]) -> String {
        let mut content = format!("{id}.{timestamp}.").into_bytes();
        content.extend_from_slice(body);
        format!("v1,{}", base64_encode(&hmac_sha256(&key(secret), &content)))
    }

    /// What a receiver does: the three headers are there, the timestamp is
    /// within five minutes of `now`, and one of the space-separated
    /// signatures is this secret's.
    pub fn verify(
        secret: &str,
        header: impl Fn(&str) -> Option<String>,
        body: &[u8],
        now: i64,
    ) -> Result<(), String> {
        let id = header("webhook-id").ok_or("no webhook-id")?;
        let timestamp = header("webhook-timestamp").ok_or("no webhook-timestamp")?;
        let signatures = header("webhook-signature").ok_or("no webhook-signature")?;
        let at: i64 = timestamp
            .parse()
            .map_err(|_| format!("webhook-timestamp `{timestamp}` is not a number"))?;
        if (now - at).abs() > 300 {
            return Err(format!(
                "webhook-timestamp {at} is not within 5 minutes of {now}"
            ));
        }
        let expected = sign(secret, &id, &timestamp, body);
        if signatures.split(' ').any(|s| s == expected) {
            Ok(())
        } else {
            Err(format!(
                "none of the {} signature(s) is this secret's",
                signatures.split(' ').count()
            ))
        }
    }

    /// `x-webhook-signature`: `sha256=<hex HMAC-SHA256(key, body)>`.
    pub fn body_signature(secret: &str, body: &[u8]) -> String {
        let mac = hmac_sha256(&key(secret), body);
        format!(
            "sha256={}",
            mac.iter().map(|b| format!("{b:02x}")).collect::<String>()
        )
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn the_test_verifier_matches_the_published_vectors() {
    use standard_webhooks::*;
    let sha = [
        (
            "",
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        ),
        (
            "abc",
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
        ),
        (
            "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
        ),
    ];
    for (input, want) in sha {
        assert_eq!(hex(&sha256(input.as_bytes())), want, "SHA-256({input:?})");
    }
    // RFC 4231, test cases 2 and 6 (a key longer than the block).
    assert_eq!(
        hex(&hmac_sha256(b"Jefe", b"what do ya want for nothing?")),
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    );
    assert_eq!(
        hex(&hmac_sha256(
            &[0xaa; 131],
            b"Test Using Larger Than Block-Size Key - Hash Key First"
        )),
        "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
    );
    for (raw, encoded) in [
        ("", ""),
        ("f", "Zg=="),
        ("fo", "Zm8="),
        ("foo", "Zm9v"),
        ("foobar", "Zm9vYmFy"),
    ] {
        assert_eq!(base64_encode(raw.as_bytes()), encoded);
        assert_eq!(base64_decode(encoded).unwrap(), raw.as_bytes());
    }
    // The Standard Webhooks reference example.
    assert_eq!(
        sign(
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            "1614265330",
            br#"{"test": 2432232314}"#
        ),
        "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    );
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// Checks one captured delivery as a receiver holding `secrets` would: the
/// contract's headers are there and every secret's signature verifies.
fn check_delivery(got: &Received, event: &str, secrets: &[&str]) {
    assert_eq!(got.method, "POST");
    assert_eq!(
        got.header("content-type").as_deref(),
        Some("application/json")
    );
    assert!(
        got.header("user-agent")
            .is_some_and(|ua| ua.starts_with("Hooklane-Webhook/")),
        "{:?}",
        got.header("user-agent")
    );
    assert_eq!(got.header("x-webhook-event").as_deref(), Some(event));
    assert!(got
        .header("x-webhook-attempt")
        .is_some_and(|a| a.parse::<u32>().is_ok_and(|n| n >= 1)));
    assert!(got
        .header("webhook-id")
        .is_some_and(|id| id.starts_with("msg_")));
    let signatures = got.header("webhook-signature").unwrap_or_default();
    assert_eq!(
        signatures.split(' ').count(),
        secrets.len(),
        "one signature per secret in force: {signatures}"
    );
    for secret in secrets {
        if let Err(e) = standard_webhooks::verify(secret, |h| got.header(h), &got.body, unix_now())
        {
            panic!("the delivery {} does not verify: {e}", got.text());
        }
    }
    // The body-only signature is the current (first) secret's.
    assert_eq!(
        got.header("x-webhook-signature"),
        Some(standard_webhooks::body_signature(secrets[0], &got.body))
    );
}

// ------------------------------------------------------- the Python check

/// Runs `tests/verify_standard_webhook.py` (the official `standardwebhooks`
/// package) on a captured delivery: `Some(true)` verified, `Some(false)`
/// refused, `None` when Python or the package is not there (a skip, unless
/// `HOOKLANE_REQUIRE_MOTO=1`, where the whole toolchain must be present).
fn python_verifies(secret: &str, got: &Received) -> Option<bool> {
    static AVAILABLE: OnceLock<bool> = OnceLock::new();
    let available = *AVAILABLE.get_or_init(|| {
        let found = Command::new("python3")
            .args(["-c", "import standardwebhooks"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !found {
            eprintln!(
                "skipped the Python Standard Webhooks check: `import standardwebhooks` fails \
                 (tests/run.sh puts .venv/bin on PATH)"
            );
        }
        found
    });
    if !available {
        assert!(
            std::env::var("HOOKLANE_REQUIRE_MOTO").as_deref() != Ok("1"),
            "HOOKLANE_REQUIRE_MOTO=1 but `python3 -c 'import standardwebhooks'` fails: \
             put .venv/bin first on PATH (tests/run.sh does)"
        );
        return None;
    }
    let script: PathBuf = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("tests")
        .join("verify_standard_webhook.py");
    let headers: serde_json::Map<String, Value> = got
        .headers
        .iter()
        .filter_map(|(k, v)| Some((k.to_string(), Value::String(v.to_str().ok()?.to_owned()))))
        .collect();
    let input = json!({"secret": secret, "headers": headers, "body": got.text()});
    let mut child = Command::new("python3")
        .arg(&script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run python3");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let code = out.status.code();
    assert!(
        matches!(code, Some(0 | 1)),
        "{} failed to run ({code:?}): {}",
        script.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    Some(code == Some(0))
}

/// The same delivery with one byte of its body changed.
fn tampered(got: &Received) -> Received {
    let mut body = got.body.to_vec();
    body.push(b' ');
    Received {
        body: body.into(),
        ..got.clone()
    }
}

// ------------------------------------------------------------- helpers

async fn endpoint(dev: &Dev, bot: &str, body: Value) -> Value {
    dev.admin_json(
        Method::POST,
        &format!("/v1/bots/{bot}/endpoints"),
        body,
        201,
    )
    .await
}

fn id(v: &Value) -> String {
    v["id"].as_str().expect("an id").to_owned()
}

/// Publishes an event; returns the message id.
async fn publish(
    dev: &Dev,
    bot: &str,
    key: &str,
    body: Value,
    idempotency_key: Option<&str>,
) -> String {
    let mut req = dev
        .client
        .post(format!("{}/v1/bots/{bot}/events", dev.base))
        .bearer_auth(key)
        .json(&body);
    if let Some(k) = idempotency_key {
        req = req.header("idempotency-key", k);
    }
    let r = req.send().await.unwrap();
    assert_eq!(r.status(), 202);
    let answer: Value = r.json().await.unwrap();
    let id = answer["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("msg_"), "{answer}");
    id
}

async fn rows(dev: &Dev, bot: &str, ep: &str) -> Vec<Value> {
    dev.get(&format!("/v1/bots/{bot}/endpoints/{ep}/deliveries"))
        .await["data"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// Waits until the endpoint's delivery log holds `n` rows; returns them, newest first.
async fn wait_rows(dev: &Dev, bot: &str, ep: &str, n: usize) -> Vec<Value> {
    let deadline = Instant::now() + WAIT;
    loop {
        let got = rows(dev, bot, ep).await;
        if got.len() >= n {
            return got;
        }
        assert!(
            Instant::now() < deadline,
            "expected {n} delivery rows, got {got:?}\n{}",
            dev.log()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// One delivery row, read by its id (`GET /v1/bots/{bot}/deliveries/{dlv}`).
async fn row(dev: &Dev, bot: &str, dlv: &str) -> Value {
    dev.get(&format!("/v1/bots/{bot}/deliveries/{dlv}")).await
}

/// Waits until the row `dlv` no longer says a retry is due; returns it.
async fn wait_no_retry_due(dev: &Dev, bot: &str, dlv: &str) -> Value {
    let deadline = Instant::now() + WAIT;
    loop {
        let got = row(dev, bot, dlv).await;
        if got["next_attempt_at"].is_null() {
            return got;
        }
        assert!(
            Instant::now() < deadline,
            "the row still says a retry is due: {got}\n{}",
            dev.log()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The (attempt, status, http_status) of each row, newest first.
fn summary(rows: &[Value]) -> Vec<(u64, String, Option<u64>)> {
    rows.iter()
        .map(|r| {
            (
                r["attempt"].as_u64().unwrap(),
                r["status"].as_str().unwrap().to_owned(),
                r["http_status"].as_u64(),
            )
        })
        .collect()
}

fn at_path<'a>(got: &'a [Received], path: &str) -> Vec<&'a Received> {
    got.iter().filter(|r| r.path == path).collect()
}

// ---------------------------------------------------------------- tests

on_every_backend! {
    #[tokio::test(flavor = "multi_thread")]
    async fn a_published_event_reaches_each_matching_enabled_endpoint_once_signed_on_every_backend(backend) {
        let sink = Sink::start().await;
        let dev = Dev::start(bin(), backend.clone(), &[]).await;
        let (bot, key) = dev.bot().await;
        let exact = endpoint(&dev, &bot, json!({"name": "Exact", "url": sink.url("/exact"), "events": ["order.created"], "headers": {"x-team": "shop"}})).await;
        let wildcard = endpoint(
            &dev,
            &bot,
            json!({"name": "Orders", "url": sink.url("/wildcard"), "events": ["order.*"]}),
        )
        .await;
        let other = endpoint(
            &dev,
            &bot,
            json!({"name": "Users", "url": sink.url("/other"), "events": ["user.created"]}),
        )
        .await;
        let disabled = endpoint(&dev, &bot, json!({"name": "Off", "url": sink.url("/disabled"), "events": ["order.created"], "enabled": false})).await;
        assert_eq!(disabled["enabled"], false);
        assert!(exact["secret"].as_str().unwrap().starts_with("whsec_"));

        // The same idempotency id, in the body or in the header, answers the first message.
        let event = json!({"event": "order.created", "data": {"order": 42, "total": "12.50"}, "id": "order-42"});
        let first = publish(&dev, &bot, &key, event.clone(), None).await;
        assert_eq!(
            publish(&dev, &bot, &key, event, None).await,
            first,
            "{backend:?}"
        );
        let plain = json!({"event": "order.created", "data": {"order": 43}});
        let second = publish(&dev, &bot, &key, plain.clone(), Some("order-43")).await;
        assert_eq!(
            publish(&dev, &bot, &key, plain, Some("order-43")).await,
            second
        );
        assert_ne!(first, second);

        sink.wait_for(4, WAIT).await;
        tokio::time::sleep(SETTLE).await;
        let got = sink.received();
        assert_eq!(got.len(), 4, "two messages to two endpoints ({backend:?})");
        for (path, ep) in [("/exact", &exact), ("/wildcard", &wildcard)] {
            let here = at_path(&got, path);
            let mut ids: Vec<String> = here
                .iter()
                .map(|r| r.header("webhook-id").unwrap())
                .collect();
            ids.sort();
            let mut want = vec![first.clone(), second.clone()];
            want.sort();
            assert_eq!(ids, want, "{path} ({backend:?})");
            for r in here {
                check_delivery(r, "order.created", &[ep["secret"].as_str().unwrap()]);
                assert_eq!(r.header("x-webhook-attempt").as_deref(), Some("1"));
                let body = r.json();
                assert_eq!(body["id"], r.header("webhook-id").unwrap().as_str());
                assert_eq!(body["event"], "order.created");
                assert_eq!(body["bot_id"], bot.as_str());
                assert!(body["timestamp"].as_str().is_some_and(|t| t.ends_with('Z')));
                assert!(body["data"]["order"] == 42 || body["data"]["order"] == 43);
            }
        }
        let to_exact = at_path(&got, "/exact");
        assert!(to_exact
            .iter()
            .all(|r| r.header("x-team").as_deref() == Some("shop")));

        // One real delivery as the sink saw it, for the record (no secret in it).
        let shown = to_exact[0];
        let mut lines: Vec<String> = shown
            .headers
            .iter()
            .map(|(k, v)| format!("{k}: {}", v.to_str().unwrap_or("<binary>")))
            .collect();
        lines.sort();
        eprintln!(
            "a delivery as the sink received it ({backend:?}):\nPOST {}\n{}\n\n{}",
            shown.path,
            lines.join("\n"),
            shown.text()
        );

        // The official Python library agrees, and refuses a changed body.
        let secret = exact["secret"].as_str().unwrap();
        if let Some(ok) = python_verifies(secret, shown) {
            assert!(ok, "standardwebhooks refused a real delivery ({backend:?})");
            assert_eq!(python_verifies(secret, &tampered(shown)), Some(false));
        }

        // The log: one succeeded attempt per message; nothing for the others.
        let logged = wait_rows(&dev, &bot, &id(&exact), 2).await;
        assert_eq!(
            summary(&logged),
            vec![(1, "succeeded".into(), Some(200)); 2],
            "{backend:?}"
        );
        for row in &logged {
            assert!(row["id"].as_str().unwrap().starts_with("dlv_"));
            assert_eq!(row["endpoint_id"], exact["id"]);
            assert_eq!(row["event"], "order.created");
            assert_eq!(row["error"], Value::Null);
            assert!(row["triggered_at"].as_str().is_some());
            assert!(row["response_time_ms"].as_u64().is_some());
        }
        assert!(rows(&dev, &bot, &id(&other)).await.is_empty());
        assert!(rows(&dev, &bot, &id(&disabled)).await.is_empty());
    }
}

on_every_backend! {
    #[tokio::test(flavor = "multi_thread")]
    async fn a_failing_endpoint_is_retried_on_its_schedule_until_it_succeeds_on_every_backend(backend) {
        let sink = Sink::start().await;
        let dev = Dev::start(bin(), backend.clone(), &[]).await;
        let (bot, key) = dev.bot().await;
        let ep = endpoint(
            &dev,
            &bot,
            json!({"url": sink.url("/flaky"), "events": ["invoice.paid"], "retry_schedule": [1, 1]}),
        )
        .await;
        assert_eq!(ep["max_attempts"], 3);
        let secret = ep["secret"].as_str().unwrap();
        sink.reply_with([Reply::status(500), Reply::status(503), Reply::status(200)]);
        let msg = publish(
            &dev,
            &bot,
            &key,
            json!({"event": "invoice.paid", "data": {"n": 1}}),
            None,
        )
        .await;

        let got = sink.wait_for(3, WAIT).await;
        for (n, r) in got.iter().enumerate() {
            check_delivery(r, "invoice.paid", &[secret]);
            assert_eq!(
                r.header("webhook-id").as_deref(),
                Some(msg.as_str()),
                "{backend:?}"
            );
            assert_eq!(r.header("x-webhook-attempt"), Some((n + 1).to_string()));
        }
        // The body is the same on every attempt; only the signing time moves.
        assert!(got.iter().all(|r| r.body == got[0].body));
        for pair in got.windows(2) {
            let gap = pair[1].at - pair[0].at;
            assert!(
                gap >= Duration::from_millis(700),
                "a retry {gap:?} after the attempt before ({backend:?})"
            );
        }

        let logged = wait_rows(&dev, &bot, &id(&ep), 3).await;
        assert_eq!(
            summary(&logged),
            vec![
                (3, "succeeded".into(), Some(200)),
                (2, "failed".into(), Some(503)),
                (1, "failed".into(), Some(500)),
            ],
            "{backend:?}"
        );
        assert!(logged.iter().all(|r| r["message_id"] == msg.as_str()));
        assert!(logged[1]["error"].as_str().is_some_and(|e| !e.is_empty()));
        // Once the retries are made, no row says one is due.
        for r in &logged {
            wait_no_retry_due(&dev, &bot, &id(r)).await;
        }
        let state = dev
            .get(&format!("/v1/bots/{bot}/endpoints/{}", id(&ep)))
            .await;
        assert_eq!(state["enabled"], true);
        assert_eq!(
            state["failing_since"],
            Value::Null,
            "a success clears the failure run"
        );
        tokio::time::sleep(SETTLE).await;
        assert_eq!(
            sink.received().len(),
            3,
            "nothing after the success ({backend:?})"
        );

        // A 429 with `Retry-After` waits that long, though the schedule says at once.
        let busy = Sink::start().await;
        let ep = endpoint(
            &dev,
            &bot,
            json!({"url": busy.url("/busy"), "events": ["invoice.overdue"], "retry_schedule": [0]}),
        )
        .await;
        busy.reply_with([
            Reply {
                headers: vec![("retry-after".into(), "2".into())],
                ..Reply::status(429)
            },
            Reply::status(200),
        ]);
        publish(&dev, &bot, &key, json!({"event": "invoice.overdue"}), None).await;
        // While the retry waits, the failed row says when it is due (2 s
        // on, whole seconds compare as text), read alone or in the log.
        let first = wait_rows(&dev, &bot, &id(&ep), 1).await.remove(0);
        let waiting = row(&dev, &bot, &id(&first)).await;
        assert_eq!(waiting["status"], "failed", "{backend:?}");
        let due = waiting["next_attempt_at"]
            .as_str()
            .unwrap_or_else(|| panic!("no next_attempt_at while the retry waits: {waiting}"));
        let tried = waiting["triggered_at"].as_str().unwrap();
        assert!(due[..19] > tried[..19], "due {due}, tried {tried}");
        assert_eq!(first["next_attempt_at"], due);
        let got = busy.wait_for(2, WAIT).await;
        let gap = got[1].at - got[0].at;
        assert!(
            gap >= Duration::from_millis(1900),
            "retried {gap:?} after a 429 asking for 2 s ({backend:?})"
        );
        check_delivery(
            &got[1],
            "invoice.overdue",
            &[ep["secret"].as_str().unwrap()],
        );
        let logged = wait_rows(&dev, &bot, &id(&ep), 2).await;
        assert_eq!(
            summary(&logged),
            vec![
                (2, "succeeded".into(), Some(200)),
                (1, "failed".into(), Some(429)),
            ]
        );
        // Once the retry is made, neither row says one is due.
        assert_eq!(logged[0]["next_attempt_at"], Value::Null);
        let made = wait_no_retry_due(&dev, &bot, &id(&first)).await;
        assert_eq!(made["status"], "failed");
        assert_eq!(made["http_status"], 429);
    }
}

on_every_backend! {
    #[tokio::test(flavor = "multi_thread")]
    async fn an_endpoint_answering_410_is_disabled_says_why_and_still_takes_a_test_send_on_every_backend(backend) {
        let sink = Sink::start().await;
        let dev = Dev::start(bin(), backend.clone(), &[]).await;
        let (bot, key) = dev.bot().await;
        let ep = endpoint(
            &dev,
            &bot,
            json!({"url": sink.url("/gone"), "retry_schedule": [1, 1]}),
        )
        .await;
        let path = format!("/v1/bots/{bot}/endpoints/{}", id(&ep));
        let secret = ep["secret"].as_str().unwrap().to_owned();
        sink.reply_with([Reply::status(410)]);
        publish(
            &dev,
            &bot,
            &key,
            json!({"event": "server.created", "data": {}}),
            None,
        )
        .await;

        let got = sink.wait_for(1, WAIT).await;
        check_delivery(&got[0], "server.created", &[&secret]);
        let logged = wait_rows(&dev, &bot, &id(&ep), 1).await;
        assert_eq!(
            summary(&logged),
            vec![(1, "exhausted".into(), Some(410))],
            "{backend:?}"
        );
        let state = dev.get(&path).await;
        assert_eq!(state["enabled"], false, "{backend:?}");
        assert!(
            state["disabled_reason"]
                .as_str()
                .is_some_and(|r| r.contains("410")),
            "{state}"
        );

        // No retry, and later events are not fanned out to it.
        publish(
            &dev,
            &bot,
            &key,
            json!({"event": "server.created", "data": {}}),
            None,
        )
        .await;
        tokio::time::sleep(SETTLE).await;
        assert_eq!(sink.received().len(), 1, "{backend:?}");

        // The test button reaches it all the same, to check a repaired receiver.
        let test = dev
            .admin_json(Method::POST, &format!("{path}/test"), json!({}), 202)
            .await;
        let test_id = id(&test);
        let got = sink.wait_for(2, WAIT).await;
        check_delivery(&got[1], "webhook.test", &[&secret]);
        assert_eq!(got[1].header("webhook-id"), Some(test_id.clone()));
        assert_eq!(got[1].json()["event"], "webhook.test");
        assert!(got[1].json()["data"]["message"].as_str().is_some());
        let logged = wait_rows(&dev, &bot, &id(&ep), 2).await;
        assert_eq!(logged[0]["event"], "webhook.test");
        assert_eq!(logged[0]["status"], "succeeded");
        assert_eq!(
            dev.get(&path).await["enabled"],
            false,
            "a test send does not enable it"
        );

        // Enabling it again clears the reason.
        let state = dev
            .admin_json(Method::PATCH, &path, json!({"enabled": true}), 200)
            .await;
        assert_eq!(state["enabled"], true);
        assert_eq!(state["disabled_reason"], Value::Null);
    }
}

on_every_backend! {
    #[tokio::test(flavor = "multi_thread")]
    async fn resend_replays_one_delivery_and_recover_replays_what_failed_since_a_time_on_every_backend(backend) {
        let sink = Sink::start().await;
        let dev = Dev::start(bin(), backend.clone(), &[]).await;
        let (bot, key) = dev.bot().await;
        let ep = endpoint(
            &dev,
            &bot,
            json!({"url": sink.url("/once"), "retry_schedule": [], "max_attempts": 1}),
        )
        .await;
        let ep_id = id(&ep);
        let secret = ep["secret"].as_str().unwrap().to_owned();
        let event = |n: u32| json!({"event": "order.created", "data": {"n": n}});

        // m0 fails (one attempt only) and is resent by hand.
        sink.reply_with([Reply::status(500)]);
        let m0 = publish(&dev, &bot, &key, event(0), None).await;
        let logged = wait_rows(&dev, &bot, &ep_id, 1).await;
        assert_eq!(summary(&logged), vec![(1, "exhausted".into(), Some(500))]);
        let resent = dev
            .admin_json(
                Method::POST,
                &format!("/v1/bots/{bot}/deliveries/{}/resend", id(&logged[0])),
                json!({}),
                202,
            )
            .await;
        assert_eq!(resent["message_id"], m0.as_str());
        let got = sink.wait_for(2, WAIT).await;
        check_delivery(&got[1], "order.created", &[&secret]);
        assert_eq!(got[1].header("webhook-id"), Some(m0.clone()), "{backend:?}");
        assert_eq!(got[1].body, got[0].body, "the same message");
        let logged = wait_rows(&dev, &bot, &ep_id, 2).await;
        assert_eq!(logged[0]["status"], "succeeded");

        // m1 fails before `since`; after it, m2 fails and m3 succeeds.
        sink.reply_with([Reply::status(500)]);
        publish(&dev, &bot, &key, event(1), None).await;
        wait_rows(&dev, &bot, &ep_id, 3).await;
        tokio::time::sleep(Duration::from_millis(20)).await;
        let since = time_now_rfc3339();
        tokio::time::sleep(Duration::from_millis(20)).await;
        sink.reply_with([Reply::status(500)]);
        let m2 = publish(&dev, &bot, &key, event(2), None).await;
        wait_rows(&dev, &bot, &ep_id, 4).await;
        publish(&dev, &bot, &key, event(3), None).await;
        wait_rows(&dev, &bot, &ep_id, 5).await;

        let recovered = dev
            .admin_json(
                Method::POST,
                &format!("/v1/bots/{bot}/endpoints/{ep_id}/recover"),
                json!({"since": since}),
                202,
            )
            .await;
        assert_eq!(recovered["recovered"], 1, "{backend:?}");
        assert_eq!(recovered["message_ids"], json!([m2]));
        let got = sink.wait_for(6, WAIT).await;
        check_delivery(&got[5], "order.created", &[&secret]);
        assert_eq!(got[5].header("webhook-id"), Some(m2.clone()));
        assert_eq!(got[5].json()["data"], json!({"n": 2}));
        let logged = wait_rows(&dev, &bot, &ep_id, 6).await;
        assert_eq!(logged[0]["message_id"], m2.as_str());
        assert_eq!(logged[0]["status"], "succeeded");
        tokio::time::sleep(SETTLE).await;
        assert_eq!(sink.received().len(), 6, "{backend:?}");
    }
}

on_every_backend! {
    #[tokio::test(flavor = "multi_thread")]
    async fn a_resend_supersedes_a_queued_retry_and_recover_leaves_a_queued_retry_alone_on_every_backend(backend) {
        let sink = Sink::start().await;
        let dev = Dev::start(bin(), backend.clone(), &[]).await;
        let (bot, key) = dev.bot().await;
        // One retry, 3.2 to 4.8 s after a failure (the schedule's jitter).
        let ep = endpoint(
            &dev,
            &bot,
            json!({"url": sink.url("/slow-to-mend"), "retry_schedule": [4], "max_attempts": 2}),
        )
        .await;
        let ep_id = id(&ep);
        let event = |n: u32| json!({"event": "order.created", "data": {"n": n}});
        let since = time_now_rfc3339();

        // m1 fails; its retry is queued and its row says when.
        sink.reply_with([Reply::status(500)]);
        let m1 = publish(&dev, &bot, &key, event(1), None).await;
        let failed = wait_rows(&dev, &bot, &ep_id, 1).await.remove(0);
        assert_eq!(failed["status"], "failed", "{backend:?}");
        assert!(failed["next_attempt_at"].is_string(), "{failed}");

        // A resend sends it now and supersedes the queued retry.
        let resent = dev
            .admin_json(
                Method::POST,
                &format!("/v1/bots/{bot}/deliveries/{}/resend", id(&failed)),
                json!({}),
                202,
            )
            .await;
        assert_eq!(resent["message_id"], m1.as_str());
        assert_eq!(resent["superseded"], json!([id(&failed)]), "{backend:?}");
        let got = sink.wait_for(2, WAIT).await;
        assert_eq!(got[1].header("webhook-id"), Some(m1.clone()));
        assert_eq!(got[1].header("x-webhook-attempt").as_deref(), Some("1"));
        let logged = wait_rows(&dev, &bot, &ep_id, 2).await;
        assert_eq!(
            summary(&logged),
            vec![(1, "succeeded".into(), Some(200)), (1, "failed".into(), Some(500))],
            "{backend:?}"
        );
        let superseded = row(&dev, &bot, &id(&failed)).await;
        assert_eq!(superseded["next_attempt_at"], Value::Null, "{superseded}");
        assert!(
            superseded["error"]
                .as_str()
                .is_some_and(|e| e.contains("superseded by a resend")),
            "{superseded}"
        );

        // m2 fails too; a recover now leaves it to its queued retry.
        sink.reply_with([Reply::status(500)]);
        let m2 = publish(&dev, &bot, &key, event(2), None).await;
        let failed = wait_rows(&dev, &bot, &ep_id, 3).await.remove(0);
        assert_eq!(failed["message_id"], m2.as_str());
        assert!(failed["next_attempt_at"].is_string(), "{failed}");
        let recover = format!("/v1/bots/{bot}/endpoints/{ep_id}/recover");
        let recovered = dev
            .admin_json(Method::POST, &recover, json!({"since": since}), 202)
            .await;
        assert_eq!(recovered["recovered"], 0, "{backend:?}: {recovered}");

        // m1's superseded retry never comes; m2's does, once.
        let got = sink.wait_for(4, WAIT).await;
        assert_eq!(got[3].header("webhook-id"), Some(m2.clone()));
        assert_eq!(got[3].header("x-webhook-attempt").as_deref(), Some("2"));
        let gap = got[3].at - got[2].at;
        assert!(gap >= Duration::from_secs(3), "retried {gap:?} after ({backend:?})");
        tokio::time::sleep(Duration::from_secs(5) + SETTLE).await;
        let got = sink.received();
        assert_eq!(
            got.iter().map(|r| r.header("webhook-id").unwrap()).collect::<Vec<_>>(),
            vec![m1.clone(), m1.clone(), m2.clone(), m2.clone()],
            "{backend:?}"
        );
        wait_no_retry_due(&dev, &bot, &id(&failed)).await;
        // Both succeeded in the end: nothing to recover.
        let recovered = dev
            .admin_json(Method::POST, &recover, json!({"since": since}), 202)
            .await;
        assert_eq!(recovered["recovered"], 0, "{backend:?}: {recovered}");
    }
}

/// The current time as RFC 3339 with milliseconds, UTC.
fn time_now_rfc3339() -> String {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    let secs = now.as_secs() as i64;
    let (days, rest) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60,
        now.subsec_millis()
    )
}

on_every_backend! {
    #[tokio::test(flavor = "multi_thread")]
    async fn a_rotated_secret_signs_alongside_the_old_one_during_the_grace_on_every_backend(backend) {
        let sink = Sink::start().await;
        let dev = Dev::start(bin(), backend.clone(), &[]).await;
        let (bot, key) = dev.bot().await;
        let ep = endpoint(&dev, &bot, json!({"url": sink.url("/rotating")})).await;
        let path = format!("/v1/bots/{bot}/endpoints/{}", id(&ep));
        let old = ep["secret"].as_str().unwrap().to_owned();

        let rotated = dev
            .admin_json(
                Method::POST,
                &format!("{path}/secret/rotate"),
                json!({"grace_seconds": 3600}),
                200,
            )
            .await;
        let new = rotated["secret"].as_str().unwrap().to_owned();
        assert!(new.starts_with("whsec_") && new != old);
        assert!(rotated["previous_secret_expires_at"].as_str().is_some());
        assert!(
            dev.get(&path).await.get("secret").is_none(),
            "secrets are never read back"
        );

        publish(
            &dev,
            &bot,
            &key,
            json!({"event": "chat.message", "data": {"text": "hi"}}),
            None,
        )
        .await;
        let got = sink.wait_for(1, WAIT).await;
        // Two signatures, the new secret's first; each secret verifies on its own.
        check_delivery(&got[0], "chat.message", &[&new, &old]);
        if let Some(ok) = python_verifies(&new, &got[0]) {
            assert!(ok, "standardwebhooks refused the new secret ({backend:?})");
            assert_eq!(
                python_verifies(&old, &got[0]),
                Some(true),
                "the old secret, in its grace"
            );
        }

        // Without a grace only the newest secret signs.
        let rotated = dev
            .admin_json(
                Method::POST,
                &format!("{path}/secret/rotate"),
                json!({"grace_seconds": 0}),
                200,
            )
            .await;
        let newest = rotated["secret"].as_str().unwrap().to_owned();
        assert_eq!(rotated["previous_secret_expires_at"], Value::Null);
        publish(
            &dev,
            &bot,
            &key,
            json!({"event": "chat.message", "data": {"text": "again"}}),
            None,
        )
        .await;
        let got = sink.wait_for(2, WAIT).await;
        check_delivery(&got[1], "chat.message", &[&newest]);
        for retired in [&new, &old] {
            assert!(
                standard_webhooks::verify(retired, |h| got[1].header(h), &got[1].body, unix_now())
                    .is_err(),
                "a retired secret must not verify ({backend:?})"
            );
        }
        if let Some(ok) = python_verifies(&old, &got[1]) {
            assert!(!ok, "standardwebhooks took a retired secret ({backend:?})");
        }
    }
}

on_every_backend! {
    #[tokio::test(flavor = "multi_thread")]
    async fn a_retry_queued_before_the_endpoint_was_disabled_is_dropped_and_logged_on_every_backend(backend) {
        let sink = Sink::start().await;
        let dev = Dev::start(bin(), backend.clone(), &[]).await;
        let (bot, key) = dev.bot().await;
        let ep = endpoint(
            &dev,
            &bot,
            json!({"url": sink.url("/paused"), "retry_schedule": [2]}),
        )
        .await;
        let path = format!("/v1/bots/{bot}/endpoints/{}", id(&ep));
        sink.reply_with([Reply::status(500)]);
        publish(&dev, &bot, &key, json!({"event": "order.created"}), None).await;
        let logged = wait_rows(&dev, &bot, &id(&ep), 1).await;
        assert_eq!(summary(&logged), vec![(1, "failed".into(), Some(500))]);
        let state = dev
            .admin_json(Method::PATCH, &path, json!({"enabled": false}), 200)
            .await;
        assert_eq!(state["disabled_reason"], "disabled through the admin API");
        let logged = wait_rows(&dev, &bot, &id(&ep), 2).await;
        assert_eq!(
            summary(&logged),
            vec![
                (2, "exhausted".into(), None),
                (1, "failed".into(), Some(500))
            ],
            "{backend:?}"
        );
        assert!(logged[0]["error"]
            .as_str()
            .is_some_and(|e| e.contains("disabled")));
        assert_eq!(sink.received().len(), 1, "the retry was not sent");
    }
}

on_every_backend! {
    #[tokio::test(flavor = "multi_thread")]
    async fn an_endpoint_failing_longer_than_allowed_is_disabled_without_a_retry_on_every_backend(backend) {
        // The installation allows no failure run at all: the first failure disables.
        let sink = Sink::start().await;
        let dev = Dev::start(
            bin(),
            backend.clone(),
            &[("HOOKLANE_DISABLE_FAILING_ENDPOINT_AFTER_HOURS", "0")],
        )
        .await;
        let (bot, key) = dev.bot().await;
        let ep = endpoint(
            &dev,
            &bot,
            json!({"url": sink.url("/failing"), "retry_schedule": [1]}),
        )
        .await;
        sink.reply_with([Reply::status(500)]);
        publish(&dev, &bot, &key, json!({"event": "order.created"}), None).await;
        let logged = wait_rows(&dev, &bot, &id(&ep), 1).await;
        assert_eq!(
            summary(&logged),
            vec![(1, "exhausted".into(), Some(500))],
            "no retry is queued for a disabled endpoint ({backend:?})"
        );
        let state = dev
            .get(&format!("/v1/bots/{bot}/endpoints/{}", id(&ep)))
            .await;
        assert_eq!(state["enabled"], false);
        assert!(
            state["disabled_reason"]
                .as_str()
                .is_some_and(|r| r.contains("failed since")),
            "{state}"
        );
        assert!(state["failing_since"].as_str().is_some());
        tokio::time::sleep(SETTLE).await;
        assert_eq!(sink.received().len(), 1, "{backend:?}");
    }
}

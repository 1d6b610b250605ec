//! The developer commands against a real `hooklane dev`: `tail` follows
//! calls as they happen, `listen` forwards published events to a loopback
//! server signed as deliveries are, `trigger` sends each sender's sample
//! signed the way that sender signs, and the resource commands' `--json`
//! is the API's JSON. Portal links work on every backend (on AWS the
//! portal key is kept in the table).

use std::io::{BufRead as _, BufReader};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::common::{bin, SETTLE, WAIT};
use crate::outbound::standard_webhooks;
use hooklane_testkit::{on_every_backend, Backend, Dev, Sink};
use reqwest::Method;
use serde_json::{json, Value};

/// `hooklane ARGS` against `dev`, run to its end.
fn cli(dev: &Dev, args: &[&str]) -> Output {
    command(dev, args).output().unwrap()
}

fn command(dev: &Dev, args: &[&str]) -> Command {
    let mut cmd = Command::new(bin());
    cmd.args(args)
        .env("HOOKLANE_URL", &dev.base)
        .env("HOOKLANE_ADMIN_TOKEN", &dev.token)
        .env("NO_COLOR", "1")
        .env_remove("HOOKLANE_TRIGGER_SECRET")
        .env_remove("HOOKLANE_LISTEN_SECRET");
    cmd
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A long-running command whose stdout and stderr lines arrive, with the
/// time each arrived, on channels; killed when dropped.
struct Running {
    child: Child,
    out: mpsc::Receiver<(Instant, String)>,
    err: mpsc::Receiver<(Instant, String)>,
}

impl Running {
    fn start(mut cmd: Command) -> Self {
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let lines = |stream: Box<dyn std::io::Read + Send>| {
            let (tx, rx) = mpsc::channel();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    if tx.send((Instant::now(), line)).is_err() {
                        break;
                    }
                }
            });
            rx
        };
        let out = lines(Box::new(child.stdout.take().unwrap()));
        let err = lines(Box::new(child.stderr.take().unwrap()));
        Self { child, out, err }
    }

    /// The first line of `rx` containing `needle`, within `within`.
    fn wait(
        rx: &mpsc::Receiver<(Instant, String)>,
        needle: &str,
        within: Duration,
    ) -> Option<(Instant, String)> {
        let deadline = Instant::now() + within;
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            match rx.recv_timeout(left) {
                Ok((at, line)) if line.contains(needle) => return Some((at, line)),
                Ok(_) => {}
                Err(_) => return None,
            }
        }
        None
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

#[tokio::test(flavor = "multi_thread")]
async fn tail_shows_a_call_within_two_seconds() {
    let dev = Dev::start(bin(), Backend::Embedded, &[]).await;
    let (bot, _) = dev.bot().await;
    let hook = dev
        .hook(
            &bot,
            json!({"auth": {"type": "none"}, "actions": [{"type": "log", "message": "hi"}]}),
        )
        .await;
    let tail = Running::start(command(&dev, &["tail", "--bot", &bot]));
    Running::wait(&tail.err, "following", WAIT).expect("tail starts");
    // Its first read learns what is there already.
    tokio::time::sleep(Duration::from_millis(1000)).await;

    let called = Instant::now();
    let answer: Value = dev
        .client
        .post(hook["url"].as_str().unwrap())
        .json(&json!({"amount": 3}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = answer["id"].as_str().expect("the call's id");
    let (at, line) = Running::wait(&tail.out, id, WAIT)
        .unwrap_or_else(|| panic!("tail never showed {id}\n{}", dev.log()));
    let after = at.duration_since(called);
    assert!(
        after < Duration::from_secs(2),
        "shown after {after:?}: {line}"
    );
    assert!(line.contains("run"), "{line}");
    assert!(
        !line.contains('\u{1b}'),
        "no colours off a terminal: {line:?}"
    );
}

on_every_backend! {
    #[tokio::test(flavor = "multi_thread")]
    async fn listen_forwards_a_published_event_with_a_signature_that_verifies(backend) {
        let dev = Dev::start(bin(), backend, &[]).await;
        let (bot, key) = dev.bot().await;
        let sink = Sink::start().await;
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let forward_to = sink.url("/webhooks");
        let listen = Running::start(command(
            &dev,
            &["listen", "--bot", &bot, "--forward-to", &forward_to, "--events", "order.*", "--secret", secret],
        ));
        Running::wait(&listen.err, "Ready", WAIT).expect("listen starts");

        let publish = |event: &str| {
            dev.client
                .post(format!("{}/v1/bots/{bot}/events", dev.base))
                .bearer_auth(&key)
                .json(&json!({"event": event, "data": {"order": 42, "amount": 12.5}}))
                .send()
        };
        let skipped = publish("user.created").await.unwrap();
        assert_eq!(skipped.status(), 202);
        let r = publish("order.paid").await.unwrap();
        assert_eq!(r.status(), 202);
        let id = r.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned();

        let got = sink.wait_for(1, WAIT).await;
        let delivery = &got[0];
        assert_eq!(delivery.path, "/webhooks");
        assert_eq!(delivery.header("x-webhook-event").as_deref(), Some("order.paid"));
        assert_eq!(delivery.header("webhook-id").as_deref(), Some(id.as_str()));
        standard_webhooks::verify(secret, |h| delivery.header(h), &delivery.body, unix_now())
            .unwrap_or_else(|e| panic!("the forward does not verify: {e}"));
        let body = delivery.json();
        assert_eq!(body["id"], id.as_str());
        assert_eq!(body["bot_id"], bot.as_str());
        assert_eq!(body["data"]["order"], 42);
        let (_, line) = Running::wait(&listen.out, &id, WAIT).expect("the forward is printed");
        assert!(line.contains("order.paid") && line.contains("[200]"), "{line}");

        tokio::time::sleep(SETTLE).await;
        assert_eq!(sink.received().len(), 1, "user.created is not forwarded");
    }
}

on_every_backend! {
    #[tokio::test(flavor = "multi_thread")]
    async fn a_portal_link_opens_its_bot_on_every_backend(backend) {
        let dev = Dev::start(bin(), backend, &[]).await;
        let (bot, _) = dev.bot().await;
        let (other, _) = dev.bot().await;
        let minted = dev
            .admin_json(Method::POST, &format!("/v1/bots/{bot}/portal"), json!({}), 201)
            .await;
        let token = minted["url"].as_str().unwrap().split_once("#portal=").unwrap().1.to_owned();
        let get = |path: String| dev.client.get(format!("{}{path}", dev.base)).bearer_auth(&token).send();
        let own = get(format!("/portal/v1/bots/{bot}/endpoints")).await.unwrap();
        assert_eq!(own.status(), 200);
        let foreign = get(format!("/portal/v1/bots/{other}/endpoints")).await.unwrap();
        assert_eq!(foreign.status(), 403);
        // A restarted instance signs with the same key: the link still works.
        let mut dev = dev;
        dev.restart().await;
        let again = dev
            .client
            .get(format!("{}/portal/v1/bots/{bot}", dev.base))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(again.status(), 200);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn each_trigger_fixture_is_accepted_by_its_senders_hook_and_refused_under_another_secret() {
    let dev = Dev::start(bin(), Backend::Embedded, &[]).await;
    let (bot, api_key) = dev.bot().await;
    let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    let other = "whsec_c29tZW9uZSBlbHNlJ3Mgc2VjcmV0IGtleSE=";
    let hmac = |scheme: &str| json!({"type": "hmac", "scheme": scheme, "secret": secret});
    // Discord signs with a private key: the hook is given its public key.
    let seed = "0b".repeat(32);
    let printed = cli(
        &dev,
        &[
            "trigger",
            "discord",
            "--secret",
            &seed,
            "--print-public-key",
        ],
    );
    assert!(printed.status.success(), "{}", stderr(&printed));
    let public_key = stdout(&printed).trim().to_owned();
    assert_eq!(public_key.len(), 64, "{public_key}");
    let queued = json!({"status": "queued"});
    // (fixture, the hook's auth, the right secret, a wrong one, the answer's status and part of its body)
    let cases = [
        ("github-push", hmac("github"), secret, other, 202, &queued),
        ("stripe-event", hmac("stripe"), secret, other, 202, &queued),
        ("slack-command", hmac("slack"), secret, other, 202, &queued),
        (
            "standard-webhooks",
            hmac("standard"),
            secret,
            other,
            202,
            &queued,
        ),
        ("shopify", hmac("shopify"), secret, other, 202, &queued),
        (
            "botghost-variables",
            json!({"type": "api_key"}),
            api_key.as_str(),
            "hlk_not_this_bots_key",
            202,
            &queued,
        ),
        (
            "telegram",
            json!({"type": "telegram", "secret_token": "tgs_trigger-secret"}),
            "tgs_trigger-secret",
            "tgs_another-secret",
            202,
            &queued,
        ),
        ("twilio", hmac("twilio"), secret, other, 202, &queued),
        // A Discord interaction is answered 200 with a deferred answer.
        (
            "discord",
            json!({"type": "discord", "public_key": public_key}),
            seed.as_str(),
            &"0c".repeat(32),
            200,
            &json!({"type": 5}),
        ),
    ];
    for (fixture, auth, good, wrong, status, says) in cases {
        let hook = dev
            .hook(&bot, json!({"name": fixture, "auth": auth, "actions": [{"type": "log", "message": "{payload}"}]}))
            .await;
        let url = hook["url"].as_str().unwrap();
        for _ in 0..2 {
            // Each call is its own (a second is not a repeat of the first).
            let out = cli(
                &dev,
                &[
                    "trigger",
                    fixture,
                    "--hook-url",
                    url,
                    "--secret",
                    good,
                    "--json",
                ],
            );
            assert!(
                out.status.success(),
                "{fixture}: {}{}",
                stdout(&out),
                stderr(&out)
            );
            let answer: Value = serde_json::from_str(&stdout(&out)).unwrap();
            assert_eq!(answer["status"], status, "{fixture}: {answer}");
            for (k, v) in says.as_object().unwrap() {
                assert_eq!(&answer["body"][k], v, "{fixture}: {answer}");
            }
        }

        let out = cli(
            &dev,
            &["trigger", fixture, "--hook-url", url, "--secret", wrong],
        );
        assert!(
            !out.status.success(),
            "{fixture} with another secret was accepted"
        );
        assert!(stdout(&out).contains("401"), "{fixture}: {}", stdout(&out));
        if fixture == "discord" {
            // It names the public key the hook would need for this seed.
            let theirs = cli(
                &dev,
                &[
                    "trigger",
                    "discord",
                    "--secret",
                    wrong,
                    "--print-public-key",
                ],
            );
            let theirs = stdout(&theirs).trim().to_owned();
            assert_ne!(theirs, public_key);
            assert!(
                stderr(&out).contains(&format!("auth.public_key is {theirs}")),
                "{}",
                stderr(&out)
            );
        }
        if fixture == "twilio" {
            // It says what Twilio signs.
            assert!(
                stderr(&out).contains("the twilio signature is over --hook-url, which must be the public URL the hook sees")
                    && stderr(&out).contains("HOOKLANE_PUBLIC_URL"),
                "{}",
                stderr(&out)
            );
        }
        assert!(!stderr(&out).contains(wrong), "{fixture}: {}", stderr(&out));

        let runs = dev.runs(&bot, hook["id"].as_str().unwrap(), 2, WAIT).await;
        assert_eq!(runs.len(), 2, "{fixture}: both calls ran: {runs:?}");
        for run in &runs {
            assert_eq!(run["status"], "succeeded", "{fixture}: {runs:?}");
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn trigger_refuses_a_secret_or_url_its_sender_could_not_use_before_sending() {
    let dev = Dev::start(bin(), Backend::Embedded, &[]).await;
    let (bot, _) = dev.bot().await;
    let hook = dev
        .hook(&bot, json!({"name": "any", "auth": {"type": "none"}}))
        .await;
    let url = hook["url"].as_str().unwrap();
    let bare = url.trim_start_matches("http://");
    for (args, says) in [
        (
            vec!["discord", "--hook-url", url, "--secret", "not-hex-at-all"],
            "--secret for the discord fixture is the private key's seed, and it is malformed: an Ed25519 private key is given as its 32-byte seed in hex",
        ),
        (
            vec!["discord", "--secret", "0b0b", "--print-public-key"],
            "64 characters",
        ),
        (
            vec!["telegram", "--hook-url", url, "--secret", "has spaces"],
            "--secret for the telegram fixture is the hook's secret_token",
        ),
        (
            vec!["shopify", "--hook-url", bare, "--secret", "s"],
            "is not an http(s) URL",
        ),
        (
            vec!["shopify", "--secret", "s", "--print-public-key"],
            "--print-public-key goes with the discord fixture",
        ),
    ] {
        let mut all = vec!["trigger"];
        all.extend(args.iter().copied());
        let out = cli(&dev, &all);
        assert!(!out.status.success(), "{args:?}");
        assert!(stderr(&out).contains(says), "{args:?}: {}", stderr(&out));
    }
    let runs = dev
        .get(&format!(
            "/v1/bots/{bot}/hooks/{}/runs",
            hook["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(runs["data"], json!([]), "nothing was sent");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_resource_commands_print_the_apis_json_and_tables_and_replay_a_run() {
    let dev = Dev::start(bin(), Backend::Embedded, &[]).await;
    let sink = Sink::start().await;
    let json_of = |args: &[&str]| -> Value {
        let out = cli(&dev, args);
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        serde_json::from_str(&stdout(&out))
            .unwrap_or_else(|e| panic!("{args:?} printed no JSON ({e}): {}", stdout(&out)))
    };
    let created = json_of(&["bots", "create", "--name", "Cli bot", "--id", "cli-bot"]);
    assert!(created["api_key"].as_str().unwrap().starts_with("hlk_"));
    let bots = json_of(&["bots", "list", "--json"]);
    assert_eq!(bots["data"][0]["id"], "cli-bot");
    let table = stdout(&cli(&dev, &["bots", "list"]));
    assert!(
        table.contains("cli-bot") && table.contains("NAME"),
        "{table}"
    );

    let hook = json_of(&[
        "hooks",
        "create",
        "--bot",
        "cli-bot",
        "--name",
        "Orders",
        "--data",
        r#"{"auth": {"type": "none"}, "actions": [{"type": "log", "message": "n={payload.n}"}]}"#,
    ]);
    let hook_id = hook["id"].as_str().unwrap();
    assert_eq!(
        json_of(&["hooks", "list", "--bot", "cli-bot", "--json"])["data"][0]["id"],
        hook_id
    );
    let ep = json_of(&[
        "endpoints",
        "create",
        "--bot",
        "cli-bot",
        "--url",
        &sink.url("/in"),
        "--events",
        "order.*,webhook.*",
    ]);
    let ep_id = ep["id"].as_str().unwrap();
    assert!(ep["secret"].as_str().unwrap().starts_with("whsec_"));
    assert_eq!(
        json_of(&["endpoints", "list", "--bot", "cli-bot", "--json"])["data"][0]["events"],
        json!(["order.*", "webhook.*"])
    );
    json_of(&["endpoints", "test", "--bot", "cli-bot", ep_id]);
    sink.wait_for(1, WAIT).await;

    let call: Value = dev
        .client
        .post(hook["url"].as_str().unwrap())
        .json(&json!({"n": 7}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let run_id = call["id"].as_str().unwrap();
    dev.runs("cli-bot", hook_id, 1, WAIT).await;
    let runs = json_of(&[
        "runs", "list", "--bot", "cli-bot", "--hook", hook_id, "--json",
    ]);
    assert_eq!(runs["data"][0]["id"], run_id);
    let run = json_of(&["runs", "get", "--bot", "cli-bot", "--hook", hook_id, run_id]);
    assert_eq!(run["status"], "succeeded");
    let replayed = json_of(&[
        "runs", "replay", "--bot", "cli-bot", "--hook", hook_id, run_id,
    ]);
    assert_eq!(replayed["replay_of"], run_id);
    let runs = dev.runs("cli-bot", hook_id, 2, WAIT).await;
    let again = runs
        .iter()
        .find(|r| r["id"] == replayed["id"])
        .expect("the replay's run");
    assert_eq!(
        again["actions"][0]["detail"],
        runs.iter().find(|r| r["id"] == run_id).unwrap()["actions"][0]["detail"]
    );

    let deliveries = json_of(&[
        "deliveries",
        "list",
        "--bot",
        "cli-bot",
        "--endpoint",
        ep_id,
        "--json",
    ]);
    assert!(!deliveries["data"].as_array().unwrap().is_empty());
    let first = &deliveries["data"][0];
    let one = json_of(&[
        "deliveries",
        "get",
        "--bot",
        "cli-bot",
        first["id"].as_str().unwrap(),
    ]);
    assert_eq!(&one, first);
    let since = "2020-01-01T00:00:00Z";
    let recovered = json_of(&[
        "endpoints",
        "recover",
        "--bot",
        "cli-bot",
        ep_id,
        "--since",
        since,
        "--json",
    ]);
    assert_eq!(recovered["recovered"], 0);

    let missing = cli(&dev, &["bots", "get", "nobody"]);
    assert!(!missing.status.success());
    assert!(stderr(&missing).contains("404"), "{}", stderr(&missing));
    let deleted = cli(&dev, &["bots", "delete", "cli-bot"]);
    assert!(
        stdout(&deleted).contains("deleted bot cli-bot"),
        "{}",
        stdout(&deleted)
    );
}

/// Collects the JSON lines `rx` prints until `done` holds for them, or
/// `within` passes.
fn json_lines(
    rx: &mpsc::Receiver<(Instant, String)>,
    within: Duration,
    done: impl Fn(&[Value]) -> bool,
) -> Vec<Value> {
    let deadline = Instant::now() + within;
    let mut lines = Vec::new();
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        match rx.recv_timeout(left) {
            Ok((_, line)) => {
                lines.push(serde_json::from_str(&line).unwrap_or(Value::String(line)));
                if done(&lines) {
                    break;
                }
            }
            Err(_) => break,
        }
    }
    lines
}

#[tokio::test(flavor = "multi_thread")]
async fn tail_shows_every_delivery_of_a_burst_once() {
    const BURST: usize = 120;
    let dev = Dev::start(bin(), Backend::Embedded, &[]).await;
    let (bot, key) = dev.bot().await;
    let sink = Sink::start().await;
    let endpoint = dev
        .admin_json(
            Method::POST,
            &format!("/v1/bots/{bot}/endpoints"),
            json!({"name": "All", "url": sink.url("/all"), "events": ["*"]}),
            201,
        )
        .await;
    let endpoint = endpoint["id"].as_str().unwrap().to_owned();
    let tail = Running::start(command(
        &dev,
        &["tail", "--json", "--bot", &bot, "--endpoint", &endpoint],
    ));
    Running::wait(&tail.err, "following", WAIT).expect("tail starts");
    tokio::time::sleep(Duration::from_millis(1000)).await;

    let publishes: Vec<_> = (0..BURST)
        .map(|i| {
            let request = dev
                .client
                .post(format!("{}/v1/bots/{bot}/events", dev.base))
                .bearer_auth(&key)
                .json(&json!({"event": "order.paid", "data": {"n": i}}));
            tokio::spawn(async move { request.send().await.unwrap().status() })
        })
        .collect();
    for p in publishes {
        assert_eq!(p.await.unwrap(), 202);
    }
    let succeeded = |lines: &[Value]| {
        lines
            .iter()
            .filter(|l| l["kind"] == "delivery" && l["status"] == "succeeded")
            .count()
    };
    let lines = json_lines(&tail.out, Duration::from_secs(60), |l| {
        succeeded(l) >= BURST
    });
    sink.wait_for(BURST, WAIT).await;
    // Whatever came after the last one is a repeat.
    let lines = [lines, json_lines(&tail.out, SETTLE, |_| false)].concat();

    let mut shown = std::collections::HashMap::<(String, String), usize>::new();
    for line in &lines {
        assert_eq!(line["kind"], "delivery", "{line}");
        let key = (
            line["id"].as_str().unwrap().to_owned(),
            line["status"].as_str().unwrap().to_owned(),
        );
        *shown.entry(key).or_default() += 1;
    }
    let repeated: Vec<_> = shown.iter().filter(|(_, n)| **n > 1).collect();
    assert!(repeated.is_empty(), "shown more than once: {repeated:?}");
    let messages: std::collections::HashSet<_> = lines
        .iter()
        .filter(|l| l["status"] == "succeeded")
        .map(|l| l["message_id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        messages.len(),
        BURST,
        "{} of {BURST} deliveries shown",
        messages.len()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn listen_forwards_every_event_of_a_burst_once() {
    const BURST: usize = 250;
    let dev = Dev::start(bin(), Backend::Embedded, &[]).await;
    let (bot, key) = dev.bot().await;
    let sink = Sink::start().await;
    let forward_to = sink.url("/webhooks");
    let listen = Running::start(command(
        &dev,
        &["listen", "--bot", &bot, "--forward-to", &forward_to],
    ));
    Running::wait(&listen.err, "Ready", WAIT).expect("listen starts");

    let publishes: Vec<_> = (0..BURST)
        .map(|i| {
            let request = dev
                .client
                .post(format!("{}/v1/bots/{bot}/events", dev.base))
                .bearer_auth(&key)
                .json(&json!({"event": "order.paid", "data": {"n": i}}));
            tokio::spawn(async move {
                let r = request.send().await.unwrap();
                assert_eq!(r.status(), 202);
                r.json::<Value>().await.unwrap()["id"]
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
        })
        .collect();
    let mut published = std::collections::HashSet::new();
    for p in publishes {
        published.insert(p.await.unwrap());
    }
    sink.wait_for(BURST, Duration::from_secs(60)).await;
    tokio::time::sleep(SETTLE).await;
    let mut forwarded = std::collections::HashMap::<String, usize>::new();
    for got in sink.received() {
        *forwarded
            .entry(got.header("webhook-id").unwrap())
            .or_default() += 1;
    }
    let missing: Vec<_> = published
        .iter()
        .filter(|id| !forwarded.contains_key(*id))
        .collect();
    assert!(
        missing.is_empty(),
        "{} never forwarded: {missing:?}",
        missing.len()
    );
    let repeated: Vec<_> = forwarded.iter().filter(|(_, n)| **n > 1).collect();
    assert!(
        repeated.is_empty(),
        "forwarded more than once: {repeated:?}"
    );
    assert_eq!(forwarded.len(), BURST);
}

#[tokio::test(flavor = "multi_thread")]
async fn tail_finds_a_hook_across_bots_and_waits_for_a_bot_to_exist() {
    let dev = Dev::start(bin(), Backend::Embedded, &[]).await;
    let _without = dev.bot().await;
    let (bot, _) = dev.bot().await;
    let hook = dev
        .hook(
            &bot,
            json!({"auth": {"type": "none"}, "actions": [{"type": "log", "message": "hi"}]}),
        )
        .await;
    let hook_id = hook["id"].as_str().unwrap();
    let tail = Running::start(command(&dev, &["tail", "--json", "--hook", hook_id]));
    let later = Running::start(command(&dev, &["tail", "--json", "--bot", "bot-later"]));
    Running::wait(&later.err, "waiting for bot bot-later", WAIT).expect("tail waits for the bot");
    tokio::time::sleep(Duration::from_millis(1000)).await;

    let answer: Value = dev
        .client
        .post(hook["url"].as_str().unwrap())
        .json(&json!({"amount": 3}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = answer["id"].as_str().expect("the call's id");
    Running::wait(&tail.out, id, WAIT)
        .unwrap_or_else(|| panic!("tail --hook never showed {id}\n{}", dev.log()));

    dev.admin_json(
        Method::POST,
        "/v1/bots",
        json!({"id": "bot-later", "name": "Later"}),
        201,
    )
    .await;
    let later_hook = dev
        .hook(
            "bot-later",
            json!({"auth": {"type": "none"}, "actions": [{"type": "log", "message": "hi"}]}),
        )
        .await;
    let answer: Value = dev
        .client
        .post(later_hook["url"].as_str().unwrap())
        .json(&json!({}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = answer["id"].as_str().expect("the call's id");
    Running::wait(&later.out, id, WAIT)
        .unwrap_or_else(|| panic!("tail --bot never showed {id}\n{}", dev.log()));
}

#[tokio::test(flavor = "multi_thread")]
async fn listen_refuses_a_forward_to_that_is_not_a_url() {
    let dev = Dev::start(bin(), Backend::Embedded, &[]).await;
    let (bot, _) = dev.bot().await;
    let out = command(
        &dev,
        &["listen", "--bot", &bot, "--forward-to", "not-a-url"],
    )
    .output()
    .unwrap();
    assert!(!out.status.success());
    assert!(stderr(&out).contains("--forward-to"), "{}", stderr(&out));
}

#[test]
fn a_limit_over_100_is_refused() {
    let out = Command::new(bin())
        .args(["bots", "list", "--limit", "101"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(stderr(&out).contains("--limit"), "{}", stderr(&out));
}

/// `hooklane ARGS` with no connection settings in the environment and an
/// empty data dir: only the options on the command line say where to go.
fn bare(args: &[&str]) -> Output {
    Command::new(bin())
        .args(args)
        .env_remove("HOOKLANE_URL")
        .env_remove("HOOKLANE_ADMIN_TOKEN")
        .env("HOOKLANE_DATA_DIR", "/nonexistent-hooklane")
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn connection_options_work_before_and_after_the_subcommand_and_endpoints_create_url_is_the_endpoints(
) {
    let dev = Dev::start(bin(), Backend::Embedded, &[]).await;
    let sink = Sink::start().await;
    let (base, token) = (dev.base.as_str(), dev.token.as_str());
    let ok = |out: Output| -> Value {
        assert!(out.status.success(), "{}", stderr(&out));
        serde_json::from_str(&stdout(&out)).unwrap()
    };

    // After the subcommand, as people type them.
    let bot = ok(bare(&[
        "bots",
        "create",
        "--name",
        "Anywhere",
        "--id",
        "anywhere",
        "--api-url",
        base,
        "--token",
        token,
    ]));
    assert_eq!(bot["id"], "anywhere");
    // `endpoints create --url` is the endpoint's URL, beside the API's.
    let receiver = sink.url("/in");
    let ep = ok(bare(&[
        "endpoints",
        "create",
        "--bot",
        "anywhere",
        "--url",
        &receiver,
        "--api-url",
        base,
        "--token",
        token,
    ]));
    assert_eq!(ep["url"], receiver.as_str());
    let stored = dev
        .get(&format!(
            "/v1/bots/anywhere/endpoints/{}",
            ep["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(stored["url"], receiver.as_str());
    // Before the subcommand, and in between.
    for args in [
        &[
            "--api-url",
            base,
            "--token",
            token,
            "bots",
            "list",
            "--json",
        ][..],
        &[
            "bots",
            "--api-url",
            base,
            "list",
            "--token",
            token,
            "--json",
        ][..],
        &[
            "bots",
            "list",
            "--json",
            "--api-url",
            base,
            "--token",
            token,
        ][..],
    ] {
        assert_eq!(ok(bare(args))["data"][0]["id"], "anywhere", "{args:?}");
    }
    // The older spelling still works where it worked, before the action.
    let old = ok(bare(&[
        "endpoints",
        "--url",
        base,
        "list",
        "--bot",
        "anywhere",
        "--token",
        token,
        "--json",
    ]));
    assert_eq!(old["data"][0]["url"], receiver.as_str());
    let old = ok(bare(&[
        "api",
        "--url",
        base,
        "GET",
        "/v1/bots/anywhere",
        "--token",
        token,
    ]));
    assert_eq!(old["id"], "anywhere");

    // After the action it is refused with a pointer to --api-url, and
    // both spellings at once are refused.
    let out = bare(&["bots", "list", "--url", base, "--token", token]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("--api-url"), "{}", stderr(&out));
    let out = bare(&[
        "--url",
        base,
        "bots",
        "list",
        "--api-url",
        base,
        "--token",
        token,
    ]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("give one of them"),
        "{}",
        stderr(&out)
    );
    // `hooklane dev` serves the API: it takes no connection option.
    let out = bare(&["dev", "--token", token]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("hooklane dev takes no --token"),
        "{}",
        stderr(&out)
    );
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs moto: tests/run.sh starts one"]
async fn backfill_bot_list_lists_a_bot_stored_before_the_bot_list_once() {
    use aws_sdk_dynamodb::types::AttributeValue;

    let backend = Backend::aws();
    let Backend::Aws {
        endpoint, table, ..
    } = backend.clone()
    else {
        unreachable!()
    };
    let dev = Dev::start(bin(), backend, &[]).await;
    dev.bot().await;
    // A bot as an older version stored it: its record, no list entry.
    let aws = hooklane_store::aws_config().await.unwrap();
    let old = json!({"id": "older-bot", "name": "Older", "api_key_hash": "0".repeat(64),
                     "created_at": "2026-09-01T00:00:00Z"});
    aws_sdk_dynamodb::Client::new(&aws)
        .put_item()
        .table_name(&table)
        .item("pk", AttributeValue::S("BOT#older-bot".into()))
        .item("sk", AttributeValue::S("BOT".into()))
        .item("data", AttributeValue::S(old.to_string()))
        .send()
        .await
        .unwrap();
    let listed = |dev: &Dev| -> Vec<String> {
        let out = cli(dev, &["bots", "list", "--json"]);
        assert!(out.status.success(), "{}", stderr(&out));
        let list: Value = serde_json::from_str(&stdout(&out)).unwrap();
        list["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| b["id"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(listed(&dev).len(), 1);
    assert!(dev.get("/v1/bots/older-bot").await["name"] == "Older");

    let backfill = || {
        Command::new(bin())
            .args(["backfill-bot-list", "--table", &table])
            .env("AWS_ENDPOINT_URL", &endpoint)
            .output()
            .unwrap()
    };
    let out = backfill();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).starts_with("1 bot(s) added"),
        "{}",
        stdout(&out)
    );
    let ids = listed(&dev);
    assert_eq!(ids.len(), 2);
    assert!(ids.contains(&"older-bot".to_owned()), "{ids:?}");
    let out = backfill();
    assert!(
        stdout(&out).starts_with("0 bot(s) added"),
        "{}",
        stdout(&out)
    );

    // A table that is not there: a clear error, nothing created.
    let out = Command::new(bin())
        .args(["backfill-bot-list", "--table", "no-such-hooklane-table"])
        .env("AWS_ENDPOINT_URL", &endpoint)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("no-such-hooklane-table"),
        "{}",
        stderr(&out)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn listen_prints_why_a_forward_failed() {
    let dev = Dev::start(bin(), Backend::Embedded, &[]).await;
    let (bot, key) = dev.bot().await;
    // Nothing listens there: the connection is refused.
    let forward_to = format!("http://{}/webhooks", hooklane_testkit::free_addr());
    for json in [false, true] {
        let mut args = vec!["listen", "--bot", &bot, "--forward-to", &forward_to];
        if json {
            args.push("--json");
        }
        let listen = Running::start(command(&dev, &args));
        Running::wait(&listen.err, "Ready", WAIT).expect("listen starts");
        let r = dev
            .client
            .post(format!("{}/v1/bots/{bot}/events", dev.base))
            .bearer_auth(&key)
            .json(&json!({"event": "order.paid", "data": {}}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 202);
        let id = r.json::<Value>().await.unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let (_, line) = Running::wait(&listen.out, &id, WAIT).expect("the forward is printed");
        let error = if json {
            let printed: Value = serde_json::from_str(&line).unwrap();
            printed["error"].as_str().unwrap().to_owned()
        } else {
            line
        };
        assert!(
            error.contains("error sending request") && error.contains("Connection refused"),
            "the cause is named: {error}"
        );
    }
}

#[test]
fn a_usage_error_shows_the_usage_of_help_not_the_global_options_as_required() {
    let out = Command::new(bin())
        .args([
            "endpoints",
            "recover",
            "--bot",
            "B",
            "EP",
            "--api-url",
            "http://127.0.0.1:9",
        ])
        .env("HOOKLANE_URL", "http://127.0.0.1:9")
        .env("HOOKLANE_DATA_DIR", "/nonexistent-hooklane")
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "a usage error");
    let err = stderr(&out);
    assert!(err.contains("--since <SINCE>"), "{err}");
    assert!(
        err.contains(
            "Usage: hooklane endpoints recover [OPTIONS] --bot <BOT> --since <SINCE> <ENDPOINT>\n"
        ),
        "{err}"
    );
    for option in ["--api-url <URL>", "--data-dir <DATA_DIR>"] {
        assert!(!err.contains(option), "{option} shown as required: {err}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failed_command_prints_one_error_line_and_exits_1_even_with_rust_backtrace() {
    let dev = Dev::start(bin(), Backend::Embedded, &[]).await;
    let out = command(&dev, &["bots", "get", "nope"])
        .env("RUST_BACKTRACE", "1")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out),
        "error: GET /v1/bots/nope answered 404: no such bot\n"
    );

    // `hooklane dev` refusing to start says so the same way.
    let data = tempfile::tempdir().unwrap();
    let out = Command::new(bin())
        .args(["dev", "--addr", "127.0.0.1:0", "--data-dir"])
        .arg(data.path().join("data"))
        .env("HOOKLANE_ADMIN_TOKEN", "short-token")
        .env("RUST_BACKTRACE", "1")
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    let last = err.lines().last().unwrap_or_default();
    assert!(
        last.starts_with("error: ") && last.contains("at least 32 characters"),
        "{err}"
    );
    assert!(
        !err.contains("Error: ") && !err.contains("acktrace"),
        "{err}"
    );
    assert!(!err.contains("short-token"), "the token was echoed: {err}");
}

#[test]
fn trigger_hides_and_refuses_the_admin_connection_options_and_hooks_create_explains_its_options() {
    let help = |args: &[&str]| {
        let out = Command::new(bin())
            .args(args)
            .env("NO_COLOR", "1")
            .output()
            .unwrap();
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        stdout(&out)
    };
    let trigger = help(&["trigger", "--help"]);
    assert!(trigger.contains("--hook-url"), "{trigger}");
    for option in [
        "--api-url",
        "--token",
        "--sigv4",
        "--data-dir",
        "Connection",
    ] {
        assert!(
            !trigger.contains(option),
            "{option} in trigger's help: {trigger}"
        );
    }
    // The commands that call the admin API still list them.
    let create = help(&["hooks", "create", "--help"]);
    for option in ["--api-url", "--token", "--sigv4", "--data-dir"] {
        assert!(create.contains(option), "{option} missing: {create}");
    }
    for (option, says) in [
        ("--bot <BOT>", "The bot the hook belongs to"),
        ("--name <NAME>", "The hook's name"),
        ("--data <DATA>", "@file"),
    ] {
        let line = create
            .lines()
            .find(|l| l.trim_start().starts_with(option))
            .unwrap_or_else(|| panic!("{option}: {create}"));
        assert!(line.contains(says), "{option} has no help: {create}");
    }

    let out = Command::new(bin())
        .args([
            "trigger",
            "github-push",
            "--hook-url",
            "http://127.0.0.1:9/hooks/b/hk_1",
            "--secret",
            "s3cret-s3cret",
            "--api-url",
            "http://127.0.0.1:9",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("hooklane trigger takes no --api-url"),
        "{}",
        stderr(&out)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn variables_are_listed_set_and_deleted() {
    let dev = Dev::start(bin(), Backend::Embedded, &[]).await;
    let (bot, _) = dev.bot().await;
    let ok = |args: &[&str]| -> String {
        let out = cli(&dev, args);
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        stdout(&out)
    };
    assert_eq!(ok(&["variables", "list", "--bot", &bot]).trim(), "(none)");

    // JSON when it is JSON, else a string.
    for (name, value, stored) in [
        ("orders", "42", json!(42)),
        ("config", r#"{"mode": "fast"}"#, json!({"mode": "fast"})),
        ("quoted", r#""42""#, json!("42")),
        ("api_token", "tok_123", json!("tok_123")),
    ] {
        let set: Value =
            serde_json::from_str(&ok(&["variables", "set", "--bot", &bot, name, value])).unwrap();
        assert_eq!(set["name"], name);
        assert_eq!(set["value"], stored, "{name}");
    }
    let stored = dev.get(&format!("/v1/bots/{bot}/variables")).await;
    assert_eq!(stored["data"].as_array().unwrap().len(), 4, "{stored}");
    let listed: Value =
        serde_json::from_str(&ok(&["variables", "list", "--bot", &bot, "--json"])).unwrap();
    assert_eq!(listed, stored);
    let table = ok(&["variables", "list", "--bot", &bot]);
    assert!(
        table.contains("NAME") && table.contains("VALUE") && table.contains("tok_123"),
        "{table}"
    );
    assert!(table.contains(r#"{"mode":"fast"}"#), "{table}");

    let replaced: Value = serde_json::from_str(&ok(&[
        "variables",
        "set",
        "--bot",
        &bot,
        "orders",
        "43",
        "--json",
    ]))
    .unwrap();
    assert_eq!(replaced["value"], 43);
    assert_eq!(
        ok(&["variables", "delete", "--bot", &bot, "orders"]).trim(),
        "deleted variable orders"
    );
    let stored = dev.get(&format!("/v1/bots/{bot}/variables")).await;
    assert_eq!(stored["data"].as_array().unwrap().len(), 3, "{stored}");

    // A name that is not one is refused by the API, naming it.
    let out = cli(&dev, &["variables", "set", "--bot", &bot, "a/b", "1"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("400") && stderr(&out).contains("`a/b` is not a variable name"),
        "{}",
        stderr(&out)
    );
    let out = cli(&dev, &["variables", "delete", "--bot", &bot, "orders"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("404"), "{}", stderr(&out));
}

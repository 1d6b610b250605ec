//! `hooklane dev` as a server others can reach: slow clients, a second
//! process on the same data dir, a busy port, private files, and the
//! `hooklane api` defaults that find a local instance.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::bin;
use hooklane_testkit::{busy_port, free_addr, Backend, Dev};

fn host_port(dev: &Dev) -> String {
    dev.base.trim_start_matches("http://").to_owned()
}

/// Runs `hooklane ARGS` to its end (at most 20 s); (success, stdout + stderr).
fn run(args: &[&str], env: &[(&str, &str)]) -> (bool, String) {
    let mut cmd = Command::new(bin());
    cmd.args(args)
        .env_remove("HOOKLANE_ADMIN_TOKEN")
        .env_remove("HOOKLANE_URL")
        .env_remove("HOOKLANE_ADDR")
        .env_remove("HOOKLANE_DATA_DIR")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            child.kill().unwrap();
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().unwrap();
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

/// `hooklane dev` on a fresh data dir with `env`, which must refuse to
/// start; its output.
fn dev_refused(env: &[(&str, &str)]) -> String {
    let root = tempfile::tempdir().unwrap();
    let data = root.path().join("data");
    let (ok, out) = run(
        &[
            "dev",
            "--addr",
            "127.0.0.1:0",
            "--data-dir",
            data.to_str().unwrap(),
        ],
        env,
    );
    assert!(!ok, "{out}");
    out
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[tokio::test(flavor = "multi_thread")]
async fn clients_holding_half_sent_headers_or_bodies_are_cut_off_and_healthz_still_answers() {
    let dev = Dev::start(
        bin(),
        Backend::Embedded,
        &[
            ("HOOKLANE_HEADER_TIMEOUT_SECS", "1"),
            ("HOOKLANE_BODY_TIMEOUT_SECS", "1"),
            ("HOOKLANE_MAX_CONNECTIONS", "64"),
        ],
    )
    .await;
    let addr = host_port(&dev);

    // More stalled clients than the connection cap: half-sent headers.
    let mut stalled: Vec<TcpStream> = (0..100)
        .map(|_| {
            let mut s = TcpStream::connect(&addr).unwrap();
            s.write_all(b"POST /healthz HTTP/1.1\r\nHost: x\r\n")
                .unwrap();
            s
        })
        .collect();
    // A body shorter than its Content-Length.
    let mut short_body = TcpStream::connect(&addr).unwrap();
    short_body
        .write_all(
            format!(
                "POST /v1/bots HTTP/1.1\r\nHost: x\r\nauthorization: Bearer {}\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{{\"na",
                dev.token
            )
            .as_bytes(),
        )
        .unwrap();

    let started = Instant::now();
    let health = dev
        .client
        .get(format!("{}/healthz", dev.base))
        .timeout(Duration::from_secs(10))
        .send()
        .await
        .expect("healthz answers while clients stall");
    assert_eq!(health.status(), 200);
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "{:?}",
        started.elapsed()
    );

    // The server has closed the stalled connections by now.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    for s in stalled.iter_mut().take(5) {
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut buf = Vec::new();
        let _ = s.read_to_end(&mut buf);
        let text = String::from_utf8_lossy(&buf);
        assert!(
            buf.is_empty() || text.starts_with("HTTP/1.1 408"),
            "a stalled client got {text:?}"
        );
    }
    short_body
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut buf = Vec::new();
    let _ = short_body.read_to_end(&mut buf);
    let text = String::from_utf8_lossy(&buf);
    assert!(
        text.starts_with("HTTP/1.1 400") && text.contains("not received within"),
        "a short body got {text:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_body_sent_a_byte_at_a_time_is_cut_off_at_the_whole_body_deadline() {
    let dev = Dev::start(
        bin(),
        Backend::Embedded,
        &[
            ("HOOKLANE_BODY_TIMEOUT_SECS", "30"),
            ("HOOKLANE_BODY_DEADLINE_SECS", "2"),
        ],
    )
    .await;
    let mut drip = TcpStream::connect(host_port(&dev)).unwrap();
    drip.write_all(
        format!(
            "POST /v1/bots HTTP/1.1\r\nHost: x\r\nauthorization: Bearer {}\r\ncontent-type: application/json\r\ncontent-length: 200000\r\n\r\n",
            dev.token
        )
        .as_bytes(),
    )
    .unwrap();
    drip.set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    // One byte every 300 ms, far within the gap timeout, until the server
    // answers or closes (at most 10 s).
    let started = Instant::now();
    let mut buf = Vec::new();
    while started.elapsed() < Duration::from_secs(10) {
        if drip.write_all(b" ").is_err() {
            break;
        }
        let mut chunk = [0u8; 4096];
        match drip.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e)
                if e.kind() == std::io::ErrorKind::WouldBlock
                    || e.kind() == std::io::ErrorKind::TimedOut => {}
            Err(_) => break,
        }
    }
    let elapsed = started.elapsed();
    let text = String::from_utf8_lossy(&buf);
    assert!(elapsed < Duration::from_secs(6), "{elapsed:?} {text:?}");
    assert!(
        text.starts_with("HTTP/1.1 400") && text.contains("not received within"),
        "a dripped body got {text:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_second_dev_on_the_same_data_dir_is_refused_and_files_are_private() {
    let dev = Dev::start(bin(), Backend::Embedded, &[]).await;
    let dir = dev.data_dir().to_str().unwrap().to_owned();
    let (ok, out) = run(&["dev", "--addr", "127.0.0.1:0", "--data-dir", &dir], &[]);
    assert!(!ok, "{out}");
    assert!(
        out.contains("another hooklane dev is using the data dir"),
        "{out}"
    );

    // Something has been written, so the WAL exists too.
    let (_, key) = dev.bot().await;
    assert!(!key.is_empty());
    assert_eq!(mode(dev.data_dir()), 0o700);
    for name in ["hooklane.db", "hooklane.db-wal", "hooklane.db-shm"] {
        let path = dev.data_dir().join(name);
        if path.exists() {
            assert_eq!(mode(&path), 0o600, "{name}");
        }
    }
    assert_eq!(mode(&dev.data_dir().join("hooklane.db")), 0o600);
}

#[test]
fn a_busy_port_names_the_option_that_changes_it_and_writes_nothing() {
    let busy = busy_port();
    let addr = busy.local_addr().unwrap().to_string();
    let root = tempfile::tempdir().unwrap();
    let data = root.path().join("data");
    let (ok, out) = run(
        &["dev", "--addr", &addr, "--data-dir", data.to_str().unwrap()],
        &[],
    );
    assert!(!ok, "{out}");
    assert!(out.contains("in use") && out.contains("--addr"), "{out}");
    assert!(
        !data.exists(),
        "the data dir was created although the port was busy"
    );
}

#[test]
fn an_admin_token_shorter_than_32_characters_is_refused() {
    let out = dev_refused(&[("HOOKLANE_ADMIN_TOKEN", "short-token")]);
    assert!(out.contains("at least 32 characters"), "{out}");
    assert!(!out.contains("short-token"), "the token was echoed: {out}");
}

#[test]
fn a_timeout_or_log_time_to_live_of_zero_is_refused_with_a_clear_error() {
    for name in [
        "HOOKLANE_OUTBOUND_TIMEOUT_SECONDS",
        "HOOKLANE_RUN_LOG_DAYS",
        "HOOKLANE_DELIVERY_LOG_DAYS",
    ] {
        let out = dev_refused(&[(name, "0")]);
        assert!(
            out.contains(&format!(
                "{name} is `0`: expected a whole number of at least 1"
            )),
            "{out}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn dev_listens_on_a_host_name_and_api_finds_its_token_and_takes_a_url_without_scheme() {
    let port = free_addr().port();
    let root = tempfile::tempdir().unwrap();
    let data = root.path().join("data");
    let mut child = Command::new(bin())
        .args([
            "dev",
            "--addr",
            &format!("localhost:{port}"),
            "--data-dir",
            data.to_str().unwrap(),
        ])
        .env_remove("HOOKLANE_ADMIN_TOKEN")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(r) = client
            .get(format!("http://127.0.0.1:{port}/healthz"))
            .send()
            .await
        {
            if r.status().is_success() {
                break;
            }
        }
        assert!(Instant::now() < deadline, "dev did not start on localhost");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let url = format!("127.0.0.1:{port}");
    let (ok, out) = run(
        &[
            "api",
            "--api-url",
            &url,
            "--data-dir",
            data.to_str().unwrap(),
            "POST",
            "/v1/bots",
            "--data",
            r#"{"name": "found", "id": "found-bot"}"#,
        ],
        &[],
    );
    let _ = child.kill();
    let _ = child.wait();
    assert!(ok, "{out}");
    assert!(out.contains("found-bot"), "{out}");

    let (ok, out) = run(
        &[
            "api",
            "--api-url",
            &url,
            "--data-dir",
            "/nonexistent-hooklane",
            "GET",
            "/v1/bots/x",
        ],
        &[],
    );
    assert!(!ok);
    assert!(out.contains("--token"), "{out}");
}

//! `hooklane api`: the admin API from the command line, with the admin
//! token against `hooklane dev`, and signed (SigV4) for a deployed stack.

use std::process::Command;

use crate::common::bin;
use hooklane_testkit::{Backend, Dev, Sink};
use serde_json::Value;

fn api(args: &[&str], env: &[(&str, &str)]) -> (bool, String, String) {
    let mut cmd = Command::new(bin());
    cmd.arg("api")
        .args(args)
        .env_remove("HOOKLANE_ADMIN_TOKEN")
        .env_remove("HOOKLANE_URL");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn the_api_command_manages_a_dev_instance_with_the_admin_token() {
    let dev = Dev::start(bin(), Backend::Embedded, &[]).await;
    let env = [
        ("HOOKLANE_URL", dev.base.as_str()),
        ("HOOKLANE_ADMIN_TOKEN", dev.token.as_str()),
    ];

    let (ok, out, err) = api(
        &[
            "POST",
            "/v1/bots",
            "--data",
            r#"{"name": "Cli bot", "id": "cli-bot"}"#,
        ],
        &env,
    );
    assert!(ok, "{err}");
    let bot: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(bot["id"], "cli-bot");
    assert!(bot["api_key"].as_str().unwrap().starts_with("hlk_"));

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("hook.json");
    std::fs::write(
        &file,
        r#"{"name": "From a file", "actions": [{"type": "log", "message": "hi"}]}"#,
    )
    .unwrap();
    let (ok, out, err) = api(
        &[
            "POST",
            "/v1/bots/cli-bot/hooks",
            "--data",
            &format!("@{}", file.display()),
        ],
        &env,
    );
    assert!(ok, "{err}");
    let hook: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(hook["name"], "From a file");

    let (ok, out, _) = api(&["GET", "/v1/bots/cli-bot/hooks"], &env);
    assert!(ok);
    let list: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(list["data"][0]["id"], hook["id"]);

    // Errors exit 1 with the status and the contract's body on stderr.
    let (ok, _, err) = api(&["GET", "/v1/bots/nobody"], &env);
    assert!(!ok);
    assert!(err.starts_with("404") && err.contains("not_found"), "{err}");
    let (ok, _, err) = api(
        &["GET", "/v1/bots/cli-bot"],
        &[
            ("HOOKLANE_URL", dev.base.as_str()),
            ("HOOKLANE_ADMIN_TOKEN", "wrong"),
        ],
    );
    assert!(!ok);
    assert!(err.contains("unauthorized"), "{err}");
    let (ok, _, err) = api(&["POST", "/v1/bots", "--data", "{not json"], &env);
    assert!(!ok);
    assert!(err.contains("--data is not JSON"), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_api_command_signs_with_sigv4_for_a_deployed_stack() {
    let sink = Sink::start().await;
    let base = sink.url("");
    let (ok, _, err) = api(
        &[
            "POST",
            "/v1/bots",
            "--data",
            r#"{"name": "x"}"#,
            "--api-url",
            &base,
            "--sigv4",
        ],
        &[
            ("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"),
            (
                "AWS_SECRET_ACCESS_KEY",
                "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            ),
            ("AWS_REGION", "eu-west-1"),
            ("AWS_EC2_METADATA_DISABLED", "true"),
        ],
    );
    assert!(ok, "{err}");
    let got = sink.received();
    assert_eq!(got.len(), 1);
    let auth = got[0].header("authorization").unwrap();
    assert!(
        auth.starts_with("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/")
            && auth.contains("/eu-west-1/execute-api/aws4_request"),
        "{auth}"
    );
    assert!(
        auth.contains("SignedHeaders=") && auth.contains("Signature="),
        "{auth}"
    );
    assert!(got[0].header("x-amz-date").is_some());
    assert_eq!(got[0].json()["name"], "x");
}

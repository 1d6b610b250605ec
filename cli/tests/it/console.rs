//! The web console in a real browser: Debian's headless `chromium`, driven
//! through `chromedriver` (package `chromium-driver`) over WebDriver.
//!
//! Against `hooklane dev` and a loopback sink it signs in with the admin
//! token, creates a bot and a hook, calls the hook and sees the run appear,
//! shows an API validation message next to its field; saves hooks of every
//! auth type unchanged and finds their auth unchanged (one of a type it does
//! not know shown read-only and not sent), switches a hook to telegram auth;
//! shows a failed run's error and unknown placeholders; creates an endpoint
//! pointing at the sink, clicks Test and sees the delivery row and its
//! status; then opens a portal link and sees that one bot's endpoints only,
//! a plain word for a page the link does not open, and why a link to a
//! deleted bot no longer signs in.
//!
//! Screenshots of the main pages are taken as it goes, under
//! `$CARGO_TARGET_TMPDIR/console-test-…/`; a failure keeps them and prints
//! where. A pass writes the hook page and the endpoint page to
//! `docs/images/console-hook.png` and `docs/images/console-endpoint.png`.
//!
//! Without `chromium` and `chromedriver` the test says it is ignored and
//! passes, unless `HOOKLANE_REQUIRE_BROWSER=1` (tests/run.sh sets it): then
//! a missing browser is a failure.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::{bin, WAIT};
use anyhow::{anyhow, bail, Context as _};
use ed25519_dalek::SigningKey;
use fantoccini::{Client, ClientBuilder, Locator};
use hooklane_testkit::{free_addr, Backend, Dev, Sink};
use hyper_util::client::legacy::connect::HttpConnector;
use reqwest::Method;
use serde_json::{json, Value};

fn on_path(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(name))
            .find(|p| p.is_file())
    })
}

/// `chromedriver` and the browser it drives, or `None` when either is missing.
fn browser() -> Option<(PathBuf, PathBuf)> {
    let driver = on_path("chromedriver")?;
    let chromium = on_path("chromium").or_else(|| on_path("chromium-browser"))?;
    Some((driver, chromium))
}

/// A `chromedriver` on a free loopback port, stopped on drop.
struct Driver {
    child: Child,
    url: String,
}

impl Driver {
    async fn start(path: &Path, log: &Path) -> anyhow::Result<Self> {
        let port = free_addr().port();
        let log = std::fs::File::create(log)?;
        let child = Command::new(path)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::from(log.try_clone()?))
            .stderr(Stdio::from(log))
            .spawn()
            .context("starting chromedriver")?;
        let driver = Driver {
            child,
            url: format!("http://127.0.0.1:{port}"),
        };
        let deadline = Instant::now() + WAIT;
        while Instant::now() < deadline {
            if let Ok(r) = reqwest::get(format!("{}/status", driver.url)).await {
                if r.status().is_success() {
                    return Ok(driver);
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        bail!("chromedriver did not answer on {}", driver.url)
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Where this run's screenshots go.
struct Shots {
    dir: PathBuf,
}

impl Shots {
    fn new() -> Self {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join(hooklane_testkit::unique("console-test").to_lowercase());
        std::fs::create_dir_all(&dir).unwrap();
        Shots { dir }
    }

    async fn take(&self, client: &Client, name: &str) -> anyhow::Result<PathBuf> {
        client.execute("window.scrollTo(0, 0)", vec![]).await?;
        let png = client.screenshot().await?;
        let path = self.dir.join(format!("{name}.png"));
        std::fs::write(&path, png)?;
        Ok(path)
    }
}

/// Waits until the element `css` exists and its text contains every one of `want`.
async fn wait_text(client: &Client, css: &str, want: &[&str]) -> anyhow::Result<String> {
    let deadline = Instant::now() + WAIT;
    let mut last = String::new();
    while Instant::now() < deadline {
        if let Ok(el) = client.find(Locator::Css(css)).await {
            if let Ok(text) = el.text().await {
                if want.iter().all(|w| text.contains(w)) {
                    return Ok(text);
                }
                last = text;
            }
        }
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
    bail!("`{css}` did not come to show {want:?}; it showed {last:?}")
}

async fn fill(client: &Client, css: &str, text: &str) -> anyhow::Result<()> {
    let el = client
        .wait()
        .at_most(WAIT)
        .for_element(Locator::Css(css))
        .await?;
    el.clear().await?;
    el.send_keys(text).await?;
    Ok(())
}

async fn click(client: &Client, css: &str) -> anyhow::Result<()> {
    client
        .wait()
        .at_most(WAIT)
        .for_element(Locator::Css(css))
        .await?
        .click()
        .await?;
    Ok(())
}

/// Empties the status line, so the next "Saved." is the next save's.
async fn clear_status(client: &Client) -> anyhow::Result<()> {
    client
        .execute("document.getElementById('status').textContent = ''", vec![])
        .await?;
    Ok(())
}

/// Clicks the hook page's Save and waits for "Saved.", or fails with what
/// the form says.
async fn save_hook_form(client: &Client) -> anyhow::Result<()> {
    clear_status(client).await?;
    click(client, "#edit-hook button[type=submit]").await?;
    if let Err(e) = wait_text(client, "#status", &["Saved."]).await {
        let form = client
            .find(Locator::Css("#edit-hook"))
            .await?
            .text()
            .await?;
        bail!("{e}; the form shows: {form}");
    }
    Ok(())
}

/// Opens the page of `hook` (as the API answered it) of shop-bot.
async fn open_hook(client: &Client, dev: &Dev, hook: &Value) -> anyhow::Result<()> {
    client
        .goto(&format!(
            "{}/console#/bots/shop-bot/hooks/{}",
            dev.base,
            hook["id"].as_str().unwrap_or_default()
        ))
        .await?;
    wait_text(
        client,
        "#view h1",
        &[hook["name"].as_str().unwrap_or_default()],
    )
    .await?;
    Ok(())
}

fn hook_path(hook: &Value) -> String {
    format!(
        "/v1/bots/shop-bot/hooks/{}",
        hook["id"].as_str().unwrap_or_default()
    )
}

/// Answers every hook the console reads with `arguments[0]` as its auth
/// (`window.__fakeAuth`), and keeps the body of every PATCH it sends in
/// `window.__patches`: an auth the console does not know yet, as a newer
/// API could answer it.
const FAKE_AUTH: &str = r#"
window.__fakeAuth = arguments[0];
if (!window.__patches) {
  window.__patches = [];
  const real = window.fetch.bind(window);
  window.fetch = async (url, init) => {
    const r = await real(url, init);
    const method = (init && init.method) || 'GET';
    if (method === 'PATCH') window.__patches.push(init.body);
    if (method === 'GET' && r.ok && /\/hooks\/hk_[^/?]+$/.test(url)) {
      const hook = await r.json();
      hook.auth = window.__fakeAuth;
      return new Response(JSON.stringify(hook), { status: 200, headers: { 'content-type': 'application/json' } });
    }
    return r;
  };
}
"#;

/// A Telegram update posted to `url` with `token` as its secret token.
async fn telegram_update(dev: &Dev, url: &str, token: &str) -> anyhow::Result<u16> {
    let r = dev
        .client
        .post(url)
        .header("x-telegram-bot-api-secret-token", token)
        .json(&json!({"update_id": 7001, "message": {"message_id": 1, "chat": {"id": 5}, "text": "hi"}}))
        .send()
        .await?;
    Ok(r.status().as_u16())
}

/// Save with nothing changed keeps every hook's auth, whatever its type or
/// scheme; an auth the console does not know is shown read-only and never
/// sent; and the auth controls switch a hook to telegram.
async fn saving_a_hook_keeps_its_auth(
    client: &Client,
    dev: &Dev,
    api_key: &str,
) -> anyhow::Result<()> {
    let discord = SigningKey::from_bytes(&[21; 32]);
    let auths = [
        json!({"type": "telegram", "secret_token": "tgs_kept-by-the-console"}),
        json!({"type": "discord", "public_key": hex::encode(discord.verifying_key().to_bytes())}),
        json!({"type": "hmac", "scheme": "twilio", "secret": "twilio-auth-token"}),
        json!({"type": "hmac", "scheme": "generic", "header": "X-Signature", "algorithm": "sha512",
               "encoding": "base64", "prefix": "sha512=", "secret": "generic-secret"}),
        json!({"type": "hmac", "scheme": "stripe", "secret": "whsec_stripe"}),
        json!({"type": "secret_header", "header": "x-bp-secret", "secret": "a-long-shared-secret"}),
        json!({"type": "signed_url"}),
        json!({"type": "none"}),
    ];
    let mut telegram = None;
    for (i, auth) in auths.into_iter().enumerate() {
        let name = format!("Kept {i} {}", auth["type"].as_str().unwrap_or_default());
        let hook = dev
            .hook("shop-bot", json!({"name": name, "auth": auth}))
            .await;
        open_hook(client, dev, &hook).await?;
        save_hook_form(client).await?;
        let after = dev.get(&hook_path(&hook)).await;
        if after["auth"] != hook["auth"] {
            bail!(
                "Save with nothing changed turned {} into {}",
                hook["auth"],
                after["auth"]
            );
        }
        if hook["auth"]["type"] == "telegram" {
            telegram = Some(hook);
        }
    }
    // The telegram hook still takes its secret token, not the bot's key.
    let telegram = telegram.expect("a telegram hook");
    let url = telegram["url"].as_str().unwrap_or_default();
    if telegram_update(dev, url, "tgs_kept-by-the-console").await? != 202 {
        bail!("the telegram hook no longer takes its secret token");
    }
    let with_key = dev
        .client
        .post(url)
        .header("authorization", api_key)
        .json(&json!({"update_id": 7002}))
        .send()
        .await?;
    if with_key.status().as_u16() != 401 {
        bail!(
            "the telegram hook answered the bot's key {}",
            with_key.status()
        );
    }

    // An auth type or scheme newer than the console: shown, never sent.
    for fake in [
        json!({"type": "future_auth", "realm": "elsewhere"}),
        json!({"type": "hmac", "scheme": "future_scheme"}),
    ] {
        let hook = dev
            .hook(
                "shop-bot",
                json!({"name": format!("Unknown {}", fake["scheme"].as_str().unwrap_or("type")),
                       "auth": {"type": "secret_header", "secret": "kept-secret-value"}}),
            )
            .await;
        client
            .goto(&format!("{}/console#/bots/shop-bot", dev.base))
            .await?;
        wait_text(client, "#view h1", &["Shop"]).await?;
        client.execute(FAKE_AUTH, vec![fake.clone()]).await?;
        client
            .execute(
                &format!(
                    "location.hash = '#/bots/shop-bot/hooks/{}'",
                    hook["id"].as_str().unwrap_or_default()
                ),
                vec![],
            )
            .await?;
        let shown = wait_text(client, "#edit-auth-fixed", &["future_"]).await?;
        if client
            .find(Locator::Css("#edit-hook select[name=auth_type]"))
            .await
            .is_ok()
        {
            bail!("an auth the console does not know is offered for editing ({shown})");
        }
        save_hook_form(client).await?;
        let sent = client.execute("return window.__patches", vec![]).await?;
        let last: Value = sent
            .as_array()
            .and_then(|a| a.last())
            .and_then(Value::as_str)
            .map(serde_json::from_str)
            .transpose()?
            .ok_or_else(|| anyhow!("no PATCH was sent: {sent}"))?;
        if last.get("auth").is_some() {
            bail!("Save sent an auth the console does not know: {last}");
        }
        let after = dev.get(&hook_path(&hook)).await;
        if after["auth"] != hook["auth"] {
            bail!("Save changed {} into {}", hook["auth"], after["auth"]);
        }
    }

    // A fresh page reads hooks as they are again.
    client.refresh().await?;

    // The auth controls switch a hook to telegram: with a token typed in,
    // and with one left out (made and shown once).
    for typed in [Some("tgs_typed-in-the-console"), None] {
        let hook = dev
            .hook(
                "shop-bot",
                json!({"name": format!("Switched {}", if typed.is_some() { "typed" } else { "made" })}),
            )
            .await;
        open_hook(client, dev, &hook).await?;
        client
            .find(Locator::Css("#edit-hook select[name=auth_type]"))
            .await?
            .select_by_value("telegram")
            .await?;
        if let Some(token) = typed {
            fill(client, "#edit-secret-token", token).await?;
        }
        save_hook_form(client).await?;
        let token = match typed {
            Some(token) => token.to_owned(),
            None => wait_text(client, "#hook-once .once-value", &["tgs_"])
                .await?
                .trim()
                .to_owned(),
        };
        let after = dev.get(&hook_path(&hook)).await;
        if after["auth"] != json!({"type": "telegram"}) {
            bail!("the form made {} of a switch to telegram", after["auth"]);
        }
        let url = hook["url"].as_str().unwrap_or_default();
        if telegram_update(dev, url, &token).await? != 202 {
            bail!("the switched hook does not take the token the console set");
        }
    }
    Ok(())
}

/// A run that failed and is retried shows its own error and the
/// placeholders its templates named that were not found.
async fn a_failed_run_shows_its_error(
    client: &Client,
    dev: &Dev,
    api_key: &str,
    shots: &Shots,
) -> anyhow::Result<()> {
    // Nothing listens there: the call fails before anything took effect.
    let nowhere = free_addr();
    let hook = dev
        .hook(
            "shop-bot",
            json!({"name": "Flaky", "actions": [
                {"type": "log", "message": "order {payload.missing}"},
                {"type": "http_request", "method": "POST", "url": format!("http://{nowhere}/orders"),
                 "body": {"id": "{payload.id}"}}]}),
        )
        .await;
    let called = dev
        .client
        .post(hook["url"].as_str().unwrap_or_default())
        .header("authorization", api_key)
        .json(&json!({"id": 7}))
        .send()
        .await?;
    if called.status().as_u16() != 202 {
        bail!("the hook call answered {}", called.status());
    }
    open_hook(client, dev, &hook).await?;
    wait_text(
        client,
        "#run-log",
        &[
            "retrying",
            "nothing had taken effect, so the run is retried in",
            "{payload.missing}",
        ],
    )
    .await?;
    shots.take(client, "failed-run").await?;
    Ok(())
}

/// The console, driven as a person would, against `dev` and `sink`.
async fn scenario(client: &Client, dev: &Dev, sink: &Sink, shots: &Shots) -> anyhow::Result<()> {
    // Sign in with the admin token.
    client.goto(&format!("{}/console", dev.base)).await?;
    wait_text(client, "#sign-in h1", &["Sign in"]).await?;
    shots.take(client, "sign-in").await?;
    fill(client, "#token", &dev.token).await?;
    click(client, "#sign-in-form button[type=submit]").await?;
    wait_text(client, "#view h1", &["Bots"]).await?;

    // A bot, its API key shown once.
    fill(client, "#bot-name", "Shop").await?;
    fill(client, "#bot-id", "shop-bot").await?;
    click(client, "#new-bot button[type=submit]").await?;
    let api_key = wait_text(client, "#new-bot .once-value", &["hlk_"]).await?;
    shots.take(client, "bots").await?;
    client
        .goto(&format!("{}/console#/bots/shop-bot", dev.base))
        .await?;
    wait_text(client, "#view h1", &["Shop"]).await?;

    // A hook; its page shows the URL to copy.
    fill(client, "#hook-name", "Orders").await?;
    fill(
        client,
        "#hook-actions",
        r#"[{"type": "log", "message": "order {payload.id}"}]"#,
    )
    .await?;
    click(client, "#new-hook button[type=submit]").await?;
    let url = wait_text(client, "#hook-url", &["/hooks/shop-bot/hk_"]).await?;
    wait_text(client, "#run-log-empty", &["No calls yet"]).await?;

    // Call it: the run appears in the log with its action's status.
    let called = dev
        .client
        .post(&url)
        .header("authorization", api_key.trim())
        .json(&json!({"id": 42}))
        .send()
        .await?;
    if called.status().as_u16() != 202 {
        bail!("the hook call answered {}", called.status());
    }
    wait_text(client, "#run-log", &["succeeded", "log", "order 42"]).await?;

    // The API's validation message shows next to the field it names.
    fill(client, "#edit-actions", r#"[{"type": "nope"}]"#).await?;
    click(client, "#edit-hook button[type=submit]").await?;
    wait_text(client, "#edit-actions-error", &["actions[0]"]).await?;
    let invalid = client
        .find(Locator::Css("#edit-actions"))
        .await?
        .attr("aria-invalid")
        .await?;
    if invalid.as_deref() != Some("true") {
        bail!("the refused field is not marked invalid");
    }
    // Back to the stored hook for the picture.
    client.refresh().await?;
    wait_text(client, "#run-log", &["succeeded"]).await?;
    shots.take(client, "hook").await?;

    saving_a_hook_keeps_its_auth(client, dev, api_key.trim()).await?;
    a_failed_run_shows_its_error(client, dev, api_key.trim(), shots).await?;

    // An endpoint pointing at the sink; Test delivers, and the row shows it.
    client
        .goto(&format!("{}/console#/bots/shop-bot/endpoints", dev.base))
        .await?;
    fill(client, "#ep-name", "Orders service").await?;
    fill(client, "#ep-url", &sink.url("/webhooks")).await?;
    click(client, "#new-endpoint button[type=submit]").await?;
    wait_text(client, "#endpoint-once .once-value", &["whsec_"]).await?;
    wait_text(client, "#delivery-log-empty", &["No deliveries yet"]).await?;
    click(client, "#test-endpoint").await?;
    let row = wait_text(
        client,
        "#delivery-log tbody tr",
        &["webhook.test", "succeeded", "200"],
    )
    .await?;
    if sink.received().is_empty() {
        bail!("the delivery row ({row}) shows, but the sink received nothing");
    }
    // Opened again, the page no longer shows the secret.
    client
        .goto(&format!("{}/console#/bots/shop-bot/endpoints", dev.base))
        .await?;
    click(client, "#endpoints a").await?;
    wait_text(client, "#delivery-log", &["webhook.test", "succeeded"]).await?;
    if client
        .find(Locator::Css("#endpoint-once .once-value"))
        .await
        .is_ok()
    {
        bail!("the signing secret is shown again");
    }
    wait_text(
        client,
        "#endpoint-chart",
        &["Deliveries", "Failures", "Latency"],
    )
    .await?;
    shots.take(client, "endpoint").await?;

    // A portal link for this bot opens its endpoints and deliveries only.
    dev.admin_json(
        Method::POST,
        "/v1/bots",
        json!({"name": "Other", "id": "other-bot"}),
        201,
    )
    .await;
    // Signed in with the admin token, the bot list shows every bot.
    client.goto(&format!("{}/console#/", dev.base)).await?;
    wait_text(client, "#view", &["shop-bot", "other-bot"]).await?;
    let minted = dev
        .admin_json(
            Method::POST,
            "/v1/bots/shop-bot/portal",
            json!({"expires_in": 600}),
            201,
        )
        .await;
    click(client, "#sign-out").await?;
    wait_text(client, "#sign-in h1", &["Sign in"]).await?;
    let link = minted["url"]
        .as_str()
        .ok_or_else(|| anyhow!("no url: {minted}"))?;
    client.goto(link).await?;
    wait_text(client, "#scope", &["Portal: shop-bot"]).await?;
    wait_text(client, "#endpoints", &["Orders service"]).await?;
    let page = client.find(Locator::Css("main")).await?.text().await?;
    if page.contains("Hooks") || page.contains("New endpoint") || page.contains("other-bot") {
        bail!("the portal shows more than endpoints and deliveries: {page}");
    }
    if client
        .current_url()
        .await?
        .fragment()
        .is_some_and(|f| f.contains("hlp_"))
    {
        bail!("the token stayed in the address bar");
    }
    // Another bot's page leads back to this one.
    client
        .goto(&format!("{}/console#/bots/other-bot", dev.base))
        .await?;
    wait_text(client, "#view h1", &["Shop"]).await?;
    wait_text(client, "#scope", &["shop-bot"]).await?;
    click(client, "#endpoints a").await?;
    wait_text(client, "#delivery-log", &["webhook.test", "succeeded"]).await?;
    shots.take(client, "portal").await?;

    // A page the link does not open says what the link is for.
    let hook = dev.get("/v1/bots/shop-bot/hooks?limit=1").await;
    let hook = hook["data"][0]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    for page in ["hooks".to_owned(), format!("hooks/{hook}")] {
        client
            .goto(&format!("{}/console#/bots/shop-bot/{page}", dev.base))
            .await?;
        let said = wait_text(client, "#view", &["endpoints and deliveries only"]).await?;
        if said.contains("Could not load") || said.contains("no such route") {
            bail!("#/bots/shop-bot/{page} in the portal shows: {said}");
        }
    }
    shots.take(client, "portal-elsewhere").await?;

    // A link to a bot deleted since says so where the link signs in.
    let minted = dev
        .admin_json(
            Method::POST,
            "/v1/bots/other-bot/portal",
            json!({"expires_in": 600}),
            201,
        )
        .await;
    let deleted = dev
        .admin(Method::DELETE, "/v1/bots/other-bot")
        .send()
        .await?;
    if deleted.status().as_u16() != 204 {
        bail!("deleting other-bot answered {}", deleted.status());
    }
    client
        .goto(minted["url"].as_str().unwrap_or_default())
        .await?;
    wait_text(client, "#sign-in h1", &["Sign in"]).await?;
    wait_text(
        client,
        "#sign-in-error",
        &["this link is no longer valid: its bot was deleted or created again"],
    )
    .await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn the_console_signs_in_runs_a_hook_tests_an_endpoint_and_opens_a_portal_link() {
    let required = std::env::var("HOOKLANE_REQUIRE_BROWSER").is_ok_and(|v| v == "1");
    let Some((driver_bin, chromium)) = browser() else {
        assert!(
            !required,
            "HOOKLANE_REQUIRE_BROWSER=1 but chromium or chromedriver is missing \
             (apt-get install chromium chromium-driver; tests/run.sh does it)"
        );
        eprintln!(
            "ignored: the console's browser test needs chromium and chromedriver \
             (Debian: apt-get install chromium chromium-driver)"
        );
        return;
    };
    let shots = Shots::new();
    let driver = Driver::start(&driver_bin, &shots.dir.join("chromedriver.log"))
        .await
        .expect("chromedriver starts");
    let dev = Dev::start(bin(), Backend::Embedded, &[]).await;
    let sink = Sink::start().await;

    let caps: serde_json::Map<String, Value> = serde_json::from_value(json!({
        "browserName": "chrome",
        "goog:chromeOptions": {
            "binary": chromium,
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                     "--disable-dev-shm-usage", "--window-size=1280,1200",
                     "--lang=en-US"]
        }
    }))
    .unwrap();
    // chromedriver is on loopback: plain HTTP, no TLS stack.
    let client = ClientBuilder::new(HttpConnector::new())
        .capabilities(caps)
        .connect(&driver.url)
        .await
        .expect("a browser session");

    let outcome = scenario(&client, &dev, &sink, &shots).await;
    if outcome.is_err() {
        let _ = shots.take(&client, "at-failure").await;
    }
    let _ = client.close().await;
    drop(driver);
    if let Err(e) = outcome {
        panic!(
            "{e:#}\nscreenshots and chromedriver.log kept in {}\nhooklane dev's log:\n{}",
            shots.dir.display(),
            dev.log()
        );
    }
    let images = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/images");
    std::fs::create_dir_all(&images).unwrap();
    for (shot, name) in [
        ("hook", "console-hook.png"),
        ("endpoint", "console-endpoint.png"),
    ] {
        std::fs::copy(shots.dir.join(format!("{shot}.png")), images.join(name))
            .expect("the screenshot is copied to docs/images");
    }
    let _ = std::fs::remove_dir_all(&shots.dir);
}

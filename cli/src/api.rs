//! `hooklane api`: one call to the admin API of a `hooklane dev` (bearer
//! token) or of a deployed stack (SigV4, signed with the caller's AWS
//! credentials for API Gateway's IAM authorization).

use std::path::PathBuf;
use std::time::SystemTime;

use anyhow::{bail, Context as _};
use aws_credential_types::provider::ProvideCredentials;
use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use serde_json::Value;

/// The options every command that calls the admin API takes: global, so
/// they go before or after the subcommand (`hooklane bots list --api-url …`).
#[derive(Debug, Clone, clap::Args)]
pub struct Connection {
    /// The admin API's base URL: a `hooklane dev` (http:// is assumed when
    /// no scheme is given) or a stack's ApiUrl output.
    #[arg(
        long,
        global = true,
        env = "HOOKLANE_URL",
        default_value = DEFAULT_API_URL,
        value_name = "URL",
        help_heading = CONNECTION
    )]
    pub api_url: String,
    /// The admin token of a `hooklane dev`; when neither this nor
    /// --sigv4 is given, the one kept in --data-dir is used.
    #[arg(
        long,
        global = true,
        env = "HOOKLANE_ADMIN_TOKEN",
        hide_env_values = true,
        conflicts_with = "sigv4",
        help_heading = CONNECTION
    )]
    pub token: Option<String>,
    /// Sign with the caller's AWS credentials (a deployed stack).
    #[arg(long, global = true, help_heading = CONNECTION)]
    pub sigv4: bool,
    /// The `hooklane dev` data dir: where `dev` keeps its embedded backend
    /// and admin token, and where the other commands read that token.
    #[arg(
        long,
        global = true,
        default_value = ".hooklane",
        env = "HOOKLANE_DATA_DIR",
        help_heading = CONNECTION
    )]
    pub data_dir: PathBuf,
}

/// The admin API of a `hooklane dev` on its default address.
pub const DEFAULT_API_URL: &str = "http://127.0.0.1:8080";

/// The help heading of the connection options.
const CONNECTION: &str = "Connection (the admin API commands)";

impl Connection {
    /// The client these options describe.
    ///
    /// Errors: a bad `--api-url`; no token given or kept (without `--sigv4`).
    pub fn admin(&self) -> anyhow::Result<Admin> {
        let auth = match (&self.token, self.sigv4) {
            (_, true) => Auth::SigV4,
            (Some(t), false) => Auth::Token(t.clone()),
            (None, false) => Auth::Token(token_in(&self.data_dir)?),
        };
        Ok(Admin {
            url: base_url(&self.api_url)?,
            auth,
        })
    }
}

/// A client of one admin API.
#[derive(Clone)]
pub struct Admin {
    /// The base URL, such as `http://127.0.0.1:8080`.
    pub url: String,
    auth: Auth,
}

impl Admin {
    /// `method path` with an optional JSON body; the answer's JSON
    /// (`null` for an empty answer).
    ///
    /// Errors: the call fails, or answers outside 2xx (the message is the
    /// status and the answer's error message).
    pub async fn json(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> anyhow::Result<Value> {
        let body = body.map(|b| b.to_string().into_bytes());
        let (status, text) = self.raw(method, path, body).await?;
        let value: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        if !(200..300).contains(&status) {
            let message = value["error"]["message"]
                .as_str()
                .map(str::to_owned)
                .unwrap_or(text);
            return Err(Refused {
                status,
                message: format!("{method} {path} answered {status}: {message}"),
            }
            .into());
        }
        Ok(value)
    }

    /// `method path` with an optional body as bytes: the status and the
    /// answer's text, whatever the status. Errors: the call fails.
    pub async fn raw(
        &self,
        method: &str,
        path: &str,
        body: Option<Vec<u8>>,
    ) -> anyhow::Result<(u16, String)> {
        call(method, &self.url, path, body, self.auth.clone()).await
    }

    /// `GET path`'s JSON (see [`Admin::json`]).
    pub async fn get(&self, path: &str) -> anyhow::Result<Value> {
        self.json("GET", path, None).await
    }

    /// One page of the list at `path` (which already carries `?limit=`):
    /// its `data` and its `next` cursor (`None` on the last page), from
    /// `cursor` on (the first page when `None`).
    ///
    /// Errors: as [`Admin::json`].
    pub async fn page(
        &self,
        path: &str,
        cursor: Option<&str>,
    ) -> anyhow::Result<(Vec<Value>, Option<String>)> {
        let path = match cursor {
            Some(c) => format!("{path}&cursor={c}"),
            None => path.to_owned(),
        };
        let list = self.get(&path).await?;
        let data = list["data"].as_array().cloned().unwrap_or_default();
        let next = list["next"]
            .as_str()
            .filter(|c| !c.is_empty())
            .map(str::to_owned);
        Ok((data, next))
    }

    /// Every item of the list at `path` (which carries `?limit=`),
    /// following `next` to the last page.
    ///
    /// Errors: as [`Admin::json`].
    pub async fn all(&self, path: &str) -> anyhow::Result<Vec<Value>> {
        let mut items = Vec::new();
        let mut cursor = None;
        loop {
            let (data, next) = self.page(path, cursor.as_deref()).await?;
            items.extend(data);
            match next {
                Some(next) => cursor = Some(next),
                None => return Ok(items),
            }
        }
    }
}

/// An answer outside 2xx: its status, and a message that names the call,
/// the status and the API's error message.
#[derive(Debug)]
pub struct Refused {
    /// The HTTP status.
    pub status: u16,
    message: String,
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Refused {}

/// Whether `e` is an answer 404 of the API.
pub fn is_not_found(e: &anyhow::Error) -> bool {
    e.downcast_ref::<Refused>().is_some_and(|r| r.status == 404)
}

/// How the call is authorized.
#[derive(Clone)]
pub enum Auth {
    Token(String),
    SigV4,
}

/// The admin token a `hooklane dev` keeps in its data dir.
///
/// Errors: no token there (the message says how to give one).
pub fn token_in(data_dir: &std::path::Path) -> anyhow::Result<String> {
    let path = data_dir.join("admin-token");
    match std::fs::read_to_string(&path) {
        Ok(token) if !token.trim().is_empty() => Ok(token.trim().to_owned()),
        _ => bail!(
            "no admin token: give --token (or HOOKLANE_ADMIN_TOKEN) for a hooklane dev, \
             --data-dir for the folder of one started without HOOKLANE_ADMIN_TOKEN (none in {}), \
             or --sigv4 for a deployed stack",
            path.display()
        ),
    }
}

/// The base URL to call: `--api-url` as given, with `http://` in front when it
/// names no scheme (`127.0.0.1:8080`, `localhost:8080`).
///
/// Errors: what is left is not an http(s) URL.
pub fn base_url(url: &str) -> anyhow::Result<String> {
    let url = url.trim();
    let full = if url.contains("://") {
        url.to_owned()
    } else {
        format!("http://{url}")
    };
    match reqwest::Url::parse(&full) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => Ok(full),
        _ => bail!("--api-url `{url}` is not a base URL such as http://127.0.0.1:8080"),
    }
}

/// The body of `--data`: JSON text, or `@file` for a file's contents.
pub fn read_data(data: Option<&str>) -> anyhow::Result<Option<Vec<u8>>> {
    let Some(data) = data else {
        return Ok(None);
    };
    let bytes = match data.strip_prefix('@') {
        Some(path) => std::fs::read(path).with_context(|| format!("reading {path}"))?,
        None => data.as_bytes().to_vec(),
    };
    serde_json::from_slice::<serde_json::Value>(&bytes).context("--data is not JSON")?;
    Ok(Some(bytes))
}

/// Sends the call; returns the status and the answer's text.
pub async fn call(
    method: &str,
    url: &str,
    path: &str,
    body: Option<Vec<u8>>,
    auth: Auth,
) -> anyhow::Result<(u16, String)> {
    let method = reqwest::Method::from_bytes(method.to_ascii_uppercase().as_bytes())
        .with_context(|| format!("`{method}` is not an HTTP method"))?;
    if !path.starts_with('/') {
        bail!("the path must start with `/` (such as /v1/bots)");
    }
    let target = format!("{}{}", url.trim_end_matches('/'), path);
    let body = body.unwrap_or_default();
    let mut headers: Vec<(String, String)> =
        vec![("content-type".into(), "application/json".into())];
    match auth {
        Auth::Token(token) => headers.push(("authorization".into(), format!("Bearer {token}"))),
        Auth::SigV4 => {
            let aws = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
            let region = aws
                .region()
                .map(|r| r.to_string())
                .context("no AWS region: set AWS_REGION")?;
            let credentials = aws
                .credentials_provider()
                .context("no AWS credentials")?
                .provide_credentials()
                .await
                .context("reading AWS credentials")?;
            let identity: Identity = credentials.into();
            let params = v4::SigningParams::builder()
                .identity(&identity)
                .region(&region)
                .name("execute-api")
                .time(SystemTime::now())
                .settings(SigningSettings::default())
                .build()?
                .into();
            let signable = SignableRequest::new(
                method.as_str(),
                &target,
                headers.iter().map(|(k, v)| (k.as_str(), v.as_str())),
                SignableBody::Bytes(&body),
            )?;
            let (instructions, _) = sign(signable, &params)?.into_parts();
            let mut signed = http::Request::new(());
            instructions.apply_to_request_http1x(&mut signed);
            for (name, value) in signed.headers() {
                headers.push((name.to_string(), value.to_str()?.to_owned()));
            }
        }
    }
    let client = reqwest::Client::new();
    let mut request = client.request(method, &target).body(body);
    for (k, v) in headers {
        request = request.header(k, v);
    }
    let response = request
        .send()
        .await
        .with_context(|| format!("calling {target}"))?;
    let status = response.status().as_u16();
    let text = response.text().await.unwrap_or_default();
    Ok((status, text))
}

/// The answer, pretty-printed when it is JSON.
pub fn pretty(text: &str) -> String {
    serde_json::from_str::<serde_json::Value>(text)
        .ok()
        .and_then(|v| serde_json::to_string_pretty(&v).ok())
        .unwrap_or_else(|| text.to_owned())
}

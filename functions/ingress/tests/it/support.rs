//! The ingress as Lambda serves it, on a real SQLite store and queue in a
//! temp dir, with the bots and hooks every test calls written straight to
//! the store; and a request builder.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{HeaderName, HeaderValue, Method, Request};
use axum::Router;
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use hooklane_domain::{
    Bot, BotId, Envelope, Hook, HookAuth, HookId, HookResponse, ManualClock, MediaType, RateLimit,
    Scheme, DEFAULT_MAX_BODY_BYTES,
};
use hooklane_ingress::{router, IngressState};
use hooklane_runtime::config::Settings;
use hooklane_store::sqlite::Sqlite;
use hooklane_store::{Queue, Store};
use hooklane_web::ClientIp;
use serde_json::{json, Value};
use time::OffsetDateTime;
use tower::ServiceExt;

pub(crate) const BOT: &str = "acme-bot";
pub(crate) const OTHER_BOT: &str = "other-bot";

pub(crate) const STANDARD_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
pub(crate) const GITHUB_SECRET: &str = "It's a Secret to Everybody";
pub(crate) const LAMBDA_GITHUB_SECRET: &str = "lambda-github-secret";
pub(crate) const STRIPE_SECRET: &str = "whsec_stripe_test_secret";
pub(crate) const SLACK_SECRET: &str = "8f742231b10e8888abcd99yyyzzz85a5";
pub(crate) const SHOPIFY_SECRET: &str = "shpss_0123456789abcdef";
pub(crate) const GENERIC_SECRET: &str = "generic-shared-secret";
pub(crate) const TWILIO_TOKEN: &str = "twilio-auth-token-0123456789abcdef";
pub(crate) const TELEGRAM_TOKEN: &str = "tg_secret-token_0123";
/// The seed of the Discord application key `hk_discord` checks with.
pub(crate) const DISCORD_SEED: [u8; 32] = [5; 32];
pub(crate) const BOTPRESS_SECRET: &str = "bp-secret-0123456789";
/// The signed-URL key of `hk_signed` (and a different one for `hk_signed2`).
pub(crate) const URL_KEY: [u8; 32] = [7; 32];
pub(crate) const OTHER_URL_KEY: [u8; 32] = [9; 32];

/// The `max_body_bytes` of `hk_small`.
pub(crate) const SMALL_LIMIT: usize = 1024;
/// Queue messages carry at most this much (the embedded queue's default).
pub(crate) const QUEUE_MAX: usize = 1024 * 1024;

/// The ingress as Lambda serves it, on SQLite, with a clock that stands
/// still (so signature timestamps and rate-limit windows are exact).
pub(crate) struct Ingress {
    pub(crate) app: Router,
    pub(crate) store: Arc<Sqlite>,
    pub(crate) clock: ManualClock,
    pub(crate) now: i64,
    pub(crate) key: String,
    pub(crate) other_key: String,
    pub(crate) _dir: tempfile::TempDir,
}

pub(crate) fn hook(bot: &str, id: &str, auth: HookAuth) -> Hook {
    let t = OffsetDateTime::now_utc();
    Hook {
        id: HookId::parse(id).unwrap(),
        bot_id: BotId::parse(bot).unwrap(),
        name: id.to_owned(),
        enabled: true,
        methods: vec!["POST".into()],
        auth,
        allowed_origins: vec![],
        allowed_ips: vec![],
        rate_limit: None,
        max_body_bytes: DEFAULT_MAX_BODY_BYTES,
        response: None,
        actions: vec![],
        created_at: t,
        updated_at: t,
    }
}

pub(crate) fn hmac_auth(scheme: &str, secret: &str) -> HookAuth {
    HookAuth::Hmac {
        scheme: scheme.parse().expect("a known scheme"),
        secret: secret.into(),
        header: None,
        algorithm: None,
        encoding: None,
        prefix: None,
    }
}

/// Every hook the tests call, by id.
pub(crate) fn hooks() -> Vec<Hook> {
    let mut all = vec![
        hook(BOT, "hk_apikey", HookAuth::ApiKey),
        hook(
            BOT,
            "hk_botpress",
            HookAuth::SecretHeader {
                header: "x-bp-secret".into(),
                secret: BOTPRESS_SECRET.into(),
            },
        ),
        hook(BOT, "hk_standard", hmac_auth("standard", STANDARD_SECRET)),
        hook(BOT, "hk_github", hmac_auth("github", GITHUB_SECRET)),
        hook(BOT, "hk_stripe", hmac_auth("stripe", STRIPE_SECRET)),
        hook(BOT, "hk_slack", hmac_auth("slack", SLACK_SECRET)),
        hook(BOT, "hk_shopify", hmac_auth("shopify", SHOPIFY_SECRET)),
        hook(BOT, "hk_twilio", hmac_auth("twilio", TWILIO_TOKEN)),
        hook(
            BOT,
            "hk_generic",
            HookAuth::Hmac {
                scheme: Scheme::Generic,
                secret: GENERIC_SECRET.into(),
                header: Some("x-signature".into()),
                algorithm: Some("sha512".into()),
                encoding: Some("base64".into()),
                prefix: Some("sha512=".into()),
            },
        ),
        hook(
            BOT,
            "hk_signed",
            HookAuth::SignedUrl {
                key: STANDARD.encode(URL_KEY).into(),
            },
        ),
        hook(
            BOT,
            "hk_signed2",
            HookAuth::SignedUrl {
                key: STANDARD.encode(OTHER_URL_KEY).into(),
            },
        ),
        hook(BOT, "hk_open", HookAuth::None),
        hook(OTHER_BOT, "hk_elsewhere", HookAuth::None),
    ];
    for signed in all
        .iter_mut()
        .filter(|h| h.id.as_str().starts_with("hk_signed"))
    {
        signed.methods = vec!["GET".into()];
    }
    let discord_key = hex::encode(
        ed25519_dalek::SigningKey::from_bytes(&DISCORD_SEED)
            .verifying_key()
            .to_bytes(),
    );
    let discord = hook(
        BOT,
        "hk_discord",
        HookAuth::Discord {
            public_key: discord_key.clone(),
        },
    );
    let mut discord_says = hook(
        BOT,
        "hk_discordsays",
        HookAuth::Discord {
            public_key: discord_key,
        },
    );
    discord_says.response = Some(HookResponse::Content {
        status: 200,
        body: json!({"type": 4, "data": {"content": "Got it, {payload.member.user.username}"}}),
        content_type: None,
    });
    let mut discord_event = discord.clone();
    discord_event.id = HookId::parse("hk_discordevent").unwrap();
    discord_event.response = Some(HookResponse::Content {
        status: 200,
        body: json!({"type": 4, "data": {"content": "Call {event.id}"}}),
        content_type: None,
    });
    let mut discord_rated = discord.clone();
    discord_rated.id = HookId::parse("hk_discordrated").unwrap();
    // Windows of 2 s taking one call each.
    discord_rated.rate_limit = Some(RateLimit {
        per_second: 0.5,
        burst: 1,
    });
    let telegram = hook(
        BOT,
        "hk_telegram",
        HookAuth::Telegram {
            secret_token: TELEGRAM_TOKEN.into(),
        },
    );
    let mut small = hook(BOT, "hk_small", HookAuth::None);
    small.max_body_bytes = SMALL_LIMIT;
    let mut get_only = hook(BOT, "hk_getonly", HookAuth::None);
    get_only.methods = vec!["GET".into()];
    let mut disabled = hook(BOT, "hk_disabled", HookAuth::None);
    disabled.enabled = false;
    let mut cors = hook(BOT, "hk_cors", HookAuth::None);
    cors.allowed_origins = vec!["https://app.example.com".into()];
    let mut ips = hook(BOT, "hk_ips", HookAuth::None);
    ips.allowed_ips = vec!["203.0.113.0/24".into(), "2001:db8::/32".into()];
    let mut rated = hook(BOT, "hk_rated", HookAuth::None);
    // Windows of 2 s taking one call each.
    rated.rate_limit = Some(RateLimit {
        per_second: 0.5,
        burst: 1,
    });
    let mut lambda_github = hook(
        BOT,
        "hk_lambdagh",
        hmac_auth("github", LAMBDA_GITHUB_SECRET),
    );
    lambda_github.name = "GitHub through API Gateway".into();
    let mut responds = hook(BOT, "hk_responds", HookAuth::None);
    responds.response = Some(HookResponse::Content {
        status: 200,
        body: json!({"ok": true, "order": "{payload.order}"}),
        content_type: None,
    });
    let mut no_content = hook(BOT, "hk_nocontent", HookAuth::None);
    no_content.response = Some(HookResponse::Content {
        status: 204,
        body: Value::Null,
        content_type: None,
    });
    let mut twiml = hook(BOT, "hk_twiml", HookAuth::None);
    twiml.response = Some(HookResponse::Content {
        status: 200,
        body: json!(
            "<Response><Message to=\"{payload.From}\">Got {payload.Body}</Message></Response>"
        ),
        content_type: Some(MediaType::parse("text/xml").unwrap()),
    });
    let mut typed_json = hook(BOT, "hk_typedjson", HookAuth::None);
    typed_json.response = Some(HookResponse::Content {
        status: 201,
        body: json!("Got {payload.Body}"),
        content_type: Some(MediaType::parse("application/problem+json").unwrap()),
    });
    let mut typed_text = hook(BOT, "hk_typedtext", HookAuth::None);
    typed_text.response = Some(HookResponse::Content {
        status: 200,
        body: json!("Body,{payload.Body}"),
        content_type: Some(MediaType::parse("text/csv; charset=utf-8").unwrap()),
    });
    let mut redirects = hook(BOT, "hk_redirects", HookAuth::None);
    redirects.methods = vec!["GET".into()];
    redirects.response = Some(HookResponse::Redirect {
        redirect_to: "{query.next}".into(),
    });
    all.extend([
        discord,
        discord_says,
        discord_rated,
        discord_event,
        telegram,
        redirects,
        small,
        get_only,
        disabled,
        cors,
        ips,
        rated,
        lambda_github,
        responds,
        no_content,
        twiml,
        typed_json,
        typed_text,
    ]);
    all
}

impl Ingress {
    pub(crate) async fn start() -> Self {
        let (dir, db) = hooklane_testkit::embedded::sqlite();
        let store = Arc::new(db);
        // A whole minute, so a rate-limit window of 2 s starts exactly now.
        let real = OffsetDateTime::now_utc().unix_timestamp();
        let now = real - real % 60;
        let clock = ManualClock::new(OffsetDateTime::from_unix_timestamp(now).unwrap());
        let svc =
            hooklane_testkit::embedded::services(store.clone(), store.clone(), Settings::default())
                .with_clock(Arc::new(clock.clone()));

        let key = hooklane_auth::api_key::generate();
        let other_key = hooklane_auth::api_key::generate();
        for (id, key) in [(BOT, &key), (OTHER_BOT, &other_key)] {
            store
                .create_bot(&Bot {
                    id: BotId::parse(id).unwrap(),
                    name: id.into(),
                    api_key_hash: hooklane_auth::api_key::hash(key),
                    created_at: OffsetDateTime::now_utc(),
                })
                .await
                .unwrap();
        }
        for h in hooks() {
            store.create_hook(&h).await.unwrap();
        }
        Self {
            app: hooklane_web::lambda::app(router(IngressState::new(svc))),
            store,
            clock,
            now,
            key,
            other_key,
            _dir: dir,
        }
    }

    pub(crate) async fn send(&self, request: Request<Body>) -> Answer {
        let response = self.app.clone().oneshot(request).await.unwrap();
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_owned(),
                    v.to_str().unwrap_or_default().to_owned(),
                )
            })
            .collect();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        Answer {
            status,
            headers,
            body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
            text: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    /// Everything in the queue now (taken out of it).
    pub(crate) async fn drain(&self) -> Vec<Envelope> {
        let mut out = Vec::new();
        loop {
            let got = self.store.receive(10, Duration::ZERO).await.unwrap();
            if got.is_empty() {
                return out;
            }
            for m in got {
                self.store.delete(&m.receipt).await.unwrap();
                out.push(serde_json::from_str(&m.body).unwrap());
            }
        }
    }
}

pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) headers: BTreeMap<String, String>,
    /// The body as JSON, `null` when it is not JSON.
    pub(crate) body: Value,
    /// The body as text.
    pub(crate) text: String,
}

impl Answer {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(String::as_str)
    }
}

pub(crate) fn path(hook: &str) -> String {
    format!("/hooks/{BOT}/{hook}")
}

/// A request under construction.
pub(crate) struct Call {
    pub(crate) method: Method,
    pub(crate) uri: String,
    pub(crate) headers: Vec<(HeaderName, HeaderValue)>,
    pub(crate) body: Body,
    pub(crate) ip: Option<IpAddr>,
}

impl Call {
    pub(crate) fn new(method: Method, uri: impl Into<String>) -> Self {
        Self {
            method,
            uri: uri.into(),
            headers: Vec::new(),
            body: Body::empty(),
            ip: Some("192.0.2.10".parse().unwrap()),
        }
    }

    pub(crate) fn post(uri: impl Into<String>) -> Self {
        Self::new(Method::POST, uri)
    }

    pub(crate) fn header(self, name: &str, value: impl AsRef<str>) -> Self {
        self.raw_header(name, value.as_ref().as_bytes())
    }

    pub(crate) fn raw_header(mut self, name: &str, value: &[u8]) -> Self {
        self.headers.push((
            HeaderName::from_bytes(name.as_bytes()).unwrap(),
            HeaderValue::from_bytes(value).unwrap(),
        ));
        self
    }

    pub(crate) fn body(mut self, body: impl Into<Body>) -> Self {
        self.body = body.into();
        self
    }

    pub(crate) fn json(self, body: impl Into<String>) -> Self {
        self.header("content-type", "application/json")
            .body(body.into())
    }

    pub(crate) fn ip(mut self, ip: Option<&str>) -> Self {
        self.ip = ip.map(|i| i.parse().unwrap());
        self
    }

    pub(crate) fn build(self) -> Request<Body> {
        let mut request = Request::builder()
            .method(self.method)
            .uri(self.uri)
            .body(self.body)
            .unwrap();
        for (k, v) in self.headers {
            request.headers_mut().append(k, v);
        }
        if let Some(ip) = self.ip {
            request.extensions_mut().insert(ClientIp(ip));
        }
        request
    }
}

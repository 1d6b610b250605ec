//! The consumer portal: links minted by the admin API, and the `/portal`
//! routes they open (one bot's endpoints and deliveries, nothing else); the
//! console's files.

use crate::common::{portal_token, request, send, spawn_app, TOKEN};
use axum::http::{header, Method, StatusCode};
use serde_json::json;

/// The token in a minted link's fragment.
fn token_of(url: &str) -> String {
    url.split_once("#portal=")
        .expect("a #portal= fragment")
        .1
        .to_owned()
}

#[tokio::test]
async fn a_portal_link_opens_its_bots_endpoints_and_deliveries_until_it_expires() {
    let app = spawn_app();
    let bot = app.bot().await;
    let ep = app
        .endpoint(&bot, json!({"url": "https://receiver.example/hook"}))
        .await;
    let ep = ep["id"].as_str().unwrap();
    let minted = app
        .post(
            &format!("/v1/bots/{bot}/portal"),
            json!({"expires_in": 600}),
        )
        .await;
    assert_eq!(minted.status, StatusCode::CREATED, "{:?}", minted.body);
    let url = minted.body["url"].as_str().unwrap();
    assert!(
        url.starts_with("https://hooks.example.test/console#portal=hlp_"),
        "{url}"
    );
    let token = token_of(url);
    assert!(!token.contains(TOKEN), "the admin token is not in the link");
    let expires_at = time::OffsetDateTime::parse(
        minted.body["expires_at"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    let left = expires_at - app.svc.now();
    assert!(left <= time::Duration::seconds(600) && left > time::Duration::seconds(590));

    let bearer = format!("Bearer {token}");
    let get = |path: String| request(Method::GET, &path, Some(&bearer), None);
    let a = send(&app.router, get(format!("/portal/v1/bots/{bot}/endpoints"))).await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
    assert_eq!(a.body["data"][0]["id"], ep);
    assert!(a.body["data"][0].get("secret").is_none());
    let a = send(
        &app.router,
        get(format!("/portal/v1/bots/{bot}/endpoints/{ep}/deliveries")),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK);

    // Past its time the same token opens nothing.
    let expired = portal_token(
        &app.svc,
        &bot,
        (app.svc.now() - time::Duration::seconds(1)).unix_timestamp(),
    )
    .await;
    let a = send(
        &app.router,
        request(
            Method::GET,
            &format!("/portal/v1/bots/{bot}/endpoints"),
            Some(&format!("Bearer {expired}")),
            None,
        ),
    )
    .await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    assert!(a.message().contains("expired"), "{}", a.message());
}

#[tokio::test]
async fn a_portal_token_reaches_nothing_but_its_own_bots_portal_routes() {
    let app = spawn_app();
    let bot = app.bot().await;
    let other = app.bot().await;
    let hook = app.hook(&bot, json!({})).await;
    let hook = hook["id"].as_str().unwrap();
    let minted = app.post(&format!("/v1/bots/{bot}/portal"), json!({})).await;
    let token = token_of(minted.body["url"].as_str().unwrap());
    let bearer = format!("Bearer {token}");
    let cases: Vec<(Method, String, StatusCode)> = vec![
        (
            Method::GET,
            format!("/portal/v1/bots/{other}/endpoints"),
            StatusCode::FORBIDDEN,
        ),
        (
            Method::GET,
            format!("/portal/v1/bots/{other}"),
            StatusCode::FORBIDDEN,
        ),
        // The admin API never takes a portal token.
        (
            Method::GET,
            format!("/v1/bots/{bot}/endpoints"),
            StatusCode::UNAUTHORIZED,
        ),
        (
            Method::GET,
            format!("/v1/bots/{bot}/hooks/{hook}/runs"),
            StatusCode::UNAUTHORIZED,
        ),
        (
            Method::POST,
            format!("/v1/bots/{bot}/portal"),
            StatusCode::UNAUTHORIZED,
        ),
        (
            Method::DELETE,
            format!("/v1/bots/{bot}"),
            StatusCode::UNAUTHORIZED,
        ),
    ];
    for (method, path, status) in cases {
        let a = send(
            &app.router,
            request(method.clone(), &path, Some(&bearer), None),
        )
        .await;
        assert_eq!(a.status, status, "{method} {path}: {:?}", a.body);
    }
    // Hooks, runs and variables have no portal route at all.
    for path in [
        format!("/portal/v1/bots/{bot}/hooks"),
        format!("/portal/v1/bots/{bot}/variables"),
    ] {
        let a = send(
            &app.router,
            request(Method::GET, &path, Some(&bearer), None),
        )
        .await;
        assert_eq!(a.status, StatusCode::NOT_FOUND, "{path}");
    }
    // An edited token, a token signed with another key, or the admin token
    // do not open the portal routes.
    let edited = token.replacen(&bot, &other, 1);
    let created = app
        .svc
        .store
        .get_bot(&hooklane_domain::BotId::parse(&bot).unwrap())
        .await
        .unwrap()
        .expect("the bot")
        .created_at
        .unix_timestamp_nanos();
    let foreign =
        hooklane_auth::portal::mint(b"another installation's key", &bot, created, i64::MAX);
    for bad in [edited.as_str(), foreign.as_str(), TOKEN, ""] {
        let a = send(
            &app.router,
            request(
                Method::GET,
                &format!("/portal/v1/bots/{bot}/endpoints"),
                Some(&format!("Bearer {bad}")),
                None,
            ),
        )
        .await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED, "{bad:?}");
    }
}

#[tokio::test]
async fn without_a_portal_key_no_link_is_minted_and_no_token_taken() {
    let app = spawn_app();
    let bot = app.bot().await;
    let off = hooklane_admin::router(hooklane_admin::AdminState {
        svc: app.svc.clone(),
        auth: hooklane_admin::AdminAuth::Token(TOKEN.into()),
        public_url: None,
        portal: hooklane_admin::PortalKey::Off,
    });
    let admin = format!("Bearer {TOKEN}");
    let a = send(
        &off,
        request(
            Method::POST,
            &format!("/v1/bots/{bot}/portal"),
            Some(&admin),
            None,
        ),
    )
    .await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    let token = hooklane_auth::portal::mint(b"", &bot, 1, i64::MAX);
    let a = send(
        &off,
        request(
            Method::GET,
            &format!("/portal/v1/bots/{bot}"),
            Some(&format!("Bearer {token}")),
            None,
        ),
    )
    .await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_console_is_served_from_the_binary_with_a_strict_content_policy() {
    let app = spawn_app();
    for (path, kind) in [
        ("/console", "text/html"),
        ("/console/console.js", "text/javascript"),
        ("/console/console.css", "text/css"),
        ("/console/uPlot.iife.min.js", "text/javascript"),
        ("/console/uPlot.min.css", "text/css"),
    ] {
        let a = send(&app.router, request(Method::GET, path, None, None)).await;
        assert_eq!(a.status, StatusCode::OK, "{path}");
        let ct = a.headers[header::CONTENT_TYPE].to_str().unwrap();
        assert!(ct.starts_with(kind), "{path}: {ct}");
        let csp = a.headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
        assert!(csp.contains("default-src 'none'") && csp.contains("connect-src 'self'"));
    }
    let page = send(&app.router, request(Method::GET, "/console", None, None)).await;
    assert_eq!(page.body, serde_json::Value::Null, "HTML, not JSON");
    let missing = send(
        &app.router,
        request(Method::GET, "/console/../Cargo.toml", None, None),
    )
    .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_console_with_a_trailing_slash_redirects_to_the_console() {
    let app = spawn_app();
    let a = send(&app.router, request(Method::GET, "/console/", None, None)).await;
    assert_eq!(a.status, StatusCode::PERMANENT_REDIRECT, "{:?}", a.body);
    assert_eq!(a.headers[header::LOCATION], "/console");
}

#[tokio::test]
async fn a_portal_link_of_a_bot_deleted_or_created_again_opens_nothing_and_says_why() {
    let app = spawn_app();
    let bot = app.bot().await;
    let minted = app
        .post(
            &format!("/v1/bots/{bot}/portal"),
            json!({"expires_in": 600}),
        )
        .await;
    assert_eq!(minted.status, StatusCode::CREATED, "{:?}", minted.body);
    let token = token_of(minted.body["url"].as_str().unwrap());
    let endpoints = format!("/portal/v1/bots/{bot}/endpoints");
    let open = |token: String| {
        let (router, path) = (app.router.clone(), endpoints.clone());
        async move {
            send(
                &router,
                request(Method::GET, &path, Some(&format!("Bearer {token}")), None),
            )
            .await
        }
    };
    assert_eq!(open(token.clone()).await.status, StatusCode::OK);
    let gone = "this link is no longer valid: its bot was deleted or created again";

    assert_eq!(
        app.delete(&format!("/v1/bots/{bot}")).await.status,
        StatusCode::NO_CONTENT
    );
    let a = open(token.clone()).await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED, "{:?}", a.body);
    assert_eq!(a.message(), gone);

    let again = app
        .post("/v1/bots", json!({"id": bot, "name": "new owner"}))
        .await;
    assert_eq!(again.status, StatusCode::CREATED, "{:?}", again.body);
    let a = open(token.clone()).await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED, "{:?}", a.body);
    assert_eq!(a.message(), gone);

    // A token the installation did not sign learns nothing about the bot:
    // for a bot that exists or not, its signature does not match.
    let forged = |bot: &str| hooklane_auth::portal::mint(b"a guessed key", bot, 1, i64::MAX);
    for (bot, path) in [
        (bot.clone(), endpoints.clone()),
        (
            "nobody".to_owned(),
            "/portal/v1/bots/nobody/endpoints".to_owned(),
        ),
    ] {
        let a = send(
            &app.router,
            request(
                Method::GET,
                &path,
                Some(&format!("Bearer {}", forged(&bot))),
                None,
            ),
        )
        .await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED, "{bot}");
        assert!(
            a.message().contains("signature does not match"),
            "{bot}: {}",
            a.message()
        );
    }
}

//! The web console: `GET /console` and its files, compiled into the binary
//! (no CDN, works offline). The files hold no data and no credential; the
//! page asks the admin API (admin token, under `hooklane dev`) or the
//! portal routes (a portal link's token) for everything it shows.

use axum::extract::Path;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use hooklane_web::ApiError;

use crate::AdminState;

/// One file of the console: its name under `/console/`, content type and bytes.
struct Asset {
    name: &'static str,
    content_type: &'static str,
    body: &'static str,
}

const INDEX: Asset = Asset {
    name: "index.html",
    content_type: "text/html; charset=utf-8",
    body: include_str!("../console/index.html"),
};

/// The files `/console/{asset}` serves.
const ASSETS: &[Asset] = &[
    Asset {
        name: "console.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../console/console.js"),
    },
    Asset {
        name: "console.css",
        content_type: "text/css; charset=utf-8",
        body: include_str!("../console/console.css"),
    },
    Asset {
        name: "uPlot.iife.min.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../console/vendor/uPlot.iife.min.js"),
    },
    Asset {
        name: "uPlot.min.css",
        content_type: "text/css; charset=utf-8",
        body: include_str!("../console/vendor/uPlot.min.css"),
    },
];

/// What the page may load and where it may talk: its own origin only.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
                   img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; \
                   frame-ancestors 'none'";

/// `GET /console` (the page), `GET /console/` (a 308 to it) and
/// `GET /console/{asset}` (its scripts and styles).
pub fn router() -> Router<AdminState> {
    Router::new()
        .route("/console", get(index))
        .route("/console/", get(to_index))
        .route("/console/{asset}", get(asset))
}

fn serve(file: &Asset) -> Response {
    let mut response = file.body.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(file.content_type),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

async fn index() -> Response {
    serve(&INDEX)
}

/// `/console/` is the page's address as people type it: 308 to `/console`
/// (the browser keeps a `#portal=…` fragment across it).
async fn to_index() -> Redirect {
    Redirect::permanent("/console")
}

async fn asset(Path(name): Path<String>) -> Result<Response, ApiError> {
    ASSETS
        .iter()
        .find(|a| a.name == name)
        .map(serve)
        .ok_or_else(|| ApiError::not_found("no such console file"))
}

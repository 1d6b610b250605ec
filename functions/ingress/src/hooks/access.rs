//! Who may call a hook from where: its `allowed_ips` (the caller's address)
//! and its `allowed_origins` (browsers, with CORS preflight and the CORS
//! headers on every answer to an allowed origin).

use std::net::IpAddr;

use axum::body::Body;
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::Response;
use hooklane_domain::Hook;
use hooklane_web::ApiError;

/// Checks the caller's address against the hook's `allowed_ips` (addresses
/// and CIDR networks, IPv4 and IPv6; an IPv4-mapped IPv6 address counts as
/// its IPv4 one). An empty list allows every caller.
///
/// # Errors
/// 403 `forbidden` when the hook has a list and `ip` is unknown or not in it.
pub(super) fn check_ip(hook: &Hook, ip: Option<IpAddr>) -> Result<(), ApiError> {
    if !hook.allowed_ips.is_empty() && !ip.is_some_and(|ip| ip_allowed(&hook.allowed_ips, ip)) {
        return Err(ApiError::forbidden(
            "calls from this address are not allowed for this hook",
        ));
    }
    Ok(())
}

/// Checks a browser's `Origin` (`None` when the caller sent none) against
/// the hook's `allowed_origins`, and returns the origin to answer with CORS
/// headers (see [`cors_headers`]), if any.
///
/// # Errors
/// 403 `forbidden` when an `Origin` was sent and the hook does not allow it.
pub(super) fn check_origin(hook: &Hook, origin: Option<&str>) -> Result<Option<String>, ApiError> {
    match origin {
        None => Ok(None),
        Some(o) if origin_allowed(hook, o) => Ok(Some(o.to_owned())),
        Some(_) => Err(ApiError::forbidden(
            "calls from this browser origin are not allowed for this hook",
        )),
    }
}

/// Whether `origin` is one of the hook's `allowed_origins`: `*`, or equal
/// ignoring ASCII case and trailing slashes.
fn origin_allowed(hook: &Hook, origin: &str) -> bool {
    hook.allowed_origins.iter().any(|o| {
        o == "*"
            || o.trim_end_matches('/')
                .eq_ignore_ascii_case(origin.trim_end_matches('/'))
    })
}

fn ip_allowed(allowed: &[String], ip: IpAddr) -> bool {
    let ip = match ip {
        IpAddr::V6(v6) => v6
            .to_ipv4_mapped()
            .map(IpAddr::V4)
            .unwrap_or(IpAddr::V6(v6)),
        v4 => v4,
    };
    allowed.iter().any(|net| match net.parse::<ipnet::IpNet>() {
        Ok(net) => net.contains(&ip),
        Err(_) => net.parse::<IpAddr>().is_ok_and(|one| one == ip),
    })
}

/// `OPTIONS`: a CORS preflight from a browser (with `Origin`), or a plain
/// question of which methods the hook takes (without). Answers 204 with
/// `Allow`, or with the `Access-Control-Allow-*` headers (max age 600 s).
///
/// # Errors
/// 403 `forbidden` when the origin is not one the hook allows.
pub(super) fn preflight(
    hook: &Hook,
    origin: Option<&str>,
    headers: &HeaderMap,
) -> Result<Response, ApiError> {
    let mut methods: Vec<&str> = hook.methods.iter().map(String::as_str).collect();
    methods.push("OPTIONS");
    let mut response = Response::builder().status(StatusCode::NO_CONTENT);
    let h = response.headers_mut().expect("a fresh builder has headers");
    let Some(origin) = origin else {
        if let Ok(v) = HeaderValue::from_str(&methods.join(", ")) {
            h.insert(header::ALLOW, v);
        }
        return Ok(response.body(Body::empty()).unwrap_or_default());
    };
    if !origin_allowed(hook, origin) {
        return Err(ApiError::forbidden(
            "this origin may not call this hook from a browser",
        ));
    }
    if let Ok(v) = HeaderValue::from_str(origin) {
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, v);
    }
    if let Ok(v) = HeaderValue::from_str(&methods.join(", ")) {
        h.insert(header::ACCESS_CONTROL_ALLOW_METHODS, v);
    }
    let requested = headers
        .get(header::ACCESS_CONTROL_REQUEST_HEADERS)
        .cloned()
        .unwrap_or_else(|| HeaderValue::from_static("content-type, authorization"));
    h.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, requested);
    h.insert(
        header::ACCESS_CONTROL_MAX_AGE,
        HeaderValue::from_static("600"),
    );
    h.insert(header::VARY, HeaderValue::from_static("Origin"));
    Ok(response.body(Body::empty()).unwrap_or_default())
}

/// What an answer to an allowed browser origin carries, so the page can
/// read it: the status, the body, and the headers it may act on. Empty for
/// no origin (or one that is not a valid header value).
pub(super) fn cors_headers(origin: Option<&str>) -> Vec<(HeaderName, HeaderValue)> {
    let Some(origin) = origin.and_then(|o| HeaderValue::from_str(o).ok()) else {
        return Vec::new();
    };
    vec![
        (header::ACCESS_CONTROL_ALLOW_ORIGIN, origin),
        (header::VARY, HeaderValue::from_static("Origin")),
        (
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static("retry-after, x-hooklane-event-id, x-hooklane-duplicate"),
        ),
    ]
}

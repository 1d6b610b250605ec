//! Signatures computed here, independently of the code under test, with
//! each provider's documented scheme; and the calls that carry them.

use axum::body::Body;
use axum::http::Method;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::{Sha256, Sha512};

use crate::support::*;

pub(crate) fn mac256(key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    let mut m = <Hmac<Sha256> as Mac>::new_from_slice(key).unwrap();
    for p in parts {
        m.update(p);
    }
    m.finalize().into_bytes().to_vec()
}

pub(crate) fn mac512(key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    let mut m = <Hmac<Sha512> as Mac>::new_from_slice(key).unwrap();
    for p in parts {
        m.update(p);
    }
    m.finalize().into_bytes().to_vec()
}

pub(crate) const BODY: &str =
    r#"{"id":"evt_1NG8Du2eZvKYlo2CUI79vXWy","order":{"id":7,"total":"12.50"}}"#;

/// Standard Webhooks: `v1,` + base64 HMAC-SHA256 of `{id}.{ts}.{body}` with
/// the base64-decoded part of `whsec_…` as the key.
pub(crate) fn standard(id: &str, ts: i64, signed: &str, sent: &str) -> Call {
    let key = STANDARD
        .decode(STANDARD_SECRET.strip_prefix("whsec_").unwrap())
        .unwrap();
    let ts_s = ts.to_string();
    let sig = STANDARD.encode(mac256(
        &key,
        &[
            id.as_bytes(),
            b".",
            ts_s.as_bytes(),
            b".",
            signed.as_bytes(),
        ],
    ));
    Call::post(path("hk_standard"))
        .json(sent)
        .header("webhook-id", id)
        .header("webhook-timestamp", &ts_s)
        .header("webhook-signature", format!("v1,{sig}"))
}

/// The same signature under Svix's names (`svix-id`, `svix-timestamp`,
/// `svix-signature`), as Svix-powered senders send it.
pub(crate) fn svix(id: &str, ts: i64, body: &str) -> Call {
    let signed = standard(id, ts, body, body).build();
    let value = |name: &str| signed.headers()[name].to_str().unwrap().to_owned();
    Call::post(path("hk_standard"))
        .json(body)
        .header("svix-id", value("webhook-id"))
        .header("svix-timestamp", value("webhook-timestamp"))
        .header("svix-signature", value("webhook-signature"))
}

pub(crate) fn github_signature(secret: &str, body: &[u8]) -> String {
    format!("sha256={}", hex::encode(mac256(secret.as_bytes(), &[body])))
}

/// GitHub: `X-Hub-Signature-256: sha256=` + hex HMAC-SHA256 of the body.
pub(crate) fn github(secret: &str, signed: &str, sent: &str) -> Call {
    Call::post(path("hk_github"))
        .json(sent)
        .header("x-github-event", "push")
        .header(
            "x-hub-signature-256",
            github_signature(secret, signed.as_bytes()),
        )
}

/// Stripe: `Stripe-Signature: t=<ts>,v1=<hex HMAC-SHA256 of "{ts}.{body}">`.
pub(crate) fn stripe_header(secret: &str, ts: i64, body: &str) -> String {
    let ts_s = ts.to_string();
    let sig = hex::encode(mac256(
        secret.as_bytes(),
        &[ts_s.as_bytes(), b".", body.as_bytes()],
    ));
    format!("t={ts_s},v1={sig}")
}

pub(crate) fn stripe(header: String, sent: &str) -> Call {
    Call::post(path("hk_stripe"))
        .json(sent)
        .header("stripe-signature", header)
}

/// Slack: `X-Slack-Signature: v0=<hex HMAC-SHA256 of "v0:{ts}:{body}">`.
pub(crate) fn slack_signature(secret: &str, ts: i64, body: &str) -> String {
    let ts_s = ts.to_string();
    format!(
        "v0={}",
        hex::encode(mac256(
            secret.as_bytes(),
            &[b"v0:", ts_s.as_bytes(), b":", body.as_bytes()]
        ))
    )
}

pub(crate) fn slack(ts: Option<i64>, signature: Option<String>, sent: &str) -> Call {
    let mut call = Call::post(path("hk_slack"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(sent.to_owned());
    if let Some(ts) = ts {
        call = call.header("x-slack-request-timestamp", ts.to_string());
    }
    if let Some(sig) = signature {
        call = call.header("x-slack-signature", sig);
    }
    call
}

pub(crate) const SLACK_BODY: &str =
    "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&command=%2Fweather&text=94070";

/// Shopify: `X-Shopify-Hmac-Sha256:` base64 HMAC-SHA256 of the body.
pub(crate) fn shopify(value: String, sent: &str) -> Call {
    Call::post(path("hk_shopify"))
        .json(sent)
        .header("x-shopify-hmac-sha256", value)
        .header(
            "x-shopify-webhook-id",
            "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043",
        )
}

pub(crate) fn shopify_signature(secret: &str, body: &str) -> String {
    STANDARD.encode(mac256(secret.as_bytes(), &[body.as_bytes()]))
}

/// The generic hook: `x-signature: sha512=` + base64 HMAC-SHA512 of the body.
pub(crate) fn generic(value: String, sent: &str) -> Call {
    Call::post(path("hk_generic"))
        .json(sent)
        .header("x-signature", value)
}

pub(crate) fn generic_signature(body: &str) -> String {
    format!(
        "sha512={}",
        STANDARD.encode(mac512(GENERIC_SECRET.as_bytes(), &[body.as_bytes()]))
    )
}

/// A signed URL as the admin API mints it: `ctx` = base64url of
/// `{"c": context, "e": expires}`, `sig` = base64url HMAC-SHA256 of
/// `{bot}.{hook}.{ctx}`.
pub(crate) fn signed_url_parts(
    key: &[u8],
    hook: &str,
    context: Value,
    expires: Option<i64>,
) -> (String, String) {
    let ctx = URL_SAFE_NO_PAD.encode(json!({"c": context, "e": expires}).to_string());
    let sig = URL_SAFE_NO_PAD.encode(mac256(key, &[format!("{BOT}.{hook}.{ctx}").as_bytes()]));
    (ctx, sig)
}

pub(crate) fn signed(hook: &str, ctx: &str, sig: &str) -> Call {
    Call::new(
        Method::GET,
        format!("{}?ctx={ctx}&sig={sig}&ref=mail", path(hook)),
    )
}

/// A copy of `s` with the character at `at` changed.
pub(crate) fn flip(s: &str, at: usize) -> String {
    let mut chars: Vec<char> = s.chars().collect();
    chars[at] = if chars[at] == 'A' { 'B' } else { 'A' };
    chars.into_iter().collect()
}

pub(crate) fn nested(depth: usize) -> String {
    format!("{}{}", "[".repeat(depth), "]".repeat(depth))
}

/// A body that arrives in chunks, with no length known up front.
pub(crate) fn streamed(total: usize) -> Body {
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> = (0..total)
        .step_by(100)
        .map(|start| Ok(vec![b'a'; (total - start).min(100)]))
        .collect();
    Body::from_stream(futures::stream::iter(chunks))
}

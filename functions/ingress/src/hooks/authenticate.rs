//! A hook call's credentials, per the hook's `auth.type`: `api_key`,
//! `secret_header`, `hmac` (a provider signature), `signed_url`, `discord`
//! (an interaction's Ed25519 signature), `telegram` (the update's secret
//! token), `none`; and
//! what of the call's headers and query reaches the actions once the
//! credentials are taken out.

use std::borrow::Cow;

use axum::http::{HeaderMap, StatusCode};
use hooklane_auth::signature::{self, FnHeaders, GenericError, Scheme, SignatureError};
use hooklane_auth::{constant_time_eq, signed_url};
use hooklane_domain::HookAuth;
use hooklane_web::{ApiError, ErrorCode};
use serde_json::{Map, Value};

use hooklane_domain::envelope::{json_depth, MAX_JSON_DEPTH};

use super::answer::unknown_hook;
use crate::bot_key;
use crate::cache::LoadedHook;
use crate::IngressState;

/// Headers that carry credentials; they never reach the actions.
const CREDENTIAL_HEADERS: &[&str] = &[
    "authorization",
    "proxy-authorization",
    "cookie",
    "x-api-key",
    "x-hook-secret",
    "x-hub-signature",
    "x-hub-signature-256",
    "stripe-signature",
    "x-slack-signature",
    "x-shopify-hmac-sha256",
    "webhook-signature",
    "svix-signature",
    "x-twilio-signature",
    "x-signature-ed25519",
    "x-telegram-bot-api-secret-token",
];

/// The body a provider signature is checked over.
#[derive(Debug, Clone, Copy)]
pub(super) struct SignedBody<'b> {
    /// The bytes as sent: what a sender puts on the wire is what it signs.
    pub sent: &'b [u8],
    /// The body with its `Content-Encoding` undone, when it differs from
    /// `sent`: a sender whose HTTP stack compresses after signing signed
    /// these, so a signature over them is accepted too.
    pub decoded: Option<&'b [u8]>,
    /// The public URL the call was made to, query included (see
    /// `public_url`): Twilio signs it.
    pub url: &'b str,
    /// True when the body is a form (`application/x-www-form-urlencoded`),
    /// whose parameters Twilio signs (another body it covers through the
    /// URL's `bodySHA256`).
    pub form: bool,
}

/// The query parameters of a signed URL.
const SIGNED_URL_PARAMS: [&str; 2] = ["ctx", "sig"];

/// A call whose credentials checked out.
#[derive(Debug)]
pub(super) struct Authenticated<'h> {
    /// The auth the call passed: the cached hook's, or the store's when it
    /// changed since it was cached. Its secret header is the one kept from
    /// the actions.
    pub auth: Cow<'h, HookAuth>,
    /// The provider's id for this delivery (`hmac` schemes that send one),
    /// for duplicate suppression.
    pub delivery_id: Option<String>,
    /// A signed URL's context, for `{context.…}`.
    pub context: Option<Value>,
}

/// Checks the caller's credentials against `hook` (as cached). `query` is
/// the decoded query string in order; `now` is Unix seconds.
///
/// A credential the cached hook refuses is checked once more against the
/// store when the hook's auth (or its bot's API key) changed since it was
/// cached: a new key or secret works at once after a rotation; an old one
/// works until its cache entry expires.
///
/// # Errors
/// 401 `unauthorized` for a missing or wrong key, secret, signature or
/// signed URL, or a stale timestamp (the message names what to send, never
/// the secret); 404 when the hook (or its bot) is gone or was disabled;
/// 400 `invalid_context` for a signed URL whose context nests deeper than
/// [`MAX_JSON_DEPTH`]; 500 for a hook whose stored auth settings do not
/// parse, or a store error.
pub(super) async fn authenticate<'h>(
    state: &IngressState,
    hook: &'h LoadedHook,
    headers: &HeaderMap,
    query: &[(String, String)],
    body: SignedBody<'_>,
    now: i64,
) -> Result<Authenticated<'h>, ApiError> {
    let check_against = |hook| check(state, hook, headers, query, body, now);
    let (auth, (delivery_id, context)) = match check_against(hook).await {
        Err(refused) if refused.status == StatusCode::UNAUTHORIZED => {
            match state
                .cache
                .reload_if_changed(state.svc.store.as_ref(), hook)
                .await?
            {
                Some(fresh) if fresh.enabled => {
                    let passed = check_against(&fresh).await?;
                    (Cow::Owned(fresh.into_hook().auth), passed)
                }
                Some(_) => return Err(unknown_hook()),
                None => return Err(refused),
            }
        }
        other => (Cow::Borrowed(&hook.auth), other?),
    };
    if context
        .as_ref()
        .is_some_and(|c| json_depth(c) > MAX_JSON_DEPTH)
    {
        return Err(ApiError::bad_request(
            ErrorCode::InvalidContext,
            format!("the signed URL's context nests deeper than {MAX_JSON_DEPTH} levels; mint one with a flatter context"),
        ));
    }
    Ok(Authenticated {
        auth,
        delivery_id,
        context,
    })
}

/// The call's headers as the actions see them (`{headers.…}`): every header
/// whose value is text, less [`CREDENTIAL_HEADERS`] and the header that
/// carried the hook's secret. Names are lowercase.
pub(super) fn headers_for_actions(headers: &HeaderMap, auth: &HookAuth) -> Map<String, Value> {
    let secret_header = match auth {
        HookAuth::SecretHeader { header, .. } => Some(header.to_ascii_lowercase()),
        HookAuth::Hmac {
            header: Some(h), ..
        } => Some(h.to_ascii_lowercase()),
        _ => None,
    };
    let mut kept = Map::new();
    for (name, value) in headers {
        let name = name.as_str();
        if CREDENTIAL_HEADERS.contains(&name) || secret_header.as_deref() == Some(name) {
            continue;
        }
        if let Ok(v) = value.to_str() {
            kept.insert(name.to_owned(), Value::String(v.to_owned()));
        }
    }
    kept
}

/// The call's query as the actions see them (`{query.…}`): every parameter
/// (the last of a repeated name wins), less a signed URL's `ctx` and `sig`.
pub(super) fn query_for_actions(
    query: Vec<(String, String)>,
    auth: &HookAuth,
) -> Map<String, Value> {
    let mut kept = Map::new();
    for (k, v) in query {
        if matches!(auth, HookAuth::SignedUrl { .. }) && SIGNED_URL_PARAMS.contains(&k.as_str()) {
            continue;
        }
        kept.insert(k, Value::String(v));
    }
    kept
}

/// One check of the credentials against `hook`; returns the provider's
/// delivery id (for duplicate suppression) and the signed URL's context.
async fn check(
    state: &IngressState,
    hook: &LoadedHook,
    headers: &HeaderMap,
    query: &[(String, String)],
    body: SignedBody<'_>,
    now: i64,
) -> Result<(Option<String>, Option<Value>), ApiError> {
    let lookup = FnHeaders::new(|name: &str| headers.get(name).and_then(|v| v.to_str().ok()));
    match &hook.auth {
        HookAuth::None => Ok((None, None)),
        HookAuth::ApiKey => {
            let bot = state
                .cache
                .bot(state.svc.store.as_ref(), &hook.bot_id)
                .await?
                .ok_or_else(unknown_hook)?;
            bot_key::check(
                &bot,
                headers,
                "send the bot's API key in the Authorization header",
            )?;
            Ok((None, None))
        }
        HookAuth::SecretHeader { header, secret } => {
            let presented = headers.get(header.as_str()).ok_or_else(|| {
                ApiError::unauthorized(format!("send the hook's secret in the `{header}` header"))
            })?;
            if constant_time_eq(presented.as_bytes(), secret.expose_secret().as_bytes()) {
                Ok((None, None))
            } else {
                Err(ApiError::unauthorized(format!(
                    "the `{header}` secret is not valid for this hook"
                )))
            }
        }
        HookAuth::Hmac { scheme, secret, .. } if *scheme == Scheme::Twilio => {
            let verify = |bytes: &[u8]| {
                signature::verify_twilio(
                    secret.expose_secret(),
                    &lookup,
                    body.url,
                    bytes,
                    body.form,
                )
            };
            let verified = match (verify(body.sent), body.decoded) {
                (Err(SignatureError::Mismatch), Some(decoded)) => verify(decoded),
                (sent, _) => sent,
            }?;
            Ok((verified.delivery_id, None))
        }
        HookAuth::Hmac { scheme, secret, .. } => {
            let generic = hook.generic.as_ref().map_err(GenericError::clone)?;
            let verify = |bytes: &[u8]| {
                signature::verify(
                    scheme,
                    generic.as_ref(),
                    secret.expose_secret(),
                    &lookup,
                    bytes,
                    now,
                )
            };
            let verified = match (verify(body.sent), body.decoded) {
                (Err(SignatureError::Mismatch), Some(decoded)) => verify(decoded),
                (sent, _) => sent,
            }?;
            Ok((verified.delivery_id, None))
        }
        HookAuth::Discord { public_key } => {
            signature::verify_discord(public_key, &lookup, body.sent, now)
                .map_err(discord_refusal)?;
            Ok((None, None))
        }
        HookAuth::Telegram { secret_token } => {
            signature::verify_telegram(secret_token.expose_secret(), &lookup)?;
            Ok((None, None))
        }
        HookAuth::SignedUrl { key } => {
            let key = signed_url::decode_key(key.expose_secret())?;
            let get = |name: &str| {
                query
                    .iter()
                    .find(|(k, _)| k == name)
                    .map(|(_, v)| v.as_str())
            };
            let (Some(ctx), Some(sig)) = (get("ctx"), get("sig")) else {
                return Err(ApiError::unauthorized(
                    "this hook is called through a signed URL (ctx and sig are missing)",
                ));
            };
            let context =
                signed_url::verify(&key, hook.bot_id.as_str(), hook.id.as_str(), ctx, sig, now)?;
            Ok((None, Some(context)))
        }
    }
}

/// 401 for a Discord interaction whose signature is missing or does not
/// verify: a Discord hook holds an application's public key, not a secret,
/// so the message names who must sign and how. Other refusals (a malformed
/// or stale signature) keep their own message.
fn discord_refusal(e: SignatureError) -> ApiError {
    const SIGNED_BY: &str = "the interaction must be signed by the Discord application whose public key this hook holds (`X-Signature-Ed25519` over `X-Signature-Timestamp` followed by the body)";
    match e {
        SignatureError::MissingHeader(header) => {
            ApiError::unauthorized(format!("the `{header}` header is missing; {SIGNED_BY}"))
        }
        SignatureError::Mismatch => ApiError::unauthorized(format!(
            "the signature does not match; {SIGNED_BY}, and the body must reach Hooklane unchanged"
        )),
        other => other.into(),
    }
}

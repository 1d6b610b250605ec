//! Inbound hooks: create, list, read, update, delete; signed URLs.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::Router;
use hooklane_domain::{rfc3339, Hook, HookAuth, HookId};
use hooklane_web::{ApiError, ErrorCode, Json};
use serde_json::{json, Value};

use crate::input::{
    check_hook, check_signed_url_request, hook_input, keep_masked_actions, mask_actions, merge,
};
use crate::list::{answer, ListQuery};
use crate::lookup::{load_bot, load_hook};
use crate::{base_url, AdminState};

/// `/v1/bots/{bot}/hooks` (create, list), `…/hooks/{hook}` (read, patch,
/// delete) and `…/hooks/{hook}/urls` (mint a signed URL).
pub fn router() -> Router<AdminState> {
    Router::new()
        .route("/v1/bots/{bot}/hooks", post(create).get(list))
        .route(
            "/v1/bots/{bot}/hooks/{hook}",
            get(read).patch(update).delete(delete),
        )
        .route("/v1/bots/{bot}/hooks/{hook}/urls", post(mint_url))
}

fn hook_url(base: &str, hook: &Hook) -> String {
    format!("{base}/hooks/{}/{}", hook.bot_id, hook.id)
}

/// The public form of a hook: every field but secrets (`auth` as
/// `HookAuth::view` shows it, the actions' credentials masked as
/// [`mask_actions`] does), plus its `url` on `base` and RFC 3339 times.
pub fn view(hook: &Hook, base: &str) -> Value {
    json!({
        "id": hook.id,
        "bot_id": hook.bot_id,
        "name": hook.name,
        "enabled": hook.enabled,
        "methods": hook.methods,
        "auth": hook.auth.view(),
        "allowed_origins": hook.allowed_origins,
        "allowed_ips": hook.allowed_ips,
        "rate_limit": hook.rate_limit,
        "max_body_bytes": hook.max_body_bytes,
        "response": hook.response,
        "actions": mask_actions(&json!(hook.actions)),
        "url": hook_url(base, hook),
        "created_at": rfc3339(hook.created_at),
        "updated_at": rfc3339(hook.updated_at),
    })
}

/// [`view`], with a `secret_header` secret made for the hook shown in
/// `auth.secret`, a `telegram` one in `auth.secret_token` (once: it is
/// never read back).
fn view_with_secret(hook: &Hook, base: &str, generated_secret: Option<String>) -> Value {
    let mut answer = view(hook, base);
    if let Some(secret) = generated_secret {
        let field = match hook.auth {
            HookAuth::Telegram { .. } => "secret_token",
            _ => "secret",
        };
        answer["auth"][field] = Value::String(secret);
    }
    answer
}

async fn create(
    State(state): State<AdminState>,
    Path(bot): Path<String>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Result<(StatusCode, axum::Json<Value>), ApiError> {
    let bot = load_bot(&state, &bot).await?;
    let checked = check_hook(body, None, state.svc.outbound.allow_private()).await?;
    let now = state.svc.now();
    let (hook, generated_secret) = checked.into_hook(HookId::generate(), bot.id, now, now);
    state.svc.store.create_hook(&hook).await?;
    tracing::info!(bot_id = %hook.bot_id, hook_id = %hook.id, "hook created");
    let answer = view_with_secret(&hook, &base_url(&state, &headers), generated_secret);
    Ok((StatusCode::CREATED, axum::Json(answer)))
}

async fn list(
    State(state): State<AdminState>,
    Path(bot): Path<String>,
    q: ListQuery,
    headers: HeaderMap,
) -> Result<axum::Json<Value>, ApiError> {
    let bot = load_bot(&state, &bot).await?;
    let page = state
        .svc
        .store
        .list_hooks(&bot.id, &q.checked_page()?)
        .await?;
    let base = base_url(&state, &headers);
    Ok(axum::Json(answer(page, |h| view(&h, &base))))
}

async fn read(
    State(state): State<AdminState>,
    Path((bot, hook)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<axum::Json<Value>, ApiError> {
    let hook = load_hook(&state, &bot, &hook).await?;
    Ok(axum::Json(view(&hook, &base_url(&state, &headers))))
}

async fn update(
    State(state): State<AdminState>,
    Path((bot, hook)): Path<(String, String)>,
    headers: HeaderMap,
    Json(patch): Json<Value>,
) -> Result<axum::Json<Value>, ApiError> {
    let hook = load_hook(&state, &bot, &hook).await?;
    let mut current = hook_input(&hook);
    let mut patch = patch;
    // Credentials sent back as they were read (masked) keep their values,
    // while their action's target keeps its host.
    if let Some(actions) = patch.get_mut("actions") {
        keep_masked_actions(actions, &json!(hook.actions))?;
    }
    // A new auth object replaces the old one; secrets left out are kept only
    // when the type stays the same.
    if patch.get("auth").is_some() {
        current.remove("auth");
    }
    let merged = merge(current, patch)?;
    let previous = Some(&hook.auth);
    let checked = check_hook(merged, previous, state.svc.outbound.allow_private()).await?;
    let (hook, generated_secret) =
        checked.into_hook(hook.id, hook.bot_id, hook.created_at, state.svc.now());
    state.svc.store.update_hook(&hook).await?;
    tracing::info!(bot_id = %hook.bot_id, hook_id = %hook.id, "hook updated");
    let answer = view_with_secret(&hook, &base_url(&state, &headers), generated_secret);
    Ok(axum::Json(answer))
}

async fn delete(
    State(state): State<AdminState>,
    Path((bot, hook)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let hook = load_hook(&state, &bot, &hook).await?;
    state.svc.store.delete_hook(&hook.bot_id, &hook.id).await?;
    tracing::info!(bot_id = %hook.bot_id, hook_id = %hook.id, "hook deleted");
    Ok(StatusCode::NO_CONTENT)
}

async fn mint_url(
    State(state): State<AdminState>,
    Path((bot, hook)): Path<(String, String)>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Result<(StatusCode, axum::Json<Value>), ApiError> {
    let hook = load_hook(&state, &bot, &hook).await?;
    let HookAuth::SignedUrl { key } = &hook.auth else {
        return Err(ApiError::bad_request(
            ErrorCode::InvalidAuth,
            "signed URLs are for hooks whose auth type is signed_url",
        ));
    };
    let (context, expires_in) = check_signed_url_request(body)?;
    let key = hooklane_auth::signed_url::decode_key(key.expose_secret())?;
    let now = state.svc.now();
    let expires_at = expires_in.map(|s| now + time::Duration::seconds(s as i64));
    let (ctx, sig) = hooklane_auth::signed_url::mint(
        &key,
        hook.bot_id.as_str(),
        hook.id.as_str(),
        &context,
        expires_at.map(|t| t.unix_timestamp()),
    );
    let url = format!(
        "{}?ctx={ctx}&sig={sig}",
        hook_url(&base_url(&state, &headers), &hook)
    );
    Ok((
        StatusCode::CREATED,
        axum::Json(json!({"url": url, "context": context, "expires_at": expires_at.map(rfc3339)})),
    ))
}

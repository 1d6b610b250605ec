//! The consumer portal: `POST /v1/bots/{bot}/portal` mints a signed,
//! expiring link to the web console scoped to one bot, and `/portal/v1/…`
//! serves that bot's endpoints and deliveries to whoever holds the link.
//!
//! The `/portal` routes are the only ones a portal token opens, and each
//! one answers only for the bot the token names: the token is checked here,
//! in the function, before any handler runs (in AWS these routes are not
//! behind IAM, since a browser cannot sign). `/v1` never takes a portal token.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use hooklane_auth::portal;
use hooklane_domain::{rfc3339, BotId};
use hooklane_web::{ApiError, Json};
use serde_json::{json, Value};

use crate::input::check_portal_request;
use crate::lookup::load_bot;
use crate::{base_url, bearer, bots, endpoints, AdminState};

/// The name of the store setting holding the installation's portal key.
pub const PORTAL_KEY_SETTING: &str = "portal-key";

/// The key portal tokens are signed with: the installation's own, never
/// the admin token.
#[derive(Clone)]
pub enum PortalKey {
    /// A key held by the process (`hooklane dev` keeps one in its data dir).
    Fixed(Arc<[u8]>),
    /// The key kept in the store as the setting [`PORTAL_KEY_SETTING`]
    /// (64 hex digits): the first process that needs it makes it
    /// ([`Store::put_setting_once`](hooklane_store::Store::put_setting_once)),
    /// every other one reads that one; each process keeps it once read.
    /// The admin Lambda uses this.
    Stored(Arc<tokio::sync::OnceCell<Arc<[u8]>>>),
    /// Portal links are off: minting answers 404 and no token is taken.
    Off,
}

impl PortalKey {
    /// A [`PortalKey::Stored`] not read yet.
    pub fn stored() -> Self {
        PortalKey::Stored(Arc::default())
    }

    /// The key, or `None` when portal links are off. Errors: the store's
    /// (503 when it cannot answer).
    async fn get(&self, state: &AdminState) -> Result<Option<Arc<[u8]>>, ApiError> {
        match self {
            PortalKey::Fixed(key) => Ok(Some(key.clone())),
            PortalKey::Stored(cell) => {
                let key = cell
                    .get_or_try_init(|| async {
                        let bytes: [u8; 32] = rand::random();
                        let fresh: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
                        let key = state
                            .svc
                            .store
                            .put_setting_once(PORTAL_KEY_SETTING, &fresh)
                            .await?;
                        Ok::<_, ApiError>(Arc::from(key.into_bytes()))
                    })
                    .await?;
                Ok(Some(key.clone()))
            }
            PortalKey::Off => Ok(None),
        }
    }
}

/// `POST /v1/bots/{bot}/portal` (behind the admin auth).
pub fn mint_router() -> Router<AdminState> {
    Router::new().route("/v1/bots/{bot}/portal", post(mint))
}

/// The `/portal/v1/…` routes a portal token opens, each behind
/// [`authorize`]: the bot, its endpoints, their delivery logs, test sends,
/// resends, recovery and secret rotation.
pub fn router(state: AdminState) -> Router<AdminState> {
    Router::new()
        .route("/portal/v1/bots/{bot}", get(bots::read))
        .route("/portal/v1/bots/{bot}/endpoints", get(endpoints::list))
        .route("/portal/v1/bots/{bot}/endpoints/{ep}", get(endpoints::read))
        .route(
            "/portal/v1/bots/{bot}/endpoints/{ep}/deliveries",
            get(endpoints::deliveries),
        )
        .route(
            "/portal/v1/bots/{bot}/endpoints/{ep}/test",
            post(endpoints::test),
        )
        .route(
            "/portal/v1/bots/{bot}/endpoints/{ep}/secret/rotate",
            post(endpoints::rotate_secret),
        )
        .route(
            "/portal/v1/bots/{bot}/endpoints/{ep}/recover",
            post(endpoints::recover),
        )
        .route(
            "/portal/v1/bots/{bot}/deliveries/{dlv}/resend",
            post(endpoints::resend),
        )
        .route_layer(middleware::from_fn_with_state(state, authorize))
}

async fn mint(
    State(state): State<AdminState>,
    Path(bot): Path<String>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Result<(StatusCode, axum::Json<Value>), ApiError> {
    let bot = load_bot(&state, &bot).await?;
    let expires_in = check_portal_request(body)?;
    let key = state.portal.get(&state).await?.ok_or_else(off)?;
    let expires_at = state.svc.now() + time::Duration::seconds(expires_in as i64);
    let token = portal::mint(
        &key,
        bot.id.as_str(),
        bot.created_at.unix_timestamp_nanos(),
        expires_at.unix_timestamp(),
    );
    // In the fragment: browsers do not send it, so no server or proxy logs it.
    let url = format!("{}/console#portal={token}", base_url(&state, &headers));
    tracing::info!(bot_id = %bot.id, expires_in, "portal link minted");
    Ok((
        StatusCode::CREATED,
        axum::Json(json!({"url": url, "expires_at": rfc3339(expires_at)})),
    ))
}

fn off() -> ApiError {
    ApiError::not_found("portal links are not set up on this installation")
}

/// Lets a request through only with a valid, unexpired portal token
/// (`Authorization: Bearer hlp_…`) for the bot its path names.
async fn authorize(
    State(state): State<AdminState>,
    Path(params): Path<HashMap<String, String>>,
    request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let token = bearer(request.headers()).ok_or_else(|| {
        ApiError::unauthorized("send the portal link's token as `Authorization: Bearer <token>`")
    })?;
    let key = state.portal.get(&state).await?.ok_or_else(off)?;
    let now = state.svc.now().unix_timestamp();
    // Checked against the bot as it is now: a link to a bot deleted (or
    // deleted and created again under the same id) opens nothing, and a
    // genuine one says why.
    let named = portal::bot_of(token)?;
    let created = match BotId::parse(named) {
        Ok(id) => state
            .svc
            .store
            .get_bot(&id)
            .await?
            .map(|b| b.created_at.unix_timestamp_nanos()),
        Err(_) => None,
    };
    let (bot, _) = portal::verify(&key, token, created, now)?;
    if params.get("bot") != Some(&bot) {
        return Err(ApiError::forbidden(
            "this portal link opens one bot's endpoints and deliveries only",
        ));
    }
    Ok(next.run(request).await)
}

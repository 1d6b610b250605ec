//! The ingress: the hot path. Routes hook calls and event publishes, checks
//! method, origin, address, size, auth, rate and format, writes one envelope
//! to the queue, and answers. A 2xx means the envelope is queued. It never
//! runs actions and never calls an outside URL.

use axum::routing::{any, post};
use axum::Router;
use hooklane_runtime::Services;

mod body;
mod bot_key;
mod cache;
mod events;
mod hooks;
mod intake;

pub use body::{parse_body, BodyError, ParsedBody};
pub use cache::CACHE_TTL;
pub use intake::IDEMPOTENCY_WINDOW;

/// How deep a hook call's JSON body may nest: the envelope's limit, so the
/// dispatcher can always read back what was accepted.
pub use hooklane_domain::envelope::{json_depth, MAX_JSON_DEPTH};

/// What every ingress request shares; cheap to clone (every part is behind
/// an `Arc`).
#[derive(Clone)]
pub struct IngressState {
    /// The store, the queue, the clock and the settings.
    pub svc: Services,
    /// Bots and hooks read on the hot path, kept [`CACHE_TTL`].
    pub cache: cache::Cache,
}

impl IngressState {
    /// The state over `svc`, with an empty cache.
    pub fn new(svc: Services) -> Self {
        Self {
            svc,
            cache: cache::Cache::default(),
        }
    }
}

/// The ingress routes: `/hooks/{bot_id}/{hook_id}` and
/// `/webhook/{bot_id}/{hook_id}` (any method; see the `hooks` module) and
/// `POST /v1/bots/{bot}/events` (other methods answer 405). The caller's
/// address comes from a `ClientIp` extension put there by the serving layer
/// (see `hooklane_web`).
pub fn router(state: IngressState) -> Router {
    Router::new()
        .route("/hooks/{bot_id}/{hook_id}", any(hooks::call_hook))
        .route("/webhook/{bot_id}/{hook_id}", any(hooks::call_hook))
        .route(
            "/v1/bots/{bot}/events",
            post(events::publish)
                .fallback(|| async { hooklane_web::ApiError::method_not_allowed(&["POST"]) }),
        )
        .with_state(state)
}

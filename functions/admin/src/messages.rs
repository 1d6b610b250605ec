//! `GET /v1/bots/{bot}/messages`: the events published for a bot, newest
//! first, each with a summary of its deliveries.
//!
//! Deliveries are kept per endpoint, not per message, so the summary is
//! gathered from the delivery logs of the bot's endpoints: the rows from
//! the page's oldest message on, at most [`MAX_ROWS_PER_ENDPOINT`] per
//! endpoint. For each endpoint a message reached, its latest row counts.

use std::collections::HashMap;

use axum::extract::{Path, State};
use axum::routing::get;
use axum::Router;
use hooklane_domain::{rfc3339, BotId, Delivery, DeliveryStatus, EndpointId, Message, MessageId};
use hooklane_store::Page;
use hooklane_web::ApiError;
use serde_json::{json, Value};

use crate::list::{answer, ListQuery};
use crate::lookup::load_bot;
use crate::AdminState;

/// The most delivery rows read per endpoint for one page's summaries.
pub const MAX_ROWS_PER_ENDPOINT: usize = 500;
/// The most endpoints whose logs are read for one page's summaries.
pub const MAX_ENDPOINTS: usize = 100;

/// `GET /v1/bots/{bot}/messages`.
pub fn router() -> Router<AdminState> {
    Router::new().route("/v1/bots/{bot}/messages", get(list))
}

/// `{"data": [{"id", "event", "timestamp", "data", "deliveries": {"endpoints",
/// "pending", "succeeded", "failed", "exhausted"}}, …], "next"}`. 404 for an
/// unknown bot; 400 `invalid_cursor`, `invalid_limit`.
async fn list(
    State(state): State<AdminState>,
    Path(bot): Path<String>,
    q: ListQuery,
) -> Result<axum::Json<Value>, ApiError> {
    let bot = load_bot(&state, &bot).await?;
    let page = state
        .svc
        .store
        .list_messages(&bot.id, &q.checked_page()?)
        .await?;
    let latest = match page.items.iter().map(|m| m.timestamp).min() {
        Some(oldest) => latest_rows(&state, &bot.id, oldest).await?,
        None => HashMap::new(),
    };
    Ok(axum::Json(answer(page, |m| view(&m, &latest))))
}

type Latest = HashMap<(MessageId, EndpointId), Delivery>;

/// For each (message, endpoint), the newest delivery row triggered at or
/// after `oldest`.
async fn latest_rows(
    state: &AdminState,
    bot: &BotId,
    oldest: time::OffsetDateTime,
) -> Result<Latest, ApiError> {
    let store = &state.svc.store;
    let endpoints = store
        .list_endpoints(bot, &Page::first(MAX_ENDPOINTS))
        .await?;
    let mut latest = Latest::new();
    for endpoint in endpoints.items {
        let mut page = Page::first(100);
        let mut read = 0;
        'rows: loop {
            let rows = store.list_deliveries(bot, &endpoint.id, &page).await?;
            for row in rows.items {
                read += 1;
                if row.triggered_at < oldest || read > MAX_ROWS_PER_ENDPOINT {
                    break 'rows;
                }
                // Rows come newest first: the first one seen is the latest.
                latest
                    .entry((row.message_id.clone(), row.endpoint_id.clone()))
                    .or_insert(row);
            }
            match rows.next {
                Some(next) => page.cursor = Some(next),
                None => break,
            }
        }
    }
    Ok(latest)
}

fn view(message: &Message, latest: &Latest) -> Value {
    let statuses: Vec<DeliveryStatus> = latest
        .iter()
        .filter(|((id, _), _)| *id == message.id)
        .map(|(_, row)| row.status)
        .collect();
    let endpoints = statuses.len();
    let count = |s: DeliveryStatus| statuses.iter().filter(|&&x| x == s).count();
    json!({
        "id": message.id,
        "event": message.event,
        "timestamp": rfc3339(message.timestamp),
        "data": message.data,
        "deliveries": {
            "endpoints": endpoints,
            "pending": count(DeliveryStatus::Pending),
            "succeeded": count(DeliveryStatus::Succeeded),
            "failed": count(DeliveryStatus::Failed),
            "exhausted": count(DeliveryStatus::Exhausted),
        },
    })
}

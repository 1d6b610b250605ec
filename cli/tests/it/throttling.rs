//! Throttling of deliveries: a burst published at once reaches an endpoint
//! with a `rate_limit` as a stream no faster than that rate, through a
//! stand-in that answers 429 past 20 calls in a second (the endpoint is set
//! to 25 a second, so some calls meet a 429 and the endpoint is slowed
//! down); every event arrives and no attempt is spent on waiting.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use hooklane_testkit::{on_every_backend, Dev};
use reqwest::Method;
use serde_json::json;

use crate::common::bin;

/// The endpoint's rate: 25 per second in windows of 5 (200 ms).
const PER_SECOND: f64 = 25.0;
const BURST: u32 = 5;
/// The stand-in answers 429 (`Retry-After: 1`) past this many calls in one
/// sliding second.
const STAND_IN_LIMIT: usize = 20;
const EVENTS: usize = 100;

#[derive(Default)]
struct Seen {
    /// When each call came, for the sliding second.
    recent: VecDeque<Instant>,
    /// Message id → (when it was answered 200, its x-webhook-attempt).
    delivered: HashMap<String, (Instant, String)>,
    too_many: usize,
    /// Every x-webhook-attempt seen, 429s included.
    attempts: Vec<String>,
}

async fn stand_in(State(seen): State<Arc<Mutex<Seen>>>, headers: HeaderMap) -> Response {
    let now = Instant::now();
    let mut s = seen.lock().unwrap();
    while s
        .recent
        .front()
        .is_some_and(|t| now.duration_since(*t) > Duration::from_secs(1))
    {
        s.recent.pop_front();
    }
    let attempt = headers
        .get("x-webhook-attempt")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    s.attempts.push(attempt.clone());
    if s.recent.len() >= STAND_IN_LIMIT {
        s.too_many += 1;
        return (
            StatusCode::TOO_MANY_REQUESTS,
            [("retry-after", "1")],
            "slow down",
        )
            .into_response();
    }
    s.recent.push_back(now);
    let id = headers
        .get("webhook-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    s.delivered.entry(id).or_insert((now, attempt));
    StatusCode::OK.into_response()
}

on_every_backend! {
    #[tokio::test(flavor = "multi_thread")]
    async fn a_burst_reaches_a_rate_limited_endpoint_at_its_rate_with_every_event_and_no_attempt_spent_on_every_backend(backend) {
        let seen = Arc::new(Mutex::new(Seen::default()));
        let app = axum::Router::new()
            .fallback(stand_in)
            .with_state(seen.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

        let dev = Dev::start(bin(), backend.clone(), &[]).await;
        let (bot, key) = dev.bot().await;
        dev.admin_json(
            Method::POST,
            &format!("/v1/bots/{bot}/endpoints"),
            json!({"name": "Busy", "url": format!("http://{addr}/in"), "events": ["tick"],
                   "rate_limit": {"per_second": PER_SECOND, "burst": BURST}}),
            201,
        )
        .await;
        let published_at = Instant::now();
        for n in 0..EVENTS {
            let r = dev
                .client
                .post(format!("{}/v1/bots/{bot}/events", dev.base))
                .bearer_auth(&key)
                .json(&json!({"event": "tick", "data": {"n": n}}))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 202);
        }
        let publishing = published_at.elapsed();

        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            if seen.lock().unwrap().delivered.len() >= EVENTS {
                break;
            }
            assert!(Instant::now() < deadline, "only {} of {EVENTS} delivered\n{}",
                seen.lock().unwrap().delivered.len(), dev.log());
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let s = seen.lock().unwrap();
        assert_eq!(s.delivered.len(), EVENTS, "every event, once each");
        assert!(
            s.attempts.iter().all(|a| a == "1"),
            "waiting spent no attempt ({backend:?}): {:?}", s.attempts
        );
        let mut times: Vec<Instant> = s.delivered.values().map(|(t, _)| *t).collect();
        times.sort();
        let span = times[EVENTS - 1].duration_since(times[0]).as_secs_f64();
        let observed = (EVENTS - 1) as f64 / span;
        eprintln!("{backend:?}: {observed:.1}/s over {span:.2} s, {} answered 429", s.too_many);
        // Fixed windows let up to two windows' worth through at an edge;
        // over the whole burst the rate is the configured one.
        assert!(
            observed <= PER_SECOND * 1.2,
            "{observed:.1}/s over {span:.2} s, configured {PER_SECOND}/s ({backend:?}; {} answered 429; published in {publishing:?})",
            s.too_many
        );
    }
}

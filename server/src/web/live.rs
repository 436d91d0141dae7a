//! `/api/live?region=CODE`: Server-Sent Events, one `snapshot` event whenever the aggregates change
//! (at most about three a second) and at least every 15 s. The subscriber is resolved by the access
//! policy when the stream opens and again before every message and on every revocation: a signed-out
//! person, a revoked wall or a narrowed scope ends the stream at once. Streams are capped per viewer and
//! in all (`streams`), so that they never take the descriptors that sign-in, health and feeds need.
use super::streams::{Full, Permit};
use super::AppState;
use axum::extract::{Query, State};
use axum::http::{header, request::Parts, HeaderMap, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures::Stream;
use serde::Deserialize;
use std::convert::Infallible;
use std::time::Duration;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LiveQuery {
    region: Option<String>,
}

pub async fn stream(State(state): State<AppState>, query: Result<Query<LiveQuery>, axum::extract::rejection::QueryRejection>, parts: Parts) -> Response {
    let Ok(Query(q)) = query else {
        return (StatusCode::BAD_REQUEST, "unknown query parameter; use ?region=CODE").into_response();
    };
    let cockpit = state.cockpit.clone();
    let viewer = match cockpit.policy.viewer(Some(&parts)) {
        Ok(v) => v,
        Err(e) => return super::refusal(e),
    };
    let region = match cockpit.policy.dashboard_region(&viewer, q.region.as_deref()) {
        Ok(r) => r,
        Err(e) => return super::refusal(e),
    };
    let permit = match cockpit.streams.acquire(&viewer.principal) {
        Ok(p) => p,
        Err(full) => {
            tracing::warn!(principal = %viewer.principal, ?full, open = cockpit.streams.open(), "live stream refused");
            let why = match full {
                Full::Viewer => "too many live streams open for this viewer",
                Full::Server => "the server holds as many live streams as it may",
            };
            return (StatusCode::TOO_MANY_REQUESTS, [(header::RETRY_AFTER, "30")], why).into_response();
        }
    };
    let sub = Subscriber { headers: parts.headers, region: q.region, resolved: region, _permit: permit };
    Sse::new(events(state, sub)).keep_alive(KeepAlive::default()).into_response()
}

/// Who a stream is for, kept to check them again before every message.
struct Subscriber {
    headers: HeaderMap,
    region: Option<String>,
    resolved: usize,
    _permit: Permit,
}

impl Subscriber {
    /// Whether the policy still lets this subscriber see the region it subscribed to.
    fn still_allowed(&self, s: &AppState) -> bool {
        let policy = &s.cockpit.policy;
        policy.viewer_of(&self.headers).and_then(|v| policy.dashboard_region(&v, self.region.as_deref())).is_ok_and(|r| r == self.resolved)
    }
}

fn events(state: AppState, sub: Subscriber) -> impl Stream<Item = Result<Event, Infallible>> {
    let revoked = state.cockpit.policy.auth().revocations();
    futures::stream::unfold((state, sub, revoked, true), move |(mut s, sub, mut revoked, first)| async move {
        if !first {
            tokio::select! {
                r = s.changed.changed() => if r.is_err() { return None },
                _ = tokio::time::sleep(Duration::from_secs(15)) => {}
                _ = s.shutdown.changed() => return None,
                r = revoked.changed() => if r.is_err() { return None },
            }
            if !sub.still_allowed(&s) {
                return None;
            }
            // Coalesce bursts: one snapshot carries all changes of the last moment.
            tokio::time::sleep(Duration::from_millis(300)).await;
            s.changed.borrow_and_update();
        }
        if *s.shutdown.borrow() || !sub.still_allowed(&s) {
            return None;
        }
        let snap = s.cockpit.snapshot(sub.resolved);
        let event = Event::default().event("snapshot").json_data(&snap).ok()?;
        Some((Ok(event), (s, sub, revoked, false)))
    })
}

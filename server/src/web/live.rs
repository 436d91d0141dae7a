//! `/api/live?region=CODE`: Server-Sent Events, one `snapshot` event whenever the aggregates change
//! (at most about three a second) and at least every 15 s. Each subscriber is resolved by the access
//! policy once, and only ever receives its own region's snapshot.
use super::AppState;
use app::backend::Backend;
use axum::extract::{Query, State};
use axum::http::{request::Parts, StatusCode};
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
    let region = match cockpit.viewer(Some(&parts)).and_then(|v| cockpit.policy.dashboard_region(&v, q.region.as_deref())) {
        Ok(r) => r,
        Err(e) => return super::refusal(e),
    };
    Sse::new(events(state, region)).keep_alive(KeepAlive::default()).into_response()
}

fn events(state: AppState, region: usize) -> impl Stream<Item = Result<Event, Infallible>> {
    futures::stream::unfold((state, true), move |(mut s, first)| async move {
        if !first {
            tokio::select! {
                r = s.changed.changed() => if r.is_err() { return None },
                _ = tokio::time::sleep(Duration::from_secs(15)) => {}
                _ = s.shutdown.changed() => return None,
            }
            // Coalesce bursts: one snapshot carries all changes of the last moment.
            tokio::time::sleep(Duration::from_millis(300)).await;
            s.changed.borrow_and_update();
        }
        if *s.shutdown.borrow() {
            return None;
        }
        let snap = s.cockpit.snapshot(region);
        let event = Event::default().event("snapshot").json_data(&snap).ok()?;
        Some((Ok(event), (s, false)))
    })
}

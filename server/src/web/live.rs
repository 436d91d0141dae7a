//! `/api/live?region=CODE`: Server-Sent Events: a `snapshot` event when what the region's screen shows
//! has changed (the first change at once, later ones of a burst together, at most four a second), and a
//! `beat` with the server's time (Unix ms) when nothing has gone out for 5 s. The subscriber is resolved by the access
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
use std::time::{Duration, Instant};
use tokio::sync::watch;
use app::model::WallSnapshot;

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

/// The longest silence on a stream: when nothing has gone out for this long a `beat` carrying the
/// server's time does, so a screen knows within seconds that it is no longer live (the page allows 7 s).
const BEAT: Duration = Duration::from_secs(5);
/// Changes closer together than this go out as one snapshot; the first change after a quiet spell goes
/// out at once (leading edge), so a single action reaches the walls without waiting.
const COALESCE: Duration = Duration::from_millis(250);

/// What woke a stream.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Wake {
    Change,
    Beat,
    /// A revocation somewhere: check the subscriber again, send nothing.
    Check,
}

/// A stream's state between messages.
struct Flow {
    state: AppState,
    sub: Subscriber,
    revoked: watch::Receiver<u64>,
    /// The last snapshot sent, with its time cleared: a snapshot that differs only in time is not sent.
    last: Option<WallSnapshot>,
    sent_at: Option<Instant>,
}

fn events(state: AppState, sub: Subscriber) -> impl Stream<Item = Result<Event, Infallible>> {
    let revoked = state.cockpit.policy.auth().revocations();
    futures::stream::unfold(Flow { state, sub, revoked, last: None, sent_at: None }, |mut f| async move {
        loop {
            let wake = match f.sent_at {
                None => Wake::Change,
                Some(sent) => {
                    let s = &mut f.state;
                    tokio::select! {
                        r = s.changed.changed() => if r.is_err() { return None } else { Wake::Change },
                        _ = tokio::time::sleep_until((sent + BEAT).into()) => Wake::Beat,
                        _ = s.shutdown.changed() => return None,
                        r = f.revoked.changed() => if r.is_err() { return None } else { Wake::Check },
                    }
                }
            };
            if *f.state.shutdown.borrow() || !f.sub.still_allowed(&f.state) {
                return None;
            }
            if wake == Wake::Check {
                continue;
            }
            if let (Wake::Change, Some(sent)) = (wake, f.sent_at) {
                // Within the coalescing window of the last message: carry this change with what follows.
                if let Some(rest) = COALESCE.checked_sub(sent.elapsed()) {
                    tokio::time::sleep(rest).await;
                    if *f.state.shutdown.borrow() || !f.sub.still_allowed(&f.state) {
                        return None;
                    }
                }
            }
            f.state.changed.borrow_and_update();
            let snap = f.state.cockpit.snapshot(f.sub.resolved);
            let shown = WallSnapshot { as_of: 0, ..snap.clone() };
            let event = if f.last.as_ref() == Some(&shown) {
                if wake == Wake::Change {
                    // Nothing this screen shows has changed (a change elsewhere in the city).
                    continue;
                }
                Event::default().event("beat").data(snap.as_of.to_string())
            } else {
                let e = Event::default().event("snapshot").json_data(&snap).ok()?;
                f.last = Some(shown);
                e
            };
            f.sent_at = Some(Instant::now());
            return Some((Ok(event), f));
        }
    })
}

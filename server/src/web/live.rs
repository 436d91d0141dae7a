//! `/api/live?region=CODE`: Server-Sent Events: when what the region's screen shows has changed
//! (computed and serialised once per region by `hub`: the first change at once, later ones of a burst
//! together, at most four a second), a `snapshot` (the whole `WallSnapshot`, first and after falling
//! behind) or a `patch` (`{"base": id, "ops": JSON Patch}` against the previous event's snapshot), each
//! with the region's frame number as its id; and a `beat` with the server's time (Unix ms) when
//! nothing has gone out for 5 s. The subscriber is resolved by the access
//! policy when the stream opens and again before every message and on every revocation: a signed-out
//! person, a revoked wall or a narrowed scope ends the stream at once. Streams are capped per viewer and
//! in all (`streams`), so that they never take the descriptors that sign-in, health and feeds need.
use super::streams::{Full, Permit};
use super::AppState;
use axum::extract::{Query, State};
use axum::http::{header, request::Parts, HeaderMap, StatusCode};
use axum::response::sse::{Event, Sse};
use axum::response::{IntoResponse, Response};
use futures::Stream;
use serde::Deserialize;
use std::convert::Infallible;
use std::time::{Duration, Instant};
use tokio::sync::watch;
use super::hub::Frame;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LiveQuery {
    region: Option<String>,
    /// Set by a wall on its first stream after its watchdog reloaded the page: why (`hub::RELOAD_REASONS`).
    reloaded: Option<String>,
}

pub async fn stream(State(state): State<AppState>, query: Result<Query<LiveQuery>, axum::extract::rejection::QueryRejection>, parts: Parts) -> Response {
    let Ok(Query(q)) = query else {
        return (StatusCode::BAD_REQUEST, "unknown query parameter; use ?region=CODE").into_response();
    };
    let reloaded = match q.reloaded.as_deref() {
        None => None,
        Some(r) => match super::hub::RELOAD_REASONS.iter().position(|x| *x == r) {
            Some(i) => Some(i),
            None => return (StatusCode::BAD_REQUEST, "reloaded: heap or stream").into_response(),
        },
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
    // Counted once the stream is allowed, so that nobody outside the policy moves the figure.
    if let Some(i) = reloaded {
        state.hub.counts.reloads[i].fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        tracing::info!(principal = %viewer.principal, reason = super::hub::RELOAD_REASONS[i], "a wall's watchdog reloaded it");
    }
    let sub = Subscriber { headers: parts.headers, region: q.region, resolved: region, _permit: permit };
    // No keep-alive comments: the `beat` already breaks every silence of 5 s.
    Sse::new(events(state, sub)).into_response()
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

/// What woke a stream.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Wake {
    Frame,
    Beat,
    /// A revocation somewhere: check the subscriber again, send nothing.
    Check,
}

/// A stream's state between messages.
struct Flow {
    state: AppState,
    sub: Subscriber,
    revoked: watch::Receiver<u64>,
    /// The region's frames, shared with every other stream of the region (`hub`).
    frames: watch::Receiver<Option<Frame>>,
    /// The last frame sent.
    sent_seq: u64,
    sent_at: Option<Instant>,
}

fn events(state: AppState, sub: Subscriber) -> impl Stream<Item = Result<Event, Infallible>> {
    let revoked = state.cockpit.policy.auth().revocations();
    let frames = state.hub.subscribe(&state, sub.resolved);
    futures::stream::unfold(Flow { state, sub, revoked, frames, sent_seq: 0, sent_at: None }, |mut f| async move {
        loop {
            let wake = match f.sent_at {
                // The region's current frame first (its publisher computes one as it starts).
                None => tokio::select! {
                    r = f.frames.wait_for(Option::is_some) => if r.is_err() { return None } else { Wake::Frame },
                    _ = f.state.shutdown.changed() => return None,
                },
                Some(sent) => tokio::select! {
                    r = f.frames.changed() => if r.is_err() { return None } else { Wake::Frame },
                    _ = tokio::time::sleep_until((sent + BEAT).into()) => Wake::Beat,
                    _ = f.state.shutdown.changed() => return None,
                    r = f.revoked.changed() => if r.is_err() { return None } else { Wake::Check },
                },
            };
            if *f.state.shutdown.borrow() || !f.sub.still_allowed(&f.state) {
                return None;
            }
            let event = match wake {
                Wake::Check => continue,
                Wake::Frame => match f.frames.borrow_and_update().clone() {
                    Some(frame) if frame.seq != f.sent_seq => {
                        // What changed, when this stream holds the frame it was computed from; the whole
                        // snapshot to a new stream or one that fell behind.
                        let follows = f.sent_seq != 0 && frame.seq == f.sent_seq + 1;
                        f.sent_seq = frame.seq;
                        match frame.patch.filter(|_| follows) {
                            Some(p) => Event::default().event("patch").id(frame.seq.to_string()).data(&*p),
                            None => Event::default().event("snapshot").id(frame.seq.to_string()).data(&*frame.json),
                        }
                    }
                    _ => continue,
                },
                Wake::Beat => Event::default().event("beat").data(f.state.cockpit.now().to_string()),
            };
            f.sent_at = Some(Instant::now());
            return Some((Ok(event), f));
        }
    })
}

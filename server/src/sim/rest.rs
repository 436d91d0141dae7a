//! A department system's REST API: `GET /api/records?since=<n>` returns, in order, at most `page`
//! records whose sequence number is above n, with the cursor of the next page (the last one's number).
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Json, Response};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

#[derive(Clone, Default)]
pub struct RestApi {
    /// (sequence number, record), ascending.
    records: Arc<Mutex<Vec<(i64, Value)>>>,
    down: Arc<AtomicBool>,
    pub page: usize,
}

impl RestApi {
    pub fn new(page: usize) -> RestApi {
        RestApi { page, ..Default::default() }
    }

    /// Publishes a record under the next sequence number at least `seq` (a time in ms, say).
    pub fn publish(&self, seq: i64, record: Value) {
        let mut all = self.records.lock().expect("api lock");
        let seq = all.last().map_or(seq, |(last, _)| seq.max(last + 1));
        all.push((seq, record));
    }

    pub fn set_down(&self, down: bool) {
        self.down.store(down, Ordering::SeqCst);
    }

    pub fn router(&self) -> axum::Router {
        axum::Router::new().route("/api/records", axum::routing::get(records)).with_state(self.clone())
    }
}

async fn records(State(api): State<RestApi>, Query(q): Query<HashMap<String, String>>) -> Response {
    if api.down.load(Ordering::SeqCst) {
        return (StatusCode::BAD_GATEWAY, "upstream down").into_response();
    }
    let since: i64 = match q.get("since").map(|s| s.parse()) {
        None => 0,
        Some(Ok(n)) => n,
        Some(Err(_)) => return (StatusCode::BAD_REQUEST, "since: a whole number").into_response(),
    };
    let all = api.records.lock().expect("api lock");
    let start = all.partition_point(|(seq, _)| *seq <= since);
    let page = &all[start..(start + api.page).min(all.len())];
    let next = page.last().map_or(since, |(seq, _)| *seq);
    let records: Vec<&Value> = page.iter().map(|(_, r)| r).collect();
    Json(serde_json::json!({"records": records, "next_cursor": next.to_string()})).into_response()
}

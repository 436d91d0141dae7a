//! A department system's REST API: `GET /api/records?since=<n>` returns, oldest first, at most `page`
//! records published after sequence number n, with the cursor of the next page.
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Json, Response};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

#[derive(Clone, Default)]
pub struct RestApi {
    records: Arc<Mutex<Vec<Value>>>,
    down: Arc<AtomicBool>,
    pub page: usize,
}

impl RestApi {
    pub fn new(page: usize) -> RestApi {
        RestApi { page, ..Default::default() }
    }

    pub fn publish(&self, record: Value) {
        self.records.lock().expect("api lock").push(record);
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
    let since: usize = match q.get("since").map(|s| s.parse()) {
        None => 0,
        Some(Ok(n)) => n,
        Some(Err(_)) => return (StatusCode::BAD_REQUEST, "since: a whole number").into_response(),
    };
    let all = api.records.lock().expect("api lock");
    let page: Vec<Value> = all.iter().skip(since).take(api.page).cloned().collect();
    let next = since + page.len();
    Json(serde_json::json!({"records": page, "next_cursor": next.to_string()})).into_response()
}

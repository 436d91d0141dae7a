//! A 12345 hotline's Open311 GeoReport v2 server: `GET /open311/v2/requests.json` filtered by
//! `start_date`/`end_date` (request time) or `updated_after`/`updated_before` (update time), at most
//! `max_results` requests per answer, oldest update first. It can be taken down and brought back.
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Json, Response};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

#[derive(Clone, Default)]
pub struct Hotline {
    /// service_request_id → the request as published now.
    requests: Arc<Mutex<HashMap<String, Value>>>,
    down: Arc<AtomicBool>,
    pub max_results: usize,
}

fn time(v: &Value, key: &str) -> Option<i64> {
    v.get(key).and_then(|t| t.as_str()).and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok()).map(|d| d.timestamp_millis())
}

impl Hotline {
    pub fn new(max_results: usize) -> Hotline {
        Hotline { max_results, ..Default::default() }
    }

    /// Publishes a request (new, or a new state of a known one).
    pub fn publish(&self, request: Value) {
        let id = request["service_request_id"].as_str().unwrap_or_default().to_string();
        self.requests.lock().expect("hotline lock").insert(id, request);
    }

    pub fn set_down(&self, down: bool) {
        self.down.store(down, Ordering::SeqCst);
    }

    pub fn router(&self) -> axum::Router {
        axum::Router::new().route("/open311/v2/requests.json", axum::routing::get(requests)).with_state(self.clone())
    }
}

async fn requests(State(h): State<Hotline>, Query(q): Query<HashMap<String, String>>) -> Response {
    if h.down.load(Ordering::SeqCst) {
        return (StatusCode::SERVICE_UNAVAILABLE, "maintenance").into_response();
    }
    let bound = |k: &str| q.get(k).map(|t| chrono::DateTime::parse_from_rfc3339(t).map(|d| d.timestamp_millis()));
    let (field, from, to) = match (bound("updated_after"), bound("updated_before"), bound("start_date"), bound("end_date")) {
        (Some(Ok(a)), Some(Ok(b)), None, None) => ("updated_datetime", a, b),
        (None, None, Some(Ok(a)), Some(Ok(b))) => ("requested_datetime", a, b),
        _ => return (StatusCode::BAD_REQUEST, Json(serde_json::json!([{"code": 400, "description": "give a date range"}]))).into_response(),
    };
    let mut list: Vec<Value> = h
        .requests
        .lock()
        .expect("hotline lock")
        .values()
        .filter(|r| time(r, field).is_some_and(|t| from <= t && t < to))
        .cloned()
        .collect();
    list.sort_by_key(|r| (time(r, "updated_datetime"), r["service_request_id"].as_str().map(str::to_string)));
    list.truncate(h.max_results);
    Json(Value::Array(list)).into_response()
}

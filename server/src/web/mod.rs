//! HTTP: the Leptos pages and server functions, the live stream, health, and the built static site
//! (wasm bundle, vendored ECharts, CSS), compressed.
mod backend;
mod live;

pub use backend::Cockpit;

use axum::extract::FromRef;
use axum::routing::get;
use axum::Router;
use leptos::prelude::*;
use leptos_axum::{generate_route_list, LeptosRoutes};
use std::sync::Arc;
use tokio::sync::watch;
use tower_http::compression::CompressionLayer;

#[derive(Clone)]
pub struct AppState {
    pub leptos: LeptosOptions,
    pub cockpit: Arc<Cockpit>,
    pub changed: watch::Receiver<u64>,
    pub shutdown: watch::Receiver<bool>,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(s: &AppState) -> LeptosOptions {
        s.leptos.clone()
    }
}

pub fn router(state: AppState) -> Router {
    let routes = generate_route_list(app::App);
    let handle = app::backend::BackendHandle(state.cockpit.clone());
    let leptos = state.leptos.clone();
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/api/live", get(live::stream))
        .leptos_routes_with_context(
            &state,
            routes,
            move || provide_context(handle.clone()),
            move || app::shell(leptos.clone()),
        )
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(app::shell))
        .layer(CompressionLayer::new())
        .with_state(state)
}

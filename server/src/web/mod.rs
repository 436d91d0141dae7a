//! HTTP: the Leptos pages and server functions, the live stream, health, and the built static site
//! (wasm bundle, vendored ECharts, CSS), compressed.
mod access;
mod admin;
mod assets;
mod backend;
mod cases;
mod feeds;
pub mod gate;
pub mod hub;
mod live;
mod oidc;
mod open311;
mod page;
mod portal;
mod public_stats;
mod report;
mod safety;
mod second_factor;
mod server_fns;
mod settings;
pub mod streams;
mod warnings;

pub use backend::Cockpit;

use axum::extract::FromRef;
use axum::routing::{get, post};
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
    /// Live streams' shared snapshots, one per region.
    pub hub: Arc<hub::Hub>,
    /// The build's content-hashed file names, for every page that links them.
    pub assets: app::assets::Assets,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(s: &AppState) -> LeptosOptions {
        s.leptos.clone()
    }
}

/// The server's own routes (besides Leptos pages and server functions). Who may call each is decided by
/// `gate` (signed in or public) and then by the policy inside the handler.
pub const ROUTES: &[(&str, &str)] = &[
    ("GET", "/healthz"),
    ("GET", "/readyz"),
    ("GET", "/metrics"),
    ("POST", "/feeds/{name}/webhook"),
    ("GET", "/feeds"),
    ("GET", "/api/admin/feeds"),
    ("POST", "/api/admin/feeds/reload"),
    ("POST", "/api/admin/feeds/{name}/{op}"),
    ("GET", "/login"),
    ("POST", "/auth/login"),
    ("POST", "/auth/logout"),
    ("GET", "/login/code"),
    ("GET", "/auth/oidc/start"),
    ("GET", "/auth/oidc/callback"),
    ("POST", "/auth/code"),
    ("GET", "/account/second-factor"),
    ("POST", "/account/second-factor"),
    ("POST", "/api/activity"),
    ("GET", "/device"),
    ("GET", "/device/wait"),
    ("GET", "/public"),
    ("GET", "/public/stats.json"),
    ("GET", "/public/stats.csv"),
    ("GET", "/public/stats.geojson"),
    ("GET", "/public/record"),
    ("GET", "/public/record.json"),
    ("GET", "/public/record.csv"),
    ("GET", "/public/record.geojson"),
    ("GET", "/api/me"),
    ("POST", "/api/me/password"),
    ("GET", "/password"),
    ("POST", "/password"),
    ("GET", "/api/live"),
    ("GET", "/api/cases"),
    ("GET", "/api/cases/{feed}/{id}"),
    ("POST", "/api/cases/{feed}/{id}/actions"),
    ("GET", "/api/cases/{feed}/{id}/photo"),
    ("GET", "/api/export/cases.csv"),
    ("POST", "/api/warnings/{id}/{op}"),
    ("GET", "/api/audit"),
    ("GET", "/api/audit.csv"),
    ("GET", "/audit"),
    ("GET", "/admin"),
    ("GET", "/admin/accounts/{username}"),
    ("POST", "/admin/accounts"),
    ("POST", "/admin/accounts/{username}"),
    ("POST", "/admin/accounts/{username}/{op}"),
    ("POST", "/admin/devices"),
    ("POST", "/admin/devices/{id}/revoke"),
    ("POST", "/admin/sessions/{id}/end"),
    ("POST", "/admin/api-keys"),
    ("POST", "/admin/api-keys/{id}/revoke"),
    ("GET", "/admin/settings"),
    ("POST", "/admin/settings/calendar"),
    ("POST", "/admin/settings/flow"),
    ("GET", "/api/admin/settings"),
    ("GET", "/api/admin/accounts"),
    ("GET", "/api/admin/devices"),
    ("GET", "/api/admin/sessions"),
    ("POST", "/api/admin/sessions/{id}/end"),
    ("POST", "/api/admin/accounts"),
    ("POST", "/api/admin/accounts/{username}/{op}"),
    ("POST", "/api/admin/devices"),
    ("POST", "/api/admin/devices/{id}/revoke"),
    ("POST", "/api/admin/devices/{id}/playlist"),
    ("POST", "/api/admin/sessions/revoke"),
    ("GET", "/api/admin/api-keys"),
    ("POST", "/api/admin/api-keys"),
    ("POST", "/api/admin/api-keys/{id}/revoke"),
    ("GET", "/open311/v2/{file}"),
    ("POST", "/open311/v2/{file}"),
    ("GET", "/open311/v2/services/{file}"),
    ("GET", "/open311/v2/requests/{file}"),
    ("GET", "/open311/v2/tokens/{file}"),
    ("GET", "/report"),
    ("POST", "/report"),
    ("GET", "/report/{id}"),
    ("GET", "/report/map/{file}"),
];

/// The viewer behind a request, as the policy sees it, or the response that refuses it.
pub(crate) fn signed_in(state: &AppState, headers: &axum::http::HeaderMap) -> Result<app::backend::Viewer, axum::response::Response> {
    state.cockpit.policy.viewer_of(headers).map_err(refusal)
}

/// How an access refusal reads over HTTP: 401 without a viewer; otherwise "not found", so that probing
/// cannot tell a forbidden thing from a missing one.
pub(crate) fn refusal(e: app::backend::AccessError) -> axum::response::Response {
    use axum::response::IntoResponse;
    match e {
        app::backend::AccessError::Unauthenticated => (axum::http::StatusCode::UNAUTHORIZED, "sign-in required").into_response(),
        app::backend::AccessError::Unavailable => (axum::http::StatusCode::SERVICE_UNAVAILABLE, "service unavailable").into_response(),
        app::backend::AccessError::NotFound => (axum::http::StatusCode::NOT_FOUND, "not found").into_response(),
    }
}

pub fn router(state: AppState) -> Router {
    let routes = generate_route_list(app::App);
    let handle = app::backend::BackendHandle(state.cockpit.clone());
    let leptos = state.leptos.clone();
    let site_root = std::path::PathBuf::from(state.leptos.site_root.as_ref());
    let names = state.assets.clone();
    let names_404 = names.clone();
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(feeds::readyz))
        .route("/metrics", get(feeds::metrics))
        .route("/feeds/{name}/webhook", post(feeds::webhook))
        .route("/feeds", get(feeds::page))
        .route("/api/admin/feeds", get(feeds::list))
        .route("/api/admin/feeds/reload", post(feeds::reload))
        .route("/api/admin/feeds/{name}/{op}", post(feeds::operate))
        .route("/login", get(access::login_page))
        .route("/auth/login", post(access::login))
        .route("/auth/logout", post(access::logout))
        .route("/login/code", get(second_factor::code_page))
        .route("/auth/oidc/start", get(oidc::start))
        .route("/auth/oidc/callback", get(oidc::callback))
        .route("/auth/code", post(second_factor::code_submit))
        .route("/account/second-factor", get(second_factor::enrol_page).post(second_factor::enrol_submit))
        .route("/api/activity", post(second_factor::activity))
        .route("/device", get(access::activate_device))
        .route("/device/wait", get(access::device_wait))
        .route("/public/stats.json", get(public_stats::json))
        .route("/public/stats.csv", get(public_stats::csv))
        .route("/public/stats.geojson", get(public_stats::geojson))
        .route("/public", get(portal::page))
        .route("/public/record", get(portal::page))
        .route("/public/record.json", get(portal::json))
        .route("/public/record.csv", get(portal::csv))
        .route("/public/record.geojson", get(portal::geojson))
        .route("/api/me", get(access::me))
        .route("/api/me/password", post(access::change_password))
        .route("/password", get(access::password_page).post(access::password_submit))
        .route("/api/live", get(live::stream))
        .route("/api/cases", get(cases::list))
        .route("/api/cases/{feed}/{id}", get(cases::detail))
        .route("/api/cases/{feed}/{id}/actions", post(cases::act))
        .route("/api/cases/{feed}/{id}/photo", get(cases::photo))
        .route("/api/export/cases.csv", get(cases::export))
        .route("/api/warnings/{id}/{op}", post(warnings::step))
        .route("/api/audit", get(access::audit))
        .route("/api/audit.csv", get(access::audit_csv))
        .route("/audit", get(access::audit_page))
        .route("/admin", get(admin::page))
        .route("/admin/accounts", post(admin::create))
        .route("/admin/accounts/{username}", get(admin::account_page).post(admin::edit))
        .route("/admin/accounts/{username}/{op}", post(admin::account_op))
        .route("/admin/devices", post(admin::issue_device))
        .route("/admin/devices/{id}/revoke", post(admin::revoke_device))
        .route("/admin/sessions/{id}/end", post(admin::end_session_form))
        .route("/admin/api-keys", post(admin::issue_api_key))
        .route("/admin/api-keys/{id}/revoke", post(admin::revoke_api_key))
        .route("/admin/settings", get(settings::page))
        .route("/admin/settings/calendar", post(settings::save_calendar))
        .route("/admin/settings/flow", post(settings::save_flow))
        .route("/api/admin/settings", get(settings::json))
        .route("/api/admin/sessions", get(admin::sessions_json))
        .route("/api/admin/sessions/{id}/end", post(admin::end_session_json))
        .route("/api/admin/accounts", get(admin::accounts_json).post(access::create_account))
        .route("/api/admin/accounts/{username}/{op}", post(access::set_account_state))
        .route("/api/admin/devices", get(admin::devices_json).post(access::issue_device))
        .route("/api/admin/devices/{id}/revoke", post(access::revoke_device))
        .route("/api/admin/devices/{id}/playlist", post(access::set_playlist))
        .route("/api/admin/sessions/revoke", post(access::revoke_sessions))
        .route("/api/admin/api-keys", get(access::api_keys).post(access::issue_api_key))
        .route("/api/admin/api-keys/{id}/revoke", post(access::revoke_api_key))
        .route("/open311/v2/{file}", get(open311::index).post(open311::post))
        .route("/open311/v2/services/{file}", get(open311::definition))
        .route("/open311/v2/requests/{file}", get(open311::one))
        .route("/open311/v2/tokens/{file}", get(open311::token))
        .route("/report", get(report::form).post(report::post).layer(axum::extract::DefaultBodyLimit::max(report::BODY_LIMIT)))
        .route("/report/{id}", get(report::progress))
        .route("/report/map/{file}", get(report::map_svg))
        .leptos_routes_with_context(
            &state,
            routes,
            move || {
                provide_context(handle.clone());
                provide_context(names.clone());
            },
            move || app::shell(leptos.clone()),
        )
        .nest("/pkg", assets::files(&site_root, "pkg"))
        .nest("/assets", assets::files(&site_root, "assets"))
        .fallback(leptos_axum::file_and_error_handler_with_context::<AppState, _>(move || provide_context(names_404.clone()), app::shell))
        .layer(axum::middleware::from_fn(server_fns::bad_arguments))
        .layer(axum::middleware::from_fn_with_state(state.clone(), gate::gate))
        .layer(axum::middleware::from_fn(gate::security_headers))
        .layer(axum::middleware::from_fn(gate::log_slow))
        .layer(CompressionLayer::new())
        .with_state(state)
}

//! The gate in front of every route: a request that is not on the public list needs a valid session or
//! device (pages redirect to sign-in, everything else gets 401), and every state-changing request needs
//! the session's CSRF token. Routes not declared anywhere fall under the same rule: new routes are
//! closed until someone declares them public. What a signed-in viewer may see is the policy's call,
//! made where the data is read.
use super::AppState;
use crate::auth::token;
use axum::body::Body;
use axum::extract::State;
use axum::http::{header, Method, Request, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};

/// Exact paths anyone may request.
pub const PUBLIC_PATHS: &[&str] = &[
    "/public",
    "/public/stats.json",
    "/public/stats.csv",
    "/public/stats.geojson",
    "/public/record",
    "/public/record.json",
    "/public/record.csv",
    "/public/record.geojson",
    "/login",
    "/auth/login",
    "/login/code",
    "/auth/code",
    "/auth/oidc/start",
    "/auth/oidc/callback",
    "/device",
    "/device/wait",
    "/healthz",
    "/readyz",
    "/favicon.svg",
    "/api/public",
    "/report",
];
/// Static files of the built site (code, styles, the charting library: no data), and the Open311 reads
/// and the residents' pages (public fields only, `residents::public`).
pub const PUBLIC_PREFIXES: &[&str] = &["/pkg/", "/assets/", "/open311/v2/", "/report/"];
/// State-changing routes that check their CSRF token themselves (from a form field). The
/// administrators' forms under `/admin/` carry it as a field too; the gate reads that one itself.
pub const OWN_CSRF: &[&str] = &["/auth/login", "/auth/code", "/auth/logout", "/password"];

fn own_csrf(path: &str) -> bool {
    OWN_CSRF.contains(&path)
}
/// What a person whose password must be changed (reset, expired) may still do.
pub const WHILE_PASSWORD_DUE: &[&str] = &["/password", "/auth/logout", "/api/me/password", "/api/me"];
/// What a person who must enrol a second factor first may still do.
pub const WHILE_ENROLMENT_DUE: &[&str] = &["/account/second-factor", "/auth/logout", "/api/me", "/password", "/api/me/password"];
/// Plain forms whose CSRF token travels as a form field, read by the gate.
const FORM_PREFIXES: &[&str] = &["/admin/", "/account/"];

/// Whether a request is the person's input (for the idle time-out): a page opened, anything sent. An
/// open page's own reads (`GET /api/…`: lists re-read, live streams) are not; the page reports taps
/// and keys with `POST /api/activity`.
fn is_input(method: &Method, path: &str) -> bool {
    *method != Method::GET || !path.starts_with("/api/")
}

pub fn is_public(path: &str) -> bool {
    PUBLIC_PATHS.contains(&path) || PUBLIC_PREFIXES.iter().any(|p| path.starts_with(p))
}

/// Routes for machines, which present their own credentials instead of a session: a source system's
/// push (the feed's token and HMAC signature), a resident's report through an Open311 app, and a
/// Prometheus scrape (the metrics token, or else an
/// administrator's session). The policy checks those credentials (`Policy::feed_push`, `Policy::metrics`)
/// before the handler does anything else.
pub fn is_machine(method: &Method, path: &str) -> bool {
    let webhook = path.strip_prefix("/feeds/").and_then(|r| r.strip_suffix("/webhook")).is_some_and(|name| !name.is_empty() && !name.contains('/'));
    // A resident's report needs no session: whether it needs an app's key is the city's setting, which
    // `Policy::report_sender` applies; the route is rate-limited per address and per key.
    let report = matches!(path, "/open311/v2/requests.json" | "/open311/v2/requests.xml" | "/report");
    (*method == Method::POST && (webhook || report)) || (*method == Method::GET && path == "/metrics")
}

pub async fn gate(State(state): State<AppState>, req: Request<Body>, next: Next) -> Response {
    let path = req.uri().path().to_string();
    let changes_state = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if (is_public(&path) && (!changes_state || own_csrf(&path))) || is_machine(req.method(), &path) {
        return next.run(req).await;
    }
    let policy = &state.cockpit.policy;
    let cookies = req.headers().get(header::COOKIE).and_then(|v| v.to_str().ok()).map(str::to_string);
    let now = state.cockpit.now();
    let mut known = policy.viewer_of(req.headers()).is_ok();
    if !known && matches!(policy.auth().adopt(cookies.as_deref(), now).await, Ok(true)) {
        known = policy.viewer_of(req.headers()).is_ok();
    }
    if !known {
        let wants_page = req.method() == Method::GET && !path.starts_with("/api/");
        if policy.auth().end_if_idle(cookies.as_deref(), now).await {
            if wants_page {
                let next_url = req.uri().path_and_query().map(|p| p.as_str()).unwrap_or("/");
                return Redirect::to(&format!("/login?error=idle&next={}", encode(next_url))).into_response();
            }
            return (StatusCode::UNAUTHORIZED, "signed out after a time without input: sign in again").into_response();
        }
        if wants_page {
            // A wall whose device was revoked has no keyboard: it shows a new activation code instead.
            let c = cookies.as_deref().unwrap_or("");
            if crate::auth::cookie(c, crate::auth::DEVICE_COOKIE).is_some() && crate::auth::cookie(c, crate::auth::SESSION_COOKIE).is_none() {
                return Redirect::to("/device").into_response();
            }
            let next_url = req.uri().path_and_query().map(|p| p.as_str()).unwrap_or("/");
            return Redirect::to(&format!("/login?next={}", encode(next_url))).into_response();
        }
        return (StatusCode::UNAUTHORIZED, "sign-in required").into_response();
    }
    if !WHILE_PASSWORD_DUE.contains(&path.as_str()) && policy.auth().password_due(cookies.as_deref(), now) {
        if req.method() == Method::GET && !path.starts_with("/api/") {
            return Redirect::to("/password").into_response();
        }
        return (StatusCode::FORBIDDEN, "a new password must be set first (/password)").into_response();
    }
    if !WHILE_ENROLMENT_DUE.contains(&path.as_str()) && policy.auth().enrolment_due(cookies.as_deref(), now) {
        if req.method() == Method::GET && !path.starts_with("/api/") {
            return Redirect::to("/account/second-factor").into_response();
        }
        return (StatusCode::FORBIDDEN, "a second factor must be set up first (/account/second-factor)").into_response();
    }
    let mut req = req;
    if changes_state && FORM_PREFIXES.iter().any(|p| path.starts_with(p)) {
        // The administrators' pages are plain forms: their token travels as a form field, read here
        // so that no handler can forget it.
        let (parts, body) = req.into_parts();
        let Ok(bytes) = axum::body::to_bytes(body, ADMIN_FORM_LIMIT).await else {
            return (StatusCode::PAYLOAD_TOO_LARGE, "form too large").into_response();
        };
        let sent = form_urlencoded::parse(&bytes).find(|(k, _)| k == "csrf").map(|(_, v)| v.into_owned()).unwrap_or_default();
        let expected = policy.auth().csrf_of(cookies.as_deref(), now);
        if !expected.is_some_and(|e| token::matches(&e, &sent)) {
            return (StatusCode::FORBIDDEN, "missing or wrong CSRF token").into_response();
        }
        req = Request::from_parts(parts, Body::from(bytes));
    } else if changes_state && !own_csrf(&path) {
        let sent = req.headers().get("x-csrf-token").and_then(|v| v.to_str().ok()).unwrap_or("");
        let expected = policy.auth().csrf_of(cookies.as_deref(), now);
        if !expected.is_some_and(|e| token::matches(&e, sent)) {
            return (StatusCode::FORBIDDEN, "missing or wrong CSRF token").into_response();
        }
    }
    if is_input(req.method(), &path) {
        policy.auth().touch(cookies.as_deref(), now).await;
    }
    next.run(req).await
}

/// The largest administrators' form read: a handful of short fields.
const ADMIN_FORM_LIMIT: usize = 64 * 1024;

/// Percent-encodes a local path for a query parameter.
pub fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// What every answer may do in a browser: only this site's scripts, styles, images and connections (the
/// product runs offline: nothing is ever loaded from elsewhere), wasm allowed, no framing (clickjacking),
/// forms only to this site. Inline scripts stay allowed: the hydration data and the pairing page use
/// them (a nonce per response would remove that; not yet).
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self' 'unsafe-inline' 'wasm-unsafe-eval'; style-src 'self' 'unsafe-inline'; \
img-src 'self' data: blob:; font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; frame-ancestors 'none'; form-action 'self'";

/// Answers slower than this are logged (method, path and status only: a query string may carry a
/// person's search), so a screen that waited is explained by the server's log.
const SLOW: std::time::Duration = std::time::Duration::from_secs(5);

/// Logs every answer slower than `SLOW`.
pub async fn log_slow(req: Request<Body>, next: Next) -> Response {
    let (method, path) = (req.method().clone(), req.uri().path().to_string());
    let started = std::time::Instant::now();
    let r = next.run(req).await;
    let took = started.elapsed();
    if took > SLOW {
        tracing::warn!(%method, %path, status = r.status().as_u16(), ms = took.as_millis() as u64, "slow answer");
    }
    r
}

/// Adds the security headers to every answer that does not set its own.
pub async fn security_headers(req: Request<Body>, next: Next) -> Response {
    let mut r = next.run(req).await;
    let h = r.headers_mut();
    for (name, value) in [
        ("content-security-policy", CONTENT_SECURITY_POLICY),
        ("x-content-type-options", "nosniff"),
        ("x-frame-options", "DENY"),
        ("referrer-policy", "same-origin"),
    ] {
        if !h.contains_key(name) {
            h.insert(name, axum::http::HeaderValue::from_static(value));
        }
    }
    r
}

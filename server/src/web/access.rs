//! Routes of the access layer: the sign-in page and form, sign-out, wall-display activation, and the
//! administrators' and auditors' JSON APIs. Each asks the policy; none trusts what the client says it is.
use super::{refusal, signed_in, AppState};
use crate::auth::{self, token, AuthError, LOGIN_CSRF_COOKIE};
use crate::policy::Action;
use crate::store::access::{Account, AuditFilter};
use app::backend::Viewer;
use app::i18n::{t, Lang, Msg};
use app::model::{Clearance, Role};
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::{Form, Json};
use serde::Deserialize;
use std::net::SocketAddr;

fn cookies(h: &HeaderMap) -> Option<&str> {
    h.get(header::COOKIE).and_then(|v| v.to_str().ok())
}

/// The signed-in viewer, if the policy lets their role do `action`.
pub(crate) fn permitted(state: &AppState, h: &HeaderMap, action: Action) -> Result<Viewer, Response> {
    let v = signed_in(state, h)?;
    state.cockpit.policy.allow(&v, action).map_err(refusal)?;
    Ok(v)
}

pub(crate) fn auth_error(e: AuthError) -> Response {
    match e {
        AuthError::Forbidden(m) => (StatusCode::FORBIDDEN, m).into_response(),
        AuthError::Invalid(m) => (StatusCode::BAD_REQUEST, m).into_response(),
        AuthError::BadCredentials => (StatusCode::UNAUTHORIZED, "wrong user name or password").into_response(),
        AuthError::Throttled { retry_after_s } => {
            (StatusCode::TOO_MANY_REQUESTS, [(header::RETRY_AFTER, retry_after_s.to_string())], "too many attempts").into_response()
        }
        AuthError::NoPendingSignIn => (StatusCode::UNAUTHORIZED, "sign in again: the code step timed out").into_response(),
        AuthError::WrongCode => (StatusCode::UNAUTHORIZED, "wrong code").into_response(),
        AuthError::CodeReused => (StatusCode::UNAUTHORIZED, "that code was already used").into_response(),
        AuthError::Store(m) => {
            tracing::error!("access store: {m}");
            (StatusCode::SERVICE_UNAVAILABLE, "service unavailable").into_response()
        }
    }
}

#[derive(Deserialize)]
pub struct LoginPageQuery {
    next: Option<String>,
    error: Option<String>,
    lang: Option<String>,
}

/// Where to go after sign-in: only a path on this site. Anything else falls back to the wall: another
/// site, a scheme-relative `//host`, a backslash (browsers read it as a slash), and control characters
/// and spaces (browsers drop tabs and newlines, so `/\t/evil.example` would become `//evil.example`, and a
/// newline cannot go into a header at all).
pub(crate) fn local(next: Option<&str>) -> String {
    let safe = |n: &str| {
        n.len() <= 2048 && n.starts_with('/') && !n.starts_with("//") && n.chars().all(|c| !c.is_control() && !c.is_whitespace() && c != '\\')
    };
    match next {
        Some(n) if safe(n) => n.to_string(),
        _ => "/wall".to_string(),
    }
}

pub(crate) fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

pub async fn login_page(State(state): State<AppState>, Query(q): Query<LoginPageQuery>) -> Response {
    let lang = Lang::from_query(q.lang.as_deref());
    let message = match q.error.as_deref() {
        Some("bad") => t(lang, Msg::LoginBad),
        Some("throttled") => t(lang, Msg::LoginThrottled),
        Some("expired") => t(lang, Msg::LoginExpired),
        Some("device") => t(lang, Msg::DeviceBad),
        Some("idle") => t(lang, Msg::LoginIdle),
        Some("code_expired") => t(lang, Msg::CodeExpired),
        Some("oidc_unavailable") => t(lang, Msg::OidcUnavailable),
        Some("oidc_denied") => t(lang, Msg::OidcDenied),
        Some("oidc_account") => t(lang, Msg::OidcAccount),
        Some("oidc_expired") => t(lang, Msg::OidcExpired),
        Some("oidc_audience") => t(lang, Msg::OidcAudience),
        Some("oidc_signature") => t(lang, Msg::OidcSignature),
        Some("oidc_nonce") => t(lang, Msg::OidcNonce),
        Some(e) if e.starts_with("oidc_") => t(lang, Msg::OidcRefused),
        _ => "",
    };
    login_form(&state, lang, message, q.next.as_deref())
}

/// The sign-in page with a fresh CSRF pair (cookie and hidden field) and `message`, if any.
fn login_form(state: &AppState, lang: Lang, message: &str, next: Option<&str>) -> Response {
    let csrf = token::new_token();
    let body = format!(
        r#"<h1>{product}</h1><h2>{title}</h2>{msg}
<form method="post" action="/auth/login" class="login-form">
<input type="hidden" name="csrf" value="{csrf}"><input type="hidden" name="next" value="{next}"><input type="hidden" name="lang" value="{lang_code}">
<label>{user}<input name="username" autocomplete="username" required></label>
<label>{pass}<input name="password" type="password" autocomplete="current-password" required></label>
<button type="submit">{submit}</button></form>{platform}"#,
        platform = match state.cockpit.policy.auth().oidc() {
            Some(o) => format!(
                r#"<p class="login-platform"><a class="button" id="oidc-sign-in" href="/auth/oidc/start?next={}">{}</a></p>"#,
                esc(&super::gate::encode(&local(next))),
                esc(&o.config().label)
            ),
            None => String::new(),
        },
        title = t(lang, Msg::LoginTitle),
        product = t(lang, Msg::Product),
        msg = if message.is_empty() { String::new() } else { format!(r#"<p class="login-error" role="alert">{}</p>"#, esc(message)) },
        next = esc(&local(next)),
        lang_code = super::page::lang_code(lang),
        user = t(lang, Msg::LoginUser),
        pass = t(lang, Msg::LoginPassword),
        submit = t(lang, Msg::LoginSubmit),
    );
    let html = super::page::shell(state, lang, t(lang, Msg::LoginTitle), "login", &body);
    let cookie = auth::set_cookie(LOGIN_CSRF_COOKIE, &csrf, 3600, state.cockpit.policy.auth().config.secure_cookies);
    ([(header::SET_COOKIE, cookie)], Html(html)).into_response()
}

#[derive(Deserialize)]
pub struct LoginForm {
    username: String,
    password: String,
    csrf: String,
    next: Option<String>,
    lang: Option<String>,
}

pub async fn login(State(state): State<AppState>, ConnectInfo(addr): ConnectInfo<SocketAddr>, headers: HeaderMap, Form(f): Form<LoginForm>) -> Response {
    let auth = state.cockpit.policy.auth();
    let next = local(f.next.as_deref());
    let back = |e: &str| Redirect::to(&format!("/login?error={e}&next={}", super::gate::encode(&next))).into_response();
    // Double-submit: the form's token must equal the cookie set with the form, which another site cannot read.
    let cookie = cookies(&headers).and_then(|c| auth::cookie(c, LOGIN_CSRF_COOKIE));
    if !cookie.is_some_and(|c| token::matches(c, &f.csrf)) {
        return (StatusCode::FORBIDDEN, "missing or wrong CSRF token").into_response();
    }
    match auth.login(f.username.trim(), &f.password, &addr.ip().to_string(), state.cockpit.now()).await {
        Ok(s) => {
            let secure = auth.config.secure_cookies;
            let to = if s.second_factor_due {
                let lang = if f.lang.as_deref() == Some("en") { "lang=en&" } else { "" };
                format!("/login/code?{lang}next={}", super::gate::encode(&next))
            } else {
                next.clone()
            };
            let mut r = Redirect::to(&to).into_response();
            let h = r.headers_mut();
            h.append(header::SET_COOKIE, auth::set_cookie(auth::SESSION_COOKIE, &s.token, s.max_age_s, secure).parse().expect("cookie header"));
            h.append(header::SET_COOKIE, auth::set_cookie(LOGIN_CSRF_COOKIE, "", 0, secure).parse().expect("cookie header"));
            r
        }
        // Said on the form itself, with the wait, and as 429 + Retry-After for any client that reads headers.
        Err(AuthError::Throttled { retry_after_s }) => {
            let lang = Lang::from_query(f.lang.as_deref());
            let mut r = login_form(&state, lang, &app::i18n::login_wait(lang, retry_after_s), Some(&next));
            *r.status_mut() = StatusCode::TOO_MANY_REQUESTS;
            r.headers_mut().insert(header::RETRY_AFTER, retry_after_s.into());
            r
        }
        Err(AuthError::BadCredentials) => back("bad"),
        Err(e) => auth_error(e),
    }
}

#[derive(Deserialize)]
pub struct LogoutForm {
    csrf: String,
}

pub async fn logout(State(state): State<AppState>, headers: HeaderMap, Form(f): Form<LogoutForm>) -> Response {
    let auth = state.cockpit.policy.auth();
    let now = state.cockpit.now();
    if !auth.csrf_of(cookies(&headers), now).is_some_and(|e| token::matches(&e, &f.csrf)) {
        return (StatusCode::FORBIDDEN, "missing or wrong CSRF token").into_response();
    }
    if let Err(e) = auth.logout(cookies(&headers), now).await {
        return auth_error(e);
    }
    let clear = auth::set_cookie(auth::SESSION_COOKIE, "", 0, auth.config.secure_cookies);
    ([(header::SET_COOKIE, clear)], Redirect::to("/login")).into_response()
}

#[derive(Deserialize)]
pub struct DeviceQuery {
    token: Option<String>,
    lang: Option<String>,
}

/// The cookie of a screen waiting to be paired by a code (`auth::pairing`).
const PAIRING_COOKIE: &str = "cockpit_pairing";

/// A wall display opens `/device?token=…` once (the link an administrator was given), or `/device`
/// alone to show an activation code an administrator enters on /admin; either way the device's token
/// ends up in a long-lived HttpOnly cookie and the screen goes to the wall.
pub async fn activate_device(State(state): State<AppState>, headers: HeaderMap, Query(q): Query<DeviceQuery>) -> Response {
    let auth = state.cockpit.policy.auth();
    let Some(tok) = q.token else { return pairing_page(&state, &headers, Lang::from_query(q.lang.as_deref())).await };
    let probe = format!("{}={}", auth::DEVICE_COOKIE, tok);
    if auth.viewer(Some(&probe), state.cockpit.now()).is_none() {
        return Redirect::to("/login?error=device").into_response();
    }
    device_cookie(&state, &tok, Redirect::to("/wall").into_response())
}

/// Sets the device cookie on `r`. Ten years: the wall must survive restarts of the screen and the
/// server; revocation ends it.
fn device_cookie(state: &AppState, tok: &str, mut r: Response) -> Response {
    let c = auth::set_cookie(auth::DEVICE_COOKIE, tok, 10 * 365 * 86_400, state.cockpit.policy.auth().config.secure_cookies);
    r.headers_mut().append(header::SET_COOKIE, c.parse().expect("cookie header"));
    r
}

/// The screen's activation code, large enough to read across a room, and a script that asks every
/// three seconds whether an administrator has entered it.
async fn pairing_page(state: &AppState, headers: &HeaderMap, lang: Lang) -> Response {
    let auth = state.cockpit.policy.auth();
    let now = state.cockpit.now();
    let held = cookies(headers).and_then(|c| auth::cookie(c, PAIRING_COOKIE));
    let (secret, code) = match auth.pairing_begin(held, now).await {
        Ok(x) => x,
        Err(e) => return auth_error(e),
    };
    let body = format!(
        r#"<h1>{product}</h1><h2>{title}</h2><p>{intro}</p>
<p class="device-code" id="device-code">{code}</p><p id="device-state" role="status">{waiting}</p>
<script>
setInterval(async () => {{
  try {{
    const r = await fetch('/device/wait', {{ cache: 'no-store' }});
    const s = (await r.json()).state;
    if (s === 'ready') location.href = '/wall';
    else if (s === 'unknown') {{ document.getElementById('device-state').textContent = {expired:?}; location.reload(); }}
  }} catch (e) {{}}
}}, 3000);
</script>"#,
        product = t(lang, Msg::Product),
        title = t(lang, Msg::DeviceTitle),
        intro = t(lang, Msg::DeviceCodeIntro),
        code = auth::pairing::display(&code),
        waiting = t(lang, Msg::DeviceCodeWaiting),
        expired = t(lang, Msg::DeviceCodeExpired),
    );
    let html = super::page::shell(state, lang, t(lang, Msg::DeviceTitle), "device", &body);
    let max_age = auth::pairing::TTL_MS / 1000;
    let c = auth::set_cookie(PAIRING_COOKIE, &secret, max_age, auth.config.secure_cookies);
    ([(header::SET_COOKIE, c), (header::CACHE_CONTROL, "no-store".to_string())], Html(html)).into_response()
}

/// `GET /device/wait`: the waiting screen asks whether its code was entered. When it was, the answer
/// carries the device cookie (once) and the pairing cookie is cleared.
pub async fn device_wait(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let auth = state.cockpit.policy.auth();
    let secret = cookies(&headers).and_then(|c| auth::cookie(c, PAIRING_COOKIE)).unwrap_or("");
    let answer = |s: &str| ([(header::CACHE_CONTROL, "no-store")], Json(serde_json::json!({ "state": s }))).into_response();
    match auth.pairing_poll(secret, state.cockpit.now()).await {
        Err(e) => auth_error(e),
        Ok(auth::pairing::Poll::Waiting) => answer("waiting"),
        Ok(auth::pairing::Poll::Unknown) => answer("unknown"),
        Ok(auth::pairing::Poll::Ready(tok)) => {
            let mut r = device_cookie(&state, &tok, answer("ready"));
            let clear = auth::set_cookie(PAIRING_COOKIE, "", 0, auth.config.secure_cookies);
            r.headers_mut().append(header::SET_COOKIE, clear.parse().expect("cookie header"));
            r
        }
    }
}

#[derive(serde::Serialize)]
pub struct Me {
    principal: String,
    role: Role,
    scope: String,
    clearance: Clearance,
    csrf: Option<String>,
    /// For a person's session (not a wall device): the sign-in before this one.
    #[serde(skip_serializing_if = "Option::is_none")]
    last_sign_in: Option<app::model::LastSignIn>,
}

/// Who the caller is, and the CSRF token their scripts send back.
pub async fn me(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let v = match signed_in(&state, &headers) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let now = state.cockpit.now();
    let auth = state.cockpit.policy.auth();
    let csrf = auth.csrf_of(cookies(&headers), now);
    let last_sign_in = auth.last_sign_in(cookies(&headers), now).await;
    Json(Me { principal: v.principal, role: v.role, scope: v.scope.root, clearance: v.clearance, csrf, last_sign_in }).into_response()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewAccount {
    username: String,
    display_name: String,
    role: Role,
    scope: String,
    department: Option<String>,
    clearance: Clearance,
    password: String,
}

pub async fn create_account(State(state): State<AppState>, headers: HeaderMap, Json(n): Json<NewAccount>) -> Response {
    let v = match permitted(&state, &headers, Action::Grant) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let a = Account {
        username: n.username.trim().to_string(),
        display_name: n.display_name,
        role: n.role,
        scope: n.scope,
        department: n.department,
        clearance: n.clearance,
        password_hash: String::new(),
        created_at: 0,
        created_by: String::new(),
        disabled: false,
        must_change: false,
        password_set_at: 0,
        last_sign_in_at: None,
        last_sign_in_from: None,
    };
    if a.username.is_empty() {
        return (StatusCode::BAD_REQUEST, "a user name is required").into_response();
    }
    match state.cockpit.policy.auth().create_account(&v, a, &n.password, state.cockpit.now()).await {
        Ok(()) => StatusCode::CREATED.into_response(),
        Err(e) => auth_error(e),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewDevice {
    name: String,
    scope: String,
    /// Where it hangs.
    place: Option<String>,
}

pub async fn issue_device(State(state): State<AppState>, headers: HeaderMap, Json(n): Json<NewDevice>) -> Response {
    let v = match permitted(&state, &headers, Action::Grant) {
        Ok(v) => v,
        Err(r) => return r,
    };
    match state.cockpit.policy.auth().issue_device(&v, &n.name, n.place.as_deref().unwrap_or(""), &n.scope, state.cockpit.now()).await {
        Ok((id, tok)) => {
            (StatusCode::CREATED, Json(serde_json::json!({ "id": id, "activate": format!("/device?token={tok}") }))).into_response()
        }
        Err(e) => auth_error(e),
    }
}

pub async fn revoke_device(State(state): State<AppState>, headers: HeaderMap, Path(id): Path<i64>) -> Response {
    let v = match permitted(&state, &headers, Action::Grant) {
        Ok(v) => v,
        Err(r) => return r,
    };
    match state.cockpit.policy.auth().revoke_device(&v, id, state.cockpit.now()).await {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => auth_error(e),
    }
}

/// Sets what a wall device shows in turn. Every item's region must lie in the device's scope (the policy
/// decides, as for the device's own requests); the administrator must reach the device's scope.
pub async fn set_playlist(State(state): State<AppState>, headers: HeaderMap, Path(id): Path<i64>, body: Result<Json<app::model::Playlist>, axum::extract::rejection::JsonRejection>) -> Response {
    let v = match permitted(&state, &headers, Action::Grant) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let p = match body {
        Ok(Json(p)) => p,
        Err(e) => {
            let shape = r#"a playlist is {"items": [{"scene": "overview" | "flow" | "safety", "region": "CODE" (optional), "dwell_secs": 10..3600}]}"#;
            return (StatusCode::BAD_REQUEST, format!("{shape}: {}", e.body_text())).into_response();
        }
    };
    if let Err(why) = p.check() {
        return (StatusCode::BAD_REQUEST, why).into_response();
    }
    let auth = state.cockpit.policy.auth();
    let Some(device) = auth.device_viewer(id) else {
        return (StatusCode::NOT_FOUND, format!("no live device {id}")).into_response();
    };
    for (i, item) in p.items.iter().enumerate() {
        if state.cockpit.policy.dashboard_region(&device, item.region.as_deref()).is_err() {
            let code = item.region.as_deref().unwrap_or("");
            return (StatusCode::BAD_REQUEST, format!("item {}: region {code:?} is not a region within the device's scope", i + 1)).into_response();
        }
    }
    let json = serde_json::to_string(&p).expect("a playlist serialises");
    match auth.set_playlist(&v, id, &json, state.cockpit.now()).await {
        Ok(()) => Json(p).into_response(),
        Err(e) => auth_error(e),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    actor: Option<String>,
    region: Option<String>,
    from: Option<i64>,
    to: Option<i64>,
}

/// The entries an auditor may read: always inside their own scope (the policy resolves the region),
/// whatever person, region or time they filter by.
fn audit_filter(state: &AppState, v: &Viewer, actor: Option<String>, region: Option<&str>, from: Option<i64>, to: Option<i64>) -> Result<AuditFilter, Response> {
    let region = state.cockpit.policy.audit_scope(v, region).map_err(refusal)?;
    Ok(AuditFilter { actor, region, from, to })
}

type AuditParams = Result<Query<AuditQuery>, axum::extract::rejection::QueryRejection>;

/// An auditor's read of the log: who asks (the policy's `ViewAudit`) and the filter within their scope.
fn audit_request(state: &AppState, headers: &HeaderMap, q: AuditParams) -> Result<(Viewer, AuditFilter), Response> {
    let v = permitted(state, headers, Action::ViewAudit)?;
    let Ok(Query(q)) = q else {
        return Err((StatusCode::BAD_REQUEST, "filters: actor, region, from, to (Unix ms)").into_response());
    };
    let f = audit_filter(state, &v, q.actor, q.region.as_deref(), q.from, q.to)?;
    Ok((v, f))
}

/// The audit log for auditors, filtered by person, region (its subtree) and time.
pub async fn audit(State(state): State<AppState>, headers: HeaderMap, q: AuditParams) -> Response {
    let (_, f) = match audit_request(&state, &headers, q) {
        Ok(x) => x,
        Err(r) => return r,
    };
    match state.cockpit.policy.auth().store().audit(&f, 1000).await {
        Ok(rows) => Json(rows).into_response(),
        Err(e) => auth_error(e.into()),
    }
}

/// Most rows one export carries; a larger period is exported in parts (the file says when it was cut).
const AUDIT_EXPORT_MAX: u32 = 200_000;

/// `GET /api/audit.csv`: the audit log as CSV for auditors (等保 2.0: audit records kept and exportable),
/// the same filters and scope as `/api/audit`, newest first. The export is itself audited.
pub async fn audit_csv(State(state): State<AppState>, headers: HeaderMap, q: AuditParams) -> Response {
    let (v, f) = match audit_request(&state, &headers, q) {
        Ok(x) => x,
        Err(r) => return r,
    };
    let rows = match state.cockpit.policy.auth().store().audit(&f, AUDIT_EXPORT_MAX + 1).await {
        Ok(rows) => rows,
        Err(e) => return auth_error(e.into()),
    };
    let cut = rows.len() > AUDIT_EXPORT_MAX as usize;
    let mut w = csv::Writer::from_writer(Vec::new());
    let written = (|| -> Result<(), csv::Error> {
        w.write_record(["at", "at_local", "actor", "action", "region", "detail"])?;
        for e in rows.iter().take(AUDIT_EXPORT_MAX as usize) {
            w.write_record([e.at.to_string(), app::model::date_time(e.at), e.actor.clone(), e.action.clone(), e.region.clone().unwrap_or_default(), e.detail.clone()])?;
        }
        w.flush()?;
        Ok(())
    })();
    let body = match (written, w.into_inner()) {
        (Ok(()), Ok(b)) => b,
        _ => return (StatusCode::INTERNAL_SERVER_ERROR, "the export could not be written").into_response(),
    };
    let n = rows.len().min(AUDIT_EXPORT_MAX as usize);
    let region = f.region.clone().unwrap_or_else(|| v.scope.root.clone());
    let detail = format!("{n} entries{}", if cut { ", cut at the limit" } else { "" });
    state.cockpit.policy.auth().audit(&v.principal, "audit_export", Some(&region), &detail, state.cockpit.now()).await;
    let headers = [
        (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
        (header::CONTENT_DISPOSITION, "attachment; filename=\"audit.csv\""),
        (header::CACHE_CONTROL, "no-store"),
        (header::HeaderName::from_static("x-audit-truncated"), if cut { "true" } else { "false" }),
    ];
    (headers, body).into_response()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditPageQuery {
    actor: Option<String>,
    region: Option<String>,
    from: Option<String>,
    to: Option<String>,
    lang: Option<String>,
}

/// The audit log as a page for auditors: a filter form (person, region, dates) and the newest entries.
pub async fn audit_page(State(state): State<AppState>, headers: HeaderMap, q: Result<Query<AuditPageQuery>, axum::extract::rejection::QueryRejection>) -> Response {
    let v = match permitted(&state, &headers, Action::ViewAudit) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let Ok(Query(q)) = q else { return (StatusCode::BAD_REQUEST, "filters: actor, region, from, to").into_response() };
    let lang = Lang::from_query(q.lang.as_deref());
    let nonempty = |s: &Option<String>| s.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string);
    let day = |s: &Option<String>| nonempty(s).map(|d| app::model::parse_day(&d).ok_or(()));
    let (from, to) = match (day(&q.from).transpose(), day(&q.to).transpose()) {
        (Ok(f), Ok(t)) => (f, t.map(|t| t + app::model::DAY_MS)),
        _ => return (StatusCode::BAD_REQUEST, t(lang, Msg::AuditBadDate)).into_response(),
    };
    let filter = match audit_filter(&state, &v, nonempty(&q.actor), nonempty(&q.region).as_deref(), from, to) {
        Ok(f) => f,
        Err(r) => return r,
    };
    let rows = match state.cockpit.policy.auth().store().audit(&filter, 500).await {
        Ok(r) => r,
        Err(e) => return auth_error(e.into()),
    };
    // The same filter as a CSV download (times as the API takes them).
    let mut export_href = String::from("/api/audit.csv?");
    let params = [("actor", filter.actor.clone()), ("region", filter.region.clone()), ("from", filter.from.map(|t| t.to_string())), ("to", filter.to.map(|t| t.to_string()))];
    for (k, val) in params.iter().filter_map(|(k, v)| v.as_ref().map(|v| (k, v))) {
        export_href.push_str(&format!("{k}={}&", crate::web::gate::encode(val)));
    }
    let export_href = export_href.trim_end_matches(['&', '?']).to_string();
    let field = |name: &str, label: Msg, value: &Option<String>, kind: &str| {
        format!(r#"<label>{}<input name="{name}" type="{kind}" value="{}"></label>"#, t(lang, label), esc(value.as_deref().unwrap_or("")))
    };
    let body: String = rows
        .iter()
        .map(|e| {
            format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                app::model::date_time(e.at),
                esc(&e.actor),
                esc(&e.action),
                esc(e.region.as_deref().unwrap_or("")),
                esc(&e.detail)
            )
        })
        .collect();
    let html = format!(
        r#"<!DOCTYPE html><html lang="{tag}" class="page-html"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title><link rel="stylesheet" href="{css}"></head><body><main class="page audit"><h1>{title}</h1>
<form method="get" class="audit-filter">{a}{r}{f}{to}<button type="submit">{filter}</button> <a id="audit-csv" href="{csv}">{export}</a></form>
<table id="audit" class="table"><thead><tr><th>{at}</th><th>{actor}</th><th>{action}</th><th>{region}</th><th>{detail}</th></tr></thead>
<tbody>{body}</tbody></table></main></body></html>"#,
        tag = lang.html_tag(),
        css = state.assets.css,
        title = t(lang, Msg::AuditTitle),
        a = field("actor", Msg::AuditActor, &q.actor, "text"),
        r = field("region", Msg::AuditRegion, &q.region, "text"),
        f = field("from", Msg::AuditFrom, &q.from, "date"),
        to = field("to", Msg::AuditTo, &q.to, "date"),
        filter = t(lang, Msg::AuditFilter),
        export = t(lang, Msg::AuditExport),
        csv = esc(&export_href),
        at = t(lang, Msg::AuditAt),
        actor = t(lang, Msg::AuditActor),
        action = t(lang, Msg::AuditAction),
        region = t(lang, Msg::AuditRegion),
        detail = t(lang, Msg::AuditDetail),
    );
    Html(html).into_response()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RevokeSessions {
    username: String,
}

/// Signs a person out everywhere, e.g. when a device is lost or a post changes hands.
pub async fn revoke_sessions(State(state): State<AppState>, headers: HeaderMap, Json(r): Json<RevokeSessions>) -> Response {
    let v = match permitted(&state, &headers, Action::Grant) {
        Ok(v) => v,
        Err(r) => return r,
    };
    match state.cockpit.policy.auth().revoke_sessions(&v, &r.username, state.cockpit.now()).await {
        Ok(n) => Json(serde_json::json!({ "revoked": n })).into_response(),
        Err(e) => auth_error(e),
    }
}

/// `POST /api/admin/accounts/{username}/disable|enable|reset`: a person leaves or comes back (disabling
/// ends their sessions at once), or gets a temporary password to change at the next sign-in (answered
/// once, to this administrator: `{"temporary_password": …}`, never logged).
pub async fn set_account_state(State(state): State<AppState>, headers: HeaderMap, Path((username, op)): Path<(String, String)>) -> Response {
    let v = match permitted(&state, &headers, Action::Grant) {
        Ok(v) => v,
        Err(r) => return r,
    };
    if op == "reset" {
        return match state.cockpit.policy.auth().reset_password(&v, &username, state.cockpit.now()).await {
            Ok(p) => ([(header::CACHE_CONTROL, "no-store")], Json(serde_json::json!({ "username": username, "temporary_password": p }))).into_response(),
            Err(e) => auth_error(e),
        };
    }
    let disabled = match op.as_str() {
        "disable" => true,
        "enable" => false,
        _ => return (StatusCode::NOT_FOUND, "not found").into_response(),
    };
    match state.cockpit.policy.auth().set_disabled(&v, &username, disabled, state.cockpit.now()).await {
        Ok(n) => Json(serde_json::json!({ "username": username, "disabled": disabled, "sessions_ended": n })).into_response(),
        Err(e) => auth_error(e),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    current: String,
    new: String,
}

/// `POST /api/me/password {"current", "new"}`: a person changes their own password.
pub async fn change_password(State(state): State<AppState>, headers: HeaderMap, body: Result<Json<PasswordChange>, axum::extract::rejection::JsonRejection>) -> Response {
    if let Err(r) = signed_in(&state, &headers) {
        return r;
    }
    let Ok(Json(p)) = body else { return (StatusCode::BAD_REQUEST, "body: {\"current\": ..., \"new\": ...}").into_response() };
    match state.cockpit.policy.auth().change_password(cookies(&headers), &p.current, &p.new, state.cockpit.now()).await {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => auth_error(e),
    }
}

#[derive(Deserialize)]
pub struct PasswordPageQuery {
    lang: Option<String>,
    error: Option<String>,
}

/// `GET /password`: the form to set a new password (required after a reset or when it expired; any
/// signed-in person may use it).
pub async fn password_page(State(state): State<AppState>, headers: HeaderMap, Query(q): Query<PasswordPageQuery>) -> Response {
    let lang = Lang::from_query(q.lang.as_deref());
    let auth = state.cockpit.policy.auth();
    let now = state.cockpit.now();
    let Some(csrf) = auth.csrf_of(cookies(&headers), now) else { return Redirect::to("/login?next=/password").into_response() };
    let due = auth.password_due(cookies(&headers), now);
    password_form(&state, lang, &csrf, due, q.error.as_deref().unwrap_or(""))
}

fn password_form(state: &AppState, lang: Lang, csrf: &str, due: bool, error: &str) -> Response {
    let field_error = |field: &str| {
        let message = match (field, error) {
            ("current", "current") => t(lang, Msg::PasswordWrongCurrent),
            ("new", "weak") => t(lang, Msg::PasswordWeak),
            ("new", "reused") => t(lang, Msg::PasswordReused),
            ("repeat", "mismatch") => t(lang, Msg::PasswordMismatch),
            _ => return String::new(),
        };
        format!(r#"<span class="field-error" id="{field}-error" role="alert">{}</span>"#, esc(message))
    };
    let body = format!(
        r#"<h1>{product}</h1><h2>{title}</h2>{notice}
<form method="post" action="/password" class="login-form" id="password-form">
<input type="hidden" name="csrf" value="{csrf}"><input type="hidden" name="lang" value="{lang_code}">
<label>{current}<input name="current" type="password" autocomplete="current-password" required></label>{e_current}
<label>{new}<input name="new" type="password" autocomplete="new-password" required></label>{e_new}
<p class="hint">{rule}</p>
<label>{repeat}<input name="repeat" type="password" autocomplete="new-password" required></label>{e_repeat}
<button type="submit">{submit}</button></form>"#,
        title = t(lang, Msg::PasswordTitle),
        product = t(lang, Msg::Product),
        notice = if due { format!(r#"<p class="login-error" id="password-due" role="alert">{}</p>"#, esc(t(lang, Msg::PasswordDue))) } else { String::new() },
        csrf = esc(csrf),
        lang_code = super::page::lang_code(lang),
        current = t(lang, Msg::PasswordCurrent),
        new = t(lang, Msg::PasswordNew),
        repeat = t(lang, Msg::PasswordRepeat),
        rule = t(lang, Msg::PasswordRule),
        submit = t(lang, Msg::PasswordSubmit),
        e_current = field_error("current"),
        e_new = field_error("new"),
        e_repeat = field_error("repeat"),
    );
    let html = super::page::shell(state, lang, t(lang, Msg::PasswordTitle), "login", &body);
    ([(header::CACHE_CONTROL, "no-store")], Html(html)).into_response()
}

#[derive(Deserialize)]
pub struct PasswordForm {
    csrf: String,
    current: String,
    new: String,
    repeat: String,
    lang: Option<String>,
}

/// `POST /password` (the form): a clear error beside the field that is wrong; on success, on to the
/// person's start page.
pub async fn password_submit(State(state): State<AppState>, headers: HeaderMap, Form(f): Form<PasswordForm>) -> Response {
    let auth = state.cockpit.policy.auth();
    let now = state.cockpit.now();
    if !auth.csrf_of(cookies(&headers), now).is_some_and(|e| token::matches(&e, &f.csrf)) {
        return (StatusCode::FORBIDDEN, "missing or wrong CSRF token").into_response();
    }
    let lang = if f.lang.as_deref() == Some("en") { "en" } else { "zh" };
    let back = |e: &str| Redirect::to(&format!("/password?lang={lang}&error={e}")).into_response();
    if f.new != f.repeat {
        return back("mismatch");
    }
    match auth.change_password(cookies(&headers), &f.current, &f.new, now).await {
        Ok(()) => Redirect::to("/").into_response(),
        Err(AuthError::Invalid(why)) if why.contains("current") => back("current"),
        Err(AuthError::Invalid(why)) if why.contains("differ") => back("reused"),
        Err(AuthError::Invalid(_)) => back("weak"),
        Err(AuthError::BadCredentials) => Redirect::to("/login?next=/password").into_response(),
        Err(e) => auth_error(e),
    }
}

#[cfg(test)]
mod tests {
    use super::local;

    #[test]
    fn after_sign_in_only_paths_of_this_site() {
        for ok in ["/wall", "/desk?region=330602001", "/wall?scene=flow&region=330681", "/%2F%2Fevil.example"] {
            assert_eq!(local(Some(ok)), ok);
        }
        for bad in [
            "//evil.example/x",
            "/\t/evil.example/x",
            "/\n/evil.example",
            "/\r\nSet-Cookie: x=1",
            "/\\evil.example",
            "\\\\evil.example",
            "https://evil.example",
            "evil.example",
            "/ /evil.example",
            "/\u{7f}/evil.example",
            "/\u{85}/evil.example",
            "",
        ] {
            assert_eq!(local(Some(bad)), "/wall", "{bad:?}");
        }
        assert_eq!(local(None), "/wall");
        assert_eq!(local(Some(&format!("/{}", "a".repeat(3000)))), "/wall", "absurdly long");
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewApiKey {
    /// The app the key is for.
    name: String,
}

/// Issues a key for an Open311 app; the key is in this answer only (the store keeps its hash).
pub async fn issue_api_key(State(state): State<AppState>, headers: HeaderMap, body: Result<Json<NewApiKey>, axum::extract::rejection::JsonRejection>) -> Response {
    let v = match permitted(&state, &headers, Action::IssueApiKeys) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let Ok(Json(n)) = body else {
        return (StatusCode::BAD_REQUEST, r#"an api key is asked for with {"name": "the app it is for"}"#).into_response();
    };
    match state.cockpit.policy.auth().issue_api_key(&v, &n.name, state.cockpit.now()).await {
        Ok((id, key)) => (StatusCode::CREATED, Json(serde_json::json!({ "id": id, "api_key": key }))).into_response(),
        Err(e) => auth_error(e),
    }
}

/// Every key issued, revoked ones too: id, name, who issued it and when, when it was revoked.
pub async fn api_keys(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Err(r) = permitted(&state, &headers, Action::IssueApiKeys) {
        return r;
    }
    match state.cockpit.policy.auth().api_keys().await {
        Ok(keys) => Json(keys).into_response(),
        Err(e) => auth_error(e),
    }
}

pub async fn revoke_api_key(State(state): State<AppState>, headers: HeaderMap, Path(id): Path<i64>) -> Response {
    let v = match permitted(&state, &headers, Action::IssueApiKeys) {
        Ok(v) => v,
        Err(r) => return r,
    };
    match state.cockpit.policy.auth().revoke_api_key(&v, id, state.cockpit.now()).await {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => auth_error(e),
    }
}

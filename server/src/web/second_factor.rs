//! The second factor in the browser: the code step of a sign-in (`/login/code`), a person's own
//! enrolment by QR code with recovery codes shown once (`/account/second-factor`), and the page's report
//! of the person's input for the idle time-out (`/api/activity`). What is decided lives in `auth`.
use super::access::{esc, local};
use super::page::{lang_code, shell};
use super::AppState;
use crate::auth::{self, second_factor, token, AuthError};
use app::i18n::{t, Lang, Msg};
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;
use std::net::SocketAddr;

fn cookies(h: &HeaderMap) -> Option<&str> {
    h.get(header::COOKIE).and_then(|v| v.to_str().ok())
}

fn lang_query(lang: Lang) -> &'static str {
    if lang == Lang::En {
        "lang=en&"
    } else {
        ""
    }
}

#[derive(Deserialize)]
pub struct CodePageQuery {
    next: Option<String>,
    error: Option<String>,
    lang: Option<String>,
}

/// `GET /login/code`: the second step of a sign-in whose password was right.
pub async fn code_page(State(state): State<AppState>, headers: HeaderMap, Query(q): Query<CodePageQuery>) -> Response {
    let lang = Lang::from_query(q.lang.as_deref());
    let message = match q.error.as_deref() {
        Some("wrong") => t(lang, Msg::CodeWrong),
        Some("reused") => t(lang, Msg::CodeReused),
        _ => "",
    };
    code_form(&state, &headers, lang, message, q.next.as_deref(), StatusCode::OK).await
}

/// The waiting session in these cookies; on one of several instances it may have been opened a moment
/// ago by another, so the store is asked once before giving up.
async fn pending(state: &AppState, headers: &HeaderMap) -> Option<crate::store::access::Session> {
    let auth = state.cockpit.policy.auth();
    let now = state.cockpit.now();
    if let Some((s, _)) = auth.pending_second_factor(cookies(headers), now) {
        return Some(s);
    }
    if !matches!(auth.adopt(cookies(headers), now).await, Ok(true)) {
        return None;
    }
    auth.pending_second_factor(cookies(headers), now).map(|(s, _)| s)
}

async fn code_form(state: &AppState, headers: &HeaderMap, lang: Lang, message: &str, next: Option<&str>, status: StatusCode) -> Response {
    let Some(pending) = pending(state, headers).await else {
        return Redirect::to(&format!("/login?{}error=code_expired", lang_query(lang))).into_response();
    };
    let body = format!(
        r#"<h1>{product}</h1><h2>{title}</h2><p class="hint">{hint}</p>
<form method="post" action="/auth/code" class="login-form" id="code-form">
<input type="hidden" name="csrf" value="{csrf}"><input type="hidden" name="next" value="{next}"><input type="hidden" name="lang" value="{lang_code}">
<label>{label}<input name="code" id="code" inputmode="numeric" autocomplete="one-time-code" maxlength="16" required autofocus></label>{error}
<button type="submit">{submit}</button></form>"#,
        product = t(lang, Msg::Product),
        title = t(lang, Msg::CodeTitle),
        hint = t(lang, Msg::CodeHint),
        csrf = esc(&pending.csrf),
        next = esc(&local(next)),
        lang_code = lang_code(lang),
        label = t(lang, Msg::CodeLabel),
        error = if message.is_empty() { String::new() } else { format!(r#"<span class="field-error" id="code-error" role="alert">{}</span>"#, esc(message)) },
        submit = t(lang, Msg::CodeSubmit),
    );
    let html = shell(state, lang, t(lang, Msg::CodeTitle), "login", &body);
    (status, [(header::CACHE_CONTROL, "no-store")], Html(html)).into_response()
}

#[derive(Deserialize)]
pub struct CodeForm {
    csrf: String,
    code: String,
    next: Option<String>,
    lang: Option<String>,
}

/// `POST /auth/code`: the code (or a recovery code); on success the whole session's cookie replaces
/// the waiting one.
pub async fn code_submit(State(state): State<AppState>, ConnectInfo(addr): ConnectInfo<SocketAddr>, headers: HeaderMap, Form(f): Form<CodeForm>) -> Response {
    let auth = state.cockpit.policy.auth();
    let now = state.cockpit.now();
    let lang = Lang::from_query(f.lang.as_deref());
    let next = local(f.next.as_deref());
    // The waiting session's own token, as for every form of a session.
    let Some(pending) = pending(&state, &headers).await else {
        return Redirect::to(&format!("/login?{}error=code_expired&next={}", lang_query(lang), super::gate::encode(&next))).into_response();
    };
    if !token::matches(&pending.csrf, &f.csrf) {
        return (StatusCode::FORBIDDEN, "missing or wrong CSRF token").into_response();
    }
    let back = |e: &str| Redirect::to(&format!("/login/code?{}error={e}&next={}", lang_query(lang), super::gate::encode(&next))).into_response();
    match auth.give_second_factor(cookies(&headers), &f.code, &addr.ip().to_string(), now).await {
        Ok(s) => {
            let mut r = Redirect::to(&next).into_response();
            let cookie = auth::set_cookie(auth::SESSION_COOKIE, &s.token, s.max_age_s, auth.config.secure_cookies);
            r.headers_mut().append(header::SET_COOKIE, cookie.parse().expect("cookie header"));
            r
        }
        Err(AuthError::WrongCode) => back("wrong"),
        Err(AuthError::CodeReused) => back("reused"),
        Err(AuthError::NoPendingSignIn) => Redirect::to(&format!("/login?{}error=code_expired", lang_query(lang))).into_response(),
        Err(AuthError::Throttled { retry_after_s }) => {
            let mut r = code_form(&state, &headers, lang, &app::i18n::login_wait(lang, retry_after_s), Some(&next), StatusCode::TOO_MANY_REQUESTS).await;
            r.headers_mut().insert(header::RETRY_AFTER, retry_after_s.into());
            r
        }
        Err(e) => super::access::auth_error(e),
    }
}

#[derive(Deserialize)]
pub struct EnrolQuery {
    lang: Option<String>,
    error: Option<String>,
}

/// `GET /account/second-factor`: the person's second factor: on, since when and how many recovery
/// codes are left; or the QR code and key to enrol, and the field for the confirming code.
pub async fn enrol_page(State(state): State<AppState>, headers: HeaderMap, Query(q): Query<EnrolQuery>) -> Response {
    let lang = Lang::from_query(q.lang.as_deref());
    let auth = state.cockpit.policy.auth();
    let now = state.cockpit.now();
    let v = match super::signed_in(&state, &headers) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let Some(csrf) = auth.csrf_of(cookies(&headers), now) else { return Redirect::to("/login").into_response() };
    let title = t(lang, Msg::EnrolTitle);
    if auth.has_second_factor(&v.principal) {
        let f = match auth.second_factor_of(&v.principal).await {
            Ok(f) => f.unwrap_or_default(),
            Err(e) => return super::access::auth_error(e),
        };
        let since = f.enabled_at.map(app::model::date_time).unwrap_or_default();
        let body = format!(
            r#"<h1>{title}</h1><p class="notice" id="second-factor-on">{on}</p><dl><dt>{l_since}</dt><dd>{since}</dd><dt>{l_left}</dt><dd id="recovery-left">{left}</dd></dl><p><a href="/">{cont}</a></p>"#,
            on = t(lang, Msg::EnrolOn),
            l_since = t(lang, Msg::EnrolSince),
            l_left = t(lang, Msg::EnrolLeft),
            left = f.recovery_left,
            cont = t(lang, Msg::EnrolContinue),
        );
        return ([(header::CACHE_CONTROL, "no-store")], Html(shell(&state, lang, title, "login", &body))).into_response();
    }
    let secret = match auth.enrolment_secret(&v.principal).await {
        Ok(s) => s,
        Err(e) => return super::access::auth_error(e),
    };
    let product = t(Lang::En, Msg::Product);
    let link = second_factor::link(&secret, product, &v.principal).unwrap_or_default();
    let qr = second_factor::qr_svg(&link).unwrap_or_default();
    let grouped: Vec<String> = secret.as_bytes().chunks(4).map(|c| String::from_utf8_lossy(c).to_string()).collect();
    let body = format!(
        r#"<h1>{title}</h1>{due}
<p>{step1}</p><div class="qr" id="second-factor-qr" role="img" aria-label="QR">{qr}</div>
<p><code id="second-factor-key" data-secret="{secret}">{grouped}</code></p>
<form method="post" action="/account/second-factor" class="login-form" id="enrol-form">
<input type="hidden" name="csrf" value="{csrf}"><input type="hidden" name="lang" value="{lang_code}">
<label>{step2}<input name="code" id="code" inputmode="numeric" autocomplete="one-time-code" maxlength="8" required></label>{error}
<button type="submit">{submit}</button></form>"#,
        due = if auth.enrolment_due(cookies(&headers), now) { format!(r#"<p class="login-error" id="second-factor-due" role="alert">{}</p>"#, t(lang, Msg::EnrolDue)) } else { String::new() },
        step1 = t(lang, Msg::EnrolStep1),
        secret = esc(&secret),
        grouped = esc(&grouped.join(" ")),
        csrf = esc(&csrf),
        lang_code = lang_code(lang),
        step2 = t(lang, Msg::EnrolStep2),
        error = if q.error.as_deref() == Some("wrong") { format!(r#"<span class="field-error" id="code-error" role="alert">{}</span>"#, t(lang, Msg::CodeWrong)) } else { String::new() },
        submit = t(lang, Msg::EnrolSubmit),
    );
    ([(header::CACHE_CONTROL, "no-store")], Html(shell(&state, lang, title, "login", &body))).into_response()
}

#[derive(Deserialize)]
pub struct EnrolForm {
    code: String,
    lang: Option<String>,
}

/// `POST /account/second-factor` (its CSRF field checked at the gate): the confirming code; the
/// recovery codes are shown this once.
pub async fn enrol_submit(State(state): State<AppState>, headers: HeaderMap, Form(f): Form<EnrolForm>) -> Response {
    let lang = Lang::from_query(f.lang.as_deref());
    let v = match super::signed_in(&state, &headers) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let auth = state.cockpit.policy.auth();
    match auth.confirm_enrolment(&v.principal, &f.code, state.cockpit.now()).await {
        Ok(codes) => {
            let items: String = codes.iter().map(|c| format!("<li><code>{}</code></li>", esc(c))).collect();
            let body = format!(
                r#"<h1>{title}</h1><p class="notice" id="second-factor-on" role="status">{done}</p><ol class="recovery-codes" id="recovery-codes">{items}</ol><p><a href="/" id="continue">{cont}</a></p>"#,
                title = t(lang, Msg::EnrolTitle),
                done = t(lang, Msg::EnrolDone),
                cont = t(lang, Msg::EnrolContinue),
            );
            ([(header::CACHE_CONTROL, "no-store")], Html(shell(&state, lang, t(lang, Msg::EnrolTitle), "login", &body))).into_response()
        }
        Err(AuthError::WrongCode | AuthError::NoPendingSignIn) => Redirect::to(&format!("/account/second-factor?{}error=wrong", lang_query(lang))).into_response(),
        Err(e) => super::access::auth_error(e),
    }
}

/// `POST /api/activity`: the open page saw the person's input (a tap, a key). The gate has already
/// counted it (it counts every request that is input); nothing else to do.
pub async fn activity() -> StatusCode {
    StatusCode::NO_CONTENT
}

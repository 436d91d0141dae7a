//! Sign-in through the city's identity platform in the browser: `/auth/oidc/start` sends the person
//! there, `/auth/oidc/callback` takes them back. What is checked lives in `auth::oidc`; which account
//! they are in `Auth::oidc_sign_in`. Every refusal is audited with its reason; the page says which
//! kind of refusal it was, never the platform's details.
use super::access::local;
use super::AppState;
use crate::auth::{self, oidc::OidcError, AuthError};
use axum::extract::{ConnectInfo, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use std::net::SocketAddr;

#[derive(Deserialize)]
pub struct StartQuery {
    next: Option<String>,
}

fn to_login(kind: &str) -> Response {
    Redirect::to(&format!("/login?error=oidc_{kind}")).into_response()
}

/// Sign-ins begun per address and in all per rolling hour: each keeps a row in the store for 10
/// minutes, and the route needs no session, so a flood must not grow the table without end.
const STARTS_PER_ADDRESS: u32 = 120;
const STARTS_IN_ALL: u32 = 20_000;

fn starts() -> &'static crate::residents::limit::Limiter {
    static L: std::sync::OnceLock<crate::residents::limit::Limiter> = std::sync::OnceLock::new();
    L.get_or_init(Default::default)
}

/// `GET /auth/oidc/start`: to the platform's sign-in page.
pub async fn start(State(state): State<AppState>, ConnectInfo(addr): ConnectInfo<SocketAddr>, Query(q): Query<StartQuery>) -> Response {
    let auth = state.cockpit.policy.auth();
    let Some(oidc) = auth.oidc() else { return (axum::http::StatusCode::NOT_FOUND, "not found").into_response() };
    let address = format!("oidc:{}", addr.ip());
    if starts().admit(&[(&address, STARTS_PER_ADDRESS), ("oidc:*", STARTS_IN_ALL)], state.cockpit.now()).is_err() {
        return Redirect::to("/login?error=throttled").into_response();
    }
    match oidc.begin(auth.store().as_ref(), &local(q.next.as_deref()), state.cockpit.now()).await {
        Ok(url) => Redirect::to(&url).into_response(),
        Err(e) => {
            tracing::warn!("identity platform: {e:?}");
            to_login("unavailable")
        }
    }
}

#[derive(Deserialize)]
pub struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

/// `GET /auth/oidc/callback`: the platform's answer; on success the session cookie, and on to where
/// the person wanted to go (or to the code step when they have a second factor here).
pub async fn callback(State(state): State<AppState>, ConnectInfo(addr): ConnectInfo<SocketAddr>, Query(q): Query<CallbackQuery>) -> Response {
    let auth = state.cockpit.policy.auth();
    let Some(oidc) = auth.oidc() else { return (axum::http::StatusCode::NOT_FOUND, "not found").into_response() };
    let now = state.cockpit.now();
    let address = addr.ip().to_string();
    let from = address.clone();
    let refuse = |kind: &'static str, reason: String| async move {
        auth.audit("oidc", "oidc_refused", None, &format!("from {from}: {reason}"), now).await;
        to_login(kind)
    };
    if let Some(e) = q.error {
        // The person cancelled, or the platform would not sign them in: its words are its own.
        let said: String = format!("{e} {}", q.error_description.unwrap_or_default()).chars().filter(|c| !c.is_control()).take(200).collect();
        return refuse("denied", format!("the platform answered {said}")).await;
    }
    let (Some(code), Some(st)) = (q.code, q.state) else { return refuse("state", "an answer without code or state".into()).await };
    let (who, next) = match oidc.finish(auth.store().as_ref(), &st, &code, now).await {
        Ok(x) => x,
        Err(OidcError::Refused { kind, reason }) => return refuse(kind, reason).await,
        Err(OidcError::Unavailable(why)) => {
            tracing::warn!("identity platform: {why}");
            return refuse("unavailable", format!("the platform could not be used: {why}")).await;
        }
    };
    match auth.oidc_sign_in(&who, &address, now).await {
        Ok(s) => {
            let to = if s.second_factor_due { format!("/login/code?next={}", super::gate::encode(&next)) } else { local(Some(&next)) };
            let mut r = Redirect::to(&to).into_response();
            let cookie = auth::set_cookie(auth::SESSION_COOKIE, &s.token, s.max_age_s, auth.config.secure_cookies);
            r.headers_mut().append(axum::http::header::SET_COOKIE, cookie.parse().expect("cookie header"));
            r
        }
        Err(AuthError::Forbidden(_)) => to_login("account"),
        Err(e) => super::access::auth_error(e),
    }
}

//! Open311 GeoReport v2 at `/open311/v2`: the city's services, residents' reports (POST, form-encoded as
//! the spec says), and the city's requests as anyone may read them, in JSON or XML by the file's
//! extension. Errors in the spec's shape with the matching HTTP status. Anyone may call these routes: the
//! gate lets them through (`gate::is_machine`); whether a report needs an app's key is the city's
//! setting, and which keys are live the policy's (`Policy::report_sender`).
use super::AppState;
use crate::residents::open311::{self as wire, Doc, Format};
use crate::residents::report::Submission;
use crate::residents::service;
use app::i18n::Lang;
use app::residents::Refusal;
use axum::extract::rejection::FormRejection;
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Form;
use std::net::SocketAddr;

type Pairs = Vec<(String, String)>;

fn lang(q: &Pairs, headers: &HeaderMap) -> Lang {
    let asked = q.iter().find(|(k, _)| k == "lang").map(|(_, v)| v.as_str());
    let accept = headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()).unwrap_or("");
    match asked {
        Some(v) => Lang::from_query(Some(v)),
        None if accept.trim_start().starts_with("en") => Lang::En,
        None => Lang::Zh,
    }
}

fn param<'a>(q: &'a Pairs, k: &str) -> Option<&'a str> {
    q.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str())
}

fn reply(status: StatusCode, doc: &Doc, f: Format) -> Response {
    (status, [(header::CONTENT_TYPE, f.content_type()), (header::CACHE_CONTROL, "no-store")], doc.render(f)).into_response()
}

fn refuse(r: Refusal, lang: Lang, f: Format) -> Response {
    let status = StatusCode::from_u16(r.http_status()).unwrap_or(StatusCode::BAD_REQUEST);
    let mut resp = reply(status, &wire::errors(lang, &[r.clone()]), f);
    if let Refusal::TooMany(secs) = r {
        resp.headers_mut().insert(header::RETRY_AFTER, secs.into());
    }
    resp
}

/// A file name without .json or .xml: 404 in JSON, as nothing says which format was wanted.
fn no_format(lang: Lang) -> Response {
    refuse(Refusal::NotFound, lang, Format::Json)
}

/// What every read starts with: the language, the file's stem and format, and the jurisdiction check.
fn open<'a>(state: &AppState, file: &'a str, q: &Pairs, headers: &HeaderMap) -> Result<(&'a str, Format, Lang), Response> {
    let lang = lang(q, headers);
    let (stem, f) = Format::split(file).ok_or_else(|| no_format(lang))?;
    state.cockpit.residents.check_jurisdiction(param(q, "jurisdiction_id")).map_err(|r| refuse(r, lang, f))?;
    Ok((stem, f, lang))
}

fn answer(doc: Result<Doc, Refusal>, lang: Lang, f: Format) -> Response {
    match doc {
        Ok(d) => reply(StatusCode::OK, &d, f),
        Err(r) => refuse(r, lang, f),
    }
}

/// `GET services.{fmt}` and `GET requests.{fmt}`.
pub async fn index(State(state): State<AppState>, Path(file): Path<String>, Query(q): Query<Pairs>, headers: HeaderMap) -> Response {
    let (stem, f, lang) = match open(&state, &file, &q, &headers) {
        Ok(x) => x,
        Err(r) => return r,
    };
    let residents = &state.cockpit.residents;
    let doc = match stem {
        "services" => Ok(wire::services(lang)),
        "requests" => match wire::read(&q, residents.now(), residents.max_results()) {
            Ok(read) => residents.read(read).await.map(|list| wire::requests(&list, lang)),
            Err(r) => Err(r),
        },
        _ => Err(Refusal::NotFound),
    };
    answer(doc, lang, f)
}

/// `GET services/{code}.{fmt}`: the service's attributes.
pub async fn definition(State(state): State<AppState>, Path(file): Path<String>, Query(q): Query<Pairs>, headers: HeaderMap) -> Response {
    match open(&state, &file, &q, &headers) {
        Ok((code, f, lang)) => answer(service::find(code).map(|s| wire::definition(s, lang)).ok_or(Refusal::NotFound), lang, f),
        Err(r) => r,
    }
}

/// `GET requests/{id}.{fmt}`: one request with its public history.
pub async fn one(State(state): State<AppState>, Path(file): Path<String>, Query(q): Query<Pairs>, headers: HeaderMap) -> Response {
    match open(&state, &file, &q, &headers) {
        Ok((id, f, lang)) => answer(state.cockpit.residents.one(id).await.map(|r| wire::requests(&[r], lang)), lang, f),
        Err(r) => r,
    }
}

/// `GET tokens/{token}.{fmt}`: a report's number is known the moment it is taken, so the token is
/// the number itself (only residents' reports have one).
pub async fn token(State(state): State<AppState>, Path(file): Path<String>, Query(q): Query<Pairs>, headers: HeaderMap) -> Response {
    match open(&state, &file, &q, &headers) {
        Ok((id, f, lang)) if !id.contains(':') => answer(state.cockpit.residents.one(id).await.map(|r| wire::token(&r.id)), lang, f),
        Ok((_, f, lang)) => refuse(Refusal::NotFound, lang, f),
        Err(r) => r,
    }
}

/// `POST requests.{fmt}`: a resident's report, form-encoded.
pub async fn post(
    State(state): State<AppState>,
    Path(file): Path<String>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    Query(query): Query<Pairs>,
    headers: HeaderMap,
    form: Result<Form<Pairs>, FormRejection>,
) -> Response {
    // Some clients put jurisdiction_id and api_key in the query string of a POST; the body wins.
    let body = form.as_ref().map(|Form(p)| p.clone()).unwrap_or_default();
    let mut pairs: Pairs = query.into_iter().filter(|(k, _)| !body.iter().any(|(b, _)| b == k)).collect();
    pairs.extend(body);
    let lang = lang(&pairs, &headers);
    let Some((stem, f)) = Format::split(&file) else { return no_format(lang) };
    if stem != "requests" {
        return refuse(Refusal::NotFound, lang, f);
    }
    let residents = &state.cockpit.residents;
    let key = param(&pairs, "api_key").map(str::trim).filter(|k| !k.is_empty());
    let sender = state.cockpit.policy.report_sender(key, residents.anonymous_posts());
    if let Err(r) = residents.admit(&addr.ip().to_string(), sender.clone().ok().flatten()) {
        return refuse(r, lang, f);
    }
    if let Err(r) = sender {
        return refuse(r, lang, f);
    }
    if form.is_err() {
        return refuse(Refusal::NotAForm, lang, f);
    }
    if let Err(r) = residents.check_jurisdiction(param(&pairs, "jurisdiction_id")) {
        return refuse(r, lang, f);
    }
    let submission = Submission::from_pairs(&pairs);
    match residents.submit(&submission).await {
        Ok(id) => reply(StatusCode::CREATED, &wire::created(&id, lang), f),
        Err(r) => refuse(r, lang, f),
    }
}

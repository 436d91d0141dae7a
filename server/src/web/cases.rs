//! Cases for officials: a list (personal fields always masked: it is for triage), one case in full
//! (unmasked only at sensitive clearance, and then the view is audited), a CSV export (audited), and
//! oversight actions on one case (督办, 升级, acknowledge), recorded as case events and audited.
use super::{refusal, signed_in, AppState};
use crate::masking;
use crate::store::StoredCase;
use app::backend::{AccessError, Viewer};
use crate::policy::sees_personal_data;
use app::flow::Timeliness;
use app::model::CaseView;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

fn unavailable<E: std::fmt::Display>(e: E) -> Response {
    tracing::error!("case store: {e}");
    (StatusCode::SERVICE_UNAVAILABLE, "service unavailable").into_response()
}

/// The case as shown to `v`: personal fields unmasked only when `full` (the policy's call).
pub(crate) fn view(policy: &crate::policy::Policy, v: &Viewer, c: StoredCase, full: bool, now: i64) -> CaseView {
    let tree = policy.tree();
    let actions = policy.oversight(v, &c);
    let holder = crate::case::holder(tree, &c.facts, c.status, c.escalations);
    let d = c.facts.details;
    CaseView {
        priority: c.facts.priority,
        warn_at: c.facts.warn_at,
        timeliness: c.status.is_open().then(|| Timeliness::at(now, c.facts.warn_at, c.facts.deadline)),
        holder,
        supervised: c.supervised,
        escalations: c.escalations,
        actions,
        place: tree.find(&c.facts.grid).map(|g| tree.place(g)).unwrap_or_default(),
        masked: !full && (d.person.is_some() || d.address.is_some()),
        person: d.person.map(|p| if full { p } else { masking::person(&p) }),
        address: d.address.map(|a| if full { a } else { masking::address(&a) }),
        feed: c.feed,
        case_id: c.case_id,
        category: c.facts.category,
        source: c.facts.source,
        status: c.status,
        grid: c.facts.grid,
        reported_at: c.facts.reported_at,
        deadline: c.facts.deadline,
        department: d.department,
        summary: d.summary,
        timeline: c.timeline,
        photo: false,
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    region: Option<String>,
    #[serde(default)]
    open: bool,
}

type ListParams = Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>;

/// The viewer and the cases the policy lets them list for these parameters.
async fn listed(state: &AppState, headers: &HeaderMap, q: ListParams, limit: u32) -> Result<(Viewer, ListQuery, Vec<StoredCase>), Response> {
    let v = signed_in(state, headers)?;
    let Ok(Query(q)) = q else { return Err((StatusCode::BAD_REQUEST, "parameters: region, open").into_response()) };
    let query = state.cockpit.policy.case_query(&v, q.region.as_deref(), q.open, limit).map_err(refusal)?;
    let cases = state.cockpit.policy.auth().store().cases(&query).await.map_err(unavailable)?;
    Ok((v, q, cases))
}

pub async fn list(State(state): State<AppState>, headers: HeaderMap, q: ListParams) -> Response {
    let (v, _, cases) = match listed(&state, &headers, q, 200).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let now = state.cockpit.now();
    // Lists are for triage: masked for everyone; the full record is one audited view away.
    let shown: Vec<CaseView> = cases.into_iter().map(|c| view(&state.cockpit.policy, &v, c, false, now)).collect();
    axum::Json(shown).into_response()
}

pub async fn detail(State(state): State<AppState>, headers: HeaderMap, Path((feed, id)): Path<(String, String)>) -> Response {
    let v = match signed_in(&state, &headers) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let c = match state.cockpit.policy.auth().store().case(&feed, &id).await {
        Ok(Some(c)) => c,
        Ok(None) => return refusal(AccessError::NotFound),
        Err(e) => return unavailable(e),
    };
    if let Err(e) = state.cockpit.policy.case_visible(&v, &c) {
        return refusal(e);
    }
    let now = state.cockpit.now();
    let region = c.facts.grid.clone();
    let photo = state.cockpit.policy.photo_visible(&v, &c).is_ok();
    let mut shown = view(&state.cockpit.policy, &v, c, sees_personal_data(&v), now);
    shown.photo = photo && state.cockpit.policy.auth().store().has_photo(&feed, &id).await.unwrap_or(false);
    if !shown.masked && (shown.person.is_some() || shown.address.is_some()) {
        state.cockpit.policy.auth().audit(&v.principal, "view_sensitive", Some(&region), &format!("case {feed}/{id}"), now).await;
    }
    axum::Json(shown).into_response()
}

/// `GET /api/cases/{feed}/{id}/photo`: the photo a resident sent with the case, to those the policy
/// shows it (`Policy::photo_visible`); every view is audited. Never cached: it may show a person.
pub async fn photo(State(state): State<AppState>, headers: HeaderMap, Path((feed, id)): Path<(String, String)>) -> Response {
    let v = match signed_in(&state, &headers) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let store = state.cockpit.policy.auth().store();
    let c = match store.case(&feed, &id).await {
        Ok(Some(c)) => c,
        Ok(None) => return refusal(AccessError::NotFound),
        Err(e) => return unavailable(e),
    };
    if let Err(e) = state.cockpit.policy.photo_visible(&v, &c) {
        return refusal(e);
    }
    let p = match store.photo(&feed, &id).await {
        Ok(Some(p)) => p,
        Ok(None) => return refusal(AccessError::NotFound),
        Err(e) => return unavailable(e),
    };
    let now = state.cockpit.now();
    state.cockpit.policy.auth().audit(&v.principal, "view_photo", Some(&c.facts.grid), &format!("case {feed}/{id}"), now).await;
    let headers = [
        (header::CONTENT_TYPE, p.mime),
        (header::CACHE_CONTROL, "private, no-store".to_string()),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_string()),
        (header::CONTENT_SECURITY_POLICY, "default-src 'none'".to_string()),
    ];
    (headers, p.bytes).into_response()
}

/// CSV of the cases the viewer may list, masked to their clearance; every export is audited.
pub async fn export(State(state): State<AppState>, headers: HeaderMap, q: ListParams) -> Response {
    let (v, q, cases) = match listed(&state, &headers, q, 10_000).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let now = state.cockpit.now();
    let mut out = String::from("feed,case_id,category,source,status,grid,place,reported_at,deadline,department,summary,name,phone,id_number,address\n");
    let n = cases.len();
    let mut masked = false;
    for c in cases {
        let s = view(&state.cockpit.policy, &v, c, sees_personal_data(&v), now);
        masked |= s.masked;
        let p = s.person.clone().unwrap_or_default();
        let fields = [
            s.feed, s.case_id, s.category.as_str().into(), s.source.as_str().into(), s.status.as_str().into(), s.grid, s.place,
            s.reported_at.to_string(), s.deadline.to_string(), s.department.unwrap_or_default(), s.summary, p.name, p.phone,
            p.id_number.unwrap_or_default(), s.address.unwrap_or_default(),
        ];
        out.push_str(&fields.iter().map(|f| f.replace([',', '\n'], " ")).collect::<Vec<_>>().join(","));
        out.push('\n');
    }
    let scope = q.region.unwrap_or_else(|| v.scope.root.clone());
    let detail = format!("{n} cases{}", if masked { ", masked" } else { ", unmasked" });
    state.cockpit.policy.auth().audit(&v.principal, "export", Some(&scope), &detail, now).await;
    ([(header::CONTENT_TYPE, "text/csv; charset=utf-8"), (header::CONTENT_DISPOSITION, "attachment; filename=\"cases.csv\"")], out).into_response()
}

/// Longest note an official may attach to an action.
const NOTE_MAX_CHARS: usize = 500;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActionForm {
    action: String,
    #[serde(default)]
    note: String,
    /// For a mediation attempt: its tier and how it ended.
    #[serde(default)]
    tier: Option<String>,
    #[serde(default)]
    outcome: Option<String>,
}

/// Records one event from the desk; the refusal as the answer.
async fn record(state: &AppState, event: crate::case::CaseEvent) -> Result<(), Response> {
    match state.cockpit.ingest.submit(vec![event]).await.map(|mut o| o.remove(0)) {
        Ok(crate::case::Outcome::Stored) => Ok(()),
        Ok(crate::case::Outcome::Rejected(why)) => Err(conflict(why)),
        Ok(crate::case::Outcome::Duplicate) => Err(conflict("already recorded")),
        Err(e) => Err(unavailable(e)),
    }
}

fn conflict(why: impl Into<String>) -> Response {
    (StatusCode::CONFLICT, why.into()).into_response()
}

/// Takes an oversight action on a case: the policy decides whether this viewer may, the state machine
/// whether the case allows it (checked again by the store as it records the event). Answers the case
/// as it now stands.
pub async fn act(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((feed, id)): Path<(String, String)>,
    body: Result<axum::Json<ActionForm>, axum::extract::rejection::JsonRejection>,
) -> Response {
    let v = match signed_in(&state, &headers) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let Ok(axum::Json(form)) = body else { return (StatusCode::BAD_REQUEST, "body: {\"action\": ..., \"note\": ...}").into_response() };
    let Some(action) = app::flow::Action::parse(&form.action).filter(|a| *a != app::flow::Action::Report) else {
        return (StatusCode::BAD_REQUEST, "action must be supervise, escalate or acknowledge (or, on a resident's report, a step of its handling; on a court's referral, mediate)").into_response();
    };
    let mediation = match (action, form.tier.as_deref(), form.outcome.as_deref()) {
        (app::flow::Action::Mediate, Some(tier), Some(outcome)) => match (app::flow::Tier::parse(tier), app::flow::Outcome::parse(outcome)) {
            (Some(tier), Some(outcome)) => Some(app::flow::Mediation { tier, outcome }),
            _ => return (StatusCode::BAD_REQUEST, "tier must be reconciliation, village, town, county, judicial or litigation; outcome settled or failed").into_response(),
        },
        (app::flow::Action::Mediate, _, _) => return (StatusCode::BAD_REQUEST, "a mediation attempt needs its tier and outcome").into_response(),
        (_, None, None) => None,
        _ => return (StatusCode::BAD_REQUEST, "tier and outcome belong to a mediation attempt only").into_response(),
    };
    let note = form.note.trim().to_string();
    if note.chars().count() > NOTE_MAX_CHARS {
        return (StatusCode::BAD_REQUEST, format!("note longer than {NOTE_MAX_CHARS} characters")).into_response();
    }
    if action == app::flow::Action::Supervise && note.is_empty() {
        return (StatusCode::BAD_REQUEST, "supervision needs a note saying what is expected").into_response();
    }
    // A resident follows these two on their report's page: who has it, and the city's answer.
    if matches!(action, app::flow::Action::Dispatch | app::flow::Action::Resolve) && note.is_empty() {
        return (StatusCode::BAD_REQUEST, "dispatching names the department in the note; resolving gives the reply the resident will read").into_response();
    }
    let policy = &state.cockpit.policy;
    let store = policy.auth().store();
    let c = match store.case(&feed, &id).await {
        Ok(Some(c)) => c,
        Ok(None) => return refusal(AccessError::NotFound),
        Err(e) => return unavailable(e),
    };
    match policy.may_act(&v, &c, action) {
        Ok(()) => {}
        Err(crate::policy::ActRefusal::Access(e)) => return refusal(e),
        Err(crate::policy::ActRefusal::Flow(why)) => return conflict(why),
    }
    let now = state.cockpit.now();
    let note = crate::case::Note { actor: v.principal.clone(), text: note };
    if action.is_oversight() || mediation.is_some() {
        let event = crate::case::CaseEvent { mediation, ..crate::case::CaseEvent::oversight(&feed, &id, action, c.status, now, note) };
        if let Err(r) = record(&state, event).await {
            return r;
        }
    } else {
        // Only a resident's report gets here (the policy allows handling steps on nothing else).
        if let Err(why) = state.cockpit.residents.advance(&c, action, note).await {
            return conflict(why);
        }
    }
    policy.auth().audit(&v.principal, &format!("case_{}", action.as_str()), Some(&c.facts.grid), &format!("case {feed}/{id}"), now).await;
    match store.case(&feed, &id).await {
        Ok(Some(c)) => {
            let photo = policy.photo_visible(&v, &c).is_ok() && store.has_photo(&feed, &id).await.unwrap_or(false);
            let mut shown = view(policy, &v, c, false, now);
            shown.photo = photo;
            axum::Json(shown).into_response()
        }
        Ok(None) => refusal(AccessError::NotFound),
        Err(e) => unavailable(e),
    }
}

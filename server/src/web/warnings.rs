//! `POST /api/warnings/{id}/{op}` with `{"note": ...}`: a person's step on an early warning (op
//! acknowledge, handle or close; CSRF checked at the gate). The tablet's list is the server function
//! `load_warnings` (`GET /api/warnings?region=CODE`). The policy decides both: a warning outside the
//! viewer's scope is not found; one routed to a centre outside it is theirs to see, not to act on (403); a step the path
//! does not allow now (someone acted first) is a conflict (409).
use super::{refusal, signed_in, AppState};
use crate::warning::StepRefusal;
use app::warning::WarningOp;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct StepForm {
    #[serde(default)]
    note: String,
}

pub async fn step(State(state): State<AppState>, headers: HeaderMap, Path((id, op)): Path<(String, String)>, body: Result<Json<StepForm>, axum::extract::rejection::JsonRejection>) -> Response {
    let v = match signed_in(&state, &headers) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let Ok(id) = id.parse::<i64>() else { return refusal(app::backend::AccessError::NotFound) };
    let Some(op) = WarningOp::parse(&op).filter(|o| WarningOp::BY_PEOPLE.contains(o)) else {
        return (StatusCode::BAD_REQUEST, "op is acknowledge, handle or close").into_response();
    };
    let Ok(Json(form)) = body else { return (StatusCode::BAD_REQUEST, "body: {\"note\": \"...\"}").into_response() };
    let c = &state.cockpit;
    match c.warnings.step(&c.policy, &v, id, op, &form.note, c.now()).await {
        Ok(w) => Json(w).into_response(),
        Err(StepRefusal::NotFound) => refusal(app::backend::AccessError::NotFound),
        Err(StepRefusal::NotRouted(m)) => (StatusCode::FORBIDDEN, m).into_response(),
        Err(StepRefusal::Conflict(m)) => (StatusCode::CONFLICT, m).into_response(),
        Err(StepRefusal::Invalid(m)) => (StatusCode::BAD_REQUEST, m).into_response(),
        Err(StepRefusal::Store(e)) => {
            tracing::error!("store: {e}");
            (StatusCode::SERVICE_UNAVAILABLE, "service unavailable").into_response()
        }
    }
}

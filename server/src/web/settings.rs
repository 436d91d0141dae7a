//! `/admin/settings`: the city's working calendar (hours, holidays, make-up days) and flow rules
//! (escalation), changed by a city-wide administrator (`Action::ChangeSettings`) and applied at once on
//! every instance (`crate::settings`). Forms like `/admin`'s: CSRF checked at the gate, errors beside the
//! field, each save audited with old and new values. Beside them, what the calendar in force gives a
//! case taken now, from the same rule that sets real deadlines. `GET /api/admin/settings` for scripts.
use super::access::{esc, permitted};
use super::admin::{cookies, field_error, hidden, FieldError};
use super::page::shell;
use super::AppState;
use crate::calendar::CalendarConfig;
use crate::policy::Action;
use crate::rules::{due, limit_hours, FlowConfig};
use crate::settings::{Current, SettingsError, MAX_ESCALATE_HOURS};
use app::flow::Priority;
use app::i18n::{self, t, Lang, Msg};
use app::model::{date_time, Category};
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::{Form, Json};
use serde::Deserialize;

#[derive(Deserialize, Default)]
pub struct SettingsQuery {
    lang: Option<String>,
    done: Option<String>,
}

#[derive(Deserialize, Default, Clone)]
pub struct CalendarForm {
    lang: Option<String>,
    hours: String,
    holidays: String,
    extra_workdays: String,
}

#[derive(Deserialize, Default, Clone)]
pub struct FlowForm {
    lang: Option<String>,
    /// A checkbox: present when ticked.
    auto_escalate: Option<String>,
    escalate_after_hours: String,
}

/// A refused form as typed, to show again with its error.
#[derive(Default)]
struct Refused {
    calendar: Option<(CalendarForm, FieldError)>,
    flow: Option<(FlowForm, FieldError)>,
}

/// Dates or periods separated by new lines, commas or spaces.
fn items(s: &str) -> Vec<String> {
    s.split(|c: char| c == ',' || c == '，' || c.is_whitespace()).map(str::trim).filter(|x| !x.is_empty()).map(str::to_string).collect()
}

pub async fn page(State(state): State<AppState>, headers: HeaderMap, q: Result<Query<SettingsQuery>, axum::extract::rejection::QueryRejection>) -> Response {
    if let Err(r) = permitted(&state, &headers, Action::ChangeSettings) {
        return r;
    }
    let q = q.map(|Query(q)| q).unwrap_or_default();
    render(&state, &headers, Lang::from_query(q.lang.as_deref()), q.done.as_deref(), Refused::default(), StatusCode::OK)
}

fn render(state: &AppState, headers: &HeaderMap, lang: Lang, done: Option<&str>, refused: Refused, status: StatusCode) -> Response {
    let now = state.cockpit.now();
    let Some(csrf) = state.cockpit.policy.auth().csrf_of(cookies(headers), now) else { return Redirect::to("/login?next=/admin/settings").into_response() };
    let hid = hidden(&csrf, lang);
    let cur = state.cockpit.ingest.settings().current();
    let notice = match done {
        Some("saved") => format!(r#"<p class="notice" id="admin-notice" role="status">{}</p>"#, t(lang, Msg::SettingsSaved)),
        Some("unchanged") => format!(r#"<p class="notice" id="admin-notice" role="status">{}</p>"#, t(lang, Msg::SettingsUnchanged)),
        _ => String::new(),
    };
    let source = |saved: &Option<crate::settings::Saved>| match saved {
        Some(s) => format!(r#"<p class="hint setting-source">{} {} · {}</p>"#, t(lang, Msg::SettingsSavedBy), date_time(s.at), esc(&s.by)),
        None => format!(r#"<p class="hint setting-source">{}</p>"#, t(lang, Msg::SettingsFromFile)),
    };

    let (cf, cerr) = refused.calendar.unwrap_or_else(|| {
        let c = &cur.calendar_config;
        (CalendarForm { lang: None, hours: c.hours.join(", "), holidays: c.holidays.join("\n"), extra_workdays: c.extra_workdays.join("\n") }, None)
    });
    let (ff, ferr) = refused.flow.unwrap_or_else(|| {
        (FlowForm { lang: None, auto_escalate: cur.flow.auto_escalate.then(|| "on".into()), escalate_after_hours: cur.flow.escalate_after_hours.to_string() }, None)
    });
    let body = format!(
        r#"<h1>{title}</h1>{notice}<p>{intro}</p><p><a href="/admin{lang_q}">{back}</a></p>
<section id="calendar"><h2>{h_cal}</h2>{cal_source}
<form method="post" action="/admin/settings/calendar" class="admin-form" id="calendar-form">{hid}
<label>{l_hours}<input name="hours" value="{hours}" required></label>{e_hours}
<p class="hint">{hours_hint}</p>
<label>{l_hol}<textarea name="holidays" rows="6">{holidays}</textarea></label>{e_hol}
<label>{l_extra}<textarea name="extra_workdays" rows="6">{extra}</textarea></label>{e_extra}
<p class="hint">{days_hint}</p>
<button type="submit">{save}</button></form>
<h3>{h_preview}</h3>{preview}</section>
<section id="flow"><h2>{h_flow}</h2>{flow_source}
<form method="post" action="/admin/settings/flow" class="admin-form" id="flow-form">{hid}
<label class="check"><input type="checkbox" name="auto_escalate" value="on"{checked}> {l_auto}</label>
<label>{l_after}<input name="escalate_after_hours" value="{after}" inputmode="numeric" required></label>{e_after}
<button type="submit">{save}</button></form></section>"#,
        title = t(lang, Msg::SettingsTitle),
        intro = t(lang, Msg::SettingsIntro),
        lang_q = if lang == Lang::En { "?lang=en" } else { "" },
        back = t(lang, Msg::AdminBack),
        h_cal = t(lang, Msg::SettingsCalendar),
        cal_source = source(&cur.calendar_saved),
        l_hours = t(lang, Msg::SettingsHours),
        hours = esc(&cf.hours),
        e_hours = field_error(&cerr, "hours"),
        hours_hint = t(lang, Msg::SettingsHoursHint),
        l_hol = t(lang, Msg::SettingsHolidays),
        holidays = esc(&cf.holidays),
        e_hol = field_error(&cerr, "holidays"),
        l_extra = t(lang, Msg::SettingsExtraWorkdays),
        extra = esc(&cf.extra_workdays),
        e_extra = field_error(&cerr, "extra_workdays"),
        days_hint = t(lang, Msg::SettingsDaysHint),
        save = t(lang, Msg::SettingsSave),
        h_preview = t(lang, Msg::SettingsPreview),
        preview = preview(&cur, lang, now),
        h_flow = t(lang, Msg::SettingsFlow),
        flow_source = source(&cur.flow_saved),
        checked = if ff.auto_escalate.is_some() { " checked" } else { "" },
        l_auto = t(lang, Msg::SettingsAutoEscalate),
        l_after = t(lang, Msg::SettingsEscalateAfter),
        after = esc(&ff.escalate_after_hours),
        e_after = field_error(&ferr, "escalate_after_hours"),
    );
    let html = shell(state, lang, t(lang, Msg::SettingsTitle), "admin", &body);
    (status, [(header::CACHE_CONTROL, "no-store")], Html(html)).into_response()
}

/// Each category's deadline for a normal case taken now: `rules::due`, the rule real cases get.
fn preview(cur: &Current, lang: Lang, now: i64) -> String {
    let rows: String = Category::ALL
        .into_iter()
        .map(|c| {
            let (_, deadline) = due(&cur.calendar, c, Priority::Normal, now);
            format!(r#"<tr data-category="{}"><th scope="row">{}</th><td>{}</td><td class="due">{}</td></tr>"#, c.as_str(), i18n::category(lang, c), limit_hours(c, Priority::Normal), date_time(deadline))
        })
        .collect();
    format!(
        r#"<table class="table admin-table" id="deadline-preview"><thead><tr><th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>{rows}</tbody></table>"#,
        t(lang, Msg::SettingsPreviewCategory),
        t(lang, Msg::SettingsPreviewLimit),
        t(lang, Msg::SettingsPreviewDue)
    )
}

fn back(lang: &Option<String>, what: &str) -> Response {
    let en = if lang.as_deref() == Some("en") { "lang=en&" } else { "" };
    Redirect::to(&format!("/admin/settings?{en}done={what}")).into_response()
}

/// `POST /admin/settings/calendar`.
pub async fn save_calendar(State(state): State<AppState>, headers: HeaderMap, Form(f): Form<CalendarForm>) -> Response {
    let v = match permitted(&state, &headers, Action::ChangeSettings) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let lang = Lang::from_query(f.lang.as_deref());
    let c = CalendarConfig { hours: items(&f.hours), holidays: items(&f.holidays), extra_workdays: items(&f.extra_workdays) };
    let settings = state.cockpit.ingest.settings();
    match settings.save_calendar(state.cockpit.ingest.store().as_ref(), &v.principal, &v.scope.root, c, state.cockpit.now()).await {
        Ok(true) => back(&f.lang, "saved"),
        Ok(false) => back(&f.lang, "unchanged"),
        Err(SettingsError::Invalid { field, message }) => {
            let shown = match field {
                "hours" => t(lang, Msg::SettingsErrHours).to_string(),
                _ if message.contains("also a holiday") => format!("{}{}", t(lang, Msg::SettingsErrBoth), message.split(' ').next().unwrap_or("")),
                _ => format!("{} ({message})", t(lang, Msg::SettingsErrDays)),
            };
            render(&state, &headers, lang, None, Refused { calendar: Some((f, Some((field, shown)))), flow: None }, StatusCode::BAD_REQUEST)
        }
        Err(SettingsError::Store(e)) => {
            tracing::error!("settings store: {e}");
            (StatusCode::SERVICE_UNAVAILABLE, "service unavailable").into_response()
        }
    }
}

/// `POST /admin/settings/flow`.
pub async fn save_flow(State(state): State<AppState>, headers: HeaderMap, Form(f): Form<FlowForm>) -> Response {
    let v = match permitted(&state, &headers, Action::ChangeSettings) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let lang = Lang::from_query(f.lang.as_deref());
    let refuse = |f: FlowForm| {
        let e = Some(("escalate_after_hours", t(lang, Msg::SettingsErrHoursMax).to_string()));
        render(&state, &headers, lang, None, Refused { calendar: None, flow: Some((f, e)) }, StatusCode::BAD_REQUEST)
    };
    let Ok(hours) = f.escalate_after_hours.trim().parse::<u32>() else { return refuse(f) };
    if hours > MAX_ESCALATE_HOURS {
        return refuse(f);
    }
    let flow = FlowConfig { escalate_after_hours: hours, auto_escalate: f.auto_escalate.is_some() };
    match state.cockpit.ingest.settings().save_flow(state.cockpit.ingest.store().as_ref(), &v.principal, &v.scope.root, flow, state.cockpit.now()).await {
        Ok(true) => back(&f.lang, "saved"),
        Ok(false) => back(&f.lang, "unchanged"),
        Err(SettingsError::Invalid { .. }) => refuse(f),
        Err(SettingsError::Store(e)) => {
            tracing::error!("settings store: {e}");
            (StatusCode::SERVICE_UNAVAILABLE, "service unavailable").into_response()
        }
    }
}

/// `GET /api/admin/settings`: the values in force and who saved them.
pub async fn json(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Err(r) = permitted(&state, &headers, Action::ChangeSettings) {
        return r;
    }
    let cur = state.cockpit.ingest.settings().current();
    let saved = |s: &Option<crate::settings::Saved>| s.as_ref().map(|s| serde_json::json!({ "by": s.by, "at": s.at }));
    Json(serde_json::json!({
        "calendar": cur.calendar_config,
        "calendar_saved": saved(&cur.calendar_saved),
        "flow": cur.flow,
        "flow_saved": saved(&cur.flow_saved),
    }))
    .into_response()
}

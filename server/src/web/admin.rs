//! `/admin`: the administrators' page. Accounts (search, create, change role, scope and clearance,
//! disable and enable, reset a password, sign out everywhere), wall displays (register by the code the
//! wall shows, revoke) and live sessions (end one). Server-rendered forms that work on a desktop and a
//! tablet without the wasm bundle; each carries the CSRF token (checked at the gate), asks the policy (`Action::Grant`) and
//! the grant rule in `auth`, says what went wrong beside the field, and is audited there. The same
//! lists as JSON under `/api/admin/…` for scripts.
use super::access::{esc, permitted};
use super::page::{lang_code, shell};
use super::{refusal, AppState};
use crate::auth::admin::{AccountChange, AccountView, Field};
use crate::auth::{self, AuthError};
use crate::policy::Action;
use crate::store::access::Account;
use app::backend::Viewer;
use app::i18n::{self, t, Lang, Msg};
use app::model::{date_time, Clearance, Role};
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::{Form, Json};
use serde::Deserialize;

pub(super) fn cookies(h: &HeaderMap) -> Option<&str> {
    h.get(header::COOKIE).and_then(|v| v.to_str().ok())
}

pub(super) fn unavailable(e: AuthError) -> Response {
    tracing::error!("access store: {e:?}");
    (StatusCode::SERVICE_UNAVAILABLE, "service unavailable").into_response()
}

/// Which field an account or device refusal is about, and what the page says there.
fn explain(e: &AuthError, lang: Lang) -> (Field, String) {
    let m = match e {
        AuthError::Forbidden(m) | AuthError::Invalid(m) => m.as_str(),
        _ => "",
    };
    let (field, msg) = if m.contains("unknown region") {
        (Field::Scope, Msg::AdminErrScopeUnknown)
    } else if m.contains("outside your scope") {
        (Field::Scope, Msg::AdminErrScopeOutside)
    } else if m.contains("clearance") && m.contains("above") {
        (Field::Clearance, Msg::AdminErrClearance)
    } else if m.contains("is taken") {
        (Field::Account, Msg::AdminErrTaken)
    } else if m.contains("wall displays") {
        (Field::Role, Msg::AdminErrRole)
    } else if m.contains("own") {
        (Field::Role, Msg::AdminErrOwn)
    } else if m.contains("name of") || m.contains("needs a name") {
        (Field::DisplayName, Msg::AdminErrName)
    } else {
        return (Field::Account, format!("{}{m}", t(lang, Msg::AdminErrGeneric)));
    };
    (field, t(lang, msg).to_string())
}

/// A refused form field: which, and the message beside it.
pub(super) type FieldError = Option<(&'static str, String)>;

pub(super) fn field_error(err: &FieldError, name: &str) -> String {
    match err {
        Some((f, m)) if *f == name => format!(r#"<span class="field-error" id="{name}-error" role="alert">{}</span>"#, esc(m)),
        _ => String::new(),
    }
}

fn field_name(f: Field) -> &'static str {
    match f {
        Field::DisplayName => "display_name",
        Field::Role => "role",
        Field::Scope => "scope",
        Field::Clearance => "clearance",
        Field::Account => "username",
    }
}

fn role_options(lang: Lang, selected: Option<Role>, any: bool) -> String {
    let mut out = if any { format!(r#"<option value="">{}</option>"#, t(lang, Msg::AdminAnyRole)) } else { String::new() };
    for r in Role::ALL.into_iter().filter(|r| *r != Role::WallDevice) {
        let sel = if Some(r) == selected { " selected" } else { "" };
        out.push_str(&format!(r#"<option value="{}"{sel}>{}</option>"#, r.as_str(), i18n::role(lang, r)));
    }
    out
}

fn clearance_options(lang: Lang, selected: Clearance, up_to: Clearance) -> String {
    Clearance::ALL
        .into_iter()
        .filter(|c| *c <= up_to)
        .map(|c| {
            let sel = if c == selected { " selected" } else { "" };
            format!(r#"<option value="{}"{sel}>{}</option>"#, c.as_str(), i18n::clearance(lang, c))
        })
        .collect()
}

/// "绍兴市越城区塔山街道 (330602001)": the scope as people know it, and the code forms take.
fn region_label(state: &AppState, code: &str) -> String {
    let tree = state.cockpit.policy.tree();
    match tree.find(code) {
        Some(i) => {
            let mut names: Vec<String> = tree.ancestors(i).map(|a| tree.get(a).row.name.clone()).collect();
            names.reverse();
            format!("{} ({code})", names.join(""))
        }
        None => code.to_string(),
    }
}

fn when(ms: Option<i64>, lang: Lang) -> String {
    ms.map(date_time).unwrap_or_else(|| t(lang, Msg::AdminNever).to_string())
}

pub(super) fn hidden(csrf: &str, lang: Lang) -> String {
    format!(r#"<input type="hidden" name="csrf" value="{}"><input type="hidden" name="lang" value="{}">"#, esc(csrf), lang_code(lang))
}

fn button_form(action: &str, label: &str, hidden: &str, id: &str) -> String {
    format!(r#"<form method="post" action="{}" class="inline">{hidden}<button type="submit" id="{id}">{label}</button></form>"#, esc(action))
}

#[derive(Deserialize, Default)]
pub struct PageQuery {
    q: Option<String>,
    role: Option<String>,
    region: Option<String>,
    lang: Option<String>,
    done: Option<String>,
}

/// What the create-account form held when it was refused, to show it again.
#[derive(Deserialize, Default, Clone)]
pub struct NewAccountForm {
    lang: Option<String>,
    username: String,
    display_name: String,
    role: String,
    scope: String,
    department: Option<String>,
    clearance: String,
    password: String,
}

#[derive(Deserialize, Default, Clone)]
pub struct NewDeviceForm {
    lang: Option<String>,
    name: String,
    place: Option<String>,
    scope: String,
    code: Option<String>,
}

/// What the page shows besides the lists: a refused form with its error, or a one-time result.
#[derive(Default)]
struct Extra {
    account: Option<(NewAccountForm, FieldError)>,
    device: Option<(NewDeviceForm, FieldError)>,
    /// A one-time device link (issued without a code).
    link: Option<String>,
    /// An app key's name as typed, and why it was refused.
    api_key: Option<(String, String)>,
}

fn done_message(lang: Lang, done: Option<&str>) -> String {
    let m = match done {
        Some("created") => Msg::AdminCreated,
        Some("changed") => Msg::AdminChanged,
        Some("unchanged") => Msg::AdminUnchanged,
        Some("disabled") => Msg::AdminDisabledDone,
        Some("enabled") => Msg::AdminEnabledDone,
        Some("sessions") => Msg::AdminSessionsEnded,
        Some("session") => Msg::AdminSessionEnded,
        Some("device") => Msg::AdminDeviceIssued,
        Some("revoked") => Msg::AdminDeviceRevoked,
        Some("second_factor") => Msg::AdminSecondFactorRemoved,
        Some("key_revoked") => Msg::AdminApiKeyRevoked,
        _ => return String::new(),
    };
    format!(r#"<p class="notice" id="admin-notice" role="status">{}</p>"#, t(lang, m))
}

pub async fn page(State(state): State<AppState>, headers: HeaderMap, q: Result<Query<PageQuery>, axum::extract::rejection::QueryRejection>) -> Response {
    let v = match permitted(&state, &headers, Action::Grant) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let Ok(Query(q)) = q else { return (StatusCode::BAD_REQUEST, "filters: q, role, region").into_response() };
    render(&state, &headers, &v, q, Extra::default(), StatusCode::OK).await
}

async fn render(state: &AppState, headers: &HeaderMap, v: &Viewer, q: PageQuery, extra: Extra, status: StatusCode) -> Response {
    let lang = Lang::from_query(q.lang.as_deref());
    let auth = state.cockpit.policy.auth();
    let now = state.cockpit.now();
    let Some(csrf) = auth.csrf_of(cookies(headers), now) else { return Redirect::to("/login?next=/admin").into_response() };
    let hid = hidden(&csrf, lang);
    let nonempty = |s: &Option<String>| s.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string);
    let (needle, role, region) = (nonempty(&q.q), nonempty(&q.role).and_then(|r| Role::parse(&r)), nonempty(&q.region));
    if let Some(code) = &region {
        if let Err(e) = state.cockpit.policy.region(v, Some(code)) {
            return refusal(e);
        }
    }
    let lang_q = if lang == Lang::En { "?lang=en" } else { "" };

    // Accounts.
    let accounts: Vec<AccountView> = auth
        .accounts_within(v)
        .into_iter()
        .filter(|a| needle.as_ref().is_none_or(|n| a.username.contains(n.as_str()) || a.display_name.contains(n.as_str())))
        .filter(|a| role.is_none_or(|r| a.role == r))
        .filter(|a| region.as_ref().is_none_or(|code| a.scope.starts_with(code.as_str())))
        .collect();
    let account_rows: String = accounts
        .iter()
        .map(|a| {
            let u = esc(&a.username);
            let path = format!("/admin/accounts/{}", super::gate::encode(&a.username));
            let state_text = match (a.disabled, a.must_change) {
                (true, _) => t(lang, Msg::AdminDisabled),
                (false, true) => t(lang, Msg::AdminMustChange),
                (false, false) => t(lang, Msg::AdminEnabled),
            };
            let toggle = if a.disabled {
                button_form(&format!("{path}/enable"), t(lang, Msg::AdminEnable), &hid, &format!("enable-{u}"))
            } else {
                button_form(&format!("{path}/disable"), t(lang, Msg::AdminDisable), &hid, &format!("disable-{u}"))
            };
            let last = match (&a.last_sign_in_at, &a.last_sign_in_from) {
                (Some(at), Some(from)) => format!("{} · {}", date_time(*at), esc(from)),
                (at, _) => when(*at, lang),
            };
            format!(
                r#"<tr data-username="{u}"><td><a href="{path}{lang_q}" id="edit-{u}">{u}</a></td><td>{name}</td><td>{role}</td><td>{scope}</td><td>{clr}</td><td class="state">{state_text}</td><td>{last}</td><td class="row-actions">{toggle}{reset}{out}</td></tr>"#,
                name = esc(&a.display_name),
                role = i18n::role(lang, a.role),
                scope = esc(&region_label(state, &a.scope)),
                clr = i18n::clearance(lang, a.clearance),
                reset = button_form(&format!("{path}/reset"), t(lang, Msg::AdminReset), &hid, &format!("reset-{u}")),
                out = button_form(&format!("{path}/sessions"), t(lang, Msg::AdminEndSessions), &hid, &format!("sessions-{u}")),
            )
        })
        .collect();

    // The create-account form, as refused or empty.
    let (nf, nerr) = extra.account.clone().unwrap_or_default();
    let create = format!(
        r#"<form method="post" action="/admin/accounts" class="admin-form" id="create-account">{hid}
<label>{l_user}<input name="username" value="{username}" required autocomplete="off"></label>{e_user}
<label>{l_name}<input name="display_name" value="{display}" required></label>{e_name}
<label>{l_role}<select name="role">{roles}</select></label>{e_role}
<label>{l_scope}<input name="scope" value="{scope}" required placeholder="{root}"></label>{e_scope}
<label>{l_dept}<input name="department" value="{dept}"></label>
<label>{l_clr}<select name="clearance">{clrs}</select></label>{e_clr}
<label>{l_pw}<input name="password" type="password" autocomplete="new-password" required></label>{e_pw}
<p class="hint">{rule}</p>
<button type="submit">{submit}</button></form>"#,
        l_user = t(lang, Msg::AdminUsername),
        username = esc(&nf.username),
        e_user = field_error(&nerr, "username"),
        l_name = t(lang, Msg::AdminDisplayName),
        display = esc(&nf.display_name),
        e_name = field_error(&nerr, "display_name"),
        l_role = t(lang, Msg::AdminRole),
        roles = role_options(lang, Role::parse(&nf.role).or(Some(Role::StreetOfficial)), false),
        e_role = field_error(&nerr, "role"),
        l_scope = t(lang, Msg::AdminScope),
        scope = esc(&nf.scope),
        root = esc(&v.scope.root),
        e_scope = field_error(&nerr, "scope"),
        l_dept = t(lang, Msg::AdminDepartment),
        dept = esc(nf.department.as_deref().unwrap_or("")),
        l_clr = t(lang, Msg::AdminClearance),
        clrs = clearance_options(lang, Clearance::parse(&nf.clearance).unwrap_or(Clearance::Internal), v.clearance),
        e_clr = field_error(&nerr, "clearance"),
        l_pw = t(lang, Msg::AdminInitialPassword),
        e_pw = field_error(&nerr, "password"),
        rule = t(lang, Msg::PasswordRule),
        submit = t(lang, Msg::AdminCreateSubmit),
    );

    // Wall displays.
    let devices = match auth.devices_within(v).await {
        Ok(d) => d,
        Err(e) => return unavailable(e),
    };
    let device_rows: String = devices
        .iter()
        .rev()
        .map(|d| {
            let shows = d
                .playlist
                .as_deref()
                .and_then(|p| serde_json::from_str::<app::model::Playlist>(p).ok())
                .map(|p| {
                    let scene = |k: app::model::SceneKey| match k {
                        app::model::SceneKey::Overview => t(lang, Msg::SceneOverview),
                        app::model::SceneKey::Flow => t(lang, Msg::SceneFlow),
                        app::model::SceneKey::Safety => t(lang, Msg::SceneSafety),
                    };
                    p.items.iter().map(|i| scene(i.scene)).collect::<Vec<_>>().join(" → ")
                })
                .unwrap_or_else(|| t(lang, Msg::AdminDefaultScene).to_string());
            let action = match d.revoked_at {
                Some(at) => format!("{} {}", t(lang, Msg::AdminRevoked), date_time(at)),
                None => button_form(&format!("/admin/devices/{}/revoke", d.id), t(lang, Msg::AdminRevoke), &hid, &format!("revoke-{}", d.id)),
            };
            format!(
                r#"<tr data-device="{id}"><td>{id}</td><td>{name}</td><td>{place}</td><td>{scope}</td><td>{issued}</td><td class="seen">{seen}</td><td>{shows}</td><td class="row-actions">{action}</td></tr>"#,
                id = d.id,
                name = esc(&d.name),
                place = esc(&d.place),
                scope = esc(&region_label(state, &d.scope)),
                issued = format!("{} · {}", date_time(d.issued_at), esc(&d.issued_by)),
                seen = when(d.last_seen, lang),
                shows = esc(&shows),
            )
        })
        .collect();
    let (df, derr) = extra.device.clone().unwrap_or_default();
    let link = extra
        .link
        .as_deref()
        .map(|l| format!(r#"<p class="notice" role="status">{} <code id="device-link">{}</code></p>"#, t(lang, Msg::AdminActivationLink), esc(l)))
        .unwrap_or_default();
    let issue = format!(
        r#"{link}<form method="post" action="/admin/devices" class="admin-form" id="issue-device">{hid}
<label>{l_name}<input name="name" value="{name}" required></label>{e_name}
<label>{l_place}<input name="place" value="{place}"></label>
<label>{l_scope}<input name="scope" value="{scope}" required placeholder="{root}"></label>{e_scope}
<label>{l_code}<input name="code" value="{code}" autocomplete="off" placeholder="ABCD-EFGH"></label>{e_code}
<p class="hint">{hint}</p>
<button type="submit">{submit}</button></form>"#,
        l_name = t(lang, Msg::AdminDeviceName),
        name = esc(&df.name),
        e_name = field_error(&derr, "display_name"),
        l_place = t(lang, Msg::AdminDevicePlace),
        place = esc(df.place.as_deref().unwrap_or("")),
        l_scope = t(lang, Msg::AdminScope),
        scope = esc(&df.scope),
        root = esc(&v.scope.root),
        e_scope = field_error(&derr, "scope"),
        l_code = t(lang, Msg::AdminDeviceCode),
        code = esc(df.code.as_deref().unwrap_or("")),
        e_code = field_error(&derr, "code"),
        hint = t(lang, Msg::AdminDeviceCodeHint),
        submit = t(lang, Msg::AdminIssueDevice),
    );

    // Sessions.
    let session_rows: String = auth
        .sessions_within(v, now)
        .iter()
        .map(|s| {
            format!(
                r#"<tr data-session="{id}" data-username="{u}"><td>{u}</td><td>{name}</td><td>{scope}</td><td>{since}</td><td>{from}</td><td>{until}</td><td class="row-actions">{end}</td></tr>"#,
                id = s.id,
                u = esc(&s.username),
                name = esc(&s.display_name),
                scope = esc(&region_label(state, &s.scope)),
                since = date_time(s.created_at),
                from = esc(&s.address),
                until = date_time(s.expires_at),
                end = button_form(&format!("/admin/sessions/{}/end", s.id), t(lang, Msg::AdminEndSession), &hid, &format!("end-{}", s.id)),
            )
        })
        .collect();
    // Open311 app keys: city-wide administrators only (the policy's IssueApiKeys).
    let api_keys = if state.cockpit.policy.allow(v, Action::IssueApiKeys).is_ok() {
        let keys = match auth.api_keys().await {
            Ok(k) => k,
            Err(e) => return unavailable(e),
        };
        let rows: String = keys
            .iter()
            .rev()
            .map(|k| {
                let action = match k.revoked_at {
                    Some(at) => format!("{} {}", t(lang, Msg::AdminRevoked), date_time(at)),
                    None => button_form(&format!("/admin/api-keys/{}/revoke", k.id), t(lang, Msg::AdminRevoke), &hid, &format!("revoke-key-{}", k.id)),
                };
                format!(
                    r#"<tr data-api-key="{id}"><td>{id}</td><td>{name}</td><td>{issued}</td><td class="row-actions">{action}</td></tr>"#,
                    id = k.id,
                    name = esc(&k.name),
                    issued = format!("{} · {}", date_time(k.issued_at), esc(&k.issued_by)),
                )
            })
            .collect();
        let (name, why) = extra.api_key.clone().unwrap_or_default();
        let error = if why.is_empty() { String::new() } else { format!(r#"<span class="field-error" id="api_key_name-error" role="alert">{}</span>"#, esc(&why)) };
        format!(
            r#"<section id="api-keys"><h2>{h}</h2><p class="hint">{hint}</p>
<div class="scroll"><table id="api-keys-table" class="table admin-table"><thead><tr><th>ID</th><th>{c_name}</th><th>{c_issued}</th><th>{c_act}</th></tr></thead><tbody>{rows}{empty}</tbody></table></div>
<form method="post" action="/admin/api-keys" class="admin-form" id="issue-api-key">{hid}<label>{c_name}<input name="name" value="{name}" required maxlength="100"></label>{error}<button type="submit">{submit}</button></form></section>"#,
            h = t(lang, Msg::AdminApiKeys),
            hint = t(lang, Msg::AdminApiKeysHint),
            c_name = t(lang, Msg::AdminApiKeyName),
            c_issued = t(lang, Msg::AdminIssueDevice),
            c_act = t(lang, Msg::AdminActions),
            empty = if rows.is_empty() { format!(r#"<tr><td colspan="4">{}</td></tr>"#, t(lang, Msg::AdminNoRows)) } else { String::new() },
            name = esc(&name),
            submit = t(lang, Msg::AdminApiKeyIssue),
        )
    } else {
        String::new()
    };
    let none = |rows: &str, cols: usize| if rows.is_empty() { format!(r#"<tr><td colspan="{cols}">{}</td></tr>"#, t(lang, Msg::AdminNoRows)) } else { String::new() };
    let field = |name: &str, label: Msg, value: &Option<String>| format!(r#"<label>{}<input name="{name}" value="{}"></label>"#, t(lang, label), esc(value.as_deref().unwrap_or("")));
    let body = format!(
        r##"<h1>{title}</h1>{done}
<nav class="admin-nav"><a href="#accounts">{h_acc}</a> · <a href="#devices">{h_dev}</a> · <a href="#sessions">{h_ses}</a>{keys_nav}{settings_nav}</nav>
<section id="accounts"><h2>{h_acc}</h2>
<form method="get" class="audit-filter" id="account-search"><input type="hidden" name="lang" value="{lc}">{f_q}<label>{l_role}<select name="role">{roles}</select></label>{f_region}<button type="submit">{search}</button></form>
<div class="scroll"><table id="accounts-table" class="table admin-table"><thead><tr><th>{c_user}</th><th>{c_name}</th><th>{c_role}</th><th>{c_scope}</th><th>{c_clr}</th><th>{c_state}</th><th>{c_last}</th><th>{c_act}</th></tr></thead>
<tbody>{account_rows}{no_accounts}</tbody></table></div>
<h3>{h_create}</h3>{create}</section>
<section id="devices"><h2>{h_dev}</h2>
<div class="scroll"><table id="devices-table" class="table admin-table"><thead><tr><th>ID</th><th>{c_dname}</th><th>{c_place}</th><th>{c_scope}</th><th>{c_issued}</th><th>{c_seen}</th><th>{c_shows}</th><th>{c_act}</th></tr></thead>
<tbody>{device_rows}{no_devices}</tbody></table></div>
<h3>{h_issue}</h3>{issue}</section>
<section id="sessions"><h2>{h_ses}</h2>
<div class="scroll"><table id="sessions-table" class="table admin-table"><thead><tr><th>{c_user}</th><th>{c_name}</th><th>{c_scope}</th><th>{c_since}</th><th>{c_from}</th><th>{c_exp}</th><th>{c_act}</th></tr></thead>
<tbody>{session_rows}{no_sessions}</tbody></table></div></section>{api_keys}"##,
        title = t(lang, Msg::AdminTitle),
        done = done_message(lang, q.done.as_deref()),
        h_acc = t(lang, Msg::AdminAccounts),
        h_dev = t(lang, Msg::AdminDevices),
        h_ses = t(lang, Msg::AdminSessions),
        keys_nav = if api_keys.is_empty() { String::new() } else { format!(r##" · <a href="#api-keys">{}</a>"##, t(lang, Msg::AdminApiKeys)) },
        settings_nav = if state.cockpit.policy.allow(v, Action::ChangeSettings).is_ok() {
            format!(r#" · <a href="/admin/settings{lang_q}" id="settings-link">{}</a>"#, t(lang, Msg::SettingsNav))
        } else {
            String::new()
        },
        lc = lang_code(lang),
        f_q = field("q", Msg::AdminSearchName, &needle),
        l_role = t(lang, Msg::AdminRole),
        roles = role_options(lang, role, true),
        f_region = field("region", Msg::AdminRegion, &region),
        search = t(lang, Msg::AdminSearch),
        c_user = t(lang, Msg::AdminUsername),
        c_name = t(lang, Msg::AdminDisplayName),
        c_role = t(lang, Msg::AdminRole),
        c_scope = t(lang, Msg::AdminScope),
        c_clr = t(lang, Msg::AdminClearance),
        c_state = t(lang, Msg::AdminState),
        c_last = t(lang, Msg::AdminLastSignIn),
        c_act = t(lang, Msg::AdminActions),
        no_accounts = none(&account_rows, 8),
        h_create = t(lang, Msg::AdminCreate),
        c_dname = t(lang, Msg::AdminDeviceName),
        c_place = t(lang, Msg::AdminDevicePlace),
        c_issued = t(lang, Msg::AdminIssueDevice),
        c_seen = t(lang, Msg::AdminLastSeen),
        c_shows = t(lang, Msg::AdminShows),
        no_devices = none(&device_rows, 8),
        h_issue = t(lang, Msg::AdminIssueDevice),
        c_since = t(lang, Msg::AdminSince),
        c_from = t(lang, Msg::AdminFrom),
        c_exp = t(lang, Msg::AdminExpires),
        no_sessions = none(&session_rows, 7),
    );
    let html = shell(state, lang, t(lang, Msg::AdminTitle), "admin", &body);
    (status, [(header::CACHE_CONTROL, "no-store")], Html(html)).into_response()
}

/// Back to the page with a result line, in the form's language.
fn done(lang: &Option<String>, what: &str) -> Response {
    let en = if lang.as_deref() == Some("en") { "lang=en&" } else { "" };
    Redirect::to(&format!("/admin?{en}done={what}")).into_response()
}

fn query_for(lang: &Option<String>) -> PageQuery {
    PageQuery { lang: lang.clone(), ..Default::default() }
}

/// `POST /admin/accounts`: a new account; refused fields are said beside them, the rest kept.
pub async fn create(State(state): State<AppState>, headers: HeaderMap, Form(f): Form<NewAccountForm>) -> Response {
    let v = match permitted(&state, &headers, Action::Grant) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let lang = Lang::from_query(f.lang.as_deref());
    let refuse = |field: &'static str, msg: String| {
        let f = f.clone();
        let (state, headers, v) = (state.clone(), headers.clone(), v.clone());
        async move {
            let q = query_for(&f.lang);
            let extra = Extra { account: Some((f, Some((field, msg)))), ..Default::default() };
            render(&state, &headers, &v, q, extra, StatusCode::BAD_REQUEST).await
        }
    };
    let username = f.username.trim().to_string();
    let name_ok = (3..=40).contains(&username.chars().count()) && username.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'));
    if !name_ok {
        return refuse("username", t(lang, Msg::AdminErrUsername).to_string()).await;
    }
    let display_name = f.display_name.trim().to_string();
    if display_name.is_empty() || display_name.chars().count() > 100 {
        return refuse("display_name", t(lang, Msg::AdminErrName).to_string()).await;
    }
    let Some(role) = Role::parse(&f.role) else { return refuse("role", t(lang, Msg::AdminErrRole).to_string()).await };
    let Some(clearance) = Clearance::parse(&f.clearance) else { return refuse("clearance", t(lang, Msg::AdminErrClearance).to_string()).await };
    if let Err(why) = auth::password::check_strength(&f.password, &username) {
        return refuse("password", format!("{} {why}", t(lang, Msg::PasswordWeak))).await;
    }
    let a = Account {
        username,
        display_name,
        role,
        scope: f.scope.trim().to_string(),
        department: f.department.as_deref().map(str::trim).filter(|d| !d.is_empty()).map(str::to_string),
        clearance,
        password_hash: String::new(),
        created_at: 0,
        created_by: String::new(),
        disabled: false,
        must_change: false,
        password_set_at: 0,
        last_sign_in_at: None,
        last_sign_in_from: None,
    };
    match state.cockpit.policy.auth().create_account(&v, a, &f.password, state.cockpit.now()).await {
        Ok(()) => done(&f.lang, "created"),
        Err(AuthError::Store(m)) => unavailable(AuthError::Store(m)),
        Err(e) => {
            let (field, msg) = explain(&e, lang);
            refuse(field_name(field), msg).await
        }
    }
}

#[derive(Deserialize)]
pub struct LangQuery {
    lang: Option<String>,
}

/// `GET /admin/accounts/{username}`: the form to change an account.
pub async fn account_page(State(state): State<AppState>, headers: HeaderMap, Path(username): Path<String>, Query(q): Query<LangQuery>) -> Response {
    let v = match permitted(&state, &headers, Action::Grant) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let lang = Lang::from_query(q.lang.as_deref());
    let Some(a) = state.cockpit.policy.auth().accounts_within(&v).into_iter().find(|a| a.username == username) else {
        return (StatusCode::NOT_FOUND, "not found").into_response();
    };
    let change = AccountChange { display_name: a.display_name.clone(), role: a.role, scope: a.scope.clone(), department: a.department.clone(), clearance: a.clearance };
    edit_form(&state, &headers, &v, lang, &a, &change, None, StatusCode::OK)
}

#[allow(clippy::too_many_arguments)]
fn edit_form(state: &AppState, headers: &HeaderMap, v: &Viewer, lang: Lang, a: &AccountView, c: &AccountChange, err: FieldError, status: StatusCode) -> Response {
    let Some(csrf) = state.cockpit.policy.auth().csrf_of(cookies(headers), state.cockpit.now()) else { return Redirect::to("/login?next=/admin").into_response() };
    let back = if lang == Lang::En { "/admin?lang=en" } else { "/admin" };
    let has_2fa = state.cockpit.policy.auth().has_second_factor(&a.username);
    let body = format!(
        r#"<h1>{title}</h1><p><a href="{back}">{l_back}</a></p>
<p>{u} · {scope_now}</p>
<form method="post" action="/admin/accounts/{path}" class="admin-form" id="edit-account">{hid}
<label>{l_name}<input name="display_name" value="{name}" required></label>{e_name}
<label>{l_role}<select name="role">{roles}</select></label>{e_role}
<label>{l_scope}<input name="scope" value="{scope}" required></label>{e_scope}
<label>{l_dept}<input name="department" value="{dept}"></label>
<label>{l_clr}<select name="clearance">{clrs}</select></label>{e_clr}{e_acc}
<button type="submit">{save}</button></form>
<h2>{l_2fa}</h2><p id="second-factor-state">{state_2fa}</p>{remove_2fa}"#,
        l_2fa = t(lang, Msg::AdminSecondFactor),
        state_2fa = if has_2fa { t(lang, Msg::EnrolOn) } else { t(lang, Msg::AdminSecondFactorOff) },
        remove_2fa = if has_2fa {
            button_form(&format!("/admin/accounts/{}/second-factor", super::gate::encode(&a.username)), t(lang, Msg::AdminSecondFactorRemove), &hidden(&csrf, lang), "remove-second-factor")
        } else {
            String::new()
        },
        title = t(lang, Msg::AdminEditTitle),
        l_back = t(lang, Msg::AdminBack),
        u = esc(&a.username),
        scope_now = esc(&region_label(state, &a.scope)),
        path = super::gate::encode(&a.username),
        hid = hidden(&csrf, lang),
        l_name = t(lang, Msg::AdminDisplayName),
        name = esc(&c.display_name),
        e_name = field_error(&err, "display_name"),
        l_role = t(lang, Msg::AdminRole),
        roles = role_options(lang, Some(c.role), false),
        e_role = field_error(&err, "role"),
        l_scope = t(lang, Msg::AdminScope),
        scope = esc(&c.scope),
        e_scope = field_error(&err, "scope"),
        l_dept = t(lang, Msg::AdminDepartment),
        dept = esc(c.department.as_deref().unwrap_or("")),
        l_clr = t(lang, Msg::AdminClearance),
        clrs = clearance_options(lang, c.clearance, v.clearance.max(c.clearance)),
        e_clr = field_error(&err, "clearance"),
        e_acc = field_error(&err, "username"),
        save = t(lang, Msg::AdminSave),
    );
    let html = shell(state, lang, t(lang, Msg::AdminEditTitle), "admin", &body);
    (status, [(header::CACHE_CONTROL, "no-store")], Html(html)).into_response()
}

#[derive(Deserialize)]
pub struct EditForm {
    lang: Option<String>,
    display_name: String,
    role: String,
    scope: String,
    department: Option<String>,
    clearance: String,
}

/// `POST /admin/accounts/{username}`: changes name, role, scope, department and clearance.
pub async fn edit(State(state): State<AppState>, headers: HeaderMap, Path(username): Path<String>, Form(f): Form<EditForm>) -> Response {
    let v = match permitted(&state, &headers, Action::Grant) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let lang = Lang::from_query(f.lang.as_deref());
    let auth = state.cockpit.policy.auth();
    let Some(a) = auth.accounts_within(&v).into_iter().find(|a| a.username == username) else {
        return (StatusCode::NOT_FOUND, "not found").into_response();
    };
    let (Some(role), Some(clearance)) = (Role::parse(&f.role), Clearance::parse(&f.clearance)) else {
        return (StatusCode::BAD_REQUEST, "role and clearance are one of the listed values").into_response();
    };
    let change = AccountChange { display_name: f.display_name, role, scope: f.scope.trim().to_string(), department: f.department, clearance };
    match auth.update_account(&v, &username, change.clone(), state.cockpit.now()).await {
        Ok(true) => done(&f.lang, "changed"),
        Ok(false) => done(&f.lang, "unchanged"),
        Err((_, AuthError::Store(m))) => unavailable(AuthError::Store(m)),
        Err((field, e)) => {
            let (guess, msg) = explain(&e, lang);
            let field = if field == Field::Account { guess } else { field };
            edit_form(&state, &headers, &v, lang, &a, &change, Some((field_name(field), msg)), StatusCode::BAD_REQUEST)
        }
    }
}

#[derive(Deserialize)]
pub struct PlainForm {
    lang: Option<String>,
}

/// `POST /admin/accounts/{username}/disable|enable|reset|sessions`.
pub async fn account_op(State(state): State<AppState>, headers: HeaderMap, Path((username, op)): Path<(String, String)>, Form(f): Form<PlainForm>) -> Response {
    let v = match permitted(&state, &headers, Action::Grant) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let lang = Lang::from_query(f.lang.as_deref());
    let auth = state.cockpit.policy.auth();
    let now = state.cockpit.now();
    let result = match op.as_str() {
        "disable" => auth.set_disabled(&v, &username, true, now).await.map(|_| "disabled"),
        "enable" => auth.set_disabled(&v, &username, false, now).await.map(|_| "enabled"),
        "sessions" => auth.revoke_sessions(&v, &username, now).await.map(|_| "sessions"),
        "second-factor" => auth.remove_second_factor(&v, &username, now).await.map(|_| "second_factor"),
        "reset" => {
            return match auth.reset_password(&v, &username, now).await {
                Ok(p) => temporary_page(&state, lang, &username, &p),
                Err(e) => op_refused(&state, lang, e),
            }
        }
        _ => return (StatusCode::NOT_FOUND, "not found").into_response(),
    };
    match result {
        Ok(what) => done(&f.lang, what),
        Err(e) => op_refused(&state, lang, e),
    }
}

fn op_refused(state: &AppState, lang: Lang, e: AuthError) -> Response {
    if let AuthError::Store(_) = e {
        return unavailable(e);
    }
    let (_, msg) = explain(&e, lang);
    let back = if lang == Lang::En { "/admin?lang=en" } else { "/admin" };
    let body = format!(r#"<h1>{}</h1><p class="login-error" id="admin-error" role="alert">{}</p><p><a href="{back}">{}</a></p>"#, t(lang, Msg::AdminTitle), esc(&msg), t(lang, Msg::AdminBack));
    let status = if matches!(e, AuthError::Forbidden(_)) { StatusCode::FORBIDDEN } else { StatusCode::BAD_REQUEST };
    (status, Html(shell(state, lang, t(lang, Msg::AdminTitle), "admin", &body))).into_response()
}

/// The temporary password, shown this once to this administrator and never stored or logged.
fn temporary_page(state: &AppState, lang: Lang, username: &str, password: &str) -> Response {
    let back = if lang == Lang::En { "/admin?lang=en" } else { "/admin" };
    let body = format!(
        r#"<h1>{title}</h1><p>{u}</p><p class="device-code" id="temporary-password">{p}</p><p>{note}</p><p><a href="{back}">{l_back}</a></p>"#,
        title = t(lang, Msg::AdminTemporaryTitle),
        u = esc(username),
        p = esc(password),
        note = t(lang, Msg::AdminTemporaryNote),
        l_back = t(lang, Msg::AdminBack),
    );
    ([(header::CACHE_CONTROL, "no-store")], Html(shell(state, lang, t(lang, Msg::AdminTemporaryTitle), "admin", &body))).into_response()
}

/// `POST /admin/devices`: registers a wall display; with the code the wall shows, the wall is
/// activated at once, else a one-time link is shown.
pub async fn issue_device(State(state): State<AppState>, headers: HeaderMap, Form(f): Form<NewDeviceForm>) -> Response {
    let v = match permitted(&state, &headers, Action::Grant) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let lang = Lang::from_query(f.lang.as_deref());
    let auth = state.cockpit.policy.auth();
    let now = state.cockpit.now();
    let refuse = |field: &'static str, msg: String| {
        let f = f.clone();
        let (state, headers, v) = (state.clone(), headers.clone(), v.clone());
        async move {
            let q = query_for(&f.lang);
            let extra = Extra { device: Some((f, Some((field, msg)))), ..Default::default() };
            render(&state, &headers, &v, q, extra, StatusCode::BAD_REQUEST).await
        }
    };
    let code = f.code.as_deref().map(auth::pairing::normalise).filter(|c| !c.is_empty());
    if let Some(c) = &code {
        match auth.pairing_waiting(c, now).await {
            Ok(true) => {}
            Ok(false) => return refuse("code", t(lang, Msg::AdminErrCode).to_string()).await,
            Err(e) => return unavailable(e),
        }
    }
    if f.name.trim().is_empty() {
        return refuse("display_name", t(lang, Msg::AdminErrName).to_string()).await;
    }
    let (id, tok) = match auth.issue_device(&v, &f.name, f.place.as_deref().unwrap_or(""), f.scope.trim(), now).await {
        Ok(x) => x,
        Err(AuthError::Store(m)) => return unavailable(AuthError::Store(m)),
        Err(e) => {
            let (field, msg) = explain(&e, lang);
            return refuse(field_name(field), msg).await;
        }
    };
    match code {
        // The screen gets a token of its own when it next asks; the one made here is never kept.
        Some(c) if matches!(auth.pairing_complete(&c, id, now).await, Ok(true)) => done(&f.lang, "device"),
        Some(_) => {
            // The wall stopped waiting between the check and the issue: the device must not stay
            // live with a token nobody holds.
            if let Err(e) = auth.revoke_device(&v, id, now).await {
                tracing::error!(device = id, "an unpaired device could not be revoked: {e:?}");
            }
            refuse("code", t(lang, Msg::AdminErrCode).to_string()).await
        }
        None => {
            let extra = Extra { link: Some(format!("/device?token={tok}")), ..Default::default() };
            render(&state, &headers, &v, query_for(&f.lang), extra, StatusCode::CREATED).await
        }
    }
}

/// `POST /admin/devices/{id}/revoke`.
pub async fn revoke_device(State(state): State<AppState>, headers: HeaderMap, Path(id): Path<i64>, Form(f): Form<PlainForm>) -> Response {
    let v = match permitted(&state, &headers, Action::Grant) {
        Ok(v) => v,
        Err(r) => return r,
    };
    match state.cockpit.policy.auth().revoke_device(&v, id, state.cockpit.now()).await {
        Ok(()) => done(&f.lang, "revoked"),
        Err(e) => op_refused(&state, Lang::from_query(f.lang.as_deref()), e),
    }
}

#[derive(Deserialize)]
pub struct NewKeyForm {
    lang: Option<String>,
    name: String,
}

/// `POST /admin/api-keys`: a key for an Open311 app, shown this once (the store keeps its hash); a
/// refused name is said beside the field.
pub async fn issue_api_key(State(state): State<AppState>, headers: HeaderMap, Form(f): Form<NewKeyForm>) -> Response {
    let v = match permitted(&state, &headers, Action::IssueApiKeys) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let lang = Lang::from_query(f.lang.as_deref());
    match state.cockpit.policy.auth().issue_api_key(&v, &f.name, state.cockpit.now()).await {
        Ok((id, key)) => {
            let back = if lang == Lang::En { "/admin?lang=en#api-keys" } else { "/admin#api-keys" };
            let body = format!(
                r#"<h1>{title}</h1><p>{id} · {name}</p><p>{note}</p><p class="device-code" id="api-key">{key}</p><p><a href="{back}">{l_back}</a></p>"#,
                title = t(lang, Msg::AdminApiKeys),
                name = esc(f.name.trim()),
                note = t(lang, Msg::AdminApiKeyShown),
                key = esc(&key),
                l_back = t(lang, Msg::AdminBack),
            );
            ([(header::CACHE_CONTROL, "no-store")], Html(shell(&state, lang, t(lang, Msg::AdminApiKeys), "admin", &body))).into_response()
        }
        Err(AuthError::Invalid(_)) => {
            let extra = Extra { api_key: Some((f.name.clone(), t(lang, Msg::AdminApiKeyNameError).to_string())), ..Extra::default() };
            render(&state, &headers, &v, query_for(&f.lang), extra, StatusCode::BAD_REQUEST).await
        }
        Err(e) => op_refused(&state, lang, e),
    }
}

/// `POST /admin/api-keys/{id}/revoke`.
pub async fn revoke_api_key(State(state): State<AppState>, headers: HeaderMap, Path(id): Path<i64>, Form(f): Form<PlainForm>) -> Response {
    let v = match permitted(&state, &headers, Action::IssueApiKeys) {
        Ok(v) => v,
        Err(r) => return r,
    };
    match state.cockpit.policy.auth().revoke_api_key(&v, id, state.cockpit.now()).await {
        Ok(()) => done(&f.lang, "key_revoked"),
        Err(e) => op_refused(&state, Lang::from_query(f.lang.as_deref()), e),
    }
}

/// `POST /admin/sessions/{id}/end`.
pub async fn end_session_form(State(state): State<AppState>, headers: HeaderMap, Path(id): Path<String>, Form(f): Form<PlainForm>) -> Response {
    let v = match permitted(&state, &headers, Action::Grant) {
        Ok(v) => v,
        Err(r) => return r,
    };
    match state.cockpit.policy.auth().end_session(&v, &id, state.cockpit.now()).await {
        Ok(_) => done(&f.lang, "session"),
        Err(e) => op_refused(&state, Lang::from_query(f.lang.as_deref()), e),
    }
}

/// `GET /api/admin/accounts`: the accounts within reach (never a password hash).
pub async fn accounts_json(State(state): State<AppState>, headers: HeaderMap) -> Response {
    match permitted(&state, &headers, Action::Grant) {
        Ok(v) => Json(state.cockpit.policy.auth().accounts_within(&v)).into_response(),
        Err(r) => r,
    }
}

/// `GET /api/admin/sessions`: the live sessions within reach.
pub async fn sessions_json(State(state): State<AppState>, headers: HeaderMap) -> Response {
    match permitted(&state, &headers, Action::Grant) {
        Ok(v) => Json(state.cockpit.policy.auth().sessions_within(&v, state.cockpit.now())).into_response(),
        Err(r) => r,
    }
}

/// `GET /api/admin/devices`: the wall displays within reach, with when each was last seen.
pub async fn devices_json(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let v = match permitted(&state, &headers, Action::Grant) {
        Ok(v) => v,
        Err(r) => return r,
    };
    match state.cockpit.policy.auth().devices_within(&v).await {
        Ok(d) => Json(d).into_response(),
        Err(e) => unavailable(e),
    }
}

/// `POST /api/admin/sessions/{id}/end`.
pub async fn end_session_json(State(state): State<AppState>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    let v = match permitted(&state, &headers, Action::Grant) {
        Ok(v) => v,
        Err(r) => return r,
    };
    match state.cockpit.policy.auth().end_session(&v, &id, state.cockpit.now()).await {
        Ok(u) => Json(serde_json::json!({ "ended": id, "username": u })).into_response(),
        Err(AuthError::Invalid(m)) => (StatusCode::NOT_FOUND, m).into_response(),
        Err(AuthError::Forbidden(m)) => (StatusCode::FORBIDDEN, m).into_response(),
        Err(e) => unavailable(e),
    }
}

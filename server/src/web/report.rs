//! The residents' pages, plain HTML that works without JavaScript on any phone: `/report` (choose the
//! kind, describe, place it on a server-drawn map, optional contact) and `/report/{number}` (its public
//! progress). The map is an `<input type="image">`: a click submits the form with the pixel, the server
//! zooms from the city to the district or takes the point, and the page comes back with everything typed
//! so far. With JavaScript, "use my location" fills the point from the browser. A report goes through
//! the same checks and path as an Open311 POST (`Residents::submit`).
//!
//! The form is multipart so that a photo can go with it: a photo sent with any press of the form (a map
//! click included) is checked and stripped of its metadata at once (`residents::photo`), held under a
//! token the page carries on, and given to the report when it is taken. Only staff cleared for personal
//! data see it (`/api/cases/{feed}/{id}/photo`); the public pages say only that one was received.
use super::AppState;
use crate::residents::map::{self, Click};
use crate::residents::open311::escape as esc;
use crate::residents::report::Submission;
use crate::residents::service::SERVICES;
use app::i18n::{self, t, Lang, Msg};
use app::residents::Refusal;
use axum::extract::{ConnectInfo, FromRequest, Multipart, Path, Query, Request, State};
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::Form;
use std::net::SocketAddr;

type Pairs = Vec<(String, String)>;

/// The largest request body /report reads: the photo's limit and the form's fields.
pub const BODY_LIMIT: usize = crate::residents::photo::MAX_BYTES + 256 * 1024;

fn get<'a>(q: &'a Pairs, k: &str) -> &'a str {
    q.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str()).unwrap_or("")
}

fn lang_of(q: &Pairs) -> Lang {
    Lang::from_query(Some(get(q, "lang")))
}

fn lang_code(lang: Lang) -> &'static str {
    if lang == Lang::En {
        "en"
    } else {
        "zh"
    }
}

fn shell(state: &AppState, lang: Lang, title: &str, body: &str) -> String {
    format!(
        r#"<!DOCTYPE html><html lang="{tag}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} · {product}</title><link rel="stylesheet" href="{css}"><link rel="icon" href="/favicon.svg"></head>
<body><main class="page report">{body}</main></body></html>"#,
        tag = lang.html_tag(),
        product = t(lang, Msg::Product),
        css = state.assets.css,
    )
}

/// The form as it stands: what was typed, the map's region, the point if one is chosen, and a message.
struct FormState<'a> {
    q: &'a Pairs,
    region: usize,
    point: Option<(f64, f64)>,
    error: Option<String>,
    /// The photo held for this report: its token and size (bytes).
    photo: Option<(String, usize)>,
}

fn render(state: &AppState, lang: Lang, f: &FormState) -> String {
    let tree = state.cockpit.policy.tree();
    let v = |k: &str| esc(get(f.q, k));
    let options: String = SERVICES
        .iter()
        .map(|s| {
            let sel = if get(f.q, "service_code") == s.code() { " selected" } else { "" };
            format!(r#"<option value="{code}"{sel}>{name} · {desc}</option>"#, code = s.code(), name = s.name(lang), desc = esc(s.description(lang)))
        })
        .collect();
    let region = tree.get(f.region);
    let at_city = f.region == tree.root();
    let (lat, long) = f.point.map(|(lon, lat)| (format!("{lat:.6}"), format!("{lon:.6}"))).unwrap_or_default();
    let placed = match f.point.and_then(|(lon, lat)| state.cockpit.residents.place_at(lon, lat)) {
        Some(name) => format!(r#"<p class="placed" id="placed">{}{}</p>"#, t(lang, Msg::ReportPlaced), esc(&name)),
        None => r#"<p class="placed" id="placed" hidden></p>"#.to_string(),
    };
    let marker = f.point.map(|(lon, lat)| format!("?at={lon:.6},{lat:.6}")).unwrap_or_default();
    let error = f.error.as_ref().map(|e| format!(r#"<p class="login-error" role="alert">{}{}</p>"#, t(lang, Msg::ReportCould), esc(e))).unwrap_or_default();
    let back = if at_city { String::new() } else { format!(r#"<button type="submit" name="whole_city" value="1" class="link">{}</button>"#, t(lang, Msg::ReportWholeCity)) };
    let hint = t(lang, if at_city { Msg::ReportPlaceHintCity } else { Msg::ReportPlaceHintDistrict });
    let held = match &f.photo {
        Some((token, size)) => format!(
            r#"<input type="hidden" name="photo_token" value="{token}"><p class="placed" id="photo-held">{held}{kb} KB <button type="submit" name="drop_photo" value="1" class="link" id="drop-photo">{remove}</button></p>"#,
            token = esc(token),
            held = t(lang, Msg::ReportPhotoHeld),
            kb = size.div_ceil(1024),
            remove = t(lang, Msg::ReportPhotoRemove),
        ),
        None => String::new(),
    };
    format!(
        r#"<h1>{title}</h1><p>{intro}</p>{error}
<form method="post" action="/report" enctype="multipart/form-data" class="login-form report-form">
<input type="hidden" name="lang" value="{lc}"><input type="hidden" name="region" value="{region_code}">
<input type="hidden" name="lat" id="lat" value="{lat}"><input type="hidden" name="long" id="long" value="{long}">
<label>{l_service}<select name="service_code" required><option value="">{choose}</option>{options}</select></label>
<label>{l_desc}<textarea name="description" rows="4" maxlength="4000" required>{desc}</textarea><small>{desc_hint}</small></label>
<fieldset><legend>{l_place} · {region_name}</legend><p><small>{hint}</small></p>
<input type="image" name="map" src="/report/map/{region_code}.svg{marker}" width="{size}" height="{size}" alt="{region_name}" class="report-map">
{placed}{back}<button type="button" id="locate" class="link" hidden>{l_locate}</button></fieldset>
<label>{l_address}<input name="address_string" maxlength="200" value="{address}"></label>
<fieldset class="report-photo"><legend>{l_photo}</legend>{held}
<label>{l_photo_pick}<input type="file" name="photo" id="photo" accept="image/jpeg,image/png"></label><small>{photo_hint}</small></fieldset>
<fieldset><legend>{l_contact}</legend>
<label>{l_name}<input name="last_name" maxlength="50" autocomplete="name" value="{name}"></label>
<label>{l_phone}<input name="phone" type="tel" maxlength="100" autocomplete="tel" value="{phone}"></label>
<label>{l_email}<input name="email" type="email" maxlength="100" autocomplete="email" value="{email}"></label></fieldset>
<button type="submit" name="submit" value="1">{submit}</button></form>
<script>(function(){{var b=document.getElementById('locate');if(!navigator.geolocation)return;b.hidden=false;b.onclick=function(){{navigator.geolocation.getCurrentPosition(function(p){{document.getElementById('lat').value=p.coords.latitude.toFixed(6);document.getElementById('long').value=p.coords.longitude.toFixed(6);var m=document.getElementById('placed');m.hidden=false;m.textContent='{l_placed}'+p.coords.latitude.toFixed(5)+', '+p.coords.longitude.toFixed(5);}});}};}})();</script>"#,
        title = t(lang, Msg::ReportTitle),
        intro = t(lang, Msg::ReportIntro),
        lc = lang_code(lang),
        region_code = esc(&region.row.code),
        region_name = esc(&region.row.name),
        l_service = t(lang, Msg::ReportService),
        choose = t(lang, Msg::ReportChoose),
        l_desc = t(lang, Msg::ReportDescription),
        desc = v("description"),
        desc_hint = t(lang, Msg::ReportDescriptionHint),
        l_place = t(lang, Msg::ReportPlace),
        size = map::SIZE,
        l_locate = t(lang, Msg::ReportUseLocation),
        l_address = t(lang, Msg::ReportAddress),
        address = v("address_string"),
        l_contact = t(lang, Msg::ReportContact),
        l_name = t(lang, Msg::ReportName),
        name = v("last_name"),
        l_phone = t(lang, Msg::ReportPhone),
        phone = v("phone"),
        l_email = t(lang, Msg::ReportEmail),
        email = v("email"),
        submit = t(lang, Msg::ReportSubmit),
        l_placed = t(lang, Msg::ReportPlaced),
        l_photo = t(lang, Msg::ReportPhoto),
        l_photo_pick = t(lang, if f.photo.is_some() { Msg::ReportPhotoReplace } else { Msg::ReportPhotoPick }),
        photo_hint = t(lang, Msg::ReportPhotoHint),
        held = held,
    )
}

fn page(state: &AppState, lang: Lang, status: StatusCode, f: &FormState) -> Response {
    (status, [(header::CACHE_CONTROL, "no-store")], Html(shell(state, lang, t(lang, Msg::ReportTitle), &render(state, lang, f)))).into_response()
}

/// `GET /report`: the empty form on the whole city's map.
pub async fn form(State(state): State<AppState>, Query(q): Query<Pairs>) -> Response {
    let lang = lang_of(&q);
    let root = state.cockpit.policy.tree().root();
    page(&state, lang, StatusCode::OK, &FormState { q: &q, region: root, point: None, error: None, photo: None })
}

/// What a press of the form sent: its fields and, when one was chosen, a photo's bytes.
#[derive(Default)]
struct Posted {
    q: Pairs,
    photo: Option<Vec<u8>>,
    /// The body was larger than `BODY_LIMIT`: a photo too large to read.
    too_large: bool,
}

/// Reads the form, multipart (the page's own) or URL-encoded (older pages, scripts). A body that cannot
/// be read leaves the fields read so far: the page comes back with them and a message.
async fn read_post(state: &AppState, req: Request) -> Posted {
    let multipart = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|v| v.starts_with("multipart/form-data"));
    if !multipart {
        let q = Form::<Pairs>::from_request(req, state).await.map(|Form(q)| q).unwrap_or_default();
        return Posted { q, ..Posted::default() };
    }
    let mut out = Posted::default();
    let Ok(mut parts) = Multipart::from_request(req, state).await else { return out };
    loop {
        let field = match parts.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(e) => {
                out.too_large = e.status() == StatusCode::PAYLOAD_TOO_LARGE;
                break;
            }
        };
        let name = field.name().unwrap_or_default().to_string();
        let read = if name == "photo" {
            // A file input left empty still sends its part, with nothing in it.
            field.bytes().await.map(|b| {
                if !b.is_empty() {
                    out.photo = Some(b.to_vec());
                }
            })
        } else {
            field.text().await.map(|v| out.q.push((name, v)))
        };
        if let Err(e) = read {
            out.too_large = e.status() == StatusCode::PAYLOAD_TOO_LARGE;
            break;
        }
    }
    out
}

fn refused(state: &AppState, lang: Lang, f: &mut FormState, r: Refusal) -> Response {
    f.error = Some(i18n::refusal(lang, &r));
    let status = StatusCode::from_u16(r.http_status()).unwrap_or(StatusCode::BAD_REQUEST);
    page(state, lang, status, f)
}

/// `POST /report`: a click on the map (zoom or place), back to the city, a photo added or taken back,
/// or the report itself.
pub async fn post(State(state): State<AppState>, ConnectInfo(addr): ConnectInfo<SocketAddr>, req: Request) -> Response {
    let posted = read_post(&state, req).await;
    let q = posted.q;
    let lang = lang_of(&q);
    let tree = state.cockpit.policy.tree();
    let root = tree.root();
    let region = tree.find(get(&q, "region")).filter(|&r| r == root || tree.get(r).parent == Some(root)).unwrap_or(root);
    let point = match (get(&q, "long").parse::<f64>(), get(&q, "lat").parse::<f64>()) {
        (Ok(lon), Ok(lat)) if lon.is_finite() && lat.is_finite() => Some((lon, lat)),
        _ => None,
    };
    let residents = &state.cockpit.residents;
    let ip = addr.ip().to_string();
    let token = get(&q, "photo_token");
    let photo = residents.held_photo(token).await.map(|n| (token.to_string(), n));
    // A token that no longer holds anything (a day old, or forged): the resident is told at submit.
    let photo_lost = !token.is_empty() && photo.is_none();
    let mut f = FormState { q: &q, region, point, error: None, photo };
    if posted.too_large {
        return refused(&state, lang, &mut f, Refusal::PhotoTooLarge(crate::residents::photo::MAX_BYTES / (1024 * 1024)));
    }
    if !get(&q, "drop_photo").is_empty() {
        if let Some((token, _)) = f.photo.take() {
            residents.release_photo(&token).await;
        }
        return page(&state, lang, StatusCode::OK, &f);
    }
    // Every upload counts against the address, as a report does: the store is not a free file host.
    let mut counted = false;
    if let Some(bytes) = posted.photo {
        counted = true;
        if let Err(r) = residents.admit(&ip, None) {
            return refused(&state, lang, &mut f, r);
        }
        match residents.hold_photo(&bytes).await {
            Ok(held) => {
                if let Some((old, _)) = f.photo.replace(held) {
                    residents.release_photo(&old).await;
                }
            }
            Err(r) => return refused(&state, lang, &mut f, r),
        }
    }
    if !get(&q, "whole_city").is_empty() {
        f.region = root;
        f.point = None;
        return page(&state, lang, StatusCode::OK, &f);
    }
    if let (Ok(x), Ok(y)) = (get(&q, "map.x").parse::<f64>(), get(&q, "map.y").parse::<f64>()) {
        match map::click(tree, region, x, y) {
            Some(Click::Zoom(d)) => {
                f.region = d;
                f.point = None;
            }
            Some(Click::Point(lon, lat)) => f.point = Some((lon, lat)),
            None => f.error = Some(i18n::refusal(lang, &Refusal::OutsideCity)),
        }
        return page(&state, lang, StatusCode::OK, &f);
    }
    let sender = state.cockpit.policy.report_sender(None, residents.anonymous_posts());
    let admitted = if counted { Ok(()) } else { residents.admit(&ip, None) };
    if let Err(r) = admitted.and(sender) {
        return refused(&state, lang, &mut f, r);
    }
    if photo_lost && f.photo.is_none() {
        return refused(&state, lang, &mut f, Refusal::PhotoExpired);
    }
    // Without a point the address must name the community or village (the gazetteer places it).
    if f.point.is_none() && get(&q, "address_string").is_empty() {
        f.error = Some(t(lang, Msg::ReportNeedPlace).to_string());
        return page(&state, lang, StatusCode::BAD_REQUEST, &f);
    }
    let fields = ["service_code", "description", "address_string", "last_name", "phone", "email", "lat", "long"];
    let pairs: Pairs = q.iter().filter(|(k, _)| fields.contains(&k.as_str())).cloned().collect();
    match residents.submit(&Submission::from_pairs(&pairs)).await {
        Ok(id) => {
            if let Some((token, _)) = &f.photo {
                residents.attach_photo(token, &id).await;
            }
            Redirect::to(&format!("/report/{id}?lang={}", lang_code(lang))).into_response()
        }
        Err(r) => refused(&state, lang, &mut f, r),
    }
}

/// `GET /report/{number}`: the public progress of a resident's report.
pub async fn progress(State(state): State<AppState>, Path(id): Path<String>, Query(q): Query<Pairs>) -> Response {
    let lang = lang_of(&q);
    let title = t(lang, Msg::ReportProgress);
    // Only residents' own numbers: the city's other cases are read through Open311.
    let found = if id.contains(':') { Err(Refusal::NotFound) } else { state.cockpit.residents.one(&id).await };
    let photo = match &found {
        Ok(r) if state.cockpit.residents.has_photo(&r.id).await => format!(r#"<p class="placed" id="photo-received">{}</p>"#, t(lang, Msg::ReportPhotoReceived)),
        _ => String::new(),
    };
    let body = match &found {
        Ok(r) => {
            let steps: String = r
                .history
                .iter()
                .map(|s| {
                    let note = s.note.as_deref().map(|n| format!("<br><q>{}</q>", esc(n))).unwrap_or_default();
                    format!("<li><time>{}</time> {}{note}</li>", app::model::date_time(s.at), i18n::status(lang, s.status))
                })
                .collect();
            format!(
                r#"<h1>{title}</h1><p class="report-number">{l_no}<strong>{id}</strong></p>
<dl><dt>{l_service}</dt><dd>{service}</dd><dt>{l_place}</dt><dd>{place}</dd><dt>{l_state}</dt><dd>{state_name} · {stage}</dd>
<dt>{l_dept}</dt><dd>{dept}</dd><dt>{l_due}</dt><dd id="report-due">{due}</dd></dl>{photo}<ol class="report-steps">{steps}</ol>
<p><a href="/report?lang={lc}">{another}</a></p>"#,
                l_no = t(lang, Msg::ReportNumber),
                id = esc(&r.id),
                l_service = t(lang, Msg::ReportService),
                service = i18n::category(lang, r.category),
                l_place = t(lang, Msg::ReportPlace),
                place = esc(&r.place),
                l_state = t(lang, Msg::ReportProgress),
                state_name = t(lang, if r.open() { Msg::ReportOpen } else { Msg::ReportClosed }),
                stage = i18n::status(lang, r.status),
                l_dept = t(lang, Msg::ReportDepartment),
                dept = r.department.as_deref().map(esc).unwrap_or_else(|| t(lang, Msg::ReportNotYet).to_string()),
                l_due = t(lang, Msg::ReportDeadline),
                due = app::model::date_time(r.expected),
                lc = lang_code(lang),
                another = t(lang, Msg::ReportAnother),
                photo = photo,
            )
        }
        Err(Refusal::NotFound) => format!(r#"<h1>{title}</h1><p class="login-error" role="alert">{}</p><p><a href="/report?lang={}">{}</a></p>"#, t(lang, Msg::ReportNotFound), lang_code(lang), t(lang, Msg::ReportAnother)),
        Err(r) => format!(r#"<h1>{title}</h1><p class="login-error" role="alert">{}</p>"#, esc(&i18n::refusal(lang, r))),
    };
    let status = match &found {
        Ok(_) => StatusCode::OK,
        Err(r) => StatusCode::from_u16(r.http_status()).unwrap_or(StatusCode::NOT_FOUND),
    };
    (status, [(header::CACHE_CONTROL, "no-store")], Html(shell(&state, lang, title, &body))).into_response()
}

/// `GET /report/map/{code}.svg[?at=lon,lat]`: the map of the city or of one of its districts.
pub async fn map_svg(State(state): State<AppState>, Path(file): Path<String>, Query(q): Query<Pairs>) -> Response {
    let tree = state.cockpit.policy.tree();
    let root = tree.root();
    let Some(idx) = file.strip_suffix(".svg").and_then(|c| tree.find(c)).filter(|&r| r == root || tree.get(r).parent == Some(root)) else {
        return (StatusCode::NOT_FOUND, "no such map").into_response();
    };
    let at = get(&q, "at").split_once(',').and_then(|(a, b)| Some((a.parse::<f64>().ok()?, b.parse::<f64>().ok()?))).filter(|(a, b)| a.is_finite() && b.is_finite());
    let cache = if at.is_some() { "no-store" } else { "public, max-age=86400" };
    ([(header::CONTENT_TYPE, "image/svg+xml"), (header::CACHE_CONTROL, cache)], map::svg(tree, idx, at)).into_response()
}

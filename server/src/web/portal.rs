//! The transparency portal `/public/record`: the city's record for a chosen month or year, per district
//! and town (reported, closed, on time, with 环比 and 同比), mediation per tier, a choropleth of the
//! districts' on-time rates and the year's trend, both drawn on the server as SVG: plain HTML, no
//! JavaScript. The same figures as `/public/record.json`, `.csv` and `.geojson`, GeoJSON, with the data dictionary on the page.
//! Every figure comes from the engine's public record, small counts already withheld with their
//! complements (`engine::disclosure`).
use super::AppState;
use crate::residents::map::Frame;
use crate::residents::open311::escape as esc;
use app::i18n::{self, t, Lang, Msg};
use app::model::{Cell, Level, Period, PublicRecord, RecordRow};
use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};

type Pairs = Vec<(String, String)>;

fn get<'a>(q: &'a Pairs, k: &str) -> Option<&'a str> {
    q.iter().find(|(n, v)| n == k && !v.trim().is_empty()).map(|(_, v)| v.trim())
}

/// `month=YYYY-MM` or `year=YYYY` (default: this month so far), within three years and not in the
/// future; with the label to show and to put back in the form.
fn period(q: &Pairs, now: i64) -> Option<(Period, String)> {
    let today = app::model::date_time(now);
    // The form sends both fields; a month given wins.
    let (from, to, label) = match (get(q, "month"), get(q, "year")) {
        (Some(m), _) => {
            let (y, mo): (i64, i64) = (m.get(0..4)?.parse().ok()?, m.get(5..7)?.parse().ok()?);
            if m.len() != 7 || !(1..=12).contains(&mo) {
                return None;
            }
            let next = if mo == 12 { format!("{:04}-01-01", y + 1) } else { format!("{y:04}-{:02}-01", mo + 1) };
            (app::model::parse_day(&format!("{m}-01"))?, app::model::parse_day(&next)?, m.to_string())
        }
        (None, Some(y)) => {
            let y: i64 = y.parse().ok().filter(|y| (1970..=9999).contains(y))?;
            (app::model::parse_day(&format!("{y:04}-01-01"))?, app::model::parse_day(&format!("{:04}-01-01", y + 1))?, y.to_string())
        }
        (None, None) => {
            let m = &today[0..7];
            return period(&vec![("month".to_string(), m.to_string())], now);
        }
    };
    let oldest = app::model::parse_day(&format!("{:04}-01-01", today[0..4].parse::<i64>().ok()? - 3))?;
    (from <= now && from >= oldest).then_some((Period::Dates { from, to: to.min(app::model::parse_day(&today[0..10])? + app::model::DAY_MS) }, label))
}

fn record(state: &AppState, q: &Pairs) -> Result<(PublicRecord, String), Response> {
    let lang = Lang::from_query(get(q, "lang"));
    let now = state.cockpit.now();
    let Some((p, label)) = period(q, now) else {
        return Err((StatusCode::BAD_REQUEST, t(lang, Msg::RecordBadPeriod)).into_response());
    };
    Ok((state.cockpit.engine.read().expect("engine lock").public_record(p), label))
}

fn pct(x: f64) -> String {
    format!("{:.1}%", x * 100.0)
}

/// The change from `before` to `now`, when both are published and `before` is not zero.
fn change(now: Cell, before: Option<Cell>) -> String {
    match (now, before) {
        (Cell::Count(n), Some(Cell::Count(b))) if b > 0 => format!("{:+.1}%", (f64::from(n) / f64::from(b) - 1.0) * 100.0),
        _ => "—".into(),
    }
}

/// A median time to close as people read it: hours up to two days, days beyond.
fn span(lang: Lang, ms: Option<i64>) -> String {
    let Some(ms) = ms else { return "—".into() };
    let hours = ms as f64 / 3_600_000.0;
    match (hours < 48.0, lang) {
        (true, Lang::Zh) => format!("{hours:.1} 小时"),
        (true, _) => format!("{hours:.1} h"),
        (false, Lang::Zh) => format!("{:.1} 天", hours / 24.0),
        (false, _) => format!("{:.1} d", hours / 24.0),
    }
}

fn hours(ms: Option<i64>) -> String {
    ms.map(|ms| format!("{:.1}", ms as f64 / 3_600_000.0)).unwrap_or_default()
}

fn table(id: &str, caption: &str, lang: Lang, rows: &[&RecordRow], compare: bool) -> String {
    let head = [Msg::RecordArea, Msg::RecordReported, Msg::RecordClosed, Msg::RecordDue, Msg::RecordOnTime, Msg::RecordOnTimeRate, Msg::RecordCloseMedian];
    let mut h: String = head.iter().map(|m| format!(r#"<th scope="col">{}</th>"#, t(lang, *m))).collect();
    if compare {
        h.push_str(&format!(r#"<th scope="col">{}</th><th scope="col">{}</th>"#, t(lang, Msg::RecordPrevious), t(lang, Msg::RecordYearAgo)));
    }
    let body: String = rows
        .iter()
        .map(|r| {
            let rate = r.on_time_rate().map(pct).unwrap_or_else(|| "—".into());
            let cmp = if compare { format!("<td>{}</td><td>{}</td>", change(r.reported, r.reported_previous), change(r.reported, r.reported_year_ago)) } else { String::new() };
            format!(
                r#"<tr data-code="{}"><th scope="row">{}</th><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{rate}</td><td class="close-median">{}</td>{cmp}</tr>"#,
                esc(&r.code),
                esc(&r.name),
                r.reported.text(),
                r.closed.text(),
                r.due.text(),
                r.on_time.text(),
                span(lang, r.close_median_ms)
            )
        })
        .collect();
    format!(r#"<table id="{id}" class="table"><caption>{caption}</caption><thead><tr>{h}</tr></thead><tbody>{body}</tbody></table>"#)
}

const CLASSES: [(f64, &str); 5] = [(0.0, "#d73027"), (0.6, "#fc8d59"), (0.75, "#fee08b"), (0.85, "#91cf60"), (0.95, "#1a9850")];

/// The districts coloured by on-time rate, with a legend; a district without a published rate is grey.
fn choropleth(state: &AppState, lang: Lang, r: &PublicRecord) -> String {
    let tree = state.cockpit.policy.tree();
    let root = tree.root();
    let frame = Frame::of(tree, root);
    let size = crate::residents::map::SIZE;
    let mut svg = format!(r#"<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{}" viewBox="0 0 {size} {}" role="img" aria-label="{}">"#, size + 30.0, size + 30.0, t(lang, Msg::RecordMap));
    for row in r.rows.iter().filter(|x| x.level == Level::District) {
        let Some(idx) = tree.find(&row.code) else { continue };
        let rate = row.on_time_rate();
        let fill = rate.map(|x| CLASSES.iter().rev().find(|(lo, _)| x >= *lo).map(|c| c.1).unwrap_or(CLASSES[0].1)).unwrap_or("#cccccc");
        let d = crate::residents::map::path(tree, &frame, idx);
        let title = format!("{} {}", row.name, rate.map(pct).unwrap_or_else(|| t(lang, Msg::RecordNoRate).to_string()));
        svg.push_str(&format!(r##"<path d="{d}" fill="{fill}" stroke="#fff" stroke-width="1"><title>{}</title></path>"##, esc(&title)));
        let [lon, lat] = geom::label_point(&tree.get(idx).row.shape);
        let (x, y) = frame.to_px(lon, lat);
        svg.push_str(&format!(r##"<text x="{x:.1}" y="{y:.1}" font-size="12" text-anchor="middle" fill="#1d3557">{}</text>"##, esc(&row.name)));
    }
    for (i, (lo, color)) in CLASSES.iter().enumerate() {
        let x = 6.0 + i as f64 * 64.0;
        svg.push_str(&format!(r#"<rect x="{x}" y="{}" width="14" height="14" fill="{color}"/><text x="{}" y="{}" font-size="11">≥{:.0}%</text>"#, size + 8.0, x + 18.0, size + 19.0, lo * 100.0));
    }
    svg.push_str("</svg>");
    svg
}

/// Bars of the city's reports per month; a withheld month is drawn as an outline.
fn trend(lang: Lang, r: &PublicRecord) -> String {
    let (w, h, pad) = (360.0, 160.0, 24.0);
    let max = r.trend.iter().filter_map(|(_, c)| if let Cell::Count(n) = c { Some(*n) } else { None }).max().unwrap_or(0).max(1);
    let bw = (w - 2.0 * pad) / r.trend.len().max(1) as f64;
    let mut svg = format!(r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" role="img" aria-label="{}">"#, t(lang, Msg::RecordTrend));
    for (i, (start, c)) in r.trend.iter().enumerate() {
        let x = pad + i as f64 * bw;
        let month = &app::model::date_time(*start)[5..7];
        let (bar_h, text, style) = match c {
            Cell::Count(n) => (f64::from(*n) / f64::from(max) * (h - 2.0 * pad), n.to_string(), r##"fill="#145c9e""##),
            Cell::Suppressed => (4.0, Cell::SUPPRESSED_TEXT.to_string(), r##"fill="none" stroke="#145c9e""##),
        };
        let y = h - pad - bar_h;
        svg.push_str(&format!(
            r#"<rect x="{:.1}" y="{y:.1}" width="{:.1}" height="{bar_h:.1}" {style}><title>{}</title></rect><text x="{:.1}" y="{:.1}" font-size="10" text-anchor="middle">{month}</text>"#,
            x + 2.0,
            bw - 4.0,
            esc(&format!("{} {text}", &app::model::date_time(*start)[0..7])),
            x + bw / 2.0,
            h - pad + 12.0
        ));
    }
    svg.push_str("</svg>");
    svg
}

/// 诉调对接 per district (counts withheld with the city's); nothing when no court referred anything.
fn court_table(lang: Lang, rows: &[(String, String, [app::model::Cell; 4])]) -> String {
    if rows.is_empty() {
        return String::new();
    }
    let body: String = rows
        .iter()
        .map(|(code, name, c)| format!(r#"<tr data-region="{}"><th scope="row">{}</th><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>"#, esc(code), esc(name), c[0].text(), c[1].text(), c[2].text(), c[3].text()))
        .collect();
    format!(
        r#"<table id="record-court-districts" class="table"><caption>{} · {}</caption><thead><tr><th scope="col">{}</th><th scope="col">{}</th><th scope="col">{}</th><th scope="col">{}</th><th scope="col">{}</th></tr></thead><tbody>{body}</tbody></table>"#,
        t(lang, Msg::CourtTitle),
        t(lang, Msg::RecordDistricts),
        t(lang, Msg::RecordDistricts),
        t(lang, Msg::CourtReferred),
        t(lang, Msg::CourtMediated),
        t(lang, Msg::MediationSettled),
        t(lang, Msg::CourtConfirmed),
    )
}

/// `GET /public/record?month=YYYY-MM | year=YYYY [&lang=en]`.
pub async fn page(State(state): State<AppState>, Query(q): Query<Pairs>) -> Response {
    let lang = Lang::from_query(get(&q, "lang"));
    let (r, label) = match record(&state, &q) {
        Ok(x) => x,
        Err(resp) => return resp,
    };
    let lc = if lang == Lang::En { "en" } else { "zh" };
    let (month_value, year_value) = if label.len() == 7 { (label.clone(), String::new()) } else { (String::new(), label.clone()) };
    let city = &r.rows[0];
    let districts: Vec<&RecordRow> = r.rows.iter().filter(|x| x.level == Level::District).collect();
    let towns: Vec<&RecordRow> = r.rows.iter().filter(|x| x.level == Level::Town).collect();
    let mediation: String = r
        .mediation
        .iter()
        .map(|(tier, a, s)| format!("<tr><th scope=\"row\">{}</th><td>{}</td><td>{}</td></tr>", i18n::tier(lang, *tier), a.text(), s.text()))
        .collect();
    let query = if month_value.is_empty() { format!("year={year_value}") } else { format!("month={month_value}") };
    let mut dictionary: String = [Msg::RecordDictReported, Msg::RecordDictClosed, Msg::RecordDictDue, Msg::RecordDictCloseTime, Msg::RecordDictCompare, Msg::RecordDictSuppressed].iter().map(|m| format!("<li>{}</li>", t(lang, *m))).collect();
    if r.close_error > 0.0 {
        dictionary.push_str(&format!("<li>{}</li>", i18n::close_error(lang, r.close_error)));
    }
    let body = format!(
        r#"<h1>{title} · {city_name} {label}</h1><p>{intro}</p>
<p class="record-report"><a href="/report?lang={lc}">{l_report}</a></p>
<form method="get" action="/public" class="record-period"><input type="hidden" name="lang" value="{lc}">
<label>{l_month} <input type="month" name="month" value="{month_value}"></label> <label>{l_year} <input type="number" name="year" min="2000" max="2100" value="{year_value}"></label> <button type="submit">{l_show}</button></form>
<p class="record-summary">{l_rep} <strong>{c_rep}</strong> · {l_closed} <strong>{c_closed}</strong> · {l_rate} <strong>{c_rate}</strong> · {l_median} <strong id="record-close-median">{c_median}</strong> · {l_prev} {c_prev} · {l_yago} {c_yago}</p>
<figure>{map}<figcaption>{l_map}</figcaption></figure>
<figure>{trend}<figcaption>{l_trend}</figcaption></figure>
{districts}{towns}
<table id="record-mediation" class="table"><caption>{l_med}</caption><thead><tr><th scope="col">{l_tier}</th><th scope="col">{l_att}</th><th scope="col">{l_set}</th></tr></thead><tbody>{mediation}</tbody></table>
{court}
<p class="downloads"><a href="/public/record.json?{query}">JSON</a> · <a href="/public/record.csv?{query}">CSV</a> · <a href="/public/record.geojson?{query}">GeoJSON</a></p>
<p class="downloads">{l_live} <a href="/public/stats.csv">CSV</a> · <a href="/public/stats.json">JSON</a> · <a href="/public/stats.geojson">GeoJSON</a></p>
<section id="dictionary"><h2>{l_dict}</h2><ul>{dictionary}</ul></section>
<p class="as-of">{l_asof} {asof}</p>"#,
        title = t(lang, Msg::RecordTitle),
        city_name = esc(&r.city),
        intro = t(lang, Msg::RecordIntro),
        l_month = t(lang, Msg::RecordMonth),
        l_year = t(lang, Msg::RecordYear),
        l_show = t(lang, Msg::RecordShow),
        l_rep = t(lang, Msg::RecordReported),
        c_rep = city.reported.text(),
        l_closed = t(lang, Msg::RecordClosed),
        c_closed = city.closed.text(),
        l_rate = t(lang, Msg::RecordOnTimeRate),
        c_rate = city.on_time_rate().map(pct).unwrap_or_else(|| "—".into()),
        l_median = t(lang, Msg::RecordCloseMedian),
        c_median = span(lang, city.close_median_ms),
        l_prev = t(lang, Msg::RecordPrevious),
        c_prev = change(city.reported, city.reported_previous),
        l_yago = t(lang, Msg::RecordYearAgo),
        c_yago = change(city.reported, city.reported_year_ago),
        map = choropleth(&state, lang, &r),
        l_map = t(lang, Msg::RecordMap),
        trend = trend(lang, &r),
        l_trend = t(lang, Msg::RecordTrend),
        districts = table("record-districts", t(lang, Msg::RecordDistricts), lang, &districts, true),
        towns = table("record-towns", t(lang, Msg::RecordTowns), lang, &towns, false),
        l_med = t(lang, Msg::RecordMediation),
        court = r
            .court
            .map(|[referred, mediated, settled, confirmed]| format!(
                r#"<p id="record-court"><strong>{}</strong> {} {} · {} {} · {} {} · {} {}</p>"#,
                t(lang, Msg::CourtTitle),
                t(lang, Msg::CourtReferred),
                referred.text(),
                t(lang, Msg::CourtMediated),
                mediated.text(),
                t(lang, Msg::MediationSettled),
                settled.text(),
                t(lang, Msg::CourtConfirmed),
                confirmed.text()
            ))
            .unwrap_or_default()
            + &court_table(lang, &r.court_by_district),
        l_tier = t(lang, Msg::RecordTier),
        l_att = t(lang, Msg::RecordAttempts),
        l_set = t(lang, Msg::RecordSettled),
        l_dict = t(lang, Msg::RecordDictionary),
        l_report = t(lang, Msg::RecordReportLink),
        l_live = t(lang, Msg::RecordLiveDownloads),
        l_asof = t(lang, Msg::DataAsOf),
        asof = app::model::date_time(r.as_of),
    );
    let html = format!(
        r#"<!DOCTYPE html><html lang="{tag}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>{title}</title><link rel="stylesheet" href="{css}"><link rel="icon" href="/favicon.svg"></head><body><main class="page public record">{body}</main></body></html>"#,
        tag = lang.html_tag(),
        title = t(lang, Msg::RecordTitle),
        css = state.assets.css,
    );
    ([(header::CACHE_CONTROL, "no-store")], Html(html)).into_response()
}

pub async fn json(State(state): State<AppState>, Query(q): Query<Pairs>) -> Response {
    match record(&state, &q) {
        Ok((r, _)) => axum::Json(r).into_response(),
        Err(resp) => resp,
    }
}

/// Districts (real boundaries) and towns (schematic, marked so) with the period's figures.
pub async fn geojson(State(state): State<AppState>, Query(q): Query<Pairs>) -> Response {
    let (r, _) = match record(&state, &q) {
        Ok(x) => x,
        Err(resp) => return resp,
    };
    let tree = state.cockpit.policy.tree();
    let features: Vec<serde_json::Value> = r
        .rows
        .iter()
        .filter(|row| matches!(row.level, Level::District | Level::Town))
        .filter_map(|row| {
            let region = tree.get(tree.find(&row.code)?);
            Some(serde_json::json!({
                "type": "Feature",
                "properties": {
                    "code": row.code, "name": row.name, "level": row.level.as_str(), "schematic": region.row.schematic,
                    "reported": row.reported, "closed": row.closed, "due": row.due, "on_time": row.on_time,
                    "close_median_ms": row.close_median_ms,
                },
                "geometry": super::public_stats::geometry(region),
            }))
        })
        .collect();
    let fc = serde_json::json!({ "type": "FeatureCollection", "from": r.from, "to": r.to, "as_of": r.as_of, "features": features });
    ([(header::CONTENT_TYPE, "application/geo+json")], fc.to_string()).into_response()
}

pub async fn csv(State(state): State<AppState>, Query(q): Query<Pairs>) -> Response {
    let (r, _) = match record(&state, &q) {
        Ok(x) => x,
        Err(resp) => return resp,
    };
    let opt = |c: Option<Cell>| c.map(|c| c.text()).unwrap_or_default();
    let mut out = String::from("level,code,name,parent,reported,closed,due,on_time,reported_previous,reported_year_ago,close_median_hours\n");
    for row in &r.rows {
        out.push_str(&format!(
            "{},{},{},{},{},{},{},{},{},{},{}\n",
            row.level.as_str(),
            row.code,
            row.name.replace(',', " "),
            row.parent.as_deref().unwrap_or(""),
            row.reported.text(),
            row.closed.text(),
            row.due.text(),
            row.on_time.text(),
            opt(row.reported_previous),
            opt(row.reported_year_ago),
            hours(row.close_median_ms)
        ));
    }
    ([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], out).into_response()
}

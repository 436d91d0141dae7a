//! Feeds over HTTP: the webhook that source systems push to (authenticated by the feed's token and
//! signature, not a session), the operator page and API (administrators: health, counts, quarantine
//! reasons, pause, resume, replay, reload), `/metrics` for Prometheus and `/readyz`.
use super::access::{esc, permitted};
use super::AppState;
use crate::feeds::kinds::KindConfig;
use crate::feeds::registry::{FeedSpec, FeedStatus, RESIDENTS_KIND};
use crate::feeds::webhook::Refusal;
use crate::policy::Action;
use app::i18n::{t, Lang, Msg};
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Json, Response};
use serde::Deserialize;

/// A source system's push. 200 with the tally only once the batch is durable.
pub async fn webhook(State(state): State<AppState>, Path(name): Path<String>, headers: HeaderMap, body: Bytes) -> Response {
    let feeds = &state.cockpit.feeds;
    let Some((kind, ctx)) = feeds.running(&name) else {
        return if feeds.exists(&name) {
            (StatusCode::SERVICE_UNAVAILABLE, [(header::RETRY_AFTER, "30")], "feed paused; retry later").into_response()
        } else {
            (StatusCode::NOT_FOUND, "not found").into_response()
        };
    };
    let KindConfig::Webhook(cfg) = kind else { return (StatusCode::NOT_FOUND, "not found").into_response() };
    let inputs = match state.cockpit.policy.feed_push(&cfg, &headers, &body, state.cockpit.now()) {
        Ok(i) => i,
        Err(Refusal::Unauthorized) => {
            ctx.failed("refused a push: wrong token or signature".into());
            return (StatusCode::UNAUTHORIZED, "wrong token or signature").into_response();
        }
        Err(Refusal::Stale) => {
            ctx.failed("refused a push: timestamp missing or outside the window".into());
            return (StatusCode::UNAUTHORIZED, "timestamp missing or outside the allowed window").into_response();
        }
        Err(Refusal::Malformed(why)) => {
            ctx.failed(format!("refused a push: {why}"));
            return (StatusCode::BAD_REQUEST, why).into_response();
        }
    };
    match ctx.take(inputs, None).await {
        Ok(tally) => Json(serde_json::json!({"stored": tally.stored, "duplicate": tally.duplicate, "quarantined": tally.quarantined})).into_response(),
        Err(_) => (StatusCode::SERVICE_UNAVAILABLE, [(header::RETRY_AFTER, "5")], "not stored; retry").into_response(),
    }
}

fn status_json(s: &FeedStatus) -> serde_json::Value {
    serde_json::json!({
        "name": s.name, "kind": s.kind, "paused": s.paused, "stale": s.stale, "cadence_seconds": s.cadence_seconds,
        "last_success": s.last_success, "last_event_at": s.last_event_at, "lag_ms": s.lag_ms,
        "errors": s.errors, "last_error": s.last_error.as_ref().map(|(at, e)| serde_json::json!({"at": at, "error": e})),
        "received": s.received, "stored": s.stored, "duplicate": s.duplicate, "quarantined": s.quarantined,
        "quarantine_expired": s.expired, "results": s.outbox,
    })
}

fn unavailable(e: impl std::fmt::Display) -> Response {
    tracing::error!("feeds: {e}");
    (StatusCode::SERVICE_UNAVAILABLE, "service unavailable").into_response()
}

/// Quarantine rows as operators see them: which record and why, never its contents (they may hold
/// personal data, which administrators do not read).
async fn quarantine_rows(state: &AppState, feed: Option<&str>) -> Result<Vec<serde_json::Value>, Response> {
    let rows = state.cockpit.ingest.store().quarantine(feed, 200).await.map_err(unavailable)?;
    Ok(rows.iter().map(|r| serde_json::json!({"id": r.id, "feed": r.feed, "external_id": r.external_id, "reason": r.reason, "at": r.at})).collect())
}

pub async fn list(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Err(r) = permitted(&state, &headers, Action::OperateFeeds) {
        return r;
    }
    let statuses = match state.cockpit.feeds.statuses(state.cockpit.now()).await {
        Ok(s) => s,
        Err(e) => return unavailable(e),
    };
    let quarantine = match quarantine_rows(&state, None).await {
        Ok(q) => q,
        Err(r) => return r,
    };
    Json(serde_json::json!({"feeds": statuses.iter().map(status_json).collect::<Vec<_>>(), "quarantine": quarantine})).into_response()
}

/// `pause`, `resume` or `replay` one feed.
pub async fn operate(State(state): State<AppState>, headers: HeaderMap, Path((name, op)): Path<(String, String)>) -> Response {
    let v = match permitted(&state, &headers, Action::OperateFeeds) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let feeds = &state.cockpit.feeds;
    let done = match op.as_str() {
        "pause" | "resume" => feeds.set_paused(&name, op == "pause").await.map(|found| found.then(|| serde_json::json!({"feed": name, "paused": op == "pause"}))),
        "replay" => feeds
            .replay(&name)
            .await
            .map(|t| t.map(|t| serde_json::json!({"feed": name, "stored": t.stored, "duplicate": t.duplicate, "quarantined": t.quarantined})))
            .map_err(|e| e.to_string()),
        _ => return (StatusCode::NOT_FOUND, "not found").into_response(),
    };
    match done {
        Ok(Some(j)) => {
            let now = state.cockpit.now();
            state.cockpit.policy.auth().audit(&v.principal, &format!("feed_{op}"), None, &j.to_string(), now).await;
            Json(j).into_response()
        }
        Ok(None) => (StatusCode::NOT_FOUND, "not found").into_response(),
        Err(e) => unavailable(e),
    }
}

/// Re-reads `[[feeds]]` from the config file: new feeds start, removed ones stop, changed ones restart.
pub async fn reload(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let v = match permitted(&state, &headers, Action::OperateFeeds) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let Some(path) = state.cockpit.config_file.clone() else {
        return (StatusCode::CONFLICT, "the server was started without a config file; there is nothing to reload").into_response();
    };
    let specs = std::fs::read_to_string(&path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))
        .and_then(|text| crate::config::Config::from_toml(&text).map_err(|e| format!("{}: {e}", path.display())))
        .and_then(|cfg| FeedSpec::parse_all(&cfg.feeds));
    let specs = match specs {
        Ok(s) => s,
        Err(e) => return (StatusCode::BAD_REQUEST, e).into_response(),
    };
    match state.cockpit.feeds.reload(specs).await {
        Ok((started, stopped, restarted)) => {
            let j = serde_json::json!({"started": started, "stopped": stopped, "restarted": restarted});
            state.cockpit.policy.auth().audit(&v.principal, "feeds_reload", None, &j.to_string(), state.cockpit.now()).await;
            Json(j).into_response()
        }
        Err(e) => (StatusCode::BAD_REQUEST, e).into_response(),
    }
}

#[derive(Deserialize)]
pub struct PageQuery {
    lang: Option<String>,
}

/// Results owed to the system behind a feed: pending (of them failing, with the reason), delivered.
fn outbox_cell(lang: Lang, o: &crate::store::outbox::OutboxSummary) -> String {
    let failing = match (&o.last_error, o.failing) {
        (Some(e), n) if n > 0 => format!(r#" · <span class="stale">{} {n}: {}</span>"#, t(lang, Msg::ResultsFailing), esc(e)),
        _ => String::new(),
    };
    format!(
        r#"<span data-pending="{p}" data-delivered="{d}" data-failing="{f}">{pl} {p} · {dl} {d}</span>{failing}"#,
        p = o.pending,
        d = o.delivered,
        f = o.failing,
        pl = t(lang, Msg::ResultsPending),
        dl = t(lang, Msg::ResultsDelivered),
    )
}

fn when(ms: Option<i64>) -> String {
    ms.map(app::model::date_time).unwrap_or_else(|| "—".into())
}

/// The operator page: every feed with health and counts, buttons to operate them, the quarantine.
pub async fn page(State(state): State<AppState>, headers: HeaderMap, Query(q): Query<PageQuery>) -> Response {
    if let Err(r) = permitted(&state, &headers, Action::OperateFeeds) {
        return r;
    }
    let lang = Lang::from_query(q.lang.as_deref());
    let statuses = match state.cockpit.feeds.statuses(state.cockpit.now()).await {
        Ok(s) => s,
        Err(e) => return unavailable(e),
    };
    let quarantine = match quarantine_rows(&state, None).await {
        Ok(q) => q,
        Err(r) => return r,
    };
    let button = |name: &str, op: &str, label: Msg| format!(r#"<button data-feed="{}" data-op="{op}">{}</button>"#, esc(name), t(lang, label));
    let rows: String = statuses
        .iter()
        .map(|s| {
            let state_text = match (s.paused, s.stale) {
                (true, _) => t(lang, Msg::FeedPaused).to_string(),
                (false, true) => format!(r#"<span class="stale">{}</span>"#, t(lang, Msg::FeedStale)),
                (false, false) => t(lang, Msg::FeedRunning).to_string(),
            };
            let error = s.last_error.as_ref().map(|(at, e)| format!("{} · {}", app::model::date_time(*at), esc(e))).unwrap_or_default();
            format!(
                r#"<tr data-feed="{n}"><td>{n}</td><td>{k}</td><td class="state">{state_text}</td><td>{ls}</td><td>{lag}</td><td class="counts">{r} / {st} / {d} / {qu}{ex}</td><td>{errs} {error}</td><td class="outbox">{outbox}</td><td>{b1}{b2}</td></tr>"#,
                n = esc(&s.name),
                k = s.kind,
                ls = when(s.last_success),
                lag = s.lag_ms.map(|l| format!("{} s", l / 1000)).unwrap_or_else(|| "—".into()),
                r = s.received,
                st = s.stored,
                d = s.duplicate,
                qu = s.quarantined,
                ex = if s.expired > 0 { format!(" <small>({} {})</small>", t(lang, Msg::FeedExpired), s.expired) } else { String::new() },
                errs = s.errors,
                outbox = s.outbox.as_ref().map(|o| outbox_cell(lang, o)).unwrap_or_else(|| "—".into()),
                b1 = if s.kind == RESIDENTS_KIND {
                    String::new()
                } else if s.paused {
                    button(&s.name, "resume", Msg::FeedResume)
                } else {
                    button(&s.name, "pause", Msg::FeedPause)
                },
                b2 = if s.kind == RESIDENTS_KIND { String::new() } else { button(&s.name, "replay", Msg::FeedReplay) },
            )
        })
        .collect();
    let qrows: String = quarantine
        .iter()
        .map(|r| {
            format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                app::model::date_time(r["at"].as_i64().unwrap_or(0)),
                esc(r["feed"].as_str().unwrap_or("")),
                esc(r["external_id"].as_str().unwrap_or("—")),
                esc(r["reason"].as_str().unwrap_or("")),
            )
        })
        .collect();
    let html = format!(
        r#"<!DOCTYPE html><html lang="{tag}" class="page-html"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title><link rel="stylesheet" href="{css}"></head><body><main class="page feeds"><h1>{title}</h1>
<p><button data-op="reload">{reload}</button> <output id="feed-result"></output></p>
<table id="feeds" class="table"><thead><tr><th>{name}</th><th>{kind}</th><th>{state}</th><th>{last}</th><th>{lag}</th><th>{counts}</th><th>{errors}</th><th>{results}</th><th></th></tr></thead>
<tbody>{rows}</tbody></table>
<h2>{qtitle}</h2>
<table id="quarantine" class="table"><thead><tr><th>{at}</th><th>{name}</th><th>{record}</th><th>{reason}</th></tr></thead><tbody>{qrows}</tbody></table>
</main><script>
document.addEventListener('click', async (ev) => {{
  const b = ev.target.closest('button[data-op]');
  if (!b) return;
  const me = await (await fetch('/api/me')).json();
  const url = b.dataset.feed ? `/api/admin/feeds/${{b.dataset.feed}}/${{b.dataset.op}}` : '/api/admin/feeds/reload';
  const r = await fetch(url, {{ method: 'POST', headers: {{ 'x-csrf-token': me.csrf || '' }} }});
  document.getElementById('feed-result').textContent = r.ok ? '' : await r.text();
  if (r.ok) location.reload();
}});
</script></body></html>"#,
        tag = lang.html_tag(),
        css = state.assets.css,
        title = t(lang, Msg::FeedsTitle),
        reload = t(lang, Msg::FeedReload),
        name = t(lang, Msg::FeedName),
        kind = t(lang, Msg::FeedKind),
        state = t(lang, Msg::FeedState),
        last = t(lang, Msg::FeedLastSuccess),
        lag = t(lang, Msg::FeedLag),
        counts = t(lang, Msg::FeedCounts),
        errors = t(lang, Msg::FeedErrors),
        results = t(lang, Msg::FeedResults),
        qtitle = t(lang, Msg::QuarantineTitle),
        at = t(lang, Msg::AuditAt),
        record = t(lang, Msg::QuarantineRecord),
        reason = t(lang, Msg::QuarantineReason),
    );
    Html(html).into_response()
}

/// Prometheus text format. For a scraper with the configured bearer token, or a signed-in administrator;
/// without a token configured, only the latter.
pub async fn metrics(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Err(e) = state.cockpit.policy.metrics(&headers) {
        return super::refusal(e);
    }
    let now = state.cockpit.now();
    let statuses = match state.cockpit.feeds.statuses(now).await {
        Ok(s) => s,
        Err(e) => return unavailable(e),
    };
    let open = state.cockpit.engine.read().expect("engine lock").open_cases();
    let mut text = render_metrics(&statuses, open);
    text.push_str(&state.hub.counts.render(state.cockpit.streams.open(), state.hub.regions()));
    text.push_str(&state.cockpit.ingest.render_metrics());
    if let Some(bus) = state.cockpit.ingest.shared().and_then(|s| s.bus.as_ref()) {
        // One instance of several: whether announcements reach the others now (the store catch-up
        // covers the gaps, seconds late).
        text.push_str(&format!(
            "# HELP cockpit_bus_connected Whether this instance is connected to the bus.\n# TYPE cockpit_bus_connected gauge\ncockpit_bus_connected {}\n",
            u8::from(bus.connected())
        ));
    }
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], text).into_response()
}

pub fn render_metrics(statuses: &[FeedStatus], open_cases: usize) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let mut family = |name: &str, kind: &str, help: &str, rows: Vec<(String, String)>| {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
        for (labels, v) in rows {
            let _ = writeln!(out, "{name}{{{labels}}} {v}");
        }
    };
    let feed = |s: &FeedStatus| format!("feed=\"{}\"", s.name);
    family(
        "cockpit_feed_records_total",
        "counter",
        "Input records by what became of them.",
        statuses
            .iter()
            .flat_map(|s| {
                [("received", s.received), ("stored", s.stored), ("duplicate", s.duplicate), ("quarantined", s.quarantined)]
                    .map(|(o, n)| (format!("{},outcome=\"{o}\"", feed(s)), n.to_string()))
            })
            .collect(),
    );
    family("cockpit_feed_errors_total", "counter", "Feed errors since the server started.", statuses.iter().map(|s| (feed(s), s.errors.to_string())).collect());
    family(
        "cockpit_results_pending",
        "gauge",
        "Results not yet delivered to the system behind the feed (of them failing: state=\"failing\").",
        statuses
            .iter()
            .filter_map(|s| s.outbox.as_ref().map(|o| (s, o)))
            .flat_map(|(s, o)| [(format!("{},state=\"pending\"", feed(s)), o.pending.to_string()), (format!("{},state=\"failing\"", feed(s)), o.failing.to_string())])
            .collect(),
    );
    family(
        "cockpit_feed_last_success_timestamp_seconds",
        "gauge",
        "When the feed last stored a batch.",
        statuses.iter().filter_map(|s| s.last_success.map(|t| (feed(s), format!("{:.3}", t as f64 / 1000.0)))).collect(),
    );
    family(
        "cockpit_feed_lag_seconds",
        "gauge",
        "Age of the newest event the feed delivered.",
        statuses.iter().filter_map(|s| s.lag_ms.map(|l| (feed(s), format!("{:.3}", l as f64 / 1000.0)))).collect(),
    );
    family("cockpit_feed_stale", "gauge", "1 when the feed is past its expected cadence.", statuses.iter().map(|s| (feed(s), u8::from(s.stale).to_string())).collect());
    family("cockpit_feed_paused", "gauge", "1 when an operator paused the feed.", statuses.iter().map(|s| (feed(s), u8::from(s.paused).to_string())).collect());
    let _ = writeln!(out, "# HELP cockpit_open_cases Open cases counted by the indicator engine.\n# TYPE cockpit_open_cases gauge\ncockpit_open_cases {open_cases}");
    out
}

/// Ready when the store answers (the engine is loaded before the server listens).
pub async fn readyz(State(state): State<AppState>) -> Response {
    match state.cockpit.ingest.store().region_count().await {
        Ok(_) => "ready".into_response(),
        Err(e) => {
            tracing::error!("readyz: {e}");
            (StatusCode::SERVICE_UNAVAILABLE, "not ready").into_response()
        }
    }
}

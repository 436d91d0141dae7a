//! KPI tiles: the figure, its comparison and a 14-day sparkline (inline SVG, so it renders on the server).
use super::WallCtx;
use crate::i18n::{self, t, Lang, Msg};
use crate::model::{Alerts, Kpi, KpiKey};
use leptos::prelude::*;

#[component]
pub fn KpiRow() -> impl IntoView {
    let ctx = expect_context::<WallCtx>();
    let lang = ctx.lang;
    view! {
        <section class="kpis">
            {move || {
                ctx.current.get().map(|s| {
                let (alerts, duty) = (s.alerts, s.duty);
                s.kpis.into_iter().map(|k| tile(lang, k, alerts, duty)).collect_view()
            })
            }}
        </section>
    }
}

fn tile(lang: Lang, k: Kpi, alerts: Alerts, duty: crate::duty::DutyCount) -> impl IntoView {
    let key = match k.key {
        KpiKey::NewToday => "new_today",
        KpiKey::Open => "open",
        KpiKey::Overdue => "overdue",
        KpiKey::ClosureRate => "closure_rate",
        KpiKey::GridCoverage => "grid_coverage",
    };
    let (trend, class) = trend_text(lang, &k);
    view! {
        <div class="kpi" data-kpi=key>
            <div class="kpi-label">{i18n::kpi(lang, k.key)}</div>
            <div class="kpi-value" data-value=k.value.to_string()>{format_value(&k)}</div>
            <div class=format!("kpi-trend {class}")>{trend}</div>
            {(k.key == KpiKey::GridCoverage && duty.grids > 0).then(|| view! {
                <div class="kpi-alerts" id="kpi-duty" data-on-duty=duty.on_duty.to_string() data-on-leave=duty.on_leave.to_string()>
                    {i18n::duty_status(lang, crate::duty::DutyStatus::OnDuty)} " " {duty.on_duty}
                    " · " {i18n::duty_status(lang, crate::duty::DutyStatus::OnLeave)} " " {duty.on_leave}
                </div>
            })}
            {(k.key == KpiKey::Overdue).then(|| view! {
                <div class="kpi-alerts" id="kpi-alerts">
                    {t(lang, Msg::DueSoon)} " " {alerts.due_soon} " · " {t(lang, Msg::Supervised)} " " {alerts.supervised}
                    " · " {t(lang, Msg::Escalated)} " " {alerts.escalated}
                </div>
            })}
            {sparkline(&k.series)}
        </div>
    }
}

fn is_rate(k: KpiKey) -> bool {
    matches!(k, KpiKey::ClosureRate | KpiKey::GridCoverage)
}

pub fn format_value(k: &Kpi) -> String {
    if is_rate(k.key) {
        format!("{:.1}%", k.value * 100.0)
    } else {
        format!("{}", k.value.round() as i64)
    }
}

/// The comparison line under the figure, and whether it is good or bad news.
pub fn trend_text(lang: Lang, k: &Kpi) -> (String, &'static str) {
    match k.key {
        KpiKey::GridCoverage => {
            let vacant = k.previous.unwrap_or(0.0).round() as i64;
            let fit = k.also.map(|f| format!(" · {} {:.0}%", t(lang, Msg::FitRate), f * 100.0)).unwrap_or_default();
            (format!("{} {vacant}{fit}", t(lang, Msg::Vacancies)), if vacant > 0 { "warn" } else { "good" })
        }
        KpiKey::Overdue => {
            let share = k.previous.unwrap_or(0.0);
            (format!("{} {:.1}%", t(lang, Msg::OfOpen), share * 100.0), if share > 0.1 { "bad" } else { "warn" })
        }
        KpiKey::ClosureRate => match k.previous {
            Some(p) => {
                let d = (k.value - p) * 100.0;
                (format!("{} {d:+.1}pt", t(lang, Msg::VsPrevWeek)), if d >= 0.0 { "good" } else { "bad" })
            }
            None => (String::new(), ""),
        },
        KpiKey::NewToday | KpiKey::Open => match k.previous {
            Some(p) => {
                let d = (k.value - p).round() as i64;
                let arrow = if d > 0 { "▲" } else if d < 0 { "▼" } else { "＝" };
                (format!("{} {arrow}{}", t(lang, Msg::VsYesterday), d.abs()), if d > 0 { "bad" } else { "good" })
            }
            None => (String::new(), ""),
        },
    }
}

fn sparkline(series: &[f64]) -> impl IntoView {
    let points = spark_points(series, 100.0, 24.0);
    view! {
        <svg class="spark" viewBox="0 0 100 24" preserveAspectRatio="none" aria-hidden="true">
            <polyline points=points />
        </svg>
    }
}

pub fn spark_points(series: &[f64], w: f64, h: f64) -> String {
    if series.len() < 2 {
        return String::new();
    }
    let max = series.iter().cloned().fold(f64::MIN, f64::max);
    let min = series.iter().cloned().fold(f64::MAX, f64::min);
    let span = if max > min { max - min } else { 1.0 };
    let step = w / (series.len() - 1) as f64;
    series
        .iter()
        .enumerate()
        .map(|(i, v)| format!("{:.1},{:.1}", i as f64 * step, h - 1.0 - (v - min) / span * (h - 2.0)))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sparkline_spans_the_box() {
        let p = spark_points(&[0.0, 5.0, 10.0], 100.0, 24.0);
        assert_eq!(p, "0.0,23.0 50.0,12.0 100.0,1.0");
        assert_eq!(spark_points(&[3.0], 100.0, 24.0), "");
    }

    #[test]
    fn counts_compare_with_yesterday() {
        let k = Kpi { key: KpiKey::NewToday, value: 120.0, previous: Some(100.0), series: vec![], also: None };
        assert_eq!(trend_text(Lang::Zh, &k), ("较昨日 ▲20".to_string(), "bad"));
        let r = Kpi { key: KpiKey::ClosureRate, value: 0.875, previous: Some(0.9), series: vec![], also: None };
        assert_eq!(format_value(&r), "87.5%");
        assert_eq!(trend_text(Lang::En, &r).0, "vs previous 7 days -2.5pt");
    }
}

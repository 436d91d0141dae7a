//! The wall's safety scene (平安态势): video channels online, alarms, petitions and their backlog,
//! criminal cases filed and solved, the survey's sense of safety, psychological service reach, hazards
//! found and put right, the "zero" major incidents, long-standing cases resolved and satisfaction with the
//! rule of law for the region on screen, each over
//! the last 30 days with 环比 and 同比, its source feeds and as-of time; a figure whose feed is past its
//! cadence says so. Below, video online and alarms by area.
use super::charts::{axis_name, px, TEXT};
use super::{ErrorNote, WallCtx};
use crate::i18n::{self, t, Lang, Msg};
use crate::model::{SafetyArea, SafetyFigure, SafetyKey, SafetyView};
use charming::component::{Axis, Grid, Legend};
use charming::element::{AxisLabel, AxisType, ItemStyle, SplitLine, TextStyle};
use charming::series::Bar;
use charming::Chart;
use leptos::prelude::*;
use leptos::server_fn::codec::GetUrl;

/// Safety indicators of the region (None: the viewer's scope).
#[server(input = GetUrl, endpoint = "safety")]
pub async fn load_safety(region: Option<String>) -> Result<SafetyView, ServerFnError> {
    crate::backend::with_viewer_async(move |b, v| async move { b.safety(&v, region.as_deref()).await }).await
}

const REFRESH_SECS: u64 = 30;

#[component]
pub fn SafetyScene() -> impl IntoView {
    let ctx = expect_context::<WallCtx>();
    let lang = ctx.lang;
    let tick = super::refresh_tick(REFRESH_SECS);
    let view_res = Resource::new(move || (ctx.region.get(), tick.get()), |(r, _)| load_safety(r));
    let current = super::last_good(view_res);
    let areas = NodeRef::<leptos::html::Div>::new();
    #[cfg(feature = "hydrate")]
    super::charts::chart_effect(areas, move |c| {
        if let Some(v) = current.get() {
            c.resize();
            c.set_option(&area_option(lang, &v.areas, ctx.scale.get()), true);
        }
    });
    view! {
        <section class="safety-scene" id="safety-scene">
            <Transition fallback=move || view! { <p class="loading">{t(lang, Msg::Loading)}</p> }>
                <ErrorBoundary fallback=move |errors| view! { <ErrorNote lang errors /> }>
                    {move || Suspend::new(async move {
                        super::or_last_good(view_res.await, current).map(|v| tiles(lang, &v))
                    })}
                </ErrorBoundary>
            </Transition>
            <div class="panel" id="safety-areas">
                <div class="panel-head">
                    <h2>{t(lang, Msg::SafetyByArea)}</h2>
                    <span class="as-of">{t(lang, Msg::SafetyWindow)}</span>
                </div>
                <div class="panel-body"><div class="chart" node_ref=areas></div></div>
            </div>
        </section>
    }
}

/// A figure as text: a rate as a percentage, a count as a whole number, unknown as "no data".
pub fn value_text(lang: Lang, key: SafetyKey, v: Option<f64>) -> String {
    match (v, key) {
        (None, _) => t(lang, Msg::NoData).to_string(),
        (Some(x), SafetyKey::VideoOnline) => format!("{:.1}%", x * 100.0),
        (Some(x), SafetyKey::SafetySurvey) => format!("{x:.1}"),
        (Some(x), k) if k.is_percent_points() => format!("{x:.1}%"),
        (Some(x), _) => format!("{}", x.round() as i64),
    }
}

/// Relative change against an earlier window: "+12.5%", or points for rates.
pub fn trend_text(lang: Lang, key: SafetyKey, now: Option<f64>, before: Option<f64>) -> String {
    match (now, before) {
        (Some(n), Some(b)) if key == SafetyKey::VideoOnline => format!("{:+.1}pt", (n - b) * 100.0),
        (Some(n), Some(b)) if key.is_percent_points() => format!("{:+.1}pt", n - b),
        // Aimed at zero: one incident after none is news, not an undefined percentage.
        (Some(n), Some(b)) if key == SafetyKey::MajorIncidents => format!("{:+}", (n - b).round() as i64),
        (Some(n), Some(b)) if b > 0.0 => format!("{:+.1}%", (n - b) / b * 100.0),
        _ => t(lang, Msg::NoData).to_string(),
    }
}

fn tile(lang: Lang, f: &SafetyFigure) -> impl IntoView {
    let id = format!("safety-{}", serde_json::to_string(&f.key).unwrap_or_default().trim_matches('"').to_lowercase());
    let source = if f.sources.is_empty() { t(lang, Msg::NoData).to_string() } else { f.sources.join(", ") };
    let as_of = f.as_of.map(crate::model::date_time).unwrap_or_default();
    view! {
        <div class="kpi safety-figure" id=id class:stale=f.stale>
            <div class="kpi-label">{i18n::safety(lang, f.key)}</div>
            <div class="kpi-value">{value_text(lang, f.key, f.value)}</div>
            <div class="kpi-compare">
                <span>{t(lang, Msg::PeriodPrev)} " " {trend_text(lang, f.key, f.value, f.previous)}</span>
                <span>{t(lang, Msg::PeriodYear)} " " {trend_text(lang, f.key, f.value, f.year_ago)}</span>
            </div>
            <div class="kpi-source">
                {t(lang, Msg::SafetySource)} " " {source} " · " {as_of}
                {f.stale.then(|| view! { <span class="stale-badge">{t(lang, Msg::SafetyStale)}</span> })}
            </div>
        </div>
    }
}

fn tiles(lang: Lang, v: &SafetyView) -> impl IntoView {
    view! { <div class="safety-figures">{v.figures.iter().map(|f| tile(lang, f)).collect_view()}</div> }
}

/// Video online rate (left axis, %) and alarms (right axis) per area.
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
pub fn area_option(lang: Lang, areas: &[SafetyArea], scale: f64) -> String {
    let names: Vec<String> = areas.iter().map(|a| a.name.clone()).collect();
    let label = || AxisLabel::new().font_size(px(15.0, scale)).color(TEXT);
    let rate: Vec<f64> = areas.iter().map(|a| if a.channels == 0 { 0.0 } else { (f64::from(a.online) / f64::from(a.channels) * 1000.0).round() / 10.0 }).collect();
    let chart = Chart::new()
        .background_color("transparent")
        .legend(Legend::new().top("0").text_style(TextStyle::new().color(TEXT).font_size(px(15.0, scale))))
        .grid(Grid::new().left("6%").right("6%").top("14%").bottom("16%"))
        .x_axis(Axis::new().type_(AxisType::Category).data(names).axis_label(label()))
        // Each axis names its unit: a rate in % on the left, a count of alarms on the right.
        .y_axis(axis_name(Axis::new().type_(AxisType::Value).max(100).split_line(SplitLine::new().show(false)).axis_label(label()), t(lang, Msg::AxisOnlinePercent), scale))
        .y_axis(axis_name(Axis::new().type_(AxisType::Value).split_line(SplitLine::new().show(false)).axis_label(label()), t(lang, Msg::AxisAlarmCount), scale))
        .series(Bar::new().name(t(lang, Msg::VideoOnlineShort)).data(rate).item_style(ItemStyle::new().color("#29b6f6")))
        .series(
            Bar::new()
                .name(t(lang, Msg::AlarmsShort))
                .y_axis_index(1)
                .data(areas.iter().map(|a| i64::from(a.alarms)).collect::<Vec<i64>>())
                .item_style(ItemStyle::new().color("#ef5350")),
        );
    serde_json::to_string(&chart).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_read_as_rates_counts_and_relative_changes() {
        assert_eq!(value_text(Lang::Zh, SafetyKey::VideoOnline, Some(0.9712)), "97.1%");
        assert_eq!(value_text(Lang::Zh, SafetyKey::CriminalFiled, Some(12.0)), "12");
        assert_eq!(value_text(Lang::En, SafetyKey::Alarms, None), "no data");
        assert_eq!(trend_text(Lang::Zh, SafetyKey::CriminalFiled, Some(12.0), Some(10.0)), "+20.0%");
        assert_eq!(trend_text(Lang::Zh, SafetyKey::VideoOnline, Some(0.95), Some(0.97)), "-2.0pt");
        assert_eq!(trend_text(Lang::Zh, SafetyKey::Alarms, Some(3.0), Some(0.0)), "无数据", "no relative change from zero");
        // A survey or a resolution rate (0..100) changes by points, not by a relative percentage.
        assert_eq!(value_text(Lang::Zh, SafetyKey::BacklogResolution, Some(87.26)), "87.3%");
        assert_eq!(trend_text(Lang::Zh, SafetyKey::LawSatisfaction, Some(95.0), Some(93.5)), "+1.5pt");
        assert_eq!(trend_text(Lang::Zh, SafetyKey::SafetySurvey, Some(95.0), Some(96.0)), "-1.0pt");
        assert_eq!(value_text(Lang::Zh, SafetyKey::MajorIncidents, Some(0.0)), "0", "a zero target reads 0, not no data");
        assert_eq!(trend_text(Lang::Zh, SafetyKey::MajorIncidents, Some(1.0), Some(0.0)), "+1", "a zero target changes by incidents");
        assert_eq!(trend_text(Lang::Zh, SafetyKey::MajorIncidents, Some(0.0), Some(2.0)), "-2");
    }

    #[test]
    fn area_option_has_both_series_per_area() {
        let areas = vec![SafetyArea { code: "1".into(), name: "越城区".into(), online: 9, channels: 10, alarms: 4 }];
        let v: serde_json::Value = serde_json::from_str(&area_option(Lang::Zh, &areas, 1.0)).unwrap();
        assert_eq!(v["xAxis"][0]["data"][0].as_str().or(v["xAxis"]["data"][0].as_str()), Some("越城区"));
        assert_eq!(v["series"][0]["data"][0], 90.0);
        assert_eq!(v["yAxis"][0]["name"], "在线率（%）", "the rate's axis says it is a percentage");
        assert_eq!(v["yAxis"][1]["name"], "告警（条）", "the alarms' axis says it counts");
        assert_eq!(v["series"][1]["data"][0], 4);
    }
}

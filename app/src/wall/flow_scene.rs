//! The wall's case-flow scene (事件流转): the same analytics as `/api/flow` for the region on screen
//! over a period picked on screen (today, 7 days, 30 days, this year, last year, or any dates; 7 days
//! unless picked): figures with 环比 and 同比, a Sankey of transitions with returns, time in each
//! stage (median, 90th percentile), the open backlog by age, and breakdowns by area and department.
use super::charts::{axis_name, px, TEXT};
use super::{load_flow, ErrorNote, WallCtx};
use crate::i18n::{self, t, Lang, Msg};
use crate::model::{FlowFigures, FlowReport, FlowRow, StageTime};
use charming::component::{Axis, Grid, Legend};
use charming::element::{AxisLabel, AxisType, ItemStyle, SplitLine, TextStyle};
use charming::series::Bar;
use charming::Chart;
use leptos::prelude::*;

/// How often the scene asks for fresh figures.
const REFRESH_SECS: u64 = 60;

/// The period picked on screen.
#[derive(Clone, Debug, PartialEq)]
enum Choice {
    Days(u32),
    Year(u32),
    Dates(String, String),
}

#[component]
pub fn FlowScene() -> impl IntoView {
    let ctx = expect_context::<WallCtx>();
    let lang = ctx.lang;
    let tick = super::refresh_tick(REFRESH_SECS);
    let choice = RwSignal::new(Choice::Days(7));
    let report = Resource::new(
        move || (ctx.region.get(), tick.get(), choice.get()),
        |(r, _, c)| match c {
            Choice::Days(d) => load_flow(r, Some(d), None, None, None),
            Choice::Year(y) => load_flow(r, None, None, None, Some(y)),
            Choice::Dates(f, t) => load_flow(r, None, Some(f), Some(t), None),
        },
    );
    // What is on screen: the last report that arrived.
    let current = super::last_good(report);
    let good = move |res: Result<FlowReport, ServerFnError>| super::or_last_good(res, current);
    let as_of = move || current.get().map(|r| super::as_of_text(ctx, r.as_of)).unwrap_or_default();

    let sankey = NodeRef::<leptos::html::Div>::new();
    let stages = NodeRef::<leptos::html::Div>::new();
    let backlog = NodeRef::<leptos::html::Div>::new();
    #[cfg(feature = "hydrate")]
    {
        super::charts::chart_effect(sankey, move |c| {
            if let Some(r) = current.get() {
                // The scene's layout settles after the first draw (it replaces the overview): size again.
                c.resize();
                c.set_option(&super::charts::flow_option(lang, &r.links, ctx.scale.get()), true);
            }
        });
        super::charts::chart_effect(stages, move |c| {
            if let Some(r) = current.get() {
                c.resize();
                c.set_option(&stage_option(lang, &r.stages, ctx.scale.get()), true);
            }
        });
        super::charts::chart_effect(backlog, move |c| {
            if let Some(r) = current.get() {
                c.resize();
                c.set_option(&backlog_option(lang, &r.backlog, ctx.scale.get()), true);
            }
        });
    }
    let panel = move |title: Msg, id: &'static str, body: AnyView| {
        view! {
            <div class="panel" id=id>
                <div class="panel-head">
                    <h2>{t(lang, title)}</h2>
                    <span class="as-of">{t(lang, Msg::DataAsOf)} " " {as_of}</span>
                </div>
                <div class="panel-body">{body}</div>
            </div>
        }
    };
    let from = RwSignal::new(String::new());
    let to = RwSignal::new(String::new());
    let pick = move |label: Msg, key: &'static str, c: Choice| {
        let active = {
            let c = c.clone();
            move || choice.get() == c
        };
        view! {
            <button type="button" data-period=key class:active=active on:click=move |_| choice.set(c.clone())>{t(lang, label)}</button>
        }
    };
    let span = move || current.get().map(|r| format!("{} – {}", crate::model::date_time(r.from).get(..10).unwrap_or(""), crate::model::date_time(r.to - 1).get(..10).unwrap_or(""))).unwrap_or_default();
    let accuracy = move || {
        current.get().map(|r| if r.quantile_error > 0.0 { t(lang, Msg::QuantileApprox) } else { t(lang, Msg::QuantileExact) }).unwrap_or_default()
    };
    view! {
        <section class="flow-scene" id="flow-scene">
            <div class="flow-period" id="flow-period">
                {pick(Msg::PeriodToday, "1", Choice::Days(1))}
                {pick(Msg::PeriodWeek, "7", Choice::Days(7))}
                {pick(Msg::PeriodMonth, "30", Choice::Days(30))}
                {pick(Msg::PeriodThisYear, "year", Choice::Year(0))}
                {pick(Msg::PeriodLastYear, "last-year", Choice::Year(1))}
                <span class="flow-custom">
                    {t(lang, Msg::PeriodCustom)}
                    <input type="date" id="flow-from" prop:value=move || from.get() on:input=move |ev| from.set(event_target_value(&ev)) />
                    <input type="date" id="flow-to" prop:value=move || to.get() on:input=move |ev| to.set(event_target_value(&ev)) />
                    <button type="button" data-period="custom" on:click=move |_| {
                        if !from.get().is_empty() && !to.get().is_empty() {
                            choice.set(Choice::Dates(from.get(), to.get()));
                        }
                    }>{t(lang, Msg::PeriodApply)}</button>
                </span>
                <span class="flow-span" id="flow-span">{span}</span>
            </div>
            <Transition fallback=move || view! { <p class="loading">{t(lang, Msg::Loading)}</p> }>
                <ErrorBoundary fallback=move |errors| view! { <ErrorNote lang errors /> }>
                    {move || Suspend::new(async move { good(report.await).map(|r| figures_row(lang, &r)) })}
                </ErrorBoundary>
            </Transition>
            <div class="flow-charts">
                {panel(Msg::FlowSankeyTitle, "flow-sankey", view! { <div class="chart" node_ref=sankey></div> }.into_any())}
                {panel(Msg::StageTitle, "flow-stages", view! {
                    <span class="quantile-note" id="flow-quantiles">{accuracy}</span>
                    <div class="chart" node_ref=stages></div>
                }.into_any())}
                {panel(Msg::BacklogTitle, "flow-backlog", view! { <div class="chart" node_ref=backlog></div> }.into_any())}
            </div>
            <div class="flow-tables">
                {panel(Msg::ByDistrict, "flow-by-region", view! {
                    <Transition fallback=|| ()>
                        {move || Suspend::new(async move { good(report.await).ok().map(|r| table(lang, &r.by_region, false)) })}
                    </Transition>
                }.into_any())}
                {panel(Msg::ByDepartment, "flow-by-department", view! {
                    <Transition fallback=|| ()>
                        {move || Suspend::new(async move { good(report.await).ok().map(|r| table(lang, &r.by_department, true)) })}
                    </Transition>
                }.into_any())}
                {panel(Msg::MediationTitle, "flow-mediation", view! {
                    <Transition fallback=|| ()>
                        {move || Suspend::new(async move { good(report.await).ok().map(|r| view! { {mediation_table(lang, &r.mediation)} {r.court.map(|c| court_line(lang, &c))} }) })}
                    </Transition>
                }.into_any())}
            </div>
        </section>
    }
}

fn percent(v: Option<f64>) -> String {
    v.map(|x| format!("{:.1}%", x * 100.0)).unwrap_or_else(|| "—".into())
}

/// "+3" / "−2.5 pts" style change from `before` to `now`, or "no data".
fn change(lang: Lang, now: Option<f64>, before: Option<f64>, rate: bool) -> String {
    match (now, before) {
        (Some(n), Some(b)) if rate => format!("{:+.1}pt", (n - b) * 100.0),
        (Some(n), Some(b)) => format!("{:+}", (n - b) as i64),
        _ => t(lang, Msg::NoData).to_string(),
    }
}

fn figures_row(lang: Lang, r: &FlowReport) -> impl IntoView {
    type Get = fn(&FlowFigures) -> Option<f64>;
    let tiles: [(Msg, &str, Get, bool); 7] = [
        (Msg::Reported, "reported", |f| Some(f64::from(f.reported)), false),
        (Msg::Closed, "closed", |f| Some(f64::from(f.closed)), false),
        (Msg::OnTimeRate, "on-time", FlowFigures::on_time_rate, true),
        (Msg::LateOpen, "late-open", |f| Some(f64::from(f.late_open)), false),
        (Msg::Supervised, "supervised", |f| Some(f64::from(f.supervised)), false),
        (Msg::Escalated, "escalated", |f| Some(f64::from(f.escalated)), false),
        (Msg::Returned, "returned", |f| Some(f64::from(f.returned)), false),
    ];
    let year = r.year_ago.clone();
    view! {
        <div class="flow-figures">
            {tiles
                .into_iter()
                .map(|(label, id, get, rate)| {
                    let now = get(&r.figures);
                    let value = if rate { percent(now) } else { now.map(|v| v.to_string()).unwrap_or_default() };
                    let prev = change(lang, now, r.previous.as_ref().and_then(get), rate);
                    let yoy = change(lang, now, year.as_ref().and_then(get), rate);
                    view! {
                        <div class="kpi flow-figure" id=format!("flow-{id}")>
                            <div class="kpi-label">{t(lang, label)}</div>
                            <div class="kpi-value">{value}</div>
                            <div class="kpi-compare">
                                <span>{t(lang, Msg::PeriodPrev)} " " {prev}</span>
                                <span>{t(lang, Msg::PeriodYear)} " " {yoy}</span>
                            </div>
                        </div>
                    }
                })
                .collect_view()}
        </div>
    }
}

fn row_name(lang: Lang, r: &FlowRow, departments: bool) -> String {
    if departments && r.key.is_empty() {
        t(lang, Msg::NoDepartment).to_string()
    } else {
        r.name.clone()
    }
}

fn table(lang: Lang, rows: &[FlowRow], departments: bool) -> impl IntoView {
    let mut rows = rows.to_vec();
    // The worst first: most open overdue, then most due.
    rows.sort_by(|a, b| (b.figures.late_open, b.figures.due).cmp(&(a.figures.late_open, a.figures.due)));
    view! {
        <table class="flow-table">
            <thead>
                <tr>
                    <th></th>
                    <th>{t(lang, Msg::Reported)}</th>
                    <th>{t(lang, Msg::Closed)}</th>
                    <th>{t(lang, Msg::DueInPeriod)}</th>
                    <th>{t(lang, Msg::OnTimeRate)}</th>
                    <th>{t(lang, Msg::LateOpen)}</th>
                </tr>
            </thead>
            <tbody>
                {rows
                    .iter()
                    .map(|r| {
                        let f = &r.figures;
                        let late = f.late_open > 0;
                        view! {
                            <tr data-key=r.key.clone()>
                                <td>{row_name(lang, r, departments)}</td>
                                <td>{f.reported}</td>
                                <td>{f.closed}</td>
                                <td>{f.due}</td>
                                <td>{percent(f.on_time_rate())}</td>
                                <td class:late=late>{f.late_open}</td>
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table>
    }
}

/// Mediation attempts and settlements per tier (三级调解 and after).
fn mediation_table(lang: Lang, rows: &[crate::model::TierRow]) -> impl IntoView {
    view! {
        <table class="flow-table">
            <thead>
                <tr>
                    <th></th>
                    <th>{t(lang, Msg::MediationAttempts)}</th>
                    <th>{t(lang, Msg::MediationSettled)}</th>
                    <th>{t(lang, Msg::MediationRate)}</th>
                </tr>
            </thead>
            <tbody>
                {rows
                    .iter()
                    .map(|r| {
                        let rate = (r.attempts > 0).then(|| f64::from(r.settled) / f64::from(r.attempts));
                        view! {
                            <tr data-tier=r.tier.as_str()>
                                <td>{i18n::tier(lang, r.tier)}</td>
                                <td>{r.attempts}</td>
                                <td>{r.settled}</td>
                                <td>{percent(rate)}</td>
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table>
    }
}

/// 诉调对接 under the tiers: referrals (with 环比/同比), people's mediation of them and its settlement
/// rate, judicial confirmations.
fn court_line(lang: Lang, c: &crate::model::CourtReport) -> impl IntoView {
    let f = &c.figures;
    let referred = |x: &Option<crate::model::CourtFigures>| x.as_ref().map(|p| f64::from(p.referred));
    let rate = (f.mediated > 0).then(|| f64::from(f.settled) / f64::from(f.mediated));
    view! {
        <p class="court-line" id="flow-court" data-referred=f.referred data-mediated=f.mediated data-settled=f.settled data-confirmed=f.confirmed>
            <strong>{t(lang, Msg::CourtTitle)}</strong>
            " " {t(lang, Msg::CourtReferred)} " " {f.referred}
            " (" {t(lang, Msg::PeriodPrev)} " " {change(lang, Some(f64::from(f.referred)), referred(&c.previous), false)}
            " · " {t(lang, Msg::PeriodYear)} " " {change(lang, Some(f64::from(f.referred)), referred(&c.year_ago), false)} ")"
            " · " {t(lang, Msg::CourtMediated)} " " {f.mediated}
            " · " {t(lang, Msg::MediationSettled)} " " {f.settled} " (" {percent(rate)} ")"
            " · " {t(lang, Msg::CourtConfirmed)} " " {f.confirmed}
        </p>
    }
}

fn hours(ms: i64) -> f64 {
    (ms as f64 / 360_000.0).round() / 10.0
}

/// Median and 90th percentile hours per stage, as grouped bars.
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
pub fn stage_option(lang: Lang, stages: &[StageTime], scale: f64) -> String {
    let names: Vec<String> = stages.iter().map(|s| i18n::status(lang, s.status).to_string()).collect();
    let axis = |a: Axis| a.axis_label(AxisLabel::new().font_size(px(15.0, scale)).color(TEXT));
    let chart = Chart::new()
        .background_color("transparent")
        .legend(Legend::new().top("0").text_style(TextStyle::new().color(TEXT).font_size(px(15.0, scale))))
        .grid(Grid::new().left("10%").right("4%").top("18%").bottom("12%"))
        .x_axis(axis(Axis::new().type_(AxisType::Category).data(names)))
        .y_axis(axis_name(axis(Axis::new().type_(AxisType::Value).split_line(SplitLine::new().show(false))), t(lang, Msg::AxisHours), scale))
        .series(
            Bar::new()
                .name(t(lang, Msg::StageMedian))
                .data(stages.iter().map(|s| hours(s.median_ms)).collect::<Vec<f64>>())
                .item_style(ItemStyle::new().color("#29b6f6")),
        )
        .series(
            Bar::new()
                .name(t(lang, Msg::StageP90))
                .data(stages.iter().map(|s| hours(s.p90_ms)).collect::<Vec<f64>>())
                .item_style(ItemStyle::new().color("#ffb74d")),
        );
    serde_json::to_string(&chart).unwrap_or_default()
}

/// Open cases by age bucket.
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
pub fn backlog_option(lang: Lang, backlog: &[u32], scale: f64) -> String {
    let names: Vec<String> = (0..backlog.len()).map(|i| i18n::backlog_bucket(lang, i).to_string()).collect();
    let axis = |a: Axis| a.axis_label(AxisLabel::new().font_size(px(15.0, scale)).color(TEXT));
    let chart = Chart::new()
        .background_color("transparent")
        .grid(Grid::new().left("12%").right("4%").top("14%").bottom("12%"))
        .x_axis(axis(Axis::new().type_(AxisType::Category).data(names)))
        .y_axis(axis_name(axis(Axis::new().type_(AxisType::Value).split_line(SplitLine::new().show(false))), t(lang, Msg::AxisCases), scale))
        .series(Bar::new().data(backlog.iter().map(|&n| i64::from(n)).collect::<Vec<i64>>()).item_style(ItemStyle::new().color("#ef5350")));
    serde_json::to_string(&chart).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Status;

    #[test]
    fn stage_option_in_hours() {
        let stages = vec![StageTime { status: Status::Handling, count: 3, median_ms: 5_400_000, p90_ms: 72_000_000 }];
        let v: serde_json::Value = serde_json::from_str(&stage_option(Lang::Zh, &stages, 1.0)).unwrap();
        assert_eq!(v["xAxis"]["data"][0], "处置");
        assert_eq!(v["series"][0]["data"][0], 1.5);
        assert_eq!(v["series"][1]["data"][0], 20.0);
        assert_eq!(v["yAxis"]["name"], "小时", "the axis says its unit");
    }

    #[test]
    fn backlog_option_labels_every_bucket() {
        let v: serde_json::Value = serde_json::from_str(&backlog_option(Lang::En, &[4, 0, 2, 1, 0], 1.0)).unwrap();
        assert_eq!(v["xAxis"]["data"][4], "≥14 d");
        assert_eq!(v["series"][0]["data"][2], 2);
    }

    #[test]
    fn changes_read_as_signed_differences() {
        assert_eq!(change(Lang::Zh, Some(12.0), Some(15.0), false), "-3");
        assert_eq!(change(Lang::Zh, Some(0.8), Some(0.75), true), "+5.0pt");
        assert_eq!(change(Lang::En, Some(0.8), None, true), "no data");
    }
}

//! The wall's charts. Options are built with charming (pure data, so they are unit-tested natively) and
//! drawn in the browser by `chart_effect`, which exists only in the hydrate build.
use super::WallCtx;
use crate::i18n::{self, t, Lang, Msg};
use crate::model::{Category, FlowLink, Status};
use charming::component::{Axis, Grid};
use charming::element::{AxisLabel, AxisType, ItemStyle, Label, LabelPosition, LineStyle, SplitLine};
use charming::series::{Bar, Sankey};
use charming::Chart;
use leptos::prelude::*;

#[component]
pub fn CategoryChart() -> impl IntoView {
    #[cfg_attr(not(feature = "hydrate"), allow(unused_variables))]
    let ctx = expect_context::<WallCtx>();
    let node = NodeRef::<leptos::html::Div>::new();
    #[cfg(feature = "hydrate")]
    chart_effect(node, move |c| {
        if let Some(s) = ctx.current.get() {
            c.set_option(&category_option(ctx.lang, &s.categories, ctx.scale.get()), false);
        }
    });
    view! { <div class="chart" id="category-chart" node_ref=node></div> }
}

#[component]
pub fn FlowChart() -> impl IntoView {
    let ctx = expect_context::<WallCtx>();
    let node = NodeRef::<leptos::html::Div>::new();
    #[cfg(feature = "hydrate")]
    chart_effect(node, move |c| {
        if let Some(s) = ctx.current.get() {
            // not_merge: the node set changes through the day and stale nodes must go.
            c.set_option(&flow_option(ctx.lang, &s.flow, ctx.scale.get()), true);
        }
    });
    let empty = move || ctx.current.get().map(|s| s.flow.is_empty()).unwrap_or(false);
    view! {
        <div class="chart" id="flow-chart" node_ref=node></div>
        <Show when=empty>
            <p class="empty">{t(ctx.lang, Msg::FlowEmpty)}</p>
        </Show>
    }
}

/// Creates the chart once its element is mounted, then runs `draw` whenever the signals it reads change.
#[cfg(feature = "hydrate")]
pub(crate) fn chart_effect(
    node: NodeRef<leptos::html::Div>,
    mut draw: impl FnMut(&crate::echarts::Chart) + 'static,
) -> StoredValue<Option<crate::echarts::Chart>, LocalStorage> {
    let chart = StoredValue::new_local(None::<crate::echarts::Chart>);
    Effect::new(move |_| {
        let Some(el) = node.get() else { return };
        if chart.with_value(Option::is_none) {
            chart.set_value(crate::echarts::init(&el));
        }
        if let Some(c) = chart.get_value() {
            draw(&c);
        }
    });
    // A scene switch removes the element: free the chart with it (a wall runs for weeks).
    on_cleanup(move || {
        if let Some(Some(c)) = chart.try_get_value() {
            c.dispose();
        }
    });
    chart
}

#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
pub(crate) const TEXT: &str = "#cfe3ff";

#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
pub(crate) fn px(base: f64, scale: f64) -> f64 {
    (base * scale).round()
}

/// An axis with its name (the unit it counts in) above it, in the charts' text style.
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
pub(crate) fn axis_name(a: charming::component::Axis, name: &str, scale: f64) -> charming::component::Axis {
    a.name(name).name_text_style(charming::element::TextStyle::new().color(TEXT).font_size(px(15.0, scale)))
}

#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
pub fn category_option(lang: Lang, cats: &[(Category, u32)], scale: f64) -> String {
    // ECharts draws category axes bottom-up; reverse so the list reads top-down as in the catalogue.
    let rows: Vec<&(Category, u32)> = cats.iter().rev().collect();
    let names: Vec<String> = rows.iter().map(|(c, _)| i18n::category(lang, *c).to_string()).collect();
    let values: Vec<i64> = rows.iter().map(|(_, n)| i64::from(*n)).collect();
    let chart = Chart::new()
        .background_color("transparent")
        .grid(Grid::new().left("24%").right("14%").top("4%").bottom("4%"))
        .x_axis(
            Axis::new()
                .type_(AxisType::Value)
                .split_line(SplitLine::new().show(false))
                .axis_label(AxisLabel::new().show(false)),
        )
        .y_axis(
            Axis::new()
                .type_(AxisType::Category)
                .data(names)
                .axis_label(AxisLabel::new().font_size(px(15.0, scale)).color(TEXT)),
        )
        .series(
            Bar::new()
                .data(values)
                .bar_width("55%")
                .item_style(ItemStyle::new().color("#29b6f6"))
                .label(Label::new().show(true).position(LabelPosition::Right).font_size(px(15.0, scale)).color(TEXT)),
        );
    serde_json::to_string(&chart).unwrap_or_default()
}

#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
pub fn flow_option(lang: Lang, flow: &[FlowLink], scale: f64) -> String {
    // A Sankey cannot draw cycles: a return (to an earlier status) ends in a node of its own, "退回·受理".
    let node = |l: &FlowLink, end: Status| {
        if end == l.to && l.to < l.from {
            format!("{}·{}", t(lang, Msg::Returned), i18n::status(lang, end))
        } else {
            i18n::status(lang, end).to_string()
        }
    };
    let flow: Vec<&FlowLink> = flow.iter().filter(|l| l.count > 0).collect();
    let mut ends: Vec<(bool, Status)> = flow.iter().flat_map(|l| [(false, l.from), (l.to < l.from, l.to)]).collect();
    ends.sort();
    ends.dedup();
    let nodes: Vec<String> = ends
        .iter()
        .map(|&(ret, s)| if ret { format!("{}·{}", t(lang, Msg::Returned), i18n::status(lang, s)) } else { i18n::status(lang, s).to_string() })
        .collect();
    let links: Vec<(String, String, f64)> = flow.iter().map(|l| (node(l, l.from), node(l, l.to), f64::from(l.count))).collect();
    let font = px(15.0, scale);
    // Room, in pixels, for the labels right of the last column ("结案", "退回·受理"): a share of the width
    // cut them off in a narrow panel (the portrait totem's overview).
    let last = nodes.iter().filter(|n| !links.iter().any(|(from, _, _)| from == *n));
    let right = last.map(|n| label_em(n)).fold(0.0, f64::max) * font + px(10.0, scale);
    let chart = Chart::new().background_color("transparent").series(
        Sankey::new()
            .left("2%")
            .right(right)
            .top("6%")
            .bottom("6%")
            .nodes(nodes)
            .links(links)
            .label(Label::new().color(TEXT).font_size(font))
            .line_style(LineStyle::new().color("source").opacity(0.35)),
    );
    // Space between the nodes of a column, so that the labels of small nodes (returns) do not overlap
    // (charming has no setter for `nodeGap`).
    let mut v = serde_json::to_value(&chart).unwrap_or_default();
    if let Some(s) = v.pointer_mut("/series/0") {
        s["nodeGap"] = serde_json::json!(px(18.0, scale));
    }
    v.to_string()
}

/// A label's width in ems: a CJK character is one, Latin letters and digits about 0.6.
fn label_em(s: &str) -> f64 {
    s.chars().map(|c| if c.is_ascii() { 0.6 } else { 1.0 }).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_column_has_room_for_its_labels_at_any_size() {
        let flow = vec![
            FlowLink { from: Status::Accepted, to: Status::Dispatched, count: 5 },
            FlowLink { from: Status::Dispatched, to: Status::Accepted, count: 2 },
        ];
        for scale in [1.0, 1.78, 2.0] {
            let v: serde_json::Value = serde_json::from_str(&flow_option(Lang::Zh, &flow, scale)).unwrap();
            let font = v["series"][0]["label"]["fontSize"].as_f64().unwrap();
            let right = v["series"][0]["right"].as_f64().expect("right margin in pixels");
            assert!(right >= 5.0 * font, "退回·受理 is five characters at {font}px; room {right}px");
        }
        let v: serde_json::Value = serde_json::from_str(&flow_option(Lang::En, &flow, 1.0)).unwrap();
        let right = v["series"][0]["right"].as_f64().unwrap();
        let font = v["series"][0]["label"]["fontSize"].as_f64().unwrap();
        let want = label_em(&format!("{}·{}", t(Lang::En, Msg::Returned), i18n::status(Lang::En, Status::Accepted))) * font;
        assert!(right >= want, "English labels are longer: {right} < {want}");
    }

    #[test]
    fn flow_option_has_one_node_per_status_and_every_link() {
        let flow = vec![
            FlowLink { from: Status::Reported, to: Status::Accepted, count: 7 },
            FlowLink { from: Status::Accepted, to: Status::Dispatched, count: 3 },
        ];
        let v: serde_json::Value = serde_json::from_str(&flow_option(Lang::Zh, &flow, 1.0)).unwrap();
        let s = &v["series"][0];
        assert_eq!(s["type"], "sankey");
        let names: Vec<&str> = s["data"].as_array().unwrap().iter().map(|n| n["name"].as_str().unwrap()).collect();
        assert_eq!(names, ["上报", "受理", "分拨"]);
        assert_eq!(s["links"][0]["value"], 7.0);
        assert_eq!(s["links"][1]["target"], "分拨");
    }

    #[test]
    fn returns_end_in_their_own_node_so_the_sankey_has_no_cycle() {
        let flow = vec![
            FlowLink { from: Status::Accepted, to: Status::Dispatched, count: 5 },
            FlowLink { from: Status::Dispatched, to: Status::Accepted, count: 2 },
            FlowLink { from: Status::Resolved, to: Status::Handling, count: 0 },
        ];
        let v: serde_json::Value = serde_json::from_str(&flow_option(Lang::Zh, &flow, 1.0)).unwrap();
        let s = &v["series"][0];
        let names: Vec<&str> = s["data"].as_array().unwrap().iter().map(|n| n["name"].as_str().unwrap()).collect();
        assert_eq!(names, ["受理", "分拨", "退回·受理"]);
        assert_eq!((s["links"][1]["source"].as_str(), s["links"][1]["target"].as_str()), (Some("分拨"), Some("退回·受理")));
        assert_eq!(s["links"].as_array().unwrap().len(), 2, "empty links are left out");
        assert_eq!(s["nodeGap"], 18.0, "room between small nodes' labels");
    }

    #[test]
    fn category_option_lists_values_top_down() {
        let cats = vec![(Category::Dispute, 5), (Category::Hazard, 9)];
        let v: serde_json::Value = serde_json::from_str(&category_option(Lang::En, &cats, 2.0)).unwrap();
        assert_eq!(v["yAxis"]["data"][1], "Disputes");
        assert_eq!(v["series"][0]["data"][1], 5);
        assert_eq!(v["yAxis"]["axisLabel"]["fontSize"], 30.0, "15 px at 1080, scaled");
    }
}

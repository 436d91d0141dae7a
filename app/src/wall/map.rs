//! The centre map: a choropleth of open cases over the children of the region on screen; a click on a
//! child drills down, the breadcrumb and the "up" button go back. ECharts needs each GeoJSON registered
//! under a name before a map series can use it; charming has no such call, so `echarts::register_map` does it.
use super::{load_map, ErrorNote, WallCtx};
use crate::i18n::{self, t, Lang, Msg};
use crate::model::{AreaValue, GridInfo, MapLayer};
use leptos::prelude::*;
use serde_json::json;

#[component]
pub fn MapPanel() -> impl IntoView {
    let ctx = expect_context::<WallCtx>();
    let lang = ctx.lang;
    let layer = Resource::new(move || ctx.region.get(), load_map);
    let node = NodeRef::<leptos::html::Div>::new();
    #[cfg(feature = "hydrate")]
    {
        let shown = Signal::derive(move || layer.get().and_then(Result::ok));
        let registered = StoredValue::new(String::new());
        let chart = super::charts::chart_effect(node, move |c| {
            let Some(l) = shown.get() else { return };
            let values = ctx.current.get().map(|s| s.areas).unwrap_or_default();
            let fresh = registered.with_value(|r| r != &l.region.code);
            if fresh {
                crate::echarts::register_map(&l.region.code, &l.geojson);
                registered.set_value(l.region.code.clone());
            }
            c.set_option(&map_option(lang, &l, &values, ctx.scale.get()), fresh);
        });
        // One click handler for the chart's life: it reads the clicked area's code from the data item.
        let bound = StoredValue::new(false);
        Effect::new(move |_| {
            use wasm_bindgen::{closure::Closure, JsCast, JsValue};
            let Some(c) = chart.get_value() else {
                node.track();
                return;
            };
            if bound.get_value() {
                return;
            }
            bound.set_value(true);
            let on_click = Closure::<dyn Fn(JsValue)>::new(move |p: JsValue| {
                let data = js_sys::Reflect::get(&p, &"data".into()).unwrap_or(JsValue::UNDEFINED);
                // Only the wall's own region signal is touched: it lives as long as the page.
                if let Some(code) = js_sys::Reflect::get(&data, &"code".into()).ok().and_then(|v| v.as_string()) {
                    if ctx.region.get_untracked().as_deref() != Some(code.as_str()) {
                        ctx.region.set(Some(code));
                    }
                }
            });
            c.on("click", on_click.as_ref().unchecked_ref());
            // The chart lives as long as the page; so does its handler.
            on_click.forget();
        });
    }

    let as_of = move || ctx.current.get().map(|s| super::as_of_text(ctx, s.as_of)).unwrap_or_default();
    view! {
        <div class="panel map-panel" id="map-panel">
            <div class="panel-head">
                <h2>{t(lang, Msg::MapTitle)}</h2>
                <Transition fallback=|| ()>
                    {move || Suspend::new(async move {
                        layer.await.ok().map(|l| crumbs(ctx, lang, l.path))
                    })}
                </Transition>
                <span class="as-of">{t(lang, Msg::DataAsOf)} " " {as_of}</span>
            </div>
            <div class="panel-body map-body">
                <div id="map" class="chart map" node_ref=node></div>
                <Transition fallback=|| ()>
                    <ErrorBoundary fallback=move |errors| view! { <ErrorNote lang errors /> }>
                        {move || Suspend::new(async move {
                            layer.await.map(|l| view! {
                                <Show when=move || l.schematic>
                                    <div class="schematic" id="schematic" title=t(lang, Msg::SchematicNote)>
                                        {t(lang, Msg::Schematic)} " · " {t(lang, Msg::SchematicNote)}
                                    </div>
                                </Show>
                                {l.grid.clone().map(|g| grid_card(lang, g))}
                            })
                        })}
                    </ErrorBoundary>
                </Transition>
            </div>
        </div>
    }
}

/// The path from the scope's root to the region on screen, each step a button; and the way up.
fn crumbs(ctx: WallCtx, lang: Lang, path: Vec<crate::model::RegionRef>) -> impl IntoView {
    let parent = (path.len() > 1).then(|| path[path.len() - 2].code.clone());
    let up_to = parent.clone();
    view! {
        <nav id="crumbs" class="crumbs">
            {path
                .into_iter()
                .map(|r| {
                    let code = r.code.clone();
                    view! {
                        <button class="crumb" data-code=r.code on:click=move |_| ctx.region.set(Some(code.clone()))>
                            {r.name}
                        </button>
                    }
                })
                .collect_view()}
        </nav>
        <button id="map-up" class="map-up" disabled=parent.is_none()
            on:click=move |_| if let Some(p) = up_to.clone() { ctx.region.set(Some(p)) }>
            {t(lang, Msg::MapUp)}
        </button>
    }
}

fn grid_card(lang: Lang, g: GridInfo) -> impl IntoView {
    view! {
        <dl class="grid-card" id="grid-card">
            <dt>{t(lang, Msg::GridTitle)}</dt>
            <dd>{g.name} " · " {i18n::grid_kind(lang, g.kind)}</dd>
            <dt>{t(lang, Msg::GridWorker)}</dt>
            <dd>{g.worker.unwrap_or_else(|| t(lang, Msg::GridVacant).to_string())}</dd>
            <dt>{t(lang, Msg::GridHouseholds)}</dt>
            <dd>{g.households}</dd>
            <dt>{t(lang, Msg::GridPopulation)}</dt>
            <dd>{g.population}</dd>
            {g.duty.map(|d| {
                let until = d.until.map(|u| format!(" {} {}", i18n::duty_until(lang, d.status), crate::model::date_time(u))).unwrap_or_default();
                view! {
                    <dt>{t(lang, Msg::GridDuty)}</dt>
                    <dd id="grid-duty" data-status=d.status.as_str()>{i18n::duty_status(lang, d.status)} " " {d.worker.unwrap_or_default()} {until}</dd>
                }
            })}
            <dt>{t(lang, Msg::GridLastPatrol)}</dt>
            <dd id="grid-last-patrol">{g.last_patrol.map(crate::model::date_time).unwrap_or_else(|| t(lang, Msg::NeverPatrolled).to_string())}</dd>
        </dl>
    }
}

/// The ECharts option of the choropleth. Areas are keyed by display name (unique among siblings), and
/// carry their code so a click can drill down.
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
pub fn map_option(lang: Lang, layer: &MapLayer, values: &[AreaValue], scale: f64) -> String {
    let names = feature_names(&layer.geojson);
    let data: Vec<serde_json::Value> = names
        .iter()
        .map(|(code, name)| {
            let v = values.iter().find(|a| &a.code == code);
            json!({
                "name": name,
                "code": code,
                "value": v.map(|a| a.open).unwrap_or(0),
                "overdue": v.map(|a| a.overdue).unwrap_or(0),
            })
        })
        .collect();
    let max = values.iter().map(|a| a.open).max().unwrap_or(0).max(1);
    let px = |b: f64| (b * scale).round();
    json!({
        "backgroundColor": "transparent",
        "tooltip": { "trigger": "item", "textStyle": { "fontSize": px(15.0) } },
        "visualMap": {
            "type": "continuous", "min": 0, "max": max, "left": "2%", "bottom": "3%",
            // The scale's ends as numbers: what the brightest colour means, read from across the room.
            "text": [format!("{} {max}", t(lang, Msg::OpenCases)), "0".to_string()], "calculable": false,
            "itemHeight": px(120.0), "itemWidth": px(15.0),
            "textStyle": { "color": "#cfe3ff", "fontSize": px(15.0) },
            "inRange": { "color": ["#0b2a4a", "#145c9e", "#2a9df4", "#f4d35e", "#f95738"] }
        },
        "series": [{
            "type": "map", "map": layer.region.code, "name": t(lang, Msg::MapTitle),
            "roam": false, "selectedMode": false, "layoutCenter": ["50%", "50%"], "layoutSize": "95%",
            "label": { "show": names.len() <= 40, "color": "#ffffff", "fontSize": px(if names.len() <= 10 { 18.0 } else { 12.0 }) },
            "itemStyle": { "borderColor": "#6fd3ff", "borderWidth": 1, "areaColor": "#0b2a4a" },
            "emphasis": { "label": { "color": "#ffffff" }, "itemStyle": { "areaColor": "#ffb74d" } },
            "data": data,
        }]
    })
    .to_string()
}

/// (code, name) of every feature in a FeatureCollection, in order.
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
fn feature_names(geojson: &str) -> Vec<(String, String)> {
    let v: serde_json::Value = serde_json::from_str(geojson).unwrap_or_default();
    v["features"]
        .as_array()
        .map(|fs| {
            fs.iter()
                .filter_map(|f| {
                    let p = &f["properties"];
                    Some((p["code"].as_str()?.to_string(), p["name"].as_str()?.to_string()))
                })
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Level, RegionRef};

    #[test]
    fn map_option_keys_areas_by_name_and_carries_codes() {
        let geojson = r#"{"type":"FeatureCollection","features":[
            {"type":"Feature","properties":{"code":"330602","name":"越城区"},"geometry":null},
            {"type":"Feature","properties":{"code":"330603","name":"柯桥区"},"geometry":null}]}"#;
        let r = RegionRef { code: "330600".into(), name: "绍兴市".into(), level: Level::City };
        let layer = MapLayer { region: r.clone(), path: vec![r], geojson: geojson.into(), schematic: false, grid: None };
        let values = vec![AreaValue { code: "330603".into(), name: "柯桥区".into(), open: 42, overdue: 3, new_today: 5 }];
        let v: serde_json::Value = serde_json::from_str(&map_option(Lang::Zh, &layer, &values, 1.0)).unwrap();
        let s = &v["series"][0];
        assert_eq!(s["map"], "330600");
        assert_eq!(s["data"][0]["name"], "越城区");
        assert_eq!(s["data"][0]["value"], 0);
        assert_eq!(s["data"][1]["code"], "330603");
        assert_eq!(s["data"][1]["value"], 42);
        assert_eq!(v["visualMap"]["max"], 42);
        assert_eq!(v["visualMap"]["text"][0], "在办 42", "the legend's top end is a number");
    }
}

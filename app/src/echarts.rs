//! Bindings to the ECharts library that the page shell loads (a build with only the charts we draw).
//! charming builds the options; these few calls draw them, and add what charming's own renderer lacks:
//! `registerMap` for the choropleth and `on('click')` for drill-down.
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    #[derive(Clone, Debug)]
    pub type Chart;

    #[wasm_bindgen(catch, js_namespace = echarts, js_name = init)]
    fn init_raw(el: &web_sys::HtmlElement, theme: &str) -> Result<Chart, JsValue>;

    #[wasm_bindgen(catch, js_namespace = echarts, js_name = registerMap)]
    fn register_map_raw(name: &str, geojson: &JsValue) -> Result<(), JsValue>;

    #[wasm_bindgen(method, js_name = setOption)]
    fn set_option_raw(this: &Chart, option: &JsValue, not_merge: bool);

    #[wasm_bindgen(method)]
    pub fn resize(this: &Chart);

    #[wasm_bindgen(method)]
    pub fn dispose(this: &Chart);

    #[wasm_bindgen(method)]
    pub fn on(this: &Chart, event: &str, handler: &js_sys::Function);
}

/// A chart on `el`, or None when ECharts did not load (the page keeps its numbers and lists).
pub fn init(el: &web_sys::HtmlElement) -> Option<Chart> {
    match init_raw(el, "dark") {
        Ok(c) => Some(c),
        Err(e) => {
            leptos::logging::error!("echarts.init failed: {e:?}");
            None
        }
    }
}

/// Options go through `JSON.parse`: serde-wasm-bindgen would turn maps into JS `Map`s, which ECharts ignores.
fn parse(json: &str) -> Option<JsValue> {
    js_sys::JSON::parse(json).map_err(|e| leptos::logging::error!("bad chart JSON: {e:?}")).ok()
}

pub fn register_map(name: &str, geojson: &str) {
    if let Some(v) = parse(geojson) {
        if let Err(e) = register_map_raw(name, &v) {
            leptos::logging::error!("echarts.registerMap failed: {e:?}");
        }
    }
}

impl Chart {
    pub fn set_option(&self, option_json: &str, not_merge: bool) {
        if let Some(v) = parse(option_json) {
            self.set_option_raw(&v, not_merge);
        }
    }
}

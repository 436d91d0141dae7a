//! The wall's watchdog (browser only). A wall runs unattended for weeks, so the page checks itself every
//! `CHECK_MS`: a heap above its budget (the JS heap where the browser reports it, and the wasm memory),
//! or a live stream down for `STREAM_DOWN_MS` while the server answers, is repaired by a clean reload at a
//! scene boundary (when the playlist moves on, or at once without one). Never while the server is away:
//! a reload then would leave a browser error page on the wall. The reason reaches the server with the
//! next stream (`?reloaded=`, counted on /metrics); at most one reload per `MIN_GAP_MS`, so a page whose
//! fresh heap is already over budget does not loop.
use super::live::sleep_ms;
use super::playlist::Position;
use leptos::prelude::*;

const CHECK_MS: i32 = 15_000;
const STREAM_DOWN_MS: f64 = 120_000.0;
/// JS heap or wasm memory, each (MiB). A test may lower it with `?heap_budget_mb=`.
const HEAP_BUDGET_MB: f64 = 384.0;
const MIN_GAP_MS: f64 = 600_000.0;
const REASON_KEY: &str = "cockpit.reloaded";
const LAST_KEY: &str = "cockpit.reloaded_at";

fn storage() -> Option<web_sys::Storage> {
    window().session_storage().ok().flatten()
}

/// Why the page was last reloaded by the watchdog, once (the first stream reports it).
pub fn take_reason() -> Option<String> {
    let s = storage()?;
    let r = s.get_item(REASON_KEY).ok().flatten();
    let _ = s.remove_item(REASON_KEY);
    r.filter(|r| r == "heap" || r == "stream")
}

fn get(v: &wasm_bindgen::JsValue, key: &str) -> Option<wasm_bindgen::JsValue> {
    js_sys::Reflect::get(v, &key.into()).ok().filter(|x| !x.is_undefined() && !x.is_null())
}

/// The larger of the JS heap in use (Chromium reports it) and the wasm memory, in MiB.
fn heap_mb() -> f64 {
    let js = get(&window(), "performance").and_then(|p| get(&p, "memory")).and_then(|m| get(&m, "usedJSHeapSize")).and_then(|v| v.as_f64()).unwrap_or(0.0);
    let wasm = get(&wasm_bindgen::memory(), "buffer").and_then(|b| get(&b, "byteLength")).and_then(|v| v.as_f64()).unwrap_or(0.0);
    js.max(wasm) / 1_048_576.0
}

fn budget_mb() -> f64 {
    let search = window().location().search().unwrap_or_default();
    web_sys::UrlSearchParams::new_with_str(&search)
        .ok()
        .and_then(|p| p.get("heap_budget_mb"))
        .and_then(|v| v.parse::<f64>().ok())
        .filter(|v| *v > 0.0)
        .unwrap_or(HEAP_BUDGET_MB)
}

async fn server_answers() -> bool {
    gloo_net::http::Request::get("/healthz").send().await.is_ok_and(|r| r.ok())
}

pub fn run(lost: RwSignal<bool>, position: RwSignal<Option<Position>>) {
    let down_since = StoredValue::new(None::<f64>);
    Effect::new(move |_| {
        let l = lost.get();
        down_since.set_value(if l { down_since.get_value().or(Some(js_sys::Date::now())) } else { None });
    });
    leptos::task::spawn_local(async move {
        let budget = budget_mb();
        loop {
            sleep_ms(CHECK_MS).await;
            let now = js_sys::Date::now();
            let last = storage().and_then(|s| s.get_item(LAST_KEY).ok().flatten()).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
            if now - last < MIN_GAP_MS {
                continue;
            }
            let reason = if heap_mb() > budget {
                "heap"
            } else if down_since.get_value().is_some_and(|t| now - t > STREAM_DOWN_MS) {
                "stream"
            } else {
                continue;
            };
            // A scene boundary: the playlist's next item (a paused or absent playlist: now).
            if let Some(at) = position.get_untracked() {
                while position.get_untracked().is_some_and(|p| p.item == at.item) {
                    sleep_ms(250).await;
                }
            }
            if !server_answers().await {
                continue;
            }
            leptos::logging::warn!("watchdog: reloading the wall ({reason}, heap {:.0} MiB)", heap_mb());
            if let Some(s) = storage() {
                let _ = s.set_item(REASON_KEY, reason);
                let _ = s.set_item(LAST_KEY, &js_sys::Date::now().to_string());
            }
            let _ = window().location().reload();
            return;
        }
    });
}

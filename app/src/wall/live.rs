//! The live connection of the wall and the tablet (browser only): one Server-Sent Events stream per region
//! on screen. The server sends a `snapshot` (or a `patch` of the last one) when what the screen shows has
//! changed and a `beat` carrying
//! its time when nothing has, at least every few seconds; a longer silence, a closed stream or a failed
//! connection marks the screen offline at once and reconnects. A wall runs unattended for weeks, so it
//! reconnects forever, jittered so that a thousand walls do not return in the same second.
use crate::model::WallSnapshot;
use futures::future::Either;
use futures::StreamExt;
use gloo_net::eventsource::futures::EventSource;
use leptos::prelude::*;

/// The server's beat is every 5 s (`server/src/web/live.rs`); this long without any message means the
/// stream is wedged or the server is gone.
const SILENT_MS: i32 = 7_000;

/// `online`: a message arrived within the allowed silence; `lost`: the connection was had and lost (not
/// set while the first connection is being made, so a page that has just loaded is not marked offline).
pub fn connect(region: RwSignal<Option<String>>, live: RwSignal<Option<WallSnapshot>>, online: RwSignal<bool>, lost: RwSignal<bool>, server_now: RwSignal<Option<i64>>) {
    // Each region change starts a new loop; older loops see a newer generation and stop.
    let generation = StoredValue::new(0u64);
    // After the watchdog reloaded the page, the first stream tells the server why.
    let reloaded = StoredValue::new(super::watchdog::take_reason());
    // The server's clock minus the browser's at the last message: the server's time goes on being
    // estimated while offline, so "data as of" gains its date when the server's day turns.
    let offset = StoredValue::new(None::<f64>);
    let clock = set_interval_with_handle(
        move || {
            if let Some(o) = offset.get_value() {
                server_now.set(Some((js_sys::Date::now() + o) as i64));
            }
        },
        std::time::Duration::from_secs(1),
    );
    // The page never leaves the screen it serves.
    std::mem::forget(clock);
    Effect::new(move |_| {
        let r = region.get();
        let gen = generation.get_value() + 1;
        generation.set_value(gen);
        let mut url = match r.filter(|c| c.bytes().all(|b| b.is_ascii_digit())) {
            Some(code) => format!("/api/live?region={code}"),
            None => "/api/live".to_string(),
        };
        if let Some(why) = reloaded.get_value() {
            reloaded.set_value(None);
            url.push(if url.contains('?') { '&' } else { '?' });
            url.push_str(&format!("reloaded={why}"));
        }
        leptos::task::spawn_local(async move {
            let mut failures = 0u32;
            while generation.get_value() == gen {
                if let Ok(mut es) = EventSource::new(&url) {
                    if let (Ok(snapshots), Ok(patches), Ok(beats)) = (es.subscribe("snapshot"), es.subscribe("patch"), es.subscribe("beat")) {
                        let mut messages = futures::stream::select(futures::stream::select(snapshots, patches), beats);
                        // The snapshot this connection holds, as JSON, with its frame number: patches apply to it.
                        let mut held: Option<(String, serde_json::Value)> = None;
                        loop {
                            let silence = std::pin::pin!(sleep_ms(SILENT_MS));
                            let (kind, msg) = match futures::future::select(messages.next(), silence).await {
                                Either::Left((Some(Ok(m)), _)) => m,
                                // Closed, failed (the browser would retry quietly) or silent: start over.
                                _ => break,
                            };
                            if generation.get_value() != gen {
                                es.close();
                                return;
                            }
                            let text = msg.data().as_string().unwrap_or_default();
                            let at = if kind == "beat" {
                                match text.trim().parse::<i64>() {
                                    Ok(at) => at,
                                    Err(_) => continue,
                                }
                            } else {
                                match read_frame(&kind, &text, msg.last_event_id(), &mut held) {
                                    Ok(s) => {
                                        let at = s.as_of;
                                        live.set(Some(s));
                                        at
                                    }
                                    // A patch that does not fit what this page holds: a new connection
                                    // starts with the whole snapshot.
                                    Err(e) => {
                                        leptos::logging::warn!("bad live message: {e}");
                                        break;
                                    }
                                }
                            };
                            offset.set_value(Some(at as f64 - js_sys::Date::now()));
                            server_now.set(Some(at));
                            online.set(true);
                            lost.set(false);
                            failures = 0;
                        }
                    }
                    es.close();
                }
                online.set(false);
                lost.set(true);
                // The first retry comes quickly (live again within seconds of the server answering);
                // later ones every 2–3.5 s; all jittered.
                failures += 1;
                let pause = if failures == 1 { 300.0 } else { 2_000.0 };
                sleep_ms((pause + js_sys::Math::random() * 1_500.0) as i32).await;
            }
        });
    });
}

/// The snapshot a `snapshot` or `patch` event brings, given what the connection `held` before (updated).
fn read_frame(kind: &str, text: &str, id: String, held: &mut Option<(String, serde_json::Value)>) -> Result<WallSnapshot, String> {
    let doc = if kind == "snapshot" {
        serde_json::from_str::<serde_json::Value>(text).map_err(|e| e.to_string())?
    } else {
        let p: serde_json::Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
        let base = p.get("base").and_then(|b| b.as_u64()).map(|b| b.to_string());
        let (held_id, mut doc) = held.take().ok_or("a patch before any snapshot")?;
        if base.as_deref() != Some(held_id.as_str()) {
            return Err(format!("a patch for frame {base:?}, holding {held_id}"));
        }
        crate::patch::apply(&mut doc, p.get("ops").unwrap_or(&serde_json::Value::Null))?;
        doc
    };
    // Through text, not `from_value`: the bundle already has the text deserialiser of `WallSnapshot`, and a
    // second one for `Value` would add to every wall's download.
    let snap = serde_json::from_str::<WallSnapshot>(&doc.to_string()).map_err(|e| e.to_string())?;
    *held = Some((id, doc));
    Ok(snap)
}

/// Keeps `scale` = the screen's shorter side / 1080, as the CSS sets its rem (the height of a landscape
/// wall, the width of a portrait totem), so that charts scale their fonts with the layout.
pub fn track_scale(scale: RwSignal<f64>) {
    let read = move || {
        let side = |v: Result<wasm_bindgen::JsValue, wasm_bindgen::JsValue>| v.ok().and_then(|v| v.as_f64()).unwrap_or(1080.0);
        let (w, h) = (side(window().inner_width()), side(window().inner_height()));
        scale.set((w.min(h) / 1080.0).max(0.5));
    };
    read();
    let handle = window_event_listener(leptos::ev::resize, move |_| read());
    // The wall never leaves this page; keep listening for its whole life.
    std::mem::forget(handle);
}

pub(super) async fn sleep_ms(ms: i32) {
    let p = js_sys::Promise::new(&mut |resolve, _| {
        let _ = window().set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
    });
    let _ = wasm_bindgen_futures::JsFuture::from(p).await;
}

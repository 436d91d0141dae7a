//! The live connection of the wall and the tablet (browser only): one Server-Sent Events stream per region
//! on screen. The server sends a `snapshot` when what the screen shows has changed and a `beat` carrying
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
                    if let (Ok(snapshots), Ok(beats)) = (es.subscribe("snapshot"), es.subscribe("beat")) {
                        let mut messages = futures::stream::select(snapshots, beats);
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
                            let at = if kind == "snapshot" {
                                match serde_json::from_str::<WallSnapshot>(&text) {
                                    Ok(s) => {
                                        let at = s.as_of;
                                        live.set(Some(s));
                                        at
                                    }
                                    Err(e) => {
                                        leptos::logging::warn!("bad live message: {e}");
                                        continue;
                                    }
                                }
                            } else {
                                match text.trim().parse::<i64>() {
                                    Ok(at) => at,
                                    Err(_) => continue,
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

/// Keeps `scale` = screen height / 1080 so that charts scale their fonts with the CSS layout.
pub fn track_scale(scale: RwSignal<f64>) {
    let read = move || {
        let h = window().inner_height().ok().and_then(|v| v.as_f64()).unwrap_or(1080.0);
        scale.set((h / 1080.0).max(0.5));
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

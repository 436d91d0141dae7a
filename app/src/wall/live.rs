//! The live connection of the wall (browser only): one Server-Sent Events stream per region on screen.
//! A wall runs unattended for weeks, so a dropped stream is reopened forever, with a pause between tries.
use crate::model::WallSnapshot;
use futures::StreamExt;
use gloo_net::eventsource::futures::EventSource;
use leptos::prelude::*;

pub fn connect(region: RwSignal<Option<String>>, live: RwSignal<Option<WallSnapshot>>, online: RwSignal<bool>) {
    // Each region change starts a new loop; older loops see a newer generation and stop.
    let generation = StoredValue::new(0u64);
    // While the browser quietly retries a dropped stream no error surfaces; the server sends at least every
    // 15 s, so a longer silence means the screen is no longer live.
    let last_message = StoredValue::new(js_sys::Date::now());
    let watchdog = set_interval_with_handle(
        move || {
            if js_sys::Date::now() - last_message.get_value() > 40_000.0 {
                online.set(false);
            }
        },
        std::time::Duration::from_secs(5),
    );
    // The wall never leaves this page.
    std::mem::forget(watchdog);
    Effect::new(move |_| {
        let r = region.get();
        let gen = generation.get_value() + 1;
        generation.set_value(gen);
        let url = match r.filter(|c| c.bytes().all(|b| b.is_ascii_digit())) {
            Some(code) => format!("/api/live?region={code}"),
            None => "/api/live".to_string(),
        };
        leptos::task::spawn_local(async move {
            while generation.get_value() == gen {
                if let Ok(mut es) = EventSource::new(&url) {
                    if let Ok(mut sub) = es.subscribe("snapshot") {
                        while let Some(Ok((_, msg))) = sub.next().await {
                            if generation.get_value() != gen {
                                return;
                            }
                            match msg.data().as_string().map(|t| serde_json::from_str::<WallSnapshot>(&t)) {
                                Some(Ok(s)) => {
                                    last_message.set_value(js_sys::Date::now());
                                    live.set(Some(s));
                                    online.set(true);
                                }
                                other => leptos::logging::warn!("bad live message: {other:?}"),
                            }
                        }
                    }
                    es.close();
                }
                online.set(false);
                sleep_ms(3000).await;
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

async fn sleep_ms(ms: i32) {
    let p = js_sys::Promise::new(&mut |resolve, _| {
        let _ = window().set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
    });
    let _ = wasm_bindgen_futures::JsFuture::from(p).await;
}

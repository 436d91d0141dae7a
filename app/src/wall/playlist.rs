//! A wall device's playlist in the browser: the item on screen is a function of the server's clock
//! (`Playlist::at`), so every screen of one wall shows the same item at the same second, whenever it
//! was switched on or reloaded. A touch or click pauses the rotation for a few minutes; a thin bar
//! shows the time to the next item.
use super::{load_playlist, Scene};
use crate::model::SceneKey;
use leptos::prelude::*;

/// How long a touch or click holds the rotation.
const PAUSE_MS: f64 = 180_000.0;

/// Where the rotation stands, for the progress bar: the item on screen and how far through it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Position {
    pub item: usize,
    pub done: f64,
}

pub fn run(scene: RwSignal<Scene>, region: RwSignal<Option<String>>, position: RwSignal<Option<Position>>) {
    leptos::task::spawn_local(async move {
        // Not a device, or a device without a playlist: the wall stays on the scene it was opened with.
        let asked = js_sys::Date::now();
        let Ok(Some(p)) = load_playlist().await else { return };
        let answered = js_sys::Date::now();
        if p.playlist.items.is_empty() {
            return;
        }
        // The server's clock minus the browser's, taking the server's time as read halfway through the
        // request: screens agree to within half a round trip (plus the 250 ms step below).
        let offset = p.now as f64 - (asked + answered) / 2.0;
        let paused_until = StoredValue::new(0.0f64);
        let pause = window_event_listener(leptos::ev::pointerdown, move |_| paused_until.set_value(js_sys::Date::now() + PAUSE_MS));
        // The wall never leaves this page.
        std::mem::forget(pause);
        let shown = StoredValue::new(None::<usize>);
        let step = move || {
            let browser = js_sys::Date::now();
            if browser < paused_until.get_value() {
                // After the pause, the item of that moment is shown again even if it is the same index.
                shown.set_value(None);
                position.set(None);
                return;
            }
            let Some((i, on, left)) = p.playlist.at((browser + offset) as i64) else { return };
            position.set(Some(Position { item: i, done: on as f64 / (on + left) as f64 }));
            if shown.get_value() == Some(i) {
                return;
            }
            shown.set_value(Some(i));
            let item = &p.playlist.items[i];
            scene.set(match item.scene {
                SceneKey::Overview => Scene::Overview,
                SceneKey::Flow => Scene::Flow,
                SceneKey::Safety => Scene::Safety,
            });
            if region.get_untracked() != item.region {
                region.set(item.region.clone());
            }
        };
        step();
        // Runs for the page's whole life (an interval is not cleared unless asked).
        let _ = set_interval_with_handle(step, std::time::Duration::from_millis(250));
    });
}

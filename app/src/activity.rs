//! The tablet (and a wall opened by a signed-in person) tells the server of the person's input (a tap, a key) at most once a minute, for the
//! idle time-out: the page's own background reads (lists re-read, the live stream) are not input, so
//! without this a tablet left on a desk would never be signed out, and one in use would be.
use leptos::prelude::*;
use std::cell::Cell;
use std::rc::Rc;

const EVERY_MS: f64 = 60_000.0;

pub fn report(csrf: RwSignal<Option<String>>) {
    let last = Rc::new(Cell::new(f64::NEG_INFINITY));
    let send = move || {
        let now = js_sys::Date::now();
        if now - last.get() < EVERY_MS {
            return;
        }
        let Some(token) = csrf.get_untracked() else { return };
        last.set(now);
        leptos::task::spawn_local(async move {
            // A refusal (the session already ended) shows at the next read, which sends to sign-in.
            let _ = gloo_net::http::Request::post("/api/activity").header("x-csrf-token", &token).send().await;
        });
    };
    let on_key = send.clone();
    let taps = window_event_listener(leptos::ev::pointerdown, move |_| send());
    let keys = window_event_listener(leptos::ev::keydown, move |_| on_key());
    on_cleanup(move || {
        taps.remove();
        keys.remove();
    });
}

/// For a page that does not read the session's CSRF token itself (the wall): reads it, and reports
/// input if there is a session. A wall display signed in as a device has none and reports nothing (a
/// device has no idle time-out: it is meant to run unattended).
pub fn report_for_session() {
    let csrf = RwSignal::new(None::<String>);
    leptos::task::spawn_local(async move {
        #[derive(serde::Deserialize)]
        struct Me {
            csrf: Option<String>,
        }
        let Ok(resp) = gloo_net::http::Request::get("/api/me").send().await else { return };
        if let Ok(me) = resp.json::<Me>().await {
            csrf.set(me.csrf);
        }
    });
    report(csrf);
}

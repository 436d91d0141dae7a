//! # Layout
//! The cockpit's user interface, rendered on the server (feature `ssr`) and hydrated in the browser
//! (feature `hydrate`), plus the types both sides share.
//! - `flow`: the case state machine, priorities, holders and timeliness
//! - `model`: regions, scope, cases and the snapshots dashboards read (JSON on the wire)
//! - `i18n`: the one catalogue of user-facing strings (zh-CN default, `?lang=en`)
//! - `wall/`: the wall display `/wall` (map with drill-down, KPI tiles, case flow, live ticker)
//! - `desk`: the street official's tablet `/desk` (overdue and due-soon cases, timeline, oversight actions)
//! - `public`: the public page `/public`, readable without JavaScript
//! - `home`: the landing page `/`
//! - `echarts` (browser only): bindings to the vendored ECharts, which charming's renderer lacks for maps
//! - `backend` (server only): what the server must provide to the server functions
pub mod flow;
pub mod i18n;
pub mod model;

#[cfg(feature = "ssr")]
pub mod backend;
mod desk;
#[cfg(feature = "hydrate")]
mod echarts;
mod home;
mod public;
pub(crate) mod wall;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::{
    components::{Route, Router, Routes},
    hooks::use_query_map,
    path, SsrMode,
};

pub use desk::{load_coverage, load_desk};
pub use public::load_public;
pub use wall::{load_flow, load_map, load_wall};

/// The HTML document around the app; the server renders it for every page.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="zh-CN">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Stylesheet id="cockpit" href="/pkg/cockpit.css" />
        <Title text=i18n::t(i18n::Lang::Zh, i18n::Msg::Product) />
        <Router>
            <Routes fallback=NotFound>
                <Route path=path!("/") view=home::Home />
                <Route path=path!("/wall") view=wall::Wall />
                <Route path=path!("/desk") view=desk::Desk />
                // Async: the whole page arrives as plain HTML, so it reads the same without JavaScript.
                <Route path=path!("/public") view=public::PublicPage ssr=SsrMode::Async />
            </Routes>
        </Router>
    }
}

/// The language the viewer asked for with `?lang=`; zh-CN otherwise.
pub(crate) fn use_lang() -> i18n::Lang {
    let q = use_query_map();
    let lang = q.with_untracked(|q| q.get("lang"));
    i18n::Lang::from_query(lang.as_deref())
}

#[component]
fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    {
        if let Some(resp) = use_context::<leptos_axum::ResponseOptions>() {
            resp.set_status(http::StatusCode::NOT_FOUND);
        }
    }
    let lang = use_lang();
    view! { <main class="page"><h1>{i18n::t(lang, i18n::Msg::NotFound)}</h1></main> }
}

#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(App);
}

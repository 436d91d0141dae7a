//! # Layout
//! The cockpit's user interface, rendered on the server (feature `ssr`) and hydrated in the browser
//! (feature `hydrate`), plus the types both sides share.
//! - `assets`: the content-hashed names of the built static files (manifest written by the build)
//! - `flow`: the case state machine, priorities, holders and timeliness
//! - `patch`: what changed between two snapshots (JSON Patch), for the live streams
//! - `duty`: grid workers' rosters (shifts, leave) and who is on duty in each grid now
//! - `model`: regions, scope, cases and the snapshots dashboards read (JSON on the wire)
//! - `i18n`: the one catalogue of user-facing strings (zh-CN default, `?lang=en`)
//! - `wall/`: the wall display `/wall` (map with drill-down, KPI tiles, case flow, live ticker)
//! - `desk`: the street official's tablet `/desk` (overdue and due-soon cases, timeline, oversight actions)
//! - `public`: the public page `/public`, readable without JavaScript
//! - `home`: the landing page `/`
//! - `warning`: early warnings (预警): levels, kinds and the path from raised to closed
//! - `residents`: what the Open311 server and the residents' pages share (a case as the public reads it, refusals)
//! - `echarts` (browser only): bindings to the vendored ECharts, which charming's renderer lacks for maps
//! - `backend` (server only): what the server must provide to the server functions
pub mod assets;
pub mod duty;
pub mod flow;
pub mod i18n;
pub mod model;
pub mod patch;
pub mod residents;
pub mod warning;

#[cfg(feature = "hydrate")]
mod activity;
#[cfg(feature = "ssr")]
pub mod backend;
#[cfg(not(feature = "wall-only"))]
mod desk;
#[cfg(feature = "hydrate")]
mod echarts;
#[cfg(not(feature = "wall-only"))]
mod home;
#[cfg(not(feature = "wall-only"))]
mod public;
pub(crate) mod wall;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Title};
use leptos_router::{
    components::{Route, Router, Routes},
    hooks::use_query_map,
    path,
};

#[cfg(not(feature = "wall-only"))]
pub use desk::{load_coverage, load_desk, load_warnings};
#[cfg(not(feature = "wall-only"))]
pub use public::load_public;
pub use wall::{load_flow, load_map, load_wall};

/// The HTML document around the app; the server renders it for every page.
/// The stylesheet and ECharts are named here, outside the hydrated app, because their names are known
/// only to the server (from the build's manifest).
pub fn shell(options: LeptosOptions) -> impl IntoView {
    let assets = use_context::<assets::Assets>().unwrap_or_default();
    #[cfg(feature = "ssr")]
    let path = use_context::<http::request::Parts>().map(|p| p.uri.path().to_string()).unwrap_or_default();
    #[cfg(not(feature = "ssr"))]
    let path = String::new();
    let charts = assets::Assets::needs_charts(&path);
    // The wall loads its own, smaller bundle (feature `wall-only`) when the build made one.
    let options = match &assets.wall {
        Some(wall) if path == "/wall" => {
            let mut o = options;
            o.output_name = wall.as_str().into();
            o
        }
        _ => options,
    };
    view! {
        <!DOCTYPE html>
        <html lang="zh-CN">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
                <link rel="stylesheet" href=assets.css />
                // Classic deferred scripts run before the app's module, so ECharts is there when charts draw.
                {charts.then(|| view! { <script defer src=assets.echarts></script> })}
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
        <Title text=i18n::t(i18n::Lang::Zh, i18n::Msg::Product) />
        <Router>{routes()}</Router>
    }
}

#[cfg(not(feature = "wall-only"))]
fn routes() -> impl IntoView {
    view! {
        <Routes fallback=NotFound>
            <Route path=path!("/") view=home::Home />
            <Route path=path!("/wall") view=wall::Wall />
            <Route path=path!("/desk") view=desk::Desk />
        </Routes>
    }
}

/// The wall's own bundle (`wall-only`): a wall never leaves `/wall`, so it does without the tablet's,
/// the public page's and the landing page's code, and transfers that much less.
#[cfg(feature = "wall-only")]
fn routes() -> impl IntoView {
    view! {
        <Routes fallback=NotFound>
            <Route path=path!("/wall") view=wall::Wall />
        </Routes>
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

//! The wall display `/wall` (指挥大屏): designed at 1920×1080 in `rem` units (1rem = 1/108 of the screen
//! height, see style/), so it fills any 16:9 or wider screen without scrollbars; wider screens get wider
//! panels. The first render comes from server functions; after hydration a server push stream
//! (`/api/live`, SSE) replaces the snapshot, so figures move without a reload.
pub(crate) mod charts;
mod flow_scene;
mod kpi;
mod safety_scene;
#[cfg(feature = "hydrate")]
pub(crate) mod live;
pub(crate) mod map;
#[cfg(feature = "hydrate")]
mod playlist;
mod ticker;
#[cfg(feature = "hydrate")]
mod watchdog;

use crate::i18n::{t, Lang, Msg};
use crate::model::{FlowReport, MapLayer, WallSnapshot};
use crate::use_lang;
use leptos::prelude::*;
use leptos::server_fn::codec::GetUrl;
use leptos_meta::{Html, Title};
use leptos_router::hooks::use_query_map;

#[server(input = GetUrl, endpoint = "wall")]
pub async fn load_wall(region: Option<String>) -> Result<WallSnapshot, ServerFnError> {
    crate::backend::with_viewer(|b, v| b.wall_snapshot(v, region.as_deref()))
}

#[server(input = GetUrl, endpoint = "map")]
pub async fn load_map(region: Option<String>) -> Result<MapLayer, ServerFnError> {
    crate::backend::with_viewer(|b, v| b.map_layer(v, region.as_deref()))
}

/// Case-flow analytics of the region (None: the viewer's scope) over the last `days` days, today so far
/// included (default 7), over the whole days `from` to `to` (YYYY-MM-DD, both included), or over a
/// calendar `year` (0 this year so far, 1 last year).
#[server(input = GetUrl, endpoint = "flow")]
pub async fn load_flow(region: Option<String>, days: Option<u32>, from: Option<String>, to: Option<String>, year: Option<u32>) -> Result<FlowReport, ServerFnError> {
    let period = match crate::model::Period::parse_with_year(days, from.as_deref(), to.as_deref(), year) {
        Ok(p) => p,
        Err(why) => {
            if let Some(resp) = use_context::<leptos_axum::ResponseOptions>() {
                resp.set_status(http::StatusCode::BAD_REQUEST);
            }
            return Err(ServerFnError::new(why));
        }
    };
    crate::backend::with_viewer_async(move |b, v| async move { b.flow_report(&v, region.as_deref(), period).await }).await
}

/// A wall device's playlist, with the server's time (None for people, and for devices without one).
#[server(input = GetUrl, endpoint = "playlist")]
pub async fn load_playlist() -> Result<Option<crate::model::PlaylistNow>, ServerFnError> {
    crate::backend::with_viewer(|b, v| b.playlist(v))
}

/// What the wall shows: the overview, the case-flow scene (`?scene=flow`) or the safety scene (`?scene=safety`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scene {
    Overview,
    Flow,
    Safety,
}

/// A counter that goes up every `secs` seconds in the browser (never on the server), for scenes that
/// refetch their figures; the timer stops with the scene.
pub(crate) fn refresh_tick(secs: u64) -> RwSignal<u32> {
    let tick = RwSignal::new(0u32);
    #[cfg(feature = "hydrate")]
    if let Ok(h) = set_interval_with_handle(move || tick.update(|n| *n += 1), std::time::Duration::from_secs(secs)) {
        on_cleanup(move || h.clear());
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = secs;
    tick
}

/// Names the case feeds past their cadence, whose cases the figures on screen may be missing; shown by
/// every screen that reads the snapshot (the wall, the tablet). Inside a Transition: the snapshot is a
/// resource, and read outside one the server would render the badge before the snapshot arrived while
/// the browser, hydrating with it, rendered it at once: a wall loaded while a feed was stale would not
/// hydrate.
#[component]
pub fn StaleFeeds(id: &'static str) -> impl IntoView {
    let WallCtx { lang, current, .. } = expect_context::<WallCtx>();
    view! {
        <Transition fallback=|| ()>
            {move || {
                let stale = current.get().map(|s| s.stale).unwrap_or_default();
                (!stale.is_empty()).then(|| view! { <span class="stale-badge" id=id>{t(lang, Msg::FeedStale)} ": " {stale.join(", ")}</span> })
            }}
        </Transition>
    }
}

/// The open warnings (预警) of the screen's region: how many, and the most severe, in its level's colour.
/// Inside a Transition for the same reason as `StaleFeeds`.
#[component]
pub fn WarningBadge(id: &'static str) -> impl IntoView {
    let WallCtx { lang, current, .. } = expect_context::<WallCtx>();
    view! {
        <Transition fallback=|| ()>
            {move || {
                let (list, count) = current.get().map(|s| (s.warnings, s.warning_count)).unwrap_or_default();
                list.first().cloned().map(|top| {
                    let class = format!("warning-badge w-{}", top.level.as_str());
                    view! {
                        <span class=class id=id data-count=count.to_string() data-level=top.level.as_str()>
                            {t(lang, Msg::WarningsTab)} " " {count} " · " {crate::i18n::warning_level(lang, top.level)} " "
                            {top.title.clone()} " · " {top.region.name.clone()}
                        </span>
                    }
                })
            }}
        </Transition>
    }
}

/// The last value a refreshing resource delivered, kept through failed refreshes so that an outage leaves
/// the last figures on screen. Set by an effect, which runs only in the browser after hydration, so the
/// first client render matches the server's HTML (reading the resource outside a Suspense did not, and
/// hydration panicked).
pub(crate) fn last_good<T>(res: Resource<Result<T, ServerFnError>>) -> RwSignal<Option<T>>
where
    T: Clone + Send + Sync + serde::Serialize + serde::de::DeserializeOwned + 'static,
{
    let current = RwSignal::new(None::<T>);
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        if let Some(Ok(v)) = res.get() {
            current.set(Some(v));
        }
    });
    #[cfg(not(feature = "hydrate"))]
    let _ = res;
    current
}

/// A refresh's result, or after a failure the last good value: only a scene that never had one shows
/// the error.
pub(crate) fn or_last_good<T: Clone + Send + Sync + 'static>(res: Result<T, ServerFnError>, last: RwSignal<Option<T>>) -> Result<T, ServerFnError> {
    res.or_else(|e| last.get_untracked().ok_or(e))
}

/// State the wall's panels share.
#[derive(Clone, Copy)]
pub struct WallCtx {
    pub lang: Lang,
    /// The region on screen; None is the root of the viewer's scope.
    pub region: RwSignal<Option<String>>,
    /// The newest snapshot for the region on screen (live when connected).
    pub current: Signal<Option<WallSnapshot>>,
    /// Screen height / 1080: charts scale their fonts with it.
    #[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
    pub scale: RwSignal<f64>,
    /// The server's time as the browser estimates it from the live stream (None until the first
    /// message): "data as of" shows the date once the server's day has turned, even while offline.
    pub server_now: RwSignal<Option<i64>>,
}

/// The "data as of" text of `as_of` on this screen (see `model::as_of_label`).
pub(crate) fn as_of_text(ctx: WallCtx, as_of: i64) -> String {
    crate::model::as_of_label(as_of, ctx.server_now.get().unwrap_or(as_of))
}

#[component]
pub fn Wall() -> impl IntoView {
    let lang = use_lang();
    let (start, start_scene) = use_query_map().with_untracked(|q| (q.get("region"), q.get("scene")));
    let scene = RwSignal::new(match start_scene.as_deref() {
        Some("flow") => Scene::Flow,
        Some("safety") => Scene::Safety,
        _ => Scene::Overview,
    });
    let region = RwSignal::new(start.clone());
    // The first snapshot comes with the page (server-rendered, then hydrated); after that the live
    // stream brings every update, including those of a region drilled into. Loading it once keeps the
    // panels (and their charts) alive across drill-downs.
    let snapshot = Resource::new(|| (), move |_| load_wall(start.clone()));
    let live = RwSignal::new(None::<WallSnapshot>);
    let online = RwSignal::new(false);
    let lost = RwSignal::new(false);
    // Where a device's playlist stands (item, share of its time done); None: no playlist, or paused.
    let position = RwSignal::new(None::<(usize, f64)>);
    let hydrated = RwSignal::new(false);
    let scale = RwSignal::new(1.0);
    let current = Signal::derive(move || live.get().or_else(|| snapshot.get().and_then(Result::ok)));
    let server_now = RwSignal::new(None::<i64>);
    let ctx = WallCtx { lang, region, current, scale, server_now };
    provide_context(ctx);

    #[cfg(feature = "hydrate")]
    {
        live::connect(region, live, online, lost, server_now);
        let at = RwSignal::new(None::<playlist::Position>);
        playlist::run(scene, region, at);
        watchdog::run(lost, at);
        Effect::new(move |_| position.set(at.get().map(|p| (p.item, p.done))));
        live::track_scale(scale);
        crate::activity::report_for_session();
        Effect::new(move |_| hydrated.set(true));
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (live, online.write_only(), lost.write_only(), position.write_only());

    let as_of = move || current.get().map(|s| as_of_text(ctx, s.as_of)).unwrap_or_default();
    view! {
        <Html attr:lang=lang.html_tag() attr:class="wall-html" />
        <Title text=t(lang, Msg::WallTitle) />
        // Offline: dimmed and marked, so that nobody reads the last figures as live.
        <main id="wall" class="wall" class:offline=move || lost.get() data-hydrated=move || hydrated.get().to_string() data-live=move || online.get().to_string()>
            <header class="wall-head">
                <h1>{t(lang, Msg::WallTitle)}</h1>
                <nav class="scenes">
                    <button id="scene-overview" class:on=move || scene.get() == Scene::Overview on:click=move |_| scene.set(Scene::Overview)>
                        {t(lang, Msg::SceneOverview)}
                    </button>
                    <button id="scene-flow" class:on=move || scene.get() == Scene::Flow on:click=move |_| scene.set(Scene::Flow)>
                        {t(lang, Msg::SceneFlow)}
                    </button>
                    <button id="scene-safety" class:on=move || scene.get() == Scene::Safety on:click=move |_| scene.set(Scene::Safety)>
                        {t(lang, Msg::SceneSafety)}
                    </button>
                </nav>
                <div class="wall-status">
                    <WarningBadge id="wall-warnings" />
                    <StaleFeeds id="wall-stale" />
                    <span class="live" id="wall-live" class:on=move || online.get()>
                        {move || match (online.get(), lost.get()) {
                            (true, _) => t(lang, Msg::Live),
                            (false, true) => t(lang, Msg::Reconnecting),
                            (false, false) => t(lang, Msg::Connecting),
                        }}
                    </span>
                    <Transition fallback=|| ()>
                        {move || Suspend::new(async move {
                            let _ = snapshot.await;
                            view! { <span class="as-of" id="wall-as-of">{t(lang, Msg::DataAsOf)} " " {as_of}</span> }
                        })}
                    </Transition>
                </div>
            </header>
            {move || position.get().map(|(item, done)| view! {
                <div class="playlist-progress" id="playlist-progress" data-item=item style:width=format!("{:.2}%", done * 100.0)></div>
            })}
            <Transition fallback=move || view! { <p class="loading">{t(lang, Msg::Loading)}</p> }>
                <ErrorBoundary fallback=move |errors| view! { <ErrorNote lang errors /> }>
                    {move || Suspend::new(async move {
                        snapshot.await.map(|_| move || match scene.get() {
                            Scene::Overview => view! { <Panels /> }.into_any(),
                            Scene::Flow => view! { <flow_scene::FlowScene /> }.into_any(),
                            Scene::Safety => view! { <safety_scene::SafetyScene /> }.into_any(),
                        })
                    })}
                </ErrorBoundary>
            </Transition>
        </main>
    }
}

#[component]
fn Panels() -> impl IntoView {
    let ctx = expect_context::<WallCtx>();
    let lang = ctx.lang;
    view! {
        <kpi::KpiRow />
        <section class="wall-body">
            <div class="col col-side">
                <Panel title=t(lang, Msg::CategoryTitle) id="categories">
                    <charts::CategoryChart />
                </Panel>
                <Panel title=t(lang, Msg::FlowTitle) id="flow">
                    <charts::FlowChart />
                </Panel>
            </div>
            <div class="col col-centre">
                <map::MapPanel />
            </div>
            <div class="col col-side">
                <Panel title=t(lang, Msg::TickerTitle) id="ticker-panel">
                    <ticker::Ticker />
                </Panel>
            </div>
        </section>
    }
}

/// A framed panel with its title and the "data as of" time of what it shows.
#[component]
pub(crate) fn Panel(title: &'static str, id: &'static str, children: Children) -> impl IntoView {
    let ctx = expect_context::<WallCtx>();
    let as_of = move || ctx.current.get().map(|s| as_of_text(ctx, s.as_of)).unwrap_or_default();
    view! {
        <div class="panel" id=id>
            <div class="panel-head">
                <h2>{title}</h2>
                <span class="as-of">{t(ctx.lang, Msg::DataAsOf)} " " {as_of}</span>
            </div>
            <div class="panel-body">{children()}</div>
        </div>
    }
}

#[component]
pub fn ErrorNote(lang: Lang, errors: ArcRwSignal<Errors>) -> impl IntoView {
    view! {
        <div class="error-note" role="alert">
            <h2>{t(lang, Msg::ErrorTitle)}</h2>
            <ul>
                {move || errors.get().into_iter().map(|(_, e)| view! { <li>{e.to_string()}</li> }).collect_view()}
            </ul>
        </div>
    }
}

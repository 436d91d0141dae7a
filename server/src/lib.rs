//! # Layout
//! The cockpit server: one binary (`cockpit`) that aggregates the city's feeds and serves every view.
//! Data flows top to bottom through these modules:
//! - `feeds/`: the city's systems, one module per kind behind the `Feed` trait; mapping to canonical
//!   records, the registry that runs `[[feeds]]`, health
//! - `sim/`: the city's external systems simulated over their real protocols (for the demo and tests)
//! - `ingest`: the one path in: check → store durably → count in the engine → wake live streams
//! - `store/`: durable storage behind the `Store` trait (SQLite embedded; migrations beside it)
//! - `indicators`: the indicator engine (crate `engine`) in the server: loaded from its snapshot and the
//!   store's tail at start, snapshotted in the background; every dashboard figure is read from it
//! - `auth/`: accounts, argon2id passwords, sessions, device tokens, sign-in throttling, audit
//! - `masking`: personal fields hidden below the viewer's clearance
//! - `patrol`: grid patrols, the last visit per grid
//! - `residents/`: residents' reports and the city's requests as the public reads them (Open311)
//! - `policy`: who is asking and what they may see; every route, server function and stream asks it
//! - `web/`: Leptos pages and server functions, the live stream (SSE), feeds (webhook, operator page,
//!   /metrics, /readyz), health, static site
//! - `city/`: the region tree and the demo city (Shaoxing) with its schematic geometry
//! - `rules`: time limits by category and priority, due-soon, and the escalation rule
//! - `calendar`: working hours, weekends, holidays and make-up days that deadlines count on
//! - `config`: defaults → TOML → environment → flags
//!
//! `run(listener, config, shutdown)` starts everything on a bound listener, so tests run real servers on port 0.
pub mod auth;
pub mod calendar;
pub mod case;
pub mod city;
pub mod clock;
pub mod config;
pub mod feeds;
pub mod indicators;
pub mod ingest;
pub mod masking;
pub mod patrol;
pub mod policy;
pub mod residents;
pub mod rules;
pub mod sim;
pub mod store;
pub mod web;

use city::RegionTree;
use config::Config;
use feeds::Feed;
use std::future::Future;
use std::sync::{Arc, RwLock};
use store::{PgStore, SqliteStore, Store};
use tokio::net::TcpListener;
use tokio::sync::watch;

#[derive(Debug)]
pub struct StartError(pub String);

impl std::fmt::Display for StartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for StartError {}

impl From<store::StoreError> for StartError {
    fn from(e: store::StoreError) -> Self {
        StartError(e.to_string())
    }
}

/// Opens the store, creates the demo city on an empty one, rebuilds the aggregates, starts the feeds
/// and serves until `shutdown` resolves.
pub async fn run(listener: TcpListener, cfg: Config, shutdown: impl Future<Output = ()> + Send + 'static) -> Result<(), StartError> {
    let clock = clock::Clock::from_config(&cfg.clock).map_err(StartError)?;
    run_with_clock(listener, cfg, clock, shutdown).await
}

/// `run` on a clock of the caller's (tests pin or drive it).
pub async fn run_with_clock(
    listener: TcpListener,
    cfg: Config,
    clock: clock::Clock,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), StartError> {
    let store: Arc<dyn Store> = match &cfg.store.url {
        Some(url) => {
            let store = PgStore::open(url, cfg.store.password.as_deref()).await?;
            // Where, never with whom: the URL may carry a user name, the password stays unsaid.
            let at = url.rsplit('@').next().unwrap_or_default();
            tracing::info!(store = "postgresql", at, "store opened");
            Arc::new(store)
        }
        None => Arc::new(SqliteStore::open(&cfg.data_dir).await?),
    };
    let tree = Arc::new(load_or_create_city(store.clone()).await?);
    if tree.find(&cfg.city).is_none() {
        return Err(StartError(format!("config `city` = {:?} is not a region of the stored city", cfg.city)));
    }

    let calendar = calendar::Calendar::new(&cfg.calendar).map_err(StartError)?;
    let demo = cfg.demo.enabled.then(|| feeds::demo::DemoFeed::new(cfg.demo.clone(), tree.clone(), calendar.clone()));
    let backfill = match &demo {
        Some(_) => !store.has_cases(feeds::demo::FEED).await? && cfg.demo.backfill_days > 0,
        None => false,
    };

    let t = std::time::Instant::now();
    let (engine, origin) = indicators::start(tree.clone(), store.as_ref(), &cfg.data_dir, clock.now_ms()).await?;
    tracing::info!(cases = engine.case_count(), open = engine.open_cases(), ms = t.elapsed().as_millis() as u64, ?origin, "indicator engine loaded");
    let engine = Arc::new(RwLock::new(engine));
    let (changed_tx, changed_rx) = watch::channel(0u64);
    let (stop_tx, stop_rx) = watch::channel(false);
    let ingest = ingest::Ingest::new(store.clone(), tree.clone(), engine.clone(), changed_tx.clone(), clock.clone()).with_calendar(calendar.clone());
    if let (Some(d), true) = (&demo, backfill) {
        // The demo's history goes in through the ingest path, so the engine counts it as it is stored.
        let t = std::time::Instant::now();
        let events = d.backfill(clock.now_ms());
        for chunk in events.chunks(20_000) {
            ingest.submit(chunk.to_vec()).await?;
        }
        ingest.submit_patrols(d.patrol_backfill(clock.now_ms())).await?;
        tracing::info!(events = events.len(), ms = t.elapsed().as_millis() as u64, "demo history created");
    }
    let snapshots = tokio::spawn(indicators::run_snapshots(
        ingest.clone(),
        cfg.data_dir.clone(),
        std::time::Duration::from_secs(u64::from(cfg.engine.snapshot_minutes.max(1)) * 60),
        stop_rx.clone(),
    ));

    // Deadlines pass without any event arriving: sweep once a second.
    {
        let (ingest, mut stop) = (ingest.clone(), stop_rx.clone());
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(std::time::Duration::from_secs(1));
            loop {
                tokio::select! { _ = tick.tick() => {}, _ = stop.changed() => return }
                ingest.sweep();
            }
        });
    }
    tokio::spawn(feeds::retention::run(store.clone(), clock.clone(), cfg.retention.quarantine_days, stop_rx.clone()));
    if cfg.flow.auto_escalate {
        tokio::spawn(rules::run_escalation(ingest.clone(), engine.clone(), calendar.clone(), cfg.flow.clone(), stop_rx.clone()));
    }
    let mut feed_tasks = Vec::new();
    if let Some(d) = demo {
        let feed: Box<dyn Feed> = Box::new(d);
        tracing::info!(feed = feed.name(), "feed started");
        feed_tasks.push(tokio::spawn(feed.run(ingest.clone(), stop_rx.clone())));
    }

    let assets = app::assets::Assets::load(&cfg.site_root).map_err(StartError)?;
    let leptos = leptos::prelude::LeptosOptions::builder()
        .output_name(assets.app.clone())
        .site_root(cfg.site_root.to_string_lossy().to_string())
        .site_pkg_dir("pkg")
        .build();
    if cfg.demo.enabled {
        let n = auth::seed_demo_accounts(store.as_ref(), clock.now_ms()).await?;
        if n > 0 {
            tracing::warn!(accounts = n, "demo accounts created with the demo password: not for real use");
        }
    }
    let access = auth::AccessConfig { session_hours: cfg.access.session_hours, secure_cookies: cfg.access.secure_cookies };
    let auth = Arc::new(auth::Auth::load(store.clone(), tree.clone(), access, clock.clone()).await?);
    let locator = Arc::new(feeds::locate::Locator::new(tree.clone()));
    let registry = Arc::new(feeds::registry::Registry::new(ingest.clone(), locator.clone(), stop_rx.clone()));
    let residents = residents::Residents::new(cfg.residents.clone(), &cfg.city, locator, ingest.clone());
    let declared = if cfg.demo.enabled && cfg.demo.systems && cfg.feeds.is_empty() {
        let port = listener.local_addr().map_err(|e| StartError(format!("listener: {e}")))?.port();
        sim::city::start(tree.clone(), &cfg.data_dir, format!("127.0.0.1:{port}"), cfg.demo.seed, clock.clone(), stop_rx.clone()).await.map_err(StartError)?
    } else {
        cfg.feeds.clone()
    };
    let specs = feeds::registry::FeedSpec::parse_all(&declared).map_err(StartError)?;
    registry.start_all(specs).await.map_err(StartError)?;
    let fd_limit = web::streams::raise_descriptor_limit();
    let streams = web::streams::Streams::new(cfg.live.max_streams as usize, cfg.live.max_streams_per_viewer as usize, fd_limit);
    tracing::info!(descriptors = ?fd_limit, live_streams = streams.limit(), per_viewer = cfg.live.max_streams_per_viewer, "descriptor limit and live-stream caps");
    let cockpit = Arc::new(web::Cockpit {
        policy: policy::Policy::new(tree.clone(), auth).with_metrics_token(cfg.access.metrics_token.clone()),
        engine,
        ingest: ingest.clone(),
        feeds: registry,
        config_file: cfg.file.clone(),
        streams,
        residents,
    });
    let state = web::AppState { leptos, cockpit, changed: changed_rx, shutdown: stop_rx, hub: Default::default(), assets };
    let app = web::router(state);
    let serve = axum::serve(listener, app.into_make_service_with_connect_info::<std::net::SocketAddr>()).with_graceful_shutdown(async move {
        shutdown.await;
        // Ends live streams and feeds, so the server can drain.
        let _ = stop_tx.send(true);
    });
    serve.await.map_err(|e| StartError(format!("server error: {e}")))?;
    for t in feed_tasks {
        let _ = t.await;
    }
    // The last snapshot, so the next start reads almost nothing from the store.
    let _ = snapshots.await;
    Ok(())
}

async fn load_or_create_city(store: Arc<dyn Store>) -> Result<RegionTree, StartError> {
    if store.region_count().await? == 0 {
        let t = std::time::Instant::now();
        let rows = city::shaoxing::build();
        store.save_regions(&rows).await?;
        tracing::info!(regions = rows.len(), ms = t.elapsed().as_millis() as u64, "demo city created");
    }
    RegionTree::new(store.load_regions().await?).map_err(|e| StartError(format!("stored region tree is invalid: {e}")))
}

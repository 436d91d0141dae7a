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
//! - `memory`: free heap pages given back to the system after the engine's load, at start, each minute
//! - `patrol`: grid patrols, the last visit per grid
//! - `duty`: grid workers' rosters (shifts, leave), kept in the store and held by the engine
//! - `residents/`: residents' reports and the city's requests as the public reads them (Open311)
//! - `policy`: who is asking and what they may see; every route, server function and stream asks it
//! - `web/`: Leptos pages and server functions, the live stream (SSE), feeds (webhook, operator page,
//!   /metrics, /readyz), health, static site
//! - `city/`: the region tree and the demo city (Shaoxing) with its schematic geometry
//! - `rules`: time limits by category and priority, due-soon, and the escalation rule
//! - `warning/`: early warning: the city's rules evaluated by the engine, raised, routed, escalated
//! - `calendar`: working hours, weekends, holidays and make-up days that deadlines count on
//! - `config`: defaults → TOML → environment → flags
//!
//! `run(listener, config, shutdown)` starts everything on a bound listener, so tests run real servers on port 0.
pub mod auth;
pub mod calendar;
pub mod case;
pub mod city;
pub mod clock;
pub mod cluster;
pub mod config;
pub mod duty;
pub mod feeds;
pub mod indicators;
pub mod ingest;
pub mod masking;
pub mod memory;
pub mod patrol;
pub mod policy;
pub mod residents;
pub mod rules;
pub mod settings;
pub mod sim;
pub mod store;
pub mod warning;
pub mod web;

use city::RegionTree;
use config::Config;
use feeds::Feed;
use std::future::Future;
use std::sync::{Arc, RwLock};
use store::{PgStore, SqliteStore, Store, StoreError};
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
    // A shared store comes with leases: one of several instances runs each feed and rule.
    let (store, leases): (Arc<dyn Store>, Option<Arc<dyn cluster::Leases>>) = match &cfg.store.url {
        Some(url) => {
            let store = PgStore::open(url, cfg.store.password.as_deref()).await?;
            // Where, never with whom: the URL may carry a user name, the password stays unsaid.
            let at = url.rsplit('@').next().unwrap_or_default();
            tracing::info!(store = "postgresql", at, "store opened");
            let leases: Arc<dyn cluster::Leases> = Arc::new(store.leases());
            (Arc::new(store), Some(leases))
        }
        None => (Arc::new(SqliteStore::open(&cfg.data_dir).await?), None),
    };
    if cfg.bus.nats.is_some() && leases.is_none() {
        return Err(StartError("bus.nats joins instances that share a store: set store.url too".into()));
    }
    let tree = Arc::new(load_or_create_city(store.clone(), clock.now_ms()).await?);
    if tree.find(&cfg.city).is_none() {
        return Err(StartError(format!("config `city` = {:?} is not a region of the stored city", cfg.city)));
    }

    // The file's calendar is checked even when an administrator's stored one wins over it.
    calendar::Calendar::new(&cfg.calendar).map_err(StartError)?;
    let settings = Arc::new(settings::Settings::load(store.as_ref(), cfg.calendar.clone(), cfg.flow.clone()).await.map_err(StartError)?);
    let demo = cfg.demo.enabled.then(|| feeds::demo::DemoFeed::new(cfg.demo.clone(), tree.clone(), settings.clone()));
    // On a shared store the history is written by whichever instance takes the demo feed's lease.
    let backfill = match &demo {
        Some(_) if leases.is_none() => !store.has_cases(feeds::demo::FEED).await? && cfg.demo.backfill_days > 0,
        _ => false,
    };

    // One instance of several: the bus first, so that a new instance starts from the shared snapshot.
    let instance = cluster::instance_name(cfg.bus.instance.as_deref());
    let bus = match (&cfg.bus.nats, &leases) {
        (Some(url), Some(_)) => Some(cluster::Bus::connect(url, cfg.bus.credentials_file.as_deref(), &instance).await.map_err(|e| StartError(format!("bus: {e}")))?),
        _ => None,
    };
    if let Some(bus) = &bus {
        let path = indicators::snapshot_path(&cfg.data_dir);
        if !path.exists() {
            std::fs::create_dir_all(&cfg.data_dir).map_err(|e| StartError(format!("data directory: {e}")))?;
            match bus.get_snapshot(&path).await {
                Ok(true) => tracing::info!("the shared engine snapshot fetched"),
                Ok(false) => {}
                Err(e) => tracing::warn!("no shared engine snapshot: {e}"),
            }
        }
    }
    let t = std::time::Instant::now();
    let (engine, origin, at) = indicators::start_at(tree.clone(), store.as_ref(), &cfg.data_dir, clock.now_ms()).await?;
    let resident_mib = memory::give_back().map(|b| b >> 20);
    tracing::info!(cases = engine.case_count(), open = engine.open_cases(), ms = t.elapsed().as_millis() as u64, ?origin, ?resident_mib, "indicator engine loaded");
    let engine = Arc::new(RwLock::new(engine));
    let (changed_tx, changed_rx) = watch::channel(0u64);
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut ingest = ingest::Ingest::new(store.clone(), tree.clone(), engine.clone(), changed_tx.clone(), clock.clone()).with_settings(settings.clone());
    if leases.is_some() {
        tracing::info!(%instance, bus = bus.is_some(), "one instance of several on the shared store");
        let applied = cluster::Applied { events: at.events, observations: at.observations };
        ingest = ingest.with_shared(Arc::new(cluster::Shared::new(applied, bus, instance)));
    }
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
    match ingest.load_roster().await {
        Ok(n) => tracing::info!(lines = n, "duty roster loaded"),
        Err(e) => return Err(StartError(format!("duty roster: {e}"))),
    }
    {
        // The roster in memory reaches a month ahead: read it again as each local day begins.
        let (ingest, mut stop) = (ingest.clone(), stop_rx.clone());
        tokio::spawn(async move {
            let mut day = app::model::local_day(ingest.clock().now_ms());
            let mut tick = tokio::time::interval(std::time::Duration::from_secs(30));
            loop {
                tokio::select! { _ = tick.tick() => {}, _ = stop.changed() => return }
                let today = app::model::local_day(ingest.clock().now_ms());
                if today != day {
                    match ingest.load_roster().await {
                        Ok(_) => day = today,
                        Err(e) => tracing::warn!(error = %e, "reading the duty roster again failed; trying again"),
                    }
                }
            }
        });
    }
    let warnings = {
        let ingest = ingest.clone();
        Arc::new(warning::Warnings::new(store.clone(), tree.clone(), cfg.warnings.clone(), move || ingest.announce()).map_err(StartError)?)
    };
    warnings.refresh().await?;
    tokio::spawn(warnings.clone().follow(stop_rx.clone()));
    let snapshots = tokio::spawn(indicators::run_snapshots(
        ingest.clone(),
        cfg.data_dir.clone(),
        std::time::Duration::from_secs(u64::from(cfg.engine.snapshot_minutes.max(1)) * 60),
        stop_rx.clone(),
    ));

    tokio::spawn(memory::give_back_every(std::time::Duration::from_secs(60), stop_rx.clone()));
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
    // What must run once however many instances there are: under a lease each on a shared store.
    let once = |name: &str, make: Box<dyn Fn(watch::Receiver<bool>) -> futures::future::BoxFuture<'static, ()> + Send>| match &leases {
        Some(l) => tokio::spawn(cluster::lease::run_leased(name.to_string(), l.clone(), make, stop_rx.clone())),
        None => tokio::spawn(make(stop_rx.clone())),
    };
    {
        let (store, clock, days) = (store.clone(), clock.clone(), cfg.retention.quarantine_days);
        once("retention", Box::new(move |stop| Box::pin(feeds::retention::run(store.clone(), clock.clone(), days, stop))));
    }
    {
        let (store, clock, days) = (store.clone(), clock.clone(), cfg.retention.audit_days);
        once("retention:audit", Box::new(move |stop| Box::pin(auth::retention::run(store.clone(), clock.clone(), days, stop))));
    }
    {
        // Always running: whether it escalates is a setting that may change while the server runs.
        let (ingest, engine) = (ingest.clone(), engine.clone());
        once("rule:escalation", Box::new(move |stop| Box::pin(rules::run_escalation(ingest.clone(), engine.clone(), stop))));
    }
    let mut feed_tasks = Vec::new();
    if demo.is_some() {
        let (ingest, store, tree, settings, demo_cfg, shared) = (ingest.clone(), store.clone(), tree.clone(), settings.clone(), cfg.demo.clone(), leases.is_some());
        tracing::info!(feed = feeds::demo::FEED, "feed started");
        feed_tasks.push(once(
            &format!("feed:{}", feeds::demo::FEED),
            Box::new(move |stop| {
                let d = feeds::demo::DemoFeed::new(demo_cfg.clone(), tree.clone(), settings.clone());
                let (ingest, store) = (ingest.clone(), store.clone());
                Box::pin(async move {
                    if shared {
                        if let Err(e) = demo_history(&d, &ingest, store.as_ref()).await {
                            tracing::error!(error = %e, "demo history not created");
                        }
                    }
                    let feed: Box<dyn Feed> = Box::new(d);
                    feed.run(ingest, stop).await
                })
            }),
        ));
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
    let access = auth::AccessConfig {
        session_hours: cfg.access.session_hours,
        secure_cookies: cfg.access.secure_cookies,
        password_max_days: cfg.access.password_max_days,
        idle_minutes: cfg.access.idle_minutes,
        two_factor: cfg.access.two_factor,
    };
    let auth = Arc::new(auth::Auth::load(store.clone(), tree.clone(), access, clock.clone()).await?);
    if let Some(o) = auth::oidc::Oidc::new(&cfg.oidc).map_err(|e| StartError(format!("oidc: {e}")))? {
        tracing::info!(issuer = cfg.oidc.issuer.as_deref().unwrap_or(""), "sign-in through the identity platform on");
        auth.set_oidc(o);
    }
    let locator = Arc::new(feeds::locate::Locator::new(tree.clone()));
    let registry = match &leases {
        Some(l) => feeds::registry::Registry::new(ingest.clone(), locator.clone(), stop_rx.clone()).with_leases(l.clone()),
        None => feeds::registry::Registry::new(ingest.clone(), locator.clone(), stop_rx.clone()),
    };
    let registry = Arc::new(registry);
    if let Some(shared) = ingest.shared().cloned() {
        follow_the_others(shared, ingest.clone(), store.clone(), auth.clone(), registry.clone(), stop_rx.clone());
    }
    let residents = residents::Residents::new(cfg.residents.clone(), &cfg.city, locator, ingest.clone());
    if leases.is_some() && cfg.demo.enabled && cfg.demo.systems && cfg.feeds.is_empty() {
        // Each instance would simulate the same systems into its own port: one city would be told twice.
        tracing::warn!("the simulated systems run only with the embedded store; on a shared store configure [[feeds]]");
    }
    let declared = if cfg.demo.enabled && cfg.demo.systems && cfg.feeds.is_empty() && leases.is_none() {
        let port = listener.local_addr().map_err(|e| StartError(format!("listener: {e}")))?.port();
        sim::city::start(tree.clone(), &cfg.data_dir, format!("127.0.0.1:{port}"), cfg.demo.seed, clock.clone(), stop_rx.clone()).await.map_err(StartError)?
    } else {
        cfg.feeds.clone()
    };
    let specs = feeds::registry::FeedSpec::parse_all(&declared).map_err(StartError)?;
    registry.start_all(specs).await.map_err(StartError)?;
    {
        let (warnings, engine, registry, clock) = (warnings.clone(), engine.clone(), registry.clone(), clock.clone());
        once(
            "rule:warnings",
            Box::new(move |stop| {
                let registry = registry.clone();
                let silent = move |now| registry.stale_feeds(now).into_iter().map(|(name, _)| name).collect();
                Box::pin(warnings.clone().run(engine.clone(), silent, clock.clone(), stop))
            }),
        );
    }
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
        warnings,
    });
    let state = web::AppState { leptos, cockpit, changed: changed_rx, shutdown: stop_rx, hub: Default::default(), assets };
    let app = web::router(state);
    // What starting everything else allocated and dropped (the roster, warnings, accounts, the site).
    tracing::info!(resident_mib = ?memory::give_back().map(|b| b >> 20), "started");
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

/// One instance of several: announces its access changes, follows the others' announcements on the bus,
/// and catches up with the store every second whatever the bus does (an announcement lost, the bus
/// down), reading accounts and sessions again every few seconds.
fn follow_the_others(
    shared: Arc<cluster::Shared>,
    ingest: ingest::Ingest,
    store: Arc<dyn Store>,
    auth: Arc<auth::Auth>,
    registry: Arc<feeds::registry::Registry>,
    stop: watch::Receiver<bool>,
) {
    {
        let shared = shared.clone();
        auth.on_change(move || {
            let shared = shared.clone();
            tokio::spawn(async move { shared.announce(cluster::Change { access: true, ..Default::default() }).await });
        });
    }
    {
        let shared = shared.clone();
        ingest.settings().on_change(move || {
            let shared = shared.clone();
            tokio::spawn(async move { shared.announce(cluster::Change { settings: true, ..Default::default() }).await });
        });
    }
    if let Some(bus) = shared.bus.clone() {
        let (ingest, store, auth, me, stop) = (ingest.clone(), store.clone(), auth.clone(), shared.instance.clone(), stop.clone());
        tokio::spawn(async move {
            let on = |c: cluster::Change| {
                let (ingest, store, auth, registry, own) = (ingest.clone(), store.clone(), auth.clone(), registry.clone(), c.instance == me);
                async move {
                    if own {
                        return;
                    }
                    if c.events {
                        if let Err(e) = ingest.catch_up().await {
                            tracing::warn!(error = %e, "catching up with the store failed; trying again within a second");
                        }
                    }
                    if !c.patrols.is_empty() {
                        ingest.patrols_elsewhere(&c.patrols);
                    }
                    if c.duties {
                        if let Err(e) = ingest.load_roster().await {
                            tracing::warn!(error = %e, "reading the duty roster again failed");
                        }
                    }
                    if c.access {
                        if let Err(e) = auth.reload().await {
                            tracing::warn!(error = %e, "reading access rows again failed");
                        }
                    }
                    if c.feeds {
                        if let Err(e) = registry.follow_pauses().await {
                            tracing::warn!(error = %e, "following a feed's pause failed");
                        }
                    }
                    if c.settings {
                        if let Err(e) = ingest.settings().reload(store.as_ref()).await {
                            tracing::warn!(error = %e, "reading the settings again failed");
                        }
                    }
                }
            };
            bus.follow(on, stop).await;
        });
    }
    let reload_every = if shared.bus.is_some() { 30 } else { 3 };
    tokio::spawn(async move {
        let mut stop = stop;
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(1));
        let mut n = 0u64;
        loop {
            tokio::select! { _ = tick.tick() => {}, _ = cluster::stopped(&mut stop) => return }
            n += 1;
            if let Err(e) = ingest.catch_up().await {
                tracing::warn!(error = %e, "catching up with the store failed");
            }
            if n % reload_every == 0 {
                if let Err(e) = auth.reload().await {
                    tracing::warn!(error = %e, "reading access rows again failed");
                }
                if let Err(e) = ingest.settings().reload(store.as_ref()).await {
                    tracing::warn!(error = %e, "reading the settings again failed");
                }
            }
        }
    });
}

/// The demo's history on a shared store, written by the instance that holds the demo feed's lease when
/// the store has none yet.
async fn demo_history(d: &feeds::demo::DemoFeed, ingest: &ingest::Ingest, store: &dyn Store) -> Result<(), StoreError> {
    if store.has_cases(feeds::demo::FEED).await? || d.backfill_days() == 0 {
        return Ok(());
    }
    let t = std::time::Instant::now();
    let now = ingest.clock().now_ms();
    let events = d.backfill(now);
    for chunk in events.chunks(20_000) {
        ingest.submit(chunk.to_vec()).await?;
    }
    ingest.submit_patrols(d.patrol_backfill(now)).await?;
    tracing::info!(events = events.len(), ms = t.elapsed().as_millis() as u64, "demo history created");
    Ok(())
}

async fn load_or_create_city(store: Arc<dyn Store>, now: i64) -> Result<RegionTree, StartError> {
    if store.region_count().await? == 0 {
        let t = std::time::Instant::now();
        let mut rows = city::shaoxing::build();
        city::shaoxing::date_base_data(&mut rows, now);
        store.save_regions(&rows).await?;
        tracing::info!(regions = rows.len(), ms = t.elapsed().as_millis() as u64, "demo city created");
    }
    RegionTree::new(store.load_regions().await?).map_err(|e| StartError(format!("stored region tree is invalid: {e}")))
}

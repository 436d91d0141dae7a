//! `cockpit-gen`: a realistic city-year (or any span) of the demo city, written through the normal
//! store and counted by the engine as a live server would: cases from every source reported into grids
//! by population, moved through the lifecycle with returns and mediation, escalated by the rule,
//! supervised by officials, grids patrolled, and daily safety figures per town. Deterministic: the same
//! seed, span and end give the same data. Ends with the engine's snapshot, so the first start is quick.
//!
//!     cockpit-gen --data-dir DIR [--days 365] [--cases-per-day 2900] [--seed 2026] [--end 2026-12-02T09:00:00+08:00]
use engine::Engine;
use server::calendar::Calendar;
use server::case::{CaseEvent, Note};
use server::clock::Clock;
use server::config::DemoConfig;
use server::feeds::demo::DemoFeed;
use server::feeds::record::Observation;
use server::ingest::Ingest;
use server::rules::FlowConfig;
use server::store::{SqliteStore, Store};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, RwLock};

const USAGE: &str = "usage: cockpit-gen --data-dir DIR [--days N] [--cases-per-day N] [--seed N] [--end RFC3339]";
const HOUR: i64 = 3_600_000;
/// Hours of changes written in one transaction. A case row and its events' index entries are rewritten at
/// every step of the case, and a case lives for days: three days a transaction write each such page once
/// where one day a transaction wrote it three times (90 days: 44.1 s and 10.0 M blocks written at 24
/// hours, 33.4 s and 6.3 M blocks at 72).
const HOURS_PER_WRITE: u64 = 72;
const DAY: i64 = 24 * HOUR;

struct Args {
    data_dir: PathBuf,
    days: u32,
    cases_per_day: f64,
    seed: u64,
    end: Option<i64>,
}

fn parse(mut it: impl Iterator<Item = String>) -> Result<Args, String> {
    let mut a = Args { data_dir: PathBuf::new(), days: 365, cases_per_day: 2900.0, seed: 2026, end: None };
    while let Some(k) = it.next() {
        let mut v = || it.next().ok_or_else(|| format!("{k} needs a value\n{USAGE}"));
        match k.as_str() {
            "--data-dir" => a.data_dir = v()?.into(),
            "--days" => a.days = v()?.parse().map_err(|_| format!("--days: a whole number\n{USAGE}"))?,
            "--cases-per-day" => a.cases_per_day = v()?.parse().map_err(|_| format!("--cases-per-day: a number\n{USAGE}"))?,
            "--seed" => a.seed = v()?.parse().map_err(|_| format!("--seed: a whole number\n{USAGE}"))?,
            "--end" => a.end = Some(server::clock::parse_instant(&v()?)?),
            "-h" | "--help" => return Err(USAGE.into()),
            other => return Err(format!("unknown argument {other:?}\n{USAGE}")),
        }
    }
    if a.data_dir.as_os_str().is_empty() {
        return Err(format!("--data-dir is required\n{USAGE}"));
    }
    if a.days == 0 || a.days > 3 * 366 || !(a.cases_per_day > 0.0 && a.cases_per_day <= 100_000.0) {
        return Err(format!("--days is 1 to 1098 and --cases-per-day above 0 and at most 100000\n{USAGE}"));
    }
    Ok(a)
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt().with_writer(std::io::stderr).with_env_filter(tracing_subscriber::EnvFilter::new("warn")).init();
    let args = match parse(std::env::args().skip(1)) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    match generate(args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("cockpit-gen: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn generate(a: Args) -> Result<(), String> {
    let t = std::time::Instant::now();
    let store = Arc::new(SqliteStore::open(&a.data_dir).await.map_err(|e| e.to_string())?);
    if store.replay_position().await.map_err(|e| e.to_string())? > 0 {
        return Err(format!("{} already holds cases; generate into an empty data directory", a.data_dir.display()));
    }
    if store.region_count().await.map_err(|e| e.to_string())? == 0 {
        store.save_regions(&server::city::shaoxing::build()).await.map_err(|e| e.to_string())?;
    }
    let tree = Arc::new(server::city::RegionTree::new(store.load_regions().await.map_err(|e| e.to_string())?)?);
    let end = a.end.unwrap_or_else(|| Clock::system().now_ms());
    let start = end - i64::from(a.days) * DAY;
    let calendar = Calendar::new(&Default::default())?;
    let cfg = DemoConfig { enabled: true, rate_per_minute: a.cases_per_day / 1440.0, backfill_days: 0, backfill_rate_per_minute: 0.0, seed: a.seed, systems: false };
    let settings = Arc::new(server::settings::Settings::fixed(Default::default(), Default::default())?);
    let feed = DemoFeed::new(cfg, tree.clone(), settings.clone());
    let engine = Arc::new(RwLock::new(Engine::new(tree.clone())));
    let clock = Clock::manual(start);
    let (changed, _) = tokio::sync::watch::channel(0);
    let ingest = Ingest::new(store.clone(), tree.clone(), engine.clone(), changed, clock).with_settings(settings);
    let (mut progress, done) = feed.resume(store.as_ref(), start).await;
    ingest.submit_patrols(done).await.map_err(|e| e.to_string())?;
    // The store writes (with the engine counting them) on one core while the city goes on being
    // simulated on the other: the writer takes the work in order, two items behind at most.
    let (work, mut queued) = tokio::sync::mpsc::channel::<(i64, Work)>(2);
    let writer = {
        let ingest = ingest.clone();
        tokio::spawn(async move {
            while let Some((now, w)) = queued.recv().await {
                // The live server's clock at the time the work was made.
                ingest.clock().set(now);
                match w {
                    Work::Events(e) => ingest.submit(e).await.map(drop),
                    Work::Patrols(p) => ingest.submit_patrols(p).await.map(drop),
                    Work::Observations(o) => ingest.take_observations("stats", o).await,
                }
                .map_err(|e| e.to_string())?;
            }
            Ok::<(), String>(())
        })
    };
    let towns: Vec<String> = tree.iter().filter(|(_, r)| r.row.level == app::model::Level::Town).map(|(_, r)| r.row.code.clone()).collect();
    let (mut events, mut hour) = (0usize, 0u64);
    let mut now = start;
    // Written as a live server would, but in fewer transactions: an hour's changes with the oversight of
    // the hour before, a day's patrols at once.
    let mut shadow = Engine::new(tree.clone());
    let mut patrols = Vec::new();
    let mut pending: Vec<CaseEvent> = Vec::new();
    while now < end {
        now = (now + HOUR).min(end);
        hour += 1;
        let (walked, batch) = feed.due(&mut progress, now);
        patrols.extend(walked);
        // Hour by hour, as on a live server: the hour's changes, then the escalation rule and officials
        // supervising what is late, decided on a second engine that has seen everything so far (the
        // store takes three days at a time, in one transaction).
        shadow.sweep(now);
        for e in &batch {
            shadow.take(e);
        }
        pending.extend(batch);
        let cfg = FlowConfig::default();
        let escalate = shadow.due_for_escalation(|d| server::rules::should_escalate(&calendar, &cfg, d, now));
        let late = shadow.due_for_escalation(|_| true);
        let note = |actor: &str, text: &str| Note { actor: actor.into(), text: text.into() };
        let mut oversight: Vec<CaseEvent> =
            escalate.into_iter().map(|(f, id, status)| CaseEvent::oversight(&f, &id, app::flow::Action::Escalate, status, now, note(server::rules::ESCALATION_ACTOR, ""))).collect();
        oversight.extend(
            late.iter()
                .filter(|(_, id, _)| server::city::shaoxing::hash(id, a.seed ^ hour) % 40 == 0)
                .take(20)
                .map(|(f, id, status)| CaseEvent::oversight(f, id, app::flow::Action::Supervise, *status, now, note("leader", "请加快办理"))),
        );
        for e in &oversight {
            shadow.take(e);
        }
        pending.extend(oversight);
        if hour % HOURS_PER_WRITE == 0 || now >= end {
            events += pending.len();
            send(&work, now, Work::Events(std::mem::take(&mut pending))).await?;
        }
        // The day's patrols and safety figures per town, once the day is over.
        if app::model::local_day(now) != app::model::local_day(now - HOUR) {
            let day = app::model::local_day(now - HOUR);
            send(&work, now, Work::Patrols(std::mem::take(&mut patrols))).await?;
            send(&work, now, Work::Observations(safety_day(&towns, day, a.seed))).await?;
        }
        if hour % (24 * 30) == 0 {
            eprintln!("… {} days, {events} events, {:.0} s", hour / 24, t.elapsed().as_secs_f64());
        }
    }
    events += pending.len();
    send(&work, end, Work::Events(pending)).await?;
    send(&work, end, Work::Patrols(patrols)).await?;
    drop(work);
    writer.await.map_err(|e| format!("the store writer failed: {e}"))??;
    let secs = t.elapsed().as_secs_f64();
    let cases = engine.read().expect("engine lock").case_count();
    println!("generated {} days: {cases} cases, {events} events in {secs:.1} s ({:.0} events/s through the store)", a.days, events as f64 / secs);
    let bytes = server::indicators::write_snapshot(&ingest, &a.data_dir).await?;
    println!("engine snapshot: {bytes} bytes");
    Ok(())
}

/// Hands work to the store writer, waiting while it is two items behind.
async fn send(work: &tokio::sync::mpsc::Sender<(i64, Work)>, now: i64, w: Work) -> Result<(), String> {
    work.send((now, w)).await.map_err(|_| "the store writer stopped".to_string())
}

/// What the generator hands the store writer.
enum Work {
    Events(Vec<CaseEvent>),
    Patrols(Vec<server::patrol::Patrol>),
    Observations(Vec<(String, i64, Observation)>),
}

/// One day's figures of each town: video channels' uptime, alarms, criminal cases filed and solved, hazards
/// found and put right, psychological service reach, major incidents, and (monthly, on the 1st) the sense
/// of safety, long-standing cases resolved and satisfaction with the rule of law.
fn safety_day(towns: &[String], day: i64, seed: u64) -> Vec<(String, i64, Observation)> {
    use app::model::Indicator::*;
    let at = day * DAY - app::model::CST_OFFSET_MS + 20 * HOUR;
    let mut out = Vec::new();
    for town in towns {
        let h = server::city::shaoxing::hash(town, seed ^ day as u64);
        let unit = |salt: u32| (server::city::shaoxing::mix(h ^ u64::from(salt)) >> 11) as f64 / (1u64 << 53) as f64;
        let mut push = |indicator, value: f64| out.push((format!("{}-{day}-{}", town, indicator as u8), 1, Observation { indicator, region: town.clone(), at, value }));
        push(VideoOnline, 0.9 + 0.09 * unit(1));
        push(Alarm, (unit(2) * 12.0).floor());
        let filed = (unit(3) * 4.0).floor();
        push(CriminalFiled, filed);
        push(CriminalSolved, (filed * (0.6 + 0.4 * unit(4))).floor());
        let found = (2.0 + unit(6) * 6.0).floor();
        push(HazardsFound, found);
        push(HazardsFixed, (found * (0.7 + 0.3 * unit(7))).floor());
        push(PsychServed, (5.0 + unit(8) * 20.0).floor());
        push(MajorIncidents, if unit(9) < 0.002 { 1.0 } else { 0.0 });
        if &app::model::date_time(at)[8..10] == "01" {
            push(SafetySurvey, 92.0 + 6.0 * unit(5));
            push(BacklogResolution, 70.0 + 25.0 * unit(10));
            push(LawSatisfaction, 90.0 + 7.5 * unit(11));
        }
    }
    out
}

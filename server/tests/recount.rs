//! The product's promise: every number on a screen equals a recount from the stored events, at any
//! moment. The demo city runs through the real ingest path on a manual clock pinned to chosen instants
//! (midnight, the lunch break, 17:30, a weekend, a public holiday, a make-up workday, the edges of the
//! 62-day window) and to random ones; the deadline sweep and the escalation rule run as the server runs
//! them; a share of cases reaches the cockpit late, as from a slow source system; the server restarts
//! half way. At every check the live engine must equal `indicators::recount` of the store (what a
//! restart loads), and both must agree with plain SQL. Nothing here reads the machine's clock.
use engine::Engine;
use server::calendar::{Calendar, CalendarConfig};
use server::case::CaseEvent;
use server::city::{shaoxing, RegionRow, RegionTree};
use server::clock::Clock;
use server::config::DemoConfig;
use server::feeds::demo::{DemoFeed, Progress};
use server::ingest::Ingest;
use server::rules::FlowConfig;
use server::store::Store;
use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock, RwLock};
use tokio::sync::watch;

#[path = "common/peers.rs"]
mod peers;
#[path = "common/stores.rs"]
mod stores;
use stores::{Backend, TestStore};

const MIN: i64 = 60_000;
const HOUR: i64 = 60 * MIN;
const DAY: i64 = 24 * HOUR;

fn rows() -> &'static [RegionRow] {
    static ROWS: OnceLock<Vec<RegionRow>> = OnceLock::new();
    ROWS.get_or_init(shaoxing::build)
}

/// 2026-12-31 and 2027-01-01 are public holidays and Sunday 2027-01-03 a make-up workday (调休), as a
/// city would configure from the State Council's notice.
fn calendar_config() -> CalendarConfig {
    CalendarConfig { holidays: vec!["2026-12-31".into(), "2027-01-01".into()], extra_workdays: vec!["2027-01-03".into()], ..Default::default() }
}

fn settings() -> Arc<server::settings::Settings> {
    Arc::new(server::settings::Settings::fixed(calendar_config(), FlowConfig::default()).unwrap())
}

fn calendar() -> Calendar {
    Calendar::new(&calendar_config()).unwrap()
}

/// Shanghai local time as Unix ms.
fn at(text: &str) -> i64 {
    server::clock::parse_instant(&format!("{text}+08:00")).unwrap()
}

fn mix(x: u64) -> u64 {
    shaoxing::mix(x)
}

/// How a story runs: where its clock starts, how much history is stored before, how fast cases come,
/// how late slow cases reach the cockpit, and how long it runs before and after the restart.
#[derive(Clone, Debug)]
struct Plan {
    label: String,
    start: i64,
    seed: u64,
    backfill_days: u32,
    backfill_rate: f64,
    rate: f64,
    /// One case in this many is slow: all its events arrive `slow_delay` late.
    slow_one_in: u64,
    slow_delay: (i64, i64),
    /// One case in this many (of those reported in the history) is very late: its events arrive
    /// `very_late` after they happened (a source system catching up after weeks).
    very_late_one_in: u64,
    very_late: (i64, i64),
    before_restart: i64,
    after_restart: i64,
}

impl Plan {
    fn new(label: &str, start: i64, seed: u64) -> Plan {
        Plan {
            label: label.into(),
            start,
            seed,
            backfill_days: 2,
            backfill_rate: 1.0,
            rate: 4.0,
            slow_one_in: 12,
            slow_delay: (MIN, 3 * HOUR),
            very_late_one_in: 0,
            very_late: (0, 0),
            before_restart: 5 * HOUR,
            after_restart: 4 * HOUR,
        }
    }

    /// When event `seq` of case `id`, happening at `at`, reaches the cockpit.
    fn arrives(&self, id: &str, seq: u32, at: i64) -> i64 {
        let h = mix(self.seed ^ hash(id));
        // One case in fifteen comes from a source that sends its changes in any order within half an hour.
        let shuffle = if (h >> 29) % 15 == 0 { (mix(h ^ u64::from(seq)) % (30 * MIN as u64)) as i64 } else { 0 };
        let at = at + shuffle;
        let pick = |(lo, hi): (i64, i64), salt: u64| lo + (mix(h ^ salt) % (hi - lo).max(1) as u64) as i64;
        if self.very_late_one_in > 0 && h % self.very_late_one_in == 0 && at < self.start {
            return at + pick(self.very_late, 1);
        }
        if self.slow_one_in > 0 && (h >> 17) % self.slow_one_in == 0 {
            return at + pick(self.slow_delay, 2);
        }
        at
    }
}

fn hash(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3))
}

/// Events a source system has not delivered yet, by when they arrive (each case keeps its order).
#[derive(Default)]
struct Outbox(BTreeMap<(i64, u64), CaseEvent>);

impl Outbox {
    fn hold(&mut self, arrives: i64, e: CaseEvent) {
        let n = self.0.len() as u64;
        self.0.insert((arrives, n), e);
    }

    fn due(&mut self, now: i64) -> Vec<CaseEvent> {
        let later = self.0.split_off(&(now + 1, 0));
        std::mem::replace(&mut self.0, later).into_values().collect()
    }
}

struct City {
    db: TestStore,
    store: Arc<dyn Store>,
    tree: Arc<RegionTree>,
    clock: Clock,
    plan: Plan,
    feed: DemoFeed,
    outbox: Outbox,
}

/// A running server's live side: its aggregates, the ingest path and the demo feed's progress.
struct Live {
    aggregates: Arc<RwLock<Engine>>,
    ingest: Ingest,
    progress: Progress,
}

impl City {
    /// The store as a first start leaves it at `plan.start`: the city, its history (less what is still
    /// on its way from slow sources) and the patrols so far.
    async fn new(plan: Plan, backend: Backend) -> City {
        let db = TestStore::open(backend).await;
        let store = db.store.clone();
        store.save_regions(rows()).await.unwrap();
        let tree = Arc::new(RegionTree::new(store.load_regions().await.unwrap()).unwrap());
        let cfg = DemoConfig {
            enabled: true,
            rate_per_minute: plan.rate,
            backfill_days: plan.backfill_days,
            backfill_rate_per_minute: plan.backfill_rate,
            seed: plan.seed,
            systems: false,
        };
        let feed = DemoFeed::new(cfg, tree.clone(), settings());
        let mut outbox = Outbox::default();
        let mut now_events = Vec::new();
        for e in feed.backfill(plan.start) {
            let arrives = plan.arrives(&e.case_id, e.seq, e.at);
            if arrives <= plan.start {
                now_events.push(e);
            } else {
                outbox.hold(arrives, e);
            }
        }
        for chunk in now_events.chunks(20_000) {
            store.append(chunk).await.unwrap();
        }
        store.append_patrols(&feed.patrol_backfill(plan.start)).await.unwrap();
        City { db, store, tree, clock: Clock::manual(plan.start), plan, feed, outbox }
    }

    /// A (re)start as `server::run` does it: the engine from its snapshot and the store's tail (or
    /// counted again from the store when there is no snapshot), and the feed carrying on from what is
    /// stored.
    async fn start(&self) -> Live {
        let now = self.clock.now_ms();
        let (engine, _) = server::indicators::start(self.tree.clone(), self.store.as_ref(), self.db.dir.path(), now).await.unwrap();
        let aggregates = Arc::new(RwLock::new(engine));
        let (changed, _) = watch::channel(0);
        let ingest = Ingest::new(self.store.clone(), self.tree.clone(), aggregates.clone(), changed, self.clock.clone()).with_settings(settings());
        let (progress, done) = self.feed.resume(self.store.as_ref(), now).await;
        ingest.submit_patrols(done).await.unwrap();
        Live { aggregates, ingest, progress }
    }

    /// Runs the clock forward to `until` in uneven steps (a second to twenty minutes), delivering what
    /// falls due, sweeping deadlines and running the escalation rule as the server does.
    async fn run(&mut self, live: &mut Live, until: i64) {
        let mut step = 0u64;
        let mut last_rule = self.clock.now_ms();
        while self.clock.now_ms() < until {
            step += 1;
            let h = mix(self.plan.seed ^ step.wrapping_mul(0x9e37) ^ self.clock.now_ms() as u64);
            let dt = [1_000, 20_000, 3 * MIN, 11 * MIN, 20 * MIN][(h % 5) as usize];
            self.clock.set((self.clock.now_ms() + dt).min(until));
            let now = self.clock.now_ms();
            let (walked, batch) = self.feed.due(&mut live.progress, now);
            for e in batch {
                let arrives = self.plan.arrives(&e.case_id, e.seq, e.at);
                // One event in twenty is delivered twice (a retry, an overlap re-read).
                if mix(hash(&e.case_id) ^ u64::from(e.seq) ^ 0xd0b1e) % 20 == 0 {
                    self.outbox.hold(arrives + 7 * MIN, e.clone());
                }
                self.outbox.hold(arrives, e);
            }
            let arrived = self.outbox.due(now);
            if !walked.is_empty() {
                live.ingest.submit_patrols(walked).await.unwrap();
            }
            if !arrived.is_empty() {
                let outcomes = live.ingest.submit(arrived.clone()).await.unwrap();
                // A change the state machine refuses (it came before the one it follows) is sent again
                // later, as a source re-reading its changes would.
                for (e, o) in arrived.into_iter().zip(outcomes) {
                    if matches!(o, server::case::Outcome::Rejected(_)) {
                        self.outbox.hold(now + 5 * MIN, e);
                    }
                }
            }
            live.ingest.sweep();
            if now - last_rule >= 30_000 {
                last_rule = now;
                server::rules::escalate_due(&live.ingest, &live.aggregates, &calendar(), &FlowConfig::default()).await.unwrap();
            }
        }
    }

    /// The live figures equal the recount, and both agree with SQL.
    async fn check(&self, live: &Live, when: &str) {
        let now = self.clock.now_ms();
        live.ingest.sweep();
        let recount = server::indicators::recount(self.tree.clone(), self.store.as_ref(), now).await.unwrap();
        let a = live.aggregates.read().unwrap();
        if let Some(d) = a.difference(&recount) {
            panic!("{} (clock pinned at {}, seed {}): {when} at {}: live differs from the recount: {d}", self.plan.label, app::model::date_time(self.plan.start), self.plan.seed, app::model::date_time(now));
        }
        let root = a.node(self.tree.root());
        let sql = |q: &'static str| self.db.scalar(q, &[]);
        assert_eq!(i64::from(root.open), sql("SELECT COUNT(*) FROM cases WHERE status <> 'closed'").await, "{}: open cases", self.plan.label);
        assert_eq!(a.open_cases() as i64, i64::from(root.open));
        let overdue_sql = self.db.scalar("SELECT COUNT(*) FROM cases WHERE status <> 'closed' AND deadline <= ?", &[now]).await;
        assert_eq!(i64::from(root.overdue), overdue_sql, "{}: overdue now", self.plan.label);
        // Each day's figures, counted by SQL from the cases as stored: reported and closed that day,
        // and overdue that day (due that day, by now, and not closed by the deadline). This catches what
        // live and recount could get wrong alike (both counting a case overdue that closed in time).
        let first_kept = app::model::local_day(now) - 100;
        let by_day = |q: &'static str| async move {
            let rows = self.db.int_int(q, &[now]).await;
            rows.into_iter().filter(|(d, _)| *d >= first_kept).collect::<BTreeMap<i64, i64>>()
        };
        let reported = by_day("SELECT (reported_at + 28800000) / 86400000 AS d, COUNT(*) FROM cases WHERE reported_at <= ? GROUP BY d").await;
        let closed = by_day("SELECT (closed_at + 28800000) / 86400000 AS d, COUNT(*) FROM cases WHERE closed_at <= ? GROUP BY d").await;
        let overdue = by_day("SELECT (deadline + 28800000) / 86400000 AS d, COUNT(*) FROM cases WHERE deadline <= ? AND (closed_at IS NULL OR closed_at > deadline) GROUP BY d").await;
        let days: std::collections::BTreeSet<i64> = reported.keys().chain(closed.keys()).chain(overdue.keys()).copied().collect();
        let today = app::model::local_day(now);
        let live_days = a.days(self.tree.root(), first_kept, today);
        for d in days.into_iter().chain(first_kept..=today).collect::<std::collections::BTreeSet<_>>() {
            let Some(live_day) = live_days.get((d - first_kept) as usize).copied() else { continue };
            let sql_day = (reported.get(&d).copied().unwrap_or(0), closed.get(&d).copied().unwrap_or(0), overdue.get(&d).copied().unwrap_or(0));
            assert_eq!(
                (i64::from(live_day.reported), i64::from(live_day.closed), i64::from(live_day.overdue)),
                sql_day,
                "{} (seed {}): {when}: the city's (reported, closed, overdue) on {} against SQL",
                self.plan.label,
                self.plan.seed,
                engine::diff::day_name(d)
            );
        }
        // Nothing lost: every event 0..=seq of every case is stored, or still on its way (a source that
        // sends in any order). Nothing doubled: (case, origin, seq) is unique in the store.
        let stored = self.db.text_int("SELECT e.case_id, e.seq FROM case_events e WHERE e.origin = 'feed'", &[]).await;
        let tops = self.db.text_int("SELECT case_id, seq FROM cases", &[]).await;
        let have: std::collections::HashSet<(String, i64)> = stored.into_iter().collect();
        let on_the_way: std::collections::HashSet<(String, i64)> = self.outbox.0.values().map(|e| (e.case_id.clone(), i64::from(e.seq))).collect();
        for (id, top) in tops {
            for seq in 0..=top {
                let k = (id.clone(), seq);
                assert!(have.contains(&k) || on_the_way.contains(&k), "{}: event {seq} of case {id} is neither stored nor on its way", self.plan.label);
            }
        }
        let doubled = sql("SELECT COUNT(*) FROM (SELECT 1 FROM case_events GROUP BY feed, case_id, origin, seq HAVING COUNT(*) > 1) AS doubled").await;
        assert_eq!(doubled, 0, "{}: an event stored twice", self.plan.label);
    }
}

/// The whole story from one pinned instant: run, check, run, check, snapshot, run, check, restart
/// (snapshot + tail, equal to the engine before), run, check.
async fn story(plan: Plan, backend: Backend) {
    let (before, after) = (plan.before_restart, plan.after_restart);
    let mut city = City::new(plan, backend).await;
    let mut live = city.start().await;
    let t0 = city.clock.now_ms();
    city.run(&mut live, t0 + before / 2).await;
    city.check(&live, "while running").await;
    city.run(&mut live, t0 + before).await;
    city.check(&live, "before the snapshot").await;
    // A snapshot, then more events after it: the restart reads the snapshot and only that tail.
    server::indicators::write_snapshot(&live.ingest, city.db.dir.path()).await.unwrap();
    city.run(&mut live, t0 + before + 40 * MIN).await;
    city.check(&live, "before the restart").await;
    let old = live.aggregates.clone();
    drop(live);
    let mut live = city.start().await;
    if let Some(d) = old.read().unwrap().difference(&live.aggregates.read().unwrap()) {
        panic!("{}: restarted from the snapshot and its tail, the engine differs from the one before: {d}", city.plan.label);
    }
    city.run(&mut live, t0 + before + after).await;
    city.check(&live, "at the end").await;
    let delivered = city.db.scalar("SELECT COUNT(*) FROM case_events WHERE at >= ?", &[t0]).await;
    assert!(delivered > 100, "{}: the story moved cases ({delivered} events)", city.plan.label);
}

/// Each pinned story twice, one test body on two back ends: `<story>::sqlite` and `<story>::postgres`.
macro_rules! pinned {
    ($($name:ident: $plan:expr;)*) => {$(
        mod $name {
            use super::*;
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                story($plan, Backend::Sqlite).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                story($plan, Backend::Postgres).await;
            }
        }
    )*};
}

pinned! {
    // Midnight: the day changes, yesterday's counts become history.
    from_midnight_across_the_day_change: Plan { before_restart: 30 * MIN, ..Plan::new("midnight", at("2026-12-28T23:40:00"), 11) };
    // The lunch break: no working time passes, deadlines wait.
    from_the_lunch_break: Plan::new("lunch break", at("2026-12-29T12:10:00"), 12);
    // The end of the working day: deadlines of the day pass at 17:30 sharp.
    from_half_past_five: Plan { before_restart: 20 * MIN, ..Plan::new("17:30", at("2026-12-29T17:20:00"), 13) };
    // A Saturday: no deadline falls, patrols are few.
    on_a_weekend: Plan::new("weekend", at("2026-12-26T10:00:00"), 14);
    // New Year's Eve, a public holiday: deadlines move past it.
    on_a_public_holiday: Plan::new("public holiday", at("2026-12-31T09:00:00"), 15);
    // Sunday 2027-01-03, a make-up workday: deadlines fall on a Sunday.
    on_a_make_up_workday: Plan::new("make-up workday", at("2027-01-03T08:00:00"), 16);
    // The first day of the 62-day window leaves it at midnight while events dated on it (and on the day
    // before it) are still arriving from a source catching up after two months.
    at_the_edges_of_the_62_day_window: Plan {
        backfill_days: 64,
        backfill_rate: 0.1,
        very_late_one_in: 15,
        very_late: (61 * DAY + 23 * HOUR, 62 * DAY + 2 * HOUR),
        before_restart: 2 * HOUR,
        after_restart: 2 * HOUR,
        ..Plan::new("62-day window", at("2026-12-28T22:30:00"), 17)
    };
}

/// Property: from random instants over two years (any hour, any day), with random seeds, the live
/// figures equal the recount. The seeds are fixed so a failure names its instant and can be rerun.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn from_random_instants_live_equals_the_recount() {
    random_instants(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn from_random_instants_live_equals_the_recount_on_postgres() {
    random_instants(Backend::Postgres).await;
}

async fn random_instants(backend: Backend) {
    let first = at("2026-01-01T00:00:00");
    for i in 0..4u64 {
        let h = mix(0x5eed_0000 + i);
        let start = first + (h % (730 * DAY as u64)) as i64 / MIN * MIN + (h >> 50) as i64 % MIN;
        let plan = Plan { before_restart: 2 * HOUR, after_restart: 90 * MIN, backfill_days: 1, ..Plan::new(&format!("random #{i}"), start, h >> 8) };
        story(plan, backend).await;
    }
}

/// The failure this file was written for: a case closed before its deadline whose close reaches the
/// cockpit after the sweep passed the deadline was counted overdue on the deadline's day live, but not
/// by a recount. Pinned by hand, so it fails without the fix whatever the demo generates.
#[tokio::test]
async fn a_close_that_arrives_after_the_deadline_passed_does_not_count_as_overdue() {
    late_close(Backend::Sqlite).await;
}

#[tokio::test]
async fn a_close_that_arrives_after_the_deadline_passed_does_not_count_as_overdue_on_postgres() {
    late_close(Backend::Postgres).await;
}

async fn late_close(backend: Backend) {
    use app::flow::{Action, Priority};
    use app::model::{Category, Source, Status};
    use server::case::CaseFacts;
    let plan = Plan { slow_one_in: 0, ..Plan::new("late close", at("2026-12-29T09:00:00"), 1) };
    let t = plan.start;
    let city = City::new(Plan { backfill_days: 0, ..plan }, backend).await;
    let live = city.start().await;
    let grid = city.tree.iter().find(|(_, r)| r.row.grid.is_some()).unwrap().1.row.code.clone();
    let deadline = t + HOUR;
    let facts = CaseFacts {
        category: Category::Hazard,
        source: Source::Hotline12345,
        grid,
        reported_at: t,
        priority: Priority::Urgent,
        warn_at: t + 48 * MIN,
        deadline,
        details: Default::default(),
    };
    let report = CaseEvent { facts: Some(facts), ..CaseEvent::change("late", "L1", 0, Action::Report, Status::Reported, t) };
    live.ingest.submit(vec![report]).await.unwrap();
    let steps = [(1, Action::Accept, Status::Accepted), (2, Action::Dispatch, Status::Dispatched), (3, Action::Start, Status::Handling), (4, Action::Resolve, Status::Resolved), (5, Action::Verify, Status::Verified), (6, Action::Close, Status::Closed)];
    // The sweep passes the deadline before the source delivers anything more.
    city.clock.set(deadline + 10 * MIN);
    live.ingest.sweep();
    assert_eq!(live.aggregates.read().unwrap().node(city.tree.root()).overdue, 1, "open past its deadline, as far as the cockpit knows");
    // Then the source's history arrives: closed five minutes before the deadline.
    let events = steps.iter().map(|&(seq, a, s)| CaseEvent::change("late", "L1", seq, a, s, deadline - 60 * MIN + i64::from(seq) * 9 * MIN)).collect();
    live.ingest.submit(events).await.unwrap();
    city.check(&live, "after the late close").await;
    let a = live.aggregates.read().unwrap();
    let day = app::model::local_day(deadline);
    let d = a.days(city.tree.root(), day, day)[0];
    assert_eq!((d.reported, d.closed, d.overdue), (1, 1, 0), "closed on time, whenever the close arrived");
}

/// A snapshot that is truncated, of another format version, or damaged is never trusted: the engine is
/// counted again from the store, equal to a recount, and the reason is given.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_damaged_snapshot_is_counted_again_from_the_store() {
    use server::indicators::{self, Origin};
    let plan = Plan { backfill_days: 1, ..Plan::new("damaged snapshot", at("2026-12-29T09:00:00"), 21) };
    let mut city = City::new(plan, Backend::Sqlite).await;
    let mut live = city.start().await;
    let t0 = city.clock.now_ms();
    city.run(&mut live, t0 + HOUR).await;
    indicators::write_snapshot(&live.ingest, city.db.dir.path()).await.unwrap();
    let path = indicators::snapshot_path(city.db.dir.path());
    let good = std::fs::read(&path).unwrap();
    let now = city.clock.now_ms();
    let want = indicators::recount(city.tree.clone(), city.store.as_ref(), now).await.unwrap();
    let (from_good, origin) = indicators::start(city.tree.clone(), city.store.as_ref(), city.db.dir.path(), now).await.unwrap();
    assert!(matches!(origin, Origin::Snapshot { .. }), "{origin:?}");
    assert_eq!(from_good.difference(&want), None);
    let mut flipped = good.clone();
    let middle = flipped.len() / 2;
    flipped[middle] ^= 0x01;
    let mut other_version = good.clone();
    other_version[8] = 0xee;
    for (what, bytes, reason) in [
        ("truncated", good[..good.len() * 2 / 3].to_vec(), ""),
        ("another version", other_version, "format version"),
        ("a flipped byte", flipped, ""),
        ("empty", Vec::new(), "not an engine snapshot"),
    ] {
        std::fs::write(&path, &bytes).unwrap();
        let (e, origin) = indicators::start(city.tree.clone(), city.store.as_ref(), city.db.dir.path(), now).await.unwrap();
        match origin {
            Origin::Recounted { why } => assert!(why.contains(reason), "{what}: {why}"),
            other => panic!("{what}: a damaged snapshot was used ({other:?})"),
        }
        assert_eq!(e.difference(&want), None, "{what}");
    }
    std::fs::remove_file(&path).unwrap();
    let (_, origin) = indicators::start(city.tree.clone(), city.store.as_ref(), city.db.dir.path(), now).await.unwrap();
    assert_eq!(origin, Origin::Recounted { why: "there is none yet".into() });
}

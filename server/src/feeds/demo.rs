//! The built-in demo feed: plays the city's systems (grid patrol, 12345, petitions, police, video
//! alerts) reporting cases of realistic categories into grids weighted by population, each moving through
//! the lifecycle with realistic durations; some miss their deadline. Every duration comes from a hash of
//! the case id, so after a restart the feed re-plans open cases exactly as before: nothing lost, nothing doubled.
use super::Feed;
use crate::case::{CaseDetails, CaseEvent, CaseFacts};
use crate::patrol::Patrol;
use app::flow::{Action, Mediation, Outcome as MediationOutcome, Priority, Tier};
use crate::city::shaoxing::{hash, mix, person_name};
use crate::settings::Settings;
use crate::city::RegionTree;
use crate::config::DemoConfig;
use crate::ingest::Ingest;
use app::model::{Category, Level, Person, Source, Status, CST_OFFSET_MS, DAY_MS};
use futures::future::BoxFuture;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::Arc;
use tokio::sync::watch;

pub const FEED: &str = "demo";
const MIN: i64 = 60_000;
const HOUR: i64 = 60 * MIN;

pub struct DemoFeed {
    cfg: DemoConfig,
    tree: Arc<RegionTree>,
    /// The working calendar in force (deadlines, and when the city works).
    settings: Arc<Settings>,
    /// Grid index and cumulative population, for picking a grid in proportion to its people.
    grids: Vec<(usize, u64)>,
}

/// What decides a case's pace and path: wall-clock time from report to deadline, and whether it is a
/// dispute (disputes go through mediation while handled).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Life {
    pub allowance: i64,
    pub dispute: bool,
}

/// One change of a case: what, to which status, when.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Step {
    pub at: i64,
    pub action: Action,
    pub status: Status,
    pub mediation: Option<Mediation>,
}

impl Step {
    fn event(&self, case_id: &str, seq: u32) -> CaseEvent {
        CaseEvent { mediation: self.mediation, ..CaseEvent::change(FEED, case_id, seq, self.action, self.status, self.at) }
    }
}

/// A change that will happen: (at, case id, seq, the change, the case's life, mediation attempts before it).
type Planned = Reverse<(i64, String, u32, Step, Life, u32)>;

impl DemoFeed {
    pub fn new(cfg: DemoConfig, tree: Arc<RegionTree>, settings: Arc<Settings>) -> DemoFeed {
        let mut total = 0u64;
        let grids = tree
            .iter()
            .filter(|(_, r)| r.row.level == Level::Grid)
            .map(|(i, r)| {
                total += u64::from(r.row.grid.as_ref().map(|g| g.population).unwrap_or(0)).max(1);
                (i, total)
            })
            .collect();
        DemoFeed { cfg, tree, settings, grids }
    }

    /// Days of history an empty database is given.
    pub fn backfill_days(&self) -> u32 {
        self.cfg.backfill_days
    }

    /// History for an empty database: cases reported over the last `backfill_days` up to `now`, with
    /// every change that was due by `now`, in time order.
    pub fn backfill(&self, now: i64) -> Vec<CaseEvent> {
        let mut out = Vec::new();
        let mut t = now - i64::from(self.cfg.backfill_days) * DAY_MS;
        let mut k = 0u64;
        loop {
            t = self.next_arrival(t, k, self.cfg.backfill_rate_per_minute);
            if t > now {
                break;
            }
            let report = self.report(t, k);
            let (mut status, mut seq, mut at, mut mediated) = (report.status, report.seq, report.at, 0);
            let id = report.case_id.clone();
            let life = life(&report);
            out.push(report);
            while let Some(step) = next_step(&id, seq, status, at, life, mediated) {
                if step.at > now {
                    break;
                }
                (status, seq, at) = (step.status, seq + 1, step.at);
                mediated += u32::from(step.action == Action::Mediate);
                out.push(step.event(&id, seq));
            }
            k += 1;
        }
        out.sort_by(|a, b| (a.at, a.seq).cmp(&(b.at, b.seq)));
        out
    }

    /// The patrols of the last `backfill_days` days up to `now`, for an empty database.
    pub fn patrol_backfill(&self, now: i64) -> Vec<Patrol> {
        let today = app::model::local_day(now);
        (today - i64::from(self.cfg.backfill_days)..=today)
            .flat_map(|day| self.grids.iter().filter_map(move |&(g, _)| self.patrol_on(g, day)))
            .filter(|p| p.at <= now)
            .collect()
    }

    /// The patrol of grid `idx` on local day `day`, if there is one: a staffed grid is walked on most
    /// working days, a neglected one (one grid in 25) rarely, a vacant one now and then by a neighbour;
    /// fewer on days off. Between 08:30 and 17:30.
    fn patrol_on(&self, idx: usize, day: i64) -> Option<Patrol> {
        let r = self.tree.get(idx);
        let g = r.row.grid.as_ref()?;
        let h = hash(&r.row.code, (day as u64).wrapping_mul(0x9e37_79b9) ^ self.cfg.seed);
        let neglected = hash(&r.row.code, self.cfg.seed ^ 0x5a5a) % 25 == 0;
        let chance = match (&g.worker, neglected) {
            (Some(_), false) => 85,
            (Some(_), true) => 8,
            (None, _) => 12,
        };
        if h % 100 >= chance || (!self.settings.current().calendar.is_workday(day) && (h >> 7) % 3 != 0) {
            return None;
        }
        let minute = 8 * 60 + 30 + ((h >> 16) % (9 * 60)) as i64;
        Some(Patrol { grid: r.row.code.clone(), at: day * DAY_MS - CST_OFFSET_MS + minute * MIN, worker: g.worker.clone() })
    }

    /// The day's patrols, soonest last (popped from the end).
    fn patrols_of_day(&self, day: i64) -> Vec<Patrol> {
        let mut v: Vec<Patrol> = self.grids.iter().filter_map(|&(g, _)| self.patrol_on(g, day)).collect();
        v.sort_by(|a, b| b.at.cmp(&a.at));
        v
    }

    /// Arrival after `t`: a Poisson process whose rate follows the day (quiet at night, busy by day).
    /// A rate of zero never arrives: tests and cities that want only their own feeds count on it.
    fn next_arrival(&self, t: i64, k: u64, rate_per_minute: f64) -> i64 {
        if rate_per_minute <= 0.0 || !rate_per_minute.is_finite() {
            return i64::MAX;
        }
        let per_ms = rate_per_minute / MIN as f64 * diurnal(t);
        let u = unit(mix(self.cfg.seed ^ k.wrapping_mul(0x9e37_79b9) ^ t as u64)).max(1e-9);
        t + ((-u.ln() / per_ms) as i64).max(1)
    }

    fn report(&self, at: i64, k: u64) -> CaseEvent {
        let h = mix(self.cfg.seed.wrapping_add(k).wrapping_mul(31) ^ at as u64);
        let case_id = format!("SX{at}{:02}", k % 100);
        let source = pick(h, &[(Source::GridPatrol, 40), (Source::Hotline12345, 30), (Source::Police, 12), (Source::VideoAlert, 12), (Source::Petition, 6)]);
        let category = match source {
            Source::Petition => pick(h >> 8, &[(Category::Dispute, 60), (Category::Livelihood, 40)]),
            Source::VideoAlert => pick(h >> 8, &[(Category::PublicOrder, 45), (Category::Environment, 35), (Category::Hazard, 20)]),
            Source::Police => pick(h >> 8, &[(Category::PublicOrder, 60), (Category::Dispute, 40)]),
            _ => pick(
                h >> 8,
                &[(Category::Livelihood, 30), (Category::Environment, 25), (Category::Hazard, 20), (Category::Dispute, 15), (Category::PublicOrder, 10)],
            ),
        };
        let target = (h >> 24) % self.grids.last().map(|g| g.1).unwrap_or(1);
        let slot = self.grids.partition_point(|g| g.1 <= target).min(self.grids.len().saturating_sub(1));
        let grid = self.tree.get(self.grids[slot].0).row.code.clone();
        let priority = pick(h >> 40, &[(Priority::Urgent, 10), (Priority::High, 25), (Priority::Normal, 65)]);
        let (warn_at, deadline) = crate::rules::due(&self.settings.current().calendar, category, priority, at);
        let facts = CaseFacts {
            category,
            source,
            priority,
            warn_at,
            deadline,
            details: details(h, category, source, &self.tree, self.grids[slot].0),
            grid,
            reported_at: at,
        };
        CaseEvent { facts: Some(facts), ..CaseEvent::change(FEED, &case_id, 0, Action::Report, Status::Reported, at) }
    }
}

/// What the case is about, who reported it, and which department answers for it; generated, not real.
fn details(h: u64, category: Category, source: Source, tree: &RegionTree, grid: usize) -> CaseDetails {
    let village = tree.get(grid).parent.map(|v| tree.get(v).row.name.clone()).unwrap_or_default();
    let h2 = mix(h ^ 0x5eed);
    let (summary, department) = match category {
        Category::Dispute => (["邻里纠纷", "婚姻家庭纠纷", "劳资纠纷", "土地承包纠纷"][(h2 % 4) as usize], "司法局"),
        Category::Hazard => (["消防通道堵塞", "燃气泄漏隐患", "危房隐患", "电动车违规充电"][(h2 % 4) as usize], "应急管理局"),
        Category::PublicOrder => (["噪音扰民", "可疑人员", "聚众滋事", "违规停车"][(h2 % 4) as usize], "公安局"),
        Category::Environment => (["垃圾乱堆", "污水直排", "油烟扰民", "河道漂浮物"][(h2 % 4) as usize], "城管局"),
        Category::Livelihood => (["路灯损坏", "供水中断", "困难群众求助", "道路破损"][(h2 % 4) as usize], "城管局"),
    };
    // Patrol and video reports come from staff and cameras: no citizen's data. Others have a reporter.
    let person = match source {
        Source::GridPatrol | Source::VideoAlert => None,
        _ => Some(Person {
            name: person_name(h2 >> 8),
            phone: format!("1{}{:09}", [3, 5, 7, 8, 9][((h2 >> 20) % 5) as usize], (h2 >> 24) % 1_000_000_000),
            // Petitions (信访) record the petitioner's resident ID.
            id_number: (source == Source::Petition).then(|| {
                let code = &tree.get(grid).row.code[..6];
                format!("{code}19{:02}{:02}{:02}{:04}", 50 + (h2 >> 30) % 50, 1 + (h2 >> 36) % 12, 1 + (h2 >> 40) % 28, (h2 >> 44) % 10_000)
            }),
            email: None,
        }),
    };
    CaseDetails {
        summary: summary.to_string(),
        department: Some(department.to_string()),
        address: Some(format!("{village}{}组{}号", 1 + (h2 >> 48) % 12, 1 + (h2 >> 52) % 80)),
        person,
    }
}

fn life(report: &CaseEvent) -> Life {
    match &report.facts {
        Some(f) => Life { allowance: f.deadline - f.reported_at, dispute: f.category == Category::Dispute },
        None => Life { allowance: 5 * DAY_MS, dispute: false },
    }
}

/// The mediation a dispute goes through (矛盾纠纷多元化解), the same for the same case: reconciliation
/// or village mediation first; a failure climbs to the next tier (now and then straight to court); a
/// people's mediation agreement sometimes goes to judicial confirmation.
pub fn mediation_path(case_id: &str) -> Vec<Mediation> {
    use Tier::*;
    let mut path = Vec::new();
    let mut tier = if hash(case_id, 21) % 10 < 4 { Reconciliation } else { Village };
    for i in 0..8u64 {
        let settles = match tier {
            Reconciliation => 35,
            Village => 55,
            Town => 50,
            County => 45,
            Judicial => 95,
            Litigation => 80,
        };
        let outcome = if hash(case_id, 30 + i) % 100 < settles { MediationOutcome::Settled } else { MediationOutcome::Failed };
        path.push(Mediation { tier, outcome });
        tier = match (tier, outcome) {
            (t, MediationOutcome::Settled) if t.is_peoples() && hash(case_id, 50) % 10 < 3 => Judicial,
            (_, MediationOutcome::Settled) | (Litigation, _) => break,
            (Reconciliation, _) => Village,
            (Village, _) if hash(case_id, 60) % 7 == 0 => Litigation,
            (Village, _) => Town,
            (Town, _) => County,
            (County | Judicial, _) => Litigation,
        };
    }
    path
}

/// The next change of a case whose event `seq` left it in `status` at `since`, or None once closed.
/// Cases with less time (urgent, or public order) move faster: waits shrink with the case's
/// `allowance` (wall-clock time from report to deadline). On its first pass one case in twelve is
/// returned by the department it was dispatched to, and one in twenty fails its check (核查) and is
/// handled again.
pub fn next_step(case_id: &str, seq: u32, status: Status, since: i64, life: Life, mediated: u32) -> Option<Step> {
    let u = unit(hash(case_id, u64::from(seq) * 16 + status as u64 + 100));
    let pace = (life.allowance as f64 / (5 * DAY_MS) as f64).clamp(0.08, 1.0);
    let span = |lo: i64, hi: i64| ((lo + ((hi - lo) as f64 * u) as i64) as f64 * pace) as i64 + MIN;
    let first_pass = seq as usize == status.index();
    let returned = first_pass && match status {
        Status::Dispatched => hash(case_id, 11) % 12 == 0,
        Status::Resolved => hash(case_id, 13) % 20 == 0,
        _ => false,
    };
    if returned {
        let to = app::flow::step(status, Action::Return).ok()?;
        return Some(Step { at: since + span(20 * MIN, 4 * HOUR), action: Action::Return, status: to, mediation: None });
    }
    if status == Status::Handling && life.dispute {
        if let Some(&m) = mediation_path(case_id).get(mediated as usize) {
            return Some(Step { at: since + span(4 * HOUR, 3 * DAY_MS), action: Action::Mediate, status, mediation: Some(m) });
        }
    }
    let next = status.next()?;
    let wait = match next {
        Status::Accepted => span(5 * MIN, 60 * MIN),
        Status::Dispatched => span(10 * MIN, 3 * HOUR),
        Status::Handling => span(30 * MIN, 8 * HOUR),
        // Most cases are handled within a day and a half (sooner when urgent); one in six drags on for days,
        // whatever their urgency (推、拖: the seeds' complaint).
        Status::Resolved if hash(case_id, 7) % 6 == 0 => 36 * HOUR + ((8 * 24 - 36) as f64 * HOUR as f64 * u) as i64,
        Status::Resolved => span(HOUR, 36 * HOUR),
        Status::Verified => span(HOUR, 24 * HOUR),
        Status::Closed => span(10 * MIN, 12 * HOUR),
        Status::Reported => return None,
    };
    Some(Step { at: since + wait, action: Action::into_status(next), status: next, mediation: None })
}

fn unit(h: u64) -> f64 {
    (h >> 11) as f64 / (1u64 << 53) as f64
}

fn pick<T: Copy>(h: u64, table: &[(T, u64)]) -> T {
    let total: u64 = table.iter().map(|(_, w)| w).sum();
    let mut x = h % total;
    for &(v, w) in table {
        if x < w {
            return v;
        }
        x -= w;
    }
    table[0].0
}

/// Relative case rate by hour of the day in Shanghai; averages about 1 over a day.
fn diurnal(t: i64) -> f64 {
    let hour = ((t + CST_OFFSET_MS).rem_euclid(DAY_MS) / HOUR) as usize;
    const W: [f64; 24] = [
        0.3, 0.2, 0.2, 0.2, 0.3, 0.5, 0.8, 1.1, 1.4, 1.6, 1.6, 1.5, 1.2, 1.3, 1.5, 1.5, 1.4, 1.3, 1.2, 1.1, 1.0, 0.8, 0.6, 0.4,
    ];
    W[hour] * 24.0 / W.iter().sum::<f64>()
}

/// Where a running demo feed is: the changes it has planned, the day's patrols still to come, and the
/// next new case.
pub struct Progress {
    plan: BinaryHeap<Planned>,
    patrol_day: i64,
    /// Soonest last.
    patrols: Vec<Patrol>,
    k: u64,
    arrival: i64,
}

impl DemoFeed {
    /// Carries on at `start` from what is stored: every open case's next change, planned exactly as
    /// before a restart. Also returns the day's patrols already due (the store drops what it has).
    pub async fn resume(&self, store: &dyn crate::store::Store, start: i64) -> (Progress, Vec<Patrol>) {
        let mut plan: BinaryHeap<Planned> = BinaryHeap::new();
        match store.open_cases(FEED).await {
            Ok(open) => {
                for c in open {
                    let life = Life { allowance: c.deadline - c.reported_at, dispute: c.category == Category::Dispute };
                    if let Some(step) = next_step(&c.case_id, c.seq, c.status, c.updated_at, life, c.mediated) {
                        plan.push(Reverse((step.at, c.case_id, c.seq + 1, step, life, c.mediated)));
                    }
                }
            }
            Err(e) => tracing::error!(feed = FEED, "cannot load open cases: {e}"),
        }
        let patrol_day = app::model::local_day(start);
        let mut patrols = self.patrols_of_day(patrol_day);
        let done: Vec<Patrol> = patrols.iter().filter(|p| p.at <= start).cloned().collect();
        patrols.retain(|p| p.at > start);
        let k: u64 = mix(start as u64) % 1_000_000;
        let arrival = self.next_arrival(start, k, self.cfg.rate_per_minute);
        (Progress { plan, patrol_day, patrols, k, arrival }, done)
    }

    /// What has fallen due by `now`: patrols walked, and case events (new cases and planned changes)
    /// in time order.
    pub fn due(&self, p: &mut Progress, now: i64) -> (Vec<Patrol>, Vec<CaseEvent>) {
        if app::model::local_day(now) != p.patrol_day {
            p.patrol_day = app::model::local_day(now);
            p.patrols = self.patrols_of_day(p.patrol_day);
        }
        let mut walked = Vec::new();
        while p.patrols.last().is_some_and(|x| x.at <= now) {
            walked.push(p.patrols.pop().expect("checked"));
        }
        let mut batch = Vec::new();
        while p.arrival <= now {
            let r = self.report(p.arrival, p.k);
            let life = life(&r);
            if let Some(step) = next_step(&r.case_id, 0, Status::Reported, r.at, life, 0) {
                p.plan.push(Reverse((step.at, r.case_id.clone(), 1, step, life, 0)));
            }
            batch.push(r);
            p.k += 1;
            p.arrival = self.next_arrival(p.arrival, p.k, self.cfg.rate_per_minute);
        }
        while p.plan.peek().is_some_and(|Reverse(x)| x.0 <= now) {
            let Reverse((_, id, seq, step, life, mediated)) = p.plan.pop().expect("peeked");
            let mediated = mediated + u32::from(step.action == Action::Mediate);
            if let Some(next) = next_step(&id, seq, step.status, step.at, life, mediated) {
                p.plan.push(Reverse((next.at, id.clone(), seq + 1, next, life, mediated)));
            }
            batch.push(step.event(&id, seq));
        }
        batch.sort_by(|a, b| (a.at, a.seq).cmp(&(b.at, b.seq)));
        (walked, batch)
    }
}

/// Days ahead the demo's grid-management system has planned its rosters.
const ROSTER_DAYS_AHEAD: i64 = 7;

impl DemoFeed {
    /// Sends the rosters of the days up to a week ahead not yet sent (`planned`: the last day sent),
    /// from yesterday on at start.
    async fn plan_roster(&self, ingest: &Ingest, planned: &mut i64) {
        let today = app::model::local_day(ingest.clock().now_ms());
        let horizon = today + ROSTER_DAYS_AHEAD;
        if horizon <= *planned {
            return;
        }
        let calendar = self.settings.current().calendar.clone();
        let lines: Vec<_> = ((*planned + 1).max(today - 1)..=horizon).flat_map(|d| super::demo_roster::plan_day(&self.tree, &calendar, self.cfg.seed, d)).collect();
        match ingest.submit_duties(lines).await {
            Ok((_, refused)) if !refused.is_empty() => tracing::error!(feed = FEED, refused = refused.len(), "roster lines refused: {}", refused[0].1),
            Ok(_) => *planned = horizon,
            Err(e) => tracing::error!(feed = FEED, "roster not stored: {e}"),
        }
    }
}

impl Feed for DemoFeed {
    fn name(&self) -> &str {
        FEED
    }

    fn run(self: Box<Self>, ingest: Ingest, mut shutdown: watch::Receiver<bool>) -> BoxFuture<'static, ()> {
        Box::pin(async move {
            let clock = ingest.clock().clone();
            let (mut progress, done) = self.resume(ingest.store().as_ref(), clock.now_ms()).await;
            if let Err(e) = ingest.submit_patrols(done).await {
                tracing::error!(feed = FEED, "patrols not stored: {e}");
            }
            let mut planned = i64::MIN;
            self.plan_roster(&ingest, &mut planned).await;
            let mut tick = tokio::time::interval(std::time::Duration::from_millis(500));
            loop {
                tokio::select! {
                    _ = tick.tick() => {}
                    _ = shutdown.changed() => {}
                }
                if *shutdown.borrow() {
                    return;
                }
                self.plan_roster(&ingest, &mut planned).await;
                let (walked, batch) = self.due(&mut progress, clock.now_ms());
                if !walked.is_empty() {
                    if let Err(e) = ingest.submit_patrols(walked).await {
                        tracing::error!(feed = FEED, "patrols not stored: {e}");
                    }
                }
                if batch.is_empty() {
                    continue;
                }
                if let Err(e) = ingest.submit(batch).await {
                    // The store refused the batch; the plan for those cases is rebuilt from the store on restart.
                    tracing::error!(feed = FEED, "batch not stored: {e}");
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::city::{shaoxing, RegionTree};

    fn feed(rate: f64, days: u32) -> DemoFeed {
        let tree = Arc::new(RegionTree::new(shaoxing::build()).unwrap());
        let settings = Arc::new(Settings::fixed(Default::default(), Default::default()).unwrap());
        DemoFeed::new(DemoConfig { enabled: true, rate_per_minute: 1.0, backfill_days: days, backfill_rate_per_minute: rate, seed: 7, systems: false }, tree, settings)
    }

    #[test]
    fn a_rate_of_zero_makes_no_cases() {
        // A year of history at rate 0 (it once meant 0.001 a minute: about 500 cases a year, and a
        // cluster test that met one of them).
        let f = feed(0.0, 365);
        let day = 1_795_190_400_000;
        assert!(f.backfill(day).is_empty());
        assert!((0..1440).all(|m| f.next_arrival(day + m * MIN, m as u64, 0.0) == i64::MAX));
        assert!(f.next_arrival(day, 1, 0.5) < day + 365 * DAY_MS, "a positive rate still arrives");
    }

    #[test]
    fn backfill_is_realistic_and_reproducible() {
        let f = feed(2.0, 10);
        let now = 1_795_190_400_000;
        let events = f.backfill(now);
        assert_eq!(events, f.backfill(now), "same seed, same history");
        let reports: Vec<&CaseEvent> = events.iter().filter(|e| e.status == Status::Reported).collect();
        // 2 a minute for 10 days is 28,800 on average.
        assert!((25_000..33_000).contains(&reports.len()), "{} reports", reports.len());
        assert!(events.windows(2).all(|w| w[0].at <= w[1].at), "time order");
        assert!(events.iter().all(|e| e.at <= now));
        let closed = events.iter().filter(|e| e.status == Status::Closed).count();
        assert!(closed * 10 > reports.len() * 7, "most older cases are closed: {closed}");
        // Court referrals come from the simulated court (`sim/court.rs`), not this feed.
        for s in Source::ALL.into_iter().filter(|s| *s != Source::Court) {
            assert!(reports.iter().any(|e| e.facts.as_ref().unwrap().source == s), "{s:?} present");
        }
        for c in Category::ALL {
            assert!(reports.iter().any(|e| e.facts.as_ref().unwrap().category == c), "{c:?} present");
        }
        let mut ids: Vec<&str> = reports.iter().map(|e| e.case_id.as_str()).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), reports.len(), "case ids unique");
    }

    #[test]
    fn some_cases_go_overdue() {
        let f = feed(2.0, 10);
        let now = 1_795_190_400_000;
        let events = f.backfill(now);
        // Per priority: urgent cases move faster, so each priority is mostly on time, and some of each late.
        let facts: std::collections::HashMap<&str, &CaseFacts> =
            events.iter().filter_map(|e| e.facts.as_ref().map(|x| (e.case_id.as_str(), x))).collect();
        for p in Priority::ALL {
            let (mut late, mut done) = (0, 0);
            for e in events.iter().filter(|e| e.status == Status::Closed && facts[e.case_id.as_str()].priority == p) {
                done += 1;
                late += usize::from(e.at > facts[e.case_id.as_str()].deadline);
            }
            let share = late as f64 / done as f64;
            assert!((0.03..0.35).contains(&share), "{p:?}: overdue share {share}");
        }
    }

    #[test]
    fn patrols_cover_most_staffed_grids_and_few_vacant_ones() {
        let f = feed(2.0, 7);
        let now = 1_795_190_400_000 + 18 * HOUR; // Saturday 2026-11-21 18:00
        let patrols = f.patrol_backfill(now);
        assert_eq!(patrols, f.patrol_backfill(now), "reproducible");
        assert!(patrols.iter().all(|p| p.at <= now));
        let mut last: std::collections::HashMap<&str, i64> = Default::default();
        for p in &patrols {
            let e = last.entry(p.grid.as_str()).or_insert(p.at);
            *e = (*e).max(p.at);
            let minute = (p.at + CST_OFFSET_MS).rem_euclid(DAY_MS) / MIN;
            assert!((8 * 60 + 30..17 * 60 + 30).contains(&minute), "in working hours");
        }
        let three_days = now - 3 * DAY_MS;
        let (mut staffed, mut staffed_fresh, mut vacant, mut vacant_fresh) = (0, 0, 0, 0);
        for (_, r) in f.tree.iter().filter(|(_, r)| r.row.grid.is_some()) {
            let fresh = last.get(r.row.code.as_str()).is_some_and(|&t| t >= three_days);
            if r.row.grid.as_ref().unwrap().worker.is_some() {
                (staffed, staffed_fresh) = (staffed + 1, staffed_fresh + usize::from(fresh));
            } else {
                (vacant, vacant_fresh) = (vacant + 1, vacant_fresh + usize::from(fresh));
            }
        }
        let (s, v) = (staffed_fresh as f64 / staffed as f64, vacant_fresh as f64 / vacant as f64);
        assert!((0.85..0.99).contains(&s), "staffed grids walked in 3 days: {s}");
        assert!((0.1..0.6).contains(&v), "vacant grids walked in 3 days: {v}");
    }

    #[test]
    fn deadlines_fall_in_working_hours() {
        let f = feed(2.0, 3);
        let cal = crate::calendar::Calendar::new(&Default::default()).unwrap();
        let mut priorities = std::collections::HashSet::new();
        for e in f.backfill(1_795_190_400_000).iter().filter_map(|e| e.facts.as_ref()) {
            let want = crate::rules::limit_hours(e.category, e.priority) * HOUR;
            assert_eq!(cal.working_between(e.reported_at, e.deadline), want);
            assert_eq!(cal.working_between(e.reported_at, e.warn_at), want * 4 / 5);
            assert!(cal.is_workday(app::model::local_day(e.deadline)), "a deadline never falls on a day off");
            priorities.insert(e.priority);
        }
        assert_eq!(priorities.len(), 3, "every priority occurs");
    }

    /// Every generated path is a walk the state machine allows, ends closed, and returns at most twice.
    #[test]
    fn lifecycles_follow_the_state_machine() {
        let mut returns = 0;
        let mut tiers = std::collections::BTreeMap::new();
        for n in 0..2_000 {
            let id = format!("X{n}");
            let life = Life { allowance: 5 * DAY_MS, dispute: n % 2 == 0 };
            let (mut s, mut t, mut seq, mut mediated, mut last) = (Status::Reported, 0, 0, 0, None);
            while let Some(step) = next_step(&id, seq, s, t, life, mediated) {
                assert_eq!(app::flow::step(s, step.action), Ok(step.status), "{id}: {:?} from {s:?}", step.action);
                assert!(step.at > t);
                returns += usize::from(step.action == Action::Return);
                if let Some(m) = step.mediation {
                    assert!(life.dispute, "only disputes are mediated");
                    assert_eq!(app::flow::mediation_next(last, m.tier), Ok(()), "{id}: {m:?} after {last:?}");
                    *tiers.entry((m.tier, m.outcome)).or_insert(0) += 1;
                    (last, mediated) = (Some(m), mediated + 1);
                }
                (s, t, seq) = (step.status, step.at, seq + 1);
            }
            assert_eq!(s, Status::Closed);
            assert!((6..=10 + mediated).contains(&seq), "{id}: {seq} steps");
            assert_eq!(mediated as usize, if life.dispute { mediation_path(&id).len() } else { 0 });
        }
        // Every tier is reached, and each both settles and fails sometimes (litigation and judicial
        // confirmation mostly settle).
        for t in Tier::ALL {
            assert!(tiers.get(&(t, MediationOutcome::Settled)).is_some(), "{t:?} settles sometimes: {tiers:?}");
        }
        for t in [Tier::Reconciliation, Tier::Village, Tier::Town, Tier::County] {
            assert!(tiers.get(&(t, MediationOutcome::Failed)).is_some(), "{t:?} fails sometimes");
        }
        // 1/12 + 1/20 of cases: about 267 of 2,000.
        assert!((180..360).contains(&returns), "{returns} returns");
    }
}

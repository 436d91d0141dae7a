//! # Layout
//! Early warning (预警): rules a city configures, evaluated by the indicator engine, raised once into
//! the store, routed to the centre that must acknowledge, escalated when nobody does, and shown on the
//! walls of every scope that contains them and on the tablets of the centres that act.
//! - `rule`: `[warnings]` config and its checked rules (threshold, rise, cluster, feed_silent)
//! - `evaluate`: the rules over the engine (pure), and which centre answers for a region
//! - this file: `Warnings`, the service: the evaluator's run, the open warnings walls read, and the
//!   steps people take (acknowledge, handle, close), each checked by the policy and audited
pub mod evaluate;
pub mod rule;

use crate::city::RegionTree;
use crate::policy::Policy;
use crate::store::access::AuditEntry;
use crate::store::warnings::{NewWarning, Step, StoredWarning, RULE_ACTOR};
use crate::store::{Store, StoreError};
use app::backend::{AccessError, Viewer};
use app::warning::{next_state, Warning, WarningFacts, WarningOp, WarningState};
use engine::Engine;
use rule::{Rule, WarningsConfig};
use std::sync::{Arc, RwLock};
use tokio::sync::watch;

/// Closed warnings stay on the tablet's list this long.
pub const CLOSED_SHOWN_MS: i64 = 7 * app::model::DAY_MS;
/// Warnings a wall shows at most (the most severe, newest first).
pub const WALL_MAX: usize = 12;
/// The longest note a person may write on a step.
pub const NOTE_MAX_CHARS: usize = 500;

/// Why a person's step was refused.
#[derive(Debug)]
pub enum StepRefusal {
    /// Not theirs to see (or no such warning): 404.
    NotFound,
    /// Theirs to see, but routed to a centre outside their scope: 403.
    NotRouted(String),
    /// The path does not allow it now (someone acted first, or it is closed): 409.
    Conflict(String),
    /// 400.
    Invalid(String),
    Store(StoreError),
}

pub struct Warnings {
    store: Arc<dyn Store>,
    tree: Arc<RegionTree>,
    rules: Vec<Rule>,
    cfg: WarningsConfig,
    /// Every warning not closed, most severe and newest first: what walls read.
    open: RwLock<Arc<Vec<Warning>>>,
    /// Wakes the live streams when the open warnings changed.
    announce: Box<dyn Fn() + Send + Sync>,
}

impl Warnings {
    pub fn new(store: Arc<dyn Store>, tree: Arc<RegionTree>, cfg: WarningsConfig, announce: impl Fn() + Send + Sync + 'static) -> Result<Warnings, String> {
        let rules = rule::check_all(&cfg)?;
        Ok(Warnings { store, tree, rules, cfg, open: RwLock::new(Arc::default()), announce: Box::new(announce) })
    }

    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    fn ack_ms(&self) -> i64 {
        i64::from(self.cfg.ack_minutes) * 60_000
    }

    /// A stored warning as screens read it; None when its regions are no longer in the tree (logged).
    fn view(&self, s: &StoredWarning) -> Option<Warning> {
        let (Some(region), Some(route)) = (self.tree.find(&s.new.region), self.tree.find(&s.new.route)) else {
            tracing::warn!(warning = s.id, "a stored warning names a region no longer in the tree; not shown");
            return None;
        };
        let facts = serde_json::from_str::<WarningFacts>(&s.new.facts).unwrap_or_else(|e| {
            tracing::error!(warning = s.id, "a stored warning's facts do not read: {e}");
            WarningFacts::default()
        });
        Some(Warning {
            id: s.id,
            rule: s.new.rule.clone(),
            title: s.new.title.clone(),
            kind: s.new.kind,
            level: s.new.level,
            region: self.tree.refer(region),
            route: self.tree.refer(route),
            facts,
            state: s.state,
            raised_at: s.new.raised_at,
            escalations: s.escalations,
            escalate_at: if s.state == WarningState::Raised { s.new.escalate_at } else { None },
            events: Vec::new(),
            ops: Vec::new(),
        })
    }

    /// Reads the open warnings again; tells the live streams when they changed.
    pub async fn refresh(&self) -> Result<(), StoreError> {
        let stored = self.store.warnings(i64::MAX).await?;
        let mut open: Vec<Warning> = stored.iter().filter(|s| s.state != WarningState::Closed).filter_map(|s| self.view(s)).collect();
        open.sort_by(|a, b| b.level.cmp(&a.level).then(b.raised_at.cmp(&a.raised_at)).then(b.id.cmp(&a.id)));
        let changed = **self.open.read().expect("warnings lock") != open;
        if changed {
            *self.open.write().expect("warnings lock") = Arc::new(open);
            (self.announce)();
        }
        Ok(())
    }

    /// The open warnings found in `region`'s subtree for its wall (the first `WALL_MAX`), and how many.
    pub fn open_under(&self, region: usize) -> (Vec<Warning>, u32) {
        let open = self.open.read().expect("warnings lock").clone();
        let mut within = open.iter().filter(|w| self.tree.find(&w.region.code).is_some_and(|r| self.tree.is_within(r, region)));
        let shown: Vec<Warning> = within.by_ref().take(WALL_MAX).cloned().collect();
        let count = shown.len() + within.count();
        (shown, count as u32)
    }

    /// One run of the rules at `now`: raises what they find (once each), escalates what nobody
    /// acknowledged in time, and refreshes what walls show. Returns (raised, escalated).
    pub async fn run_once(&self, engine: &RwLock<Engine>, silent: &[String], now: i64) -> Result<(usize, usize), StoreError> {
        let found = evaluate::evaluate(&engine.read().expect("engine lock"), &self.rules, silent, now);
        let root = self.tree.root();
        let mut raised = 0;
        for f in found {
            let rule = &self.rules[f.rule];
            let route = evaluate::centre_of(&self.tree, f.region, rule.route);
            let w = NewWarning {
                rule: rule.name.clone(),
                title: rule.title.clone(),
                kind: rule.kind(),
                level: rule.level,
                region: self.tree.get(f.region).row.code.clone(),
                subject: f.subject,
                route: self.tree.get(route).row.code.clone(),
                facts: serde_json::to_string(&f.facts).expect("facts serialise"),
                raised_at: now,
                escalate_at: (route != root).then(|| now + self.ack_ms()),
            };
            if let Some(id) = self.store.warning_raise(&w, f.quiet_since).await? {
                tracing::info!(warning = id, rule = %w.rule, region = %w.region, level = w.level.as_str(), "warning raised");
                raised += 1;
            }
        }
        let mut escalated = 0;
        for s in self.store.warnings(i64::MAX).await? {
            if s.state != WarningState::Raised || s.new.escalate_at.is_none_or(|at| at > now) {
                continue;
            }
            let Some(up) = self.tree.find(&s.new.route).and_then(|r| evaluate::centre_above(&self.tree, r)) else { continue };
            let code = self.tree.get(up).row.code.clone();
            let step = Step {
                id: s.id,
                from: WarningState::Raised,
                to: WarningState::Raised,
                op: WarningOp::Escalate,
                actor: RULE_ACTOR,
                note: &code,
                at: now,
                route: Some(&code),
                escalate_at: (up != root).then(|| now + self.ack_ms()),
                audit: None,
            };
            if self.store.warning_step(&step).await? {
                tracing::info!(warning = s.id, to = %code, "warning not acknowledged in time; escalated");
                escalated += 1;
            }
        }
        self.refresh().await?;
        Ok((raised, escalated))
    }

    /// Runs the rules every `evaluate_seconds`, and reads the open warnings every two seconds (another
    /// instance may have raised or moved one).
    pub async fn run(self: Arc<Self>, engine: Arc<RwLock<Engine>>, silent: impl Fn(i64) -> Vec<String> + Send + 'static, clock: crate::clock::Clock, mut stop: watch::Receiver<bool>) {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(u64::from(self.cfg.evaluate_seconds)));
        loop {
            tokio::select! { _ = tick.tick() => {}, _ = stop.changed() => return }
            let now = clock.now_ms();
            match self.run_once(&engine, &silent(now), now).await {
                Ok((0, 0)) => {}
                Ok((raised, escalated)) => tracing::info!(raised, escalated, "warning rules ran"),
                Err(e) => tracing::error!("warning rules: {e}"),
            }
        }
    }

    /// Keeps the walls' open warnings current on every instance.
    pub async fn follow(self: Arc<Self>, mut stop: watch::Receiver<bool>) {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(2));
        loop {
            tokio::select! { _ = tick.tick() => {}, _ = stop.changed() => return }
            if let Err(e) = self.refresh().await {
                tracing::error!("warnings: {e}");
            }
        }
    }

    /// What `viewer` may do on `w` now.
    fn ops(&self, policy: &Policy, viewer: &Viewer, w: &Warning) -> Vec<WarningOp> {
        let routed = self.tree.find(&w.route.code).is_some_and(|r| policy.may_respond(viewer, r).is_ok());
        if !routed {
            return Vec::new();
        }
        WarningOp::BY_PEOPLE.into_iter().filter(|&op| next_state(w.state, op).is_some()).collect()
    }

    /// The tablet's list: the warnings found in `region` (the viewer's scope when None), open ones and
    /// those closed in the last week, each with its steps and what the viewer may do.
    pub async fn list(&self, policy: &Policy, viewer: &Viewer, region: Option<&str>, now: i64) -> Result<app::warning::WarningList, AccessError> {
        let idx = policy.dashboard_region(viewer, region)?;
        let stored = self.store.warnings(now - CLOSED_SHOWN_MS).await.map_err(unavailable)?;
        let mut out = Vec::new();
        for s in &stored {
            let Some(mut w) = self.view(s) else { continue };
            if !self.tree.find(&w.region.code).is_some_and(|r| self.tree.is_within(r, idx)) {
                continue;
            }
            w.events = self.store.warning_events(s.id).await.map_err(unavailable)?;
            w.ops = self.ops(policy, viewer, &w);
            out.push(w);
        }
        // Open first (most severe, newest), then the closed ones, newest first.
        out.sort_by(|a, b| (a.state == WarningState::Closed).cmp(&(b.state == WarningState::Closed)).then(b.level.cmp(&a.level)).then(b.raised_at.cmp(&a.raised_at)));
        Ok(app::warning::WarningList { warnings: out, as_of: now })
    }

    /// A person's step on warning `id`, checked by the policy and the path, recorded and audited.
    pub async fn step(&self, policy: &Policy, viewer: &Viewer, id: i64, op: WarningOp, note: &str, now: i64) -> Result<Warning, StepRefusal> {
        let note = note.trim();
        if !WarningOp::BY_PEOPLE.contains(&op) {
            return Err(StepRefusal::Invalid("op is acknowledge, handle or close".into()));
        }
        if note.chars().count() > NOTE_MAX_CHARS {
            return Err(StepRefusal::Invalid(format!("note longer than {NOTE_MAX_CHARS} characters")));
        }
        let s = self.store.warning(id).await.map_err(StepRefusal::Store)?.ok_or(StepRefusal::NotFound)?;
        let w = self.view(&s).ok_or(StepRefusal::NotFound)?;
        policy.dashboard_region(viewer, Some(&w.region.code)).map_err(|_| StepRefusal::NotFound)?;
        let route = self.tree.find(&w.route.code).ok_or(StepRefusal::NotFound)?;
        if policy.may_respond(viewer, route).is_err() {
            return Err(StepRefusal::NotRouted(format!("this warning is for {} to act on", w.route.name)));
        }
        let to = next_state(s.state, op).ok_or_else(|| StepRefusal::Conflict(format!("a {} warning cannot be {}d", s.state.as_str(), op.as_str())))?;
        if op.needs_note() && note.is_empty() {
            return Err(StepRefusal::Invalid(format!("{} needs a note saying what was done", op.as_str())));
        }
        let audit = AuditEntry {
            at: now,
            actor: viewer.principal.clone(),
            action: format!("warning_{}", op.as_str()),
            region: Some(w.region.code.clone()),
            detail: format!("warning {id} ({}): {} → {}", s.new.rule, s.state.as_str(), to.as_str()),
        };
        let step = Step { id, from: s.state, to, op, actor: &viewer.principal, note, at: now, route: None, escalate_at: None, audit: Some(&audit) };
        if !self.store.warning_step(&step).await.map_err(StepRefusal::Store)? {
            return Err(StepRefusal::Conflict("someone else moved this warning first; read it again".into()));
        }
        self.refresh().await.map_err(StepRefusal::Store)?;
        let s = self.store.warning(id).await.map_err(StepRefusal::Store)?.ok_or(StepRefusal::NotFound)?;
        let mut w = self.view(&s).ok_or(StepRefusal::NotFound)?;
        w.events = self.store.warning_events(id).await.map_err(StepRefusal::Store)?;
        w.ops = self.ops(policy, viewer, &w);
        Ok(w)
    }
}

fn unavailable(e: StoreError) -> AccessError {
    tracing::error!("store: {e}");
    AccessError::Unavailable
}

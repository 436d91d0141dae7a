//! Early warnings as the store keeps them: one row per warning with its state and the centre it is
//! routed to, and every step (raised, acknowledged, handled, closed, escalated) with who and when. The
//! store is the record: warnings survive restarts, and raising is idempotent per rule, region and subject.
use super::access::AuditEntry;
use super::outbox::RowLike;
use super::StoreError;
use app::warning::{WarningEvent, WarningKind, WarningLevel, WarningOp, WarningState};
use futures::future::BoxFuture;

/// A warning a rule found, to be raised.
#[derive(Clone, Debug, PartialEq)]
pub struct NewWarning {
    pub rule: String,
    pub title: String,
    pub kind: WarningKind,
    pub level: WarningLevel,
    /// Region code where it was found, and what in it (a category, a feed; empty for the region itself).
    pub region: String,
    pub subject: String,
    /// Region code of the centre that must acknowledge.
    pub route: String,
    /// `app::warning::WarningFacts` as JSON.
    pub facts: String,
    pub raised_at: i64,
    pub escalate_at: Option<i64>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct StoredWarning {
    pub id: i64,
    pub new: NewWarning,
    pub state: WarningState,
    pub escalations: u32,
    pub updated_at: i64,
}

/// One step on a warning: allowed only from `from` (the state read before deciding), so two officials
/// acting at once cannot both move it.
#[derive(Clone, Debug)]
pub struct Step<'a> {
    pub id: i64,
    pub from: WarningState,
    pub to: WarningState,
    pub op: WarningOp,
    pub actor: &'a str,
    pub note: &'a str,
    pub at: i64,
    /// The centre it goes to (escalation).
    pub route: Option<&'a str>,
    /// When it escalates next unless acknowledged (None: it does not).
    pub escalate_at: Option<i64>,
    /// People's steps are audited; the rule's are recorded on the warning only.
    pub audit: Option<&'a AuditEntry>,
}

/// The actor of the rule's own steps.
pub const RULE_ACTOR: &str = "rule:warning";

pub trait WarningStore {
    /// Raises `w` unless a warning of the same rule, region and subject is still open or was raised at
    /// or after `quiet_since`; the new warning's id, or None.
    fn warning_raise<'a>(&'a self, w: &'a NewWarning, quiet_since: i64) -> BoxFuture<'a, Result<Option<i64>, StoreError>>;
    /// Every warning not closed, and those closed at or after `closed_since`, newest first.
    fn warnings<'a>(&'a self, closed_since: i64) -> BoxFuture<'a, Result<Vec<StoredWarning>, StoreError>>;
    fn warning(&self, id: i64) -> BoxFuture<'_, Result<Option<StoredWarning>, StoreError>>;
    fn warning_events(&self, id: i64) -> BoxFuture<'_, Result<Vec<WarningEvent>, StoreError>>;
    /// Takes the step if the warning is still in `step.from`; false when it was not (someone else moved it).
    fn warning_step<'a>(&'a self, step: &'a Step<'a>) -> BoxFuture<'a, Result<bool, StoreError>>;
}

/// Both databases read `$n` as the n-th parameter.
pub(super) const OPEN_SAME: &str =
    "SELECT id FROM warnings WHERE rule = $1 AND region = $2 AND subject = $3 AND (state <> 'closed' OR raised_at >= $4) LIMIT 1";
pub(super) const INSERT: &str = "INSERT INTO warnings (rule, title, kind, level, region, subject, route, facts, state, raised_at, updated_at, escalations, escalate_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'raised', $9, $9, 0, $10) RETURNING id";
pub(super) const EVENT: &str = "INSERT INTO warning_events (warning, at, op, actor, note) VALUES ($1, $2, $3, $4, $5)";
pub(super) const LIST: &str = "SELECT * FROM warnings WHERE state <> 'closed' OR updated_at >= $1 ORDER BY id DESC";
pub(super) const ONE: &str = "SELECT * FROM warnings WHERE id = $1";
pub(super) const EVENTS: &str = "SELECT at, op, actor, note FROM warning_events WHERE warning = $1 ORDER BY id";
pub(super) const STEP: &str = "UPDATE warnings SET state = $1, updated_at = $2, route = COALESCE($3, route), escalate_at = $4, \
     escalations = escalations + $5 WHERE id = $6 AND state = $7";

pub(super) fn warning(r: &impl RowLike) -> Result<StoredWarning, StoreError> {
    let bad = |what: &str, v: &str| StoreError::Corrupt(format!("warning {what} {v:?}"));
    let (kind, level, state) = (r.text("kind")?, r.text("level")?, r.text("state")?);
    Ok(StoredWarning {
        id: r.int("id")?,
        new: NewWarning {
            rule: r.text("rule")?,
            title: r.text("title")?,
            kind: WarningKind::parse(&kind).ok_or_else(|| bad("kind", &kind))?,
            level: WarningLevel::parse(&level).ok_or_else(|| bad("level", &level))?,
            region: r.text("region")?,
            subject: r.text("subject")?,
            route: r.text("route")?,
            facts: r.text("facts")?,
            raised_at: r.int("raised_at")?,
            escalate_at: r.opt_int("escalate_at")?,
        },
        state: WarningState::parse(&state).ok_or_else(|| bad("state", &state))?,
        escalations: r.int("escalations")? as u32,
        updated_at: r.int("updated_at")?,
    })
}

pub(super) fn event(r: &impl RowLike) -> Result<WarningEvent, StoreError> {
    let op = r.text("op")?;
    Ok(WarningEvent { at: r.int("at")?, op: WarningOp::parse(&op).ok_or_else(|| StoreError::Corrupt(format!("warning op {op:?}")))?, actor: r.text("actor")?, note: r.text("note")? })
}

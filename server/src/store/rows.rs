//! What both stores share: the state machine a batch of case events passes before it is written, and
//! how stored rows become cases, timelines, replayed events and regions. The SQL differs per back end;
//! the meaning of a row does not.
use super::{OpenCase, StoreError, StoredCase};
use crate::case::{CaseDetails, CaseEvent, CaseFacts, Origin, Outcome};
use crate::city::{GridAttrs, RegionRow};
use app::flow::{self, Action, Priority};
use app::model::{Category, GridKind, Level, Source, Status, TimelineEntry};
use sqlx::{ColumnIndex, Row};
use std::collections::{HashMap, HashSet};

pub(super) fn corrupt(what: &str, v: &str) -> StoreError {
    StoreError::Corrupt(format!("unknown {what} {v:?}"))
}

/// Typed cells of a row of either driver, by name or position.
pub(super) trait Cells: Row {
    fn str<I: ColumnIndex<Self>>(&self, i: I) -> Result<&str, StoreError>;
    fn opt_str<I: ColumnIndex<Self>>(&self, i: I) -> Result<Option<&str>, StoreError>;
    fn int<I: ColumnIndex<Self>>(&self, i: I) -> Result<i64, StoreError>;
    fn opt_int<I: ColumnIndex<Self>>(&self, i: I) -> Result<Option<i64>, StoreError>;
    fn flag<I: ColumnIndex<Self>>(&self, i: I) -> Result<bool, StoreError>;
    fn string<I: ColumnIndex<Self>>(&self, i: I) -> Result<String, StoreError> {
        Ok(self.str(i)?.to_string())
    }
    fn opt_string<I: ColumnIndex<Self>>(&self, i: I) -> Result<Option<String>, StoreError> {
        Ok(self.opt_str(i)?.map(str::to_string))
    }
}

macro_rules! cells {
    ($row:ty) => {
        impl Cells for $row {
            fn str<I: ColumnIndex<Self>>(&self, i: I) -> Result<&str, StoreError> {
                Ok(self.try_get::<&str, _>(i)?)
            }
            fn opt_str<I: ColumnIndex<Self>>(&self, i: I) -> Result<Option<&str>, StoreError> {
                Ok(self.try_get::<Option<&str>, _>(i)?)
            }
            fn int<I: ColumnIndex<Self>>(&self, i: I) -> Result<i64, StoreError> {
                Ok(self.try_get::<i64, _>(i)?)
            }
            fn opt_int<I: ColumnIndex<Self>>(&self, i: I) -> Result<Option<i64>, StoreError> {
                Ok(self.try_get::<Option<i64>, _>(i)?)
            }
            fn flag<I: ColumnIndex<Self>>(&self, i: I) -> Result<bool, StoreError> {
                Ok(self.try_get::<bool, _>(i)?)
            }
        }
    };
}
cells!(sqlx::sqlite::SqliteRow);
cells!(sqlx::postgres::PgRow);

/// What the store knows of a case while it takes a batch.
pub(super) struct CaseState {
    /// Only disputes are mediated; the first holder follows the category too. `mediation` is the latest attempt.
    pub category: Category,
    pub mediation: Option<flow::Mediation>,
    pub status: Status,
    pub seq: u32,
    pub desk_seq: u32,
    pub escalations: u32,
    pub supervised: u32,
    /// Time of the newest status change taken in this batch.
    pub at: Option<i64>,
    /// Changed by this batch: its row needs writing.
    pub dirty: bool,
}

impl CaseState {
    /// A case reported in the batch being taken.
    pub fn fresh(f: &CaseFacts) -> CaseState {
        CaseState {
            category: f.category,
            mediation: None,
            status: Status::Reported,
            seq: 0,
            desk_seq: 0,
            escalations: 0,
            supervised: 0,
            at: None,
            dirty: false,
        }
    }

    /// From `feed, case_id, status, seq, escalations, supervised, category, desk_seq, med_tier, med_outcome`.
    pub fn read<R: Cells>(r: &R) -> Result<((String, String), CaseState), StoreError>
    where
        for<'a> &'a str: ColumnIndex<R>,
    {
        let status = r.str("status")?;
        let mediation = match (r.opt_str("med_tier")?, r.opt_str("med_outcome")?) {
            (Some(t), Some(o)) => Some(flow::Mediation {
                tier: flow::Tier::parse(t).ok_or_else(|| corrupt("mediation tier", t))?,
                outcome: flow::Outcome::parse(o).ok_or_else(|| corrupt("mediation outcome", o))?,
            }),
            _ => None,
        };
        let cur = CaseState {
            category: {
                let c = r.str("category")?;
                Category::parse(c).ok_or_else(|| corrupt("category", c))?
            },
            mediation,
            status: Status::parse(status).ok_or_else(|| corrupt("status", status))?,
            seq: r.int("seq")? as u32,
            desk_seq: r.int("desk_seq")? as u32,
            escalations: r.int("escalations")? as u32,
            supervised: r.int("supervised")? as u32,
            at: None,
            dirty: false,
        };
        Ok(((r.string("feed")?, r.string("case_id")?), cur))
    }
}

/// An event admitted for writing: its index in the batch, the sequence number and status to store it
/// under, and whether it moves the case.
pub(super) type Admitted = (usize, u32, Status, bool);

/// The state machine over a batch, in order, as if every admitted event were new (an event that moves a
/// case has a sequence number above any stored one, so it cannot be a duplicate). Refusals go into `out`;
/// repeats inside the batch are left out (they stay `Duplicate`).
pub(super) fn decide<'e>(events: &'e [CaseEvent], state: &mut HashMap<(&'e str, &'e str), Option<CaseState>>, out: &mut [Outcome]) -> Vec<Admitted> {
    let mut rows: Vec<Admitted> = Vec::with_capacity(events.len());
    for (i, e) in events.iter().enumerate() {
        let key = (e.feed.as_str(), e.case_id.as_str());
        let Some(Some(cur)) = state.get_mut(&key) else {
            out[i] = Outcome::Rejected(format!("no case {} reported by feed {}", e.case_id, e.feed));
            continue;
        };
        let (seq, status, moves) = match admit(cur, e) {
            Ok(x) => x,
            Err(why) => {
                out[i] = Outcome::Rejected(format!("case {}: {why}", e.case_id));
                continue;
            }
        };
        rows.push((i, seq, status, moves));
        if moves {
            match e.origin {
                Origin::Feed => (cur.status, cur.seq, cur.at) = (status, seq, Some(e.at)),
                Origin::Desk => cur.desk_seq = seq,
            }
            if e.mediation.is_some() {
                cur.mediation = e.mediation;
            }
            cur.escalations += u32::from(e.action == Action::Escalate);
            cur.supervised += u32::from(e.action == Action::Supervise);
            cur.dirty = true;
        }
    }
    let mut seen: HashSet<(&str, &str, Origin, u32)> = HashSet::with_capacity(rows.len());
    rows.retain(|&(i, seq, _, _)| seen.insert((events[i].feed.as_str(), events[i].case_id.as_str(), events[i].origin, seq)));
    rows
}

/// The cases of a batch that are not yet known to exist, each once, in order.
pub(super) fn unknown_cases<'e>(events: &'e [CaseEvent], state: &HashMap<(&'e str, &'e str), Option<CaseState>>) -> Vec<(&'e str, &'e str)> {
    let mut seen = HashSet::new();
    events.iter().map(|e| (e.feed.as_str(), e.case_id.as_str())).filter(|k| !state.contains_key(k) && seen.insert(*k)).collect()
}

/// Whether an event may be stored, with the sequence number and status to store it under and whether it
/// moves the case. A source system's late event (an older sequence number) is kept as history but moves
/// nothing; a next event must be a transition the state machine allows.
fn admit(cur: &CaseState, e: &CaseEvent) -> Result<(u32, Status, bool), String> {
    match (e.origin, e.facts.is_some()) {
        (Origin::Feed, true) => Ok((0, Status::Reported, false)),
        (Origin::Feed, false) if e.seq <= cur.seq => Ok((e.seq, e.status, false)),
        (Origin::Feed, false) => {
            if !flow::consistent(e.action, e.status) {
                return Err(format!("{} cannot lead to {}", e.action.as_str(), e.status.as_str()));
            }
            check_mediation(cur, e)?;
            // A gap (events missing in between) cannot be checked against the status before it.
            if e.seq == cur.seq + 1 {
                let to = flow::step(cur.status, e.action).map_err(|f| f.to_string())?;
                if to != e.status {
                    return Err(format!("{} from {} leads to {}, not {}", e.action.as_str(), cur.status.as_str(), to.as_str(), e.status.as_str()));
                }
            }
            Ok((e.seq, e.status, true))
        }
        (Origin::Desk, _) => {
            // Besides oversight, the desk records mediation of the cases the cockpit mediates itself
            // (a court's referrals); which cases those are is the policy's call.
            if !e.action.is_oversight() && e.action != Action::Mediate {
                return Err(format!("{} is not an oversight action", e.action.as_str()));
            }
            check_mediation(cur, e)?;
            flow::step(cur.status, e.action).map_err(|f| f.to_string())?;
            if e.action == Action::Escalate {
                flow::escalated(flow::holder_level(cur.category, cur.escalations)).map_err(|f| f.to_string())?;
            }
            Ok((cur.desk_seq + 1, cur.status, true))
        }
    }
}

/// A mediation attempt, and only one, carries its tier and outcome; only disputes are mediated, each
/// attempt where the last one allows.
fn check_mediation(cur: &CaseState, e: &CaseEvent) -> Result<(), String> {
    if (e.action == Action::Mediate) != e.mediation.is_some() {
        return Err("a mediation attempt, and only one, carries its tier and outcome".into());
    }
    if let Some(m) = e.mediation {
        if cur.category != Category::Dispute {
            return Err(flow::FlowError::NotMediable.to_string());
        }
        flow::mediation_next(cur.mediation, m.tier).map_err(|f| f.to_string())?;
    }
    Ok(())
}

/// A case from a `cases` row (all columns).
pub(super) fn stored_case<R: Cells>(r: &R) -> Result<StoredCase, StoreError>
where
    for<'a> &'a str: ColumnIndex<R>,
{
    let (status, category, source, priority) = (r.str("status")?, r.str("category")?, r.str("source")?, r.str("priority")?);
    Ok(StoredCase {
        escalations: r.int("escalations")? as u32,
        supervised: r.int("supervised")? as u32,
        closed_at: r.opt_int("closed_at")?,
        updated_at: r.int("updated_at")?,
        feed: r.string("feed")?,
        case_id: r.string("case_id")?,
        status: Status::parse(status).ok_or_else(|| corrupt("status", status))?,
        facts: CaseFacts {
            category: Category::parse(category).ok_or_else(|| corrupt("category", category))?,
            source: Source::parse(source).ok_or_else(|| corrupt("source", source))?,
            grid: r.string("grid")?,
            reported_at: r.int("reported_at")?,
            priority: Priority::parse(priority).ok_or_else(|| corrupt("priority", priority))?,
            warn_at: r.int("warn_at")?,
            deadline: r.int("deadline")?,
            details: CaseDetails {
                summary: r.string("summary")?,
                department: r.opt_string("department")?,
                person: match r.opt_string("person_name")? {
                    Some(name) => Some(app::model::Person {
                        name,
                        phone: r.opt_string("person_phone")?.unwrap_or_default(),
                        id_number: r.opt_string("person_id_number")?,
                        email: r.opt_string("person_email")?,
                    }),
                    None => None,
                },
                address: r.opt_string("address")?,
            },
        },
        timeline: Vec::new(),
    })
}

fn mediation(tier: Option<&str>, outcome: Option<&str>) -> Result<Option<flow::Mediation>, StoreError> {
    Ok(match (tier, outcome) {
        (Some(t), Some(o)) => Some(flow::Mediation {
            tier: flow::Tier::parse(t).ok_or_else(|| corrupt("mediation tier", t))?,
            outcome: flow::Outcome::parse(o).ok_or_else(|| corrupt("mediation outcome", o))?,
        }),
        _ => None,
    })
}

/// A timeline entry from `action, status, at, actor, note, tier, outcome`.
pub(super) fn timeline_entry<R: Cells>(e: &R) -> Result<TimelineEntry, StoreError>
where
    for<'a> &'a str: ColumnIndex<R>,
{
    let (s, a) = (e.str("status")?, e.str("action")?);
    Ok(TimelineEntry {
        action: Action::parse(a).ok_or_else(|| corrupt("action", a))?,
        status: Status::parse(s).ok_or_else(|| corrupt("status", s))?,
        at: e.int("at")?,
        actor: e.opt_string("actor")?,
        note: e.opt_string("note")?,
        mediation: mediation(e.opt_str("tier")?, e.opt_str("outcome")?)?,
    })
}

/// A stored event as a recount reads it, by position: `id, feed, case_id, origin, seq, action, status,
/// at, tier, outcome`, then (NULL unless it is the report) `category, source, grid, reported_at,
/// deadline, priority, warn_at, department`.
pub(super) fn replayed<R: Cells>(r: &R) -> Result<(i64, CaseEvent), StoreError>
where
    usize: ColumnIndex<R>,
{
    let (origin, action, status) = (r.str(3)?, r.str(5)?, r.str(6)?);
    let facts = match r.opt_str(10)? {
        None => None,
        Some(category) => {
            let (source, priority) = (r.str(11)?, r.str(15)?);
            Some(CaseFacts {
                category: Category::parse(category).ok_or_else(|| corrupt("category", category))?,
                source: Source::parse(source).ok_or_else(|| corrupt("source", source))?,
                grid: r.string(12)?,
                reported_at: r.int(13)?,
                priority: Priority::parse(priority).ok_or_else(|| corrupt("priority", priority))?,
                warn_at: r.int(16)?,
                deadline: r.int(14)?,
                // Counting needs the department, never personal data or notes: a replay reads no more.
                details: CaseDetails { department: r.opt_string(17)?, ..Default::default() },
            })
        }
    };
    Ok((
        r.int(0)?,
        CaseEvent {
            feed: r.string(1)?,
            case_id: r.string(2)?,
            origin: Origin::parse(origin).ok_or_else(|| corrupt("origin", origin))?,
            seq: r.int(4)? as u32,
            action: Action::parse(action).ok_or_else(|| corrupt("action", action))?,
            status: Status::parse(status).ok_or_else(|| corrupt("status", status))?,
            at: r.int(7)?,
            facts,
            note: None,
            mediation: mediation(r.opt_str(8)?, r.opt_str(9)?)?,
        },
    ))
}

/// An open case from `case_id, status, seq, updated_at, reported_at, deadline, category, mediated`.
pub(super) fn open_case<R: Cells>(r: &R) -> Result<OpenCase, StoreError>
where
    for<'a> &'a str: ColumnIndex<R>,
{
    let (status, category) = (r.str("status")?, r.str("category")?);
    Ok(OpenCase {
        case_id: r.string("case_id")?,
        status: Status::parse(status).ok_or_else(|| corrupt("status", status))?,
        seq: r.int("seq")? as u32,
        updated_at: r.int("updated_at")?,
        reported_at: r.int("reported_at")?,
        deadline: r.int("deadline")?,
        category: Category::parse(category).ok_or_else(|| corrupt("category", category))?,
        mediated: r.int("mediated")? as u32,
    })
}

/// A region from a `regions` row.
pub(super) fn region_row<R: Cells>(r: &R) -> Result<RegionRow, StoreError>
where
    for<'a> &'a str: ColumnIndex<R>,
{
    let level = r.str("level")?;
    let grid = match r.opt_str("grid_kind")? {
        None => None,
        Some(k) => Some(GridAttrs {
            kind: GridKind::parse(k).ok_or_else(|| corrupt("grid kind", k))?,
            worker: r.opt_string("worker")?,
            households: r.int("households")? as u32,
            population: r.int("population")? as u32,
            base_updated: r.opt_int("base_updated_at")?,
        }),
    };
    Ok(RegionRow {
        code: r.string("code")?,
        name: r.string("name")?,
        level: Level::parse(level).ok_or_else(|| corrupt("level", level))?,
        parent: r.opt_string("parent")?,
        shape: serde_json::from_str(r.str("shape")?).map_err(|e| StoreError::Corrupt(format!("region shape: {e}")))?,
        schematic: r.flag("schematic")?,
        grid,
    })
}

/// An account from an `accounts` row.
pub(super) fn account<R: Cells>(r: &R) -> Result<super::access::Account, StoreError>
where
    for<'a> &'a str: ColumnIndex<R>,
{
    let (role, clearance) = (r.str("role")?, r.str("clearance")?);
    Ok(super::access::Account {
        username: r.string("username")?,
        display_name: r.string("display_name")?,
        role: app::model::Role::parse(role).ok_or_else(|| corrupt("role", role))?,
        scope: r.string("scope")?,
        department: r.opt_string("department")?,
        clearance: app::model::Clearance::parse(clearance).ok_or_else(|| corrupt("clearance", clearance))?,
        password_hash: r.string("password_hash")?,
        created_at: r.int("created_at")?,
        created_by: r.string("created_by")?,
        disabled: r.flag("disabled")?,
        must_change: r.flag("must_change")?,
        password_set_at: r.int("password_set_at")?,
        last_sign_in_at: r.opt_int("last_sign_in_at")?,
        last_sign_in_from: r.opt_string("last_sign_in_from")?,
    })
}

pub(super) fn session<R: Cells>(r: &R) -> Result<super::access::Session, StoreError>
where
    for<'a> &'a str: ColumnIndex<R>,
{
    Ok(super::access::Session {
        token_hash: r.string("token_hash")?,
        username: r.string("username")?,
        csrf: r.string("csrf")?,
        created_at: r.int("created_at")?,
        expires_at: r.int("expires_at")?,
        address: r.string("address")?,
        second_factor_due: r.flag("second_factor_due")?,
        last_active_at: r.int("last_active_at")?.max(r.int("created_at")?),
    })
}

pub(super) fn device<R: Cells>(r: &R) -> Result<super::access::Device, StoreError>
where
    for<'a> &'a str: ColumnIndex<R>,
{
    Ok(super::access::Device {
        id: r.int("id")?,
        name: r.string("name")?,
        token_hash: r.string("token_hash")?,
        scope: r.string("scope")?,
        issued_by: r.string("issued_by")?,
        issued_at: r.int("issued_at")?,
        revoked_at: r.opt_int("revoked_at")?,
        playlist: r.opt_string("playlist")?,
        place: r.string("place")?,
        last_seen_at: r.opt_int("last_seen_at")?,
    })
}

pub(super) fn api_key<R: Cells>(r: &R) -> Result<super::access::ApiKey, StoreError>
where
    for<'a> &'a str: ColumnIndex<R>,
{
    Ok(super::access::ApiKey {
        id: r.int("id")?,
        name: r.string("name")?,
        key_hash: r.string("key_hash")?,
        issued_by: r.string("issued_by")?,
        issued_at: r.int("issued_at")?,
        revoked_at: r.opt_int("revoked_at")?,
    })
}

pub(super) fn audit_entry<R: Cells>(r: &R) -> Result<super::access::AuditEntry, StoreError>
where
    for<'a> &'a str: ColumnIndex<R>,
{
    Ok(super::access::AuditEntry {
        at: r.int("at")?,
        actor: r.string("actor")?,
        action: r.string("action")?,
        region: r.opt_string("region")?,
        detail: r.string("detail")?,
    })
}

pub(super) fn feed_row<R: Cells>(r: &R) -> Result<super::feeds::FeedRow, StoreError>
where
    for<'a> &'a str: ColumnIndex<R>,
{
    Ok(super::feeds::FeedRow {
        feed: r.string("feed")?,
        received: r.int("received")? as u64,
        stored: r.int("stored")? as u64,
        duplicate: r.int("duplicate")? as u64,
        quarantined: r.int("quarantined")? as u64,
        expired: r.int("expired")? as u64,
        last_success: r.opt_int("last_success")?,
        last_event_at: r.opt_int("last_event_at")?,
        cursor: r.opt_string("cursor")?,
        paused: r.flag("paused")?,
    })
}

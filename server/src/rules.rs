//! Time limits and what happens when they run out: each case's working-time limit by category and
//! priority, the instant it becomes due soon (four fifths of its time used), and the escalation rule
//! (a case overdue by `escalate_after_hours` working hours goes one level up, once).
use engine::Engine;
use crate::calendar::Calendar;
use crate::case::{CaseEvent, Note, Outcome};
use crate::ingest::Ingest;
use app::flow::{Action, Priority};
use futures::future::BoxFuture;
use std::sync::{Arc, RwLock};
use tokio::sync::watch;
use app::model::Category;
use serde::{Deserialize, Serialize};

const HOUR: i64 = 3_600_000;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FlowConfig {
    /// Working hours past its deadline after which an open case is escalated one level (0: at once).
    pub escalate_after_hours: u32,
    /// Whether the rule runs at all.
    pub auto_escalate: bool,
}

impl Default for FlowConfig {
    fn default() -> Self {
        FlowConfig { escalate_after_hours: 8, auto_escalate: true }
    }
}

/// Working hours allowed to close a case.
pub fn limit_hours(category: Category, priority: Priority) -> i64 {
    let normal = match category {
        Category::PublicOrder => 8,
        Category::Hazard => 16,
        Category::Environment => 24,
        Category::Dispute | Category::Livelihood => 40,
    };
    match priority {
        Priority::Normal => normal,
        Priority::High => normal / 2,
        Priority::Urgent => (normal / 4).max(2),
    }
}

/// (due soon from, deadline) of a case reported at `reported_at`, in working time on the calendar.
pub fn due(calendar: &Calendar, category: Category, priority: Priority, reported_at: i64) -> (i64, i64) {
    let limit = limit_hours(category, priority) * HOUR;
    (calendar.add_working(reported_at, limit * 4 / 5), calendar.add_working(reported_at, limit))
}

/// Whether an open case with this deadline is late enough at `now` to be escalated.
pub fn should_escalate(calendar: &Calendar, cfg: &FlowConfig, deadline: i64, now: i64) -> bool {
    cfg.auto_escalate && now >= deadline && calendar.working_between(deadline, now) >= i64::from(cfg.escalate_after_hours) * HOUR
}

/// Who the escalation rule acts as in a case's timeline.
pub const ESCALATION_ACTOR: &str = "rule:overdue";

/// Every 30 s, escalates the cases the rule says are late enough: through the ingest path, so each
/// escalation is a stored case event that the wall shows live, like an official's. Reads the settings
/// in force at each run (an administrator may change them, or switch the rule off, at any time).
pub fn run_escalation(ingest: Ingest, engine: Arc<RwLock<Engine>>, mut stop: watch::Receiver<bool>) -> BoxFuture<'static, ()> {
    Box::pin(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(30));
        loop {
            tokio::select! { _ = tick.tick() => {}, _ = stop.changed() => return }
            let settings = ingest.settings().current();
            match escalate_due(&ingest, &engine, &settings.calendar, &settings.flow).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(escalated = n, "escalation rule ran"),
                Err(e) => tracing::error!("escalation rule: {e}"),
            }
        }
    })
}

/// One run of the escalation rule at the ingest clock's now; how many cases it raised.
pub async fn escalate_due(ingest: &Ingest, engine: &RwLock<Engine>, calendar: &Calendar, cfg: &FlowConfig) -> Result<usize, crate::store::StoreError> {
    let now = ingest.clock().now_ms();
    let due = engine.read().expect("engine lock").due_for_escalation(|d| should_escalate(calendar, cfg, d, now));
    if due.is_empty() {
        return Ok(0);
    }
    let note = Note { actor: ESCALATION_ACTOR.into(), text: String::new() };
    let events = due.into_iter().map(|(feed, id, status)| CaseEvent::oversight(&feed, &id, Action::Escalate, status, now, note.clone())).collect();
    let outcomes = ingest.submit(events).await?;
    Ok(outcomes.iter().filter(|o| **o == Outcome::Stored).count())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::CalendarConfig;
    use app::model::parse_day;

    const M: i64 = 60_000;

    fn cal() -> Calendar {
        // 2026-12-31 (Thu) and 2027-01-01 (Fri) off; Sunday 2027-01-03 a make-up working day.
        Calendar::new(&CalendarConfig {
            holidays: vec!["2026-12-31".into(), "2027-01-01".into()],
            extra_workdays: vec!["2027-01-03".into()],
            ..Default::default()
        })
        .unwrap()
    }

    fn at(day: &str, h: i64, m: i64) -> i64 {
        parse_day(day).unwrap() + h * 60 * M + m * M
    }

    #[test]
    fn limits_shrink_with_priority() {
        for c in Category::ALL {
            assert!(limit_hours(c, Priority::Urgent) < limit_hours(c, Priority::High));
            assert!(limit_hours(c, Priority::High) < limit_hours(c, Priority::Normal));
        }
        assert_eq!(limit_hours(Category::PublicOrder, Priority::Urgent), 2);
        assert_eq!(limit_hours(Category::Dispute, Priority::Normal), 40);
    }

    /// By hand: a day is 08:30–12:00 and 13:30–17:30 (7.5 h).
    #[test]
    fn deadlines_over_weekends_and_holidays() {
        let c = cal();
        // Friday 2026-11-20 16:00, hazard, high: 8 h. 1.5 h on Friday, weekend off, Monday 08:30 + 6.5 h
        // = 12:00 (3.5 h) then 13:30 + 3 h = 16:30. Due soon at 6.4 h: Monday 08:30 + 4.9 h = 14:54.
        let (warn, deadline) = due(&c, Category::Hazard, Priority::High, at("2026-11-20", 16, 0));
        assert_eq!(deadline, at("2026-11-23", 16, 30));
        assert_eq!(warn, at("2026-11-23", 14, 54));
        // Wednesday 2026-12-30 17:00, public order, normal: 8 h. 0.5 h Wednesday; Thu, Fri holidays; Sat
        // off; Sunday 2027-01-03 is worked: 7.5 h to 17:30 is all that is left.
        let (_, deadline) = due(&c, Category::PublicOrder, Priority::Normal, at("2026-12-30", 17, 0));
        assert_eq!(deadline, at("2027-01-03", 17, 30));
        // Reported at night: the clock starts at 08:30 the next working day.
        let (_, deadline) = due(&c, Category::PublicOrder, Priority::Urgent, at("2026-11-24", 22, 0));
        assert_eq!(deadline, at("2026-11-25", 10, 30));
    }

    #[test]
    fn escalation_counts_working_hours_late() {
        let c = cal();
        let cfg = FlowConfig::default();
        let deadline = at("2026-11-20", 16, 30); // Friday
        assert!(!should_escalate(&c, &cfg, deadline, at("2026-11-20", 16, 0)), "not late yet");
        // Late over the weekend counts nothing: by Monday 15:00 it is 1 h + 5 h = 6 h late.
        assert!(!should_escalate(&c, &cfg, deadline, at("2026-11-23", 15, 0)));
        // Monday 17:30: 1 + 7.5 = 8.5 h.
        assert!(should_escalate(&c, &cfg, deadline, at("2026-11-23", 17, 30)));
        let off = FlowConfig { auto_escalate: false, ..cfg };
        assert!(!should_escalate(&c, &off, deadline, at("2026-11-30", 9, 0)));
    }
}

//! Settings a city changes while the cockpit runs: the working calendar deadlines count on (hours,
//! holidays, make-up days) and the `[flow]` rules (escalation). The config file gives the first values;
//! what an administrator saves at `/admin/settings` is stored, audited with its old and new value, and
//! wins over the file on every instance, without a restart. A change counts from then on: deadlines
//! already given to cases stay as promised, the escalation rule uses the new values at its next run.
use crate::calendar::{Calendar, CalendarConfig};
use crate::rules::FlowConfig;
use crate::store::access::AuditEntry;
use crate::store::{Store, StoreError, StoredSetting};
use std::sync::{Arc, OnceLock, RwLock};

pub const CALENDAR: &str = "calendar";
pub const FLOW: &str = "flow";
/// More than a few years of holidays in one list is a pasted mistake, not a calendar.
pub const MAX_DAYS: usize = 400;
pub const MAX_ESCALATE_HOURS: u32 = 24 * 40;

/// Who saved a stored value, and when (ms).
#[derive(Clone, Debug, PartialEq)]
pub struct Saved {
    pub by: String,
    pub at: i64,
}

/// The values in force and where each came from (`None`: the config file).
#[derive(Clone, Debug)]
pub struct Current {
    pub calendar_config: CalendarConfig,
    pub calendar: Calendar,
    pub flow: FlowConfig,
    pub calendar_saved: Option<Saved>,
    pub flow_saved: Option<Saved>,
}

/// A refused value: which part, and why (shown beside the field).
#[derive(Debug)]
pub enum SettingsError {
    Invalid { field: &'static str, message: String },
    Store(StoreError),
}

impl From<StoreError> for SettingsError {
    fn from(e: StoreError) -> Self {
        SettingsError::Store(e)
    }
}

pub struct Settings {
    file_calendar: CalendarConfig,
    file_flow: FlowConfig,
    current: RwLock<Arc<Current>>,
    /// Told after a save, so that the other instances read the settings again.
    on_change: OnceLock<Box<dyn Fn() + Send + Sync>>,
}

impl Settings {
    /// The config file's values alone (tools and tests that store nothing).
    pub fn fixed(calendar: CalendarConfig, flow: FlowConfig) -> Result<Settings, String> {
        let current = Current { calendar: Calendar::new(&calendar)?, calendar_config: calendar.clone(), flow: flow.clone(), calendar_saved: None, flow_saved: None };
        Ok(Settings { file_calendar: calendar, file_flow: flow, current: RwLock::new(Arc::new(current)), on_change: OnceLock::new() })
    }

    /// The config file's values, overridden by those stored.
    pub async fn load(store: &dyn Store, calendar: CalendarConfig, flow: FlowConfig) -> Result<Settings, String> {
        let s = Settings::fixed(calendar, flow)?;
        s.reload(store).await.map_err(|e| format!("settings: {e}"))?;
        Ok(s)
    }

    pub fn current(&self) -> Arc<Current> {
        self.current.read().expect("settings lock").clone()
    }

    pub fn on_change(&self, f: impl Fn() + Send + Sync + 'static) {
        let _ = self.on_change.set(Box::new(f));
    }

    /// Reads the stored values again (another instance saved one). A stored value that no longer reads
    /// is logged and the file's is used: a broken row must not stop deadlines being counted.
    pub async fn reload(&self, store: &dyn Store) -> Result<(), StoreError> {
        let rows = store.settings().await?;
        let row = |name: &str| rows.iter().find(|r| r.name == name);
        let mut next = Current {
            calendar_config: self.file_calendar.clone(),
            calendar: Calendar::new(&self.file_calendar).expect("the file's calendar was checked at start"),
            flow: self.file_flow.clone(),
            calendar_saved: None,
            flow_saved: None,
        };
        if let Some(r) = row(CALENDAR) {
            match serde_json::from_str::<CalendarConfig>(&r.value).map_err(|e| e.to_string()).and_then(|c| Calendar::new(&c).map(|cal| (c, cal))) {
                Ok((c, cal)) => (next.calendar_config, next.calendar, next.calendar_saved) = (c, cal, Some(Saved { by: r.changed_by.clone(), at: r.changed_at })),
                Err(e) => tracing::error!(error = %e, "the stored working calendar does not read; the config file's is used"),
            }
        }
        if let Some(r) = row(FLOW) {
            match serde_json::from_str::<FlowConfig>(&r.value).map_err(|e| e.to_string()).and_then(|f| check_flow(&f).map(|()| f)) {
                Ok(f) => (next.flow, next.flow_saved) = (f, Some(Saved { by: r.changed_by.clone(), at: r.changed_at })),
                Err(e) => tracing::error!(error = %e, "the stored flow settings do not read; the config file's are used"),
            }
        }
        *self.current.write().expect("settings lock") = Arc::new(next);
        Ok(())
    }

    /// Stores a new calendar, audited with its old and new values; false when nothing changed.
    pub async fn save_calendar(&self, store: &dyn Store, by: &str, region: &str, c: CalendarConfig, now: i64) -> Result<bool, SettingsError> {
        let c = normalise(c);
        if c.holidays.len() > MAX_DAYS || c.extra_workdays.len() > MAX_DAYS {
            let field = if c.holidays.len() > MAX_DAYS { "holidays" } else { "extra_workdays" };
            return Err(SettingsError::Invalid { field, message: format!("at most {MAX_DAYS} days") });
        }
        if let Some(d) = c.holidays.iter().find(|d| c.extra_workdays.contains(d)) {
            return Err(SettingsError::Invalid { field: "extra_workdays", message: format!("{d} is also a holiday") });
        }
        if let Err(m) = Calendar::new(&c) {
            let field = if m.starts_with("calendar.holidays") {
                "holidays"
            } else if m.starts_with("calendar.extra_workdays") {
                "extra_workdays"
            } else {
                "hours"
            };
            return Err(SettingsError::Invalid { field, message: m });
        }
        let old = self.current().calendar_config.clone();
        if normalise(old.clone()) == c {
            return Ok(false);
        }
        let mut changes = Vec::new();
        if old.hours != c.hours {
            changes.push(format!("hours: {} → {}", old.hours.join(","), c.hours.join(",")));
        }
        for (name, a, b) in [("holidays", &old.holidays, &c.holidays), ("extra_workdays", &old.extra_workdays, &c.extra_workdays)] {
            let added: Vec<&str> = b.iter().filter(|d| !a.contains(d)).map(String::as_str).collect();
            let removed: Vec<&str> = a.iter().filter(|d| !b.contains(d)).map(String::as_str).collect();
            if !added.is_empty() || !removed.is_empty() {
                changes.push(format!("{name}: +[{}] -[{}]", added.join(","), removed.join(",")));
            }
        }
        self.save(store, CALENDAR, serde_json::to_string(&c).expect("a calendar serialises"), by, region, changes, now).await?;
        Ok(true)
    }

    /// Stores new flow rules, audited with their old and new values; false when nothing changed.
    pub async fn save_flow(&self, store: &dyn Store, by: &str, region: &str, f: FlowConfig, now: i64) -> Result<bool, SettingsError> {
        check_flow(&f).map_err(|message| SettingsError::Invalid { field: "escalate_after_hours", message })?;
        let old = self.current().flow.clone();
        if old == f {
            return Ok(false);
        }
        let mut changes = Vec::new();
        if old.auto_escalate != f.auto_escalate {
            changes.push(format!("auto_escalate: {} → {}", old.auto_escalate, f.auto_escalate));
        }
        if old.escalate_after_hours != f.escalate_after_hours {
            changes.push(format!("escalate_after_hours: {} → {}", old.escalate_after_hours, f.escalate_after_hours));
        }
        self.save(store, FLOW, serde_json::to_string(&f).expect("flow settings serialise"), by, region, changes, now).await?;
        Ok(true)
    }

    #[allow(clippy::too_many_arguments)]
    async fn save(&self, store: &dyn Store, name: &str, value: String, by: &str, region: &str, changes: Vec<String>, now: i64) -> Result<(), StoreError> {
        let row = StoredSetting { name: name.into(), value, changed_at: now, changed_by: by.into() };
        let audit = AuditEntry { at: now, actor: by.into(), action: "settings_changed".into(), region: Some(region.into()), detail: format!("{name}: {}", changes.join("; ")) };
        store.save_setting(&row, &audit).await?;
        self.reload(store).await?;
        if let Some(f) = self.on_change.get() {
            f();
        }
        Ok(())
    }
}

fn check_flow(f: &FlowConfig) -> Result<(), String> {
    if f.escalate_after_hours > MAX_ESCALATE_HOURS {
        return Err(format!("at most {MAX_ESCALATE_HOURS} working hours"));
    }
    Ok(())
}

/// Days sorted and without repeats, periods trimmed: two lists that mean the same compare equal.
fn normalise(mut c: CalendarConfig) -> CalendarConfig {
    for list in [&mut c.holidays, &mut c.extra_workdays] {
        for d in list.iter_mut() {
            *d = d.trim().to_string();
        }
        list.retain(|d| !d.is_empty());
        list.sort();
        list.dedup();
    }
    c.hours = c.hours.iter().map(|h| h.trim().to_string()).filter(|h| !h.is_empty()).collect();
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_lists_in_another_order_are_no_change_and_bad_days_name_their_field() {
        let a = CalendarConfig { holidays: vec!["2026-12-04".into(), " 2026-12-03".into(), "2026-12-04".into()], ..Default::default() };
        assert_eq!(normalise(a).holidays, vec!["2026-12-03", "2026-12-04"]);
        assert!(check_flow(&FlowConfig { escalate_after_hours: MAX_ESCALATE_HOURS + 1, auto_escalate: true }).is_err());
        assert!(check_flow(&FlowConfig::default()).is_ok());
    }
}

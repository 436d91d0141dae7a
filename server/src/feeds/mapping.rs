//! Declarative mapping of a source record (JSON, or a CSV/XLSX/SQL row read as a JSON object of its
//! columns) to the canonical `Record`: field paths, value maps, time formats, datum and grid assignment.
//! Configured per feed as `[feeds.mapping]`; compiled once, so bad configuration is caught at load time.
use super::locate::{Datum, Locator};
use super::record::{Body, CaseRecord, Observation, Record};
use super::time::TimeFormat;
use app::flow::Priority;
use app::duty::DutyKind;
use app::model::{Category, Indicator, Source, Status};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::Arc;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RecordKind {
    Case,
    Observation,
    /// A line of the grid workers' rosters (a shift, or leave), from the grid-management system.
    Duty,
}

/// Paths are dot-separated keys and array indices (`location.coords.0`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mapping {
    pub record: RecordKind,
    /// Path of the record's id in its source.
    pub id: String,
    /// Path of its version number or update time; without one, the record's time is its version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(default = "default_time_format")]
    pub time_format: TimeFormat,
    /// Path of the record's time: a case's status time, an observation's time.
    pub time: String,

    // Cases.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// Source status codes to ours (reported, accepted, dispatched, handling, resolved, verified, closed).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub status_map: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub category_map: BTreeMap<String, String>,
    /// Which of the city's systems the cases come from (hotline_12345, petition, police, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reported_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub priority_map: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub department: Option<String>,
    /// The person concerned (a party to a dispute, a caller): stored, and shown only to those cleared
    /// for personal data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub person_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub person_phone: Option<String>,

    // Observations.
    /// A fixed indicator for every record of the feed …
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub indicator: Option<String>,
    /// … or the path of a code mapped by `indicator_map`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub indicator_path: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub indicator_map: BTreeMap<String, String>,
    /// Path of the value; absent: every record counts 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// Source value codes to numbers (e.g. `ON = 1`, `OFF = 0`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub value_map: BTreeMap<String, f64>,

    // Roster lines (`time` is the start).
    /// Path of the worker's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub worker: Option<String>,
    /// Path of the end time (same format as `time`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<String>,
    /// Path of the line's kind, mapped by `duty_kind_map` to shift or leave; absent: every line is a shift.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duty_kind: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub duty_kind_map: BTreeMap<String, String>,

    // Where: a region code as given, or a point.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lon: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lat: Option<String>,
    #[serde(default)]
    pub datum: Datum,
}

fn default_time_format() -> TimeFormat {
    TimeFormat::Rfc3339
}

/// A mapping checked against our vocabularies, ready to run.
pub struct Mapper {
    m: Mapping,
    kind: Compiled,
    locator: Arc<Locator>,
}

enum Compiled {
    Case { status: BTreeMap<String, Status>, category: BTreeMap<String, Category>, priority: BTreeMap<String, Priority>, source: Source },
    Observation { fixed: Option<Indicator>, map: BTreeMap<String, Indicator> },
    Duty { kind: BTreeMap<String, DutyKind> },
}

fn compile_map<T>(key: &str, map: &BTreeMap<String, String>, parse: impl Fn(&str) -> Option<T>, expected: &str) -> Result<BTreeMap<String, T>, String> {
    map.iter()
        .map(|(k, v)| parse(v).map(|t| (k.clone(), t)).ok_or_else(|| format!("mapping.{key}: {v:?} (for {k:?}) is not one of {expected}")))
        .collect()
}

fn names<T>(all: &[T], f: impl Fn(&T) -> &'static str) -> String {
    all.iter().map(f).collect::<Vec<_>>().join(", ")
}

impl Mapping {
    /// Checks every key against the record kind and our vocabularies; the error names the key.
    pub fn compile(&self, locator: Arc<Locator>) -> Result<Mapper, String> {
        self.time_format.validate().map_err(|e| format!("mapping.time_format: {e}"))?;
        if self.region.is_none() && (self.lon.is_none() || self.lat.is_none()) {
            return Err("mapping: give `region` (a code path) or both `lon` and `lat`".into());
        }
        if self.lon.is_some() != self.lat.is_some() {
            return Err("mapping: `lon` and `lat` go together".into());
        }
        let statuses = names(&Status::ALL, |s| s.as_str());
        let kind = match self.record {
            RecordKind::Case => {
                let status_path = self.status.as_ref().ok_or("mapping.status: a case mapping needs the path of its status")?;
                let _ = status_path;
                let source = self.source.as_deref().ok_or("mapping.source: a case mapping names its system (e.g. hotline_12345)")?;
                let source = Source::parse(source).ok_or_else(|| format!("mapping.source: {source:?} is not one of {}", names(&Source::ALL, |s| s.as_str())))?;
                if self.category.is_none() {
                    return Err("mapping.category: a case mapping needs the path of its category".into());
                }
                if self.indicator.is_some() || self.indicator_path.is_some() || self.value.is_some() {
                    return Err("mapping: indicator and value belong to observation mappings".into());
                }
                Compiled::Case {
                    status: compile_map("status_map", &self.status_map, Status::parse, &statuses)?,
                    category: compile_map("category_map", &self.category_map, Category::parse, &names(&Category::ALL, |c| c.as_str()))?,
                    priority: compile_map("priority_map", &self.priority_map, Priority::parse, "urgent, high, normal")?,
                    source,
                }
            }
            RecordKind::Observation => {
                let all = names(&Indicator::ALL, |i| i.as_str());
                let fixed = match &self.indicator {
                    Some(i) => Some(Indicator::parse(i).ok_or_else(|| format!("mapping.indicator: {i:?} is not one of {all}"))?),
                    None => None,
                };
                if fixed.is_some() == self.indicator_path.is_some() {
                    return Err("mapping: an observation mapping needs exactly one of `indicator` and `indicator_path`".into());
                }
                if self.status.is_some() || self.category.is_some() {
                    return Err("mapping: status and category belong to case mappings".into());
                }
                Compiled::Observation { fixed, map: compile_map("indicator_map", &self.indicator_map, Indicator::parse, &all)? }
            }
            RecordKind::Duty => {
                if self.worker.is_none() || self.until.is_none() {
                    return Err("mapping: a duty mapping needs the paths of its `worker` and `until` (the end)".into());
                }
                if self.status.is_some() || self.category.is_some() || self.indicator.is_some() || self.indicator_path.is_some() || self.value.is_some() {
                    return Err("mapping: status, category, indicator and value belong to case and observation mappings".into());
                }
                if self.duty_kind.is_none() && !self.duty_kind_map.is_empty() {
                    return Err("mapping.duty_kind_map: give `duty_kind`, the path it maps".into());
                }
                Compiled::Duty { kind: compile_map("duty_kind_map", &self.duty_kind_map, DutyKind::parse, "shift, leave")? }
            }
        };
        if self.record != RecordKind::Duty && (self.worker.is_some() || self.until.is_some() || self.duty_kind.is_some()) {
            return Err("mapping: worker, until and duty_kind belong to duty mappings".into());
        }
        Ok(Mapper { m: self.clone(), kind, locator })
    }
}

/// The value at a dot path.
pub fn at<'v>(v: &'v Value, path: &str) -> Option<&'v Value> {
    path.split('.').try_fold(v, |v, key| match v {
        Value::Object(o) => o.get(key),
        Value::Array(a) => key.parse::<usize>().ok().and_then(|i| a.get(i)),
        _ => None,
    })
}

/// A scalar as text; null, empty, objects and arrays are absent.
fn text(v: &Value, path: &str) -> Option<String> {
    match at(v, path)? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn required(v: &Value, path: &str, what: &str) -> Result<String, String> {
    text(v, path).ok_or_else(|| format!("{what} ({path}) is missing"))
}

fn mapped<T: Copy>(map: &BTreeMap<String, T>, raw: &str, parse: impl Fn(&str) -> Option<T>, what: &str) -> Result<T, String> {
    map.get(raw).copied().or_else(|| parse(raw)).ok_or_else(|| format!("{what} {raw:?} has no mapping"))
}

impl Mapper {
    pub fn kind(&self) -> RecordKind {
        self.m.record
    }

    /// The record's id, if it has one: quarantined records are listed by it.
    pub fn id_of(&self, v: &Value) -> Option<String> {
        text(v, &self.m.id).map(|s| s.chars().take(200).collect())
    }

    /// One source record to a canonical record, or why not (the quarantine reason).
    pub fn map(&self, v: &Value) -> Result<Record, String> {
        let m = &self.m;
        let external_id = required(v, &m.id, "id")?;
        if external_id.len() > 200 {
            return Err("id is longer than 200 characters".into());
        }
        let time = m.time_format.parse(&required(v, &m.time, "time")?).map_err(|e| format!("time ({}): {e}", m.time))?;
        let version = match &m.version {
            None => time,
            Some(p) => {
                let raw = required(v, p, "version")?;
                match raw.parse::<i64>() {
                    Ok(n) => n,
                    Err(_) => m.time_format.parse(&raw).map_err(|e| format!("version ({p}): neither a whole number nor a time: {e}"))?,
                }
            }
        };
        let body = match &self.kind {
            Compiled::Case { status, category, priority, source } => {
                let raw = required(v, m.status.as_deref().unwrap_or_default(), "status")?;
                let status = mapped(status, &raw, Status::parse, "status")?;
                let category = match m.category.as_deref().and_then(|p| text(v, p)) {
                    Some(raw) => Some(mapped(category, &raw, Category::parse, "category")?),
                    None => None,
                };
                let priority = match m.priority.as_deref().and_then(|p| text(v, p)) {
                    Some(raw) => mapped(priority, &raw, Priority::parse, "priority")?,
                    None => Priority::Normal,
                };
                let reported_at = match m.reported_at.as_deref().and_then(|p| text(v, p).map(|t| (p, t))) {
                    Some((p, raw)) => Some(m.time_format.parse(&raw).map_err(|e| format!("reported_at ({p}): {e}"))?),
                    None => None,
                };
                let grid = self.place(v, true)?;
                let opt = |p: &Option<String>| p.as_deref().and_then(|p| text(v, p));
                Body::Case(CaseRecord {
                    status,
                    at: time,
                    category,
                    source: *source,
                    grid,
                    reported_at,
                    priority,
                    summary: opt(&m.summary).unwrap_or_default().chars().take(500).collect(),
                    address: opt(&m.address),
                    department: opt(&m.department),
                    person: opt(&m.person_name).map(|name| app::model::Person { name, phone: opt(&m.person_phone).unwrap_or_default(), id_number: None, email: None }),
                    note: None,
                })
            }
            Compiled::Observation { fixed, map } => {
                let indicator = match (fixed, &m.indicator_path) {
                    (Some(i), _) => *i,
                    (None, Some(p)) => mapped(map, &required(v, p, "indicator")?, Indicator::parse, "indicator")?,
                    (None, None) => unreachable!("compile requires one"),
                };
                let value = match &m.value {
                    None => 1.0,
                    Some(p) => {
                        let raw = required(v, p, "value")?;
                        let n = m.value_map.get(&raw).copied().or_else(|| raw.parse::<f64>().ok());
                        n.filter(|n| n.is_finite()).ok_or_else(|| format!("value {raw:?} is neither a number nor in value_map"))?
                    }
                };
                let region = self.place(v, false)?.ok_or("its region or location is missing")?;
                Body::Observation(Observation { indicator, region, at: time, value })
            }
            Compiled::Duty { kind } => {
                let worker: String = required(v, m.worker.as_deref().unwrap_or_default(), "worker")?.chars().take(100).collect();
                let until = m.until.as_deref().unwrap_or_default();
                let to = m.time_format.parse(&required(v, until, "until")?).map_err(|e| format!("until ({until}): {e}"))?;
                let kind = match m.duty_kind.as_deref() {
                    Some(p) => mapped(kind, &required(v, p, "duty kind")?, DutyKind::parse, "duty kind")?,
                    None => DutyKind::Shift,
                };
                let grid = self.place(v, true)?.ok_or("its grid or location is missing")?;
                let d = crate::duty::Duty { grid, worker, kind, from: time, to };
                d.check()?;
                Body::Duty(d)
            }
        };
        Ok(Record { external_id, version, body })
    }

    /// The region (a grid, for cases) of a record; None when it gives none (a later version of a case).
    fn place(&self, v: &Value, grid: bool) -> Result<Option<String>, String> {
        let m = &self.m;
        if let Some(code) = m.region.as_deref().and_then(|p| text(v, p)) {
            return self.locator.region(&code, grid).map(Some);
        }
        let (Some(lon), Some(lat)) = (m.lon.as_deref().and_then(|p| text(v, p)), m.lat.as_deref().and_then(|p| text(v, p))) else {
            return Ok(None);
        };
        let num = |s: &str, what: &str| s.parse::<f64>().map_err(|_| format!("{what} {s:?} is not a number"));
        self.locator.locate(num(&lon, "longitude")?, num(&lat, "latitude")?, m.datum).map(Some)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::city::RegionTree;
    use serde_json::json;
    use std::sync::OnceLock;

    pub(crate) fn locator() -> Arc<Locator> {
        static L: OnceLock<Arc<Locator>> = OnceLock::new();
        L.get_or_init(|| Arc::new(Locator::new(Arc::new(RegionTree::new(crate::city::shaoxing::build()).unwrap())))).clone()
    }

    pub(crate) fn open311() -> Mapping {
        toml::from_str(
            r#"
            record = "case"
            id = "service_request_id"
            time = "updated_datetime"
            status = "status"
            status_map = { open = "accepted", closed = "closed" }
            category = "service_code"
            category_map = { "001" = "hazard", "002" = "environment" }
            source = "hotline_12345"
            reported_at = "requested_datetime"
            summary = "description"
            address = "address"
            department = "agency_responsible"
            lon = "long"
            lat = "lat"
            datum = "gcj02"
            "#,
        )
        .unwrap()
    }

    fn a_grid() -> (String, f64, f64) {
        let l = locator();
        let (_, r) = l.tree().iter().find(|(_, r)| r.row.level == app::model::Level::Grid).unwrap();
        let [lon, lat] = geom::label_point(&r.row.shape);
        let (glon, glat) = geom::china::wgs84_to_gcj02(lon, lat);
        (r.row.code.clone(), glon, glat)
    }

    #[test]
    fn a_roster_line_maps_to_a_duty_and_duty_keys_stay_with_duty_mappings() {
        let m: Mapping = toml::from_str(
            r#"
            record = "duty"
            id = "id"
            time = "from"
            time_format = "unix_ms"
            until = "to"
            worker = "name"
            duty_kind = "type"
            duty_kind_map = { "请假" = "leave" }
            region = "grid"
            "#,
        )
        .unwrap();
        let mapper = m.compile(locator()).unwrap();
        let (grid, _, _) = a_grid();
        let r = mapper.map(&json!({"id": 7, "from": 1000, "to": 5000, "name": " 王伟 ", "type": "请假", "grid": grid})).unwrap();
        assert_eq!(r.body, Body::Duty(crate::duty::Duty { grid: grid.clone(), worker: "王伟".into(), kind: DutyKind::Leave, from: 1000, to: 5000 }));
        assert_eq!(r.version, 1000, "without a version path the start is the version");
        let shift = mapper.map(&json!({"id": 8, "from": 0, "to": 1, "name": "王伟", "type": "shift", "grid": grid})).unwrap();
        assert!(matches!(shift.body, Body::Duty(ref d) if d.kind == DutyKind::Shift));
        assert!(mapper.map(&json!({"id": 9, "from": 0, "name": "王伟", "type": "shift", "grid": grid})).unwrap_err().contains("until"));
        assert!(mapper.map(&json!({"id": 9, "from": 0, "to": 1, "name": "王伟", "type": "调休", "grid": grid})).unwrap_err().contains("调休"));
        assert!(mapper.map(&json!({"id": 9, "from": 0, "to": 1, "name": "王伟", "type": "shift", "grid": "330602"})).is_err(), "a district is not a grid");

        let mut no_until = m.clone();
        no_until.until = None;
        assert!(no_until.compile(locator()).err().unwrap().contains("until"));
        let mut stray = open311();
        stray.worker = Some("name".into());
        assert!(stray.compile(locator()).err().unwrap().contains("duty mappings"));
        let mut bad_kind = m.clone();
        bad_kind.duty_kind_map.insert("x".into(), "holiday".into());
        assert!(bad_kind.compile(locator()).err().unwrap().contains("duty_kind_map"));
    }

    #[test]
    fn an_open311_request_maps_to_a_case_in_its_grid() {
        let mapper = open311().compile(locator()).unwrap();
        let (grid, lon, lat) = a_grid();
        let v = json!({"service_request_id": "R-1", "status": "open", "service_code": "001", "description": "路灯不亮",
            "requested_datetime": "2026-11-20T08:00:00+08:00", "updated_datetime": "2026-11-20T09:00:00+08:00",
            "address": "解放北路1号", "agency_responsible": "城管局", "long": lon, "lat": lat});
        let r = mapper.map(&v).unwrap();
        assert_eq!(r.external_id, "R-1");
        let Body::Case(c) = r.body else { panic!("a case") };
        assert_eq!((c.status, c.category, c.grid.as_deref()), (Status::Accepted, Some(Category::Hazard), Some(grid.as_str())));
        assert_eq!(r.version, c.at);
        assert_eq!(c.at - c.reported_at.unwrap(), 3_600_000);
        assert_eq!(c.department.as_deref(), Some("城管局"));
    }

    #[test]
    fn bad_records_say_what_is_wrong() {
        let mapper = open311().compile(locator()).unwrap();
        let (_, lon, lat) = a_grid();
        let base = json!({"service_request_id": "R-1", "status": "open", "service_code": "001",
            "updated_datetime": "2026-11-20T09:00:00+08:00", "long": lon, "lat": lat});
        let with = |k: &str, v: Value| {
            let mut b = base.clone();
            b[k] = v;
            mapper.map(&b).unwrap_err()
        };
        assert!(with("status", json!("lost")).contains("status \"lost\" has no mapping"));
        assert!(with("service_code", json!("999")).contains("category \"999\""));
        assert!(with("updated_datetime", json!("soon")).contains("updated_datetime"));
        assert!(with("service_request_id", Value::Null).contains("id (service_request_id) is missing"));
        assert!(with("long", json!(116.4)).contains("no grid"));
        assert!(with("lat", json!("north")).contains("not a number"));
    }

    #[test]
    fn bad_mappings_name_the_key() {
        let l = locator();
        let mut m = open311();
        m.status_map.insert("x".into(), "finished".into());
        assert!(m.compile(l.clone()).err().unwrap().contains("mapping.status_map: \"finished\""));
        let mut m = open311();
        m.source = Some("fax".into());
        assert!(m.compile(l.clone()).err().unwrap().contains("mapping.source"));
        let mut m = open311();
        m.lat = None;
        assert!(m.compile(l.clone()).err().unwrap().contains("lon"));
        let e = toml::from_str::<Mapping>("record = \"case\"\nid = \"a\"\ntime = \"t\"\nstatuss = \"s\"").unwrap_err();
        assert!(e.to_string().contains("unknown field `statuss`"), "{e}");
    }

    #[test]
    fn observations_map_by_region_code_and_value_map() {
        let m: Mapping = toml::from_str(
            r#"
            record = "observation"
            id = "channel"
            time = "ts"
            time_format = "unix_ms"
            indicator = "video_online"
            value = "state"
            value_map = { ON = 1, OFF = 0 }
            region = "area"
            "#,
        )
        .unwrap();
        let mapper = m.compile(locator()).unwrap();
        let r = mapper.map(&json!({"channel": "C7", "ts": 1_700_000_000_000i64, "state": "OFF", "area": "330602"})).unwrap();
        assert_eq!(r.body, Body::Observation(Observation { indicator: Indicator::VideoOnline, region: "330602".into(), at: 1_700_000_000_000, value: 0.0 }));
        assert!(mapper.map(&json!({"channel": "C7", "ts": 1, "state": "DIM", "area": "330602"})).unwrap_err().contains("DIM"));
        assert!(mapper.map(&json!({"channel": "C7", "ts": 1, "state": "ON", "area": "999"})).unwrap_err().contains("unknown region"));
    }

    /// Any JSON at all: a mapper returns a record or a reason, never panics.
    #[test]
    fn no_input_makes_a_mapper_panic() {
        let mapper = open311().compile(locator()).unwrap();
        let mut rng = geom::SplitMix64::new(11);
        let atoms = [json!(null), json!(true), json!(-1), json!(1e308), json!(""), json!("open"), json!("001"), json!("2026-11-20T09:00:00+08:00"),
            json!(120.58), json!(29.99), json!("NaN"), json!([1, 2]), json!({"a": 1}), json!("9999-99-99"), json!("😀"), json!(i64::MIN)];
        let keys = ["service_request_id", "status", "service_code", "updated_datetime", "requested_datetime", "long", "lat", "description", "x"];
        for _ in 0..20_000 {
            let mut o = serde_json::Map::new();
            for k in keys {
                if rng.next_u64() % 4 != 0 {
                    o.insert(k.into(), atoms[(rng.next_u64() % atoms.len() as u64) as usize].clone());
                }
            }
            let _ = mapper.map(&Value::Object(o));
        }
        for v in [json!(null), json!([]), json!("x"), json!(1)] {
            assert!(mapper.map(&v).is_err());
        }
    }
}

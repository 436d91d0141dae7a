//! The rules a city configures (`[[warnings.rules]]`): each with a name, a title as the city words it,
//! a level (blue, yellow, orange, red), the level of the centre that must acknowledge (`route`), and
//! what it watches (`kind`), with that kind's keys only. Read once at start; a wrong rule stops the
//! start with the rule's name and what is wrong, never a silent rule that warns of nothing.
use app::model::{Category, Level};
use app::warning::{WarningKind, WarningLevel};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WarningsConfig {
    /// How often the rules run over the engine's figures.
    pub evaluate_seconds: u32,
    /// A raised warning nobody acknowledged in this many minutes goes to the centre one level up.
    pub ack_minutes: u32,
    pub rules: Vec<RuleConfig>,
}

impl Default for WarningsConfig {
    fn default() -> Self {
        let rule = |name: &str, title: &str, kind: &str, level: &str, route: &str| RuleConfig {
            name: name.into(),
            title: title.into(),
            kind: kind.into(),
            level: level.into(),
            route: route.into(),
            ..Default::default()
        };
        WarningsConfig {
            evaluate_seconds: 30,
            ack_minutes: 30,
            rules: vec![
                RuleConfig { category: Some("public_order".into()), count: Some(3), within_minutes: Some(120), ..rule("public-order-cluster", "同一网格治安事件聚集", "cluster", "orange", "town") },
                RuleConfig { category: Some("dispute".into()), count: Some(3), within_minutes: Some(240), ..rule("dispute-cluster", "同一网格矛盾纠纷集中", "cluster", "yellow", "village") },
                RuleConfig { measure: Some("overdue".into()), at: Some("district".into()), above: Some(40.0), ..rule("district-overdue", "区县超期未办结事件过多", "threshold", "orange", "district") },
                RuleConfig { at: Some("town".into()), days: Some(1), compare: Some("week".into()), rise_percent: Some(100.0), at_least: Some(30), ..rule("town-surge", "乡镇街道今日事件量较上周同期倍增", "rise", "yellow", "town") },
                rule("feed-silent", "数据源超时未更新", "feed_silent", "blue", "city"),
            ],
        }
    }
}

/// One rule as written; `Rule::check` turns it into what runs.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleConfig {
    pub name: String,
    pub title: String,
    /// threshold | rise | cluster | feed_silent
    pub kind: String,
    pub level: String,
    /// village | town | district | city
    pub route: String,
    /// threshold: reported | closed | on_time_rate (over `days`) | open | overdue (now).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub measure: Option<String>,
    /// threshold, rise: the level of the regions watched (district, town, village; the city).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<String>,
    /// threshold, rise: the period, the last N days with today so far (default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub days: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub above: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub below: Option<f64>,
    /// rise: against the same part of the period a week (`week`) or 52 weeks (`year`) before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compare: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rise_percent: Option<f64>,
    /// rise: fewer cases than this never warn (a rise from 1 to 3 is noise).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_least: Option<u32>,
    /// cluster: the category (every category on its own when absent), how many, within how long.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub within_minutes: Option<u32>,
    /// feed_silent: the feed (every feed when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub feed: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Measure {
    Reported,
    Closed,
    OnTimeRate,
    Open,
    Overdue,
}

impl Measure {
    pub fn as_str(self) -> &'static str {
        match self {
            Measure::Reported => "reported",
            Measure::Closed => "closed",
            Measure::OnTimeRate => "on_time_rate",
            Measure::Open => "open",
            Measure::Overdue => "overdue",
        }
    }

    fn parse(s: &str) -> Option<Measure> {
        [Measure::Reported, Measure::Closed, Measure::OnTimeRate, Measure::Open, Measure::Overdue].into_iter().find(|m| m.as_str() == s)
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum Test {
    Threshold { measure: Measure, at: Level, days: u32, above: Option<f64>, below: Option<f64> },
    Rise { at: Level, days: u32, shift_days: i64, percent: f64, at_least: u32 },
    Cluster { category: Option<Category>, count: u32, minutes: u32 },
    FeedSilent { feed: Option<String> },
}

#[derive(Clone, Debug, PartialEq)]
pub struct Rule {
    pub name: String,
    pub title: String,
    pub level: WarningLevel,
    /// The level of the centre that must acknowledge (a grid's is its village's).
    pub route: Level,
    pub test: Test,
}

impl Rule {
    pub fn kind(&self) -> WarningKind {
        match self.test {
            Test::Threshold { .. } => WarningKind::Threshold,
            Test::Rise { .. } => WarningKind::Rise,
            Test::Cluster { .. } => WarningKind::Cluster,
            Test::FeedSilent { .. } => WarningKind::FeedSilent,
        }
    }

    /// The rule `c` asks for, or what is wrong with it (prefixed with where it is).
    pub fn check(c: &RuleConfig) -> Result<Rule, String> {
        let at = format!("warnings.rules[{}]", if c.name.is_empty() { "?" } else { &c.name });
        let err = |m: String| format!("{at}: {m}");
        if c.name.is_empty() || c.name.len() > 64 || !c.name.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '-' || ch == '_') {
            return Err(err("name is 1 to 64 letters, digits, - or _".into()));
        }
        if c.title.trim().is_empty() || c.title.chars().count() > 60 {
            return Err(err("title is 1 to 60 characters".into()));
        }
        let kind = WarningKind::parse(&c.kind).ok_or_else(|| err(format!("kind {:?} is threshold, rise, cluster or feed_silent", c.kind)))?;
        let level = WarningLevel::parse(&c.level).ok_or_else(|| err(format!("level {:?} is blue, yellow, orange or red", c.level)))?;
        let route = match Level::parse(&c.route) {
            Some(l) if l != Level::Grid => l,
            _ => return Err(err(format!("route {:?} is village, town, district or city (the centre that must acknowledge)", c.route))),
        };
        let present: Vec<&str> = [
            ("measure", c.measure.is_some()),
            ("at", c.at.is_some()),
            ("days", c.days.is_some()),
            ("above", c.above.is_some()),
            ("below", c.below.is_some()),
            ("compare", c.compare.is_some()),
            ("rise_percent", c.rise_percent.is_some()),
            ("at_least", c.at_least.is_some()),
            ("category", c.category.is_some()),
            ("count", c.count.is_some()),
            ("within_minutes", c.within_minutes.is_some()),
            ("feed", c.feed.is_some()),
        ]
        .into_iter()
        .filter(|(_, p)| *p)
        .map(|(k, _)| k)
        .collect();
        let allowed: &[&str] = match kind {
            WarningKind::Threshold => &["measure", "at", "days", "above", "below"],
            WarningKind::Rise => &["at", "days", "compare", "rise_percent", "at_least"],
            WarningKind::Cluster => &["category", "count", "within_minutes"],
            WarningKind::FeedSilent => &["feed"],
        };
        if let Some(k) = present.iter().find(|k| !allowed.contains(k)) {
            return Err(err(format!("{k} is not a key of a {} rule (its keys: {})", kind.as_str(), allowed.join(", "))));
        }
        let level_at = |s: &Option<String>| -> Result<Level, String> {
            match s.as_deref().map(Level::parse) {
                Some(Some(l)) if l != Level::Grid => Ok(l),
                Some(Some(_)) => Err(err("at = \"grid\" is not watched by threshold or rise rules: a cluster rule watches grids".into())),
                _ => Err(err("at is city, district, town or village".into())),
            }
        };
        let days = |d: Option<u32>| match d.unwrap_or(1) {
            d @ 1..=366 => Ok(d),
            d => Err(err(format!("days is 1 to 366, not {d}"))),
        };
        let finite = |x: Option<f64>, name: &str| match x {
            Some(v) if !v.is_finite() || v < 0.0 => Err(err(format!("{name} is a number not below 0"))),
            _ => Ok(x),
        };
        let test = match kind {
            WarningKind::Threshold => {
                let measure = c.measure.as_deref().and_then(Measure::parse).ok_or_else(|| err("measure is reported, closed, on_time_rate, open or overdue".into()))?;
                let (above, below) = (finite(c.above, "above")?, finite(c.below, "below")?);
                if above.is_none() && below.is_none() {
                    return Err(err("give above, below or both".into()));
                }
                if measure == Measure::OnTimeRate && [above, below].iter().flatten().any(|v| *v > 100.0) {
                    return Err(err("on_time_rate is in percent, 0 to 100".into()));
                }
                Test::Threshold { measure, at: level_at(&c.at)?, days: days(c.days)?, above, below }
            }
            WarningKind::Rise => {
                let shift_days = match c.compare.as_deref() {
                    Some("week") => 7,
                    // The same weekday 52 weeks before: a Monday is compared with a Monday.
                    Some("year") => 364,
                    _ => return Err(err("compare is week or year".into())),
                };
                let percent = finite(c.rise_percent, "rise_percent")?.ok_or_else(|| err("rise_percent is required".into()))?;
                Test::Rise { at: level_at(&c.at)?, days: days(c.days)?, shift_days, percent, at_least: c.at_least.unwrap_or(10).max(1) }
            }
            WarningKind::Cluster => {
                let category = match c.category.as_deref() {
                    None => None,
                    Some(s) => Some(Category::parse(s).ok_or_else(|| err(format!("category {s:?} is dispute, hazard, public_order, environment or livelihood")))?),
                };
                let count = c.count.filter(|n| (2..=1000).contains(n)).ok_or_else(|| err("count is 2 to 1000".into()))?;
                let minutes = c.within_minutes.filter(|m| (1..=7 * 24 * 60).contains(m)).ok_or_else(|| err("within_minutes is 1 to 10080".into()))?;
                Test::Cluster { category, count, minutes }
            }
            WarningKind::FeedSilent => Test::FeedSilent { feed: c.feed.clone() },
        };
        Ok(Rule { name: c.name.clone(), title: c.title.trim().to_string(), level, route, test })
    }
}

/// Every rule checked, names unique; the config's other values in range.
pub fn check_all(c: &WarningsConfig) -> Result<Vec<Rule>, String> {
    if !(1..=3600).contains(&c.evaluate_seconds) {
        return Err(format!("warnings.evaluate_seconds is 1 to 3600, not {}", c.evaluate_seconds));
    }
    if !(1..=7 * 24 * 60).contains(&c.ack_minutes) {
        return Err(format!("warnings.ack_minutes is 1 to 10080, not {}", c.ack_minutes));
    }
    let rules = c.rules.iter().map(Rule::check).collect::<Result<Vec<_>, _>>()?;
    for (i, r) in rules.iter().enumerate() {
        if rules[..i].iter().any(|o| o.name == r.name) {
            return Err(format!("warnings.rules: two rules named {:?}", r.name));
        }
    }
    Ok(rules)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(toml_text: &str) -> Result<Vec<Rule>, String> {
        let c: WarningsConfig = toml::from_str(toml_text).map_err(|e| e.to_string())?;
        check_all(&c)
    }

    #[test]
    fn the_default_rules_are_valid_and_one_of_each_kind() {
        let rules = check_all(&WarningsConfig::default()).unwrap();
        for k in WarningKind::ALL {
            assert!(rules.iter().any(|r| r.kind() == k), "{k:?}");
        }
    }

    #[test]
    fn a_rule_is_read_with_its_kinds_keys() {
        let rules = parse(
            r#"
            [[rules]]
            name = "fights"
            title = "斗殴聚集"
            kind = "cluster"
            level = "red"
            route = "town"
            category = "public_order"
            count = 4
            within_minutes = 90
            "#,
        )
        .unwrap();
        assert_eq!(rules[0].test, Test::Cluster { category: Some(Category::PublicOrder), count: 4, minutes: 90 });
        assert_eq!((rules[0].level, rules[0].route), (WarningLevel::Red, Level::Town));
    }

    #[test]
    fn a_wrong_rule_says_which_and_what() {
        let base = "name = \"r\"\ntitle = \"t\"\nlevel = \"red\"\nroute = \"town\"\n";
        let cases = [
            ("kind = \"cluster\"\ncount = 3\nwithin_minutes = 60\nabove = 3", "above is not a key of a cluster rule"),
            ("kind = \"cluster\"\ncount = 1\nwithin_minutes = 60", "count is 2 to 1000"),
            ("kind = \"threshold\"\nmeasure = \"reported\"\nat = \"town\"", "give above, below or both"),
            ("kind = \"threshold\"\nmeasure = \"reported\"\nat = \"grid\"\nabove = 3", "a cluster rule watches grids"),
            ("kind = \"threshold\"\nmeasure = \"on_time_rate\"\nat = \"town\"\nbelow = 180", "in percent"),
            ("kind = \"rise\"\nat = \"town\"\ncompare = \"month\"\nrise_percent = 50", "compare is week or year"),
            ("kind = \"surge\"", "kind \"surge\""),
            ("kind = \"feed_silent\"\nunknown = 1", "unknown field"),
        ];
        for (body, want) in cases {
            let e = parse(&format!("[[rules]]\n{base}{body}\n")).unwrap_err();
            assert!(e.contains(want), "{body}: {e}");
            assert!(e.contains("rules[r]") || want == "unknown field", "{e}");
        }
        let twice = format!("[[rules]]\n{base}kind = \"feed_silent\"\n[[rules]]\n{base}kind = \"feed_silent\"\n");
        assert!(parse(&twice).unwrap_err().contains("two rules named"));
        assert!(parse("ack_minutes = 0").unwrap_err().contains("ack_minutes"));
        assert!(parse("rules = []").unwrap().is_empty(), "a city may have no rules");
    }
}

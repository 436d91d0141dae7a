//! The rules run over the indicator engine: thresholds and rises over the flow figures the engine keeps
//! per region and day, clusters over its recent cases, silence over the feeds' health. Pure: the same
//! engine, rules and time give the same findings, which the store then raises once each.
use super::rule::{Measure, Rule, Test};
use crate::city::RegionTree;
use app::model::{Level, Period, DAY_MS};
use app::warning::WarningFacts;
use engine::Engine;

/// What one rule found in one region.
#[derive(Clone, Debug, PartialEq)]
pub struct Found {
    /// Index of the rule in the list evaluated.
    pub rule: usize,
    pub region: usize,
    /// What in the region (a category, a feed); empty for the region itself.
    pub subject: String,
    pub facts: WarningFacts,
    /// Raised again only once no warning of the same rule, region and subject is open or was raised
    /// since this instant: one a day for a threshold or rise, one per window for a cluster.
    pub quiet_since: i64,
}

/// A feed found silent past its cadence, for feed rules.
pub const SILENT_QUIET_MS: i64 = 3_600_000;

/// Every finding of `rules` at the engine's horizon; `silent` are the feeds past their cadence now.
pub fn evaluate(engine: &Engine, rules: &[Rule], silent: &[String], now: i64) -> Vec<Found> {
    let tree = engine.tree();
    let h = engine.now();
    let midnight = Period::LastDays(1).window(h).0;
    let mut out = Vec::new();
    for (k, rule) in rules.iter().enumerate() {
        match &rule.test {
            Test::Threshold { measure, at, days, above, below } => {
                let (f, t) = Period::LastDays(*days).window(h);
                for idx in at_level(tree, *at) {
                    let value = match measure {
                        Measure::Open => Some(f64::from(engine.node(idx).open)),
                        Measure::Overdue => Some(f64::from(engine.node(idx).overdue)),
                        Measure::Reported => Some(f64::from(engine.total_between(idx, f, t).reported)),
                        Measure::Closed => Some(f64::from(engine.total_between(idx, f, t).closed)),
                        Measure::OnTimeRate => engine.total_between(idx, f, t).on_time_rate().map(|r| r * 100.0),
                    };
                    let Some(value) = value else { continue };
                    let limit = match (above, below) {
                        (Some(a), _) if value > *a => *a,
                        (_, Some(b)) if value < *b => *b,
                        _ => continue,
                    };
                    let facts = WarningFacts { value, limit, measure: Some(measure.as_str().into()), ..Default::default() };
                    out.push(Found { rule: k, region: idx, subject: String::new(), facts, quiet_since: midnight });
                }
            }
            Test::Rise { at, days, shift_days, percent, at_least } => {
                let (f, t) = Period::LastDays(*days).window(h);
                let shift = shift_days * DAY_MS;
                // No history that far back: no comparison rather than a rise from nothing.
                if engine.first_report().is_none_or(|first| first > f - shift) {
                    continue;
                }
                for idx in at_level(tree, *at) {
                    let current = engine.total_between(idx, f, t).reported;
                    if current < *at_least {
                        continue;
                    }
                    let before = engine.total_between(idx, f - shift, t - shift).reported;
                    if f64::from(current) < f64::from(before) * (1.0 + percent / 100.0) {
                        continue;
                    }
                    let compare = if *shift_days == 7 { "week" } else { "year" };
                    let facts = WarningFacts { value: f64::from(current), limit: *percent, before: Some(f64::from(before)), compare: Some(compare.into()), measure: Some("reported".into()), ..Default::default() };
                    out.push(Found { rule: k, region: idx, subject: String::new(), facts, quiet_since: midnight });
                }
            }
            Test::Cluster { category, count, minutes } => {
                let window = i64::from(*minutes) * 60_000;
                for c in engine.clusters(tree.root(), h, window, *count, *category) {
                    let facts = WarningFacts { value: f64::from(c.count), limit: f64::from(*count), category: Some(c.category), minutes: Some(*minutes), ..Default::default() };
                    out.push(Found { rule: k, region: c.grid, subject: c.category.as_str().into(), facts, quiet_since: h - window });
                }
            }
            Test::FeedSilent { feed } => {
                for name in silent.iter().filter(|n| feed.as_ref().is_none_or(|f| f == *n)) {
                    let facts = WarningFacts { feed: Some(name.clone()), ..Default::default() };
                    out.push(Found { rule: k, region: tree.root(), subject: name.clone(), facts, quiet_since: now - SILENT_QUIET_MS });
                }
            }
        }
    }
    out
}

fn at_level(tree: &RegionTree, level: Level) -> impl Iterator<Item = usize> + '_ {
    tree.iter().filter(move |(_, r)| r.row.level == level).map(|(i, _)| i)
}

/// The centre of `level` that answers for `region`: the region's own centre when it is at that level
/// or above (a district's threshold routed to towns is the district's), else its ancestor at that
/// level. Grids have no centre: theirs is their village's.
pub fn centre_of(tree: &RegionTree, region: usize, level: Level) -> usize {
    let region = if tree.get(region).row.level == Level::Grid { tree.get(region).parent.unwrap_or(region) } else { region };
    if tree.get(region).row.level <= level {
        return region;
    }
    tree.ancestors(region).find(|&a| tree.get(a).row.level == level).unwrap_or(region)
}

/// The centre one level above `centre` (village → town → district → city), None at the top.
pub fn centre_above(tree: &RegionTree, centre: usize) -> Option<usize> {
    let up = app::flow::escalated(tree.get(centre).row.level).ok()?;
    tree.ancestors(centre).find(|&a| tree.get(a).row.level == up)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::warning::rule::{check_all, WarningsConfig};

    fn shaoxing() -> std::sync::Arc<RegionTree> {
        std::sync::Arc::new(RegionTree::new(crate::city::shaoxing::build()).unwrap())
    }

    #[test]
    fn a_grid_is_answered_for_by_its_village_then_town_district_and_city() {
        let tree = shaoxing();
        let grid = tree.iter().find(|(_, r)| r.row.level == Level::Grid).map(|(i, _)| i).unwrap();
        let mut chain = vec![centre_of(&tree, grid, Level::Village)];
        while let Some(up) = centre_above(&tree, *chain.last().unwrap()) {
            chain.push(up);
        }
        let levels: Vec<Level> = chain.iter().map(|&c| tree.get(c).row.level).collect();
        assert_eq!(levels, [Level::Village, Level::Town, Level::District, Level::City]);
        for (&c, next) in chain.iter().zip(&chain[1..]) {
            assert_eq!(tree.get(c).parent, Some(*next), "each centre's next is its parent");
        }
        assert_eq!(centre_of(&tree, grid, Level::Town), chain[1]);
        assert_eq!(centre_of(&tree, chain[2], Level::Town), chain[2], "a district's warning stays with the district");
        assert_eq!(centre_of(&tree, grid, Level::City), tree.root());
    }

    #[test]
    fn the_default_rules_find_a_cluster_and_a_silent_feed_and_nothing_on_a_quiet_city() {
        use engine::case::{CaseEvent, CaseFacts};
        let tree = shaoxing();
        let rules = check_all(&WarningsConfig::default()).unwrap();
        let grid = tree.iter().find(|(_, r)| r.row.level == Level::Grid).map(|(_, r)| r.row.code.clone()).unwrap();
        let t0 = app::model::parse_day("2027-02-06").unwrap() + 23 * 3_600_000;
        let report = |id: &str, cat: app::model::Category, at: i64| {
            let facts = CaseFacts { category: cat, source: app::model::Source::Hotline12345, grid: grid.clone(), reported_at: at, priority: app::flow::Priority::Normal, warn_at: at + DAY_MS, deadline: at + 2 * DAY_MS, details: Default::default() };
            CaseEvent { facts: Some(facts), ..CaseEvent::change("t", id, 0, app::flow::Action::Report, app::model::Status::Reported, at) }
        };
        let quiet = Engine::rebuild(tree.clone(), vec![report("q", app::model::Category::PublicOrder, t0)], t0 + 60_000);
        assert_eq!(evaluate(&quiet, &rules, &[], t0 + 60_000), []);
        // Three public-order reports in 70 minutes across midnight: one cluster, routed later to the town.
        let events = (0..3).map(|k| report(&format!("c{k}"), app::model::Category::PublicOrder, t0 + 35 * 60_000 * k)).collect::<Vec<_>>();
        let e = Engine::rebuild(tree.clone(), events, t0 + 71 * 60_000);
        let found = evaluate(&e, &rules, &["court".to_string()], t0 + 71 * 60_000);
        let names: Vec<&str> = found.iter().map(|f| rules[f.rule].name.as_str()).collect();
        assert_eq!(names, ["public-order-cluster", "feed-silent"]);
        assert_eq!((found[0].region, found[0].subject.as_str(), found[0].facts.value), (tree.find(&grid).unwrap(), "public_order", 3.0));
        assert_eq!(found[0].quiet_since, e.now() - 120 * 60_000);
        assert_eq!((found[1].region, found[1].facts.feed.as_deref()), (tree.root(), Some("court")));
    }
}

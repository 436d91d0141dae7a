//! 诉调对接 figures: the disputes courts referred to mediation and how their mediation went, for any
//! region and period. Referrals are a small share of the cases (a city's courts refer tens of thousands a
//! year against a million cases), so they are scanned exactly from their own list rather than kept in
//! cells; every instant comes from `instant.rs`, as for every other figure.
use crate::engine::Engine;
use crate::instant::{instants, Instant, Kind};
use app::flow::Tier;
use app::model::{CourtFigures, CourtReport, TierRow};

#[derive(Default, Clone, Copy)]
struct Acc {
    referred: u32,
    tiers: [(u32, u32); 6],
}

impl Acc {
    fn figures(&self) -> CourtFigures {
        let peoples = Tier::ALL.iter().filter(|t| t.is_peoples());
        CourtFigures {
            referred: self.referred,
            mediated: peoples.clone().map(|&t| self.tiers[t as usize].0).sum(),
            settled: peoples.map(|&t| self.tiers[t as usize].1).sum(),
            confirmed: self.tiers[Tier::Judicial as usize].1,
            tiers: Tier::ALL
                .iter()
                .map(|&tier| TierRow { tier, attempts: self.tiers[tier as usize].0, settled: self.tiers[tier as usize].1 })
                .filter(|r| r.attempts > 0)
                .collect(),
        }
    }

    fn add(&mut self, i: &Instant) {
        match i.kind {
            Kind::Reported => self.referred += 1,
            Kind::Mediation { tier, settled } => {
                let t = &mut self.tiers[tier as usize];
                t.0 += 1;
                t.1 += u32::from(settled);
            }
            _ => {}
        }
    }
}

impl Engine {
    /// The court figures of `region` over `now` (with the period before and the year-ago one where
    /// `covered` says the history reaches), or None when no court has referred anything there.
    pub(crate) fn court_report(&self, region: usize, now: (i64, i64), before: (i64, i64), year: (i64, i64), covered: &dyn Fn(i64) -> bool) -> Option<CourtReport> {
        let tree = &*self.tree;
        let children = &tree.get(region).children;
        let (mut main, mut prev, mut ago) = (Acc::default(), Acc::default(), Acc::default());
        let mut by_child = vec![Acc::default(); children.len()];
        let horizon = self.swept_to;
        let mut buf = Vec::new();
        let span = tree.subtree(region);
        let (lo, hi) = (self.referred.partition_point(|&(p, _)| p < span.start), self.referred.partition_point(|&(p, _)| p < span.end));
        let any = lo < hi;
        let mut child = None;
        let mut last_grid = u32::MAX;
        for &(_, n) in &self.referred[lo..hi] {
            let c = self.cases.get(n);
            // In grid order: the child is looked up once per grid.
            if c.grid != last_grid {
                last_grid = c.grid;
                child = children.iter().position(|&ch| tree.is_within(c.grid as usize, ch));
            }
            buf.clear();
            instants(c, horizon, &mut buf);
            for i in &buf {
                let within = |(f, t): (i64, i64)| f <= i.at && i.at < t;
                if within(now) {
                    main.add(i);
                    if let Some(k) = child {
                        by_child[k].add(i);
                    }
                }
                if within(before) {
                    prev.add(i);
                }
                if within(year) {
                    ago.add(i);
                }
            }
        }
        any.then(|| CourtReport {
            figures: main.figures(),
            previous: covered(before.0).then(|| prev.figures()),
            year_ago: covered(year.0).then(|| ago.figures()),
            by_region: children
                .iter()
                .zip(&by_child)
                .filter(|(_, a)| a.referred > 0 || a.tiers.iter().any(|t| t.0 > 0))
                .map(|(&ch, a)| (tree.get(ch).row.code.clone(), tree.get(ch).row.name.clone(), a.figures()))
                .collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::case::{CaseEvent, CaseFacts, Note};
    use crate::Engine;
    use app::flow::{Action, Mediation, Outcome, Priority, Tier};
    use app::model::{Category, Period, Source, Status, DAY_MS};

    use crate::hand::{tree, P};

    const H: i64 = 3_600_000;
    const D: i64 = DAY_MS;

    fn referral(feed: &str, id: &str, grid: &str, source: Source, at: i64, attempts: &[(Tier, Outcome, i64)]) -> Vec<CaseEvent> {
        let facts = CaseFacts { category: Category::Dispute, source, grid: grid.into(), reported_at: at, priority: Priority::Normal, warn_at: at + 10 * D, deadline: at + 20 * D, details: Default::default() };
        let mut v = vec![
            CaseEvent { facts: Some(facts), ..CaseEvent::change(feed, id, 0, Action::Report, Status::Reported, at) },
            CaseEvent::change(feed, id, 2, Action::Start, Status::Handling, at + 1),
        ];
        for &(tier, outcome, t) in attempts {
            // The centre records a referral's attempts at the desk; the feed's own disputes come mediated.
            v.push(if source == Source::Court {
                CaseEvent { mediation: Some(Mediation { tier, outcome }), ..CaseEvent::oversight(feed, id, Action::Mediate, Status::Handling, t, Note { actor: "x".into(), text: String::new() }) }
            } else {
                CaseEvent::mediation(feed, id, 3, Mediation { tier, outcome }, t)
            });
        }
        v
    }

    #[test]
    fn referrals_and_their_mediation_are_counted_by_period_region_and_tier() {
        use Outcome::*;
        let events = [
            // R1: referred in the week in district 11; village fails, town settles, a court confirms.
            referral("court", "R1", "11111", Source::Court, P + H, &[(Tier::Village, Failed, P + D), (Tier::Town, Settled, P + 2 * D), (Tier::Judicial, Settled, P + 3 * D)]),
            // R2: referred in the week in district 12, not mediated yet.
            referral("court", "R2", "12111", Source::Court, P + 2 * H, &[]),
            // R3: referred the week before; its village settlement falls in the week.
            referral("court", "R3", "12111", Source::Court, P - 7 * D + H, &[(Tier::Village, Settled, P + H)]),
            // A dispute from another system: mediation per tier counts it, the court figures do not.
            referral("t", "X", "11111", Source::Petition, P + H, &[(Tier::Village, Settled, P + 2 * H)]),
        ]
        .concat();
        let e = Engine::rebuild(tree(), events, P + 30 * D);
        let r = e.flow_report(0, Period::Dates { from: P, to: P + 7 * D });
        let c = r.court.expect("courts referred disputes here");
        assert_eq!((c.figures.referred, c.figures.mediated, c.figures.settled, c.figures.confirmed), (2, 3, 2, 1));
        let tiers: Vec<(Tier, u32, u32)> = c.figures.tiers.iter().map(|t| (t.tier, t.attempts, t.settled)).collect();
        assert_eq!(tiers, [(Tier::Village, 2, 1), (Tier::Town, 1, 1), (Tier::Judicial, 1, 1)]);
        let village = r.mediation.iter().find(|t| t.tier == Tier::Village).unwrap();
        assert_eq!(village.attempts, 3, "mediation per tier counts every dispute");
        // The week before: R3's referral; a year before: not covered by the history.
        assert_eq!(c.previous.as_ref().map(|p| (p.referred, p.mediated)), Some((1, 0)));
        assert_eq!(c.year_ago, None);
        let rows: Vec<(&str, u32, u32)> = c.by_region.iter().map(|(code, _, f)| (code.as_str(), f.referred, f.settled)).collect();
        assert_eq!(rows, [("11", 1, 1), ("12", 1, 1)]);
        // A district's own report holds its referrals only; a region without any has no court figures.
        let d12 = e.flow_report(e.tree().find("12").unwrap(), Period::Dates { from: P, to: P + 7 * D }).court.unwrap();
        assert_eq!((d12.figures.referred, d12.figures.settled), (1, 1));
        let scan = e.flow_report_by_scan(0, Period::Dates { from: P, to: P + 7 * D });
        assert_eq!(scan.court, Some(c), "the same whichever way the rest is read");
    }

    #[test]
    fn no_referrals_no_court_figures() {
        let e = Engine::rebuild(tree(), referral("t", "X", "11111", Source::Petition, P + H, &[]), P + 30 * D);
        assert_eq!(e.flow_report(0, Period::Dates { from: P, to: P + 7 * D }).court, None);
        let r = e.public_record(Period::Dates { from: P, to: P + 7 * D });
        assert_eq!((r.court, r.court_by_district), (None, vec![]));
    }

    #[test]
    fn the_public_record_withholds_district_court_figures_with_their_complements() {
        use app::model::Cell;
        // Referrals: 7 in district 11 (3 settled by the village), 2 in district 12, none confirmed.
        let mut events = Vec::new();
        for k in 0..9 {
            let (grid, attempts) = if k < 7 { ("11111", if k < 3 { vec![(Tier::Village, Outcome::Settled, P + D + k)] } else { vec![] }) } else { ("12111", vec![]) };
            events.extend(referral("court", &format!("R{k}"), grid, Source::Court, P + H + k, &attempts));
        }
        let e = Engine::rebuild(tree(), events, P + 30 * D);
        let r = e.public_record(Period::Dates { from: P, to: P + 7 * D });
        assert_eq!(r.court, Some([Cell::Count(9), Cell::Suppressed, Cell::Suppressed, Cell::Count(0)]));
        // 2 referred in district 12 is withheld, and so is district 11's 7, which would give it away;
        // the three settlements are all district 11's: withheld there (small), and the city's with them.
        let rows: Vec<(&str, [Cell; 4])> = r.court_by_district.iter().map(|(code, _, c)| (code.as_str(), *c)).collect();
        assert_eq!(rows, [("11", [Cell::Suppressed, Cell::Suppressed, Cell::Suppressed, Cell::Count(0)]), ("12", [Cell::Suppressed, Cell::Count(0), Cell::Count(0), Cell::Count(0)])]);
    }
}

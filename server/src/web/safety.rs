//! The wall's safety scene from the indicator engine: each figure over the last 30 days against the 30
//! before (环比) and the same 30 a year earlier (同比), with its source feeds, as-of time and staleness.
use engine::safety::Measure;
use engine::Engine;
use app::model::{local_day, Indicator, SafetyArea, SafetyFigure, SafetyKey, SafetyView, Source};

pub const DAYS: u32 = 30;

fn measure(k: SafetyKey) -> Option<Measure> {
    Some(match k {
        SafetyKey::VideoOnline => Measure::Observed(Indicator::VideoOnline),
        SafetyKey::Alarms => Measure::Observed(Indicator::Alarm),
        SafetyKey::Petitions | SafetyKey::PetitionBacklog => Measure::Petitions,
        SafetyKey::CriminalFiled => Measure::Observed(Indicator::CriminalFiled),
        SafetyKey::CriminalSolved => Measure::Observed(Indicator::CriminalSolved),
        SafetyKey::SafetySurvey => Measure::Observed(Indicator::SafetySurvey),
        SafetyKey::PsychServed => Measure::Observed(Indicator::PsychServed),
        SafetyKey::HazardsFound => Measure::Observed(Indicator::HazardsFound),
        SafetyKey::HazardsFixed => Measure::Observed(Indicator::HazardsFixed),
        SafetyKey::MajorIncidents => Measure::Observed(Indicator::MajorIncidents),
        SafetyKey::BacklogResolution => Measure::Observed(Indicator::BacklogResolution),
        SafetyKey::LawSatisfaction => Measure::Observed(Indicator::LawSatisfaction),
    })
}

pub fn view(a: &Engine, idx: usize, stale_feeds: &[String], now: i64) -> SafetyView {
    let tree = a.tree();
    let today = local_day(now);
    let s = &a.safety;
    let figures = SafetyKey::ALL
        .into_iter()
        .map(|key| {
            let m = measure(key).expect("every key has a measure");
            let (sources, as_of) = match s.sources(m) {
                Some((feeds, at)) => (feeds.iter().cloned().collect::<Vec<_>>(), Some(*at)),
                None => (Vec::new(), None),
            };
            let stale = sources.iter().any(|f| stale_feeds.contains(f));
            let t = s.trend(idx, m, today, i64::from(DAYS));
            let (value, previous, year_ago) = match key {
                // Now, from each channel's newest state; the trend compares reported uptime.
                SafetyKey::VideoOnline => {
                    let (on, all) = s.channels(tree, idx);
                    ((all > 0).then(|| f64::from(on) / f64::from(all)), t.previous, t.year_ago)
                }
                // A backlog is a state now: it has no window to compare.
                SafetyKey::PetitionBacklog => (Some(f64::from(a.open_of_source(idx, Source::Petition))), None, None),
                _ => (t.value, t.previous, t.year_ago),
            };
            SafetyFigure { key, value, previous, year_ago, sources, as_of, stale }
        })
        .collect();
    let areas = tree
        .get(idx)
        .children
        .iter()
        .map(|&c| {
            let (online, channels) = s.channels(tree, c);
            let alarms = s.trend(c, Measure::Observed(Indicator::Alarm), today, i64::from(DAYS)).value.unwrap_or(0.0) as u32;
            let r = &tree.get(c).row;
            SafetyArea { code: r.code.clone(), name: r.name.clone(), online, channels, alarms }
        })
        .collect();
    SafetyView { region: tree.refer(idx), days: DAYS, figures, areas, as_of: now }
}

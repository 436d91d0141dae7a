//! Types shared by the browser and the server: the region tree, the viewer's scope, cases and the
//! snapshots that dashboards read. Everything here crosses the wire as JSON.
use serde::{Deserialize, Serialize};

/// A level of the administrative tree: 市 → 区县 → 乡镇街道 → 村社区 → 网格.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Level {
    City,
    District,
    Town,
    Village,
    Grid,
}

impl Level {
    pub const ALL: [Level; 5] = [Level::City, Level::District, Level::Town, Level::Village, Level::Grid];

    pub fn child(self) -> Option<Level> {
        match self {
            Level::City => Some(Level::District),
            Level::District => Some(Level::Town),
            Level::Town => Some(Level::Village),
            Level::Village => Some(Level::Grid),
            Level::Grid => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Level::City => "city",
            Level::District => "district",
            Level::Town => "town",
            Level::Village => "village",
            Level::Grid => "grid",
        }
    }

    pub fn parse(s: &str) -> Option<Level> {
        Level::ALL.into_iter().find(|l| l.as_str() == s)
    }
}

/// A pointer to one node of the region tree (区域), enough to label and link it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegionRef {
    pub code: String,
    pub name: String,
    pub level: Level,
}

/// The part of the region tree a viewer may see: the subtree rooted at `root` (a region code).
/// Decided on the server only; the browser never sends its own scope.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scope {
    pub root: String,
}

/// Case lifecycle (事件流转); the transitions between statuses are in `flow`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Status {
    Reported,
    Accepted,
    Dispatched,
    Handling,
    Resolved,
    Verified,
    Closed,
}

impl Status {
    pub const ALL: [Status; 7] = [
        Status::Reported,
        Status::Accepted,
        Status::Dispatched,
        Status::Handling,
        Status::Resolved,
        Status::Verified,
        Status::Closed,
    ];

    pub fn index(self) -> usize {
        self as usize
    }

    pub fn next(self) -> Option<Status> {
        Status::ALL.get(self.index() + 1).copied()
    }

    pub fn is_open(self) -> bool {
        self != Status::Closed
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Reported => "reported",
            Status::Accepted => "accepted",
            Status::Dispatched => "dispatched",
            Status::Handling => "handling",
            Status::Resolved => "resolved",
            Status::Verified => "verified",
            Status::Closed => "closed",
        }
    }

    pub fn parse(s: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

/// What a case is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Category {
    Dispute,
    Hazard,
    PublicOrder,
    Environment,
    Livelihood,
}

impl Category {
    pub const ALL: [Category; 5] =
        [Category::Dispute, Category::Hazard, Category::PublicOrder, Category::Environment, Category::Livelihood];

    pub fn index(self) -> usize {
        self as usize
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Category::Dispute => "dispute",
            Category::Hazard => "hazard",
            Category::PublicOrder => "public_order",
            Category::Environment => "environment",
            Category::Livelihood => "livelihood",
        }
    }

    pub fn parse(s: &str) -> Option<Category> {
        Category::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

/// The system a case came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Source {
    GridPatrol,
    Hotline12345,
    Petition,
    Police,
    VideoAlert,
    /// A court's platform referring a dispute to mediation before litigation (诉前委派调解, 诉调对接).
    Court,
}

impl Source {
    pub const ALL: [Source; 6] =
        [Source::GridPatrol, Source::Hotline12345, Source::Petition, Source::Police, Source::VideoAlert, Source::Court];

    pub fn as_str(self) -> &'static str {
        match self {
            Source::GridPatrol => "grid_patrol",
            Source::Hotline12345 => "hotline_12345",
            Source::Petition => "petition",
            Source::Police => "police",
            Source::VideoAlert => "video_alert",
            Source::Court => "court",
        }
    }

    pub fn parse(s: &str) -> Option<Source> {
        Source::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

/// What an observation measures: the safety indicators that feeds other than case systems deliver.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Indicator {
    /// A video channel's state: value 1 online, 0 offline; the channel is the record's id.
    VideoOnline,
    /// One sensor or video alarm (value 1).
    Alarm,
    /// Criminal cases filed (立案), a count.
    CriminalFiled,
    /// Criminal cases solved (破案), a count.
    CriminalSolved,
    /// Survey sense of safety (群众安全感), percent.
    SafetySurvey,
    /// People reached by the social psychological service (社会心理服务: station visits, hotline calls,
    /// counselling), a count.
    PsychServed,
    /// Hazards found in inspections (隐患排查), a count.
    HazardsFound,
    /// Hazards put right (隐患整治), a count.
    HazardsFixed,
    /// The "zero" events a city aims to have none of (命案, 重大群体性事件, 重大安全事故, 个人极端案件), a count.
    MajorIncidents,
    /// Long-standing petitions and disputes resolved (积案化解率), percent of those on the list.
    BacklogResolution,
    /// Survey satisfaction with the rule of law (法治建设满意度), percent.
    LawSatisfaction,
}

impl Indicator {
    /// Appended only: an indicator's position is its code in the engine's snapshot.
    pub const ALL: [Indicator; 11] = [
        Indicator::VideoOnline,
        Indicator::Alarm,
        Indicator::CriminalFiled,
        Indicator::CriminalSolved,
        Indicator::SafetySurvey,
        Indicator::PsychServed,
        Indicator::HazardsFound,
        Indicator::HazardsFixed,
        Indicator::MajorIncidents,
        Indicator::BacklogResolution,
        Indicator::LawSatisfaction,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Indicator::VideoOnline => "video_online",
            Indicator::Alarm => "alarm",
            Indicator::CriminalFiled => "criminal_filed",
            Indicator::CriminalSolved => "criminal_solved",
            Indicator::SafetySurvey => "safety_survey",
            Indicator::PsychServed => "psych_served",
            Indicator::HazardsFound => "hazards_found",
            Indicator::HazardsFixed => "hazards_fixed",
            Indicator::MajorIncidents => "major_incidents",
            Indicator::BacklogResolution => "backlog_resolution",
            Indicator::LawSatisfaction => "law_satisfaction",
        }
    }

    /// Averaged over a period (a rate or a survey's percentage); every other indicator is a count, summed.
    pub fn is_rate(self) -> bool {
        matches!(self, Indicator::VideoOnline | Indicator::SafetySurvey | Indicator::BacklogResolution | Indicator::LawSatisfaction)
    }

    pub fn parse(s: &str) -> Option<Indicator> {
        Indicator::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

/// The figures of the wall's safety scene (平安指数).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SafetyKey {
    /// Video channels online now (rate); its trend compares the channels' reported uptime.
    VideoOnline,
    Alarms,
    Petitions,
    /// Petitions still open now.
    PetitionBacklog,
    CriminalFiled,
    CriminalSolved,
    SafetySurvey,
    PsychServed,
    HazardsFound,
    HazardsFixed,
    /// "Zero" events: the aim is none.
    MajorIncidents,
    BacklogResolution,
    LawSatisfaction,
}

impl SafetyKey {
    pub const ALL: [SafetyKey; 13] = [
        SafetyKey::VideoOnline,
        SafetyKey::Alarms,
        SafetyKey::Petitions,
        SafetyKey::PetitionBacklog,
        SafetyKey::CriminalFiled,
        SafetyKey::CriminalSolved,
        SafetyKey::SafetySurvey,
        SafetyKey::PsychServed,
        SafetyKey::HazardsFound,
        SafetyKey::HazardsFixed,
        SafetyKey::MajorIncidents,
        SafetyKey::BacklogResolution,
        SafetyKey::LawSatisfaction,
    ];

    /// Shown as a percentage (value 0..1 for video, 0..100 for surveys and resolution rates) rather
    /// than a count.
    pub fn is_rate(self) -> bool {
        matches!(self, SafetyKey::VideoOnline | SafetyKey::SafetySurvey | SafetyKey::BacklogResolution | SafetyKey::LawSatisfaction)
    }

    /// A percentage on a 0..100 scale (surveys, resolution rates): changes read in points.
    pub fn is_percent_points(self) -> bool {
        matches!(self, SafetyKey::SafetySurvey | SafetyKey::BacklogResolution | SafetyKey::LawSatisfaction)
    }
}

/// One safety figure over the scene's window, with the window before it (环比) and a year earlier (同比),
/// where it came from and how fresh it is.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SafetyFigure {
    pub key: SafetyKey,
    pub value: Option<f64>,
    pub previous: Option<f64>,
    pub year_ago: Option<f64>,
    /// The feeds it is computed from.
    pub sources: Vec<String>,
    /// Time of the newest observation behind it.
    pub as_of: Option<i64>,
    /// A source feed is past its expected cadence: the figure may be out of date.
    pub stale: bool,
}

/// Video channels and alarms of one area below the region on screen.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SafetyArea {
    pub code: String,
    pub name: String,
    pub online: u32,
    pub channels: u32,
    pub alarms: u32,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SafetyView {
    pub region: RegionRef,
    /// Length of the window the figures cover.
    pub days: u32,
    pub figures: Vec<SafetyFigure>,
    pub areas: Vec<SafetyArea>,
    pub as_of: i64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum KpiKey {
    NewToday,
    Open,
    Overdue,
    ClosureRate,
    GridCoverage,
}

/// One KPI tile: the figure now, the figure it is compared with, and a daily series ending today.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Kpi {
    pub key: KpiKey,
    pub value: f64,
    pub previous: Option<f64>,
    pub series: Vec<f64>,
    /// Grid coverage: the share of grids fit (网格达标率).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub also: Option<f64>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlowLink {
    pub from: Status,
    pub to: Status,
    pub count: u32,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TickerItem {
    /// A new report, or what an official or a rule did to a case (supervised, escalated, returned).
    pub action: crate::flow::Action,
    pub case_id: String,
    pub category: Category,
    pub source: Source,
    /// Town and village/community names, no person's data.
    pub place: String,
    pub at: i64,
}

/// Figures of case flow over a period `[from, to)`, evaluated at `to`.
///
/// - `reported`, `closed`: cases reported, closed in the period.
/// - `due`: cases whose deadline fell in the period; each is `on_time` (closed by its deadline),
///   `late_closed` (closed after it, before `to`) or `late_open` (still open at `to`: counted late too).
/// - `open_end`, `overdue_end`: open at `to`, and of those past their deadline.
/// - `supervised`, `escalated`, `returned`: oversight and return events in the period.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlowFigures {
    pub reported: u32,
    pub closed: u32,
    pub due: u32,
    pub on_time: u32,
    pub late_closed: u32,
    pub late_open: u32,
    pub open_end: u32,
    pub overdue_end: u32,
    pub supervised: u32,
    pub escalated: u32,
    pub returned: u32,
}

impl FlowFigures {
    /// Share of the cases due in the period that were closed on time; None when none were due.
    pub fn on_time_rate(&self) -> Option<f64> {
        (self.due > 0).then(|| f64::from(self.on_time) / f64::from(self.due))
    }
}

/// One row of a breakdown: a child region, department, category or source.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlowRow {
    /// Region code, department name (empty: not dispatched yet), or the category/source key.
    pub key: String,
    /// The region's name; the key otherwise.
    pub name: String,
    pub figures: FlowFigures,
}

/// How long cases stay in one status (leaving it within the period), in ms.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StageTime {
    pub status: Status,
    pub count: u32,
    pub median_ms: i64,
    pub p90_ms: i64,
}

/// Open cases at the end of a period by age since report: under 1 day, 1–3, 3–7, 7–14, 14 and more.
pub const BACKLOG_AGE_DAYS: [i64; 4] = [1, 3, 7, 14];

/// The period a flow report covers: the last N days up to now, or whole local days from..=to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Period {
    /// The last N local days, today so far included.
    LastDays(u32),
    /// A calendar year: 0 this one so far, 1 the last one, and so on.
    Year(u32),
    /// Local midnight of the first day, and of the day after the last (Unix ms).
    Dates { from: i64, to: i64 },
}

/// Longest period a report may cover: three years.
pub const MAX_PERIOD_DAYS: i64 = 1096;

impl Period {
    /// From the `days`, `from`/`to` (dates YYYY-MM-DD) or `year` (0 this year, 1 last year) parameters,
    /// or a message saying what is wrong.
    pub fn parse(days: Option<u32>, from: Option<&str>, to: Option<&str>) -> Result<Period, String> {
        Period::parse_with_year(days, from, to, None)
    }

    pub fn parse_with_year(days: Option<u32>, from: Option<&str>, to: Option<&str>, year: Option<u32>) -> Result<Period, String> {
        match (days, from, to, year) {
            (None, None, None, Some(y)) if y <= 2 => Ok(Period::Year(y)),
            (None, None, None, Some(_)) => Err("year is 0 (this year), 1 (last year) or 2".into()),
            (_, _, _, Some(_)) => Err("give year alone".into()),
            (None, Some(f), Some(t), None) => {
                let (Some(f), Some(t)) = (parse_day(f), parse_day(t)) else {
                    return Err("from and to are dates, YYYY-MM-DD".into());
                };
                let to = t + DAY_MS;
                if to <= f || (to - f) / DAY_MS > MAX_PERIOD_DAYS {
                    return Err(format!("from must not be after to, and the period at most {MAX_PERIOD_DAYS} days"));
                }
                Ok(Period::Dates { from: f, to })
            }
            (days, None, None, None) => match days.unwrap_or(7) {
                d @ 1..=1096 => Ok(Period::LastDays(d)),
                _ => Err(format!("days is 1 to {MAX_PERIOD_DAYS}")),
            },
            _ => Err("give either days, or both from and to, or year".into()),
        }
    }

    /// `[from, to)` in Unix ms as seen at `now`: it starts at a local midnight and ends at a local
    /// midnight, or just after `now` when it runs into today (today so far).
    pub fn window(self, now: i64) -> (i64, i64) {
        let end = now + 1;
        match self {
            Period::LastDays(d) => (day_start(local_day(now) - i64::from(d) + 1), end),
            Period::Year(back) => {
                let (y, _, _) = civil_from_days(local_day(now));
                let jan1 = |y: i64| parse_day(&format!("{y:04}-01-01")).expect("the first of January is a date");
                let y = y - i64::from(back);
                (jan1(y), jan1(y + 1).min(end))
            }
            Period::Dates { from, to } => (from, to.min(end)),
        }
    }
}

/// Case-flow analytics of one scope and period (see `FlowFigures` for the definitions).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FlowReport {
    pub region: RegionRef,
    pub from: i64,
    pub to: i64,
    pub figures: FlowFigures,
    /// The period before (环比) and the same period a year earlier (同比); None when the stored history
    /// does not reach back to the first day of that period (no comparison, rather than a rise from zero).
    pub previous: Option<FlowFigures>,
    pub year_ago: Option<FlowFigures>,
    /// Transitions in the period, returns included (to < from).
    pub links: Vec<FlowLink>,
    pub stages: Vec<StageTime>,
    /// How long the cases closed in the period took from report to close (status `Closed`): None when
    /// none closed. Within `quantile_error` like the stages.
    #[serde(default)]
    pub time_to_close: Option<StageTime>,
    /// Counts per age bucket (`BACKLOG_AGE_DAYS`), five buckets.
    pub backlog: Vec<u32>,
    pub by_region: Vec<FlowRow>,
    pub by_department: Vec<FlowRow>,
    pub by_category: Vec<FlowRow>,
    pub by_source: Vec<FlowRow>,
    /// Mediation attempts in the period by tier, with how many settled: outcome rates per tier.
    pub mediation: Vec<TierRow>,
    /// 诉调对接, when any court has referred a dispute in the region (exact: scanned from the referrals).
    #[serde(default)]
    pub court: Option<CourtReport>,
    /// The bound on the relative error of the stage durations' median and p90: 0 when exact (small
    /// scopes), else the sketches' bound (under 1 %). Every count and rate is exact.
    #[serde(default)]
    pub quantile_error: f64,
    pub as_of: i64,
}

/// 诉调对接 over a period: disputes courts referred to mediation, and the mediation of court referrals.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CourtFigures {
    /// Referrals received in the period.
    pub referred: u32,
    /// People's mediation attempts (village, town, county) on referrals, and of them settled.
    pub mediated: u32,
    pub settled: u32,
    /// Judicial confirmations (司法确认) granted.
    pub confirmed: u32,
    /// Every attempt by tier.
    pub tiers: Vec<TierRow>,
}

/// The court figures of a region and period with 环比/同比 (None where the history does not reach) and
/// per child region.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CourtReport {
    pub figures: CourtFigures,
    pub previous: Option<CourtFigures>,
    pub year_ago: Option<CourtFigures>,
    /// (code, name, figures) of each child region with any.
    pub by_region: Vec<(String, String, CourtFigures)>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TierRow {
    pub tier: crate::flow::Tier,
    pub attempts: u32,
    pub settled: u32,
}

/// The value of the map indicator for one child region of the region on screen.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AreaValue {
    pub code: String,
    pub name: String,
    pub open: u32,
    pub overdue: u32,
    pub new_today: u32,
}

/// Open cases that need attention besides the overdue: due soon, supervised (督办), escalated (升级).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Alerts {
    pub due_soon: u32,
    pub supervised: u32,
    pub escalated: u32,
}

/// A scene of the wall display.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SceneKey {
    Overview,
    Flow,
    Safety,
}

/// One item of a wall device's playlist: a scene, for a region within the device's scope (None: the
/// scope's root), shown for `dwell_secs`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlaylistItem {
    pub scene: SceneKey,
    #[serde(default)]
    pub region: Option<String>,
    pub dwell_secs: u32,
}

/// What a wall device shows in turn, set by an administrator and stored with the device.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Playlist {
    pub items: Vec<PlaylistItem>,
}

/// The limits of a playlist: enough for any command centre, small enough to check at once.
pub const PLAYLIST_MAX_ITEMS: usize = 50;
pub const PLAYLIST_DWELL_SECS: std::ops::RangeInclusive<u32> = 10..=3600;

impl Playlist {
    /// Why the playlist cannot be stored, if it cannot (regions are checked by the server's policy).
    pub fn check(&self) -> Result<(), String> {
        if self.items.len() > PLAYLIST_MAX_ITEMS {
            return Err(format!("a playlist holds at most {PLAYLIST_MAX_ITEMS} items"));
        }
        if let Some((i, item)) = self.items.iter().enumerate().find(|(_, it)| !PLAYLIST_DWELL_SECS.contains(&it.dwell_secs)) {
            return Err(format!("item {}: dwell_secs {} is not within {}..={}", i + 1, item.dwell_secs, PLAYLIST_DWELL_SECS.start(), PLAYLIST_DWELL_SECS.end()));
        }
        Ok(())
    }

    /// The item on screen at `now` (Unix ms, the server's clock), with the ms it has been on and the ms
    /// it has left. A function of the clock alone, counted from the Unix epoch: every screen with the same
    /// playlist shows the same item at the same second, whenever it was switched on.
    pub fn at(&self, now: i64) -> Option<(usize, i64, i64)> {
        let cycle: i64 = self.items.iter().map(|i| i64::from(i.dwell_secs) * 1000).sum();
        if cycle == 0 {
            return None;
        }
        let mut t = now.rem_euclid(cycle);
        for (idx, item) in self.items.iter().enumerate() {
            let d = i64::from(item.dwell_secs) * 1000;
            if t < d {
                return Some((idx, t, d - t));
            }
            t -= d;
        }
        None
    }
}

/// A wall device's playlist with the server's time when it was read, so that the page places itself
/// in the cycle before its live stream has said anything.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlaylistNow {
    pub playlist: Playlist,
    pub now: i64,
}

/// Everything the wall display shows for one region, as of one instant.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WallSnapshot {
    pub region: RegionRef,
    pub kpis: Vec<Kpi>,
    /// Today's transitions between statuses (for the Sankey).
    pub flow: Vec<FlowLink>,
    /// Newest first.
    pub ticker: Vec<TickerItem>,
    pub areas: Vec<AreaValue>,
    /// Open cases by category.
    pub categories: Vec<(Category, u32)>,
    pub alerts: Alerts,
    /// Case feeds past their expected cadence: the figures may be missing their latest cases.
    #[serde(default)]
    pub stale: Vec<String>,
    /// Open warnings found in the region's subtree, most severe first, at most a screenful (filled by
    /// the server), and how many there are in all.
    #[serde(default)]
    pub warnings: Vec<crate::warning::Warning>,
    #[serde(default)]
    pub warning_count: u32,
    /// The region's grids by duty status now (on the grid tile).
    #[serde(default)]
    pub duty: crate::duty::DutyCount,
    /// Unix milliseconds.
    pub as_of: i64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum GridKind {
    /// 全科网格 in a village or community.
    Comprehensive,
    /// 专属网格: industrial park, school, hospital.
    IndustrialPark,
    School,
    Hospital,
}

impl GridKind {
    pub fn as_str(self) -> &'static str {
        match self {
            GridKind::Comprehensive => "comprehensive",
            GridKind::IndustrialPark => "industrial_park",
            GridKind::School => "school",
            GridKind::Hospital => "hospital",
        }
    }

    pub fn parse(s: &str) -> Option<GridKind> {
        [GridKind::Comprehensive, GridKind::IndustrialPark, GridKind::School, GridKind::Hospital]
            .into_iter()
            .find(|k| k.as_str() == s)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GridInfo {
    pub code: String,
    pub name: String,
    pub kind: GridKind,
    /// None when the post is vacant.
    pub worker: Option<String>,
    pub households: u32,
    pub population: u32,
    /// The last patrol of the grid (Unix ms); None when never patrolled.
    pub last_patrol: Option<i64>,
    /// Who is on duty in it now (from the rosters).
    #[serde(default)]
    pub duty: Option<crate::duty::GridDuty>,
}

/// Grids of one kind (comprehensive or dedicated) under a region: how many, how many have a worker,
/// how many were patrolled within the period.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GridCount {
    pub grids: u32,
    pub staffed: u32,
    pub patrolled: u32,
}

/// A grid not patrolled within the period.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaleGrid {
    pub code: String,
    pub name: String,
    /// Town and village names.
    pub place: String,
    pub kind: GridKind,
    pub worker: Option<String>,
    pub last_patrol: Option<i64>,
}

/// A grid not patrolled within this many days is not patrolled (the tablet's coverage, the wall's 达标率).
pub const PATROL_DAYS: u32 = 3;

/// Base data (households, population) of a grid not updated within this many days is stale.
pub const BASE_DATA_DAYS: u32 = 90;

/// Why a grid is not fit (网格达标): the three conditions cities set.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FitnessGap {
    /// No grid worker in post.
    Vacant,
    /// Not patrolled within the required interval.
    NotPatrolled,
    /// Households and population not updated within `BASE_DATA_DAYS` (or never recorded).
    BaseDataStale,
}

impl FitnessGap {
    pub const ALL: [FitnessGap; 3] = [FitnessGap::Vacant, FitnessGap::NotPatrolled, FitnessGap::BaseDataStale];

    pub fn as_str(self) -> &'static str {
        match self {
            FitnessGap::Vacant => "vacant",
            FitnessGap::NotPatrolled => "not_patrolled",
            FitnessGap::BaseDataStale => "base_data_stale",
        }
    }
}

/// 网格达标率 of a region: its grids, how many are fit, and how many fail each condition.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fitness {
    pub grids: u32,
    pub fit: u32,
    pub vacant: u32,
    pub not_patrolled: u32,
    pub base_stale: u32,
}

impl Fitness {
    pub fn rate(&self) -> Option<f64> {
        (self.grids > 0).then(|| f64::from(self.fit) / f64::from(self.grids))
    }
}

/// A grid that is not fit, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnfitGrid {
    pub code: String,
    pub name: String,
    pub place: String,
    pub gaps: Vec<FitnessGap>,
    /// When its base data was last updated (None: never recorded).
    pub base_updated: Option<i64>,
}

/// Grid coverage (网格覆盖) of a region: staffed and vacant grids, grids patrolled in the last `days`
/// days, dedicated grids (专属网格) counted apart, and the grids not patrolled, longest first.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Coverage {
    pub region: RegionRef,
    pub days: u32,
    pub comprehensive: GridCount,
    pub dedicated: GridCount,
    /// At most `STALE_LISTED`, never-patrolled first, then the oldest last patrol.
    pub stale: Vec<StaleGrid>,
    /// All grids not patrolled in the period (the list may be cut).
    pub stale_total: u32,
    /// 网格达标率: staffed, patrolled within `days`, base data updated within `BASE_DATA_DAYS`; of the
    /// region and of each child region (rolled up the tree); the grids that fail, with why (at most
    /// `STALE_LISTED`, those failing most conditions first).
    #[serde(default)]
    pub fitness: Fitness,
    #[serde(default)]
    pub fitness_by_child: Vec<(RegionRef, Fitness)>,
    #[serde(default)]
    pub unfit: Vec<UnfitGrid>,
    /// Who is on duty in the region's grids now (the grid workers' rosters).
    #[serde(default)]
    pub duty: crate::duty::DutyView,
    pub as_of: i64,
}

/// Grids listed as not patrolled, at most.
pub const STALE_LISTED: usize = 50;

/// The map of one region: its children's shapes, the path from the scope root down to it, and whether the
/// shapes are real boundaries or generated (示意).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MapLayer {
    pub region: RegionRef,
    pub path: Vec<RegionRef>,
    /// GeoJSON FeatureCollection of the children; each feature has properties `code` and `name`.
    pub geojson: String,
    pub schematic: bool,
    /// Set when the region on screen is a grid (a leaf).
    pub grid: Option<GridInfo>,
}

/// A published count: exact, or withheld because it is small enough to point at a person ("<5").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cell {
    Count(u32),
    Suppressed,
}

impl Cell {
    pub const SUPPRESSED_TEXT: &'static str = "<5";

    pub fn text(self) -> String {
        match self {
            Cell::Count(n) => n.to_string(),
            Cell::Suppressed => Cell::SUPPRESSED_TEXT.to_string(),
        }
    }
}

impl Serialize for Cell {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Cell::Count(n) => s.serialize_u32(*n),
            Cell::Suppressed => s.serialize_str(Cell::SUPPRESSED_TEXT),
        }
    }
}

impl<'de> Deserialize<'de> for Cell {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Cell, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            N(u32),
            S(String),
        }
        match Raw::deserialize(d)? {
            Raw::N(n) => Ok(Cell::Count(n)),
            Raw::S(s) if s == Cell::SUPPRESSED_TEXT => Ok(Cell::Suppressed),
            Raw::S(s) => Err(serde::de::Error::custom(format!("unexpected cell {s:?}"))),
        }
    }
}

/// One row of the public statistics (city, district or town): counts only, small ones withheld.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PublicRow {
    pub code: String,
    pub name: String,
    pub level: Level,
    pub parent: Option<String>,
    pub reported_30d: Cell,
    pub closed_30d: Cell,
    pub open: Cell,
    pub grids: u32,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PublicReport {
    pub city: String,
    /// The city first, then each district followed by its towns.
    pub rows: Vec<PublicRow>,
    pub as_of: i64,
}

/// The city's clock: Asia/Shanghai is UTC+8 all year (no daylight saving).
pub const CST_OFFSET_MS: i64 = 8 * 3600 * 1000;
pub const DAY_MS: i64 = 86_400_000;

/// Days since 1970-01-01 in Asia/Shanghai.
pub fn local_day(ms: i64) -> i64 {
    (ms + CST_OFFSET_MS).div_euclid(DAY_MS)
}

/// The Unix ms of local day `day`'s midnight in Asia/Shanghai (the inverse of `local_day`).
pub fn day_start(day: i64) -> i64 {
    day * DAY_MS - CST_OFFSET_MS
}

/// "HH:MM:SS" in Asia/Shanghai.
pub fn clock(ms: i64) -> String {
    let s = (ms + CST_OFFSET_MS).rem_euclid(DAY_MS) / 1000;
    format!("{:02}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
}

/// The "data as of" time of `as_of` read at `now` (both Unix ms): the time of day when both fall on the same
/// day in Asia/Shanghai, with the date in front otherwise, so a screen frozen overnight never shows
/// yesterday's figures under a plausible time.
pub fn as_of_label(as_of: i64, now: i64) -> String {
    if local_day(as_of) == local_day(now) {
        clock(as_of)
    } else {
        let (y, m, d) = civil_from_days(local_day(as_of));
        format!("{y:04}-{m:02}-{d:02} {}", clock(as_of))
    }
}

/// "YYYY-MM-DD HH:MM" in Asia/Shanghai.
pub fn date_time(ms: i64) -> String {
    let (y, m, d) = civil_from_days(local_day(ms));
    let s = (ms + CST_OFFSET_MS).rem_euclid(DAY_MS) / 1000;
    format!("{y:04}-{m:02}-{d:02} {:02}:{:02}", s / 3600, s / 60 % 60)
}

/// Unix ms of midnight in Asia/Shanghai at the start of "YYYY-MM-DD", if it is a valid date.
pub fn parse_day(s: &str) -> Option<i64> {
    let mut it = s.trim().splitn(3, '-').map(|p| p.parse::<i64>().ok());
    let (y, m, d) = (it.next()??, it.next()??, it.next()??);
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    // Howard Hinnant's days_from_civil.
    let y2 = if m <= 2 { y - 1 } else { y };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let ms = day_start(days);
    (civil_from_days(local_day(ms)) == (y, m as u32, d as u32)).then_some(ms)
}

/// Proleptic Gregorian date of a day number (Howard Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_from_parameters() {
        let d = parse_day("2026-11-01").unwrap();
        assert_eq!(Period::parse(None, None, None), Ok(Period::LastDays(7)));
        assert_eq!(Period::parse(Some(30), None, None), Ok(Period::LastDays(30)));
        assert_eq!(Period::parse(None, Some("2026-11-01"), Some("2026-11-30")), Ok(Period::Dates { from: d, to: d + 30 * DAY_MS }));
        assert_eq!(Period::parse(None, Some("2026-11-01"), Some("2026-11-01")).unwrap().window(d + 40 * DAY_MS), (d, d + DAY_MS), "one whole day");
        assert!(Period::parse(Some(0), None, None).is_err());
        assert!(Period::parse(None, Some("2026-11-30"), Some("2026-11-01")).is_err(), "backwards");
        assert!(Period::parse(None, Some("2022-01-01"), Some("2026-01-01")).is_err(), "too long");
        assert!(Period::parse(None, Some("2024-01-01"), Some("2026-01-01")).is_ok(), "three years");
        assert!(Period::parse(None, Some("2026-13-01"), Some("2026-12-01")).is_err());
        assert!(Period::parse(Some(7), Some("2026-11-01"), Some("2026-11-02")).is_err(), "one or the other");
        assert!(Period::parse(None, Some("2026-11-01"), None).is_err());
        // The last two days: yesterday from midnight, and today up to now.
        let noon = d + 12 * 3_600_000;
        assert_eq!(Period::LastDays(2).window(noon), (d - DAY_MS, noon + 1));
        assert_eq!(Period::LastDays(1).window(d), (d, d + 1), "at midnight: today has just begun");
        assert_eq!(Period::Year(0).window(noon), (parse_day("2026-01-01").unwrap(), noon + 1));
        assert_eq!(Period::Year(1).window(noon), (parse_day("2025-01-01").unwrap(), parse_day("2026-01-01").unwrap()));
        assert_eq!(Period::parse_with_year(None, None, None, Some(1)), Ok(Period::Year(1)));
        assert!(Period::parse_with_year(Some(7), None, None, Some(1)).is_err());
        // Dates reaching past today end now.
        assert_eq!(Period::Dates { from: d, to: d + 10 * DAY_MS }.window(noon), (d, noon + 1));
    }

    #[test]
    fn shanghai_day_boundary() {
        // 2026-11-20T16:00:00Z is midnight of 2026-11-21 in Shanghai.
        let t = 1_795_190_400_000; // 2026-11-20T16:00:00Z
        assert_eq!(date_time(t), "2026-11-21 00:00");
        assert_eq!(local_day(t) - local_day(t - 1), 1);
        assert_eq!(clock(t + 3_723_000), "01:02:03");
        assert_eq!(parse_day("2026-11-21"), Some(t));
        assert_eq!(parse_day("2026-02-30"), None);
        assert_eq!(parse_day("nonsense"), None);
    }

    #[test]
    fn a_playlist_is_a_function_of_the_clock() {
        let item = |scene, dwell_secs| PlaylistItem { scene, region: None, dwell_secs };
        let p = Playlist { items: vec![item(SceneKey::Overview, 60), item(SceneKey::Flow, 30), item(SceneKey::Safety, 30)] };
        let cycle = 120_000;
        let t0 = 1_795_190_400_000; // a multiple of the cycle
        assert_eq!(t0 % cycle, 0);
        assert_eq!(p.at(t0), Some((0, 0, 60_000)));
        assert_eq!(p.at(t0 + 59_999), Some((0, 59_999, 1)));
        assert_eq!(p.at(t0 + 60_000), Some((1, 0, 30_000)));
        assert_eq!(p.at(t0 + 95_000), Some((2, 5_000, 25_000)));
        assert_eq!(p.at(t0 + cycle), p.at(t0), "cycles repeat");
        // Screens switched on at any moment agree at every instant: only `now` decides.
        for k in 0..500 {
            let now = t0 + k * 7_919;
            assert_eq!(p.at(now), p.clone().at(now));
            let (i, on, left) = p.at(now).unwrap();
            assert_eq!(on + left, i64::from(p.items[i].dwell_secs) * 1000);
        }
        assert_eq!(Playlist::default().at(t0), None, "an empty playlist shows what the wall was opened with");
        assert!(p.check().is_ok());
        assert!(Playlist { items: vec![item(SceneKey::Flow, 9)] }.check().unwrap_err().contains("dwell_secs 9"));
        assert!(Playlist { items: vec![item(SceneKey::Flow, 3601)] }.check().is_err());
        assert!(Playlist { items: vec![item(SceneKey::Flow, 10); 51] }.check().is_err());
        let bad: Result<Playlist, _> = serde_json::from_str(r#"{"items":[{"scene":"flow","dwell_secs":30,"x":1}]}"#);
        assert!(bad.is_err(), "unknown fields are refused");
        let bad: Result<Playlist, _> = serde_json::from_str(r#"{"items":[{"scene":"radar","dwell_secs":30}]}"#);
        assert!(bad.is_err(), "unknown scenes are refused");
    }

    #[test]
    fn as_of_carries_the_date_once_the_day_has_turned() {
        let midnight = 1_795_190_400_000; // 2026-11-21 00:00 in Shanghai
        let evening = midnight - 2 * 3_600_000 + 5_000; // 2026-11-20 22:00:05
        assert_eq!(as_of_label(evening, evening + 60_000), "22:00:05");
        assert_eq!(as_of_label(evening, midnight - 1), "22:00:05", "a second before midnight: still today");
        assert_eq!(as_of_label(evening, midnight), "2026-11-20 22:00:05", "the day has turned");
        assert_eq!(as_of_label(evening, midnight + 9 * 3_600_000), "2026-11-20 22:00:05");
    }
}

/// What an account is for; decides its default clearance and what it may do besides viewing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Role {
    CityLeader,
    DistrictOfficial,
    StreetOfficial,
    CommunityStaff,
    /// Sees the cases dispatched to their department, across regions.
    DepartmentStaff,
    Auditor,
    Admin,
    /// A wall display authenticated by a device token.
    WallDevice,
}

impl Role {
    pub const ALL: [Role; 8] = [
        Role::CityLeader,
        Role::DistrictOfficial,
        Role::StreetOfficial,
        Role::CommunityStaff,
        Role::DepartmentStaff,
        Role::Auditor,
        Role::Admin,
        Role::WallDevice,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::CityLeader => "city_leader",
            Role::DistrictOfficial => "district_official",
            Role::StreetOfficial => "street_official",
            Role::CommunityStaff => "community_staff",
            Role::DepartmentStaff => "department_staff",
            Role::Auditor => "auditor",
            Role::Admin => "admin",
            Role::WallDevice => "wall_device",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// How sensitive a field a viewer may see unmasked. Ordered: each tier includes the ones before it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Clearance {
    Public,
    Internal,
    /// Names, phone numbers, ID numbers, exact addresses of people involved; petitioners.
    Sensitive,
    Restricted,
}

impl Clearance {
    pub const ALL: [Clearance; 4] = [Clearance::Public, Clearance::Internal, Clearance::Sensitive, Clearance::Restricted];

    pub fn as_str(self) -> &'static str {
        match self {
            Clearance::Public => "public",
            Clearance::Internal => "internal",
            Clearance::Sensitive => "sensitive",
            Clearance::Restricted => "restricted",
        }
    }

    pub fn parse(s: &str) -> Option<Clearance> {
        Clearance::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

/// A person involved in a case (reporter, petitioner). Sensitive: masked below that clearance.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Person {
    pub name: String,
    pub phone: String,
    /// Resident ID number, when the source system records one (petitions do).
    pub id_number: Option<String>,
    /// When the person left one (residents reporting online may).
    #[serde(default)]
    pub email: Option<String>,
}

/// One case as an official sees it: facts, current holder, timeline; personal fields masked unless the
/// viewer's clearance allows them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CaseView {
    pub feed: String,
    pub case_id: String,
    pub category: Category,
    pub source: Source,
    pub status: Status,
    pub grid: String,
    /// Town and village names.
    pub place: String,
    pub reported_at: i64,
    pub deadline: i64,
    /// The department it is dispatched to (responsible unit).
    pub department: Option<String>,
    pub summary: String,
    pub person: Option<Person>,
    pub address: Option<String>,
    /// True when personal fields were masked for this viewer.
    pub masked: bool,
    pub priority: crate::flow::Priority,
    /// From here the case is due soon.
    pub warn_at: i64,
    pub timeliness: Option<crate::flow::Timeliness>,
    /// Who holds it now; None once closed.
    pub holder: Option<crate::flow::Holder>,
    /// How many times it was supervised (督办) and escalated (升级).
    pub supervised: u32,
    pub escalations: u32,
    /// What this viewer may do to it now.
    pub actions: Vec<crate::flow::Action>,
    /// Oldest first.
    pub timeline: Vec<TimelineEntry>,
    /// A resident sent a photo with it, and this viewer may see it (`/api/cases/{feed}/{id}/photo`).
    #[serde(default)]
    pub photo: bool,
}

/// What a person is told after signing in about the sign-in before (等保 2.0: they learn of a use of
/// their account they did not make): when and from where, and the failed attempts since.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LastSignIn {
    /// None: this is the account's first sign-in.
    pub at: Option<i64>,
    /// The address it came from.
    pub from: Option<String>,
    /// Failed sign-ins with this account's name between that one and this session's.
    pub failed_since: u32,
}

/// Which list the tablet shows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeskQueue {
    /// Open cases due soon or overdue, from every system.
    #[default]
    Alerts,
    /// Every open resident's report: the cockpit is their system of record, so someone here moves them on.
    Residents,
    /// Every open case the region's own governance centre holds (村/社区, 镇/街道, 县/区, 市 综治中心).
    Centre,
    /// Every open dispute a court referred to mediation (诉前委派调解): the mediators' worklist.
    Referrals,
}

/// The load of a governance centre: what it holds now, and how it met the deadlines that fell in the last
/// `days` days of the cases it held.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CentreFigures {
    pub level: Level,
    pub held: u32,
    pub overdue: u32,
    pub due: u32,
    pub on_time: u32,
    pub days: u32,
}

/// The tablet's view of a region: cases due soon or overdue (personal fields masked: a list is for triage).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DeskView {
    pub region: RegionRef,
    pub cases: Vec<CaseView>,
    /// With the centre's queue: its load.
    #[serde(default)]
    pub centre: Option<CentreFigures>,
    pub as_of: i64,
}

/// One event in a case's history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimelineEntry {
    pub action: crate::flow::Action,
    /// The status after the event.
    pub status: Status,
    pub at: i64,
    /// The account (or rule) that took an oversight action; None for the source system's own events.
    pub actor: Option<String>,
    pub note: Option<String>,
    /// A mediation attempt's tier and outcome.
    pub mediation: Option<crate::flow::Mediation>,
}

/// One row of the city's record for a period (city, district or town): counts, each small one withheld
/// with its complements, so that no withheld figure can be worked back out.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RecordRow {
    pub code: String,
    pub name: String,
    pub level: Level,
    pub parent: Option<String>,
    pub reported: Cell,
    pub closed: Cell,
    /// Cases whose deadline fell in the period, and of them those closed on time (open overdue count as
    /// late): the on-time rate is `on_time / due` where both are published.
    pub due: Cell,
    pub on_time: Cell,
    /// Reported in the period before (环比) and in the same period a year earlier (同比); districts and the
    /// city only, None where the stored history does not reach back.
    pub reported_previous: Option<Cell>,
    pub reported_year_ago: Option<Cell>,
    /// Median time from report to close of the cases closed in the period (ms); None when fewer than
    /// five closed (a median of one or two cases is theirs). Within `PublicRecord::close_error`.
    #[serde(default)]
    pub close_median_ms: Option<i64>,
}

impl RecordRow {
    /// The on-time rate, when both its counts are published and something fell due.
    pub fn on_time_rate(&self) -> Option<f64> {
        match (self.on_time, self.due) {
            (Cell::Count(k), Cell::Count(n)) if n > 0 => Some(f64::from(k) / f64::from(n)),
            _ => None,
        }
    }
}

/// The city's public record for a period: per district and town, mediation per tier for the city, and
/// the city's reports month by month over the year before the period's end.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PublicRecord {
    pub city: String,
    pub from: i64,
    pub to: i64,
    /// The city first, then each district followed by its towns.
    pub rows: Vec<RecordRow>,
    /// (tier, attempts, settled), small counts withheld.
    pub mediation: Vec<(crate::flow::Tier, Cell, Cell)>,
    /// (first day of the month, reported in the city), oldest first, twelve months.
    pub trend: Vec<(i64, Cell)>,
    /// 诉调对接 in the city: referred, people's mediation attempts, settled, judicial confirmations (small
    /// counts withheld); None where no court has referred anything.
    #[serde(default)]
    pub court: Option<[Cell; 4]>,
    /// The same per district (code, name, cells), withheld together with the city's so that no withheld
    /// count can be worked back out; districts without any court figure left out.
    #[serde(default)]
    pub court_by_district: Vec<(String, String, [Cell; 4])>,
    /// Relative error bound of the medians (0: exact).
    #[serde(default)]
    pub close_error: f64,
    pub as_of: i64,
}

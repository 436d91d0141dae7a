//! The one catalogue of user-facing strings. zh-CN is the default; English follows `?lang=en`.
//! Every label the UI shows comes from here, so a new language is one more column.
use crate::model::{Category, GridKind, KpiKey, Level, Source, Status};
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Lang {
    #[default]
    Zh,
    En,
}

impl Lang {
    pub fn from_query(v: Option<&str>) -> Lang {
        match v {
            Some("en") => Lang::En,
            _ => Lang::Zh,
        }
    }

    pub fn html_tag(self) -> &'static str {
        match self {
            Lang::Zh => "zh-CN",
            Lang::En => "en",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Msg {
    Product,
    WallTitle,
    PublicTitle,
    HomeIntro,
    OpenWall,
    OpenPublic,
    Loading,
    DataAsOf,
    Live,
    Reconnecting,
    MapTitle,
    MapUp,
    Schematic,
    SchematicNote,
    CategoryTitle,
    FlowTitle,
    FlowEmpty,
    TickerTitle,
    GridTitle,
    GridWorker,
    GridVacant,
    GridHouseholds,
    GridPopulation,
    VsYesterday,
    VsPrevWeek,
    Vacancies,
    OfOpen,
    PublicIntro,
    PublicDistrict,
    PublicReported30,
    PublicClosed30,
    PublicOpen,
    PublicGrids,
    PublicNote,
    ErrorTitle,
    NotFound,
    OpenCases,
    Cases,
    PublicTowns,
    PublicTown,
    PublicDownloads,
    AuditTitle,
    AuditActor,
    AuditRegion,
    AuditFrom,
    AuditTo,
    AuditFilter,
    AuditAt,
    AuditAction,
    AuditDetail,
    AuditBadDate,
    LoginTitle,
    LoginUser,
    LoginPassword,
    LoginSubmit,
    LoginBad,
    LoginThrottled,
    LoginExpired,
    DeviceBad,
}

pub fn t(lang: Lang, m: Msg) -> &'static str {
    use Msg::*;
    let (zh, en) = match m {
        Product => ("市域社会治理数字驾驶舱", "City Governance Cockpit"),
        WallTitle => ("绍兴市域社会治理数字驾驶舱", "Shaoxing City Governance Cockpit"),
        PublicTitle => ("社会治理公开数据", "Public governance statistics"),
        HomeIntro => ("选择视图：", "Choose a view:"),
        OpenWall => ("指挥大屏", "Wall display"),
        OpenPublic => ("公开数据", "Public statistics"),
        Loading => ("加载中…", "Loading…"),
        DataAsOf => ("数据截至", "Data as of"),
        Live => ("实时", "Live"),
        Reconnecting => ("重新连接中", "Reconnecting"),
        MapTitle => ("在办事件分布", "Open cases by area"),
        MapUp => ("返回上级", "Up one level"),
        Schematic => ("示意", "Schematic"),
        SchematicNote => ("乡镇以下边界为示意图，非实际边界", "Boundaries below district level are schematic"),
        CategoryTitle => ("在办事件类别", "Open cases by category"),
        FlowTitle => ("今日事件流转", "Today's case flow"),
        FlowEmpty => ("今日暂无流转", "No transitions today yet"),
        TickerTitle => ("实时事件", "Live cases"),
        GridTitle => ("网格信息", "Grid"),
        GridWorker => ("网格员", "Grid worker"),
        GridVacant => ("空缺", "Vacant"),
        GridHouseholds => ("户数", "Households"),
        GridPopulation => ("人口", "Population"),
        VsYesterday => ("较昨日", "vs yesterday"),
        VsPrevWeek => ("较前7日", "vs previous 7 days"),
        Vacancies => ("空缺网格", "vacant grids"),
        OfOpen => ("占在办", "of open"),
        PublicIntro => (
            "以下为各区、县（市）近30日社会治理事件汇总，仅含统计数据，不含任何个人信息。",
            "Case totals by district for the last 30 days. Aggregates only; no personal data.",
        ),
        PublicDistrict => ("区、县（市）", "District"),
        PublicReported30 => ("近30日受理", "Reported (30 days)"),
        PublicClosed30 => ("近30日结案", "Closed (30 days)"),
        PublicOpen => ("当前在办", "Open now"),
        PublicGrids => ("网格数", "Grids"),
        PublicNote => ("小于5的数字显示为“<5”，并相应隐去个别数字，以免推算出个人信息。", "Counts below 5 show as \"<5\", with a few others withheld so that none can be worked out."),
        ErrorTitle => ("无法加载数据", "Could not load data"),
        NotFound => ("页面不存在", "Page not found"),
        OpenCases => ("在办", "open"),
        Cases => ("件", "cases"),
        PublicTowns => ("各乡镇（街道）", "Towns and streets"),
        PublicTown => ("乡镇（街道）", "Town or street"),
        PublicDownloads => ("下载数据：", "Download:"),
        AuditTitle => ("审计日志", "Audit log"),
        AuditActor => ("人员", "Person"),
        AuditRegion => ("区域代码", "Region code"),
        AuditFrom => ("起始日期", "From"),
        AuditTo => ("截止日期", "To"),
        AuditFilter => ("筛选", "Filter"),
        AuditAt => ("时间", "Time"),
        AuditAction => ("操作", "Action"),
        AuditDetail => ("详情", "Detail"),
        AuditBadDate => ("日期格式应为 YYYY-MM-DD。", "Dates are YYYY-MM-DD."),
        LoginTitle => ("登录", "Sign in"),
        LoginUser => ("用户名", "User name"),
        LoginPassword => ("密码", "Password"),
        LoginSubmit => ("登录", "Sign in"),
        LoginBad => ("用户名或密码错误。", "Wrong user name or password."),
        LoginThrottled => ("尝试次数过多，请稍后再试。", "Too many attempts; try again later."),
        LoginExpired => ("页面已过期，请重新登录。", "The form expired; please sign in again."),
        DeviceBad => ("设备令牌无效或已吊销。", "The device token is invalid or revoked."),
    };
    pick(lang, zh, en)
}

fn pick(lang: Lang, zh: &'static str, en: &'static str) -> &'static str {
    match lang {
        Lang::Zh => zh,
        Lang::En => en,
    }
}

pub fn status(lang: Lang, s: Status) -> &'static str {
    let (zh, en) = match s {
        Status::Reported => ("上报", "Reported"),
        Status::Accepted => ("受理", "Accepted"),
        Status::Dispatched => ("分拨", "Dispatched"),
        Status::Handling => ("处置", "Handling"),
        Status::Resolved => ("办结", "Resolved"),
        Status::Verified => ("核查", "Verified"),
        Status::Closed => ("结案", "Closed"),
    };
    pick(lang, zh, en)
}

pub fn category(lang: Lang, c: Category) -> &'static str {
    let (zh, en) = match c {
        Category::Dispute => ("矛盾纠纷", "Disputes"),
        Category::Hazard => ("安全隐患", "Hazards"),
        Category::PublicOrder => ("治安秩序", "Public order"),
        Category::Environment => ("环境卫生", "Environment"),
        Category::Livelihood => ("民生诉求", "Livelihood"),
    };
    pick(lang, zh, en)
}

pub fn source(lang: Lang, s: Source) -> &'static str {
    let (zh, en) = match s {
        Source::GridPatrol => ("网格巡查", "Grid patrol"),
        Source::Hotline12345 => ("12345热线", "12345 hotline"),
        Source::Petition => ("信访", "Petition"),
        Source::Police => ("警情", "Police"),
        Source::VideoAlert => ("视频预警", "Video alert"),
    };
    pick(lang, zh, en)
}

pub fn kpi(lang: Lang, k: KpiKey) -> &'static str {
    let (zh, en) = match k {
        KpiKey::NewToday => ("今日新增", "New today"),
        KpiKey::Open => ("在办事件", "Open cases"),
        KpiKey::Overdue => ("超期事件", "Overdue"),
        KpiKey::ClosureRate => ("近7日结案率", "Closure rate (7 days)"),
        KpiKey::GridCoverage => ("网格覆盖率", "Grid coverage"),
    };
    pick(lang, zh, en)
}

pub fn level(lang: Lang, l: Level) -> &'static str {
    let (zh, en) = match l {
        Level::City => ("市", "City"),
        Level::District => ("区县", "District"),
        Level::Town => ("乡镇街道", "Town"),
        Level::Village => ("村社区", "Village"),
        Level::Grid => ("网格", "Grid"),
    };
    pick(lang, zh, en)
}

pub fn grid_kind(lang: Lang, k: GridKind) -> &'static str {
    let (zh, en) = match k {
        GridKind::Comprehensive => ("全科网格", "Comprehensive grid"),
        GridKind::IndustrialPark => ("专属网格·园区", "Dedicated: industrial park"),
        GridKind::School => ("专属网格·学校", "Dedicated: school"),
        GridKind::Hospital => ("专属网格·医院", "Dedicated: hospital"),
    };
    pick(lang, zh, en)
}

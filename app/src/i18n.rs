//! The one catalogue of user-facing strings. zh-CN is the default; English follows `?lang=en`.
//! Every label the UI shows comes from here, so a new language is one more column.
use crate::flow::{Action, Outcome, Priority, Tier, Timeliness};
use crate::model::{Category, GridKind, Indicator, KpiKey, Level, SafetyKey, Source, Status};
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
    Connecting,
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
    AuditExport,
    AuditBadDate,
    FeedsTitle,
    FeedName,
    FeedKind,
    FeedState,
    FeedRunning,
    FeedPaused,
    FeedStale,
    FeedLastSuccess,
    FeedLag,
    FeedCounts,
    FeedExpired,
    FeedErrors,
    FeedResults,
    CourtTitle,
    CourtReferred,
    CourtMediated,
    CourtConfirmed,
    DeskReferrals,
    WarningsTab,
    WarningsEmpty,
    WarningNoteLabel,
    WarningNoteRequired,
    WarningRoute,
    WarningRuleActor,
    FitRate,
    FitnessTitle,
    DutyTitle,
    DutyByChild,
    BaseDataUpdated,
    BaseDataNever,
    MediationTier,
    MediationOutcome,
    ResultsPending,
    ResultsDelivered,
    ResultsFailing,
    FeedPause,
    FeedResume,
    FeedReplay,
    FeedReload,
    QuarantineTitle,
    QuarantineReason,
    QuarantineRecord,
    LoginTitle,
    LoginUser,
    LoginPassword,
    LoginSubmit,
    LoginBad,
    LoginThrottled,
    LoginExpired,
    LoginIdle,
    CodeTitle,
    CodeHint,
    CodeLabel,
    CodeSubmit,
    CodeWrong,
    CodeReused,
    CodeExpired,
    EnrolTitle,
    EnrolDue,
    EnrolStep1,
    EnrolStep2,
    EnrolSubmit,
    EnrolDone,
    EnrolOn,
    EnrolSince,
    EnrolLeft,
    EnrolContinue,
    AdminSecondFactor,
    AdminSecondFactorRemove,
    AdminSecondFactorRemoved,
    AdminSecondFactorOff,
    OidcUnavailable,
    OidcDenied,
    OidcAccount,
    OidcExpired,
    OidcAudience,
    OidcSignature,
    OidcNonce,
    OidcRefused,
    AdminApiKeys,
    AdminApiKeysHint,
    AdminApiKeyName,
    AdminApiKeyIssue,
    AdminApiKeyShown,
    AdminApiKeyRevoked,
    AdminApiKeyNameError,
    DeviceBad,
    PasswordTitle,
    PasswordCurrent,
    PasswordNew,
    PasswordRepeat,
    PasswordRule,
    PasswordSubmit,
    PasswordDue,
    PasswordWrongCurrent,
    PasswordWeak,
    PasswordReused,
    PasswordMismatch,
    SceneOverview,
    SceneFlow,
    SceneSafety,
    SafetySource,
    SafetyStale,
    SafetyWindow,
    SafetyByArea,
    VideoOnlineShort,
    AlarmsShort,
    AxisOnlinePercent,
    AxisAlarmCount,
    AxisHours,
    AxisCases,
    FlowSankeyTitle,
    StageTitle,
    StageMedian,
    StageP90,
    BacklogTitle,
    OnTimeTitle,
    OnTimeRate,
    Reported,
    Closed,
    DueInPeriod,
    LateOpen,
    Supervised,
    Escalated,
    Returned,
    PeriodPrev,
    PeriodToday,
    PeriodWeek,
    PeriodMonth,
    PeriodThisYear,
    PeriodLastYear,
    PeriodCustom,
    PeriodApply,
    QuantileExact,
    QuantileApprox,
    PeriodYear,
    NoData,
    ByDistrict,
    ByDepartment,
    ByCategory,
    BySource,
    NoDepartment,
    Last7Days,
    DeskTitle,
    DeskAlerts,
    DeskReports,
    DeskCentre,
    CentreHeld,
    CentreOverdue,
    CaseAddress,
    StepNoteLabel,
    StepNoteRequired,
    DeskEmpty,
    Holder,
    CentreOf,
    Deadline,
    Timeline,
    NoteLabel,
    NoteRequired,
    ActionDone,
    ActionFailed,
    CloseDetail,
    RuleActor,
    Priority,
    Masked,
    OpenDesk,
    GridLastPatrol,
    GridDuty,
    NeverPatrolled,
    CoverageTab,
    GridsComprehensive,
    GridsDedicated,
    Staffed,
    StaleGrids,
    MediationTitle,
    MediationAttempts,
    MediationSettled,
    MediationRate,
    DueSoon,
    ReportTitle,
    ReportIntro,
    ReportService,
    ReportDescription,
    ReportDescriptionHint,
    ReportPlace,
    ReportPlaceHintCity,
    ReportPlaceHintDistrict,
    ReportPlaced,
    ReportWholeCity,
    ReportUseLocation,
    ReportAddress,
    ReportContact,
    ReportName,
    ReportPhone,
    ReportEmail,
    ReportSubmit,
    ReportNeedPlace,
    ReportCould,
    ReportReceived,
    ReportProgress,
    ReportNumber,
    ReportDeadline,
    ReportDepartment,
    ReportNotYet,
    ReportOpen,
    ReportClosed,
    ReportNotFound,
    ReportAnother,
    ReportChoose,
    ReportPhoto,
    ReportPhotoPick,
    ReportPhotoReplace,
    ReportPhotoHint,
    ReportPhotoHeld,
    ReportPhotoRemove,
    ReportPhotoReceived,
    CasePhoto,
    RecordTitle,
    RecordIntro,
    RecordMonth,
    RecordYear,
    RecordShow,
    RecordReported,
    RecordClosed,
    RecordDue,
    RecordOnTime,
    RecordOnTimeRate,
    RecordPrevious,
    RecordYearAgo,
    RecordArea,
    RecordDistricts,
    RecordTowns,
    RecordMap,
    RecordTrend,
    RecordMediation,
    RecordTier,
    RecordAttempts,
    RecordSettled,
    RecordNoRate,
    RecordDictionary,
    RecordDictReported,
    RecordDictClosed,
    RecordDictDue,
    RecordDictCloseTime,
    RecordCloseMedian,
    RecordReportLink,
    RecordLiveDownloads,
    RecordDictCompare,
    RecordDictSuppressed,
    RecordBadPeriod,
    PublicRecordLink,
    AdminTitle,
    AdminAccounts,
    AdminSearch,
    AdminSearchName,
    AdminAnyRole,
    AdminRegion,
    AdminUsername,
    AdminDisplayName,
    AdminRole,
    AdminScope,
    AdminDepartment,
    AdminClearance,
    AdminState,
    AdminLastSignIn,
    AdminActions,
    AdminEnabled,
    AdminDisabled,
    AdminMustChange,
    AdminNever,
    AdminEdit,
    AdminDisable,
    AdminEnable,
    AdminReset,
    AdminEndSessions,
    AdminCreate,
    AdminCreateSubmit,
    AdminInitialPassword,
    AdminSave,
    AdminBack,
    AdminEditTitle,
    AdminDevices,
    AdminDeviceName,
    AdminDevicePlace,
    AdminDeviceCode,
    AdminDeviceCodeHint,
    AdminIssueDevice,
    AdminLastSeen,
    AdminShows,
    AdminRevoke,
    AdminRevoked,
    AdminDefaultScene,
    AdminSessions,
    AdminSince,
    AdminFrom,
    AdminExpires,
    AdminEndSession,
    AdminNoRows,
    AdminCreated,
    AdminChanged,
    AdminUnchanged,
    AdminDisabledDone,
    AdminEnabledDone,
    AdminSessionsEnded,
    AdminSessionEnded,
    AdminDeviceIssued,
    AdminDeviceRevoked,
    AdminTemporaryTitle,
    AdminTemporaryNote,
    AdminActivationLink,
    AdminErrUsername,
    AdminErrTaken,
    AdminErrName,
    AdminErrRole,
    AdminErrOwn,
    AdminErrScopeUnknown,
    AdminErrScopeOutside,
    AdminErrClearance,
    AdminErrCode,
    AdminErrGeneric,
    DeviceTitle,
    DeviceCodeIntro,
    DeviceCodeWaiting,
    DeviceCodeExpired,
    SettingsNav,
    SettingsTitle,
    SettingsIntro,
    SettingsCalendar,
    SettingsHours,
    SettingsHoursHint,
    SettingsHolidays,
    SettingsExtraWorkdays,
    SettingsDaysHint,
    SettingsFlow,
    SettingsAutoEscalate,
    SettingsEscalateAfter,
    SettingsSave,
    SettingsFromFile,
    SettingsSavedBy,
    SettingsSaved,
    SettingsUnchanged,
    SettingsPreview,
    SettingsPreviewCategory,
    SettingsPreviewLimit,
    SettingsPreviewDue,
    SettingsErrHours,
    SettingsErrDays,
    SettingsErrBoth,
    SettingsErrHoursMax,
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
        Reconnecting => ("离线 · 重新连接中", "Offline · reconnecting"),
        Connecting => ("连接中", "Connecting"),
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
        AuditExport => ("导出 CSV", "Export CSV"),
        AuditBadDate => ("日期格式应为 YYYY-MM-DD。", "Dates are YYYY-MM-DD."),
        FeedsTitle => ("数据接入", "Feeds"),
        FeedName => ("名称", "Name"),
        FeedKind => ("接入方式", "Kind"),
        FeedState => ("状态", "State"),
        FeedRunning => ("运行中", "Running"),
        FeedPaused => ("已暂停", "Paused"),
        FeedStale => ("数据过期", "Stale"),
        FeedLastSuccess => ("最近成功", "Last success"),
        FeedLag => ("延迟", "Lag"),
        FeedCounts => ("收到 / 入库 / 重复 / 隔离", "Received / stored / duplicate / quarantined"),
        FeedExpired => ("其中已过保留期删除", "of which deleted after retention"),
        FeedErrors => ("错误", "Errors"),
        FeedResults => ("结果回传", "Results sent back"),
        CourtTitle => ("诉调对接", "Court referrals"),
        CourtReferred => ("法院委派", "referred"),
        CourtMediated => ("人民调解", "mediated"),
        CourtConfirmed => ("司法确认", "confirmed"),
        MediationTier => ("调解层级", "Mediation tier"),
        MediationOutcome => ("调解结果", "Outcome"),
        ResultsPending => ("待送", "pending"),
        ResultsDelivered => ("已送达", "delivered"),
        ResultsFailing => ("失败", "failing"),
        FeedPause => ("暂停", "Pause"),
        FeedResume => ("恢复", "Resume"),
        FeedReplay => ("重放隔离记录", "Replay quarantine"),
        FeedReload => ("重新读取配置", "Reload configuration"),
        QuarantineTitle => ("隔离记录", "Quarantined records"),
        QuarantineReason => ("原因", "Reason"),
        QuarantineRecord => ("记录编号", "Record id"),
        LoginTitle => ("登录", "Sign in"),
        LoginUser => ("用户名", "User name"),
        LoginPassword => ("密码", "Password"),
        LoginSubmit => ("登录", "Sign in"),
        LoginBad => ("用户名或密码错误。", "Wrong user name or password."),
        LoginThrottled => ("尝试次数过多，请稍后再试。", "Too many attempts; try again later."),
        LoginExpired => ("页面已过期，请重新登录。", "The form expired; please sign in again."),
        LoginIdle => ("因长时间未操作，已自动退出，请重新登录。", "You were signed out after a time without input; please sign in again."),
        CodeTitle => ("身份验证（第二步）", "Verification (second step)"),
        CodeHint => ("请输入身份验证器 App 显示的 6 位动态码，或一个恢复码。", "Enter the 6-digit code your authenticator app shows, or a recovery code."),
        CodeLabel => ("动态码或恢复码", "Code or recovery code"),
        CodeSubmit => ("验证", "Verify"),
        CodeWrong => ("动态码不正确，请重试。", "The code is wrong; try again."),
        CodeReused => ("该动态码已使用过，请等待下一个动态码。", "That code was already used; wait for the next one."),
        CodeExpired => ("验证已超时，请重新登录。", "The sign-in timed out; please sign in again."),
        EnrolTitle => ("双因素认证", "Two-factor sign-in"),
        EnrolDue => ("按本市安全规定，您的账号需启用双因素认证后才能继续使用。", "The city's rules require two-factor sign-in for your account before you go on."),
        EnrolStep1 => ("1. 用身份验证器 App（如 FreeOTP、Google Authenticator、Microsoft Authenticator）扫描二维码，或手动输入密钥：", "1. Scan the QR code with an authenticator app (FreeOTP, Google Authenticator, Microsoft Authenticator, …), or type the key:"),
        EnrolStep2 => ("2. 输入 App 显示的 6 位动态码以确认：", "2. Enter the 6-digit code the app shows to confirm:"),
        EnrolSubmit => ("启用", "Turn on"),
        EnrolDone => ("双因素认证已启用。以下恢复码只显示这一次，请妥善保存；每个恢复码只能使用一次，可在手机丢失时代替动态码登录。", "Two-factor sign-in is on. These recovery codes are shown this once: keep them safe. Each works once, in place of a code, if the phone is lost."),
        EnrolOn => ("双因素认证已启用", "Two-factor sign-in is on"),
        EnrolSince => ("启用时间", "Since"),
        EnrolLeft => ("剩余恢复码", "Recovery codes left"),
        EnrolContinue => ("继续", "Continue"),
        AdminSecondFactor => ("双因素认证", "Two-factor"),
        AdminSecondFactorRemove => ("移除双因素认证（手机丢失）", "Remove two-factor (lost phone)"),
        AdminSecondFactorRemoved => ("已移除该账号的双因素认证，其会话已结束；如规定要求，下次登录时须重新启用。", "The account's two-factor sign-in was removed and its sessions ended; where the rules ask for it, it is set up again at the next sign-in."),
        AdminSecondFactorOff => ("未启用", "Off"),
        OidcUnavailable => ("暂时无法连接统一身份认证平台，请稍后再试或使用账号密码登录。", "The identity platform cannot be reached; try again later or sign in with your password."),
        OidcDenied => ("统一身份认证平台未完成登录（已取消或被拒绝）。", "The identity platform did not sign you in (cancelled or refused)."),
        OidcAccount => ("统一身份认证已通过，但本系统没有可用的对应账号，请联系管理员。", "The identity platform knows you, but there is no usable account here; ask an administrator."),
        OidcExpired => ("身份凭证已过期，登录被拒绝，请重新登录。", "The identity token had expired; sign-in refused. Please sign in again."),
        OidcAudience => ("身份凭证不是签发给本系统的，登录被拒绝。", "The identity token was not issued for this system; sign-in refused."),
        OidcSignature => ("身份凭证签名无效，登录被拒绝。", "The identity token's signature is not valid; sign-in refused."),
        OidcNonce => ("身份凭证与本次登录不匹配（可能是重放），登录被拒绝。", "The identity token does not belong to this sign-in (a replay?); sign-in refused."),
        OidcRefused => ("统一身份认证的应答未通过校验，登录被拒绝。", "The identity platform's answer did not pass the checks; sign-in refused."),
        AdminApiKeys => ("应用密钥（Open311）", "App keys (Open311)"),
        AdminApiKeysHint => ("供居民上报 App 通过 Open311 接口提交诉求时使用；只保存密钥的摘要，吊销后立即失效。", "For residents' apps that report through Open311; only a digest of each key is kept, and a revoked key stops working at once."),
        AdminApiKeyName => ("应用名称", "App"),
        AdminApiKeyIssue => ("签发密钥", "Issue a key"),
        AdminApiKeyShown => ("密钥只显示这一次，请复制到该应用的配置中：", "The key is shown this once; copy it into the app's settings:"),
        AdminApiKeyRevoked => ("密钥已吊销。", "The key was revoked."),
        AdminApiKeyNameError => ("请填写应用名称（1 至 100 个字符）。", "Name the app (1 to 100 characters)."),
        DeviceBad => ("设备令牌无效或已吊销。", "The device token is invalid or revoked."),
        PasswordTitle => ("设置新密码", "Set a new password"),
        PasswordCurrent => ("当前密码", "Current password"),
        PasswordNew => ("新密码", "New password"),
        PasswordRepeat => ("再次输入新密码", "New password again"),
        PasswordRule => ("至少 10 个字符，包含小写字母、大写字母、数字、其他字符中的三类，且不含用户名；不得与最近 5 次密码相同。", "At least 10 characters, three of: lower-case letters, upper-case letters, digits, other characters; not the user name; none of the last 5 passwords."),
        PasswordSubmit => ("保存新密码", "Save the new password"),
        PasswordDue => ("请先设置新密码：密码已由管理员重置或已过期。", "Set a new password first: it was reset by an administrator or has expired."),
        PasswordWrongCurrent => ("当前密码不正确。", "The current password is wrong."),
        PasswordWeak => ("新密码不符合复杂度要求。", "The new password does not meet the rule."),
        PasswordReused => ("新密码不得与最近 5 次密码相同。", "The new password must differ from the last 5."),
        PasswordMismatch => ("两次输入的新密码不一致。", "The two new passwords differ."),
        AdminTitle => ("系统管理", "Administration"),
        AdminAccounts => ("账号", "Accounts"),
        AdminSearch => ("查找", "Search"),
        AdminSearchName => ("用户名或姓名", "User name or name"),
        AdminAnyRole => ("全部角色", "Any role"),
        AdminRegion => ("区域代码", "Region code"),
        AdminUsername => ("用户名", "User name"),
        AdminDisplayName => ("姓名", "Name"),
        AdminRole => ("角色", "Role"),
        AdminScope => ("管辖范围", "Scope"),
        AdminDepartment => ("部门", "Department"),
        AdminClearance => ("密级", "Clearance"),
        AdminState => ("状态", "State"),
        AdminLastSignIn => ("最近登录", "Last sign-in"),
        AdminActions => ("操作", "Actions"),
        AdminEnabled => ("启用", "Active"),
        AdminDisabled => ("已停用", "Disabled"),
        AdminMustChange => ("待改密", "Must change password"),
        AdminNever => ("从未", "never"),
        AdminEdit => ("修改", "Edit"),
        AdminDisable => ("停用", "Disable"),
        AdminEnable => ("启用", "Enable"),
        AdminReset => ("重置密码", "Reset password"),
        AdminEndSessions => ("全部下线", "Sign out everywhere"),
        AdminCreate => ("新建账号", "New account"),
        AdminCreateSubmit => ("创建", "Create"),
        AdminInitialPassword => ("初始密码", "Initial password"),
        AdminSave => ("保存", "Save"),
        AdminBack => ("返回系统管理", "Back to administration"),
        AdminEditTitle => ("修改账号", "Edit account"),
        AdminDevices => ("大屏设备", "Wall displays"),
        AdminDeviceName => ("名称", "Name"),
        AdminDevicePlace => ("位置", "Place"),
        AdminDeviceCode => ("激活码（大屏上显示）", "Activation code (shown on the wall)"),
        AdminDeviceCodeHint => ("在大屏上打开 /device 即显示激活码；不填则生成一次性激活链接。", "Open /device on the wall to see its code; leave empty to get a one-time activation link."),
        AdminIssueDevice => ("登记大屏", "Register display"),
        AdminLastSeen => ("最近在线", "Last seen"),
        AdminShows => ("播放内容", "Shows"),
        AdminRevoke => ("注销", "Revoke"),
        AdminRevoked => ("已注销", "Revoked"),
        AdminDefaultScene => ("综合态势（默认）", "Overview (default)"),
        AdminSessions => ("在线会话", "Sessions"),
        AdminSince => ("登录时间", "Since"),
        AdminFrom => ("来源地址", "From"),
        AdminExpires => ("到期", "Expires"),
        AdminEndSession => ("强制下线", "End"),
        AdminNoRows => ("暂无", "None"),
        AdminCreated => ("账号已创建。", "The account was created."),
        AdminChanged => ("账号已修改。", "The account was changed."),
        AdminUnchanged => ("没有改动。", "Nothing changed."),
        AdminDisabledDone => ("账号已停用，其会话已全部结束。", "The account is disabled and its sessions ended."),
        AdminEnabledDone => ("账号已启用。", "The account is active again."),
        AdminSessionsEnded => ("该账号的会话已全部结束。", "All of the account's sessions ended."),
        AdminSessionEnded => ("会话已结束。", "The session ended."),
        SettingsNav => ("城市设置", "City settings"),
        SettingsTitle => ("城市设置", "City settings"),
        SettingsIntro => ("全市统一的工作日历和流转规则。保存后立即生效（无需重启），已受理案件的办理时限不变；每次修改都记入审计日志。", "The city's working calendar and flow rules. A save applies at once (no restart); deadlines already given to cases stay as promised; every change is audited."),
        SettingsCalendar => ("工作日历", "Working calendar"),
        SettingsHours => ("工作时段", "Working hours"),
        SettingsHoursHint => ("如 08:30-12:00, 13:30-17:30（按时间先后，逗号分隔）", "e.g. 08:30-12:00, 13:30-17:30 (in order, separated by commas)"),
        SettingsHolidays => ("法定节假日（休息）", "Public holidays (days off)"),
        SettingsExtraWorkdays => ("调休上班日", "Make-up working days"),
        SettingsDaysHint => ("每行一个日期，格式 YYYY-MM-DD", "One date per line, YYYY-MM-DD"),
        SettingsFlow => ("流转规则", "Flow rules"),
        SettingsAutoEscalate => ("超期自动升级", "Escalate overdue cases automatically"),
        SettingsEscalateAfter => ("超期多少个工作小时后升级", "Working hours past the deadline before escalating"),
        SettingsSave => ("保存", "Save"),
        SettingsFromFile => ("当前值来自配置文件。", "The current values come from the configuration file."),
        SettingsSavedBy => ("最近修改：", "Last changed:"),
        SettingsSaved => ("设置已保存并生效。", "Settings saved and in force."),
        SettingsUnchanged => ("没有改动。", "Nothing changed."),
        SettingsPreview => ("按当前日历，此刻受理的案件办理时限", "Deadlines of a case taken now, on the calendar in force"),
        SettingsPreviewCategory => ("类别", "Category"),
        SettingsPreviewLimit => ("时限（工作小时）", "Limit (working hours)"),
        SettingsPreviewDue => ("截止时间", "Due"),
        SettingsErrHours => ("工作时段格式应为 HH:MM-HH:MM，按先后排列且不重叠。", "Working hours are HH:MM-HH:MM, in order, not overlapping."),
        SettingsErrDays => ("日期格式应为 YYYY-MM-DD，最多 400 个。", "Dates are YYYY-MM-DD, at most 400."),
        SettingsErrBoth => ("同一天不能既是节假日又是调休上班日：", "A day cannot be both a holiday and a make-up working day: "),
        SettingsErrHoursMax => ("请填写 0 到 960 之间的整数。", "Give a whole number from 0 to 960."),
        AdminDeviceIssued => ("大屏已登记并激活。", "The display is registered and activated."),
        AdminDeviceRevoked => ("大屏已注销。", "The display is revoked."),
        AdminTemporaryTitle => ("临时密码", "Temporary password"),
        AdminTemporaryNote => ("请当面或通过安全渠道告知本人。此密码只显示这一次；本人下次登录时必须设置新密码。该账号的会话已全部结束。", "Tell the person in person or over a safe channel. It is shown this once; they must set a new password at their next sign-in. The account's sessions have ended."),
        AdminActivationLink => ("一次性激活链接（在大屏上打开，只显示这一次）：", "One-time activation link (open it on the wall; shown this once):"),
        AdminErrUsername => ("用户名须为 3 到 40 个字母、数字、点、横线或下划线。", "A user name is 3 to 40 letters, digits, dots, hyphens or underscores."),
        AdminErrTaken => ("该用户名已被使用。", "That user name is taken."),
        AdminErrName => ("请填写姓名（最多 100 个字符）。", "Give a name (at most 100 characters)."),
        AdminErrRole => ("大屏请在“大屏设备”中登记，不能作为账号。", "Wall displays are registered under Wall displays, not as accounts."),
        AdminErrOwn => ("不能修改或停用自己的角色、范围或密级。", "You cannot change or disable your own role, scope or clearance."),
        AdminErrScopeUnknown => ("没有这个区域代码。", "No region has that code."),
        AdminErrScopeOutside => ("该区域不在您的管辖范围内。", "That region is outside your scope."),
        AdminErrClearance => ("不能授予高于您自己的密级。", "You cannot grant a clearance above your own."),
        AdminErrCode => ("没有正在等待的这个激活码（可能已过期，请在大屏上刷新）。", "No display is waiting with that code (it may have expired: reload the page on the wall)."),
        AdminErrGeneric => ("操作未完成：", "Not done: "),
        DeviceTitle => ("大屏激活", "Activate this display"),
        DeviceCodeIntro => ("请管理员在“系统管理 → 大屏设备”中输入以下激活码：", "An administrator enters this code under Administration → Wall displays:"),
        DeviceCodeWaiting => ("等待激活……激活后本屏将自动进入指挥大屏。", "Waiting… this screen opens the wall once activated."),
        DeviceCodeExpired => ("激活码已过期，正在生成新的激活码。", "The code expired; a new one is being made."),
        SceneOverview => ("综合态势", "Overview"),
        SceneFlow => ("事件流转", "Case flow"),
        SceneSafety => ("平安态势", "Safety"),
        SafetySource => ("来源", "Source"),
        SafetyStale => ("数据过期", "stale"),
        SafetyWindow => ("近30天", "last 30 days"),
        SafetyByArea => ("分区视频在线与告警", "Video online and alarms by area"),
        VideoOnlineShort => ("视频在线率", "Video online"),
        AlarmsShort => ("告警数", "Alarms"),
        AxisOnlinePercent => ("在线率（%）", "Online (%)"),
        AxisAlarmCount => ("告警（条）", "Alarms (count)"),
        AxisHours => ("小时", "Hours"),
        AxisCases => ("件", "Cases"),
        FlowSankeyTitle => ("流转（含退回）", "Transitions (with returns)"),
        StageTitle => ("各环节用时（小时）", "Time in each stage (hours)"),
        StageMedian => ("中位数", "Median"),
        StageP90 => ("90分位", "90th percentile"),
        BacklogTitle => ("在办积压（按已办时长）", "Open backlog by age"),
        OnTimeTitle => ("按期办结率（超期未结计为超期）", "On-time rate (open overdue counts as late)"),
        OnTimeRate => ("按期率", "On time"),
        Reported => ("新增", "Reported"),
        Closed => ("结案", "Closed"),
        DueInPeriod => ("到期", "Due"),
        LateOpen => ("超期未结", "Open overdue"),
        Supervised => ("督办", "Supervised"),
        Escalated => ("升级", "Escalated"),
        Returned => ("退回", "Returned"),
        PeriodPrev => ("环比", "vs previous period"),
        PeriodToday => ("今日", "Today"),
        PeriodWeek => ("近7日", "7 days"),
        PeriodMonth => ("近30日", "30 days"),
        PeriodThisYear => ("本年", "This year"),
        PeriodLastYear => ("去年", "Last year"),
        PeriodCustom => ("自定义", "Custom"),
        PeriodApply => ("查询", "Show"),
        QuantileExact => ("精确值", "exact"),
        QuantileApprox => ("误差≤1%", "within 1 %"),
        PeriodYear => ("同比", "vs a year before"),
        NoData => ("无数据", "no data"),
        ByDistrict => ("分区域", "By area"),
        ByDepartment => ("分部门", "By department"),
        ByCategory => ("分类别", "By category"),
        BySource => ("分来源", "By source"),
        NoDepartment => ("未分拨", "Not dispatched"),
        Last7Days => ("近7日", "Last 7 days"),
        DeskTitle => ("基层治理工作台", "Street officer's desk"),
        DeskAlerts => ("超期与即将到期事件", "Overdue and due soon"),
        DeskReports => ("居民上报", "Residents' reports"),
        DeskReferrals => ("法院委派调解", "Court referrals"),
        WarningsTab => ("预警", "Warnings"),
        WarningsEmpty => ("暂无预警", "No warnings"),
        WarningNoteLabel => ("处置情况（处置、关闭时填写）", "What was done (when handling or closing)"),
        WarningNoteRequired => ("请填写处置情况", "Say what was done"),
        WarningRoute => ("责任中心", "Centre to act"),
        WarningRuleActor => ("预警规则", "Warning rule"),
        FitRate => ("达标率", "fit"),
        FitnessTitle => ("网格达标率", "Grids fit (网格达标)"),
        DutyTitle => ("网格员在岗", "Grid workers on duty"),
        DutyByChild => ("各地在岗", "On duty by area"),
        BaseDataUpdated => ("基础数据更新于", "Base data updated"),
        BaseDataNever => ("基础数据未登记", "Base data never recorded"),
        DeskCentre => ("本中心待办", "My centre's queue"),
        CentreHeld => ("在办", "Held"),
        CentreOverdue => ("超期", "Overdue"),
        CaseAddress => ("地址", "Address"),
        StepNoteLabel => ("办理意见（分拨时填写承办部门，办结时填写给居民的答复）", "Note (on dispatch: the department; on resolve: the reply the resident reads)"),
        StepNoteRequired => ("请填写承办部门或给居民的答复", "Name the department, or write the reply to the resident"),
        DeskEmpty => ("暂无超期或即将到期的事件", "Nothing overdue or due soon"),
        Holder => ("当前承办", "Held by"),
        CentreOf => ("综治中心", "governance centre"),
        Deadline => ("办理时限", "Deadline"),
        Timeline => ("办理经过", "Timeline"),
        NoteLabel => ("督办意见", "Supervision note"),
        NoteRequired => ("请填写督办意见", "Write what is expected"),
        ActionDone => ("已记录", "Recorded"),
        ActionFailed => ("操作未完成：", "Not done: "),
        CloseDetail => ("关闭", "Close"),
        RuleActor => ("逾期自动升级", "escalation rule"),
        Priority => ("紧急程度", "Priority"),
        Masked => ("个人信息已脱敏", "Personal data masked"),
        OpenDesk => ("基层工作台", "Officer's desk"),
        GridLastPatrol => ("最近巡查", "Last patrol"),
        GridDuty => ("当前值班", "On duty now"),
        NeverPatrolled => ("从未巡查", "Never patrolled"),
        CoverageTab => ("网格巡查", "Grid patrols"),
        GridsComprehensive => ("全科网格", "Comprehensive grids"),
        GridsDedicated => ("专属网格", "Dedicated grids"),
        Staffed => ("在岗网格员", "Staffed"),
        StaleGrids => ("未按期巡查的网格", "Grids not patrolled"),
        MediationTitle => ("矛盾纠纷调解（分级成功率）", "Dispute mediation by tier"),
        MediationAttempts => ("调解", "Attempts"),
        MediationSettled => ("成功", "Settled"),
        MediationRate => ("成功率", "Rate"),
        DueSoon => ("即将到期", "Due soon"),
        ReportTitle => ("我要反映问题", "Report a problem"),
        ReportIntro => ("向城市反映您身边的问题：选择类别、描述问题、在地图上标出位置。提交后会得到一个编号，凭编号可随时查看办理进度。", "Tell the city about a problem near you: choose its kind, describe it and mark the place on the map. You get a number to follow it with."),
        ReportService => ("问题类别", "Kind of problem"),
        ReportDescription => ("问题描述", "Description"),
        ReportDescriptionHint => ("描述会公开显示，其中的数字（电话、门牌号等）会被隐去。", "The description is shown publicly, with every digit (phone, house numbers) hidden."),
        ReportPlace => ("位置", "Place"),
        ReportPlaceHintCity => ("点击地图选择所在区、县（市），再点击具体位置。", "Click the map to choose your district, then click the exact place."),
        ReportPlaceHintDistrict => ("点击地图上问题所在的位置。", "Click where the problem is."),
        ReportPlaced => ("已选位置：", "Place chosen: "),
        ReportWholeCity => ("返回全市地图", "Back to the whole city"),
        ReportUseLocation => ("使用我的位置", "Use my location"),
        ReportAddress => ("详细地址（不公开；未在地图上选点时请写明街道和社区或村）", "Address (not published; without a place on the map, name the town and the community or village)"),
        ReportContact => ("联系方式（选填，仅工作人员可见）", "Contact (optional, seen by staff only)"),
        ReportName => ("姓名", "Name"),
        ReportPhone => ("电话", "Phone"),
        ReportEmail => ("电子邮箱", "Email"),
        ReportSubmit => ("提交", "Submit"),
        ReportNeedPlace => ("请先在地图上选定位置，或在地址中写明所在社区或村。", "Choose the place on the map first, or write the community or village in the address."),
        ReportCould => ("未能提交：", "Not submitted: "),
        ReportReceived => ("已收到您的反映。请记下编号：", "Received. Keep this number:"),
        ReportProgress => ("办理进度", "Progress"),
        ReportNumber => ("编号", "Number"),
        ReportDeadline => ("办理时限", "Due by"),
        ReportDepartment => ("承办部门", "Department"),
        ReportNotYet => ("待分拨", "Not dispatched yet"),
        ReportOpen => ("办理中", "Open"),
        ReportClosed => ("已办结", "Closed"),
        ReportNotFound => ("未找到该编号的反映。请核对编号。", "No report has this number. Check the number."),
        ReportAnother => ("再反映一个问题", "Report another problem"),
        ReportChoose => ("请选择", "Choose"),
        ReportPhoto => ("现场照片（选填，仅工作人员可见）", "Photo (optional, seen by staff only)"),
        ReportPhotoPick => ("选择照片", "Choose a photo"),
        ReportPhotoReplace => ("换一张照片", "Choose another photo"),
        ReportPhotoHint => ("JPEG 或 PNG，不超过 5 MB。照片中的拍摄位置、时间和设备信息会被删除，不会公开。", "JPEG or PNG, 5 MB at most. Where and when it was taken and the device are removed from it; it is never published."),
        ReportPhotoHeld => ("已附照片，", "Photo attached, "),
        ReportPhotoRemove => ("移除照片", "Remove the photo"),
        ReportPhotoReceived => ("已收到您上传的照片（仅工作人员可见）。", "Your photo was received (seen by staff only)."),
        CasePhoto => ("群众上传的照片", "Resident's photo"),
        RecordTitle => ("城市办理记录", "The city's record"),
        RecordIntro => ("全市及各区县、乡镇（街道）在所选月份或年度受理和办结群众诉求的情况。小于 5 的数字不公开（显示为 <5），并隐去可据以推算的数字。", "Cases reported and closed per district and town in the chosen month or year. Counts under 5 are withheld (shown as <5), with the figures they could be worked back from."),
        RecordMonth => ("月份", "Month"),
        RecordYear => ("年度", "Year"),
        RecordShow => ("查看", "Show"),
        RecordReported => ("受理", "Reported"),
        RecordClosed => ("办结", "Closed"),
        RecordDue => ("到期", "Due"),
        RecordOnTime => ("按时办结", "Closed on time"),
        RecordOnTimeRate => ("按时办结率", "On-time rate"),
        RecordCloseMedian => ("办结用时中位数", "Median time to close"),
        RecordReportLink => ("我要反映问题 →", "Report a problem →"),
        RecordLiveDownloads => ("近 30 日及当前未办结数（各区县、街道）：", "The last 30 days and open cases now (districts, towns):"),
        RecordDictCloseTime => ("办结用时中位数：期间内结案的事件从上报到结案所用时间的中位数；结案不足 5 件的不公布。", "Median time to close: the median time from report to close of the cases closed in the period; not published where fewer than five closed."),
        RecordPrevious => ("环比", "vs. period before"),
        RecordYearAgo => ("同比", "vs. a year before"),
        RecordArea => ("区域", "Area"),
        RecordDistricts => ("各区、县（市）", "Districts"),
        RecordTowns => ("各乡镇（街道）", "Towns and streets"),
        RecordMap => ("各区、县（市）按时办结率", "On-time rate by district"),
        RecordTrend => ("近十二个月受理量", "Cases reported, last twelve months"),
        RecordMediation => ("矛盾纠纷调解（按层级）", "Dispute mediation by tier"),
        RecordTier => ("层级", "Tier"),
        RecordAttempts => ("调解次数", "Attempts"),
        RecordSettled => ("调解成功", "Settled"),
        RecordNoRate => ("数据不足", "Too few"),
        RecordDictionary => ("数据说明", "Data dictionary"),
        RecordDictReported => ("受理：期间内上报的事件数。", "Reported: cases reported in the period."),
        RecordDictClosed => ("办结：期间内结案的事件数。", "Closed: cases closed in the period."),
        RecordDictDue => ("到期：办理时限落在期间内的事件数；按时办结：其中在时限内结案的数。逾期未办结的计为未按时。", "Due: cases whose deadline fell in the period; closed on time: those of them closed by their deadline. Open overdue cases count as late."),
        RecordDictCompare => ("环比：与上一个同样长的期间相比；同比：与一年前同期相比；历史数据不足时不显示。", "Versus the period before of the same length, and the same period a year before; not shown where the stored history does not reach back."),
        RecordDictSuppressed => ("<5：1 至 4 之间的数字及可推算出它的数字不予公开，以免识别到个人。", "<5: counts from 1 to 4, and the figures they could be worked out from, are withheld so that no person can be singled out."),
        RecordBadPeriod => ("所选期间无效：请选择本年及以前三年内的月份或年度。", "That period cannot be shown: choose a month or year within the last three years, not in the future."),
        PublicRecordLink => ("按月、按年的办理记录", "The record by month and year"),
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
        Source::Court => ("法院诉调", "Court referral"),
    };
    pick(lang, zh, en)
}

pub fn indicator(lang: Lang, i: Indicator) -> &'static str {
    let (zh, en) = match i {
        Indicator::VideoOnline => ("视频在线率", "Video channels online"),
        Indicator::Alarm => ("感知与视频告警", "Sensor and video alarms"),
        Indicator::CriminalFiled => ("刑事立案", "Criminal cases filed"),
        Indicator::CriminalSolved => ("刑事破案", "Criminal cases solved"),
        Indicator::SafetySurvey => ("群众安全感", "Sense of safety (survey)"),
        Indicator::PsychServed => ("社会心理服务人次", "Psychological service reach"),
        Indicator::HazardsFound => ("隐患排查", "Hazards found"),
        Indicator::HazardsFixed => ("隐患整治", "Hazards put right"),
        Indicator::MajorIncidents => ("重大案事件（零目标）", "Major incidents (aim: zero)"),
        Indicator::BacklogResolution => ("积案化解率", "Long-standing cases resolved"),
        Indicator::LawSatisfaction => ("法治建设满意度", "Satisfaction with the rule of law"),
    };
    pick(lang, zh, en)
}

pub fn safety(lang: Lang, k: SafetyKey) -> &'static str {
    let (zh, en) = match k {
        SafetyKey::VideoOnline => ("视频在线率", "Video channels online"),
        SafetyKey::Alarms => ("感知与视频告警", "Sensor and video alarms"),
        SafetyKey::Petitions => ("信访件", "Petitions"),
        SafetyKey::PetitionBacklog => ("信访积案", "Petitions still open"),
        SafetyKey::CriminalFiled => ("刑事立案", "Criminal cases filed"),
        SafetyKey::CriminalSolved => ("刑事破案", "Criminal cases solved"),
        SafetyKey::SafetySurvey => ("群众安全感", "Sense of safety (survey)"),
        SafetyKey::PsychServed => ("社会心理服务人次", "Psychological service reach"),
        SafetyKey::HazardsFound => ("隐患排查", "Hazards found"),
        SafetyKey::HazardsFixed => ("隐患整治", "Hazards put right"),
        SafetyKey::MajorIncidents => ("重大案事件（零目标）", "Major incidents (aim: zero)"),
        SafetyKey::BacklogResolution => ("积案化解率", "Long-standing cases resolved"),
        SafetyKey::LawSatisfaction => ("法治建设满意度", "Satisfaction with the rule of law"),
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

pub fn action(lang: Lang, a: Action) -> &'static str {
    let (zh, en) = match a {
        Action::Report => ("上报", "Reported"),
        Action::Accept => ("受理", "Accepted"),
        Action::Dispatch => ("分拨", "Dispatched"),
        Action::Start => ("开始处置", "Handling started"),
        Action::Resolve => ("办结", "Resolved"),
        Action::Verify => ("核查通过", "Verified"),
        Action::Close => ("结案", "Closed"),
        Action::Return => ("退回", "Returned"),
        Action::Escalate => ("升级", "Escalated"),
        Action::Supervise => ("督办", "Supervised"),
        Action::Acknowledge => ("确认告警", "Alert acknowledged"),
        Action::Mediate => ("调解", "Mediation"),
    };
    pick(lang, zh, en)
}

/// The button that takes an oversight action.
/// The line a person reads after signing in about the sign-in before.
pub fn last_sign_in(lang: Lang, l: &crate::model::LastSignIn) -> String {
    let zh = lang == Lang::Zh;
    let when = match (l.at, l.from.as_deref()) {
        (Some(at), Some(from)) if zh => format!("上次登录 {} · 来自 {from}", crate::model::date_time(at)),
        (Some(at), Some(from)) => format!("Last sign-in {} from {from}", crate::model::date_time(at)),
        (Some(at), None) if zh => format!("上次登录 {}", crate::model::date_time(at)),
        (Some(at), None) => format!("Last sign-in {}", crate::model::date_time(at)),
        (None, _) => pick(lang, "首次登录", "First sign-in").to_string(),
    };
    let since = l.at.is_some();
    match l.failed_since {
        0 => when,
        n if zh => format!("{when}；此{}有 {n} 次登录失败，如非本人操作请联系管理员", if since { "后" } else { "前" }),
        n => format!("{when}; {n} failed sign-ins {}: if they were not you, tell an administrator", if since { "since" } else { "before it" }),
    }
}

pub fn action_button(lang: Lang, a: Action) -> &'static str {
    let (zh, en) = match a {
        Action::Escalate => ("升级上报", "Escalate"),
        Action::Supervise => ("督办", "Supervise"),
        Action::Acknowledge => ("确认告警", "Acknowledge"),
        Action::Mediate => ("记录调解结果", "Record the attempt"),
        other => return action(lang, other),
    };
    pick(lang, zh, en)
}

pub fn priority(lang: Lang, p: Priority) -> &'static str {
    let (zh, en) = match p {
        Priority::Urgent => ("特急", "Urgent"),
        Priority::High => ("紧急", "High"),
        Priority::Normal => ("一般", "Normal"),
    };
    pick(lang, zh, en)
}

pub fn timeliness(lang: Lang, t: Timeliness) -> &'static str {
    let (zh, en) = match t {
        Timeliness::OnTime => ("正常", "On time"),
        Timeliness::DueSoon => ("即将到期", "Due soon"),
        Timeliness::Overdue => ("已超期", "Overdue"),
    };
    pick(lang, zh, en)
}

/// Labels of the backlog's age buckets (`model::BACKLOG_AGE_DAYS`).
pub fn backlog_bucket(lang: Lang, i: usize) -> &'static str {
    const ZH: [&str; 5] = ["<1天", "1–3天", "3–7天", "7–14天", "≥14天"];
    const EN: [&str; 5] = ["<1 d", "1–3 d", "3–7 d", "7–14 d", "≥14 d"];
    pick(lang, ZH[i.min(4)], EN[i.min(4)])
}

/// "patrolled in the last N days".
/// The governance centre of a region: "塔山街道综治中心".
/// Why a grid is not fit.
pub fn fitness_gap(lang: Lang, g: crate::model::FitnessGap) -> &'static str {
    use crate::model::FitnessGap as G;
    let (zh, en) = match g {
        G::Vacant => ("网格员空缺", "no grid worker"),
        G::NotPatrolled => ("未按期巡查", "not patrolled in time"),
        G::BaseDataStale => ("基础数据过期", "base data stale"),
    };
    pick(lang, zh, en)
}

/// A grid's duty status now.
pub fn duty_status(lang: Lang, s: crate::duty::DutyStatus) -> &'static str {
    use crate::duty::DutyStatus as S;
    let (zh, en) = match s {
        S::OnDuty => ("在岗", "on duty"),
        S::OnLeave => ("请假", "on leave"),
        S::OffDuty => ("不在班", "off duty"),
        S::Vacant => ("空缺", "vacant"),
    };
    pick(lang, zh, en)
}

/// What the time after a duty status means: the shift's end, the leave's end, the next shift.
pub fn duty_until(lang: Lang, s: crate::duty::DutyStatus) -> &'static str {
    use crate::duty::DutyStatus as S;
    let (zh, en) = match s {
        S::OnDuty => ("值班至", "until"),
        S::OnLeave => ("请假至", "back"),
        S::OffDuty => ("下一班", "next shift"),
        S::Vacant => ("", ""),
    };
    pick(lang, zh, en)
}

pub fn warning_level(lang: Lang, l: crate::warning::WarningLevel) -> &'static str {
    use crate::warning::WarningLevel as L;
    let (zh, en) = match l {
        L::Blue => ("蓝色预警", "Blue"),
        L::Yellow => ("黄色预警", "Yellow"),
        L::Orange => ("橙色预警", "Orange"),
        L::Red => ("红色预警", "Red"),
    };
    pick(lang, zh, en)
}

pub fn warning_state(lang: Lang, s: crate::warning::WarningState) -> &'static str {
    use crate::warning::WarningState as S;
    let (zh, en) = match s {
        S::Raised => ("待签收", "Awaiting acknowledgement"),
        S::Acknowledged => ("已签收", "Acknowledged"),
        S::Handled => ("已处置", "Handled"),
        S::Closed => ("已关闭", "Closed"),
    };
    pick(lang, zh, en)
}

/// A step on a warning: the button, and the line in its record.
pub fn warning_op(lang: Lang, o: crate::warning::WarningOp) -> &'static str {
    use crate::warning::WarningOp as O;
    let (zh, en) = match o {
        O::Raise => ("发出预警", "Raised"),
        O::Acknowledge => ("签收", "Acknowledge"),
        O::Handle => ("处置", "Record handling"),
        O::Close => ("关闭", "Close"),
        O::Escalate => ("超时未签收，上报", "Not acknowledged in time: escalated"),
    };
    pick(lang, zh, en)
}

fn number(x: f64) -> String {
    if x.fract() == 0.0 { format!("{x:.0}") } else { format!("{x:.1}") }
}

/// What a warning found, in a sentence.
pub fn warning_facts(lang: Lang, w: &crate::warning::Warning) -> String {
    use crate::warning::WarningKind as K;
    let f = &w.facts;
    let (v, limit) = (number(f.value), number(f.limit));
    let measure = |m: Option<&str>| -> &'static str {
        let (zh, en) = match m.unwrap_or("") {
            "reported" => ("新增事件", "Cases reported"),
            "closed" => ("办结事件", "Cases closed"),
            "on_time_rate" => ("按期办结率(%)", "On-time rate (%)"),
            "open" => ("在办事件", "Open cases"),
            _ => ("超期事件", "Overdue cases"),
        };
        pick(lang, zh, en)
    };
    match (w.kind, lang) {
        (K::Threshold, Lang::Zh) => format!("{} {v}（阈值 {limit}）", measure(f.measure.as_deref())),
        (K::Threshold, Lang::En) => format!("{} {v} (limit {limit})", measure(f.measure.as_deref())),
        (K::Rise, _) => {
            let before = number(f.before.unwrap_or(0.0));
            let year = f.compare.as_deref() == Some("year");
            match lang {
                Lang::Zh => format!("新增事件 {v}，{} {before}（阈值 +{limit}%）", if year { "去年同期" } else { "上周同期" }),
                Lang::En => format!("Cases reported {v} against {before} {} (limit +{limit}%)", if year { "a year before" } else { "a week before" }),
            }
        }
        (K::Cluster, _) => {
            let cat = f.category.map(|c| category(lang, c)).unwrap_or("");
            let minutes = f.minutes.unwrap_or(0);
            match lang {
                Lang::Zh => format!("{minutes}分钟内{cat} {v} 起（阈值 {limit}）"),
                Lang::En => format!("{cat}: {v} within {minutes} minutes (limit {limit})"),
            }
        }
        (K::FeedSilent, Lang::Zh) => format!("数据源 {} 超过约定周期未更新", f.feed.as_deref().unwrap_or("")),
        (K::FeedSilent, Lang::En) => format!("Feed {} silent past its cadence", f.feed.as_deref().unwrap_or("")),
    }
}

/// When an unacknowledged warning goes up a level, and how often it has.
pub fn warning_escalation(lang: Lang, w: &crate::warning::Warning) -> Option<String> {
    let at = w.escalate_at.map(crate::model::date_time);
    match (lang, at, w.escalations) {
        (_, None, 0) => None,
        (Lang::Zh, Some(at), 0) => Some(format!("{at} 前未签收将上报")),
        (Lang::Zh, Some(at), n) => Some(format!("已上报 {n} 次 · {at} 前未签收将再上报")),
        (Lang::Zh, None, n) => Some(format!("已上报 {n} 次")),
        (Lang::En, Some(at), 0) => Some(format!("escalates at {at} unless acknowledged")),
        (Lang::En, Some(at), n) => Some(format!("escalated {n}× · again at {at} unless acknowledged")),
        (Lang::En, None, n) => Some(format!("escalated {n}×")),
    }
}

pub fn centre_name(lang: Lang, region: &str) -> String {
    match lang {
        Lang::Zh => format!("{region}综治中心"),
        Lang::En => format!("{region} governance centre"),
    }
}

/// A centre's deadlines met: "近30日按期办结 12/15（80%）".
pub fn centre_on_time(lang: Lang, days: u32, on_time: u32, due: u32) -> String {
    let share = if due > 0 { format!("{:.0}%", f64::from(on_time) * 100.0 / f64::from(due)) } else { "—".to_string() };
    match lang {
        Lang::Zh => format!("近{days}日按期办结 {on_time}/{due}（{share}）"),
        Lang::En => format!("On time in {days} days {on_time}/{due} ({share})"),
    }
}

pub fn patrolled_within(lang: Lang, days: u32) -> String {
    match lang {
        Lang::Zh => format!("近{days}日已巡查"),
        Lang::En => format!("Patrolled in {days} days"),
    }
}

/// Sign-in refused for a while: "try again in N seconds".
pub fn login_wait(lang: Lang, seconds: i64) -> String {
    match lang {
        Lang::Zh => format!("尝试次数过多，请 {seconds} 秒后再试。"),
        Lang::En => format!("Too many attempts; try again in {seconds} seconds."),
    }
}

/// "N in all".
pub fn in_all(lang: Lang, n: u32) -> String {
    match lang {
        Lang::Zh => format!("共{n}个"),
        Lang::En => format!("{n} in all"),
    }
}

pub fn tier(lang: Lang, t: Tier) -> &'static str {
    let (zh, en) = match t {
        Tier::Reconciliation => ("自行和解", "Reconciliation"),
        Tier::Village => ("村（社区）调解", "Village mediation"),
        Tier::Town => ("乡镇（街道）调解", "Town mediation"),
        Tier::County => ("县级调解", "County mediation"),
        Tier::Judicial => ("司法确认", "Judicial confirmation"),
        Tier::Litigation => ("诉讼", "Litigation"),
    };
    pick(lang, zh, en)
}

pub fn outcome(lang: Lang, o: Outcome) -> &'static str {
    let (zh, en) = match o {
        Outcome::Settled => ("成功", "settled"),
        Outcome::Failed => ("未成功", "failed"),
    };
    pick(lang, zh, en)
}

/// What residents may report under each service (the Open311 service description).
pub fn service_description(lang: Lang, c: Category) -> &'static str {
    let (zh, en) = match c {
        Category::Dispute => ("邻里、物业、劳资、婚姻家庭等矛盾纠纷，请求调解", "Disputes between neighbours, with property managers or employers, in families: ask for mediation"),
        Category::Hazard => ("消防通道堵塞、井盖缺失、危房、电线私拉乱接等安全隐患", "Hazards: blocked fire lanes, missing manhole covers, unsafe buildings, illegal wiring"),
        Category::PublicOrder => ("噪声扰民、占道经营、聚众滋事等治安秩序问题", "Public order: noise, street stalls blocking the way, brawls"),
        Category::Environment => ("垃圾堆放、污水、违规焚烧等环境卫生问题", "Environment: rubbish, sewage, open burning"),
        Category::Livelihood => ("供水供电、道路设施、公共服务等民生诉求", "Livelihood: water and power, roads, public services"),
    };
    pick(lang, zh, en)
}

/// Why a resident's report or a read of the city's requests was refused.
/// How exact the published medians are.
pub fn close_error(lang: Lang, bound: f64) -> String {
    let pct = format!("{:.1}%", bound * 100.0);
    match lang {
        Lang::Zh => format!("中位数由可合并的分布摘要算出，相对误差不超过 {pct}；各项件数均为精确值。"),
        _ => format!("Medians come from mergeable distribution summaries, within {pct} relative error; every count is exact."),
    }
}

pub fn refusal(lang: Lang, r: &crate::residents::Refusal) -> String {
    use crate::residents::Refusal::*;
    let zh = lang == Lang::Zh;
    match r {
        Missing(f) if zh => format!("缺少必填项 {}", f.name()),
        Missing(f) => format!("{} is required", f.name()),
        Invalid(f) if zh => format!("{} 的格式不正确", f.name()),
        Invalid(f) => format!("{} is not in the form it takes", f.name()),
        TooLong(f, n) if zh => format!("{} 超过 {n} 个字符", f.name()),
        TooLong(f, n) => format!("{} is longer than {n} characters", f.name()),
        PeriodTooLong(d) if zh => format!("查询时段不能超过 {d} 天"),
        PeriodTooLong(d) => format!("a read covers {d} days at most"),
        TooMany(s) if zh => format!("提交过于频繁，请 {s} 秒后再试"),
        TooMany(s) => format!("too many reports; try again in {s} seconds"),
        AddressVague(r) if zh => format!("地址只写到了{r}：请写明所在社区或村，或在地图上选点"),
        AddressVague(r) => format!("the address names only {r}: name the community or village, or place it on the map"),
        AddressAmbiguous(list) if zh => format!("地址对应多处（{}……）：请写明所在街道（乡镇），或在地图上选点", list.join("、")),
        AddressAmbiguous(list) => format!("the address fits several places ({}…): name the town too, or place it on the map", list.join(", ")),
        PhotoTooLarge(mb) if zh => format!("照片超过 {mb} MB，请换一张较小的照片"),
        PhotoTooLarge(mb) => format!("the photo is larger than {mb} MB; choose a smaller one"),
        other => {
            let (zh_text, en_text) = match other {
                UnknownService => ("service_code 不是本市受理的问题类别", "service_code is not one of the city's services"),
                NoPlace => ("请提供位置：lat 与 long（WGS-84）、写明社区或村的地址 address_string，或网格编码 address_id", "give the place: lat and long (WGS-84), an address_string naming the community or village, or a grid code as address_id"),
                AddressUnknown => ("地址中没有本市的区县、街道（乡镇）、社区或村名：请写明所在社区或村，或在地图上选点", "the address names no district, town, community or village of the city: name the community or village, or place it on the map"),
                OutsideCity => ("该位置不在本市范围内", "the place is outside the city"),
                UnknownJurisdiction => ("jurisdiction_id 不是本平台服务的辖区", "jurisdiction_id is not served here"),
                KeyRequired => ("本市要求提供有效的 api_key", "the city requires a valid api_key"),
                KeyInvalid => ("api_key 无效或已被撤销", "api_key is not valid or was revoked"),
                NotFound => ("未找到", "not found"),
                PhotoType => ("照片须为 JPEG 或 PNG 格式的完整图片", "the photo must be a whole JPEG or PNG image"),
                PhotoExpired => ("之前附上的照片已失效（只保留一天），请重新选择照片，或移除后再提交", "the photo attached earlier is gone (it is kept for a day); choose it again, or remove it and submit"),
                NotAForm => ("请求体须为表单编码（application/x-www-form-urlencoded）", "the body must be form-encoded (application/x-www-form-urlencoded)"),
                _ => ("服务暂不可用，请稍后再试；本次未保存任何内容", "the service is unavailable; nothing was taken, try again later"),
            };
            pick(lang, zh_text, en_text).to_string()
        }
    }
}

/// A question of the residents' report form (an Open311 attribute of a service).
pub fn report_question(lang: Lang, code: &str) -> &'static str {
    let (zh, en) = match code {
        "ongoing" => ("问题现在是否仍在发生？", "Is it still happening now?"),
        "parties" => ("涉及多少人？", "How many people are involved?"),
        _ => ("", ""),
    };
    pick(lang, zh, en)
}

/// An answer to a report question (for a value list; the number itself otherwise), or with `key` empty
/// how the answer is introduced in the case's summary.
pub fn report_answer(lang: Lang, code: &str, key: &str) -> String {
    let (zh, en) = match (code, key) {
        ("ongoing", "") => ("", ""),
        ("ongoing", "yes") => ("仍在持续", "Still happening"),
        ("ongoing", "no") => ("已经停止", "Has stopped"),
        ("parties", "") => ("涉及人数：", "People involved: "),
        (_, number) => return number.to_string(),
    };
    pick(lang, zh, en).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::LastSignIn;

    #[test]
    fn the_line_after_sign_in_says_when_from_where_and_what_failed() {
        // 2025-12-01 09:12 in Shanghai.
        let at = Some(1_764_551_520_000);
        let from = Some("10.3.0.7".to_string());
        let calm = LastSignIn { at, from: from.clone(), failed_since: 0 };
        assert_eq!(last_sign_in(Lang::Zh, &calm), "上次登录 2025-12-01 09:12 · 来自 10.3.0.7");
        let tried = LastSignIn { at, from, failed_since: 3 };
        assert!(last_sign_in(Lang::Zh, &tried).ends_with("此后有 3 次登录失败，如非本人操作请联系管理员"));
        assert!(last_sign_in(Lang::En, &tried).contains("3 failed sign-ins since"));
        let first = LastSignIn { at: None, from: None, failed_since: 1 };
        assert_eq!(last_sign_in(Lang::En, &first), "First sign-in; 1 failed sign-ins before it: if they were not you, tell an administrator");
        assert_eq!(last_sign_in(Lang::Zh, &LastSignIn::default()), "首次登录");
    }
}

pub fn role(lang: Lang, r: crate::model::Role) -> &'static str {
    use crate::model::Role::*;
    let (zh, en) = match r {
        CityLeader => ("市级领导", "City leader"),
        DistrictOfficial => ("区县干部", "District official"),
        StreetOfficial => ("街镇干部", "Street official"),
        CommunityStaff => ("社区工作者", "Community staff"),
        DepartmentStaff => ("部门人员", "Department staff"),
        Auditor => ("审计员", "Auditor"),
        Admin => ("管理员", "Administrator"),
        WallDevice => ("大屏设备", "Wall display"),
    };
    pick(lang, zh, en)
}

pub fn clearance(lang: Lang, c: crate::model::Clearance) -> &'static str {
    use crate::model::Clearance::*;
    let (zh, en) = match c {
        Public => ("公开", "Public"),
        Internal => ("内部", "Internal"),
        Sensitive => ("敏感", "Sensitive"),
        Restricted => ("受限", "Restricted"),
    };
    pick(lang, zh, en)
}

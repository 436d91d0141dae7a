//! Configuration, layered: built-in defaults → TOML file → environment (`COCKPIT_*`) → command line.
//! `cockpit --print-config` prints the defaults as TOML, ready to edit.
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Address to listen on; port 0 picks a free port (printed at start).
    pub listen: SocketAddr,
    /// Where the SQLite database lives (created if missing), and the engine's snapshots.
    pub data_dir: PathBuf,
    /// The shared store instead of SQLite (scale-out).
    pub store: StoreConfig,
    /// Several instances on the shared store: the bus they tell each other on.
    pub bus: BusConfig,
    /// The built site (pkg/, assets/), produced by scripts/build.sh.
    pub site_root: PathBuf,
    /// The region code at the top of the default scope (the whole demo city).
    pub city: String,
    pub demo: DemoConfig,
    pub access: AccessConfig,
    /// Sign-in through the city's identity platform (OpenID Connect); off unless `issuer` is set.
    pub oidc: crate::auth::oidc::OidcConfig,
    /// The working calendar case deadlines are counted on.
    pub calendar: crate::calendar::CalendarConfig,
    /// Due-soon and escalation of late cases.
    pub flow: crate::rules::FlowConfig,
    /// Early warning: how often the rules run, how long a centre has to acknowledge, and the
    /// `[[warnings.rules]]` themselves (see `warning::rule`).
    pub warnings: crate::warning::rule::WarningsConfig,
    pub retention: RetentionConfig,
    pub live: LiveConfig,
    pub engine: EngineConfig,
    /// Residents' reports and the Open311 server.
    pub residents: crate::residents::ResidentsConfig,
    /// What time the server takes it to be: the system clock unless pinned (demos, rehearsals, tests).
    pub clock: crate::clock::ClockConfig,
    /// The city's systems to take data from: `[[feeds]]` entries, each with `name`, `type` (see
    /// `feeds::kinds`), its kind's keys, `cadence_seconds`, `paused` and a `[feeds.mapping]`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub feeds: Vec<toml::Table>,
    /// The file this config was read from (reloading feeds re-reads it).
    #[serde(skip)]
    pub file: Option<PathBuf>,
}

/// Which store holds the city: SQLite in `data_dir` unless a PostgreSQL URL is given.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StoreConfig {
    /// `postgres://user@host:port/database`; the password from `COCKPIT_STORE_PASSWORD` (or the
    /// environment's `PGPASSWORD`), never from this file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// From the environment only.
    #[serde(skip)]
    pub password: Option<String>,
}

/// The NATS JetStream bus of instances sharing a PostgreSQL store (`cluster`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BusConfig {
    /// `nats://host:4222` or `tls://…`; user and password or a token may be given in it from the
    /// environment (`COCKPIT_BUS_NATS`), or a `.creds` file below.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nats: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credentials_file: Option<String>,
    /// This instance's name on the bus and in logs (default: host and process id).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance: Option<String>,
}

/// Sessions and cookies.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AccessConfig {
    /// A session ends this many hours after sign-in.
    pub session_hours: i64,
    /// Mark cookies Secure; turn on whenever the cockpit is served over TLS (directly or behind a proxy).
    pub secure_cookies: bool,
    /// Bearer token for Prometheus at /metrics (unset: only signed-in administrators may read it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metrics_token: Option<String>,
    /// Days a password lasts before it must be changed at sign-in (0: it does not expire).
    pub password_max_days: u32,
    /// A session ends after this many minutes without the person's input (0: only `session_hours`).
    /// Background reads of an open page (lists re-read, live streams) are not input.
    pub idle_minutes: u32,
    /// Who must give a second factor (TOTP) at sign-in: `off`, `administrators` (administrators and
    /// auditors, as 等保 2.0 level 3 asks) or `everyone`.
    pub two_factor: TwoFactor,
}

impl Default for AccessConfig {
    fn default() -> Self {
        AccessConfig { session_hours: 12, secure_cookies: false, metrics_token: None, password_max_days: 0, idle_minutes: 30, two_factor: TwoFactor::Administrators }
    }
}

/// Who must sign in with a second factor.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TwoFactor {
    Off,
    Administrators,
    Everyone,
}

impl std::str::FromStr for TwoFactor {
    type Err = ConfigError;
    fn from_str(s: &str) -> Result<Self, ConfigError> {
        match s.trim() {
            "off" => Ok(TwoFactor::Off),
            "administrators" => Ok(TwoFactor::Administrators),
            "everyone" => Ok(TwoFactor::Everyone),
            other => Err(ConfigError(format!("two_factor {other:?}: expected off, administrators or everyone"))),
        }
    }
}

/// Live streams (`/api/live`): how many may be open, so that they never starve sign-in, health checks
/// and feeds of connections. The total is also held below the process's descriptor limit.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LiveConfig {
    pub max_streams: u32,
    /// Streams one person or wall device may hold open at once.
    pub max_streams_per_viewer: u32,
}

impl Default for LiveConfig {
    fn default() -> Self {
        LiveConfig { max_streams: 10_000, max_streams_per_viewer: 16 }
    }
}

/// The indicator engine: how often its snapshot is written (a restart reads the snapshot and only the
/// events stored after it).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EngineConfig {
    pub snapshot_minutes: u32,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig { snapshot_minutes: 10 }
    }
}

/// How long what must not be kept for ever is kept.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RetentionConfig {
    /// Days a quarantined feed record (kept as the source sent it, personal data and all, for replay)
    /// is kept before it is deleted.
    pub quarantine_days: u32,
    /// Days the audit log is kept before its oldest entries are deleted: at least `AUDIT_MIN_DAYS`
    /// (180, as 等保 2.0 and the Cybersecurity Law ask; a shorter setting is refused at start).
    pub audit_days: u32,
}

/// The shortest audit retention the server accepts.
pub const AUDIT_MIN_DAYS: u32 = 180;

impl Default for RetentionConfig {
    fn default() -> Self {
        RetentionConfig { quarantine_days: 30, audit_days: AUDIT_MIN_DAYS }
    }
}

/// The built-in demo feed that plays the city's systems.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DemoConfig {
    pub enabled: bool,
    /// New cases per minute across the city while running.
    pub rate_per_minute: f64,
    /// Days of history created with an empty database.
    pub backfill_days: u32,
    /// New cases per minute in that history.
    pub backfill_rate_per_minute: f64,
    /// Seed of the case generator; the same seed gives the same cases.
    pub seed: u64,
    /// Also run the city's other systems simulated (hotline, alarms, video, statistics, petitions) and
    /// read them through real feeds, when no `[[feeds]]` are configured.
    pub systems: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: "127.0.0.1:3000".parse().expect("valid default address"),
            data_dir: PathBuf::from("data"),
            store: StoreConfig::default(),
            bus: BusConfig::default(),
            site_root: PathBuf::from("target/site"),
            city: "330600".into(),
            demo: DemoConfig::default(),
            access: AccessConfig::default(),
            oidc: crate::auth::oidc::OidcConfig::default(),
            calendar: crate::calendar::CalendarConfig::default(),
            flow: crate::rules::FlowConfig::default(),
            warnings: crate::warning::rule::WarningsConfig::default(),
            retention: RetentionConfig::default(),
            clock: crate::clock::ClockConfig::default(),
            live: LiveConfig::default(),
            engine: EngineConfig::default(),
            residents: crate::residents::ResidentsConfig::default(),
            feeds: Vec::new(),
            file: None,
        }
    }
}

impl DemoConfig {
    /// Rates are cases per minute: zero (no new cases) or more.
    fn check(&self) -> Result<(), ConfigError> {
        for (key, v) in [("demo.rate_per_minute", self.rate_per_minute), ("demo.backfill_rate_per_minute", self.backfill_rate_per_minute)] {
            if !(v.is_finite() && v >= 0.0) {
                return Err(ConfigError(format!("{key} = {v}: expected cases per minute, 0 (none) or more")));
            }
        }
        Ok(())
    }
}

impl Default for DemoConfig {
    fn default() -> Self {
        DemoConfig { enabled: true, rate_per_minute: 2.0, backfill_days: 30, backfill_rate_per_minute: 2.0, seed: 2026, systems: true }
    }
}

#[derive(Debug)]
pub struct ConfigError(pub String);

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConfigError {}

/// What the command line asked for.
#[derive(Debug, Default, PartialEq)]
pub struct Args {
    pub config_file: Option<PathBuf>,
    pub listen: Option<String>,
    pub data_dir: Option<PathBuf>,
    pub print_config: bool,
    pub help: bool,
}

pub const USAGE: &str = "usage: cockpit [--config FILE] [--listen ADDR] [--data-dir DIR] [--print-config]
  environment: COCKPIT_CONFIG, COCKPIT_LISTEN, COCKPIT_DATA_DIR, COCKPIT_STORE_URL, COCKPIT_STORE_PASSWORD, COCKPIT_BUS_NATS, COCKPIT_INSTANCE, COCKPIT_SITE_ROOT, COCKPIT_CITY,
               COCKPIT_SECURE_COOKIES, COCKPIT_METRICS_TOKEN, COCKPIT_DEMO_ENABLED, COCKPIT_DEMO_RATE_PER_MINUTE, COCKPIT_DEMO_BACKFILL_DAYS,
               COCKPIT_DEMO_BACKFILL_RATE_PER_MINUTE, COCKPIT_DEMO_SEED,
               COCKPIT_DEMO_SYSTEMS, COCKPIT_QUARANTINE_DAYS, COCKPIT_CLOCK_START, COCKPIT_CLOCK_RATE";

pub fn parse_args(args: impl IntoIterator<Item = String>) -> Result<Args, ConfigError> {
    let mut out = Args::default();
    let mut it = args.into_iter();
    while let Some(a) = it.next() {
        let mut value = |name: &str| it.next().ok_or_else(|| ConfigError(format!("{name} needs a value\n{USAGE}")));
        match a.as_str() {
            "--config" => out.config_file = Some(value("--config")?.into()),
            "--listen" => out.listen = Some(value("--listen")?),
            "--data-dir" => out.data_dir = Some(value("--data-dir")?.into()),
            "--print-config" => out.print_config = true,
            "-h" | "--help" => out.help = true,
            other => return Err(ConfigError(format!("unknown argument {other:?}\n{USAGE}"))),
        }
    }
    Ok(out)
}

impl Config {
    /// Defaults, then the TOML file (from --config or COCKPIT_CONFIG), then the environment, then flags.
    pub fn load(args: &Args, env: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let file = args.config_file.clone().or_else(|| env("COCKPIT_CONFIG").map(PathBuf::from));
        let mut cfg = match file {
            Some(path) => {
                let text = std::fs::read_to_string(&path)
                    .map_err(|e| ConfigError(format!("cannot read config file {}: {e}", path.display())))?;
                let mut cfg = Config::from_toml(&text).map_err(|e| ConfigError(format!("config file {}: {e}", path.display())))?;
                cfg.file = Some(path);
                cfg
            }
            None => Config::default(),
        };
        cfg.apply_env(env)?;
        if let Some(l) = &args.listen {
            cfg.listen = parse_addr("--listen", l)?;
        }
        if let Some(d) = &args.data_dir {
            cfg.data_dir = d.clone();
        }
        Ok(cfg)
    }

    /// Reads a config; `[[feeds]]` entries are checked here too (kind and keys), so a bad feed fails
    /// the start with its name.
    pub fn from_toml(text: &str) -> Result<Config, ConfigError> {
        let cfg: Config = toml::from_str(text).map_err(|e| ConfigError(e.to_string()))?;
        if cfg.retention.quarantine_days == 0 {
            return Err(ConfigError("retention.quarantine_days must be at least 1".into()));
        }
        if cfg.retention.audit_days < AUDIT_MIN_DAYS {
            return Err(ConfigError(format!("retention.audit_days must be at least {AUDIT_MIN_DAYS} (audit records are kept six months at least)")));
        }
        if cfg.live.max_streams == 0 || cfg.live.max_streams_per_viewer == 0 {
            return Err(ConfigError("live.max_streams and live.max_streams_per_viewer must be at least 1".into()));
        }
        if let Some(url) = &cfg.store.url {
            crate::store::PgStore::check_url(url, true).map_err(ConfigError)?;
        }
        if let Some(url) = &cfg.bus.nats {
            crate::feeds::nats::client::check_url(url).map_err(|e| ConfigError(format!("bus.nats {e}")))?;
            if cfg.store.url.is_none() {
                return Err(ConfigError("bus.nats joins instances that share a store: set store.url too".into()));
            }
        }
        crate::feeds::registry::FeedSpec::parse_all(&cfg.feeds).map_err(ConfigError)?;
        cfg.demo.check()?;
        crate::clock::Clock::from_config(&cfg.clock).map_err(ConfigError)?;
        cfg.oidc.check().map_err(|e| ConfigError(format!("oidc: {e}")))?;
        Ok(cfg)
    }

    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).expect("config serialises")
    }

    fn apply_env(&mut self, env: impl Fn(&str) -> Option<String>) -> Result<(), ConfigError> {
        fn num<T: std::str::FromStr>(key: &str, v: &str) -> Result<T, ConfigError> {
            v.parse().map_err(|_| ConfigError(format!("{key}={v:?} is not a valid number")))
        }
        if let Some(v) = env("COCKPIT_LISTEN") {
            self.listen = parse_addr("COCKPIT_LISTEN", &v)?;
        }
        if let Some(v) = env("COCKPIT_DATA_DIR") {
            self.data_dir = v.into();
        }
        if let Some(v) = env("COCKPIT_STORE_URL") {
            self.store.url = Some(v).filter(|v| !v.is_empty());
        }
        if let Some(v) = env("COCKPIT_STORE_PASSWORD").or_else(|| env("PGPASSWORD")) {
            self.store.password = Some(v).filter(|v| !v.is_empty());
        }
        if let Some(v) = env("COCKPIT_BUS_NATS") {
            self.bus.nats = Some(v).filter(|v| !v.is_empty());
        }
        if let Some(v) = env("COCKPIT_INSTANCE") {
            self.bus.instance = Some(v).filter(|v| !v.is_empty());
        }
        if let Some(v) = env("COCKPIT_SITE_ROOT") {
            self.site_root = v.into();
        }
        if let Some(v) = env("COCKPIT_CITY") {
            self.city = v;
        }
        if let Some(v) = env("COCKPIT_METRICS_TOKEN") {
            self.access.metrics_token = Some(v).filter(|v| !v.is_empty());
        }
        if let Some(v) = env("COCKPIT_SECURE_COOKIES") {
            self.access.secure_cookies = matches!(v.as_str(), "1" | "true" | "yes" | "on");
        }
        if let Some(v) = env("COCKPIT_DEMO_ENABLED") {
            self.demo.enabled = match v.as_str() {
                "1" | "true" | "yes" | "on" => true,
                "0" | "false" | "no" | "off" => false,
                _ => return Err(ConfigError(format!("COCKPIT_DEMO_ENABLED={v:?}: expected true or false"))),
            };
        }
        if let Some(v) = env("COCKPIT_DEMO_RATE_PER_MINUTE") {
            self.demo.rate_per_minute = num("COCKPIT_DEMO_RATE_PER_MINUTE", &v)?;
        }
        if let Some(v) = env("COCKPIT_DEMO_BACKFILL_DAYS") {
            self.demo.backfill_days = num("COCKPIT_DEMO_BACKFILL_DAYS", &v)?;
        }
        if let Some(v) = env("COCKPIT_DEMO_BACKFILL_RATE_PER_MINUTE") {
            self.demo.backfill_rate_per_minute = num("COCKPIT_DEMO_BACKFILL_RATE_PER_MINUTE", &v)?;
        }
        if let Some(v) = env("COCKPIT_DEMO_SYSTEMS") {
            self.demo.systems = matches!(v.as_str(), "1" | "true" | "yes" | "on");
        }
        if let Some(v) = env("COCKPIT_QUARANTINE_DAYS") {
            self.retention.quarantine_days = num("COCKPIT_QUARANTINE_DAYS", &v)?;
            if self.retention.quarantine_days == 0 {
                return Err(ConfigError("COCKPIT_QUARANTINE_DAYS must be at least 1".into()));
            }
        }
        if let Some(v) = env("COCKPIT_AUDIT_DAYS") {
            self.retention.audit_days = num("COCKPIT_AUDIT_DAYS", &v)?;
            if self.retention.audit_days < AUDIT_MIN_DAYS {
                return Err(ConfigError(format!("COCKPIT_AUDIT_DAYS must be at least {AUDIT_MIN_DAYS}")));
            }
        }
        if let Some(v) = env("COCKPIT_OIDC_CLIENT_SECRET") {
            self.oidc.client_secret = Some(v).filter(|v| !v.is_empty());
        }
        if let Some(v) = env("COCKPIT_IDLE_MINUTES") {
            self.access.idle_minutes = num("COCKPIT_IDLE_MINUTES", &v)?;
        }
        if let Some(v) = env("COCKPIT_TWO_FACTOR") {
            self.access.two_factor = v.parse().map_err(|e: ConfigError| ConfigError(format!("COCKPIT_TWO_FACTOR: {}", e.0)))?;
        }
        if let Some(v) = env("COCKPIT_DEMO_SEED") {
            self.demo.seed = num("COCKPIT_DEMO_SEED", &v)?;
        }
        if let Some(v) = env("COCKPIT_CLOCK_START") {
            self.clock.start = Some(v).filter(|v| !v.trim().is_empty());
        }
        if let Some(v) = env("COCKPIT_CLOCK_RATE") {
            self.clock.rate = num("COCKPIT_CLOCK_RATE", &v)?;
        }
        self.demo.check()?;
        crate::clock::Clock::from_config(&self.clock).map_err(ConfigError)?;
        Ok(())
    }
}

fn parse_addr(key: &str, v: &str) -> Result<SocketAddr, ConfigError> {
    v.parse().map_err(|_| ConfigError(format!("{key}={v:?}: expected an address like 127.0.0.1:3000")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printed_defaults_read_back_unchanged() {
        let text = Config::default().to_toml();
        assert_eq!(Config::from_toml(&text).unwrap(), Config::default());
    }

    #[test]
    fn layers_apply_in_order() {
        let args = parse_args(["--listen".to_string(), "0.0.0.0:8080".to_string()]).unwrap();
        let env = |k: &str| match k {
            "COCKPIT_LISTEN" => Some("127.0.0.1:9".to_string()),
            "COCKPIT_DEMO_RATE_PER_MINUTE" => Some("60".to_string()),
            _ => None,
        };
        let cfg = Config::load(&args, env).unwrap();
        assert_eq!(cfg.listen.to_string(), "0.0.0.0:8080", "flags beat the environment");
        assert_eq!(cfg.demo.rate_per_minute, 60.0);
        assert_eq!(cfg.demo.backfill_days, 30, "untouched keys keep their defaults");
    }

    #[test]
    fn the_store_url_comes_from_the_file_and_its_password_only_from_the_environment() {
        let cfg = Config::from_toml("[store]\nurl = \"postgres://cockpit@db.intra:5432/cockpit\"\n").unwrap();
        assert_eq!(cfg.store.url.as_deref(), Some("postgres://cockpit@db.intra:5432/cockpit"));
        let e = Config::from_toml("[store]\nurl = \"postgres://cockpit:s3cret@db.intra/cockpit\"\n").unwrap_err();
        assert!(e.0.contains("COCKPIT_STORE_PASSWORD") && !e.0.contains("s3cret"), "refused without repeating the secret: {e}");
        assert!(Config::from_toml("[store]\nurl = \"mysql://db/cockpit\"\n").unwrap_err().0.contains("postgres://"));
        let env = |k: &str| match k {
            "COCKPIT_STORE_URL" => Some("postgres://cockpit@db2/cockpit".to_string()),
            "COCKPIT_STORE_PASSWORD" => Some("s3cret".to_string()),
            _ => None,
        };
        let cfg = Config::load(&Args::default(), env).unwrap();
        assert_eq!((cfg.store.url.as_deref(), cfg.store.password.as_deref()), (Some("postgres://cockpit@db2/cockpit"), Some("s3cret")));
        assert!(!cfg.to_toml().contains("s3cret"), "a printed config never holds the password");
        assert!(Config::default().to_toml().parse::<toml::Table>().unwrap().get("store").is_some_and(|t| t.as_table().is_some_and(|t| t.is_empty())), "SQLite unless a URL is given");
    }

    #[test]
    fn unknown_keys_and_bad_values_are_named() {
        let e = Config::from_toml("[demo]\nrate = 5\n").unwrap_err();
        assert!(e.0.contains("unknown field `rate`"), "{e}");
        assert!(Config::from_toml("[demo]\nrate_per_minute = -1.0\n").unwrap_err().0.contains("demo.rate_per_minute"));
        let e = Config::load(&Args::default(), |k| (k == "COCKPIT_DEMO_BACKFILL_RATE_PER_MINUTE").then(|| "NaN".into())).unwrap_err();
        assert!(e.0.contains("demo.backfill_rate_per_minute"), "{e}");
        let e = Config::load(&Args::default(), |k| (k == "COCKPIT_DEMO_ENABLED").then(|| "maybe".into())).unwrap_err();
        assert!(e.0.contains("COCKPIT_DEMO_ENABLED"), "{e}");
        assert!(parse_args(["--bogus".to_string()]).is_err());
        assert!(Config::from_toml("[retention]\nquarantine_days = 0\n").unwrap_err().0.contains("quarantine_days"));
        let cfg = Config::load(&Args::default(), |k| (k == "COCKPIT_QUARANTINE_DAYS").then(|| "7".into())).unwrap();
        assert_eq!(cfg.retention.quarantine_days, 7);
        // Audit records are kept six months at least; second factors and idle time-out are named.
        assert!(Config::from_toml("[retention]\naudit_days = 179\n").unwrap_err().0.contains("audit_days must be at least 180"));
        assert_eq!(Config::from_toml("[retention]\naudit_days = 400\n").unwrap().retention.audit_days, 400);
        assert!(Config::load(&Args::default(), |k| (k == "COCKPIT_AUDIT_DAYS").then(|| "30".into())).unwrap_err().0.contains("at least 180"));
        assert!(Config::from_toml("[access]\ntwo_factor = \"sometimes\"\n").unwrap_err().0.contains("two_factor"));
        let cfg = Config::load(&Args::default(), |k| match k {
            "COCKPIT_TWO_FACTOR" => Some("everyone".into()),
            "COCKPIT_IDLE_MINUTES" => Some("15".into()),
            _ => None,
        })
        .unwrap();
        assert_eq!((cfg.access.two_factor, cfg.access.idle_minutes), (TwoFactor::Everyone, 15));
        assert!(Config::load(&Args::default(), |k| (k == "COCKPIT_TWO_FACTOR").then(|| "maybe".into())).unwrap_err().0.contains("COCKPIT_TWO_FACTOR"));
        let e = Config::load(&Args::default(), |k| (k == "COCKPIT_CLOCK_START").then(|| "yesterday".into())).unwrap_err();
        assert!(e.0.contains("RFC 3339"), "{e}");
        assert!(Config::from_toml("[clock]\nrate = 10.0\n").unwrap_err().0.contains("clock.start"));
        let cfg = Config::from_toml("[clock]\nstart = \"2026-10-01T00:00:00+08:00\"\nrate = 60.0\n").unwrap();
        assert_eq!(cfg.clock.rate, 60.0);
    }
}

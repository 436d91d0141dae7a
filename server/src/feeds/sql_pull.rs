//! PostgreSQL pull: rows of a table or view, taken incrementally by an update-time (or version) column
//! with keyset pagination, so rows sharing one update time are never skipped:
//!
//! `SELECT row_to_json(t) FROM (SELECT * FROM <table> WHERE <updated> > $1 OR (<updated> = $1 AND <id> > $2)
//! ORDER BY <updated>, <id> LIMIT <batch>) t`
//!
//! Each row is a JSON object of its columns (timestamps as ISO 8601 with their offset). Each page is
//! stored with the cursor after it, `"<updated as text>|<id as text>"`, so a restart resumes at the first
//! row not yet stored. The cursor's text is cast back to the columns' own types (read from the catalog),
//! so it works for timestamptz, timestamp, date and whole-number version columns alike.
//!
//! A transaction's `now()` is its start time, so a long transaction can commit a row older than rows
//! already pulled, which keyset paging would then skip. `settle_seconds` closes that gap for time
//! columns: only rows at least that old are read (`AND <updated> <= now() - settle`), so a writer's
//! transaction shorter than the settle time is always seen.
//!
//! Limits: rows whose update column is NULL are never pulled; the update column must only grow (a row
//! written with an older time than one already pulled, by more than `settle_seconds`, is missed, which
//! is why it should be set by the database, e.g. `now()` in a trigger); its text must not contain `|`.
use super::backoff::Backoff;
use super::pull::Page;
use super::record::Input;
use super::registry::FeedCtx;
use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::Row;
use std::time::Duration;
use tokio::sync::watch;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// `postgres://user:password@host:port/database` (the password is never shown in errors or logs).
    pub url: String,
    /// Table or view, optionally with its schema (`exchange.petitions`): letters, digits and `_`.
    pub table: String,
    /// Column that grows with every change of a row: its update time, or a version number.
    #[serde(default = "default_updated")]
    pub updated_column: String,
    /// The rows' unique key; orders rows that share one update time.
    #[serde(default = "default_id")]
    pub id_column: String,
    /// Rows per query; each page is stored in one transaction with the cursor after it.
    #[serde(default = "default_batch")]
    pub batch_size: u32,
    /// Seconds between polls once caught up (fractions allowed).
    #[serde(default = "default_interval")]
    pub interval_seconds: f64,
    /// Read only rows whose update time is at least this old, by the database's clock (time columns
    /// only; 0 reads up to now). Set it above the writers' longest transaction.
    #[serde(default)]
    pub settle_seconds: f64,
}

fn default_updated() -> String {
    "updated_at".into()
}
fn default_id() -> String {
    "id".into()
}
fn default_batch() -> u32 {
    500
}
fn default_interval() -> f64 {
    30.0
}

/// A table or column name as written in the config: one name, or (`qualified`) `schema.name`, each part
/// of letters (any script), digits and `_`, not starting with a digit, at most 63 bytes.
pub fn check_identifier(s: &str, qualified: bool) -> Result<(), String> {
    let parts: Vec<&str> = s.split('.').collect();
    if parts.len() > if qualified { 2 } else { 1 } {
        return Err(format!("{s:?}: {}", if qualified { "at most schema.name" } else { "one column name, no dots" }));
    }
    for p in parts {
        let ok = !p.is_empty()
            && p.len() <= 63
            && p.chars().all(|c| c.is_alphanumeric() || c == '_')
            && !p.starts_with(|c: char| c.is_ascii_digit());
        if !ok {
            return Err(format!("{s:?} is not a plain name (letters, digits and _, not starting with a digit)"));
        }
    }
    Ok(())
}

/// A checked identifier in double quotes (`schema.name` as `"schema"."name"`).
pub fn quote(s: &str) -> String {
    s.split('.').map(|p| format!("\"{p}\"")).collect::<Vec<_>>().join(".")
}

impl Config {
    /// The config if it is valid (as `[[feeds]]` parsing wants it).
    pub fn check(self) -> Result<Config, String> {
        self.validate()?;
        Ok(self)
    }

    /// Checks what serde cannot; the error names the key.
    pub fn validate(&self) -> Result<(), String> {
        check_identifier(&self.table, true).map_err(|e| format!("table: {e}"))?;
        check_identifier(&self.updated_column, false).map_err(|e| format!("updated_column: {e}"))?;
        check_identifier(&self.id_column, false).map_err(|e| format!("id_column: {e}"))?;
        if self.batch_size == 0 || self.batch_size > 50_000 {
            return Err("batch_size must be between 1 and 50000".into());
        }
        if !(self.interval_seconds.is_finite() && self.interval_seconds >= 0.05 && self.interval_seconds <= 86_400.0) {
            return Err("interval_seconds must be between 0.05 and 86400".into());
        }
        if !(self.settle_seconds.is_finite() && (0.0..=86_400.0).contains(&self.settle_seconds)) {
            return Err("settle_seconds must be between 0 and 86400".into());
        }
        if !(self.url.starts_with("postgres://") || self.url.starts_with("postgresql://")) {
            return Err("url: not a postgres://user:password@host:port/database URL".into());
        }
        self.url.parse::<PgConnectOptions>().map_err(|_| "url: not a postgres://user:password@host:port/database URL".to_string())?;
        Ok(())
    }

    /// The page query; `types` are the update and id columns' SQL types, `first` when there is no cursor.
    pub fn query(&self, types: &(String, String), first: bool) -> String {
        let (u, id) = (quote(&self.updated_column), quote(&self.id_column));
        let (ut, it) = types;
        let mut filter = if first {
            format!("{u} IS NOT NULL")
        } else {
            format!("({u} > $1::text::{ut} OR ({u} = $1::text::{ut} AND {id} > $2::text::{it}))")
        };
        if self.settle_seconds > 0.0 {
            filter += &format!(" AND {u} <= (now() - make_interval(secs => {}))::{ut}", self.settle_seconds);
        }
        format!(
            "SELECT row_to_json(t)::text, (t.{u})::text, (t.{id})::text FROM (SELECT * FROM {} WHERE {filter} ORDER BY {u}, {id} LIMIT {}) t ORDER BY t.{u}, t.{id}",
            quote(&self.table),
            self.batch_size
        )
    }
}

/// Where the database is, without user or password.
fn shown(o: &PgConnectOptions) -> String {
    format!("PostgreSQL {}:{}/{}", o.get_host(), o.get_port(), o.get_database().unwrap_or(""))
}

/// The SQL types of the update and id columns, from the catalog (works for views too).
async fn column_types(pool: &PgPool, cfg: &Config) -> Result<(String, String), String> {
    let table = quote(&cfg.table);
    let exists: Option<i64> = sqlx::query_scalar("SELECT to_regclass($1)::oid::bigint").bind(&table).fetch_one(pool).await.map_err(|e| e.to_string())?;
    if exists.is_none() {
        return Err(format!("table {} not found", cfg.table));
    }
    let mut out = Vec::new();
    for col in [&cfg.updated_column, &cfg.id_column] {
        let t: Option<String> = sqlx::query_scalar(
            "SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = to_regclass($1) AND attname = $2 AND attnum > 0 AND NOT attisdropped",
        )
        .bind(&table)
        .bind(col)
        .fetch_optional(pool)
        .await
        .map_err(|e| e.to_string())?;
        let t = t.ok_or_else(|| format!("table {} has no column {col}", cfg.table))?;
        // The type goes into the query as a cast: only what format_type writes for ordinary types.
        if t.is_empty() || !t.chars().all(|c| c.is_alphanumeric() || " _(),.\"[]".contains(c)) {
            return Err(format!("column {col} has a type ({t}) that cannot be used as a cursor"));
        }
        out.push(t);
    }
    let it = out.pop().expect("two types");
    Ok((out.pop().expect("two types"), it))
}

/// One page after `cursor`: (inputs, cursor after the last row, rows read).
async fn page(pool: &PgPool, cfg: &Config, types: &(String, String), cursor: Option<(&str, &str)>) -> Result<(Vec<Input>, Option<String>, usize), String> {
    let sql = cfg.query(types, cursor.is_none());
    let q = sqlx::query(&sql);
    let q = match cursor {
        Some((u, id)) => q.bind(u).bind(id),
        None => q,
    };
    let rows = q.fetch_all(pool).await.map_err(|e| e.to_string())?;
    let mut inputs = Vec::with_capacity(rows.len());
    let mut next = None;
    for r in &rows {
        let json: String = r.try_get(0).map_err(|e| e.to_string())?;
        let u: Option<String> = r.try_get(1).map_err(|e| e.to_string())?;
        let id: Option<String> = r.try_get(2).map_err(|e| e.to_string())?;
        inputs.push(match serde_json::from_str(&json) {
            Ok(v) => Input::Record(v),
            Err(e) => Input::Unreadable { reason: format!("row {} of {}: not JSON: {e}", id.as_deref().unwrap_or("?"), cfg.table), raw: json },
        });
        if let (Some(u), Some(id)) = (u, id) {
            next = Some(format!("{u}|{id}"));
        }
    }
    Ok((inputs, next, rows.len()))
}

/// The table as a pull source. Column types are read once and again after any error (the table may
/// have changed while PostgreSQL was away).
struct Table {
    cfg: Config,
    pool: PgPool,
    at: String,
    types: Option<(String, String)>,
    ctx: FeedCtx,
}

impl super::pull::Source for Table {
    fn fetch<'a>(&'a mut self, cursor: Option<String>) -> BoxFuture<'a, Result<Page, String>> {
        Box::pin(async move {
            let types = match self.types.clone() {
                Some(t) => t,
                None => column_types(&self.pool, &self.cfg).await.map_err(|why| format!("{}: {why}", self.at))?,
            };
            if self.cfg.settle_seconds > 0.0 && !(types.0.starts_with("timestamp") || types.0 == "date") {
                return Err(format!("{}: settle_seconds needs a time column, and {} is {}", self.at, self.cfg.updated_column, types.0));
            }
            self.types = Some(types.clone());
            let parsed = cursor.as_deref().and_then(|c| c.split_once('|'));
            if cursor.is_some() && parsed.is_none() {
                self.ctx.failed(format!("the stored cursor is not <updated>|<id>; reading {} from the start", self.cfg.table));
            }
            match page(&self.pool, &self.cfg, &types, parsed).await {
                Err(why) => {
                    self.types = None;
                    Err(format!("{}: {why}", self.at))
                }
                Ok((inputs, next, n)) => Ok(Page { inputs, cursor: next.or(cursor), caught_up: n < self.cfg.batch_size as usize }),
            }
        })
    }
}

pub async fn run(cfg: Config, ctx: FeedCtx, mut stop: watch::Receiver<bool>) {
    let opts = match cfg.validate().and_then(|_| cfg.url.parse::<PgConnectOptions>().map_err(|_| "url: not a PostgreSQL URL".to_string())) {
        Ok(o) => o.application_name("city-cockpit").options([("statement_timeout", "60000")]),
        Err(e) => return ctx.bad_config(e, &mut stop).await,
    };
    let at = shown(&opts);
    // Lazy: the pool exists while PostgreSQL is down; every query tries to connect again.
    let pool = PgPoolOptions::new().max_connections(2).min_connections(0).acquire_timeout(Duration::from_secs(5)).connect_lazy_with(opts);
    let interval = Duration::from_secs_f64(cfg.interval_seconds);
    let backoff = Backoff::new(Duration::from_millis(250), Duration::from_secs(30));
    let table = Table { cfg, pool: pool.clone(), at, types: None, ctx: ctx.clone() };
    super::pull::run(table, ctx, interval, backoff, stop).await;
    pool.close().await;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> Config {
        toml::from_str("url = \"postgres://u:secret@127.0.0.1:5432/x\"\ntable = \"exchange.petitions\"\nid_column = \"编号\"").unwrap()
    }

    #[test]
    fn identifiers_are_checked_and_quoted() {
        for ok in ["t", "exchange.t", "_x1", "信访_件"] {
            assert!(check_identifier(ok, true).is_ok(), "{ok}");
        }
        for bad in ["", "a.b.c", "1t", "t;drop table x", "t\"", "a b", "a-b", "t.", ".t", "x--"] {
            assert!(check_identifier(bad, true).is_err(), "{bad}");
        }
        assert!(check_identifier("a.b", false).is_err());
        assert_eq!(quote("exchange.petitions"), "\"exchange\".\"petitions\"");
        let mut c = cfg();
        assert!(c.validate().is_ok());
        c.updated_column = "updated_at; --".into();
        assert!(c.validate().unwrap_err().starts_with("updated_column"));
        let mut c = cfg();
        c.url = "mysql://x".into();
        let e = c.validate().unwrap_err();
        assert!(e.starts_with("url") && !e.contains("secret"), "{e}");
        assert!(toml::from_str::<Config>("url = \"u\"\ntable = \"t\"\nwhere = \"1=1\"").unwrap_err().to_string().contains("unknown field `where`"));
    }

    #[test]
    fn the_query_is_keyset_paginated() {
        let c = cfg();
        let types = ("timestamp with time zone".to_string(), "text".to_string());
        let q = c.query(&types, false);
        assert!(q.contains("WHERE (\"updated_at\" > $1::text::timestamp with time zone OR (\"updated_at\" = $1::text::timestamp with time zone AND \"编号\" > $2::text::text)) ORDER"), "{q}");
        assert!(q.contains("FROM \"exchange\".\"petitions\"") && q.contains("ORDER BY \"updated_at\", \"编号\" LIMIT 500"), "{q}");
        assert!(!c.query(&types, true).contains("$1"));
        let settled = Config { settle_seconds: 2.5, ..c };
        let q = settled.query(&types, false);
        assert!(q.contains("\"编号\" > $2::text::text)) AND \"updated_at\" <= (now() - make_interval(secs => 2.5))::timestamp with time zone ORDER"), "{q}");
        assert!(settled.query(&types, true).contains("IS NOT NULL AND \"updated_at\" <= (now()"));
        assert!(Config { settle_seconds: -1.0, ..settled.clone() }.validate().unwrap_err().starts_with("settle_seconds"));
    }
}

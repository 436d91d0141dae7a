//! Results owed to the systems that referred cases to the city (a court's platform, 诉调对接): each
//! mediation attempt on a referred case is queued from the stored events, delivered, and kept as the
//! record of its delivery. The store is the queue, so a restart loses nothing.
use super::StoreError;
use futures::future::BoxFuture;

/// One queued result: a mediation attempt on a case of `feed`.
#[derive(Clone, Debug, PartialEq)]
pub struct OutboxRow {
    pub id: i64,
    pub feed: String,
    pub case_id: String,
    pub tier: app::flow::Tier,
    pub outcome: app::flow::Outcome,
    /// When the attempt ended (ms).
    pub at: i64,
    pub attempts: u32,
}

/// What a feed's outbox holds, for /feeds and /metrics.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct OutboxSummary {
    pub pending: u64,
    /// Of the pending, those whose last attempt failed.
    pub failing: u64,
    pub delivered: u64,
    /// The latest failure of a pending result, with when it is tried again (ms).
    pub last_error: Option<String>,
    pub oldest_pending_at: Option<i64>,
}

pub trait OutboxStore {
    /// Queues the mediation attempts on `feed`'s cases stored since the last fill (at most `limit`),
    /// moving the feed's cursor in the same transaction; returns how many were queued.
    fn outbox_fill<'a>(&'a self, feed: &'a str, now: i64, limit: u32) -> BoxFuture<'a, Result<u64, StoreError>>;
    /// Undelivered results due by `now`, oldest first.
    fn outbox_due<'a>(&'a self, feed: &'a str, now: i64, limit: u32) -> BoxFuture<'a, Result<Vec<OutboxRow>, StoreError>>;
    fn outbox_delivered(&self, id: i64, at: i64) -> BoxFuture<'_, Result<(), StoreError>>;
    /// Counts a failed attempt and when to try again.
    fn outbox_failed<'a>(&'a self, id: i64, error: &'a str, next_at: i64) -> BoxFuture<'a, Result<(), StoreError>>;
    fn outbox_summary<'a>(&'a self, feed: &'a str) -> BoxFuture<'a, Result<OutboxSummary, StoreError>>;
}

pub(super) fn row(r: &impl RowLike) -> Result<OutboxRow, StoreError> {
    let tier: String = r.text("tier")?;
    let outcome: String = r.text("outcome")?;
    Ok(OutboxRow {
        id: r.int("id")?,
        feed: r.text("feed")?,
        case_id: r.text("case_id")?,
        tier: app::flow::Tier::parse(&tier).ok_or_else(|| StoreError::Corrupt(format!("outbox tier {tier:?}")))?,
        outcome: app::flow::Outcome::parse(&outcome).ok_or_else(|| StoreError::Corrupt(format!("outbox outcome {outcome:?}")))?,
        at: r.int("at")?,
        attempts: r.int("attempts")? as u32,
    })
}

/// A summary from the row of `SUMMARY_SQL` (with the feed bound as its one parameter).
pub(super) fn summary(r: &impl RowLike) -> Result<OutboxSummary, StoreError> {
    Ok(OutboxSummary {
        pending: r.int("pending")? as u64,
        failing: r.int("failing")? as u64,
        delivered: r.int("delivered")? as u64,
        last_error: r.opt_text("last_error")?,
        oldest_pending_at: r.opt_int("oldest")?,
    })
}

/// Both databases' text, `$1` being the feed (SQLite reads `$1` as a numbered parameter too).
pub(super) const SUMMARY_SQL: &str = "SELECT COUNT(*) FILTER (WHERE delivered_at IS NULL) AS pending, \
     COUNT(*) FILTER (WHERE delivered_at IS NULL AND attempts > 0) AS failing, \
     COUNT(*) FILTER (WHERE delivered_at IS NOT NULL) AS delivered, \
     MIN(created_at) FILTER (WHERE delivered_at IS NULL) AS oldest, \
     (SELECT last_error FROM outbox WHERE feed = $1 AND delivered_at IS NULL AND last_error IS NOT NULL ORDER BY id DESC LIMIT 1) AS last_error \
     FROM outbox WHERE feed = $1";

/// The columns both databases' rows give the same way.
pub(super) trait RowLike {
    fn text(&self, col: &str) -> Result<String, StoreError>;
    fn int(&self, col: &str) -> Result<i64, StoreError>;
    fn opt_text(&self, col: &str) -> Result<Option<String>, StoreError>;
    fn opt_int(&self, col: &str) -> Result<Option<i64>, StoreError>;
}

macro_rules! row_like {
    ($t:ty) => {
        impl RowLike for $t {
            fn text(&self, col: &str) -> Result<String, StoreError> {
                Ok(sqlx::Row::try_get(self, col)?)
            }
            fn int(&self, col: &str) -> Result<i64, StoreError> {
                Ok(sqlx::Row::try_get::<i64, _>(self, col)?)
            }
            fn opt_text(&self, col: &str) -> Result<Option<String>, StoreError> {
                Ok(sqlx::Row::try_get(self, col)?)
            }
            fn opt_int(&self, col: &str) -> Result<Option<i64>, StoreError> {
                Ok(sqlx::Row::try_get(self, col)?)
            }
        }
    };
}
row_like!(sqlx::sqlite::SqliteRow);
row_like!(sqlx::postgres::PgRow);

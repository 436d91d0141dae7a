//! The results outbox in SQLite.
use super::outbox::{row, summary, OutboxRow, OutboxStore, OutboxSummary, SUMMARY_SQL};
use super::{SqliteStore, StoreError};
use futures::future::BoxFuture;
use sqlx::Row;

impl OutboxStore for SqliteStore {
    fn outbox_fill<'a>(&'a self, feed: &'a str, now: i64, limit: u32) -> BoxFuture<'a, Result<u64, StoreError>> {
        Box::pin(async move {
            let mut tx = self.writer().begin_with("BEGIN IMMEDIATE").await?;
            let cursor: i64 = sqlx::query_scalar("SELECT COALESCE((SELECT event_id FROM outbox_cursor WHERE feed = ?), 0)").bind(feed).fetch_one(&mut *tx).await?;
            let top: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) FROM case_events").fetch_one(&mut *tx).await?;
            let found = sqlx::query(
                "INSERT OR IGNORE INTO outbox (feed, event_id, case_id, tier, outcome, at, created_at, next_at) \
                 SELECT feed, id, case_id, tier, outcome, at, ?4, ?4 FROM case_events \
                 WHERE id > ?2 AND id <= ?3 AND feed = ?1 AND action = 'mediate' ORDER BY id LIMIT ?5 RETURNING event_id",
            )
            .bind(feed)
            .bind(cursor)
            .bind(top)
            .bind(now)
            .bind(i64::from(limit))
            .fetch_all(&mut *tx)
            .await?;
            // A full page may stop short of the top: the cursor goes only as far as what was read.
            let to = if found.len() as u32 >= limit { found.iter().map(|r| r.try_get::<i64, _>(0)).collect::<Result<Vec<_>, _>>()?.into_iter().max().unwrap_or(cursor) } else { top };
            sqlx::query("INSERT INTO outbox_cursor (feed, event_id) VALUES (?1, ?2) ON CONFLICT (feed) DO UPDATE SET event_id = ?2").bind(feed).bind(to).execute(&mut *tx).await?;
            tx.commit().await?;
            Ok(found.len() as u64)
        })
    }

    fn outbox_due<'a>(&'a self, feed: &'a str, now: i64, limit: u32) -> BoxFuture<'a, Result<Vec<OutboxRow>, StoreError>> {
        Box::pin(async move {
            let rows = sqlx::query("SELECT * FROM outbox WHERE feed = ? AND delivered_at IS NULL AND next_at <= ? ORDER BY id LIMIT ?")
                .bind(feed)
                .bind(now)
                .bind(i64::from(limit))
                .fetch_all(self.pool())
                .await?;
            rows.iter().map(row).collect()
        })
    }

    fn outbox_delivered(&self, id: i64, at: i64) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(async move {
            sqlx::query("UPDATE outbox SET delivered_at = ?, attempts = attempts + 1, last_error = NULL WHERE id = ?").bind(at).bind(id).execute(self.writer()).await?;
            Ok(())
        })
    }

    fn outbox_failed<'a>(&'a self, id: i64, error: &'a str, next_at: i64) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            sqlx::query("UPDATE outbox SET attempts = attempts + 1, last_error = ?, next_at = ? WHERE id = ? AND delivered_at IS NULL")
                .bind(error)
                .bind(next_at)
                .bind(id)
                .execute(self.writer())
                .await?;
            Ok(())
        })
    }

    fn outbox_summary<'a>(&'a self, feed: &'a str) -> BoxFuture<'a, Result<OutboxSummary, StoreError>> {
        Box::pin(async move { summary(&sqlx::query(SUMMARY_SQL).bind(feed).fetch_one(self.pool()).await?) })
    }
}

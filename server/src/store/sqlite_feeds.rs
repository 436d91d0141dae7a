//! The feed layer's rows in SQLite.
use super::feeds::{FeedBatch, FeedRow, FeedStore, Head, QuarantineRow, StoredObservation};
use super::rows;
use super::{SqliteStore, StoreError};
use crate::case::Outcome;
use crate::feeds::record::Observation;
use app::model::{Indicator, Status};
use futures::future::BoxFuture;
use futures::TryStreamExt;
use sqlx::{QueryBuilder, Row, Sqlite};
use std::collections::{HashMap, HashSet};

/// ` IN (?, ?, …)` with the ids bound.
fn push_in<'a>(q: &mut QueryBuilder<'a, Sqlite>, ids: &'a [String]) {
    q.push(" IN (");
    let mut sep = q.separated(", ");
    for id in ids {
        sep.push_bind(id);
    }
    q.push(")");
}

impl FeedStore for SqliteStore {
    fn heads<'a>(&'a self, feed: &'a str, ids: &'a [String]) -> BoxFuture<'a, Result<HashMap<String, Head>, StoreError>> {
        Box::pin(async move {
            let mut out: HashMap<String, Head> = HashMap::new();
            for chunk in ids.chunks(400) {
                let mut q = QueryBuilder::<Sqlite>::new("SELECT external_id, MAX(version) AS v FROM feed_records WHERE feed = ");
                q.push_bind(feed).push(" AND external_id");
                push_in(&mut q, chunk);
                q.push(" GROUP BY external_id");
                for r in q.build().fetch_all(self.pool()).await? {
                    out.entry(r.try_get("external_id")?).or_default().version = Some(r.try_get("v")?);
                }
                let mut q = QueryBuilder::<Sqlite>::new("SELECT case_id, status, seq FROM cases WHERE feed = ");
                q.push_bind(feed).push(" AND case_id");
                push_in(&mut q, chunk);
                for r in q.build().fetch_all(self.pool()).await? {
                    let status: String = r.try_get("status")?;
                    let status = Status::parse(&status).ok_or_else(|| StoreError::Corrupt(format!("unknown status {status:?}")))?;
                    out.entry(r.try_get("case_id")?).or_default().case = Some((status, r.try_get::<i64, _>("seq")? as u32));
                }
            }
            Ok(out)
        })
    }

    fn take_batch<'a>(&'a self, b: &'a FeedBatch) -> BoxFuture<'a, Result<Result<(), Vec<(usize, String)>>, StoreError>> {
        Box::pin(async move {
            let mut tx = self.writer().begin_with("BEGIN IMMEDIATE").await?;
            let outcomes = super::sqlite::append_in(&mut tx, &b.events).await?;
            let refused: Vec<(usize, String)> =
                outcomes.into_iter().enumerate().filter_map(|(i, o)| if let Outcome::Rejected(r) = o { Some((i, r)) } else { None }).collect();
            if !refused.is_empty() {
                tx.rollback().await?;
                return Ok(Err(refused));
            }
            for chunk in b.taken.chunks(300) {
                let mut q = QueryBuilder::<Sqlite>::new("INSERT INTO feed_records (feed, external_id, version, taken_at) ");
                q.push_values(chunk, |mut r, (id, v)| {
                    r.push_bind(&b.feed).push_bind(id).push_bind(v).push_bind(b.now);
                });
                q.build().execute(&mut *tx).await?;
            }
            // Numbered in the order taken, under the write lock this transaction holds.
            let mut taken: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(taken), 0) FROM observations").fetch_one(&mut *tx).await?;
            for chunk in b.observations.chunks(200) {
                let mut q = QueryBuilder::<Sqlite>::new("INSERT INTO observations (feed, external_id, version, indicator, region, at, value, taken) ");
                q.push_values(chunk, |mut r, (id, v, o)| {
                    taken += 1;
                    r.push_bind(&b.feed).push_bind(id).push_bind(v).push_bind(o.indicator.as_str()).push_bind(&o.region).push_bind(o.at).push_bind(o.value).push_bind(taken);
                });
                q.build().execute(&mut *tx).await?;
            }
            super::sqlite_duty::upsert_in(&mut tx, &b.duties).await?;
            for chunk in b.quarantine.chunks(200) {
                let mut q = QueryBuilder::<Sqlite>::new("INSERT INTO quarantine (feed, external_id, reason, payload, at) ");
                q.push_values(chunk, |mut r, x| {
                    r.push_bind(&b.feed).push_bind(&x.external_id).push_bind(&x.reason).push_bind(&x.payload).push_bind(b.now);
                });
                q.build().execute(&mut *tx).await?;
            }
            for id in &b.replayed {
                sqlx::query("DELETE FROM quarantine WHERE id = ? AND feed = ?").bind(id).bind(&b.feed).execute(&mut *tx).await?;
            }
            // A replayed record left quarantine: it is counted again by what became of it.
            let quarantined = b.quarantine.len() as i64 - b.replayed.len() as i64;
            sqlx::query(
                "INSERT INTO feed_state (feed, received, stored, duplicate, quarantined, last_success, last_event_at, cursor) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT (feed) DO UPDATE SET \
                 received = received + ?2, stored = stored + ?3, duplicate = duplicate + ?4, quarantined = quarantined + ?5, \
                 last_success = ?6, last_event_at = MAX(COALESCE(last_event_at, ?7), COALESCE(?7, last_event_at)), cursor = COALESCE(?8, cursor)",
            )
            .bind(&b.feed)
            .bind(b.received as i64)
            .bind(b.taken.len() as i64)
            .bind(b.duplicates as i64)
            .bind(quarantined)
            .bind(b.now)
            .bind(b.last_event_at)
            .bind(&b.cursor)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(Ok(()))
        })
    }

    fn feed_rows(&self) -> BoxFuture<'_, Result<Vec<FeedRow>, StoreError>> {
        Box::pin(async move {
            let rows = sqlx::query("SELECT * FROM feed_state ORDER BY feed").fetch_all(self.pool()).await?;
            rows.iter().map(rows::feed_row).collect()
        })
    }

    fn set_paused<'a>(&'a self, feed: &'a str, paused: bool) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            sqlx::query("INSERT INTO feed_state (feed, paused) VALUES (?1, ?2) ON CONFLICT (feed) DO UPDATE SET paused = ?2")
                .bind(feed)
                .bind(paused)
                .execute(self.writer())
                .await?;
            Ok(())
        })
    }

    fn quarantine<'a>(&'a self, feed: Option<&'a str>, limit: u32) -> BoxFuture<'a, Result<Vec<QuarantineRow>, StoreError>> {
        Box::pin(async move {
            let rows = sqlx::query("SELECT * FROM quarantine WHERE ?1 IS NULL OR feed = ?1 ORDER BY id DESC LIMIT ?2")
                .bind(feed)
                .bind(i64::from(limit))
                .fetch_all(self.pool())
                .await?;
            rows.iter()
                .map(|r| {
                    Ok(QuarantineRow {
                        id: r.try_get("id")?,
                        feed: r.try_get("feed")?,
                        external_id: r.try_get("external_id")?,
                        reason: r.try_get("reason")?,
                        payload: r.try_get("payload")?,
                        at: r.try_get("at")?,
                    })
                })
                .collect()
        })
    }

    fn quarantined<'a>(&'a self, feed: &'a str, ids: &'a [String]) -> BoxFuture<'a, Result<HashSet<(String, String)>, StoreError>> {
        Box::pin(async move {
            let mut out = HashSet::new();
            for chunk in ids.chunks(400) {
                let mut q = QueryBuilder::<Sqlite>::new("SELECT external_id, payload FROM quarantine WHERE feed = ");
                q.push_bind(feed).push(" AND external_id");
                push_in(&mut q, chunk);
                for r in q.build().fetch_all(self.pool()).await? {
                    out.insert((r.try_get("external_id")?, r.try_get("payload")?));
                }
            }
            Ok(out)
        })
    }

    fn expire_quarantine(&self, before: i64) -> BoxFuture<'_, Result<u64, StoreError>> {
        Box::pin(async move {
            let mut tx = self.writer().begin_with("BEGIN IMMEDIATE").await?;
            let counted = sqlx::query(
                "UPDATE feed_state SET expired = expired + (SELECT count(*) FROM quarantine q WHERE q.feed = feed_state.feed AND q.at < ?1) \
                 WHERE feed IN (SELECT feed FROM quarantine WHERE at < ?1)",
            )
            .bind(before)
            .execute(&mut *tx)
            .await?;
            let gone = sqlx::query("DELETE FROM quarantine WHERE at < ?").bind(before).execute(&mut *tx).await?.rows_affected();
            tx.commit().await?;
            if gone > 0 {
                tracing::info!(records = gone, feeds = counted.rows_affected(), "quarantined records past their retention deleted");
            }
            Ok(gone)
        })
    }

    fn observation_position(&self) -> BoxFuture<'_, Result<i64, StoreError>> {
        Box::pin(async move { Ok(sqlx::query_scalar("SELECT COALESCE(MAX(taken), 0) FROM observations").fetch_one(self.pool()).await?) })
    }

    fn observations_after(&self, after: i64) -> BoxFuture<'_, Result<Vec<(i64, String, StoredObservation)>, StoreError>> {
        Box::pin(async move {
            let mut rows = sqlx::query(
                "SELECT taken, feed, external_id, version, indicator, region, at, value FROM observations WHERE taken > ? ORDER BY taken, feed, external_id, version",
            )
            .bind(after)
            .fetch(self.pool());
            let mut out = Vec::new();
            while let Some(r) = rows.try_next().await? {
                let i: String = r.try_get("indicator")?;
                let indicator = Indicator::parse(&i).ok_or_else(|| StoreError::Corrupt(format!("unknown indicator {i:?}")))?;
                let o = Observation { indicator, region: r.try_get("region")?, at: r.try_get("at")?, value: r.try_get("value")? };
                out.push((r.try_get("taken")?, r.try_get("feed")?, (r.try_get("external_id")?, r.try_get("version")?, o)));
            }
            Ok(out)
        })
    }
}

//! The feed layer's rows in PostgreSQL. A batch takes the positioned-write lock first, as every writer of
//! case events and observations does, so positions follow commit order.
use super::feeds::{FeedBatch, FeedRow, FeedStore, Head, QuarantineRow, StoredObservation};
use super::postgres::{append_in, lock_writes};
use super::rows::{self, corrupt};
use super::{PgStore, StoreError};
use crate::case::Outcome;
use crate::feeds::record::Observation;
use app::model::{Indicator, Status};
use futures::future::BoxFuture;
use std::collections::{HashMap, HashSet};

impl FeedStore for PgStore {
    fn heads<'a>(&'a self, feed: &'a str, ids: &'a [String]) -> BoxFuture<'a, Result<HashMap<String, Head>, StoreError>> {
        Box::pin(async move {
            let mut out: HashMap<String, Head> = HashMap::new();
            let versions: Vec<(String, i64)> =
                sqlx::query_as("SELECT external_id, MAX(version) FROM feed_records WHERE feed = $1 AND external_id = ANY($2::text[]) GROUP BY external_id")
                    .bind(feed)
                    .bind(ids)
                    .fetch_all(self.pool())
                    .await?;
            for (id, v) in versions {
                out.entry(id).or_default().version = Some(v);
            }
            let cases: Vec<(String, String, i64)> =
                sqlx::query_as("SELECT case_id, status, seq FROM cases WHERE feed = $1 AND case_id = ANY($2::text[])").bind(feed).bind(ids).fetch_all(self.pool()).await?;
            for (id, status, seq) in cases {
                let status = Status::parse(&status).ok_or_else(|| corrupt("status", &status))?;
                out.entry(id).or_default().case = Some((status, seq as u32));
            }
            Ok(out)
        })
    }

    fn take_batch<'a>(&'a self, b: &'a FeedBatch) -> BoxFuture<'a, Result<Result<(), Vec<(usize, String)>>, StoreError>> {
        Box::pin(async move {
            let mut tx = self.pool().begin().await?;
            lock_writes(&mut tx).await?;
            let outcomes = append_in(&mut tx, &b.events).await?;
            let refused: Vec<(usize, String)> = outcomes.into_iter().enumerate().filter_map(|(i, o)| if let Outcome::Rejected(r) = o { Some((i, r)) } else { None }).collect();
            if !refused.is_empty() {
                tx.rollback().await?;
                return Ok(Err(refused));
            }
            if !b.taken.is_empty() {
                sqlx::query(
                    "INSERT INTO feed_records (feed, external_id, version, taken_at) \
                     SELECT $1, id, v, $2 FROM UNNEST($3::text[], $4::bigint[]) AS t(id, v)",
                )
                .bind(&b.feed)
                .bind(b.now)
                .bind(b.taken.iter().map(|t| t.0.as_str()).collect::<Vec<_>>())
                .bind(b.taken.iter().map(|t| t.1).collect::<Vec<_>>())
                .execute(&mut *tx)
                .await?;
            }
            if !b.observations.is_empty() {
                // Numbered in the order taken, under the lock this transaction holds.
                let taken: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(taken), 0) FROM observations").fetch_one(&mut *tx).await?;
                let o = &b.observations;
                sqlx::query(
                    "INSERT INTO observations (feed, external_id, version, indicator, region, at, value, taken) \
                     SELECT $1, t.* FROM UNNEST($2::text[], $3::bigint[], $4::text[], $5::text[], $6::bigint[], $7::float8[], $8::bigint[]) AS t",
                )
                .bind(&b.feed)
                .bind(o.iter().map(|x| x.0.as_str()).collect::<Vec<_>>())
                .bind(o.iter().map(|x| x.1).collect::<Vec<_>>())
                .bind(o.iter().map(|x| x.2.indicator.as_str()).collect::<Vec<_>>())
                .bind(o.iter().map(|x| x.2.region.as_str()).collect::<Vec<_>>())
                .bind(o.iter().map(|x| x.2.at).collect::<Vec<_>>())
                .bind(o.iter().map(|x| x.2.value).collect::<Vec<_>>())
                .bind((1..=o.len() as i64).map(|i| taken + i).collect::<Vec<_>>())
                .execute(&mut *tx)
                .await?;
            }
            super::postgres_duty::upsert_in(&mut tx, &b.duties).await?;
            if !b.quarantine.is_empty() {
                let q = &b.quarantine;
                sqlx::query(
                    "INSERT INTO quarantine (feed, external_id, reason, payload, at) \
                     SELECT $1, t.*, $2 FROM UNNEST($3::text[], $4::text[], $5::text[]) AS t",
                )
                .bind(&b.feed)
                .bind(b.now)
                .bind(q.iter().map(|x| x.external_id.as_deref()).collect::<Vec<_>>())
                .bind(q.iter().map(|x| x.reason.as_str()).collect::<Vec<_>>())
                .bind(q.iter().map(|x| x.payload.as_str()).collect::<Vec<_>>())
                .execute(&mut *tx)
                .await?;
            }
            if !b.replayed.is_empty() {
                sqlx::query("DELETE FROM quarantine WHERE feed = $1 AND id = ANY($2::bigint[])").bind(&b.feed).bind(&b.replayed).execute(&mut *tx).await?;
            }
            // A replayed record left quarantine: it is counted again by what became of it.
            let quarantined = b.quarantine.len() as i64 - b.replayed.len() as i64;
            sqlx::query(
                "INSERT INTO feed_state AS s (feed, received, stored, duplicate, quarantined, last_success, last_event_at, cursor) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (feed) DO UPDATE SET \
                 received = s.received + $2, stored = s.stored + $3, duplicate = s.duplicate + $4, quarantined = s.quarantined + $5, \
                 last_success = $6, last_event_at = GREATEST(s.last_event_at, $7), cursor = COALESCE($8, s.cursor)",
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
            sqlx::query("INSERT INTO feed_state (feed, paused) VALUES ($1, $2) ON CONFLICT (feed) DO UPDATE SET paused = $2").bind(feed).bind(paused).execute(self.pool()).await?;
            Ok(())
        })
    }

    fn quarantine<'a>(&'a self, feed: Option<&'a str>, limit: u32) -> BoxFuture<'a, Result<Vec<QuarantineRow>, StoreError>> {
        Box::pin(async move {
            let rows: Vec<(i64, String, Option<String>, String, String, i64)> =
                sqlx::query_as("SELECT id, feed, external_id, reason, payload, at FROM quarantine WHERE $1::text IS NULL OR feed = $1 ORDER BY id DESC LIMIT $2")
                    .bind(feed)
                    .bind(i64::from(limit))
                    .fetch_all(self.pool())
                    .await?;
            Ok(rows.into_iter().map(|(id, feed, external_id, reason, payload, at)| QuarantineRow { id, feed, external_id, reason, payload, at }).collect())
        })
    }

    fn quarantined<'a>(&'a self, feed: &'a str, ids: &'a [String]) -> BoxFuture<'a, Result<HashSet<(String, String)>, StoreError>> {
        Box::pin(async move {
            let rows: Vec<(String, String)> =
                sqlx::query_as("SELECT external_id, payload FROM quarantine WHERE feed = $1 AND external_id = ANY($2::text[])").bind(feed).bind(ids).fetch_all(self.pool()).await?;
            Ok(rows.into_iter().collect())
        })
    }

    fn expire_quarantine(&self, before: i64) -> BoxFuture<'_, Result<u64, StoreError>> {
        Box::pin(async move {
            let mut tx = self.pool().begin().await?;
            let counted = sqlx::query(
                "UPDATE feed_state SET expired = expired + q.n FROM (SELECT feed, COUNT(*) AS n FROM quarantine WHERE at < $1 GROUP BY feed) q \
                 WHERE feed_state.feed = q.feed",
            )
            .bind(before)
            .execute(&mut *tx)
            .await?;
            let gone = sqlx::query("DELETE FROM quarantine WHERE at < $1").bind(before).execute(&mut *tx).await?.rows_affected();
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
            let rows: Vec<(i64, String, String, i64, String, String, i64, f64)> = sqlx::query_as(
                "SELECT taken, feed, external_id, version, indicator, region, at, value FROM observations WHERE taken > $1 ORDER BY taken, feed, external_id, version",
            )
            .bind(after)
            .fetch_all(self.pool())
            .await?;
            rows.into_iter()
                .map(|(taken, feed, id, version, i, region, at, value)| {
                    let indicator = Indicator::parse(&i).ok_or_else(|| corrupt("indicator", &i))?;
                    Ok((taken, feed, (id, version, Observation { indicator, region, at, value })))
                })
                .collect()
        })
    }
}

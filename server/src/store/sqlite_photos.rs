//! Residents' photos in SQLite.
use super::photos::{PhotoStore, StoredPhoto, HOLD_MS};
use super::{SqliteStore, StoreError};
use futures::future::BoxFuture;
use sqlx::Row;

impl PhotoStore for SqliteStore {
    fn hold_photo<'a>(&'a self, token: &'a str, photo: &'a StoredPhoto, at: i64) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            let mut tx = self.writer().begin_with("BEGIN IMMEDIATE").await?;
            sqlx::query("DELETE FROM photos WHERE case_id IS NULL AND held_at < ?").bind(at - HOLD_MS).execute(&mut *tx).await?;
            sqlx::query("INSERT INTO photos (token, mime, width, height, bytes, held_at) VALUES (?, ?, ?, ?, ?, ?)")
                .bind(token)
                .bind(&photo.mime)
                .bind(photo.width as i64)
                .bind(photo.height as i64)
                .bind(&photo.bytes)
                .bind(at)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(())
        })
    }

    fn held_photo<'a>(&'a self, token: &'a str) -> BoxFuture<'a, Result<Option<usize>, StoreError>> {
        Box::pin(async move {
            let row = sqlx::query("SELECT length(bytes) AS n FROM photos WHERE token = ? AND case_id IS NULL").bind(token).fetch_optional(self.pool()).await?;
            Ok(match row {
                Some(r) => Some(r.try_get::<i64, _>("n")? as usize),
                None => None,
            })
        })
    }

    fn release_photo<'a>(&'a self, token: &'a str) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            sqlx::query("DELETE FROM photos WHERE token = ? AND case_id IS NULL").bind(token).execute(self.writer()).await?;
            Ok(())
        })
    }

    fn attach_photo<'a>(&'a self, token: &'a str, feed: &'a str, case_id: &'a str) -> BoxFuture<'a, Result<bool, StoreError>> {
        Box::pin(async move {
            let done = sqlx::query(
                "UPDATE photos SET feed = ?1, case_id = ?2 WHERE token = ?3 AND case_id IS NULL \
                 AND NOT EXISTS (SELECT 1 FROM photos WHERE feed = ?1 AND case_id = ?2)",
            )
            .bind(feed)
            .bind(case_id)
            .bind(token)
            .execute(self.writer())
            .await?;
            Ok(done.rows_affected() == 1)
        })
    }

    fn has_photo<'a>(&'a self, feed: &'a str, case_id: &'a str) -> BoxFuture<'a, Result<bool, StoreError>> {
        Box::pin(async move {
            let row = sqlx::query("SELECT 1 FROM photos WHERE feed = ? AND case_id = ?").bind(feed).bind(case_id).fetch_optional(self.pool()).await?;
            Ok(row.is_some())
        })
    }

    fn photo<'a>(&'a self, feed: &'a str, case_id: &'a str) -> BoxFuture<'a, Result<Option<StoredPhoto>, StoreError>> {
        Box::pin(async move {
            let row = sqlx::query("SELECT mime, width, height, bytes FROM photos WHERE feed = ? AND case_id = ?")
                .bind(feed)
                .bind(case_id)
                .fetch_optional(self.pool())
                .await?;
            let Some(r) = row else { return Ok(None) };
            Ok(Some(StoredPhoto {
                mime: r.try_get("mime")?,
                width: r.try_get::<i64, _>("width")? as u32,
                height: r.try_get::<i64, _>("height")? as u32,
                bytes: r.try_get("bytes")?,
            }))
        })
    }
}

//! Residents' photos in PostgreSQL.
use super::photos::{PhotoStore, StoredPhoto, HOLD_MS};
use super::{PgStore, StoreError};
use futures::future::BoxFuture;
use sqlx::Row;

impl PhotoStore for PgStore {
    fn hold_photo<'a>(&'a self, token: &'a str, photo: &'a StoredPhoto, at: i64) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            let mut tx = self.pool().begin().await?;
            sqlx::query("DELETE FROM photos WHERE case_id IS NULL AND held_at < $1").bind(at - HOLD_MS).execute(&mut *tx).await?;
            sqlx::query("INSERT INTO photos (token, mime, width, height, bytes, held_at) VALUES ($1, $2, $3, $4, $5, $6)")
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
            let row = sqlx::query("SELECT octet_length(bytes)::BIGINT AS n FROM photos WHERE token = $1 AND case_id IS NULL").bind(token).fetch_optional(self.pool()).await?;
            Ok(match row {
                Some(r) => Some(r.try_get::<i64, _>("n")? as usize),
                None => None,
            })
        })
    }

    fn release_photo<'a>(&'a self, token: &'a str) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            sqlx::query("DELETE FROM photos WHERE token = $1 AND case_id IS NULL").bind(token).execute(self.pool()).await?;
            Ok(())
        })
    }

    fn attach_photo<'a>(&'a self, token: &'a str, feed: &'a str, case_id: &'a str) -> BoxFuture<'a, Result<bool, StoreError>> {
        Box::pin(async move {
            let done = sqlx::query(
                "UPDATE photos SET feed = $1, case_id = $2 WHERE token = $3 AND case_id IS NULL \
                 AND NOT EXISTS (SELECT 1 FROM photos WHERE feed = $1 AND case_id = $2)",
            )
            .bind(feed)
            .bind(case_id)
            .bind(token)
            .execute(self.pool())
            .await;
            match done {
                Ok(done) => Ok(done.rows_affected() == 1),
                // Two photos given to one case at once: both see none attached, the unique index
                // (photos_by_case) stops the second. SQLite's single writer answers it false; so does this.
                Err(sqlx::Error::Database(e)) if e.is_unique_violation() => Ok(false),
                Err(e) => Err(e.into()),
            }
        })
    }

    fn has_photo<'a>(&'a self, feed: &'a str, case_id: &'a str) -> BoxFuture<'a, Result<bool, StoreError>> {
        Box::pin(async move {
            let row = sqlx::query("SELECT 1 FROM photos WHERE feed = $1 AND case_id = $2").bind(feed).bind(case_id).fetch_optional(self.pool()).await?;
            Ok(row.is_some())
        })
    }

    fn photo<'a>(&'a self, feed: &'a str, case_id: &'a str) -> BoxFuture<'a, Result<Option<StoredPhoto>, StoreError>> {
        Box::pin(async move {
            let row = sqlx::query("SELECT mime, width, height, bytes FROM photos WHERE feed = $1 AND case_id = $2").bind(feed).bind(case_id).fetch_optional(self.pool()).await?;
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

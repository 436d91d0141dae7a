//! Stored settings in PostgreSQL.
use super::access::AuditEntry;
use super::settings::{SettingsStore, StoredSetting};
use super::{PgStore, StoreError};
use futures::future::BoxFuture;
use sqlx::Row;

impl SettingsStore for PgStore {
    fn settings(&self) -> BoxFuture<'_, Result<Vec<StoredSetting>, StoreError>> {
        Box::pin(async move {
            let rows = sqlx::query("SELECT name, value, changed_at, changed_by FROM settings ORDER BY name").fetch_all(self.pool()).await?;
            rows.iter()
                .map(|r| Ok(StoredSetting { name: r.try_get("name")?, value: r.try_get("value")?, changed_at: r.try_get("changed_at")?, changed_by: r.try_get("changed_by")? }))
                .collect()
        })
    }

    fn save_setting<'a>(&'a self, s: &'a StoredSetting, audit: &'a AuditEntry) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            let mut tx = self.pool().begin().await?;
            sqlx::query(
                "INSERT INTO settings (name, value, changed_at, changed_by) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (name) DO UPDATE SET value = excluded.value, changed_at = excluded.changed_at, changed_by = excluded.changed_by",
            )
            .bind(&s.name)
            .bind(&s.value)
            .bind(s.changed_at)
            .bind(&s.changed_by)
            .execute(&mut *tx)
            .await?;
            super::postgres_access::insert_audit(&mut *tx, audit).await?;
            tx.commit().await?;
            Ok(())
        })
    }
}

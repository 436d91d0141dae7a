//! Early warnings in PostgreSQL (the same statements; raising is serialised by a transaction lock, as instances may overlap for a moment when the evaluator's lease moves).
use super::warnings::{event, warning, NewWarning, Step, StoredWarning, WarningStore, EVENT, EVENTS, INSERT, LIST, ONE, OPEN_SAME, STEP, RULE_ACTOR};
use super::{PgStore, StoreError};
use app::warning::{WarningEvent, WarningOp};
use futures::future::BoxFuture;

/// The transaction lock that serialises raising ("warn" in ASCII).
const WARNINGS_LOCK: i64 = 0x7761_726e;

impl WarningStore for PgStore {
    fn warning_raise<'a>(&'a self, w: &'a NewWarning, quiet_since: i64) -> BoxFuture<'a, Result<Option<i64>, StoreError>> {
        Box::pin(async move {
            let mut tx = self.pool().begin().await?;
            sqlx::query("SELECT pg_advisory_xact_lock($1)").bind(WARNINGS_LOCK).execute(&mut *tx).await?;
            let same: Option<i64> = sqlx::query_scalar(OPEN_SAME).bind(&w.rule).bind(&w.region).bind(&w.subject).bind(quiet_since).fetch_optional(&mut *tx).await?;
            if same.is_some() {
                return Ok(None);
            }
            let id: i64 = sqlx::query_scalar(INSERT)
                .bind(&w.rule)
                .bind(&w.title)
                .bind(w.kind.as_str())
                .bind(w.level.as_str())
                .bind(&w.region)
                .bind(&w.subject)
                .bind(&w.route)
                .bind(&w.facts)
                .bind(w.raised_at)
                .bind(w.escalate_at)
                .fetch_one(&mut *tx)
                .await?;
            sqlx::query(EVENT).bind(id).bind(w.raised_at).bind(WarningOp::Raise.as_str()).bind(RULE_ACTOR).bind("").execute(&mut *tx).await?;
            tx.commit().await?;
            Ok(Some(id))
        })
    }

    fn warnings<'a>(&'a self, closed_since: i64) -> BoxFuture<'a, Result<Vec<StoredWarning>, StoreError>> {
        Box::pin(async move { sqlx::query(LIST).bind(closed_since).fetch_all(self.pool()).await?.iter().map(warning).collect() })
    }

    fn warning(&self, id: i64) -> BoxFuture<'_, Result<Option<StoredWarning>, StoreError>> {
        Box::pin(async move { sqlx::query(ONE).bind(id).fetch_optional(self.pool()).await?.as_ref().map(warning).transpose() })
    }

    fn warning_events(&self, id: i64) -> BoxFuture<'_, Result<Vec<WarningEvent>, StoreError>> {
        Box::pin(async move { sqlx::query(EVENTS).bind(id).fetch_all(self.pool()).await?.iter().map(event).collect() })
    }

    fn warning_step<'a>(&'a self, s: &'a Step<'a>) -> BoxFuture<'a, Result<bool, StoreError>> {
        Box::pin(async move {
            let mut tx = self.pool().begin().await?;
            let moved = sqlx::query(STEP)
                .bind(s.to.as_str())
                .bind(s.at)
                .bind(s.route)
                .bind(s.escalate_at)
                .bind(i64::from(s.op == WarningOp::Escalate))
                .bind(s.id)
                .bind(s.from.as_str())
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if moved == 0 {
                return Ok(false);
            }
            sqlx::query(EVENT).bind(s.id).bind(s.at).bind(s.op.as_str()).bind(s.actor).bind(s.note).execute(&mut *tx).await?;
            if let Some(a) = s.audit {
                super::postgres_access::insert_audit(&mut *tx, a).await?;
            }
            tx.commit().await?;
            Ok(true)
        })
    }
}

//! Grid duty rosters as the store keeps them: one row per line (grid, worker, kind, start) with its end.
//! Writing the same line again changes nothing; a new end replaces the old one.
use super::StoreError;
use crate::duty::Duty;
use app::duty::DutyKind;
use futures::future::BoxFuture;

pub trait DutyStore {
    /// Stores `lines`; how many were new or changed.
    fn append_duties<'a>(&'a self, lines: &'a [Duty]) -> BoxFuture<'a, Result<u64, StoreError>>;
    /// Lines that overlap `[from, to)`, in start order.
    fn duties_between(&self, from: i64, to: i64) -> BoxFuture<'_, Result<Vec<Duty>, StoreError>>;
}

/// Rows per statement (four binds each stays far below both databases' limits).
pub(super) const CHUNK: usize = 500;

pub(super) const UPSERT_TAIL: &str = " ON CONFLICT (grid, worker, kind, starts_at) DO UPDATE SET ends_at = excluded.ends_at WHERE duties.ends_at <> excluded.ends_at";

pub(super) const BETWEEN: &str = "SELECT grid, worker, kind, starts_at, ends_at FROM duties WHERE ends_at > $1 AND starts_at < $2 AND ends_at > starts_at ORDER BY starts_at, grid, worker, kind";

pub(super) fn duty(grid: String, worker: String, kind: String, from: i64, to: i64) -> Result<Duty, StoreError> {
    let kind = DutyKind::parse(&kind).ok_or_else(|| StoreError::Corrupt(format!("duty kind {kind:?}")))?;
    Ok(Duty { grid, worker, kind, from, to })
}

/// The last of each line in `lines` (one statement may not touch a row twice on PostgreSQL, and on
/// both stores the later line of a delivery wins), in their order.
pub(super) fn last_of_each(lines: &[Duty]) -> Vec<&Duty> {
    let mut seen = std::collections::HashSet::new();
    let mut out: Vec<&Duty> = lines.iter().rev().filter(|d| seen.insert((&d.grid, &d.worker, d.kind, d.from))).collect();
    out.reverse();
    out
}

/// The store's roster for one database: `DutyStore` on `$store`, and `upsert_in` (a feed's batch takes
/// roster lines inside its own transaction). `$begin` opens the writing transaction.
macro_rules! duty_store {
    ($store:ty, $db:ty, |$s:ident| $begin:expr) => {
        impl $crate::store::duty::DutyStore for $store {
            fn append_duties<'a>(&'a self, lines: &'a [$crate::duty::Duty]) -> futures::future::BoxFuture<'a, Result<u64, $crate::store::StoreError>> {
                Box::pin(async move {
                    let $s = self;
                    let mut tx = $begin.await?;
                    let changed = upsert_in(&mut tx, lines).await?;
                    tx.commit().await?;
                    Ok(changed)
                })
            }

            fn duties_between(&self, from: i64, to: i64) -> futures::future::BoxFuture<'_, Result<Vec<$crate::duty::Duty>, $crate::store::StoreError>> {
                use sqlx::Row;
                Box::pin(async move {
                    sqlx::query($crate::store::duty::BETWEEN)
                        .bind(from)
                        .bind(to)
                        .fetch_all(self.pool())
                        .await?
                        .into_iter()
                        .map(|r| $crate::store::duty::duty(r.try_get(0)?, r.try_get(1)?, r.try_get(2)?, r.try_get(3)?, r.try_get(4)?))
                        .collect()
                })
            }
        }

        /// Stores roster lines inside `tx`; how many were new or changed.
        pub(super) async fn upsert_in(tx: &mut sqlx::Transaction<'_, $db>, lines: &[$crate::duty::Duty]) -> Result<u64, $crate::store::StoreError> {
            let mut changed = 0;
            for part in $crate::store::duty::last_of_each(lines).chunks($crate::store::duty::CHUNK) {
                let mut q = sqlx::QueryBuilder::<$db>::new("INSERT INTO duties (grid, worker, kind, starts_at, ends_at) ");
                q.push_values(part, |mut b, d| {
                    b.push_bind(&d.grid).push_bind(&d.worker).push_bind(d.kind.as_str()).push_bind(d.from).push_bind(d.to);
                });
                q.push($crate::store::duty::UPSERT_TAIL);
                changed += q.build().execute(&mut **tx).await?.rows_affected();
            }
            Ok(changed)
        }
    };
}
pub(super) use duty_store;

//! A government data exchange's PostgreSQL table, as the `sql_pull` feed reads it: text columns keyed by
//! an id, and an `updated_at timestamptz` column that the writer sets on every change.
use sqlx::postgres::{PgPool, PgPoolOptions};

fn quote(ident: &str) -> String {
    format!("\"{}\"", ident.replace('"', "\"\""))
}

/// A small pool to `url` (`postgres://user@host:port/database`).
pub async fn connect(url: &str) -> Result<PgPool, sqlx::Error> {
    PgPoolOptions::new().max_connections(2).connect(url).await
}

/// Creates `table` if missing: `columns[0]` is the text primary key, the other columns are text, and
/// `updated_at timestamptz NOT NULL` follows.
pub async fn create_table(pool: &PgPool, table: &str, columns: &[&str]) -> Result<(), sqlx::Error> {
    let (id, rest) = columns.split_first().ok_or_else(|| sqlx::Error::Protocol("a table needs at least its id column".into()))?;
    let mut cols = vec![format!("{} text PRIMARY KEY", quote(id))];
    cols.extend(rest.iter().map(|c| format!("{} text", quote(c))));
    cols.push("updated_at timestamptz NOT NULL".into());
    sqlx::query(&format!("CREATE TABLE IF NOT EXISTS {} ({})", quote(table), cols.join(", "))).execute(pool).await?;
    Ok(())
}

/// Inserts rows, or updates them by id, in one transaction. Each row is its cells in `columns` order and
/// its `updated_at` (RFC 3339, e.g. `2026-11-21T09:30:00+08:00`).
pub async fn upsert(pool: &PgPool, table: &str, columns: &[&str], rows: &[(Vec<String>, String)]) -> Result<(), sqlx::Error> {
    let n = columns.len();
    let names: Vec<String> = columns.iter().map(|c| quote(c)).chain(std::iter::once("updated_at".to_string())).collect();
    let values: Vec<String> = (1..=n).map(|i| format!("${i}")).chain(std::iter::once(format!("${}::timestamptz", n + 1))).collect();
    let sets: Vec<String> = names[1..].iter().map(|c| format!("{c} = EXCLUDED.{c}")).collect();
    let sql = format!(
        "INSERT INTO {} ({}) VALUES ({}) ON CONFLICT ({}) DO UPDATE SET {}",
        quote(table),
        names.join(", "),
        values.join(", "),
        names[0],
        sets.join(", ")
    );
    let mut tx = pool.begin().await?;
    for (cells, updated_at) in rows {
        if cells.len() != n {
            return Err(sqlx::Error::Protocol(format!("a row has {} cells for {n} columns", cells.len())));
        }
        let mut q = sqlx::query(&sql);
        for c in cells {
            q = q.bind(c);
        }
        q.bind(updated_at).execute(&mut *tx).await?;
    }
    tx.commit().await
}

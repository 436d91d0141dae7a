//! The access layer's rows in PostgreSQL.
use super::access::{AccessStore, Account, ApiKey, AuditEntry, AuditFilter, Device, OidcRequest, Pairing, SecondFactor, Session};
use super::rows;
use super::{PgStore, StoreError};
use crate::auth::limiter::{Count, WINDOW_MS};
use futures::future::BoxFuture;
use sqlx::{Postgres, QueryBuilder};

pub(super) async fn insert_audit<'e, E: sqlx::Executor<'e, Database = Postgres>>(ex: E, e: &AuditEntry) -> Result<(), StoreError> {
    sqlx::query("INSERT INTO audit_log (at, actor, action, region, detail) VALUES ($1, $2, $3, $4, $5)")
        .bind(e.at)
        .bind(&e.actor)
        .bind(&e.action)
        .bind(&e.region)
        .bind(&e.detail)
        .execute(ex)
        .await?;
    Ok(())
}

impl AccessStore for PgStore {
    fn accounts(&self) -> BoxFuture<'_, Result<Vec<Account>, StoreError>> {
        Box::pin(async move {
            let rows = sqlx::query("SELECT * FROM accounts ORDER BY username").fetch_all(self.pool()).await?;
            rows.iter().map(rows::account).collect()
        })
    }

    fn create_account<'a>(&'a self, a: &'a Account, audit: &'a AuditEntry) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            let mut tx = self.pool().begin().await?;
            sqlx::query(
                "INSERT INTO accounts (username, display_name, role, scope, department, clearance, password_hash, created_at, created_by, disabled, \
                 must_change, password_set_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
            )
            .bind(&a.username)
            .bind(&a.display_name)
            .bind(a.role.as_str())
            .bind(&a.scope)
            .bind(&a.department)
            .bind(a.clearance.as_str())
            .bind(&a.password_hash)
            .bind(a.created_at)
            .bind(&a.created_by)
            .bind(a.disabled)
            .bind(a.must_change)
            .bind(a.password_set_at)
            .execute(&mut *tx)
            .await?;
            insert_audit(&mut *tx, audit).await?;
            tx.commit().await?;
            Ok(())
        })
    }

    fn live_sessions(&self, now: i64) -> BoxFuture<'_, Result<Vec<Session>, StoreError>> {
        Box::pin(async move {
            let rows = sqlx::query("SELECT * FROM sessions WHERE revoked_at IS NULL AND expires_at > $1").bind(now).fetch_all(self.pool()).await?;
            rows.iter().map(rows::session).collect()
        })
    }

    fn find_session<'a>(&'a self, token_hash: &'a str, now: i64) -> BoxFuture<'a, Result<Option<Session>, StoreError>> {
        Box::pin(async move {
            let row = sqlx::query("SELECT * FROM sessions WHERE token_hash = $1 AND revoked_at IS NULL AND expires_at > $2")
                .bind(token_hash)
                .bind(now)
                .fetch_optional(self.pool())
                .await?;
            row.as_ref().map(rows::session).transpose()
        })
    }

    fn find_device<'a>(&'a self, token_hash: &'a str) -> BoxFuture<'a, Result<Option<Device>, StoreError>> {
        Box::pin(async move {
            let row = sqlx::query("SELECT * FROM devices WHERE token_hash = $1 AND revoked_at IS NULL").bind(token_hash).fetch_optional(self.pool()).await?;
            row.as_ref().map(rows::device).transpose()
        })
    }

    fn insert_session<'a>(&'a self, s: &'a Session) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            sqlx::query("INSERT INTO sessions (token_hash, username, csrf, created_at, expires_at, address, second_factor_due, last_active_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
                .bind(&s.token_hash)
                .bind(&s.username)
                .bind(&s.csrf)
                .bind(s.created_at)
                .bind(s.expires_at)
                .bind(&s.address)
                .bind(s.second_factor_due)
                .bind(s.last_active_at)
                .execute(self.pool())
                .await?;
            Ok(())
        })
    }

    fn revoke_session<'a>(&'a self, token_hash: &'a str, at: i64) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            sqlx::query("UPDATE sessions SET revoked_at = $1 WHERE token_hash = $2 AND revoked_at IS NULL").bind(at).bind(token_hash).execute(self.pool()).await?;
            Ok(())
        })
    }

    fn password_history<'a>(&'a self, username: &'a str, n: u32) -> BoxFuture<'a, Result<Vec<String>, StoreError>> {
        Box::pin(async move {
            // `id` is the order of insertion, as SQLite's rowid.
            let rows = sqlx::query_scalar::<_, String>("SELECT password_hash FROM password_history WHERE username = $1 ORDER BY replaced_at DESC, id DESC LIMIT $2")
                .bind(username)
                .bind(i64::from(n))
                .fetch_all(self.pool())
                .await?;
            Ok(rows)
        })
    }

    fn set_password<'a>(&'a self, username: &'a str, new_hash: &'a str, at: i64, must_change: bool, audit: &'a AuditEntry) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            let mut tx = self.pool().begin().await?;
            // The account's row is locked first, so two changes of one password follow each other as under
            // SQLite's single writer and the history never misses the hash in between.
            sqlx::query("SELECT 1 FROM accounts WHERE username = $1 FOR UPDATE").bind(username).execute(&mut *tx).await?;
            sqlx::query("INSERT INTO password_history (username, password_hash, replaced_at) SELECT username, password_hash, $1 FROM accounts WHERE username = $2")
                .bind(at)
                .bind(username)
                .execute(&mut *tx)
                .await?;
            sqlx::query("UPDATE accounts SET password_hash = $1, must_change = $2, password_set_at = $3 WHERE username = $4")
                .bind(new_hash)
                .bind(must_change)
                .bind(at)
                .bind(username)
                .execute(&mut *tx)
                .await?;
            insert_audit(&mut *tx, audit).await?;
            tx.commit().await?;
            Ok(())
        })
    }

    fn update_account<'a>(&'a self, a: &'a Account, audit: &'a AuditEntry) -> BoxFuture<'a, Result<bool, StoreError>> {
        Box::pin(async move {
            let mut tx = self.pool().begin().await?;
            let done = sqlx::query("UPDATE accounts SET display_name = $1, role = $2, scope = $3, department = $4, clearance = $5 WHERE username = $6")
                .bind(&a.display_name)
                .bind(a.role.as_str())
                .bind(&a.scope)
                .bind(&a.department)
                .bind(a.clearance.as_str())
                .bind(&a.username)
                .execute(&mut *tx)
                .await?;
            if done.rows_affected() != 1 {
                return Ok(false);
            }
            insert_audit(&mut *tx, audit).await?;
            tx.commit().await?;
            Ok(true)
        })
    }

    fn record_sign_in<'a>(&'a self, username: &'a str, at: i64, from: &'a str) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            sqlx::query("UPDATE accounts SET last_sign_in_at = $1, last_sign_in_from = $2 WHERE username = $3").bind(at).bind(from).bind(username).execute(self.pool()).await?;
            Ok(())
        })
    }

    fn set_account_disabled<'a>(&'a self, username: &'a str, disabled: bool) -> BoxFuture<'a, Result<bool, StoreError>> {
        Box::pin(async move {
            let done = sqlx::query("UPDATE accounts SET disabled = $1 WHERE username = $2").bind(disabled).bind(username).execute(self.pool()).await?;
            Ok(done.rows_affected() == 1)
        })
    }

    fn devices(&self) -> BoxFuture<'_, Result<Vec<Device>, StoreError>> {
        Box::pin(async move {
            let rows = sqlx::query("SELECT * FROM devices ORDER BY id").fetch_all(self.pool()).await?;
            rows.iter().map(rows::device).collect()
        })
    }

    fn insert_device<'a>(&'a self, d: &'a Device) -> BoxFuture<'a, Result<i64, StoreError>> {
        Box::pin(async move {
            let id: i64 = sqlx::query_scalar("INSERT INTO devices (name, token_hash, scope, issued_by, issued_at, place) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id")
                .bind(&d.name)
                .bind(&d.token_hash)
                .bind(&d.scope)
                .bind(&d.issued_by)
                .bind(d.issued_at)
                .bind(&d.place)
                .fetch_one(self.pool())
                .await?;
            Ok(id)
        })
    }

    fn set_device_playlist<'a>(&'a self, id: i64, playlist: &'a str, audit: &'a AuditEntry) -> BoxFuture<'a, Result<bool, StoreError>> {
        Box::pin(async move {
            let mut tx = self.pool().begin().await?;
            let r = sqlx::query("UPDATE devices SET playlist = $1 WHERE id = $2 AND revoked_at IS NULL").bind(playlist).bind(id).execute(&mut *tx).await?;
            if r.rows_affected() != 1 {
                return Ok(false);
            }
            insert_audit(&mut *tx, audit).await?;
            tx.commit().await?;
            Ok(true)
        })
    }

    fn revoke_device<'a>(&'a self, id: i64, by: &'a str, at: i64) -> BoxFuture<'a, Result<bool, StoreError>> {
        Box::pin(async move {
            let r = sqlx::query("UPDATE devices SET revoked_at = $1, revoked_by = $2 WHERE id = $3 AND revoked_at IS NULL").bind(at).bind(by).bind(id).execute(self.pool()).await?;
            Ok(r.rows_affected() == 1)
        })
    }

    fn api_keys(&self) -> BoxFuture<'_, Result<Vec<ApiKey>, StoreError>> {
        Box::pin(async move {
            let rows = sqlx::query("SELECT id, name, key_hash, issued_by, issued_at, revoked_at FROM api_keys ORDER BY id").fetch_all(self.pool()).await?;
            rows.iter().map(rows::api_key).collect()
        })
    }

    fn insert_api_key<'a>(&'a self, k: &'a ApiKey) -> BoxFuture<'a, Result<i64, StoreError>> {
        Box::pin(async move {
            let id: i64 = sqlx::query_scalar("INSERT INTO api_keys (name, key_hash, issued_by, issued_at) VALUES ($1, $2, $3, $4) RETURNING id")
                .bind(&k.name)
                .bind(&k.key_hash)
                .bind(&k.issued_by)
                .bind(k.issued_at)
                .fetch_one(self.pool())
                .await?;
            Ok(id)
        })
    }

    fn revoke_api_key<'a>(&'a self, id: i64, by: &'a str, at: i64) -> BoxFuture<'a, Result<bool, StoreError>> {
        Box::pin(async move {
            let r =
                sqlx::query("UPDATE api_keys SET revoked_at = $1, revoked_by = $2 WHERE id = $3 AND revoked_at IS NULL").bind(at).bind(by).bind(id).execute(self.pool()).await?;
            Ok(r.rows_affected() == 1)
        })
    }

    fn second_factor<'a>(&'a self, username: &'a str) -> BoxFuture<'a, Result<Option<SecondFactor>, StoreError>> {
        Box::pin(async move {
            let row: Option<(Option<String>, Option<String>, Option<i64>, Option<i64>)> =
                sqlx::query_as("SELECT secret, pending, last_step, enabled_at FROM second_factors WHERE username = $1").bind(username).fetch_optional(self.pool()).await?;
            let Some((secret, pending, last_step, enabled_at)) = row else { return Ok(None) };
            let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM recovery_codes WHERE username = $1 AND used_at IS NULL").bind(username).fetch_one(self.pool()).await?;
            Ok(Some(SecondFactor { secret, pending, last_step, enabled_at, recovery_left: left.clamp(0, i64::from(u32::MAX)) as u32 }))
        })
    }

    fn second_factor_users(&self) -> BoxFuture<'_, Result<Vec<String>, StoreError>> {
        Box::pin(async move { Ok(sqlx::query_scalar("SELECT username FROM second_factors WHERE secret IS NOT NULL").fetch_all(self.pool()).await?) })
    }

    fn set_second_factor_pending<'a>(&'a self, username: &'a str, secret: &'a str) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            sqlx::query("INSERT INTO second_factors (username, pending) VALUES ($1, $2) ON CONFLICT (username) DO UPDATE SET pending = excluded.pending")
                .bind(username)
                .bind(secret)
                .execute(self.pool())
                .await?;
            Ok(())
        })
    }

    fn enable_second_factor<'a>(&'a self, username: &'a str, step: i64, code_hashes: &'a [String], audit: &'a AuditEntry) -> BoxFuture<'a, Result<bool, StoreError>> {
        Box::pin(async move {
            let mut tx = self.pool().begin().await?;
            let done = sqlx::query("UPDATE second_factors SET secret = pending, pending = NULL, last_step = $1, enabled_at = $2 WHERE username = $3 AND pending IS NOT NULL")
                .bind(step)
                .bind(audit.at)
                .bind(username)
                .execute(&mut *tx)
                .await?;
            if done.rows_affected() != 1 {
                return Ok(false);
            }
            sqlx::query("DELETE FROM recovery_codes WHERE username = $1").bind(username).execute(&mut *tx).await?;
            for h in code_hashes {
                sqlx::query("INSERT INTO recovery_codes (username, code_hash) VALUES ($1, $2)").bind(username).bind(h).execute(&mut *tx).await?;
            }
            insert_audit(&mut *tx, audit).await?;
            tx.commit().await?;
            Ok(true)
        })
    }

    fn take_totp_step<'a>(&'a self, username: &'a str, step: i64) -> BoxFuture<'a, Result<bool, StoreError>> {
        Box::pin(async move {
            let done = sqlx::query("UPDATE second_factors SET last_step = $1 WHERE username = $2 AND secret IS NOT NULL AND (last_step IS NULL OR last_step < $1)")
                .bind(step)
                .bind(username)
                .execute(self.pool())
                .await?;
            Ok(done.rows_affected() == 1)
        })
    }

    fn use_recovery_code<'a>(&'a self, username: &'a str, code_hash: &'a str, at: i64) -> BoxFuture<'a, Result<bool, StoreError>> {
        Box::pin(async move {
            let done = sqlx::query("UPDATE recovery_codes SET used_at = $1 WHERE username = $2 AND code_hash = $3 AND used_at IS NULL")
                .bind(at)
                .bind(username)
                .bind(code_hash)
                .execute(self.pool())
                .await?;
            Ok(done.rows_affected() == 1)
        })
    }

    fn remove_second_factor<'a>(&'a self, username: &'a str, audit: &'a AuditEntry) -> BoxFuture<'a, Result<bool, StoreError>> {
        Box::pin(async move {
            let mut tx = self.pool().begin().await?;
            let done = sqlx::query("DELETE FROM second_factors WHERE username = $1 AND secret IS NOT NULL").bind(username).execute(&mut *tx).await?;
            if done.rows_affected() != 1 {
                return Ok(false);
            }
            sqlx::query("DELETE FROM recovery_codes WHERE username = $1").bind(username).execute(&mut *tx).await?;
            insert_audit(&mut *tx, audit).await?;
            tx.commit().await?;
            Ok(true)
        })
    }

    fn touch_session<'a>(&'a self, token_hash: &'a str, at: i64) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            sqlx::query("UPDATE sessions SET last_active_at = $1 WHERE token_hash = $2 AND last_active_at < $1").bind(at).bind(token_hash).execute(self.pool()).await?;
            Ok(())
        })
    }

    fn purge_audit(&self, before: i64) -> BoxFuture<'_, Result<u64, StoreError>> {
        Box::pin(async move {
            let mut tx = self.pool().begin().await?;
            sqlx::query("UPDATE audit_retention SET cutoff = $1 WHERE only_row = 1 AND cutoff < $1").bind(before).execute(&mut *tx).await?;
            let done = sqlx::query("DELETE FROM audit_log WHERE at < $1").bind(before).execute(&mut *tx).await?;
            tx.commit().await?;
            Ok(done.rows_affected())
        })
    }

    fn begin_pairing<'a>(&'a self, code: &'a str, secret_hash: &'a str, now: i64, expired_before: i64, max_waiting: i64) -> BoxFuture<'a, Result<bool, StoreError>> {
        Box::pin(async move {
            let mut tx = self.pool().begin().await?;
            sqlx::query("DELETE FROM pairings WHERE created_at < $1").bind(expired_before).execute(&mut *tx).await?;
            sqlx::query("DELETE FROM pairings WHERE code IN (SELECT code FROM pairings ORDER BY created_at DESC, code LIMIT ALL OFFSET $1)")
                .bind(max_waiting - 1)
                .execute(&mut *tx)
                .await?;
            let done = sqlx::query("INSERT INTO pairings (code, secret_hash, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
                .bind(code)
                .bind(secret_hash)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(done.rows_affected() == 1)
        })
    }

    fn pairing_of<'a>(&'a self, secret_hash: &'a str) -> BoxFuture<'a, Result<Option<Pairing>, StoreError>> {
        Box::pin(async move {
            let row: Option<(String, i64, Option<i64>)> =
                sqlx::query_as("SELECT code, created_at, device_id FROM pairings WHERE secret_hash = $1").bind(secret_hash).fetch_optional(self.pool()).await?;
            Ok(row.map(|(code, created_at, device_id)| Pairing { code, created_at, device_id }))
        })
    }

    fn pairing_waiting<'a>(&'a self, code: &'a str, since: i64) -> BoxFuture<'a, Result<bool, StoreError>> {
        Box::pin(async move {
            let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM pairings WHERE code = $1 AND created_at >= $2 AND device_id IS NULL")
                .bind(code)
                .bind(since)
                .fetch_one(self.pool())
                .await?;
            Ok(n == 1)
        })
    }

    fn complete_pairing<'a>(&'a self, code: &'a str, device_id: i64, since: i64) -> BoxFuture<'a, Result<bool, StoreError>> {
        Box::pin(async move {
            let done = sqlx::query("UPDATE pairings SET device_id = $1 WHERE code = $2 AND created_at >= $3 AND device_id IS NULL")
                .bind(device_id)
                .bind(code)
                .bind(since)
                .execute(self.pool())
                .await?;
            Ok(done.rows_affected() == 1)
        })
    }

    fn end_pairing<'a>(&'a self, secret_hash: &'a str) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            sqlx::query("DELETE FROM pairings WHERE secret_hash = $1").bind(secret_hash).execute(self.pool()).await?;
            Ok(())
        })
    }

    fn rekey_device<'a>(&'a self, id: i64, token_hash: &'a str) -> BoxFuture<'a, Result<bool, StoreError>> {
        Box::pin(async move {
            let done = sqlx::query("UPDATE devices SET token_hash = $1 WHERE id = $2 AND revoked_at IS NULL").bind(token_hash).bind(id).execute(self.pool()).await?;
            Ok(done.rows_affected() == 1)
        })
    }

    fn device_seen(&self, id: i64, at: i64) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(async move {
            sqlx::query("UPDATE devices SET last_seen_at = $1 WHERE id = $2 AND (last_seen_at IS NULL OR last_seen_at < $1)").bind(at).bind(id).execute(self.pool()).await?;
            Ok(())
        })
    }

    fn put_oidc_request<'a>(&'a self, r: &'a OidcRequest, expired_before: i64) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            let mut tx = self.pool().begin().await?;
            sqlx::query("DELETE FROM oidc_requests WHERE created_at < $1").bind(expired_before).execute(&mut *tx).await?;
            sqlx::query("INSERT INTO oidc_requests (state, verifier, nonce, next, created_at) VALUES ($1, $2, $3, $4, $5)")
                .bind(&r.state)
                .bind(&r.verifier)
                .bind(&r.nonce)
                .bind(&r.next)
                .bind(r.created_at)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(())
        })
    }

    fn take_oidc_request<'a>(&'a self, state: &'a str, since: i64) -> BoxFuture<'a, Result<Option<OidcRequest>, StoreError>> {
        Box::pin(async move {
            let mut tx = self.pool().begin().await?;
            sqlx::query("DELETE FROM oidc_requests WHERE created_at < $1").bind(since).execute(&mut *tx).await?;
            let row: Option<(String, String, String, String, i64)> =
                sqlx::query_as("DELETE FROM oidc_requests WHERE state = $1 RETURNING state, verifier, nonce, next, created_at").bind(state).fetch_optional(&mut *tx).await?;
            tx.commit().await?;
            Ok(row.map(|(state, verifier, nonce, next, created_at)| OidcRequest { state, verifier, nonce, next, created_at }))
        })
    }

    fn append_audit<'a>(&'a self, e: &'a AuditEntry) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(insert_audit(self.pool(), e))
    }

    fn throttle_counts<'a>(&'a self, keys: &'a [String]) -> BoxFuture<'a, Result<std::collections::HashMap<String, Count>, StoreError>> {
        Box::pin(async move {
            let mut out = std::collections::HashMap::new();
            for k in keys {
                let row: Option<(i64, i64)> = sqlx::query_as("SELECT failures, last_at FROM login_throttle WHERE key = $1").bind(k).fetch_optional(self.pool()).await?;
                if let Some((failures, last_at)) = row {
                    out.insert(k.clone(), Count { failures: failures.clamp(0, i64::from(u32::MAX)) as u32, last_at });
                }
            }
            Ok(out)
        })
    }

    fn throttle_fail<'a>(&'a self, keys: &'a [String], now: i64) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            let mut tx = self.pool().begin().await?;
            for k in keys {
                // The stored row's columns are qualified: PostgreSQL sees `excluded`'s too.
                sqlx::query(
                    "INSERT INTO login_throttle (key, failures, last_at) VALUES ($1, 1, $2) ON CONFLICT (key) DO UPDATE SET \
                     failures = CASE WHEN excluded.last_at - login_throttle.last_at > $3 THEN 1 ELSE login_throttle.failures + 1 END, \
                     last_at = excluded.last_at",
                )
                .bind(k)
                .bind(now)
                .bind(WINDOW_MS)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
            Ok(())
        })
    }

    fn throttle_clear<'a>(&'a self, keys: &'a [String]) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            for k in keys {
                sqlx::query("DELETE FROM login_throttle WHERE key = $1").bind(k).execute(self.pool()).await?;
            }
            Ok(())
        })
    }

    fn audit<'a>(&'a self, f: &'a AuditFilter, limit: u32) -> BoxFuture<'a, Result<Vec<AuditEntry>, StoreError>> {
        Box::pin(async move {
            let mut q = QueryBuilder::<Postgres>::new("SELECT at, actor, action, region, detail FROM audit_log WHERE 1 = 1");
            if let Some(a) = &f.actor {
                q.push(" AND actor = ").push_bind(a);
            }
            if let Some(r) = &f.region {
                // A prefix compared as text, not a LIKE pattern: `%` and `_` in a code match only themselves.
                // substr counts characters and takes an INTEGER length.
                let n = i32::try_from(r.chars().count()).unwrap_or(i32::MAX);
                q.push(" AND substr(region, 1, ").push_bind(n).push(") = ").push_bind(r);
            }
            if let Some(t) = f.from {
                q.push(" AND at >= ").push_bind(t);
            }
            if let Some(t) = f.to {
                q.push(" AND at < ").push_bind(t);
            }
            q.push(" ORDER BY id DESC LIMIT ").push_bind(i64::from(limit));
            let rows = q.build().fetch_all(self.pool()).await?;
            rows.iter().map(rows::audit_entry).collect()
        })
    }
}

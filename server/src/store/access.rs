//! Stored rows of the access layer: accounts, sessions, wall-display devices and the audit log.
use super::StoreError;
use app::model::{Clearance, Role};
use futures::future::BoxFuture;

#[derive(Clone, Debug, PartialEq)]
pub struct Account {
    pub username: String,
    pub display_name: String,
    pub role: Role,
    /// Code of the region at the top of the account's scope.
    pub scope: String,
    pub department: Option<String>,
    pub clearance: Clearance,
    /// argon2id PHC string.
    pub password_hash: String,
    pub created_at: i64,
    pub created_by: String,
    pub disabled: bool,
    /// Reset by an administrator: the person sets a new password before anything else.
    pub must_change: bool,
    /// When the password was set (expiry counts from here).
    pub password_set_at: i64,
    /// The latest successful sign-in and the address it came from.
    pub last_sign_in_at: Option<i64>,
    pub last_sign_in_from: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Session {
    pub token_hash: String,
    pub username: String,
    pub csrf: String,
    pub created_at: i64,
    pub expires_at: i64,
    /// The address the session was opened from.
    pub address: String,
    /// Opened by a password, the second factor still to come: good for nothing but giving it.
    pub second_factor_due: bool,
    /// The person's last input (for the idle time-out); never before `created_at`.
    pub last_active_at: i64,
}

/// A screen waiting to be paired as a wall display by its code.
#[derive(Clone, Debug, PartialEq)]
pub struct Pairing {
    pub code: String,
    pub created_at: i64,
    /// The device an administrator issued for the code, once they did.
    pub device_id: Option<i64>,
}

/// A sign-in sent to the identity platform (OpenID Connect), waiting for the person to come back.
#[derive(Clone, Debug, PartialEq)]
pub struct OidcRequest {
    pub state: String,
    pub verifier: String,
    pub nonce: String,
    pub next: String,
    pub created_at: i64,
}

/// A person's TOTP second factor (RFC 6238).
#[derive(Clone, Debug, PartialEq, Default)]
pub struct SecondFactor {
    /// Base32 secret in force; None while only enrolling.
    pub secret: Option<String>,
    /// Base32 secret shown for enrolment, not yet confirmed by a code.
    pub pending: Option<String>,
    /// The newest 30-second step accepted (a code is good once).
    pub last_step: Option<i64>,
    pub enabled_at: Option<i64>,
    /// Recovery codes not yet used.
    pub recovery_left: u32,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Device {
    pub id: i64,
    pub name: String,
    pub token_hash: String,
    pub scope: String,
    pub issued_by: String,
    pub issued_at: i64,
    pub revoked_at: Option<i64>,
    /// The playlist as stored (JSON of `app::model::Playlist`).
    pub playlist: Option<String>,
    /// Where the display hangs (a room, a floor), as the administrator wrote it.
    pub place: String,
    /// When it last asked for something, as stored (at most a minute behind).
    pub last_seen_at: Option<i64>,
}

/// A key an Open311 app presents with residents' reports; only its hash is stored.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct ApiKey {
    pub id: i64,
    pub name: String,
    #[serde(skip)]
    pub key_hash: String,
    pub issued_by: String,
    pub issued_at: i64,
    pub revoked_at: Option<i64>,
}

#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct AuditEntry {
    pub at: i64,
    pub actor: String,
    pub action: String,
    pub region: Option<String>,
    pub detail: String,
}

/// Which audit entries to read. `region` is a code prefix the policy has resolved within the reader's
/// scope (never what a client sent): entries about that region or anything below it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AuditFilter {
    pub actor: Option<String>,
    pub region: Option<String>,
    pub from: Option<i64>,
    pub to: Option<i64>,
}

pub trait AccessStore: Send + Sync + 'static {
    fn accounts(&self) -> BoxFuture<'_, Result<Vec<Account>, StoreError>>;
    /// Creates the account and records who did it, in one transaction. Fails if the name is taken.
    fn create_account<'a>(&'a self, a: &'a Account, audit: &'a AuditEntry) -> BoxFuture<'a, Result<(), StoreError>>;
    /// Sessions neither revoked nor expired at `now`.
    fn live_sessions(&self, now: i64) -> BoxFuture<'_, Result<Vec<Session>, StoreError>>;
    fn insert_session<'a>(&'a self, s: &'a Session) -> BoxFuture<'a, Result<(), StoreError>>;
    /// The session of this token hash if it is neither revoked nor expired at `now`, and the live
    /// device of this token hash (another instance may have made them a moment ago).
    fn find_session<'a>(&'a self, token_hash: &'a str, now: i64) -> BoxFuture<'a, Result<Option<Session>, StoreError>>;
    fn find_device<'a>(&'a self, token_hash: &'a str) -> BoxFuture<'a, Result<Option<Device>, StoreError>>;
    fn revoke_session<'a>(&'a self, token_hash: &'a str, at: i64) -> BoxFuture<'a, Result<(), StoreError>>;
    /// The account's earlier passwords, newest first, at most `n`.
    fn password_history<'a>(&'a self, username: &'a str, n: u32) -> BoxFuture<'a, Result<Vec<String>, StoreError>>;
    /// Replaces the account's password (the old hash goes to its history), marks whether it must be
    /// changed at the next sign-in (a reset), and records it, in one transaction.
    fn set_password<'a>(&'a self, username: &'a str, new_hash: &'a str, at: i64, must_change: bool, audit: &'a AuditEntry) -> BoxFuture<'a, Result<(), StoreError>>;
    /// Changes an account's name, role, scope, department and clearance (never its password or state)
    /// and records who did it, in one transaction; false when there is no such account.
    fn update_account<'a>(&'a self, a: &'a Account, audit: &'a AuditEntry) -> BoxFuture<'a, Result<bool, StoreError>>;
    /// Notes a successful sign-in on the account.
    fn record_sign_in<'a>(&'a self, username: &'a str, at: i64, from: &'a str) -> BoxFuture<'a, Result<(), StoreError>>;
    /// Disables or enables an account; false when there is no such account.
    fn set_account_disabled<'a>(&'a self, username: &'a str, disabled: bool) -> BoxFuture<'a, Result<bool, StoreError>>;
    fn devices(&self) -> BoxFuture<'_, Result<Vec<Device>, StoreError>>;
    /// Returns the new device's id.
    fn insert_device<'a>(&'a self, d: &'a Device) -> BoxFuture<'a, Result<i64, StoreError>>;
    /// False when there was no such live device.
    fn revoke_device<'a>(&'a self, id: i64, by: &'a str, at: i64) -> BoxFuture<'a, Result<bool, StoreError>>;
    /// Sets a live device's playlist and records who did it, in one transaction; false when there was
    /// no such live device.
    fn set_device_playlist<'a>(&'a self, id: i64, playlist: &'a str, audit: &'a AuditEntry) -> BoxFuture<'a, Result<bool, StoreError>>;
    /// Every key ever issued, revoked ones too, oldest first.
    fn api_keys(&self) -> BoxFuture<'_, Result<Vec<ApiKey>, StoreError>>;
    /// Returns the new key's id.
    fn insert_api_key<'a>(&'a self, k: &'a ApiKey) -> BoxFuture<'a, Result<i64, StoreError>>;
    /// False when there was no such live key.
    fn revoke_api_key<'a>(&'a self, id: i64, by: &'a str, at: i64) -> BoxFuture<'a, Result<bool, StoreError>>;
    fn append_audit<'a>(&'a self, e: &'a AuditEntry) -> BoxFuture<'a, Result<(), StoreError>>;
    /// Sign-in failures counted under these keys (a key never counted is absent).
    fn throttle_counts<'a>(&'a self, keys: &'a [String]) -> BoxFuture<'a, Result<std::collections::HashMap<String, crate::auth::limiter::Count>, StoreError>>;
    /// Counts one failure at `now` under each key, as `auth::limiter::failed` does, atomically.
    fn throttle_fail<'a>(&'a self, keys: &'a [String], now: i64) -> BoxFuture<'a, Result<(), StoreError>>;
    fn throttle_clear<'a>(&'a self, keys: &'a [String]) -> BoxFuture<'a, Result<(), StoreError>>;
    /// The person's second factor, if any row exists.
    fn second_factor<'a>(&'a self, username: &'a str) -> BoxFuture<'a, Result<Option<SecondFactor>, StoreError>>;
    /// Who has a second factor in force.
    fn second_factor_users(&self) -> BoxFuture<'_, Result<Vec<String>, StoreError>>;
    /// Keeps `secret` as the one being enrolled (replacing an earlier pending one; the one in force stays).
    fn set_second_factor_pending<'a>(&'a self, username: &'a str, secret: &'a str) -> BoxFuture<'a, Result<(), StoreError>>;
    /// Puts the pending secret in force with the step its confirming code used, replaces the recovery
    /// codes by `code_hashes`, and records it, in one transaction; false when nothing was pending.
    fn enable_second_factor<'a>(&'a self, username: &'a str, step: i64, code_hashes: &'a [String], audit: &'a AuditEntry) -> BoxFuture<'a, Result<bool, StoreError>>;
    /// Accepts a code's step once: true when it is newer than every step accepted before (atomic, so two
    /// instances cannot both accept one code).
    fn take_totp_step<'a>(&'a self, username: &'a str, step: i64) -> BoxFuture<'a, Result<bool, StoreError>>;
    /// Uses an unused recovery code: true when it existed and was unused.
    fn use_recovery_code<'a>(&'a self, username: &'a str, code_hash: &'a str, at: i64) -> BoxFuture<'a, Result<bool, StoreError>>;
    /// Removes the second factor and its recovery codes, and records it; false when there was none.
    fn remove_second_factor<'a>(&'a self, username: &'a str, audit: &'a AuditEntry) -> BoxFuture<'a, Result<bool, StoreError>>;
    /// Notes the person's input in a session (never moves it back).
    fn touch_session<'a>(&'a self, token_hash: &'a str, at: i64) -> BoxFuture<'a, Result<(), StoreError>>;
    /// Deletes audit entries older than `before` (the retention task; the caller holds the minimum of
    /// 180 days); returns how many.
    fn purge_audit(&self, before: i64) -> BoxFuture<'_, Result<u64, StoreError>>;
    /// Keeps a sign-in under way; those begun before `expired_before` are deleted on the way.
    /// A screen's new code (false: the code is taken; the caller draws another). Codes begun before
    /// `expired_before` go; past `max_waiting` the oldest give way.
    fn begin_pairing<'a>(&'a self, code: &'a str, secret_hash: &'a str, now: i64, expired_before: i64, max_waiting: i64) -> BoxFuture<'a, Result<bool, StoreError>>;
    /// The pairing of the screen holding this secret.
    fn pairing_of<'a>(&'a self, secret_hash: &'a str) -> BoxFuture<'a, Result<Option<Pairing>, StoreError>>;
    /// Whether `code` waits (begun since `since`, no device yet).
    fn pairing_waiting<'a>(&'a self, code: &'a str, since: i64) -> BoxFuture<'a, Result<bool, StoreError>>;
    /// Gives the waiting `code` its device; false if it no longer waits.
    fn complete_pairing<'a>(&'a self, code: &'a str, device_id: i64, since: i64) -> BoxFuture<'a, Result<bool, StoreError>>;
    fn end_pairing<'a>(&'a self, secret_hash: &'a str) -> BoxFuture<'a, Result<(), StoreError>>;
    /// Gives a live device a new token (its hash); false if it is no longer live.
    fn rekey_device<'a>(&'a self, id: i64, token_hash: &'a str) -> BoxFuture<'a, Result<bool, StoreError>>;
    /// Notes when a wall display last asked for something (never moves back).
    fn device_seen(&self, id: i64, at: i64) -> BoxFuture<'_, Result<(), StoreError>>;
    fn put_oidc_request<'a>(&'a self, r: &'a OidcRequest, expired_before: i64) -> BoxFuture<'a, Result<(), StoreError>>;
    /// Takes (deletes and returns) the waiting sign-in of `state` if it began after `since`; older ones
    /// are deleted on the way.
    fn take_oidc_request<'a>(&'a self, state: &'a str, since: i64) -> BoxFuture<'a, Result<Option<OidcRequest>, StoreError>>;
    /// Newest first, at most `limit`.
    fn audit<'a>(&'a self, f: &'a AuditFilter, limit: u32) -> BoxFuture<'a, Result<Vec<AuditEntry>, StoreError>>;
}

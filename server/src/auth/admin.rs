//! What an administrator reads and changes beyond granting: the accounts, sessions and wall displays
//! within their reach, an account's role, scope and clearance, and one session ended. Every change is
//! within the grant rule (`may_grant`) for the account as it is and as it will be, and audited.
use super::{Auth, AuthError};
use crate::store::access::{Account, AuditEntry};
use app::backend::Viewer;
use app::model::{Clearance, Role};
use serde::Serialize;

/// How many hex digits of a session's token hash name it on the page (never the token itself).
pub const SESSION_ID_LEN: usize = 16;

/// An account as an administrator sees it: never its password hash.
#[derive(Clone, Debug, Serialize)]
pub struct AccountView {
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub scope: String,
    pub department: Option<String>,
    pub clearance: Clearance,
    pub disabled: bool,
    pub must_change: bool,
    pub created_at: i64,
    pub created_by: String,
    pub last_sign_in_at: Option<i64>,
    pub last_sign_in_from: Option<String>,
}

impl From<&Account> for AccountView {
    fn from(a: &Account) -> Self {
        AccountView {
            username: a.username.clone(),
            display_name: a.display_name.clone(),
            role: a.role,
            scope: a.scope.clone(),
            department: a.department.clone(),
            clearance: a.clearance,
            disabled: a.disabled,
            must_change: a.must_change,
            created_at: a.created_at,
            created_by: a.created_by.clone(),
            last_sign_in_at: a.last_sign_in_at,
            last_sign_in_from: a.last_sign_in_from.clone(),
        }
    }
}

/// A live session: who, since when, from where, until when.
#[derive(Clone, Debug, Serialize)]
pub struct SessionView {
    pub id: String,
    pub username: String,
    pub display_name: String,
    pub scope: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub address: String,
}

/// A wall display: where it hangs, what it may show, when it last asked for data.
#[derive(Clone, Debug, Serialize)]
pub struct DeviceView {
    pub id: i64,
    pub name: String,
    pub place: String,
    pub scope: String,
    pub issued_by: String,
    pub issued_at: i64,
    pub revoked_at: Option<i64>,
    /// Set since this process started (a wall asks every few seconds, so it is soon known again).
    pub last_seen: Option<i64>,
    pub playlist: Option<String>,
}

/// What an administrator may change of an account on the page.
#[derive(Clone, Debug)]
pub struct AccountChange {
    pub display_name: String,
    pub role: Role,
    pub scope: String,
    pub department: Option<String>,
    pub clearance: Clearance,
}

/// Which field a refused change is about, so the page says it beside that field.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Field {
    DisplayName,
    Role,
    Scope,
    Clearance,
    Account,
}

impl Auth {
    fn reaches(&self, by: &Viewer, scope: &str) -> bool {
        by.role == Role::Admin
            && match (self.tree.find(&by.scope.root), self.tree.find(scope)) {
                (Some(top), Some(r)) => self.tree.is_within(r, top),
                _ => false,
            }
    }

    /// The nearest region holding both `a` and `b`.
    fn common_region(&self, a: &str, b: &str) -> Option<String> {
        let (a, b) = (self.tree.find(a)?, self.tree.find(b)?);
        self.tree.ancestors(a).find(|&top| self.tree.is_within(b, top)).map(|i| self.tree.get(i).row.code.clone())
    }

    /// The accounts whose scope lies within the administrator's, by user name.
    pub fn accounts_within(&self, by: &Viewer) -> Vec<AccountView> {
        let accounts = self.accounts.read().expect("accounts lock");
        let mut v: Vec<AccountView> = accounts.values().filter(|a| self.reaches(by, &a.scope)).map(AccountView::from).collect();
        v.sort_by(|a, b| a.username.cmp(&b.username));
        v
    }

    /// The live sessions of the accounts within the administrator's reach, newest first.
    pub fn sessions_within(&self, by: &Viewer, now: i64) -> Vec<SessionView> {
        let accounts = self.accounts.read().expect("accounts lock");
        let sessions = self.sessions.read().expect("sessions lock");
        let mut v: Vec<SessionView> = sessions
            .values()
            .filter(|s| s.expires_at > now)
            .filter_map(|s| {
                let a = accounts.get(&s.username).filter(|a| !a.disabled && self.reaches(by, &a.scope))?;
                Some(SessionView {
                    id: s.token_hash[..SESSION_ID_LEN].to_string(),
                    username: s.username.clone(),
                    display_name: a.display_name.clone(),
                    scope: a.scope.clone(),
                    created_at: s.created_at,
                    expires_at: s.expires_at,
                    address: s.address.clone(),
                })
            })
            .collect();
        v.sort_by(|a, b| b.created_at.cmp(&a.created_at).then_with(|| a.id.cmp(&b.id)));
        v
    }

    /// Every wall display issued within the administrator's reach, revoked ones too.
    pub async fn devices_within(&self, by: &Viewer) -> Result<Vec<DeviceView>, AuthError> {
        let devices = self.store.devices().await?;
        let seen = self.seen.read().expect("seen lock");
        Ok(devices
            .into_iter()
            .filter(|d| self.reaches(by, &d.scope))
            .map(|d| DeviceView {
                last_seen: seen.get(&d.id).copied().max(d.last_seen_at),
                id: d.id,
                name: d.name,
                place: d.place,
                scope: d.scope,
                issued_by: d.issued_by,
                issued_at: d.issued_at,
                revoked_at: d.revoked_at,
                playlist: d.playlist,
            })
            .collect())
    }

    /// Notes that wall display `id` asked for something now (at most every ten seconds per display),
    /// and tells the store at most once a minute, so that every instance's page shows it.
    pub(super) fn saw_device(&self, id: i64, now: i64) {
        let last = self.seen.read().expect("seen lock").get(&id).copied();
        if last.is_some_and(|t| now - t < 10_000 && now >= t) {
            return;
        }
        self.seen.write().expect("seen lock").insert(id, now);
        let stored_lately = self.seen_stored.read().expect("seen lock").get(&id).is_some_and(|&t| now - t < 60_000 && now >= t);
        if !stored_lately {
            self.seen_stored.write().expect("seen lock").insert(id, now);
            let store = self.store.clone();
            // Off the request's path: a wall's request never waits on this write.
            if let Ok(rt) = tokio::runtime::Handle::try_current() {
                rt.spawn(async move {
                    if let Err(e) = store.device_seen(id, now).await {
                        tracing::warn!(device = id, "last seen not stored: {e}");
                    }
                });
            }
        }
    }

    /// Changes an account's name, role, scope, department and clearance. The administrator must reach
    /// the account as it is and as it will be; nobody changes their own role, scope or clearance (a
    /// city must not lose its last administrator by a slip). Open sessions carry the change from their
    /// next request; live streams check their subscriber again at once. Returns whether anything
    /// changed (an unchanged form is no change and no audit entry).
    pub async fn update_account(&self, by: &Viewer, username: &str, c: AccountChange, now: i64) -> Result<bool, (Field, AuthError)> {
        let old = self.accounts.read().expect("accounts lock").get(username).cloned();
        let old = old.ok_or_else(|| (Field::Account, AuthError::Invalid(format!("no account {username:?}"))))?;
        self.may_grant(by, &old.scope, old.clearance).map_err(|e| (Field::Account, e))?;
        let display_name = c.display_name.trim().to_string();
        if display_name.is_empty() || display_name.chars().count() > 100 {
            return Err((Field::DisplayName, AuthError::Invalid("a name of 1 to 100 characters".into())));
        }
        if c.role == Role::WallDevice {
            return Err((Field::Role, AuthError::Invalid("wall displays get device tokens, not accounts".into())));
        }
        let field = if self.tree.find(&c.scope).is_none() || !self.reaches(by, &c.scope) { Field::Scope } else { Field::Clearance };
        self.may_grant(by, &c.scope, c.clearance).map_err(|e| (field, e))?;
        let department = c.department.map(|d| d.trim().to_string()).filter(|d| !d.is_empty());
        if by.principal == username && (c.role != old.role || c.scope != old.scope || c.clearance != old.clearance) {
            return Err((Field::Role, AuthError::Invalid("an administrator cannot change their own role, scope or clearance".into())));
        }
        let mut changes = Vec::new();
        let mut note = |what: &str, from: &str, to: &str| {
            if from != to {
                changes.push(format!("{what} {from} → {to}"));
            }
        };
        note("name", &old.display_name, &display_name);
        note("role", old.role.as_str(), c.role.as_str());
        note("scope", &old.scope, &c.scope);
        note("department", old.department.as_deref().unwrap_or("-"), department.as_deref().unwrap_or("-"));
        note("clearance", old.clearance.as_str(), c.clearance.as_str());
        if changes.is_empty() {
            return Ok(false);
        }
        let new = Account { display_name, role: c.role, scope: c.scope, department, clearance: c.clearance, ..old.clone() };
        // Recorded where both the old and the new region's auditors look: the scope that holds both.
        let region = self.common_region(&old.scope, &new.scope).unwrap_or_else(|| by.scope.root.clone());
        let audit = AuditEntry { at: now, actor: by.principal.clone(), action: "account_changed".into(), region: Some(region), detail: format!("account {username}: {}", changes.join(", ")) };
        match self.store.update_account(&new, &audit).await {
            Ok(true) => {}
            Ok(false) => return Err((Field::Account, AuthError::Invalid(format!("no account {username:?}")))),
            Err(e) => return Err((Field::Account, e.into())),
        }
        self.accounts.write().expect("accounts lock").insert(username.to_string(), new);
        self.touched();
        self.announce_revocation();
        Ok(true)
    }

    /// Ends one session (named by the start of its token hash), of an account within reach; audited.
    pub async fn end_session(&self, by: &Viewer, id: &str, now: i64) -> Result<String, AuthError> {
        if id.len() != SESSION_ID_LEN || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(AuthError::Invalid("no such session".into()));
        }
        let found = {
            let sessions = self.sessions.read().expect("sessions lock");
            sessions.values().find(|s| s.token_hash.starts_with(id) && s.expires_at > now).cloned()
        };
        let s = found.ok_or_else(|| AuthError::Invalid("no such session".into()))?;
        let account = self.accounts.read().expect("accounts lock").get(&s.username).cloned();
        let account = account.ok_or_else(|| AuthError::Invalid("no such session".into()))?;
        if !self.reaches(by, &account.scope) {
            // Outside one's reach looks like nothing at all.
            return Err(AuthError::Invalid("no such session".into()));
        }
        self.may_grant(by, &account.scope, account.clearance)?;
        self.sessions.write().expect("sessions lock").remove(&s.token_hash);
        self.announce_revocation();
        self.store.revoke_session(&s.token_hash, now).await?;
        self.touched();
        self.audit(&by.principal, "session_ended", Some(&account.scope), &format!("account {} session {id} from {}", s.username, s.address), now).await;
        Ok(s.username)
    }
}

//! Who a request is: accounts with argon2id passwords, sessions (cookie `cockpit_session`), wall-display
//! devices (cookie `cockpit_device`), sign-in throttling, grants within the grantor's own reach, and the
//! audit of all of it. Sessions and devices live in the store and are mirrored here, so that deciding
//! who a request is never waits on the database.
pub mod admin;
mod demo_accounts;
pub mod limiter;
pub mod oidc;
pub mod pairing;
pub mod password;
pub mod retention;
pub mod second_factor;
pub mod token;

pub use demo_accounts::{seed_demo_accounts, DEMO_PASSWORD};

use crate::city::RegionTree;
use crate::config::TwoFactor;
use crate::store::access::{Account, ApiKey, AuditEntry, Device, SecondFactor, Session};
use crate::store::{Store, StoreError};
use app::backend::Viewer;
use app::model::{Clearance, Role, Scope};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, RwLock};

pub const SESSION_COOKIE: &str = "cockpit_session";
pub const DEVICE_COOKIE: &str = "cockpit_device";
pub const LOGIN_CSRF_COOKIE: &str = "cockpit_login_csrf";

#[derive(Debug, PartialEq)]
pub enum AuthError {
    /// Wrong name or password; which of the two is not said.
    BadCredentials,
    Throttled { retry_after_s: i64 },
    /// No session waits for a second factor (it expired after `second_factor::PENDING_MS`, or none began).
    NoPendingSignIn,
    /// A second-factor code that is not the person's now (or a recovery code unknown or used).
    WrongCode,
    /// The right code, already used once: a replay.
    CodeReused,
    Forbidden(String),
    Invalid(String),
    Store(String),
}

impl From<StoreError> for AuthError {
    fn from(e: StoreError) -> Self {
        AuthError::Store(e.to_string())
    }
}

pub struct AccessConfig {
    pub session_hours: i64,
    pub secure_cookies: bool,
    /// A password older than this many days must be changed at sign-in (0: never).
    pub password_max_days: u32,
    /// A session ends after this long without the person's input (0: never for that reason).
    pub idle_minutes: u32,
    /// Who must sign in with a second factor.
    pub two_factor: TwoFactor,
}

impl AccessConfig {
    /// Only for reading rows again (`Auth::reload`): no session is made with it.
    fn for_reload() -> AccessConfig {
        AccessConfig { session_hours: 0, secure_cookies: false, password_max_days: 0, idle_minutes: 0, two_factor: TwoFactor::Off }
    }
}

pub struct Auth {
    store: Arc<dyn Store>,
    tree: Arc<RegionTree>,
    pub config: AccessConfig,
    accounts: RwLock<HashMap<String, Account>>,
    sessions: RwLock<HashMap<String, Session>>,
    devices: RwLock<HashMap<String, Device>>,
    /// Live Open311 app keys by hash.
    api_keys: RwLock<HashMap<String, ApiKey>>,
    clock: crate::clock::Clock,
    /// Bumped whenever a session or device ends (sign-out, revocation), so that open live streams check
    /// their subscriber again at once instead of at their next message.
    revoked: tokio::sync::watch::Sender<u64>,
    /// Called after every change of access rows, so that other instances read them again (`cluster`).
    on_change: std::sync::OnceLock<Box<dyn Fn() + Send + Sync>>,
    /// When each wall display last asked for something (this process), and when that was last stored.
    seen: RwLock<HashMap<i64, i64>>,
    seen_stored: RwLock<HashMap<i64, i64>>,
    /// Who has a second factor in force.
    enrolled: RwLock<HashSet<String>>,
    /// Sign-in through the city's identity platform, when configured.
    oidc: std::sync::OnceLock<oidc::Oidc>,
}

/// A new session: the cookie's token (given to the browser once) and its CSRF token.
pub struct NewSession {
    pub token: String,
    pub csrf: String,
    pub max_age_s: i64,
    /// The password was right; the second factor is still to come (`/login/code`).
    pub second_factor_due: bool,
}



impl Auth {
    pub async fn load(store: Arc<dyn Store>, tree: Arc<RegionTree>, config: AccessConfig, clock: crate::clock::Clock) -> Result<Auth, StoreError> {
        let now = clock.now_ms();
        let accounts = store.accounts().await?.into_iter().map(|a| (a.username.clone(), a)).collect();
        let sessions = store.live_sessions(now).await?.into_iter().map(|s| (s.token_hash.clone(), s)).collect();
        let devices = store
            .devices()
            .await?
            .into_iter()
            .filter(|d| d.revoked_at.is_none())
            .map(|d| (d.token_hash.clone(), d))
            .collect();
        let api_keys = store.api_keys().await?.into_iter().filter(|k| k.revoked_at.is_none()).map(|k| (k.key_hash.clone(), k)).collect();
        let enrolled = store.second_factor_users().await?.into_iter().collect();
        Ok(Auth {
            store,
            tree,
            config,
            accounts: RwLock::new(accounts),
            sessions: RwLock::new(sessions),
            devices: RwLock::new(devices),
            api_keys: RwLock::new(api_keys),
            clock,
            revoked: tokio::sync::watch::channel(0).0,
            on_change: std::sync::OnceLock::new(),
            seen: RwLock::new(HashMap::new()),
            seen_stored: RwLock::new(HashMap::new()),
            enrolled: RwLock::new(enrolled),
            oidc: std::sync::OnceLock::new(),
        })
    }

    /// Turns on sign-in through the identity platform (once, at start).
    pub fn set_oidc(&self, o: oidc::Oidc) {
        let _ = self.oidc.set(o);
    }

    pub fn oidc(&self) -> Option<&oidc::Oidc> {
        self.oidc.get()
    }

    /// A person the identity platform vouched for signs in: their account by name (a first sign-in
    /// links to an account an administrator made, or, where the city chose `create`, makes one from
    /// the role and region claims within `create_roles`). A second factor enrolled here is still asked
    /// for. Audited either way.
    pub async fn oidc_sign_in(&self, who: &oidc::Identity, address: &str, now: i64) -> Result<NewSession, AuthError> {
        let cfg = self.oidc().map(|o| o.config().clone()).ok_or_else(|| AuthError::Forbidden("no identity platform configured".into()))?;
        let existing = self.accounts.read().expect("accounts lock").get(&who.username).cloned();
        let refuse = |why: String| async move {
            self.audit("oidc", "oidc_refused", None, &format!("from {address}: {why}"), now).await;
            Err(AuthError::Forbidden(why))
        };
        let account = match existing {
            Some(a) if a.disabled => return refuse(format!("account {} is disabled", a.username)).await,
            Some(a) if a.role == Role::WallDevice => return refuse("wall displays do not sign in".into()).await,
            Some(a) => a,
            None if cfg.first_sign_in == oidc::FirstSignIn::Link => {
                return refuse(format!("no account {:?} here: an administrator creates it first", who.username)).await;
            }
            None => {
                let claim = |name: &str| who.claims.get(name).and_then(|v| v.as_str()).map(str::to_string);
                let role = claim(&cfg.role_claim).and_then(|r| Role::parse(&r));
                let Some(role) = role.filter(|r| cfg.may_create(*r)) else {
                    return refuse(format!("{:?} has no role here that a first sign-in may create (claim {:?})", who.username, cfg.role_claim)).await;
                };
                let Some(scope) = claim(&cfg.region_claim).filter(|c| self.tree.find(c).is_some()) else {
                    return refuse(format!("{:?} has no known region (claim {:?})", who.username, cfg.region_claim)).await;
                };
                let a = Account {
                    username: who.username.clone(),
                    display_name: who.name.clone().unwrap_or_else(|| who.username.clone()),
                    role,
                    scope,
                    department: None,
                    clearance: Clearance::Internal,
                    // Never usable: this person signs in through the platform only.
                    password_hash: password::hash(&token::new_token()),
                    created_at: now,
                    created_by: "oidc".into(),
                    disabled: false,
                    must_change: false,
                    password_set_at: now,
                    last_sign_in_at: None,
                    last_sign_in_from: None,
                };
                let audit = AuditEntry {
                    at: now,
                    actor: "oidc".into(),
                    action: "grant".into(),
                    region: Some(a.scope.clone()),
                    detail: format!("account {} role {} clearance {} (first sign-in through the identity platform, subject {})", a.username, a.role.as_str(), a.clearance.as_str(), who.subject),
                };
                self.store.create_account(&a, &audit).await?;
                self.accounts.write().expect("accounts lock").insert(a.username.clone(), a.clone());
                self.touched();
                a
            }
        };
        let due = self.has_second_factor(&account.username);
        let s = self.open_session(&account, address, now, due).await?;
        let (action, detail) = if due { ("login_platform_ok", "; second factor due") } else { ("login", "") };
        self.audit(&account.username, action, Some(&account.scope), &format!("from {address} through the identity platform (subject {}){detail}", who.subject), now).await;
        Ok(s)
    }

    /// What to call after access rows changed here (once; instances on a shared store announce it).
    pub fn on_change(&self, f: impl Fn() + Send + Sync + 'static) {
        let _ = self.on_change.set(Box::new(f));
    }

    fn touched(&self) {
        if let Some(f) = self.on_change.get() {
            f();
        }
    }

    /// One instance of several: a session or device cookie this instance does not know yet may have been
    /// issued a moment ago by another (the balancer sent the next request here before the announcement
    /// arrived). Asks the store for exactly that one; true if it is now known. Alone, never asks: what
    /// this instance does not know does not exist.
    pub async fn adopt(&self, cookie_header: Option<&str>, now: i64) -> Result<bool, StoreError> {
        if self.on_change.get().is_none() {
            return Ok(false);
        }
        let cookies = cookie_header.unwrap_or("");
        if let Some(t) = cookie(cookies, SESSION_COOKIE) {
            if let Some(s) = self.store.find_session(&token::digest(t), now).await? {
                if !self.accounts.read().expect("accounts lock").contains_key(&s.username) {
                    self.reload().await?;
                }
                self.sessions.write().expect("sessions lock").insert(s.token_hash.clone(), s);
                return Ok(true);
            }
        }
        if let Some(t) = cookie(cookies, DEVICE_COOKIE) {
            if let Some(d) = self.store.find_device(&token::digest(t)).await? {
                self.devices.write().expect("devices lock").insert(d.token_hash.clone(), d);
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Reads accounts, sessions, devices and keys again from the store (another instance changed
    /// them); live streams re-check their subscribers if anything ended or an account was disabled.
    pub async fn reload(&self) -> Result<(), StoreError> {
        let fresh = Auth::load(self.store.clone(), self.tree.clone(), AccessConfig::for_reload(), self.clock.clone()).await?;
        let (accounts, mut sessions, devices, api_keys) = (
            fresh.accounts.into_inner().expect("accounts lock"),
            fresh.sessions.into_inner().expect("sessions lock"),
            fresh.devices.into_inner().expect("devices lock"),
            fresh.api_keys.into_inner().expect("api keys lock"),
        );
        // Input seen here and not yet stored (stored at most once a minute) is not forgotten.
        for (k, s) in self.sessions.read().expect("sessions lock").iter() {
            if let Some(f) = sessions.get_mut(k) {
                f.last_active_at = f.last_active_at.max(s.last_active_at);
            }
        }
        *self.enrolled.write().expect("enrolled lock") = fresh.enrolled.into_inner().expect("enrolled lock");
        let ended = {
            let old_sessions = self.sessions.read().expect("sessions lock");
            let old_devices = self.devices.read().expect("devices lock");
            let old_accounts = self.accounts.read().expect("accounts lock");
            old_sessions.keys().any(|k| !sessions.contains_key(k))
                || old_devices.keys().any(|k| !devices.contains_key(k))
                || accounts.values().any(|a| a.disabled && old_accounts.get(&a.username).is_some_and(|o| !o.disabled))
        };
        *self.accounts.write().expect("accounts lock") = accounts;
        *self.sessions.write().expect("sessions lock") = sessions;
        *self.devices.write().expect("devices lock") = devices;
        *self.api_keys.write().expect("api keys lock") = api_keys;
        if ended {
            self.announce_revocation();
        }
        Ok(())
    }

    /// Changes whenever a session or device has ended.
    pub fn revocations(&self) -> tokio::sync::watch::Receiver<u64> {
        self.revoked.subscribe()
    }

    fn announce_revocation(&self) {
        self.revoked.send_modify(|n| *n += 1);
    }

    pub fn clock(&self) -> &crate::clock::Clock {
        &self.clock
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// The viewer behind a request's cookies, if any is valid now. A session wins over a device.
    pub fn viewer(&self, cookie_header: Option<&str>, now: i64) -> Option<Viewer> {
        let cookies = cookie_header.unwrap_or("");
        if let Some(t) = cookie(cookies, SESSION_COOKIE) {
            if let Some((_, a)) = self.session(&token::digest(t), now) {
                return Some(viewer_of(&a));
            }
        }
        let t = cookie(cookies, DEVICE_COOKIE)?;
        let (id, viewer) = {
            let devices = self.devices.read().expect("devices lock");
            let d = devices.get(&token::digest(t))?;
            (d.id, device_viewer(d))
        };
        self.saw_device(id, now);
        Some(viewer)
    }

    /// The live session and its account, for a token hash.
    pub fn session(&self, token_hash: &str, now: i64) -> Option<(Session, Account)> {
        let s = self.sessions.read().expect("sessions lock").get(token_hash).cloned()?;
        if s.expires_at <= now || s.second_factor_due || self.idle(&s, now) {
            return None;
        }
        let a = self.accounts.read().expect("accounts lock").get(&s.username).cloned()?;
        (!a.disabled).then_some((s, a))
    }

    fn idle(&self, s: &Session, now: i64) -> bool {
        let idle_ms = i64::from(self.config.idle_minutes) * 60_000;
        idle_ms > 0 && now - s.last_active_at >= idle_ms
    }

    /// The person's input in the session of these cookies (a page opened, a form sent, a tap reported
    /// by the page): the idle time-out counts from here. Stored at most once a minute.
    pub async fn touch(&self, cookie_header: Option<&str>, now: i64) {
        let Some(t) = cookie(cookie_header.unwrap_or(""), SESSION_COOKIE) else { return };
        let h = token::digest(t);
        let due = {
            let mut sessions = self.sessions.write().expect("sessions lock");
            match sessions.get_mut(&h) {
                Some(s) if !s.second_factor_due && !self.idle(s, now) && now - s.last_active_at >= 60_000 => {
                    s.last_active_at = now;
                    true
                }
                _ => false,
            }
        };
        if due {
            if let Err(e) = self.store.touch_session(&h, now).await {
                tracing::warn!("session activity not stored: {e}");
            }
        }
    }

    /// Ends the session in these cookies if it went idle (stored, audited); true if it did.
    pub async fn end_if_idle(&self, cookie_header: Option<&str>, now: i64) -> bool {
        let Some(t) = cookie(cookie_header.unwrap_or(""), SESSION_COOKIE) else { return false };
        let h = token::digest(t);
        let ended = {
            let mut sessions = self.sessions.write().expect("sessions lock");
            match sessions.get(&h) {
                Some(s) if !s.second_factor_due && s.expires_at > now && self.idle(s, now) => sessions.remove(&h),
                _ => None,
            }
        };
        let Some(s) = ended else { return false };
        self.announce_revocation();
        if let Err(e) = self.store.revoke_session(&h, now).await {
            tracing::warn!("idle session not revoked in the store: {e}");
        }
        self.touched();
        let region = self.accounts.read().expect("accounts lock").get(&s.username).map(|a| a.scope.clone());
        self.audit(&s.username, "session_idle_ended", region.as_deref(), &format!("no input for {} minutes", self.config.idle_minutes), now).await;
        true
    }

    /// The sign-in before the session in these cookies, and the failed attempts since, from the audit
    /// log (the newest 500 entries of the account before the session began).
    pub async fn last_sign_in(&self, cookie_header: Option<&str>, now: i64) -> Option<app::model::LastSignIn> {
        let t = cookie(cookie_header.unwrap_or(""), SESSION_COOKIE)?;
        let (s, _) = self.session(&token::digest(t), now)?;
        let filter = crate::store::access::AuditFilter { actor: Some(s.username.clone()), region: None, from: None, to: Some(s.created_at) };
        let entries = match self.store.audit(&filter, 500).await {
            Ok(e) => e,
            Err(e) => {
                tracing::error!("access store: {e}");
                return None;
            }
        };
        let mut last = app::model::LastSignIn::default();
        for e in entries {
            match e.action.as_str() {
                "login" => {
                    last.at = Some(e.at);
                    last.from = e.detail.strip_prefix("from ").map(str::to_string);
                    break;
                }
                "login_failed" | "login_throttled" => last.failed_since += 1,
                _ => {}
            }
        }
        Some(last)
    }

    /// The CSRF token of the session in these cookies.
    pub fn csrf_of(&self, cookie_header: Option<&str>, now: i64) -> Option<String> {
        let t = cookie(cookie_header.unwrap_or(""), SESSION_COOKIE)?;
        self.session(&token::digest(t), now).map(|(s, _)| s.csrf)
    }

    pub async fn login(&self, username: &str, password: &str, address: &str, now: i64) -> Result<NewSession, AuthError> {
        let account = self.accounts.read().expect("accounts lock").get(username).cloned();
        // About the account's region when the name is known, so the auditors of that region see it.
        let region = account.as_ref().map(|a| a.scope.clone());
        let keys = limiter::keys(username, account.is_some(), address);
        let names = self.throttle_wait(&keys, username, region.as_deref(), &format!("from {address}"), now).await?;
        // Verify against a real hash even for unknown names, so timing does not reveal which names exist.
        let ok = match &account {
            Some(a) if !a.disabled => password::verify(&a.password_hash, password),
            _ => {
                let _ = password::verify(demo_accounts::DUMMY_HASH, password);
                false
            }
        };
        let Some(account) = account.filter(|_| ok) else {
            self.store.throttle_fail(&names, now).await?;
            self.audit(username, "login_failed", region.as_deref(), &format!("from {address}"), now).await;
            return Err(AuthError::BadCredentials);
        };
        if self.enrolled.read().expect("enrolled lock").contains(&account.username) {
            // The password alone opens nothing: a short session that only waits for the code. The
            // throttle is cleared only by the whole sign-in.
            let pending = self.open_session(&account, address, now, true).await?;
            self.audit(&account.username, "login_password_ok", Some(&account.scope), &format!("from {address}; second factor due"), now).await;
            return Ok(pending);
        }
        self.throttle_clear(&keys).await?;
        let s = self.open_session(&account, address, now, false).await?;
        self.audit(&account.username, "login", Some(&account.scope), &format!("from {address}"), now).await;
        Ok(s)
    }

    /// Refuses a sign-in step while any of its throttle keys waits (audited as `login_throttled`);
    /// otherwise the keys' names, for counting a failure.
    async fn throttle_wait(&self, keys: &[limiter::Key], username: &str, region: Option<&str>, detail: &str, now: i64) -> Result<Vec<String>, AuthError> {
        let names: Vec<String> = keys.iter().map(|k| k.key.clone()).collect();
        let counts = self.store.throttle_counts(&names).await?;
        let wait = keys.iter().map(|k| limiter::wait(k, counts.get(&k.key).copied().unwrap_or_default(), now)).max().unwrap_or(0);
        if wait > 0 {
            self.audit(username, "login_throttled", region, detail, now).await;
            return Err(AuthError::Throttled { retry_after_s: (wait + 999) / 1000 });
        }
        Ok(names)
    }

    /// A whole sign-in succeeded: the keys that success clears start again from nothing.
    async fn throttle_clear(&self, keys: &[limiter::Key]) -> Result<(), AuthError> {
        let cleared: Vec<String> = keys.iter().filter(|k| k.cleared_by_success).map(|k| k.key.clone()).collect();
        Ok(self.store.throttle_clear(&cleared).await?)
    }

    /// Stores and mirrors a new session of `account` (a whole one, or one waiting for its second factor).
    async fn open_session(&self, account: &Account, address: &str, now: i64, second_factor_due: bool) -> Result<NewSession, AuthError> {
        let (tok, csrf) = (token::new_token(), token::new_token());
        let max_age_s = if second_factor_due { second_factor::PENDING_MS / 1000 } else { self.config.session_hours * 3600 };
        let s = Session {
            token_hash: token::digest(&tok),
            username: account.username.clone(),
            csrf: csrf.clone(),
            created_at: now,
            expires_at: now + max_age_s * 1000,
            address: address.to_string(),
            second_factor_due,
            last_active_at: now,
        };
        self.store.insert_session(&s).await?;
        self.sessions.write().expect("sessions lock").insert(s.token_hash.clone(), s);
        self.touched();
        if second_factor_due {
            return Ok(NewSession { token: tok, csrf, max_age_s, second_factor_due });
        }
        self.store.record_sign_in(&account.username, now, address).await?;
        if let Some(a) = self.accounts.write().expect("accounts lock").get_mut(&account.username) {
            a.last_sign_in_at = Some(now);
            a.last_sign_in_from = Some(address.to_string());
        }
        Ok(NewSession { token: tok, csrf, max_age_s, second_factor_due })
    }

    /// The session in these cookies that waits for its second factor, with its account.
    pub fn pending_second_factor(&self, cookie_header: Option<&str>, now: i64) -> Option<(Session, Account)> {
        let t = cookie(cookie_header.unwrap_or(""), SESSION_COOKIE)?;
        let s = self.sessions.read().expect("sessions lock").get(&token::digest(t)).cloned()?;
        if !s.second_factor_due || s.expires_at <= now {
            return None;
        }
        let a = self.accounts.read().expect("accounts lock").get(&s.username).cloned()?;
        (!a.disabled).then_some((s, a))
    }

    /// The second step of a sign-in: a TOTP code (good once) or an unused recovery code, counted by the
    /// sign-in throttle like a wrong password. On success the waiting session ends and a whole one opens
    /// with a new token (what was issued before the code proves nothing).
    pub async fn give_second_factor(&self, cookie_header: Option<&str>, code: &str, address: &str, now: i64) -> Result<NewSession, AuthError> {
        let (pending, account) = self.pending_second_factor(cookie_header, now).ok_or(AuthError::NoPendingSignIn)?;
        let keys = limiter::keys(&account.username, true, address);
        let names = self.throttle_wait(&keys, &account.username, Some(&account.scope), &format!("from {address}; second factor"), now).await?;
        let factor = self.store.second_factor(&account.username).await?.unwrap_or_default();
        let how = match factor.secret.as_deref() {
            _ if second_factor::is_recovery_code(code) => {
                if self.store.use_recovery_code(&account.username, &second_factor::recovery_hash(code), now).await? {
                    Ok(format!("recovery code ({} left)", factor.recovery_left.saturating_sub(1)))
                } else {
                    Err(AuthError::WrongCode)
                }
            }
            Some(secret) => match second_factor::verify(secret, code, now) {
                Some(step) if self.store.take_totp_step(&account.username, step).await? => Ok("authenticator code".to_string()),
                Some(_) => Err(AuthError::CodeReused),
                None => Err(AuthError::WrongCode),
            },
            None => Err(AuthError::WrongCode),
        };
        let how = match how {
            Ok(h) => h,
            Err(e) => {
                self.store.throttle_fail(&names, now).await?;
                let why = if e == AuthError::CodeReused { "a code already used (replay)" } else { "a wrong code" };
                self.audit(&account.username, "second_factor_failed", Some(&account.scope), &format!("from {address}: {why}"), now).await;
                return Err(e);
            }
        };
        self.throttle_clear(&keys).await?;
        self.sessions.write().expect("sessions lock").remove(&pending.token_hash);
        self.store.revoke_session(&pending.token_hash, now).await?;
        let s = self.open_session(&account, address, now, false).await?;
        self.audit(&account.username, "login", Some(&account.scope), &format!("from {address}; second factor: {how}"), now).await;
        Ok(s)
    }

    /// Whether `account` must sign in with a second factor under the city's rule.
    pub fn second_factor_required(&self, account: &Account) -> bool {
        match self.config.two_factor {
            TwoFactor::Off => false,
            TwoFactor::Administrators => matches!(account.role, Role::Admin | Role::Auditor),
            TwoFactor::Everyone => account.role != Role::WallDevice,
        }
    }

    /// Whether the person behind these cookies has a second factor in force.
    pub fn has_second_factor(&self, username: &str) -> bool {
        self.enrolled.read().expect("enrolled lock").contains(username)
    }

    /// Whether the person behind these cookies must enrol a second factor before anything else.
    pub fn enrolment_due(&self, cookie_header: Option<&str>, now: i64) -> bool {
        let Some(t) = cookie(cookie_header.unwrap_or(""), SESSION_COOKIE) else { return false };
        let Some((_, a)) = self.session(&token::digest(t), now) else { return false };
        self.second_factor_required(&a) && !self.has_second_factor(&a.username)
    }

    /// The person's second factor as stored (None: never enrolled).
    pub async fn second_factor_of(&self, username: &str) -> Result<Option<SecondFactor>, AuthError> {
        Ok(self.store.second_factor(username).await?)
    }

    /// The secret being enrolled by `username`: the one pending, or a new one kept as pending (so that a
    /// reload of the page shows the same QR code the app may already have read).
    pub async fn enrolment_secret(&self, username: &str) -> Result<String, AuthError> {
        if let Some(p) = self.store.second_factor(username).await?.and_then(|f| f.pending) {
            return Ok(p);
        }
        let secret = second_factor::new_secret();
        self.store.set_second_factor_pending(username, &secret).await?;
        Ok(secret)
    }

    /// Confirms an enrolment with a code from the app: the pending secret goes in force, fresh recovery
    /// codes replace any earlier ones and are returned (shown once; the store keeps their hashes).
    pub async fn confirm_enrolment(&self, username: &str, code: &str, now: i64) -> Result<Vec<String>, AuthError> {
        let account = self.accounts.read().expect("accounts lock").get(username).cloned().ok_or(AuthError::BadCredentials)?;
        let pending = self.store.second_factor(username).await?.and_then(|f| f.pending).ok_or(AuthError::NoPendingSignIn)?;
        let Some(step) = second_factor::verify(&pending, code, now) else {
            self.audit(username, "second_factor_enrolment_failed", Some(&account.scope), "a wrong code", now).await;
            return Err(AuthError::WrongCode);
        };
        let codes = second_factor::new_recovery_codes();
        let hashes: Vec<String> = codes.iter().map(|c| second_factor::recovery_hash(c)).collect();
        let audit = AuditEntry { at: now, actor: username.into(), action: "second_factor_enrolled".into(), region: Some(account.scope.clone()), detail: format!("TOTP; {} recovery codes", codes.len()) };
        if !self.store.enable_second_factor(username, step, &hashes, &audit).await? {
            return Err(AuthError::NoPendingSignIn);
        }
        self.enrolled.write().expect("enrolled lock").insert(username.to_string());
        self.touched();
        Ok(codes)
    }

    /// An administrator removes a person's second factor (a lost phone): within their reach, never
    /// their own; the person's sessions end and, where the rule asks for one, they enrol again at their
    /// next sign-in. Audited.
    pub async fn remove_second_factor(&self, by: &Viewer, username: &str, now: i64) -> Result<(), AuthError> {
        let account = self.accounts.read().expect("accounts lock").get(username).cloned();
        let account = account.ok_or_else(|| AuthError::Invalid(format!("no account {username:?}")))?;
        self.may_grant(by, &account.scope, account.clearance)?;
        if by.principal == username {
            return Err(AuthError::Invalid("another administrator removes your own second factor".into()));
        }
        let audit = AuditEntry { at: now, actor: by.principal.clone(), action: "second_factor_removed".into(), region: Some(account.scope.clone()), detail: format!("account {username}") };
        if !self.store.remove_second_factor(username, &audit).await? {
            return Err(AuthError::Invalid(format!("{username} has no second factor")));
        }
        self.enrolled.write().expect("enrolled lock").remove(username);
        self.touched();
        self.end_sessions(username, None, now).await?;
        Ok(())
    }

    pub async fn logout(&self, cookie_header: Option<&str>, now: i64) -> Result<(), AuthError> {
        let Some(t) = cookie(cookie_header.unwrap_or(""), SESSION_COOKIE) else { return Ok(()) };
        let h = token::digest(t);
        let removed = self.sessions.write().expect("sessions lock").remove(&h);
        self.announce_revocation();
        self.store.revoke_session(&h, now).await?;
        self.touched();
        if let Some(s) = removed {
            let region = self.accounts.read().expect("accounts lock").get(&s.username).map(|a| a.scope.clone());
            self.audit(&s.username, "logout", region.as_deref(), "", now).await;
        }
        Ok(())
    }

    /// Ends every session of `username` (an administrator whose scope covers the account's).
    pub async fn revoke_sessions(&self, by: &Viewer, username: &str, now: i64) -> Result<usize, AuthError> {
        let account = self.accounts.read().expect("accounts lock").get(username).cloned();
        let account = account.ok_or_else(|| AuthError::Invalid(format!("no account {username:?}")))?;
        self.may_grant(by, &account.scope, account.clearance)?;
        let ended = self.end_sessions(username, None, now).await?;
        self.audit(&by.principal, "sessions_revoked", Some(&account.scope), &format!("account {username}: {ended} sessions"), now).await;
        Ok(ended)
    }

    /// A person changes their own password: the current one is proven, the new one passes the
    /// complexity rule and is none of the last `password::HISTORY` (nor the current one). The person's
    /// other sessions end (a stolen session does not outlive the change); this one stays. Audited.
    pub async fn change_password(&self, cookie_header: Option<&str>, current: &str, new: &str, now: i64) -> Result<(), AuthError> {
        let t = cookie(cookie_header.unwrap_or(""), SESSION_COOKIE).ok_or(AuthError::BadCredentials)?;
        let (session, account) = self.session(&token::digest(t), now).ok_or(AuthError::BadCredentials)?;
        if !password::verify(&account.password_hash, current) {
            self.audit(&account.username, "password_change_refused", Some(&account.scope), "the current password was wrong", now).await;
            return Err(AuthError::Invalid("the current password is wrong".into()));
        }
        password::check_strength(new, &account.username).map_err(AuthError::Invalid)?;
        let earlier = self.store.password_history(&account.username, password::HISTORY - 1).await?;
        if password::verify(&account.password_hash, new) || earlier.iter().any(|h| password::verify(h, new)) {
            return Err(AuthError::Invalid(format!("the password must differ from the last {}", password::HISTORY)));
        }
        let hash = password::hash(new);
        let audit = AuditEntry { at: now, actor: account.username.clone(), action: "password_changed".into(), region: Some(account.scope.clone()), detail: String::new() };
        self.store.set_password(&account.username, &hash, now, false, &audit).await?;
        if let Some(a) = self.accounts.write().expect("accounts lock").get_mut(&account.username) {
            a.password_hash = hash;
            a.must_change = false;
            a.password_set_at = now;
        }
        self.touched();
        self.end_sessions(&account.username, Some(&session.token_hash), now).await?;
        Ok(())
    }

    /// Whether the person behind these cookies must set a new password before anything else: an
    /// administrator reset it, or it is older than `password_max_days`.
    pub fn password_due(&self, cookie_header: Option<&str>, now: i64) -> bool {
        let Some(t) = cookie(cookie_header.unwrap_or(""), SESSION_COOKIE) else { return false };
        let Some((_, a)) = self.session(&token::digest(t), now) else { return false };
        let max = i64::from(self.config.password_max_days) * 86_400_000;
        a.must_change || (max > 0 && now - a.password_set_at >= max)
    }

    /// An administrator resets a person's password (forgotten, or feared known): a temporary one is
    /// made, shown to the administrator once and never stored or logged in clear; the person must set
    /// their own at the next sign-in; their sessions end now. Within the administrator's reach, never
    /// their own (they change it themselves), audited.
    pub async fn reset_password(&self, by: &Viewer, username: &str, now: i64) -> Result<String, AuthError> {
        let account = self.accounts.read().expect("accounts lock").get(username).cloned();
        let account = account.ok_or_else(|| AuthError::Invalid(format!("no account {username:?}")))?;
        self.may_grant(by, &account.scope, account.clearance)?;
        if by.principal == username {
            return Err(AuthError::Invalid("change your own password yourself".into()));
        }
        let temporary = password::temporary();
        let hash = password::hash(&temporary);
        let audit = AuditEntry { at: now, actor: by.principal.clone(), action: "password_reset".into(), region: Some(account.scope.clone()), detail: format!("account {username}") };
        self.store.set_password(username, &hash, now, true, &audit).await?;
        if let Some(a) = self.accounts.write().expect("accounts lock").get_mut(username) {
            a.password_hash = hash;
            a.must_change = true;
            a.password_set_at = now;
        }
        self.touched();
        self.end_sessions(username, None, now).await?;
        Ok(temporary)
    }

    /// Disables an account (its sessions end and its live streams close at once; it cannot sign in) or
    /// enables it again; within the administrator's reach, audited. Nobody disables their own account:
    /// a city must not lock itself out by a slip. Returns how many sessions ended.
    pub async fn set_disabled(&self, by: &Viewer, username: &str, disabled: bool, now: i64) -> Result<usize, AuthError> {
        let account = self.accounts.read().expect("accounts lock").get(username).cloned();
        let account = account.ok_or_else(|| AuthError::Invalid(format!("no account {username:?}")))?;
        self.may_grant(by, &account.scope, account.clearance)?;
        if disabled && by.principal == username {
            return Err(AuthError::Invalid("an administrator cannot disable their own account".into()));
        }
        if !self.store.set_account_disabled(username, disabled).await? {
            return Err(AuthError::Invalid(format!("no account {username:?}")));
        }
        if let Some(a) = self.accounts.write().expect("accounts lock").get_mut(username) {
            a.disabled = disabled;
        }
        self.touched();
        let ended = if disabled { self.end_sessions(username, None, now).await? } else { 0 };
        let (action, detail) = if disabled {
            ("account_disabled", format!("account {username}: {ended} sessions ended"))
        } else {
            ("account_enabled", format!("account {username}"))
        };
        self.audit(&by.principal, action, Some(&account.scope), &detail, now).await;
        Ok(ended)
    }

    /// Ends every session of `username` but `keep` here and in the store, and tells live streams to
    /// re-check.
    async fn end_sessions(&self, username: &str, keep: Option<&str>, now: i64) -> Result<usize, AuthError> {
        let ends = |s: &Session| s.username == username && Some(s.token_hash.as_str()) != keep;
        let ended: Vec<String> = {
            let mut sessions = self.sessions.write().expect("sessions lock");
            let ended: Vec<String> = sessions.values().filter(|s| ends(s)).map(|s| s.token_hash.clone()).collect();
            sessions.retain(|_, s| !ends(s));
            ended
        };
        self.announce_revocation();
        for h in &ended {
            self.store.revoke_session(h, now).await?;
        }
        self.touched();
        Ok(ended.len())
    }

    /// The policy's grant rule, as this module's error.
    pub fn may_grant(&self, by: &Viewer, scope: &str, clearance: Clearance) -> Result<(), AuthError> {
        crate::policy::may_grant(&self.tree, by, scope, clearance).map_err(|r| match r {
            crate::policy::GrantRefusal::Forbidden(m) => AuthError::Forbidden(m),
            crate::policy::GrantRefusal::Invalid(m) => AuthError::Invalid(m),
        })
    }

    /// Creates an account within the grantor's reach; the grant is recorded in the audit log.
    pub async fn create_account(&self, by: &Viewer, mut a: Account, password: &str, now: i64) -> Result<(), AuthError> {
        self.may_grant(by, &a.scope, a.clearance)?;
        if a.role == Role::WallDevice {
            return Err(AuthError::Invalid("wall displays get device tokens, not accounts".into()));
        }
        password::check_strength(password, &a.username).map_err(AuthError::Invalid)?;
        if self.accounts.read().expect("accounts lock").contains_key(&a.username) {
            return Err(AuthError::Invalid(format!("user name {:?} is taken", a.username)));
        }
        a.password_hash = password::hash(password);
        a.created_at = now;
        a.password_set_at = now;
        a.created_by = by.principal.clone();
        let audit = AuditEntry {
            at: now,
            actor: by.principal.clone(),
            action: "grant".into(),
            region: Some(a.scope.clone()),
            detail: format!("account {} role {} clearance {}", a.username, a.role.as_str(), a.clearance.as_str()),
        };
        self.store.create_account(&a, &audit).await?;
        self.accounts.write().expect("accounts lock").insert(a.username.clone(), a);
        self.touched();
        Ok(())
    }

    /// Issues a device token for a wall display bound to `scope`; the token is shown once.
    pub async fn issue_device(&self, by: &Viewer, name: &str, place: &str, scope: &str, now: i64) -> Result<(i64, String), AuthError> {
        self.may_grant(by, scope, Clearance::Internal)?;
        if name.trim().is_empty() {
            return Err(AuthError::Invalid("a device needs a name".into()));
        }
        let tok = token::new_token();
        let mut d = Device {
            id: 0,
            name: name.trim().to_string(),
            token_hash: token::digest(&tok),
            scope: scope.to_string(),
            issued_by: by.principal.clone(),
            issued_at: now,
            revoked_at: None,
            playlist: None,
            place: place.trim().chars().take(200).collect(),
            last_seen_at: None,
        };
        d.id = self.store.insert_device(&d).await?;
        self.audit(&by.principal, "device_issued", Some(scope), &format!("device {} {:?}", d.id, d.name), now).await;
        self.devices.write().expect("devices lock").insert(d.token_hash.clone(), d.clone());
        self.touched();
        Ok((d.id, tok))
    }

    /// A screen at /device: its code (kept while it waits, with the secret it holds), or a new one.
    /// Returns (secret, code).
    pub async fn pairing_begin(&self, held_secret: Option<&str>, now: i64) -> Result<(String, String), AuthError> {
        if let Some(secret) = held_secret {
            if let Some(p) = self.store.pairing_of(&token::digest(secret)).await? {
                if p.device_id.is_none() && now - p.created_at < pairing::TTL_MS {
                    return Ok((secret.to_string(), p.code));
                }
            }
        }
        for _ in 0..8 {
            let (code, secret) = pairing::new_code();
            if self.store.begin_pairing(&code, &token::digest(&secret), now, now - pairing::TTL_MS, pairing::MAX_PENDING).await? {
                return Ok((secret, code));
            }
        }
        Err(AuthError::Store("no free pairing code".into()))
    }

    /// Whether `code` (as typed) waits for a device now.
    pub async fn pairing_waiting(&self, code: &str, now: i64) -> Result<bool, AuthError> {
        Ok(self.store.pairing_waiting(&pairing::normalise(code), now - pairing::TTL_MS + 1).await?)
    }

    /// The device issued for `code` goes to the screen showing it; false if it no longer waits.
    pub async fn pairing_complete(&self, code: &str, device_id: i64, now: i64) -> Result<bool, AuthError> {
        Ok(self.store.complete_pairing(&pairing::normalise(code), device_id, now - pairing::TTL_MS + 1).await?)
    }

    /// What the screen holding `secret` should do now. Once its device is issued, a token is minted
    /// for it here (the one made at issue was never kept), handed over once, and the pairing ends.
    pub async fn pairing_poll(&self, secret: &str, now: i64) -> Result<pairing::Poll, AuthError> {
        let h = token::digest(secret);
        let Some(p) = self.store.pairing_of(&h).await? else { return Ok(pairing::Poll::Unknown) };
        let Some(id) = p.device_id else {
            if now - p.created_at >= pairing::TTL_MS {
                self.store.end_pairing(&h).await?;
                return Ok(pairing::Poll::Unknown);
            }
            return Ok(pairing::Poll::Waiting);
        };
        self.store.end_pairing(&h).await?;
        let tok = token::new_token();
        if !self.store.rekey_device(id, &token::digest(&tok)).await? {
            // Revoked between the issue and this poll.
            return Ok(pairing::Poll::Unknown);
        }
        {
            let mut devices = self.devices.write().expect("devices lock");
            let old = devices.iter().find(|(_, d)| d.id == id).map(|(k, d)| (k.clone(), d.clone()));
            if let Some((k, mut d)) = old {
                devices.remove(&k);
                d.token_hash = token::digest(&tok);
                devices.insert(d.token_hash.clone(), d);
            }
        }
        self.touched();
        Ok(pairing::Poll::Ready(tok))
    }

    /// The viewer a live device signs in as (its scope decides which regions its playlist may show).
    pub fn device_viewer(&self, id: i64) -> Option<Viewer> {
        let devices = self.devices.read().expect("devices lock");
        devices.values().find(|d| d.id == id).map(device_viewer)
    }

    /// The stored playlist of a live device (None: none set, or no such device).
    pub fn device_playlist(&self, id: i64) -> Option<String> {
        let devices = self.devices.read().expect("devices lock");
        devices.values().find(|d| d.id == id).and_then(|d| d.playlist.clone())
    }

    /// Stores a live device's playlist (already checked by the caller against the device's scope),
    /// within the administrator's reach, audited with the new value.
    pub async fn set_playlist(&self, by: &Viewer, id: i64, playlist: &str, now: i64) -> Result<(), AuthError> {
        let scope = self.device_viewer(id).map(|v| v.scope.root).ok_or_else(|| AuthError::Invalid(format!("no live device {id}")))?;
        self.may_grant(by, &scope, Clearance::Internal)?;
        let audit = AuditEntry { at: now, actor: by.principal.clone(), action: "device_playlist".into(), region: Some(scope), detail: format!("device {id} playlist {playlist}") };
        if !self.store.set_device_playlist(id, playlist, &audit).await? {
            return Err(AuthError::Invalid(format!("no live device {id}")));
        }
        if let Some(d) = self.devices.write().expect("devices lock").values_mut().find(|d| d.id == id) {
            d.playlist = Some(playlist.to_string());
        }
        self.touched();
        Ok(())
    }

    pub async fn revoke_device(&self, by: &Viewer, id: i64, now: i64) -> Result<(), AuthError> {
        let scope = {
            let devices = self.devices.read().expect("devices lock");
            devices.values().find(|d| d.id == id).map(|d| d.scope.clone())
        }
        .ok_or_else(|| AuthError::Invalid(format!("no live device {id}")))?;
        self.may_grant(by, &scope, Clearance::Internal)?;
        self.store.revoke_device(id, &by.principal, now).await?;
        self.devices.write().expect("devices lock").retain(|_, d| d.id != id);
        self.touched();
        self.announce_revocation();
        self.audit(&by.principal, "device_revoked", Some(&scope), &format!("device {id}"), now).await;
        Ok(())
    }

    /// Issues a key for an Open311 app (the caller has checked that `by` may: `Action::IssueApiKeys`);
    /// returns its id and the key, shown this once.
    pub async fn issue_api_key(&self, by: &Viewer, name: &str, now: i64) -> Result<(i64, String), AuthError> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 100 {
            return Err(AuthError::Invalid("an api key needs a name of 1 to 100 characters (the app it is for)".into()));
        }
        let key = token::new_token();
        let mut k = ApiKey { id: 0, name: name.to_string(), key_hash: token::digest(&key), issued_by: by.principal.clone(), issued_at: now, revoked_at: None };
        k.id = self.store.insert_api_key(&k).await?;
        self.audit(&by.principal, "api_key_issued", None, &format!("api key {} {:?}", k.id, k.name), now).await;
        self.api_keys.write().expect("api keys lock").insert(k.key_hash.clone(), k.clone());
        self.touched();
        Ok((k.id, key))
    }

    pub async fn revoke_api_key(&self, by: &Viewer, id: i64, now: i64) -> Result<(), AuthError> {
        if !self.store.revoke_api_key(id, &by.principal, now).await? {
            return Err(AuthError::Invalid(format!("no live api key {id}")));
        }
        self.api_keys.write().expect("api keys lock").retain(|_, k| k.id != id);
        self.touched();
        self.audit(&by.principal, "api_key_revoked", None, &format!("api key {id}"), now).await;
        Ok(())
    }

    /// Every key ever issued (without hashes), revoked ones too.
    pub async fn api_keys(&self) -> Result<Vec<ApiKey>, AuthError> {
        Ok(self.store.api_keys().await?)
    }

    /// The id of the live key `key`, if it is one.
    pub fn api_key_id(&self, key: &str) -> Option<i64> {
        self.api_keys.read().expect("api keys lock").get(&token::digest(key)).map(|k| k.id)
    }

    /// Appends to the audit log. A failure to record is logged loudly but does not hide the action's
    /// own result from the user.
    pub async fn audit(&self, actor: &str, action: &str, region: Option<&str>, detail: &str, now: i64) {
        let e = AuditEntry { at: now, actor: actor.into(), action: action.into(), region: region.map(Into::into), detail: detail.into() };
        if let Err(err) = self.store.append_audit(&e).await {
            tracing::error!(action, "audit entry not stored: {err}");
        }
    }
}

fn device_viewer(d: &Device) -> Viewer {
    Viewer { principal: format!("device:{}", d.id), role: Role::WallDevice, scope: Scope { root: d.scope.clone() }, clearance: Clearance::Internal, department: None }
}

pub fn viewer_of(a: &Account) -> Viewer {
    Viewer {
        principal: a.username.clone(),
        role: a.role,
        scope: Scope { root: a.scope.clone() },
        clearance: a.clearance,
        department: a.department.clone(),
    }
}

/// The value of cookie `name` in a Cookie header.
pub fn cookie<'a>(header: &'a str, name: &str) -> Option<&'a str> {
    header.split(';').filter_map(|kv| kv.trim().split_once('=')).find(|(k, _)| *k == name).map(|(_, v)| v)
}

/// A Set-Cookie value: HttpOnly and SameSite always, Secure when served over TLS.
pub fn set_cookie(name: &str, value: &str, max_age_s: i64, secure: bool) -> String {
    format!("{name}={value}; Path=/; Max-Age={max_age_s}; HttpOnly; SameSite=Lax{}", if secure { "; Secure" } else { "" })
}

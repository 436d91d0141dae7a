//! The demo city's accounts, one per role, created on a fresh database when the demo is enabled.
//! Their shared password is printed in the README: demo only, never for a real deployment.
use super::password;
use crate::store::access::Account;
use crate::store::Store;
use app::model::{Clearance, Role};

pub const DEMO_PASSWORD: &str = "cockpit-demo-2026";

/// A valid argon2id hash of nothing anyone types, for constant-time failures on unknown names.
pub const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$2nA5cbEKDlY0iBKWg9bhb6cXWThNS0A5Fc0iFzMRcTE";

/// (user name, display name, role, scope, department, clearance)
pub const DEMO: &[(&str, &str, Role, &str, Option<&str>, Clearance)] = &[
    ("leader", "市领导（演示）", Role::CityLeader, "330600", None, Clearance::Sensitive),
    ("zhuji", "诸暨市干部（演示）", Role::DistrictOfficial, "330681", None, Clearance::Sensitive),
    ("fengqiao", "枫桥镇干部（演示）", Role::StreetOfficial, "330681109", None, Clearance::Sensitive),
    ("tashan", "塔山街道干部（演示）", Role::StreetOfficial, "330602001", None, Clearance::Sensitive),
    ("huayuan", "花园社区网格员（演示）", Role::CommunityStaff, "330602001004", None, Clearance::Internal),
    ("chengguan", "城管局工作人员（演示）", Role::DepartmentStaff, "330600", Some("城管局"), Clearance::Internal),
    ("auditor", "审计员（演示）", Role::Auditor, "330600", None, Clearance::Internal),
    ("admin", "系统管理员（演示）", Role::Admin, "330600", None, Clearance::Restricted),
];

/// Creates the demo accounts if the store has none. Returns how many were created.
pub async fn seed_demo_accounts(store: &dyn Store, now: i64) -> Result<usize, crate::store::StoreError> {
    if !store.accounts().await?.is_empty() {
        return Ok(0);
    }
    let hash = password::hash(DEMO_PASSWORD);
    for &(username, display, role, scope, dept, clearance) in DEMO {
        let a = Account {
            username: username.into(),
            display_name: display.into(),
            role,
            scope: scope.into(),
            department: dept.map(Into::into),
            clearance,
            password_hash: hash.clone(),
            created_at: now,
            created_by: "demo-setup".into(),
            disabled: false,
            must_change: false,
            password_set_at: now,
            last_sign_in_at: None,
            last_sign_in_from: None,
        };
        let audit = crate::store::access::AuditEntry {
            at: now,
            actor: "demo-setup".into(),
            action: "grant".into(),
            region: Some(scope.into()),
            detail: format!("demo account {username} role {} clearance {}", role.as_str(), clearance.as_str()),
        };
        if let Err(e) = store.create_account(&a, &audit).await {
            // Another instance starting on the same empty store got there first.
            if store.accounts().await?.iter().any(|x| x.username == a.username) {
                return Ok(0);
            }
            return Err(e);
        }
    }
    Ok(DEMO.len())
}

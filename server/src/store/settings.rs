//! Stored settings: the values an administrator saved at `/admin/settings`, by name, as JSON. They win
//! over the config file's; saving one is audited in the same transaction.
use super::access::AuditEntry;
use super::StoreError;
use futures::future::BoxFuture;

/// One stored setting and who saved it when.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredSetting {
    pub name: String,
    /// JSON.
    pub value: String,
    pub changed_at: i64,
    pub changed_by: String,
}

pub trait SettingsStore {
    fn settings(&self) -> BoxFuture<'_, Result<Vec<StoredSetting>, StoreError>>;
    /// Stores (or replaces) one setting and its audit entry, both or neither.
    fn save_setting<'a>(&'a self, s: &'a StoredSetting, audit: &'a AuditEntry) -> BoxFuture<'a, Result<(), StoreError>>;
}

//! The aggregates as the stored data makes them: what a restart loads and what every recount test
//! compares the live figures with. One function for both, so a test can never recount something the
//! server does not (the last patrol of each grid, the observations) or the other way round.
use super::Aggregates;
use crate::city::RegionTree;
use crate::store::{Store, StoreError};
use std::sync::Arc;

impl Aggregates {
    /// Every stored event in the order the store took it (a late event counts as it did live), the last
    /// patrol of every grid and every stored observation, swept to `now`.
    pub async fn recount(tree: Arc<RegionTree>, store: &dyn Store, now: i64) -> Result<Aggregates, StoreError> {
        let mut a = Aggregates::new(tree);
        for e in store.replay().await? {
            a.apply(&e);
        }
        for (grid, at) in store.last_patrols().await? {
            a.patrolled(&grid, at);
        }
        for (feed, (id, version, o)) in store.observations().await? {
            a.observe(&feed, &id, version, &o);
        }
        a.sweep(now);
        Ok(a)
    }
}

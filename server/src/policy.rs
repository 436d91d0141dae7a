//! The access policy: the one place that decides who a request is and which regions it may see.
//! Every server function and the live stream ask it; it fails closed (unknown scope, unknown region or a
//! region outside the scope are all refused, and reported alike so probing reveals nothing).
//! Until sign-in arrives (permissions issue), every internal request gets the configured city scope.
use crate::city::RegionTree;
use app::backend::{AccessError, Viewer};
use app::model::Scope;
use std::sync::Arc;

pub struct Policy {
    tree: Arc<RegionTree>,
    default_scope: Scope,
}

impl Policy {
    pub fn new(tree: Arc<RegionTree>, default_root: &str) -> Policy {
        Policy { tree, default_scope: Scope { root: default_root.to_string() } }
    }

    /// Who is asking. The request is not consulted yet: there are no accounts to find in it.
    pub fn viewer(&self, _request: Option<&http::request::Parts>) -> Result<Viewer, AccessError> {
        Ok(Viewer { scope: self.default_scope.clone() })
    }

    /// The region `code` (or the scope's root when None) if `viewer` may see it.
    pub fn region(&self, viewer: &Viewer, code: Option<&str>) -> Result<usize, AccessError> {
        let top = self.tree.find(&viewer.scope.root).ok_or_else(|| {
            tracing::warn!(scope = %viewer.scope.root, "viewer scope names no region; refused");
            AccessError::NotFound
        })?;
        let idx = match code {
            None => top,
            Some(c) => self.tree.find(c).ok_or(AccessError::NotFound)?,
        };
        if !self.tree.is_within(idx, top) {
            tracing::info!(scope = %viewer.scope.root, region = code.unwrap_or(""), "region outside scope; refused");
            return Err(AccessError::NotFound);
        }
        Ok(idx)
    }

    pub fn tree(&self) -> &Arc<RegionTree> {
        &self.tree
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::city::shaoxing;

    #[test]
    fn a_scope_sees_its_subtree_only() {
        let tree = Arc::new(RegionTree::new(shaoxing::build()).unwrap());
        let p = Policy::new(tree.clone(), "330600");
        let district = Viewer { scope: Scope { root: "330681".into() } }; // 诸暨市
        assert_eq!(p.region(&district, None), Ok(tree.find("330681").unwrap()));
        assert!(p.region(&district, Some("330681109")).is_ok(), "枫桥镇 is inside 诸暨市");
        assert_eq!(p.region(&district, Some("330602001")), Err(AccessError::NotFound), "越城区's town is outside");
        assert_eq!(p.region(&district, Some("330600")), Err(AccessError::NotFound), "the city above is outside");
        assert_eq!(p.region(&district, Some("nope")), Err(AccessError::NotFound));
        let lost = Viewer { scope: Scope { root: "999999".into() } };
        assert_eq!(p.region(&lost, None), Err(AccessError::NotFound), "unknown scope fails closed");
        let city = p.viewer(None).unwrap();
        assert!(p.region(&city, Some("330602001")).is_ok());
    }
}

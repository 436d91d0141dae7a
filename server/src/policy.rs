//! The access policy: the one place that decides who a request is, what they may do, and which
//! regions they may see. Every page, server function, REST route and live stream asks it; it fails
//! closed (no valid session or device, an unknown scope, an unknown region or one outside the scope are
//! all refused; the last three alike, so probing reveals nothing). Machines that present their own
//! credentials (a feed's webhook push, a metrics scrape) are decided here too.
use crate::auth::Auth;
use crate::city::RegionTree;
use app::backend::{AccessError, Viewer};
use crate::store::{CaseQuery, StoredCase};
use app::model::{Clearance, Level, Role, Status};
use std::sync::Arc;

/// What a viewer may do besides being shown their scope.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// The wall display, its map and live stream: aggregates of all cases in scope.
    ViewDashboards,
    /// Case lists, case details and their export.
    ViewCases,
    ViewAudit,
    Grant,
    /// Supervise (督办), escalate and acknowledge cases: officials of a level, over their own subtree.
    Oversee,
    /// See feed health and quarantine reasons (never record contents), pause, resume, replay, reload.
    OperateFeeds,
    /// Issue, list and revoke the keys of Open311 apps.
    IssueApiKeys,
    /// Change the city's settings (working calendar, flow rules): one calendar for the whole city.
    ChangeSettings,
    /// Acknowledge, handle and close early warnings routed to a centre in their scope.
    RespondToWarnings,
}

pub fn may(role: Role, action: Action) -> bool {
    use Role::*;
    match action {
        // Department staff see only cases dispatched to their department: city-wide aggregates are not theirs.
        Action::ViewDashboards => matches!(role, CityLeader | DistrictOfficial | StreetOfficial | CommunityStaff | Admin | WallDevice),
        Action::ViewCases => matches!(role, CityLeader | DistrictOfficial | StreetOfficial | CommunityStaff | DepartmentStaff),
        Action::ViewAudit => role == Auditor,
        Action::Grant => role == Admin,
        Action::Oversee => matches!(role, CityLeader | DistrictOfficial | StreetOfficial),
        Action::OperateFeeds | Action::IssueApiKeys | Action::ChangeSettings => role == Admin,
        // The village/community centre acknowledges its own warnings: community staff too.
        Action::RespondToWarnings => matches!(role, CityLeader | DistrictOfficial | StreetOfficial | CommunityStaff),
    }
}

pub struct Policy {
    tree: Arc<RegionTree>,
    auth: Arc<Auth>,
    /// Bearer token a Prometheus scraper presents at /metrics (None: only viewers who operate feeds).
    metrics_token: Option<String>,
}

fn header<'a>(h: &'a http::HeaderMap, name: &str) -> Option<&'a str> {
    h.get(name).and_then(|v| v.to_str().ok())
}

impl Policy {
    pub fn new(tree: Arc<RegionTree>, auth: Arc<Auth>) -> Policy {
        Policy { tree, auth, metrics_token: None }
    }

    pub fn with_metrics_token(mut self, token: Option<String>) -> Policy {
        self.metrics_token = token;
        self
    }

    /// A source system's push to a webhook feed: the feed's token, a timestamp inside its window and an
    /// HMAC over timestamp and body; then the records it carries.
    pub fn feed_push(
        &self,
        cfg: &crate::feeds::webhook::Config,
        headers: &http::HeaderMap,
        body: &[u8],
        now: i64,
    ) -> Result<Vec<crate::feeds::record::Input>, crate::feeds::webhook::Refusal> {
        use crate::feeds::webhook;
        webhook::verify(cfg, header(headers, "authorization"), header(headers, webhook::TIMESTAMP), header(headers, webhook::SIGNATURE), body, now)
    }

    /// A metrics scrape: the configured bearer token, or else a signed-in viewer who operates feeds.
    pub fn metrics(&self, headers: &http::HeaderMap) -> Result<(), AccessError> {
        let presented = header(headers, "authorization").and_then(|a| a.strip_prefix("Bearer "));
        if let (Some(want), Some(got)) = (&self.metrics_token, presented) {
            if crate::auth::token::same(want, got) {
                return Ok(());
            }
        }
        let v = self.viewer_of(headers)?;
        self.allow(&v, Action::OperateFeeds)
    }

    /// Who sends a resident's report: an app with a live key (its id), or anyone (None) where the city
    /// takes reports without a key. A key that is not live is refused even then: it is never trusted.
    pub fn report_sender(&self, api_key: Option<&str>, anonymous_posts: bool) -> Result<Option<i64>, app::residents::Refusal> {
        use app::residents::Refusal;
        match api_key {
            Some(k) => self.auth.api_key_id(k).map(Some).ok_or(Refusal::KeyInvalid),
            None if anonymous_posts => Ok(None),
            None => Err(Refusal::KeyRequired),
        }
    }

    /// Who is asking, from the request's cookies only.
    pub fn viewer(&self, request: Option<&http::request::Parts>) -> Result<Viewer, AccessError> {
        match request {
            Some(p) => self.viewer_of(&p.headers),
            None => Err(AccessError::Unauthenticated),
        }
    }

    /// Who is asking, from these request headers' cookies only.
    pub fn viewer_of(&self, headers: &http::HeaderMap) -> Result<Viewer, AccessError> {
        let cookies = headers.get(http::header::COOKIE).and_then(|v| v.to_str().ok());
        self.auth.viewer(cookies, self.auth.clock().now_ms()).ok_or(AccessError::Unauthenticated)
    }

    pub fn allow(&self, viewer: &Viewer, action: Action) -> Result<(), AccessError> {
        if !may(viewer.role, action) {
            tracing::info!(principal = %viewer.principal, ?action, "action not permitted for role; refused");
            return Err(AccessError::NotFound);
        }
        // The feeds are the city's systems, shared by every district: operating them (and reading their
        // metrics) is a city-level right, not one a district administrator's scope can carry.
        // So are the keys of the apps residents report through: they speak for the whole city.
        if matches!(action, Action::OperateFeeds | Action::IssueApiKeys | Action::ChangeSettings) && self.tree.find(&viewer.scope.root) != Some(self.tree.root()) {
            tracing::info!(principal = %viewer.principal, scope = %viewer.scope.root, ?action, "a city-level right; refused");
            return Err(AccessError::NotFound);
        }
        Ok(())
    }

    /// Which audit entries `viewer` may read, narrowed to `region` if asked: the code prefix of the
    /// entries about regions, cases and accounts in their subtree, or None for a city-wide auditor
    /// (who also reads entries about no region: failed sign-ins of unknown names, feed operations). A
    /// region outside their scope is refused like any other.
    pub fn audit_scope(&self, viewer: &Viewer, region: Option<&str>) -> Result<Option<String>, AccessError> {
        self.allow(viewer, Action::ViewAudit)?;
        let idx = self.region(viewer, region)?;
        Ok((idx != self.tree.root()).then(|| self.tree.get(idx).row.code.clone()))
    }

    /// The region `code` (or the scope's root when None) if `viewer` may see its dashboards.
    pub fn dashboard_region(&self, viewer: &Viewer, code: Option<&str>) -> Result<usize, AccessError> {
        self.allow(viewer, Action::ViewDashboards)?;
        self.region(viewer, code)
    }

    /// The region `code` (or the scope's root when None) if it lies in `viewer`'s scope.
    pub fn region(&self, viewer: &Viewer, code: Option<&str>) -> Result<usize, AccessError> {
        resolve(&self.tree, viewer, code)
    }

    /// The cases a viewer may list under `region`: their subtree, or for department staff the cases
    /// dispatched to their department (anywhere in their scope) and nothing else.
    pub fn case_query(&self, viewer: &Viewer, region: Option<&str>, open_only: bool, limit: u32) -> Result<CaseQuery, AccessError> {
        self.allow(viewer, Action::ViewCases)?;
        let mut q = CaseQuery { open_only, limit, ..self.subtree(self.region(viewer, region)?) };
        if viewer.role == Role::DepartmentStaff {
            q.department = Some(viewer.department.clone().ok_or(AccessError::NotFound)?);
            q.dispatched_only = true;
        }
        Ok(q)
    }

    /// Every case in the subtree of region `idx`; only for a region the policy has already resolved.
    pub fn subtree(&self, idx: usize) -> CaseQuery {
        let r = self.tree.get(idx);
        // Codes below the city extend their parent's; a city code (GB/T 2260, "xxxx00") shares its first four.
        let prefix = if r.row.level == Level::City { r.row.code.chars().take(4).collect() } else { r.row.code.clone() };
        CaseQuery { grid_prefix: Some(prefix), by_area: r.row.level >= Level::Town, limit: u32::MAX, ..CaseQuery::default() }
    }

    /// Whether one case is the viewer's to see.
    pub fn case_visible(&self, viewer: &Viewer, c: &StoredCase) -> Result<(), AccessError> {
        self.allow(viewer, Action::ViewCases)?;
        self.region(viewer, Some(&c.facts.grid))?;
        if viewer.role == Role::DepartmentStaff {
            let mine = viewer.department.is_some() && viewer.department == c.facts.details.department && c.status >= Status::Dispatched;
            if !mine {
                return Err(AccessError::NotFound);
            }
        }
        Ok(())
    }

    /// A resident's photo of `c`: whoever may see the case with its personal fields unmasked (a photo
    /// can show a face, a house number, a car plate). Anyone else is told there is none.
    pub fn photo_visible(&self, viewer: &Viewer, c: &StoredCase) -> Result<(), AccessError> {
        self.case_visible(viewer, c)?;
        if !sees_personal_data(viewer) {
            return Err(AccessError::NotFound);
        }
        Ok(())
    }

    /// The actions `viewer` may take on `c` now (oversight, and the handling of a resident's report): what the state machine allows, if they may
    /// oversee and the case is theirs to see. Escalating is for the holder's own level or above: a street
    /// cannot push further a case the district already holds.
    pub fn oversight(&self, viewer: &Viewer, c: &StoredCase) -> Vec<app::flow::Action> {
        if !may(viewer.role, Action::Oversee) || self.case_visible(viewer, c).is_err() {
            return Vec::new();
        }
        let Some(holder) = crate::case::holder(&self.tree, &c.facts, c.status, c.escalations) else { return Vec::new() };
        let holder_in_scope = self.region(viewer, Some(&holder.region)).is_ok();
        // A resident's report has no other system behind it: the officials who oversee it also move it
        // (受理, 分拨, 处置, 办结, 核查, 结案, 退回), recorded as the residents' feed.
        let handles = c.feed == crate::residents::FEED;
        // A dispute a court referred (诉前委派调解) is mediated by the centre that holds it, which records
        // each attempt; the result goes back to the court (`feeds/results.rs`).
        let mediates = c.facts.source == app::model::Source::Court && holder_in_scope;
        app::flow::allowed(c.status, holder.level)
            .into_iter()
            .filter(|a| {
                let handling = handles && !matches!(a, app::flow::Action::Report | app::flow::Action::Mediate);
                let mediation = mediates && *a == app::flow::Action::Mediate;
                (a.is_oversight() || handling || mediation) && (*a != app::flow::Action::Escalate || holder_in_scope)
            })
            .collect()
    }

    /// `action` on `c` by `viewer`, or why not: NotFound when the case is not theirs to see or they may not
    /// oversee at all; the state machine's refusal otherwise.
    pub fn may_act(&self, viewer: &Viewer, c: &StoredCase, action: app::flow::Action) -> Result<(), ActRefusal> {
        self.case_visible(viewer, c).map_err(ActRefusal::Access)?;
        self.allow(viewer, Action::Oversee).map_err(ActRefusal::Access)?;
        if self.oversight(viewer, c).contains(&action) {
            return Ok(());
        }
        let level = crate::case::holder(&self.tree, &c.facts, c.status, c.escalations).map(|h| h.level).unwrap_or(Level::City);
        Err(ActRefusal::Flow(match app::flow::step(c.status, action) {
            Err(e) => e.to_string(),
            Ok(_) if !action.is_oversight() => format!("{} is the source system's to record, not the cockpit's", action.as_str()),
            Ok(_) => match app::flow::escalated(level) {
                Err(e) => e.to_string(),
                Ok(_) => "the case is held above your level".to_string(),
            },
        }))
    }

    /// Whether `viewer` may act on a warning routed to the centre of region `route`: they respond to
    /// warnings, and that centre is in their scope (a higher level may act for a lower one).
    pub fn may_respond(&self, viewer: &Viewer, route: usize) -> Result<(), AccessError> {
        self.allow(viewer, Action::RespondToWarnings)?;
        let top = self.tree.find(&viewer.scope.root).ok_or(AccessError::NotFound)?;
        if self.tree.is_within(route, top) {
            Ok(())
        } else {
            Err(AccessError::NotFound)
        }
    }

    pub fn tree(&self) -> &Arc<RegionTree> {
        &self.tree
    }

    pub fn auth(&self) -> &Arc<Auth> {
        &self.auth
    }
}

/// Why an action on a case is refused.
#[derive(Debug, PartialEq)]
pub enum ActRefusal {
    Access(AccessError),
    /// The state machine's (or the holder rule's) reason, for the official to read.
    Flow(String),
}

/// Whether `by` may hand out `scope` and `clearance`: only administrators, and never more than they have.
pub fn may_grant(tree: &RegionTree, by: &Viewer, scope: &str, clearance: Clearance) -> Result<(), GrantRefusal> {
    if by.role != Role::Admin {
        return Err(GrantRefusal::Forbidden("only administrators grant access".into()));
    }
    let (Some(top), Some(target)) = (tree.find(&by.scope.root), tree.find(scope)) else {
        return Err(GrantRefusal::Invalid(format!("unknown region {scope:?}")));
    };
    if !tree.is_within(target, top) {
        return Err(GrantRefusal::Forbidden(format!("region {scope} is outside your scope")));
    }
    if clearance > by.clearance {
        return Err(GrantRefusal::Forbidden(format!("clearance {} is above your own", clearance.as_str())));
    }
    Ok(())
}

#[derive(Debug, PartialEq)]
pub enum GrantRefusal {
    Forbidden(String),
    Invalid(String),
}

/// Whether personal fields (names, phones, ID numbers, exact addresses) reach this viewer unmasked.
pub fn sees_personal_data(viewer: &Viewer) -> bool {
    viewer.clearance >= Clearance::Sensitive
}

/// The scope check itself: `code` (or the scope's root) if it lies in the viewer's subtree.
pub fn resolve(tree: &RegionTree, viewer: &Viewer, code: Option<&str>) -> Result<usize, AccessError> {
    let top = tree.find(&viewer.scope.root).ok_or_else(|| {
        tracing::warn!(scope = %viewer.scope.root, "viewer scope names no region; refused");
        AccessError::NotFound
    })?;
    let idx = match code {
        None => top,
        Some(c) => tree.find(c).ok_or(AccessError::NotFound)?,
    };
    if !tree.is_within(idx, top) {
        tracing::info!(principal = %viewer.principal, region = code.unwrap_or(""), "region outside scope; refused");
        return Err(AccessError::NotFound);
    }
    Ok(idx)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::city::{GridAttrs, RegionRow};
    use app::model::{Clearance, GridKind, Level, Scope};

    fn viewer(role: Role, root: &str) -> Viewer {
        Viewer { principal: "t".into(), role, scope: Scope { root: root.into() }, clearance: Clearance::Internal, department: None }
    }

    /// A random tree from a seed: every level gets 1..=4 children.
    fn random_tree(seed: u64) -> Arc<RegionTree> {
        let mut rows = vec![RegionRow { code: "r".into(), name: "r".into(), level: Level::City, parent: None, shape: vec![], schematic: false, grid: None }];
        let mut frontier = vec![("r".to_string(), Level::City)];
        let mut h = seed;
        while let Some((code, level)) = frontier.pop() {
            let Some(child) = level.child() else { continue };
            h = crate::city::shaoxing::mix(h);
            for i in 0..(1 + h % 4) {
                let c = format!("{code}.{i}");
                rows.push(RegionRow {
                    code: c.clone(),
                    name: c.clone(),
                    level: child,
                    parent: Some(code.clone()),
                    shape: vec![],
                    schematic: true,
                    grid: (child == Level::Grid).then(|| GridAttrs { kind: GridKind::Comprehensive, worker: None, households: 1, population: 1, base_updated: None }),
                });
                frontier.push((c, child));
            }
        }
        rows.sort_by_key(|r| r.level);
        Arc::new(RegionTree::new(rows).unwrap())
    }

    /// Property: over random trees and scopes, a viewer reaches exactly the regions whose code has the
    /// scope's code as a path prefix (codes here are dotted paths), and nothing else.
    #[test]
    fn scope_is_exactly_the_subtree_on_random_trees() {
        for seed in 0..40u64 {
            let tree = random_tree(seed);
            for (top, r) in tree.iter().step_by(3) {
                let v = viewer(Role::StreetOfficial, &r.row.code);
                for (idx, other) in tree.iter() {
                    let inside = other.row.code == r.row.code || other.row.code.starts_with(&format!("{}.", r.row.code));
                    assert_eq!(resolve(&tree, &v, Some(&other.row.code)).is_ok(), inside, "seed {seed}: {} from {}", other.row.code, r.row.code);
                    assert_eq!(tree.is_within(idx, top), inside);
                }
            }
        }
    }

    #[test]
    fn roles_and_actions() {
        assert!(may(Role::CityLeader, Action::ViewDashboards));
        assert!(may(Role::WallDevice, Action::ViewDashboards));
        assert!(!may(Role::DepartmentStaff, Action::ViewDashboards));
        assert!(!may(Role::Auditor, Action::ViewDashboards));
        assert!(may(Role::Auditor, Action::ViewAudit));
        assert!(may(Role::DepartmentStaff, Action::ViewCases));
        assert!(!may(Role::Admin, Action::ViewCases), "administrators grant access; they do not read cases");
        assert!(!may(Role::WallDevice, Action::ViewCases), "a wall shows aggregates only");
        assert!(!may(Role::Admin, Action::ViewAudit));
        for r in Role::ALL {
            assert_eq!(may(r, Action::Grant), r == Role::Admin);
            assert_eq!(may(r, Action::Oversee), matches!(r, Role::CityLeader | Role::DistrictOfficial | Role::StreetOfficial));
        }
    }
}

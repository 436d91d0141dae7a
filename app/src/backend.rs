//! The server's side of the server functions. The app defines what it needs; the `server` crate
//! implements it and provides it as context, so components stay free of storage and policy code.
use crate::model::{Clearance, Coverage, DeskView, Period, FlowReport, MapLayer, PublicReport, Role, SafetyView, Scope, WallSnapshot};
use leptos::prelude::*;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

/// What the backend's reads of storage return.
pub type Reply<'a, T> = Pin<Box<dyn Future<Output = Result<T, AccessError>> + Send + 'a>>;

/// Who is asking. Built by the server's one access policy from the request; never from client input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Viewer {
    /// The account's user name, or `device:<id>` for a wall display.
    pub principal: String,
    pub role: Role,
    pub scope: Scope,
    pub clearance: Clearance,
    pub department: Option<String>,
}

/// Errors a viewer may see. The server logs the details; the user gets a plain message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AccessError {
    /// The region does not exist, or lies outside the viewer's scope: the two are reported alike so
    /// that probing cannot tell them apart.
    NotFound,
    Unauthenticated,
    Unavailable,
}

impl std::fmt::Display for AccessError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            AccessError::NotFound => "not found",
            AccessError::Unauthenticated => "sign-in required",
            AccessError::Unavailable => "service unavailable",
        })
    }
}

pub trait Backend: Send + Sync + 'static {
    /// The access policy's decision on who this request is; fails closed.
    fn viewer(&self, parts: Option<&http::request::Parts>) -> Result<Viewer, AccessError>;
    /// `region` None means the root of the viewer's scope.
    fn wall_snapshot(&self, viewer: &Viewer, region: Option<&str>) -> Result<WallSnapshot, AccessError>;
    fn map_layer(&self, viewer: &Viewer, region: Option<&str>) -> Result<MapLayer, AccessError>;
    /// District-level aggregates only: safe for anyone.
    fn public_report(&self) -> PublicReport;
    /// Grid coverage of the region, patrols counted over the last `days` days.
    fn coverage(&self, viewer: &Viewer, region: Option<&str>, days: u32) -> Result<Coverage, AccessError>;
    /// Case-flow analytics of the region over the period.
    fn flow_report<'a>(&'a self, viewer: &'a Viewer, region: Option<&'a str>, period: Period) -> Reply<'a, FlowReport>;
    /// The tablet's list: the region's cases due soon or overdue, soonest deadline first.
    fn desk<'a>(&'a self, viewer: &'a Viewer, region: Option<&'a str>, queue: crate::model::DeskQueue) -> Reply<'a, DeskView>;
    /// A wall device's playlist with the server's time (None: the viewer is no device, or has none).
    fn playlist(&self, viewer: &Viewer) -> Result<Option<crate::model::PlaylistNow>, AccessError>;
    /// Safety indicators of the region from the observation feeds, with trends, sources and staleness.
    fn safety<'a>(&'a self, viewer: &'a Viewer, region: Option<&'a str>) -> Reply<'a, SafetyView>;
    /// Early warnings found in the region, open ones and those closed lately, with what the viewer may do.
    fn warnings<'a>(&'a self, viewer: &'a Viewer, region: Option<&'a str>) -> Reply<'a, crate::warning::WarningList>;
}

#[derive(Clone)]
pub struct BackendHandle(pub Arc<dyn Backend>);

fn backend() -> Result<Arc<dyn Backend>, ServerFnError> {
    use_context::<BackendHandle>()
        .map(|b| b.0)
        .ok_or_else(|| ServerFnError::new(AccessError::Unavailable.to_string()))
}

/// Runs `f` for the viewer of the current request, mapping access errors to plain messages and the
/// matching HTTP status (401, 404, 503) rather than a bare 500.
pub fn with_viewer<T>(
    f: impl FnOnce(&dyn Backend, &Viewer) -> Result<T, AccessError>,
) -> Result<T, ServerFnError> {
    let backend = backend()?;
    let parts = use_context::<http::request::Parts>();
    backend.viewer(parts.as_ref()).and_then(|viewer| f(backend.as_ref(), &viewer)).map_err(refuse)
}

/// `with_viewer` for reads that wait on storage.
pub async fn with_viewer_async<T, F, Fut>(f: F) -> Result<T, ServerFnError>
where
    F: FnOnce(Arc<dyn Backend>, Viewer) -> Fut,
    Fut: Future<Output = Result<T, AccessError>>,
{
    let backend = backend()?;
    let parts = use_context::<http::request::Parts>();
    let viewer = backend.viewer(parts.as_ref()).map_err(refuse)?;
    f(backend, viewer).await.map_err(refuse)
}

fn refuse(e: AccessError) -> ServerFnError {
    if let Some(resp) = use_context::<leptos_axum::ResponseOptions>() {
        resp.set_status(match e {
            AccessError::Unauthenticated => http::StatusCode::UNAUTHORIZED,
            AccessError::NotFound => http::StatusCode::NOT_FOUND,
            AccessError::Unavailable => http::StatusCode::SERVICE_UNAVAILABLE,
        });
    }
    ServerFnError::new(e.to_string())
}

pub fn public_report() -> Result<PublicReport, ServerFnError> {
    Ok(backend()?.public_report())
}

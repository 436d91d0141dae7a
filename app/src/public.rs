//! The public statistics as a server function (`/api/public`): district and town counts of the last 30
//! days, open cases and grids, small counts withheld. The portal page `/public` is the server's own
//! (`web/portal.rs`), plain HTML without JavaScript; these are the figures behind `/public/stats.*`.
use crate::model::PublicReport;
use leptos::prelude::*;
use leptos::server_fn::codec::GetUrl;

#[server(input = GetUrl, endpoint = "public")]
pub async fn load_public() -> Result<PublicReport, ServerFnError> {
    crate::backend::public_report()
}

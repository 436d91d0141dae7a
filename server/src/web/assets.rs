//! The built static files under `/pkg` and `/assets`: sent as the build compressed them (`.br`, `.gz`,
//! whichever the browser accepts) and, when the name carries a content hash, kept by browsers for a year,
//! so a wall that reloads transfers almost nothing. Anything unhashed is revalidated every time.
use super::AppState;
use axum::extract::Request;
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use axum::Router;
use std::path::Path;
use tower_http::services::ServeDir;

pub fn files(site_root: &Path, dir: &str) -> Router<AppState> {
    let serve = ServeDir::new(site_root.join(dir)).precompressed_br().precompressed_gzip();
    Router::new().fallback_service(serve).layer(axum::middleware::from_fn(cache_control))
}

async fn cache_control(req: Request, next: Next) -> Response {
    let hashed = is_hashed(req.uri().path());
    let mut res = next.run(req).await;
    if res.status().is_success() {
        let v = if hashed { "public, max-age=31536000, immutable" } else { "no-cache" };
        res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static(v));
    }
    res
}

/// `cockpit.3fa9c0d1e2b4.wasm`: a segment of at least 8 hex digits between the stem and the extension.
fn is_hashed(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or("");
    let parts: Vec<&str> = name.split('.').collect();
    parts.len() >= 3 && parts[1..parts.len() - 1].iter().any(|p| p.len() >= 8 && p.bytes().all(|b| b.is_ascii_hexdigit()))
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_content_named_files_are_immutable() {
        assert!(super::is_hashed("/pkg/cockpit.3fa9c0d1e2b4.wasm"));
        assert!(super::is_hashed("/assets/echarts.0123abcd.js"));
        assert!(!super::is_hashed("/pkg/cockpit.wasm"));
        assert!(!super::is_hashed("/pkg/cockpit.css"));
        assert!(!super::is_hashed("/pkg/cockpit.abc.css"), "too short to be a hash");
        assert!(!super::is_hashed("/pkg/deadbeef12"), "no extension");
    }
}

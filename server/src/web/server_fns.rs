//! The one rejection path of every server function: an argument it cannot read (a duplicated key, a
//! negative, overflowing or non-numeric number, an array where a value belongs) is the caller's error,
//! 400 with the reason, never a 500. The server-function layer reports such failures as a 500 with its
//! error header; this turns exactly those into 400 and leaves every other answer as it was.
use axum::body::{to_bytes, Body};
use axum::http::{Request, StatusCode};
use axum::middleware::Next;
use axum::response::Response;

/// The header the server-function layer marks its error answers with.
const SERVER_FN_ERROR: &str = "serverfnerror";

/// Error kinds (the part before `|` in the encoded error) that mean the request's arguments were bad.
const CALLER_ERRORS: [&str; 3] = ["Args", "Deserialization", "MissingArg"];

pub async fn bad_arguments(req: Request<Body>, next: Next) -> Response {
    let res = next.run(req).await;
    if res.status() != StatusCode::INTERNAL_SERVER_ERROR || !res.headers().contains_key(SERVER_FN_ERROR) {
        return res;
    }
    let (mut parts, body) = res.into_parts();
    // An encoded error is a short line; anything longer is not one of ours to judge.
    let bytes = match to_bytes(body, 64 * 1024).await {
        Ok(b) => b,
        Err(_) => return Response::from_parts(parts, Body::from("server error")),
    };
    let text = String::from_utf8_lossy(&bytes);
    let kind = text.split_once('|').map(|(k, _)| k).unwrap_or("");
    if CALLER_ERRORS.contains(&kind) {
        parts.status = StatusCode::BAD_REQUEST;
        tracing::info!(reason = %text, "server function refused its arguments");
    } else {
        tracing::error!(error = %text, "server function failed");
    }
    Response::from_parts(parts, Body::from(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::routing::get;
    use axum::Router;
    use tower::ServiceExt;

    async fn answer(status: StatusCode, header: bool, body: &'static str) -> (StatusCode, String) {
        let app = Router::new()
            .route(
                "/x",
                get(move || async move {
                    let mut r = Response::new(Body::from(body));
                    *r.status_mut() = status;
                    if header {
                        r.headers_mut().insert(SERVER_FN_ERROR, "/api/x".parse().unwrap());
                    }
                    r
                }),
            )
            .layer(axum::middleware::from_fn(bad_arguments));
        let r = app.oneshot(Request::get("/x").body(Body::empty()).unwrap()).await.unwrap();
        let s = r.status();
        (s, String::from_utf8(to_bytes(r.into_body(), 1 << 20).await.unwrap().to_vec()).unwrap())
    }

    #[tokio::test]
    async fn bad_arguments_are_400_and_nothing_else_changes() {
        assert_eq!(answer(StatusCode::INTERNAL_SERVER_ERROR, true, "Args|Multiple values for one key").await, (StatusCode::BAD_REQUEST, "Args|Multiple values for one key".into()));
        assert_eq!(answer(StatusCode::INTERNAL_SERVER_ERROR, true, "MissingArg|days").await.0, StatusCode::BAD_REQUEST);
        assert_eq!(answer(StatusCode::INTERNAL_SERVER_ERROR, true, "ServerError|store down").await.0, StatusCode::INTERNAL_SERVER_ERROR, "a real failure stays one");
        assert_eq!(answer(StatusCode::INTERNAL_SERVER_ERROR, false, "Args|x").await.0, StatusCode::INTERNAL_SERVER_ERROR, "not a server function's answer");
        assert_eq!(answer(StatusCode::NOT_FOUND, true, "ServerError|not found").await.0, StatusCode::NOT_FOUND);
        assert_eq!(answer(StatusCode::OK, false, "{}").await, (StatusCode::OK, "{}".into()));
    }
}

//! The web UI: plain ES modules, CSS and one HTML page, embedded in the
//! binary and served at `/` and `/ui/...`. Every other path that is not
//! under `/api` or `/hooks` gets the page too, so the single-page app's
//! own links (`/runs/<id>`) survive a reload. The UI reads the same REST
//! API as the CLI; it has no back door.

mod assets;

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

pub use assets::{ASSETS, Asset};

/// The UI's routes: `/` and `/ui/{*path}`.
pub fn routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route("/", get(index))
        .route("/ui/{*path}", get(asset))
}

/// Whether `path` belongs to the UI's page (not the API, nor webhooks).
pub fn is_page_path(path: &str) -> bool {
    let api = |p: &str| path == p || path.starts_with(&format!("{p}/"));
    !api("/api") && !api("/hooks") && !api("/ui")
}

/// The single page, for `/` and the app's own paths.
pub async fn index(headers: HeaderMap) -> Response {
    serve(
        assets::find("index.html").expect("index.html is embedded"),
        &headers,
    )
}

async fn asset(Path(path): Path<String>, headers: HeaderMap) -> Response {
    match assets::find(&path) {
        Some(a) => serve(a, &headers),
        _ => (
            StatusCode::NOT_FOUND,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            "no such UI asset",
        )
            .into_response(),
    }
}

/// The asset with its content type, a strong ETag of its bytes and
/// `no-cache` (browsers revalidate, and get 304 while it is unchanged).
fn serve(asset: &'static Asset, headers: &HeaderMap) -> Response {
    let etag = asset.etag();
    let fresh = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag));
    let common = [
        (header::ETAG, HeaderValue::from_str(etag).expect("hex etag")),
        (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        (
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ),
    ];
    if fresh {
        return (StatusCode::NOT_MODIFIED, common).into_response();
    }
    let mut resp = (
        common,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static(asset.content_type),
        )],
        asset.bytes,
    )
        .into_response();
    if asset.path == "index.html" {
        resp.headers_mut().insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'",
            ),
        );
    }
    resp
}

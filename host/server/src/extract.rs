//! Request extractors: a JSON body whose rejections are JSON 422s, and the
//! request context every handler receives.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// A JSON request body. Unlike `axum::Json` it does not insist on a
/// `Content-Type` header, reads an empty body as `{}` (Prefect's filter
/// endpoints accept no body), and refuses a body that does not parse with
/// a JSON 422 that says why.
#[derive(Debug, Clone, Copy, Default)]
pub struct Json<T>(pub T);

impl<S, T> FromRequest<S> for Json<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::PayloadTooLarge(format!("request body too large: {e}"))
            } else {
                ApiError::invalid(format!("could not read the request body: {e}"))
            }
        })?;
        parse_json(&bytes).map(Json)
    }
}

/// Parses a JSON body, reading an empty one as `{}`.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let bytes: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) {
        b"{}"
    } else {
        bytes
    };
    serde_json::from_slice(bytes)
        .map_err(|e| ApiError::invalid(format!("invalid request body: {e}")))
}

/// Who is calling. There are no API keys yet, so every caller is
/// anonymous; the type exists so handlers and store calls carry it from
/// the start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    /// A caller without credentials.
    Anonymous,
}

/// The workspace every record of this server belongs to, until there are
/// several.
pub const DEFAULT_WORKSPACE: &str = "default";

/// The context of one request: who calls, in which workspace. Extracted in
/// every handler and passed down to what it calls.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestContext {
    /// The caller.
    pub caller: Caller,
    /// The workspace the request acts in.
    pub workspace: String,
}

impl Default for RequestContext {
    fn default() -> Self {
        RequestContext {
            caller: Caller::Anonymous,
            workspace: DEFAULT_WORKSPACE.to_string(),
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for RequestContext {
    type Rejection = ApiError;

    async fn from_request_parts(_parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        // One default workspace and no keys: every request gets the same
        // context. Authentication will read `Authorization` here.
        Ok(RequestContext::default())
    }
}

/// Path parameters whose rejection (an id that is not a uuid) is a JSON
/// 422 rather than axum's plain-text 400.
#[derive(Debug, Clone)]
pub struct Path<T>(pub T);

impl<S, T> FromRequestParts<S> for Path<T>
where
    S: Send + Sync,
    T: DeserializeOwned + Send,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(v)| Path(v))
            .map_err(|e| ApiError::invalid(format!("invalid path parameter: {}", e.body_text())))
    }
}

/// Query parameters whose rejection is a JSON 422.
#[derive(Debug, Clone)]
pub struct Query<T>(pub T);

impl<S, T> FromRequestParts<S> for Query<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Query(v)| Query(v))
            .map_err(|e| ApiError::invalid(format!("invalid query: {}", e.body_text())))
    }
}

//! Weft's components: upload raw `.wasm` bytes, validated against the
//! `weft:flow` world (compiled off the async threads by the runtime).

use crate::extract::Path;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;
use chrono::Utc;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use weft_core::ComponentRecord;

use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::models::component::ComponentOut;
use crate::{AppState, RequestContext};

/// The world every accepted component targets.
pub(crate) const WORLD: &str = "weft:flow/flow@0.1.0";

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(upload_component, list_components))
        .routes(routes!(read_component))
        .routes(routes!(read_component_wasm))
}

/// Reads a body of at most `limit` bytes, refusing a longer one with 413
/// before reading it when its length is declared.
async fn read_limited(headers: &HeaderMap, body: Body, limit: usize) -> ApiResult<Vec<u8>> {
    let too_large =
        || ApiError::PayloadTooLarge(format!("the component is larger than {limit} bytes"));
    if let Some(len) = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        && len > limit as u64
    {
        return Err(too_large());
    }
    match axum::body::to_bytes(body, limit).await {
        Ok(b) => Ok(b.to_vec()),
        Err(e) => {
            let length_limit = std::error::Error::source(&e)
                .is_some_and(|s| s.is::<http_body_util::LengthLimitError>());
            if length_limit || e.to_string().contains("length limit") {
                Err(too_large())
            } else {
                Err(ApiError::invalid(format!("could not read the body: {e}")))
            }
        }
    }
}

/// Uploads a component (the raw `.wasm` bytes as the body). It is
/// validated against the `weft:flow` world, compiled and described;
/// uploading the same bytes again is harmless (200 with the stored record).
#[utoipa::path(post, path = "/api/components", tag = "components",
    request_body(content = Vec<u8>, content_type = "application/wasm"),
    responses((status = 201, description = "Stored", body = ComponentOut),
              (status = 200, description = "Already stored", body = ComponentOut),
              (status = 413, description = "Over the size limit", body = ErrorBody),
              (status = 422, description = "Not a weft component", body = ErrorBody)))]
async fn upload_component(
    State(state): State<AppState>,
    _ctx: RequestContext,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<(StatusCode, axum::Json<ComponentOut>)> {
    let bytes = read_limited(&headers, body, state.config.max_component_bytes).await?;
    let size = bytes.len() as u64;
    let digest = weft_runtime::digest_of(&bytes);
    if let Some(existing) = state.store.read_component(&digest).await? {
        return Ok((StatusCode::OK, axum::Json(existing.into())));
    }
    let component = state
        .runtime
        .load(bytes.clone())
        .await
        .map_err(|e| ApiError::invalid(e.to_string()))?;
    let record = ComponentRecord {
        digest: component.digest().to_string(),
        size,
        world: WORLD.to_string(),
        info: serde_json::to_value(component.info())
            .map_err(|e| ApiError::Internal(e.to_string()))?,
        created: Utc::now(),
    };
    let created = state.store.put_component(&record, &bytes).await?;
    tracing::info!(digest = %record.digest, size, "component stored");
    let stored = if created {
        record
    } else {
        state.store.read_component(&digest).await?.unwrap_or(record)
    };
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, axum::Json(stored.into())))
}

/// Every stored component, newest first.
#[utoipa::path(get, path = "/api/components", tag = "components",
    responses((status = 200, body = Vec<ComponentOut>)))]
async fn list_components(
    State(state): State<AppState>,
    _ctx: RequestContext,
) -> ApiResult<axum::Json<Vec<ComponentOut>>> {
    let all = state.store.list_components().await?;
    Ok(axum::Json(all.into_iter().map(Into::into).collect()))
}

/// A stored component's metadata.
#[utoipa::path(get, path = "/api/components/{digest}", tag = "components",
    params(("digest" = String, Path, description = "SHA-256 of the component, hex")),
    responses((status = 200, body = ComponentOut), (status = 404, body = ErrorBody)))]
async fn read_component(
    State(state): State<AppState>,
    _ctx: RequestContext,
    Path(digest): Path<String>,
) -> ApiResult<axum::Json<ComponentOut>> {
    let c = state
        .store
        .read_component(&digest)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("component {digest}")))?;
    Ok(axum::Json(c.into()))
}

/// A stored component's bytes (`application/wasm`).
#[utoipa::path(get, path = "/api/components/{digest}/wasm", tag = "components",
    params(("digest" = String, Path, description = "SHA-256 of the component, hex")),
    responses((status = 200, content_type = "application/wasm", body = Vec<u8>),
              (status = 404, body = ErrorBody)))]
async fn read_component_wasm(
    State(state): State<AppState>,
    _ctx: RequestContext,
    Path(digest): Path<String>,
) -> ApiResult<impl IntoResponse> {
    let bytes = state
        .store
        .read_component_bytes(&digest)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("component {digest}")))?;
    Ok(([(header::CONTENT_TYPE, "application/wasm")], bytes))
}

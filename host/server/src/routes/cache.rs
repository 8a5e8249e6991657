//! The shared result cache: list, read, write (for workers), delete.

use crate::extract::{Path, Query};
use axum::extract::State;
use axum::http::StatusCode;
use chrono::Utc;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use weft_core::CacheEntry;

use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::Json;
use crate::models::cache::{CacheEntryOut, CacheEntryPut, CacheQuery};
use crate::{AppState, RequestContext};

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_cache))
        .routes(routes!(read_cache, put_cache, delete_cache))
}

/// Cache entries, newest first, valid or not.
#[utoipa::path(get, path = "/api/cache", tag = "cache",
    params(CacheQuery),
    responses((status = 200, body = Vec<CacheEntryOut>)))]
async fn list_cache(
    State(state): State<AppState>,
    _ctx: RequestContext,
    Query(q): Query<CacheQuery>,
) -> ApiResult<axum::Json<Vec<CacheEntryOut>>> {
    let entries = state
        .store
        .list_cache(q.limit.unwrap_or(200), q.offset.unwrap_or(0))
        .await?;
    Ok(axum::Json(entries.into_iter().map(Into::into).collect()))
}

/// One cache entry by key.
#[utoipa::path(get, path = "/api/cache/{key}", tag = "cache",
    params(("key" = String, Path, description = "The cache key")),
    responses((status = 200, body = CacheEntryOut), (status = 404, body = ErrorBody)))]
async fn read_cache(
    State(state): State<AppState>,
    _ctx: RequestContext,
    Path(key): Path<String>,
) -> ApiResult<axum::Json<CacheEntryOut>> {
    let entry = state
        .store
        .read_cache(&key)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("cache entry `{key}`")))?;
    Ok(axum::Json(entry.into()))
}

/// Stores (or replaces) a cache entry (for workers; 204).
#[utoipa::path(put, path = "/api/cache/{key}", tag = "cache",
    params(("key" = String, Path, description = "The cache key")),
    request_body = CacheEntryPut,
    responses((status = 204, description = "Stored"), (status = 422, body = ErrorBody)))]
async fn put_cache(
    State(state): State<AppState>,
    _ctx: RequestContext,
    Path(key): Path<String>,
    Json(body): Json<CacheEntryPut>,
) -> ApiResult<StatusCode> {
    let entry = CacheEntry {
        key,
        value: body.value,
        created: Utc::now(),
        expiration: body.expiration,
        task_run_id: body.task_run_id,
    };
    state.store.write_cache(&entry).await?;
    state.store.flush().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Deletes a cache entry (204; 404 if there is none).
#[utoipa::path(delete, path = "/api/cache/{key}", tag = "cache",
    params(("key" = String, Path, description = "The cache key")),
    responses((status = 204, description = "Deleted"), (status = 404, body = ErrorBody)))]
async fn delete_cache(
    State(state): State<AppState>,
    _ctx: RequestContext,
    Path(key): Path<String>,
) -> ApiResult<StatusCode> {
    if state.store.delete_cache(&key).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found(format!("cache entry `{key}`")))
    }
}

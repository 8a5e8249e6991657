//! Health, readiness, version and the other small calls Prefect's client
//! makes before anything else.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde_json::{Value, json};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{ApiResult, ErrorBody};
use crate::{AppState, PREFECT_COMPATIBLE_VERSION, RequestContext};

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(health))
        .routes(routes!(ready))
        .routes(routes!(version))
        .routes(routes!(csrf_token))
        .routes(routes!(storage))
        .routes(routes!(openapi_json))
}

/// Whether the server is up: `true`.
#[utoipa::path(get, path = "/api/health", tag = "admin",
    responses((status = 200, description = "The server is up", body = bool)))]
async fn health(_ctx: RequestContext) -> axum::Json<bool> {
    axum::Json(true)
}

/// Whether the server can serve requests: its store answers.
#[utoipa::path(get, path = "/api/ready", tag = "admin",
    responses((status = 200, description = "Ready", body = Object),
              (status = 503, description = "The store does not answer", body = ErrorBody)))]
async fn ready(
    State(state): State<AppState>,
    _ctx: RequestContext,
) -> ApiResult<axum::Json<Value>> {
    state.store.list_secret_names().await?;
    Ok(axum::Json(json!({"message": "OK"})))
}

/// The Prefect version this API is compatible with (a JSON string).
#[utoipa::path(get, path = "/api/admin/version", tag = "admin",
    responses((status = 200, description = "The version", body = String)))]
async fn version(_ctx: RequestContext) -> axum::Json<&'static str> {
    axum::Json(PREFECT_COMPATIBLE_VERSION)
}

/// CSRF protection is off: always 422, which Prefect's client expects.
#[utoipa::path(get, path = "/api/csrf-token", tag = "admin",
    responses((status = 422, description = "CSRF protection is disabled", body = ErrorBody)))]
async fn csrf_token(_ctx: RequestContext) -> impl IntoResponse {
    (
        StatusCode::UNPROCESSABLE_ENTITY,
        axum::Json(json!({"detail": "CSRF protection is disabled."})),
    )
}

/// The default result storage: none (results live in the store).
#[utoipa::path(get, path = "/api/admin/storage", tag = "admin",
    responses((status = 200, description = "Storage settings", body = Object)))]
async fn storage(_ctx: RequestContext) -> axum::Json<Value> {
    axum::Json(json!({"default_result_storage_block_id": null}))
}

/// This API's OpenAPI document.
#[utoipa::path(get, path = "/api/openapi.json", tag = "admin",
    responses((status = 200, description = "The OpenAPI document", body = Object)))]
async fn openapi_json(_ctx: RequestContext) -> axum::Json<utoipa::openapi::OpenApi> {
    axum::Json(crate::openapi().clone())
}

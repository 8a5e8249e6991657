//! Secrets: write, list names, delete. Values are never returned here.

use crate::extract::Path;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::Json;
use crate::{AppState, RequestContext};

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(put_secret, delete_secret))
        .routes(routes!(list_secrets))
}

/// The body of `PUT /api/secrets/{name}`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SecretPut {
    /// The secret's value (required).
    pub value: String,
}

fn check_name(name: &str) -> ApiResult<()> {
    if name.is_empty()
        || name.len() > 200
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        return Err(ApiError::invalid(format!(
            "invalid secret name `{name}`: use 1-200 letters, digits, `-`, `_` or `.`"
        )));
    }
    Ok(())
}

/// Stores (or replaces) a secret, encrypted at rest (204).
#[utoipa::path(put, path = "/api/secrets/{name}", tag = "secrets",
    params(("name" = String, Path, description = "The secret's name")),
    request_body = SecretPut,
    responses((status = 204, description = "Stored"), (status = 422, body = ErrorBody)))]
async fn put_secret(
    State(state): State<AppState>,
    _ctx: RequestContext,
    Path(name): Path<String>,
    Json(body): Json<SecretPut>,
) -> ApiResult<StatusCode> {
    check_name(&name)?;
    state.store.set_secret(&name, &body.value).await?;
    tracing::info!(secret = %name, "secret stored");
    Ok(StatusCode::NO_CONTENT)
}

/// The names of all secrets, sorted (never their values).
#[utoipa::path(get, path = "/api/secrets/", tag = "secrets",
    responses((status = 200, body = Vec<String>)))]
async fn list_secrets(
    State(state): State<AppState>,
    _ctx: RequestContext,
) -> ApiResult<axum::Json<Vec<String>>> {
    Ok(axum::Json(state.store.list_secret_names().await?))
}

/// Deletes a secret (204; 404 if there is none of that name).
#[utoipa::path(delete, path = "/api/secrets/{name}", tag = "secrets",
    params(("name" = String, Path, description = "The secret's name")),
    responses((status = 204, description = "Deleted"), (status = 404, body = ErrorBody)))]
async fn delete_secret(
    State(state): State<AppState>,
    _ctx: RequestContext,
    Path(name): Path<String>,
) -> ApiResult<StatusCode> {
    if state.store.delete_secret(&name).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found(format!("secret `{name}`")))
    }
}

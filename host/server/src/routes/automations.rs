//! Automations (Prefect's `/api/automations/`): create, read, replace,
//! enable/disable, delete, filter, and `related-to/{resource_id}`.

use axum::extract::State;
use axum::http::StatusCode;
use chrono::Utc;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;
use weft_core::event::RESOURCE_ID;
use weft_store::{Definition, StoreError};

use crate::automations::{KIND, prepare, related_resources};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{Json, Path};
use crate::models::automation::{AutomationOut, AutomationPatch, AutomationSpec};
use crate::models::concurrency::LimitFilterBody;
use crate::models::filter::paginate;
use crate::{AppState, RequestContext};

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_automation))
        .routes(routes!(
            read_automation,
            replace_automation,
            patch_automation,
            delete_automation
        ))
        .routes(routes!(filter_automations))
        .routes(routes!(related_automations))
}

fn out(d: Definition) -> ApiResult<AutomationOut> {
    let spec: AutomationSpec = serde_json::from_value(d.body)
        .map_err(|e| ApiError::Internal(format!("stored automation {}: {e}", d.id)))?;
    Ok(AutomationOut {
        id: d.id,
        created: d.created,
        updated: d.updated,
        spec,
    })
}

async fn load(state: &AppState, id: Uuid) -> ApiResult<Definition> {
    state
        .store
        .read_definition(KIND, id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("automation {id}")))
}

async fn save(state: &AppState, d: &Definition, name: &str) -> ApiResult<()> {
    state
        .store
        .put_definition(KIND, d)
        .await
        .map_err(|e| match e {
            StoreError::Conflict(_) => {
                ApiError::Conflict(format!("an automation named `{name}` exists"))
            }
            other => other.into(),
        })?;
    state.automations.reload(state).await
}

fn body_of(spec: &AutomationSpec) -> ApiResult<serde_json::Value> {
    serde_json::to_value(spec).map_err(|e| ApiError::Internal(e.to_string()))
}

/// Creates an automation (201; 409 when the name is taken; 422 for a
/// trigger or action weft cannot run).
#[utoipa::path(post, path = "/api/automations/", tag = "automations",
    request_body = AutomationSpec,
    responses((status = 201, body = AutomationOut), (status = 409, body = ErrorBody),
              (status = 422, body = ErrorBody)))]
async fn create_automation(
    State(state): State<AppState>,
    _ctx: RequestContext,
    Json(mut spec): Json<AutomationSpec>,
) -> ApiResult<(StatusCode, axum::Json<AutomationOut>)> {
    prepare(&state, &mut spec).await?;
    let now = Utc::now();
    let d = Definition {
        id: Uuid::now_v7(),
        name: spec.name.clone(),
        body: body_of(&spec)?,
        created: now,
        updated: now,
    };
    save(&state, &d, &spec.name).await?;
    Ok((StatusCode::CREATED, axum::Json(out(d)?)))
}

/// An automation by id.
#[utoipa::path(get, path = "/api/automations/{id}", tag = "automations",
    params(("id" = Uuid, Path, description = "The automation's id")),
    responses((status = 200, body = AutomationOut), (status = 404, body = ErrorBody)))]
async fn read_automation(
    State(state): State<AppState>,
    _ctx: RequestContext,
    Path(id): Path<Uuid>,
) -> ApiResult<axum::Json<AutomationOut>> {
    Ok(axum::Json(out(load(&state, id).await?)?))
}

/// Replaces an automation (204).
#[utoipa::path(put, path = "/api/automations/{id}", tag = "automations",
    params(("id" = Uuid, Path, description = "The automation's id")),
    request_body = AutomationSpec,
    responses((status = 204, description = "Replaced"), (status = 404, body = ErrorBody),
              (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn replace_automation(
    State(state): State<AppState>,
    _ctx: RequestContext,
    Path(id): Path<Uuid>,
    Json(mut spec): Json<AutomationSpec>,
) -> ApiResult<StatusCode> {
    let mut d = load(&state, id).await?;
    prepare(&state, &mut spec).await?;
    d.name = spec.name.clone();
    d.body = body_of(&spec)?;
    d.updated = Utc::now();
    save(&state, &d, &spec.name).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Enables or disables an automation (204).
#[utoipa::path(patch, path = "/api/automations/{id}", tag = "automations",
    params(("id" = Uuid, Path, description = "The automation's id")),
    request_body = AutomationPatch,
    responses((status = 204, description = "Updated"), (status = 404, body = ErrorBody)))]
async fn patch_automation(
    State(state): State<AppState>,
    _ctx: RequestContext,
    Path(id): Path<Uuid>,
    Json(patch): Json<AutomationPatch>,
) -> ApiResult<StatusCode> {
    let mut d = load(&state, id).await?;
    let mut spec = out(d.clone())?.spec;
    if let Some(enabled) = patch.enabled {
        spec.enabled = enabled;
    }
    d.body = body_of(&spec)?;
    d.updated = Utc::now();
    save(&state, &d, &spec.name).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Deletes an automation (204).
#[utoipa::path(delete, path = "/api/automations/{id}", tag = "automations",
    params(("id" = Uuid, Path, description = "The automation's id")),
    responses((status = 204, description = "Deleted"), (status = 404, body = ErrorBody)))]
async fn delete_automation(
    State(state): State<AppState>,
    _ctx: RequestContext,
    Path(id): Path<Uuid>,
) -> ApiResult<StatusCode> {
    if !state.store.delete_definition(KIND, id).await? {
        return Err(ApiError::not_found(format!("automation {id}")));
    }
    state.automations.reload(&state).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Automations, by name.
#[utoipa::path(post, path = "/api/automations/filter", tag = "automations",
    request_body = LimitFilterBody,
    responses((status = 200, body = Vec<AutomationOut>), (status = 422, body = ErrorBody)))]
async fn filter_automations(
    State(state): State<AppState>,
    _ctx: RequestContext,
    Json(body): Json<LimitFilterBody>,
) -> ApiResult<axum::Json<Vec<AutomationOut>>> {
    let defs = state.store.list_definitions(KIND).await?;
    let all = defs.into_iter().map(out).collect::<ApiResult<Vec<_>>>()?;
    Ok(axum::Json(paginate(all, body.limit, body.offset)))
}

/// The automations whose actions name a resource
/// (`prefect.deployment.<id>`), as `prefect deployment inspect` asks.
#[utoipa::path(get, path = "/api/automations/related-to/{resource_id}", tag = "automations",
    params(("resource_id" = String, Path, description = "A prefect.resource.id")),
    responses((status = 200, body = Vec<AutomationOut>)))]
async fn related_automations(
    State(state): State<AppState>,
    _ctx: RequestContext,
    Path(resource_id): Path<String>,
) -> ApiResult<axum::Json<Vec<AutomationOut>>> {
    let defs = state.store.list_definitions(KIND).await?;
    let mut related = Vec::new();
    for d in defs {
        let a = out(d)?;
        if related_resources(&a.spec)
            .iter()
            .any(|r| r.get(RESOURCE_ID).is_some_and(|id| *id == resource_id))
        {
            related.push(a);
        }
    }
    Ok(axum::Json(related))
}

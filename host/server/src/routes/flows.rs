//! Flows: read, read by name, filter.

use crate::extract::Path;
use axum::extract::State;
use axum::http::StatusCode;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::Json;
use crate::models::filter::{FlowFilterBody, paginate};
use crate::models::flow::{FlowCreate, FlowOut};
use crate::{AppState, RequestContext};

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_flow))
        .routes(routes!(read_flow))
        .routes(routes!(read_flow_by_name))
        .routes(routes!(filter_flows))
}

/// Creates a flow, or returns the one of that name (201 new, 200 existing).
#[utoipa::path(post, path = "/api/flows/", tag = "flows",
    request_body = FlowCreate,
    responses((status = 201, description = "Created", body = FlowOut),
              (status = 200, description = "Already existed", body = FlowOut),
              (status = 422, body = ErrorBody)))]
async fn create_flow(
    State(state): State<AppState>,
    _ctx: RequestContext,
    Json(body): Json<FlowCreate>,
) -> ApiResult<(StatusCode, axum::Json<FlowOut>)> {
    if body.name.trim().is_empty() {
        return Err(ApiError::invalid("`name` must not be empty"));
    }
    let (flow, created) = state.store.upsert_flow(&body.name).await?;
    state.catalog.remember_flow(&flow);
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, axum::Json(flow.into())))
}

/// A flow by id.
#[utoipa::path(get, path = "/api/flows/{id}", tag = "flows",
    params(("id" = Uuid, Path, description = "The flow's id")),
    responses((status = 200, body = FlowOut), (status = 404, body = ErrorBody)))]
async fn read_flow(
    State(state): State<AppState>,
    _ctx: RequestContext,
    Path(id): Path<Uuid>,
) -> ApiResult<axum::Json<FlowOut>> {
    let flow = state
        .store
        .read_flow(id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("flow {id}")))?;
    Ok(axum::Json(flow.into()))
}

/// A flow by name.
#[utoipa::path(get, path = "/api/flows/name/{name}", tag = "flows",
    params(("name" = String, Path, description = "The flow's name")),
    responses((status = 200, body = FlowOut), (status = 404, body = ErrorBody)))]
async fn read_flow_by_name(
    State(state): State<AppState>,
    _ctx: RequestContext,
    Path(name): Path<String>,
) -> ApiResult<axum::Json<FlowOut>> {
    let flow = state
        .store
        .read_flow_by_name(&name)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("flow `{name}`")))?;
    Ok(axum::Json(flow.into()))
}

/// Flows matching a Prefect filter body, by name.
#[utoipa::path(post, path = "/api/flows/filter", tag = "flows",
    request_body = FlowFilterBody,
    responses((status = 200, body = Vec<FlowOut>), (status = 422, body = ErrorBody)))]
async fn filter_flows(
    State(state): State<AppState>,
    _ctx: RequestContext,
    Json(body): Json<FlowFilterBody>,
) -> ApiResult<axum::Json<Vec<FlowOut>>> {
    let mut flows = state.store.list_flows().await?;
    if let Some(f) = &body.flows {
        flows.retain(|flow| {
            f.id.as_ref().is_none_or(|i| i.matches(Some(flow.id)))
                && f.name.as_ref().is_none_or(|n| n.matches(&flow.name))
                && f.tags.as_ref().is_none_or(|t| t.matches(&[]))
        });
    }
    match body.sort.as_deref() {
        None | Some("NAME_ASC") => flows.sort_by(|a, b| a.name.cmp(&b.name)),
        Some("NAME_DESC") => flows.sort_by(|a, b| b.name.cmp(&a.name)),
        Some("CREATED_DESC") => flows.sort_by_key(|x| std::cmp::Reverse(x.created)),
        Some(other) => return Err(ApiError::invalid(format!("unknown flow sort `{other}`"))),
    }
    let flows = paginate(flows, body.limit, body.offset);
    Ok(axum::Json(flows.into_iter().map(FlowOut::from).collect()))
}

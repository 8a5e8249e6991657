//! Deployments: create (upsert by flow and name), read, update, delete,
//! filter, count, read by name, and create a flow run from one.

use crate::extract::Path;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::Utc;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;
use weft_core::{Deployment, FlowRun, State as CoreState};

use super::Linker;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::Json;
use crate::models::deployment::{
    DeploymentCreate, DeploymentFilterBody, DeploymentOut, DeploymentUpdate,
};
use crate::models::filter::paginate;
use crate::models::flow_run::{DeploymentFlowRunCreate, FlowRunOut};
use crate::{AppState, RequestContext};

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_deployment))
        .routes(routes!(
            read_deployment,
            update_deployment,
            delete_deployment
        ))
        .routes(routes!(filter_deployments))
        .routes(routes!(count_deployments))
        .routes(routes!(read_deployment_by_name))
        .routes(routes!(create_flow_run_from_deployment))
}

async fn out(linker: &mut Linker<'_>, d: Deployment) -> ApiResult<DeploymentOut> {
    let flow_id = linker.flow_id(&d.flow_name).await?;
    Ok(DeploymentOut::new(d, flow_id))
}

pub(crate) async fn load(state: &AppState, id: Uuid) -> ApiResult<Deployment> {
    state
        .store
        .read_deployment(id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("deployment {id}")))
}

fn check_parameters(p: &serde_json::Value) -> ApiResult<()> {
    if p.is_object() {
        Ok(())
    } else {
        Err(ApiError::invalid("`parameters` must be a JSON object"))
    }
}

/// Creates a deployment, or updates the one of the same flow and name
/// (201 new, 200 updated).
#[utoipa::path(post, path = "/api/deployments/", tag = "deployments",
    request_body = DeploymentCreate,
    responses((status = 201, description = "Created", body = DeploymentOut),
              (status = 200, description = "Updated", body = DeploymentOut),
              (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create_deployment(
    State(state): State<AppState>,
    ctx: RequestContext,
    Json(body): Json<DeploymentCreate>,
) -> ApiResult<(StatusCode, axum::Json<DeploymentOut>)> {
    if body.name.trim().is_empty() {
        return Err(ApiError::invalid("`name` must not be empty"));
    }
    let flow = state
        .store
        .read_flow(body.flow_id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("flow {}", body.flow_id)))?;
    let digest = body.component_digest.unwrap_or_default();
    if !digest.is_empty() && state.store.read_component(&digest).await?.is_none() {
        return Err(ApiError::invalid(format!(
            "component {digest} is not stored: upload it with POST /api/components first"
        )));
    }
    let old = state
        .store
        .read_deployment_by_name(&flow.name, &body.name)
        .await?;
    let mut d = Deployment::new(body.name, flow.name, digest);
    d.description = body.description;
    if let Some(p) = body.parameters {
        check_parameters(&p)?;
        d.parameters = p;
    }
    d.tags = body.tags;
    d.work_pool_name = body.work_pool_name;
    d.schedules = super::schedules::schedules_from(body.schedules, old.as_ref())?;
    d.paused = body.paused;
    d.concurrency_limit = body.concurrency_limit;
    d.allowed_secrets = body.allowed_secrets;
    if let Some(l) = body.limits {
        l.network
            .validate()
            .map_err(|e| ApiError::invalid(e.to_string()))?;
        d.limits = l;
    }
    let stored = state.store.create_deployment(&d).await?;
    state.catalog.forget_deployment(stored.id);
    let status = if stored.id == d.id {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    tracing::info!(deployment = %stored.id, name = %stored.name, flow = %stored.flow_name, "deployment stored");
    super::schedules::after_change(&state, old.as_ref(), &stored).await?;
    let out = out(&mut Linker::new(&state, &ctx), stored).await?;
    Ok((status, axum::Json(out)))
}

/// A deployment by id.
#[utoipa::path(get, path = "/api/deployments/{id}", tag = "deployments",
    params(("id" = Uuid, Path, description = "The deployment's id")),
    responses((status = 200, body = DeploymentOut), (status = 404, body = ErrorBody)))]
async fn read_deployment(
    State(state): State<AppState>,
    ctx: RequestContext,
    Path(id): Path<Uuid>,
) -> ApiResult<axum::Json<DeploymentOut>> {
    let d = load(&state, id).await?;
    Ok(axum::Json(out(&mut Linker::new(&state, &ctx), d).await?))
}

/// Changes a deployment's fields (204).
#[utoipa::path(patch, path = "/api/deployments/{id}", tag = "deployments",
    params(("id" = Uuid, Path, description = "The deployment's id")),
    request_body = DeploymentUpdate,
    responses((status = 204, description = "Updated"), (status = 404, body = ErrorBody),
              (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn update_deployment(
    State(state): State<AppState>,
    _ctx: RequestContext,
    Path(id): Path<Uuid>,
    Json(body): Json<DeploymentUpdate>,
) -> ApiResult<StatusCode> {
    let old = load(&state, id).await?;
    let mut d = old.clone();
    if let Some(v) = body.description {
        d.description = Some(v);
    }
    if let Some(p) = body.parameters {
        check_parameters(&p)?;
        d.parameters = p;
    }
    if let Some(v) = body.tags {
        d.tags = v;
    }
    if let Some(v) = body.work_pool_name {
        d.work_pool_name = Some(v);
    }
    if let Some(v) = body.schedules {
        d.schedules = super::schedules::schedules_from(v, Some(&old))?;
    }
    if let Some(v) = body.paused {
        d.paused = v;
    }
    if let Some(v) = body.concurrency_limit {
        d.concurrency_limit = v;
    }
    if let Some(v) = body.component_digest {
        if state.store.read_component(&v).await?.is_none() {
            return Err(ApiError::invalid(format!("component {v} is not stored")));
        }
        d.component_digest = v;
    }
    if let Some(v) = body.allowed_secrets {
        d.allowed_secrets = v;
    }
    if let Some(v) = body.limits {
        v.network
            .validate()
            .map_err(|e| ApiError::invalid(e.to_string()))?;
        d.limits = v;
    }
    d.updated = Utc::now();
    let updated = state.store.update_deployment(&d).await?;
    state.catalog.forget_deployment(d.id);
    if !updated {
        return Err(ApiError::not_found(format!("deployment {id}")));
    }
    super::schedules::after_change(&state, Some(&old), &d).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Deletes a deployment (204).
#[utoipa::path(delete, path = "/api/deployments/{id}", tag = "deployments",
    params(("id" = Uuid, Path, description = "The deployment's id")),
    responses((status = 204, description = "Deleted"), (status = 404, body = ErrorBody)))]
async fn delete_deployment(
    State(state): State<AppState>,
    _ctx: RequestContext,
    Path(id): Path<Uuid>,
) -> ApiResult<StatusCode> {
    let deleted = state.store.delete_deployment(id).await?;
    state.catalog.forget_deployment(id);
    if deleted {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found(format!("deployment {id}")))
    }
}

async fn query(
    state: &AppState,
    body: &DeploymentFilterBody,
    paginate_here: bool,
) -> ApiResult<Vec<Deployment>> {
    let mut filter = weft_store::DeploymentFilter::default();
    if let Some(d) = &body.deployments {
        filter.ids = d.id.as_ref().and_then(|f| f.any_.clone());
        filter.names = d.name.as_ref().and_then(|f| f.any_.clone());
        filter.tags_all = d.tags.as_ref().and_then(|f| f.all_.clone());
    }
    if let Some(w) = &body.work_pools {
        filter.work_pool_names = w.name.as_ref().and_then(|f| f.any_.clone());
    }
    if let Some(f) = &body.flows {
        let flows = state.store.list_flows().await?;
        filter.flow_names = Some(
            flows
                .into_iter()
                .filter(|fl| {
                    f.id.as_ref().is_none_or(|i| i.matches(Some(fl.id)))
                        && f.name.as_ref().is_none_or(|n| n.matches(&fl.name))
                })
                .map(|fl| fl.name)
                .collect(),
        );
    }
    let mut all = state.store.list_deployments(&filter).await?;
    all.retain(|dep| {
        body.deployments.as_ref().is_none_or(|d| {
            d.id.as_ref().is_none_or(|f| f.matches(Some(dep.id)))
                && d.name.as_ref().is_none_or(|f| f.matches(&dep.name))
                && d.tags.as_ref().is_none_or(|f| f.matches(&dep.tags))
                && d.work_queue_name
                    .as_ref()
                    .is_none_or(|f| dep.work_pool_name.as_deref().is_some_and(|p| f.matches(p)))
        }) && body.work_pools.as_ref().is_none_or(|w| {
            w.name
                .as_ref()
                .is_none_or(|f| dep.work_pool_name.as_deref().is_some_and(|p| f.matches(p)))
        })
    });
    match body.sort.as_deref() {
        None | Some("NAME_ASC") => {}
        Some("NAME_DESC") => all.reverse(),
        Some("CREATED_DESC") => all.sort_by_key(|x| std::cmp::Reverse(x.created)),
        Some("UPDATED_DESC") => all.sort_by_key(|x| std::cmp::Reverse(x.updated)),
        Some(other) => {
            return Err(ApiError::invalid(format!(
                "unknown deployment sort `{other}`"
            )));
        }
    }
    Ok(if paginate_here {
        paginate(all, body.limit, body.offset)
    } else {
        all
    })
}

/// Deployments matching a Prefect filter body (as `prefect deployment ls`
/// sends it).
#[utoipa::path(post, path = "/api/deployments/filter", tag = "deployments",
    request_body = DeploymentFilterBody,
    responses((status = 200, body = Vec<DeploymentOut>), (status = 422, body = ErrorBody)))]
async fn filter_deployments(
    State(state): State<AppState>,
    ctx: RequestContext,
    Json(body): Json<DeploymentFilterBody>,
) -> ApiResult<axum::Json<Vec<DeploymentOut>>> {
    let all = query(&state, &body, true).await?;
    let mut linker = Linker::new(&state, &ctx);
    let mut outs = Vec::with_capacity(all.len());
    for d in all {
        outs.push(out(&mut linker, d).await?);
    }
    Ok(axum::Json(outs))
}

/// How many deployments match a Prefect filter body.
#[utoipa::path(post, path = "/api/deployments/count", tag = "deployments",
    request_body = DeploymentFilterBody,
    responses((status = 200, body = u64), (status = 422, body = ErrorBody)))]
async fn count_deployments(
    State(state): State<AppState>,
    _ctx: RequestContext,
    Json(body): Json<DeploymentFilterBody>,
) -> ApiResult<axum::Json<usize>> {
    Ok(axum::Json(query(&state, &body, false).await?.len()))
}

/// A deployment by its flow's name and its own.
#[utoipa::path(get, path = "/api/deployments/name/{flow}/{deployment}", tag = "deployments",
    params(("flow" = String, Path, description = "The flow's name"),
           ("deployment" = String, Path, description = "The deployment's name")),
    responses((status = 200, body = DeploymentOut), (status = 404, body = ErrorBody)))]
async fn read_deployment_by_name(
    State(state): State<AppState>,
    ctx: RequestContext,
    Path((flow, deployment)): Path<(String, String)>,
) -> ApiResult<axum::Json<DeploymentOut>> {
    let d = state
        .store
        .read_deployment_by_name(&flow, &deployment)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("deployment `{flow}/{deployment}`")))?;
    Ok(axum::Json(out(&mut Linker::new(&state, &ctx), d).await?))
}

/// Creates a flow run of a deployment: the deployment's parameters with
/// the body's merged over them, its tags plus the body's, its work pool,
/// and a SCHEDULED state due now unless the body gives one (201).
#[utoipa::path(post, path = "/api/deployments/{id}/create_flow_run", tag = "deployments",
    params(("id" = Uuid, Path, description = "The deployment's id")),
    request_body = DeploymentFlowRunCreate,
    responses((status = 201, body = FlowRunOut), (status = 404, body = ErrorBody),
              (status = 422, body = ErrorBody)))]
async fn create_flow_run_from_deployment(
    State(state): State<AppState>,
    ctx: RequestContext,
    Path(id): Path<Uuid>,
    Json(body): Json<DeploymentFlowRunCreate>,
) -> ApiResult<(StatusCode, axum::Json<FlowRunOut>)> {
    let d = state
        .catalog
        .deployment_for_runs(state.store.as_ref(), id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("deployment {id}")))?;
    let initial = body.state.map(|s| s.into_state()).transpose()?;
    let run = create_run(
        &state,
        &d,
        body.parameters,
        body.name,
        body.tags.unwrap_or_default(),
        initial,
    )
    .await?;
    let out = Linker::new(&state, &ctx).flow_run(run).await?;
    Ok((StatusCode::CREATED, axum::Json(out)))
}

/// Creates a run of `d`: its parameters with `parameters` (a JSON object)
/// merged over them, its tags plus `tags`, its work pool, and `initial`
/// (default: SCHEDULED due now). Emits its event. Used by the route and by
/// automations.
pub(crate) async fn create_run(
    state: &AppState,
    d: &Deployment,
    parameters: Option<serde_json::Value>,
    name: Option<String>,
    tags: Vec<String>,
    initial: Option<CoreState>,
) -> ApiResult<FlowRun> {
    let mut merged = d.parameters.clone();
    if let Some(p) = parameters {
        let serde_json::Value::Object(extra) = p else {
            return Err(ApiError::invalid("`parameters` must be a JSON object"));
        };
        if let serde_json::Value::Object(base) = &mut merged {
            base.extend(extra);
        } else {
            merged = serde_json::Value::Object(extra);
        }
    }
    let mut run = FlowRun::new(d.flow_name.clone(), d.component_digest.clone(), merged);
    if let Some(name) = name.filter(|n| !n.is_empty()) {
        run.name = name;
    }
    run.tags = d.tags.clone();
    for t in tags {
        if !run.tags.contains(&t) {
            run.tags.push(t);
        }
    }
    run.state = initial.unwrap_or_else(|| CoreState::scheduled(Utc::now()));
    run.deployment_id = Some(d.id);
    run.deployment_name = Some(d.name.clone());
    run.work_pool_name = d.work_pool_name.clone();
    run.expected_start_time = Some(run.state.scheduled_time.unwrap_or(run.created));
    state.store.create_flow_run(&run).await?;
    state.store.flush().await?;
    state.events.flow_run_entered(&run, &run.state);
    tracing::info!(flow_run = %run.id, deployment = %d.id, "flow run created from deployment");
    Ok(run)
}

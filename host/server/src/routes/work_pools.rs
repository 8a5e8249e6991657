//! Work pools: create, read, update, delete, filter; the scheduled runs
//! of a pool (Prefect's worker poll), weft's atomic claim, and worker
//! heartbeats.

use crate::extract::Path;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use weft_core::WorkPool;

use super::Linker;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::Json;
use crate::models::filter::paginate;
use crate::models::work_pool::{
    ClaimBody, HeartbeatBody, ScheduledRunsQuery, WorkPoolCreate, WorkPoolFilterBody, WorkPoolOut,
    WorkPoolUpdate, WorkerFilterBody, WorkerFlowRun, WorkerOut, default_queue_id,
};
use crate::{AppState, RequestContext};

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_work_pool))
        .routes(routes!(read_work_pool, update_work_pool, delete_work_pool))
        .routes(routes!(filter_work_pools))
        .routes(routes!(get_scheduled_flow_runs))
        .routes(routes!(claim_flow_runs))
        .routes(routes!(worker_heartbeat))
        .routes(routes!(filter_workers))
        .routes(routes!(delete_worker))
}

/// The pool as returned, its status from its workers' heartbeats.
async fn pool_out(state: &AppState, pool: WorkPool) -> ApiResult<WorkPoolOut> {
    let now = Utc::now();
    let online = state
        .store
        .list_workers(&pool.name, Some(20), 0)
        .await?
        .iter()
        .any(|w| w.is_online(now));
    Ok(WorkPoolOut::new(pool, online))
}

async fn load(state: &AppState, name: &str) -> ApiResult<WorkPool> {
    state
        .store
        .read_work_pool(name)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("work pool `{name}`")))
}

/// Creates a work pool (201; 409 if one of that name exists).
#[utoipa::path(post, path = "/api/work_pools/", tag = "work_pools",
    request_body = WorkPoolCreate,
    responses((status = 201, body = WorkPoolOut), (status = 409, body = ErrorBody),
              (status = 422, body = ErrorBody)))]
async fn create_work_pool(
    State(state): State<AppState>,
    _ctx: RequestContext,
    Json(body): Json<WorkPoolCreate>,
) -> ApiResult<(StatusCode, axum::Json<WorkPoolOut>)> {
    if body.name.trim().is_empty() || body.name.contains('/') {
        return Err(ApiError::invalid("`name` must not be empty or contain `/`"));
    }
    let mut pool = WorkPool::new(body.name);
    if let Some(t) = body.pool_type {
        pool.pool_type = t;
    }
    pool.description = body.description;
    pool.is_paused = body.is_paused;
    pool.concurrency_limit = body.concurrency_limit;
    let stored = state
        .store
        .create_work_pool(&pool)
        .await
        .map_err(|e| match e {
            weft_store::StoreError::Conflict(_) => {
                ApiError::Conflict(format!("a work pool named `{}` already exists", pool.name))
            }
            other => other.into(),
        })?;
    state.catalog.forget_work_pool(&stored.name);
    tracing::info!(pool = %stored.name, "work pool created");
    Ok((
        StatusCode::CREATED,
        axum::Json(pool_out(&state, stored).await?),
    ))
}

/// A work pool by name.
#[utoipa::path(get, path = "/api/work_pools/{name}", tag = "work_pools",
    params(("name" = String, Path, description = "The pool's name")),
    responses((status = 200, body = WorkPoolOut), (status = 404, body = ErrorBody)))]
async fn read_work_pool(
    State(state): State<AppState>,
    _ctx: RequestContext,
    Path(name): Path<String>,
) -> ApiResult<axum::Json<WorkPoolOut>> {
    let pool = load(&state, &name).await?;
    Ok(axum::Json(pool_out(&state, pool).await?))
}

/// Changes a work pool's fields (204).
#[utoipa::path(patch, path = "/api/work_pools/{name}", tag = "work_pools",
    params(("name" = String, Path, description = "The pool's name")),
    request_body = WorkPoolUpdate,
    responses((status = 204, description = "Updated"), (status = 404, body = ErrorBody),
              (status = 422, body = ErrorBody)))]
async fn update_work_pool(
    State(state): State<AppState>,
    _ctx: RequestContext,
    Path(name): Path<String>,
    Json(body): Json<WorkPoolUpdate>,
) -> ApiResult<StatusCode> {
    let mut pool = load(&state, &name).await?;
    if let Some(v) = body.description {
        pool.description = Some(v);
    }
    if let Some(v) = body.is_paused {
        pool.is_paused = v;
    }
    if let Some(v) = body.concurrency_limit {
        pool.concurrency_limit = v;
    }
    pool.updated = Utc::now();
    if !state.store.update_work_pool(&pool).await? {
        return Err(ApiError::not_found(format!("work pool `{name}`")));
    }
    Ok(StatusCode::NO_CONTENT)
}

/// Deletes a work pool (204).
#[utoipa::path(delete, path = "/api/work_pools/{name}", tag = "work_pools",
    params(("name" = String, Path, description = "The pool's name")),
    responses((status = 204, description = "Deleted"), (status = 404, body = ErrorBody)))]
async fn delete_work_pool(
    State(state): State<AppState>,
    _ctx: RequestContext,
    Path(name): Path<String>,
) -> ApiResult<StatusCode> {
    if state.store.delete_work_pool(&name).await? {
        state.catalog.forget_work_pool(&name);
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found(format!("work pool `{name}`")))
    }
}

/// Work pools matching a Prefect filter body.
#[utoipa::path(post, path = "/api/work_pools/filter", tag = "work_pools",
    request_body = WorkPoolFilterBody,
    responses((status = 200, body = Vec<WorkPoolOut>), (status = 422, body = ErrorBody)))]
async fn filter_work_pools(
    State(state): State<AppState>,
    _ctx: RequestContext,
    Json(body): Json<WorkPoolFilterBody>,
) -> ApiResult<axum::Json<Vec<WorkPoolOut>>> {
    let mut filter = weft_store::WorkPoolFilter::default();
    if let Some(w) = &body.work_pools {
        filter.names = w.name.as_ref().and_then(|f| f.any_.clone());
    }
    let mut pools = state.store.list_work_pools(&filter).await?;
    if let Some(w) = &body.work_pools {
        pools.retain(|p| {
            w.id.as_ref().is_none_or(|f| f.matches(Some(p.id)))
                && w.name.as_ref().is_none_or(|f| f.matches(&p.name))
                && w.pool_type.as_ref().is_none_or(|f| f.matches(&p.pool_type))
        });
    }
    let mut out = Vec::new();
    for pool in paginate(pools, body.limit, body.offset) {
        out.push(pool_out(&state, pool).await?);
    }
    Ok(axum::Json(out))
}

async fn worker_runs(
    state: &AppState,
    ctx: &RequestContext,
    pool: &WorkPool,
    runs: Vec<weft_core::FlowRun>,
) -> ApiResult<Vec<WorkerFlowRun>> {
    let runs = Linker::new(state, ctx).flow_runs(runs).await?;
    Ok(runs
        .into_iter()
        .map(|flow_run| WorkerFlowRun {
            work_pool_id: pool.id,
            work_queue_id: Some(default_queue_id(pool.id)),
            flow_run,
            operator_allowed_hosts: state.config.allowed_hosts.clone(),
        })
        .collect())
}

/// The pool's runs that are due (read only; Prefect's worker poll).
#[utoipa::path(post, path = "/api/work_pools/{name}/get_scheduled_flow_runs", tag = "work_pools",
    params(("name" = String, Path, description = "The pool's name")),
    request_body = ScheduledRunsQuery,
    responses((status = 200, body = Vec<WorkerFlowRun>), (status = 404, body = ErrorBody),
              (status = 422, body = ErrorBody)))]
async fn get_scheduled_flow_runs(
    State(state): State<AppState>,
    ctx: RequestContext,
    Path(name): Path<String>,
    Json(body): Json<ScheduledRunsQuery>,
) -> ApiResult<axum::Json<Vec<WorkerFlowRun>>> {
    let pool = load(&state, &name).await?;
    let before = body.scheduled_before.unwrap_or_else(Utc::now);
    let runs = state
        .store
        .scheduled_flow_runs(&name, before, body.limit.unwrap_or(100))
        .await?;
    Ok(axum::Json(worker_runs(&state, &ctx, &pool, runs).await?))
}

/// Weft's atomic claim: moves up to `limit` due runs of the pool to
/// PENDING for `worker` and returns them; two workers never get one run.
#[utoipa::path(post, path = "/api/work_pools/{name}/claim_flow_runs", tag = "work_pools",
    params(("name" = String, Path, description = "The pool's name")),
    request_body = ClaimBody,
    responses((status = 200, body = Vec<WorkerFlowRun>), (status = 404, body = ErrorBody),
              (status = 422, body = ErrorBody)))]
async fn claim_flow_runs(
    State(state): State<AppState>,
    ctx: RequestContext,
    Path(name): Path<String>,
    Json(body): Json<ClaimBody>,
) -> ApiResult<axum::Json<Vec<WorkerFlowRun>>> {
    if body.worker.trim().is_empty() {
        return Err(ApiError::invalid("`worker` must not be empty"));
    }
    let pool = load(&state, &name).await?;
    let now = Utc::now();
    let lost_after =
        chrono::Duration::from_std(state.config.lost_after).unwrap_or(chrono::Duration::MAX);
    let runs = state
        .store
        .claim_flow_runs(
            &name,
            &body.worker,
            now,
            body.limit.unwrap_or(1),
            now.checked_sub_signed(lost_after)
                .unwrap_or(DateTime::<Utc>::MIN_UTC),
        )
        .await?;
    if !runs.is_empty() {
        tracing::debug!(pool = %name, worker = %body.worker, claimed = runs.len(), "flow runs claimed");
    }
    for run in &runs {
        state.events.flow_run_entered(run, &run.state);
    }
    Ok(axum::Json(worker_runs(&state, &ctx, &pool, runs).await?))
}

/// A worker's heartbeat (204). With `flow_run_ids`, refreshes the
/// heartbeat of those of its claimed runs.
#[utoipa::path(post, path = "/api/work_pools/{name}/workers/heartbeat", tag = "work_pools",
    params(("name" = String, Path, description = "The pool's name")),
    request_body = HeartbeatBody,
    responses((status = 204, description = "Recorded"), (status = 404, body = ErrorBody),
              (status = 422, body = ErrorBody)))]
async fn worker_heartbeat(
    State(state): State<AppState>,
    _ctx: RequestContext,
    Path(name): Path<String>,
    Json(body): Json<HeartbeatBody>,
) -> ApiResult<StatusCode> {
    load(&state, &name).await?;
    state
        .store
        .worker_heartbeat(
            &name,
            &body.name,
            body.heartbeat_interval_seconds,
            Utc::now(),
        )
        .await?;
    if !body.flow_run_ids.is_empty() {
        state
            .store
            .heartbeat_flow_runs(&body.name, &body.flow_run_ids)
            .await?;
    }
    Ok(StatusCode::NO_CONTENT)
}

/// The pool's workers matching a Prefect filter body, most recently heard
/// from first.
#[utoipa::path(post, path = "/api/work_pools/{name}/workers/filter", tag = "work_pools",
    params(("name" = String, Path, description = "The pool's name")),
    request_body = WorkerFilterBody,
    responses((status = 200, body = Vec<WorkerOut>), (status = 404, body = ErrorBody),
              (status = 422, body = ErrorBody)))]
async fn filter_workers(
    State(state): State<AppState>,
    _ctx: RequestContext,
    Path(name): Path<String>,
    Json(body): Json<WorkerFilterBody>,
) -> ApiResult<axum::Json<Vec<WorkerOut>>> {
    let pool = load(&state, &name).await?;
    let now = Utc::now();
    let workers: Vec<WorkerOut> = state
        .store
        .list_workers(&name, None, 0)
        .await?
        .into_iter()
        .map(|w| WorkerOut::new(w, pool.id, now))
        .filter(|w| body.workers.as_ref().is_none_or(|c| c.matches(w)))
        .collect();
    Ok(axum::Json(paginate(workers, body.limit, body.offset)))
}

/// Deletes a worker's record (204); it reappears at its next heartbeat.
#[utoipa::path(delete, path = "/api/work_pools/{name}/workers/{worker_name}", tag = "work_pools",
    params(("name" = String, Path, description = "The pool's name"),
           ("worker_name" = String, Path, description = "The worker's name")),
    responses((status = 204, description = "Deleted"), (status = 404, body = ErrorBody)))]
async fn delete_worker(
    State(state): State<AppState>,
    _ctx: RequestContext,
    Path((name, worker_name)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    if state.store.delete_worker(&name, &worker_name).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found(format!(
            "worker `{worker_name}` of work pool `{name}`"
        )))
    }
}

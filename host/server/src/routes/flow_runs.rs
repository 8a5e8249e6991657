//! Flow runs: create, read, filter, count, state history and `set_state`
//! with Prefect's orchestration rules.

use crate::extract::Path;
use axum::extract::State;
use axum::http::StatusCode;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;
use weft_core::{FlowRun, State as CoreState};
use weft_store::{FlowRunFilter, FlowRunSort, Transition};

use super::Linker;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::Json;
use crate::models::flow_run::{
    FlowRunCreate, FlowRunFilterBody, FlowRunOut, deployment_id_of, expected_start_time,
    work_pool_of,
};
use crate::models::state::{OrchestrationResult, SetStateBody, StateOut, parse_state_type};
use crate::{AppState, RequestContext};

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_flow_run))
        .routes(routes!(read_flow_run, delete_flow_run))
        .routes(routes!(read_run_secret))
        .routes(routes!(release_flow_run))
        .routes(routes!(filter_flow_runs))
        .routes(routes!(count_flow_runs))
        .routes(routes!(set_flow_run_state))
        .routes(routes!(read_flow_run_states))
}

/// Creates a flow run of an existing flow (201).
#[utoipa::path(post, path = "/api/flow_runs/", tag = "flow_runs",
    request_body = FlowRunCreate,
    responses((status = 201, body = FlowRunOut), (status = 404, body = ErrorBody),
              (status = 422, body = ErrorBody)))]
async fn create_flow_run(
    State(state): State<AppState>,
    ctx: RequestContext,
    Json(body): Json<FlowRunCreate>,
) -> ApiResult<(StatusCode, axum::Json<FlowRunOut>)> {
    let flow = state
        .store
        .read_flow(body.flow_id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("flow {}", body.flow_id)))?;
    let parameters = body.parameters.unwrap_or_else(|| serde_json::json!({}));
    if !parameters.is_object() {
        return Err(ApiError::invalid("`parameters` must be a JSON object"));
    }
    let mut run = FlowRun::new(flow.name, body.flow_version.unwrap_or_default(), parameters);
    if let Some(name) = body.name.filter(|n| !n.is_empty()) {
        run.name = name;
    }
    run.tags = body.tags.unwrap_or_default();
    if let Some(s) = body.state {
        run.state = s.into_state()?;
    }
    if let Some(id) = body.deployment_id {
        let d = state
            .store
            .read_deployment(id)
            .await?
            .ok_or_else(|| ApiError::not_found(format!("deployment {id}")))?;
        run.deployment_id = Some(d.id);
        run.deployment_name = Some(d.name);
        run.work_pool_name = d.work_pool_name;
        if run.component_digest.is_empty() {
            run.component_digest = d.component_digest;
        }
    }
    run.expected_start_time = Some(run.state.scheduled_time.unwrap_or(run.created));
    state.store.create_flow_run(&run).await?;
    state.store.flush().await?;
    tracing::info!(flow_run = %run.id, flow = %run.flow_name, "flow run created");
    let out = Linker::new(&state, &ctx).flow_run(run).await?;
    Ok((StatusCode::CREATED, axum::Json(out)))
}

/// A flow run by id.
#[utoipa::path(get, path = "/api/flow_runs/{id}", tag = "flow_runs",
    params(("id" = Uuid, Path, description = "The flow run's id")),
    responses((status = 200, body = FlowRunOut), (status = 404, body = ErrorBody)))]
async fn read_flow_run(
    State(state): State<AppState>,
    ctx: RequestContext,
    Path(id): Path<Uuid>,
) -> ApiResult<axum::Json<FlowRunOut>> {
    let run = load(&state, id).await?;
    Ok(axum::Json(Linker::new(&state, &ctx).flow_run(run).await?))
}

async fn load(state: &AppState, id: Uuid) -> ApiResult<FlowRun> {
    state
        .store
        .read_flow_run(id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("flow run {id}")))
}

/// Deletes a flow run with its states, task runs and logs (204).
#[utoipa::path(delete, path = "/api/flow_runs/{id}", tag = "flow_runs",
    params(("id" = Uuid, Path, description = "The flow run's id")),
    responses((status = 204, description = "Deleted"), (status = 404, body = ErrorBody)))]
async fn delete_flow_run(
    State(state): State<AppState>,
    _ctx: RequestContext,
    Path(id): Path<Uuid>,
) -> ApiResult<StatusCode> {
    if state.store.delete_flow_run(id).await? {
        tracing::info!(flow_run = %id, "flow run deleted");
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found(format!("flow run {id}")))
    }
}

/// The body of weft's `release`.
#[derive(Debug, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct ReleaseBody {
    /// The worker that claimed the run (required).
    pub worker: String,
}

/// Weft: a worker hands a run it claimed back to its pool (a new
/// SCHEDULED state due now, no claimer). `{"released": false}` when the
/// run had already ended or another worker holds it.
#[utoipa::path(post, path = "/api/flow_runs/{id}/release", tag = "flow_runs",
    params(("id" = Uuid, Path, description = "The flow run's id")),
    request_body = ReleaseBody,
    responses((status = 200, body = Object), (status = 404, body = ErrorBody),
              (status = 422, body = ErrorBody)))]
async fn release_flow_run(
    State(state): State<AppState>,
    _ctx: RequestContext,
    Path(id): Path<Uuid>,
    Json(body): Json<ReleaseBody>,
) -> ApiResult<axum::Json<serde_json::Value>> {
    load(&state, id).await?;
    let released = state.store.release_flow_run(id, &body.worker).await?;
    tracing::info!(flow_run = %id, worker = %body.worker, released, "flow run handed back");
    Ok(axum::Json(serde_json::json!({ "released": released })))
}

/// A secret's value, for the worker running this flow run: only when the
/// run's deployment lists the secret (403 otherwise).
#[utoipa::path(get, path = "/api/flow_runs/{id}/secrets/{name}", tag = "flow_runs",
    params(("id" = Uuid, Path, description = "The flow run's id"),
           ("name" = String, Path, description = "The secret's name")),
    responses((status = 200, body = String), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody)))]
async fn read_run_secret(
    State(state): State<AppState>,
    _ctx: RequestContext,
    Path((id, name)): Path<(Uuid, String)>,
) -> ApiResult<axum::Json<String>> {
    let run = load(&state, id).await?;
    let allowed = match run.deployment_id {
        Some(d) => state
            .store
            .read_deployment(d)
            .await?
            .is_some_and(|d| d.allowed_secrets.iter().any(|s| s == &name)),
        None => false,
    };
    if !allowed {
        return Err(ApiError::Forbidden(format!(
            "flow run {id} may not read the secret `{name}`: its deployment does not list it"
        )));
    }
    let value = state
        .store
        .read_secret(&name)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("secret `{name}`")))?;
    Ok(axum::Json(value))
}

/// Flow runs matching a Prefect filter body (as `prefect flow-run ls`
/// sends it), sorted, paginated.
#[utoipa::path(post, path = "/api/flow_runs/filter", tag = "flow_runs",
    request_body = FlowRunFilterBody,
    responses((status = 200, body = Vec<FlowRunOut>), (status = 422, body = ErrorBody)))]
async fn filter_flow_runs(
    State(state): State<AppState>,
    ctx: RequestContext,
    Json(body): Json<FlowRunFilterBody>,
) -> ApiResult<axum::Json<Vec<FlowRunOut>>> {
    let runs = query(&state, &ctx, &body, true).await?;
    Ok(axum::Json(Linker::new(&state, &ctx).flow_runs(runs).await?))
}

/// How many flow runs match a Prefect filter body.
#[utoipa::path(post, path = "/api/flow_runs/count", tag = "flow_runs",
    request_body = FlowRunFilterBody,
    responses((status = 200, body = u64), (status = 422, body = ErrorBody)))]
async fn count_flow_runs(
    State(state): State<AppState>,
    ctx: RequestContext,
    Json(body): Json<FlowRunFilterBody>,
) -> ApiResult<axum::Json<usize>> {
    Ok(axum::Json(query(&state, &ctx, &body, false).await?.len()))
}

/// Runs the filter: what the store can answer it answers; the rest is
/// checked here, and then pagination (and an unsupported sort) too.
pub(crate) async fn query(
    state: &AppState,
    _ctx: &RequestContext,
    body: &FlowRunFilterBody,
    paginate: bool,
) -> ApiResult<Vec<FlowRun>> {
    let mut filter = FlowRunFilter::default();
    let mut exact = true;
    let sort = match body.sort.as_deref() {
        None | Some("ID_DESC") => FlowRunSort::CreatedDesc,
        Some("START_TIME_DESC") => FlowRunSort::StartTimeDesc,
        Some("START_TIME_ASC") => FlowRunSort::StartTimeAsc,
        Some("END_TIME_DESC") => FlowRunSort::EndTimeDesc,
        Some("NAME_ASC") => FlowRunSort::NameAsc,
        Some("NAME_DESC") => FlowRunSort::NameDesc,
        Some("EXPECTED_START_TIME_DESC") => FlowRunSort::ExpectedStartTimeDesc,
        Some("EXPECTED_START_TIME_ASC") => FlowRunSort::ExpectedStartTimeAsc,
        Some("NEXT_SCHEDULED_START_TIME_ASC") => FlowRunSort::ExpectedStartTimeAsc,
        Some(other) => {
            return Err(ApiError::invalid(format!(
                "unknown flow run sort `{other}` (expected ID_DESC, START_TIME_ASC, START_TIME_DESC, EXPECTED_START_TIME_ASC, EXPECTED_START_TIME_DESC, NAME_ASC, NAME_DESC, NEXT_SCHEDULED_START_TIME_ASC or END_TIME_DESC)"
            )));
        }
    };
    filter.sort = sort;
    if let Some(runs) = &body.flow_runs {
        if let Some(id) = &runs.id {
            filter.ids = id.any_.clone();
            exact &= id.not_any_.is_none() && id.is_null_.is_none();
        }
        if let Some(name) = &runs.name {
            filter.names = name.any_.clone();
            exact &= name.is_only_any();
        }
        if let Some(s) = &runs.state {
            if let Some(t) = &s.state_type {
                if let Some(any) = &t.any_ {
                    let types = any
                        .iter()
                        .map(|t| parse_state_type(t))
                        .collect::<Result<Vec<_>, _>>()?;
                    filter.state_types = Some(types);
                }
                for t in t.not_any_.iter().flatten() {
                    parse_state_type(t)?;
                }
                exact &= t.is_only_any();
            }
            if let Some(n) = &s.name {
                filter.state_names = n.any_.clone();
                exact &= n.is_only_any();
            }
        }
        if let Some(tags) = &runs.tags {
            filter.tags_all = tags.all_.clone();
            exact &= tags.any_.is_none() && tags.is_null_.is_none();
        }
        if let Some(t) = &runs.start_time {
            filter.start_time_after = t.after_;
            filter.start_time_before = t.before_;
            exact &= t.is_null_.is_none();
        }
        if let Some(d) = &runs.deployment_id {
            filter.deployment_ids = d.any_.clone();
            exact &= d.not_any_.is_none() && d.is_null_.is_none();
        }
        if let Some(t) = &runs.expected_start_time {
            filter.expected_start_time_after = t.after_;
            filter.expected_start_time_before = t.before_;
            exact &= t.is_null_.is_none();
        }
        if let Some(q) = &runs.work_queue_name {
            filter.work_pool_names = q.any_.clone();
            exact &= q.is_only_any();
        }
        exact &= runs.end_time.is_none();
    }
    if let Some(flows) = &body.flows {
        let all = state.store.list_flows().await?;
        let names: Vec<String> = all
            .into_iter()
            .filter(|f| {
                flows.id.as_ref().is_none_or(|i| i.matches(Some(f.id)))
                    && flows.name.as_ref().is_none_or(|n| n.matches(&f.name))
            })
            .map(|f| f.name)
            .collect();
        filter.flow_names = Some(names);
    }
    if let Some(d) = &body.deployments {
        if let Some(n) = &d.name {
            filter.deployment_names = n.any_.clone();
            exact &= n.is_only_any();
        }
        if let Some(i) = &d.id {
            filter.deployment_ids = intersect(filter.deployment_ids.take(), i.any_.clone());
            exact &= i.not_any_.is_none() && i.is_null_.is_none();
        }
        exact &= d.tags.is_none() && d.work_queue_name.is_none();
    }
    if let Some(w) = &body.work_pools {
        if let Some(n) = &w.name {
            filter.work_pool_names = intersect(filter.work_pool_names.take(), n.any_.clone());
            exact &= n.is_only_any();
        }
        exact &= w.id.is_none() && w.pool_type.is_none();
    }
    if paginate && exact {
        filter.limit = body.limit;
        filter.offset = body.offset.unwrap_or(0);
    }
    let mut runs = state.store.list_flow_runs(&filter).await?;
    if !exact {
        runs.retain(|r| matches(body, r));
        if paginate {
            runs = crate::models::filter::paginate(runs, body.limit, body.offset);
        }
    }
    Ok(runs)
}

fn intersect<T: PartialEq>(a: Option<Vec<T>>, b: Option<Vec<T>>) -> Option<Vec<T>> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.into_iter().filter(|x| b.contains(x)).collect()),
        (a, b) => a.or(b),
    }
}

/// Whether `run` passes the criteria the store did not check.
fn matches(body: &FlowRunFilterBody, run: &FlowRun) -> bool {
    let Some(c) = &body.flow_runs else {
        return work_pools_match(body, run) && deployments_match(body, run);
    };
    c.id.as_ref().is_none_or(|f| f.matches(Some(run.id)))
        && c.name.as_ref().is_none_or(|f| f.matches(&run.name))
        && c.tags.as_ref().is_none_or(|f| f.matches(&run.tags))
        && c.deployment_id
            .as_ref()
            .is_none_or(|f| f.matches(deployment_id_of(run)))
        && c.state.as_ref().is_none_or(|s| {
            s.state_type
                .as_ref()
                .is_none_or(|f| f.matches(run.state.state_type.as_str()))
                && s.name.as_ref().is_none_or(|f| f.matches(&run.state.name))
        })
        && c.start_time
            .as_ref()
            .is_none_or(|f| f.matches(run.start_time))
        && c.end_time.as_ref().is_none_or(|f| f.matches(run.end_time))
        && c.expected_start_time
            .as_ref()
            .is_none_or(|f| f.matches(Some(expected_start_time(run))))
        && c.work_queue_name
            .as_ref()
            .is_none_or(|f| work_pool_of(run).is_some_and(|p| f.matches(&p)))
        && work_pools_match(body, run)
        && deployments_match(body, run)
}

fn work_pools_match(body: &FlowRunFilterBody, run: &FlowRun) -> bool {
    body.work_pools.as_ref().is_none_or(|w| {
        w.name
            .as_ref()
            .is_none_or(|f| work_pool_of(run).is_some_and(|p| f.matches(&p)))
            && w.id.is_none()
            && w.pool_type.is_none()
    })
}

fn deployments_match(body: &FlowRunFilterBody, run: &FlowRun) -> bool {
    body.deployments.as_ref().is_none_or(|d| {
        d.id.as_ref()
            .is_none_or(|f| f.matches(deployment_id_of(run)))
            && d.name
                .as_ref()
                .is_none_or(|f| run.deployment_name.as_deref().is_some_and(|n| f.matches(n)))
    })
}

/// Proposes a new state. Prefect's rule: a run in a terminal state does
/// not move again unless `force` is set; a refused proposal is `REJECT`
/// with the reason, and the run keeps its state.
#[utoipa::path(post, path = "/api/flow_runs/{id}/set_state", tag = "flow_runs",
    params(("id" = Uuid, Path, description = "The flow run's id")),
    request_body = SetStateBody,
    responses((status = 201, description = "Accepted", body = OrchestrationResult),
              (status = 200, description = "Rejected or aborted", body = OrchestrationResult),
              (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn set_flow_run_state(
    State(state): State<AppState>,
    _ctx: RequestContext,
    Path(id): Path<Uuid>,
    Json(body): Json<SetStateBody>,
) -> ApiResult<(StatusCode, axum::Json<OrchestrationResult>)> {
    let proposed: CoreState = body.state.into_state()?;
    let outcome = state
        .store
        .set_flow_run_state_checked(id, &proposed, body.force)
        .await
        .map_err(|e| match e {
            weft_store::StoreError::NotFound(_) => ApiError::not_found(format!("flow run {id}")),
            other => other.into(),
        })?;
    Ok(match outcome {
        Transition::Accepted(s) => {
            tracing::debug!(flow_run = %id, state = %s.name, "flow run state accepted");
            (
                StatusCode::CREATED,
                axum::Json(OrchestrationResult::accept(StateOut::of_flow_run(&s, id))),
            )
        }
        Transition::Rejected { current, reason } => {
            tracing::debug!(flow_run = %id, %reason, "flow run state rejected");
            (
                StatusCode::OK,
                axum::Json(OrchestrationResult::reject(
                    Some(StateOut::of_flow_run(&current, id)),
                    reason,
                )),
            )
        }
    })
}

/// A flow run's state history, oldest first.
#[utoipa::path(get, path = "/api/flow_runs/{id}/states", tag = "flow_runs",
    params(("id" = Uuid, Path, description = "The flow run's id")),
    responses((status = 200, body = Vec<StateOut>), (status = 404, body = ErrorBody)))]
async fn read_flow_run_states(
    State(state): State<AppState>,
    _ctx: RequestContext,
    Path(id): Path<Uuid>,
) -> ApiResult<axum::Json<Vec<StateOut>>> {
    load(&state, id).await?;
    let states = state.store.read_flow_run_states(id).await?;
    Ok(axum::Json(
        states
            .iter()
            .map(|s| StateOut::of_flow_run(s, id))
            .collect(),
    ))
}

//! Flow runs: create, read, filter, count, state history and `set_state`
//! with Prefect's orchestration rules.

use crate::extract::Path;
use axum::extract::State;
use axum::http::StatusCode;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;
use weft_core::{FlowRun, State as CoreState, StateType};
use weft_store::{FlowRunFilter, FlowRunSort, Transition};

use super::Linker;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::Json;
use crate::models::flow_run::{FlowRunCreate, FlowRunCriteria, FlowRunFilterBody, FlowRunOut};
use crate::models::state::{
    MAX_STATES_PER_CALL, OrchestrationResult, SetStateBody, SetStatesBody, StateOut,
    parse_state_type,
};
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
        .routes(routes!(set_flow_run_states))
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
        .catalog
        .flow(state.store.as_ref(), body.flow_id)
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
    state.events.flow_run_entered(&run, &run.state);
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
    let runs = query(&state, &ctx, &body).await?;
    Ok(axum::Json(Linker::new(&state, &ctx).flow_runs(runs).await?))
}

/// How many flow runs match a Prefect filter body.
#[utoipa::path(post, path = "/api/flow_runs/count", tag = "flow_runs",
    request_body = FlowRunFilterBody,
    responses((status = 200, body = u64), (status = 422, body = ErrorBody)))]
async fn count_flow_runs(
    State(state): State<AppState>,
    _ctx: RequestContext,
    Json(body): Json<FlowRunFilterBody>,
) -> ApiResult<axum::Json<u64>> {
    let filter = store_filter(&state, &body).await?;
    Ok(axum::Json(state.store.count_flow_runs(&filter).await?))
}

/// The runs a filter body selects, sorted and paginated, all in the store.
pub(crate) async fn query(
    state: &AppState,
    _ctx: &RequestContext,
    body: &FlowRunFilterBody,
) -> ApiResult<Vec<FlowRun>> {
    let mut filter = store_filter(state, body).await?;
    filter.sort = parse_sort(body.sort.as_deref())?;
    filter.limit = body.limit;
    filter.offset = body.offset.unwrap_or(0);
    Ok(state.store.list_flow_runs(&filter).await?)
}

fn parse_sort(sort: Option<&str>) -> ApiResult<FlowRunSort> {
    Ok(match sort {
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
    })
}

/// Translates a Prefect filter body into one store query. Criteria on the
/// few flows, deployments and work pools are resolved to their names or
/// ids first, so every condition on the runs themselves runs in SQL.
async fn store_filter(state: &AppState, body: &FlowRunFilterBody) -> ApiResult<FlowRunFilter> {
    let mut f = FlowRunFilter::default();
    if let Some(c) = &body.flow_runs {
        run_criteria(state, c, &mut f).await?;
    }
    if let Some(flows) = &body.flows {
        let names = state
            .store
            .list_flows()
            .await?
            .into_iter()
            .filter(|fl| {
                flows.id.as_ref().is_none_or(|i| i.matches(Some(fl.id)))
                    && flows.name.as_ref().is_none_or(|n| n.matches(&fl.name))
                    && flows.tags.as_ref().is_none_or(|t| t.matches(&[]))
            })
            .map(|fl| fl.name)
            .collect();
        f.flow_names = Some(names);
    }
    if let Some(d) = &body.deployments {
        let ids = state
            .store
            .list_deployments(&weft_store::DeploymentFilter::default())
            .await?
            .into_iter()
            .filter(|dep| {
                d.id.as_ref().is_none_or(|i| i.matches(Some(dep.id)))
                    && d.name.as_ref().is_none_or(|n| n.matches(&dep.name))
                    && d.tags.as_ref().is_none_or(|t| t.matches(&dep.tags))
                    && d.work_queue_name
                        .as_ref()
                        .is_none_or(|n| dep.work_pool_name.as_deref().is_some_and(|p| n.matches(p)))
            })
            .map(|dep| dep.id)
            .collect();
        f.deployment_ids = intersect(f.deployment_ids.take(), Some(ids));
    }
    if let Some(w) = &body.work_pools {
        let names = state
            .store
            .list_work_pools(&weft_store::WorkPoolFilter::default())
            .await?
            .into_iter()
            .filter(|p| {
                w.id.as_ref().is_none_or(|i| i.matches(Some(p.id)))
                    && w.name.as_ref().is_none_or(|n| n.matches(&p.name))
                    && w.pool_type.as_ref().is_none_or(|t| t.matches(&p.pool_type))
            })
            .map(|p| p.name)
            .collect();
        f.work_pool_names = intersect(f.work_pool_names.take(), Some(names));
    }
    Ok(f)
}

/// The `flow_runs` criteria, on the runs' own columns.
async fn run_criteria(
    state: &AppState,
    c: &FlowRunCriteria,
    f: &mut FlowRunFilter,
) -> ApiResult<()> {
    if let Some(id) = &c.id {
        f.ids = id.any_.clone();
        f.ids_not = id.not_any_.clone();
        if id.is_null_ == Some(true) {
            f.ids = Some(Vec::new());
        }
    }
    if let Some(name) = &c.name {
        f.names = name.any_.clone();
        f.names_not = name.not_any_.clone();
        f.name_like = name.like_.clone();
        f.name_startswith = name.startswith_.clone();
    }
    if let Some(s) = &c.state {
        if let Some(t) = &s.state_type {
            for name in t.any_.iter().chain(t.not_any_.iter()).flatten() {
                parse_state_type(name)?;
            }
            // Nine types: any test on them resolves to a list of types.
            let types = StateType::ALL
                .into_iter()
                .filter(|ty| t.matches(ty.as_str()))
                .collect();
            f.state_types = Some(types);
        }
        if let Some(n) = &s.name {
            if n.like_.is_some() || n.startswith_.is_some() {
                return Err(ApiError::invalid(
                    "a state name filter takes `any_` and `not_any_` only",
                ));
            }
            f.state_names = n.any_.clone();
            f.state_names_not = n.not_any_.clone();
        }
    }
    if let Some(tags) = &c.tags {
        f.tags_all = tags.all_.clone();
        f.tags_any = tags.any_.clone();
        f.tags_empty = tags.is_null_;
    }
    if let Some(d) = &c.deployment_id {
        f.deployment_ids = d.any_.clone();
        f.deployment_ids_not = d.not_any_.clone();
        f.deployment_id_is_null = d.is_null_;
    }
    if let Some(t) = &c.start_time {
        f.start_time_after = t.after_;
        f.start_time_before = t.before_;
        f.start_time_is_null = t.is_null_;
    }
    if let Some(t) = &c.end_time {
        f.end_time_after = t.after_;
        f.end_time_before = t.before_;
        f.end_time_is_null = t.is_null_;
    }
    if let Some(t) = &c.expected_start_time {
        f.expected_start_time_after = t.after_;
        f.expected_start_time_before = t.before_;
        if t.is_null_ == Some(true) {
            // Every run has an expected start time (its creation at worst).
            f.ids = Some(Vec::new());
        }
    }
    if let Some(q) = &c.work_queue_name {
        if q.is_only_any() {
            f.work_pool_names = q.any_.clone();
        } else {
            let names = state
                .store
                .list_work_pools(&weft_store::WorkPoolFilter::default())
                .await?
                .into_iter()
                .map(|p| p.name)
                .filter(|n| q.matches(n))
                .collect();
            f.work_pool_names = Some(names);
        }
    }
    Ok(())
}

fn intersect<T: PartialEq>(a: Option<Vec<T>>, b: Option<Vec<T>>) -> Option<Vec<T>> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.into_iter().filter(|x| b.contains(x)).collect()),
        (a, b) => a.or(b),
    }
}

/// Proposes a new state. Prefect's rules: a run in a terminal state does
/// not move again unless `force` is set, a CANCELLING run only becomes
/// CANCELLED, and CANCELLING a run no worker holds (Scheduled, Paused)
/// cancels it at once (answered REJECT with the Cancelled state, as
/// Prefect does); a refused proposal is `REJECT` with the reason, and the
/// run keeps its state.
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
    if proposed.state_type == StateType::Cancelling
        && !body.force
        && let Some(answer) = cancel_unstarted(&state, id, &proposed).await?
    {
        return Ok(answer);
    }
    let outcome = set_checked(&state, id, &proposed, body.force).await?;
    Ok(match outcome {
        Transition::Accepted(s) => {
            tracing::debug!(flow_run = %id, state = %s.name, "flow run state accepted");
            state.events.flow_run_changed(id, &s);
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

/// Weft: proposes several states for one flow run, in order, as many
/// `set_state` calls would, stopping at the first one refused: one result
/// per proposal handled (the last one `REJECT` when one was refused). A
/// worker reports a short run's Running and Completed in one call. A
/// CANCELLING proposal must go through `set_state`.
#[utoipa::path(post, path = "/api/flow_runs/{id}/set_states", tag = "flow_runs",
    params(("id" = Uuid, Path, description = "The flow run's id")),
    request_body = SetStatesBody,
    responses((status = 200, body = Vec<OrchestrationResult>),
              (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn set_flow_run_states(
    State(state): State<AppState>,
    _ctx: RequestContext,
    Path(id): Path<Uuid>,
    Json(body): Json<SetStatesBody>,
) -> ApiResult<axum::Json<Vec<OrchestrationResult>>> {
    if body.states.is_empty() || body.states.len() > MAX_STATES_PER_CALL {
        return Err(ApiError::invalid(format!(
            "`states` must hold 1 to {MAX_STATES_PER_CALL} states"
        )));
    }
    let proposed = body
        .states
        .into_iter()
        .map(|s| s.into_state())
        .collect::<Result<Vec<CoreState>, _>>()?;
    if proposed
        .iter()
        .any(|s| s.state_type == StateType::Cancelling)
    {
        return Err(ApiError::invalid(
            "propose a CANCELLING state with `set_state`, not `set_states`",
        ));
    }
    let outcomes = state
        .store
        .set_flow_run_states_checked(id, &proposed, body.force)
        .await
        .map_err(|e| match e {
            weft_store::StoreError::NotFound(_) => ApiError::not_found(format!("flow run {id}")),
            other => other.into(),
        })?;
    let results = outcomes
        .into_iter()
        .map(|t| match t {
            Transition::Accepted(s) => {
                state.events.flow_run_changed(id, &s);
                OrchestrationResult::accept(StateOut::of_flow_run(&s, id))
            }
            Transition::Rejected { current, reason } => {
                OrchestrationResult::reject(Some(StateOut::of_flow_run(&current, id)), reason)
            }
        })
        .collect();
    Ok(axum::Json(results))
}

async fn set_checked(
    state: &AppState,
    id: Uuid,
    proposed: &CoreState,
    force: bool,
) -> ApiResult<Transition> {
    state
        .store
        .set_flow_run_state_checked(id, proposed, force)
        .await
        .map_err(|e| match e {
            weft_store::StoreError::NotFound(_) => ApiError::not_found(format!("flow run {id}")),
            other => other.into(),
        })
}

/// Whether a run in `state` is held by no worker (Scheduled and not
/// waiting for a retry, or Paused): cancelling it cancels it at once.
pub(crate) fn unstarted(state: &CoreState) -> bool {
    match state.state_type {
        // An AwaitingRetry run is held by the worker that retries it.
        StateType::Scheduled => state.name != "AwaitingRetry",
        StateType::Paused => true,
        _ => false,
    }
}

/// Prefect's `BypassCancellingFlowRunsWithNoInfra`: a run that no worker
/// holds (Scheduled and not waiting for a retry, or Paused) has nothing to
/// stop, so CANCELLING it cancels it at once. The proposal is answered
/// REJECT with the Cancelled state the run entered, as Prefect does.
/// `None` when the run is held (or running) and CANCELLING goes ahead.
async fn cancel_unstarted(
    state: &AppState,
    id: Uuid,
    proposed: &CoreState,
) -> ApiResult<Option<(StatusCode, axum::Json<OrchestrationResult>)>> {
    let current = load(state, id).await?.state;
    if !unstarted(&current) {
        return Ok(None);
    }
    let reason = match &proposed.message {
        Some(m) => format!("the run had not started: cancelled at once ({m})"),
        None => "the run had not started: cancelled at once".to_string(),
    };
    let cancelled = CoreState::cancelled(reason.clone());
    Ok(Some(
        match set_checked(state, id, &cancelled, false).await? {
            Transition::Accepted(s) => {
                tracing::debug!(flow_run = %id, "unstarted flow run cancelled");
                state.events.flow_run_changed(id, &s);
                (
                    StatusCode::OK,
                    axum::Json(OrchestrationResult::reject(
                        Some(StateOut::of_flow_run(&s, id)),
                        reason,
                    )),
                )
            }
            Transition::Rejected { current, reason } => (
                StatusCode::OK,
                axum::Json(OrchestrationResult::reject(
                    Some(StateOut::of_flow_run(&current, id)),
                    reason,
                )),
            ),
        },
    ))
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

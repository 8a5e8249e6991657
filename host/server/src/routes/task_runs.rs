//! Task runs: read, filter, count, and for weft's workers create and
//! `set_state`.

use crate::extract::Path;
use axum::extract::State;
use axum::http::StatusCode;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;
use weft_core::TaskRun;
use weft_core::event::task_run_state_event;
use weft_core::state::check_transition;
use weft_store::{TaskRunFilter, TaskRunSort};

use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::Json;
use crate::models::filter::{TaskRunFilterBody, paginate};
use crate::models::state::{OrchestrationResult, SetStateBody, StateOut, parse_state_type};
use crate::models::task_run::{DynamicKey, TaskRunCreate, TaskRunOut};
use crate::{AppState, RequestContext};

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_task_run))
        .routes(routes!(read_task_run))
        .routes(routes!(filter_task_runs))
        .routes(routes!(count_task_runs))
        .routes(routes!(set_task_run_state))
}

/// Records a task run of an existing flow run (for weft's workers; 201).
#[utoipa::path(post, path = "/api/task_runs/", tag = "task_runs",
    request_body = TaskRunCreate,
    responses((status = 201, body = TaskRunOut), (status = 404, body = ErrorBody),
              (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create_task_run(
    State(state): State<AppState>,
    _ctx: RequestContext,
    Json(body): Json<TaskRunCreate>,
) -> ApiResult<(StatusCode, axum::Json<TaskRunOut>)> {
    let dynamic_key = match body.dynamic_key {
        DynamicKey::Number(n) => n,
        DynamicKey::Text(t) => t
            .parse()
            .map_err(|_| ApiError::invalid(format!("`dynamic_key` must be a number, not `{t}`")))?,
    };
    if state.store.read_flow_run(body.flow_run_id).await?.is_none() {
        return Err(ApiError::not_found(format!(
            "flow run {}",
            body.flow_run_id
        )));
    }
    let mut run = TaskRun::new(
        body.flow_run_id,
        body.parent_task_run_id,
        body.task_key,
        dynamic_key,
        body.input.unwrap_or(serde_json::Value::Null),
    );
    if let Some(id) = body.id {
        if state.store.read_task_run(id).await?.is_some() {
            return Err(ApiError::Conflict(format!("task run {id} already exists")));
        }
        run.id = id;
    }
    if let Some(name) = body.name {
        run.name = name;
    }
    run.cache_key = body.cache_key;
    run.cache_expiration = body.cache_expiration;
    run.tags = body.tags;
    if let Some(s) = body.state {
        run.state = s.into_state()?;
    }
    state.store.create_task_run(&run).await?;
    state.store.flush().await?;
    state.events.emit(task_run_state_event(&run, &run.state));
    Ok((StatusCode::CREATED, axum::Json(run.into())))
}

/// A task run by id.
#[utoipa::path(get, path = "/api/task_runs/{id}", tag = "task_runs",
    params(("id" = Uuid, Path, description = "The task run's id")),
    responses((status = 200, body = TaskRunOut), (status = 404, body = ErrorBody)))]
async fn read_task_run(
    State(state): State<AppState>,
    _ctx: RequestContext,
    Path(id): Path<Uuid>,
) -> ApiResult<axum::Json<TaskRunOut>> {
    Ok(axum::Json(load(&state, id).await?.into()))
}

async fn load(state: &AppState, id: Uuid) -> ApiResult<TaskRun> {
    state
        .store
        .read_task_run(id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("task run {id}")))
}

async fn query(
    state: &AppState,
    body: &TaskRunFilterBody,
    paginate_here: bool,
) -> ApiResult<Vec<TaskRun>> {
    let mut filter = TaskRunFilter {
        sort: match body.sort.as_deref() {
            None | Some("EXPECTED_START_TIME_ASC") | Some("ID_ASC") => TaskRunSort::CreatedAsc,
            Some("EXPECTED_START_TIME_DESC") | Some("ID_DESC") => TaskRunSort::CreatedDesc,
            Some("NAME_ASC") => TaskRunSort::TaskKeyAsc,
            Some(other) => {
                return Err(ApiError::invalid(format!(
                    "unknown task run sort `{other}`"
                )));
            }
        },
        ..TaskRunFilter::default()
    };
    if let Some(c) = &body.task_runs {
        filter.ids = c.id.as_ref().and_then(|f| f.any_.clone());
        filter.names = c.name.as_ref().and_then(|f| f.any_.clone());
        filter.flow_run_ids = c.flow_run_id.as_ref().and_then(|f| f.any_.clone());
        if let Some(any) = c
            .state
            .as_ref()
            .and_then(|s| s.state_type.as_ref())
            .and_then(|t| t.any_.as_ref())
        {
            filter.state_types = Some(
                any.iter()
                    .map(|t| parse_state_type(t))
                    .collect::<Result<_, _>>()?,
            );
        }
    }
    if let Some(ids) = body
        .flow_runs
        .as_ref()
        .and_then(|f| f.id.as_ref())
        .and_then(|f| f.any_.clone())
    {
        filter.flow_run_ids = Some(match filter.flow_run_ids.take() {
            Some(mine) => mine.into_iter().filter(|i| ids.contains(i)).collect(),
            None => ids,
        });
    }
    let mut runs = state.store.list_task_runs(&filter).await?;
    if let Some(c) = &body.task_runs {
        runs.retain(|t| {
            c.id.as_ref().is_none_or(|f| f.matches(Some(t.id)))
                && c.name.as_ref().is_none_or(|f| f.matches(&t.name))
                && c.tags.as_ref().is_none_or(|f| f.matches(&t.tags))
                && c.flow_run_id
                    .as_ref()
                    .is_none_or(|f| f.matches(Some(t.flow_run_id)))
                && c.start_time
                    .as_ref()
                    .is_none_or(|f| f.matches(t.start_time))
                && c.state.as_ref().is_none_or(|s| {
                    s.state_type
                        .as_ref()
                        .is_none_or(|f| f.matches(t.state.state_type.as_str()))
                        && s.name.as_ref().is_none_or(|f| f.matches(&t.state.name))
                })
        });
    }
    Ok(if paginate_here {
        paginate(runs, body.limit, body.offset)
    } else {
        runs
    })
}

/// Task runs matching a Prefect filter body.
#[utoipa::path(post, path = "/api/task_runs/filter", tag = "task_runs",
    request_body = TaskRunFilterBody,
    responses((status = 200, body = Vec<TaskRunOut>), (status = 422, body = ErrorBody)))]
async fn filter_task_runs(
    State(state): State<AppState>,
    _ctx: RequestContext,
    Json(body): Json<TaskRunFilterBody>,
) -> ApiResult<axum::Json<Vec<TaskRunOut>>> {
    let runs = query(&state, &body, true).await?;
    Ok(axum::Json(runs.into_iter().map(TaskRunOut::from).collect()))
}

/// How many task runs match a Prefect filter body.
#[utoipa::path(post, path = "/api/task_runs/count", tag = "task_runs",
    request_body = TaskRunFilterBody,
    responses((status = 200, body = u64), (status = 422, body = ErrorBody)))]
async fn count_task_runs(
    State(state): State<AppState>,
    _ctx: RequestContext,
    Json(body): Json<TaskRunFilterBody>,
) -> ApiResult<axum::Json<usize>> {
    Ok(axum::Json(query(&state, &body, false).await?.len()))
}

/// Proposes a task run's new state (for weft's workers), with the same
/// terminal-state rule as flow runs.
#[utoipa::path(post, path = "/api/task_runs/{id}/set_state", tag = "task_runs",
    params(("id" = Uuid, Path, description = "The task run's id")),
    request_body = SetStateBody,
    responses((status = 201, description = "Accepted", body = OrchestrationResult),
              (status = 200, description = "Rejected", body = OrchestrationResult),
              (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn set_task_run_state(
    State(state): State<AppState>,
    _ctx: RequestContext,
    Path(id): Path<Uuid>,
    Json(body): Json<SetStateBody>,
) -> ApiResult<(StatusCode, axum::Json<OrchestrationResult>)> {
    let proposed = body.state.into_state()?;
    let run = load(&state, id).await?;
    let out = |s| {
        StateOut::of_task_run(
            s,
            run.flow_run_id,
            id,
            run.cache_key.clone(),
            run.cache_expiration,
        )
    };
    if let Err(e) = check_transition(Some(run.state.state_type), proposed.state_type, body.force) {
        return Ok((
            StatusCode::OK,
            axum::Json(OrchestrationResult::reject(
                Some(out(&run.state)),
                e.to_string(),
            )),
        ));
    }
    state.store.set_task_run_state(id, &proposed).await?;
    if proposed.is_terminal() {
        state.store.flush().await?;
    }
    state.events.emit(task_run_state_event(&run, &proposed));
    Ok((
        StatusCode::CREATED,
        axum::Json(OrchestrationResult::accept(out(&proposed))),
    ))
}

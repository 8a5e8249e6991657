//! A deployment's schedules (Prefect's routes): list, add, change (pause
//! and resume are `active`), delete, and "schedule runs now".
//!
//! A change to a schedule deletes that schedule's coming runs that have not
//! started (Prefect deletes them for the whole deployment; weft only for
//! the schedule that changed), and the runs of the current definitions are
//! created at once, not at the scheduler's next tick.

use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Duration, Utc};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;
use weft_core::{Deployment, Schedule};

use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{Json, Path};
use crate::models::deployment::{ScheduleCreate, ScheduleOut, ScheduleRunsBody, ScheduleUpdate};
use crate::scheduler::Window;
use crate::{AppState, RequestContext};

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(read_schedules, create_schedules))
        .routes(routes!(update_schedule, delete_schedule))
        .routes(routes!(schedule_runs))
}

async fn load(state: &AppState, id: Uuid) -> ApiResult<Deployment> {
    state
        .store
        .read_deployment(id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("deployment {id}")))
}

/// The schedules of a create or update body, checked (422 naming the bad
/// one); a schedule equal in definition to one of `old` keeps its id (and
/// an interval its anchor), so re-deploying changes nothing.
pub(crate) fn schedules_from(
    bodies: Vec<ScheduleCreate>,
    old: Option<&Deployment>,
) -> ApiResult<Vec<Schedule>> {
    let now = Utc::now();
    let mut out: Vec<Schedule> = Vec::with_capacity(bodies.len());
    for (i, b) in bodies.into_iter().enumerate() {
        let mut s = b
            .into_schedule(now)
            .map_err(|e| ApiError::invalid(format!("schedules[{i}]: {e}")))?;
        if let Some(prev) = old.and_then(|o| {
            o.schedules
                .iter()
                .find(|p| same_definition(p, &s) && !out.iter().any(|n| n.id == p.id))
        }) {
            s.id = prev.id;
            s.anchor_date = prev.anchor_date.or(s.anchor_date);
        }
        out.push(s);
    }
    check_slugs(&out)?;
    Ok(out)
}

fn same_definition(a: &Schedule, b: &Schedule) -> bool {
    a.cron == b.cron
        && a.interval_secs == b.interval_secs
        && a.rrule == b.rrule
        && a.timezone == b.timezone
        && a.day_or == b.day_or
}

fn check_slugs(schedules: &[Schedule]) -> ApiResult<()> {
    let mut seen = std::collections::HashSet::new();
    for s in schedules {
        if let Some(slug) = &s.slug
            && !seen.insert(slug.as_str())
        {
            return Err(ApiError::Conflict(format!(
                "schedule slugs must be unique within a deployment: `{slug}` is used twice"
            )));
        }
    }
    Ok(())
}

/// After a deployment changed from `old` to `new`: deletes the unstarted
/// runs of schedules removed (all of them) or changed or paused (those due
/// from now), all coming ones when the deployment was paused, then creates
/// the runs of the current schedules (when the server runs a scheduler).
pub(crate) async fn after_change(
    state: &AppState,
    old: Option<&Deployment>,
    new: &Deployment,
) -> ApiResult<()> {
    let now = Utc::now();
    if let Some(old) = old {
        for prev in &old.schedules {
            match new.schedules.iter().find(|s| s.id == prev.id) {
                None => {
                    state
                        .store
                        .delete_scheduled_flow_runs(new.id, Some(prev.id), None)
                        .await?;
                }
                Some(cur) if cur != prev => {
                    state
                        .store
                        .delete_scheduled_flow_runs(new.id, Some(prev.id), Some(now))
                        .await?;
                }
                Some(_) => {}
            }
        }
    }
    if new.paused && old.is_none_or(|o| !o.paused) {
        state
            .store
            .delete_scheduled_flow_runs(new.id, None, Some(now))
            .await?;
    }
    if let Some(scheduler) = &state.scheduler {
        let window = Window::Ahead {
            start: now,
            end: None,
            policy: scheduler.config().policy,
        };
        scheduler.schedule_deployment(new, window).await?;
    }
    Ok(())
}

pub(crate) async fn save(
    state: &AppState,
    old: &Deployment,
    mut d: Deployment,
) -> ApiResult<Deployment> {
    d.updated = Utc::now();
    let updated = state.store.update_deployment(&d).await?;
    state.catalog.forget_deployment(d.id);
    if !updated {
        return Err(ApiError::not_found(format!("deployment {}", d.id)));
    }
    after_change(state, Some(old), &d).await?;
    Ok(d)
}

/// A deployment's schedules.
#[utoipa::path(get, path = "/api/deployments/{id}/schedules", tag = "deployments",
    params(("id" = Uuid, Path, description = "The deployment's id")),
    responses((status = 200, body = Vec<ScheduleOut>), (status = 404, body = ErrorBody)))]
async fn read_schedules(
    State(state): State<AppState>,
    _ctx: RequestContext,
    Path(id): Path<Uuid>,
) -> ApiResult<axum::Json<Vec<ScheduleOut>>> {
    let d = load(&state, id).await?;
    Ok(axum::Json(
        d.schedules
            .iter()
            .map(|s| ScheduleOut::new(s, d.id))
            .collect(),
    ))
}

/// Adds schedules to a deployment (201, the schedules created). A bad
/// cron, interval, rrule or time zone is a 422.
#[utoipa::path(post, path = "/api/deployments/{id}/schedules", tag = "deployments",
    params(("id" = Uuid, Path, description = "The deployment's id")),
    request_body = Vec<ScheduleCreate>,
    responses((status = 201, body = Vec<ScheduleOut>), (status = 404, body = ErrorBody),
              (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create_schedules(
    State(state): State<AppState>,
    _ctx: RequestContext,
    Path(id): Path<Uuid>,
    Json(body): Json<Vec<ScheduleCreate>>,
) -> ApiResult<(StatusCode, axum::Json<Vec<ScheduleOut>>)> {
    let old = load(&state, id).await?;
    let added = schedules_from(body, None)?;
    let mut d = old.clone();
    d.schedules.extend(added.iter().cloned());
    check_slugs(&d.schedules)?;
    let d = save(&state, &old, d).await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(added.iter().map(|s| ScheduleOut::new(s, d.id)).collect()),
    ))
}

/// Changes a schedule (204): `{"active": false}` pauses it (its coming
/// unstarted runs are deleted), `{"active": true}` resumes it.
#[utoipa::path(patch, path = "/api/deployments/{id}/schedules/{schedule_id}", tag = "deployments",
    params(("id" = Uuid, Path, description = "The deployment's id"),
           ("schedule_id" = Uuid, Path, description = "The schedule's id")),
    request_body = ScheduleUpdate,
    responses((status = 204, description = "Updated"), (status = 404, body = ErrorBody),
              (status = 422, body = ErrorBody)))]
async fn update_schedule(
    State(state): State<AppState>,
    _ctx: RequestContext,
    Path((id, schedule_id)): Path<(Uuid, Uuid)>,
    Json(body): Json<ScheduleUpdate>,
) -> ApiResult<StatusCode> {
    let old = load(&state, id).await?;
    let mut d = old.clone();
    let s = d
        .schedules
        .iter_mut()
        .find(|s| s.id == schedule_id)
        .ok_or_else(|| ApiError::not_found(format!("schedule {schedule_id}")))?;
    if let Some(spec) = body.schedule {
        spec.apply(s, Utc::now()).map_err(ApiError::invalid)?;
    }
    if let Some(a) = body.active {
        s.active = a;
    }
    if let Some(m) = body.max_scheduled_runs {
        if m == 0 {
            return Err(ApiError::invalid("`max_scheduled_runs` must be at least 1"));
        }
        s.max_scheduled_runs = Some(m);
    }
    if let Some(p) = body.parameters {
        if !p.is_object() {
            return Err(ApiError::invalid(
                "a schedule's `parameters` must be a JSON object",
            ));
        }
        s.parameters = p;
    }
    if let Some(slug) = body.slug {
        s.slug = Some(slug);
    }
    check_slugs(&d.schedules)?;
    save(&state, &old, d).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Deletes a schedule and its unstarted runs (204).
#[utoipa::path(delete, path = "/api/deployments/{id}/schedules/{schedule_id}", tag = "deployments",
    params(("id" = Uuid, Path, description = "The deployment's id"),
           ("schedule_id" = Uuid, Path, description = "The schedule's id")),
    responses((status = 204, description = "Deleted"), (status = 404, body = ErrorBody)))]
async fn delete_schedule(
    State(state): State<AppState>,
    _ctx: RequestContext,
    Path((id, schedule_id)): Path<(Uuid, Uuid)>,
) -> ApiResult<StatusCode> {
    let old = load(&state, id).await?;
    let mut d = old.clone();
    let before = d.schedules.len();
    d.schedules.retain(|s| s.id != schedule_id);
    if d.schedules.len() == before {
        return Err(ApiError::not_found(format!("schedule {schedule_id}")));
    }
    save(&state, &old, d).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Creates a deployment's scheduled runs now (Prefect's route), by the
/// scheduler's rule within the body's bounds; a start in the past
/// backfills. Answers the ids of the runs created (slots that already have
/// a run are skipped).
#[utoipa::path(post, path = "/api/deployments/{id}/schedule", tag = "deployments",
    params(("id" = Uuid, Path, description = "The deployment's id")),
    request_body = ScheduleRunsBody,
    responses((status = 200, body = Vec<Uuid>), (status = 404, body = ErrorBody),
              (status = 422, body = ErrorBody)))]
async fn schedule_runs(
    State(state): State<AppState>,
    _ctx: RequestContext,
    Path(id): Path<Uuid>,
    body: axum::body::Bytes,
) -> ApiResult<axum::Json<Vec<Uuid>>> {
    // The body is optional: no body is every default.
    let body: ScheduleRunsBody = if body.iter().all(u8::is_ascii_whitespace) {
        ScheduleRunsBody::default()
    } else {
        serde_json::from_slice(&body)
            .map_err(|e| ApiError::invalid(format!("invalid body: {e}")))?
    };
    let d = load(&state, id).await?;
    let mut policy = state
        .scheduler
        .as_ref()
        .map(|s| s.config().policy)
        .unwrap_or_default();
    if let Some(t) = body.min_time {
        if !t.is_finite() || t < 0.0 {
            return Err(ApiError::invalid("`min_time` must be a number of seconds"));
        }
        policy.min_time = Duration::milliseconds((t * 1000.0).min(1e15) as i64);
    }
    if let Some(n) = body.min_runs {
        policy.min_runs = n as usize;
    }
    if let Some(n) = body.max_runs {
        policy.max_runs = (n as usize).min(10_000);
    }
    let start: DateTime<Utc> = body.start_time.unwrap_or_else(Utc::now);
    let window = Window::Ahead {
        start,
        end: body.end_time,
        policy,
    };
    let runs = crate::scheduler::runs_for(&d, window, Utc::now());
    let created = if runs.is_empty() {
        Vec::new()
    } else {
        state.store.create_scheduled_flow_runs(&runs).await?
    };
    Ok(axum::Json(created))
}

//! Logs: batch writes and filtered reads.

use axum::extract::State;
use axum::http::StatusCode;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use weft_core::LogLevel;
use weft_store::LogFilter;

use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::Json;
use crate::models::filter::{IdFilter, paginate};
use crate::models::log::{LogCreate, LogFilterBody, LogOut};
use crate::{AppState, RequestContext};

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_logs))
        .routes(routes!(filter_logs))
}

/// Records a batch of log lines (201, `null`). Lines without a flow run
/// are accepted and not kept.
#[utoipa::path(post, path = "/api/logs/", tag = "logs",
    request_body = Vec<LogCreate>,
    responses((status = 201, description = "Recorded", body = Option<bool>),
              (status = 422, body = ErrorBody)))]
async fn create_logs(
    State(state): State<AppState>,
    _ctx: RequestContext,
    Json(body): Json<Vec<LogCreate>>,
) -> ApiResult<(StatusCode, axum::Json<()>)> {
    let entries: Vec<_> = body.into_iter().filter_map(LogCreate::into_entry).collect();
    if !entries.is_empty() {
        state.store.write_logs(entries).await?;
    }
    Ok((StatusCode::CREATED, axum::Json(())))
}

/// Log lines matching a Prefect filter body.
#[utoipa::path(post, path = "/api/logs/filter", tag = "logs",
    request_body = LogFilterBody,
    responses((status = 200, body = Vec<LogOut>), (status = 422, body = ErrorBody)))]
async fn filter_logs(
    State(state): State<AppState>,
    _ctx: RequestContext,
    Json(body): Json<LogFilterBody>,
) -> ApiResult<axum::Json<Vec<LogOut>>> {
    let mut filter = LogFilter::default();
    let c = body.logs.clone().unwrap_or_default();
    filter.flow_run_ids = c.flow_run_id.as_ref().and_then(|f| f.any_.clone());
    filter.task_run_ids = c.task_run_id.as_ref().and_then(|f| f.any_.clone());
    filter.level_ge = c
        .level
        .as_ref()
        .and_then(|l| l.ge_)
        .map(LogLevel::from_number);
    filter.level_le = c
        .level
        .as_ref()
        .and_then(|l| l.le_)
        .map(LogLevel::from_number);
    filter.newest_first = match body.sort.as_deref() {
        None | Some("TIMESTAMP_ASC") => false,
        Some("TIMESTAMP_DESC") => true,
        Some(other) => return Err(ApiError::invalid(format!("unknown log sort `{other}`"))),
    };
    if let Some(t) = &c.timestamp {
        filter.since = t.after_;
        filter.until = t.before_;
    }
    // The store pages when it can answer every criterion itself.
    let in_store = |f: &Option<IdFilter>| f.as_ref().is_none_or(IdFilter::is_only_any);
    let paged_in_store = in_store(&c.flow_run_id)
        && in_store(&c.task_run_id)
        && c.timestamp.as_ref().is_none_or(|t| t.is_null_.is_none());
    if paged_in_store {
        filter.limit = body.limit;
        filter.offset = body.offset.unwrap_or(0);
    }
    let mut logs = state.store.read_logs(&filter).await?;
    logs.retain(|l| {
        c.level
            .as_ref()
            .and_then(|l| l.le_)
            .is_none_or(|le| l.level.as_number() <= le)
            && c.timestamp
                .as_ref()
                .is_none_or(|t| t.matches(Some(l.timestamp)))
            && c.flow_run_id
                .as_ref()
                .is_none_or(|f| f.matches(Some(l.flow_run_id)))
            && c.task_run_id
                .as_ref()
                .is_none_or(|f| f.matches(l.task_run_id))
    });
    if !paged_in_store {
        logs = paginate(logs, body.limit, body.offset);
    }
    Ok(axum::Json(logs.into_iter().map(LogOut::from).collect()))
}

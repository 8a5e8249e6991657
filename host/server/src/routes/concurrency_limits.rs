//! Concurrency limits: Prefect's v1 tag limits (`/api/concurrency_limits/`,
//! stored as the v2 limits named `tag:<tag>`, as Prefect 3 does) and v2
//! global limits with leases (`/api/v2/concurrency_limits/`).

use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;
use weft_core::concurrency::{TAG_PREFIX, tag_limit_name};
use weft_core::{ConcurrencyLimit, SlotGrant, SlotRequest};

use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{Json, Path};
use crate::models::concurrency::{
    DecrementWithLease, GlobalLimitCreate, GlobalLimitOut, GlobalLimitUpdate, IncrementWithLease,
    LeaseOut, LimitFilterBody, LimitFull, RenewLease, TagLimitCreate, TagLimitOut,
};
use crate::models::filter::paginate;
use crate::{AppState, RequestContext};

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_tag_limit))
        .routes(routes!(read_tag_limit, delete_tag_limit))
        .routes(routes!(read_tag_limit_by_tag, delete_tag_limit_by_tag))
        .routes(routes!(filter_tag_limits))
        .routes(routes!(reset_tag_limit))
        .routes(routes!(create_limit))
        .routes(routes!(read_limit, update_limit, delete_limit))
        .routes(routes!(filter_limits))
        .routes(routes!(increment_with_lease))
        .routes(routes!(renew_lease))
        .routes(routes!(decrement_with_lease))
}

fn check_name(name: &str) -> ApiResult<()> {
    if name.trim().is_empty() || name.len() > 255 {
        return Err(ApiError::invalid(
            "a concurrency limit's name must be 1 to 255 bytes",
        ));
    }
    Ok(())
}

fn check_decay(decay: Option<f64>) -> ApiResult<()> {
    match decay {
        Some(d) if d != 0.0 => Err(ApiError::invalid(
            "slot_decay_per_second must be 0: weft has no rate limits yet",
        )),
        _ => Ok(()),
    }
}

/// Seconds as a duration, checked.
fn seconds(v: f64, what: &str, max: Duration) -> ApiResult<Duration> {
    if !(v.is_finite() && v > 0.0) {
        return Err(ApiError::invalid(format!(
            "{what} must be a positive number of seconds"
        )));
    }
    Ok(Duration::from_secs_f64(v.min(max.as_secs_f64())))
}

// ------------------------------------------------------------ v1 (tags)

async fn tag_out(state: &AppState, l: ConcurrencyLimit) -> ApiResult<TagLimitOut> {
    let holders = state
        .store
        .concurrency_leases(l.id)
        .await?
        .into_iter()
        .filter_map(|lease| lease.holder.map(|h| h.id))
        .collect();
    Ok(TagLimitOut::new(l, holders))
}

async fn tag_limit_by_id(state: &AppState, id: Uuid) -> ApiResult<ConcurrencyLimit> {
    state
        .store
        .read_concurrency_limit(id)
        .await?
        .filter(|l| l.tag().is_some())
        .ok_or_else(|| ApiError::not_found(format!("concurrency limit {id}")))
}

async fn tag_limit_by_tag(state: &AppState, tag: &str) -> ApiResult<ConcurrencyLimit> {
    state
        .store
        .read_concurrency_limit_by_name(&tag_limit_name(tag))
        .await?
        .ok_or_else(|| ApiError::not_found(format!("concurrency limit for tag `{tag}`")))
}

/// Creates the limit of a tag, or changes its size when it exists (as
/// Prefect does): 201 when created, 200 when changed.
#[utoipa::path(post, path = "/api/concurrency_limits/", tag = "concurrency_limits",
    request_body = TagLimitCreate,
    responses((status = 201, body = TagLimitOut), (status = 200, body = TagLimitOut),
              (status = 422, body = ErrorBody)))]
async fn create_tag_limit(
    State(state): State<AppState>,
    _ctx: RequestContext,
    Json(body): Json<TagLimitCreate>,
) -> ApiResult<(StatusCode, axum::Json<TagLimitOut>)> {
    let name = tag_limit_name(&body.tag);
    check_name(&body.tag)?;
    let (status, limit) = match state.store.read_concurrency_limit_by_name(&name).await? {
        Some(mut existing) => {
            existing.limit = body.concurrency_limit;
            state.store.update_concurrency_limit(&existing).await?;
            (StatusCode::OK, tag_limit_by_id(&state, existing.id).await?)
        }
        None => {
            let limit = ConcurrencyLimit::new(name, body.concurrency_limit);
            (
                StatusCode::CREATED,
                state.store.create_concurrency_limit(&limit).await?,
            )
        }
    };
    Ok((status, axum::Json(tag_out(&state, limit).await?)))
}

/// A tag limit by id.
#[utoipa::path(get, path = "/api/concurrency_limits/{id}", tag = "concurrency_limits",
    params(("id" = Uuid, Path, description = "The limit's id")),
    responses((status = 200, body = TagLimitOut), (status = 404, body = ErrorBody)))]
async fn read_tag_limit(
    State(state): State<AppState>,
    _ctx: RequestContext,
    Path(id): Path<Uuid>,
) -> ApiResult<axum::Json<TagLimitOut>> {
    let l = tag_limit_by_id(&state, id).await?;
    Ok(axum::Json(tag_out(&state, l).await?))
}

/// Deletes a tag limit by id (200, as Prefect).
#[utoipa::path(delete, path = "/api/concurrency_limits/{id}", tag = "concurrency_limits",
    params(("id" = Uuid, Path, description = "The limit's id")),
    responses((status = 200, description = "Deleted"), (status = 404, body = ErrorBody)))]
async fn delete_tag_limit(
    State(state): State<AppState>,
    _ctx: RequestContext,
    Path(id): Path<Uuid>,
) -> ApiResult<StatusCode> {
    let l = tag_limit_by_id(&state, id).await?;
    state.store.delete_concurrency_limit(l.id).await?;
    Ok(StatusCode::OK)
}

/// The limit of a tag.
#[utoipa::path(get, path = "/api/concurrency_limits/tag/{tag}", tag = "concurrency_limits",
    params(("tag" = String, Path, description = "The tag")),
    responses((status = 200, body = TagLimitOut), (status = 404, body = ErrorBody)))]
async fn read_tag_limit_by_tag(
    State(state): State<AppState>,
    _ctx: RequestContext,
    Path(tag): Path<String>,
) -> ApiResult<axum::Json<TagLimitOut>> {
    let l = tag_limit_by_tag(&state, &tag).await?;
    Ok(axum::Json(tag_out(&state, l).await?))
}

/// Deletes the limit of a tag (200, as Prefect).
#[utoipa::path(delete, path = "/api/concurrency_limits/tag/{tag}", tag = "concurrency_limits",
    params(("tag" = String, Path, description = "The tag")),
    responses((status = 200, description = "Deleted"), (status = 404, body = ErrorBody)))]
async fn delete_tag_limit_by_tag(
    State(state): State<AppState>,
    _ctx: RequestContext,
    Path(tag): Path<String>,
) -> ApiResult<StatusCode> {
    let l = tag_limit_by_tag(&state, &tag).await?;
    state.store.delete_concurrency_limit(l.id).await?;
    Ok(StatusCode::OK)
}

/// Releases every slot of a tag's limit (Prefect's reset).
#[utoipa::path(post, path = "/api/concurrency_limits/tag/{tag}/reset", tag = "concurrency_limits",
    params(("tag" = String, Path, description = "The tag")),
    responses((status = 200, description = "Reset"), (status = 404, body = ErrorBody)))]
async fn reset_tag_limit(
    State(state): State<AppState>,
    _ctx: RequestContext,
    Path(tag): Path<String>,
) -> ApiResult<StatusCode> {
    let l = tag_limit_by_tag(&state, &tag).await?;
    state.store.reset_concurrency_limit(l.id).await?;
    Ok(StatusCode::OK)
}

/// Tag limits, by tag.
#[utoipa::path(post, path = "/api/concurrency_limits/filter", tag = "concurrency_limits",
    request_body = LimitFilterBody,
    responses((status = 200, body = Vec<TagLimitOut>), (status = 422, body = ErrorBody)))]
async fn filter_tag_limits(
    State(state): State<AppState>,
    _ctx: RequestContext,
    Json(body): Json<LimitFilterBody>,
) -> ApiResult<axum::Json<Vec<TagLimitOut>>> {
    let all = state.store.list_concurrency_limits(None, 0).await?;
    let tags: Vec<ConcurrencyLimit> = all
        .into_iter()
        .filter(|l| l.name.starts_with(TAG_PREFIX))
        .collect();
    let mut out = Vec::new();
    for l in paginate(tags, body.limit, body.offset) {
        out.push(tag_out(&state, l).await?);
    }
    Ok(axum::Json(out))
}

// ------------------------------------------------------- v2 (global)

async fn limit_by_id_or_name(state: &AppState, key: &str) -> ApiResult<ConcurrencyLimit> {
    let found = match Uuid::parse_str(key) {
        Ok(id) => state.store.read_concurrency_limit(id).await?,
        Err(_) => None,
    };
    let found = match found {
        Some(l) => Some(l),
        None => state.store.read_concurrency_limit_by_name(key).await?,
    };
    found.ok_or_else(|| ApiError::not_found(format!("concurrency limit `{key}`")))
}

/// Creates a global limit (201; 409 when the name is taken).
#[utoipa::path(post, path = "/api/v2/concurrency_limits/", tag = "concurrency_limits",
    request_body = GlobalLimitCreate,
    responses((status = 201, body = GlobalLimitOut), (status = 409, body = ErrorBody),
              (status = 422, body = ErrorBody)))]
async fn create_limit(
    State(state): State<AppState>,
    _ctx: RequestContext,
    Json(body): Json<GlobalLimitCreate>,
) -> ApiResult<(StatusCode, axum::Json<GlobalLimitOut>)> {
    check_name(&body.name)?;
    check_decay(Some(body.slot_decay_per_second))?;
    let mut limit = ConcurrencyLimit::new(body.name, body.limit);
    limit.active = body.active;
    let stored = state.store.create_concurrency_limit(&limit).await?;
    Ok((StatusCode::CREATED, axum::Json(stored.into())))
}

/// A global limit by id or name.
#[utoipa::path(get, path = "/api/v2/concurrency_limits/{id_or_name}", tag = "concurrency_limits",
    params(("id_or_name" = String, Path, description = "The limit's id or name")),
    responses((status = 200, body = GlobalLimitOut), (status = 404, body = ErrorBody)))]
async fn read_limit(
    State(state): State<AppState>,
    _ctx: RequestContext,
    Path(key): Path<String>,
) -> ApiResult<axum::Json<GlobalLimitOut>> {
    Ok(axum::Json(limit_by_id_or_name(&state, &key).await?.into()))
}

/// Changes a global limit (204).
#[utoipa::path(patch, path = "/api/v2/concurrency_limits/{id_or_name}", tag = "concurrency_limits",
    params(("id_or_name" = String, Path, description = "The limit's id or name")),
    request_body = GlobalLimitUpdate,
    responses((status = 204, description = "Updated"), (status = 404, body = ErrorBody),
              (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn update_limit(
    State(state): State<AppState>,
    _ctx: RequestContext,
    Path(key): Path<String>,
    Json(body): Json<GlobalLimitUpdate>,
) -> ApiResult<StatusCode> {
    check_decay(body.slot_decay_per_second)?;
    if body.active_slots.is_some_and(|n| n != 0) {
        return Err(ApiError::invalid(
            "`active_slots` can only be set to 0 (releasing every slot held): weft counts held slots from their leases",
        ));
    }
    let mut l = limit_by_id_or_name(&state, &key).await?;
    if let Some(name) = body.name {
        check_name(&name)?;
        l.name = name;
    }
    if let Some(n) = body.limit {
        l.limit = n;
    }
    if let Some(a) = body.active {
        l.active = a;
    }
    if !state.store.update_concurrency_limit(&l).await? {
        return Err(ApiError::not_found(format!("concurrency limit `{key}`")));
    }
    if body.active_slots == Some(0) {
        state.store.reset_concurrency_limit(l.id).await?;
    }
    Ok(StatusCode::NO_CONTENT)
}

/// Deletes a global limit (204).
#[utoipa::path(delete, path = "/api/v2/concurrency_limits/{id_or_name}", tag = "concurrency_limits",
    params(("id_or_name" = String, Path, description = "The limit's id or name")),
    responses((status = 204, description = "Deleted"), (status = 404, body = ErrorBody)))]
async fn delete_limit(
    State(state): State<AppState>,
    _ctx: RequestContext,
    Path(key): Path<String>,
) -> ApiResult<StatusCode> {
    let l = limit_by_id_or_name(&state, &key).await?;
    state.store.delete_concurrency_limit(l.id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Global limits (tag limits included), by name.
#[utoipa::path(post, path = "/api/v2/concurrency_limits/filter", tag = "concurrency_limits",
    request_body = LimitFilterBody,
    responses((status = 200, body = Vec<GlobalLimitOut>), (status = 422, body = ErrorBody)))]
async fn filter_limits(
    State(state): State<AppState>,
    _ctx: RequestContext,
    Json(body): Json<LimitFilterBody>,
) -> ApiResult<axum::Json<Vec<GlobalLimitOut>>> {
    let limits = state
        .store
        .list_concurrency_limits(body.limit, body.offset.unwrap_or(0))
        .await?;
    Ok(axum::Json(limits.into_iter().map(Into::into).collect()))
}

/// Takes slots of the named limits as one lease. A full limit answers 423
/// with a `Retry-After` header (after waiting up to `wait_seconds`, weft's
/// own field, when given).
#[utoipa::path(post, path = "/api/v2/concurrency_limits/increment-with-lease",
    tag = "concurrency_limits", request_body = IncrementWithLease,
    responses((status = 200, body = LeaseOut), (status = 423, body = LimitFull),
              (status = 422, body = ErrorBody)))]
async fn increment_with_lease(
    State(state): State<AppState>,
    _ctx: RequestContext,
    Json(body): Json<IncrementWithLease>,
) -> ApiResult<Response> {
    if body.mode.as_deref().is_some_and(|m| m != "concurrency") {
        return Err(ApiError::invalid(
            "only mode `concurrency` is supported: weft has no rate limits yet",
        ));
    }
    let request = SlotRequest {
        names: body.names,
        slots: body.slots,
        lease: seconds(
            body.lease_duration,
            "lease_duration",
            weft_store::concurrency::MAX_LEASE,
        )?,
        holder: body.holder.map(Into::into),
        wait: match body.wait_seconds {
            Some(w) if w > 0.0 => seconds(w, "wait_seconds", weft_store::concurrency::MAX_WAIT)?,
            _ => Duration::ZERO,
        },
    };
    match state.store.acquire_slots(&request).await? {
        SlotGrant::Acquired { lease_id, limits } => Ok(axum::Json(LeaseOut {
            lease_id,
            limits: limits.into_iter().map(Into::into).collect(),
        })
        .into_response()),
        SlotGrant::Busy {
            limit,
            active,
            retry_after,
        } => {
            let body = LimitFull {
                detail: format!(
                    "concurrency limit `{}` is full ({active} of {} slots taken)",
                    limit.name, limit.limit
                ),
                limit: limit.into(),
                active_slots: active,
                retry_after: retry_after.as_secs_f64(),
            };
            let secs = retry_after.as_secs_f64().ceil().max(1.0) as u64;
            let mut response = (StatusCode::LOCKED, axum::Json(body)).into_response();
            if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, v);
            }
            Ok(response)
        }
    }
}

/// Extends a lease (204; 404 when it expired or was released).
#[utoipa::path(post, path = "/api/v2/concurrency_limits/leases/{lease_id}/renew",
    tag = "concurrency_limits",
    params(("lease_id" = Uuid, Path, description = "The lease's id")),
    request_body = RenewLease,
    responses((status = 204, description = "Renewed"), (status = 404, body = ErrorBody)))]
async fn renew_lease(
    State(state): State<AppState>,
    _ctx: RequestContext,
    Path(lease_id): Path<Uuid>,
    Json(body): Json<RenewLease>,
) -> ApiResult<StatusCode> {
    let lease = seconds(
        body.lease_duration,
        "lease_duration",
        weft_store::concurrency::MAX_LEASE,
    )?;
    if state.store.renew_lease(lease_id, lease).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found(format!(
            "lease {lease_id} (expired or released)"
        )))
    }
}

/// Releases a lease's slots (204, also when it was already gone).
#[utoipa::path(post, path = "/api/v2/concurrency_limits/decrement-with-lease",
    tag = "concurrency_limits", request_body = DecrementWithLease,
    responses((status = 204, description = "Released")))]
async fn decrement_with_lease(
    State(state): State<AppState>,
    _ctx: RequestContext,
    Json(body): Json<DecrementWithLease>,
) -> ApiResult<StatusCode> {
    state.store.release_lease(body.lease_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

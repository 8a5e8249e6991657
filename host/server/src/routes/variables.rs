//! Variables: create, read (by id and by name), filter, update, delete.

use crate::extract::Path;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::Utc;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;
use weft_core::Variable;

use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::Json;
use crate::models::filter::paginate;
use crate::models::variable::{VariableCreate, VariableFilterBody, VariableOut, VariableUpdate};
use crate::{AppState, RequestContext};

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_variable))
        .routes(routes!(read_variable, update_variable, delete_variable))
        .routes(routes!(
            read_variable_by_name,
            update_variable_by_name,
            delete_variable_by_name
        ))
        .routes(routes!(filter_variables))
}

fn check_name(name: &str) -> ApiResult<()> {
    if name.is_empty()
        || name.len() > 255
        || !name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '_' | '-'))
    {
        return Err(ApiError::invalid(format!(
            "invalid variable name `{name}`: use lowercase letters, digits, `_` and `-`"
        )));
    }
    Ok(())
}

/// Creates a variable (201; 409 if one of that name exists).
#[utoipa::path(post, path = "/api/variables/", tag = "variables",
    request_body = VariableCreate,
    responses((status = 201, body = VariableOut), (status = 409, body = ErrorBody),
              (status = 422, body = ErrorBody)))]
async fn create_variable(
    State(state): State<AppState>,
    _ctx: RequestContext,
    Json(body): Json<VariableCreate>,
) -> ApiResult<(StatusCode, axum::Json<VariableOut>)> {
    check_name(&body.name)?;
    let now = Utc::now();
    let v = Variable {
        id: Uuid::now_v7(),
        name: body.name,
        value: body.value,
        tags: body.tags,
        created: now,
        updated: now,
    };
    let stored = state.store.create_variable(&v).await.map_err(|e| match e {
        weft_store::StoreError::Conflict(_) => {
            ApiError::Conflict(format!("a variable named `{}` already exists", v.name))
        }
        other => other.into(),
    })?;
    Ok((StatusCode::CREATED, axum::Json(stored.into())))
}

async fn by_id(state: &AppState, id: Uuid) -> ApiResult<Variable> {
    state
        .store
        .read_variable(id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("variable {id}")))
}

async fn by_name(state: &AppState, name: &str) -> ApiResult<Variable> {
    state
        .store
        .read_variable_by_name(name)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("variable `{name}`")))
}

async fn apply(state: &AppState, mut v: Variable, body: VariableUpdate) -> ApiResult<StatusCode> {
    if let Some(n) = body.name {
        check_name(&n)?;
        v.name = n;
    }
    if let Some(val) = body.value {
        v.value = val;
    }
    if let Some(t) = body.tags {
        v.tags = t;
    }
    v.updated = Utc::now();
    if !state.store.update_variable(&v).await? {
        return Err(ApiError::not_found(format!("variable {}", v.id)));
    }
    Ok(StatusCode::NO_CONTENT)
}

/// A variable by id.
#[utoipa::path(get, path = "/api/variables/{id}", tag = "variables",
    params(("id" = Uuid, Path, description = "The variable's id")),
    responses((status = 200, body = VariableOut), (status = 404, body = ErrorBody)))]
async fn read_variable(
    State(state): State<AppState>,
    _ctx: RequestContext,
    Path(id): Path<Uuid>,
) -> ApiResult<axum::Json<VariableOut>> {
    Ok(axum::Json(by_id(&state, id).await?.into()))
}

/// Changes a variable by id (204).
#[utoipa::path(patch, path = "/api/variables/{id}", tag = "variables",
    params(("id" = Uuid, Path, description = "The variable's id")),
    request_body = VariableUpdate,
    responses((status = 204, description = "Updated"), (status = 404, body = ErrorBody),
              (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn update_variable(
    State(state): State<AppState>,
    _ctx: RequestContext,
    Path(id): Path<Uuid>,
    Json(body): Json<VariableUpdate>,
) -> ApiResult<StatusCode> {
    let v = by_id(&state, id).await?;
    apply(&state, v, body).await
}

/// Deletes a variable by id (204).
#[utoipa::path(delete, path = "/api/variables/{id}", tag = "variables",
    params(("id" = Uuid, Path, description = "The variable's id")),
    responses((status = 204, description = "Deleted"), (status = 404, body = ErrorBody)))]
async fn delete_variable(
    State(state): State<AppState>,
    _ctx: RequestContext,
    Path(id): Path<Uuid>,
) -> ApiResult<StatusCode> {
    let v = by_id(&state, id).await?;
    state.store.delete_variable_by_name(&v.name).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A variable by name.
#[utoipa::path(get, path = "/api/variables/name/{name}", tag = "variables",
    params(("name" = String, Path, description = "The variable's name")),
    responses((status = 200, body = VariableOut), (status = 404, body = ErrorBody)))]
async fn read_variable_by_name(
    State(state): State<AppState>,
    _ctx: RequestContext,
    Path(name): Path<String>,
) -> ApiResult<axum::Json<VariableOut>> {
    Ok(axum::Json(by_name(&state, &name).await?.into()))
}

/// Changes a variable by name (204).
#[utoipa::path(patch, path = "/api/variables/name/{name}", tag = "variables",
    params(("name" = String, Path, description = "The variable's name")),
    request_body = VariableUpdate,
    responses((status = 204, description = "Updated"), (status = 404, body = ErrorBody),
              (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn update_variable_by_name(
    State(state): State<AppState>,
    _ctx: RequestContext,
    Path(name): Path<String>,
    Json(body): Json<VariableUpdate>,
) -> ApiResult<StatusCode> {
    let v = by_name(&state, &name).await?;
    apply(&state, v, body).await
}

/// Deletes a variable by name (204).
#[utoipa::path(delete, path = "/api/variables/name/{name}", tag = "variables",
    params(("name" = String, Path, description = "The variable's name")),
    responses((status = 204, description = "Deleted"), (status = 404, body = ErrorBody)))]
async fn delete_variable_by_name(
    State(state): State<AppState>,
    _ctx: RequestContext,
    Path(name): Path<String>,
) -> ApiResult<StatusCode> {
    if state.store.delete_variable_by_name(&name).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found(format!("variable `{name}`")))
    }
}

/// Variables matching a Prefect filter body.
#[utoipa::path(post, path = "/api/variables/filter", tag = "variables",
    request_body = VariableFilterBody,
    responses((status = 200, body = Vec<VariableOut>), (status = 422, body = ErrorBody)))]
async fn filter_variables(
    State(state): State<AppState>,
    _ctx: RequestContext,
    Json(body): Json<VariableFilterBody>,
) -> ApiResult<axum::Json<Vec<VariableOut>>> {
    let mut filter = weft_store::VariableFilter::default();
    if let Some(c) = &body.variables {
        filter.names = c.name.as_ref().and_then(|f| f.any_.clone());
        filter.tags_all = c.tags.as_ref().and_then(|f| f.all_.clone());
    }
    let mut vars = state.store.list_variables(&filter).await?;
    if let Some(c) = &body.variables {
        vars.retain(|v| {
            c.id.as_ref().is_none_or(|f| f.matches(Some(v.id)))
                && c.name.as_ref().is_none_or(|f| f.matches(&v.name))
                && c.tags.as_ref().is_none_or(|f| f.matches(&v.tags))
        });
    }
    match body.sort.as_deref() {
        None | Some("NAME_ASC") => {}
        Some("NAME_DESC") => vars.reverse(),
        Some("CREATED_DESC") => vars.sort_by_key(|x| std::cmp::Reverse(x.created)),
        Some("UPDATED_DESC") => vars.sort_by_key(|x| std::cmp::Reverse(x.updated)),
        Some(other) => {
            return Err(ApiError::invalid(format!(
                "unknown variable sort `{other}`"
            )));
        }
    }
    let vars = paginate(vars, body.limit, body.offset);
    Ok(axum::Json(vars.into_iter().map(Into::into).collect()))
}

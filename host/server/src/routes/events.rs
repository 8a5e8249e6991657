//! Events and webhooks: `POST /api/events` (events from outside),
//! `POST /api/events/filter` (Prefect's), webhooks' definitions
//! (`/api/webhooks/`) and `POST /hooks/{slug}`, which turns a request into
//! the event its webhook's template makes.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use chrono::Utc;
use serde_json::{Value, json};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;
use weft_core::event::{RESOURCE_ID, RESOURCE_NAME, RESOURCE_ROLE};
use weft_store::{Definition, EventFilter, StoreError};

use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{Json, Path};
use crate::models::automation::{
    EventFilterBody, EventIn, EventPage, EventsIn, WebhookOut, WebhookSpec,
};
use crate::{AppState, RequestContext};

/// The definition kind of webhooks.
pub(crate) const WEBHOOK: &str = "webhook";

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(post_events))
        .routes(routes!(filter_events))
        .routes(routes!(create_webhook, list_webhooks))
        .routes(routes!(read_webhook, delete_webhook))
        .routes(routes!(receive_hook))
}

/// Accepts one event or a list of them from outside (204); each needs an
/// `event` and a resource with `prefect.resource.id`.
#[utoipa::path(post, path = "/api/events", tag = "events",
    request_body = EventsIn,
    responses((status = 204, description = "Accepted"), (status = 422, body = ErrorBody)))]
async fn post_events(
    State(state): State<AppState>,
    _ctx: RequestContext,
    Json(body): Json<EventsIn>,
) -> ApiResult<StatusCode> {
    let incoming = match body {
        EventsIn::Many(v) => v,
        EventsIn::One(e) => vec![*e],
    };
    let events = incoming
        .into_iter()
        .map(EventIn::into_event)
        .collect::<Result<Vec<_>, _>>()
        .map_err(ApiError::invalid)?;
    for e in events {
        state.events.emit(e);
    }
    Ok(StatusCode::NO_CONTENT)
}

/// Events, newest first (Prefect's `EventPage`).
#[utoipa::path(post, path = "/api/events/filter", tag = "events",
    request_body = EventFilterBody,
    responses((status = 200, body = EventPage), (status = 422, body = ErrorBody)))]
async fn filter_events(
    State(state): State<AppState>,
    _ctx: RequestContext,
    Json(body): Json<EventFilterBody>,
) -> ApiResult<axum::Json<EventPage>> {
    state.events.flush().await;
    let c = body.filter.unwrap_or_default();
    let filter = EventFilter {
        names: c.event.as_ref().and_then(|e| e.name.clone()),
        prefixes: c.event.as_ref().and_then(|e| e.prefix.clone()),
        resource_ids: c.resource.and_then(|r| r.id),
        since: c.occurred.as_ref().and_then(|o| o.since),
        until: c.occurred.as_ref().and_then(|o| o.until),
        limit: Some(body.limit.unwrap_or(50)),
    };
    let events = state.store.read_events(&filter).await?;
    Ok(axum::Json(EventPage {
        total: events.len(),
        events,
        next_page: None,
    }))
}

fn check_slug(slug: &str) -> ApiResult<()> {
    if slug.is_empty()
        || slug.len() > 128
        || !slug
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
    {
        return Err(ApiError::invalid(format!(
            "invalid webhook slug {slug:?}: use letters, digits, `-` and `_`"
        )));
    }
    Ok(())
}

fn webhook_out(d: Definition) -> ApiResult<WebhookOut> {
    let spec: WebhookSpec = serde_json::from_value(d.body)
        .map_err(|e| ApiError::Internal(format!("stored webhook {}: {e}", d.id)))?;
    Ok(WebhookOut {
        id: d.id,
        created: d.created,
        updated: d.updated,
        spec,
    })
}

/// Creates a webhook (201; 409 when the slug is taken). Its URL is
/// `/hooks/{slug}`.
#[utoipa::path(post, path = "/api/webhooks/", tag = "events",
    request_body = WebhookSpec,
    responses((status = 201, body = WebhookOut), (status = 409, body = ErrorBody),
              (status = 422, body = ErrorBody)))]
async fn create_webhook(
    State(state): State<AppState>,
    _ctx: RequestContext,
    Json(spec): Json<WebhookSpec>,
) -> ApiResult<(StatusCode, axum::Json<WebhookOut>)> {
    check_slug(&spec.slug)?;
    if !spec.template.is_object() {
        return Err(ApiError::invalid(
            "a webhook's template must be a JSON object (the event to emit)",
        ));
    }
    crate::templates::check(&spec.template).map_err(ApiError::invalid)?;
    let now = Utc::now();
    let d = Definition {
        id: Uuid::now_v7(),
        name: spec.slug.clone(),
        body: serde_json::to_value(&spec).map_err(|e| ApiError::Internal(e.to_string()))?,
        created: now,
        updated: now,
    };
    state
        .store
        .put_definition(WEBHOOK, &d)
        .await
        .map_err(|e| match e {
            StoreError::Conflict(_) => {
                ApiError::Conflict(format!("a webhook with slug `{}` exists", spec.slug))
            }
            other => other.into(),
        })?;
    Ok((StatusCode::CREATED, axum::Json(webhook_out(d)?)))
}

/// Every webhook, by slug.
#[utoipa::path(get, path = "/api/webhooks/", tag = "events",
    responses((status = 200, body = Vec<WebhookOut>)))]
async fn list_webhooks(
    State(state): State<AppState>,
    _ctx: RequestContext,
) -> ApiResult<axum::Json<Vec<WebhookOut>>> {
    let defs = state.store.list_definitions(WEBHOOK).await?;
    Ok(axum::Json(
        defs.into_iter()
            .map(webhook_out)
            .collect::<ApiResult<_>>()?,
    ))
}

/// A webhook by id.
#[utoipa::path(get, path = "/api/webhooks/{id}", tag = "events",
    params(("id" = Uuid, Path, description = "The webhook's id")),
    responses((status = 200, body = WebhookOut), (status = 404, body = ErrorBody)))]
async fn read_webhook(
    State(state): State<AppState>,
    _ctx: RequestContext,
    Path(id): Path<Uuid>,
) -> ApiResult<axum::Json<WebhookOut>> {
    let d = state
        .store
        .read_definition(WEBHOOK, id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("webhook {id}")))?;
    Ok(axum::Json(webhook_out(d)?))
}

/// Deletes a webhook (204).
#[utoipa::path(delete, path = "/api/webhooks/{id}", tag = "events",
    params(("id" = Uuid, Path, description = "The webhook's id")),
    responses((status = 204, description = "Deleted"), (status = 404, body = ErrorBody)))]
async fn delete_webhook(
    State(state): State<AppState>,
    _ctx: RequestContext,
    Path(id): Path<Uuid>,
) -> ApiResult<StatusCode> {
    if state.store.delete_definition(WEBHOOK, id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found(format!("webhook {id}")))
    }
}

/// Turns a request into its webhook's event (202 with the event's id).
/// The body is JSON when it parses, else text.
#[utoipa::path(post, path = "/hooks/{slug}", tag = "events",
    params(("slug" = String, Path, description = "The webhook's slug")),
    request_body(content = String, description = "Any body"),
    responses((status = 202, description = "The event was emitted"),
              (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn receive_hook(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    Query(query): Query<BTreeMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<(StatusCode, axum::Json<Value>)> {
    let hooks = state.store.list_definitions(WEBHOOK).await?;
    let d = hooks
        .into_iter()
        .find(|d| d.name == slug)
        .ok_or_else(|| ApiError::not_found(format!("webhook `{slug}`")))?;
    let id = d.id;
    let hook = webhook_out(d)?;
    if !hook.spec.enabled {
        return Err(ApiError::not_found(format!("webhook `{slug}`")));
    }
    let body = serde_json::from_slice::<Value>(&body)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&body).into_owned()));
    let headers: BTreeMap<String, String> = headers
        .iter()
        .filter_map(|(k, v)| Some((k.as_str().to_string(), v.to_str().ok()?.to_string())))
        .collect();
    let context = json!({ "body": body, "headers": headers, "query": query, "method": "POST" });
    let mut rendered =
        crate::templates::render(&hook.spec.template, &context).map_err(ApiError::invalid)?;
    if let Value::Object(map) = &mut rendered {
        map.entry("resource").or_insert_with(
            || json!({ RESOURCE_ID: format!("weft.webhook.{slug}"), RESOURCE_NAME: slug }),
        );
    }
    let incoming: EventIn = serde_json::from_value(rendered).map_err(|e| {
        ApiError::invalid(format!(
            "webhook `{slug}`'s template did not make an event: {e}"
        ))
    })?;
    let mut event = incoming.into_event().map_err(ApiError::invalid)?;
    event.related.push(
        [
            (RESOURCE_ID.to_string(), format!("weft.webhook.{id}")),
            (RESOURCE_ROLE.to_string(), "webhook".to_string()),
            (RESOURCE_NAME.to_string(), slug.clone()),
        ]
        .into_iter()
        .collect(),
    );
    let event_id = event.id;
    state.events.emit(event);
    Ok((
        StatusCode::ACCEPTED,
        axum::Json(json!({ "event_id": event_id })),
    ))
}

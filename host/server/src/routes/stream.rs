//! `GET /api/events/stream`: every event the server's bus publishes, live,
//! as server-sent events (the UI's live updates). A subscriber that falls
//! behind skips the events it missed (and is told how many) instead of
//! being disconnected.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::extract::{Query, State};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use futures_core::Stream;
use serde::Deserialize;
use tokio::sync::broadcast::{self, error::RecvError};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use weft_core::Event;
use weft_core::event::RESOURCE_ID;

use crate::{AppState, RequestContext};

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(stream_events))
}

/// The query of `GET /api/events/stream`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct StreamQuery {
    /// Only events whose resource id starts with this
    /// (`prefect.flow-run.<id>`); every event when absent.
    resource: Option<String>,
}

/// Events from now on, as `text/event-stream`: each a `message` whose data
/// is the event's JSON (Prefect's event model) and whose id is the event's
/// id; a `lagged` event (data: how many were skipped) when this subscriber
/// fell behind; a comment every 15 s to keep the connection open.
#[utoipa::path(get, path = "/api/events/stream", tag = "events",
    params(StreamQuery),
    responses((status = 200, description = "Server-sent events", content_type = "text/event-stream")))]
async fn stream_events(
    State(state): State<AppState>,
    _ctx: RequestContext,
    Query(query): Query<StreamQuery>,
) -> Sse<axum::response::sse::KeepAliveStream<EventStream>> {
    let stream = EventStream::new(state.events.subscribe(), query.resource);
    Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}

type Next = (
    Result<Arc<Event>, RecvError>,
    broadcast::Receiver<Arc<Event>>,
);

/// The bus's receiver as a stream of SSE events.
pub(crate) struct EventStream {
    pending: Pin<Box<dyn Future<Output = Next> + Send>>,
    prefix: Option<String>,
}

impl EventStream {
    fn new(rx: broadcast::Receiver<Arc<Event>>, prefix: Option<String>) -> EventStream {
        EventStream {
            pending: Box::pin(recv(rx)),
            prefix: prefix.filter(|p| !p.is_empty()),
        }
    }

    fn wanted(&self, event: &Event) -> bool {
        self.prefix.as_deref().is_none_or(|p| {
            event
                .resource
                .get(RESOURCE_ID)
                .is_some_and(|id| id.starts_with(p))
        })
    }
}

async fn recv(mut rx: broadcast::Receiver<Arc<Event>>) -> Next {
    let got = rx.recv().await;
    (got, rx)
}

impl Stream for EventStream {
    type Item = Result<SseEvent, Infallible>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        loop {
            let (got, rx) = match self.pending.as_mut().poll(cx) {
                Poll::Ready(next) => next,
                Poll::Pending => return Poll::Pending,
            };
            self.pending = Box::pin(recv(rx));
            match got {
                Ok(event) if self.wanted(&event) => {
                    let sse = SseEvent::default()
                        .id(event.id.to_string())
                        .json_data(event.as_ref())
                        .unwrap_or_else(|_| SseEvent::default().comment("unserializable event"));
                    return Poll::Ready(Some(Ok(sse)));
                }
                Ok(_) => continue,
                Err(RecvError::Lagged(n)) => {
                    let sse = SseEvent::default().event("lagged").data(n.to_string());
                    return Poll::Ready(Some(Ok(sse)));
                }
                Err(RecvError::Closed) => return Poll::Ready(None),
            }
        }
    }
}

//! The API's routes, one module per resource. Each module's `routes()`
//! registers its handlers together with their OpenAPI descriptions, so the
//! router and `/api/openapi.json` cannot disagree.

mod admin;
mod automations;
mod cache;
mod components;
mod concurrency_limits;
pub(crate) mod deployments;
mod events;
pub(crate) mod flow_runs;
mod flows;
mod logs;
pub(crate) mod schedules;
mod secrets;
mod stream;
mod task_runs;
mod variables;
mod work_pools;

use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use uuid::Uuid;
use weft_core::FlowRun;

use crate::error::ApiResult;
use crate::models::flow_run::{FlowRunLinks, FlowRunOut};
use crate::{AppState, RequestContext};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "weft",
        description = "Weft's REST API: Prefect 3's paths and models, with flows as WebAssembly components."
    ),
    tags(
        (name = "admin"), (name = "flows"), (name = "flow_runs"), (name = "task_runs"),
        (name = "logs"), (name = "deployments"), (name = "work_pools"), (name = "variables"),
        (name = "secrets"), (name = "components"), (name = "cache"),
        (name = "concurrency_limits"), (name = "events"), (name = "automations")
    )
)]
struct ApiDoc;

/// Every route, with its OpenAPI description.
pub(crate) fn api_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(admin::routes())
        .merge(flows::routes())
        .merge(flow_runs::routes())
        .merge(task_runs::routes())
        .merge(logs::routes())
        .merge(secrets::routes())
        .merge(components::routes())
        .merge(cache::routes())
        .merge(deployments::routes())
        .merge(schedules::routes())
        .merge(work_pools::routes())
        .merge(variables::routes())
        .merge(concurrency_limits::routes())
        .merge(events::routes())
        .merge(stream::routes())
        .merge(automations::routes())
}

/// Resolves what flow runs refer to by name (their flow's id, their work
/// pool's id) for one request, through the server's [`Catalog`].
///
/// [`Catalog`]: crate::catalog::Catalog
pub(crate) struct Linker<'a> {
    state: &'a AppState,
}

impl<'a> Linker<'a> {
    /// A linker for one request of `ctx`.
    pub(crate) fn new(state: &'a AppState, _ctx: &RequestContext) -> Linker<'a> {
        Linker { state }
    }

    /// The id of the flow named `name` (nil if it was never recorded).
    pub(crate) async fn flow_id(&mut self, name: &str) -> ApiResult<Uuid> {
        let store = self.state.store.as_ref();
        Ok(self.state.catalog.flow_id(store, name).await?)
    }

    /// The id of the work pool named `name`, if it exists.
    pub(crate) async fn work_pool_id(&mut self, name: &str) -> ApiResult<Option<Uuid>> {
        let store = self.state.store.as_ref();
        Ok(self.state.catalog.work_pool_id(store, name).await?)
    }

    /// The API form of `run`.
    pub(crate) async fn flow_run(&mut self, run: FlowRun) -> ApiResult<FlowRunOut> {
        let flow_id = self.flow_id(&run.flow_name).await?;
        let work_pool_id = match &run.work_pool_name {
            Some(p) => self.work_pool_id(p).await?,
            None => None,
        };
        Ok(FlowRunOut::new(
            run,
            FlowRunLinks {
                flow_id,
                work_pool_id,
            },
        ))
    }

    /// The API forms of `runs`.
    pub(crate) async fn flow_runs(&mut self, runs: Vec<FlowRun>) -> ApiResult<Vec<FlowRunOut>> {
        let mut out = Vec::with_capacity(runs.len());
        for run in runs {
            out.push(self.flow_run(run).await?);
        }
        Ok(out)
    }
}

//! Weft's central server: the REST API, shaped like Prefect 3's, over a
//! [`Store`] and the wasm [`Runtime`].
//!
//! [`router`] builds the axum router (every route under `/api`, with
//! Prefect's paths, JSON field names and status codes where Prefect has the
//! same thing, and weft's own `/api/components`); [`serve`] binds it and
//! runs it until a shutdown signal, finishing requests in flight. The
//! OpenAPI document is generated from the handlers and served at
//! `/api/openapi.json` ([`openapi`]).
//!
//! Errors are one type, [`ApiError`], converted in one place into a JSON
//! `{"detail": "..."}` with a 4xx status for bad input. Every handler
//! receives a [`RequestContext`] (caller and workspace), though there is
//! one default workspace and no authentication yet.

pub mod automations;
pub mod catalog;
mod error;
pub mod events;
mod extract;
pub mod models;
mod routes;
pub mod scheduler;
mod templates;
mod triggers;
pub mod ui;

use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, OnceLock};

use axum::Router;
use weft_runtime::Runtime;
use weft_store::Store;

pub use error::{ApiError, ApiResult, ErrorBody};
pub use extract::{Caller, DEFAULT_WORKSPACE, Json, RequestContext};

/// The Prefect version weft's API answers `GET /api/admin/version` with:
/// Prefect's client refuses a server of another major version.
pub const PREFECT_COMPATIBLE_VERSION: &str = "3.9.1";

/// Configuration of the server: plain data with defaults.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// The address to listen on (default 127.0.0.1).
    pub host: IpAddr,
    /// The port to listen on (default 4200, Prefect's; 0 picks a free one).
    pub port: u16,
    /// The largest component `POST /api/components` accepts (default 64 MiB).
    pub max_component_bytes: usize,
    /// The largest JSON body any other route accepts (default 16 MiB).
    pub max_json_bytes: usize,
    /// The scheduler [`serve`] runs beside the API (default on); `None`
    /// runs none (another server on the same database may).
    pub scheduler: Option<scheduler::SchedulerConfig>,
    /// A claimed run whose worker has not heartbeated for this long holds
    /// no slot of its deployment's or pool's concurrency limit (default
    /// 90 s, Prefect's zombie threshold): a dead worker's runs free their
    /// slots by themselves.
    pub lost_after: std::time::Duration,
    /// The operator's allowlist of outbound HTTP hosts for every run this
    /// server hands out (`weft server start --allow-host`): workers apply it
    /// on top of the deployment's list and their own. Entries as written.
    pub allowed_hosts: Option<Vec<String>>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            host: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: 4200,
            max_component_bytes: 64 << 20,
            max_json_bytes: 16 << 20,
            scheduler: Some(scheduler::SchedulerConfig::default()),
            lost_after: std::time::Duration::from_secs(90),
            allowed_hosts: None,
        }
    }
}

/// What every handler shares: the store, the runtime and the config.
/// Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    /// Where everything is recorded.
    pub store: Arc<dyn Store>,
    /// Validates (and compiles) uploaded components.
    pub runtime: Runtime,
    /// The server's configuration.
    pub config: Arc<ServerConfig>,
    /// Creates scheduled runs at once when schedules change (when the
    /// configuration has a scheduler).
    pub scheduler: Option<scheduler::Scheduler>,
    /// Where every event goes.
    pub events: events::EventBus,
    /// The automations the engine runs.
    pub automations: automations::Automations,
    /// Cached flow and work pool names, for linking runs.
    pub catalog: catalog::Catalog,
}

impl AppState {
    /// Shared state over `store` and `runtime`; starts the event bus and
    /// the automations engine (on the current tokio runtime).
    pub fn new(config: ServerConfig, store: Arc<dyn Store>, runtime: Runtime) -> AppState {
        let events = events::EventBus::start(Arc::clone(&store));
        let lost_after = chrono::Duration::from_std(config.lost_after).ok();
        let scheduler = config.scheduler.clone().map(|c| {
            let c = scheduler::SchedulerConfig { lost_after, ..c };
            scheduler::Scheduler::new(Arc::clone(&store), c).with_events(events.clone())
        });
        let state = AppState {
            store,
            runtime,
            config: Arc::new(config),
            scheduler,
            events,
            automations: automations::Automations::default(),
            catalog: catalog::Catalog::default(),
        };
        tokio::spawn(automations::run(state.clone()));
        state
    }
}

/// The API's router: every route under `/api`, plus `/api/openapi.json`,
/// and the web UI at `/` ([`ui`]).
pub fn router(state: AppState) -> Router {
    let max_json = state.config.max_json_bytes;
    let (router, _) = routes::api_router().split_for_parts();
    router
        .merge(ui::routes())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::extract::DefaultBodyLimit::max(max_json))
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(state)
}

/// A JSON 404 under `/api` (and `/hooks`); the UI's page elsewhere.
async fn not_found(
    method: axum::http::Method,
    uri: axum::http::Uri,
    headers: axum::http::HeaderMap,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    if method == axum::http::Method::GET && ui::is_page_path(uri.path()) {
        return ui::index(headers).await;
    }
    ApiError::NotFound(format!("no route {uri}")).into_response()
}

async fn method_not_allowed(
    method: axum::http::Method,
    uri: axum::http::Uri,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    (
        axum::http::StatusCode::METHOD_NOT_ALLOWED,
        axum::Json(ErrorBody {
            detail: format!("method {method} is not allowed on {uri}"),
        }),
    )
        .into_response()
}

/// The OpenAPI document of every route, generated from the handlers.
pub fn openapi() -> &'static utoipa::openapi::OpenApi {
    static DOC: OnceLock<utoipa::openapi::OpenApi> = OnceLock::new();
    DOC.get_or_init(|| routes::api_router().split_for_parts().1)
}

/// Serves the API on `config.host:config.port` until `shutdown` completes,
/// then stops accepting connections and finishes the requests in flight.
pub async fn serve(
    config: ServerConfig,
    store: Arc<dyn Store>,
    runtime: Runtime,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let addr = SocketAddr::new(config.host, config.port);
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| anyhow::anyhow!("could not listen on {addr}: {e}"))?;
    let local = listener.local_addr()?;
    let state = AppState::new(config, store.clone(), runtime);
    tracing::info!(address = %local, "weft server listening on http://{local}/api");
    // The scheduler runs until the API has stopped.
    let (stop_scheduler, scheduler_stop) = tokio::sync::watch::channel(false);
    let scheduler = state.scheduler.clone().map(|s| {
        tracing::info!(tick = ?s.config().tick, "scheduler started");
        tokio::spawn(s.run(scheduler_stop))
    });
    let served = axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown)
        .await;
    let _ = stop_scheduler.send(true);
    if let Some(task) = scheduler {
        let _ = task.await;
    }
    served?;
    tracing::info!("weft server stopped accepting requests; flushing the store");
    store.flush().await.map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(())
}

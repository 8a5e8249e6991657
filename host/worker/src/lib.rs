//! Weft's worker: claims flow runs from a work pool on a weft server, runs
//! them on the wasm [`Runtime`], and reports everything through the REST
//! API.
//!
//! [`run_worker`] polls `POST /api/work_pools/{pool}/claim_flow_runs` (an
//! atomic claim on the server: two workers never get the same run) for as
//! many runs as it has free slots, reads each run's deployment (limits,
//! granted secrets), fetches its component once ([`components`]), and runs
//! it with an [`HttpRecorder`] that reports states, task runs, logs and
//! cache entries to the server. It heartbeats the runs it holds and, every
//! [`WorkerConfig::cancel_poll_interval`] (200 ms by default), stops those
//! the server marks CANCELLING: they end Cancelled, with their running
//! task runs. A deployment's `limits.flow` overrides its flow's own
//! retries and timeout. On shutdown it stops claiming, lets
//! running runs finish for a grace period, and hands the rest back to the
//! pool (SCHEDULED again) for another worker.
//!
//! A run that cannot be executed (its deployment or component cannot be
//! read or loaded) ends Crashed with the reason; a bad server answer never
//! panics the worker.

pub mod api;
mod components;
pub mod recorder;
mod slots;

use std::collections::HashMap;
use std::future::Future;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::{Notify, watch};
use tokio::task::AbortHandle;
use uuid::Uuid;
use weft_core::{RunLimits, RunRecorder, State};
use weft_runtime::{CancelToken, FlowComponent, RunOptions, Runtime};

pub use api::{ApiClient, ApiError};
pub use recorder::HttpRecorder;

use crate::api::{ApiDeployment, ApiFlowRun};
use crate::components::Components;
use crate::recorder::retry;

/// How long a deployment read by a worker is reused before it is read
/// again (so edits reach running workers quickly).
const DEPLOYMENT_TTL: Duration = Duration::from_secs(5);

/// Why a worker could not start, or could not run one flow run.
#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    /// A call to the server failed.
    #[error(transparent)]
    Api(#[from] ApiError),
    /// The work pool does not exist on the server.
    #[error("work pool '{0}' does not exist (create it with `weft work-pool create {0}`)")]
    PoolNotFound(String),
    /// The run's deployment no longer exists.
    #[error("the run's deployment {0} does not exist")]
    DeploymentNotFound(Uuid),
    /// The run names no component.
    #[error("the flow run names no component to run")]
    NoComponent,
    /// The component could not be fetched or loaded.
    #[error("cannot load component {digest}: {message}")]
    Component {
        /// Its digest.
        digest: String,
        /// What went wrong.
        message: String,
    },
}

/// Configuration of a worker: plain data with defaults
/// ([`WorkerConfig::new`]).
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// The server's API (`http://127.0.0.1:4200/api`).
    pub api_url: String,
    /// The work pool to take runs from.
    pub pool: String,
    /// The worker's name, as the server records it.
    pub name: String,
    /// Flow runs executing at once.
    pub limit: usize,
    /// How long to wait before claiming again when the pool had nothing.
    pub poll_interval: Duration,
    /// How often to heartbeat the held runs.
    pub heartbeat_interval: Duration,
    /// How often to ask the server which held runs are being cancelled
    /// (one small filter request, only while runs are held): the latency
    /// of `weft flow-run cancel`.
    pub cancel_poll_interval: Duration,
    /// Where fetched components are kept (`None`: in memory only).
    pub cache_dir: Option<PathBuf>,
    /// How long running runs may take to finish after shutdown is asked
    /// before they are handed back.
    pub shutdown_grace: Duration,
    /// The operator's allowlist of outbound HTTP hosts (`weft worker start
    /// --allow-host`, `WEFT_ALLOWED_HOSTS`): when set, a run's request must
    /// pass it as well as the deployment's own list.
    pub allowed_hosts: Option<weft_core::network::AllowedHosts>,
}

impl WorkerConfig {
    /// A configuration for `pool` on the API at `api_url`, with defaults:
    /// a generated name, 32 runs at once, polling every second, a heartbeat
    /// every 10 seconds, a check for cancelled runs every 200 ms, no disk
    /// cache, 30 seconds of grace.
    pub fn new(api_url: impl Into<String>, pool: impl Into<String>) -> WorkerConfig {
        WorkerConfig {
            api_url: api_url.into(),
            pool: pool.into(),
            name: default_name(),
            limit: 32,
            poll_interval: Duration::from_secs(1),
            heartbeat_interval: Duration::from_secs(10),
            cancel_poll_interval: Duration::from_millis(200),
            cache_dir: None,
            shutdown_grace: Duration::from_secs(30),
            allowed_hosts: None,
        }
    }
}

/// `weft-worker-<pid>-<random>`: unique per process.
pub fn default_name() -> String {
    let id = Uuid::new_v4().simple().to_string();
    format!("weft-worker-{}-{}", std::process::id(), &id[..8])
}

/// A run this worker holds.
struct Held {
    cancel: CancelToken,
    recorder: Arc<HttpRecorder>,
    task: AbortHandle,
}

/// The worker's shared state.
struct Worker {
    config: WorkerConfig,
    api: ApiClient,
    runtime: Runtime,
    components: Components,
    deployments: Mutex<HashMap<Uuid, (Instant, Arc<ApiDeployment>)>>,
    held: Mutex<HashMap<Uuid, Held>>,
    /// Notified whenever a held run ends.
    ended: Notify,
}

/// Runs a worker until `shutdown` completes: claims, runs and reports flow
/// runs of `config.pool`, then finishes or hands back what it holds (see
/// the crate docs). Fails at start if the server cannot be reached or the
/// pool does not exist.
pub async fn run_worker(
    config: WorkerConfig,
    runtime: Runtime,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let api = ApiClient::new(&config.api_url)?;
    let pool_path = ["work_pools", config.pool.as_str()];
    match retry(|| api.get_opt::<serde_json::Value>(&pool_path)).await {
        Ok(Some(_)) => {}
        Ok(None) => return Err(WorkerError::PoolNotFound(config.pool.clone()).into()),
        Err(e) => return Err(WorkerError::Api(e).into()),
    }
    let worker = Arc::new(Worker {
        components: Components::new(api.clone(), runtime.clone(), config.cache_dir.clone()),
        config,
        api,
        runtime,
        deployments: Mutex::new(HashMap::new()),
        held: Mutex::new(HashMap::new()),
        ended: Notify::new(),
    });
    tracing::info!(
        pool = %worker.config.pool, name = %worker.config.name, limit = worker.config.limit,
        "worker started"
    );

    let (stop_tx, stop) = watch::channel(false);
    tokio::spawn(async move {
        shutdown.await;
        let _ = stop_tx.send(true);
    });
    let heartbeat = tokio::spawn(worker.clone().heartbeat_loop(stop.clone()));
    let cancels = tokio::spawn(worker.clone().cancel_loop());

    worker.clone().claim_loop(stop).await;
    tracing::info!(
        running = worker.held_count(),
        "worker stopping: no more claims"
    );
    worker.drain().await;
    heartbeat.abort();
    cancels.abort();
    tracing::info!("worker stopped");
    Ok(())
}

/// Waits until `stop` is set or `dur` has passed; true when stopping.
async fn sleep_or_stop(stop: &mut watch::Receiver<bool>, dur: Duration) -> bool {
    if *stop.borrow() {
        return true;
    }
    tokio::select! {
        _ = tokio::time::sleep(dur) => *stop.borrow(),
        _ = stop.changed() => true,
    }
}

impl Worker {
    fn held(&self) -> std::sync::MutexGuard<'_, HashMap<Uuid, Held>> {
        self.held.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn held_count(&self) -> usize {
        self.held().len()
    }

    fn held_ids(&self) -> Vec<Uuid> {
        self.held().keys().copied().collect()
    }

    /// Claims and starts runs until `stop` is set. A claim in flight is
    /// never interrupted, so no claimed run is lost.
    async fn claim_loop(self: Arc<Self>, mut stop: watch::Receiver<bool>) {
        let limit = self.config.limit.max(1);
        // Claim in batches: wait for a quarter of the slots to free up.
        let batch = (limit / 4).max(1);
        loop {
            if *stop.borrow() {
                return;
            }
            let free = limit.saturating_sub(self.held_count());
            if free < batch {
                let ended = self.ended.notified();
                tokio::select! {
                    _ = ended => {}
                    _ = tokio::time::sleep(Duration::from_millis(100)) => {}
                    _ = stop.changed() => return,
                }
                continue;
            }
            let claimed = self
                .api
                .claim_flow_runs(&self.config.pool, &self.config.name, free as u32)
                .await;
            match claimed {
                Ok(runs) if runs.is_empty() => {
                    // A run ending here may free a slot of a deployment's
                    // or pool's concurrency limit: claim again at once.
                    let ended = self.ended.notified();
                    tokio::select! {
                        _ = ended => {}
                        stopping = sleep_or_stop(&mut stop, self.config.poll_interval) => {
                            if stopping {
                                return;
                            }
                        }
                    }
                }
                Ok(runs) => {
                    tracing::debug!(count = runs.len(), "claimed flow runs");
                    for run in runs {
                        self.clone().start(run);
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "could not claim flow runs");
                    if sleep_or_stop(&mut stop, self.config.poll_interval).await {
                        return;
                    }
                }
            }
        }
    }

    /// Starts one claimed run in its own task.
    fn start(self: Arc<Self>, run: ApiFlowRun) {
        let id = run.id;
        let cancel = CancelToken::new();
        let recorder = Arc::new(HttpRecorder::new(self.api.clone(), id, cancel.clone()));
        let mut held = self.held();
        if held.contains_key(&id) {
            tracing::warn!(flow_run = %id, "the server handed out a run this worker already holds");
            return;
        }
        let worker = self.clone();
        let task = {
            let recorder = recorder.clone();
            let cancel = cancel.clone();
            tokio::spawn(async move {
                worker.execute(run, cancel, recorder).await;
                worker.held().remove(&id);
                worker.ended.notify_waiters();
            })
        };
        held.insert(
            id,
            Held {
                cancel,
                recorder,
                task: task.abort_handle(),
            },
        );
    }

    /// Runs one claimed run to its end.
    async fn execute(&self, api_run: ApiFlowRun, cancel: CancelToken, recorder: Arc<HttpRecorder>) {
        let id = api_run.id;
        let server_hosts = api_run
            .server_allowed_hosts
            .as_ref()
            .map(weft_core::network::AllowedHosts::parse)
            .transpose();
        let mut run = api_run.into_flow_run();
        let prepared = match server_hosts {
            Ok(hosts) => self.prepare(&mut run).await.map(|p| (p, hosts)),
            Err(e) => Err(WorkerError::Component {
                digest: run.component_digest.clone(),
                message: format!("the server's allowlist of outbound hosts is invalid: {e}"),
            }),
        };
        let ((component, limits, allowed_secrets), server_hosts) = match prepared {
            Ok(p) => p,
            Err(e) => {
                tracing::warn!(flow_run = %id, error = %e, "cannot execute the flow run");
                let state = State::crashed(format!("the worker could not run it: {e}"));
                if let Err(e) = recorder.set_flow_run_state(id, &state).await {
                    tracing::error!(flow_run = %id, error = %e, "could not record the Crashed state");
                }
                return;
            }
        };
        let options = RunOptions {
            limits,
            allowed_secrets,
            cancel,
            operator_hosts: self.config.allowed_hosts.clone(),
            server_hosts,
        };
        let dyn_recorder: Arc<dyn RunRecorder> = recorder.clone();
        let state = self
            .runtime
            .run_flow(&component, &run, options, dyn_recorder)
            .await;
        if let Err(e) = recorder.flush().await {
            tracing::warn!(flow_run = %id, error = %e, "flushing the run's records");
        }
        tracing::debug!(flow_run = %id, state = %state.name, "flow run finished");
    }

    /// The component, limits and granted secrets of `run`, filling in what
    /// the run leaves to its deployment.
    async fn prepare(
        &self,
        run: &mut weft_core::FlowRun,
    ) -> Result<(Arc<FlowComponent>, RunLimits, Vec<String>), WorkerError> {
        let (limits, secrets) = match run.deployment_id {
            Some(deployment_id) => {
                let d = self.deployment(deployment_id).await?;
                if run.component_digest.is_empty() {
                    run.component_digest = d.component_digest.clone();
                }
                if run.flow_name.is_empty() {
                    run.flow_name = d.flow_name.clone();
                }
                (d.limits.clone(), d.allowed_secrets.clone())
            }
            None => (RunLimits::default(), Vec::new()),
        };
        if run.component_digest.is_empty() {
            return Err(WorkerError::NoComponent);
        }
        let component = self.components.get(&run.component_digest).await?;
        Ok((component, limits, secrets))
    }

    /// A deployment, read at most once per [`DEPLOYMENT_TTL`].
    async fn deployment(&self, id: Uuid) -> Result<Arc<ApiDeployment>, WorkerError> {
        if let Some((at, d)) = self
            .deployments
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&id)
            && at.elapsed() < DEPLOYMENT_TTL
        {
            return Ok(d.clone());
        }
        let d = retry(|| self.api.read_deployment(id))
            .await?
            .ok_or(WorkerError::DeploymentNotFound(id))?;
        let d = Arc::new(d);
        self.deployments
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id, (Instant::now(), d.clone()));
        Ok(d)
    }

    /// Heartbeats the held runs every `heartbeat_interval`, until the
    /// worker has drained.
    async fn heartbeat_loop(self: Arc<Self>, _stop: watch::Receiver<bool>) {
        let interval = self
            .config
            .heartbeat_interval
            .max(Duration::from_millis(100));
        let mut ticker = tokio::time::interval(interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            let ids = self.held_ids();
            if let Err(e) = self
                .api
                .heartbeat(&self.config.pool, &self.config.name, interval, &ids)
                .await
            {
                tracing::warn!(error = %e, "heartbeat failed");
            }
        }
    }

    /// Every `cancel_poll_interval`, while it holds runs, asks the server
    /// which of them are CANCELLING and cancels those: their instances trap
    /// at the next epoch tick, their task runs end Cancelled, and the runs
    /// end Cancelled. Runs until the worker has drained.
    async fn cancel_loop(self: Arc<Self>) {
        let interval = self
            .config
            .cancel_poll_interval
            .max(Duration::from_millis(10));
        let mut ticker = tokio::time::interval(interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            let ids: Vec<Uuid> = self
                .held()
                .iter()
                .filter(|(_, h)| !h.cancel.is_cancelled())
                .map(|(id, _)| *id)
                .collect();
            if ids.is_empty() {
                continue;
            }
            match self.api.cancelling_among(&ids).await {
                Ok(cancelling) => {
                    let held = self.held();
                    for id in cancelling {
                        if let Some(h) = held.get(&id)
                            && !h.cancel.is_cancelled()
                        {
                            tracing::info!(flow_run = %id, "the server is cancelling the run: stopping it");
                            h.cancel.cancel();
                        }
                    }
                }
                Err(e) => tracing::debug!(error = %e, "could not check for cancellations"),
            }
        }
    }

    /// After claims have stopped: waits up to the grace period for the held
    /// runs to finish, then hands the rest back.
    async fn drain(&self) {
        let deadline = tokio::time::Instant::now() + self.config.shutdown_grace;
        loop {
            let ended = self.ended.notified();
            if self.held_count() == 0 {
                return;
            }
            tokio::select! {
                _ = ended => {}
                _ = tokio::time::sleep(Duration::from_millis(50)) => {}
                _ = tokio::time::sleep_until(deadline) => break,
            }
        }
        let left: Vec<(Uuid, Held)> = self.held().drain().collect();
        tracing::info!(count = left.len(), "handing back unfinished flow runs");
        for (id, held) in &left {
            held.recorder.detach();
            held.task.abort();
            tracing::debug!(flow_run = %id, "stopped");
        }
        for (id, _) in left {
            match retry(|| self.api.release_flow_run(id, &self.config.name)).await {
                Ok(true) => tracing::info!(flow_run = %id, "handed back"),
                Ok(false) => {
                    tracing::info!(flow_run = %id, "not handed back: it had already ended")
                }
                Err(e) => {
                    tracing::error!(flow_run = %id, error = %e, "could not hand the run back")
                }
            }
        }
    }
}

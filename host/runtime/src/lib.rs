//! Weft's sandboxed runtime: runs flows compiled to WebAssembly components.
//!
//! A [`Runtime`] owns one wasmtime engine (component model, async host
//! functions, the pooling allocator, fuel and epoch interruption). It loads
//! components ([`Runtime::load`]): validates them against the `weft:flow`
//! world, compiles them once and caches the artifact on disk, and reads
//! their flows and tasks with `describe`. It runs flows
//! ([`Runtime::run_flow`]): the flow body in a fresh instance, every task
//! call in another fresh instance of the same component, with Prefect's
//! retries, caching, timeouts and states, all recorded through a
//! [`weft_core::RunRecorder`], and every run held to its
//! [`weft_core::RunLimits`].
//!
//! A flow's own retries and timeout (`describe` reports them; a deployment
//! may override them through [`weft_core::RunLimits::flow`]) apply to the
//! whole flow run: a failed attempt goes AwaitingRetry then Retrying, and
//! the task calls that completed in an earlier attempt return their
//! recorded result (state Cached) instead of running again. Calls are
//! matched by task name, a hash of their input and their occurrence: the
//! n-th call of a task with a given input in one attempt is the n-th call
//! with that input in the next. An attempt over its timeout ends the run
//! Failed, named TimedOut (not retried, as in Prefect).
//!
//! Outbound HTTP (`wasi:http/outgoing-handler`) goes only to the hosts
//! the run's [`weft_core::network::NetworkGrant`] (in its limits) allows,
//! and the operator's list when one is set ([`RunOptions::operator_hosts`]);
//! secrets bound to hosts are read as placeholders and substituted by the
//! host into requests to those hosts only.
//!
//! Each WIT interface has one host module under `host`.

mod bindings;
mod component;
mod concurrency;
mod config;
mod engine;
mod flow_runner;
mod host;
mod instance;
mod limiter;
mod outcome;
mod run;
mod state;
mod task_runner;

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::{Arc, Mutex};

use tokio::sync::Semaphore;
use wasmtime::Engine;
use wasmtime::component::Linker;
use weft_core::network::AllowedHosts;
use weft_core::{FlowRun, RunLimits, RunRecorder, State};

pub use component::{ComponentError, ComponentInfo, FlowComponent, FlowInfo, TaskInfo, digest_of};
pub use config::EngineConfig;
pub use outcome::LimitExceeded;
pub use run::{CancelToken, REDACTED};

use crate::engine::EpochTicker;
use crate::state::HostState;

/// Why the runtime could not start.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    /// wasmtime refused the engine configuration.
    #[error("could not create the wasm engine: {0}")]
    Engine(String),
}

/// Options for one flow run.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Sandbox limits.
    pub limits: RunLimits,
    /// Names of the secrets the run may read.
    pub allowed_secrets: Vec<String>,
    /// Cancels the run from outside.
    pub cancel: CancelToken,
    /// The operator's allowlist of outbound hosts (a worker's
    /// `--allow-host`, `WEFT_ALLOWED_HOSTS`): when set, a request must pass
    /// it as well as the run's own list (`limits.network`).
    pub operator_hosts: Option<AllowedHosts>,
    /// The server's allowlist, sent with a claimed run (`weft server start
    /// --allow-host`): when set, a request must pass it too.
    pub server_hosts: Option<AllowedHosts>,
}

/// Runs flow components. Cheap to clone; clones share the engine and the
/// loaded components.
#[derive(Clone)]
pub struct Runtime {
    inner: Arc<Inner>,
}

struct Inner {
    engine: Engine,
    linker: Linker<HostState>,
    config: EngineConfig,
    instance_slots: Arc<Semaphore>,
    loaded: Mutex<HashMap<String, Arc<FlowComponent>>>,
    _ticker: EpochTicker,
}

impl Runtime {
    /// Creates the engine, links the host interfaces and starts the epoch
    /// ticker.
    pub fn new(config: EngineConfig) -> Result<Runtime, RuntimeError> {
        let engine =
            engine::build_engine(&config).map_err(|e| RuntimeError::Engine(format!("{e:#}")))?;
        let mut linker = Linker::new(&engine);
        host::add_to_linker(&mut linker).map_err(|e| RuntimeError::Engine(format!("{e:#}")))?;
        let ticker = EpochTicker::start(engine.clone(), config.epoch_tick);
        let instance_slots = Arc::new(Semaphore::new(config.max_instances.max(1) as usize));
        Ok(Runtime {
            inner: Arc::new(Inner {
                engine,
                linker,
                config,
                instance_slots,
                loaded: Mutex::new(HashMap::new()),
                _ticker: ticker,
            }),
        })
    }

    /// The wasmtime engine (for benchmarks and tools).
    pub fn engine(&self) -> &Engine {
        &self.inner.engine
    }

    /// Loads a component from its bytes: validates it, compiles it (or
    /// loads its cached artifact) and describes it. Loading the same bytes
    /// again returns the already loaded component.
    pub async fn load(&self, bytes: Vec<u8>) -> Result<Arc<FlowComponent>, ComponentError> {
        let digest = digest_of(&bytes);
        if let Some(c) = self.loaded().get(&digest) {
            return Ok(c.clone());
        }
        let cache_dir = self.inner.config.cache_dir.clone();
        let component = Arc::new(
            component::load(
                &self.inner.engine,
                &self.inner.linker,
                cache_dir,
                self.inner.instance_slots.clone(),
                bytes,
            )
            .await?,
        );
        self.loaded().insert(digest, component.clone());
        Ok(component)
    }

    /// Loads a component from a file.
    pub async fn load_file(&self, path: &Path) -> Result<Arc<FlowComponent>, ComponentError> {
        let bytes = tokio::fs::read(path)
            .await
            .map_err(|source| ComponentError::Io {
                path: path.to_path_buf(),
                source,
            })?;
        self.load(bytes).await
    }

    fn loaded(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<FlowComponent>>> {
        self.inner.loaded.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs `flow_run` (already recorded, in a non-terminal state) to its
    /// end and returns the terminal state, with the result as `data` when
    /// it completed. Never panics on guest behaviour: every failure becomes
    /// a Failed, Crashed or Cancelled state with its reason.
    pub async fn run_flow(
        &self,
        component: &Arc<FlowComponent>,
        flow_run: &FlowRun,
        options: RunOptions,
        recorder: Arc<dyn RunRecorder>,
    ) -> State {
        let allowed: HashSet<String> = options.allowed_secrets.into_iter().collect();
        let (ctx, logs) = run::RunContext::new(
            component.clone(),
            flow_run.clone(),
            options.limits,
            allowed,
            recorder,
            options.cancel,
            self.inner.config.slot_lease,
            options
                .operator_hosts
                .into_iter()
                .chain(options.server_hosts)
                .collect(),
        );
        flow_runner::execute(ctx, logs).await
    }
}

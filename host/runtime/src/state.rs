//! The data of one instance's store, and how a store is built: WASI with
//! no ambient authority, the memory limiter, fuel, and the epoch callback
//! that enforces wall time, cancellation, timeouts and the run's fuel.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;
use uuid::Uuid;
use wasmtime::component::ResourceTable;
use wasmtime::{Engine, Store, UpdateDeadline};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use crate::host::http::HttpState;
use crate::host::stdio::GuestOutput;
use crate::limiter::InstanceLimiter;
use crate::outcome::{AttemptTimedOut, Cancelled};
use crate::run::RunContext;

/// Where in the run an instance executes.
#[derive(Debug, Clone, Default)]
pub(crate) struct Scope {
    /// The task run, for a task instance; `None` for the flow body.
    pub task_run_id: Option<Uuid>,
    /// The task's name, for a task instance.
    pub task_name: Option<String>,
    /// The attempt number, from 1.
    pub attempt: u32,
    /// Cancelled when the flow run attempt this instance belongs to ends
    /// (or the whole run stops): the instance must stop.
    pub ended: CancellationToken,
}

/// The data of one instance's store.
pub(crate) struct HostState {
    wasi: WasiCtx,
    /// Outbound HTTP (`wasi:http`), filtered by the run's network policy.
    pub(crate) http: HttpState,
    /// Resources handed to the guest (task futures, WASI streams).
    pub table: ResourceTable,
    limiter: InstanceLimiter,
    /// The run this instance belongs to; `None` while describing a component.
    pub run: Option<Arc<RunContext>>,
    /// Where in the run the instance executes.
    pub scope: Scope,
    /// The message the guest reported through `failure.panicked`.
    pub panic: Option<String>,
    /// Fuel in the store when it was last accounted for.
    fuel_seen: u64,
    /// This attempt's own deadline and its timeout in ms.
    attempt_deadline: Option<(Instant, u64)>,
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl HostState {
    /// Charges the fuel used since the last accounting to the run and
    /// returns what the store may use next.
    fn account_fuel(&mut self, now_in_store: u64) -> Result<u64, crate::outcome::LimitExceeded> {
        let used = self.fuel_seen.saturating_sub(now_in_store);
        let left = match &self.run {
            Some(run) => run.charge_fuel(used)?,
            None => now_in_store,
        };
        self.fuel_seen = left;
        Ok(left)
    }
}

/// Settles the fuel an instance used when it ends.
pub(crate) fn settle_fuel(store: &mut Store<HostState>) {
    if let Ok(now) = store.get_fuel() {
        let _ = store.data_mut().account_fuel(now);
    }
}

/// Options for a new instance store.
pub(crate) struct StoreOptions {
    /// Memory for the instance, all memories and tables together.
    pub memory_bytes: u64,
    /// Fuel to start with when there is no run (describe).
    pub fuel: u64,
    /// The attempt's own timeout.
    pub timeout: Option<Duration>,
    /// A deadline when there is no run (describe).
    pub deadline: Option<Instant>,
}

/// Builds a store for one instance of `run` (or of no run, to describe a
/// component).
pub(crate) fn new_store(
    engine: &Engine,
    run: Option<Arc<RunContext>>,
    scope: Scope,
    options: StoreOptions,
) -> wasmtime::Result<Store<HostState>> {
    let mut wasi = WasiCtx::builder();
    wasi.allow_tcp(false)
        .allow_udp(false)
        .allow_ip_name_lookup(false);
    if let Some(run) = &run {
        wasi.stdout(GuestOutput::new(run.clone(), scope.task_run_id, "stdout"));
        wasi.stderr(GuestOutput::new(run.clone(), scope.task_run_id, "stderr"));
    }
    let fuel = match &run {
        Some(run) => run.fuel_left(),
        None => options.fuel,
    };
    let attempt_deadline = options.timeout.map(|t| {
        (
            Instant::now() + t,
            u64::try_from(t.as_millis()).unwrap_or(u64::MAX),
        )
    });
    let describe_deadline = options.deadline;
    let http = HttpState::new(run.clone(), scope.task_run_id, scope.ended.clone());
    let state = HostState {
        wasi: wasi.build(),
        http,
        table: ResourceTable::new(),
        limiter: InstanceLimiter::new(options.memory_bytes),
        run,
        scope,
        panic: None,
        fuel_seen: fuel,
        attempt_deadline,
    };
    let mut store = Store::new(engine, state);
    store.limiter(|s| &mut s.limiter);
    store.set_fuel(fuel)?;
    store.set_epoch_deadline(1);
    store.epoch_deadline_callback(move |mut ctx| {
        let now_fuel = ctx.get_fuel()?;
        let state = ctx.data_mut();
        if let Some(reason) = state.run.as_ref().and_then(|run| run.stop_reason()) {
            return Err(reason.to_error());
        }
        if state.scope.ended.is_cancelled() {
            return Err(wasmtime::Error::new(Cancelled));
        }
        let now = Instant::now();
        if let Some((deadline, ms)) = state.attempt_deadline
            && now >= deadline
        {
            return Err(wasmtime::Error::new(AttemptTimedOut { ms }));
        }
        if describe_deadline.is_some_and(|d| now >= d) {
            return Err(wasmtime::format_err!("describe took too long"));
        }
        let left = state.account_fuel(now_fuel).map_err(wasmtime::Error::new)?;
        ctx.set_fuel(left)?;
        Ok(UpdateDeadline::Yield(1))
    });
    Ok(store)
}

//! The [`Store`] trait: everything weft reads and administers, on top of
//! what the runtime records through [`RunRecorder`].

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;
use weft_core::{
    CacheEntry, ComponentRecord, ConcurrencyLimit, Deployment, FlowRun, Lease, LogEntry, State,
    StateType, TaskRun, Variable, WorkPool, Worker,
};

use crate::{
    DeploymentFilter, FlowRunFilter, LogFilter, RunRecorder, StoreError, TaskRunFilter,
    VariableFilter, WorkPoolFilter,
};

/// The outcome of [`Store::set_flow_run_state_checked`] (Prefect's
/// `ACCEPT`/`REJECT`).
#[derive(Debug, Clone, PartialEq)]
pub enum Transition {
    /// The state was recorded and is now the run's current state.
    Accepted(State),
    /// The orchestration rules refused the state; the run is unchanged.
    Rejected {
        /// The run's current state.
        current: State,
        /// Why the proposal was refused.
        reason: String,
    },
}

/// Weft's orchestration rules for a flow run's proposed state, as
/// [`Store::set_flow_run_state_checked`] applies them: Prefect's core rule
/// (a terminal run does not move again, see
/// [`weft_core::state::check_transition`]), and a run moves to PENDING only
/// from a state that is not already PENDING or RUNNING, so two workers
/// cannot both start one run. `force` skips both.
pub fn check_flow_run_transition(
    from: StateType,
    to: StateType,
    force: bool,
) -> Result<(), String> {
    weft_core::state::check_transition(Some(from), to, force).map_err(|e| e.to_string())?;
    if !force && to == StateType::Pending && matches!(from, StateType::Pending | StateType::Running)
    {
        return Err(format!(
            "run is already {from} and cannot move to {to} unless forced"
        ));
    }
    Ok(())
}

/// A flow: a named entry point, recorded (upserted by name) the first time
/// one of its runs is created.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Flow {
    /// The flow's id.
    pub id: Uuid,
    /// Its name.
    pub name: String,
    /// When its first run was recorded.
    pub created: DateTime<Utc>,
}

/// Weft's persistence. Every backend implements this and [`RunRecorder`];
/// callers hold an `Arc<dyn Store>` (which upcasts to `Arc<dyn RunRecorder>`).
///
/// Reads see committed writes: queued non-terminal writes become visible
/// once committed, which [`RunRecorder::flush`] waits for.
#[async_trait]
pub trait Store: RunRecorder {
    /// The flow run with this id, with its current state.
    async fn read_flow_run(&self, id: Uuid) -> Result<Option<FlowRun>, StoreError>;

    /// The flow run named by a full uuid, a unique uuid prefix, or a run
    /// name (the newest run of that name). A prefix matching several runs
    /// (and no run of that name) is [`StoreError::Ambiguous`].
    async fn find_flow_run(
        &self,
        id_or_name_or_prefix: &str,
    ) -> Result<Option<FlowRun>, StoreError>;

    /// The flow runs matching `filter`, in its order.
    async fn list_flow_runs(&self, filter: &FlowRunFilter) -> Result<Vec<FlowRun>, StoreError>;

    /// How many flow runs match a filter (its sort, limit and offset are
    /// ignored).
    async fn count_flow_runs(&self, filter: &FlowRunFilter) -> Result<u64, StoreError>;

    /// A flow run's state history, oldest first.
    async fn read_flow_run_states(&self, flow_run_id: Uuid) -> Result<Vec<State>, StoreError>;

    /// The task run with this id, with its current state.
    async fn read_task_run(&self, id: Uuid) -> Result<Option<TaskRun>, StoreError>;

    /// The task runs matching `filter`, in its order.
    async fn list_task_runs(&self, filter: &TaskRunFilter) -> Result<Vec<TaskRun>, StoreError>;

    /// A task run's state history, oldest first.
    async fn read_task_run_states(&self, task_run_id: Uuid) -> Result<Vec<State>, StoreError>;

    /// The log lines matching `filter`, oldest first.
    async fn read_logs(&self, filter: &LogFilter) -> Result<Vec<LogEntry>, StoreError>;

    /// Every flow, by name.
    async fn list_flows(&self) -> Result<Vec<Flow>, StoreError>;

    /// Stores (or replaces) a secret, encrypted; returns once committed.
    async fn set_secret(&self, name: &str, value: &str) -> Result<(), StoreError>;

    /// The names of all secrets, sorted.
    async fn list_secret_names(&self) -> Result<Vec<String>, StoreError>;

    /// Deletes a secret; whether it existed.
    async fn delete_secret(&self, name: &str) -> Result<bool, StoreError>;

    /// Cache entries, newest first, valid or not.
    async fn list_cache(&self, limit: u32, offset: u32) -> Result<Vec<CacheEntry>, StoreError>;

    /// Deletes a cache entry; whether it existed.
    async fn delete_cache(&self, key: &str) -> Result<bool, StoreError>;

    // ------------------------------------------------------------ flows

    /// The flow named `name`, created when absent; whether it was created.
    async fn upsert_flow(&self, name: &str) -> Result<(Flow, bool), StoreError>;

    /// The flow with this id.
    async fn read_flow(&self, id: Uuid) -> Result<Option<Flow>, StoreError>;

    /// The flow named `name`.
    async fn read_flow_by_name(&self, name: &str) -> Result<Option<Flow>, StoreError>;

    // -------------------------------------------------------- flow runs

    /// Deletes a flow run with its states, task runs (and theirs) and logs;
    /// whether it existed. Returns once committed.
    async fn delete_flow_run(&self, id: Uuid) -> Result<bool, StoreError>;

    /// Proposes `state` for a flow run: reads its current state, applies
    /// [`check_flow_run_transition`] and records the state when accepted,
    /// all in one transaction, so two concurrent proposals cannot both move
    /// a run out of the same state. Returns once committed; an unknown run
    /// is [`StoreError::NotFound`]. A run leaving a final state for a
    /// SCHEDULED one (a forced retry) is no longer claimed by anyone.
    async fn set_flow_run_state_checked(
        &self,
        id: Uuid,
        state: &State,
        force: bool,
    ) -> Result<Transition, StoreError>;

    /// Proposes `states` for a flow run, in order, as
    /// [`Store::set_flow_run_state_checked`] would one after the other,
    /// stopping at the first one refused: one outcome per state proposed,
    /// the last one possibly [`Transition::Rejected`]. A backend may record
    /// them in one transaction (a worker reports a short run's Running and
    /// Completed together). Returns once committed.
    async fn set_flow_run_states_checked(
        &self,
        id: Uuid,
        states: &[State],
        force: bool,
    ) -> Result<Vec<Transition>, StoreError> {
        let mut out = Vec::with_capacity(states.len());
        for state in states {
            let t = self.set_flow_run_state_checked(id, state, force).await?;
            let refused = matches!(t, Transition::Rejected { .. });
            out.push(t);
            if refused {
                break;
            }
        }
        Ok(out)
    }

    // ------------------------------------------------------ deployments

    /// Creates a deployment, or (as Prefect does) updates the one with the
    /// same flow and name, keeping its id and creation time. Returns what
    /// is stored.
    async fn create_deployment(&self, deployment: &Deployment) -> Result<Deployment, StoreError>;

    /// The deployment with this id.
    async fn read_deployment(&self, id: Uuid) -> Result<Option<Deployment>, StoreError>;

    /// The deployment of `flow_name` named `name`.
    async fn read_deployment_by_name(
        &self,
        flow_name: &str,
        name: &str,
    ) -> Result<Option<Deployment>, StoreError>;

    /// Replaces the deployment with `deployment.id` (its `updated` time
    /// becomes now); whether it existed. Another deployment of the same
    /// flow and name is [`StoreError::Conflict`].
    async fn update_deployment(&self, deployment: &Deployment) -> Result<bool, StoreError>;

    /// Deletes a deployment; whether it existed.
    async fn delete_deployment(&self, id: Uuid) -> Result<bool, StoreError>;

    /// Deployments matching `filter`, by name (then flow name).
    async fn list_deployments(
        &self,
        filter: &DeploymentFilter,
    ) -> Result<Vec<Deployment>, StoreError>;

    // ------------------------------------------------------- work pools

    /// Creates a work pool; a pool of the same name is [`StoreError::Conflict`].
    async fn create_work_pool(&self, pool: &WorkPool) -> Result<WorkPool, StoreError>;

    /// The work pool named `name`.
    async fn read_work_pool(&self, name: &str) -> Result<Option<WorkPool>, StoreError>;

    /// Replaces the pool named `pool.name` (its `updated` time becomes
    /// now; id and creation time are kept); whether it existed.
    async fn update_work_pool(&self, pool: &WorkPool) -> Result<bool, StoreError>;

    /// Deletes a work pool with its workers' records; whether it existed.
    async fn delete_work_pool(&self, name: &str) -> Result<bool, StoreError>;

    /// Work pools matching `filter`, by name.
    async fn list_work_pools(&self, filter: &WorkPoolFilter) -> Result<Vec<WorkPool>, StoreError>;

    // ---------------------------------------------------------- workers

    /// Records a heartbeat of worker `name` of `pool` at `at`: creates the
    /// worker's record on its first one, else refreshes its time (and its
    /// interval, when given). Returns once committed.
    async fn worker_heartbeat(
        &self,
        pool: &str,
        name: &str,
        interval_seconds: Option<u32>,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError>;

    /// The workers of `pool`, most recently heard from first, paged.
    async fn list_workers(
        &self,
        pool: &str,
        limit: Option<u32>,
        offset: u32,
    ) -> Result<Vec<Worker>, StoreError>;

    /// Deletes worker `name` of `pool`; whether it existed.
    async fn delete_worker(&self, pool: &str, name: &str) -> Result<bool, StoreError>;

    // -------------------------------------------------------- variables

    /// Creates a variable; a variable of the same name is [`StoreError::Conflict`].
    async fn create_variable(&self, variable: &Variable) -> Result<Variable, StoreError>;

    /// The variable named `name`.
    async fn read_variable_by_name(&self, name: &str) -> Result<Option<Variable>, StoreError>;

    /// The variable with this id.
    async fn read_variable(&self, id: Uuid) -> Result<Option<Variable>, StoreError>;

    /// Replaces the variable with `variable.id` (name, value, tags; its
    /// `updated` time becomes now); whether it existed.
    async fn update_variable(&self, variable: &Variable) -> Result<bool, StoreError>;

    /// Deletes the variable named `name`; whether it existed.
    async fn delete_variable_by_name(&self, name: &str) -> Result<bool, StoreError>;

    /// Variables matching `filter`, by name.
    async fn list_variables(&self, filter: &VariableFilter) -> Result<Vec<Variable>, StoreError>;

    // ------------------------------------------------------- components

    /// Stores a component's bytes and metadata, content-addressed: the
    /// digest must be the SHA-256 of `bytes` and the size their length
    /// ([`StoreError::Invalid`] otherwise). Whether it was newly stored
    /// (storing the same digest again changes nothing).
    async fn put_component(
        &self,
        record: &ComponentRecord,
        bytes: &[u8],
    ) -> Result<bool, StoreError>;

    /// A stored component's metadata.
    async fn read_component(&self, digest: &str) -> Result<Option<ComponentRecord>, StoreError>;

    /// A stored component's bytes.
    async fn read_component_bytes(&self, digest: &str) -> Result<Option<Vec<u8>>, StoreError>;

    /// Every stored component's metadata, newest first.
    async fn list_components(&self) -> Result<Vec<ComponentRecord>, StoreError>;

    // ------------------------------------------- scheduling and claiming

    /// Runs of `pool` in a SCHEDULED-type state that are due at `before`
    /// (their state's scheduled time, else their expected start time, else
    /// their creation time), oldest first; none when the pool is paused.
    /// Read only (Prefect's `get_scheduled_flow_runs`).
    async fn scheduled_flow_runs(
        &self,
        pool: &str,
        before: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<FlowRun>, StoreError>;

    /// Atomically claims up to `limit` of the runs [`Store::scheduled_flow_runs`]
    /// would return: moves each to `Pending` (appended to its history),
    /// records `worker` as its claimer with a heartbeat of now, and returns
    /// them, oldest first. Two concurrent claimers never get the same run.
    ///
    /// The flow-run concurrency limits of deployments and work pools hold
    /// (see [`crate::claims`]): a claimed run in an active state whose
    /// heartbeat is at or after `live_after` holds a slot; a due run that
    /// would exceed a limit is skipped and, the first time, renamed
    /// `AwaitingConcurrencySlot` with a log line saying why.
    async fn claim_flow_runs(
        &self,
        pool: &str,
        worker: &str,
        before: DateTime<Utc>,
        limit: u32,
        live_after: DateTime<Utc>,
    ) -> Result<Vec<FlowRun>, StoreError>;

    /// Refreshes the heartbeat of the runs among `ids` that `worker` claimed.
    async fn heartbeat_flow_runs(&self, worker: &str, ids: &[Uuid]) -> Result<(), StoreError>;

    /// Hands a run `worker` claimed back to its pool, when it has not
    /// ended: a new `Scheduled` state due now, no claimer. Whether it did.
    async fn release_flow_run(&self, id: Uuid, worker: &str) -> Result<bool, StoreError>;

    /// Claimed runs that have not ended and whose last heartbeat is older
    /// than `heartbeat_older_than` (their worker is presumed lost).
    async fn lost_flow_runs(
        &self,
        heartbeat_older_than: DateTime<Utc>,
    ) -> Result<Vec<FlowRun>, StoreError>;

    // -------------------------------------------------------- schedules

    /// Creates the runs of `runs` whose slot (deployment, schedule, slot
    /// time) has no run yet, each with its slot, in one transaction; a slot
    /// already taken, by an earlier call or a concurrent one on another
    /// server, is skipped (see [`crate::schedules`]). Returns the ids of the
    /// runs created, once committed. A run without a deployment is
    /// [`StoreError::Invalid`].
    async fn create_scheduled_flow_runs(
        &self,
        runs: &[crate::ScheduledRun],
    ) -> Result<Vec<Uuid>, StoreError>;

    /// Deletes the runs the scheduler created for `deployment_id` (for its
    /// schedule `schedule_id` only, when given) that have not started:
    /// still `Scheduled` or `Late`, unclaimed, never run, and due at or
    /// after `due_from` when given. Their slots are freed, so the scheduler
    /// creates them again from the schedules' current definitions. Returns
    /// how many, once committed.
    async fn delete_scheduled_flow_runs(
        &self,
        deployment_id: Uuid,
        schedule_id: Option<Uuid>,
        due_from: Option<DateTime<Utc>>,
    ) -> Result<u64, StoreError>;

    /// Moves up to `limit` unclaimed runs in state `Scheduled` that were due
    /// before `due_before` to `Late` (type SCHEDULED, the same scheduled
    /// time, recorded at `now`), as Prefect's late-runs service does; they
    /// stay claimable. Returns their ids, once committed.
    async fn mark_late_flow_runs(
        &self,
        due_before: DateTime<Utc>,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Uuid>, StoreError>;

    // ------------------------------------------------ concurrency limits
    // Slots are taken, renewed and released through `RunRecorder`
    // (`acquire_slots`, `renew_lease`, `release_lease`).

    /// Creates a concurrency limit; a limit of the same name is
    /// [`StoreError::Conflict`]. Returns what is stored.
    async fn create_concurrency_limit(
        &self,
        limit: &ConcurrencyLimit,
    ) -> Result<ConcurrencyLimit, StoreError>;

    /// The concurrency limit with this id, with the slots held now.
    async fn read_concurrency_limit(
        &self,
        id: Uuid,
    ) -> Result<Option<ConcurrencyLimit>, StoreError>;

    /// The concurrency limit named `name`, with the slots held now.
    async fn read_concurrency_limit_by_name(
        &self,
        name: &str,
    ) -> Result<Option<ConcurrencyLimit>, StoreError>;

    /// Concurrency limits by name, a page of them.
    async fn list_concurrency_limits(
        &self,
        limit: Option<u32>,
        offset: u32,
    ) -> Result<Vec<ConcurrencyLimit>, StoreError>;

    /// Replaces the name, size and activity of the limit with `limit.id`;
    /// whether it existed. Leases already held are kept.
    async fn update_concurrency_limit(&self, limit: &ConcurrencyLimit) -> Result<bool, StoreError>;

    /// Deletes a concurrency limit; whether it existed.
    async fn delete_concurrency_limit(&self, id: Uuid) -> Result<bool, StoreError>;

    /// Releases every lease holding slots of a limit (Prefect's `reset`);
    /// how many.
    async fn reset_concurrency_limit(&self, id: Uuid) -> Result<u64, StoreError>;

    /// The unexpired leases holding slots of a limit, oldest first.
    async fn concurrency_leases(&self, limit_id: Uuid) -> Result<Vec<Lease>, StoreError>;

    // ----------------------------------------------------------- events

    /// Stores events (one already stored, by id, is skipped); returns once
    /// committed.
    async fn write_events(&self, events: &[weft_core::Event]) -> Result<(), StoreError>;

    /// The events matching `filter`, newest first.
    async fn read_events(
        &self,
        filter: &crate::EventFilter,
    ) -> Result<Vec<weft_core::Event>, StoreError>;

    // ------------------------------------------------------ definitions

    /// Stores (or replaces, by id) a definition of `kind`; another of the
    /// same kind and name is [`StoreError::Conflict`].
    async fn put_definition(
        &self,
        kind: &str,
        definition: &crate::Definition,
    ) -> Result<(), StoreError>;

    /// The definition of `kind` with this id.
    async fn read_definition(
        &self,
        kind: &str,
        id: Uuid,
    ) -> Result<Option<crate::Definition>, StoreError>;

    /// Every definition of `kind`, by name.
    async fn list_definitions(&self, kind: &str) -> Result<Vec<crate::Definition>, StoreError>;

    /// Deletes a definition; whether it existed.
    async fn delete_definition(&self, kind: &str, id: Uuid) -> Result<bool, StoreError>;
}

/// `Store` is used as `Arc<dyn Store>`: this fails to compile if it stops
/// being object-safe.
#[allow(dead_code)]
fn assert_object_safe(store: std::sync::Arc<dyn Store>) -> std::sync::Arc<dyn RunRecorder> {
    store
}

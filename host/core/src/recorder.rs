//! The port through which the runtime records what happens in a run.
//!
//! The runtime calls a [`RunRecorder`]; the embedded store implements it
//! directly, and a remote worker implements it over the REST API. Calls for
//! one run arrive in order. An implementation may return from non-terminal
//! writes once they are queued, but must have made a terminal state durable
//! before `set_*_state` returns for it.

use async_trait::async_trait;
use uuid::Uuid;

use crate::concurrency::{SlotGrant, SlotRequest};
use crate::model::{CacheEntry, FlowRun, LogEntry, TaskRun};
use crate::state::State;

/// Why a recorder call failed.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    /// The record the call refers to does not exist.
    #[error("not found: {0}")]
    NotFound(String),
    /// The proposed state was refused by the orchestration rules.
    #[error("state refused: {0}")]
    Refused(String),
    /// The request can never succeed as made (e.g. more slots than a
    /// concurrency limit has).
    #[error("invalid request: {0}")]
    Invalid(String),
    /// The backend (database, network) failed.
    #[error("backend error: {0}")]
    Backend(String),
}

/// Records flow runs, task runs, states, logs and cache entries, and reads
/// what a run may read (cache entries, secrets).
#[async_trait]
pub trait RunRecorder: Send + Sync + 'static {
    /// Records a new flow run, with its current state as the first of its
    /// history.
    async fn create_flow_run(&self, run: &FlowRun) -> Result<(), RecordError>;

    /// Appends `state` to the flow run's history and makes it current.
    /// Entering a RUNNING state counts a run; a terminal state sets the end
    /// time.
    async fn set_flow_run_state(&self, flow_run_id: Uuid, state: &State)
    -> Result<(), RecordError>;

    /// Records a new task run, with its current state.
    async fn create_task_run(&self, run: &TaskRun) -> Result<(), RecordError>;

    /// Appends `state` to the task run's history and makes it current.
    async fn set_task_run_state(&self, task_run_id: Uuid, state: &State)
    -> Result<(), RecordError>;

    /// Appends log lines.
    async fn write_logs(&self, entries: Vec<LogEntry>) -> Result<(), RecordError>;

    /// Reads a cache entry by key, valid or not.
    async fn read_cache(&self, key: &str) -> Result<Option<CacheEntry>, RecordError>;

    /// Stores (or replaces) a cache entry.
    async fn write_cache(&self, entry: &CacheEntry) -> Result<(), RecordError>;

    /// Reads a secret's plaintext value by name.
    async fn read_secret(&self, name: &str) -> Result<Option<String>, RecordError>;

    /// Takes slots of the concurrency limits named in `request` as one
    /// lease, waiting up to `request.wait` when one is full. A recorder
    /// without limits grants everything without a lease.
    async fn acquire_slots(&self, request: &SlotRequest) -> Result<SlotGrant, RecordError> {
        let _ = request;
        Ok(SlotGrant::Acquired {
            lease_id: None,
            limits: Vec::new(),
        })
    }

    /// Extends a lease to `lease` from now; false when it had already
    /// expired or been released (its slots may be someone else's now).
    async fn renew_lease(
        &self,
        lease_id: Uuid,
        lease: std::time::Duration,
    ) -> Result<bool, RecordError> {
        let _ = (lease_id, lease);
        Ok(false)
    }

    /// Releases a lease's slots, waking whoever waits for them.
    async fn release_lease(&self, lease_id: Uuid) -> Result<(), RecordError> {
        let _ = lease_id;
        Ok(())
    }

    /// Waits until everything recorded so far is durable.
    async fn flush(&self) -> Result<(), RecordError> {
        Ok(())
    }
}

//! The [`Store`] trait: everything weft reads and administers, on top of
//! what the runtime records through [`RunRecorder`].

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;
use weft_core::{CacheEntry, FlowRun, LogEntry, State, TaskRun};

use crate::{FlowRunFilter, LogFilter, RunRecorder, StoreError, TaskRunFilter};

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
}

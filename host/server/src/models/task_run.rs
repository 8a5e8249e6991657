//! Prefect's `TaskRun`, and weft's task-run creation body for workers.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;
use weft_core::{StateType, TaskRun};

use super::state::{StateCreate, StateOut};

/// Prefect's `empirical_policy` of a task run.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct TaskRunPolicy {
    /// Deprecated alias of `retries`.
    pub max_retries: u32,
    /// Deprecated alias of `retry_delay`.
    pub retry_delay_seconds: f64,
    /// Retries.
    pub retries: u32,
    /// Delay between retries.
    pub retry_delay: f64,
}

/// A task run as the API returns it (Prefect's `TaskRun`).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TaskRunOut {
    /// The task run's id.
    pub id: Uuid,
    /// When it was created.
    pub created: DateTime<Utc>,
    /// When it last changed.
    pub updated: DateTime<Utc>,
    /// Its display name (`add-0`).
    pub name: String,
    /// Its flow run.
    pub flow_run_id: Uuid,
    /// The task's name.
    pub task_key: String,
    /// The n-th call of the task in the flow run, as a string.
    pub dynamic_key: String,
    /// The cache key.
    pub cache_key: Option<String>,
    /// When the cached result expires.
    pub cache_expiration: Option<DateTime<Utc>>,
    /// The task's version.
    pub task_version: Option<String>,
    /// Retry policy.
    pub empirical_policy: TaskRunPolicy,
    /// Tags.
    pub tags: Vec<String>,
    /// Labels.
    pub labels: serde_json::Value,
    /// The current state's id.
    pub state_id: Uuid,
    /// Inputs (Prefect's references to upstream results; `{}` in weft).
    pub task_inputs: serde_json::Value,
    /// The current state's type.
    #[schema(value_type = String)]
    pub state_type: StateType,
    /// The current state's name.
    pub state_name: String,
    /// How many attempts entered RUNNING.
    pub run_count: u32,
    /// The flow run's run count.
    pub flow_run_run_count: u32,
    /// When it was expected to start.
    pub expected_start_time: Option<DateTime<Utc>>,
    /// When a scheduled task run is due.
    pub next_scheduled_start_time: Option<DateTime<Utc>>,
    /// When its first attempt started.
    pub start_time: Option<DateTime<Utc>>,
    /// When it ended.
    pub end_time: Option<DateTime<Utc>>,
    /// Seconds spent running.
    pub total_run_time: f64,
    /// Seconds spent running so far.
    pub estimated_run_time: f64,
    /// Lateness.
    pub estimated_start_time_delta: f64,
    /// The current state.
    pub state: StateOut,
    /// Weft: the parent task run.
    pub parent_task_run_id: Option<Uuid>,
    /// Weft: the task's input, JSON.
    pub input: serde_json::Value,
}

impl From<TaskRun> for TaskRunOut {
    fn from(t: TaskRun) -> TaskRunOut {
        let total = match (t.start_time, t.end_time) {
            (Some(s), Some(e)) => (e - s).num_microseconds().unwrap_or(0) as f64 / 1e6,
            _ => 0.0,
        };
        let state = StateOut::of_task_run(
            &t.state,
            t.flow_run_id,
            t.id,
            t.cache_key.clone(),
            t.cache_expiration,
        );
        TaskRunOut {
            id: t.id,
            created: t.created,
            updated: t.end_time.unwrap_or(t.state.timestamp).max(t.created),
            name: t.name,
            flow_run_id: t.flow_run_id,
            task_key: t.task_key,
            dynamic_key: t.dynamic_key.to_string(),
            cache_key: t.cache_key,
            cache_expiration: t.cache_expiration,
            task_version: None,
            empirical_policy: TaskRunPolicy::default(),
            tags: t.tags,
            labels: serde_json::json!({}),
            state_id: t.state.id,
            task_inputs: serde_json::json!({}),
            state_type: t.state.state_type,
            state_name: t.state.name.clone(),
            run_count: t.run_count,
            flow_run_run_count: 1,
            expected_start_time: Some(t.created),
            next_scheduled_start_time: None,
            start_time: t.start_time,
            end_time: t.end_time,
            total_run_time: total,
            estimated_run_time: total,
            estimated_start_time_delta: 0.0,
            state,
            parent_task_run_id: t.parent_task_run_id,
            input: t.input,
        }
    }
}

/// A dynamic key: Prefect sends a string, weft's worker a number.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum DynamicKey {
    /// A number (`3`).
    Number(u64),
    /// A string holding a number (`"3"`).
    Text(String),
}

/// The body of `POST /api/task_runs/` (used by weft's workers).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TaskRunCreate {
    /// The id, chosen by the worker; a new one when absent.
    #[serde(default)]
    pub id: Option<Uuid>,
    /// The flow run (required).
    pub flow_run_id: Uuid,
    /// The task's name (required).
    pub task_key: String,
    /// The n-th call of the task in the flow run (required).
    pub dynamic_key: DynamicKey,
    /// Display name; `{task_key}-{dynamic_key}` when absent.
    #[serde(default)]
    pub name: Option<String>,
    /// The calling task run.
    #[serde(default)]
    pub parent_task_run_id: Option<Uuid>,
    /// The task's input, JSON.
    #[serde(default)]
    pub input: Option<serde_json::Value>,
    /// The cache key.
    #[serde(default)]
    pub cache_key: Option<String>,
    /// When the cached result expires.
    #[serde(default)]
    pub cache_expiration: Option<DateTime<Utc>>,
    /// Tags.
    #[serde(default)]
    pub tags: Vec<String>,
    /// The initial state; PENDING when absent.
    #[serde(default)]
    pub state: Option<StateCreate>,
}

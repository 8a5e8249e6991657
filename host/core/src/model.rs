//! The records weft keeps: flow runs, task runs, log lines, cache entries.
//!
//! Field names follow Prefect's JSON models where Prefect has the same
//! thing, so the REST API can serialise these directly.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::state::State;

/// One execution of a flow.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FlowRun {
    /// The run's id.
    pub id: Uuid,
    /// A human-friendly name, e.g. `crimson-fox`.
    pub name: String,
    /// The name of the flow being run.
    pub flow_name: String,
    /// SHA-256 (hex) of the component that holds the flow.
    pub component_digest: String,
    /// The deployment it was created from, if any.
    pub deployment_name: Option<String>,
    /// Parameters, a JSON object.
    pub parameters: serde_json::Value,
    /// Tags for filtering.
    pub tags: Vec<String>,
    /// How many times the run has entered Running.
    pub run_count: u32,
    /// When the run was created.
    pub created: DateTime<Utc>,
    /// When it first entered Running.
    pub start_time: Option<DateTime<Utc>>,
    /// When it entered a terminal state.
    pub end_time: Option<DateTime<Utc>>,
    /// Its current state.
    pub state: State,
    /// The id of the deployment it was created from, if any (Prefect's
    /// `deployment_id`).
    #[serde(default)]
    pub deployment_id: Option<Uuid>,
    /// The work pool whose workers run it (Prefect's `work_pool_name`).
    #[serde(default)]
    pub work_pool_name: Option<String>,
    /// When it is expected to start: a scheduled run's scheduled time
    /// (Prefect's `expected_start_time`).
    #[serde(default)]
    pub expected_start_time: Option<DateTime<Utc>>,
}

impl FlowRun {
    /// A new flow run in the `Pending` state.
    pub fn new(
        flow_name: impl Into<String>,
        component_digest: impl Into<String>,
        parameters: serde_json::Value,
    ) -> FlowRun {
        FlowRun {
            id: Uuid::now_v7(),
            name: crate::names::generate(),
            flow_name: flow_name.into(),
            component_digest: component_digest.into(),
            deployment_name: None,
            parameters,
            tags: Vec::new(),
            run_count: 0,
            created: Utc::now(),
            start_time: None,
            end_time: None,
            state: State::pending(),
            deployment_id: None,
            work_pool_name: None,
            expected_start_time: None,
        }
    }
}

/// One call of a task inside a flow run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskRun {
    /// The task run's id.
    pub id: Uuid,
    /// The flow run it belongs to.
    pub flow_run_id: Uuid,
    /// The task run that called it, for nested tasks.
    pub parent_task_run_id: Option<Uuid>,
    /// The task's name (Prefect's `task_key`).
    pub task_key: String,
    /// The n-th call of this task in the flow run, from 0 (Prefect's
    /// `dynamic_key`). Together with `task_key` it identifies the call.
    pub dynamic_key: u64,
    /// Display name: `{task_key}-{dynamic_key}`.
    pub name: String,
    /// The task's input, as JSON.
    pub input: serde_json::Value,
    /// The cache key, when the task is cached.
    pub cache_key: Option<String>,
    /// When the cached result expires.
    pub cache_expiration: Option<DateTime<Utc>>,
    /// Tags from the task's options.
    pub tags: Vec<String>,
    /// How many attempts have entered Running.
    pub run_count: u32,
    /// When the task run was created.
    pub created: DateTime<Utc>,
    /// When its first attempt started.
    pub start_time: Option<DateTime<Utc>>,
    /// When it entered a terminal state.
    pub end_time: Option<DateTime<Utc>>,
    /// Its current state.
    pub state: State,
}

impl TaskRun {
    /// A new task run in the `Pending` state.
    pub fn new(
        flow_run_id: Uuid,
        parent_task_run_id: Option<Uuid>,
        task_key: impl Into<String>,
        dynamic_key: u64,
        input: serde_json::Value,
    ) -> TaskRun {
        let task_key = task_key.into();
        TaskRun {
            id: Uuid::now_v7(),
            flow_run_id,
            parent_task_run_id,
            name: format!("{task_key}-{dynamic_key}"),
            task_key,
            dynamic_key,
            input,
            cache_key: None,
            cache_expiration: None,
            tags: Vec::new(),
            run_count: 0,
            created: Utc::now(),
            start_time: None,
            end_time: None,
            state: State::pending(),
        }
    }
}

/// Log levels with Python's numeric values, as Prefect stores them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(into = "u8", from = "u8")]
pub enum LogLevel {
    /// 10
    Debug,
    /// 20
    Info,
    /// 30
    Warning,
    /// 40
    Error,
    /// 50
    Critical,
}

impl LogLevel {
    /// Python's numeric level (10, 20, 30, 40, 50).
    pub fn as_number(self) -> u8 {
        match self {
            LogLevel::Debug => 10,
            LogLevel::Info => 20,
            LogLevel::Warning => 30,
            LogLevel::Error => 40,
            LogLevel::Critical => 50,
        }
    }

    /// The level for a numeric value, rounding down to the nearest level.
    pub fn from_number(n: u8) -> LogLevel {
        match n {
            0..=19 => LogLevel::Debug,
            20..=29 => LogLevel::Info,
            30..=39 => LogLevel::Warning,
            40..=49 => LogLevel::Error,
            _ => LogLevel::Critical,
        }
    }

    /// The upper-case name (`"INFO"`).
    pub fn as_str(self) -> &'static str {
        match self {
            LogLevel::Debug => "DEBUG",
            LogLevel::Info => "INFO",
            LogLevel::Warning => "WARNING",
            LogLevel::Error => "ERROR",
            LogLevel::Critical => "CRITICAL",
        }
    }
}

impl From<LogLevel> for u8 {
    fn from(l: LogLevel) -> u8 {
        l.as_number()
    }
}

impl From<u8> for LogLevel {
    fn from(n: u8) -> LogLevel {
        LogLevel::from_number(n)
    }
}

/// One log line of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogEntry {
    /// The logger's name (`"weft.flow_runs"`, `"weft.task_runs"`, `"stdout"`).
    pub name: String,
    /// Severity.
    pub level: LogLevel,
    /// The text, with secret values already redacted.
    pub message: String,
    /// When it was written.
    pub timestamp: DateTime<Utc>,
    /// The flow run it belongs to.
    pub flow_run_id: Uuid,
    /// The task run it belongs to, if written inside a task.
    pub task_run_id: Option<Uuid>,
}

/// A cached task result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CacheEntry {
    /// The cache key.
    pub key: String,
    /// The result, as JSON.
    pub value: serde_json::Value,
    /// When it was stored.
    pub created: DateTime<Utc>,
    /// When it stops being valid; never when absent.
    pub expiration: Option<DateTime<Utc>>,
    /// The task run that produced it.
    pub task_run_id: Option<Uuid>,
}

impl CacheEntry {
    /// Whether the entry is still valid at `now`.
    pub fn is_valid_at(&self, now: DateTime<Utc>) -> bool {
        self.expiration.is_none_or(|e| now < e)
    }
}

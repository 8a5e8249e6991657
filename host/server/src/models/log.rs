//! Prefect's `Log`, `LogCreate` and the log filter body.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;
use weft_core::{LogEntry, LogLevel};

use super::filter::{IdFilter, TimeFilter};

/// One log line to record (Prefect's `LogCreate`).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct LogCreate {
    /// The logger's name (`prefect.flow_runs`).
    pub name: String,
    /// Python's numeric level (10, 20, 30, 40, 50).
    pub level: u8,
    /// The text.
    pub message: String,
    /// When it was written.
    pub timestamp: DateTime<Utc>,
    /// The flow run it belongs to. Lines without one (a worker's own
    /// logs) are accepted and not kept.
    #[serde(default)]
    pub flow_run_id: Option<Uuid>,
    /// The task run it belongs to.
    #[serde(default)]
    pub task_run_id: Option<Uuid>,
}

/// One log line as the API returns it (Prefect's `Log`).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct LogOut {
    /// An id for the line.
    pub id: Uuid,
    /// When it was recorded.
    pub created: DateTime<Utc>,
    /// Same as `created`.
    pub updated: DateTime<Utc>,
    /// The logger's name.
    pub name: String,
    /// Python's numeric level.
    pub level: u8,
    /// The text.
    pub message: String,
    /// When it was written.
    pub timestamp: DateTime<Utc>,
    /// Its flow run.
    pub flow_run_id: Option<Uuid>,
    /// Its task run.
    pub task_run_id: Option<Uuid>,
    /// The worker that wrote it.
    pub worker_id: Option<Uuid>,
}

impl From<LogEntry> for LogOut {
    fn from(l: LogEntry) -> LogOut {
        LogOut {
            id: Uuid::new_v4(),
            created: l.timestamp,
            updated: l.timestamp,
            name: l.name,
            level: l.level.as_number(),
            message: l.message,
            timestamp: l.timestamp,
            flow_run_id: Some(l.flow_run_id),
            task_run_id: l.task_run_id,
            worker_id: None,
        }
    }
}

impl LogCreate {
    /// The entry to store, if it belongs to a flow run.
    pub fn into_entry(self) -> Option<LogEntry> {
        Some(LogEntry {
            name: self.name,
            level: LogLevel::from_number(self.level),
            message: self.message,
            timestamp: self.timestamp,
            flow_run_id: self.flow_run_id?,
            task_run_id: self.task_run_id,
        })
    }
}

/// A filter on a level: `ge_` and `le_`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct LevelFilter {
    /// At or above.
    pub ge_: Option<u8>,
    /// At or below.
    pub le_: Option<u8>,
}

/// Prefect's `logs` criteria.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct LogCriteria {
    /// By level.
    pub level: Option<LevelFilter>,
    /// By time.
    pub timestamp: Option<TimeFilter>,
    /// By flow run.
    pub flow_run_id: Option<IdFilter>,
    /// By task run.
    pub task_run_id: Option<IdFilter>,
}

/// The body of `POST /api/logs/filter`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct LogFilterBody {
    /// Criteria on log lines.
    pub logs: Option<LogCriteria>,
    /// `TIMESTAMP_ASC` (default) or `TIMESTAMP_DESC`.
    pub sort: Option<String>,
    /// At most this many.
    pub limit: Option<u32>,
    /// Skip this many.
    pub offset: Option<u32>,
}

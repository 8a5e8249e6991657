//! Filters and sort orders for listing runs and logs.
//!
//! Every field is optional and the fields combine with AND; a list matches
//! a record whose value is any of the list's (an empty list matches
//! nothing), as Prefect's `any_` filters do.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;
use weft_core::{LogLevel, StateType};

/// The order of [`crate::Store::list_flow_runs`]'s results.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum FlowRunSort {
    /// Newest first (the default).
    #[default]
    CreatedDesc,
    /// Oldest first.
    CreatedAsc,
    /// Latest start first; runs that never started last.
    StartTimeDesc,
    /// Earliest start first; runs that never started last.
    StartTimeAsc,
    /// Latest end first; runs that have not ended last.
    EndTimeDesc,
    /// By name, then newest first.
    NameAsc,
    /// By name descending, then newest first.
    NameDesc,
    /// Latest expected start first (Prefect's default for `flow-run ls`);
    /// a run with no expected start time sorts by its creation time.
    ExpectedStartTimeDesc,
    /// Earliest expected start first; a run with no expected start time
    /// sorts by its creation time.
    ExpectedStartTimeAsc,
}

/// Which flow runs [`crate::Store::list_flow_runs`] returns.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct FlowRunFilter {
    /// Runs with one of these ids.
    pub ids: Option<Vec<Uuid>>,
    /// Runs with one of these names.
    pub names: Option<Vec<String>>,
    /// Runs of one of these flows.
    pub flow_names: Option<Vec<String>>,
    /// Runs whose current state has one of these types.
    pub state_types: Option<Vec<StateType>>,
    /// Runs whose current state has one of these names (`"Late"`).
    pub state_names: Option<Vec<String>>,
    /// Runs created from one of these deployments.
    pub deployment_names: Option<Vec<String>>,
    /// Runs created from one of these deployments (by id).
    pub deployment_ids: Option<Vec<Uuid>>,
    /// Runs of one of these work pools.
    pub work_pool_names: Option<Vec<String>>,
    /// Runs carrying every one of these tags.
    pub tags_all: Option<Vec<String>>,
    /// Runs expected to start at or after this time (a run with no expected
    /// start time is expected at its creation, as in the sort).
    pub expected_start_time_after: Option<DateTime<Utc>>,
    /// Runs expected to start at or before this time (a run with no
    /// expected start time is expected at its creation).
    pub expected_start_time_before: Option<DateTime<Utc>>,
    /// Runs that started at or after this time.
    pub start_time_after: Option<DateTime<Utc>>,
    /// Runs that started at or before this time.
    pub start_time_before: Option<DateTime<Utc>>,
    /// Runs with none of these ids.
    pub ids_not: Option<Vec<Uuid>>,
    /// Runs with none of these names.
    pub names_not: Option<Vec<String>>,
    /// Runs whose name contains this, ignoring ASCII case (Prefect's
    /// `like_`; `%` and `_` are wildcards).
    pub name_like: Option<String>,
    /// Runs whose name starts with this.
    pub name_startswith: Option<String>,
    /// Runs whose current state has none of these names.
    pub state_names_not: Option<Vec<String>>,
    /// Runs carrying at least one of these tags.
    pub tags_any: Option<Vec<String>>,
    /// Runs with no tags (`true`) or with some (`false`).
    pub tags_empty: Option<bool>,
    /// Runs not created from one of these deployments (runs of no
    /// deployment match).
    pub deployment_ids_not: Option<Vec<Uuid>>,
    /// Runs of no deployment (`true`) or of one (`false`).
    pub deployment_id_is_null: Option<bool>,
    /// Runs of no work pool (`true`) or of one (`false`).
    pub work_pool_name_is_null: Option<bool>,
    /// Runs that never started (`true`) or did (`false`).
    pub start_time_is_null: Option<bool>,
    /// Runs that ended at or after this time.
    pub end_time_after: Option<DateTime<Utc>>,
    /// Runs that ended at or before this time.
    pub end_time_before: Option<DateTime<Utc>>,
    /// Runs that have not ended (`true`) or have (`false`).
    pub end_time_is_null: Option<bool>,
    /// Order of the results.
    pub sort: FlowRunSort,
    /// At most this many results.
    pub limit: Option<u32>,
    /// Skip this many results first.
    pub offset: u32,
}

/// The order of [`crate::Store::list_task_runs`]'s results.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TaskRunSort {
    /// Oldest first (the default).
    #[default]
    CreatedAsc,
    /// Newest first.
    CreatedDesc,
    /// By task key, then call order (dynamic key).
    TaskKeyAsc,
}

/// Which task runs [`crate::Store::list_task_runs`] returns.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct TaskRunFilter {
    /// Task runs with one of these ids.
    pub ids: Option<Vec<Uuid>>,
    /// Task runs of one of these flow runs.
    pub flow_run_ids: Option<Vec<Uuid>>,
    /// Task runs whose current state has one of these types.
    pub state_types: Option<Vec<StateType>>,
    /// Task runs with one of these display names (`"add-0"`).
    pub names: Option<Vec<String>>,
    /// Task runs of one of these tasks.
    pub task_keys: Option<Vec<String>>,
    /// Order of the results.
    pub sort: TaskRunSort,
    /// At most this many results.
    pub limit: Option<u32>,
    /// Skip this many results first.
    pub offset: u32,
}

/// Which log lines [`crate::Store::read_logs`] returns, oldest first.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct LogFilter {
    /// Lines of one of these flow runs.
    pub flow_run_ids: Option<Vec<Uuid>>,
    /// Lines of one of these task runs.
    pub task_run_ids: Option<Vec<Uuid>>,
    /// Lines at this level or above.
    pub level_ge: Option<LogLevel>,
    /// Lines at this level or below.
    pub level_le: Option<LogLevel>,
    /// Lines written strictly after this time (for following a run's logs).
    pub timestamp_after: Option<DateTime<Utc>>,
    /// Lines written at or after this time.
    pub since: Option<DateTime<Utc>>,
    /// Lines written at or before this time.
    pub until: Option<DateTime<Utc>>,
    /// Newest first (else oldest first); paging counts in this order.
    pub newest_first: bool,
    /// At most this many lines.
    pub limit: Option<u32>,
    /// Skip this many lines first.
    pub offset: u32,
}

/// Which deployments [`crate::Store::list_deployments`] returns, by name.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct DeploymentFilter {
    /// Deployments with one of these ids.
    pub ids: Option<Vec<Uuid>>,
    /// Deployments with one of these names.
    pub names: Option<Vec<String>>,
    /// Deployments of one of these flows.
    pub flow_names: Option<Vec<String>>,
    /// Deployments run by one of these work pools.
    pub work_pool_names: Option<Vec<String>>,
    /// Deployments carrying every one of these tags.
    pub tags_all: Option<Vec<String>>,
    /// Only paused (`true`) or only active (`false`) deployments.
    pub paused: Option<bool>,
    /// At most this many results.
    pub limit: Option<u32>,
    /// Skip this many results first.
    pub offset: u32,
}

/// Which work pools [`crate::Store::list_work_pools`] returns, by name.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct WorkPoolFilter {
    /// Pools with one of these names.
    pub names: Option<Vec<String>>,
    /// At most this many results.
    pub limit: Option<u32>,
    /// Skip this many results first.
    pub offset: u32,
}

/// Which variables [`crate::Store::list_variables`] returns, by name.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct VariableFilter {
    /// Variables with one of these names.
    pub names: Option<Vec<String>>,
    /// Variables whose name contains this, ignoring ASCII case (Prefect's
    /// `like_`; `%` and `_` are wildcards).
    pub name_like: Option<String>,
    /// Variables carrying every one of these tags.
    pub tags_all: Option<Vec<String>>,
    /// At most this many results.
    pub limit: Option<u32>,
    /// Skip this many results first.
    pub offset: u32,
}

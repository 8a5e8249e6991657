//! Prefect's filter building blocks (`{"any_": [...]}`, `{"after_": ...}`)
//! and the filters on flows, deployments, work pools and task runs.
//!
//! Every field is optional and unknown fields (such as `operator`) are
//! ignored, so the bodies Prefect's client sends parse as they are.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// A filter on an id: `any_` (one of) and `not_any_` (none of).
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct IdFilter {
    /// One of these.
    pub any_: Option<Vec<Uuid>>,
    /// None of these.
    pub not_any_: Option<Vec<Uuid>>,
    /// Whether the id is null (for optional references).
    pub is_null_: Option<bool>,
}

impl IdFilter {
    /// Whether only `any_` is set (so a store can answer it alone).
    pub fn is_only_any(&self) -> bool {
        self.not_any_.is_none() && self.is_null_.is_none()
    }

    /// Whether `id` passes.
    pub fn matches(&self, id: Option<Uuid>) -> bool {
        if let Some(null) = self.is_null_
            && null != id.is_none()
        {
            return false;
        }
        if let Some(any) = &self.any_
            && !id.is_some_and(|id| any.contains(&id))
        {
            return false;
        }
        if let Some(none) = &self.not_any_
            && id.is_some_and(|id| none.contains(&id))
        {
            return false;
        }
        true
    }
}

/// A filter on a name: `any_`, `not_any_`, `like_` (a substring, as
/// Prefect's case-insensitive `ILIKE %x%`) and `startswith_`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct NameFilter {
    /// One of these.
    pub any_: Option<Vec<String>>,
    /// None of these.
    pub not_any_: Option<Vec<String>>,
    /// Contains this, ignoring case.
    pub like_: Option<String>,
    /// Starts with this.
    pub startswith_: Option<String>,
}

impl NameFilter {
    /// Whether `name` passes.
    pub fn matches(&self, name: &str) -> bool {
        self.any_
            .as_ref()
            .is_none_or(|a| a.iter().any(|n| n == name))
            && self
                .not_any_
                .as_ref()
                .is_none_or(|a| !a.iter().any(|n| n == name))
            && self
                .like_
                .as_ref()
                .is_none_or(|l| name.to_lowercase().contains(&l.to_lowercase()))
            && self
                .startswith_
                .as_ref()
                .is_none_or(|p| name.starts_with(p.as_str()))
    }

    /// Whether only `any_` is set (so a store can answer it alone).
    pub fn is_only_any(&self) -> bool {
        self.not_any_.is_none() && self.like_.is_none() && self.startswith_.is_none()
    }
}

/// A filter on tags: `all_` (has every one), `any_` (has one of),
/// `is_null_` (has none).
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct TagsFilter {
    /// Has every one of these.
    pub all_: Option<Vec<String>>,
    /// Has at least one of these.
    pub any_: Option<Vec<String>>,
    /// Has no tags (true) or some (false).
    pub is_null_: Option<bool>,
}

impl TagsFilter {
    /// Whether `tags` pass.
    pub fn matches(&self, tags: &[String]) -> bool {
        self.all_
            .as_ref()
            .is_none_or(|a| a.iter().all(|t| tags.contains(t)))
            && self
                .any_
                .as_ref()
                .is_none_or(|a| a.iter().any(|t| tags.contains(t)))
            && self.is_null_.is_none_or(|n| n == tags.is_empty())
    }
}

/// A filter on a time: `before_`, `after_` (both inclusive) and `is_null_`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct TimeFilter {
    /// At or before this.
    pub before_: Option<DateTime<Utc>>,
    /// At or after this.
    pub after_: Option<DateTime<Utc>>,
    /// Whether the time is unset.
    pub is_null_: Option<bool>,
}

impl TimeFilter {
    /// Whether `t` passes.
    pub fn matches(&self, t: Option<DateTime<Utc>>) -> bool {
        if let Some(null) = self.is_null_
            && null != t.is_none()
        {
            return false;
        }
        if self.before_.is_some() || self.after_.is_some() {
            let Some(t) = t else { return false };
            if self.before_.is_some_and(|b| t > b) || self.after_.is_some_and(|a| t < a) {
                return false;
            }
        }
        true
    }
}

/// Prefect's `flows` criteria.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct FlowFilter {
    /// By id.
    pub id: Option<IdFilter>,
    /// By name.
    pub name: Option<NameFilter>,
    /// By tags (weft's flows have none).
    pub tags: Option<TagsFilter>,
}

/// Prefect's `deployments` criteria.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct DeploymentFilter {
    /// By id.
    pub id: Option<IdFilter>,
    /// By name.
    pub name: Option<NameFilter>,
    /// By tags.
    pub tags: Option<TagsFilter>,
    /// By work queue (weft: work pool) name.
    pub work_queue_name: Option<NameFilter>,
}

/// Prefect's `work_pools` criteria.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct WorkPoolFilter {
    /// By id.
    pub id: Option<IdFilter>,
    /// By name.
    pub name: Option<NameFilter>,
    /// By type.
    #[serde(rename = "type")]
    pub pool_type: Option<NameFilter>,
}

/// The body of `POST /api/flows/filter`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct FlowFilterBody {
    /// Criteria on flows.
    pub flows: Option<FlowFilter>,
    /// `NAME_ASC` (default), `NAME_DESC`, `CREATED_DESC`.
    pub sort: Option<String>,
    /// At most this many.
    pub limit: Option<u32>,
    /// Skip this many.
    pub offset: Option<u32>,
}

/// Prefect's `task_runs` criteria.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct TaskRunCriteria {
    /// By id.
    pub id: Option<IdFilter>,
    /// By name.
    pub name: Option<NameFilter>,
    /// By tags.
    pub tags: Option<TagsFilter>,
    /// By current state.
    pub state: Option<super::flow_run::StateCriteria>,
    /// By flow run.
    pub flow_run_id: Option<IdFilter>,
    /// By start time.
    pub start_time: Option<TimeFilter>,
}

/// The body of `POST /api/task_runs/filter` and `count`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct TaskRunFilterBody {
    /// Criteria on the runs' flows (only `id`/`name` of flow runs apply).
    pub flow_runs: Option<super::flow_run::FlowRunCriteria>,
    /// Criteria on the task runs.
    pub task_runs: Option<TaskRunCriteria>,
    /// `EXPECTED_START_TIME_ASC`, `EXPECTED_START_TIME_DESC`, `NAME_ASC`, ...
    pub sort: Option<String>,
    /// At most this many.
    pub limit: Option<u32>,
    /// Skip this many.
    pub offset: Option<u32>,
}

/// A body with only `limit` and `offset`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct Page {
    /// At most this many.
    pub limit: Option<u32>,
    /// Skip this many.
    pub offset: Option<u32>,
}

/// Applies `offset` and `limit` to `items`.
pub fn paginate<T>(items: Vec<T>, limit: Option<u32>, offset: Option<u32>) -> Vec<T> {
    let offset = offset.unwrap_or(0) as usize;
    let iter = items.into_iter().skip(offset);
    match limit {
        Some(l) => iter.take(l as usize).collect(),
        None => iter.collect(),
    }
}

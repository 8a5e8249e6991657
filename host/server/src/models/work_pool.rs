//! Prefect's `WorkPool`, its create/update bodies, and the worker calls.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;
use weft_core::{WorkPool, Worker};

use super::filter::{NameFilter, TimeFilter, WorkPoolFilter};
use super::flow_run::FlowRunOut;

/// A work pool as the API returns it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct WorkPoolOut {
    /// Its id.
    pub id: Uuid,
    /// When it was created.
    pub created: DateTime<Utc>,
    /// When it last changed.
    pub updated: DateTime<Utc>,
    /// Its unique name.
    pub name: String,
    /// A description.
    pub description: Option<String>,
    /// Its type (`weft` for weft's workers).
    #[serde(rename = "type")]
    pub pool_type: String,
    /// Prefect's job template (`{}` in weft).
    pub base_job_template: serde_json::Value,
    /// A paused pool hands out no runs.
    pub is_paused: bool,
    /// At most this many of its runs at once.
    pub concurrency_limit: Option<u32>,
    /// `READY`, `NOT_READY` or `PAUSED`.
    pub status: String,
    /// Its default queue: weft's pools have one implicit queue, `default`,
    /// whose id is [`default_queue_id`] of the pool. Prefect's client
    /// requires this field to be a UUID (a null fails its `WorkPool`).
    pub default_queue_id: Uuid,
    /// Unused by weft.
    pub storage_configuration: serde_json::Value,
}

impl WorkPoolOut {
    /// The pool as returned: `PAUSED` when paused, else `READY` when one of
    /// its workers is online (`workers_online`), else `NOT_READY`.
    pub fn new(p: WorkPool, workers_online: bool) -> WorkPoolOut {
        WorkPoolOut {
            id: p.id,
            created: p.created,
            updated: p.updated,
            status: match (p.is_paused, workers_online) {
                (true, _) => "PAUSED",
                (false, true) => "READY",
                (false, false) => "NOT_READY",
            }
            .to_string(),
            name: p.name,
            description: p.description,
            pool_type: p.pool_type,
            base_job_template: serde_json::json!({}),
            is_paused: p.is_paused,
            concurrency_limit: p.concurrency_limit,
            default_queue_id: default_queue_id(p.id),
            storage_configuration: serde_json::json!({}),
        }
    }
}

/// The id of the one queue (`default`) of the pool `pool_id`: the pool's
/// own id, as weft keeps no separate queue records.
pub fn default_queue_id(pool_id: Uuid) -> Uuid {
    pool_id
}

/// The body of `POST /api/work_pools/`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct WorkPoolCreate {
    /// Its unique name (required).
    pub name: String,
    /// Its type (default `weft`).
    #[serde(default, rename = "type")]
    pub pool_type: Option<String>,
    /// A description.
    #[serde(default)]
    pub description: Option<String>,
    /// Whether it starts paused.
    #[serde(default)]
    pub is_paused: bool,
    /// At most this many of its runs at once.
    #[serde(default)]
    pub concurrency_limit: Option<u32>,
}

/// The body of `PATCH /api/work_pools/{name}`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct WorkPoolUpdate {
    /// A description.
    pub description: Option<String>,
    /// Pause or resume it.
    pub is_paused: Option<bool>,
    /// At most this many of its runs at once; `null` removes the limit.
    #[serde(deserialize_with = "super::absent_null_or")]
    #[schema(value_type = Option<u32>)]
    pub concurrency_limit: Option<Option<u32>>,
}

/// The body of `POST /api/work_pools/filter`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct WorkPoolFilterBody {
    /// Criteria.
    pub work_pools: Option<WorkPoolFilter>,
    /// At most this many.
    pub limit: Option<u32>,
    /// Skip this many.
    pub offset: Option<u32>,
}

/// The body of `get_scheduled_flow_runs`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct ScheduledRunsQuery {
    /// Ignored: weft's pools have one queue.
    pub work_queue_names: Option<Vec<String>>,
    /// Runs due at or before this (default now).
    pub scheduled_before: Option<DateTime<Utc>>,
    /// Ignored.
    pub scheduled_after: Option<DateTime<Utc>>,
    /// At most this many (default 100).
    pub limit: Option<u32>,
}

/// One run handed to a worker (Prefect's `WorkerFlowRunResponse`).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct WorkerFlowRun {
    /// The pool's id.
    pub work_pool_id: Uuid,
    /// The queue's id: the pool's default queue.
    pub work_queue_id: Option<Uuid>,
    /// The run.
    pub flow_run: FlowRunOut,
    /// Weft's own: the server's allowlist of outbound HTTP hosts, which the
    /// worker applies to the run too (absent: none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub operator_allowed_hosts: Option<Vec<String>>,
}

/// The body of weft's `claim_flow_runs`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ClaimBody {
    /// The claiming worker's name (required).
    pub worker: String,
    /// At most this many runs (default 1).
    #[serde(default)]
    pub limit: Option<u32>,
}

/// The body of `workers/heartbeat`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct HeartbeatBody {
    /// The worker's name (required).
    pub name: String,
    /// How often it heartbeats.
    #[serde(default)]
    pub heartbeat_interval_seconds: Option<u32>,
    /// Weft: the runs it is executing, whose heartbeat this refreshes.
    #[serde(default)]
    pub flow_run_ids: Vec<Uuid>,
}

/// A worker as the API returns it (Prefect's `WorkerResponse`).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct WorkerOut {
    /// Its id.
    pub id: Uuid,
    /// Its first heartbeat.
    pub created: DateTime<Utc>,
    /// When its record last changed.
    pub updated: DateTime<Utc>,
    /// Its name, unique within the pool.
    pub name: String,
    /// The pool's id.
    pub work_pool_id: Uuid,
    /// When it last heartbeated.
    pub last_heartbeat_time: DateTime<Utc>,
    /// How often it says it heartbeats.
    pub heartbeat_interval_seconds: Option<u32>,
    /// `ONLINE` when heard from within three heartbeat intervals, else
    /// `OFFLINE`.
    pub status: String,
}

impl WorkerOut {
    /// `worker` of the pool `work_pool_id`, its status as of `now`.
    pub fn new(worker: Worker, work_pool_id: Uuid, now: DateTime<Utc>) -> WorkerOut {
        WorkerOut {
            status: if worker.is_online(now) {
                "ONLINE"
            } else {
                "OFFLINE"
            }
            .to_string(),
            id: worker.id,
            created: worker.created,
            updated: worker.updated,
            name: worker.name,
            work_pool_id,
            last_heartbeat_time: worker.last_heartbeat_time,
            heartbeat_interval_seconds: worker.heartbeat_interval_seconds,
        }
    }
}

/// Prefect's `workers` criteria.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct WorkerCriteria {
    /// On the worker's name.
    pub name: Option<NameFilter>,
    /// On its status (`ONLINE`, `OFFLINE`): `any_` / `not_any_`.
    pub status: Option<NameFilter>,
    /// On its last heartbeat.
    pub last_heartbeat_time: Option<TimeFilter>,
}

impl WorkerCriteria {
    /// Whether `worker` (as returned) passes.
    pub fn matches(&self, worker: &WorkerOut) -> bool {
        self.name.as_ref().is_none_or(|f| f.matches(&worker.name))
            && self
                .status
                .as_ref()
                .is_none_or(|f| f.matches(&worker.status))
            && self
                .last_heartbeat_time
                .as_ref()
                .is_none_or(|f| f.matches(Some(worker.last_heartbeat_time)))
    }
}

/// The body of `POST /api/work_pools/{name}/workers/filter`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct WorkerFilterBody {
    /// Criteria.
    pub workers: Option<WorkerCriteria>,
    /// At most this many.
    pub limit: Option<u32>,
    /// Skip this many.
    pub offset: Option<u32>,
}

//! Deployments, work pools, variables and stored components: what a
//! central server keeps so that workers can run flows on demand or on a
//! schedule.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::limits::RunLimits;

/// A schedule of a deployment (Prefect's `DeploymentSchedule`): exactly
/// one of a cron expression, a fixed interval or an RRule, read in a time
/// zone. [`crate::schedule`] computes its slots.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Schedule {
    /// The schedule's id.
    pub id: Uuid,
    /// A cron expression (`0 3 * * *`), when it is a cron schedule.
    pub cron: Option<String>,
    /// The interval in seconds, when it is an interval schedule.
    pub interval_secs: Option<u64>,
    /// Where an interval schedule's slots are counted from (slots are
    /// `anchor + k * interval`); the time it was created when not given.
    #[serde(default)]
    pub anchor_date: Option<DateTime<Utc>>,
    /// An RFC 5545 recurrence rule (`RRULE:FREQ=WEEKLY;BYDAY=MO`, with an
    /// optional `DTSTART`), when it is an RRule schedule.
    #[serde(default)]
    pub rrule: Option<String>,
    /// The IANA time zone the schedule is read in (UTC if absent).
    pub timezone: Option<String>,
    /// Cron only: whether a day-of-month and a day-of-week field match
    /// when either matches (true, cron's rule) or only when both do.
    #[serde(default = "yes")]
    pub day_or: bool,
    /// Whether the scheduler creates runs for it.
    pub active: bool,
    /// At most this many of its runs scheduled ahead (the scheduler's
    /// default when absent).
    #[serde(default)]
    pub max_scheduled_runs: Option<u32>,
    /// Parameters its runs get over the deployment's (a JSON object).
    #[serde(default = "empty_object")]
    pub parameters: serde_json::Value,
    /// An optional name, unique within the deployment.
    #[serde(default)]
    pub slug: Option<String>,
}

fn yes() -> bool {
    true
}

fn empty_object() -> serde_json::Value {
    serde_json::json!({})
}

impl Default for Schedule {
    /// An active schedule with a new id and no definition yet.
    fn default() -> Schedule {
        Schedule {
            id: Uuid::now_v7(),
            cron: None,
            interval_secs: None,
            anchor_date: None,
            rrule: None,
            timezone: None,
            day_or: true,
            active: true,
            max_scheduled_runs: None,
            parameters: empty_object(),
            slug: None,
        }
    }
}

/// A flow of a stored component, with what its runs need: default
/// parameters, the pool that runs them, limits, granted secrets and
/// schedules.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Deployment {
    /// The deployment's id.
    pub id: Uuid,
    /// Its name, unique per flow.
    pub name: String,
    /// The flow it runs.
    pub flow_name: String,
    /// SHA-256 (hex) of the component holding the flow.
    pub component_digest: String,
    /// A human description.
    pub description: Option<String>,
    /// Default parameters, a JSON object; a run's parameters override them.
    pub parameters: serde_json::Value,
    /// Tags copied onto its runs.
    pub tags: Vec<String>,
    /// The work pool whose workers run it.
    pub work_pool_name: Option<String>,
    /// Its schedules.
    pub schedules: Vec<Schedule>,
    /// Sandbox limits of its runs.
    pub limits: RunLimits,
    /// Secrets its runs may read.
    pub allowed_secrets: Vec<String>,
    /// A paused deployment gets no scheduled runs.
    pub paused: bool,
    /// At most this many of its runs at once.
    pub concurrency_limit: Option<u32>,
    /// When it was created.
    pub created: DateTime<Utc>,
    /// When it was last changed.
    pub updated: DateTime<Utc>,
}

impl Deployment {
    /// A new deployment of `flow_name` in the component `component_digest`.
    pub fn new(
        name: impl Into<String>,
        flow_name: impl Into<String>,
        component_digest: impl Into<String>,
    ) -> Deployment {
        let now = Utc::now();
        Deployment {
            id: Uuid::now_v7(),
            name: name.into(),
            flow_name: flow_name.into(),
            component_digest: component_digest.into(),
            description: None,
            parameters: serde_json::json!({}),
            tags: Vec::new(),
            work_pool_name: None,
            schedules: Vec::new(),
            limits: RunLimits::default(),
            allowed_secrets: Vec::new(),
            paused: false,
            concurrency_limit: None,
            created: now,
            updated: now,
        }
    }
}

/// A named queue of scheduled flow runs; workers poll a pool.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkPool {
    /// The pool's id.
    pub id: Uuid,
    /// Its unique name.
    pub name: String,
    /// Its type (Prefect's `type`); weft's own workers are `"weft"`.
    pub pool_type: String,
    /// A human description.
    pub description: Option<String>,
    /// A paused pool hands out no runs.
    pub is_paused: bool,
    /// At most this many of its runs at once.
    pub concurrency_limit: Option<u32>,
    /// When it was created.
    pub created: DateTime<Utc>,
    /// When it was last changed.
    pub updated: DateTime<Utc>,
}

/// A worker of a work pool, as its heartbeats record it (Prefect's worker).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Worker {
    /// The worker's id, fixed by its first heartbeat.
    pub id: Uuid,
    /// The pool it polls.
    pub work_pool_name: String,
    /// Its name, unique within the pool.
    pub name: String,
    /// When it last heartbeated.
    pub last_heartbeat_time: DateTime<Utc>,
    /// How often it says it heartbeats, in seconds.
    pub heartbeat_interval_seconds: Option<u32>,
    /// Its first heartbeat.
    pub created: DateTime<Utc>,
    /// When its record last changed.
    pub updated: DateTime<Utc>,
}

impl Worker {
    /// The heartbeat interval assumed for a worker that did not give one
    /// (Prefect's `PREFECT_WORKER_HEARTBEAT_SECONDS`).
    pub const DEFAULT_HEARTBEAT_SECONDS: u32 = 30;

    /// Whether the worker counts as online at `now`: it heartbeated within
    /// three of its intervals, as Prefect marks workers offline.
    pub fn is_online(&self, now: DateTime<Utc>) -> bool {
        let interval = self
            .heartbeat_interval_seconds
            .unwrap_or(Self::DEFAULT_HEARTBEAT_SECONDS);
        now - self.last_heartbeat_time <= chrono::Duration::seconds(3 * i64::from(interval))
    }
}

impl WorkPool {
    /// A new pool named `name` of type `"weft"`.
    pub fn new(name: impl Into<String>) -> WorkPool {
        let now = Utc::now();
        WorkPool {
            id: Uuid::now_v7(),
            name: name.into(),
            pool_type: "weft".into(),
            description: None,
            is_paused: false,
            concurrency_limit: None,
            created: now,
            updated: now,
        }
    }
}

/// A named JSON value (Prefect's variables).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Variable {
    /// The variable's id.
    pub id: Uuid,
    /// Its unique name.
    pub name: String,
    /// Its value.
    pub value: serde_json::Value,
    /// Tags.
    pub tags: Vec<String>,
    /// When it was created.
    pub created: DateTime<Utc>,
    /// When it was last changed.
    pub updated: DateTime<Utc>,
}

/// An uploaded component's metadata (its bytes are stored beside it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ComponentRecord {
    /// SHA-256 (hex) of its bytes.
    pub digest: String,
    /// Size of its bytes.
    pub size: u64,
    /// The world it targets (`weft:flow/flow@0.1.0`).
    pub world: String,
    /// What `describe` returned: `{sdk, flows, tasks}` as JSON.
    pub info: serde_json::Value,
    /// When it was uploaded.
    pub created: DateTime<Utc>,
}

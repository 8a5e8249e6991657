//! Prefect's `DeploymentResponse`, `DeploymentCreate`, `DeploymentUpdate`
//! and the deployment filter body.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;
use weft_core::{Deployment, RunLimits, Schedule};

use super::filter::{DeploymentFilter, FlowFilter, WorkPoolFilter};

/// A schedule's definition: cron or interval.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct ScheduleSpec {
    /// A cron expression.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cron: Option<String>,
    /// An interval in seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interval: Option<f64>,
    /// The time zone.
    pub timezone: Option<String>,
}

/// A deployment schedule (Prefect's `DeploymentSchedule`).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ScheduleOut {
    /// Its id.
    pub id: Uuid,
    /// Its deployment.
    pub deployment_id: Uuid,
    /// Its definition.
    pub schedule: ScheduleSpec,
    /// Whether it is active.
    pub active: bool,
}

/// A schedule in a create or update body.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ScheduleCreate {
    /// Its definition.
    pub schedule: ScheduleSpec,
    /// Whether it is active (default true).
    #[serde(default = "yes")]
    pub active: bool,
}

fn yes() -> bool {
    true
}

impl ScheduleCreate {
    /// The core schedule.
    pub fn into_schedule(self) -> Schedule {
        Schedule {
            id: Uuid::now_v7(),
            cron: self.schedule.cron,
            interval_secs: self.schedule.interval.map(|s| s.max(0.0) as u64),
            timezone: self.schedule.timezone,
            active: self.active,
            ..Schedule::default()
        }
    }
}

/// A deployment as the API returns it (Prefect's `DeploymentResponse`).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DeploymentOut {
    /// Its id.
    pub id: Uuid,
    /// When it was created.
    pub created: DateTime<Utc>,
    /// When it last changed.
    pub updated: DateTime<Utc>,
    /// Its name, unique per flow.
    pub name: String,
    /// Its version (the component digest).
    pub version: Option<String>,
    /// A description.
    pub description: Option<String>,
    /// The flow's id.
    pub flow_id: Uuid,
    /// Whether its schedules are paused.
    pub paused: bool,
    /// Its schedules.
    pub schedules: Vec<ScheduleOut>,
    /// At most this many of its runs at once.
    pub concurrency_limit: Option<u32>,
    /// Unused by weft.
    pub global_concurrency_limit: Option<serde_json::Value>,
    /// Unused by weft.
    pub concurrency_options: Option<serde_json::Value>,
    /// Job variables.
    pub job_variables: serde_json::Value,
    /// Default parameters.
    pub parameters: serde_json::Value,
    /// Tags.
    pub tags: Vec<String>,
    /// Labels.
    pub labels: BTreeMap<String, serde_json::Value>,
    /// The work queue name (`default` when in a pool).
    pub work_queue_name: Option<String>,
    /// When a worker last polled for it.
    pub last_polled: Option<DateTime<Utc>>,
    /// JSON Schema of the parameters.
    pub parameter_openapi_schema: Option<serde_json::Value>,
    /// Unused by weft.
    pub path: Option<String>,
    /// Unused by weft.
    pub pull_steps: Vec<serde_json::Value>,
    /// The flow's entry point: `{digest}:{flow}`.
    pub entrypoint: Option<String>,
    /// Unused by weft.
    pub storage_document_id: Option<Uuid>,
    /// Unused by weft.
    pub infrastructure_document_id: Option<Uuid>,
    /// Who created it.
    pub created_by: Option<serde_json::Value>,
    /// Who updated it.
    pub updated_by: Option<serde_json::Value>,
    /// The work queue's id.
    pub work_queue_id: Option<Uuid>,
    /// Whether parameters are checked against the schema.
    pub enforce_parameter_schema: bool,
    /// The work pool whose workers run it.
    pub work_pool_name: Option<String>,
    /// `READY` or `NOT_READY`.
    pub status: String,
    /// Weft: the flow's name.
    pub flow_name: String,
    /// Weft: the component's digest.
    pub component_digest: String,
    /// Weft: secrets its runs may read.
    pub allowed_secrets: Vec<String>,
    /// Weft: sandbox limits of its runs.
    #[schema(value_type = Object)]
    pub limits: RunLimits,
}

impl DeploymentOut {
    /// The API form of `d`, whose flow has id `flow_id`.
    pub fn new(d: Deployment, flow_id: Uuid) -> DeploymentOut {
        let schedules = d
            .schedules
            .iter()
            .map(|s| ScheduleOut {
                id: s.id,
                deployment_id: d.id,
                schedule: ScheduleSpec {
                    cron: s.cron.clone(),
                    interval: s.interval_secs.map(|i| i as f64),
                    timezone: s.timezone.clone(),
                },
                active: s.active,
            })
            .collect();
        DeploymentOut {
            id: d.id,
            created: d.created,
            updated: d.updated,
            version: Some(d.component_digest.clone()).filter(|v| !v.is_empty()),
            description: d.description,
            flow_id,
            paused: d.paused,
            schedules,
            concurrency_limit: d.concurrency_limit,
            global_concurrency_limit: None,
            concurrency_options: None,
            job_variables: serde_json::json!({}),
            parameters: d.parameters,
            tags: d.tags,
            labels: BTreeMap::new(),
            work_queue_name: d.work_pool_name.as_ref().map(|_| "default".to_string()),
            last_polled: None,
            parameter_openapi_schema: None,
            path: None,
            pull_steps: Vec::new(),
            entrypoint: Some(format!("{}:{}", d.component_digest, d.flow_name)),
            storage_document_id: None,
            infrastructure_document_id: None,
            created_by: None,
            updated_by: None,
            work_queue_id: None,
            enforce_parameter_schema: false,
            status: if d.work_pool_name.is_some() {
                "READY"
            } else {
                "NOT_READY"
            }
            .to_string(),
            work_pool_name: d.work_pool_name,
            name: d.name,
            flow_name: d.flow_name,
            component_digest: d.component_digest,
            allowed_secrets: d.allowed_secrets,
            limits: d.limits,
        }
    }
}

/// The body of `POST /api/deployments/` (an upsert by flow and name).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DeploymentCreate {
    /// Its name (required).
    pub name: String,
    /// The flow's id (required).
    pub flow_id: Uuid,
    /// Weft: the component holding the flow.
    #[serde(default)]
    pub component_digest: Option<String>,
    /// A description.
    #[serde(default)]
    pub description: Option<String>,
    /// Default parameters, a JSON object.
    #[serde(default)]
    pub parameters: Option<serde_json::Value>,
    /// Tags.
    #[serde(default)]
    pub tags: Vec<String>,
    /// The work pool.
    #[serde(default)]
    pub work_pool_name: Option<String>,
    /// Schedules.
    #[serde(default)]
    pub schedules: Vec<ScheduleCreate>,
    /// Whether its schedules are paused.
    #[serde(default)]
    pub paused: bool,
    /// At most this many of its runs at once.
    #[serde(default)]
    pub concurrency_limit: Option<u32>,
    /// Weft: secrets its runs may read.
    #[serde(default)]
    pub allowed_secrets: Vec<String>,
    /// Weft: sandbox limits of its runs.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub limits: Option<RunLimits>,
}

/// The body of `PATCH /api/deployments/{id}`: the fields to change.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct DeploymentUpdate {
    /// A description.
    pub description: Option<String>,
    /// Default parameters.
    pub parameters: Option<serde_json::Value>,
    /// Tags.
    pub tags: Option<Vec<String>>,
    /// The work pool.
    pub work_pool_name: Option<String>,
    /// Schedules (replacing the current ones).
    pub schedules: Option<Vec<ScheduleCreate>>,
    /// Whether its schedules are paused.
    pub paused: Option<bool>,
    /// At most this many of its runs at once.
    pub concurrency_limit: Option<u32>,
    /// Weft: the component holding the flow.
    pub component_digest: Option<String>,
    /// Weft: secrets its runs may read.
    pub allowed_secrets: Option<Vec<String>>,
    /// Weft: sandbox limits of its runs.
    #[schema(value_type = Option<Object>)]
    pub limits: Option<RunLimits>,
}

/// The body of `POST /api/deployments/filter` and `count`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct DeploymentFilterBody {
    /// Criteria on the deployments' flows.
    pub flows: Option<FlowFilter>,
    /// Criteria on the deployments.
    pub deployments: Option<DeploymentFilter>,
    /// Criteria on the deployments' work pools.
    pub work_pools: Option<WorkPoolFilter>,
    /// Ignored.
    #[schema(value_type = Option<Object>)]
    pub flow_runs: Option<serde_json::Value>,
    /// Ignored.
    #[schema(value_type = Option<Object>)]
    pub task_runs: Option<serde_json::Value>,
    /// Ignored.
    #[schema(value_type = Option<Object>)]
    pub work_pool_queues: Option<serde_json::Value>,
    /// `NAME_ASC` (default), `NAME_DESC`, `CREATED_DESC`, `UPDATED_DESC`.
    pub sort: Option<String>,
    /// At most this many.
    pub limit: Option<u32>,
    /// Skip this many.
    pub offset: Option<u32>,
}

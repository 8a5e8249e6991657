//! Prefect's `DeploymentResponse`, `DeploymentCreate`, `DeploymentUpdate`
//! and the deployment filter body.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;
use weft_core::{Deployment, RunLimits, Schedule};

use super::filter::{DeploymentFilter, FlowFilter, WorkPoolFilter};

/// A schedule's definition (Prefect's `CronSchedule`, `IntervalSchedule`
/// or `RRuleSchedule`): exactly one of `cron`, `interval` and `rrule`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct ScheduleSpec {
    /// A cron expression (five fields).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cron: Option<String>,
    /// Cron: whether day-of-month and day-of-week match when either does
    /// (default true).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub day_or: Option<bool>,
    /// An interval in seconds (a whole number).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interval: Option<f64>,
    /// Interval: where slots are counted from (default: when created).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub anchor_date: Option<DateTime<Utc>>,
    /// An RFC 5545 recurrence rule.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rrule: Option<String>,
    /// The IANA time zone (UTC when absent).
    pub timezone: Option<String>,
}

impl ScheduleSpec {
    /// The API form of a core schedule's definition.
    pub fn of(s: &Schedule) -> ScheduleSpec {
        ScheduleSpec {
            cron: s.cron.clone(),
            day_or: s.cron.as_ref().map(|_| s.day_or),
            interval: s.interval_secs.map(|i| i as f64),
            anchor_date: s.interval_secs.and(s.anchor_date),
            rrule: s.rrule.clone(),
            timezone: s.timezone.clone(),
        }
    }

    /// Sets `s`'s definition from this one (an interval without an anchor
    /// is anchored at `now`, to the second); checks it parses.
    pub fn apply(self, s: &mut Schedule, now: DateTime<Utc>) -> Result<(), String> {
        let interval_secs = match self.interval {
            None => None,
            Some(i) if i.is_finite() && i >= 1.0 && i.fract() == 0.0 && i <= 1e12 => Some(i as u64),
            Some(i) => {
                return Err(format!(
                    "invalid interval {i}: it must be a whole number of seconds, at least 1"
                ));
            }
        };
        s.cron = self.cron;
        s.day_or = self.day_or.unwrap_or(true);
        s.interval_secs = interval_secs;
        s.anchor_date = match interval_secs {
            Some(_) => Some(
                self.anchor_date
                    .unwrap_or_else(|| DateTime::from_timestamp(now.timestamp(), 0).unwrap_or(now)),
            ),
            None => None,
        };
        s.rrule = self.rrule;
        s.timezone = self.timezone.filter(|t| !t.trim().is_empty());
        s.validate().map_err(|e| e.to_string())
    }
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
    /// Whether it is active (a paused schedule is inactive).
    pub active: bool,
    /// At most this many of its runs scheduled ahead.
    pub max_scheduled_runs: Option<u32>,
    /// Parameters its runs get over the deployment's.
    pub parameters: serde_json::Value,
    /// Its name, unique within the deployment.
    pub slug: Option<String>,
}

impl ScheduleOut {
    /// The API form of `s`, a schedule of `deployment_id`.
    pub fn new(s: &Schedule, deployment_id: Uuid) -> ScheduleOut {
        ScheduleOut {
            id: s.id,
            deployment_id,
            schedule: ScheduleSpec::of(s),
            active: s.active,
            max_scheduled_runs: s.max_scheduled_runs,
            parameters: s.parameters.clone(),
            slug: s.slug.clone(),
        }
    }
}

/// A schedule in a create body (Prefect's `DeploymentScheduleCreate`).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ScheduleCreate {
    /// Its definition.
    pub schedule: ScheduleSpec,
    /// Whether it is active (default true).
    #[serde(default = "yes")]
    pub active: bool,
    /// At most this many of its runs scheduled ahead.
    #[serde(default)]
    pub max_scheduled_runs: Option<u32>,
    /// Parameters its runs get over the deployment's (a JSON object).
    #[serde(default)]
    pub parameters: Option<serde_json::Value>,
    /// Its name, unique within the deployment.
    #[serde(default)]
    pub slug: Option<String>,
}

fn yes() -> bool {
    true
}

impl ScheduleCreate {
    /// The core schedule, checked: a bad cron, interval, rrule or time
    /// zone is an error message for a 422.
    pub fn into_schedule(self, now: DateTime<Utc>) -> Result<Schedule, String> {
        let mut s = Schedule {
            active: self.active,
            max_scheduled_runs: self.max_scheduled_runs,
            slug: self.slug,
            ..Schedule::default()
        };
        if self.max_scheduled_runs == Some(0) {
            return Err("`max_scheduled_runs` must be at least 1".into());
        }
        if let Some(p) = self.parameters {
            if !p.is_object() {
                return Err("a schedule's `parameters` must be a JSON object".into());
            }
            s.parameters = p;
        }
        self.schedule.apply(&mut s, now)?;
        Ok(s)
    }
}

/// The body of `PATCH /api/deployments/{id}/schedules/{schedule_id}`
/// (Prefect's `DeploymentScheduleUpdate`): the fields to change.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct ScheduleUpdate {
    /// A new definition.
    pub schedule: Option<ScheduleSpec>,
    /// Active (resume) or not (pause).
    pub active: Option<bool>,
    /// At most this many of its runs scheduled ahead.
    pub max_scheduled_runs: Option<u32>,
    /// Parameters its runs get over the deployment's.
    pub parameters: Option<serde_json::Value>,
    /// Its name.
    pub slug: Option<String>,
}

/// The body of `POST /api/deployments/{id}/schedule` (Prefect's): create
/// runs now, by the scheduler's rule with these bounds (a `start_time` in
/// the past backfills).
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct ScheduleRunsBody {
    /// The earliest slot (default now).
    pub start_time: Option<DateTime<Utc>>,
    /// No slot at or after this.
    pub end_time: Option<DateTime<Utc>>,
    /// Schedule until at least this many seconds after the start.
    pub min_time: Option<f64>,
    /// At least this many runs per schedule.
    pub min_runs: Option<u32>,
    /// At most this many runs per schedule.
    pub max_runs: Option<u32>,
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
            .map(|s| ScheduleOut::new(s, d.id))
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
    /// At most this many of its runs at once; `null` removes the limit.
    #[serde(deserialize_with = "super::absent_null_or")]
    #[schema(value_type = Option<u32>)]
    pub concurrency_limit: Option<Option<u32>>,
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

//! Prefect's `FlowRun`, `FlowRunCreate` and the flow-run filter body.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;
use weft_core::{FlowRun, StateType};

use super::filter::{
    DeploymentFilter, FlowFilter, IdFilter, NameFilter, TagsFilter, TimeFilter, WorkPoolFilter,
};
use super::state::{StateCreate, StateOut};
use super::work_pool::default_queue_id;

/// Prefect's `empirical_policy` of a flow run.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct FlowRunPolicy {
    /// Deprecated alias of `retries`.
    pub max_retries: u32,
    /// Deprecated alias of `retry_delay`.
    pub retry_delay_seconds: f64,
    /// Retries of the flow run.
    pub retries: Option<u32>,
    /// Delay between retries, seconds.
    pub retry_delay: Option<f64>,
    /// Keys of pauses already taken.
    pub pause_keys: Vec<String>,
    /// Whether the run is resuming.
    pub resuming: bool,
    /// `in_process` or `reschedule`.
    pub retry_type: Option<String>,
}

impl Default for FlowRunPolicy {
    fn default() -> Self {
        FlowRunPolicy {
            max_retries: 0,
            retry_delay_seconds: 0.0,
            retries: None,
            retry_delay: None,
            pause_keys: Vec::new(),
            resuming: false,
            retry_type: None,
        }
    }
}

/// What a flow run refers to besides its own record: the ids the API
/// reports but the core record keeps by name.
#[derive(Debug, Clone, Default)]
pub struct FlowRunLinks {
    /// The flow's id.
    pub flow_id: Uuid,
    /// The work pool's id.
    pub work_pool_id: Option<Uuid>,
}

/// A flow run as the API returns it (Prefect's `FlowRun`).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct FlowRunOut {
    /// The run's id.
    pub id: Uuid,
    /// When it was created.
    pub created: DateTime<Utc>,
    /// When it last changed.
    pub updated: DateTime<Utc>,
    /// Its name (`crimson-fox`).
    pub name: String,
    /// The flow's id.
    pub flow_id: Uuid,
    /// The current state's id.
    pub state_id: Uuid,
    /// The deployment it was created from.
    pub deployment_id: Option<Uuid>,
    /// The deployment's version.
    pub deployment_version: Option<String>,
    /// The work queue: its pool's default queue (weft has one per pool).
    pub work_queue_id: Option<Uuid>,
    /// The work queue's name.
    pub work_queue_name: Option<String>,
    /// The flow's version: the component's digest in weft.
    pub flow_version: Option<String>,
    /// Parameters, a JSON object.
    pub parameters: serde_json::Value,
    /// Idempotency key of the creation.
    pub idempotency_key: Option<String>,
    /// Extra context.
    pub context: serde_json::Value,
    /// Retry policy.
    pub empirical_policy: FlowRunPolicy,
    /// Tags.
    pub tags: Vec<String>,
    /// Labels (`prefect.deployment.id`, ...).
    pub labels: BTreeMap<String, serde_json::Value>,
    /// The task run of a subflow's parent.
    pub parent_task_run_id: Option<Uuid>,
    /// How many times it entered RUNNING.
    pub run_count: u32,
    /// When it is (or was) expected to start.
    pub expected_start_time: Option<DateTime<Utc>>,
    /// When a scheduled run is due next.
    pub next_scheduled_start_time: Option<DateTime<Utc>>,
    /// When it first entered RUNNING.
    pub start_time: Option<DateTime<Utc>>,
    /// When it ended.
    pub end_time: Option<DateTime<Utc>>,
    /// Seconds spent running.
    pub total_run_time: f64,
    /// Seconds spent running so far.
    pub estimated_run_time: f64,
    /// Lateness in seconds.
    pub estimated_start_time_delta: f64,
    /// Whether the scheduler created it.
    pub auto_scheduled: bool,
    /// Unused by weft.
    pub infrastructure_document_id: Option<Uuid>,
    /// Unused by weft.
    pub infrastructure_pid: Option<String>,
    /// Who created it.
    pub created_by: Option<serde_json::Value>,
    /// The work pool's id.
    pub work_pool_id: Option<Uuid>,
    /// The work pool's name.
    pub work_pool_name: Option<String>,
    /// The current state.
    pub state: StateOut,
    /// Job variables.
    pub job_variables: serde_json::Value,
    /// The current state's type.
    #[schema(value_type = String)]
    pub state_type: StateType,
    /// The current state's name.
    pub state_name: String,
    /// Weft: the flow's name.
    pub flow_name: String,
    /// Weft: the component's digest.
    pub component_digest: String,
    /// Weft: the deployment's name.
    pub deployment_name: Option<String>,
}

/// When a run was or is expected to start: the first scheduled time, else
/// its start, else its creation.
pub fn expected_start_time(run: &FlowRun) -> DateTime<Utc> {
    if let Some(t) = run.expected_start_time {
        return t;
    }
    run.state
        .scheduled_time
        .filter(|_| run.state.state_type == StateType::Scheduled)
        .or(run.start_time)
        .unwrap_or(run.created)
}

/// The deployment a run was created from (by id).
pub fn deployment_id_of(run: &FlowRun) -> Option<Uuid> {
    run.deployment_id
}

/// The work pool a run belongs to.
pub fn work_pool_of(run: &FlowRun) -> Option<String> {
    run.work_pool_name.clone()
}

impl FlowRunOut {
    /// The API form of `run`.
    pub fn new(run: FlowRun, links: FlowRunLinks) -> FlowRunOut {
        let now = Utc::now();
        let total = match (run.start_time, run.end_time) {
            (Some(s), Some(e)) => (e - s).num_microseconds().unwrap_or(0) as f64 / 1e6,
            _ => 0.0,
        };
        let estimated = match (run.start_time, run.end_time) {
            (Some(s), None) => (now - s).num_microseconds().unwrap_or(0) as f64 / 1e6,
            _ => total,
        };
        let expected = expected_start_time(&run);
        let deployment_id = deployment_id_of(&run);
        let work_pool_name = work_pool_of(&run);
        let mut labels = BTreeMap::new();
        if let Some(d) = deployment_id {
            labels.insert("prefect.deployment.id".to_string(), d.to_string().into());
        }
        labels.insert(
            "prefect.flow.id".to_string(),
            links.flow_id.to_string().into(),
        );
        let updated = run.end_time.unwrap_or(run.state.timestamp).max(run.created);
        FlowRunOut {
            id: run.id,
            created: run.created,
            updated,
            name: run.name,
            flow_id: links.flow_id,
            state_id: run.state.id,
            deployment_id,
            deployment_version: None,
            work_queue_id: links.work_pool_id.map(default_queue_id),
            work_queue_name: work_pool_name.as_ref().map(|_| "default".to_string()),
            flow_version: Some(run.component_digest.clone()).filter(|d| !d.is_empty()),
            parameters: run.parameters,
            idempotency_key: None,
            context: serde_json::json!({}),
            empirical_policy: FlowRunPolicy::default(),
            tags: run.tags,
            labels,
            parent_task_run_id: None,
            run_count: run.run_count,
            expected_start_time: Some(expected),
            next_scheduled_start_time: run
                .state
                .scheduled_time
                .filter(|_| run.state.state_type == StateType::Scheduled),
            start_time: run.start_time,
            end_time: run.end_time,
            total_run_time: total,
            estimated_run_time: estimated,
            estimated_start_time_delta: match run.start_time {
                Some(s) => ((s - expected).num_milliseconds().max(0) as f64) / 1e3,
                None if run.state.state_type == StateType::Scheduled => {
                    ((now - expected).num_milliseconds().max(0) as f64) / 1e3
                }
                None => 0.0,
            },
            auto_scheduled: false,
            infrastructure_document_id: None,
            infrastructure_pid: None,
            created_by: None,
            work_pool_id: links.work_pool_id,
            work_pool_name,
            state_type: run.state.state_type,
            state_name: run.state.name.clone(),
            state: StateOut::of_flow_run(&run.state, run.id),
            job_variables: serde_json::json!({}),
            flow_name: run.flow_name,
            component_digest: run.component_digest,
            deployment_name: run.deployment_name,
        }
    }
}

/// The body of `POST /api/flow_runs/` (Prefect's `FlowRunCreate`).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct FlowRunCreate {
    /// The flow's id (required).
    pub flow_id: Uuid,
    /// A name; the server picks one when absent.
    #[serde(default)]
    pub name: Option<String>,
    /// The initial state; PENDING when absent.
    #[serde(default)]
    pub state: Option<StateCreate>,
    /// Parameters, a JSON object.
    #[serde(default)]
    pub parameters: Option<serde_json::Value>,
    /// Tags.
    #[serde(default)]
    pub tags: Option<Vec<String>>,
    /// The flow's version: weft reads it as the component digest.
    #[serde(default)]
    pub flow_version: Option<String>,
    /// The deployment it belongs to.
    #[serde(default)]
    pub deployment_id: Option<Uuid>,
}

/// The body of `POST /api/deployments/{id}/create_flow_run`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct DeploymentFlowRunCreate {
    /// The initial state; SCHEDULED, due now, when absent.
    pub state: Option<StateCreate>,
    /// A name; the server picks one when absent.
    pub name: Option<String>,
    /// Parameters, merged over the deployment's.
    pub parameters: Option<serde_json::Value>,
    /// Tags, added to the deployment's.
    pub tags: Option<Vec<String>>,
}

/// Prefect's `flow_runs` filter criteria.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct FlowRunCriteria {
    /// By id.
    pub id: Option<IdFilter>,
    /// By name.
    pub name: Option<NameFilter>,
    /// By tags.
    pub tags: Option<TagsFilter>,
    /// By deployment id.
    pub deployment_id: Option<IdFilter>,
    /// By current state.
    pub state: Option<StateCriteria>,
    /// By start time.
    pub start_time: Option<TimeFilter>,
    /// By expected start time.
    pub expected_start_time: Option<TimeFilter>,
    /// By end time.
    pub end_time: Option<TimeFilter>,
    /// By work queue name (weft: work pool name).
    pub work_queue_name: Option<NameFilter>,
}

/// Prefect's state filter: by type and by name.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct StateCriteria {
    /// By state type (`COMPLETED`).
    #[serde(rename = "type")]
    pub state_type: Option<NameFilter>,
    /// By state name (`Late`).
    pub name: Option<NameFilter>,
}

/// The body of `POST /api/flow_runs/filter` and `count`, as
/// `prefect flow-run ls` sends it.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct FlowRunFilterBody {
    /// Criteria on the runs' flows.
    pub flows: Option<FlowFilter>,
    /// Criteria on the runs.
    pub flow_runs: Option<FlowRunCriteria>,
    /// Criteria on the runs' task runs (ignored).
    #[schema(value_type = Option<Object>)]
    pub task_runs: Option<serde_json::Value>,
    /// Criteria on the runs' deployments.
    pub deployments: Option<DeploymentFilter>,
    /// Criteria on the runs' work pools.
    pub work_pools: Option<WorkPoolFilter>,
    /// Criteria on work queues (ignored).
    #[schema(value_type = Option<Object>)]
    pub work_pool_queues: Option<serde_json::Value>,
    /// `ID_DESC`, `START_TIME_ASC`, `START_TIME_DESC`,
    /// `EXPECTED_START_TIME_ASC`, `EXPECTED_START_TIME_DESC`, `NAME_ASC`,
    /// `NAME_DESC`, `END_TIME_DESC`.
    pub sort: Option<String>,
    /// At most this many.
    pub limit: Option<u32>,
    /// Skip this many.
    pub offset: Option<u32>,
}

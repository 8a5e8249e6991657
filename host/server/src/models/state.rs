//! Prefect's `State`, `StateCreate` and `OrchestrationResult`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;
use weft_core::{State, StateType};

use crate::error::ApiError;

/// Prefect's `state_details`: the ids and times a state refers to.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct StateDetails {
    /// The flow run the state belongs to.
    pub flow_run_id: Option<Uuid>,
    /// The task run the state belongs to.
    pub task_run_id: Option<Uuid>,
    /// A subflow's run.
    pub child_flow_run_id: Option<Uuid>,
    /// When a SCHEDULED state is due.
    pub scheduled_time: Option<DateTime<Utc>>,
    /// The cache key of a cached result.
    pub cache_key: Option<String>,
    /// When the cached result expires.
    pub cache_expiration: Option<DateTime<Utc>>,
    /// Whether a failed run may be retried.
    pub retriable: Option<bool>,
    /// Whether the result cannot be tracked.
    pub untrackable_result: bool,
    /// A paused run's timeout.
    pub pause_timeout: Option<DateTime<Utc>>,
    /// Whether a paused run is rescheduled.
    pub pause_reschedule: bool,
    /// A paused run's key.
    pub pause_key: Option<String>,
    /// Keys of a paused run's input.
    pub run_input_keyset: Option<serde_json::Value>,
    /// Whether the cache is refreshed.
    pub refresh_cache: Option<bool>,
    /// The client's id for this transition.
    pub transition_id: Option<Uuid>,
    /// Id of the task parameters.
    pub task_parameters_id: Option<Uuid>,
    /// Trace context of the transition.
    pub traceparent: Option<String>,
    /// The deployment concurrency lease.
    pub deployment_concurrency_lease_id: Option<Uuid>,
}

/// A state as the API returns it (Prefect's `State`).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct StateOut {
    /// The state record's id.
    pub id: Uuid,
    /// `SCHEDULED`, `PENDING`, `RUNNING`, `COMPLETED`, `FAILED`,
    /// `CANCELLED`, `CRASHED`, `PAUSED` or `CANCELLING`.
    #[serde(rename = "type")]
    #[schema(value_type = String)]
    pub state_type: StateType,
    /// The display name (`Cached`, `AwaitingRetry`, ...).
    pub name: String,
    /// When it was entered.
    pub timestamp: DateTime<Utc>,
    /// A human explanation.
    pub message: Option<String>,
    /// The result (JSON) of a completed state.
    pub data: Option<serde_json::Value>,
    /// Ids and times the state refers to.
    pub state_details: StateDetails,
}

impl StateOut {
    /// The API form of a flow run's state.
    pub fn of_flow_run(state: &State, flow_run_id: Uuid) -> StateOut {
        let mut out = StateOut::from_state(state);
        out.state_details.flow_run_id = Some(flow_run_id);
        out
    }

    /// The API form of a task run's state.
    pub fn of_task_run(
        state: &State,
        flow_run_id: Uuid,
        task_run_id: Uuid,
        cache_key: Option<String>,
        cache_expiration: Option<DateTime<Utc>>,
    ) -> StateOut {
        let mut out = StateOut::from_state(state);
        out.state_details.flow_run_id = Some(flow_run_id);
        out.state_details.task_run_id = Some(task_run_id);
        if state.state_type == StateType::Completed {
            out.state_details.cache_key = cache_key;
            out.state_details.cache_expiration = cache_expiration;
        }
        out
    }

    fn from_state(state: &State) -> StateOut {
        StateOut {
            id: state.id,
            state_type: state.state_type,
            name: state.name.clone(),
            timestamp: state.timestamp,
            message: state.message.clone(),
            data: state.data.clone(),
            state_details: StateDetails {
                scheduled_time: state.scheduled_time,
                ..StateDetails::default()
            },
        }
    }
}

/// A proposed state (Prefect's `StateCreate`): only `type` is required.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct StateCreate {
    /// The state's type, e.g. `RUNNING`.
    #[serde(rename = "type")]
    pub state_type: String,
    /// Its name; the type's default name (`Running`) when absent.
    #[serde(default)]
    pub name: Option<String>,
    /// A human explanation.
    #[serde(default)]
    pub message: Option<String>,
    /// The result of a completed state.
    #[serde(default)]
    pub data: Option<serde_json::Value>,
    /// When it was entered; now when absent.
    #[serde(default)]
    pub timestamp: Option<DateTime<Utc>>,
    /// Details; `scheduled_time` is read.
    #[serde(default)]
    pub state_details: Option<StateDetails>,
}

impl StateCreate {
    /// The core state this proposes, with a fresh id.
    pub fn into_state(self) -> Result<State, ApiError> {
        let state_type = parse_state_type(&self.state_type)?;
        let mut state = State::new(
            state_type,
            self.name
                .filter(|n| !n.is_empty())
                .unwrap_or_else(|| state_type.default_name().to_string()),
        );
        state.message = self.message;
        state.data = self.data;
        if let Some(ts) = self.timestamp {
            state.timestamp = ts;
        }
        state.scheduled_time = self.state_details.and_then(|d| d.scheduled_time);
        if state_type == StateType::Scheduled && state.scheduled_time.is_none() {
            state.scheduled_time = Some(state.timestamp);
        }
        Ok(state)
    }
}

/// Parses Prefect's state type name, as a 422 when it is not one.
pub fn parse_state_type(s: &str) -> Result<StateType, ApiError> {
    StateType::parse(s).ok_or_else(|| {
        ApiError::invalid(format!(
            "unknown state type `{s}` (expected SCHEDULED, PENDING, RUNNING, COMPLETED, FAILED, CANCELLED, CRASHED, PAUSED or CANCELLING)"
        ))
    })
}

/// The body of `set_state` (Prefect's `{"state": ..., "force": ...}`).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SetStateBody {
    /// The proposed state.
    pub state: StateCreate,
    /// Skip the orchestration rules.
    #[serde(default)]
    pub force: bool,
}

/// The body of weft's `set_states`: several proposals for one flow run,
/// applied in order (a worker reports a short run's Running and Completed
/// in one request).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SetStatesBody {
    /// The proposed states, in order (1 to [`MAX_STATES_PER_CALL`]).
    pub states: Vec<StateCreate>,
    /// Skip the orchestration rules.
    #[serde(default)]
    pub force: bool,
}

/// The most states one `set_states` call proposes.
pub const MAX_STATES_PER_CALL: usize = 16;

/// What the orchestrator did with a proposal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum SetStateStatus {
    /// The state was entered.
    Accept,
    /// The state was refused; the run keeps its current state.
    Reject,
    /// The proposal was aborted (the run is gone or cannot move).
    Abort,
    /// Try again later.
    Wait,
}

/// Why the orchestrator decided as it did.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct OrchestrationDetails {
    /// `accept_details`, `reject_details`, `abort_details` or `wait_details`.
    #[serde(rename = "type")]
    pub details_type: String,
    /// Why, for a refusal.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// Prefect's `OrchestrationResult`: the state the run is now in, and what
/// happened to the proposal.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct OrchestrationResult {
    /// The run's current state (the proposed one when accepted).
    pub state: Option<StateOut>,
    /// `ACCEPT`, `REJECT`, `ABORT` or `WAIT`.
    pub status: SetStateStatus,
    /// Why.
    pub details: OrchestrationDetails,
}

impl OrchestrationResult {
    /// An accepted proposal, now the current state.
    pub fn accept(state: StateOut) -> OrchestrationResult {
        OrchestrationResult {
            state: Some(state),
            status: SetStateStatus::Accept,
            details: OrchestrationDetails {
                details_type: "accept_details".into(),
                reason: None,
            },
        }
    }

    /// A refused proposal; `current` is the state the run stays in.
    pub fn reject(current: Option<StateOut>, reason: String) -> OrchestrationResult {
        OrchestrationResult {
            state: current,
            status: SetStateStatus::Reject,
            details: OrchestrationDetails {
                details_type: "reject_details".into(),
                reason: Some(reason),
            },
        }
    }
}

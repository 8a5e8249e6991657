//! Mapping between weft's models and table rows, shared by every backend.
//!
//! Writes turn a model into an owned `*Insert` value (ids as hyphenated
//! text, JSON as text, the state rules applied) in the caller's task, so the
//! writer only binds. Reads decode a `*Row` (derived `FromRow`, generic over
//! the database) and turn it into a model. The column names are the schema's;
//! read queries alias the current state's columns as `state_*`.

use chrono::{DateTime, Utc};
use uuid::Uuid;
use weft_core::{
    CacheEntry, ComponentRecord, Deployment, FlowRun, LogEntry, LogLevel, State, StateType,
    TaskRun, Variable, WorkPool, Worker,
};

use crate::{Flow, StoreError};

// ---------------------------------------------------------------- writes

/// A state to append to a run's history.
#[derive(Debug, Clone)]
pub(crate) struct StateInsert {
    pub id: String,
    pub state_type: &'static str,
    pub name: String,
    pub timestamp: DateTime<Utc>,
    pub message: Option<String>,
    pub data: Option<String>,
    pub scheduled_time: Option<DateTime<Utc>>,
    /// 1 when the state is of type RUNNING (the run count grows by one).
    pub running: i64,
    /// 1 when the state is terminal (the end time is set).
    pub terminal: i64,
}

impl StateInsert {
    pub fn from_model(state: &State) -> Result<StateInsert, StoreError> {
        Ok(StateInsert {
            id: state.id.hyphenated().to_string(),
            state_type: state.state_type.as_str(),
            name: state.name.clone(),
            timestamp: state.timestamp,
            message: state.message.clone(),
            data: state.data.as_ref().map(json).transpose()?,
            scheduled_time: state.scheduled_time,
            running: i64::from(state.state_type == StateType::Running),
            terminal: i64::from(state.is_terminal()),
        })
    }
}

/// A state change of an existing run.
#[derive(Debug, Clone)]
pub(crate) struct StateUpdate {
    pub run_id: String,
    pub state: StateInsert,
}

impl StateUpdate {
    pub fn new(run_id: Uuid, state: &State) -> Result<StateUpdate, StoreError> {
        Ok(StateUpdate {
            run_id: run_id.hyphenated().to_string(),
            state: StateInsert::from_model(state)?,
        })
    }
}

/// Run counters after applying the initial state's rules to what the caller
/// gave: entering RUNNING counts a run and starts the clock, a terminal
/// state stops it.
fn initial_counters(
    run_count: u32,
    start_time: Option<DateTime<Utc>>,
    end_time: Option<DateTime<Utc>>,
    state: &State,
) -> (i64, Option<DateTime<Utc>>, Option<DateTime<Utc>>) {
    let mut run_count = i64::from(run_count);
    let mut start_time = start_time;
    let mut end_time = end_time;
    if state.state_type == StateType::Running {
        run_count = run_count.max(1);
        start_time = start_time.or(Some(state.timestamp));
    }
    if state.is_terminal() {
        end_time = end_time.or(Some(state.timestamp));
    }
    (run_count, start_time, end_time)
}

/// A new flow run, its flow (upserted by name) and its first state.
#[derive(Debug, Clone)]
pub(crate) struct FlowRunInsert {
    pub new_flow_id: String,
    pub id: String,
    pub name: String,
    pub flow_name: String,
    pub component_digest: String,
    pub deployment_name: Option<String>,
    pub parameters: String,
    pub tags: String,
    pub run_count: i64,
    pub created: DateTime<Utc>,
    pub start_time: Option<DateTime<Utc>>,
    pub end_time: Option<DateTime<Utc>>,
    pub deployment_id: Option<String>,
    pub work_pool_name: Option<String>,
    pub expected_start_time: Option<DateTime<Utc>>,
    pub state: StateInsert,
}

impl FlowRunInsert {
    pub fn from_model(run: &FlowRun) -> Result<FlowRunInsert, StoreError> {
        let (run_count, start_time, end_time) =
            initial_counters(run.run_count, run.start_time, run.end_time, &run.state);
        Ok(FlowRunInsert {
            new_flow_id: Uuid::now_v7().hyphenated().to_string(),
            id: run.id.hyphenated().to_string(),
            name: run.name.clone(),
            flow_name: run.flow_name.clone(),
            component_digest: run.component_digest.clone(),
            deployment_name: run.deployment_name.clone(),
            parameters: json(&run.parameters)?,
            tags: json(&run.tags)?,
            run_count,
            created: run.created,
            start_time,
            end_time,
            deployment_id: run.deployment_id.map(|id| id.hyphenated().to_string()),
            work_pool_name: run.work_pool_name.clone(),
            expected_start_time: expected_start_time(run),
            state: StateInsert::from_model(&run.state)?,
        })
    }
}

/// A run's expected start time: as given, else (as Prefect does) the
/// scheduled time of a run created in a SCHEDULED state.
fn expected_start_time(run: &FlowRun) -> Option<DateTime<Utc>> {
    run.expected_start_time.or(match run.state.state_type {
        StateType::Scheduled => run.state.scheduled_time,
        _ => None,
    })
}

/// A new task run and its first state.
#[derive(Debug, Clone)]
pub(crate) struct TaskRunInsert {
    pub id: String,
    pub flow_run_id: String,
    pub parent_task_run_id: Option<String>,
    pub task_key: String,
    pub dynamic_key: i64,
    pub name: String,
    pub input: String,
    pub cache_key: Option<String>,
    pub cache_expiration: Option<DateTime<Utc>>,
    pub tags: String,
    pub run_count: i64,
    pub created: DateTime<Utc>,
    pub start_time: Option<DateTime<Utc>>,
    pub end_time: Option<DateTime<Utc>>,
    pub state: StateInsert,
}

impl TaskRunInsert {
    pub fn from_model(run: &TaskRun) -> Result<TaskRunInsert, StoreError> {
        let (run_count, start_time, end_time) =
            initial_counters(run.run_count, run.start_time, run.end_time, &run.state);
        Ok(TaskRunInsert {
            id: run.id.hyphenated().to_string(),
            flow_run_id: run.flow_run_id.hyphenated().to_string(),
            parent_task_run_id: run.parent_task_run_id.map(|id| id.hyphenated().to_string()),
            task_key: run.task_key.clone(),
            dynamic_key: i64::try_from(run.dynamic_key).map_err(|_| {
                StoreError::Invalid(format!("dynamic key {} is too large", run.dynamic_key))
            })?,
            name: run.name.clone(),
            input: json(&run.input)?,
            cache_key: run.cache_key.clone(),
            cache_expiration: run.cache_expiration,
            tags: json(&run.tags)?,
            run_count,
            created: run.created,
            start_time,
            end_time,
            state: StateInsert::from_model(&run.state)?,
        })
    }
}

/// A log line.
#[derive(Debug, Clone)]
pub(crate) struct LogInsert {
    pub flow_run_id: String,
    pub task_run_id: Option<String>,
    pub name: String,
    pub level: i64,
    pub message: String,
    pub timestamp: DateTime<Utc>,
}

impl LogInsert {
    pub fn from_model(entry: LogEntry) -> LogInsert {
        LogInsert {
            flow_run_id: entry.flow_run_id.hyphenated().to_string(),
            task_run_id: entry.task_run_id.map(|id| id.hyphenated().to_string()),
            name: entry.name,
            level: i64::from(entry.level.as_number()),
            message: entry.message,
            timestamp: entry.timestamp,
        }
    }
}

/// A cache entry to upsert.
#[derive(Debug, Clone)]
pub(crate) struct CacheInsert {
    pub key: String,
    pub value: String,
    pub created: DateTime<Utc>,
    pub expiration: Option<DateTime<Utc>>,
    pub task_run_id: Option<String>,
}

impl CacheInsert {
    pub fn from_model(entry: &CacheEntry) -> Result<CacheInsert, StoreError> {
        Ok(CacheInsert {
            key: entry.key.clone(),
            value: json(&entry.value)?,
            created: entry.created,
            expiration: entry.expiration,
            task_run_id: entry.task_run_id.map(|id| id.hyphenated().to_string()),
        })
    }
}

fn json<T: serde::Serialize + ?Sized>(value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|e| StoreError::Invalid(e.to_string()))
}

// ----------------------------------------------------------------- reads

/// A state as read back, from a history table or as a run's current state
/// (columns aliased `state_*`).
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct StateRow {
    pub state_id: String,
    pub state_type: String,
    pub state_name: String,
    pub state_timestamp: DateTime<Utc>,
    pub state_message: Option<String>,
    pub state_data: Option<String>,
    pub state_scheduled_time: Option<DateTime<Utc>>,
}

impl StateRow {
    pub fn into_model(self) -> Result<State, StoreError> {
        Ok(State {
            id: uuid(&self.state_id)?,
            state_type: StateType::parse(&self.state_type).ok_or_else(|| {
                StoreError::Decode(format!("unknown state type {:?}", self.state_type))
            })?,
            name: self.state_name,
            timestamp: self.state_timestamp,
            message: self.state_message,
            data: self.state_data.as_deref().map(from_json).transpose()?,
            scheduled_time: self.state_scheduled_time,
        })
    }
}

/// A flow run with its current state.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct FlowRunRow {
    pub id: String,
    pub name: String,
    pub flow_name: String,
    pub component_digest: String,
    pub deployment_name: Option<String>,
    pub parameters: String,
    pub tags: String,
    pub run_count: i64,
    pub created: DateTime<Utc>,
    pub start_time: Option<DateTime<Utc>>,
    pub end_time: Option<DateTime<Utc>>,
    pub deployment_id: Option<String>,
    pub work_pool_name: Option<String>,
    pub expected_start_time: Option<DateTime<Utc>>,
    #[sqlx(flatten)]
    pub state: StateRow,
}

impl FlowRunRow {
    pub fn into_model(self) -> Result<FlowRun, StoreError> {
        Ok(FlowRun {
            id: uuid(&self.id)?,
            name: self.name,
            flow_name: self.flow_name,
            component_digest: self.component_digest,
            deployment_name: self.deployment_name,
            parameters: from_json(&self.parameters)?,
            tags: from_json(&self.tags)?,
            run_count: count(self.run_count)?,
            created: self.created,
            start_time: self.start_time,
            end_time: self.end_time,
            state: self.state.into_model()?,
            deployment_id: self.deployment_id.as_deref().map(uuid).transpose()?,
            work_pool_name: self.work_pool_name,
            expected_start_time: self.expected_start_time,
        })
    }
}

/// A task run with its current state.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct TaskRunRow {
    pub id: String,
    pub flow_run_id: String,
    pub parent_task_run_id: Option<String>,
    pub task_key: String,
    pub dynamic_key: i64,
    pub name: String,
    pub input: String,
    pub cache_key: Option<String>,
    pub cache_expiration: Option<DateTime<Utc>>,
    pub tags: String,
    pub run_count: i64,
    pub created: DateTime<Utc>,
    pub start_time: Option<DateTime<Utc>>,
    pub end_time: Option<DateTime<Utc>>,
    #[sqlx(flatten)]
    pub state: StateRow,
}

impl TaskRunRow {
    pub fn into_model(self) -> Result<TaskRun, StoreError> {
        Ok(TaskRun {
            id: uuid(&self.id)?,
            flow_run_id: uuid(&self.flow_run_id)?,
            parent_task_run_id: self.parent_task_run_id.as_deref().map(uuid).transpose()?,
            task_key: self.task_key,
            dynamic_key: u64::try_from(self.dynamic_key).map_err(|_| {
                StoreError::Decode(format!("negative dynamic key {}", self.dynamic_key))
            })?,
            name: self.name,
            input: from_json(&self.input)?,
            cache_key: self.cache_key,
            cache_expiration: self.cache_expiration,
            tags: from_json(&self.tags)?,
            run_count: count(self.run_count)?,
            created: self.created,
            start_time: self.start_time,
            end_time: self.end_time,
            state: self.state.into_model()?,
        })
    }
}

/// A log line.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct LogRow {
    pub flow_run_id: String,
    pub task_run_id: Option<String>,
    pub name: String,
    pub level: i64,
    pub message: String,
    pub timestamp: DateTime<Utc>,
}

impl LogRow {
    pub fn into_model(self) -> Result<LogEntry, StoreError> {
        Ok(LogEntry {
            name: self.name,
            level: LogLevel::from_number(u8::try_from(self.level.clamp(0, 255)).unwrap_or(u8::MAX)),
            message: self.message,
            timestamp: self.timestamp,
            flow_run_id: uuid(&self.flow_run_id)?,
            task_run_id: self.task_run_id.as_deref().map(uuid).transpose()?,
        })
    }
}

/// A cache entry.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct CacheRow {
    pub key: String,
    pub value: String,
    pub created: DateTime<Utc>,
    pub expiration: Option<DateTime<Utc>>,
    pub task_run_id: Option<String>,
}

impl CacheRow {
    pub fn into_model(self) -> Result<CacheEntry, StoreError> {
        Ok(CacheEntry {
            key: self.key,
            value: from_json(&self.value)?,
            created: self.created,
            expiration: self.expiration,
            task_run_id: self.task_run_id.as_deref().map(uuid).transpose()?,
        })
    }
}

/// A flow.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct FlowRow {
    pub id: String,
    pub name: String,
    pub created: DateTime<Utc>,
}

impl FlowRow {
    pub fn into_model(self) -> Result<Flow, StoreError> {
        Ok(Flow {
            id: uuid(&self.id)?,
            name: self.name,
            created: self.created,
        })
    }
}

// ------------------------------------------- server records (both ways)

pub(crate) fn name_ok(what: &str, name: &str) -> Result<(), StoreError> {
    if name.trim().is_empty() {
        return Err(StoreError::Invalid(format!(
            "{what} name must not be empty"
        )));
    }
    if name.len() > 1024 {
        return Err(StoreError::Invalid(format!(
            "{what} name is longer than 1024 bytes"
        )));
    }
    Ok(())
}

/// A deployment row, for writing and reading.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct DeploymentRow {
    pub id: String,
    pub name: String,
    pub flow_name: String,
    pub component_digest: String,
    pub description: Option<String>,
    pub parameters: String,
    pub tags: String,
    pub work_pool_name: Option<String>,
    pub schedules: String,
    pub limits: String,
    pub allowed_secrets: String,
    pub paused: bool,
    pub concurrency_limit: Option<i64>,
    pub created: DateTime<Utc>,
    pub updated: DateTime<Utc>,
}

/// The columns of [`DeploymentRow`], in its order.
pub(crate) const DEPLOYMENT_COLUMNS: &str = "id, name, flow_name, component_digest, description, \
parameters, tags, work_pool_name, schedules, limits, allowed_secrets, paused, concurrency_limit, \
created, updated";

impl DeploymentRow {
    pub fn from_model(d: &Deployment) -> Result<DeploymentRow, StoreError> {
        name_ok("deployment", &d.name)?;
        name_ok("flow", &d.flow_name)?;
        if !d.parameters.is_object() {
            return Err(StoreError::Invalid(
                "deployment parameters must be a JSON object".into(),
            ));
        }
        Ok(DeploymentRow {
            id: d.id.hyphenated().to_string(),
            name: d.name.clone(),
            flow_name: d.flow_name.clone(),
            component_digest: d.component_digest.clone(),
            description: d.description.clone(),
            parameters: json(&d.parameters)?,
            tags: json(&d.tags)?,
            work_pool_name: d.work_pool_name.clone(),
            schedules: json(&d.schedules)?,
            limits: json(&d.limits)?,
            allowed_secrets: json(&d.allowed_secrets)?,
            paused: d.paused,
            concurrency_limit: d.concurrency_limit.map(i64::from),
            created: d.created,
            updated: d.updated,
        })
    }

    pub fn into_model(self) -> Result<Deployment, StoreError> {
        Ok(Deployment {
            id: uuid(&self.id)?,
            name: self.name,
            flow_name: self.flow_name,
            component_digest: self.component_digest,
            description: self.description,
            parameters: from_json(&self.parameters)?,
            tags: from_json(&self.tags)?,
            work_pool_name: self.work_pool_name,
            schedules: from_json(&self.schedules)?,
            limits: from_json(&self.limits)?,
            allowed_secrets: from_json(&self.allowed_secrets)?,
            paused: self.paused,
            concurrency_limit: self.concurrency_limit.map(count).transpose()?,
            created: self.created,
            updated: self.updated,
        })
    }
}

/// A work pool row, for writing and reading.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct WorkPoolRow {
    pub id: String,
    pub name: String,
    pub pool_type: String,
    pub description: Option<String>,
    pub is_paused: bool,
    pub concurrency_limit: Option<i64>,
    pub created: DateTime<Utc>,
    pub updated: DateTime<Utc>,
}

/// The columns of [`WorkPoolRow`], in its order.
pub(crate) const WORK_POOL_COLUMNS: &str =
    "id, name, pool_type, description, is_paused, concurrency_limit, created, updated";

impl WorkPoolRow {
    pub fn from_model(p: &WorkPool) -> Result<WorkPoolRow, StoreError> {
        name_ok("work pool", &p.name)?;
        Ok(WorkPoolRow {
            id: p.id.hyphenated().to_string(),
            name: p.name.clone(),
            pool_type: p.pool_type.clone(),
            description: p.description.clone(),
            is_paused: p.is_paused,
            concurrency_limit: p.concurrency_limit.map(i64::from),
            created: p.created,
            updated: p.updated,
        })
    }

    pub fn into_model(self) -> Result<WorkPool, StoreError> {
        Ok(WorkPool {
            id: uuid(&self.id)?,
            name: self.name,
            pool_type: self.pool_type,
            description: self.description,
            is_paused: self.is_paused,
            concurrency_limit: self.concurrency_limit.map(count).transpose()?,
            created: self.created,
            updated: self.updated,
        })
    }
}

/// A worker row, for reading.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct WorkerRow {
    pub id: String,
    pub work_pool_name: String,
    pub name: String,
    pub last_heartbeat_time: DateTime<Utc>,
    pub heartbeat_interval_seconds: Option<i64>,
    pub created: DateTime<Utc>,
    pub updated: DateTime<Utc>,
}

/// The columns of [`WorkerRow`], in its order.
pub(crate) const WORKER_COLUMNS: &str = "id, work_pool_name, name, last_heartbeat_time, \
    heartbeat_interval_seconds, created, updated";

impl WorkerRow {
    pub fn into_model(self) -> Result<Worker, StoreError> {
        Ok(Worker {
            id: uuid(&self.id)?,
            work_pool_name: self.work_pool_name,
            name: self.name,
            last_heartbeat_time: self.last_heartbeat_time,
            heartbeat_interval_seconds: self.heartbeat_interval_seconds.map(count).transpose()?,
            created: self.created,
            updated: self.updated,
        })
    }
}

/// A variable row, for writing and reading.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct VariableRow {
    pub id: String,
    pub name: String,
    pub value: String,
    pub tags: String,
    pub created: DateTime<Utc>,
    pub updated: DateTime<Utc>,
}

/// The columns of [`VariableRow`], in its order.
pub(crate) const VARIABLE_COLUMNS: &str = "id, name, value, tags, created, updated";

impl VariableRow {
    pub fn from_model(v: &Variable) -> Result<VariableRow, StoreError> {
        name_ok("variable", &v.name)?;
        Ok(VariableRow {
            id: v.id.hyphenated().to_string(),
            name: v.name.clone(),
            value: json(&v.value)?,
            tags: json(&v.tags)?,
            created: v.created,
            updated: v.updated,
        })
    }

    pub fn into_model(self) -> Result<Variable, StoreError> {
        Ok(Variable {
            id: uuid(&self.id)?,
            name: self.name,
            value: from_json(&self.value)?,
            tags: from_json(&self.tags)?,
            created: self.created,
            updated: self.updated,
        })
    }
}

/// A stored component's metadata row, for writing and reading.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct ComponentRow {
    pub digest: String,
    pub size: i64,
    pub world: String,
    pub info: String,
    pub created: DateTime<Utc>,
}

/// The columns of [`ComponentRow`], in its order.
pub(crate) const COMPONENT_COLUMNS: &str = "digest, size, world, info, created";

impl ComponentRow {
    /// Checks the record against the bytes: the digest must be their
    /// SHA-256 (lower-case hex) and the size their length.
    pub fn from_model(c: &ComponentRecord, bytes: &[u8]) -> Result<ComponentRow, StoreError> {
        use sha2::Digest;
        let actual = hex::encode(sha2::Sha256::digest(bytes));
        if c.digest != actual {
            return Err(StoreError::Invalid(format!(
                "component digest {:?} is not the SHA-256 of its bytes ({actual})",
                c.digest
            )));
        }
        if c.size != bytes.len() as u64 {
            return Err(StoreError::Invalid(format!(
                "component size {} does not match its {} bytes",
                c.size,
                bytes.len()
            )));
        }
        Ok(ComponentRow {
            digest: c.digest.clone(),
            size: i64::try_from(c.size)
                .map_err(|_| StoreError::Invalid("component too large".into()))?,
            world: c.world.clone(),
            info: json(&c.info)?,
            created: c.created,
        })
    }

    pub fn into_model(self) -> Result<ComponentRecord, StoreError> {
        Ok(ComponentRecord {
            digest: self.digest,
            size: u64::try_from(self.size)
                .map_err(|_| StoreError::Decode(format!("negative size {}", self.size)))?,
            world: self.world,
            info: from_json(&self.info)?,
            created: self.created,
        })
    }
}

pub(crate) fn uuid(s: &str) -> Result<Uuid, StoreError> {
    Uuid::parse_str(s).map_err(|e| StoreError::Decode(format!("bad uuid {s:?}: {e}")))
}

fn from_json<T: serde::de::DeserializeOwned>(s: &str) -> Result<T, StoreError> {
    serde_json::from_str(s).map_err(|e| StoreError::Decode(format!("bad JSON: {e}")))
}

fn count(n: i64) -> Result<u32, StoreError> {
    u32::try_from(n).map_err(|_| StoreError::Decode(format!("run count {n} out of range")))
}

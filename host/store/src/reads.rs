//! The read queries, shared by every backend: each builds its SQL in the
//! reader's dialect and decodes rows through `rows`.

use uuid::Uuid;
use weft_core::{CacheEntry, FlowRun, LogEntry, State, StateType, TaskRun};

use crate::query::{CountRow, Reader, Sql};
use chrono::{DateTime, Utc};
use weft_core::{ComponentRecord, Deployment, Variable, WorkPool, Worker};

use crate::rows::{
    COMPONENT_COLUMNS, CacheRow, ComponentRow, DEPLOYMENT_COLUMNS, DeploymentRow, FlowRow,
    FlowRunRow, LogRow, StateRow, TaskRunRow, VARIABLE_COLUMNS, VariableRow, WORK_POOL_COLUMNS,
    WORKER_COLUMNS, WorkPoolRow, WorkerRow,
};
use crate::{
    DeploymentFilter, Flow, FlowRunFilter, FlowRunSort, LogFilter, StoreError, TaskRunFilter,
    TaskRunSort, VariableFilter, WorkPoolFilter,
};

/// The columns of a flow run with its current state (runs `r`, states `s`).
macro_rules! flow_run_columns {
    () => {
        "SELECT r.id, r.name, r.flow_name, r.component_digest, r.deployment_name, r.parameters, r.tags, r.run_count,
    r.created, r.start_time, r.end_time, r.deployment_id, r.work_pool_name, r.expected_start_time,
    s.id AS state_id, s.type AS state_type, s.name AS state_name,
    s.timestamp AS state_timestamp, s.message AS state_message, s.data AS state_data,
    s.scheduled_time AS state_scheduled_time"
    };
}

/// A flow run's columns with its current state (aliases `r` and `s`).
const FLOW_RUN_COLUMNS: &str = flow_run_columns!();

/// Flow runs with their current states, ready for a `WHERE`.
pub(crate) const FLOW_RUN_SELECT: &str = concat!(
    flow_run_columns!(),
    " FROM flow_runs r JOIN flow_run_states s ON s.id = r.state_id"
);

const TASK_RUN_SELECT: &str = "\
SELECT r.id, r.flow_run_id, r.parent_task_run_id, r.task_key, r.dynamic_key, r.name, r.input, r.cache_key,
    r.cache_expiration, r.tags, r.run_count, r.created, r.start_time, r.end_time, s.id AS state_id,
    s.type AS state_type, s.name AS state_name, s.timestamp AS state_timestamp, s.message AS state_message,
    s.data AS state_data, s.scheduled_time AS state_scheduled_time
FROM task_runs r JOIN task_run_states s ON s.id = r.state_id";

const STATE_COLUMNS: &str = "\
id AS state_id, type AS state_type, name AS state_name, timestamp AS state_timestamp,
    message AS state_message, data AS state_data, scheduled_time AS state_scheduled_time";

/// The sort key of [`FlowRunSort::ExpectedStartTimeDesc`]/`Asc`: runs with no
/// expected start time sort by their creation time. (An index of each
/// schema is on this exact expression.)
pub(crate) const EXPECTED_START: &str = "COALESCE(r.expected_start_time, r.created)";

pub(crate) fn id(id: Uuid) -> String {
    id.hyphenated().to_string()
}

fn ids(ids: &Option<Vec<Uuid>>) -> Option<Vec<String>> {
    ids.as_ref()
        .map(|ids| ids.iter().copied().map(id).collect())
}

fn types(types: &Option<Vec<StateType>>) -> Option<Vec<&'static str>> {
    types
        .as_ref()
        .map(|t| t.iter().map(|t| t.as_str()).collect())
}

/// One flow run by id.
pub(crate) async fn flow_run(db: &Reader, run_id: Uuid) -> Result<Option<FlowRun>, StoreError> {
    let mut q = db.sql(FLOW_RUN_SELECT);
    q.push(" WHERE r.id = ").bind(id(run_id));
    let row: Option<FlowRunRow> = db.optional(&q).await?;
    row.map(FlowRunRow::into_model).transpose()
}

/// A flow run by full uuid, unique uuid prefix or name (newest).
pub(crate) async fn find_flow_run(db: &Reader, key: &str) -> Result<Option<FlowRun>, StoreError> {
    let key = key.trim();
    if key.is_empty() {
        return Ok(None);
    }
    if let Ok(run_id) = Uuid::parse_str(key)
        && let Some(run) = flow_run(db, run_id).await?
    {
        return Ok(Some(run));
    }
    let mut ambiguous = false;
    if key.len() < 36 && key.chars().all(|c| c.is_ascii_hexdigit() || c == '-') {
        let prefix = key.to_ascii_lowercase();
        // Ids are lower-case hex and '-', all below '~': [prefix, prefix~) is
        // the prefix range (ids compare bytewise in both schemas).
        let mut q = db.sql(FLOW_RUN_SELECT);
        q.push(" WHERE r.id >= ")
            .bind(prefix.clone())
            .push(" AND r.id < ")
            .bind(format!("{prefix}~"))
            .push(" ORDER BY r.id LIMIT 2");
        let rows: Vec<FlowRunRow> = db.all(&q).await?;
        match rows.len() {
            1 => {
                return rows
                    .into_iter()
                    .next()
                    .map(FlowRunRow::into_model)
                    .transpose();
            }
            0 => {}
            _ => ambiguous = true,
        }
    }
    let mut q = db.sql(FLOW_RUN_SELECT);
    q.push(" WHERE r.name = ")
        .bind(key)
        .push(" ORDER BY r.created DESC, r.id DESC LIMIT 1");
    let row: Option<FlowRunRow> = db.optional(&q).await?;
    match row {
        Some(row) => row.into_model().map(Some),
        None if ambiguous => Err(StoreError::Ambiguous(format!(
            "{key:?} is the prefix of several flow runs"
        ))),
        None => Ok(None),
    }
}

/// Appends a flow run filter's conditions (runs aliased `r`).
pub(crate) fn flow_run_conditions(q: &mut Sql, f: &FlowRunFilter) {
    q.any_of("r.id", ids(&f.ids));
    q.none_of("r.id", ids(&f.ids_not));
    q.any_of("r.name", f.names.clone());
    q.none_of("r.name", f.names_not.clone());
    if let Some(like) = &f.name_like {
        q.contains("r.name", like);
    }
    if let Some(prefix) = &f.name_startswith {
        q.starts_with("r.name", prefix);
    }
    q.any_of("r.flow_name", f.flow_names.clone());
    q.any_of("r.state_type", types(&f.state_types));
    q.any_of("r.state_name", f.state_names.clone());
    q.none_of("r.state_name", f.state_names_not.clone());
    q.any_of("r.deployment_name", f.deployment_names.clone());
    q.any_of("r.deployment_id", ids(&f.deployment_ids));
    q.none_of("r.deployment_id", ids(&f.deployment_ids_not));
    q.is_null("r.deployment_id", f.deployment_id_is_null);
    q.any_of("r.work_pool_name", f.work_pool_names.clone());
    q.is_null("r.work_pool_name", f.work_pool_name_is_null);
    for tag in f.tags_all.iter().flatten() {
        q.has_tag("r.tags", tag);
    }
    if let Some(tags) = &f.tags_any {
        q.has_any_tag("r.tags", tags);
    }
    if let Some(empty) = f.tags_empty {
        q.tags_empty("r.tags", empty);
    }
    q.time_range("r.start_time", f.start_time_after, f.start_time_before);
    q.is_null("r.start_time", f.start_time_is_null);
    q.time_range("r.end_time", f.end_time_after, f.end_time_before);
    q.is_null("r.end_time", f.end_time_is_null);
    q.time_range(
        EXPECTED_START,
        f.expected_start_time_after,
        f.expected_start_time_before,
    );
}

/// How many flow runs match a filter (its sort and page ignored).
pub(crate) async fn count_flow_runs(db: &Reader, f: &FlowRunFilter) -> Result<u64, StoreError> {
    let mut q = db.sql("SELECT COUNT(*) AS value FROM flow_runs r");
    flow_run_conditions(&mut q, f);
    let row: Option<CountRow> = db.optional(&q).await?;
    Ok(row.map_or(0, |r| u64::try_from(r.value).unwrap_or(0)))
}

/// Flow runs matching a filter.
pub(crate) async fn list_flow_runs(
    db: &Reader,
    f: &FlowRunFilter,
) -> Result<Vec<FlowRun>, StoreError> {
    let order = match f.sort {
        FlowRunSort::CreatedDesc => " ORDER BY r.created DESC, r.id DESC".to_string(),
        FlowRunSort::CreatedAsc => " ORDER BY r.created ASC, r.id ASC".to_string(),
        FlowRunSort::StartTimeDesc => " ORDER BY r.start_time DESC NULLS LAST, r.id DESC".into(),
        FlowRunSort::StartTimeAsc => " ORDER BY r.start_time ASC NULLS LAST, r.id ASC".into(),
        FlowRunSort::EndTimeDesc => " ORDER BY r.end_time DESC NULLS LAST, r.id DESC".into(),
        FlowRunSort::NameAsc => " ORDER BY r.name ASC, r.created DESC, r.id DESC".into(),
        FlowRunSort::NameDesc => " ORDER BY r.name DESC, r.created DESC, r.id DESC".into(),
        FlowRunSort::ExpectedStartTimeDesc => format!(" ORDER BY {EXPECTED_START} DESC, r.id DESC"),
        FlowRunSort::ExpectedStartTimeAsc => format!(" ORDER BY {EXPECTED_START} ASC, r.id ASC"),
    };
    let q = if f.limit.is_some() {
        // A page: pick its ids on the runs table alone (narrow rows, its
        // indexes), then read only those runs with their states.
        let mut q = db.sql(FLOW_RUN_COLUMNS);
        q.push(" FROM (SELECT r.id FROM flow_runs r");
        flow_run_conditions(&mut q, f);
        q.push(&order);
        q.page(f.limit, f.offset);
        q.push(") page JOIN flow_runs r ON r.id = page.id")
            .push(" JOIN flow_run_states s ON s.id = r.state_id")
            .push(&order);
        q
    } else {
        let mut q = db.sql(FLOW_RUN_SELECT);
        flow_run_conditions(&mut q, f);
        q.push(&order);
        q.page(None, f.offset);
        q
    };
    let rows: Vec<FlowRunRow> = db.all(&q).await?;
    rows.into_iter().map(FlowRunRow::into_model).collect()
}

async fn states(
    db: &Reader,
    table: &str,
    column: &str,
    run_id: Uuid,
) -> Result<Vec<State>, StoreError> {
    let mut q = db.sql(&format!(
        "SELECT {STATE_COLUMNS} FROM {table} WHERE {column} = "
    ));
    q.bind(id(run_id)).push(" ORDER BY seq");
    let rows: Vec<StateRow> = db.all(&q).await?;
    rows.into_iter().map(StateRow::into_model).collect()
}

/// A flow run's state history, oldest first.
pub(crate) async fn flow_run_states(db: &Reader, run_id: Uuid) -> Result<Vec<State>, StoreError> {
    states(db, "flow_run_states", "flow_run_id", run_id).await
}

/// One flow run state by its id.
pub(crate) async fn flow_run_state(
    db: &Reader,
    state_id: &str,
) -> Result<Option<State>, StoreError> {
    let mut q = db.sql(&format!(
        "SELECT {STATE_COLUMNS} FROM flow_run_states WHERE id = "
    ));
    q.bind(state_id);
    let row: Option<StateRow> = db.optional(&q).await?;
    row.map(StateRow::into_model).transpose()
}

/// A task run's state history, oldest first.
pub(crate) async fn task_run_states(db: &Reader, run_id: Uuid) -> Result<Vec<State>, StoreError> {
    states(db, "task_run_states", "task_run_id", run_id).await
}

/// One task run by id.
pub(crate) async fn task_run(db: &Reader, run_id: Uuid) -> Result<Option<TaskRun>, StoreError> {
    let mut q = db.sql(TASK_RUN_SELECT);
    q.push(" WHERE r.id = ").bind(id(run_id));
    let row: Option<TaskRunRow> = db.optional(&q).await?;
    row.map(TaskRunRow::into_model).transpose()
}

/// Task runs matching a filter.
pub(crate) async fn list_task_runs(
    db: &Reader,
    f: &TaskRunFilter,
) -> Result<Vec<TaskRun>, StoreError> {
    let mut q = db.sql(TASK_RUN_SELECT);
    q.any_of("r.id", ids(&f.ids));
    q.any_of("r.flow_run_id", ids(&f.flow_run_ids));
    q.any_of("r.state_type", types(&f.state_types));
    q.any_of("r.name", f.names.clone());
    q.any_of("r.task_key", f.task_keys.clone());
    q.push(match f.sort {
        TaskRunSort::CreatedAsc => " ORDER BY r.created ASC, r.id ASC",
        TaskRunSort::CreatedDesc => " ORDER BY r.created DESC, r.id DESC",
        TaskRunSort::TaskKeyAsc => " ORDER BY r.task_key ASC, r.dynamic_key ASC, r.id ASC",
    });
    q.page(f.limit, f.offset);
    let rows: Vec<TaskRunRow> = db.all(&q).await?;
    rows.into_iter().map(TaskRunRow::into_model).collect()
}

/// Log lines matching a filter, oldest first.
pub(crate) async fn logs(db: &Reader, f: &LogFilter) -> Result<Vec<LogEntry>, StoreError> {
    let mut q =
        db.sql("SELECT flow_run_id, task_run_id, name, level, message, timestamp FROM logs");
    q.any_of("flow_run_id", ids(&f.flow_run_ids));
    q.any_of("task_run_id", ids(&f.task_run_ids));
    if let Some(level) = f.level_ge {
        q.cond()
            .push("level >= ")
            .bind(i64::from(level.as_number()));
    }
    if let Some(level) = f.level_le {
        q.cond()
            .push("level <= ")
            .bind(i64::from(level.as_number()));
    }
    if let Some(t) = f.timestamp_after {
        q.cond().push("timestamp > ").bind(t);
    }
    if let Some(t) = f.since {
        q.cond().push("timestamp >= ").bind(t);
    }
    if let Some(t) = f.until {
        q.cond().push("timestamp <= ").bind(t);
    }
    q.push(if f.newest_first {
        " ORDER BY timestamp DESC, seq DESC"
    } else {
        " ORDER BY timestamp ASC, seq ASC"
    });
    q.page(f.limit, f.offset);
    let rows: Vec<LogRow> = db.all(&q).await?;
    rows.into_iter().map(LogRow::into_model).collect()
}

/// Every flow, by name.
pub(crate) async fn flows(db: &Reader) -> Result<Vec<Flow>, StoreError> {
    let rows: Vec<FlowRow> = db
        .all(&db.sql("SELECT id, name, created FROM flows ORDER BY name"))
        .await?;
    rows.into_iter().map(FlowRow::into_model).collect()
}

/// A cache entry by key.
pub(crate) async fn cache_entry(db: &Reader, key: &str) -> Result<Option<CacheEntry>, StoreError> {
    let mut q = db
        .sql("SELECT key, value, created, expiration, task_run_id FROM cache_entries WHERE key = ");
    q.bind(key);
    let row: Option<CacheRow> = db.optional(&q).await?;
    row.map(CacheRow::into_model).transpose()
}

/// Cache entries, newest first.
pub(crate) async fn cache_entries(
    db: &Reader,
    limit: u32,
    offset: u32,
) -> Result<Vec<CacheEntry>, StoreError> {
    let mut q = db.sql(
        "SELECT key, value, created, expiration, task_run_id FROM cache_entries
         ORDER BY created DESC, key ASC",
    );
    q.page(Some(limit), offset);
    let rows: Vec<CacheRow> = db.all(&q).await?;
    rows.into_iter().map(CacheRow::into_model).collect()
}

/// A secret's sealed value by name.
pub(crate) async fn sealed_secret(db: &Reader, name: &str) -> Result<Option<Vec<u8>>, StoreError> {
    let mut q = db.sql("SELECT value FROM secrets WHERE name = ");
    q.bind(name);
    let row: Option<crate::query::BytesRow> = db.optional(&q).await?;
    Ok(row.map(|r| r.value))
}

/// All secret names, sorted.
pub(crate) async fn secret_names(db: &Reader) -> Result<Vec<String>, StoreError> {
    let rows: Vec<crate::query::TextRow> = db
        .all(&db.sql("SELECT name AS value FROM secrets ORDER BY name"))
        .await?;
    Ok(rows.into_iter().map(|r| r.value).collect())
}

/// When a SCHEDULED run is due: its state's scheduled time, else its
/// expected start time, else its creation time (indexed as written).
pub(crate) const DUE: &str = "COALESCE(r.state_scheduled_time, r.expected_start_time, r.created)";

/// The condition "a run of the pool `?` that is due at `?`, in a pool that
/// is not paused", for runs aliased `r`.
pub(crate) fn due_conditions(q: &mut Sql, pool: &str, before: DateTime<Utc>) {
    q.cond().push("r.work_pool_name = ").bind(pool);
    q.cond().push("r.state_type = 'SCHEDULED'");
    // A flow run waiting for its own retry stays with the worker that
    // retries it in process.
    q.cond()
        .push("NOT (r.state_name = 'AwaitingRetry' AND r.worker_name IS NOT NULL)");
    q.cond().push(DUE).push(" <= ").bind(before);
    q.cond().push(
        "NOT EXISTS (SELECT 1 FROM work_pools p WHERE p.name = r.work_pool_name AND p.is_paused)",
    );
}

/// Due runs of a pool, oldest first.
pub(crate) async fn scheduled_flow_runs(
    db: &Reader,
    pool: &str,
    before: DateTime<Utc>,
    limit: u32,
) -> Result<Vec<FlowRun>, StoreError> {
    let mut q = db.sql(FLOW_RUN_SELECT);
    due_conditions(&mut q, pool, before);
    q.push(&format!(" ORDER BY {DUE} ASC, r.id ASC"));
    q.page(Some(limit), 0);
    let rows: Vec<FlowRunRow> = db.all(&q).await?;
    rows.into_iter().map(FlowRunRow::into_model).collect()
}

/// Flow runs by id, in the order of `ids` (missing ones left out).
pub(crate) async fn flow_runs_in_order(
    db: &Reader,
    run_ids: &[String],
) -> Result<Vec<FlowRun>, StoreError> {
    if run_ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut q = db.sql(FLOW_RUN_SELECT);
    q.any_of("r.id", Some(run_ids.to_vec()));
    let rows: Vec<FlowRunRow> = db.all(&q).await?;
    let mut runs: Vec<(usize, FlowRun)> = Vec::with_capacity(rows.len());
    for row in rows {
        let pos = run_ids
            .iter()
            .position(|i| *i == row.id)
            .unwrap_or(usize::MAX);
        runs.push((pos, row.into_model()?));
    }
    runs.sort_by_key(|(pos, _)| *pos);
    Ok(runs.into_iter().map(|(_, r)| r).collect())
}

/// Claimed, unfinished runs whose heartbeat is older than `t`.
pub(crate) async fn lost_flow_runs(
    db: &Reader,
    t: DateTime<Utc>,
) -> Result<Vec<FlowRun>, StoreError> {
    let mut q = db.sql(FLOW_RUN_SELECT);
    q.cond().push("r.worker_name IS NOT NULL");
    q.cond().push("r.heartbeat < ").bind(t);
    q.cond()
        .push("r.state_type NOT IN ('COMPLETED', 'FAILED', 'CANCELLED', 'CRASHED')");
    q.push(" ORDER BY r.heartbeat ASC, r.id ASC");
    let rows: Vec<FlowRunRow> = db.all(&q).await?;
    rows.into_iter().map(FlowRunRow::into_model).collect()
}

/// A flow by id or by name (`column` is `id` or `name`).
pub(crate) async fn flow_by(
    db: &Reader,
    column: &str,
    value: String,
) -> Result<Option<Flow>, StoreError> {
    let mut q = db.sql(&format!(
        "SELECT id, name, created FROM flows WHERE {column} = "
    ));
    q.bind(value);
    let row: Option<FlowRow> = db.optional(&q).await?;
    row.map(FlowRow::into_model).transpose()
}

/// A deployment by id, or by flow and name.
pub(crate) async fn deployment(
    db: &Reader,
    by_id: Option<Uuid>,
    by_name: Option<(&str, &str)>,
) -> Result<Option<Deployment>, StoreError> {
    let mut q = db.sql(&format!("SELECT {DEPLOYMENT_COLUMNS} FROM deployments"));
    if let Some(i) = by_id {
        q.cond().push("id = ").bind(id(i));
    }
    if let Some((flow, name)) = by_name {
        q.cond().push("flow_name = ").bind(flow);
        q.cond().push("name = ").bind(name);
    }
    let row: Option<DeploymentRow> = db.optional(&q).await?;
    row.map(DeploymentRow::into_model).transpose()
}

/// Deployments matching a filter, by name.
pub(crate) async fn deployments(
    db: &Reader,
    f: &DeploymentFilter,
) -> Result<Vec<Deployment>, StoreError> {
    let mut q = db.sql(&format!("SELECT {DEPLOYMENT_COLUMNS} FROM deployments"));
    q.any_of("id", ids(&f.ids));
    q.any_of("name", f.names.clone());
    q.any_of("flow_name", f.flow_names.clone());
    q.any_of("work_pool_name", f.work_pool_names.clone());
    for tag in f.tags_all.iter().flatten() {
        q.has_tag("tags", tag);
    }
    if let Some(paused) = f.paused {
        q.cond().push("paused = ").bind(paused);
    }
    q.push(" ORDER BY name ASC, flow_name ASC, id ASC");
    q.page(f.limit, f.offset);
    let rows: Vec<DeploymentRow> = db.all(&q).await?;
    rows.into_iter().map(DeploymentRow::into_model).collect()
}

/// A work pool by name.
pub(crate) async fn work_pool(db: &Reader, name: &str) -> Result<Option<WorkPool>, StoreError> {
    let mut q = db.sql(&format!(
        "SELECT {WORK_POOL_COLUMNS} FROM work_pools WHERE name = "
    ));
    q.bind(name);
    let row: Option<WorkPoolRow> = db.optional(&q).await?;
    row.map(WorkPoolRow::into_model).transpose()
}

/// Work pools matching a filter, by name.
pub(crate) async fn work_pools(
    db: &Reader,
    f: &WorkPoolFilter,
) -> Result<Vec<WorkPool>, StoreError> {
    let mut q = db.sql(&format!("SELECT {WORK_POOL_COLUMNS} FROM work_pools"));
    q.any_of("name", f.names.clone());
    q.push(" ORDER BY name ASC");
    q.page(f.limit, f.offset);
    let rows: Vec<WorkPoolRow> = db.all(&q).await?;
    rows.into_iter().map(WorkPoolRow::into_model).collect()
}

/// The workers of a pool, most recently heard from first.
pub(crate) async fn workers(
    db: &Reader,
    pool: &str,
    limit: Option<u32>,
    offset: u32,
) -> Result<Vec<Worker>, StoreError> {
    let mut q = db.sql(&format!(
        "SELECT {WORKER_COLUMNS} FROM workers WHERE work_pool_name = "
    ));
    q.bind(pool);
    q.push(" ORDER BY last_heartbeat_time DESC, name ASC");
    q.page(limit, offset);
    let rows: Vec<WorkerRow> = db.all(&q).await?;
    rows.into_iter().map(WorkerRow::into_model).collect()
}

/// A variable by id or by name (`column` is `id` or `name`).
pub(crate) async fn variable_by(
    db: &Reader,
    column: &str,
    value: String,
) -> Result<Option<Variable>, StoreError> {
    let mut q = db.sql(&format!(
        "SELECT {VARIABLE_COLUMNS} FROM variables WHERE {column} = "
    ));
    q.bind(value);
    let row: Option<VariableRow> = db.optional(&q).await?;
    row.map(VariableRow::into_model).transpose()
}

/// Variables matching a filter, by name.
pub(crate) async fn variables(
    db: &Reader,
    f: &VariableFilter,
) -> Result<Vec<Variable>, StoreError> {
    let mut q = db.sql(&format!("SELECT {VARIABLE_COLUMNS} FROM variables"));
    q.any_of("name", f.names.clone());
    if let Some(like) = &f.name_like {
        q.contains("name", like);
    }
    for tag in f.tags_all.iter().flatten() {
        q.has_tag("tags", tag);
    }
    q.push(" ORDER BY name ASC");
    q.page(f.limit, f.offset);
    let rows: Vec<VariableRow> = db.all(&q).await?;
    rows.into_iter().map(VariableRow::into_model).collect()
}

/// A component's metadata by digest.
pub(crate) async fn component(
    db: &Reader,
    digest: &str,
) -> Result<Option<ComponentRecord>, StoreError> {
    let mut q = db.sql(&format!(
        "SELECT {COMPONENT_COLUMNS} FROM components WHERE digest = "
    ));
    q.bind(digest);
    let row: Option<ComponentRow> = db.optional(&q).await?;
    row.map(ComponentRow::into_model).transpose()
}

/// A component's bytes by digest.
pub(crate) async fn component_bytes(
    db: &Reader,
    digest: &str,
) -> Result<Option<Vec<u8>>, StoreError> {
    let mut q = db.sql("SELECT bytes AS value FROM components WHERE digest = ");
    q.bind(digest);
    let row: Option<crate::query::BytesRow> = db.optional(&q).await?;
    Ok(row.map(|r| r.value))
}

/// Every component's metadata, newest first.
pub(crate) async fn components(db: &Reader) -> Result<Vec<ComponentRecord>, StoreError> {
    let q = db.sql(&format!(
        "SELECT {COMPONENT_COLUMNS} FROM components ORDER BY created DESC, digest ASC"
    ));
    let rows: Vec<ComponentRow> = db.all(&q).await?;
    rows.into_iter().map(ComponentRow::into_model).collect()
}

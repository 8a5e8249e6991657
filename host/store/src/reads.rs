//! The read queries, shared by every backend: each builds its SQL in the
//! reader's dialect and decodes rows through `rows`.

use uuid::Uuid;
use weft_core::{CacheEntry, FlowRun, LogEntry, State, StateType, TaskRun};

use crate::query::{Reader, Sql};
use crate::rows::{CacheRow, FlowRow, FlowRunRow, LogRow, StateRow, TaskRunRow};
use crate::{Flow, FlowRunFilter, FlowRunSort, LogFilter, StoreError, TaskRunFilter, TaskRunSort};

pub(crate) const FLOW_RUN_SELECT: &str = "\
SELECT r.id, r.name, r.flow_name, r.component_digest, r.deployment_name, r.parameters, r.tags, r.run_count,
    r.created, r.start_time, r.end_time, r.deployment_id, r.work_pool_name, r.expected_start_time,
    s.id AS state_id, s.type AS state_type, s.name AS state_name,
    s.timestamp AS state_timestamp, s.message AS state_message, s.data AS state_data,
    s.scheduled_time AS state_scheduled_time
FROM flow_runs r JOIN flow_run_states s ON s.id = r.state_id";

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
    q.any_of("r.name", f.names.clone());
    q.any_of("r.flow_name", f.flow_names.clone());
    q.any_of("r.state_type", types(&f.state_types));
    q.any_of("r.state_name", f.state_names.clone());
    q.any_of("r.deployment_name", f.deployment_names.clone());
    q.any_of("r.deployment_id", ids(&f.deployment_ids));
    q.any_of("r.work_pool_name", f.work_pool_names.clone());
    for tag in f.tags_all.iter().flatten() {
        q.has_tag("r.tags", tag);
    }
    if let Some(t) = f.start_time_after {
        q.cond().push("r.start_time >= ").bind(t);
    }
    if let Some(t) = f.start_time_before {
        q.cond().push("r.start_time <= ").bind(t);
    }
    if let Some(t) = f.expected_start_time_after {
        q.cond().push("r.expected_start_time >= ").bind(t);
    }
    if let Some(t) = f.expected_start_time_before {
        q.cond().push("r.expected_start_time <= ").bind(t);
    }
}

/// Flow runs matching a filter.
pub(crate) async fn list_flow_runs(
    db: &Reader,
    f: &FlowRunFilter,
) -> Result<Vec<FlowRun>, StoreError> {
    let mut q = db.sql(FLOW_RUN_SELECT);
    flow_run_conditions(&mut q, f);
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
    q.push(&order);
    q.page(f.limit, f.offset);
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
#[allow(dead_code)] // used by checked state changes (next commit)
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
    if let Some(t) = f.timestamp_after {
        q.cond().push("timestamp > ").bind(t);
    }
    q.push(" ORDER BY timestamp ASC, seq ASC");
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

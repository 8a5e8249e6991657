//! The SQLite read queries, run on the read pool.

use sqlx::{QueryBuilder, Sqlite, SqlitePool};
use uuid::Uuid;
use weft_core::{CacheEntry, FlowRun, LogEntry, State, StateType, TaskRun};

use crate::rows::{CacheRow, FlowRow, FlowRunRow, LogRow, StateRow, TaskRunRow};
use crate::{Flow, FlowRunFilter, FlowRunSort, LogFilter, StoreError, TaskRunFilter, TaskRunSort};

const FLOW_RUN_SELECT: &str = "\
SELECT r.id, r.name, r.flow_name, r.component_digest, r.deployment_name, r.parameters, r.tags, r.run_count,
    r.created, r.start_time, r.end_time, s.id AS state_id, s.type AS state_type, s.name AS state_name,
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

/// Appends `WHERE`/`AND` clauses to a query.
struct Where<'q, 'b> {
    qb: &'b mut QueryBuilder<'q, Sqlite>,
    first: bool,
}

impl<'q, 'b> Where<'q, 'b> {
    fn new(qb: &'b mut QueryBuilder<'q, Sqlite>) -> Self {
        Where { qb, first: true }
    }

    fn clause(&mut self) -> &mut QueryBuilder<'q, Sqlite> {
        self.qb.push(if self.first { " WHERE " } else { " AND " });
        self.first = false;
        self.qb
    }

    /// `column IN (values)`; an empty list matches nothing.
    fn any_of<T, I>(&mut self, column: &str, values: Option<I>)
    where
        I: IntoIterator<Item = T>,
        T: 'q + sqlx::Encode<'q, Sqlite> + sqlx::Type<Sqlite> + Send,
    {
        let Some(values) = values else { return };
        let mut values = values.into_iter().peekable();
        if values.peek().is_none() {
            self.clause().push("0 = 1");
            return;
        }
        let qb = self.clause();
        qb.push(column).push(" IN (");
        let mut list = qb.separated(", ");
        for v in values {
            list.push_bind(v);
        }
        qb.push(")");
    }
}

fn ids(ids: &Option<Vec<Uuid>>) -> Option<Vec<String>> {
    ids.as_ref()
        .map(|ids| ids.iter().map(|id| id.hyphenated().to_string()).collect())
}

fn types(types: &Option<Vec<StateType>>) -> Option<Vec<&'static str>> {
    types
        .as_ref()
        .map(|t| t.iter().map(|t| t.as_str()).collect())
}

fn page(qb: &mut QueryBuilder<'_, Sqlite>, limit: Option<u32>, offset: u32) {
    qb.push(" LIMIT ")
        .push_bind(limit.map_or(-1, i64::from))
        .push(" OFFSET ")
        .push_bind(i64::from(offset));
}

/// One flow run by id.
pub(crate) async fn flow_run(pool: &SqlitePool, id: Uuid) -> Result<Option<FlowRun>, StoreError> {
    let row: Option<FlowRunRow> = sqlx::query_as(&format!("{FLOW_RUN_SELECT} WHERE r.id = ?1"))
        .bind(id.hyphenated().to_string())
        .fetch_optional(pool)
        .await?;
    row.map(FlowRunRow::into_model).transpose()
}

/// A flow run by full uuid, unique uuid prefix or name (newest).
pub(crate) async fn find_flow_run(
    pool: &SqlitePool,
    key: &str,
) -> Result<Option<FlowRun>, StoreError> {
    let key = key.trim();
    if key.is_empty() {
        return Ok(None);
    }
    if let Ok(id) = Uuid::parse_str(key)
        && let Some(run) = flow_run(pool, id).await?
    {
        return Ok(Some(run));
    }
    let mut ambiguous = false;
    if key.len() < 36 && key.chars().all(|c| c.is_ascii_hexdigit() || c == '-') {
        let prefix = key.to_ascii_lowercase();
        // Ids are lower-case hex and '-', all below '~': [prefix, prefix~) is the prefix range.
        let rows: Vec<FlowRunRow> = sqlx::query_as(&format!(
            "{FLOW_RUN_SELECT} WHERE r.id >= ?1 AND r.id < ?2 ORDER BY r.id LIMIT 2"
        ))
        .bind(&prefix)
        .bind(format!("{prefix}~"))
        .fetch_all(pool)
        .await?;
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
    let row: Option<FlowRunRow> = sqlx::query_as(&format!(
        "{FLOW_RUN_SELECT} WHERE r.name = ?1 ORDER BY r.created DESC, r.id DESC LIMIT 1"
    ))
    .bind(key)
    .fetch_optional(pool)
    .await?;
    match row {
        Some(row) => row.into_model().map(Some),
        None if ambiguous => Err(StoreError::Ambiguous(format!(
            "{key:?} is the prefix of several flow runs"
        ))),
        None => Ok(None),
    }
}

/// Flow runs matching a filter.
pub(crate) async fn list_flow_runs(
    pool: &SqlitePool,
    f: &FlowRunFilter,
) -> Result<Vec<FlowRun>, StoreError> {
    let mut qb = QueryBuilder::<Sqlite>::new(FLOW_RUN_SELECT);
    let mut w = Where::new(&mut qb);
    w.any_of("r.id", ids(&f.ids));
    w.any_of("r.name", f.names.clone());
    w.any_of("r.flow_name", f.flow_names.clone());
    w.any_of("r.state_type", types(&f.state_types));
    w.any_of("r.state_name", f.state_names.clone());
    w.any_of("r.deployment_name", f.deployment_names.clone());
    for tag in f.tags_all.iter().flatten() {
        w.clause()
            .push("EXISTS (SELECT 1 FROM json_each(r.tags) WHERE json_each.value = ")
            .push_bind(tag.clone())
            .push(")");
    }
    if let Some(t) = f.start_time_after {
        w.clause().push("r.start_time >= ").push_bind(t);
    }
    if let Some(t) = f.start_time_before {
        w.clause().push("r.start_time <= ").push_bind(t);
    }
    qb.push(match f.sort {
        FlowRunSort::CreatedDesc => " ORDER BY r.created DESC, r.id DESC",
        FlowRunSort::CreatedAsc => " ORDER BY r.created ASC, r.id ASC",
        FlowRunSort::StartTimeDesc => " ORDER BY r.start_time DESC NULLS LAST, r.id DESC",
        FlowRunSort::StartTimeAsc => " ORDER BY r.start_time ASC NULLS LAST, r.id ASC",
        FlowRunSort::EndTimeDesc => " ORDER BY r.end_time DESC NULLS LAST, r.id DESC",
        FlowRunSort::NameAsc => " ORDER BY r.name ASC, r.created DESC, r.id DESC",
        FlowRunSort::NameDesc => " ORDER BY r.name DESC, r.created DESC, r.id DESC",
    });
    page(&mut qb, f.limit, f.offset);
    let rows: Vec<FlowRunRow> = qb.build_query_as().fetch_all(pool).await?;
    rows.into_iter().map(FlowRunRow::into_model).collect()
}

/// A run's state history, oldest first; `table`/`run_column` pick flow or task runs.
async fn states(
    pool: &SqlitePool,
    sql: &'static str,
    run_id: Uuid,
) -> Result<Vec<State>, StoreError> {
    let rows: Vec<StateRow> = sqlx::query_as(sql)
        .bind(run_id.hyphenated().to_string())
        .fetch_all(pool)
        .await?;
    rows.into_iter().map(StateRow::into_model).collect()
}

/// A flow run's state history, oldest first.
pub(crate) async fn flow_run_states(pool: &SqlitePool, id: Uuid) -> Result<Vec<State>, StoreError> {
    static SQL: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let sql = SQL.get_or_init(|| {
        format!("SELECT {STATE_COLUMNS} FROM flow_run_states WHERE flow_run_id = ?1 ORDER BY seq")
    });
    states(pool, sql.as_str(), id).await
}

/// A task run's state history, oldest first.
pub(crate) async fn task_run_states(pool: &SqlitePool, id: Uuid) -> Result<Vec<State>, StoreError> {
    static SQL: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let sql = SQL.get_or_init(|| {
        format!("SELECT {STATE_COLUMNS} FROM task_run_states WHERE task_run_id = ?1 ORDER BY seq")
    });
    states(pool, sql.as_str(), id).await
}

/// One task run by id.
pub(crate) async fn task_run(pool: &SqlitePool, id: Uuid) -> Result<Option<TaskRun>, StoreError> {
    let row: Option<TaskRunRow> = sqlx::query_as(&format!("{TASK_RUN_SELECT} WHERE r.id = ?1"))
        .bind(id.hyphenated().to_string())
        .fetch_optional(pool)
        .await?;
    row.map(TaskRunRow::into_model).transpose()
}

/// Task runs matching a filter.
pub(crate) async fn list_task_runs(
    pool: &SqlitePool,
    f: &TaskRunFilter,
) -> Result<Vec<TaskRun>, StoreError> {
    let mut qb = QueryBuilder::<Sqlite>::new(TASK_RUN_SELECT);
    let mut w = Where::new(&mut qb);
    w.any_of("r.id", ids(&f.ids));
    w.any_of("r.flow_run_id", ids(&f.flow_run_ids));
    w.any_of("r.state_type", types(&f.state_types));
    w.any_of("r.name", f.names.clone());
    w.any_of("r.task_key", f.task_keys.clone());
    qb.push(match f.sort {
        TaskRunSort::CreatedAsc => " ORDER BY r.created ASC, r.id ASC",
        TaskRunSort::CreatedDesc => " ORDER BY r.created DESC, r.id DESC",
        TaskRunSort::TaskKeyAsc => " ORDER BY r.task_key ASC, r.dynamic_key ASC, r.id ASC",
    });
    page(&mut qb, f.limit, f.offset);
    let rows: Vec<TaskRunRow> = qb.build_query_as().fetch_all(pool).await?;
    rows.into_iter().map(TaskRunRow::into_model).collect()
}

/// Log lines matching a filter, oldest first.
pub(crate) async fn logs(pool: &SqlitePool, f: &LogFilter) -> Result<Vec<LogEntry>, StoreError> {
    let mut qb = QueryBuilder::<Sqlite>::new(
        "SELECT flow_run_id, task_run_id, name, level, message, timestamp FROM logs",
    );
    let mut w = Where::new(&mut qb);
    w.any_of("flow_run_id", ids(&f.flow_run_ids));
    w.any_of("task_run_id", ids(&f.task_run_ids));
    if let Some(level) = f.level_ge {
        w.clause()
            .push("level >= ")
            .push_bind(i64::from(level.as_number()));
    }
    if let Some(t) = f.timestamp_after {
        w.clause().push("timestamp > ").push_bind(t);
    }
    qb.push(" ORDER BY timestamp ASC, seq ASC");
    page(&mut qb, f.limit, f.offset);
    let rows: Vec<LogRow> = qb.build_query_as().fetch_all(pool).await?;
    rows.into_iter().map(LogRow::into_model).collect()
}

/// Every flow, by name.
pub(crate) async fn flows(pool: &SqlitePool) -> Result<Vec<Flow>, StoreError> {
    let rows: Vec<FlowRow> = sqlx::query_as("SELECT id, name, created FROM flows ORDER BY name")
        .fetch_all(pool)
        .await?;
    rows.into_iter().map(FlowRow::into_model).collect()
}

/// A cache entry by key.
pub(crate) async fn cache_entry(
    pool: &SqlitePool,
    key: &str,
) -> Result<Option<CacheEntry>, StoreError> {
    let row: Option<CacheRow> = sqlx::query_as(
        "SELECT key, value, created, expiration, task_run_id FROM cache_entries WHERE key = ?1",
    )
    .bind(key)
    .fetch_optional(pool)
    .await?;
    row.map(CacheRow::into_model).transpose()
}

/// Cache entries, newest first.
pub(crate) async fn cache_entries(
    pool: &SqlitePool,
    limit: u32,
    offset: u32,
) -> Result<Vec<CacheEntry>, StoreError> {
    let rows: Vec<CacheRow> = sqlx::query_as(
        "SELECT key, value, created, expiration, task_run_id FROM cache_entries
         ORDER BY created DESC, key ASC LIMIT ?1 OFFSET ?2",
    )
    .bind(i64::from(limit))
    .bind(i64::from(offset))
    .fetch_all(pool)
    .await?;
    rows.into_iter().map(CacheRow::into_model).collect()
}

/// A secret's sealed value by name.
pub(crate) async fn sealed_secret(
    pool: &SqlitePool,
    name: &str,
) -> Result<Option<Vec<u8>>, StoreError> {
    Ok(
        sqlx::query_scalar("SELECT value FROM secrets WHERE name = ?1")
            .bind(name)
            .fetch_optional(pool)
            .await?,
    )
}

/// All secret names, sorted.
pub(crate) async fn secret_names(pool: &SqlitePool) -> Result<Vec<String>, StoreError> {
    Ok(sqlx::query_scalar("SELECT name FROM secrets ORDER BY name")
        .fetch_all(pool)
        .await?)
}

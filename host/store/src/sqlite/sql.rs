//! The SQL of the SQLite writer.
//!
//! Each write is one (possibly multi-statement) query with numbered
//! parameters, so it costs one round trip to the connection's thread and
//! stays in the connection's prepared-statement cache. Parameter numbers are
//! shared by all statements of a query.

/// Upserts the flow by name, inserts the run and its first state.
///
/// `?1` new flow id, `?2` flow name, `?3` run id, `?4` run name, `?5`
/// component digest, `?6` deployment, `?7` parameters, `?8` tags, `?9` run
/// count, `?10` created, `?11` start, `?12` end, `?13` state id, `?14` state
/// type, `?15` state name, `?16` state timestamp, `?17` message, `?18` data,
/// `?19` scheduled time.
pub(crate) const CREATE_FLOW_RUN: &str = "\
INSERT INTO flows (id, name, created) VALUES (?1, ?2, ?10) ON CONFLICT (name) DO NOTHING;
INSERT INTO flow_runs (id, name, flow_id, flow_name, component_digest, deployment_name, parameters, tags,
    run_count, created, start_time, end_time, state_id, state_type, state_name, state_timestamp)
VALUES (?3, ?4, (SELECT id FROM flows WHERE name = ?2), ?2, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16);
INSERT INTO flow_run_states (id, flow_run_id, type, name, timestamp, message, data, scheduled_time)
VALUES (?13, ?3, ?14, ?15, ?16, ?17, ?18, ?19);";

/// Inserts a task run and its first state.
///
/// `?1` id, `?2` flow run id, `?3` parent task run id, `?4` task key, `?5`
/// dynamic key, `?6` name, `?7` input, `?8` cache key, `?9` cache
/// expiration, `?10` tags, `?11` run count, `?12` created, `?13` start,
/// `?14` end, `?15` state id, `?16` state type, `?17` state name, `?18`
/// state timestamp, `?19` message, `?20` data, `?21` scheduled time.
pub(crate) const CREATE_TASK_RUN: &str = "\
INSERT INTO task_runs (id, flow_run_id, parent_task_run_id, task_key, dynamic_key, name, input, cache_key,
    cache_expiration, tags, run_count, created, start_time, end_time, state_id, state_type, state_name,
    state_timestamp)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18);
INSERT INTO task_run_states (id, task_run_id, type, name, timestamp, message, data, scheduled_time)
VALUES (?15, ?1, ?16, ?17, ?18, ?19, ?20, ?21);";

/// Appends a state to a run's history and makes it current; `{runs}` and
/// `{states}`/`{run_id}` name the tables and the history's run column.
///
/// A state whose id is already recorded is ignored (so a retried call is
/// harmless): the update only runs when the insert inserted. An unknown run
/// fails the insert's foreign key.
///
/// `?1` run id, `?2` state id, `?3` type, `?4` name, `?5` timestamp, `?6`
/// message, `?7` data, `?8` scheduled time, `?9` 1 when RUNNING, `?10` 1
/// when terminal.
macro_rules! set_state_sql {
    ($runs:literal, $states:literal, $run_id:literal) => {
        concat!(
            "INSERT INTO ",
            $states,
            " (id, ",
            $run_id,
            ", type, name, timestamp, message, data, scheduled_time)
VALUES (?2, ?1, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT (id) DO NOTHING;
UPDATE ",
            $runs,
            " SET state_id = ?2, state_type = ?3, state_name = ?4, state_timestamp = ?5,
    run_count = run_count + ?9,
    start_time = CASE WHEN ?9 = 1 THEN COALESCE(start_time, ?5) ELSE start_time END,
    end_time = CASE WHEN ?10 = 1 THEN ?5 ELSE end_time END
WHERE id = ?1 AND changes() > 0;"
        )
    };
}

/// [`set_state_sql`] for flow runs.
pub(crate) const SET_FLOW_RUN_STATE: &str =
    set_state_sql!("flow_runs", "flow_run_states", "flow_run_id");

/// [`set_state_sql`] for task runs.
pub(crate) const SET_TASK_RUN_STATE: &str =
    set_state_sql!("task_runs", "task_run_states", "task_run_id");

/// Appends a log line: `?1` flow run, `?2` task run, `?3` logger name, `?4`
/// level, `?5` message, `?6` timestamp.
pub(crate) const INSERT_LOG: &str = "\
INSERT INTO logs (flow_run_id, task_run_id, name, level, message, timestamp) VALUES (?1, ?2, ?3, ?4, ?5, ?6)";

/// Upserts a cache entry: `?1` key, `?2` value, `?3` created, `?4`
/// expiration, `?5` task run.
pub(crate) const UPSERT_CACHE: &str = "\
INSERT INTO cache_entries (key, value, created, expiration, task_run_id) VALUES (?1, ?2, ?3, ?4, ?5)
ON CONFLICT (key) DO UPDATE SET value = excluded.value, created = excluded.created,
    expiration = excluded.expiration, task_run_id = excluded.task_run_id";

/// Deletes a cache entry by key.
pub(crate) const DELETE_CACHE: &str = "DELETE FROM cache_entries WHERE key = ?1";

/// Upserts a secret's sealed value: `?1` name, `?2` value, `?3` now.
pub(crate) const UPSERT_SECRET: &str = "\
INSERT INTO secrets (name, value, created, updated) VALUES (?1, ?2, ?3, ?3)
ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated = excluded.updated";

/// Deletes a secret by name.
pub(crate) const DELETE_SECRET: &str = "DELETE FROM secrets WHERE name = ?1";

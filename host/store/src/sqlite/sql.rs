//! The SQL of the SQLite writer: one statement per constant, each with its
//! own `?1..?N` parameters, prepared once and cached on the connection.

/// Upserts a flow by name: `?1` new id, `?2` name, `?3` created.
pub(crate) const UPSERT_FLOW: &str =
    "INSERT INTO flows (id, name, created) VALUES (?1, ?2, ?3) ON CONFLICT (name) DO NOTHING";

/// Inserts a flow run (its flow looked up by name `?3`).
pub(crate) const INSERT_FLOW_RUN: &str = "\
INSERT INTO flow_runs (id, name, flow_id, flow_name, component_digest, deployment_name, parameters, tags,
    run_count, created, start_time, end_time, state_id, state_type, state_name, state_timestamp,
    deployment_id, work_pool_name, expected_start_time)
VALUES (?1, ?2, (SELECT id FROM flows WHERE name = ?3), ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15,
    ?16, ?17, ?18)";

/// Inserts a task run.
pub(crate) const INSERT_TASK_RUN: &str = "\
INSERT INTO task_runs (id, flow_run_id, parent_task_run_id, task_key, dynamic_key, name, input, cache_key,
    cache_expiration, tags, run_count, created, start_time, end_time, state_id, state_type, state_name,
    state_timestamp)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)";

/// Appends a flow run state, ignored when its id is already recorded: `?1`
/// id, `?2` run, `?3` type, `?4` name, `?5` timestamp, `?6` message, `?7`
/// data, `?8` scheduled time. An unknown run fails the foreign key.
pub(crate) const INSERT_FLOW_RUN_STATE: &str = "\
INSERT INTO flow_run_states (id, flow_run_id, type, name, timestamp, message, data, scheduled_time)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT (id) DO NOTHING";

/// [`INSERT_FLOW_RUN_STATE`] for task runs.
pub(crate) const INSERT_TASK_RUN_STATE: &str = "\
INSERT INTO task_run_states (id, task_run_id, type, name, timestamp, message, data, scheduled_time)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT (id) DO NOTHING";

/// Makes a state a flow run's current one: `?1` run, `?2` state id, `?3`
/// type, `?4` name, `?5` timestamp, `?6` 1 when RUNNING (counts a run,
/// starts the clock once), `?7` 1 when terminal (stops it).
pub(crate) const UPDATE_FLOW_RUN_STATE: &str = "\
UPDATE flow_runs SET state_id = ?2, state_type = ?3, state_name = ?4, state_timestamp = ?5,
    run_count = run_count + ?6,
    start_time = CASE WHEN ?6 = 1 THEN COALESCE(start_time, ?5) ELSE start_time END,
    end_time = CASE WHEN ?7 = 1 THEN ?5 ELSE end_time END
WHERE id = ?1";

/// [`UPDATE_FLOW_RUN_STATE`] for task runs.
pub(crate) const UPDATE_TASK_RUN_STATE: &str = "\
UPDATE task_runs SET state_id = ?2, state_type = ?3, state_name = ?4, state_timestamp = ?5,
    run_count = run_count + ?6,
    start_time = CASE WHEN ?6 = 1 THEN COALESCE(start_time, ?5) ELSE start_time END,
    end_time = CASE WHEN ?7 = 1 THEN ?5 ELSE end_time END
WHERE id = ?1";

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

//! The SQL of the SQLite writer: one statement per constant, each with its
//! own `?1..?N` parameters, prepared once and cached on the connection.

/// Upserts a flow by name: `?1` new id, `?2` name, `?3` created.
pub(crate) const UPSERT_FLOW: &str =
    "INSERT INTO flows (id, name, created) VALUES (?1, ?2, ?3) ON CONFLICT (name) DO NOTHING";

/// Inserts a flow run (its flow looked up by name `?3`).
pub(crate) const INSERT_FLOW_RUN: &str = "\
INSERT INTO flow_runs (id, name, flow_id, flow_name, component_digest, deployment_name, parameters, tags,
    run_count, created, start_time, end_time, state_id, state_type, state_name, state_timestamp,
    deployment_id, work_pool_name, expected_start_time, state_scheduled_time)
VALUES (?1, ?2, (SELECT id FROM flows WHERE name = ?3), ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15,
    ?16, ?17, ?18, ?19)";

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
/// starts the clock once), `?7` 1 when terminal (stops it), `?8` the
/// state's scheduled time. A run leaving a final state for a SCHEDULED one
/// (a retry, e.g. from the UI) loses its claimer, so its pool claims it again.
pub(crate) const UPDATE_FLOW_RUN_STATE: &str = "\
UPDATE flow_runs SET state_id = ?2, state_type = ?3, state_name = ?4, state_timestamp = ?5,
    state_scheduled_time = ?8,
    run_count = run_count + ?6,
    start_time = CASE WHEN ?6 = 1 THEN COALESCE(start_time, ?5) ELSE start_time END,
    end_time = CASE WHEN ?7 = 1 THEN ?5 ELSE end_time END,
    worker_name = CASE WHEN ?3 = 'SCHEDULED' AND state_type IN ('COMPLETED', 'FAILED',
        'CANCELLED', 'CRASHED') THEN NULL ELSE worker_name END
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

/// Inserts a flow when its name is new: `?1` id, `?2` name, `?3` created.
pub(crate) const INSERT_FLOW: &str = UPSERT_FLOW;

/// Deletes a flow run (its states, task runs and logs cascade).
pub(crate) const DELETE_FLOW_RUN: &str = "DELETE FROM flow_runs WHERE id = ?1";

/// A flow run's current state id and type.
pub(crate) const FLOW_RUN_CURRENT_STATE: &str =
    "SELECT state_id, state_type FROM flow_runs WHERE id = ?1";

/// Upserts a deployment by (flow, name), keeping id and created.
pub(crate) const UPSERT_DEPLOYMENT: &str = "\
INSERT INTO deployments (id, name, flow_name, component_digest, description, parameters, tags,
    work_pool_name, schedules, limits, allowed_secrets, paused, concurrency_limit, created, updated)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)
ON CONFLICT (flow_name, name) DO UPDATE SET component_digest = excluded.component_digest,
    description = excluded.description, parameters = excluded.parameters, tags = excluded.tags,
    work_pool_name = excluded.work_pool_name, schedules = excluded.schedules, limits = excluded.limits,
    allowed_secrets = excluded.allowed_secrets, paused = excluded.paused,
    concurrency_limit = excluded.concurrency_limit, updated = excluded.updated";

/// Replaces a deployment by id (`?1`); `?14` (created) is not used, so it is kept.
pub(crate) const UPDATE_DEPLOYMENT: &str = "\
UPDATE deployments SET name = ?2, flow_name = ?3, component_digest = ?4, description = ?5,
    parameters = ?6, tags = ?7, work_pool_name = ?8, schedules = ?9, limits = ?10,
    allowed_secrets = ?11, paused = ?12, concurrency_limit = ?13, updated = ?15
WHERE id = ?1";

/// Deletes a deployment by id.
pub(crate) const DELETE_DEPLOYMENT: &str = "DELETE FROM deployments WHERE id = ?1";

/// Inserts a work pool.
pub(crate) const INSERT_WORK_POOL: &str = "\
INSERT INTO work_pools (id, name, pool_type, description, is_paused, concurrency_limit, created, updated)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";

/// Replaces a work pool by name (`?2`); `?1` (id) and `?7` (created) are not used.
pub(crate) const UPDATE_WORK_POOL: &str = "\
UPDATE work_pools SET pool_type = ?3, description = ?4, is_paused = ?5, concurrency_limit = ?6,
    updated = ?8
WHERE name = ?2";

/// Deletes a work pool by name.
pub(crate) const DELETE_WORK_POOL: &str = "DELETE FROM work_pools WHERE name = ?1";

/// Deletes the workers of pool `?1`.
pub(crate) const DELETE_POOL_WORKERS: &str = "DELETE FROM workers WHERE work_pool_name = ?1";

/// Records a heartbeat of worker `?3` of pool `?2` at `?4` (interval `?5`,
/// kept when NULL); `?1` is the id of a new record.
pub(crate) const UPSERT_WORKER: &str = "\
INSERT INTO workers (id, work_pool_name, name, last_heartbeat_time, heartbeat_interval_seconds,
    created, updated) VALUES (?1, ?2, ?3, ?4, ?5, ?4, ?4)
ON CONFLICT (work_pool_name, name) DO UPDATE SET
    last_heartbeat_time = excluded.last_heartbeat_time,
    heartbeat_interval_seconds = COALESCE(excluded.heartbeat_interval_seconds,
        workers.heartbeat_interval_seconds),
    updated = excluded.updated";

/// Deletes worker `?2` of pool `?1`.
pub(crate) const DELETE_WORKER: &str =
    "DELETE FROM workers WHERE work_pool_name = ?1 AND name = ?2";

/// Inserts a variable.
pub(crate) const INSERT_VARIABLE: &str = "\
INSERT INTO variables (id, name, value, tags, created, updated) VALUES (?1, ?2, ?3, ?4, ?5, ?6)";

/// Replaces a variable by id (`?1`); `?5` (created) is not used.
pub(crate) const UPDATE_VARIABLE: &str = "\
UPDATE variables SET name = ?2, value = ?3, tags = ?4, updated = ?6 WHERE id = ?1";

/// Deletes a variable by name.
pub(crate) const DELETE_VARIABLE: &str = "DELETE FROM variables WHERE name = ?1";

/// Stores a component unless its digest is already stored.
pub(crate) const INSERT_COMPONENT: &str = "\
INSERT INTO components (digest, size, world, info, created, bytes) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
ON CONFLICT (digest) DO NOTHING";

/// The runs due in pool `?1` at `?2` (id, deployment, state name, due time),
/// oldest first, at most `?3`.
pub(crate) const DUE_FLOW_RUNS: &str = "\
SELECT r.id, r.deployment_id, r.state_name,
    COALESCE(r.state_scheduled_time, r.expected_start_time, r.created) AS due FROM flow_runs r
WHERE r.work_pool_name = ?1 AND r.state_type = 'SCHEDULED'
    AND NOT (r.state_name = 'AwaitingRetry' AND r.worker_name IS NOT NULL)
    AND COALESCE(r.state_scheduled_time, r.expected_start_time, r.created) <= ?2
    AND NOT EXISTS (SELECT 1 FROM work_pools p WHERE p.name = r.work_pool_name AND p.is_paused)
ORDER BY COALESCE(r.state_scheduled_time, r.expected_start_time, r.created) ASC, r.id ASC
LIMIT ?3";

/// Records the claimer `?2` and heartbeat `?3` of run `?1`.
pub(crate) const SET_CLAIM: &str =
    "UPDATE flow_runs SET worker_name = ?2, heartbeat = ?3 WHERE id = ?1";

/// Refreshes run `?1`'s heartbeat to `?3` when `?2` claimed it.
pub(crate) const HEARTBEAT: &str =
    "UPDATE flow_runs SET heartbeat = ?3 WHERE id = ?1 AND worker_name = ?2";

/// Whether run `?1` is claimed by `?2` and has not ended.
pub(crate) const CLAIMED_UNFINISHED: &str = "\
SELECT count(*) FROM flow_runs WHERE id = ?1 AND worker_name = ?2
    AND state_type NOT IN ('COMPLETED', 'FAILED', 'CANCELLED', 'CRASHED')";

/// Clears run `?1`'s claim.
pub(crate) const CLEAR_CLAIM: &str =
    "UPDATE flow_runs SET worker_name = NULL, heartbeat = NULL WHERE id = ?1";

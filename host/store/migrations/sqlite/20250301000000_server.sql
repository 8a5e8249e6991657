-- The central server: claiming runs, deployments, work pools, variables
-- and stored components.

-- The current state's scheduled time (when a SCHEDULED run is due), the
-- worker that claimed the run and its last heartbeat.
ALTER TABLE flow_runs ADD COLUMN state_scheduled_time TEXT;
ALTER TABLE flow_runs ADD COLUMN worker_name TEXT;
ALTER TABLE flow_runs ADD COLUMN heartbeat TEXT;
UPDATE flow_runs SET state_scheduled_time =
    (SELECT s.scheduled_time FROM flow_run_states s WHERE s.id = flow_runs.state_id);
CREATE INDEX flow_runs_pool_due ON flow_runs
    (work_pool_name, state_type, COALESCE(state_scheduled_time, expected_start_time, created));
CREATE INDEX flow_runs_heartbeat ON flow_runs (heartbeat) WHERE worker_name IS NOT NULL;

CREATE TABLE deployments (
    id                TEXT PRIMARY KEY NOT NULL,
    name              TEXT NOT NULL,
    flow_name         TEXT NOT NULL,
    component_digest  TEXT NOT NULL,
    description       TEXT,
    parameters        TEXT NOT NULL,
    tags              TEXT NOT NULL,
    work_pool_name    TEXT,
    schedules         TEXT NOT NULL,
    limits            TEXT NOT NULL,
    allowed_secrets   TEXT NOT NULL,
    paused            INTEGER NOT NULL,
    concurrency_limit INTEGER,
    created           TEXT NOT NULL,
    updated           TEXT NOT NULL,
    UNIQUE (flow_name, name)
);
CREATE INDEX deployments_name ON deployments (name);
CREATE INDEX deployments_work_pool ON deployments (work_pool_name);

CREATE TABLE work_pools (
    id                TEXT PRIMARY KEY NOT NULL,
    name              TEXT NOT NULL UNIQUE,
    pool_type         TEXT NOT NULL,
    description       TEXT,
    is_paused         INTEGER NOT NULL,
    concurrency_limit INTEGER,
    created           TEXT NOT NULL,
    updated           TEXT NOT NULL
);

CREATE TABLE variables (
    id      TEXT PRIMARY KEY NOT NULL,
    name    TEXT NOT NULL UNIQUE,
    value   TEXT NOT NULL,
    tags    TEXT NOT NULL,
    created TEXT NOT NULL,
    updated TEXT NOT NULL
);

-- Content-addressed: the digest is the SHA-256 of the bytes.
CREATE TABLE components (
    digest  TEXT PRIMARY KEY NOT NULL,
    size    INTEGER NOT NULL,
    world   TEXT NOT NULL,
    info    TEXT NOT NULL,
    created TEXT NOT NULL,
    bytes   BLOB NOT NULL
);
CREATE INDEX components_created ON components (created);

-- weft's schema (Postgres): the same tables and columns as the SQLite
-- schema (after all its migrations), so both share one row mapping. Ids and
-- names are TEXT in the "C" collation (they compare bytewise, as in SQLite);
-- JSON documents are TEXT; timestamps are TIMESTAMPTZ (microseconds).

CREATE TABLE flows (
    id      TEXT COLLATE "C" PRIMARY KEY,
    name    TEXT COLLATE "C" NOT NULL UNIQUE,
    created TIMESTAMPTZ NOT NULL
);

CREATE TABLE flow_runs (
    id                   TEXT COLLATE "C" PRIMARY KEY,
    name                 TEXT COLLATE "C" NOT NULL,
    flow_id              TEXT COLLATE "C" REFERENCES flows (id),
    flow_name            TEXT COLLATE "C" NOT NULL,
    component_digest     TEXT NOT NULL,
    deployment_name      TEXT COLLATE "C",
    parameters           TEXT NOT NULL,
    tags                 TEXT NOT NULL,
    run_count            BIGINT NOT NULL DEFAULT 0,
    created              TIMESTAMPTZ NOT NULL,
    start_time           TIMESTAMPTZ,
    end_time             TIMESTAMPTZ,
    state_id             TEXT COLLATE "C" NOT NULL,
    state_type           TEXT NOT NULL,
    state_name           TEXT NOT NULL,
    state_timestamp      TIMESTAMPTZ NOT NULL,
    deployment_id        TEXT COLLATE "C",
    work_pool_name       TEXT COLLATE "C",
    expected_start_time  TIMESTAMPTZ,
    state_scheduled_time TIMESTAMPTZ,
    worker_name          TEXT,
    heartbeat            TIMESTAMPTZ
);
CREATE INDEX flow_runs_created ON flow_runs (created);
CREATE INDEX flow_runs_state_type ON flow_runs (state_type, created);
CREATE INDEX flow_runs_flow_name ON flow_runs (flow_name, created);
CREATE INDEX flow_runs_name ON flow_runs (name, created);
CREATE INDEX flow_runs_deployment_name ON flow_runs (deployment_name, created);
CREATE INDEX flow_runs_start_time ON flow_runs (start_time);
CREATE INDEX flow_runs_deployment_id ON flow_runs (deployment_id, created);
CREATE INDEX flow_runs_work_pool_name ON flow_runs (work_pool_name, created);
CREATE INDEX flow_runs_expected_start ON flow_runs ((COALESCE(expected_start_time, created)));
CREATE INDEX flow_runs_pool_due ON flow_runs
    (work_pool_name, state_type, (COALESCE(state_scheduled_time, expected_start_time, created)));
CREATE INDEX flow_runs_heartbeat ON flow_runs (heartbeat) WHERE worker_name IS NOT NULL;

CREATE TABLE flow_run_states (
    seq            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id             TEXT COLLATE "C" NOT NULL UNIQUE,
    flow_run_id    TEXT COLLATE "C" NOT NULL REFERENCES flow_runs (id) ON DELETE CASCADE,
    type           TEXT NOT NULL,
    name           TEXT NOT NULL,
    timestamp      TIMESTAMPTZ NOT NULL,
    message        TEXT,
    data           TEXT,
    scheduled_time TIMESTAMPTZ
);
CREATE INDEX flow_run_states_run ON flow_run_states (flow_run_id, seq);

CREATE TABLE task_runs (
    id                 TEXT COLLATE "C" PRIMARY KEY,
    flow_run_id        TEXT COLLATE "C" NOT NULL REFERENCES flow_runs (id) ON DELETE CASCADE,
    parent_task_run_id TEXT COLLATE "C",
    task_key           TEXT COLLATE "C" NOT NULL,
    dynamic_key        BIGINT NOT NULL,
    name               TEXT COLLATE "C" NOT NULL,
    input              TEXT NOT NULL,
    cache_key          TEXT,
    cache_expiration   TIMESTAMPTZ,
    tags               TEXT NOT NULL,
    run_count          BIGINT NOT NULL DEFAULT 0,
    created            TIMESTAMPTZ NOT NULL,
    start_time         TIMESTAMPTZ,
    end_time           TIMESTAMPTZ,
    state_id           TEXT COLLATE "C" NOT NULL,
    state_type         TEXT NOT NULL,
    state_name         TEXT NOT NULL,
    state_timestamp    TIMESTAMPTZ NOT NULL
);
CREATE INDEX task_runs_flow_run ON task_runs (flow_run_id, created);
CREATE INDEX task_runs_task_key ON task_runs (flow_run_id, task_key, dynamic_key);
CREATE INDEX task_runs_created ON task_runs (created);

CREATE TABLE task_run_states (
    seq            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id             TEXT COLLATE "C" NOT NULL UNIQUE,
    task_run_id    TEXT COLLATE "C" NOT NULL REFERENCES task_runs (id) ON DELETE CASCADE,
    type           TEXT NOT NULL,
    name           TEXT NOT NULL,
    timestamp      TIMESTAMPTZ NOT NULL,
    message        TEXT,
    data           TEXT,
    scheduled_time TIMESTAMPTZ
);
CREATE INDEX task_run_states_run ON task_run_states (task_run_id, seq);

CREATE TABLE logs (
    seq         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    flow_run_id TEXT COLLATE "C" NOT NULL REFERENCES flow_runs (id) ON DELETE CASCADE,
    task_run_id TEXT COLLATE "C",
    name        TEXT NOT NULL,
    level       BIGINT NOT NULL,
    message     TEXT NOT NULL,
    timestamp   TIMESTAMPTZ NOT NULL
);
CREATE INDEX logs_flow_run ON logs (flow_run_id, timestamp);
CREATE INDEX logs_task_run ON logs (task_run_id, timestamp);
CREATE INDEX logs_timestamp ON logs (timestamp);

CREATE TABLE cache_entries (
    key         TEXT COLLATE "C" PRIMARY KEY,
    value       TEXT NOT NULL,
    created     TIMESTAMPTZ NOT NULL,
    expiration  TIMESTAMPTZ,
    task_run_id TEXT
);
CREATE INDEX cache_entries_created ON cache_entries (created);

CREATE TABLE secrets (
    name    TEXT COLLATE "C" PRIMARY KEY,
    value   BYTEA NOT NULL,
    created TIMESTAMPTZ NOT NULL,
    updated TIMESTAMPTZ NOT NULL
);

CREATE TABLE deployments (
    id                TEXT COLLATE "C" PRIMARY KEY,
    name              TEXT COLLATE "C" NOT NULL,
    flow_name         TEXT COLLATE "C" NOT NULL,
    component_digest  TEXT NOT NULL,
    description       TEXT,
    parameters        TEXT NOT NULL,
    tags              TEXT NOT NULL,
    work_pool_name    TEXT COLLATE "C",
    schedules         TEXT NOT NULL,
    limits            TEXT NOT NULL,
    allowed_secrets   TEXT NOT NULL,
    paused            BOOLEAN NOT NULL,
    concurrency_limit BIGINT,
    created           TIMESTAMPTZ NOT NULL,
    updated           TIMESTAMPTZ NOT NULL,
    UNIQUE (flow_name, name)
);
CREATE INDEX deployments_name ON deployments (name);
CREATE INDEX deployments_work_pool ON deployments (work_pool_name);

CREATE TABLE work_pools (
    id                TEXT COLLATE "C" PRIMARY KEY,
    name              TEXT COLLATE "C" NOT NULL UNIQUE,
    pool_type         TEXT NOT NULL,
    description       TEXT,
    is_paused         BOOLEAN NOT NULL,
    concurrency_limit BIGINT,
    created           TIMESTAMPTZ NOT NULL,
    updated           TIMESTAMPTZ NOT NULL
);

CREATE TABLE variables (
    id      TEXT COLLATE "C" PRIMARY KEY,
    name    TEXT COLLATE "C" NOT NULL UNIQUE,
    value   TEXT NOT NULL,
    tags    TEXT NOT NULL,
    created TIMESTAMPTZ NOT NULL,
    updated TIMESTAMPTZ NOT NULL
);

CREATE TABLE components (
    digest  TEXT COLLATE "C" PRIMARY KEY,
    size    BIGINT NOT NULL,
    world   TEXT NOT NULL,
    info    TEXT NOT NULL,
    created TIMESTAMPTZ NOT NULL,
    bytes   BYTEA NOT NULL
);
CREATE INDEX components_created ON components (created);

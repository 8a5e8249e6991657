-- weft's initial schema (SQLite).
--
-- Ids are hyphenated UUID text and JSON documents (parameters, inputs,
-- results, tags) are TEXT, so a Postgres schema can keep the same columns
-- and the same row mapping. Timestamps are RFC 3339 text in UTC, which sorts
-- chronologically. History tables carry an integer `seq` that orders rows
-- by insertion, independent of the callers' clocks.

CREATE TABLE flows (
    id      TEXT PRIMARY KEY NOT NULL,
    name    TEXT NOT NULL UNIQUE,
    created TEXT NOT NULL
);

CREATE TABLE flow_runs (
    id               TEXT PRIMARY KEY NOT NULL,
    name             TEXT NOT NULL,
    flow_id          TEXT REFERENCES flows (id),
    flow_name        TEXT NOT NULL,
    component_digest TEXT NOT NULL,
    deployment_name  TEXT,
    parameters       TEXT NOT NULL,
    tags             TEXT NOT NULL,
    run_count        INTEGER NOT NULL DEFAULT 0,
    created          TEXT NOT NULL,
    start_time       TEXT,
    end_time         TEXT,
    -- The current state: its id in flow_run_states, plus the columns the
    -- filters need, so listing runs by state needs no join to filter.
    state_id         TEXT NOT NULL,
    state_type       TEXT NOT NULL,
    state_name       TEXT NOT NULL,
    state_timestamp  TEXT NOT NULL
);
CREATE INDEX flow_runs_created ON flow_runs (created);
CREATE INDEX flow_runs_state_type ON flow_runs (state_type, created);
CREATE INDEX flow_runs_flow_name ON flow_runs (flow_name, created);
CREATE INDEX flow_runs_name ON flow_runs (name, created);
CREATE INDEX flow_runs_deployment_name ON flow_runs (deployment_name, created);
CREATE INDEX flow_runs_start_time ON flow_runs (start_time);

CREATE TABLE flow_run_states (
    seq            INTEGER PRIMARY KEY,
    id             TEXT NOT NULL UNIQUE,
    flow_run_id    TEXT NOT NULL REFERENCES flow_runs (id) ON DELETE CASCADE,
    type           TEXT NOT NULL,
    name           TEXT NOT NULL,
    timestamp      TEXT NOT NULL,
    message        TEXT,
    data           TEXT,
    scheduled_time TEXT
);
CREATE INDEX flow_run_states_run ON flow_run_states (flow_run_id, seq);

CREATE TABLE task_runs (
    id                 TEXT PRIMARY KEY NOT NULL,
    flow_run_id        TEXT NOT NULL REFERENCES flow_runs (id) ON DELETE CASCADE,
    parent_task_run_id TEXT,
    task_key           TEXT NOT NULL,
    dynamic_key        INTEGER NOT NULL,
    name               TEXT NOT NULL,
    input              TEXT NOT NULL,
    cache_key          TEXT,
    cache_expiration   TEXT,
    tags               TEXT NOT NULL,
    run_count          INTEGER NOT NULL DEFAULT 0,
    created            TEXT NOT NULL,
    start_time         TEXT,
    end_time           TEXT,
    state_id           TEXT NOT NULL,
    state_type         TEXT NOT NULL,
    state_name         TEXT NOT NULL,
    state_timestamp    TEXT NOT NULL
);
CREATE INDEX task_runs_flow_run ON task_runs (flow_run_id, created);
CREATE INDEX task_runs_task_key ON task_runs (flow_run_id, task_key, dynamic_key);
CREATE INDEX task_runs_created ON task_runs (created);

CREATE TABLE task_run_states (
    seq            INTEGER PRIMARY KEY,
    id             TEXT NOT NULL UNIQUE,
    task_run_id    TEXT NOT NULL REFERENCES task_runs (id) ON DELETE CASCADE,
    type           TEXT NOT NULL,
    name           TEXT NOT NULL,
    timestamp      TEXT NOT NULL,
    message        TEXT,
    data           TEXT,
    scheduled_time TEXT
);
CREATE INDEX task_run_states_run ON task_run_states (task_run_id, seq);

CREATE TABLE logs (
    seq         INTEGER PRIMARY KEY,
    flow_run_id TEXT NOT NULL REFERENCES flow_runs (id) ON DELETE CASCADE,
    task_run_id TEXT,
    name        TEXT NOT NULL,
    level       INTEGER NOT NULL,
    message     TEXT NOT NULL,
    timestamp   TEXT NOT NULL
);
CREATE INDEX logs_flow_run ON logs (flow_run_id, timestamp);
CREATE INDEX logs_task_run ON logs (task_run_id, timestamp);
CREATE INDEX logs_timestamp ON logs (timestamp);

CREATE TABLE cache_entries (
    key         TEXT PRIMARY KEY NOT NULL,
    value       TEXT NOT NULL,
    created     TEXT NOT NULL,
    expiration  TEXT,
    task_run_id TEXT
);
CREATE INDEX cache_entries_created ON cache_entries (created);

-- Values are nonce || XChaCha20-Poly1305 ciphertext; plaintext never
-- reaches the database.
CREATE TABLE secrets (
    name    TEXT PRIMARY KEY NOT NULL,
    value   BLOB NOT NULL,
    created TEXT NOT NULL,
    updated TEXT NOT NULL
);

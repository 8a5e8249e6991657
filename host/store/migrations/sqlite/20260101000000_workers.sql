-- Workers of work pools, as their heartbeats record them (Prefect's
-- workers): one row per pool and worker name.
CREATE TABLE workers (
    id                         TEXT PRIMARY KEY NOT NULL,
    work_pool_name             TEXT NOT NULL,
    name                       TEXT NOT NULL,
    last_heartbeat_time        TEXT NOT NULL,
    heartbeat_interval_seconds INTEGER,
    created                    TEXT NOT NULL,
    updated                    TEXT NOT NULL,
    UNIQUE (work_pool_name, name)
);

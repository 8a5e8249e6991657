-- Workers of work pools, as their heartbeats record them (Prefect's
-- workers): one row per pool and worker name.
CREATE TABLE workers (
    id                         TEXT COLLATE "C" PRIMARY KEY,
    work_pool_name             TEXT COLLATE "C" NOT NULL,
    name                       TEXT COLLATE "C" NOT NULL,
    last_heartbeat_time        TIMESTAMPTZ NOT NULL,
    heartbeat_interval_seconds BIGINT,
    created                    TIMESTAMPTZ NOT NULL,
    updated                    TIMESTAMPTZ NOT NULL,
    UNIQUE (work_pool_name, name)
);

-- Concurrency limits (Prefect's global limits; tag limits are named
-- "tag:<tag>") and the leases holding their slots. A lease counts against
-- each of its limits until it expires or is released; expired leases are
-- ignored and swept.
CREATE TABLE concurrency_limits (
    id           TEXT COLLATE "C" PRIMARY KEY,
    name         TEXT COLLATE "C" NOT NULL UNIQUE,
    slots        BIGINT NOT NULL,
    active       BOOLEAN NOT NULL,
    denied_slots BIGINT NOT NULL DEFAULT 0,
    created      TIMESTAMPTZ NOT NULL,
    updated      TIMESTAMPTZ NOT NULL
);

CREATE TABLE concurrency_leases (
    id          TEXT COLLATE "C" PRIMARY KEY,
    holder_type TEXT,
    holder_id   TEXT COLLATE "C",
    slots       BIGINT NOT NULL,
    expires     TIMESTAMPTZ NOT NULL,
    created     TIMESTAMPTZ NOT NULL
);
CREATE INDEX concurrency_leases_expires ON concurrency_leases (expires);

CREATE TABLE concurrency_lease_limits (
    lease_id TEXT COLLATE "C" NOT NULL REFERENCES concurrency_leases (id) ON DELETE CASCADE,
    limit_id TEXT COLLATE "C" NOT NULL REFERENCES concurrency_limits (id) ON DELETE CASCADE,
    PRIMARY KEY (limit_id, lease_id)
);
CREATE INDEX concurrency_lease_limits_lease ON concurrency_lease_limits (lease_id);

-- Flow-run limits of deployments and work pools count the claimed runs
-- that are active; these partial indexes hold only those.
CREATE INDEX flow_runs_active_by_deployment ON flow_runs (deployment_id)
    WHERE state_type IN ('PENDING', 'RUNNING', 'CANCELLING') AND worker_name IS NOT NULL;
CREATE INDEX flow_runs_active_by_pool ON flow_runs (work_pool_name)
    WHERE state_type IN ('PENDING', 'RUNNING', 'CANCELLING') AND worker_name IS NOT NULL;

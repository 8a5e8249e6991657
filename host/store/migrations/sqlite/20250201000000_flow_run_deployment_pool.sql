-- Flow runs of deployments and work pools (the central server).

ALTER TABLE flow_runs ADD COLUMN deployment_id TEXT;
ALTER TABLE flow_runs ADD COLUMN work_pool_name TEXT;
ALTER TABLE flow_runs ADD COLUMN expected_start_time TEXT;

CREATE INDEX flow_runs_deployment_id ON flow_runs (deployment_id, created);
CREATE INDEX flow_runs_work_pool_name ON flow_runs (work_pool_name, created);
-- The sort key of EXPECTED_START_TIME_DESC/ASC (the same expression as the
-- queries', so SQLite can use it).
CREATE INDEX flow_runs_expected_start ON flow_runs (COALESCE(expected_start_time, created));

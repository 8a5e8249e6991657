-- Indexes for the API's run filters with many runs stored: the newest-first
-- scan can test a name (`like_`) without reading the row, and a flow's runs
-- come in start-time order (the UI's and `flow-run ls`'s common pages).
DROP INDEX flow_runs_created;
CREATE INDEX flow_runs_created_name ON flow_runs (created, name);
CREATE INDEX flow_runs_flow_start ON flow_runs (flow_name, start_time DESC NULLS LAST);
-- Substring search on run names (`like_`, ILIKE '%x%') through a trigram
-- index, as Prefect's own Postgres schema does.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX flow_runs_name_trgm ON flow_runs USING gin (name gin_trgm_ops);

-- Fewer index entries per state change (Postgres writes one into every
-- index of a row for each new version of it):
-- - a state row's primary key is its id (instead of a unique index on it
--   beside a primary key on its sequence number, which only orders a
--   run's states, through the (run, seq) index): one index fewer per state;
-- - the heartbeat index, which finds runs whose worker went silent, holds
--   only unfinished claimed runs (finished runs left it; it no longer
--   grows with every run ever claimed).
ALTER TABLE flow_run_states DROP CONSTRAINT flow_run_states_pkey, DROP CONSTRAINT flow_run_states_id_key,
    ADD CONSTRAINT flow_run_states_pkey PRIMARY KEY (id);
ALTER TABLE task_run_states DROP CONSTRAINT task_run_states_pkey, DROP CONSTRAINT task_run_states_id_key,
    ADD CONSTRAINT task_run_states_pkey PRIMARY KEY (id);
DROP INDEX flow_runs_heartbeat;
CREATE INDEX flow_runs_heartbeat ON flow_runs (heartbeat)
    WHERE worker_name IS NOT NULL
    AND state_type NOT IN ('COMPLETED', 'FAILED', 'CANCELLED', 'CRASHED');

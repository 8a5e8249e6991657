-- The slots the scheduler created runs for: one row per (deployment,
-- schedule, slot time), so a slot never gets two runs, whichever server
-- schedules it. A slot goes with its run (deleting the run frees the slot);
-- the foreign key is deferred because the slot is claimed first, in the
-- same transaction, and the run inserted only when the claim succeeded.
CREATE TABLE schedule_slots (
    deployment_id TEXT NOT NULL,
    schedule_id   TEXT NOT NULL,
    slot          TEXT NOT NULL,
    flow_run_id   TEXT NOT NULL
        REFERENCES flow_runs (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    PRIMARY KEY (deployment_id, schedule_id, slot)
);
CREATE INDEX schedule_slots_flow_run ON schedule_slots (flow_run_id);
-- Late marking looks for unclaimed runs still named Scheduled.
CREATE INDEX flow_runs_scheduled_due ON flow_runs
    (state_name, COALESCE(state_scheduled_time, expected_start_time, created))
    WHERE state_type = 'SCHEDULED';

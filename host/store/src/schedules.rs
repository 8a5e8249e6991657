//! Scheduled runs: the store's side of the scheduler.
//!
//! A run the scheduler creates for a slot (a deployment's schedule firing at
//! a time) is recorded with its slot in `schedule_slots`, whose primary key
//! `(deployment_id, schedule_id, slot)` makes each slot get one run only:
//! the slot is claimed with `INSERT ... ON CONFLICT DO NOTHING` and the run
//! inserted, in the same transaction, only when the claim succeeded. On
//! Postgres a concurrent claim of the same slot (another server) waits for
//! the first transaction and then does nothing; on SQLite the single writer
//! (and `BEGIN IMMEDIATE` between processes) serializes claims. The lock is
//! in the database, never in a server's memory.
//!
//! A slot goes with its run: deleting the run (by hand, or when a schedule
//! changes, [`crate::Store::delete_scheduled_flow_runs`]) frees it.
//!
//! This module holds the shared types and the Postgres statements; the
//! SQLite ones run on the writer thread (`sqlite::schedules`).

use chrono::{DateTime, Utc};
use sqlx::{PgPool, Row};
use uuid::Uuid;
use weft_core::{Deployment, FlowRun, Schedule, State, StateType};

use crate::StoreError;
use crate::rows::{FlowRunInsert, StateInsert};

/// The state name a late run gets (type SCHEDULED, as Prefect's `Late`).
pub const LATE: &str = "Late";

/// A run to create for a schedule's slot.
#[derive(Debug, Clone, PartialEq)]
pub struct ScheduledRun {
    /// The schedule that fired.
    pub schedule_id: Uuid,
    /// When it fired (the run's expected start time).
    pub slot: DateTime<Utc>,
    /// The run: its `deployment_id` must be set.
    pub run: FlowRun,
}

/// The tag Prefect puts first on runs its scheduler creates.
pub const AUTO_SCHEDULED_TAG: &str = "auto-scheduled";

impl ScheduledRun {
    /// The run `schedule` of `deployment` gets for `slot`, as Prefect's
    /// scheduler makes it: the deployment's parameters with the schedule's
    /// over them, the tag `auto-scheduled` then the deployment's tags, its
    /// work pool, and a `Scheduled` state due at `slot` (also the expected
    /// start time), recorded at `now`.
    pub fn for_slot(
        deployment: &Deployment,
        schedule: &Schedule,
        slot: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> ScheduledRun {
        let mut parameters = deployment.parameters.clone();
        if let (serde_json::Value::Object(base), serde_json::Value::Object(extra)) =
            (&mut parameters, &schedule.parameters)
        {
            base.extend(extra.iter().map(|(k, v)| (k.clone(), v.clone())));
        }
        let mut run = FlowRun::new(
            deployment.flow_name.clone(),
            deployment.component_digest.clone(),
            parameters,
        );
        run.created = now;
        run.tags = std::iter::once(AUTO_SCHEDULED_TAG.to_string())
            .chain(
                deployment
                    .tags
                    .iter()
                    .filter(|t| *t != AUTO_SCHEDULED_TAG)
                    .cloned(),
            )
            .collect();
        let mut state = State::scheduled(slot).with_message("Flow run scheduled");
        state.timestamp = now;
        run.state = state;
        run.deployment_id = Some(deployment.id);
        run.deployment_name = Some(deployment.name.clone());
        run.work_pool_name = deployment.work_pool_name.clone();
        run.expected_start_time = Some(slot);
        ScheduledRun {
            schedule_id: schedule.id,
            slot,
            run,
        }
    }
}

/// A [`ScheduledRun`] ready for the database.
#[derive(Debug, Clone)]
pub(crate) struct SlotInsert {
    pub deployment_id: String,
    pub schedule_id: String,
    pub slot: DateTime<Utc>,
    pub run: FlowRunInsert,
}

/// Checks and converts `runs`, in slot order (so concurrent schedulers
/// claim slots in one order and never deadlock).
pub(crate) fn slot_inserts(runs: &[ScheduledRun]) -> Result<Vec<SlotInsert>, StoreError> {
    let mut out = runs
        .iter()
        .map(|r| {
            let deployment = r.run.deployment_id.ok_or_else(|| {
                StoreError::Invalid(format!("scheduled run {} has no deployment", r.run.id))
            })?;
            Ok(SlotInsert {
                deployment_id: deployment.hyphenated().to_string(),
                schedule_id: r.schedule_id.hyphenated().to_string(),
                slot: r.slot,
                run: FlowRunInsert::from_model(&r.run)?,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    out.sort_by(|a, b| {
        (&a.deployment_id, &a.schedule_id, a.slot).cmp(&(&b.deployment_id, &b.schedule_id, b.slot))
    });
    Ok(out)
}

/// The Late state of a run due at `due`, recorded at `now`.
pub(crate) fn late_state(
    due: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<StateInsert, StoreError> {
    let mut s = State::new(StateType::Scheduled, LATE);
    s.scheduled_time = Some(due);
    s.timestamp = now;
    StateInsert::from_model(&s)
}

/// Parses run ids read back from the database.
pub(crate) fn parse_ids(v: Vec<String>) -> Result<Vec<Uuid>, StoreError> {
    v.iter()
        .map(|s| Uuid::parse_str(s).map_err(|e| StoreError::Decode(format!("run id {s:?}: {e}"))))
        .collect()
}

// ------------------------------------------------------------- Postgres

const PG_CLAIM_SLOT: &str = "\
INSERT INTO schedule_slots (deployment_id, schedule_id, slot, flow_run_id)
VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING";

const PG_INSERT_FLOW: &str =
    "INSERT INTO flows (id, name, created) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING";

const PG_INSERT_FLOW_RUN: &str = "\
INSERT INTO flow_runs (id, name, flow_id, flow_name, component_digest, deployment_name,
    parameters, tags, run_count, created, start_time, end_time, state_id, state_type,
    state_name, state_timestamp, deployment_id, work_pool_name, expected_start_time,
    state_scheduled_time)
VALUES ($1, $2, (SELECT id FROM flows WHERE name = $3), $3, $4, $5, $6, $7, $8, $9, $10,
    $11, $12, $13, $14, $15, $16, $17, $18, $19)";

const PG_INSERT_STATE: &str = "\
INSERT INTO flow_run_states (id, flow_run_id, type, name, timestamp, message, data, scheduled_time)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";

const PG_DELETE: &str = "\
DELETE FROM flow_runs r USING schedule_slots s
WHERE s.flow_run_id = r.id AND s.deployment_id = $1
    AND ($2::text IS NULL OR s.schedule_id = $2)
    AND r.state_type = 'SCHEDULED' AND r.state_name IN ('Scheduled', 'Late')
    AND r.worker_name IS NULL AND r.run_count = 0
    AND ($3::timestamptz IS NULL
        OR COALESCE(r.state_scheduled_time, r.expected_start_time, r.created) >= $3)";

const PG_LATE: &str = "\
SELECT id, COALESCE(state_scheduled_time, expected_start_time, created) AS due FROM flow_runs
WHERE state_type = 'SCHEDULED' AND state_name = 'Scheduled' AND worker_name IS NULL
    AND COALESCE(state_scheduled_time, expected_start_time, created) < $1
ORDER BY due, id LIMIT $2 FOR UPDATE SKIP LOCKED";

const PG_SET_LATE: &str = "\
UPDATE flow_runs SET state_id = $2, state_type = $3, state_name = $4, state_timestamp = $5,
    state_scheduled_time = $6
WHERE id = $1";

fn db(e: sqlx::Error) -> StoreError {
    StoreError::Database(e)
}

/// Postgres: [`crate::Store::create_scheduled_flow_runs`].
pub(crate) async fn pg_create(
    pool: &PgPool,
    runs: &[ScheduledRun],
) -> Result<Vec<Uuid>, StoreError> {
    let rows = slot_inserts(runs)?;
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let mut tx = pool.begin().await.map_err(db)?;
    let mut created = Vec::new();
    for r in &rows {
        let claimed = sqlx::query(PG_CLAIM_SLOT)
            .bind(&r.deployment_id)
            .bind(&r.schedule_id)
            .bind(r.slot)
            .bind(&r.run.id)
            .execute(&mut *tx)
            .await
            .map_err(db)?
            .rows_affected();
        if claimed == 0 {
            continue;
        }
        let f = &r.run;
        let s = &f.state;
        sqlx::query(PG_INSERT_FLOW)
            .bind(&f.new_flow_id)
            .bind(&f.flow_name)
            .bind(f.created)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        sqlx::query(PG_INSERT_FLOW_RUN)
            .bind(&f.id)
            .bind(&f.name)
            .bind(&f.flow_name)
            .bind(&f.component_digest)
            .bind(&f.deployment_name)
            .bind(&f.parameters)
            .bind(&f.tags)
            .bind(f.run_count)
            .bind(f.created)
            .bind(f.start_time)
            .bind(f.end_time)
            .bind(&s.id)
            .bind(s.state_type)
            .bind(&s.name)
            .bind(s.timestamp)
            .bind(&f.deployment_id)
            .bind(&f.work_pool_name)
            .bind(f.expected_start_time)
            .bind(s.scheduled_time)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        insert_state(&mut tx, &f.id, s).await?;
        created.push(f.id.clone());
    }
    tx.commit().await.map_err(db)?;
    parse_ids(created)
}

async fn insert_state(
    tx: &mut sqlx::Transaction<'static, sqlx::Postgres>,
    run_id: &str,
    s: &StateInsert,
) -> Result<(), StoreError> {
    sqlx::query(PG_INSERT_STATE)
        .bind(&s.id)
        .bind(run_id)
        .bind(s.state_type)
        .bind(&s.name)
        .bind(s.timestamp)
        .bind(&s.message)
        .bind(&s.data)
        .bind(s.scheduled_time)
        .execute(&mut **tx)
        .await
        .map_err(db)?;
    Ok(())
}

/// Postgres: [`crate::Store::delete_scheduled_flow_runs`].
pub(crate) async fn pg_delete(
    pool: &PgPool,
    deployment_id: Uuid,
    schedule_id: Option<Uuid>,
    due_from: Option<DateTime<Utc>>,
) -> Result<u64, StoreError> {
    Ok(sqlx::query(PG_DELETE)
        .bind(deployment_id.hyphenated().to_string())
        .bind(schedule_id.map(|s| s.hyphenated().to_string()))
        .bind(due_from)
        .execute(pool)
        .await
        .map_err(db)?
        .rows_affected())
}

/// Postgres: [`crate::Store::mark_late_flow_runs`].
pub(crate) async fn pg_mark_late(
    pool: &PgPool,
    due_before: DateTime<Utc>,
    now: DateTime<Utc>,
    limit: u32,
) -> Result<Vec<Uuid>, StoreError> {
    let mut tx = pool.begin().await.map_err(db)?;
    let due: Vec<(String, DateTime<Utc>)> = sqlx::query(PG_LATE)
        .bind(due_before)
        .bind(i64::from(limit))
        .fetch_all(&mut *tx)
        .await
        .map_err(db)?
        .into_iter()
        .map(|r| Ok((r.try_get("id")?, r.try_get("due")?)))
        .collect::<Result<_, sqlx::Error>>()
        .map_err(db)?;
    let mut marked = Vec::with_capacity(due.len());
    for (id, at) in due {
        let s = late_state(at, now)?;
        insert_state(&mut tx, &id, &s).await?;
        sqlx::query(PG_SET_LATE)
            .bind(&id)
            .bind(&s.id)
            .bind(s.state_type)
            .bind(&s.name)
            .bind(s.timestamp)
            .bind(s.scheduled_time)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        marked.push(id);
    }
    tx.commit().await.map_err(db)?;
    parse_ids(marked)
}

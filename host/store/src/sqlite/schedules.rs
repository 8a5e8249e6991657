//! Scheduled runs on SQLite (see [`crate::schedules`]): each call is one
//! [`Op::Call`] on the single writer, so it runs inside the writer's
//! `BEGIN IMMEDIATE` transaction and no other write (of this process or
//! another on the same file) interleaves with it.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, params};
use uuid::Uuid;

use super::sql;
use super::writer::{self, Op, Out, WriteFn};
use crate::StoreError;
use crate::rows::StateUpdate;
use crate::schedules::{SlotInsert, late_state};

const CLAIM_SLOT: &str = "\
INSERT INTO schedule_slots (deployment_id, schedule_id, slot, flow_run_id)
VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING";

const DELETE: &str = "\
DELETE FROM flow_runs WHERE id IN (
    SELECT r.id FROM schedule_slots s JOIN flow_runs r ON r.id = s.flow_run_id
    WHERE s.deployment_id = ?1 AND (?2 IS NULL OR s.schedule_id = ?2)
        AND r.state_type = 'SCHEDULED' AND r.state_name IN ('Scheduled', 'Late')
        AND r.worker_name IS NULL AND r.run_count = 0
        AND (?3 IS NULL OR COALESCE(r.state_scheduled_time, r.expected_start_time, r.created) >= ?3))";

const LATE: &str = "\
SELECT id, COALESCE(state_scheduled_time, expected_start_time, created) AS due FROM flow_runs
WHERE state_type = 'SCHEDULED' AND state_name = 'Scheduled' AND worker_name IS NULL
    AND COALESCE(state_scheduled_time, expected_start_time, created) < ?1
ORDER BY due, id LIMIT ?2";

/// The op creating `rows` (answers the ids created).
pub(super) fn create(rows: Vec<SlotInsert>) -> Op {
    Op::Call(WriteFn(Box::new(move |conn| {
        create_rows(conn, &rows)
            .map(Out::Ids)
            .map_err(writer::sqlite)
    })))
}

fn create_rows(conn: &Connection, rows: &[SlotInsert]) -> rusqlite::Result<Vec<String>> {
    let mut created = Vec::new();
    for r in rows {
        let claimed = conn.prepare_cached(CLAIM_SLOT)?.execute(params![
            r.deployment_id,
            r.schedule_id,
            writer::ts(&r.slot),
            r.run.id
        ])?;
        if claimed == 0 {
            continue;
        }
        writer::create_flow_run(conn, &r.run)?;
        created.push(r.run.id.clone());
    }
    Ok(created)
}

/// The op deleting a deployment's unstarted scheduled runs (answers how
/// many).
pub(super) fn delete(
    deployment_id: Uuid,
    schedule_id: Option<Uuid>,
    due_from: Option<DateTime<Utc>>,
) -> Op {
    let d = deployment_id.hyphenated().to_string();
    let s = schedule_id.map(|s| s.hyphenated().to_string());
    let from = due_from.as_ref().map(writer::ts);
    Op::Call(WriteFn(Box::new(move |conn| {
        conn.prepare_cached(DELETE)
            .and_then(|mut st| st.execute(params![d, s, from]))
            .map(|n| Out::N(n as u64))
            .map_err(writer::sqlite)
    })))
}

/// The op marking late runs (answers their ids).
pub(super) fn mark_late(due_before: DateTime<Utc>, now: DateTime<Utc>, limit: u32) -> Op {
    Op::Call(WriteFn(Box::new(move |conn| {
        mark_late_rows(conn, &due_before, &now, limit)
    })))
}

fn mark_late_rows(
    conn: &Connection,
    due_before: &DateTime<Utc>,
    now: &DateTime<Utc>,
    limit: u32,
) -> Result<Out, StoreError> {
    let due: Vec<(String, String)> = {
        let mut st = conn.prepare_cached(LATE).map_err(writer::sqlite)?;
        let rows = st
            .query_map(params![writer::ts(due_before), i64::from(limit)], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .map_err(writer::sqlite)?;
        rows.collect::<rusqlite::Result<_>>()
            .map_err(writer::sqlite)?
    };
    let mut marked = Vec::with_capacity(due.len());
    for (id, at) in due {
        let at = DateTime::parse_from_rfc3339(&at)
            .map_err(|e| StoreError::Decode(format!("due time {at:?}: {e}")))?
            .with_timezone(&Utc);
        let update = StateUpdate {
            run_id: id.clone(),
            state: late_state(at, *now)?,
        };
        writer::set_state(
            conn,
            sql::INSERT_FLOW_RUN_STATE,
            sql::UPDATE_FLOW_RUN_STATE,
            &update,
        )
        .map_err(writer::sqlite)?;
        marked.push(id);
    }
    Ok(Out::Ids(marked))
}

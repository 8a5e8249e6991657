//! Claiming due flow runs on SQLite under the flow-run concurrency limits
//! (see [`crate::claims`]): one [`Op::Call`] on the single writer, so the
//! counts and the claim run in one `BEGIN IMMEDIATE` transaction and no
//! other claim (of this process or another on the same file) interleaves.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params};

use super::sql;
use super::writer::{self, Op, Out, WriteFn};
use crate::claims::{ACTIVE_STATES, Candidate, LOOKAHEAD, Rooms, choose, room};
use crate::rows::StateUpdate;

/// What a claim asks for.
#[derive(Debug, Clone)]
pub(super) struct Claim {
    pub pool: String,
    pub worker: String,
    pub before: DateTime<Utc>,
    pub limit: u32,
    pub live_after: DateTime<Utc>,
    pub now: DateTime<Utc>,
}

/// The op claiming runs (answers the ids claimed, in order).
pub(super) fn claim(c: Claim) -> Op {
    Op::Call(WriteFn(Box::new(move |conn| {
        claim_in(conn, &c).map(Out::Ids).map_err(writer::sqlite)
    })))
}

fn claim_in(conn: &Connection, c: &Claim) -> rusqlite::Result<Vec<String>> {
    let pool_limit: Option<i64> = conn
        .prepare_cached("SELECT concurrency_limit FROM work_pools WHERE name = ?1")?
        .query_row(params![c.pool], |r| r.get(0))
        .optional()?
        .flatten();
    let deployments_limited: bool = conn
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM deployments WHERE concurrency_limit IS NOT NULL)",
        )?
        .query_row([], |r| r.get(0))?;
    let fetch = if pool_limit.is_some() || deployments_limited {
        c.limit.saturating_add(LOOKAHEAD)
    } else {
        c.limit
    };
    let candidates: Vec<Candidate> = {
        let mut st = conn.prepare_cached(sql::DUE_FLOW_RUNS)?;
        let rows = st.query_map(
            params![c.pool, writer::ts(&c.before), i64::from(fetch)],
            |r| {
                let due: String = r.get(3)?;
                Ok(Candidate {
                    id: r.get(0)?,
                    deployment_id: r.get(1)?,
                    state_name: r.get(2)?,
                    due: DateTime::parse_from_rfc3339(&due)
                        .map(|t| t.with_timezone(&Utc))
                        .unwrap_or(c.now),
                })
            },
        )?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    let mut rooms = Rooms::default();
    if deployments_limited {
        let mut ids: Vec<&String> = candidates
            .iter()
            .filter_map(|c| c.deployment_id.as_ref())
            .collect();
        ids.sort();
        ids.dedup();
        for id in ids {
            let limit: Option<i64> = conn
                .prepare_cached("SELECT concurrency_limit FROM deployments WHERE id = ?1")?
                .query_row(params![id], |r| r.get(0))
                .optional()?
                .flatten();
            if limit.is_some() {
                let active = active(conn, "deployment_id", id, &c.live_after)?;
                if let Some(r) = room(limit, active) {
                    rooms.deployments.insert(id.clone(), r);
                }
            }
        }
    }
    if pool_limit.is_some() {
        rooms.pool = room(
            pool_limit,
            active(conn, "work_pool_name", &c.pool, &c.live_after)?,
        );
    }
    let choice = choose(candidates, rooms, c.limit, &c.pool, c.now);
    for id in &choice.take {
        let mut pending = weft_core::State::pending();
        pending.timestamp = c.now;
        let update = StateUpdate {
            run_id: id.clone(),
            state: writer::state_insert(&pending),
        };
        writer::set_state(
            conn,
            sql::INSERT_FLOW_RUN_STATE,
            sql::UPDATE_FLOW_RUN_STATE,
            &update,
        )?;
        conn.prepare_cached(sql::SET_CLAIM)?
            .execute(params![id, c.worker, writer::ts(&c.now)])?;
    }
    for (update, log) in &choice.wait {
        writer::set_state(
            conn,
            sql::INSERT_FLOW_RUN_STATE,
            sql::UPDATE_FLOW_RUN_STATE,
            update,
        )?;
        conn.prepare_cached(sql::INSERT_LOG)?.execute(params![
            log.flow_run_id,
            log.task_run_id,
            log.name,
            log.level,
            log.message,
            writer::ts(&log.timestamp)
        ])?;
    }
    Ok(choice.take)
}

/// Claimed, live runs in an active state whose `column` is `value`.
fn active(
    conn: &Connection,
    column: &'static str,
    value: &str,
    live_after: &DateTime<Utc>,
) -> rusqlite::Result<i64> {
    let sql = format!(
        "SELECT count(*) FROM flow_runs WHERE {column} = ?1 AND state_type IN {ACTIVE_STATES}
         AND worker_name IS NOT NULL AND heartbeat >= ?2"
    );
    conn.prepare_cached(&sql)?
        .query_row(params![value, writer::ts(live_after)], |r| r.get(0))
}

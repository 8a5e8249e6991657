//! Claiming due flow runs under the flow-run concurrency limits of
//! deployments and work pools: the rule choosing which runs a claim takes
//! and which wait, shared by both backends, and the Postgres claim.
//!
//! A run holds a slot of its deployment's and its pool's limit from its
//! claim until it ends, while its worker's heartbeat is younger than the
//! claim's `live_after`: the heartbeat renews the lease, so the runs of a
//! worker that died stop counting by themselves. A due run that would
//! exceed a limit stays SCHEDULED, renamed `AwaitingConcurrencySlot` with a
//! message and a log line saying which limit it waits for, and is claimed
//! by the first claim after a slot frees up.
//!
//! On Postgres a claim takes transaction-scoped advisory locks on its pool
//! and on each limited deployment (always in that order) before counting,
//! so two claims cannot both take a limit's last slot.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, Row};
use weft_core::concurrency::AWAITING_SLOT;
use weft_core::{LogEntry, LogLevel, State};

use crate::StoreError;
use crate::reads;
use crate::rows::{LogInsert, StateUpdate};

/// How many due runs past the claim's own limit a limited claim looks at,
/// to find runs not blocked by a full limit.
pub(crate) const LOOKAHEAD: u32 = 256;

/// The states of a run holding a slot.
pub(crate) const ACTIVE_STATES: &str = "('PENDING', 'RUNNING', 'CANCELLING')";

/// The logger name of the lines a waiting run gets.
pub(crate) const LOGGER: &str = "weft.concurrency";

/// A due run a claim may take.
#[derive(Debug, Clone)]
pub(crate) struct Candidate {
    pub id: String,
    pub deployment_id: Option<String>,
    pub state_name: String,
    pub due: DateTime<Utc>,
}

/// A limit and the slots of it held.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Room {
    pub limit: u32,
    pub active: u32,
}

/// The room left in the limits a claim's candidates count against.
#[derive(Debug, Default)]
pub(crate) struct Rooms {
    pub pool: Option<Room>,
    pub deployments: HashMap<String, Room>,
}

/// What a claim does: the runs it takes, and the runs newly waiting for a
/// slot with the state and log line each gets.
#[derive(Debug, Default)]
pub(crate) struct Choice {
    pub take: Vec<String>,
    pub wait: Vec<(StateUpdate, LogInsert)>,
}

/// Takes candidates in order while the limits have room, up to `limit`.
pub(crate) fn choose(
    candidates: Vec<Candidate>,
    mut rooms: Rooms,
    limit: u32,
    pool: &str,
    now: DateTime<Utc>,
) -> Choice {
    let mut choice = Choice::default();
    for c in candidates {
        if choice.take.len() as u32 >= limit {
            break;
        }
        let deployment = c
            .deployment_id
            .as_ref()
            .and_then(|d| rooms.deployments.get(d).copied());
        let reason = match (deployment, rooms.pool) {
            (Some(d), _) if d.active >= d.limit => Some(format!(
                "its deployment's concurrency limit of {} is reached ({} running)",
                d.limit, d.active
            )),
            (_, Some(p)) if p.active >= p.limit => Some(format!(
                "work pool {pool:?}'s concurrency limit of {} is reached ({} running)",
                p.limit, p.active
            )),
            _ => None,
        };
        match reason {
            Some(reason) => {
                if c.state_name != AWAITING_SLOT {
                    choice.wait.push(waiting(&c, &reason, now));
                }
            }
            None => {
                if let Some(d) = c
                    .deployment_id
                    .as_ref()
                    .and_then(|d| rooms.deployments.get_mut(d))
                {
                    d.active += 1;
                }
                if let Some(p) = rooms.pool.as_mut() {
                    p.active += 1;
                }
                choice.take.push(c.id);
            }
        }
    }
    choice
}

/// The state and log line of a run starting to wait.
fn waiting(c: &Candidate, reason: &str, now: DateTime<Utc>) -> (StateUpdate, LogInsert) {
    let mut state = State::scheduled(c.due).with_message(format!("Waiting: {reason}"));
    state.name = AWAITING_SLOT.into();
    state.timestamp = now;
    let log = LogInsert::from_model(LogEntry {
        flow_run_id: c.id.parse().unwrap_or_default(),
        task_run_id: None,
        name: LOGGER.into(),
        level: LogLevel::Info,
        message: format!("Flow run waits for a concurrency slot: {reason}"),
        timestamp: now,
    });
    let update = StateUpdate {
        run_id: c.id.clone(),
        state: crate::postgres::state_insert(&state),
    };
    (update, log)
}

/// Whether a room's limit is a number of slots.
pub(crate) fn room(limit: Option<i64>, active: i64) -> Option<Room> {
    limit.map(|l| Room {
        limit: u32::try_from(l).unwrap_or(0),
        active: u32::try_from(active).unwrap_or(u32::MAX),
    })
}

// ------------------------------------------------------------ Postgres

fn db(e: sqlx::Error) -> StoreError {
    StoreError::Database(e)
}

async fn advisory_lock(conn: &mut PgConnection, key: &str) -> Result<(), StoreError> {
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
        .bind(key)
        .execute(&mut *conn)
        .await
        .map_err(db)?;
    Ok(())
}

/// Chooses the runs a claim takes, inside the claim's transaction: due
/// runs of `pool` locked `FOR UPDATE SKIP LOCKED`, under the limits.
pub(crate) async fn pg_choose(
    conn: &mut PgConnection,
    pool: &str,
    before: DateTime<Utc>,
    limit: u32,
    live_after: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Choice, StoreError> {
    let limits = sqlx::query(
        "SELECT (SELECT concurrency_limit FROM work_pools WHERE name = $1) AS pool_limit,
            EXISTS (SELECT 1 FROM deployments WHERE concurrency_limit IS NOT NULL) AS limited",
    )
    .bind(pool)
    .fetch_one(&mut *conn)
    .await
    .map_err(db)?;
    let pool_limit: Option<i64> = limits.try_get("pool_limit").map_err(db)?;
    let deployments_limited: bool = limits.try_get("limited").map_err(db)?;
    if pool_limit.is_some() {
        advisory_lock(conn, &format!("weft-claim-pool:{pool}")).await?;
    }
    let fetch = if pool_limit.is_some() || deployments_limited {
        limit.saturating_add(LOOKAHEAD)
    } else {
        limit
    };
    let mut q = crate::query::Sql::new(
        crate::query::Dialect::Postgres,
        &format!(
            "SELECT r.id, r.deployment_id, r.state_name, {} AS due FROM flow_runs r",
            reads::DUE
        ),
    );
    reads::due_conditions(&mut q, pool, before);
    q.push(&format!(" ORDER BY {} ASC, r.id ASC LIMIT ", reads::DUE))
        .bind(i64::from(fetch))
        .push(" FOR UPDATE OF r SKIP LOCKED");
    let rows = sqlx::query_with(&q.text, crate::query::pg_args(&q.args)?)
        .fetch_all(&mut *conn)
        .await
        .map_err(db)?;
    let mut candidates = Vec::with_capacity(rows.len());
    for r in rows {
        candidates.push(Candidate {
            id: r.try_get("id").map_err(db)?,
            deployment_id: r.try_get("deployment_id").map_err(db)?,
            state_name: r.try_get("state_name").map_err(db)?,
            due: r.try_get("due").map_err(db)?,
        });
    }
    let mut rooms = Rooms::default();
    if deployments_limited {
        let mut ids: Vec<String> = candidates
            .iter()
            .filter_map(|c| c.deployment_id.clone())
            .collect();
        ids.sort();
        ids.dedup();
        let limited = sqlx::query(
            "SELECT id, concurrency_limit FROM deployments
             WHERE id = ANY($1) AND concurrency_limit IS NOT NULL ORDER BY id",
        )
        .bind(&ids)
        .fetch_all(&mut *conn)
        .await
        .map_err(db)?;
        for d in limited {
            let id: String = d.try_get("id").map_err(db)?;
            advisory_lock(conn, &format!("weft-claim-deployment:{id}")).await?;
            let active = pg_active(conn, "deployment_id", &id, live_after).await?;
            if let Some(r) = room(d.try_get("concurrency_limit").map_err(db)?, active) {
                rooms.deployments.insert(id, r);
            }
        }
    }
    if pool_limit.is_some() {
        let active = pg_active(conn, "work_pool_name", pool, live_after).await?;
        rooms.pool = room(pool_limit, active);
    }
    Ok(choose(candidates, rooms, limit, pool, now))
}

/// Claimed, live runs in an active state whose `column` is `value`.
async fn pg_active(
    conn: &mut PgConnection,
    column: &'static str,
    value: &str,
    live_after: DateTime<Utc>,
) -> Result<i64, StoreError> {
    let sql = format!(
        "SELECT count(*) AS n FROM flow_runs WHERE {column} = $1 AND state_type IN {ACTIVE_STATES}
         AND worker_name IS NOT NULL AND heartbeat >= $2"
    );
    let row = sqlx::query(&sql)
        .bind(value)
        .bind(live_after)
        .fetch_one(&mut *conn)
        .await
        .map_err(db)?;
    row.try_get("n").map_err(db)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cand(id: &str, deployment: Option<&str>) -> Candidate {
        Candidate {
            id: id.into(),
            deployment_id: deployment.map(String::from),
            state_name: "Scheduled".into(),
            due: Utc::now(),
        }
    }

    #[test]
    fn deployment_limits_skip_to_runs_with_room() {
        let mut rooms = Rooms::default();
        rooms.deployments.insert(
            "d1".into(),
            Room {
                limit: 1,
                active: 0,
            },
        );
        let c = vec![
            cand("a", Some("d1")),
            cand("b", Some("d1")),
            cand("c", None),
        ];
        let choice = choose(c, rooms, 10, "p", Utc::now());
        assert_eq!(choice.take, ["a", "c"]);
        assert_eq!(choice.wait.len(), 1);
        assert_eq!(choice.wait[0].0.run_id, "b");
        assert_eq!(choice.wait[0].0.state.name, AWAITING_SLOT);
        assert!(choice.wait[0].1.message.contains("limit of 1"));
    }

    #[test]
    fn a_full_pool_takes_nothing_and_waiting_runs_are_marked_once() {
        let rooms = Rooms {
            pool: Some(Room {
                limit: 2,
                active: 2,
            }),
            ..Rooms::default()
        };
        let mut again = cand("b", None);
        again.state_name = AWAITING_SLOT.into();
        let choice = choose(vec![cand("a", None), again], rooms, 5, "p", Utc::now());
        assert!(choice.take.is_empty());
        assert_eq!(choice.wait.len(), 1, "b already waits");
        assert!(choice.wait[0].1.message.contains("\"p\""));
    }

    #[test]
    fn the_claim_limit_stops_the_walk() {
        let choice = choose(
            vec![cand("a", None), cand("b", None)],
            Rooms::default(),
            1,
            "p",
            Utc::now(),
        );
        assert_eq!(choice.take, ["a"]);
    }
}

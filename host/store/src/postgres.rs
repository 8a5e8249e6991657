//! The Postgres backend: the store many servers and workers share.
//!
//! Reads are the shared queries of `reads` on a connection pool. The hot
//! writes (runs, states, logs) are group-committed by `pg_batch`; the
//! others go straight through the pool, each in its own transaction. Claiming uses `SELECT ... FOR UPDATE SKIP LOCKED`,
//! checked state changes `SELECT ... FOR UPDATE`, so concurrent servers
//! never hand one run to two workers. Timestamps keep microseconds.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Connection, PgConnection, PgPool, Postgres, Transaction};
use uuid::Uuid;
use weft_core::{
    CacheEntry, ComponentRecord, ConcurrencyLimit, Deployment, FlowRun, Lease, LogEntry, SlotGrant,
    SlotRequest, State, StateType, TaskRun, Variable, WorkPool, Worker,
};

use crate::concurrency::LimitKey;
use crate::pg_batch::{Batcher, BoxFuture, Out, Write};
use crate::query::{Dialect, Reader, Sql, pg_args};
use crate::reads;
use crate::rows::{
    CacheInsert, DeploymentRow, FlowRunInsert, LogInsert, StateInsert, StateUpdate, TaskRunInsert,
    VariableRow, WorkPoolRow,
};
use crate::{
    DeploymentFilter, Flow, FlowRunFilter, LogFilter, RecordError, RunRecorder, SecretKey, Store,
    StoreError, TaskRunFilter, Transition, VariableFilter, WorkPoolFilter,
};

/// The migrations of the Postgres schema.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// Connections in the pool.
pub const MAX_CONNECTIONS: u32 = 16;

/// Weft's store on a Postgres database. Cheap to clone.
#[derive(Debug, Clone)]
pub struct PgStore {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    pool: PgPool,
    batch: Batcher,
    reads: Reader,
    key: SecretKey,
    waiters: crate::concurrency::SlotWaiters,
}

/// A Postgres error as a store error: foreign-key violations are
/// `NotFound` (named by `what`), unique violations `Conflict`.
fn classify(e: sqlx::Error, what: impl FnOnce() -> String) -> StoreError {
    if let sqlx::Error::Database(db) = &e {
        match db.code().as_deref() {
            Some("23503") => return StoreError::NotFound(what()),
            Some("23505") => return StoreError::Conflict(db.message().to_string()),
            _ => {}
        }
    }
    StoreError::Database(e)
}

async fn exec(conn: &mut PgConnection, q: &Sql) -> Result<u64, sqlx::Error> {
    let args = pg_args(&q.args).map_err(|e| sqlx::Error::Protocol(e.to_string()))?;
    Ok(sqlx::query_with(&q.text, args)
        .execute(conn)
        .await?
        .rows_affected())
}

const INSERT_FLOW: &str =
    "INSERT INTO flows (id, name, created) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING";

const INSERT_TASK_RUN_STATE: &str = "\
INSERT INTO task_run_states (id, task_run_id, type, name, timestamp, message, data, scheduled_time)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (id) DO NOTHING";

/// The part of the state-change statements below that makes the state
/// inserted by their `new_state` CTE current on the flow run `$1`.
macro_rules! make_flow_run_state_current {
    () => {
        "UPDATE flow_runs SET state_id = $2, state_type = $3, state_name = $4,
    state_timestamp = $5, state_scheduled_time = $8,
    run_count = run_count + $6,
    start_time = CASE WHEN $6 = 1 THEN COALESCE(start_time, $5) ELSE start_time END,
    end_time = CASE WHEN $7 = 1 THEN $5 ELSE end_time END,
    worker_name = CASE WHEN $3 = 'SCHEDULED' AND state_type IN ('COMPLETED', 'FAILED',
        'CANCELLED', 'CRASHED') THEN NULL ELSE worker_name END
WHERE id = $1 AND EXISTS (SELECT 1 FROM new_state)"
    };
}

/// Records a flow run's new state and makes it current, in one statement:
/// `$1` run, `$2` state id, `$3` type, `$4` name, `$5` timestamp, `$6`
/// running (1/0), `$7` terminal (1/0), `$8` scheduled time, `$9` message,
/// `$10` data. A state id already recorded (a replay) changes nothing. A
/// run leaving a final state for a SCHEDULED one (a retry, e.g. from the
/// UI) loses its claimer, so its pool claims it again.
const SET_FLOW_RUN_STATE: &str = concat!(
    "WITH new_state AS (
    INSERT INTO flow_run_states (id, flow_run_id, type, name, timestamp, message, data,
        scheduled_time)
    VALUES ($2, $1, $3, $4, $5, $9, $10, $8) ON CONFLICT (id) DO NOTHING RETURNING 1)
",
    make_flow_run_state_current!()
);

/// [`SET_FLOW_RUN_STATE`] applied only when the run's current state type
/// is one of `$11` (the types the orchestration rules let it leave for
/// this state), whose row it locks.
const SET_FLOW_RUN_STATE_CHECKED: &str = concat!(
    "WITH allowed AS (
    SELECT id FROM flow_runs WHERE id = $1 AND state_type = ANY($11) FOR UPDATE),
new_state AS (
    INSERT INTO flow_run_states (id, flow_run_id, type, name, timestamp, message, data,
        scheduled_time)
    SELECT $2::text, id, $3::text, $4::text, $5::timestamptz, $9::text, $10::text,
        $8::timestamptz
    FROM allowed
    ON CONFLICT (id) DO NOTHING RETURNING 1)
",
    make_flow_run_state_current!()
);

/// Several states of the flow run `$1` recorded and the last one made
/// current, in one statement, when its current state type is one of `$2`
/// and the first state (id `$13`) is not recorded yet (they are recorded
/// together or not at all): `$3` to `$9` are the states' ids, types,
/// names, timestamps, messages, data and scheduled times (in order); `$10`
/// is how many are RUNNING, `$11` the first RUNNING one's timestamp, `$12`
/// the last terminal one's. Returns how many states it recorded, and no
/// row when it changed nothing. (Used only when every step is allowed
/// after the one before and none is SCHEDULED.)
const SET_FLOW_RUN_STATES_CHECKED: &str = "\
WITH allowed AS (
    SELECT id FROM flow_runs WHERE id = $1 AND state_type = ANY($2)
    AND NOT EXISTS (SELECT 1 FROM flow_run_states WHERE id = $13) FOR UPDATE),
new_states AS (
    INSERT INTO flow_run_states (id, flow_run_id, type, name, timestamp, message, data,
        scheduled_time)
    SELECT s.id, a.id, s.type, s.name, s.ts, s.message, s.data, s.scheduled
    FROM allowed a, unnest($3::text[], $4::text[], $5::text[], $6::timestamptz[], $7::text[],
        $8::text[], $9::timestamptz[]) WITH ORDINALITY AS s(id, type, name, ts, message, data,
        scheduled, n)
    ORDER BY s.n
    ON CONFLICT (id) DO NOTHING RETURNING 1),
last AS (
    SELECT * FROM unnest($3::text[], $4::text[], $5::text[], $6::timestamptz[],
        $9::timestamptz[]) WITH ORDINALITY AS l(id, type, name, ts, scheduled, n)
    ORDER BY l.n DESC LIMIT 1)
UPDATE flow_runs r SET state_id = l.id, state_type = l.type, state_name = l.name,
    state_timestamp = l.ts, state_scheduled_time = l.scheduled,
    run_count = run_count + $10,
    start_time = COALESCE(start_time, $11),
    end_time = COALESCE($12, end_time)
FROM last l
WHERE r.id = $1 AND EXISTS (SELECT 1 FROM allowed)
RETURNING (SELECT count(*) FROM new_states)";

/// [`SET_FLOW_RUN_STATE`] for task runs.
const SET_TASK_RUN_STATE: &str = "\
WITH new_state AS (
    INSERT INTO task_run_states (id, task_run_id, type, name, timestamp, message, data,
        scheduled_time)
    VALUES ($2, $1, $3, $4, $5, $9, $10, $8) ON CONFLICT (id) DO NOTHING RETURNING 1)
UPDATE task_runs SET state_id = $2, state_type = $3, state_name = $4, state_timestamp = $5,
    run_count = run_count + $6,
    start_time = CASE WHEN $6 = 1 THEN COALESCE(start_time, $5) ELSE start_time END,
    end_time = CASE WHEN $7 = 1 THEN $5 ELSE end_time END
WHERE id = $1 AND EXISTS (SELECT 1 FROM new_state)";

/// A claim of the runs `$1`: each gets a Pending state (ids `$2`, type
/// `$3`, name `$4`, timestamp `$5`, message `$6`) and the claimer `$7`, in
/// one statement.
const CLAIM_FLOW_RUNS: &str = "\
WITH pending AS (
    INSERT INTO flow_run_states (id, flow_run_id, type, name, timestamp, message)
    SELECT c.state_id, c.run_id, $3, $4, $5, $6
    FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS c(run_id, state_id, n)
    ORDER BY c.n
    RETURNING flow_run_id, id)
UPDATE flow_runs r SET state_id = p.id, state_type = $3, state_name = $4, state_timestamp = $5,
    state_scheduled_time = NULL, worker_name = $7, heartbeat = $5
FROM pending p WHERE r.id = p.flow_run_id";

const TERMINAL: &str = "('COMPLETED', 'FAILED', 'CANCELLED', 'CRASHED')";

/// Appends a state and makes it current (a state id already recorded is
/// ignored); `flow` picks flow or task runs.
async fn set_state(
    conn: &mut PgConnection,
    u: &StateUpdate,
    flow: bool,
) -> Result<u64, StoreError> {
    let what = || format!("{} run {}", if flow { "flow" } else { "task" }, u.run_id);
    Ok(bind_state(
        sqlx::query(if flow {
            SET_FLOW_RUN_STATE
        } else {
            SET_TASK_RUN_STATE
        }),
        u,
    )
    .execute(&mut *conn)
    .await
    .map_err(|e| classify(e, what))?
    .rows_affected())
}

/// Binds `$1` to `$10` of the state-change statements to `u`.
fn bind_state<'q>(
    q: sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments>,
    u: &'q StateUpdate,
) -> sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments> {
    let s = &u.state;
    q.bind(&u.run_id)
        .bind(&s.id)
        .bind(s.state_type)
        .bind(&s.name)
        .bind(s.timestamp)
        .bind(s.running)
        .bind(s.terminal)
        .bind(s.scheduled_time)
        .bind(&s.message)
        .bind(&s.data)
}

/// A state made by the store itself (it has no data).
pub(crate) fn state_insert(state: &State) -> StateInsert {
    StateInsert {
        id: state.id.hyphenated().to_string(),
        state_type: state.state_type.as_str(),
        name: state.name.clone(),
        timestamp: state.timestamp,
        message: state.message.clone(),
        data: None,
        scheduled_time: state.scheduled_time,
        running: 0,
        terminal: 0,
    }
}

fn deployment_sql(sql: &str, d: &DeploymentRow) -> Sql {
    let mut q = Sql::new(Dialect::Postgres, sql);
    q.args = vec![
        d.id.clone().into(),
        d.name.clone().into(),
        d.flow_name.clone().into(),
        d.component_digest.clone().into(),
        d.description.clone().into(),
        d.parameters.clone().into(),
        d.tags.clone().into(),
        d.work_pool_name.clone().into(),
        d.schedules.clone().into(),
        d.limits.clone().into(),
        d.allowed_secrets.clone().into(),
        d.paused.into(),
        d.concurrency_limit.into(),
        d.created.into(),
        d.updated.into(),
    ];
    q
}

/// Records a new run's first state (`sql` is the flow or task run
/// states insert); a state id already recorded is a conflict.
async fn insert_first_state(
    conn: &mut PgConnection,
    sql: &'static str,
    run_id: &str,
    s: &StateInsert,
) -> Result<(), StoreError> {
    let inserted = sqlx::query(sql)
        .bind(&s.id)
        .bind(run_id)
        .bind(s.state_type)
        .bind(&s.name)
        .bind(s.timestamp)
        .bind(&s.message)
        .bind(&s.data)
        .bind(s.scheduled_time)
        .execute(&mut *conn)
        .await?
        .rows_affected();
    if inserted != 1 {
        return Err(StoreError::Conflict(format!(
            "state {} is already recorded",
            s.id
        )));
    }
    Ok(())
}

/// A flow run's creation with its first state (always durable).
struct CreateFlowRun(FlowRunInsert);

impl Write for CreateFlowRun {
    fn apply<'c>(&'c self, conn: &'c mut PgConnection) -> BoxFuture<'c, Result<Out, StoreError>> {
        Box::pin(async move {
            let r = &self.0;
            let s = &r.state;
            let what = || format!("flow run {}", r.id);
            // One statement records the flow (a new one through the CTE,
            // whose row the outer insert cannot see yet, hence RETURNING;
            // an existing one by name), the first state and the run (the
            // state's foreign key is checked at the statement's end, when
            // the run is there). A state id already recorded inserts
            // nothing.
            let inserted = sqlx::query(
                "WITH new_flow AS (
                    INSERT INTO flows (id, name, created) VALUES ($20, $3, $9)
                    ON CONFLICT (name) DO NOTHING RETURNING id),
                 first_state AS (
                    INSERT INTO flow_run_states (id, flow_run_id, type, name, timestamp, message,
                        data, scheduled_time)
                    VALUES ($12, $1, $13, $14, $15, $21, $22, $19)
                    ON CONFLICT (id) DO NOTHING RETURNING 1)
                 INSERT INTO flow_runs (id, name, flow_id, flow_name, component_digest, deployment_name,
                    parameters, tags, run_count, created, start_time, end_time, state_id, state_type,
                    state_name, state_timestamp, deployment_id, work_pool_name, expected_start_time,
                    state_scheduled_time)
                 SELECT $1, $2, COALESCE((SELECT id FROM new_flow),
                        (SELECT id FROM flows WHERE name = $3)),
                    $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19
                 WHERE EXISTS (SELECT 1 FROM first_state)",
            )
            .bind(&r.id)
            .bind(&r.name)
            .bind(&r.flow_name)
            .bind(&r.component_digest)
            .bind(&r.deployment_name)
            .bind(&r.parameters)
            .bind(&r.tags)
            .bind(r.run_count)
            .bind(r.created)
            .bind(r.start_time)
            .bind(r.end_time)
            .bind(&s.id)
            .bind(s.state_type)
            .bind(&s.name)
            .bind(s.timestamp)
            .bind(&r.deployment_id)
            .bind(&r.work_pool_name)
            .bind(r.expected_start_time)
            .bind(s.scheduled_time)
            .bind(&r.new_flow_id)
            .bind(&s.message)
            .bind(&s.data)
            .execute(&mut *conn)
            .await
            .map_err(|e| classify(e, what))?
            .rows_affected();
            if inserted != 1 {
                return Err(StoreError::Conflict(format!(
                    "state {} is already recorded",
                    s.id
                )));
            }
            Ok(Out::Done)
        })
    }

    fn durable(&self) -> bool {
        true
    }

    fn atomic(&self) -> bool {
        true
    }
}

/// A task run's creation with its first state.
struct CreateTaskRun(TaskRunInsert);

impl Write for CreateTaskRun {
    fn apply<'c>(&'c self, conn: &'c mut PgConnection) -> BoxFuture<'c, Result<Out, StoreError>> {
        Box::pin(async move {
            let r = &self.0;
            let s = &r.state;
            let what = || format!("flow run {}", r.flow_run_id);
            sqlx::query(
                "INSERT INTO task_runs (id, flow_run_id, parent_task_run_id, task_key, dynamic_key, name,
                    input, cache_key, cache_expiration, tags, run_count, created, start_time, end_time,
                    state_id, state_type, state_name, state_timestamp)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)",
            )
            .bind(&r.id)
            .bind(&r.flow_run_id)
            .bind(&r.parent_task_run_id)
            .bind(&r.task_key)
            .bind(r.dynamic_key)
            .bind(&r.name)
            .bind(&r.input)
            .bind(&r.cache_key)
            .bind(r.cache_expiration)
            .bind(&r.tags)
            .bind(r.run_count)
            .bind(r.created)
            .bind(r.start_time)
            .bind(r.end_time)
            .bind(&s.id)
            .bind(s.state_type)
            .bind(&s.name)
            .bind(s.timestamp)
            .execute(&mut *conn)
            .await
            .map_err(|e| classify(e, what))?;
            insert_first_state(conn, INSERT_TASK_RUN_STATE, &r.id, s).await?;
            Ok(Out::Done)
        })
    }

    fn durable(&self) -> bool {
        self.0.state.terminal == 1
    }
}

/// The state types Prefect's rules let a flow run leave for one of type
/// `to`.
fn allowed_from(to: StateType, force: bool) -> Vec<&'static str> {
    StateType::ALL
        .into_iter()
        .filter(|from| crate::check_flow_run_transition(*from, to, force).is_ok())
        .map(StateType::as_str)
        .collect()
}

/// A flow or task run's new state; `checked` applies Prefect's rules
/// (with `force`) to a flow run's transition first.
struct SetState {
    update: StateUpdate,
    flow: bool,
    checked: Option<bool>,
}

impl SetState {
    fn plain(update: StateUpdate, flow: bool) -> SetState {
        SetState {
            update,
            flow,
            checked: None,
        }
    }
}

impl Write for SetState {
    fn apply<'c>(&'c self, conn: &'c mut PgConnection) -> BoxFuture<'c, Result<Out, StoreError>> {
        Box::pin(async move {
            let u = &self.update;
            let Some(force) = self.checked else {
                set_state(conn, u, self.flow).await?;
                return Ok(Out::Done);
            };
            let to = StateType::parse(u.state.state_type).ok_or_else(|| {
                StoreError::Decode(format!("unknown state type {:?}", u.state.state_type))
            })?;
            let allowed = allowed_from(to, force);
            let s = &u.state;
            // A run that moved into an allowed state between the change and
            // the read below is tried again.
            for _ in 0..3 {
                let changed = bind_state(sqlx::query(SET_FLOW_RUN_STATE_CHECKED), u)
                    .bind(&allowed)
                    .execute(&mut *conn)
                    .await
                    .map_err(|e| classify(e, || format!("flow run {}", u.run_id)))?
                    .rows_affected();
                if changed > 0 {
                    return Ok(Out::Done);
                }
                // Nothing changed: a refusal, a replayed state, or no such run.
                let current: Option<(String, String, bool)> = sqlx::query_as(
                    "SELECT state_id, state_type,
                        EXISTS (SELECT 1 FROM flow_run_states WHERE id = $2)
                     FROM flow_runs WHERE id = $1 FOR UPDATE",
                )
                .bind(&u.run_id)
                .bind(&s.id)
                .fetch_optional(&mut *conn)
                .await?;
                let Some((current_state_id, current_type, replayed)) = current else {
                    return Err(StoreError::NotFound(format!("flow run {}", u.run_id)));
                };
                let from = StateType::parse(&current_type).ok_or_else(|| {
                    StoreError::Decode(format!("unknown state type {current_type:?}"))
                })?;
                match crate::check_flow_run_transition(from, to, force) {
                    Err(reason) => {
                        return Ok(Out::Rejected {
                            current_state_id,
                            reason,
                        });
                    }
                    Ok(()) if replayed => return Ok(Out::Done),
                    Ok(()) => {}
                }
            }
            Err(StoreError::Transaction(format!(
                "flow run {} kept changing state while a new one was proposed",
                u.run_id
            )))
        })
    }

    fn durable(&self) -> bool {
        self.update.state.terminal == 1
    }

    /// One statement changes the state; a refusal is then only read.
    fn atomic(&self) -> bool {
        true
    }
}

/// Checked states of one flow run, in order, in one transaction; stops at
/// the first one refused.
struct SetStates(Vec<SetState>);

impl SetStates {
    /// Applies every state by one statement ([`SET_FLOW_RUN_STATES_CHECKED`])
    /// when that is the same as applying them one by one: several checked
    /// flow-run states, none SCHEDULED, each allowed after the one before.
    /// `false` when it did not apply them (nothing changed).
    async fn apply_at_once(&self, conn: &mut PgConnection) -> Result<bool, StoreError> {
        let [first, rest @ ..] = self.0.as_slice() else {
            return Ok(false);
        };
        let Some(force) = first.checked else {
            return Ok(false);
        };
        let mut types = Vec::with_capacity(self.0.len());
        for w in &self.0 {
            let t = StateType::parse(w.update.state.state_type);
            match t {
                Some(t) if w.flow && w.checked == Some(force) && t != StateType::Scheduled => {
                    types.push(t)
                }
                _ => return Ok(false),
            }
        }
        if rest.is_empty()
            || types
                .windows(2)
                .any(|p| crate::check_flow_run_transition(p[0], p[1], force).is_err())
        {
            return Ok(false);
        }
        let states: Vec<&StateInsert> = self.0.iter().map(|w| &w.update.state).collect();
        let first_running = states.iter().find(|s| s.running == 1).map(|s| s.timestamp);
        let last_terminal = states
            .iter()
            .rev()
            .find(|s| s.terminal == 1)
            .map(|s| s.timestamp);
        let recorded: Option<i64> = sqlx::query_scalar(SET_FLOW_RUN_STATES_CHECKED)
            .bind(&first.update.run_id)
            .bind(allowed_from(types[0], force))
            .bind(states.iter().map(|s| s.id.as_str()).collect::<Vec<_>>())
            .bind(states.iter().map(|s| s.state_type).collect::<Vec<_>>())
            .bind(states.iter().map(|s| s.name.as_str()).collect::<Vec<_>>())
            .bind(states.iter().map(|s| s.timestamp).collect::<Vec<_>>())
            .bind(
                states
                    .iter()
                    .map(|s| s.message.as_deref())
                    .collect::<Vec<_>>(),
            )
            .bind(states.iter().map(|s| s.data.as_deref()).collect::<Vec<_>>())
            .bind(states.iter().map(|s| s.scheduled_time).collect::<Vec<_>>())
            .bind(states.iter().map(|s| s.running).sum::<i64>())
            .bind(first_running)
            .bind(last_terminal)
            .bind(&first.update.state.id)
            .fetch_optional(&mut *conn)
            .await
            .map_err(|e| classify(e, || format!("flow run {}", first.update.run_id)))?;
        match recorded {
            None => Ok(false),
            Some(n) if n == states.len() as i64 => Ok(true),
            // Another transaction recorded one of the ids meanwhile: the
            // call fails whole (its transaction is rolled back).
            Some(_) => Err(StoreError::Transaction(format!(
                "a state of flow run {} was recorded twice at once",
                first.update.run_id
            ))),
        }
    }
}

impl Write for SetStates {
    fn apply<'c>(&'c self, conn: &'c mut PgConnection) -> BoxFuture<'c, Result<Out, StoreError>> {
        Box::pin(async move {
            if self.apply_at_once(&mut *conn).await? {
                return Ok(Out::Done);
            }
            // One by one, in a transaction of their own (a savepoint
            // inside a batch's).
            let mut tx = conn.begin().await?;
            let mut out = Out::Done;
            for (applied, write) in self.0.iter().enumerate() {
                if let Out::Rejected {
                    current_state_id,
                    reason,
                } = write.apply(&mut tx).await?
                {
                    out = Out::Stopped {
                        applied,
                        current_state_id,
                        reason,
                    };
                    break;
                }
            }
            tx.commit().await?;
            Ok(out)
        })
    }

    fn durable(&self) -> bool {
        self.0.iter().any(Write::durable)
    }

    fn atomic(&self) -> bool {
        true
    }
}

/// Log lines (progress: not durable on their own).
struct WriteLogs(Vec<LogInsert>);

impl Write for WriteLogs {
    fn apply<'c>(&'c self, conn: &'c mut PgConnection) -> BoxFuture<'c, Result<Out, StoreError>> {
        Box::pin(async move {
            let rows = &self.0;
            for chunk in rows.chunks(1000) {
                let mut q = Sql::new(
                    Dialect::Postgres,
                    "INSERT INTO logs (flow_run_id, task_run_id, name, level, message, timestamp) VALUES ",
                );
                for (i, l) in chunk.iter().enumerate() {
                    if i > 0 {
                        q.push(", ");
                    }
                    q.push("(")
                        .bind(l.flow_run_id.clone())
                        .push(", ")
                        .bind(l.task_run_id.clone())
                        .push(", ")
                        .bind(l.name.clone())
                        .push(", ")
                        .bind(l.level)
                        .push(", ")
                        .bind(l.message.clone())
                        .push(", ")
                        .bind(l.timestamp)
                        .push(")");
                }
                exec(&mut *conn, &q)
                    .await
                    .map_err(|e| classify(e, || format!("flow run {}", chunk[0].flow_run_id)))?;
            }
            Ok(Out::Done)
        })
    }

    fn durable(&self) -> bool {
        false
    }
}

impl PgStore {
    /// Connects to the database at `url` (`postgres://...`), applies the
    /// migrations and returns the store; secrets are encrypted with `key`.
    pub async fn connect(url: &str, key: SecretKey) -> Result<PgStore, StoreError> {
        let options: PgConnectOptions = url
            .parse()
            .map_err(|e| StoreError::Invalid(format!("bad Postgres URL: {e}")))?;
        let pool = PgPoolOptions::new()
            .max_connections(MAX_CONNECTIONS)
            // A broken connection fails its query (and is dropped); a ping
            // before every use would cost a round trip per query.
            .test_before_acquire(false)
            .connect_with(options)
            .await?;
        MIGRATOR.run(&pool).await?;
        tracing::debug!("connected to Postgres store");
        Ok(PgStore {
            inner: Arc::new(Inner {
                reads: Reader::Postgres(pool.clone()),
                batch: Batcher::start(&pool),
                pool,
                key,
                waiters: Default::default(),
            }),
        })
    }

    /// Closes the pool. Later calls fail.
    pub async fn close(&self) -> Result<(), StoreError> {
        self.inner.pool.close().await;
        Ok(())
    }

    fn reads(&self) -> &Reader {
        &self.inner.reads
    }

    async fn begin(&self) -> Result<Transaction<'static, Postgres>, StoreError> {
        Ok(self.inner.pool.begin().await?)
    }

    async fn run(&self, q: Sql, what: impl FnOnce() -> String) -> Result<u64, StoreError> {
        let mut conn = self.inner.pool.acquire().await?;
        exec(&mut conn, &q).await.map_err(|e| classify(e, what))
    }

    fn sql(&self, text: &str) -> Sql {
        Sql::new(Dialect::Postgres, text)
    }
}

#[async_trait]
impl RunRecorder for PgStore {
    async fn create_flow_run(&self, run: &FlowRun) -> Result<(), RecordError> {
        let r = FlowRunInsert::from_model(run)?;
        let key = r.id.clone();
        self.inner.batch.call(&key, CreateFlowRun(r)).await?;
        Ok(())
    }

    async fn set_flow_run_state(
        &self,
        flow_run_id: Uuid,
        state: &State,
    ) -> Result<(), RecordError> {
        let u = StateUpdate::new(flow_run_id, state)?;
        let key = u.run_id.clone();
        self.inner
            .batch
            .call(&key, SetState::plain(u, true))
            .await?;
        Ok(())
    }

    async fn create_task_run(&self, run: &TaskRun) -> Result<(), RecordError> {
        let r = TaskRunInsert::from_model(run)?;
        let key = r.id.clone();
        self.inner.batch.call(&key, CreateTaskRun(r)).await?;
        Ok(())
    }

    async fn set_task_run_state(
        &self,
        task_run_id: Uuid,
        state: &State,
    ) -> Result<(), RecordError> {
        let u = StateUpdate::new(task_run_id, state)?;
        let key = u.run_id.clone();
        self.inner
            .batch
            .call(&key, SetState::plain(u, false))
            .await?;
        Ok(())
    }

    async fn write_logs(&self, entries: Vec<LogEntry>) -> Result<(), RecordError> {
        let Some(first) = entries.first() else {
            return Ok(());
        };
        let key = first.flow_run_id.hyphenated().to_string();
        let rows: Vec<LogInsert> = entries.into_iter().map(LogInsert::from_model).collect();
        self.inner.batch.call(&key, WriteLogs(rows)).await?;
        Ok(())
    }

    async fn read_cache(&self, key: &str) -> Result<Option<CacheEntry>, RecordError> {
        Ok(reads::cache_entry(self.reads(), key).await?)
    }

    async fn write_cache(&self, entry: &CacheEntry) -> Result<(), RecordError> {
        let c = CacheInsert::from_model(entry)?;
        sqlx::query(
            "INSERT INTO cache_entries (key, value, created, expiration, task_run_id)
             VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value, created = excluded.created,
                expiration = excluded.expiration, task_run_id = excluded.task_run_id",
        )
        .bind(&c.key)
        .bind(&c.value)
        .bind(c.created)
        .bind(c.expiration)
        .bind(&c.task_run_id)
        .execute(&self.inner.pool)
        .await
        .map_err(StoreError::from)?;
        Ok(())
    }

    async fn read_secret(&self, name: &str) -> Result<Option<String>, RecordError> {
        let Some(sealed) = reads::sealed_secret(self.reads(), name).await? else {
            return Ok(None);
        };
        Ok(Some(self.inner.key.decrypt(name, &sealed)?))
    }

    async fn acquire_slots(&self, request: &SlotRequest) -> Result<SlotGrant, RecordError> {
        let pool = &self.inner.pool;
        let grant = self
            .inner
            .waiters
            .acquire(request, || {
                crate::concurrency::pg_try_acquire(pool, request)
            })
            .await?;
        Ok(grant)
    }

    async fn renew_lease(
        &self,
        lease_id: Uuid,
        lease: std::time::Duration,
    ) -> Result<bool, RecordError> {
        Ok(crate::concurrency::pg_renew(&self.inner.pool, lease_id, lease).await?)
    }

    async fn release_lease(&self, lease_id: Uuid) -> Result<(), RecordError> {
        crate::concurrency::pg_release(&self.inner.pool, lease_id).await?;
        self.inner.waiters.released();
        Ok(())
    }
}

#[async_trait]
impl Store for PgStore {
    async fn read_flow_run(&self, id: Uuid) -> Result<Option<FlowRun>, StoreError> {
        reads::flow_run(self.reads(), id).await
    }

    async fn find_flow_run(
        &self,
        id_or_name_or_prefix: &str,
    ) -> Result<Option<FlowRun>, StoreError> {
        reads::find_flow_run(self.reads(), id_or_name_or_prefix).await
    }

    async fn list_flow_runs(&self, filter: &FlowRunFilter) -> Result<Vec<FlowRun>, StoreError> {
        reads::list_flow_runs(self.reads(), filter).await
    }

    async fn count_flow_runs(&self, filter: &FlowRunFilter) -> Result<u64, StoreError> {
        reads::count_flow_runs(self.reads(), filter).await
    }

    async fn read_flow_run_states(&self, flow_run_id: Uuid) -> Result<Vec<State>, StoreError> {
        reads::flow_run_states(self.reads(), flow_run_id).await
    }

    async fn read_task_run(&self, id: Uuid) -> Result<Option<TaskRun>, StoreError> {
        reads::task_run(self.reads(), id).await
    }

    async fn list_task_runs(&self, filter: &TaskRunFilter) -> Result<Vec<TaskRun>, StoreError> {
        reads::list_task_runs(self.reads(), filter).await
    }

    async fn read_task_run_states(&self, task_run_id: Uuid) -> Result<Vec<State>, StoreError> {
        reads::task_run_states(self.reads(), task_run_id).await
    }

    async fn read_logs(&self, filter: &LogFilter) -> Result<Vec<LogEntry>, StoreError> {
        reads::logs(self.reads(), filter).await
    }

    async fn list_flows(&self) -> Result<Vec<Flow>, StoreError> {
        reads::flows(self.reads()).await
    }

    async fn set_secret(&self, name: &str, value: &str) -> Result<(), StoreError> {
        let sealed = self.inner.key.encrypt(name, value)?;
        sqlx::query(
            "INSERT INTO secrets (name, value, created, updated) VALUES ($1, $2, $3, $3)
             ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated = excluded.updated",
        )
        .bind(name)
        .bind(sealed)
        .bind(Utc::now())
        .execute(&self.inner.pool)
        .await?;
        Ok(())
    }

    async fn list_secret_names(&self) -> Result<Vec<String>, StoreError> {
        reads::secret_names(self.reads()).await
    }

    async fn delete_secret(&self, name: &str) -> Result<bool, StoreError> {
        let mut q = self.sql("DELETE FROM secrets WHERE name = ");
        q.bind(name);
        Ok(self.run(q, String::new).await? > 0)
    }

    async fn list_cache(&self, limit: u32, offset: u32) -> Result<Vec<CacheEntry>, StoreError> {
        reads::cache_entries(self.reads(), limit, offset).await
    }

    async fn delete_cache(&self, key: &str) -> Result<bool, StoreError> {
        let mut q = self.sql("DELETE FROM cache_entries WHERE key = ");
        q.bind(key);
        Ok(self.run(q, String::new).await? > 0)
    }

    async fn upsert_flow(&self, name: &str) -> Result<(Flow, bool), StoreError> {
        crate::common::flow_name_ok(name)?;
        let created = sqlx::query(INSERT_FLOW)
            .bind(Uuid::now_v7().hyphenated().to_string())
            .bind(name)
            .bind(Utc::now())
            .execute(&self.inner.pool)
            .await?
            .rows_affected()
            > 0;
        let flow = self
            .read_flow_by_name(name)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("flow {name:?}")))?;
        Ok((flow, created))
    }

    async fn read_flow(&self, id: Uuid) -> Result<Option<Flow>, StoreError> {
        reads::flow_by(self.reads(), "id", reads::id(id)).await
    }

    async fn read_flow_by_name(&self, name: &str) -> Result<Option<Flow>, StoreError> {
        reads::flow_by(self.reads(), "name", name.to_string()).await
    }

    async fn delete_flow_run(&self, id: Uuid) -> Result<bool, StoreError> {
        let mut q = self.sql("DELETE FROM flow_runs WHERE id = ");
        q.bind(reads::id(id));
        Ok(self.run(q, String::new).await? > 0)
    }

    async fn set_flow_run_state_checked(
        &self,
        id: Uuid,
        state: &State,
        force: bool,
    ) -> Result<Transition, StoreError> {
        let u = StateUpdate::new(id, state)?;
        let key = u.run_id.clone();
        let write = SetState {
            update: u,
            flow: true,
            checked: Some(force),
        };
        match self.inner.batch.call(&key, write).await? {
            Out::Rejected {
                current_state_id,
                reason,
            } => {
                let current = reads::flow_run_state(self.reads(), &current_state_id)
                    .await?
                    .ok_or_else(|| StoreError::NotFound(format!("state {current_state_id}")))?;
                Ok(Transition::Rejected { current, reason })
            }
            Out::Done => Ok(Transition::Accepted(state.clone())),
            Out::Stopped { .. } => Err(StoreError::Transaction(
                "a single state change reported several".into(),
            )),
        }
    }

    async fn set_flow_run_states_checked(
        &self,
        id: Uuid,
        states: &[State],
        force: bool,
    ) -> Result<Vec<Transition>, StoreError> {
        let writes = states
            .iter()
            .map(|s| {
                Ok(SetState {
                    update: StateUpdate::new(id, s)?,
                    flow: true,
                    checked: Some(force),
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        let key = id.hyphenated().to_string();
        let (applied, current_state_id, reason) =
            match self.inner.batch.call(&key, SetStates(writes)).await? {
                Out::Done => {
                    return Ok(states.iter().cloned().map(Transition::Accepted).collect());
                }
                Out::Stopped {
                    applied,
                    current_state_id,
                    reason,
                } => (applied, current_state_id, reason),
                Out::Rejected {
                    current_state_id,
                    reason,
                } => (0, current_state_id, reason),
            };
        let current = reads::flow_run_state(self.reads(), &current_state_id)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("state {current_state_id}")))?;
        let mut out: Vec<Transition> = states[..applied]
            .iter()
            .cloned()
            .map(Transition::Accepted)
            .collect();
        out.push(Transition::Rejected { current, reason });
        Ok(out)
    }

    async fn create_deployment(&self, deployment: &Deployment) -> Result<Deployment, StoreError> {
        let row = DeploymentRow::from_model(deployment)?;
        let q = deployment_sql(
            "INSERT INTO deployments (id, name, flow_name, component_digest, description, parameters,
                tags, work_pool_name, schedules, limits, allowed_secrets, paused, concurrency_limit,
                created, updated)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
             ON CONFLICT (flow_name, name) DO UPDATE SET component_digest = excluded.component_digest,
                description = excluded.description, parameters = excluded.parameters,
                tags = excluded.tags, work_pool_name = excluded.work_pool_name,
                schedules = excluded.schedules, limits = excluded.limits,
                allowed_secrets = excluded.allowed_secrets, paused = excluded.paused,
                concurrency_limit = excluded.concurrency_limit, updated = excluded.updated",
            &row,
        );
        self.run(q, || format!("deployment {}", row.id)).await?;
        self.read_deployment_by_name(&deployment.flow_name, &deployment.name)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("deployment {}", deployment.name)))
    }

    async fn read_deployment(&self, id: Uuid) -> Result<Option<Deployment>, StoreError> {
        reads::deployment(self.reads(), Some(id), None).await
    }

    async fn read_deployment_by_name(
        &self,
        flow_name: &str,
        name: &str,
    ) -> Result<Option<Deployment>, StoreError> {
        reads::deployment(self.reads(), None, Some((flow_name, name))).await
    }

    async fn update_deployment(&self, deployment: &Deployment) -> Result<bool, StoreError> {
        let mut row = DeploymentRow::from_model(deployment)?;
        row.updated = Utc::now();
        // $14 (created) is bound and unused so the parameters line up.
        let q = deployment_sql(
            "UPDATE deployments SET name = $2, flow_name = $3, component_digest = $4,
                description = $5, parameters = $6, tags = $7, work_pool_name = $8, schedules = $9,
                limits = $10, allowed_secrets = $11, paused = $12, concurrency_limit = $13,
                updated = $15
             WHERE id = $1 AND $14::timestamptz IS NOT NULL",
            &row,
        );
        let n = self.run(q, String::new).await.map_err(|e| {
            crate::common::conflict(e, || {
                format!(
                    "a deployment {:?} of flow {:?} already exists",
                    deployment.name, deployment.flow_name
                )
            })
        })?;
        Ok(n > 0)
    }

    async fn delete_deployment(&self, id: Uuid) -> Result<bool, StoreError> {
        let mut q = self.sql("DELETE FROM deployments WHERE id = ");
        q.bind(reads::id(id));
        Ok(self.run(q, String::new).await? > 0)
    }

    async fn list_deployments(
        &self,
        filter: &DeploymentFilter,
    ) -> Result<Vec<Deployment>, StoreError> {
        reads::deployments(self.reads(), filter).await
    }

    async fn create_work_pool(&self, pool: &WorkPool) -> Result<WorkPool, StoreError> {
        let p = WorkPoolRow::from_model(pool)?;
        sqlx::query(
            "INSERT INTO work_pools (id, name, pool_type, description, is_paused, concurrency_limit,
                created, updated) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&p.id)
        .bind(&p.name)
        .bind(&p.pool_type)
        .bind(&p.description)
        .bind(p.is_paused)
        .bind(p.concurrency_limit)
        .bind(p.created)
        .bind(p.updated)
        .execute(&self.inner.pool)
        .await
        .map_err(|e| {
            crate::common::conflict(classify(e, String::new), || {
                format!("a work pool named {:?} already exists", pool.name)
            })
        })?;
        self.read_work_pool(&pool.name)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("work pool {:?}", pool.name)))
    }

    async fn read_work_pool(&self, name: &str) -> Result<Option<WorkPool>, StoreError> {
        reads::work_pool(self.reads(), name).await
    }

    async fn update_work_pool(&self, pool: &WorkPool) -> Result<bool, StoreError> {
        let p = WorkPoolRow::from_model(pool)?;
        Ok(sqlx::query(
            "UPDATE work_pools SET pool_type = $2, description = $3, is_paused = $4,
                concurrency_limit = $5, updated = $6 WHERE name = $1",
        )
        .bind(&p.name)
        .bind(&p.pool_type)
        .bind(&p.description)
        .bind(p.is_paused)
        .bind(p.concurrency_limit)
        .bind(Utc::now())
        .execute(&self.inner.pool)
        .await?
        .rows_affected()
            > 0)
    }

    async fn delete_work_pool(&self, name: &str) -> Result<bool, StoreError> {
        Ok(sqlx::query(
            "WITH gone AS (DELETE FROM workers WHERE work_pool_name = $1)
            DELETE FROM work_pools WHERE name = $1",
        )
        .bind(name)
        .execute(&self.inner.pool)
        .await?
        .rows_affected()
            > 0)
    }

    async fn list_work_pools(&self, filter: &WorkPoolFilter) -> Result<Vec<WorkPool>, StoreError> {
        reads::work_pools(self.reads(), filter).await
    }

    async fn worker_heartbeat(
        &self,
        pool: &str,
        name: &str,
        interval_seconds: Option<u32>,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        crate::rows::name_ok("worker", name)?;
        sqlx::query(
            "INSERT INTO workers (id, work_pool_name, name, last_heartbeat_time,
                heartbeat_interval_seconds, created, updated) VALUES ($1, $2, $3, $4, $5, $4, $4)
            ON CONFLICT (work_pool_name, name) DO UPDATE SET
                last_heartbeat_time = excluded.last_heartbeat_time,
                heartbeat_interval_seconds = COALESCE(excluded.heartbeat_interval_seconds,
                    workers.heartbeat_interval_seconds),
                updated = excluded.updated",
        )
        .bind(Uuid::now_v7().hyphenated().to_string())
        .bind(pool)
        .bind(name)
        .bind(at)
        .bind(interval_seconds.map(i64::from))
        .execute(&self.inner.pool)
        .await?;
        Ok(())
    }

    async fn list_workers(
        &self,
        pool: &str,
        limit: Option<u32>,
        offset: u32,
    ) -> Result<Vec<Worker>, StoreError> {
        reads::workers(self.reads(), pool, limit, offset).await
    }

    async fn delete_worker(&self, pool: &str, name: &str) -> Result<bool, StoreError> {
        Ok(
            sqlx::query("DELETE FROM workers WHERE work_pool_name = $1 AND name = $2")
                .bind(pool)
                .bind(name)
                .execute(&self.inner.pool)
                .await?
                .rows_affected()
                > 0,
        )
    }

    async fn create_variable(&self, variable: &Variable) -> Result<Variable, StoreError> {
        let v = VariableRow::from_model(variable)?;
        sqlx::query(
            "INSERT INTO variables (id, name, value, tags, created, updated)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&v.id)
        .bind(&v.name)
        .bind(&v.value)
        .bind(&v.tags)
        .bind(v.created)
        .bind(v.updated)
        .execute(&self.inner.pool)
        .await
        .map_err(|e| {
            crate::common::conflict(classify(e, String::new), || {
                format!("a variable named {:?} already exists", variable.name)
            })
        })?;
        self.read_variable_by_name(&variable.name)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("variable {:?}", variable.name)))
    }

    async fn read_variable_by_name(&self, name: &str) -> Result<Option<Variable>, StoreError> {
        reads::variable_by(self.reads(), "name", name.to_string()).await
    }

    async fn read_variable(&self, id: Uuid) -> Result<Option<Variable>, StoreError> {
        reads::variable_by(self.reads(), "id", reads::id(id)).await
    }

    async fn update_variable(&self, variable: &Variable) -> Result<bool, StoreError> {
        let v = VariableRow::from_model(variable)?;
        let n = sqlx::query(
            "UPDATE variables SET name = $2, value = $3, tags = $4, updated = $5 WHERE id = $1",
        )
        .bind(&v.id)
        .bind(&v.name)
        .bind(&v.value)
        .bind(&v.tags)
        .bind(Utc::now())
        .execute(&self.inner.pool)
        .await
        .map_err(|e| {
            crate::common::conflict(classify(e, String::new), || {
                format!("a variable named {:?} already exists", variable.name)
            })
        })?
        .rows_affected();
        Ok(n > 0)
    }

    async fn delete_variable_by_name(&self, name: &str) -> Result<bool, StoreError> {
        let mut q = self.sql("DELETE FROM variables WHERE name = ");
        q.bind(name);
        Ok(self.run(q, String::new).await? > 0)
    }

    async fn list_variables(&self, filter: &VariableFilter) -> Result<Vec<Variable>, StoreError> {
        reads::variables(self.reads(), filter).await
    }

    async fn put_component(
        &self,
        record: &ComponentRecord,
        bytes: &[u8],
    ) -> Result<bool, StoreError> {
        let (row, bytes) = crate::common::component_row(record, bytes).await?;
        Ok(sqlx::query(
            "INSERT INTO components (digest, size, world, info, created, bytes)
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (digest) DO NOTHING",
        )
        .bind(&row.digest)
        .bind(row.size)
        .bind(&row.world)
        .bind(&row.info)
        .bind(row.created)
        .bind(bytes)
        .execute(&self.inner.pool)
        .await?
        .rows_affected()
            > 0)
    }

    async fn read_component(&self, digest: &str) -> Result<Option<ComponentRecord>, StoreError> {
        reads::component(self.reads(), digest).await
    }

    async fn read_component_bytes(&self, digest: &str) -> Result<Option<Vec<u8>>, StoreError> {
        reads::component_bytes(self.reads(), digest).await
    }

    async fn list_components(&self) -> Result<Vec<ComponentRecord>, StoreError> {
        reads::components(self.reads()).await
    }

    async fn scheduled_flow_runs(
        &self,
        pool: &str,
        before: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<FlowRun>, StoreError> {
        reads::scheduled_flow_runs(self.reads(), pool, before, limit).await
    }

    async fn claim_flow_runs(
        &self,
        pool: &str,
        worker: &str,
        before: DateTime<Utc>,
        limit: u32,
        live_after: DateTime<Utc>,
    ) -> Result<Vec<FlowRun>, StoreError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let now = Utc::now();
        let mut tx = self.begin().await?;
        let choice =
            crate::claims::pg_choose(&mut tx, pool, before, limit, live_after, now).await?;
        let ids = choice.take;
        if !ids.is_empty() {
            let mut pending = State::pending();
            pending.timestamp = now;
            let state_ids: Vec<String> = ids
                .iter()
                .map(|_| Uuid::now_v7().hyphenated().to_string())
                .collect();
            sqlx::query(CLAIM_FLOW_RUNS)
                .bind(&ids)
                .bind(&state_ids)
                .bind(pending.state_type.as_str())
                .bind(&pending.name)
                .bind(now)
                .bind(&pending.message)
                .bind(worker)
                .execute(&mut *tx)
                .await?;
        }
        for (update, log) in &choice.wait {
            set_state(&mut tx, update, true).await?;
            sqlx::query(
                "INSERT INTO logs (flow_run_id, task_run_id, name, level, message, timestamp)
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(&log.flow_run_id)
            .bind(&log.task_run_id)
            .bind(&log.name)
            .bind(log.level)
            .bind(&log.message)
            .bind(log.timestamp)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        reads::flow_runs_in_order(self.reads(), &ids).await
    }

    async fn heartbeat_flow_runs(&self, worker: &str, ids: &[Uuid]) -> Result<(), StoreError> {
        if ids.is_empty() {
            return Ok(());
        }
        let ids: Vec<String> = ids.iter().copied().map(reads::id).collect();
        sqlx::query("UPDATE flow_runs SET heartbeat = $1 WHERE worker_name = $2 AND id = ANY($3)")
            .bind(Utc::now())
            .bind(worker)
            .bind(&ids)
            .execute(&self.inner.pool)
            .await?;
        Ok(())
    }

    async fn release_flow_run(&self, id: Uuid, worker: &str) -> Result<bool, StoreError> {
        let run_id = reads::id(id);
        let now = Utc::now();
        let mut tx = self.begin().await?;
        let claimed: Option<(String,)> = sqlx::query_as(&format!(
            "SELECT id FROM flow_runs WHERE id = $1 AND worker_name = $2
             AND state_type NOT IN {TERMINAL} FOR UPDATE"
        ))
        .bind(&run_id)
        .bind(worker)
        .fetch_optional(&mut *tx)
        .await?;
        if claimed.is_none() {
            return Ok(false);
        }
        let mut scheduled =
            State::scheduled(now).with_message(format!("handed back by worker {worker}"));
        scheduled.timestamp = now;
        let u = StateUpdate {
            run_id: run_id.clone(),
            state: state_insert(&scheduled),
        };
        set_state(&mut tx, &u, true).await?;
        sqlx::query("UPDATE flow_runs SET worker_name = NULL, heartbeat = NULL WHERE id = $1")
            .bind(&run_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn lost_flow_runs(
        &self,
        heartbeat_older_than: DateTime<Utc>,
    ) -> Result<Vec<FlowRun>, StoreError> {
        reads::lost_flow_runs(self.reads(), heartbeat_older_than).await
    }

    // Scheduled runs: the SQL lives in `crate::schedules`.

    async fn create_scheduled_flow_runs(
        &self,
        runs: &[crate::ScheduledRun],
    ) -> Result<Vec<Uuid>, StoreError> {
        crate::schedules::pg_create(&self.inner.pool, runs).await
    }

    async fn delete_scheduled_flow_runs(
        &self,
        deployment_id: Uuid,
        schedule_id: Option<Uuid>,
        due_from: Option<DateTime<Utc>>,
    ) -> Result<u64, StoreError> {
        crate::schedules::pg_delete(&self.inner.pool, deployment_id, schedule_id, due_from).await
    }

    async fn mark_late_flow_runs(
        &self,
        due_before: DateTime<Utc>,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Uuid>, StoreError> {
        crate::schedules::pg_mark_late(&self.inner.pool, due_before, now, limit).await
    }

    async fn create_concurrency_limit(
        &self,
        limit: &ConcurrencyLimit,
    ) -> Result<ConcurrencyLimit, StoreError> {
        crate::concurrency::pg_create(&self.inner.pool, limit).await?;
        self.read_concurrency_limit(limit.id)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("concurrency limit {}", limit.id)))
    }

    async fn read_concurrency_limit(
        &self,
        id: Uuid,
    ) -> Result<Option<ConcurrencyLimit>, StoreError> {
        crate::concurrency::read_limit(self.reads(), LimitKey::Id(id)).await
    }

    async fn read_concurrency_limit_by_name(
        &self,
        name: &str,
    ) -> Result<Option<ConcurrencyLimit>, StoreError> {
        crate::concurrency::read_limit(self.reads(), LimitKey::Name(name)).await
    }

    async fn list_concurrency_limits(
        &self,
        limit: Option<u32>,
        offset: u32,
    ) -> Result<Vec<ConcurrencyLimit>, StoreError> {
        crate::concurrency::list_limits(self.reads(), limit, offset).await
    }

    async fn update_concurrency_limit(&self, limit: &ConcurrencyLimit) -> Result<bool, StoreError> {
        let updated = crate::concurrency::pg_update(&self.inner.pool, limit).await?;
        self.inner.waiters.released();
        Ok(updated)
    }

    async fn delete_concurrency_limit(&self, id: Uuid) -> Result<bool, StoreError> {
        let deleted = crate::concurrency::pg_delete(&self.inner.pool, id).await?;
        self.inner.waiters.released();
        Ok(deleted)
    }

    async fn reset_concurrency_limit(&self, id: Uuid) -> Result<u64, StoreError> {
        let n = crate::concurrency::pg_reset(&self.inner.pool, id).await?;
        self.inner.waiters.released();
        Ok(n)
    }

    async fn concurrency_leases(&self, limit_id: Uuid) -> Result<Vec<Lease>, StoreError> {
        crate::concurrency::leases_of(self.reads(), limit_id).await
    }

    async fn write_events(&self, events: &[weft_core::Event]) -> Result<(), StoreError> {
        if events.is_empty() {
            return Ok(());
        }
        crate::events::pg_write_events(&self.inner.pool, events).await
    }

    async fn read_events(
        &self,
        filter: &crate::EventFilter,
    ) -> Result<Vec<weft_core::Event>, StoreError> {
        crate::events::read_events(self.reads(), filter).await
    }

    async fn put_definition(
        &self,
        kind: &str,
        definition: &crate::Definition,
    ) -> Result<(), StoreError> {
        crate::events::pg_put_definition(&self.inner.pool, kind, definition).await
    }

    async fn read_definition(
        &self,
        kind: &str,
        id: Uuid,
    ) -> Result<Option<crate::Definition>, StoreError> {
        crate::events::read_definition(self.reads(), kind, id).await
    }

    async fn list_definitions(&self, kind: &str) -> Result<Vec<crate::Definition>, StoreError> {
        crate::events::list_definitions(self.reads(), kind).await
    }

    async fn delete_definition(&self, kind: &str, id: Uuid) -> Result<bool, StoreError> {
        crate::events::pg_delete_definition(&self.inner.pool, kind, id).await
    }
}

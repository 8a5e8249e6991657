//! The single writer: one thread owning the one write connection.
//!
//! Every write is a [`Command`] sent over a bounded channel (which gives
//! back-pressure). The writer thread applies commands in arrival order
//! inside one `BEGIN IMMEDIATE` transaction, taking whatever is queued, and
//! commits when a command in the batch waits for its commit (a terminal
//! state, a secret, a delete, a flush), when the batch reaches
//! [`MAX_BATCH`] commands, or [`MAX_OPEN`] after it began. Non-terminal
//! writes need no commit of their own, so a task run's create, Running and
//! Completed usually share one commit. With one writer SQLite never reports
//! "database is locked" to weft itself.
//!
//! The thread drives its connection synchronously (rusqlite, on the same
//! libsqlite3 as sqlx) with cached prepared statements, so a write costs
//! what SQLite costs and no cross-thread round trip per statement.
//!
//! When a write of a batch fails, the batch is rolled back and replayed one
//! command at a time, each under a savepoint: the bad command fails alone
//! (its waiter gets the error; without a waiter it is logged) and the rest
//! commit.

use std::path::Path;
use std::time::{Duration, Instant};

use chrono::{DateTime, SecondsFormat, Utc};
use rusqlite::types::Value;
use rusqlite::{Connection, OpenFlags, params};
use tokio::sync::oneshot;

use super::sql;
use crate::StoreError;
use crate::rows::{
    CacheInsert, ComponentRow, DeploymentRow, FlowRunInsert, LogInsert, StateInsert, StateUpdate,
    TaskRunInsert, VariableRow, WorkPoolRow,
};

/// The most commands committed in one transaction.
pub(crate) const MAX_BATCH: usize = 512;

/// How many commands may wait in the channel before senders wait.
pub(crate) const QUEUE_CAPACITY: usize = 16 * 1024;

/// The longest a batch without waiters stays uncommitted, waiting for more
/// writes: how late a queued write may become visible to readers.
pub(crate) const MAX_OPEN: Duration = Duration::from_millis(5);

/// One write.
#[derive(Debug)]
pub(crate) enum Op {
    CreateFlowRun(Box<FlowRunInsert>),
    SetFlowRunState(Box<StateUpdate>),
    CreateTaskRun(Box<TaskRunInsert>),
    SetTaskRunState(Box<StateUpdate>),
    WriteLogs(Vec<LogInsert>),
    WriteCache(Box<CacheInsert>),
    SetSecret {
        name: String,
        sealed: Vec<u8>,
        now: DateTime<Utc>,
    },
    DeleteSecret(String),
    DeleteCache(String),
    /// Inserts a flow unless its name exists (1 when inserted).
    InsertFlow {
        id: String,
        name: String,
        created: DateTime<Utc>,
    },
    DeleteFlowRun(String),
    /// Reads the run's current state, checks the rules, writes when accepted.
    SetFlowRunStateChecked {
        update: Box<StateUpdate>,
        force: bool,
    },
    UpsertDeployment(Box<DeploymentRow>),
    UpdateDeployment(Box<DeploymentRow>),
    DeleteDeployment(String),
    InsertWorkPool(Box<WorkPoolRow>),
    UpdateWorkPool(Box<WorkPoolRow>),
    DeleteWorkPool(String),
    InsertVariable(Box<VariableRow>),
    UpdateVariable(Box<VariableRow>),
    DeleteVariable(String),
    /// Committed in a transaction of its own (the bytes may be large).
    PutComponent {
        row: Box<ComponentRow>,
        bytes: Vec<u8>,
    },
    Heartbeat {
        worker: String,
        ids: Vec<String>,
        now: DateTime<Utc>,
    },
    /// Hands a claimed, unfinished run back: Scheduled due now, no claimer.
    ReleaseFlowRun {
        id: String,
        worker: String,
        now: DateTime<Utc>,
    },
    /// A write defined by another module (e.g. `sqlite::schedules`): a
    /// function of the connection, run inside the batch's transaction. It
    /// may run twice (once in its batch, again if the batch is replayed),
    /// always inside a transaction that is rolled back on error.
    Call(WriteFn),
    /// Nothing to write: answered once everything before it is committed.
    Flush,
    /// Commit what came before, close the connection, stop.
    Close,
}

/// The function of an [`Op::Call`].
pub(crate) struct WriteFn(pub Box<dyn Fn(&Connection) -> Answer + Send + Sync>);

impl std::fmt::Debug for WriteFn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WriteFn")
    }
}

impl Op {
    /// Whether the op is committed in a transaction of its own.
    fn solo(&self) -> bool {
        matches!(self, Op::PutComponent { .. })
    }
}

/// What a command produced.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Out {
    /// Rows affected.
    N(u64),
    /// Ids of the runs a claim moved, in order.
    Ids(Vec<String>),
    /// The answer to a request for concurrency slots.
    Grant(weft_core::SlotGrant),
    /// A checked state change refused: the current state's id and why.
    Rejected {
        current_state_id: String,
        reason: String,
    },
}

impl Out {
    /// Rows affected (0 for other answers).
    pub fn count(&self) -> u64 {
        match self {
            Out::N(n) => *n,
            _ => 0,
        }
    }
}

/// The answer to a command: what it produced, or why it failed.
pub(crate) type Answer = Result<Out, StoreError>;

/// A write and, when the caller waits, where to send its answer.
#[derive(Debug)]
pub(crate) struct Command {
    op: Op,
    reply: Option<oneshot::Sender<Answer>>,
}

/// The sending side of the writer, cheap to clone.
#[derive(Debug, Clone)]
pub(crate) struct WriterHandle {
    tx: flume::Sender<Command>,
}

impl WriterHandle {
    /// Queues `op` and returns once it is queued.
    pub async fn queue(&self, op: Op) -> Result<(), StoreError> {
        self.tx
            .send_async(Command { op, reply: None })
            .await
            .map_err(|_| StoreError::Closed)
    }

    /// Queues `op` and waits until it is committed (or failed).
    pub async fn call(&self, op: Op) -> Answer {
        let (reply, answer) = oneshot::channel();
        self.tx
            .send_async(Command {
                op,
                reply: Some(reply),
            })
            .await
            .map_err(|_| StoreError::Closed)?;
        answer.await.map_err(|_| StoreError::Closed)?
    }

    /// [`WriterHandle::call`], for the rows affected.
    pub async fn call_n(&self, op: Op) -> Result<u64, StoreError> {
        Ok(self.call(op).await?.count())
    }

    /// Queues `op`, waiting for its commit only when `wait` is set.
    pub async fn submit(&self, op: Op, wait: bool) -> Result<(), StoreError> {
        if wait {
            self.call(op).await.map(|_| ())
        } else {
            self.queue(op).await
        }
    }
}

/// Opens the write connection on an existing (migrated) database.
pub(crate) fn connect(path: &Path, busy_timeout: Duration) -> Result<Connection, StoreError> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags).map_err(sqlite)?;
    conn.busy_timeout(busy_timeout).map_err(sqlite)?;
    conn.execute_batch(&format!(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; \
         PRAGMA temp_store = MEMORY; PRAGMA mmap_size = {}; PRAGMA cache_size = {};",
        super::MMAP_SIZE,
        super::CACHE_SIZE
    ))
    .map_err(sqlite)?;
    conn.set_prepared_statement_cache_capacity(64);
    Ok(conn)
}

/// Starts the writer thread on `conn`.
pub(crate) fn spawn(conn: Connection) -> Result<WriterHandle, StoreError> {
    let (tx, rx) = flume::bounded(QUEUE_CAPACITY);
    std::thread::Builder::new()
        .name("weft-store-writer".into())
        .spawn(move || run(conn, rx))?;
    Ok(WriterHandle { tx })
}

fn run(conn: Connection, rx: flume::Receiver<Command>) {
    let mut closing = None;
    let mut carried: Option<Command> = None;
    while let Some(first) = carried.take().or_else(|| rx.recv().ok()) {
        let mut batch = Batch::new(&conn);
        let opened = Instant::now();
        let mut next = Some(first);
        while let Some(cmd) = next.take() {
            if matches!(cmd.op, Op::Close) {
                closing = Some(cmd);
                break;
            }
            // A solo op ends the batch before it and is committed alone.
            if cmd.op.solo() && !batch.cmds.is_empty() {
                carried = Some(cmd);
                break;
            }
            let solo = cmd.op.solo();
            batch.push(cmd);
            if solo || batch.cmds.len() >= MAX_BATCH {
                break;
            }
            next = match rx.try_recv() {
                Ok(cmd) => Some(cmd),
                Err(flume::TryRecvError::Disconnected) => None,
                Err(flume::TryRecvError::Empty) if batch.waited => None,
                Err(flume::TryRecvError::Empty) => MAX_OPEN
                    .checked_sub(opened.elapsed())
                    .and_then(|left| rx.recv_timeout(left).ok()),
            };
        }
        batch.finish();
        if closing.is_some() {
            break;
        }
    }
    // Stop taking commands; answer what is still queued.
    let queued: Vec<Command> = rx.drain().collect();
    drop(rx);
    for cmd in queued {
        answer(cmd.reply, Err(StoreError::Closed));
    }
    let closed = conn.close().map(|_| Out::N(0)).map_err(|(_, e)| sqlite(e));
    match closing {
        Some(cmd) => answer(cmd.reply, closed),
        None => {
            if let Err(e) = closed {
                tracing::warn!(error = %e, "closing the write connection failed");
            }
        }
    }
}

/// Commands applied in one transaction, answered when it ends.
struct Batch<'c> {
    conn: &'c Connection,
    cmds: Vec<Command>,
    answers: Vec<Out>,
    state: BatchState,
    /// Whether a command waits for the commit.
    waited: bool,
}

enum BatchState {
    /// Only flushes so far: no transaction.
    Empty,
    /// A transaction is open and every write so far succeeded.
    Open,
    /// A write failed (or the transaction could not begin): rolled back, to
    /// be replayed command by command.
    Failed,
}

impl<'c> Batch<'c> {
    fn new(conn: &'c Connection) -> Self {
        Batch {
            conn,
            cmds: Vec::new(),
            answers: Vec::new(),
            state: BatchState::Empty,
            waited: false,
        }
    }

    /// Applies `cmd` (unless the batch already failed) and keeps it.
    fn push(&mut self, cmd: Command) {
        self.waited |= cmd.reply.is_some();
        if !matches!(cmd.op, Op::Flush) {
            if let BatchState::Empty = self.state {
                self.state = match exec(self.conn, "BEGIN IMMEDIATE") {
                    Ok(()) => BatchState::Open,
                    Err(e) => {
                        tracing::debug!(error = %e, "cannot begin a batch");
                        BatchState::Failed
                    }
                };
            }
            if let BatchState::Open = self.state {
                match apply(self.conn, &cmd.op) {
                    Ok(n) => self.answers.push(n),
                    Err(e) => {
                        tracing::debug!(error = %e, "a write failed, replaying its batch one write at a time");
                        rollback(self.conn);
                        self.state = BatchState::Failed;
                    }
                }
            }
        } else if !matches!(self.state, BatchState::Failed) {
            self.answers.push(Out::N(0));
        }
        self.cmds.push(cmd);
    }

    /// Commits (or replays a failed batch) and answers every command.
    fn finish(self) {
        let answers: Vec<Answer> = match self.state {
            BatchState::Empty => self.answers.into_iter().map(Ok).collect(),
            BatchState::Open => match exec(self.conn, "COMMIT") {
                Ok(()) => self.answers.into_iter().map(Ok).collect(),
                Err(e) => {
                    tracing::debug!(error = %e, "commit failed, replaying the batch one write at a time");
                    rollback(self.conn);
                    apply_one_by_one(self.conn, &self.cmds)
                }
            },
            BatchState::Failed => apply_one_by_one(self.conn, &self.cmds),
        };
        for (cmd, answer_) in self.cmds.into_iter().zip(answers) {
            answer(cmd.reply, answer_);
        }
    }
}

/// The slow path: one transaction, one savepoint per command.
fn apply_one_by_one(conn: &Connection, batch: &[Command]) -> Vec<Answer> {
    let failed_all = |e: &StoreError| {
        batch
            .iter()
            .map(|_| Err(StoreError::Transaction(e.to_string())))
            .collect()
    };
    if let Err(e) = exec(conn, "BEGIN IMMEDIATE") {
        return failed_all(&e);
    }
    let mut answers = Vec::with_capacity(batch.len());
    for cmd in batch {
        if let Err(e) = exec(conn, "SAVEPOINT weft_write") {
            rollback(conn);
            return failed_all(&e);
        }
        let answer = apply(conn, &cmd.op);
        let end = if answer.is_ok() {
            exec(conn, "RELEASE weft_write")
        } else {
            exec(conn, "ROLLBACK TO weft_write").and_then(|()| exec(conn, "RELEASE weft_write"))
        };
        if let Err(e) = end {
            rollback(conn);
            return failed_all(&e);
        }
        answers.push(answer);
    }
    if let Err(e) = exec(conn, "COMMIT") {
        rollback(conn);
        return failed_all(&e);
    }
    answers
}

fn exec(conn: &Connection, sql: &'static str) -> Result<(), StoreError> {
    conn.prepare_cached(sql)
        .and_then(|mut s| s.execute([]))
        .map_err(sqlite)?;
    Ok(())
}

fn rollback(conn: &Connection) {
    // Fails harmlessly when SQLite already rolled the transaction back.
    if let Err(e) = conn.execute_batch("ROLLBACK") {
        tracing::debug!(error = %e, "rollback");
    }
}

fn answer(reply: Option<oneshot::Sender<Answer>>, answer: Answer) {
    match (reply, answer) {
        // A waiter that gave up is not an error.
        (Some(reply), answer) => drop(reply.send(answer)),
        (None, Err(e)) => tracing::warn!(error = %e, "a queued write failed"),
        (None, Ok(_)) => {}
    }
}

/// A timestamp as sqlx's SQLite encoding writes it (RFC 3339, UTC), so the
/// read side decodes it and compares it with bound filter values.
pub(super) fn ts(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, false)
}

fn ts_opt(t: &Option<DateTime<Utc>>) -> Option<String> {
    t.as_ref().map(ts)
}

/// A rusqlite error as a store error: foreign-key violations are `NotFound`
/// (named by `what`), unique violations `Conflict`.
pub(super) fn classify(e: rusqlite::Error, what: impl FnOnce() -> String) -> StoreError {
    use rusqlite::ffi;
    if let rusqlite::Error::SqliteFailure(f, _) = &e {
        match f.extended_code {
            ffi::SQLITE_CONSTRAINT_FOREIGNKEY => return StoreError::NotFound(what()),
            ffi::SQLITE_CONSTRAINT_PRIMARYKEY | ffi::SQLITE_CONSTRAINT_UNIQUE => {
                return StoreError::Conflict(e.to_string());
            }
            _ => {}
        }
    }
    sqlite(e)
}

pub(super) fn sqlite(e: rusqlite::Error) -> StoreError {
    StoreError::Sqlite(e.to_string())
}

fn run_sql(
    conn: &Connection,
    sql: &'static str,
    params: impl rusqlite::Params,
) -> rusqlite::Result<u64> {
    Ok(conn.prepare_cached(sql)?.execute(params)? as u64)
}

/// Applies one command (inside the caller's transaction).
fn apply(conn: &Connection, op: &Op) -> Answer {
    apply_n(conn, op)
}

/// Applies one command that answers with a row count.
fn apply_n(conn: &Connection, op: &Op) -> Answer {
    let n = match op {
        Op::CreateFlowRun(r) => {
            create_flow_run(conn, r).map_err(|e| classify(e, || format!("flow run {}", r.id)))
        }
        Op::CreateTaskRun(r) => create_task_run(conn, r)
            .map_err(|e| classify(e, || format!("flow run {}", r.flow_run_id))),
        Op::SetFlowRunState(u) => set_state(
            conn,
            sql::INSERT_FLOW_RUN_STATE,
            sql::UPDATE_FLOW_RUN_STATE,
            u,
        )
        .map_err(|e| classify(e, || format!("flow run {}", u.run_id))),
        Op::SetTaskRunState(u) => set_state(
            conn,
            sql::INSERT_TASK_RUN_STATE,
            sql::UPDATE_TASK_RUN_STATE,
            u,
        )
        .map_err(|e| classify(e, || format!("task run {}", u.run_id))),
        Op::WriteLogs(lines) => {
            let mut n = 0;
            for l in lines {
                n += run_sql(
                    conn,
                    sql::INSERT_LOG,
                    params![
                        l.flow_run_id,
                        l.task_run_id,
                        l.name,
                        l.level,
                        l.message,
                        ts(&l.timestamp)
                    ],
                )
                .map_err(|e| classify(e, || format!("flow run {}", l.flow_run_id)))?;
            }
            Ok(n)
        }
        Op::WriteCache(c) => run_sql(
            conn,
            sql::UPSERT_CACHE,
            params![
                c.key,
                c.value,
                ts(&c.created),
                ts_opt(&c.expiration),
                c.task_run_id
            ],
        )
        .map_err(sqlite),
        Op::SetSecret { name, sealed, now } => {
            run_sql(conn, sql::UPSERT_SECRET, params![name, sealed, ts(now)]).map_err(sqlite)
        }
        Op::DeleteSecret(name) => run_sql(conn, sql::DELETE_SECRET, params![name]).map_err(sqlite),
        Op::DeleteCache(key) => run_sql(conn, sql::DELETE_CACHE, params![key]).map_err(sqlite),
        Op::InsertFlow { id, name, created } => {
            run_sql(conn, sql::INSERT_FLOW, params![id, name, ts(created)]).map_err(sqlite)
        }
        Op::DeleteFlowRun(id) => run_sql(conn, sql::DELETE_FLOW_RUN, params![id]).map_err(sqlite),
        Op::SetFlowRunStateChecked { update, force } => {
            return set_state_checked(conn, update, *force);
        }
        Op::UpsertDeployment(d) => run_sql(conn, sql::UPSERT_DEPLOYMENT, deployment_params(d))
            .map_err(|e| classify(e, || format!("deployment {}", d.id))),
        Op::UpdateDeployment(d) => run_sql(conn, sql::UPDATE_DEPLOYMENT, deployment_params(d))
            .map_err(|e| classify(e, || format!("deployment {}", d.id))),
        Op::DeleteDeployment(id) => {
            run_sql(conn, sql::DELETE_DEPLOYMENT, params![id]).map_err(sqlite)
        }
        Op::InsertWorkPool(p) => run_sql(conn, sql::INSERT_WORK_POOL, work_pool_params(p))
            .map_err(|e| classify(e, || format!("work pool {}", p.name))),
        Op::UpdateWorkPool(p) => run_sql(conn, sql::UPDATE_WORK_POOL, work_pool_params(p))
            .map_err(|e| classify(e, || format!("work pool {}", p.name))),
        Op::DeleteWorkPool(name) => {
            run_sql(conn, sql::DELETE_POOL_WORKERS, params![name]).map_err(sqlite)?;
            run_sql(conn, sql::DELETE_WORK_POOL, params![name]).map_err(sqlite)
        }
        Op::InsertVariable(v) => run_sql(conn, sql::INSERT_VARIABLE, variable_params(v))
            .map_err(|e| classify(e, || format!("variable {}", v.name))),
        Op::UpdateVariable(v) => run_sql(conn, sql::UPDATE_VARIABLE, variable_params(v))
            .map_err(|e| classify(e, || format!("variable {}", v.name))),
        Op::DeleteVariable(name) => {
            run_sql(conn, sql::DELETE_VARIABLE, params![name]).map_err(sqlite)
        }
        Op::PutComponent { row, bytes } => run_sql(
            conn,
            sql::INSERT_COMPONENT,
            params![
                row.digest,
                row.size,
                row.world,
                row.info,
                ts(&row.created),
                bytes
            ],
        )
        .map_err(sqlite),
        Op::Heartbeat { worker, ids, now } => {
            let mut n = 0;
            for id in ids {
                n += run_sql(conn, sql::HEARTBEAT, params![id, worker, ts(now)]).map_err(sqlite)?;
            }
            Ok(n)
        }
        Op::ReleaseFlowRun { id, worker, now } => release(conn, id, worker, now).map_err(sqlite),
        Op::Call(f) => return (f.0)(conn),
        Op::Flush | Op::Close => Ok(0),
    };
    n.map(Out::N)
}

fn deployment_params(d: &DeploymentRow) -> rusqlite::ParamsFromIter<Vec<Value>> {
    rusqlite::params_from_iter(vec![
        Value::from(d.id.clone()),
        Value::from(d.name.clone()),
        Value::from(d.flow_name.clone()),
        Value::from(d.component_digest.clone()),
        Value::from(d.description.clone()),
        Value::from(d.parameters.clone()),
        Value::from(d.tags.clone()),
        Value::from(d.work_pool_name.clone()),
        Value::from(d.schedules.clone()),
        Value::from(d.limits.clone()),
        Value::from(d.allowed_secrets.clone()),
        Value::from(d.paused),
        Value::from(d.concurrency_limit),
        Value::from(ts(&d.created)),
        Value::from(ts(&d.updated)),
    ])
}

fn work_pool_params(p: &WorkPoolRow) -> rusqlite::ParamsFromIter<Vec<Value>> {
    rusqlite::params_from_iter(vec![
        Value::from(p.id.clone()),
        Value::from(p.name.clone()),
        Value::from(p.pool_type.clone()),
        Value::from(p.description.clone()),
        Value::from(p.is_paused),
        Value::from(p.concurrency_limit),
        Value::from(ts(&p.created)),
        Value::from(ts(&p.updated)),
    ])
}

fn variable_params(v: &VariableRow) -> rusqlite::ParamsFromIter<Vec<Value>> {
    rusqlite::params_from_iter(vec![
        Value::from(v.id.clone()),
        Value::from(v.name.clone()),
        Value::from(v.value.clone()),
        Value::from(v.tags.clone()),
        Value::from(ts(&v.created)),
        Value::from(ts(&v.updated)),
    ])
}

/// Reads the run's current state type, applies the rules, writes the
/// state when accepted (all inside the writer's transaction).
fn set_state_checked(conn: &Connection, u: &StateUpdate, force: bool) -> Answer {
    let current: Option<(String, String)> = conn
        .prepare_cached(sql::FLOW_RUN_CURRENT_STATE)
        .and_then(|mut st| {
            let mut rows = st.query(params![u.run_id])?;
            match rows.next()? {
                Some(r) => Ok(Some((r.get(0)?, r.get(1)?))),
                None => Ok(None),
            }
        })
        .map_err(sqlite)?;
    let Some((current_state_id, current_type)) = current else {
        return Err(StoreError::NotFound(format!("flow run {}", u.run_id)));
    };
    let from = weft_core::StateType::parse(&current_type)
        .ok_or_else(|| StoreError::Decode(format!("unknown state type {current_type:?}")))?;
    let to = weft_core::StateType::parse(u.state.state_type).ok_or_else(|| {
        StoreError::Invalid(format!("unknown state type {:?}", u.state.state_type))
    })?;
    if let Err(reason) = crate::check_flow_run_transition(from, to, force) {
        return Ok(Out::Rejected {
            current_state_id,
            reason,
        });
    }
    set_state(
        conn,
        sql::INSERT_FLOW_RUN_STATE,
        sql::UPDATE_FLOW_RUN_STATE,
        u,
    )
    .map(Out::N)
    .map_err(|e| classify(e, || format!("flow run {}", u.run_id)))
}

/// A state made by the writer itself (it has no data to encode).
pub(super) fn state_insert(state: &weft_core::State) -> StateInsert {
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

/// Hands a claimed run back to its pool.
fn release(
    conn: &Connection,
    id: &str,
    worker: &str,
    now: &DateTime<Utc>,
) -> rusqlite::Result<u64> {
    let claimed: i64 = conn
        .prepare_cached(sql::CLAIMED_UNFINISHED)?
        .query_row(params![id, worker], |r| r.get(0))?;
    if claimed == 0 {
        return Ok(0);
    }
    let mut scheduled =
        weft_core::State::scheduled(*now).with_message(format!("handed back by worker {worker}"));
    scheduled.timestamp = *now;
    let update = StateUpdate {
        run_id: id.to_string(),
        state: state_insert(&scheduled),
    };
    set_state(
        conn,
        sql::INSERT_FLOW_RUN_STATE,
        sql::UPDATE_FLOW_RUN_STATE,
        &update,
    )?;
    run_sql(conn, sql::CLEAR_CLAIM, params![id])
}

pub(super) fn create_flow_run(conn: &Connection, r: &FlowRunInsert) -> rusqlite::Result<u64> {
    let s = &r.state;
    let created = ts(&r.created);
    let state_ts = ts(&s.timestamp);
    run_sql(
        conn,
        sql::UPSERT_FLOW,
        params![r.new_flow_id, r.flow_name, created],
    )?;
    let n = run_sql(
        conn,
        sql::INSERT_FLOW_RUN,
        params![
            r.id,
            r.name,
            r.flow_name,
            r.component_digest,
            r.deployment_name,
            r.parameters,
            r.tags,
            r.run_count,
            created,
            ts_opt(&r.start_time),
            ts_opt(&r.end_time),
            s.id,
            s.state_type,
            s.name,
            state_ts,
            r.deployment_id,
            r.work_pool_name,
            ts_opt(&r.expected_start_time),
            ts_opt(&s.scheduled_time),
        ],
    )?;
    let inserted = run_sql(
        conn,
        sql::INSERT_FLOW_RUN_STATE,
        params![
            s.id,
            r.id,
            s.state_type,
            s.name,
            state_ts,
            s.message,
            s.data,
            ts_opt(&s.scheduled_time)
        ],
    )?;
    state_inserted(inserted, &s.id)?;
    Ok(n)
}

fn create_task_run(conn: &Connection, r: &TaskRunInsert) -> rusqlite::Result<u64> {
    let s = &r.state;
    let state_ts = ts(&s.timestamp);
    let n = run_sql(
        conn,
        sql::INSERT_TASK_RUN,
        params![
            r.id,
            r.flow_run_id,
            r.parent_task_run_id,
            r.task_key,
            r.dynamic_key,
            r.name,
            r.input,
            r.cache_key,
            ts_opt(&r.cache_expiration),
            r.tags,
            r.run_count,
            ts(&r.created),
            ts_opt(&r.start_time),
            ts_opt(&r.end_time),
            s.id,
            s.state_type,
            s.name,
            state_ts,
        ],
    )?;
    let inserted = run_sql(
        conn,
        sql::INSERT_TASK_RUN_STATE,
        params![
            s.id,
            r.id,
            s.state_type,
            s.name,
            state_ts,
            s.message,
            s.data,
            ts_opt(&s.scheduled_time)
        ],
    )?;
    state_inserted(inserted, &s.id)?;
    Ok(n)
}

/// A new run's first state must be new: its id already recorded is a conflict.
fn state_inserted(inserted: u64, state_id: &str) -> rusqlite::Result<()> {
    if inserted == 1 {
        return Ok(());
    }
    Err(rusqlite::Error::SqliteFailure(
        rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE),
        Some(format!("state {state_id} is already recorded")),
    ))
}

/// Appends a state and makes it current; a state id already recorded is
/// ignored, so a retried call changes nothing.
pub(super) fn set_state(
    conn: &Connection,
    insert: &'static str,
    update: &'static str,
    u: &StateUpdate,
) -> rusqlite::Result<u64> {
    let s = &u.state;
    let state_ts = ts(&s.timestamp);
    let inserted = run_sql(
        conn,
        insert,
        params![
            s.id,
            u.run_id,
            s.state_type,
            s.name,
            state_ts,
            s.message,
            s.data,
            ts_opt(&s.scheduled_time)
        ],
    )?;
    if inserted == 0 {
        return Ok(0);
    }
    if update == sql::UPDATE_FLOW_RUN_STATE {
        run_sql(
            conn,
            update,
            params![
                u.run_id,
                s.id,
                s.state_type,
                s.name,
                state_ts,
                s.running,
                s.terminal,
                ts_opt(&s.scheduled_time)
            ],
        )
    } else {
        run_sql(
            conn,
            update,
            params![
                u.run_id,
                s.id,
                s.state_type,
                s.name,
                state_ts,
                s.running,
                s.terminal
            ],
        )
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use uuid::Uuid;
    use weft_core::{FlowRun, State, TaskRun};

    use super::*;

    fn cmd(op: Op, wait: bool) -> (Command, Option<oneshot::Receiver<Answer>>) {
        if wait {
            let (tx, rx) = oneshot::channel();
            (
                Command {
                    op,
                    reply: Some(tx),
                },
                Some(rx),
            )
        } else {
            (Command { op, reply: None }, None)
        }
    }

    fn count(conn: &Connection, sql: &str) -> i64 {
        conn.query_row(sql, [], |r| r.get(0)).unwrap()
    }

    /// One batch holding good and bad writes: the bad ones fail alone, with
    /// their waiters told, and the good ones around them commit.
    #[tokio::test]
    async fn a_bad_write_fails_alone_within_its_batch() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("weft.db");
        crate::SqliteStore::open(&path, crate::SecretKey::generate())
            .await
            .unwrap()
            .close()
            .await
            .unwrap();
        let conn = connect(&path, Duration::from_secs(1)).unwrap();

        let run = FlowRun::new("f", "d", json!({}));
        let task = TaskRun::new(run.id, None, "t", 0, json!(1));
        let orphan = TaskRun::new(Uuid::now_v7(), None, "t", 0, json!(1));
        let flow_row = FlowRunInsert::from_model(&run).unwrap();
        let ops = vec![
            (Op::CreateFlowRun(Box::new(flow_row.clone())), false),
            (
                Op::SetFlowRunState(Box::new(
                    StateUpdate::new(Uuid::now_v7(), &State::running()).unwrap(),
                )),
                false,
            ),
            (
                Op::CreateTaskRun(Box::new(TaskRunInsert::from_model(&task).unwrap())),
                false,
            ),
            (
                Op::CreateTaskRun(Box::new(TaskRunInsert::from_model(&orphan).unwrap())),
                true,
            ),
            (Op::CreateFlowRun(Box::new(flow_row)), true),
            (
                Op::SetTaskRunState(Box::new(
                    StateUpdate::new(task.id, &State::completed(json!(2))).unwrap(),
                )),
                true,
            ),
            (Op::Flush, true),
        ];
        let mut batch = Batch::new(&conn);
        let mut waiters = Vec::new();
        for (op, wait) in ops {
            let (c, rx) = cmd(op, wait);
            batch.push(c);
            waiters.extend(rx);
        }
        assert!(matches!(batch.state, BatchState::Failed));
        batch.finish();
        let answers: Vec<Answer> = waiters
            .into_iter()
            .map(|mut rx| rx.try_recv().unwrap())
            .collect();
        assert!(
            matches!(answers[0], Err(StoreError::NotFound(_))),
            "{:?}",
            answers[0]
        );
        assert!(
            matches!(answers[1], Err(StoreError::Conflict(_))),
            "{:?}",
            answers[1]
        );
        assert!(matches!(answers[2], Ok(Out::N(1))), "{:?}", answers[2]);
        assert!(matches!(answers[3], Ok(Out::N(0))), "{:?}", answers[3]);
        assert_eq!(count(&conn, "SELECT count(*) FROM flow_runs"), 1);
        assert_eq!(count(&conn, "SELECT count(*) FROM task_runs"), 1);
        assert_eq!(count(&conn, "SELECT count(*) FROM task_run_states"), 2);
        assert_eq!(
            count(
                &conn,
                "SELECT count(*) FROM task_runs WHERE state_type = 'COMPLETED'"
            ),
            1
        );
    }
}

//! The single writer: one task owning the one write connection.
//!
//! Every write is a [`Command`] sent over a bounded channel (which gives
//! back-pressure). The writer takes whatever is queued, up to
//! [`MAX_BATCH`] commands, applies them in order in one `BEGIN IMMEDIATE`
//! transaction and commits, then answers the commands that wait for an
//! answer. With one writer SQLite never reports "database is locked" to
//! weft itself, and a batch costs one commit however many writes it holds.
//!
//! When a write of a batch fails, the batch is rolled back and replayed one
//! command at a time, each under a savepoint: the bad command fails alone
//! (its waiter gets the error; without a waiter it is logged) and the rest
//! commit.

use chrono::{DateTime, Utc};
use sqlx::SqliteConnection;
use sqlx::sqlite::SqliteQueryResult;
use tokio::sync::{mpsc, oneshot};

use super::sql;
use crate::StoreError;
use crate::rows::{CacheInsert, FlowRunInsert, LogInsert, StateUpdate, TaskRunInsert};

/// The most commands committed in one transaction.
pub(crate) const MAX_BATCH: usize = 512;

/// How many commands may wait in the channel before senders wait.
pub(crate) const QUEUE_CAPACITY: usize = 16 * 1024;

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
    /// Nothing to write: answered once everything before it is committed.
    Flush,
    /// Commit what came before, close the connection, stop.
    Close,
}

/// The answer to a command: rows affected, or why it failed.
type Answer = Result<u64, StoreError>;

/// A write and, when the caller waits, where to send its answer.
#[derive(Debug)]
pub(crate) struct Command {
    op: Op,
    reply: Option<oneshot::Sender<Answer>>,
}

/// The sending side of the writer, cheap to clone.
#[derive(Debug, Clone)]
pub(crate) struct WriterHandle {
    tx: mpsc::Sender<Command>,
}

impl WriterHandle {
    /// Queues `op` and returns once it is queued.
    pub async fn queue(&self, op: Op) -> Result<(), StoreError> {
        self.tx
            .send(Command { op, reply: None })
            .await
            .map_err(|_| StoreError::Closed)
    }

    /// Queues `op` and waits until it is committed (or failed).
    pub async fn call(&self, op: Op) -> Answer {
        let (reply, answer) = oneshot::channel();
        self.tx
            .send(Command {
                op,
                reply: Some(reply),
            })
            .await
            .map_err(|_| StoreError::Closed)?;
        answer.await.map_err(|_| StoreError::Closed)?
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

/// Starts the writer task on `conn`.
pub(crate) fn spawn(conn: SqliteConnection) -> (WriterHandle, tokio::task::JoinHandle<()>) {
    let (tx, rx) = mpsc::channel(QUEUE_CAPACITY);
    let task = tokio::spawn(run(conn, rx));
    (WriterHandle { tx }, task)
}

async fn run(mut conn: SqliteConnection, mut rx: mpsc::Receiver<Command>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    loop {
        if rx.recv_many(&mut batch, MAX_BATCH).await == 0 {
            break; // every handle is gone and the queue is drained
        }
        let close_at = batch.iter().position(|c| matches!(c.op, Op::Close));
        let rest = close_at.map(|i| batch.split_off(i));
        apply_batch(&mut conn, &mut batch).await;
        if let Some(rest) = rest {
            rx.close();
            let mut rest = rest.into_iter();
            let close = rest.next();
            for cmd in rest.chain(std::iter::from_fn(|| rx.try_recv().ok())) {
                answer(cmd.reply, Err(StoreError::Closed));
            }
            let closed = sqlx::Connection::close(conn)
                .await
                .map(|_| 0)
                .map_err(StoreError::from);
            if let Some(close) = close {
                answer(close.reply, closed);
            }
            return;
        }
    }
    if let Err(e) = sqlx::Connection::close(conn).await {
        tracing::warn!(error = %e, "closing the write connection failed");
    }
}

/// Applies `batch` (emptied on return) and answers its waiters.
pub(crate) async fn apply_batch(conn: &mut SqliteConnection, batch: &mut Vec<Command>) {
    let writes = batch.iter().any(|c| !matches!(c.op, Op::Flush));
    let answers = if !writes {
        batch.iter().map(|_| Ok(0)).collect()
    } else {
        match apply_all(conn, batch).await {
            Ok(answers) => answers,
            Err(e) => {
                tracing::debug!(error = %e, size = batch.len(), "batch failed, replaying it one write at a time");
                rollback(conn).await;
                apply_one_by_one(conn, batch).await
            }
        }
    };
    for (cmd, answer_) in batch.drain(..).zip(answers) {
        answer(cmd.reply, answer_);
    }
}

/// The fast path: everything in one transaction; the first failure aborts.
async fn apply_all(
    conn: &mut SqliteConnection,
    batch: &[Command],
) -> Result<Vec<Answer>, StoreError> {
    exec(conn, "BEGIN IMMEDIATE").await?;
    let mut answers = Vec::with_capacity(batch.len());
    for cmd in batch {
        answers.push(Ok(apply(conn, &cmd.op).await?));
    }
    exec(conn, "COMMIT").await?;
    Ok(answers)
}

/// The slow path: one transaction, one savepoint per command.
async fn apply_one_by_one(conn: &mut SqliteConnection, batch: &[Command]) -> Vec<Answer> {
    let failed_all = |e: &StoreError| {
        batch
            .iter()
            .map(|_| Err(StoreError::Transaction(e.to_string())))
            .collect()
    };
    if let Err(e) = exec(conn, "BEGIN IMMEDIATE").await {
        return failed_all(&e);
    }
    let mut answers = Vec::with_capacity(batch.len());
    for cmd in batch {
        if let Err(e) = exec(conn, "SAVEPOINT weft_write").await {
            rollback(conn).await;
            return failed_all(&e);
        }
        let answer = apply(conn, &cmd.op).await;
        let end = if answer.is_ok() {
            exec(conn, "RELEASE weft_write").await
        } else {
            match exec(conn, "ROLLBACK TO weft_write").await {
                Ok(()) => exec(conn, "RELEASE weft_write").await,
                Err(e) => Err(e),
            }
        };
        if let Err(e) = end {
            rollback(conn).await;
            return failed_all(&e);
        }
        answers.push(answer);
    }
    if let Err(e) = exec(conn, "COMMIT").await {
        rollback(conn).await;
        return failed_all(&e);
    }
    answers
}

async fn exec(conn: &mut SqliteConnection, sql: &'static str) -> Result<(), StoreError> {
    sqlx::query(sql).execute(&mut *conn).await?;
    Ok(())
}

async fn rollback(conn: &mut SqliteConnection) {
    // Fails harmlessly when SQLite already rolled the transaction back.
    if let Err(e) = exec(conn, "ROLLBACK").await {
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

fn affected(r: Result<SqliteQueryResult, sqlx::Error>) -> Result<u64, StoreError> {
    Ok(r?.rows_affected())
}

/// Applies one command (inside the caller's transaction).
async fn apply(conn: &mut SqliteConnection, op: &Op) -> Answer {
    match op {
        Op::CreateFlowRun(r) => {
            let s = &r.state;
            affected(
                sqlx::query(sql::CREATE_FLOW_RUN)
                    .bind(&r.new_flow_id)
                    .bind(&r.flow_name)
                    .bind(&r.id)
                    .bind(&r.name)
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
                    .bind(&s.message)
                    .bind(&s.data)
                    .bind(s.scheduled_time)
                    .execute(&mut *conn)
                    .await,
            )
            .map_err(|e| e.classify(|| format!("flow run {}", r.id)))
        }
        Op::CreateTaskRun(r) => {
            let s = &r.state;
            affected(
                sqlx::query(sql::CREATE_TASK_RUN)
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
                    .bind(&s.message)
                    .bind(&s.data)
                    .bind(s.scheduled_time)
                    .execute(&mut *conn)
                    .await,
            )
            .map_err(|e| e.classify(|| format!("flow run {}", r.flow_run_id)))
        }
        Op::SetFlowRunState(u) => set_state(conn, sql::SET_FLOW_RUN_STATE, u)
            .await
            .map_err(|e| e.classify(|| format!("flow run {}", u.run_id))),
        Op::SetTaskRunState(u) => set_state(conn, sql::SET_TASK_RUN_STATE, u)
            .await
            .map_err(|e| e.classify(|| format!("task run {}", u.run_id))),
        Op::WriteLogs(lines) => {
            let mut n = 0;
            for l in lines {
                n += affected(
                    sqlx::query(sql::INSERT_LOG)
                        .bind(&l.flow_run_id)
                        .bind(&l.task_run_id)
                        .bind(&l.name)
                        .bind(l.level)
                        .bind(&l.message)
                        .bind(l.timestamp)
                        .execute(&mut *conn)
                        .await,
                )
                .map_err(|e| e.classify(|| format!("flow run {}", l.flow_run_id)))?;
            }
            Ok(n)
        }
        Op::WriteCache(c) => affected(
            sqlx::query(sql::UPSERT_CACHE)
                .bind(&c.key)
                .bind(&c.value)
                .bind(c.created)
                .bind(c.expiration)
                .bind(&c.task_run_id)
                .execute(&mut *conn)
                .await,
        ),
        Op::SetSecret { name, sealed, now } => affected(
            sqlx::query(sql::UPSERT_SECRET)
                .bind(name)
                .bind(sealed)
                .bind(now)
                .execute(&mut *conn)
                .await,
        ),
        Op::DeleteSecret(name) => affected(
            sqlx::query(sql::DELETE_SECRET)
                .bind(name)
                .execute(&mut *conn)
                .await,
        ),
        Op::DeleteCache(key) => affected(
            sqlx::query(sql::DELETE_CACHE)
                .bind(key)
                .execute(&mut *conn)
                .await,
        ),
        Op::Flush | Op::Close => Ok(0),
    }
}

async fn set_state(conn: &mut SqliteConnection, sql: &'static str, u: &StateUpdate) -> Answer {
    let s = &u.state;
    affected(
        sqlx::query(sql)
            .bind(&u.run_id)
            .bind(&s.id)
            .bind(s.state_type)
            .bind(&s.name)
            .bind(s.timestamp)
            .bind(&s.message)
            .bind(&s.data)
            .bind(s.scheduled_time)
            .bind(s.running)
            .bind(s.terminal)
            .execute(&mut *conn)
            .await,
    )
}

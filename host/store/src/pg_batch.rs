//! Group commit for the Postgres store's hot writes (flow and task run
//! creations, state changes, log lines).
//!
//! A commit that waits for its WAL flush costs one disk sync (about 4 ms
//! on this project's machines), so one transaction per write caps a server
//! at a few hundred runs per second whatever the CPU. Here each write is
//! queued on one of a few *lanes* (chosen by its run's id, so the writes of
//! one run stay in order); a lane takes everything queued, applies it in
//! one transaction and commits once, then answers every caller. While one
//! batch commits the next one fills, so the syncs are shared by as many
//! writes as arrive meanwhile. Callers are answered only after the commit:
//! a write that returned is durable, as before.
//!
//! When a write of a batch fails, the batch is rolled back and replayed
//! one write per transaction, so the bad write fails alone with its own
//! error and the others commit.

use std::hash::{Hash, Hasher};

use std::future::Future;
use std::pin::Pin;

use sqlx::{PgConnection, PgPool};
use tokio::sync::{mpsc, oneshot};

use crate::StoreError;

/// A boxed future borrowing a connection.
pub(crate) type BoxFuture<'c, T> = Pin<Box<dyn Future<Output = T> + Send + 'c>>;

/// Lanes (concurrent transactions) of one store.
pub(crate) const LANES: usize = 4;

/// The most writes one transaction takes.
const MAX_BATCH: usize = 256;

/// What a write produced.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Out {
    /// Applied.
    Done,
    /// A checked state change refused: the current state's id and why.
    Rejected {
        current_state_id: String,
        reason: String,
    },
    /// Of several checked state changes, the first `applied` were applied
    /// and the next one was refused, as [`Out::Rejected`] says.
    Stopped {
        applied: usize,
        current_state_id: String,
        reason: String,
    },
}

/// One write: replayable SQL on a connection inside a transaction, and
/// whether it must wait for the WAL flush.
pub(crate) trait Write: Send + Sync {
    /// Applies the write (inside the lane's transaction).
    fn apply<'c>(&'c self, conn: &'c mut PgConnection) -> BoxFuture<'c, Result<Out, StoreError>>;

    /// Whether its commit must wait for the WAL flush (outcomes do;
    /// progress, such as a Running state or log lines, need not).
    fn durable(&self) -> bool;

    /// Whether `apply` is atomic by itself (one statement, or a
    /// transaction it opens), so that alone in a batch it runs without a
    /// `BEGIN` and `COMMIT` around it: two round trips fewer.
    fn atomic(&self) -> bool {
        false
    }
}

struct Cmd {
    write: Box<dyn Write>,
    reply: oneshot::Sender<Result<Out, StoreError>>,
}

/// The lanes of one store. Cheap to clone.
#[derive(Debug, Clone)]
pub(crate) struct Batcher {
    lanes: Vec<mpsc::UnboundedSender<Cmd>>,
}

impl std::fmt::Debug for Cmd {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Cmd")
    }
}

impl Batcher {
    /// Starts [`LANES`] lane tasks on the current tokio runtime; each
    /// takes a connection of `pool` per batch.
    pub fn start(pool: &PgPool) -> Batcher {
        let lanes = (0..LANES)
            .map(|_| {
                let (tx, rx) = mpsc::unbounded_channel();
                tokio::spawn(lane(pool.clone(), rx));
                tx
            })
            .collect();
        Batcher { lanes }
    }

    /// Queues `write` on the lane of `key` (a run's id) and waits for its
    /// commit.
    pub async fn call(&self, key: &str, write: impl Write + 'static) -> Result<Out, StoreError> {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        key.hash(&mut h);
        let lane = &self.lanes[(h.finish() % self.lanes.len() as u64) as usize];
        let (reply, rx) = oneshot::channel();
        lane.send(Cmd {
            write: Box::new(write),
            reply,
        })
        .map_err(|_| StoreError::Closed)?;
        rx.await.map_err(|_| StoreError::Closed)?
    }
}

async fn lane(pool: PgPool, mut rx: mpsc::UnboundedReceiver<Cmd>) {
    let mut cmds = Vec::new();
    while rx.recv_many(&mut cmds, MAX_BATCH).await > 0 {
        let results = run_batch(&pool, &cmds).await;
        for (cmd, result) in cmds.drain(..).zip(results) {
            let _ = cmd.reply.send(result);
        }
    }
}

/// Applies `cmds` in one transaction; on a failure, one by one.
/// (Boxed, as `in_transaction`: it names the future's `Send` bound where
/// the lifetimes are concrete, which a plain `async fn` here cannot.)
fn run_batch<'a>(pool: &'a PgPool, cmds: &'a [Cmd]) -> BoxFuture<'a, Vec<Result<Out, StoreError>>> {
    Box::pin(run_batch_inner(pool, cmds))
}

async fn run_batch_inner<'a>(pool: &'a PgPool, cmds: &'a [Cmd]) -> Vec<Result<Out, StoreError>> {
    if let [cmd] = cmds
        && cmd.write.durable()
        && cmd.write.atomic()
    {
        return vec![alone(pool, &*cmd.write).await];
    }
    let durable = cmds.iter().any(|c| c.write.durable());
    let writes: Vec<&dyn Write> = cmds.iter().map(|c| &*c.write).collect();
    let first = in_transaction(pool, durable, &writes).await;
    match first {
        Ok(outs) => outs.into_iter().map(Ok).collect(),
        Err(e) if cmds.len() == 1 => vec![Err(e)],
        Err(e) => {
            tracing::debug!(error = %e, writes = cmds.len(), "a batched write failed; replaying one by one");
            let mut results = Vec::with_capacity(cmds.len());
            for w in writes {
                let one = in_transaction(pool, w.durable(), &[w]).await;
                results.push(one.map(|mut outs| outs.pop().unwrap_or(Out::Done)));
            }
            results
        }
    }
}

/// A durable, atomic write on its own (its statement commits itself).
async fn alone(pool: &PgPool, write: &dyn Write) -> Result<Out, StoreError> {
    let mut conn = pool.acquire().await?;
    write.apply(&mut conn).await
}

/// Every write in one transaction (rolled back on the first error, when
/// the transaction is dropped).
fn in_transaction<'a>(
    pool: &'a PgPool,
    durable: bool,
    writes: &'a [&'a dyn Write],
) -> BoxFuture<'a, Result<Vec<Out>, StoreError>> {
    Box::pin(in_transaction_inner(pool, durable, writes))
}

async fn in_transaction_inner<'a>(
    pool: &'a PgPool,
    durable: bool,
    writes: &'a [&'a dyn Write],
) -> Result<Vec<Out>, StoreError> {
    let mut tx = pool.begin().await?;
    if !durable {
        sqlx::query("SET LOCAL synchronous_commit = off")
            .execute(&mut *tx)
            .await?;
    }
    let mut outs = Vec::new();
    for w in writes {
        outs.push(w.apply(&mut tx).await?);
    }
    tx.commit().await?;
    Ok(outs)
}

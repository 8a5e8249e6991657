//! The SQLite backend: weft's embedded default store.
//!
//! One file in WAL mode (`synchronous = NORMAL`, a busy timeout, foreign
//! keys on). All writes go through the single writer thread and its
//! dedicated connection, batched into one transaction per drain of its
//! queue; reads use a separate pool of read-only connections, which WAL lets
//! run alongside the writer.

mod sql;
mod writer;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::ConnectOptions;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use uuid::Uuid;
use weft_core::{CacheEntry, FlowRun, LogEntry, State, TaskRun};

use self::writer::{Op, WriterHandle};
use crate::query::Reader;
use crate::reads;
use crate::rows::{CacheInsert, FlowRunInsert, LogInsert, StateUpdate, TaskRunInsert};
use crate::{
    Flow, FlowRunFilter, LogFilter, RecordError, RunRecorder, SecretKey, Store, StoreError,
    TaskRunFilter,
};

/// The migrations of the SQLite schema.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// How long a connection waits for a lock held by another process.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Read connections in the pool.
pub const READ_CONNECTIONS: u32 = 4;

/// Weft's store on one SQLite file. Cheap to clone: clones share the writer
/// and the read pool.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    path: PathBuf,
    writer: WriterHandle,
    reads: Reader,
    key: SecretKey,
}

impl SqliteStore {
    /// Opens (creating it and its directories when absent) the database at
    /// `path`, applies the migrations and starts the writer thread. Secrets
    /// are encrypted with `key`. Writes queued when the last clone is dropped
    /// are still committed by the writer thread; [`SqliteStore::close`]
    /// waits for that.
    pub async fn open(path: &Path, key: SecretKey) -> Result<SqliteStore, StoreError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            tokio::fs::create_dir_all(dir).await?;
        }
        let base = SqliteConnectOptions::new()
            .filename(path)
            .busy_timeout(BUSY_TIMEOUT)
            .foreign_keys(true)
            .synchronous(SqliteSynchronous::Normal)
            .pragma("temp_store", "MEMORY");
        // Create the file, switch it to WAL and migrate it with sqlx; the
        // writer then opens its own connection.
        let mut conn = base
            .clone()
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .connect()
            .await?;
        MIGRATOR.run(&mut conn).await?;
        sqlx::Connection::close(conn).await?;
        let writer_path = path.to_path_buf();
        let write_conn =
            tokio::task::spawn_blocking(move || writer::connect(&writer_path, BUSY_TIMEOUT))
                .await
                .map_err(|e| StoreError::Sqlite(format!("opening the write connection: {e}")))??;
        let writer = writer::spawn(write_conn)?;
        let reads = SqlitePoolOptions::new()
            .max_connections(READ_CONNECTIONS)
            .min_connections(1)
            .connect_with(base.read_only(true))
            .await?;
        tracing::debug!(path = %path.display(), "opened SQLite store");
        Ok(SqliteStore {
            inner: Arc::new(Inner {
                path: path.to_path_buf(),
                writer,
                reads: Reader::Sqlite(reads),
                key,
            }),
        })
    }

    /// Opens `home/weft.db` with the key from [`SecretKey::load_or_create`],
    /// creating `home` when absent.
    pub async fn open_home(home: &Path) -> Result<SqliteStore, StoreError> {
        tokio::fs::create_dir_all(home).await?;
        let key = SecretKey::load_or_create(home)?;
        SqliteStore::open(&crate::home::db_path(home), key).await
    }

    /// The database file's path.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Commits everything queued, closes the write connection and the read
    /// pool. Later calls on any clone fail with [`StoreError::Closed`].
    pub async fn close(&self) -> Result<(), StoreError> {
        let closed = match self.inner.writer.call(Op::Close).await {
            Ok(_) | Err(StoreError::Closed) => Ok(()),
            Err(e) => Err(e),
        };
        self.inner.reads.close().await;
        closed
    }

    fn reads(&self) -> &Reader {
        &self.inner.reads
    }
}

#[async_trait]
impl RunRecorder for SqliteStore {
    async fn create_flow_run(&self, run: &FlowRun) -> Result<(), RecordError> {
        let row = FlowRunInsert::from_model(run)?;
        Ok(self
            .inner
            .writer
            .submit(Op::CreateFlowRun(Box::new(row)), run.state.is_terminal())
            .await?)
    }

    async fn set_flow_run_state(
        &self,
        flow_run_id: Uuid,
        state: &State,
    ) -> Result<(), RecordError> {
        let row = StateUpdate::new(flow_run_id, state)?;
        Ok(self
            .inner
            .writer
            .submit(Op::SetFlowRunState(Box::new(row)), state.is_terminal())
            .await?)
    }

    async fn create_task_run(&self, run: &TaskRun) -> Result<(), RecordError> {
        let row = TaskRunInsert::from_model(run)?;
        Ok(self
            .inner
            .writer
            .submit(Op::CreateTaskRun(Box::new(row)), run.state.is_terminal())
            .await?)
    }

    async fn set_task_run_state(
        &self,
        task_run_id: Uuid,
        state: &State,
    ) -> Result<(), RecordError> {
        let row = StateUpdate::new(task_run_id, state)?;
        Ok(self
            .inner
            .writer
            .submit(Op::SetTaskRunState(Box::new(row)), state.is_terminal())
            .await?)
    }

    async fn write_logs(&self, entries: Vec<LogEntry>) -> Result<(), RecordError> {
        if entries.is_empty() {
            return Ok(());
        }
        let rows = entries.into_iter().map(LogInsert::from_model).collect();
        Ok(self.inner.writer.queue(Op::WriteLogs(rows)).await?)
    }

    async fn read_cache(&self, key: &str) -> Result<Option<CacheEntry>, RecordError> {
        Ok(reads::cache_entry(self.reads(), key).await?)
    }

    async fn write_cache(&self, entry: &CacheEntry) -> Result<(), RecordError> {
        let row = CacheInsert::from_model(entry)?;
        Ok(self
            .inner
            .writer
            .queue(Op::WriteCache(Box::new(row)))
            .await?)
    }

    async fn read_secret(&self, name: &str) -> Result<Option<String>, RecordError> {
        let Some(sealed) = reads::sealed_secret(self.reads(), name).await? else {
            return Ok(None);
        };
        Ok(Some(self.inner.key.decrypt(name, &sealed)?))
    }

    async fn flush(&self) -> Result<(), RecordError> {
        self.inner.writer.call(Op::Flush).await?;
        Ok(())
    }
}

#[async_trait]
impl Store for SqliteStore {
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
        let op = Op::SetSecret {
            name: name.to_string(),
            sealed,
            now: chrono::Utc::now(),
        };
        self.inner.writer.call(op).await.map(|_| ())
    }

    async fn list_secret_names(&self) -> Result<Vec<String>, StoreError> {
        reads::secret_names(self.reads()).await
    }

    async fn delete_secret(&self, name: &str) -> Result<bool, StoreError> {
        Ok(self
            .inner
            .writer
            .call(Op::DeleteSecret(name.to_string()))
            .await?
            > 0)
    }

    async fn list_cache(&self, limit: u32, offset: u32) -> Result<Vec<CacheEntry>, StoreError> {
        reads::cache_entries(self.reads(), limit, offset).await
    }

    async fn delete_cache(&self, key: &str) -> Result<bool, StoreError> {
        Ok(self
            .inner
            .writer
            .call(Op::DeleteCache(key.to_string()))
            .await?
            > 0)
    }
}

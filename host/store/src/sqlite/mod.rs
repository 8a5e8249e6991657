//! The SQLite backend: weft's embedded default store.
//!
//! One file in WAL mode (`synchronous = NORMAL`, a busy timeout, foreign
//! keys on). All writes go through the single writer thread and its
//! dedicated connection, batched into one transaction per drain of its
//! queue; reads use a separate pool of read-only connections, which WAL lets
//! run alongside the writer.

mod claims;
mod concurrency;
mod events;
mod schedules;
mod sql;
mod workers;
mod writer;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::ConnectOptions;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use uuid::Uuid;
use weft_core::{
    CacheEntry, ComponentRecord, ConcurrencyLimit, Deployment, FlowRun, Lease, LogEntry, SlotGrant,
    SlotRequest, State, TaskRun, Variable, WorkPool, Worker,
};

use self::writer::{Op, Out, WriterHandle};
use crate::concurrency::LimitKey;
use crate::query::Reader;
use crate::reads;
use crate::rows::{
    CacheInsert, DeploymentRow, FlowRunInsert, LogInsert, StateUpdate, TaskRunInsert, VariableRow,
    WorkPoolRow,
};
use crate::{
    DeploymentFilter, Flow, FlowRunFilter, LogFilter, RecordError, RunRecorder, SecretKey, Store,
    StoreError, TaskRunFilter, Transition, VariableFilter, WorkPoolFilter,
};

/// The migrations of the SQLite schema.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// How long a connection waits for a lock held by another process.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Read connections in the pool.
pub const READ_CONNECTIONS: u32 = 4;

/// Bytes of the database file each connection maps into memory
/// (`PRAGMA mmap_size`): reads of mapped pages need no `pread` call.
pub(crate) const MMAP_SIZE: &str = "1073741824";

/// Each connection's page cache (`PRAGMA cache_size`; negative: KiB).
pub(crate) const CACHE_SIZE: &str = "-32768";

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
    waiters: crate::concurrency::SlotWaiters,
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
            .pragma("temp_store", "MEMORY")
            .pragma("mmap_size", MMAP_SIZE)
            .pragma("cache_size", CACHE_SIZE);
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
                waiters: Default::default(),
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

    async fn acquire_slots(&self, request: &SlotRequest) -> Result<SlotGrant, RecordError> {
        let grant = self
            .inner
            .waiters
            .acquire(request, || async {
                match self
                    .inner
                    .writer
                    .call(concurrency::try_acquire(request.clone()))
                    .await?
                {
                    Out::Grant(g) => Ok(g),
                    other => Err(StoreError::Decode(format!("unexpected answer {other:?}"))),
                }
            })
            .await?;
        Ok(grant)
    }

    async fn renew_lease(&self, lease_id: Uuid, lease: Duration) -> Result<bool, RecordError> {
        let n = self
            .inner
            .writer
            .call_n(concurrency::renew(lease_id, lease))
            .await?;
        Ok(n > 0)
    }

    async fn release_lease(&self, lease_id: Uuid) -> Result<(), RecordError> {
        self.inner
            .writer
            .call_n(concurrency::release(lease_id))
            .await?;
        self.inner.waiters.released();
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
        let op = Op::SetSecret {
            name: name.to_string(),
            sealed,
            now: Utc::now(),
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
            .call_n(Op::DeleteSecret(name.to_string()))
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
            .call_n(Op::DeleteCache(key.to_string()))
            .await?
            > 0)
    }

    async fn upsert_flow(&self, name: &str) -> Result<(Flow, bool), StoreError> {
        crate::common::flow_name_ok(name)?;
        let op = Op::InsertFlow {
            id: Uuid::now_v7().hyphenated().to_string(),
            name: name.to_string(),
            created: Utc::now(),
        };
        let created = self.inner.writer.call_n(op).await? > 0;
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
        Ok(self
            .inner
            .writer
            .call_n(Op::DeleteFlowRun(reads::id(id)))
            .await?
            > 0)
    }

    async fn set_flow_run_state_checked(
        &self,
        id: Uuid,
        state: &State,
        force: bool,
    ) -> Result<Transition, StoreError> {
        let update = Box::new(StateUpdate::new(id, state)?);
        match self
            .inner
            .writer
            .call(Op::SetFlowRunStateChecked { update, force })
            .await?
        {
            Out::Rejected {
                current_state_id,
                reason,
            } => {
                let current = reads::flow_run_state(self.reads(), &current_state_id)
                    .await?
                    .ok_or_else(|| StoreError::NotFound(format!("state {current_state_id}")))?;
                Ok(Transition::Rejected { current, reason })
            }
            _ => Ok(Transition::Accepted(state.clone())),
        }
    }

    async fn create_deployment(&self, deployment: &Deployment) -> Result<Deployment, StoreError> {
        let row = DeploymentRow::from_model(deployment)?;
        self.inner
            .writer
            .call(Op::UpsertDeployment(Box::new(row)))
            .await?;
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
        let n = self
            .inner
            .writer
            .call_n(Op::UpdateDeployment(Box::new(row)))
            .await
            .map_err(|e| {
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
        Ok(self
            .inner
            .writer
            .call_n(Op::DeleteDeployment(reads::id(id)))
            .await?
            > 0)
    }

    async fn list_deployments(
        &self,
        filter: &DeploymentFilter,
    ) -> Result<Vec<Deployment>, StoreError> {
        reads::deployments(self.reads(), filter).await
    }

    async fn create_work_pool(&self, pool: &WorkPool) -> Result<WorkPool, StoreError> {
        let row = WorkPoolRow::from_model(pool)?;
        self.inner
            .writer
            .call(Op::InsertWorkPool(Box::new(row)))
            .await
            .map_err(|e| {
                crate::common::conflict(e, || {
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
        let mut row = WorkPoolRow::from_model(pool)?;
        row.updated = Utc::now();
        Ok(self
            .inner
            .writer
            .call_n(Op::UpdateWorkPool(Box::new(row)))
            .await?
            > 0)
    }

    async fn delete_work_pool(&self, name: &str) -> Result<bool, StoreError> {
        Ok(self
            .inner
            .writer
            .call_n(Op::DeleteWorkPool(name.to_string()))
            .await?
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
        self.inner
            .writer
            .call(workers::heartbeat(pool, name, interval_seconds, at))
            .await
            .map(|_| ())
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
        Ok(self
            .inner
            .writer
            .call_n(workers::delete(pool, name))
            .await?
            > 0)
    }

    async fn create_variable(&self, variable: &Variable) -> Result<Variable, StoreError> {
        let row = VariableRow::from_model(variable)?;
        self.inner
            .writer
            .call(Op::InsertVariable(Box::new(row)))
            .await
            .map_err(|e| {
                crate::common::conflict(e, || {
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
        let mut row = VariableRow::from_model(variable)?;
        row.updated = Utc::now();
        let n = self
            .inner
            .writer
            .call_n(Op::UpdateVariable(Box::new(row)))
            .await
            .map_err(|e| {
                crate::common::conflict(e, || {
                    format!("a variable named {:?} already exists", variable.name)
                })
            })?;
        Ok(n > 0)
    }

    async fn delete_variable_by_name(&self, name: &str) -> Result<bool, StoreError> {
        Ok(self
            .inner
            .writer
            .call_n(Op::DeleteVariable(name.to_string()))
            .await?
            > 0)
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
        Ok(self
            .inner
            .writer
            .call_n(Op::PutComponent {
                row: Box::new(row),
                bytes,
            })
            .await?
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
        let op = claims::claim(claims::Claim {
            pool: pool.to_string(),
            worker: worker.to_string(),
            before,
            limit,
            live_after,
            now: Utc::now(),
        });
        match self.inner.writer.call(op).await? {
            Out::Ids(ids) => reads::flow_runs_in_order(self.reads(), &ids).await,
            _ => Ok(Vec::new()),
        }
    }

    async fn heartbeat_flow_runs(&self, worker: &str, ids: &[Uuid]) -> Result<(), StoreError> {
        if ids.is_empty() {
            return Ok(());
        }
        let op = Op::Heartbeat {
            worker: worker.to_string(),
            ids: ids.iter().copied().map(reads::id).collect(),
            now: Utc::now(),
        };
        self.inner.writer.call(op).await.map(|_| ())
    }

    async fn release_flow_run(&self, id: Uuid, worker: &str) -> Result<bool, StoreError> {
        let op = Op::ReleaseFlowRun {
            id: reads::id(id),
            worker: worker.to_string(),
            now: Utc::now(),
        };
        Ok(self.inner.writer.call_n(op).await? > 0)
    }

    async fn lost_flow_runs(
        &self,
        heartbeat_older_than: DateTime<Utc>,
    ) -> Result<Vec<FlowRun>, StoreError> {
        reads::lost_flow_runs(self.reads(), heartbeat_older_than).await
    }

    async fn create_scheduled_flow_runs(
        &self,
        runs: &[crate::ScheduledRun],
    ) -> Result<Vec<Uuid>, StoreError> {
        let rows = crate::schedules::slot_inserts(runs)?;
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        match self.inner.writer.call(schedules::create(rows)).await? {
            Out::Ids(ids) => crate::schedules::parse_ids(ids),
            _ => Ok(Vec::new()),
        }
    }

    async fn delete_scheduled_flow_runs(
        &self,
        deployment_id: Uuid,
        schedule_id: Option<Uuid>,
        due_from: Option<DateTime<Utc>>,
    ) -> Result<u64, StoreError> {
        self.inner
            .writer
            .call_n(schedules::delete(deployment_id, schedule_id, due_from))
            .await
    }

    async fn mark_late_flow_runs(
        &self,
        due_before: DateTime<Utc>,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Uuid>, StoreError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        match self
            .inner
            .writer
            .call(schedules::mark_late(due_before, now, limit))
            .await?
        {
            Out::Ids(ids) => crate::schedules::parse_ids(ids),
            _ => Ok(Vec::new()),
        }
    }

    async fn create_concurrency_limit(
        &self,
        limit: &ConcurrencyLimit,
    ) -> Result<ConcurrencyLimit, StoreError> {
        let row = crate::concurrency::LimitRow::from_model(limit)?;
        self.inner.writer.call_n(concurrency::create(row)).await?;
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
        let row = crate::concurrency::LimitRow::from_model(limit)?;
        let n = self
            .inner
            .writer
            .call_n(concurrency::update(row, Utc::now()))
            .await?;
        // A larger or inactive limit may have room for waiters now.
        self.inner.waiters.released();
        Ok(n > 0)
    }

    async fn delete_concurrency_limit(&self, id: Uuid) -> Result<bool, StoreError> {
        let n = self.inner.writer.call_n(concurrency::delete(id)).await?;
        self.inner.waiters.released();
        Ok(n > 0)
    }

    async fn reset_concurrency_limit(&self, id: Uuid) -> Result<u64, StoreError> {
        let n = self.inner.writer.call_n(concurrency::reset(id)).await?;
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
        let rows = events
            .iter()
            .map(crate::events::EventRow::from_model)
            .collect::<Result<Vec<_>, _>>()?;
        self.inner.writer.call_n(events::write(rows)).await?;
        Ok(())
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
        let row = crate::events::DefinitionRow::from_model(definition)?;
        self.inner
            .writer
            .call_n(events::put(kind.to_string(), row))
            .await?;
        Ok(())
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
        let n = self
            .inner
            .writer
            .call_n(events::delete(kind.to_string(), id))
            .await?;
        Ok(n > 0)
    }
}

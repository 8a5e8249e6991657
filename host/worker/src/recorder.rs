//! The HTTP recorder: a [`RunRecorder`] that reports one flow run to the
//! server through the REST API.
//!
//! Non-terminal writes (the Running state, task runs and their states,
//! logs, cache entries) are queued and sent in order by one background task
//! per run, so the run never waits for the network; consecutive log writes
//! are merged into one `POST /api/logs/`. A terminal flow-run state waits
//! until it, and everything queued before it, has been sent and accepted,
//! as the [`RunRecorder`] contract asks. Reads (cache entries, secrets) go
//! straight to the server.
//!
//! A refused non-terminal flow-run state (the run was cancelled or taken
//! over meanwhile) cancels the run. A terminal state refused because the
//! run is CANCELLING (it ended just as it was being cancelled) is replaced
//! by Cancelled, the only state a CANCELLING run may enter. A recorder can be *detached* when the
//! worker hands its run back: from then on it drops every write.

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;
use weft_core::{
    CacheEntry, FlowRun, LogEntry, RecordError, RunRecorder, SlotGrant, SlotRequest, State,
    StateType, TaskRun,
};
use weft_runtime::CancelToken;

use crate::api::{ApiClient, ApiError};

/// Log lines sent in one `POST /api/logs/` at most.
pub const MAX_LOG_BATCH: usize = 1000;

/// How long a run's writer holds back a non-terminal flow-run state for
/// what follows it (see [`writer`]).
const STATE_LINGER: Duration = Duration::from_millis(5);

/// Attempts of one request that fails transiently (network, 5xx).
const ATTEMPTS: u32 = 5;

/// Reports one flow run through the API. See the module docs.
pub struct HttpRecorder {
    api: ApiClient,
    flow_run_id: Uuid,
    tx: mpsc::UnboundedSender<Op>,
    shared: Arc<Shared>,
}

/// What the recorder and its writer task share.
struct Shared {
    /// Set when the run was handed back: drop every write.
    detached: AtomicBool,
    /// Cancels the run when the server refuses its state.
    cancel: CancelToken,
    /// Cache entries this run wrote, readable before the server has them.
    written_cache: Mutex<HashMap<String, CacheEntry>>,
}

type Ack = oneshot::Sender<Result<(), RecordError>>;

/// One queued write.
enum Op {
    FlowState(State, Option<Ack>),
    CreateTask(Box<TaskRun>),
    TaskState(Uuid, State),
    Logs(Vec<LogEntry>),
    Cache(CacheEntry),
    Flush(Ack),
}

impl HttpRecorder {
    /// A recorder of the flow run `flow_run_id`, writing through `api`;
    /// `cancel` is the run's token, cancelled if the server refuses the
    /// run's state. Starts the run's writer task (on the current tokio
    /// runtime); it ends when the recorder is dropped and its queue is
    /// empty.
    pub fn new(api: ApiClient, flow_run_id: Uuid, cancel: CancelToken) -> HttpRecorder {
        let (tx, rx) = mpsc::unbounded_channel();
        let shared = Arc::new(Shared {
            detached: AtomicBool::new(false),
            cancel,
            written_cache: Mutex::new(HashMap::new()),
        });
        tokio::spawn(writer(api.clone(), flow_run_id, rx, shared.clone()));
        HttpRecorder {
            api,
            flow_run_id,
            tx,
            shared,
        }
    }

    /// Drops every later write, and every write still queued: the run has
    /// been handed back to the server.
    pub fn detach(&self) {
        self.shared.detached.store(true, Ordering::SeqCst);
    }

    fn enqueue(&self, op: Op) -> Result<(), RecordError> {
        self.tx
            .send(op)
            .map_err(|_| RecordError::Backend("the run's writer has stopped".into()))
    }

    async fn enqueue_and_wait(&self, make: impl FnOnce(Ack) -> Op) -> Result<(), RecordError> {
        let (ack, done) = oneshot::channel();
        self.enqueue(make(ack))?;
        done.await
            .map_err(|_| RecordError::Backend("the run's writer has stopped".into()))?
    }
}

#[async_trait]
impl RunRecorder for HttpRecorder {
    async fn create_flow_run(&self, _run: &FlowRun) -> Result<(), RecordError> {
        Err(RecordError::Backend(
            "a worker runs flow runs created on the server; it does not create them".into(),
        ))
    }

    async fn set_flow_run_state(
        &self,
        flow_run_id: Uuid,
        state: &State,
    ) -> Result<(), RecordError> {
        if flow_run_id != self.flow_run_id {
            return Err(RecordError::NotFound(format!(
                "flow run {flow_run_id} is not the run this recorder reports"
            )));
        }
        if state.is_terminal() {
            let state = state.clone();
            self.enqueue_and_wait(|ack| Op::FlowState(state, Some(ack)))
                .await
        } else {
            self.enqueue(Op::FlowState(state.clone(), None))
        }
    }

    async fn create_task_run(&self, run: &TaskRun) -> Result<(), RecordError> {
        self.enqueue(Op::CreateTask(Box::new(run.clone())))
    }

    async fn set_task_run_state(
        &self,
        task_run_id: Uuid,
        state: &State,
    ) -> Result<(), RecordError> {
        self.enqueue(Op::TaskState(task_run_id, state.clone()))
    }

    async fn write_logs(&self, entries: Vec<LogEntry>) -> Result<(), RecordError> {
        if entries.is_empty() {
            return Ok(());
        }
        self.enqueue(Op::Logs(entries))
    }

    async fn read_cache(&self, key: &str) -> Result<Option<CacheEntry>, RecordError> {
        let mine = self
            .shared
            .written_cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(key)
            .cloned();
        if let Some(entry) = mine {
            return Ok(Some(entry));
        }
        retry(|| self.api.read_cache(key)).await.map_err(backend)
    }

    async fn write_cache(&self, entry: &CacheEntry) -> Result<(), RecordError> {
        self.shared
            .written_cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(entry.key.clone(), entry.clone());
        self.enqueue(Op::Cache(entry.clone()))
    }

    async fn read_secret(&self, name: &str) -> Result<Option<String>, RecordError> {
        retry(|| self.api.read_run_secret(self.flow_run_id, name))
            .await
            .map_err(backend)
    }

    async fn flush(&self) -> Result<(), RecordError> {
        self.enqueue_and_wait(Op::Flush).await
    }

    async fn acquire_slots(&self, request: &SlotRequest) -> Result<SlotGrant, RecordError> {
        match retry(|| self.api.acquire_slots(request)).await {
            Ok(grant) => Ok(grant),
            Err(e) if e.status() == Some(422) => Err(RecordError::Invalid(e.to_string())),
            Err(e) => Err(backend(e)),
        }
    }

    async fn renew_lease(&self, lease_id: Uuid, lease: Duration) -> Result<bool, RecordError> {
        retry(|| self.api.renew_lease(lease_id, lease))
            .await
            .map_err(backend)
    }

    async fn release_lease(&self, lease_id: Uuid) -> Result<(), RecordError> {
        retry(|| self.api.release_lease(lease_id))
            .await
            .map_err(backend)
    }
}

fn backend(e: ApiError) -> RecordError {
    if e.is_not_found() {
        RecordError::NotFound(e.to_string())
    } else {
        RecordError::Backend(e.to_string())
    }
}

/// Runs `call` until it succeeds, fails for good, or has failed
/// transiently [`ATTEMPTS`] times (waiting 50 ms, 100 ms, ... between).
pub async fn retry<T, F, Fut>(mut call: F) -> Result<T, ApiError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, ApiError>>,
{
    let mut delay = Duration::from_millis(50);
    let mut attempt = 1;
    loop {
        match call().await {
            Err(e) if e.is_transient() && attempt < ATTEMPTS => {
                tracing::debug!(error = %e, attempt, "retrying a failed API call");
                tokio::time::sleep(delay).await;
                delay *= 2;
                attempt += 1;
            }
            other => return other,
        }
    }
}

/// The run's writer: sends queued writes in order until the recorder is
/// dropped.
async fn writer(
    api: ApiClient,
    flow_run_id: Uuid,
    mut rx: mpsc::UnboundedReceiver<Op>,
    shared: Arc<Shared>,
) {
    let mut batch = Vec::new();
    while rx.recv_many(&mut batch, 512).await > 0 {
        // A non-terminal flow-run state last in the queue: wait a moment for
        // what follows, so that a short run's Running and terminal state
        // travel in one request.
        if matches!(batch.last(), Some(Op::FlowState(s, None)) if !s.is_terminal()) {
            let _ = tokio::time::timeout(STATE_LINGER, rx.recv_many(&mut batch, 512)).await;
        }
        let mut ops = batch.drain(..).peekable();
        while let Some(op) = ops.next() {
            let detached = shared.detached.load(Ordering::SeqCst);
            match op {
                Op::Logs(mut entries) => {
                    while let Some(Op::Logs(_)) = ops.peek() {
                        if let Some(Op::Logs(more)) = ops.next() {
                            entries.extend(more);
                        }
                    }
                    if detached {
                        continue;
                    }
                    for chunk in entries.chunks(MAX_LOG_BATCH) {
                        if let Err(e) = retry(|| api.write_logs(chunk)).await {
                            tracing::warn!(flow_run = %flow_run_id, error = %e, "could not send log lines");
                        }
                    }
                }
                Op::FlowState(state, ack) => {
                    let mut group = vec![(state, ack)];
                    while let Some(Op::FlowState(..)) = ops.peek() {
                        if let Some(Op::FlowState(state, ack)) = ops.next() {
                            group.push((state, ack));
                        }
                    }
                    if detached {
                        for (_, ack) in group {
                            answer(ack, Ok(()));
                        }
                    } else {
                        send_flow_states(&api, flow_run_id, group, &shared).await;
                    }
                }
                Op::CreateTask(run) => {
                    if detached {
                        continue;
                    }
                    let mut first = true;
                    let result = retry(|| {
                        let retried = !std::mem::replace(&mut first, false);
                        let api = &api;
                        let run = &run;
                        async move {
                            match api.create_task_run(run).await {
                                // A retry of a create that reached the server.
                                Err(e) if retried && e.status() == Some(409) => Ok(()),
                                other => other,
                            }
                        }
                    })
                    .await;
                    if let Err(e) = result {
                        tracing::warn!(flow_run = %flow_run_id, task_run = %run.id, error = %e, "could not record a task run");
                    }
                }
                Op::TaskState(id, state) => {
                    if detached {
                        continue;
                    }
                    match retry(|| api.set_task_run_state(id, &state)).await {
                        Ok(o) if !o.accepted() => {
                            tracing::warn!(flow_run = %flow_run_id, task_run = %id, reason = %o.reason(), "task run state refused")
                        }
                        Ok(_) => {}
                        Err(e) => {
                            tracing::warn!(flow_run = %flow_run_id, task_run = %id, error = %e, "could not record a task run state")
                        }
                    }
                }
                Op::Cache(entry) => {
                    if detached {
                        continue;
                    }
                    if let Err(e) = retry(|| api.write_cache(&entry)).await {
                        tracing::warn!(flow_run = %flow_run_id, key = %entry.key, error = %e, "could not store a cache entry");
                    }
                }
                Op::Flush(ack) => {
                    let _ = ack.send(Ok(()));
                }
            }
        }
    }
}

fn answer(ack: Option<Ack>, result: Result<(), RecordError>) {
    if let Some(ack) = ack {
        let _ = ack.send(result);
    }
}

/// Sends consecutive flow-run states: several in one `set_states`
/// request; from the first one refused on (or all of them, if the request
/// failed), one at a time, as [`send_flow_state`] handles refusals.
async fn send_flow_states(
    api: &ApiClient,
    flow_run_id: Uuid,
    group: Vec<(State, Option<Ack>)>,
    shared: &Shared,
) {
    let states: Vec<State> = group.iter().map(|(s, _)| s.clone()).collect();
    let mut rest = group.into_iter();
    if states.len() > 1 {
        let results = retry(|| api.set_flow_run_states(flow_run_id, &states))
            .await
            .unwrap_or_default();
        for outcome in results {
            if !outcome.accepted() {
                break;
            }
            if let Some((_, ack)) = rest.next() {
                answer(ack, Ok(()));
            }
        }
    }
    for (state, ack) in rest {
        answer(ack, send_flow_state(api, flow_run_id, &state, shared).await);
    }
}

async fn send_flow_state(
    api: &ApiClient,
    flow_run_id: Uuid,
    state: &State,
    shared: &Shared,
) -> Result<(), RecordError> {
    match retry(|| api.set_flow_run_state(flow_run_id, state, false)).await {
        Ok(o) if o.accepted() => Ok(()),
        Ok(o) => {
            let reason = o.reason();
            if !state.is_terminal() {
                tracing::warn!(flow_run = %flow_run_id, state = %state.name, %reason, "state refused: stopping the run");
                shared.cancel.cancel();
            } else if state.state_type != StateType::Cancelled
                && o.state
                    .as_ref()
                    .is_some_and(|s| s.state_type == StateType::Cancelling)
            {
                // The run ended just as it was being cancelled: a
                // CANCELLING run can only become Cancelled.
                let mut cancelled = State::cancelled("the flow run was cancelled");
                if let Some(m) = &state.message {
                    cancelled.message = Some(format!(
                        "the flow run was cancelled (it ended {} meanwhile: {m})",
                        state.name
                    ));
                }
                return match retry(|| api.set_flow_run_state(flow_run_id, &cancelled, false)).await
                {
                    Ok(o) if o.accepted() => Ok(()),
                    Ok(o) => Err(RecordError::Refused(o.reason())),
                    Err(e) => Err(backend(e)),
                };
            }
            Err(RecordError::Refused(reason))
        }
        Err(e) => {
            if !state.is_terminal() {
                tracing::warn!(flow_run = %flow_run_id, state = %state.name, error = %e, "could not record a state");
            }
            Err(backend(e))
        }
    }
}

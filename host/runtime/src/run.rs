//! The shared state of one flow run: its limits and counters, the recorder,
//! the log pipe, and the run-wide stop signal every instance checks.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::time::{Duration, Instant};

use chrono::Utc;
use sha2::Digest;
use tokio::sync::{Notify, Semaphore, mpsc, oneshot};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;
use weft_core::policy::FlowOverrides;
use weft_core::{FlowRun, LogEntry, LogLevel, RunLimits, RunRecorder};

use crate::component::FlowComponent;
use crate::host::http::RunNetwork;
use crate::outcome::{Cancelled, LimitExceeded};

/// A handle to cancel a run from outside it. Cloning shares the handle.
#[derive(Debug, Clone, Default)]
pub struct CancelToken(CancellationToken);

impl CancelToken {
    /// A fresh, not-cancelled token.
    pub fn new() -> CancelToken {
        CancelToken::default()
    }
    /// Asks the run to stop: every instance of the run traps at its next
    /// epoch tick or host call, and the run ends Cancelled.
    pub fn cancel(&self) {
        self.0.cancel();
    }
    /// Whether cancellation was requested.
    pub fn is_cancelled(&self) -> bool {
        self.0.is_cancelled()
    }
}

/// Why the whole run must stop.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum StopReason {
    /// A run-wide limit was hit.
    Limit(LimitExceeded),
    /// The run was cancelled.
    Cancelled,
}

impl StopReason {
    /// The error an instance traps with.
    pub(crate) fn to_error(&self) -> wasmtime::Error {
        match self {
            StopReason::Limit(l) => wasmtime::Error::new(l.clone()),
            StopReason::Cancelled => wasmtime::Error::new(Cancelled),
        }
    }
}

/// Everything the instances of one flow run share.
pub(crate) struct RunContext {
    /// The component being run.
    pub component: Arc<FlowComponent>,
    /// The flow run.
    pub flow_run: FlowRun,
    /// The flow run's parameters as JSON text.
    pub parameters_json: String,
    /// Its limits.
    pub limits: RunLimits,
    /// Secrets the run may read.
    pub allowed_secrets: HashSet<String>,
    /// Outbound HTTP: the policy and the host-bound secrets' placeholders.
    pub network: Arc<RunNetwork>,
    /// Where everything is recorded.
    pub recorder: Arc<dyn RunRecorder>,
    /// When the run must end.
    pub deadline: Instant,
    /// Fuel left for the whole run (`u64::MAX`: unlimited).
    fuel_left: AtomicU64,
    /// Task runs created so far.
    task_runs: AtomicU64,
    /// Log bytes written so far.
    log_bytes: AtomicU64,
    /// The next dynamic key per task name.
    dynamic_keys: Mutex<HashMap<String, u64>>,
    /// Set once when the whole run must stop.
    stop: OnceLock<StopReason>,
    /// External cancellation.
    cancel: CancelToken,
    /// Cancelled when the run must stop, for whatever reason.
    stopped: CancellationToken,
    /// Slots for task runs executing at once.
    pub task_slots: Arc<Semaphore>,
    /// How long a lease on concurrency-limit slots lasts unless renewed.
    pub slot_lease: Duration,
    /// The log pipe (drained by the log forwarder).
    logs: mpsc::UnboundedSender<LogMessage>,
    /// Task runs still executing in the background.
    outstanding: AtomicU64,
    /// Notified when the last background task run ends.
    all_done: Notify,
    /// Secret values read by the run, redacted from its logs.
    redactions: RwLock<Vec<String>>,
    /// The deployment's overrides of the flow's retries and timeout.
    pub overrides: FlowOverrides,
    /// Results of the task calls that completed, for flow retries.
    journal: Mutex<Journal>,
}

/// Identifies one task call within a flow run attempt: the task, a hash
/// of its input, and how many calls of that task with that input the
/// attempt made before it. A call of a later attempt with the same key
/// is the same call made again.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct CallKey {
    task: String,
    input_hash: [u8; 32],
    occurrence: u64,
}

/// A task call's recorded result.
#[derive(Debug, Clone)]
pub(crate) struct Journaled {
    /// The result, JSON text.
    pub output: String,
    /// The task run that produced it.
    pub task_run_id: Uuid,
    /// The flow run attempt that produced it.
    pub attempt: u32,
}

/// The task calls of a flow run that completed, so that a retried flow run
/// gets their results back instead of running them again (Prefect's
/// transactional resume).
#[derive(Debug, Default)]
struct Journal {
    /// The current attempt of the flow run.
    attempt: u32,
    /// Calls made so far in the current attempt, per (task, input hash).
    occurrences: HashMap<(String, [u8; 32]), u64>,
    /// Completed calls of this attempt and earlier ones.
    results: HashMap<CallKey, Journaled>,
}

/// The marker that replaces secret values in logs and messages.
pub const REDACTED: &str = "********";

impl RunContext {
    /// A context for `flow_run`, with the receiving end of its log pipe.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        component: Arc<FlowComponent>,
        flow_run: FlowRun,
        limits: RunLimits,
        allowed_secrets: HashSet<String>,
        recorder: Arc<dyn RunRecorder>,
        cancel: CancelToken,
        slot_lease: Duration,
        operator_hosts: Vec<weft_core::network::AllowedHosts>,
    ) -> (Arc<RunContext>, mpsc::UnboundedReceiver<LogMessage>) {
        let (logs, rx) = mpsc::unbounded_channel();
        let parameters_json = flow_run.parameters.to_string();
        let overrides = limits.flow.clone();
        let network = Arc::new(RunNetwork::new(&limits.network, operator_hosts));
        let ctx = RunContext {
            network,
            component,
            parameters_json,
            deadline: Instant::now() + limits.wall_time,
            fuel_left: AtomicU64::new(limits.fuel.unwrap_or(u64::MAX)),
            task_runs: AtomicU64::new(0),
            log_bytes: AtomicU64::new(0),
            dynamic_keys: Mutex::new(HashMap::new()),
            stop: OnceLock::new(),
            task_slots: Arc::new(Semaphore::new(limits.max_concurrent_tasks.max(1))),
            slot_lease,
            flow_run,
            limits,
            allowed_secrets,
            recorder,
            stopped: cancel.0.child_token(),
            cancel,
            logs,
            outstanding: AtomicU64::new(0),
            all_done: Notify::new(),
            redactions: RwLock::new(Vec::new()),
            overrides,
            journal: Mutex::new(Journal::default()),
        };
        (Arc::new(ctx), rx)
    }

    /// The flow run's id.
    pub(crate) fn flow_run_id(&self) -> Uuid {
        self.flow_run.id
    }

    /// Stops the whole run for `reason` (the first reason wins).
    pub(crate) fn stop(&self, reason: StopReason) -> StopReason {
        let _ = self.stop.set(reason);
        self.stopped.cancel();
        self.stop.get().cloned().unwrap_or(StopReason::Cancelled)
    }

    /// Resolves when the run must stop (cancellation included).
    pub(crate) async fn stopped(&self) {
        self.stopped.cancelled().await
    }

    /// Why the run must stop, if it must: a recorded reason, cancellation
    /// or the wall-clock deadline.
    pub(crate) fn stop_reason(&self) -> Option<StopReason> {
        if let Some(r) = self.stop.get() {
            return Some(r.clone());
        }
        if self.cancel.is_cancelled() {
            return Some(self.stop(StopReason::Cancelled));
        }
        if Instant::now() >= self.deadline {
            let secs = self.limits.wall_time.as_secs_f64();
            return Some(self.stop(StopReason::Limit(LimitExceeded::WallTime { secs })));
        }
        None
    }

    /// Starts attempt `attempt` of the flow body: returns the token that
    /// ends the attempt (cancelled with the run, or when the attempt ends
    /// without success, to stop the task runs it left behind) and restarts
    /// the count of task calls for the journal.
    pub(crate) fn begin_attempt(&self, attempt: u32) -> CancellationToken {
        let mut j = self.journal();
        j.attempt = attempt;
        j.occurrences.clear();
        self.stopped.child_token()
    }

    fn journal(&self) -> std::sync::MutexGuard<'_, Journal> {
        self.journal.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The key of a task call about to be made in the current attempt.
    pub(crate) fn call_key(&self, task: &str, input: &str) -> CallKey {
        let input_hash: [u8; 32] = sha2::Sha256::digest(input.as_bytes()).into();
        let mut j = self.journal();
        let n = j
            .occurrences
            .entry((task.to_string(), input_hash))
            .or_insert(0);
        let occurrence = *n;
        *n += 1;
        CallKey {
            task: task.to_string(),
            input_hash,
            occurrence,
        }
    }

    /// The recorded result of the same call in an earlier attempt.
    pub(crate) fn journaled(&self, key: &CallKey) -> Option<Journaled> {
        let j = self.journal();
        j.results
            .get(key)
            .filter(|r| r.attempt < j.attempt)
            .cloned()
    }

    /// Records the result of a completed call.
    pub(crate) fn journal_result(&self, key: CallKey, output: &str, task_run_id: Uuid) {
        let mut j = self.journal();
        let attempt = j.attempt;
        j.results.entry(key).or_insert_with(|| Journaled {
            output: output.to_string(),
            task_run_id,
            attempt,
        });
    }

    /// Fuel an instance may start with.
    pub(crate) fn fuel_left(&self) -> u64 {
        self.fuel_left.load(Ordering::SeqCst)
    }

    /// Charges `used` fuel to the run. Returns the fuel left, or the limit
    /// error when it ran out (and stops the run).
    pub(crate) fn charge_fuel(&self, used: u64) -> Result<u64, LimitExceeded> {
        let Some(limit) = self.limits.fuel else {
            return Ok(u64::MAX);
        };
        let before = self
            .fuel_left
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |f| {
                Some(f.saturating_sub(used))
            })
            .unwrap_or(0);
        let left = before.saturating_sub(used);
        if left == 0 {
            let err = LimitExceeded::Fuel { limit };
            self.stop(StopReason::Limit(err.clone()));
            return Err(err);
        }
        Ok(left)
    }

    /// Counts a new task run and returns its dynamic key, or the limit
    /// error (and stops the run) when there are too many.
    pub(crate) fn next_task_run(&self, task: &str) -> Result<u64, LimitExceeded> {
        let n = self.task_runs.fetch_add(1, Ordering::SeqCst);
        if n >= self.limits.max_task_runs {
            let err = LimitExceeded::TaskRuns {
                limit: self.limits.max_task_runs,
            };
            self.stop(StopReason::Limit(err.clone()));
            return Err(err);
        }
        let mut keys = self.dynamic_keys.lock().unwrap_or_else(|e| e.into_inner());
        let key = keys.entry(task.to_string()).or_insert(0);
        let k = *key;
        *key += 1;
        Ok(k)
    }

    /// Remembers a secret value the run read, so logs redact it.
    pub(crate) fn add_redaction(&self, value: &str) {
        if value.is_empty() {
            return;
        }
        let mut r = self.redactions.write().unwrap_or_else(|e| e.into_inner());
        if !r.iter().any(|v| v == value) {
            r.push(value.to_string());
            // Longest first, so a secret containing another is fully hidden.
            r.sort_by_key(|v| std::cmp::Reverse(v.len()));
        }
    }

    /// `text` with every secret value the run read replaced by [`REDACTED`].
    pub(crate) fn redact(&self, text: &str) -> String {
        let r = self.redactions.read().unwrap_or_else(|e| e.into_inner());
        let mut out = text.to_string();
        for secret in r.iter() {
            if out.contains(secret.as_str()) {
                out = out.replace(secret.as_str(), REDACTED);
            }
        }
        out
    }

    /// Writes one log line for the run (redacted, counted against the log
    /// limit). Over the limit, stops the run and returns the limit error.
    pub(crate) fn log(
        &self,
        name: &str,
        level: LogLevel,
        message: &str,
        task_run_id: Option<Uuid>,
    ) -> Result<(), LimitExceeded> {
        let limit = self.limits.max_log_bytes;
        let len = message.len() as u64;
        let before = self.log_bytes.fetch_add(len, Ordering::SeqCst);
        if before.saturating_add(len) > limit {
            let err = LimitExceeded::LogBytes { limit };
            self.stop(StopReason::Limit(err.clone()));
            return Err(err);
        }
        let entry = LogEntry {
            name: name.to_string(),
            level,
            message: self.redact(message),
            timestamp: Utc::now(),
            flow_run_id: self.flow_run.id,
            task_run_id,
        };
        // The receiver lives until the run ends; a closed pipe means the
        // run is over and the line has nowhere to go.
        let _ = self.logs.send(LogMessage::Entry(entry));
        Ok(())
    }

    /// Waits until every log line written so far has been handed to the
    /// recorder.
    pub(crate) async fn flush_logs(&self) {
        let (tx, rx) = oneshot::channel();
        if self.logs.send(LogMessage::Flush(tx)).is_ok() {
            let _ = rx.await;
        }
    }

    /// Counts a task run executing in the background until the returned
    /// guard is dropped.
    pub(crate) fn track(self: &Arc<Self>) -> Outstanding {
        self.outstanding.fetch_add(1, Ordering::SeqCst);
        Outstanding(self.clone())
    }

    /// Waits for every background task run to end.
    pub(crate) async fn wait_outstanding(&self) {
        loop {
            let notified = self.all_done.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.outstanding.load(Ordering::SeqCst) == 0 {
                return;
            }
            notified.await;
        }
    }
}

/// Marks a background task run of a run as running; dropping it marks it
/// ended.
pub(crate) struct Outstanding(Arc<RunContext>);

impl Drop for Outstanding {
    fn drop(&mut self) {
        if self.0.outstanding.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.0.all_done.notify_waiters();
        }
    }
}

/// A message on a run's log pipe.
pub(crate) enum LogMessage {
    /// A line to record.
    Entry(LogEntry),
    /// Answer once everything before it was handed to the recorder.
    Flush(oneshot::Sender<()>),
}

/// Forwards log lines from the run's pipe to the recorder in batches,
/// until every sender is gone.
pub(crate) async fn forward_logs(
    recorder: Arc<dyn RunRecorder>,
    mut rx: mpsc::UnboundedReceiver<LogMessage>,
) {
    let mut messages = Vec::new();
    while rx.recv_many(&mut messages, 256).await > 0 {
        let mut entries = Vec::new();
        let mut flushes = Vec::new();
        for m in messages.drain(..) {
            match m {
                LogMessage::Entry(e) => entries.push(e),
                LogMessage::Flush(tx) => flushes.push(tx),
            }
        }
        if !entries.is_empty()
            && let Err(e) = recorder.write_logs(entries).await
        {
            tracing::warn!(error = %e, "could not record run logs");
        }
        for tx in flushes {
            let _ = tx.send(());
        }
    }
}

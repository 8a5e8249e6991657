//! Executes one task run: the cache lookup, then attempts in fresh
//! instances with the retry policy, recording every state (Pending,
//! Running, AwaitingRetry, Retrying, Completed, Cached, Failed, TimedOut,
//! Crashed, Cancelled) as Prefect does.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use serde_json::Value;
use sha2::{Digest, Sha256};
use tokio::sync::oneshot;
use tokio_util::sync::CancellationToken;
use weft_core::{CacheEntry, CachePolicy, RetryPolicy, State, TaskRun};

use crate::bindings::{TaskError, TaskOptions};
use crate::concurrency::{self, NoSlot};
use crate::instance::{Entry, call};
use crate::outcome::{CallOutcome, Crash, LimitExceeded};
use crate::run::{CallKey, RunContext};
use crate::state::Scope;

/// The longest timeout a task may ask for: one day.
const MAX_TIMEOUT: Duration = Duration::from_secs(24 * 60 * 60);

/// Where a task call comes from.
pub(crate) struct Call {
    /// Its key in the run's journal.
    pub key: CallKey,
    /// The caller's attempt token: the task run is cancelled when it is.
    pub ended: CancellationToken,
    /// Whether a task (not the flow body) made the call. Nested task runs
    /// do not take one of the run's task slots, so a parent waiting on its
    /// children never deadlocks.
    pub nested: bool,
}

/// Records `task_run` and starts it in the background. The receiver gets
/// its result.
pub(crate) async fn start(
    run: Arc<RunContext>,
    mut task_run: TaskRun,
    input: String,
    options: TaskOptions,
    call: Call,
) -> wasmtime::Result<oneshot::Receiver<Result<String, TaskError>>> {
    let cache = options.cache.as_ref().map(|c| CachePolicy {
        key: c.key.clone(),
        expiration_secs: c.expiration_secs,
    });
    if let Some(c) = &cache {
        task_run.cache_key = Some(c.key.clone().unwrap_or_else(|| {
            derived_cache_key(&task_run.task_key, run.component.digest(), &input)
        }));
    }
    run.recorder
        .create_task_run(&task_run)
        .await
        .map_err(|e| wasmtime::format_err!("could not record task run: {e}"))?;
    let (tx, rx) = oneshot::channel();
    let ctx = run.clone();
    let outstanding = run.track();
    tokio::spawn(async move {
        let result = execute(ctx, task_run, input, options, cache, call).await;
        let _ = tx.send(result);
        drop(outstanding);
    });
    Ok(rx)
}

/// The default cache key: task name, component digest and input.
fn derived_cache_key(task: &str, digest: &str, input: &str) -> String {
    let mut h = Sha256::new();
    for part in [task, digest, input] {
        h.update((part.len() as u64).to_le_bytes());
        h.update(part.as_bytes());
    }
    hex::encode(h.finalize())
}

fn retry_policy(options: &TaskOptions) -> RetryPolicy {
    options
        .retries
        .as_ref()
        .map(|r| RetryPolicy {
            retries: r.retries,
            delays_ms: r.delays_ms.clone(),
            backoff_factor: r.backoff_factor,
            jitter_factor: r.jitter_factor,
        })
        .unwrap_or_default()
}

async fn set_state(run: &RunContext, task_run: &TaskRun, state: State) {
    if let Err(e) = run.recorder.set_task_run_state(task_run.id, &state).await {
        tracing::warn!(task_run = %task_run.id, error = %e, "could not record task run state");
    }
}

async fn execute(
    run: Arc<RunContext>,
    task_run: TaskRun,
    input: String,
    options: TaskOptions,
    cache: Option<CachePolicy>,
    origin: Call,
) -> Result<String, TaskError> {
    let Call {
        key: call_key,
        ended,
        nested,
    } = origin;
    if let Some(done) = run.journaled(&call_key) {
        // A retried flow run: this call completed in an earlier attempt.
        let value = serde_json::from_str(&done.output).unwrap_or(Value::Null);
        let state = State::cached(value).with_message(format!(
            "result reused from task run {} of attempt {} of the flow run",
            done.task_run_id, done.attempt
        ));
        set_state(&run, &task_run, state).await;
        return Ok(done.output);
    }
    if let Some(key) = &task_run.cache_key {
        match run.recorder.read_cache(key).await {
            Ok(Some(entry)) if entry.is_valid_at(Utc::now()) => {
                set_state(&run, &task_run, State::cached(entry.value.clone())).await;
                let output = entry.value.to_string();
                run.journal_result(call_key, &output, task_run.id);
                return Ok(output);
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "cache lookup failed; running the task"),
        }
    }
    let _slot = if nested {
        None
    } else {
        match run.task_slots.clone().acquire_owned().await {
            Ok(s) => Some(s),
            Err(_) => return Err(TaskError::Crashed("the run is shutting down".into())),
        }
    };
    // Tag concurrency limits: one slot of each tag's limit for the whole
    // task run (all its attempts), taken after the run's own slot.
    let _held = if task_run.tags.is_empty() {
        None
    } else {
        match concurrency::acquire(&run, task_run.id, &task_run.tags, &ended).await {
            Ok(held) => held,
            Err(NoSlot::Cancelled) => {
                set_state(&run, &task_run, cancelled_state()).await;
                return Err(TaskError::Cancelled);
            }
            Err(NoSlot::Refused(why)) => {
                let m = format!("the task run cannot take its concurrency slots: {why}");
                set_state(&run, &task_run, State::failed(m.clone())).await;
                return Err(TaskError::Failed(m));
            }
        }
    };
    let policy = retry_policy(&options);
    let timeout = options
        .timeout_ms
        .map(|ms| Duration::from_millis(ms).min(MAX_TIMEOUT));
    let mut attempt: u32 = 1;
    loop {
        if ended.is_cancelled() {
            // Cancelled while waiting for a slot or a retry: it never runs.
            set_state(&run, &task_run, cancelled_state()).await;
            return Err(TaskError::Cancelled);
        }
        let running = if attempt == 1 {
            State::running()
        } else {
            State::retrying()
        };
        set_state(&run, &task_run, running).await;
        let scope = Scope {
            task_run_id: Some(task_run.id),
            task_name: Some(task_run.task_key.clone()),
            attempt,
            ended: ended.clone(),
        };
        let entry = Entry::Task {
            task: &task_run.task_key,
            input: &input,
        };
        let outcome = call(&run, scope, entry, timeout).await;
        let (final_state, error) = match outcome {
            CallOutcome::Returned(output) => match completed(&run, &output) {
                Ok(value) => {
                    if let Some(key) = &task_run.cache_key {
                        store_cache(&run, &task_run, key, cache.as_ref(), &value).await;
                    }
                    set_state(&run, &task_run, State::completed(value)).await;
                    run.journal_result(call_key, &output, task_run.id);
                    return Ok(output);
                }
                Err(crash) => {
                    let m = crash.to_string();
                    (State::crashed(m.clone()), TaskError::Crashed(m))
                }
            },
            CallOutcome::Failed(message) => {
                let m = run.redact(&message);
                (State::failed(m.clone()), TaskError::Failed(m))
            }
            CallOutcome::TimedOut(message) => (State::timed_out(message), TaskError::TimedOut),
            CallOutcome::Cancelled => (cancelled_state(), TaskError::Cancelled),
            CallOutcome::Crashed(crash) => {
                let m = run.redact(&crash.to_string());
                (State::crashed(m.clone()), TaskError::Crashed(m))
            }
        };
        let retryable = matches!(error, TaskError::Failed(_) | TaskError::TimedOut);
        if retryable
            && attempt <= policy.retries
            && run.stop_reason().is_none()
            && !ended.is_cancelled()
        {
            let delay = policy.delay(attempt, &mut rand::rng());
            let at =
                Utc::now() + chrono::Duration::from_std(delay).unwrap_or(chrono::Duration::zero());
            let why = final_state.message.clone().unwrap_or_default();
            set_state(&run, &task_run, State::awaiting_retry(at, why)).await;
            tokio::select! {
                _ = tokio::time::sleep(delay) => {}
                _ = ended.cancelled() => {}
            }
            attempt += 1;
            continue;
        }
        set_state(&run, &task_run, final_state).await;
        return Err(error);
    }
}

/// The state of a task run stopped by cancellation, or because the flow
/// run attempt that called it ended.
fn cancelled_state() -> State {
    State::cancelled("the flow run was cancelled, or the attempt that called the task ended")
}

/// Checks a returned result against the size limit and parses it.
pub(crate) fn completed(run: &RunContext, output: &str) -> Result<Value, Crash> {
    let limit = run.limits.max_result_bytes;
    if output.len() as u64 > limit {
        return Err(Crash::Limit(LimitExceeded::ResultSize {
            what: "the result".into(),
            size: output.len() as u64,
            limit,
        }));
    }
    serde_json::from_str(output).map_err(|e| {
        Crash::Other(format!(
            "the guest returned a result that is not valid JSON: {e}"
        ))
    })
}

async fn store_cache(
    run: &RunContext,
    task_run: &TaskRun,
    key: &str,
    cache: Option<&CachePolicy>,
    value: &Value,
) {
    let now = Utc::now();
    let entry = CacheEntry {
        key: key.to_string(),
        value: value.clone(),
        created: now,
        expiration: cache.and_then(|c| c.expiration()).map(|d| now + d),
        task_run_id: Some(task_run.id),
    };
    if let Err(e) = run.recorder.write_cache(&entry).await {
        tracing::warn!(error = %e, "could not store the cached result");
    }
}

//! Executes one flow run: Running, the flow body in a fresh instance, the
//! background task runs it left, the flow's retries (AwaitingRetry, then
//! Retrying, with the journal of completed task calls) and timeout, the
//! log flush, and the terminal state.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use tokio::sync::mpsc;
use weft_core::{State, StateType};

use crate::instance::{Entry, call};
use crate::outcome::{CallOutcome, Crash};
use crate::run::{LogMessage, RunContext, StopReason, forward_logs};
use crate::state::Scope;
use crate::task_runner::completed;

/// Runs the flow of `run` to its end and returns the terminal state, which
/// has been recorded (durably) before this returns.
pub(crate) async fn execute(
    run: Arc<RunContext>,
    logs: mpsc::UnboundedReceiver<LogMessage>,
) -> State {
    let forwarder = tokio::spawn(forward_logs(run.recorder.clone(), logs));
    let final_state = body(&run).await;
    run.flush_logs().await;
    let final_state = record(&run, final_state).await;
    drop(forwarder);
    final_state
}

/// The longest timeout a flow may ask for: one week.
const MAX_TIMEOUT: Duration = Duration::from_secs(7 * 24 * 60 * 60);

async fn set_state(run: &RunContext, state: &State) -> Result<(), String> {
    run.recorder
        .set_flow_run_state(run.flow_run_id(), state)
        .await
        .map_err(|e| format!("could not record the {} state: {e}", state.name))
}

async fn body(run: &Arc<RunContext>) -> State {
    let flow = run.flow_run.flow_name.clone();
    if let Err(e) = set_state(run, &State::running()).await {
        return State::crashed(e);
    }
    let Some(info) = run.component.find_flow(&flow) else {
        let known: Vec<_> = run
            .component
            .info()
            .flows
            .iter()
            .map(|f| f.name.as_str())
            .collect();
        return State::failed(format!(
            "the component has no flow named '{flow}' (it has: {})",
            known.join(", ")
        ));
    };
    let policy = run.overrides.apply(info.policy.clone());
    let retries = policy.retries.unwrap_or_default();
    let timeout_ms = policy.timeout_ms.filter(|ms| *ms > 0);
    let timeout = timeout_ms.map(|ms| Duration::from_millis(ms).min(MAX_TIMEOUT));
    let params = run.parameters_json.clone();
    let mut attempt: u32 = 1;
    loop {
        let ended = run.begin_attempt(attempt);
        let scope = Scope {
            task_run_id: None,
            task_name: None,
            attempt,
            ended: ended.clone(),
        };
        let entry = Entry::Flow {
            flow: &flow,
            params: &params,
        };
        let outcome = call(run, scope, entry, timeout).await;
        if !matches!(outcome, CallOutcome::Returned(_)) {
            // Task runs left behind by an attempt that did not succeed are
            // cancelled.
            ended.cancel();
        }
        run.wait_outstanding().await;
        let state = match outcome {
            CallOutcome::Returned(output) => match completed(run, &output) {
                Ok(value) => State::completed(value),
                Err(crash) => State::crashed(crash.to_string()),
            },
            CallOutcome::Failed(message) => State::failed(message),
            CallOutcome::TimedOut(_) => State::timed_out(format!(
                "flow run exceeded its timeout of {} ms (timeout_ms)",
                timeout_ms.unwrap_or_default()
            )),
            CallOutcome::Cancelled => State::cancelled("the flow run was cancelled"),
            CallOutcome::Crashed(Crash::Limit(limit)) => State::crashed(limit.to_string()),
            CallOutcome::Crashed(Crash::Other(reason)) => State::crashed(reason),
        };
        // A run-wide limit hit by a task run is the reason the flow ended.
        match run.stop_reason() {
            Some(StopReason::Limit(limit)) => return State::crashed(limit.to_string()),
            Some(StopReason::Cancelled) if state.state_type != StateType::Completed => {
                return State::cancelled("the flow run was cancelled");
            }
            _ => {}
        }
        // Prefect retries a flow run whose code failed; a timeout, a crash
        // or a cancellation is final.
        let retry = state.state_type == StateType::Failed
            && state.name != "TimedOut"
            && attempt <= retries.retries;
        if !retry {
            return state;
        }
        let delay = retries.delay(attempt, &mut rand::rng());
        let at = Utc::now() + chrono::Duration::from_std(delay).unwrap_or(chrono::Duration::zero());
        let why = format!(
            "retry {attempt} of {}: {}",
            retries.retries,
            state.message.as_deref().unwrap_or("the flow run failed")
        );
        if let Err(e) = set_state(run, &State::awaiting_retry(at, run.redact(&why))).await {
            return State::crashed(e);
        }
        tokio::select! {
            _ = tokio::time::sleep(delay) => {}
            _ = run.stopped() => {}
        }
        match run.stop_reason() {
            Some(StopReason::Limit(limit)) => return State::crashed(limit.to_string()),
            Some(StopReason::Cancelled) => {
                return State::cancelled("the flow run was cancelled");
            }
            None => {}
        }
        if let Err(e) = set_state(run, &State::retrying()).await {
            return State::crashed(e);
        }
        attempt += 1;
    }
}

async fn record(run: &RunContext, mut state: State) -> State {
    if let Some(m) = &state.message {
        state.message = Some(run.redact(m));
    }
    if let Err(e) = run
        .recorder
        .set_flow_run_state(run.flow_run_id(), &state)
        .await
    {
        tracing::error!(flow_run = %run.flow_run_id(), error = %e, "could not record the final state");
    }
    state
}

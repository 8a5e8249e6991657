//! Executes one flow run: Running, the flow body in a fresh instance, the
//! background task runs it left, the log flush, and the terminal state.

use std::sync::Arc;

use tokio::sync::mpsc;
use weft_core::State;

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

async fn body(run: &Arc<RunContext>) -> State {
    let flow = run.flow_run.flow_name.clone();
    if let Err(e) = run
        .recorder
        .set_flow_run_state(run.flow_run_id(), &State::running())
        .await
    {
        return State::crashed(format!("could not record the Running state: {e}"));
    }
    if run.component.find_flow(&flow).is_none() {
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
    }
    let params = run.parameters_json.clone();
    let scope = Scope {
        task_run_id: None,
        task_name: None,
        attempt: 1,
    };
    let outcome = call(
        run,
        scope,
        Entry::Flow {
            flow: &flow,
            params: &params,
        },
        None,
    )
    .await;
    if !matches!(outcome, CallOutcome::Returned(_)) {
        // Task runs left behind by a flow that did not succeed are cancelled.
        run.stop(StopReason::FlowEnded);
    }
    run.wait_outstanding().await;
    let state = match outcome {
        CallOutcome::Returned(output) => match completed(run, &output) {
            Ok(value) => State::completed(value),
            Err(crash) => State::crashed(crash.to_string()),
        },
        CallOutcome::Failed(message) => State::failed(message),
        CallOutcome::TimedOut(message) => State::timed_out(message),
        CallOutcome::Cancelled => State::cancelled("the flow run was cancelled"),
        CallOutcome::Crashed(Crash::Limit(limit)) => State::crashed(limit.to_string()),
        CallOutcome::Crashed(Crash::Other(reason)) => State::crashed(reason),
    };
    // A run-wide limit hit by a task run is the reason the flow ended.
    match run.stop_reason() {
        Some(StopReason::Limit(limit)) => State::crashed(limit.to_string()),
        _ => state,
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

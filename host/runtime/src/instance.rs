//! Calling into a fresh instance: take an instance slot, build the store,
//! instantiate from the component's `InstancePre`, call the export, and
//! classify how it ended. Shared by flow bodies and task attempts.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::outcome::{AttemptTimedOut, CallOutcome, Crash, classify};
use crate::run::{RunContext, StopReason};
use crate::state::{Scope, StoreOptions, new_store, settle_fuel};

/// Which export to call.
pub(crate) enum Entry<'a> {
    /// `run(flow, params)`.
    Flow { flow: &'a str, params: &'a str },
    /// `run-task(task, input)`.
    Task { task: &'a str, input: &'a str },
}

/// Runs one call in a fresh instance of the run's component.
pub(crate) async fn call(
    run: &Arc<RunContext>,
    scope: Scope,
    entry: Entry<'_>,
    timeout: Option<Duration>,
) -> CallOutcome {
    let component = run.component.clone();
    let _slot = match component.instance_slots().clone().acquire_owned().await {
        Ok(slot) => slot,
        Err(_) => return CallOutcome::Crashed(Crash::Other("the runtime is shutting down".into())),
    };
    if let Some(reason) = run.stop_reason() {
        return stopped(reason);
    }
    let ended = scope.ended.clone();
    if ended.is_cancelled() {
        return CallOutcome::Cancelled;
    }
    let options = StoreOptions {
        memory_bytes: run.limits.memory_bytes,
        fuel: 0,
        timeout,
        deadline: None,
    };
    let mut store = match new_store(component.engine(), Some(run.clone()), scope, options) {
        Ok(s) => s,
        Err(e) => {
            return CallOutcome::Crashed(Crash::Other(format!("could not create a store: {e:#}")));
        }
    };
    let attempt_deadline = timeout.map(|t| Instant::now() + t);
    let fuel_limit = run.limits.fuel;
    let work = async {
        let instance = component.pre().instantiate_async(&mut store).await?;
        match entry {
            Entry::Flow { flow, params } => instance.call_run(&mut store, flow, params).await,
            Entry::Task { task, input } => instance.call_run_task(&mut store, task, input).await,
        }
    };
    let deadline = match attempt_deadline {
        Some(a) if a < run.deadline => a,
        _ => run.deadline,
    };
    let result = tokio::select! {
        r = work => Some(r),
        _ = ended.cancelled() => None,
        _ = tokio::time::sleep_until(deadline.into()) => None,
    };
    settle_fuel(&mut store);
    match result {
        Some(Ok(Ok(output))) => CallOutcome::Returned(output),
        Some(Ok(Err(message))) => CallOutcome::Failed(message),
        Some(Err(error)) => {
            let panic = store.data_mut().panic.take();
            classify(&error, panic, fuel_limit)
        }
        None => {
            if let Some(reason) = run.stop_reason() {
                return stopped(reason);
            }
            if ended.is_cancelled() {
                return CallOutcome::Cancelled;
            }
            match timeout {
                Some(t) => CallOutcome::TimedOut(
                    AttemptTimedOut {
                        ms: u64::try_from(t.as_millis()).unwrap_or(u64::MAX),
                    }
                    .to_string(),
                ),
                None => CallOutcome::Crashed(Crash::Other("the call was interrupted".into())),
            }
        }
    }
}

fn stopped(reason: StopReason) -> CallOutcome {
    match reason {
        StopReason::Limit(l) => CallOutcome::Crashed(Crash::Limit(l)),
        StopReason::Cancelled => CallOutcome::Cancelled,
    }
}

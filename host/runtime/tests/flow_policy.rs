//! Flow-level retries (with the journal of completed task calls), flow
//! timeouts, their overrides, and cancellation of running task runs, on the
//! test guest's flows.

mod common;

use std::time::{Duration, Instant};

use common::{Harness, testguest};
use serde_json::json;
use weft_core::policy::FlowOverrides;
use weft_core::{FlowRun, RunLimits, StateType, TaskRun};
use weft_runtime::{CancelToken, RunOptions};

fn overriding(flow: FlowOverrides) -> RunOptions {
    RunOptions {
        limits: RunLimits {
            flow,
            ..RunLimits::default()
        },
        ..Default::default()
    }
}

fn no_fuel_limit() -> RunLimits {
    RunLimits {
        fuel: None,
        ..RunLimits::default()
    }
}

async fn task_runs_named(h: &Harness, run: &FlowRun, task: &str) -> Vec<TaskRun> {
    let mut runs: Vec<TaskRun> = h
        .task_runs(run)
        .await
        .into_iter()
        .filter(|t| t.task_key == task)
        .collect();
    runs.sort_by_key(|t| t.dynamic_key);
    runs
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retried_flow_reuses_the_tasks_that_completed() {
    let h = Harness::new().await;
    let (state, run) = h.run(&testguest(), "resume-after-failure", json!({})).await;
    assert_eq!(state.state_type, StateType::Completed, "{state:?}");
    assert_eq!(
        h.flow_state_names(&run).await,
        [
            "Pending",
            "Running",
            "AwaitingRetry",
            "Retrying",
            "Completed"
        ]
    );
    assert_eq!(run.run_count, 2, "one Running and one Retrying");
    let data = state.data.expect("a result");
    assert_eq!(data["attempt"], json!(2));

    let steps = task_runs_named(&h, &run, "step_a").await;
    assert_eq!(steps.len(), 2, "one task run per attempt: {steps:?}");
    assert_eq!(
        h.state_names(&steps[0]).await,
        ["Pending", "Running", "Completed"]
    );
    assert_eq!(h.state_names(&steps[1]).await, ["Pending", "Cached"]);
    let reused = &steps[1].state;
    assert!(
        reused
            .message
            .as_deref()
            .is_some_and(|m| m.contains(&steps[0].id.to_string()) && m.contains("attempt 1")),
        "the reused result names the run that made it: {reused:?}"
    );
    // step_a returns its own task run id: the second attempt got the
    // first attempt's result, so the task body ran once.
    assert_eq!(data["a"], json!(steps[0].id.to_string()));
    assert_eq!(reused.data, Some(json!(steps[0].id.to_string())));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retries_exhausted_end_failed() {
    let h = Harness::new().await;
    let (state, run) = h.run(&testguest(), "always-fails", json!({})).await;
    assert_eq!(state.state_type, StateType::Failed, "{state:?}");
    assert_eq!(state.name, "Failed");
    assert_eq!(state.message.as_deref(), Some("attempt 3 failed"));
    assert_eq!(run.run_count, 3);
    assert_eq!(
        h.flow_state_names(&run).await,
        [
            "Pending",
            "Running",
            "AwaitingRetry",
            "Retrying",
            "AwaitingRetry",
            "Retrying",
            "Failed"
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flow_over_its_timeout_ends_timed_out() {
    let h = Harness::new().await;
    let options = RunOptions {
        limits: no_fuel_limit(),
        ..Default::default()
    };
    let started = Instant::now();
    let (state, run) = h
        .run_with(&testguest(), "flow-timeout", json!({}), options)
        .await;
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(state.state_type, StateType::Failed, "{state:?}");
    assert_eq!(state.name, "TimedOut");
    let message = state.message.clone().unwrap_or_default();
    assert!(
        message.contains("timeout of 300 ms"),
        "the reason names the timeout: {message}"
    );
    assert_eq!(run.state.name, "TimedOut");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_timeout_is_not_retried_and_cancels_running_tasks() {
    let h = Harness::new().await;
    let options = RunOptions {
        limits: no_fuel_limit(),
        ..Default::default()
    };
    let (state, run) = h
        .run_with(&testguest(), "flow-timeout-task", json!({}), options)
        .await;
    assert_eq!(state.name, "TimedOut", "{state:?}");
    assert_eq!(run.run_count, 1, "a timeout is final, as in Prefect");
    let spins = task_runs_named(&h, &run, "spin_task").await;
    assert_eq!(spins.len(), 1);
    assert_eq!(spins[0].state.state_type, StateType::Cancelled, "{spins:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn overrides_replace_the_flows_own_options() {
    let h = Harness::new().await;
    let no_retries = overriding(FlowOverrides {
        retries: Some(0),
        ..Default::default()
    });
    let (state, run) = h
        .run_with(&testguest(), "resume-after-failure", json!({}), no_retries)
        .await;
    assert_eq!(state.state_type, StateType::Failed, "{state:?}");
    assert_eq!(run.run_count, 1);

    let timeout = overriding(FlowOverrides {
        timeout_ms: Some(200),
        ..Default::default()
    });
    let (state, _) = h
        .run_with(&testguest(), "sleep", json!({"ms": 60_000}), timeout)
        .await;
    assert_eq!(state.name, "TimedOut", "{state:?}");
    assert!(
        state
            .message
            .as_deref()
            .is_some_and(|m| m.contains("200 ms")),
        "{state:?}"
    );

    let retries = overriding(FlowOverrides {
        retries: Some(1),
        retry_delay_ms: Some(1),
        timeout_ms: None,
    });
    let (state, run) = h
        .run_with(&testguest(), "fail-flow", json!({}), retries)
        .await;
    assert_eq!(state.state_type, StateType::Failed, "{state:?}");
    assert_eq!(run.run_count, 2, "one retry from the override");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelling_a_run_cancels_its_running_task_runs() {
    let h = Harness::new().await;
    let cancel = CancelToken::new();
    let options = RunOptions {
        limits: no_fuel_limit(),
        cancel: cancel.clone(),
        ..Default::default()
    };
    let store = h.store.clone();
    let canceller = tokio::spawn(async move {
        // Cancel once the task run is running (or after 10 s regardless).
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let running = weft_store::Store::list_task_runs(&store, &Default::default())
                .await
                .unwrap_or_default()
                .iter()
                .any(|t| t.state.state_type == StateType::Running);
            if running || Instant::now() > deadline {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let at = Instant::now();
        cancel.cancel();
        at
    });
    let (state, run) = h
        .run_with(&testguest(), "infinite-loop-task", json!({}), options)
        .await;
    let ended = Instant::now();
    let cancelled_at = canceller.await.unwrap();
    assert_eq!(state.state_type, StateType::Cancelled, "{state:?}");
    assert!(
        ended - cancelled_at < Duration::from_secs(5),
        "took {:?}",
        ended - cancelled_at
    );
    let spins = task_runs_named(&h, &run, "spin_task").await;
    assert_eq!(spins.len(), 1);
    assert_eq!(spins[0].state.state_type, StateType::Cancelled, "{spins:?}");
    assert_eq!(h.state_names(&spins[0]).await.last().unwrap(), "Cancelled");
}

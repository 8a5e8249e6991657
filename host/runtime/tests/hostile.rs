//! Hostile guests: each ends its run with a reason that names the limit it
//! hit, the host survives, and a normal run right after still completes.

mod common;

use std::time::Duration;

use common::{Harness, assert_host_still_runs, testguest};
use serde_json::json;
use weft_core::{RunLimits, StateType};
use weft_runtime::{CancelToken, RunOptions};

fn limits(f: impl FnOnce(&mut RunLimits)) -> RunOptions {
    let mut limits = RunLimits::default();
    f(&mut limits);
    RunOptions {
        limits,
        ..Default::default()
    }
}

async fn expect_end(
    h: &Harness,
    flow: &str,
    params: serde_json::Value,
    options: RunOptions,
    state_type: StateType,
    reason: &str,
) {
    let (state, run) = h.run_with(&testguest(), flow, params, options).await;
    assert_eq!(state.state_type, state_type, "{flow}: {state:?}");
    let message = state.message.clone().unwrap_or_default();
    assert!(
        message.contains(reason),
        "{flow}: expected a reason containing {reason:?}, got {message:?}"
    );
    assert_eq!(run.state.state_type, state_type, "{flow}: recorded state");
    assert_host_still_runs(h).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn infinite_loop_runs_out_of_fuel() {
    let h = Harness::new().await;
    let options = limits(|l| l.fuel = Some(200_000_000));
    expect_end(
        &h,
        "infinite-loop",
        json!({}),
        options.clone(),
        StateType::Crashed,
        "fuel limit exceeded",
    )
    .await;
    // Fuel is shared by the whole run: a looping task uses up the run's fuel too.
    expect_end(
        &h,
        "infinite-loop-task",
        json!({}),
        options,
        StateType::Crashed,
        "fuel limit exceeded",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn infinite_loop_hits_the_wall_clock() {
    let h = Harness::new().await;
    let options = limits(|l| {
        l.fuel = None;
        l.wall_time = Duration::from_millis(300);
    });
    expect_end(
        &h,
        "infinite-loop",
        json!({}),
        options,
        StateType::Crashed,
        "wall-clock limit exceeded",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_bomb_hits_the_memory_limit() {
    let h = Harness::new().await;
    let options = limits(|l| l.memory_bytes = 64 << 20);
    expect_end(
        &h,
        "memory-bomb",
        json!({}),
        options,
        StateType::Crashed,
        "memory limit exceeded",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unbounded_recursion_crashes() {
    let h = Harness::new().await;
    let (state, _) = h.run(&testguest(), "recursion", json!({})).await;
    assert_eq!(state.state_type, StateType::Crashed, "{state:?}");
    let message = state.message.unwrap_or_default();
    assert!(message.contains("stack overflow"), "{message}");
    assert_host_still_runs(&h).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn log_floods_hit_the_log_limit() {
    let h = Harness::new().await;
    let options = limits(|l| l.max_log_bytes = 100_000);
    expect_end(
        &h,
        "log-flood",
        json!({}),
        options.clone(),
        StateType::Crashed,
        "log limit exceeded",
    )
    .await;
    expect_end(
        &h,
        "stdout-flood",
        json!({}),
        options,
        StateType::Crashed,
        "log limit exceeded",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn huge_result_hits_the_result_limit() {
    let h = Harness::new().await;
    let options = limits(|l| l.max_result_bytes = 1 << 20);
    expect_end(
        &h,
        "huge-result",
        json!({"mb": 4}),
        options,
        StateType::Crashed,
        "result size limit exceeded",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn endless_submission_hits_the_task_run_limit() {
    let h = Harness::new().await;
    let options = limits(|l| l.max_task_runs = 500);
    let (state, run) = h
        .run_with(&testguest(), "endless-submit", json!({}), options)
        .await;
    assert_eq!(state.state_type, StateType::Crashed, "{state:?}");
    assert!(
        state
            .message
            .unwrap_or_default()
            .contains("task run limit exceeded")
    );
    assert!(h.task_runs(&run).await.len() <= 500);
    assert_host_still_runs(&h).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn panics_become_failed_states_with_the_message() {
    let h = Harness::new().await;
    expect_end(
        &h,
        "panic-flow",
        json!({}),
        RunOptions::default(),
        StateType::Failed,
        "boom in flow",
    )
    .await;
    let (state, run) = h.run(&testguest(), "panic-task", json!({})).await;
    assert_eq!(state.state_type, StateType::Failed, "{state:?}");
    assert!(state.message.unwrap_or_default().contains("boom in task"));
    let tasks = h.task_runs(&run).await;
    assert_eq!(tasks[0].state.state_type, StateType::Failed);
    assert!(
        tasks[0]
            .state
            .message
            .clone()
            .unwrap_or_default()
            .contains("boom in task")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn task_timeout_ends_the_task_timed_out() {
    let h = Harness::new().await;
    let options = limits(|l| l.fuel = None);
    let (state, run) = h
        .run_with(&testguest(), "slow-task", json!({}), options)
        .await;
    assert_eq!(state.state_type, StateType::Failed, "{state:?}");
    let tasks = h.task_runs(&run).await;
    assert_eq!(tasks[0].state.name, "TimedOut", "{:?}", tasks[0].state);
    assert_host_still_runs(&h).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancellation_stops_a_running_flow() {
    let h = Harness::new().await;
    let cancel = CancelToken::new();
    let options = RunOptions {
        limits: RunLimits {
            fuel: None,
            ..RunLimits::default()
        },
        cancel: cancel.clone(),
        ..Default::default()
    };
    let canceller = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(200)).await;
        cancel.cancel();
    });
    let (state, _) = h
        .run_with(&testguest(), "infinite-loop", json!({}), options)
        .await;
    canceller.await.unwrap();
    assert_eq!(state.state_type, StateType::Cancelled, "{state:?}");
    assert_host_still_runs(&h).await;
}

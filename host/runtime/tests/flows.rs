//! Flows, tasks, retries, caching, secrets and context on real components.

mod common;

use std::time::Duration;

use common::{Harness, example, testguest};
use serde_json::json;
use weft_core::StateType;
use weft_runtime::{REDACTED, RunOptions};
use weft_store::Store;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hello_completes_and_logs() {
    let h = Harness::new().await;
    let (state, run) = h.run(&example("hello"), "my-first-flow", json!({})).await;
    assert_eq!(state.name, "Completed", "{state:?}");
    assert_eq!(run.state.state_type, StateType::Completed);
    assert_eq!(
        h.flow_state_names(&run).await,
        ["Pending", "Running", "Completed"]
    );
    let logs = h.logs(&run).await;
    assert!(
        logs.iter().any(|l| l.message.contains("Hello from weft!")),
        "{logs:?}"
    );
    let tasks = h.task_runs(&run).await;
    assert_eq!(tasks.len(), 1);
    assert_eq!(tasks[0].task_key, "get_data");
    assert_eq!(
        h.state_names(&tasks[0]).await,
        ["Pending", "Running", "Completed"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typed_params_and_results() {
    let h = Harness::new().await;
    let (state, _) = h.run(&testguest(), "ok", json!({})).await;
    assert_eq!(state.data, Some(json!(42)));
    let (state, _) = h
        .run(&testguest(), "echo", json!({"value": {"a": [1, 2]}}))
        .await;
    assert_eq!(state.data, Some(json!({"a": [1, 2]})));
    let (state, _) = h.run(&testguest(), "echo", json!({})).await;
    assert_eq!(
        state.state_type,
        StateType::Failed,
        "missing parameter: {state:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retries_are_recorded_as_states() {
    let h = Harness::new().await;
    let (state, run) = h.run(&testguest(), "flaky", json!({"fail_times": 2})).await;
    assert_eq!(state.data, Some(json!(3)), "{state:?}");
    let tasks = h.task_runs(&run).await;
    assert_eq!(tasks.len(), 1);
    assert_eq!(tasks[0].run_count, 3);
    assert_eq!(
        h.state_names(&tasks[0]).await,
        [
            "Pending",
            "Running",
            "AwaitingRetry",
            "Retrying",
            "AwaitingRetry",
            "Retrying",
            "Completed"
        ]
    );
    // More failures than retries: the task run ends Failed, and so does the flow.
    let (state, run) = h
        .run(&testguest(), "flaky", json!({"fail_times": 10}))
        .await;
    assert_eq!(state.state_type, StateType::Failed, "{state:?}");
    let tasks = h.task_runs(&run).await;
    assert_eq!(tasks[0].run_count, 4);
    assert_eq!(tasks[0].state.state_type, StateType::Failed);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retries_example_succeeds_on_third_attempt() {
    let h = Harness::new().await;
    let component = h.load(&example("retries")).await;
    let flow = component.info().flows[0].name.clone();
    let (state, run) = h.run(&example("retries"), &flow, json!({})).await;
    assert_eq!(state.state_type, StateType::Completed, "{state:?}");
    let tasks = h.task_runs(&run).await;
    assert_eq!(tasks[0].run_count, 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cache_hits_then_expires() {
    let h = Harness::new().await;
    let (first, run1) = h.run(&testguest(), "short-cache", json!({"x": 7})).await;
    assert_eq!(first.state_type, StateType::Completed, "{first:?}");
    let (second, run2) = h.run(&testguest(), "short-cache", json!({"x": 7})).await;
    assert_eq!(
        second.data, first.data,
        "second run is served from the cache"
    );
    assert_eq!(h.task_runs(&run2).await[0].state.name, "Cached");
    assert_eq!(h.task_runs(&run1).await[0].state.name, "Completed");
    // Another input is another key.
    let (other, _) = h.run(&testguest(), "short-cache", json!({"x": 8})).await;
    assert_ne!(other.data, first.data);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let (third, run3) = h.run(&testguest(), "short-cache", json!({"x": 7})).await;
    assert_ne!(third.data, first.data, "expired entry is not used");
    assert_eq!(h.task_runs(&run3).await[0].state.name, "Completed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cache_example_second_run_is_cached() {
    let h = Harness::new().await;
    let component = h.load(&example("cache")).await;
    let flow = component.info().flows[0].name.clone();
    let (a, _) = h.run(&example("cache"), &flow, json!({})).await;
    let (b, run) = h.run(&example("cache"), &flow, json!({})).await;
    assert_eq!(a.data, b.data);
    assert!(
        h.task_runs(&run)
            .await
            .iter()
            .any(|t| t.state.name == "Cached")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn explicit_cache_key_is_shared() {
    let h = Harness::new().await;
    let (a, _) = h.run(&testguest(), "keyed-cache", json!({"x": 1})).await;
    let (b, _) = h.run(&testguest(), "keyed-cache", json!({"x": 2})).await;
    assert_eq!(a.data, b.data, "same key, different input: cached");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fan_out_of_1000_tasks() {
    let h = Harness::new().await;
    let (state, run) = h.run(&example("fanout"), "etl", json!({"n": 1000})).await;
    assert_eq!(state.state_type, StateType::Completed, "{state:?}");
    let tasks = h.task_runs(&run).await;
    assert_eq!(tasks.len(), 1000);
    assert!(
        tasks
            .iter()
            .all(|t| t.state.state_type == StateType::Completed)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_granted_refused_and_redacted() {
    let h = Harness::new().await;
    h.store
        .set_secret("API_TOKEN", "s3cr3t-value-123")
        .await
        .unwrap();
    let granted = RunOptions {
        allowed_secrets: vec!["API_TOKEN".into()],
        ..Default::default()
    };
    let (state, _) = h
        .run_with(
            &testguest(),
            "read-secret",
            json!({"name": "API_TOKEN"}),
            granted.clone(),
        )
        .await;
    assert_eq!(state.data, Some(json!(16)), "{state:?}");

    let (state, _) = h
        .run(&testguest(), "read-secret", json!({"name": "API_TOKEN"}))
        .await;
    assert_eq!(state.state_type, StateType::Failed);
    assert!(state.message.unwrap_or_default().contains("not granted"));

    let (state, run) = h
        .run_with(
            &testguest(),
            "log-secret",
            json!({"name": "API_TOKEN"}),
            granted.clone(),
        )
        .await;
    assert_eq!(state.state_type, StateType::Completed, "{state:?}");
    let logs = h.logs(&run).await;
    assert!(logs.len() >= 2, "{logs:?}");
    assert!(
        logs.iter().all(|l| !l.message.contains("s3cr3t-value-123")),
        "{logs:?}"
    );
    assert!(
        logs.iter()
            .any(|l| l.message.contains(REDACTED) && l.name == "stdout"),
        "{logs:?}"
    );

    let (state, _) = h
        .run_with(
            &example("secrets"),
            &h.load(&example("secrets")).await.info().flows[0]
                .name
                .clone(),
            json!({}),
            granted,
        )
        .await;
    assert_eq!(state.state_type, StateType::Completed, "{state:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn context_nested_and_failures() {
    let h = Harness::new().await;
    let (state, run) = h.run(&testguest(), "context-info", json!({})).await;
    let data = state.data.expect("context result");
    assert_eq!(data["flow_run_id"], json!(run.id.to_string()));
    assert_eq!(data["flow_run_name"], json!(run.name));
    assert_eq!(data["attempt"], json!(1));
    let (state, run) = h.run(&testguest(), "nested", json!({})).await;
    assert_eq!(state.state_type, StateType::Completed, "{state:?}");
    let tasks = h.task_runs(&run).await;
    assert_eq!(tasks.len(), 2);
    assert!(tasks.iter().any(|t| t.parent_task_run_id.is_some()));
    let (state, _) = h.run(&testguest(), "fail-flow", json!({})).await;
    assert_eq!(state.state_type, StateType::Failed);
    assert!(state.message.unwrap_or_default().contains("flow said no"));
    let (state, _) = h.run(&testguest(), "no-such-flow", json!({})).await;
    assert_eq!(state.state_type, StateType::Failed);
    assert!(state.message.unwrap_or_default().contains("no flow named"));
    let (state, _) = h.run(&testguest(), "sleep", json!({"ms": 50})).await;
    assert_eq!(state.data, Some(json!(50)));
}

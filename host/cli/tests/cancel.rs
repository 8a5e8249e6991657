//! Cancellation and flow-level policies end to end: a real server and a
//! real worker; a running flow (and its running task run) cancelled
//! through `set_state` and through `weft flow-run cancel`, a Scheduled run
//! cancelled without ever running, and a deployment overriding its flow's
//! retries.

mod support;

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::{Weft, block_on, deploy, deploy_on, eventually, state_type};
use weft_test_support::test_guest_wasm;
use weft_worker::ApiClient;

/// A generous bound on how long a cancelled run may take to end Cancelled
/// (the worker checks every 200 ms; the target is well under a second).
const CANCEL_BOUND: Duration = Duration::from_secs(5);

async fn task_runs_of(api: &ApiClient, flow_run: &str) -> Vec<Value> {
    api.post(
        &["task_runs", "filter"],
        &json!({ "task_runs": { "flow_run_id": { "any_": [flow_run] } }, "limit": 100 }),
    )
    .await
    .unwrap_or_default()
}

async fn state_names(api: &ApiClient, flow_run: &str) -> Vec<String> {
    let states: Vec<Value> = api
        .get(&["flow_runs", flow_run, "states"])
        .await
        .expect("states");
    states
        .iter()
        .map(|s| s["name"].as_str().unwrap_or("").to_string())
        .collect()
}

fn create_run(api: &ApiClient, deployment: &str) -> String {
    let run: Value =
        block_on(api.post(&["deployments", deployment, "create_flow_run"], &json!({})))
            .expect("create a flow run");
    run["id"].as_str().expect("run id").to_string()
}

/// Waits until `flow_run` has a RUNNING task run.
async fn wait_for_running_task(api: &ApiClient, flow_run: &str) {
    eventually("a running task run", || async {
        let tasks = task_runs_of(api, flow_run).await;
        tasks
            .iter()
            .any(|t| state_type(t) == "RUNNING")
            .then_some(())
    })
    .await;
}

/// Polls (every 10 ms) until the run has ended; returns it and how long
/// that took from `since`.
async fn wait_until_ended(api: &ApiClient, id: &str, since: Instant) -> (Value, Duration) {
    loop {
        let run: Value = api.get(&["flow_runs", id]).await.expect("the run");
        if matches!(
            state_type(&run),
            "CANCELLED" | "COMPLETED" | "FAILED" | "CRASHED"
        ) {
            return (run, since.elapsed());
        }
        assert!(
            since.elapsed() < support::DEADLINE,
            "the run never ended: {run}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[test]
fn cancelling_a_running_flow_stops_it_and_its_task_runs() {
    let weft = Weft::new();
    let _server = weft.start_server(&[]);
    let deployment = deploy(
        &weft,
        &test_guest_wasm("testguest"),
        "infinite-loop-task",
        "spin",
        "pool-cancel",
    );
    let api = weft.api();
    let _worker = weft.start_worker("pool-cancel", &[]);

    // Through the API: set_state CANCELLING.
    let id = create_run(&api, &deployment);
    block_on(wait_for_running_task(&api, &id));
    let asked = Instant::now();
    let answer: Value = block_on(api.post(
        &["flow_runs", &id, "set_state"],
        &json!({ "state": { "type": "CANCELLING", "message": "test" } }),
    ))
    .expect("set_state");
    assert_eq!(answer["status"], "ACCEPT", "{answer}");
    let (run, took) = block_on(wait_until_ended(&api, &id, asked));
    eprintln!("set_state CANCELLING -> CANCELLED took {took:?}");
    assert_eq!(state_type(&run), "CANCELLED", "{run}");
    assert!(took < CANCEL_BOUND, "cancelling took {took:?}");
    let tasks = block_on(task_runs_of(&api, &id));
    assert_eq!(tasks.len(), 1, "{tasks:?}");
    assert_eq!(state_type(&tasks[0]), "CANCELLED", "{:?}", tasks[0]);
    let names = block_on(state_names(&api, &id));
    assert_eq!(
        names.last().map(String::as_str),
        Some("Cancelled"),
        "{names:?}"
    );
    assert!(names.iter().any(|n| n == "Cancelling"), "{names:?}");

    // Through the CLI, which waits for the run to end.
    let id = create_run(&api, &deployment);
    block_on(wait_for_running_task(&api, &id));
    let asked = Instant::now();
    let out = weft.ok(&["flow-run", "cancel", &id]);
    let took = asked.elapsed();
    eprintln!("weft flow-run cancel (process included) took {took:?}: {out}");
    assert!(out.contains("cancelled after"), "{out}");
    assert!(took < CANCEL_BOUND, "cancelling took {took:?}");
    let run: Value = block_on(api.get(&["flow_runs", &id])).expect("the run");
    assert_eq!(state_type(&run), "CANCELLED", "{run}");
    let tasks = block_on(task_runs_of(&api, &id));
    assert!(
        tasks.iter().all(|t| state_type(t) == "CANCELLED"),
        "{tasks:?}"
    );

    // The worker is still fine: a new run of another flow completes.
    let ok = deploy_on(
        &weft,
        &test_guest_wasm("testguest"),
        "ok",
        "ok",
        "pool-cancel",
    );
    let id = create_run(&api, &ok);
    let (run, _) = block_on(wait_until_ended(&api, &id, Instant::now()));
    assert_eq!(state_type(&run), "COMPLETED", "{run}");
}

#[test]
fn a_scheduled_run_is_cancelled_without_running() {
    let weft = Weft::new();
    let _server = weft.start_server(&[]);
    let deployment = deploy(
        &weft,
        &test_guest_wasm("testguest"),
        "ok",
        "ok",
        "pool-idle",
    );
    let api = weft.api();
    let id = create_run(&api, &deployment);
    let answer: Value = block_on(api.post(
        &["flow_runs", &id, "set_state"],
        &json!({ "state": { "type": "CANCELLING" } }),
    ))
    .expect("set_state");
    // Prefect's answer: REJECT, with the Cancelled state the run entered.
    assert_eq!(answer["status"], "REJECT", "{answer}");
    assert_eq!(answer["state"]["type"], "CANCELLED", "{answer}");
    let run: Value = block_on(api.get(&["flow_runs", &id])).expect("the run");
    assert_eq!(state_type(&run), "CANCELLED", "{run}");

    // A worker never runs it; it runs the next one.
    let _worker = weft.start_worker("pool-idle", &[]);
    let next = create_run(&api, &deployment);
    let (run, _) = block_on(wait_until_ended(&api, &next, Instant::now()));
    assert_eq!(state_type(&run), "COMPLETED", "{run}");
    let names = block_on(state_names(&api, &id));
    assert!(
        !names.iter().any(|n| n == "Running" || n == "Pending"),
        "the cancelled run never started: {names:?}"
    );
}

#[test]
fn flow_retries_run_on_a_worker_and_a_deployment_overrides_them() {
    let weft = Weft::new();
    let _server = weft.start_server(&[]);
    let wasm = test_guest_wasm("testguest");
    let resume = deploy(&weft, &wasm, "resume-after-failure", "r", "pool-retry");
    let once = deploy_on(&weft, &wasm, "always-fails", "once", "pool-retry");
    let api = weft.api();
    block_on(api.call(
        reqwest::Method::PATCH,
        &["deployments", &once],
        &json!({ "limits": { "flow": { "retries": 0 } } }),
    ))
    .expect("patch the deployment");
    let d: Value = block_on(api.get(&["deployments", &once])).expect("the deployment");
    assert_eq!(d["limits"]["flow"]["retries"], 0, "{d}");
    let _worker = weft.start_worker("pool-retry", &[]);

    let id = create_run(&api, &resume);
    let (run, _) = block_on(wait_until_ended(&api, &id, Instant::now()));
    assert_eq!(state_type(&run), "COMPLETED", "{run}");
    assert_eq!(run["run_count"], 2, "{run}");
    let names = block_on(state_names(&api, &id));
    assert_eq!(
        names,
        [
            "Scheduled",
            "Pending",
            "Running",
            "AwaitingRetry",
            "Retrying",
            "Completed"
        ]
    );
    let tasks = block_on(task_runs_of(&api, &id));
    let mut tasks: Vec<&Value> = tasks.iter().filter(|t| t["task_key"] == "step_a").collect();
    tasks.sort_by_key(|t| {
        t["dynamic_key"]
            .as_str()
            .and_then(|k| k.parse::<u64>().ok())
    });
    assert_eq!(tasks.len(), 2, "{tasks:?}");
    assert_eq!(tasks[1]["state"]["name"], "Cached", "{tasks:?}");

    let id = create_run(&api, &once);
    let (run, _) = block_on(wait_until_ended(&api, &id, Instant::now()));
    assert_eq!(state_type(&run), "FAILED", "{run}");
    assert_eq!(run["run_count"], 1, "the deployment allows no retry: {run}");
}

#[test]
fn a_run_awaiting_its_retry_stays_with_its_worker() {
    let weft = Weft::new();
    let _server = weft.start_server(&[]);
    let deployment = deploy(
        &weft,
        &test_guest_wasm("testguest"),
        "ok",
        "ok",
        "pool-held",
    );
    let api = weft.api();
    let id = create_run(&api, &deployment);
    let claim = |worker: &str| -> Vec<Value> {
        block_on(api.post(
            &["work_pools", "pool-held", "claim_flow_runs"],
            &json!({ "worker": worker, "limit": 10 }),
        ))
        .expect("claim")
    };
    assert_eq!(claim("w1").len(), 1);
    for state in [
        json!({ "type": "RUNNING" }),
        json!({ "type": "SCHEDULED", "name": "AwaitingRetry",
                "state_details": { "scheduled_time": "2020-01-01T00:00:00Z" } }),
    ] {
        let answer: Value =
            block_on(api.post(&["flow_runs", &id, "set_state"], &json!({ "state": state })))
                .expect("set_state");
        assert_eq!(answer["status"], "ACCEPT", "{answer}");
    }
    // Due, but held by w1, which retries it in process: nobody else gets it.
    assert!(claim("w2").is_empty());
    let scheduled: Vec<Value> = block_on(api.post(
        &["work_pools", "pool-held", "get_scheduled_flow_runs"],
        &json!({}),
    ))
    .expect("scheduled runs");
    assert!(scheduled.is_empty(), "{scheduled:?}");
    // Handed back, it is anybody's again.
    block_on(api.release_flow_run(uuid::Uuid::parse_str(&id).expect("uuid"), "w1"))
        .expect("release");
    assert_eq!(claim("w2").len(), 1);
}

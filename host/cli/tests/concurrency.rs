//! Concurrency limits end to end, on real processes: a tag limit of 2
//! holds across two workers, a killed worker's slot comes back when its
//! lease expires, a deployment's limit runs its flow runs one at a time,
//! and `weft concurrency-limit` manages tag limits on the server and in
//! the embedded store.

mod support;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use support::{Weft, block_on, deploy, eventually, state_type};
use weft_test_support::test_guest_wasm;
use weft_worker::ApiClient;

fn create_run(api: &ApiClient, deployment: &str, parameters: Value) -> String {
    let run: Value = block_on(api.post(
        &["deployments", deployment, "create_flow_run"],
        &json!({ "parameters": parameters }),
    ))
    .expect("create a flow run");
    run["id"].as_str().expect("run id").to_string()
}

async fn wait_completed(api: &ApiClient, ids: &[String]) {
    for id in ids {
        eventually("the run to complete", || async {
            let run: Value = api.get(&["flow_runs", id]).await.ok()?;
            match state_type(&run) {
                "COMPLETED" => Some(()),
                "FAILED" | "CRASHED" | "CANCELLED" => panic!("the run did not complete: {run}"),
                _ => None,
            }
        })
        .await;
    }
}

async fn task_runs_of(api: &ApiClient, flow_runs: &[String]) -> Vec<Value> {
    api.post(
        &["task_runs", "filter"],
        &json!({ "task_runs": { "flow_run_id": { "any_": flow_runs } }, "limit": 200 }),
    )
    .await
    .expect("task runs")
}

async fn log_messages(api: &ApiClient, flow_runs: &[String]) -> Vec<String> {
    let logs: Vec<Value> = api
        .post(
            &["logs", "filter"],
            &json!({ "logs": { "flow_run_id": { "any_": flow_runs } }, "limit": 1000 }),
        )
        .await
        .expect("logs");
    logs.iter()
        .map(|l| l["message"].as_str().unwrap_or("").to_string())
        .collect()
}

fn time(v: &Value, field: &str) -> DateTime<Utc> {
    v[field]
        .as_str()
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .unwrap_or_else(|| panic!("{field} of {v}"))
        .with_timezone(&Utc)
}

/// The most intervals `[start_time, end_time]` of `runs` that overlap.
fn most_at_once(runs: &[Value]) -> usize {
    let mut edges: Vec<(DateTime<Utc>, i32)> = Vec::new();
    for r in runs {
        edges.push((time(r, "start_time"), 1));
        edges.push((time(r, "end_time"), -1));
    }
    // Ends sort before starts at the same instant.
    edges.sort();
    let (mut now, mut most) = (0i32, 0i32);
    for (_, d) in edges {
        now += d;
        most = most.max(now);
    }
    most as usize
}

#[test]
fn a_tag_limit_of_two_holds_across_two_workers() {
    let weft = Weft::new();
    let _server = weft.start_server(&[]);
    let deployment = deploy(
        &weft,
        &test_guest_wasm("testguest"),
        "tagged-fanout",
        "fan",
        "pool-tags",
    );
    let out = weft.ok(&["concurrency-limit", "create", "db", "2"]);
    assert!(out.is_empty() || out.contains("db"), "{out}");
    let api = weft.api();
    let _a = weft.start_worker("pool-tags", &["--limit", "1"]);
    let _b = weft.start_worker("pool-tags", &["--limit", "1"]);

    // Two runs of 5 tagged tasks each: 10 task runs queued for 2 slots.
    let runs: Vec<String> = (0..2)
        .map(|_| create_run(&api, &deployment, json!({ "n": 5, "ms": 250 })))
        .collect();
    block_on(wait_completed(&api, &runs));

    let tasks = block_on(task_runs_of(&api, &runs));
    assert_eq!(tasks.len(), 10, "{tasks:?}");
    assert!(
        tasks.iter().all(|t| state_type(t) == "COMPLETED"),
        "{tasks:?}"
    );
    let most = most_at_once(&tasks);
    eprintln!("at most {most} tagged task runs ran at once");
    assert!(most <= 2, "the limit of 2 was exceeded: {most} at once");
    // The queued ones said they were waiting, and then started.
    let logs = block_on(log_messages(&api, &runs));
    assert!(
        logs.iter()
            .any(|m| m.contains("waits for a concurrency slot") && m.contains("tag:db")),
        "{logs:?}"
    );
    assert!(
        logs.iter().any(|m| m.contains("got its concurrency slot")),
        "{logs:?}"
    );
    // Every slot was released.
    let limit: Value =
        block_on(api.get(&["concurrency_limits", "tag", "db"])).expect("the tag limit");
    assert_eq!(limit["concurrency_limit"], 2, "{limit}");
    assert_eq!(limit["active_slots"], json!([]), "{limit}");
    let ls = weft.ok(&["concurrency-limit", "ls"]);
    assert!(ls.contains("db") && ls.contains('2'), "{ls}");
}

#[test]
fn a_killed_workers_slot_comes_back_when_its_lease_expires() {
    let weft = Weft::new();
    let _server = weft.start_server(&[]);
    let deployment = deploy(
        &weft,
        &test_guest_wasm("testguest"),
        "tagged-fanout",
        "fan",
        "pool-kill",
    );
    weft.ok(&["concurrency-limit", "create", "db", "1"]);
    let api = weft.api();
    let lease = ["--limit", "1", "--slot-lease-secs", "1.5"];
    let mut doomed = weft.start_worker("pool-kill", &lease);

    // A task that would hold the only slot for ten minutes.
    let stuck = create_run(&api, &deployment, json!({ "n": 1, "ms": 600_000 }));
    block_on(eventually("the task to hold the slot", || async {
        let tasks = task_runs_of(&api, std::slice::from_ref(&stuck)).await;
        tasks
            .iter()
            .any(|t| state_type(t) == "RUNNING")
            .then_some(())
    }));
    let limit: Value =
        block_on(api.get(&["concurrency_limits", "tag", "db"])).expect("the tag limit");
    assert_eq!(
        limit["active_slots"].as_array().map(Vec::len),
        Some(1),
        "{limit}"
    );

    // The worker dies without releasing anything.
    doomed.child.kill().expect("SIGKILL");
    let _ = doomed.child.wait();

    let _rescuer = weft.start_worker("pool-kill", &lease);
    let next = create_run(&api, &deployment, json!({ "n": 1, "ms": 10 }));
    block_on(wait_completed(&api, std::slice::from_ref(&next)));
    let limit: Value =
        block_on(api.get(&["concurrency_limits", "tag", "db"])).expect("the tag limit");
    assert_eq!(limit["active_slots"], json!([]), "{limit}");
}

#[test]
fn a_deployment_limit_runs_its_flow_runs_one_at_a_time() {
    let weft = Weft::new();
    let _server = weft.start_server(&[]);
    weft.ok(&["work-pool", "create", "pool-one"]);
    let wasm = test_guest_wasm("testguest");
    let out = weft.ok(&[
        "deploy",
        wasm.to_str().expect("utf-8 path"),
        "--flow",
        "sleep",
        "--name",
        "one",
        "--pool",
        "pool-one",
        "--concurrency-limit",
        "1",
    ]);
    assert!(out.contains("is ready on work pool"), "{out}");
    let api = weft.api();
    let d: Value = block_on(api.get(&["deployments", "name", "sleep", "one"])).expect("deployment");
    assert_eq!(d["concurrency_limit"], 1, "{d}");
    let deployment = d["id"].as_str().expect("id").to_string();
    let _a = weft.start_worker("pool-one", &[]);
    let _b = weft.start_worker("pool-one", &[]);

    let runs: Vec<String> = (0..3)
        .map(|_| create_run(&api, &deployment, json!({ "ms": 300 })))
        .collect();
    block_on(wait_completed(&api, &runs));

    let mut flow_runs = Vec::new();
    let mut waited = false;
    for id in &runs {
        flow_runs.push(block_on(api.get::<Value>(&["flow_runs", id])).expect("run"));
        let states: Vec<Value> = block_on(api.get(&["flow_runs", id, "states"])).expect("states");
        waited |= states
            .iter()
            .any(|s| s["name"] == "AwaitingConcurrencySlot");
    }
    assert_eq!(most_at_once(&flow_runs), 1, "{flow_runs:?}");
    assert!(waited, "no run waited for the deployment's slot");
    let logs = block_on(log_messages(&api, &runs));
    assert!(
        logs.iter()
            .any(|m| m.contains("deployment's concurrency limit of 1")),
        "{logs:?}"
    );
}

#[test]
fn concurrency_limit_commands_work_in_the_embedded_store() {
    let weft = Weft::new();
    // No server: WEFT_API_URL points at nothing, so unset it.
    let run = |args: &[&str]| {
        let out = weft
            .command(args)
            .env_remove("WEFT_API_URL")
            .output()
            .expect("weft runs");
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (ok, _, err) = run(&["concurrency-limit", "create", "db", "3"]);
    assert!(ok && err.contains("limited to 3"), "{err}");
    let (ok, _, _) = run(&["concurrency-limit", "create", "db", "4"]);
    assert!(ok);
    let (ok, out, _) = run(&["concurrency-limit", "ls"]);
    assert!(ok && out.contains("db") && out.contains('4'), "{out}");
    let (ok, out, _) = run(&["concurrency-limit", "inspect", "db"]);
    let v: Value = serde_json::from_str(&out).expect("JSON");
    assert!(ok);
    assert_eq!(v["concurrency_limit"], 4, "{v}");
    let (ok, _, _) = run(&["concurrency-limit", "delete", "db"]);
    assert!(ok);
    let (ok, _, err) = run(&["concurrency-limit", "inspect", "db"]);
    assert!(!ok && err.contains("no concurrency limit"), "{err}");
}

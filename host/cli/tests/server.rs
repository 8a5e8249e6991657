//! End-to-end tests of weft as a central server with workers: real `weft
//! server start` and `weft worker start` processes on 127.0.0.1 (free
//! ports), each test with its own `WEFT_HOME`, driven through the CLI and
//! the REST API. They assert behaviour, never timings; every wait is
//! bounded by [`support::DEADLINE`].

mod support;

use std::process::Command;

use serde_json::{Value, json};
use support::{Weft, block_on, deploy, eventually, state_type};
use weft_test_support::{example_wasm, test_guest_wasm};
use weft_worker::ApiClient;

/// Every flow run of the deployment `deployment_id`, a page at a time.
async fn runs_of(api: &ApiClient, deployment_id: &str) -> Vec<Value> {
    let mut out = Vec::new();
    loop {
        let body = json!({
            "flow_runs": { "deployment_id": { "any_": [deployment_id] } },
            "sort": "ID_DESC",
            "limit": 200,
            "offset": out.len(),
        });
        let page: Vec<Value> = api
            .post(&["flow_runs", "filter"], &body)
            .await
            .expect("filter flow runs");
        let n = page.len();
        out.extend(page);
        if n < 200 {
            return out;
        }
    }
}

/// Two workers run `n` runs of the hello deployment, each exactly once.
fn two_workers_run_each_flow_run_once(extra_server_args: &[&str]) {
    const N: usize = 200;
    let weft = Weft::new();
    let _server = weft.start_server(extra_server_args);
    let deployment = deploy(
        &weft,
        &example_wasm("hello"),
        "my-first-flow",
        "many",
        "pool-a",
    );
    let api = weft.api();

    // Some runs exist before the workers start, the rest arrive while they run.
    let create = |count: usize| {
        let api = api.clone();
        let deployment = deployment.clone();
        async move {
            for _ in 0..count {
                let _: Value = api
                    .post(&["deployments", &deployment, "create_flow_run"], &json!({}))
                    .await
                    .expect("create a flow run");
            }
        }
    };
    block_on(create(N / 2));
    let _w1 = weft.start_worker("pool-a", &["--limit", "8"]);
    let _w2 = weft.start_worker("pool-a", &["--limit", "8"]);
    block_on(create(N - N / 2));

    block_on(async {
        let runs = eventually("every flow run to end", || async {
            let runs = runs_of(&api, &deployment).await;
            (runs.len() == N
                && runs.iter().all(|r| {
                    matches!(
                        state_type(r),
                        "COMPLETED" | "FAILED" | "CRASHED" | "CANCELLED"
                    )
                }))
            .then_some(runs)
        })
        .await;
        for run in &runs {
            let id = run["id"].as_str().expect("run id");
            assert_eq!(state_type(run), "COMPLETED", "run {id}: {run}");
            let states: Vec<Value> = api.get(&["flow_runs", id, "states"]).await.expect("states");
            let running = states.iter().filter(|s| s["type"] == "RUNNING").count();
            assert_eq!(running, 1, "run {id} ran {running} times: {states:?}");
            let tasks: Vec<Value> = api
                .post(
                    &["task_runs", "filter"],
                    &json!({ "task_runs": { "flow_run_id": { "any_": [id] } } }),
                )
                .await
                .expect("task runs");
            assert_eq!(tasks.len(), 1, "run {id}: {tasks:?}");
            assert_eq!(tasks[0]["state"]["type"], "COMPLETED", "{tasks:?}");
            let logs: Vec<Value> = api
                .post(
                    &["logs", "filter"],
                    &json!({ "logs": { "flow_run_id": { "any_": [id] } } }),
                )
                .await
                .expect("logs");
            let hello = logs
                .iter()
                .filter(|l| l["message"] == "Hello from weft!")
                .count();
            assert_eq!(hello, 1, "run {id}: {logs:?}");
        }
    });
}

#[test]
fn server_and_two_workers_on_sqlite_run_each_flow_run_exactly_once() {
    two_workers_run_each_flow_run_once(&[]);
}

/// A fresh Postgres database, dropped when this is dropped.
struct PgDatabase {
    name: String,
}

impl PgDatabase {
    fn create() -> PgDatabase {
        let name = format!("weft_cli_{}", uuid::Uuid::new_v4().simple());
        psql(&format!("CREATE DATABASE {name}"));
        PgDatabase { name }
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:5432/{}", self.name)
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        psql(&format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            self.name
        ));
    }
}

fn psql(sql: &str) {
    let out = Command::new("psql")
        .args(["-h", "127.0.0.1", "-U", "postgres", "-d", "test", "-c", sql])
        .output()
        .expect("psql runs");
    assert!(
        out.status.success(),
        "psql `{sql}` failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn server_and_two_workers_on_postgres_run_each_flow_run_exactly_once() {
    let db = PgDatabase::create();
    let url = db.url();
    two_workers_run_each_flow_run_once(&["--database-url", &url]);
}

#[test]
fn a_worker_stopped_with_sigterm_hands_back_its_run() {
    let weft = Weft::new();
    let _server = weft.start_server(&[]);
    let deployment = deploy(
        &weft,
        &test_guest_wasm("testguest"),
        "infinite-loop",
        "forever",
        "pool-b",
    );
    let api = weft.api();
    let run: Value =
        block_on(api.post(&["deployments", &deployment, "create_flow_run"], &json!({})))
            .expect("create a flow run");
    let id = run["id"].as_str().expect("run id").to_string();
    let mut worker = weft.start_worker("pool-b", &["--limit", "1", "--grace-secs", "0.2"]);

    block_on(eventually("the worker to start the run", || async {
        let run: Value = api.get(&["flow_runs", &id]).await.ok()?;
        (state_type(&run) == "RUNNING").then_some(())
    }));
    assert_eq!(worker.terminate(), Some(0), "the worker exits cleanly");

    let run: Value = block_on(api.get(&["flow_runs", &id])).expect("the run");
    assert_eq!(state_type(&run), "SCHEDULED", "handed back: {run}");

    // A run nobody is running is cancelled at once.
    let out = weft.ok(&["flow-run", "cancel", &id]);
    assert!(out.contains("cancelled"), "{out}");
    let run: Value = block_on(api.get(&["flow_runs", &id])).expect("the run");
    assert_eq!(state_type(&run), "CANCELLED", "{run}");
}

#[test]
fn deploy_a_crate_and_watch_its_run_on_an_embedded_worker() {
    let weft = Weft::new();
    let _server = weft.start_server(&["--worker", "local"]);
    let api = weft.api();
    block_on(eventually("the embedded worker's pool", || async {
        api.get_opt::<Value>(&["work_pools", "local"])
            .await
            .ok()
            .flatten()
    }));
    let dir = weft_test_support::example_dir("hello");
    let dir = dir.to_str().expect("utf-8 path");
    weft.ok(&[
        "deploy",
        dir,
        "--flow",
        "my_first_flow",
        "--name",
        "hi",
        "--pool",
        "local",
    ]);
    let listed = weft.ok(&["deployment", "ls"]);
    assert!(listed.contains("/hi"), "{listed}");

    let out = weft.ok(&["deployment", "run", "my-first-flow/hi", "--watch"]);
    assert!(out.contains("Hello from weft!"), "{out}");
    assert!(out.contains("Completed"), "{out}");

    let runs = weft.ok(&["flow-run", "ls"]);
    assert!(runs.contains("Completed"), "{runs}");
}

#[test]
fn deploy_refuses_a_missing_pool() {
    let weft = Weft::new();
    let _server = weft.start_server(&[]);
    let wasm = example_wasm("hello");
    let out = weft.run(&[
        "deploy",
        wasm.to_str().expect("utf-8 path"),
        "--flow",
        "my-first-flow",
        "--name",
        "x",
        "--pool",
        "nope",
    ]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("work pool 'nope' does not exist"),
        "{stderr}"
    );
}

//! End-to-end tests of weft as a central server with workers: real `weft
//! server start` and `weft worker start` processes on 127.0.0.1 (free
//! ports), each test with its own `WEFT_HOME`, driven through the CLI and
//! the REST API. They assert behaviour, never timings; every wait is
//! bounded by [`DEADLINE`].

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use weft_test_support::{example_wasm, guest_target_dir, test_guest_wasm};
use weft_worker::ApiClient;

/// The longest any single wait in these tests may take.
const DEADLINE: Duration = Duration::from_secs(120);

/// A port nobody listens on right now.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// A child process that is stopped (SIGTERM, then SIGKILL) when dropped.
struct Proc {
    child: Child,
    what: &'static str,
}

impl Proc {
    /// Sends SIGTERM and waits (bounded) for the process to exit; returns
    /// its exit code.
    fn terminate(&mut self) -> Option<i32> {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let deadline = Instant::now() + DEADLINE;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status.code();
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        panic!("{} did not stop within {DEADLINE:?} of SIGTERM", self.what);
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let pid = self.child.id().to_string();
            let _ = Command::new("kill").args(["-TERM", &pid]).status();
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = self.child.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// A weft installation: one home, one server.
struct Weft {
    home: tempfile::TempDir,
    port: u16,
}

impl Weft {
    fn new() -> Weft {
        Weft {
            home: tempfile::tempdir().expect("temp dir"),
            port: free_port(),
        }
    }

    fn api_url(&self) -> String {
        format!("http://127.0.0.1:{}/api", self.port)
    }

    fn api(&self) -> ApiClient {
        ApiClient::new(&self.api_url()).expect("API client")
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_weft"));
        command
            .args(args)
            .env("WEFT_HOME", self.home.path())
            .env("WEFT_API_URL", self.api_url())
            .env_remove("WEFT_DATABASE_URL")
            .env_remove("WEFT_SECRET_KEY")
            .env_remove("RUST_LOG")
            .env("CARGO_TARGET_DIR", guest_target_dir())
            .stdin(Stdio::null());
        command
    }

    /// Runs a CLI command to its end.
    fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("weft runs")
    }

    /// Runs a CLI command and panics with its output unless it succeeded.
    #[track_caller]
    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "weft {args:?} failed ({:?})\n--- stdout\n{}\n--- stderr\n{}",
            out.status.code(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Starts `weft server start` (with `extra` arguments) and waits until
    /// it answers `GET /api/health`.
    fn start_server(&self, extra: &[&str]) -> Proc {
        let port = self.port.to_string();
        let mut args = vec!["server", "start", "--port", &port];
        args.extend_from_slice(extra);
        let child = self
            .command(&args)
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("server starts");
        let mut server = Proc {
            child,
            what: "the server",
        };
        let api = self.api();
        block_on(async {
            let deadline = Instant::now() + DEADLINE;
            loop {
                if api.get::<Value>(&["health"]).await.is_ok() {
                    return;
                }
                if let Ok(Some(status)) = server.child.try_wait() {
                    panic!("the server exited early: {status}");
                }
                assert!(Instant::now() < deadline, "the server never came up");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        });
        server
    }

    /// Starts `weft worker start` on `pool`.
    fn start_worker(&self, pool: &str, extra: &[&str]) -> Proc {
        let mut args = vec![
            "worker",
            "start",
            "--pool",
            pool,
            "--poll-interval",
            "0.05",
            "--heartbeat-interval",
            "0.5",
        ];
        args.extend_from_slice(extra);
        let child = self
            .command(&args)
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("worker starts");
        Proc {
            child,
            what: "a worker",
        }
    }
}

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
        .block_on(f)
}

/// Polls `check` until it returns `Some`, for at most [`DEADLINE`].
async fn eventually<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + DEADLINE;
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

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

fn state_type(run: &Value) -> &str {
    run["state"]["type"].as_str().unwrap_or("")
}

/// Deploys `wasm`'s `flow` as `flow/name` on `pool` (creating the pool)
/// and returns the deployment's id.
fn deploy(weft: &Weft, wasm: &Path, flow: &str, name: &str, pool: &str) -> String {
    weft.ok(&["work-pool", "create", pool]);
    let wasm = wasm.to_str().expect("utf-8 path");
    let out = weft.ok(&[
        "deploy", wasm, "--flow", flow, "--name", name, "--pool", pool,
    ]);
    assert!(out.contains("is ready on work pool"), "{out}");
    let api = weft.api();
    let d: Value = block_on(api.get(&["deployments", "name", flow, name])).expect("deployment");
    d["id"].as_str().expect("deployment id").to_string()
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

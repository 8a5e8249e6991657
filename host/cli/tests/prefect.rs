//! The real Prefect CLI reads weft: `prefect flow-run ls` and `prefect
//! deployment ls` (Prefect 3.9.1 from the repository's `.venv`, which
//! `./dev/setup` installs through `dev/python-env`) run against a real
//! `weft server start`, with `PREFECT_API_URL` pointing at it, and must
//! list weft's runs (with their states), deployments and work pools.

mod support;

use std::collections::BTreeMap;
use std::io::Read as _;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::{DEADLINE, Weft, block_on, deploy, deploy_on, eventually, state_type};
use weft_test_support::{repo_root, test_guest_wasm};

/// The Prefect version `dev/python-env` installs.
const PREFECT_VERSION: &str = "3.9.1";

/// The Prefect CLI of `.venv`, pointed at one weft server, with a
/// throw-away `PREFECT_HOME`.
struct Prefect {
    exe: PathBuf,
    home: tempfile::TempDir,
    api_url: String,
}

impl Prefect {
    /// The CLI in `.venv`; fails the test (never skips it) when it is not
    /// installed.
    fn new(api_url: String) -> Prefect {
        let exe = repo_root().join(".venv/bin/prefect");
        assert!(
            exe.is_file(),
            "{} is missing: run ./dev/setup (its dev/python-env step installs prefect=={PREFECT_VERSION} into .venv)",
            exe.display()
        );
        Prefect {
            exe,
            home: tempfile::tempdir().expect("temp dir"),
            api_url,
        }
    }

    /// Runs `prefect ARGS` (bounded by [`DEADLINE`]) and panics with its
    /// output unless it exited 0; returns stdout.
    #[track_caller]
    fn ok(&self, args: &[&str]) -> String {
        let mut command = Command::new(&self.exe);
        command.args(args);
        // Nothing of the caller's Prefect configuration leaks in.
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("PREFECT_") {
                command.env_remove(key);
            }
        }
        command
            .env("PREFECT_API_URL", &self.api_url)
            .env("PREFECT_HOME", self.home.path())
            .env("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
            .env("PREFECT_CLI_COLORS", "false")
            .env("PREFECT_CLI_WRAP_LINES", "false")
            // rich truncates table cells to the terminal's width otherwise.
            .env("COLUMNS", "250");
        let out = output_within(command, DEADLINE);
        assert!(
            out.status.success(),
            "prefect {args:?} failed ({:?})\n--- stdout\n{}\n--- stderr\n{}",
            out.status.code(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

/// Runs `command` to its end, killing it (and failing) if it takes longer
/// than `limit`.
fn output_within(mut command: Command, limit: Duration) -> Output {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the command starts");
    let mut stdout = child.stdout.take().expect("stdout");
    let mut stderr = child.stderr.take().expect("stderr");
    let out = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = stdout.read_to_end(&mut buf);
        buf
    });
    let err = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = stderr.read_to_end(&mut buf);
        buf
    });
    let deadline = Instant::now() + limit;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for the command") {
            break status;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "{command:?} did not finish within {limit:?}\n--- stderr\n{}",
                String::from_utf8_lossy(&err.join().unwrap_or_default())
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    Output {
        status,
        stdout: out.join().expect("stdout reader"),
        stderr: err.join().expect("stderr reader"),
    }
}

/// A flow run as weft's API reports it.
#[derive(Debug, Clone)]
struct RunSeen {
    id: String,
    name: String,
    flow: String,
    state_type: String,
    state_name: String,
}

/// Creates `n` runs of the deployment `deployment_id`; returns their ids.
fn create_runs(weft: &Weft, deployment_id: &str, n: usize) -> Vec<String> {
    let api = weft.api();
    block_on(async {
        let mut ids = Vec::new();
        for _ in 0..n {
            let run: Value = api
                .post(
                    &["deployments", deployment_id, "create_flow_run"],
                    &json!({}),
                )
                .await
                .expect("create a flow run");
            ids.push(run["id"].as_str().expect("run id").to_string());
        }
        ids
    })
}

/// Waits until the run `id` is in a state of type `want`; returns it.
fn wait_for_state(weft: &Weft, id: &str, want: &str) -> RunSeen {
    let api = weft.api();
    let run: Value = block_on(eventually(&format!("run {id} to be {want}"), || async {
        let run: Value = api.get(&["flow_runs", id]).await.ok()?;
        (state_type(&run) == want).then_some(run)
    }));
    RunSeen {
        id: id.to_string(),
        name: run["name"].as_str().expect("run name").to_string(),
        flow: run["flow_name"].as_str().expect("flow name").to_string(),
        state_type: state_type(&run).to_string(),
        state_name: run["state"]["name"]
            .as_str()
            .expect("state name")
            .to_string(),
    }
}

/// The line of `table` that shows `id`, or a panic showing the table.
#[track_caller]
fn row<'a>(table: &'a str, id: &str) -> &'a str {
    table
        .lines()
        .find(|l| l.contains(id))
        .unwrap_or_else(|| panic!("no row for {id} in\n{table}"))
}

#[test]
fn the_prefect_cli_lists_weft_flow_runs_and_deployments() {
    let weft = Weft::new();
    let prefect = Prefect::new(weft.api_url());
    let _server = weft.start_server(&[]);
    let guest = test_guest_wasm("testguest");

    // Two pools: one with a worker (its runs end), one without (its runs
    // stay scheduled).
    let done = deploy(&weft, &guest, "ok", "done", "busy");
    let no = deploy_on(&weft, &guest, "fail-flow", "no", "busy");
    let later = deploy(&weft, &guest, "ok", "later", "idle");

    let completed = create_runs(&weft, &done, 2);
    let failed = create_runs(&weft, &no, 1);
    let scheduled = create_runs(&weft, &later, 2);
    let _worker = weft.start_worker("busy", &["--limit", "4"]);

    let mut runs = Vec::new();
    runs.extend(
        completed
            .iter()
            .map(|id| wait_for_state(&weft, id, "COMPLETED")),
    );
    runs.extend(failed.iter().map(|id| wait_for_state(&weft, id, "FAILED")));
    runs.extend(
        scheduled
            .iter()
            .map(|id| wait_for_state(&weft, id, "SCHEDULED")),
    );

    let version = prefect.ok(&["version"]);
    assert!(version.contains(PREFECT_VERSION), "{version}");

    // The table: one row per run with its id, flow, name and state type.
    let table = prefect.ok(&["flow-run", "ls"]);
    assert!(table.contains("Flow Runs"), "{table}");
    for run in &runs {
        let line = row(&table, &run.id);
        for cell in [&run.name, &run.flow, &run.state_type] {
            assert!(line.contains(cell.as_str()), "{run:?}: {line}\n{table}");
        }
    }

    // The JSON form: every run with its state's name, as Prefect's models
    // parsed and re-serialised it.
    let listed = prefect.ok(&["flow-run", "ls", "--output", "json"]);
    let listed: Vec<Value> = serde_json::from_str(&listed)
        .unwrap_or_else(|e| panic!("`flow-run ls -o json` is not JSON ({e}):\n{listed}"));
    let by_id: BTreeMap<&str, &Value> = listed
        .iter()
        .map(|r| (r["id"].as_str().unwrap_or(""), r))
        .collect();
    assert_eq!(by_id.len(), runs.len(), "{listed:?}");
    for run in &runs {
        let got = by_id
            .get(run.id.as_str())
            .unwrap_or_else(|| panic!("{run:?} not listed: {listed:?}"));
        assert_eq!(got["name"], run.name.as_str(), "{got}");
        assert_eq!(got["state"]["type"], run.state_type.as_str(), "{got}");
        assert_eq!(got["state"]["name"], run.state_name.as_str(), "{got}");
    }
    let names: Vec<&str> = runs.iter().map(|r| r.state_name.as_str()).collect();
    for name in ["Completed", "Failed", "Scheduled"] {
        assert!(names.contains(&name), "{names:?}");
    }

    // A filter on the state type goes through weft's filter.
    let only = prefect.ok(&["flow-run", "ls", "--state-type", "COMPLETED"]);
    for run in &runs {
        assert_eq!(
            only.contains(&run.id),
            run.state_type == "COMPLETED",
            "{run:?}\n{only}"
        );
    }

    // Deployments: `flow/deployment`, id and work pool on one row.
    let table = prefect.ok(&["deployment", "ls"]);
    assert!(table.contains("Deployments"), "{table}");
    for (id, name, pool) in [
        (&done, "ok/done", "busy"),
        (&no, "fail-flow/no", "busy"),
        (&later, "ok/later", "idle"),
    ] {
        let line = row(&table, id);
        assert!(line.contains(name), "{name}: {line}\n{table}");
        assert!(line.contains(pool), "{pool}: {line}\n{table}");
    }

    // Work pools: Prefect's `WorkPool` needs a `default_queue_id`.
    let table = prefect.ok(&["work-pool", "ls"]);
    let api = weft.api();
    for pool in ["busy", "idle"] {
        let p: Value = block_on(api.get(&["work_pools", pool])).expect("work pool");
        let line = row(&table, p["id"].as_str().expect("pool id"));
        assert!(line.contains(pool), "{pool}: {line}\n{table}");
    }

    // Tag concurrency limits: Prefect's CLI creates, lists and reads them.
    let created = prefect.ok(&["concurrency-limit", "create", "mytag", "2"]);
    assert!(created.contains("mytag"), "{created}");
    let limit: Value =
        block_on(api.get(&["concurrency_limits", "tag", "mytag"])).expect("the tag limit");
    assert_eq!(limit["concurrency_limit"], 2, "{limit}");
    let table = prefect.ok(&["concurrency-limit", "ls"]);
    let line = row(&table, "mytag");
    assert!(line.contains('2'), "{line}\n{table}");
    let inspected = prefect.ok(&["concurrency-limit", "inspect", "mytag"]);
    assert!(inspected.contains("mytag"), "{inspected}");
    prefect.ok(&["concurrency-limit", "delete", "mytag"]);
    assert!(
        block_on(api.get_opt::<Value>(&["concurrency_limits", "tag", "mytag"]))
            .expect("read")
            .is_none()
    );
}

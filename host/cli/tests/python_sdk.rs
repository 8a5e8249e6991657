//! End-to-end tests of the Python SDK (`guest-sdks/python`): the examples
//! in `examples/python` and the test flows in `tests/sdk-guests/python`,
//! built with componentize-py by `weft build` and run by the real `weft`
//! binary — the same checks as the Rust flows get in `cli.rs` (states,
//! retries, cache, logs, secrets, limits), a deployment on a server with an
//! embedded worker, the SDK's own unit tests, and the examples run
//! unchanged but for their imports under the real Prefect. They assert
//! behaviour, never timings.

mod sdk;

use std::process::{Command, Stdio};

use sdk::{Weft, project, repo_dir, repo_root, task_run};
use serde_json::{Value, json};

const HELLO: &str = "examples/python/hello";
const FANOUT: &str = "examples/python/fanout";
const RETRIES: &str = "examples/python/retries";
const CACHE: &str = "examples/python/cache";
const GUEST: &str = "tests/sdk-guests/python/pyguest";

#[test]
fn hello_runs_from_its_directory() {
    project(HELLO);
    let weft = Weft::new();
    let dir = repo_dir(HELLO);
    let run = weft.run(&["run", dir.to_str().expect("utf-8 path")]);
    run.assert_ok();
    assert!(run.stdout.contains("Hello from weft!"), "{}", run.stdout);
    assert!(
        run.stdout.contains("Beginning flow run")
            && run.stdout.contains("for flow 'my-first-flow'"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("Task run 'get_data-0' - Finished in state Completed()"),
        "{}",
        run.stdout
    );
    assert_eq!(run.last_line(), "null");

    // What was recorded: the states, the task run, the printed line as a
    // log of the flow run (log_prints).
    let inspected = weft.inspect_last();
    let states: Vec<&str> = inspected["states"]
        .as_array()
        .expect("states")
        .iter()
        .filter_map(|s| s["name"].as_str())
        .collect();
    assert_eq!(states.first(), Some(&"Pending"));
    assert!(states.contains(&"Running"), "{states:?}");
    assert_eq!(states.last(), Some(&"Completed"));
    assert_eq!(
        task_run(&inspected, "get_data-0")["state"]["type"],
        "COMPLETED"
    );
    let logs = weft.run(&["flow-run", "logs", &weft.last_run_id()]);
    logs.assert_ok();
    assert!(logs.stdout.contains("Hello from weft!"), "{}", logs.stdout);
}

#[test]
fn build_finds_a_python_project_and_builds_it_once() {
    let wasm = project(HELLO);
    let weft = Weft::new();
    let dir = repo_dir(HELLO);
    let dir = dir.to_str().expect("utf-8 path");
    let build = weft.run(&["build", dir]);
    build.assert_ok();
    assert_eq!(build.stdout.trim(), wasm.to_str().expect("utf-8 path"));
    assert!(
        !build.stderr.contains("building"),
        "the sources did not change, so nothing is rebuilt: {}",
        build.stderr
    );
    let out = weft.home.path().join("hello.wasm");
    weft.run(&["build", dir, "-o", out.to_str().expect("utf-8 path")])
        .assert_ok();
    assert_eq!(
        std::fs::read(&out).expect("copied"),
        std::fs::read(&wasm).expect("built")
    );
    // A Python component: it embeds CPython (megabytes, not kilobytes).
    assert!(std::fs::metadata(&wasm).expect("size").len() > 1 << 20);
}

#[test]
fn a_missing_toolchain_names_the_setup_command() {
    let weft = Weft::new();
    let dir = repo_dir(HELLO);
    let dir = dir.to_str().expect("utf-8 path");
    let missing = weft.home.path().join("no-componentize-py");
    let run: sdk::Run = weft
        .command(&["build", dir])
        .env("WEFT_COMPONENTIZE_PY", &missing)
        .stdin(Stdio::null())
        .output()
        .expect("weft runs")
        .into();
    run.assert_failed();
    assert!(
        run.stderr.contains("WEFT_COMPONENTIZE_PY"),
        "{}",
        run.stderr
    );

    // A checkout without the Python SDK's virtualenv.
    let root = weft.home.path().join("checkout");
    std::fs::create_dir_all(root.join("wit")).expect("mkdir");
    std::fs::create_dir_all(root.join("guest-sdks/python")).expect("mkdir");
    std::fs::copy(repo_root().join("wit/weft.wit"), root.join("wit/weft.wit")).expect("copy");
    let run: sdk::Run = weft
        .command(&["build", dir])
        .env("WEFT_SDK_ROOT", &root)
        .stdin(Stdio::null())
        .output()
        .expect("weft runs")
        .into();
    run.assert_failed();
    assert!(
        run.stderr.contains("componentize-py is not installed")
            && run.stderr.contains("./dev/setup"),
        "{}",
        run.stderr
    );
}

#[test]
fn fanout_of_1000_records_exactly_1000_completed_task_runs() {
    let weft = Weft::new();
    let run = weft.run_flow(&project(FANOUT), &["--param", "n=1000"]);
    run.assert_ok();
    let total: u64 = (0..1000u64).map(|i| 2 * i * i).sum();
    let result: Value = serde_json::from_str(run.last_line()).expect("the result is JSON");
    assert_eq!(result, json!({"rows": 1000, "total": total}));
    assert!(
        run.stdout.contains("1000 task runs: 1000 Completed"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("extracted 1000 rows"), "{}", run.stdout);
    let inspected = weft.inspect_last();
    let tasks = inspected["task_runs"].as_array().expect("task_runs");
    assert_eq!(tasks.len(), 1000);
    for task in tasks {
        assert_eq!(task["state"]["type"], "COMPLETED", "{task}");
        assert_eq!(task["task_key"], "extract");
        assert_eq!(task["tags"], json!(["etl", "extract"]), "{task}");
    }
    assert_eq!(inspected["result"], result);

    // The parameter's default (n = 10) applies when it is not given.
    let run = weft.run_flow(&project(FANOUT), &["--quiet"]);
    run.assert_ok();
    assert_eq!(run.last_line(), r#"{"rows":10,"total":570}"#);
}

#[test]
fn retries_are_printed_and_the_run_completes() {
    let weft = Weft::new();
    let run = weft.run_flow(&project(RETRIES), &[]);
    run.assert_ok();
    assert!(run.stdout.contains("AwaitingRetry"), "{}", run.stdout);
    assert!(run.stdout.contains("Retrying"), "{}", run.stdout);
    assert!(run.stdout.contains("attempt 1 failed"), "{}", run.stdout);
    assert!(
        run.stdout
            .contains("ConnectionError: attempt 1: the service is unavailable"),
        "{}",
        run.stdout
    );
    assert_eq!(run.last_line(), r#""fetched on attempt 3""#);
    let inspected = weft.inspect_last();
    let task = task_run(&inspected, "flaky_fetch-0");
    assert_eq!(task["state"]["type"], "COMPLETED");
    assert_eq!(task["run_count"], 3, "{task}");
}

#[test]
fn a_second_cache_run_is_cached() {
    let weft = Weft::new();
    let wasm = project(CACHE);
    let first = weft.run_flow(&wasm, &[]);
    first.assert_ok();
    assert!(!first.stdout.contains("Cached()"), "{}", first.stdout);
    assert!(
        first.stdout.contains("computing (not cached)"),
        "{}",
        first.stdout
    );
    let second = weft.run_flow(&wasm, &[]);
    second.assert_ok();
    assert!(
        second.stdout.contains("Finished in state Cached()"),
        "{}",
        second.stdout
    );
    assert!(
        !second.stdout.contains("computing (not cached)"),
        "{}",
        second.stdout
    );
    assert_eq!(first.last_line(), "332833500");
    assert_eq!(first.last_line(), second.last_line());
}

#[test]
fn a_task_exception_fails_the_task_with_its_traceback() {
    let weft = Weft::new();
    let run = weft.run_flow(&project(GUEST), &["--flow", "task-raises"]);
    run.assert_failed();
    let inspected = weft.inspect_last();
    let task = task_run(&inspected, "explode-0");
    assert_eq!(task["state"]["type"], "FAILED", "{task}");
    assert_eq!(task["state"]["name"], "Failed", "{task}");
    let message = task["state"]["message"].as_str().expect("a message");
    assert!(message.starts_with("ValueError: bad row 7\n"), "{message}");
    assert!(
        message.contains("Traceback (most recent call last):")
            && message.contains("File \"flow.py\", line 12, in explode"),
        "{message}"
    );
    // The flow fails (not crashes) with the task's error and its own
    // traceback.
    let flow = &inspected["flow_run"]["state"];
    assert_eq!(flow["type"], "FAILED", "{flow}");
    let message = flow["message"].as_str().expect("a message");
    assert!(
        message.starts_with("TaskFailed: task 'explode' failed: ValueError: bad row 7"),
        "{message}"
    );
    assert!(message.contains("in task_raises"), "{message}");
    assert!(
        run.stderr
            .contains("task 'explode' failed: ValueError: bad row 7"),
        "{}",
        run.stderr
    );

    let run = weft.run_flow(&project(GUEST), &["--flow", "flow-raises"]);
    run.assert_failed();
    assert!(
        run.stderr
            .contains("Failed: RuntimeError: the flow body gave up"),
        "{}",
        run.stderr
    );
}

#[test]
fn flow_retries_rerun_the_body() {
    sdk::flow_retries_rerun_the_body(GUEST);
}

#[test]
fn a_task_timeout_ends_timed_out() {
    sdk::a_task_timeout_ends_timed_out(GUEST);
}

#[test]
fn secrets_must_be_granted() {
    sdk::secrets_must_be_granted(GUEST);
}

#[test]
fn secret_values_are_redacted_from_logs_and_prints() {
    sdk::secret_values_are_redacted_from_logs_and_prints(GUEST);
}

#[test]
fn a_missing_parameter_fails_before_the_flow_starts() {
    sdk::a_missing_parameter_fails_before_the_flow_starts(GUEST);
}

#[test]
fn an_infinite_loop_ends_with_a_clear_reason() {
    sdk::an_infinite_loop_ends_with_a_clear_reason(GUEST);
}

#[test]
fn a_memory_bomb_ends_with_a_clear_reason() {
    sdk::a_memory_bomb_ends_with_a_clear_reason(GUEST);
}

#[test]
fn deployed_on_a_server_with_a_worker_it_completes() {
    sdk::deployed_on_a_server_with_a_worker_it_completes("examples/python", GUEST, "py-pool");
}

#[test]
fn the_sdk_unit_tests_pass() {
    let out = Command::new("python3")
        .args(["-m", "unittest", "discover", "-s", "tests", "-v"])
        .current_dir(repo_dir("guest-sdks/python"))
        .stdin(Stdio::null())
        .output()
        .expect("python3 runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("\nOK"), "{stderr}");
}

/// The examples are Prefect code: with `weft` replaced by `prefect` in
/// their imports, the real Prefect (3.9.1, in `.venv`) runs them to the
/// same results as weft does.
#[test]
fn the_examples_run_unchanged_under_prefect() {
    let python = repo_root().join(".venv/bin/python");
    assert!(
        python.is_file(),
        "{} is missing: run ./dev/setup (dev/python-env installs Prefect into .venv)",
        python.display()
    );
    let scratch = tempfile::tempdir().expect("temp dir");
    let mut calls = Vec::new();
    for (example, call) in [
        ("hello", "my_first_flow()"),
        ("fanout", "etl(10)"),
        ("retries", "retry_flow()"),
        ("cache", "cached_flow()"),
    ] {
        let source =
            std::fs::read_to_string(repo_dir(&format!("examples/python/{example}/flow.py")))
                .expect("the example's source");
        let mut changed = 0;
        let ported: Vec<String> = source
            .lines()
            .map(|line| {
                let trimmed = line.trim_start();
                if trimmed.starts_with("from weft") || trimmed.starts_with("import weft") {
                    changed += 1;
                    line.replacen("weft", "prefect", 1)
                } else {
                    line.to_string()
                }
            })
            .collect();
        assert!(changed >= 1, "{example} imports nothing from weft");
        std::fs::write(
            scratch.path().join(format!("ex_{example}.py")),
            ported.join("\n") + "\n",
        )
        .expect("write");
        calls.push(format!(
            "print(json.dumps(__import__('ex_{example}').{call}))"
        ));
    }
    let script = format!("import json\n{}\n", calls.join("\n"));
    let out = Command::new(&python)
        .arg("-c")
        .arg(&script)
        .current_dir(scratch.path())
        .env("PREFECT_HOME", scratch.path().join("prefect-home"))
        .env("PREFECT_SERVER_ALLOW_EPHEMERAL_MODE", "true")
        .env_remove("PREFECT_API_URL")
        .env("PYTHONPATH", scratch.path())
        .stdin(Stdio::null())
        .output()
        .expect("python runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "Prefect could not run the examples\n--- stdout\n{stdout}\n--- stderr\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let results: Vec<&str> = stdout.lines().filter(|l| !l.is_empty()).collect();
    assert_eq!(
        results,
        [
            "null",
            r#"{"rows": 10, "total": 570}"#,
            r#""fetched on attempt 3""#,
            "332833500"
        ],
        "{stdout}"
    );
}

//! End-to-end tests of the `weft` binary: each test runs the real binary
//! against the example and test guest components, with its own temporary
//! `WEFT_HOME`. They assert behaviour (output, exit status, what the store
//! recorded), never timings.

use std::io::Write as _;
use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use serde_json::Value;
use weft_test_support::{example_dir, example_wasm, guest_target_dir, test_guest_wasm};

/// The redaction marker the runtime writes in place of a secret value.
const REDACTED: &str = "********";

/// A `weft` with its own home directory.
struct Weft {
    home: tempfile::TempDir,
}

/// What one invocation of `weft` did.
struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Run {
    fn success(&self) -> bool {
        self.code == Some(0)
    }

    /// The last line of stdout.
    fn last_line(&self) -> &str {
        self.stdout.lines().last().unwrap_or("")
    }

    /// Panics with the whole output unless the command succeeded.
    #[track_caller]
    fn assert_ok(&self) -> &Run {
        assert!(
            self.success(),
            "weft failed ({:?})\n--- stdout\n{}\n--- stderr\n{}",
            self.code,
            self.stdout,
            self.stderr
        );
        self
    }

    #[track_caller]
    fn assert_failed(&self) -> &Run {
        assert!(
            !self.success() && self.code.is_some(),
            "weft should have failed ({:?})\n--- stdout\n{}\n--- stderr\n{}",
            self.code,
            self.stdout,
            self.stderr
        );
        self
    }
}

impl From<Output> for Run {
    fn from(o: Output) -> Run {
        Run {
            code: o.status.code(),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
}

impl Weft {
    fn new() -> Weft {
        Weft {
            home: tempfile::tempdir().expect("temp dir"),
        }
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_weft"));
        command
            .args(args)
            .env("WEFT_HOME", self.home.path())
            .env_remove("WEFT_SECRET_KEY")
            .env_remove("RUST_LOG")
            // Builds of crate directories share the guests' target dir.
            .env("CARGO_TARGET_DIR", guest_target_dir());
        command
    }

    fn run(&self, args: &[&str]) -> Run {
        self.command(args)
            .stdin(Stdio::null())
            .output()
            .expect("weft runs")
            .into()
    }

    fn run_with_stdin(&self, args: &[&str], input: &str) -> Run {
        let mut child = self
            .command(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("weft runs");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(input.as_bytes())
            .expect("write stdin");
        child.wait_with_output().expect("weft finishes").into()
    }

    /// Runs a component file with extra arguments.
    fn run_flow(&self, wasm: &Path, extra: &[&str]) -> Run {
        let wasm = wasm.to_str().expect("utf-8 path");
        let mut args = vec!["run", wasm];
        args.extend_from_slice(extra);
        self.run(&args)
    }

    /// The id of the newest flow run, from `flow-run ls`.
    fn last_run_id(&self) -> String {
        let ls = self.run(&["flow-run", "ls", "--limit", "1"]);
        ls.assert_ok();
        let row = ls
            .stdout
            .lines()
            .nth(1)
            .unwrap_or_else(|| panic!("no flow runs listed:\n{}", ls.stdout));
        row.split_whitespace()
            .next()
            .expect("an id column")
            .to_string()
    }

    /// `flow-run inspect ID --json`, parsed.
    fn inspect(&self, id: &str) -> Value {
        let run = self.run(&["flow-run", "inspect", id, "--json"]);
        run.assert_ok();
        serde_json::from_str(&run.stdout)
            .unwrap_or_else(|e| panic!("inspect --json is not JSON ({e}):\n{}", run.stdout))
    }

    fn set_secret(&self, name: &str, value: &str) {
        self.run_with_stdin(&["secret", "set", name], &format!("{value}\n"))
            .assert_ok();
    }
}

#[test]
fn hello_completes_and_prints_null_last() {
    let weft = Weft::new();
    let run = weft.run_flow(&example_wasm("hello"), &[]);
    run.assert_ok();
    assert!(run.stdout.contains("Hello from weft!"), "{}", run.stdout);
    assert!(run.stdout.contains("Beginning flow run"), "{}", run.stdout);
    assert!(
        run.stdout.contains("for flow 'my-first-flow'"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("Task run 'get_data-0' - Finished in state Completed()"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("Finished in state Completed()"),
        "{}",
        run.stdout
    );
    assert_eq!(run.last_line(), "null");
}

#[test]
fn quiet_prints_only_the_result() {
    let weft = Weft::new();
    let run = weft.run_flow(&example_wasm("hello"), &["--quiet"]);
    run.assert_ok();
    assert_eq!(run.stdout, "null\n");
}

#[test]
fn fanout_of_1000_records_exactly_1000_completed_task_runs() {
    let weft = Weft::new();
    let run = weft.run_flow(&example_wasm("fanout"), &["--params", r#"{"n": 1000}"#]);
    run.assert_ok();
    let total: u64 = (0..1000u64).map(|i| 2 * i * i).sum();
    let result: Value = serde_json::from_str(run.last_line()).expect("the result is JSON");
    assert_eq!(result, serde_json::json!({"rows": 1000, "total": total}));

    // A fan-out stays readable: routine task lines are summarised.
    let task_lines = run
        .stdout
        .lines()
        .filter(|l| l.contains("Task run 'extract-"))
        .count();
    assert!(task_lines < 1000, "{task_lines} task lines printed");
    assert!(
        run.stdout.contains("1000 task runs: 1000 Completed"),
        "{}",
        run.stdout
    );

    let inspected = weft.inspect(&weft.last_run_id());
    let tasks = inspected["task_runs"].as_array().expect("task_runs");
    assert_eq!(tasks.len(), 1000);
    for task in tasks {
        assert_eq!(task["state"]["type"], "COMPLETED", "{task}");
        assert_eq!(task["task_key"], "extract");
    }
    assert_eq!(inspected["flow_run"]["state"]["type"], "COMPLETED");
    assert_eq!(inspected["result"], result);
}

#[test]
fn run_and_build_a_crate_directory() {
    // Make sure the guests are built, so these builds are fresh and quick.
    let built = example_wasm("hello");
    let weft = Weft::new();
    let dir = example_dir("hello");
    let dir = dir.to_str().expect("utf-8 path");

    let run = weft.run(&["run", dir]);
    run.assert_ok();
    assert!(run.stdout.contains("Hello from weft!"), "{}", run.stdout);
    assert_eq!(run.last_line(), "null");

    let out = weft.home.path().join("hello-copy.wasm");
    let build = weft.run(&["build", dir, "-o", out.to_str().expect("utf-8 path")]);
    build.assert_ok();
    assert_eq!(build.stdout.trim(), out.to_str().expect("utf-8 path"));
    assert_eq!(
        std::fs::read(&out).expect("copied"),
        std::fs::read(&built).expect("built")
    );

    let build = weft.run(&["build", dir]);
    build.assert_ok();
    assert!(
        build.stdout.trim().ends_with("hello.wasm"),
        "{}",
        build.stdout
    );
}

#[test]
fn build_refuses_a_directory_without_a_crate() {
    let weft = Weft::new();
    let run = weft.run(&["build", weft.home.path().to_str().expect("utf-8 path")]);
    run.assert_failed();
    assert!(run.stderr.contains("no Cargo.toml"), "{}", run.stderr);
}

#[test]
fn build_says_how_to_add_a_missing_target() {
    let weft = Weft::new();
    // A rustup that reports only the host target as installed.
    let bin = weft.home.path().join("bin");
    std::fs::create_dir_all(&bin).expect("bin dir");
    let rustup = bin.join("rustup");
    std::fs::write(&rustup, "#!/bin/sh\necho x86_64-unknown-linux-gnu\n").expect("fake rustup");
    let mut perms = std::fs::metadata(&rustup).expect("meta").permissions();
    perms.set_mode(0o755);
    std::fs::set_permissions(&rustup, perms).expect("chmod");
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let dir = example_dir("hello");
    let out: Run = weft
        .command(&["build", dir.to_str().expect("utf-8 path")])
        .env("PATH", path)
        .stdin(Stdio::null())
        .output()
        .expect("weft runs")
        .into();
    out.assert_failed();
    assert!(
        out.stderr.contains("rustup target add wasm32-wasip2"),
        "{}",
        out.stderr
    );
}

#[test]
fn retries_are_printed_and_the_run_completes() {
    let weft = Weft::new();
    let run = weft.run_flow(&example_wasm("retries"), &[]);
    run.assert_ok();
    assert!(run.stdout.contains("AwaitingRetry"), "{}", run.stdout);
    assert!(run.stdout.contains("Retrying"), "{}", run.stdout);
    assert!(run.stdout.contains("attempt 1 failed"), "{}", run.stdout);
    assert_eq!(run.last_line(), r#""fetched on attempt 3""#);
}

#[test]
fn a_second_cache_run_is_cached() {
    let weft = Weft::new();
    let wasm = example_wasm("cache");
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
    assert_eq!(first.last_line(), second.last_line());
}

#[test]
fn secrets_must_be_granted() {
    let weft = Weft::new();
    let wasm = example_wasm("secrets");
    let value = "tok-9f8e7d6c5b4a";
    weft.set_secret("API_TOKEN", value);

    let refused = weft.run_flow(&wasm, &[]);
    refused.assert_failed();
    assert!(refused.stderr.contains("not granted"), "{}", refused.stderr);

    let granted = weft.run_flow(&wasm, &["--allow-secret", "API_TOKEN"]);
    granted.assert_ok();
    assert_eq!(granted.last_line(), "true");
    assert!(
        granted
            .stdout
            .contains(&format!("got API_TOKEN ({} chars)", value.len())),
        "{}",
        granted.stdout
    );
    assert!(!granted.stdout.contains(value));
}

#[test]
fn secret_values_are_redacted_from_output_and_logs() {
    let weft = Weft::new();
    let value = "hunter2-very-secret-value";
    weft.set_secret("API_TOKEN", value);
    let run = weft.run_flow(
        &test_guest_wasm("testguest"),
        &[
            "--flow",
            "log-secret",
            "--param",
            "name=API_TOKEN",
            "--allow-secret",
            "API_TOKEN",
        ],
    );
    run.assert_ok();
    assert_eq!(run.last_line(), r#""done""#);
    assert!(!run.stdout.contains(value), "{}", run.stdout);
    assert!(!run.stderr.contains(value), "{}", run.stderr);
    assert!(
        run.stdout.contains(&format!("the secret is {REDACTED}")),
        "{}",
        run.stdout
    );

    let logs = weft.run(&["flow-run", "logs", &weft.last_run_id()]);
    logs.assert_ok();
    assert!(!logs.stdout.contains(value), "{}", logs.stdout);
    assert!(
        logs.stdout.contains(&format!("the secret is {REDACTED}")),
        "{}",
        logs.stdout
    );
    assert!(logs.stdout.contains(REDACTED), "{}", logs.stdout);
}

#[test]
fn flow_override_flags_replace_the_flows_own_retries() {
    let weft = Weft::new();
    let wasm = test_guest_wasm("testguest");
    // `always-fails` has `#[flow(retries = 2)]`: three attempts.
    weft.run_flow(&wasm, &["--flow", "always-fails"])
        .assert_failed();
    assert_eq!(
        weft.inspect(&weft.last_run_id())["flow_run"]["run_count"],
        3
    );
    weft.run_flow(&wasm, &["--flow", "always-fails", "--flow-retries", "0"])
        .assert_failed();
    assert_eq!(
        weft.inspect(&weft.last_run_id())["flow_run"]["run_count"],
        1
    );
    let run = weft.run_flow(
        &wasm,
        &[
            "--flow",
            "sleep",
            "--param",
            "ms=5000",
            "--flow-timeout-ms",
            "200",
        ],
    );
    run.assert_failed();
    assert!(run.stdout.contains("TimedOut"), "{}", run.stdout);
}

#[test]
fn a_failing_flow_exits_non_zero_with_its_message() {
    let weft = Weft::new();
    let run = weft.run_flow(&test_guest_wasm("testguest"), &["--flow", "fail-flow"]);
    run.assert_failed();
    assert_eq!(run.code, Some(1));
    assert!(run.stderr.contains("flow said no"), "{}", run.stderr);
    assert!(
        run.stdout.contains("Finished in state Failed("),
        "{}",
        run.stdout
    );
    assert_ne!(run.last_line(), "null");
}

#[test]
fn params_parse_as_json_or_strings() {
    let weft = Weft::new();
    let guest = test_guest_wasm("testguest");
    let echo = |extra: &[&str]| {
        let mut args = vec!["--flow", "echo", "--quiet"];
        args.extend_from_slice(extra);
        let run = weft.run_flow(&guest, &args);
        run.assert_ok();
        run.last_line().to_string()
    };
    assert_eq!(echo(&["--param", "value=42"]), "42");
    assert_eq!(echo(&["--param", "value=hello world"]), r#""hello world""#);
    assert_eq!(
        echo(&["--param", r#"value={"a":[1,2],"b":null}"#]),
        r#"{"a":[1,2],"b":null}"#
    );
    assert_eq!(echo(&["--param", "value=true"]), "true");
    assert_eq!(echo(&["--params", r#"{"value": [1]}"#]), "[1]");
    // --param overrides --params.
    assert_eq!(
        echo(&["--params", r#"{"value": 1}"#, "--param", "value=2"]),
        "2"
    );

    let bad = weft.run_flow(&guest, &["--flow", "echo", "--param", "novalue"]);
    bad.assert_failed();
    assert!(bad.stderr.contains("key=value"), "{}", bad.stderr);
    let bad = weft.run_flow(&guest, &["--flow", "echo", "--params", "[1]"]);
    bad.assert_failed();
    assert!(bad.stderr.contains("JSON object"), "{}", bad.stderr);
}

#[test]
fn a_wrong_flow_name_lists_the_flows() {
    let weft = Weft::new();
    let guest = test_guest_wasm("testguest");
    let run = weft.run_flow(&guest, &["--flow", "no-such-flow"]);
    run.assert_failed();
    for flow in ["echo", "fail-flow", "log-secret"] {
        assert!(
            run.stderr.contains(flow),
            "{flow} not listed: {}",
            run.stderr
        );
    }
    let run = weft.run_flow(&guest, &[]);
    run.assert_failed();
    assert!(run.stderr.contains("--flow"), "{}", run.stderr);
}

#[test]
fn flow_run_ls_and_inspect_show_runs() {
    let weft = Weft::new();
    weft.run_flow(&example_wasm("hello"), &["--quiet"])
        .assert_ok();
    let hello_id = weft.last_run_id();
    weft.run_flow(&test_guest_wasm("testguest"), &["--flow", "fail-flow"])
        .assert_failed();
    let failed_id = weft.last_run_id();
    assert_ne!(hello_id, failed_id);

    let ls = weft.run(&["flow-run", "ls"]);
    ls.assert_ok();
    let header = ls.stdout.lines().next().unwrap_or("");
    for column in ["ID", "NAME", "FLOW", "STATE", "START", "DURATION"] {
        assert!(header.contains(column), "{header}");
    }
    assert_eq!(ls.stdout.lines().count(), 3, "{}", ls.stdout);
    assert!(
        ls.stdout.contains(&hello_id)
            && ls.stdout.contains("my-first-flow")
            && ls.stdout.contains("Completed")
    );
    assert!(
        ls.stdout.contains(&failed_id)
            && ls.stdout.contains("fail-flow")
            && ls.stdout.contains("Failed")
    );

    let failed = weft.run(&["flow-run", "ls", "--state", "failed"]);
    failed.assert_ok();
    assert!(
        failed.stdout.contains(&failed_id) && !failed.stdout.contains(&hello_id),
        "{}",
        failed.stdout
    );

    // By a unique id prefix and by name, in text.
    let json = weft.inspect(&hello_id);
    let name = json["flow_run"]["name"]
        .as_str()
        .expect("a name")
        .to_string();
    let states: Vec<&str> = json["states"]
        .as_array()
        .expect("states")
        .iter()
        .filter_map(|s| s["name"].as_str())
        .collect();
    assert_eq!(states.first(), Some(&"Pending"));
    assert!(states.contains(&"Running"), "{states:?}");
    assert_eq!(states.last(), Some(&"Completed"));
    assert_eq!(json["task_runs"][0]["name"], "get_data-0");
    assert_eq!(json["result"], Value::Null);

    let text = weft.run(&["flow-run", "inspect", &hello_id[..hello_id.len() - 4]]);
    text.assert_ok();
    assert!(
        text.stdout.contains(&name) && text.stdout.contains("get_data-0"),
        "{}",
        text.stdout
    );
    let by_name = weft.run(&["flow-run", "inspect", &name]);
    by_name.assert_ok();
    assert!(by_name.stdout.contains(&hello_id), "{}", by_name.stdout);

    let logs = weft.run(&["flow-run", "logs", &hello_id]);
    logs.assert_ok();
    assert!(logs.stdout.contains("Hello from weft!"), "{}", logs.stdout);

    let missing = weft.run(&["flow-run", "inspect", "no-such-run"]);
    missing.assert_failed();
    assert!(
        missing.stderr.contains("no flow run matches"),
        "{}",
        missing.stderr
    );
}

#[test]
fn secrets_are_listed_by_name_only() {
    let weft = Weft::new();
    weft.set_secret("API_TOKEN", "value-one-1234");
    weft.set_secret("DB_PASSWORD", "value-two-5678");

    let ls = weft.run(&["secret", "ls"]);
    ls.assert_ok();
    let mut names: Vec<&str> = ls.stdout.lines().collect();
    names.sort_unstable();
    assert_eq!(names, ["API_TOKEN", "DB_PASSWORD"]);
    assert!(!ls.stdout.contains("value-"));

    let empty = weft.run_with_stdin(&["secret", "set", "EMPTY"], "\n");
    empty.assert_failed();
    assert!(empty.stderr.contains("empty"), "{}", empty.stderr);

    weft.run(&["secret", "rm", "API_TOKEN"]).assert_ok();
    let ls = weft.run(&["secret", "ls"]);
    assert_eq!(ls.stdout.trim(), "DB_PASSWORD");
    weft.run(&["secret", "rm", "API_TOKEN"]).assert_failed();
}

#[test]
fn limit_flags_end_the_run() {
    let weft = Weft::new();
    let run = weft.run_flow(
        &test_guest_wasm("testguest"),
        &["--flow", "infinite-loop", "--fuel", "1000000"],
    );
    run.assert_failed();
    assert!(run.stderr.to_lowercase().contains("fuel"), "{}", run.stderr);
}

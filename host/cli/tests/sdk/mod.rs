//! Helpers shared by the end-to-end tests of the Python and JavaScript
//! SDKs (`python_sdk.rs`, `js_sdk.rs`): the real `weft` binary with its
//! own `WEFT_HOME`, and the SDK projects (examples and test guests), each
//! built and precompiled once per test run.
//!
//! A componentize-py or componentize-js build takes 10-20 s of both cores,
//! and so does compiling the result with Cranelift, so builds go to
//! `target/guests/weft-build/` (cached there by source hash by `weft
//! build` itself, across test processes) and the compiled artifacts to one
//! compile cache, `target/guests/weft-cwasm/`, shared by every home.
//!
//! Each test crate compiles this module on its own and uses only part of
//! it, hence the `dead_code` allowance.
#![allow(dead_code)]

use std::collections::HashMap;
use std::io::Write as _;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use serde_json::Value;

/// The repository's root, from this test crate's own location.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("repository root exists")
}

/// Where guest components are built (`target/guests`).
pub fn guest_target_dir() -> PathBuf {
    repo_root().join("target/guests")
}

/// The redaction marker the runtime writes in place of a secret value.
pub const REDACTED: &str = "********";

/// The compile cache every test home shares.
pub fn cwasm_cache() -> PathBuf {
    guest_target_dir().join("weft-cwasm")
}

/// The environment of every `weft` these tests start.
fn configure(command: &mut Command, home: &Path) {
    command
        .env("WEFT_HOME", home)
        .env("WEFT_TARGET_DIR", guest_target_dir())
        .env("WEFT_CACHE_DIR", cwasm_cache())
        .env_remove("WEFT_API_URL")
        .env_remove("WEFT_DATABASE_URL")
        .env_remove("WEFT_SECRET_KEY")
        .env_remove("WEFT_SDK_ROOT")
        .env_remove("WEFT_COMPONENTIZE_PY")
        .env_remove("WEFT_NODE")
        .env_remove("RUST_LOG");
}

/// A directory of the repository, e.g. `examples/python/hello`.
pub fn repo_dir(rel: &str) -> PathBuf {
    repo_root().join(rel)
}

/// The component of the project `rel` (e.g. `examples/python/hello`):
/// built with `weft build --precompile` the first time this process asks,
/// so that runs of it start at once.
pub fn project(rel: &str) -> PathBuf {
    type Cells = HashMap<String, Arc<OnceLock<PathBuf>>>;
    static BUILT: Mutex<Option<Cells>> = Mutex::new(None);
    // One cell per project: different projects build at once (a
    // componentize-py build uses about one core), the same one once.
    let cell = {
        let mut built = BUILT.lock().unwrap_or_else(|e| e.into_inner());
        built
            .get_or_insert_with(HashMap::new)
            .entry(rel.to_string())
            .or_default()
            .clone()
    };
    cell.get_or_init(|| build_project(rel)).clone()
}

fn build_project(rel: &str) -> PathBuf {
    let home = tempfile::tempdir().expect("temp dir");
    let dir = repo_dir(rel);
    let mut command = Command::new(env!("CARGO_BIN_EXE_weft"));
    command
        .args(["build", "--precompile"])
        .arg(&dir)
        .stdin(Stdio::null());
    configure(&mut command, home.path());
    let out = command.output().expect("weft build runs");
    assert!(
        out.status.success(),
        "weft build {} failed ({:?}; is the toolchain installed? `./dev/setup` installs it)\n--- stdout\n{}\n--- stderr\n{}",
        dir.display(),
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let wasm = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    assert!(wasm.is_file(), "weft build printed {}", wasm.display());
    wasm
}

/// What one invocation of `weft` did.
pub struct Run {
    /// The exit code (`None`: killed by a signal).
    pub code: Option<i32>,
    /// Its stdout.
    pub stdout: String,
    /// Its stderr.
    pub stderr: String,
}

impl Run {
    /// Whether it exited 0.
    pub fn success(&self) -> bool {
        self.code == Some(0)
    }

    /// The last line of stdout (the result).
    pub fn last_line(&self) -> &str {
        self.stdout.lines().last().unwrap_or("")
    }

    /// Panics with the whole output unless the command succeeded.
    #[track_caller]
    pub fn assert_ok(&self) -> &Run {
        assert!(
            self.success(),
            "weft failed ({:?})\n--- stdout\n{}\n--- stderr\n{}",
            self.code,
            self.stdout,
            self.stderr
        );
        self
    }

    /// Panics unless the command exited with code 1 (a run that did not
    /// complete; not a crash of weft itself).
    #[track_caller]
    pub fn assert_failed(&self) -> &Run {
        assert_eq!(
            self.code,
            Some(1),
            "weft should have exited 1\n--- stdout\n{}\n--- stderr\n{}",
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

/// A `weft` with its own home directory and the embedded store.
pub struct Weft {
    /// Its `WEFT_HOME`.
    pub home: tempfile::TempDir,
}

impl Weft {
    /// A fresh home.
    pub fn new() -> Weft {
        Weft {
            home: tempfile::tempdir().expect("temp dir"),
        }
    }

    /// A `weft` command in this home.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_weft"));
        command.args(args);
        configure(&mut command, self.home.path());
        command
    }

    /// Runs `weft ARGS` to its end.
    pub fn run(&self, args: &[&str]) -> Run {
        self.command(args)
            .stdin(Stdio::null())
            .output()
            .expect("weft runs")
            .into()
    }

    /// `weft run WASM EXTRA...`.
    pub fn run_flow(&self, wasm: &Path, extra: &[&str]) -> Run {
        let mut args = vec!["run", wasm.to_str().expect("utf-8 path")];
        args.extend_from_slice(extra);
        self.run(&args)
    }

    /// Runs `weft ARGS` with `input` on stdin.
    pub fn run_with_stdin(&self, args: &[&str], input: &str) -> Run {
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

    /// Stores the secret `name`.
    pub fn set_secret(&self, name: &str, value: &str) {
        self.run_with_stdin(&["secret", "set", name], &format!("{value}\n"))
            .assert_ok();
    }

    /// The id of the newest flow run.
    pub fn last_run_id(&self) -> String {
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
    pub fn inspect(&self, id: &str) -> Value {
        let run = self.run(&["flow-run", "inspect", id, "--json"]);
        run.assert_ok();
        serde_json::from_str(&run.stdout)
            .unwrap_or_else(|e| panic!("inspect --json is not JSON ({e}):\n{}", run.stdout))
    }

    /// The newest run, inspected.
    pub fn inspect_last(&self) -> Value {
        self.inspect(&self.last_run_id())
    }
}

/// The task run of `inspected` (from [`Weft::inspect`]) named `name`.
pub fn task_run<'a>(inspected: &'a Value, name: &str) -> &'a Value {
    inspected["task_runs"]
        .as_array()
        .and_then(|runs| runs.iter().find(|r| r["name"] == name))
        .unwrap_or_else(|| panic!("no task run {name}: {inspected:#}"))
}

/// A `weft server start --worker POOL` on a free loopback port, stopped
/// when dropped.
pub struct Server {
    child: std::process::Child,
    /// Its API, `http://127.0.0.1:PORT/api`.
    pub api_url: String,
}

impl Server {
    /// Starts the server in `weft`'s home with an embedded worker on `pool`
    /// and waits until it answers `GET /api/health`.
    pub fn start(weft: &Weft, pool: &str) -> Server {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("a free port")
            .to_string();
        let child = weft
            .command(&["server", "start", "--port", &port, "--worker", pool])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the server starts");
        let mut server = Server {
            child,
            api_url: format!("http://127.0.0.1:{port}/api"),
        };
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            if server.remote(weft, &["work-pool", "ls"]).success() {
                return server;
            }
            if let Ok(Some(status)) = server.child.try_wait() {
                panic!("the server exited early: {status}");
            }
            assert!(Instant::now() < deadline, "the server never came up");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Runs `weft ARGS` against this server.
    pub fn remote(&self, weft: &Weft, args: &[&str]) -> Run {
        weft.command(args)
            .env("WEFT_API_URL", &self.api_url)
            .stdin(Stdio::null())
            .output()
            .expect("weft runs")
            .into()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
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

// The end-to-end checks that both SDK suites run on their own guests.

/// A flow with retries reruns its body: three attempts, then Failed.
pub fn flow_retries_rerun_the_body(guest: &str) {
    let weft = Weft::new();
    weft.run_flow(&project(guest), &["--flow", "always-fails"])
        .assert_failed();
    let inspected = weft.inspect_last();
    assert_eq!(inspected["flow_run"]["run_count"], 3);
    assert_eq!(inspected["flow_run"]["state"]["type"], "FAILED");
}

/// A task over its timeout fails the flow and ends `TimedOut`.
pub fn a_task_timeout_ends_timed_out(guest: &str) {
    let weft = Weft::new();
    let run = weft.run_flow(&project(guest), &["--flow", "task-timeout"]);
    run.assert_failed();
    assert!(
        run.stderr.contains("task 'slow' timed out"),
        "{}",
        run.stderr
    );
    let inspected = weft.inspect_last();
    assert_eq!(
        task_run(&inspected, "slow-0")["state"]["name"],
        "TimedOut",
        "{inspected:#}"
    );
}

/// A secret is readable only when granted, and its value is never printed.
pub fn secrets_must_be_granted(guest: &str) {
    let weft = Weft::new();
    let wasm = project(guest);
    let value = "tok-9f8e7d6c5b4a";
    weft.set_secret("API_TOKEN", value);

    let refused = weft.run_flow(&wasm, &["--flow", "use-secret"]);
    refused.assert_failed();
    assert!(refused.stderr.contains("not granted"), "{}", refused.stderr);
    assert!(refused.stderr.contains("SecretError"), "{}", refused.stderr);

    let granted = weft.run_flow(
        &wasm,
        &["--flow", "use-secret", "--allow-secret", "API_TOKEN"],
    );
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

/// A granted secret's value is redacted from logs, prints and `flow-run logs`.
pub fn secret_values_are_redacted_from_logs_and_prints(guest: &str) {
    let weft = Weft::new();
    let value = "hunter2-very-secret-value";
    weft.set_secret("API_TOKEN", value);
    let run = weft.run_flow(
        &project(guest),
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
    for line in [
        format!("the secret is {REDACTED}"),
        format!("printed: {REDACTED}"),
    ] {
        assert!(run.stdout.contains(&line), "{line}: {}", run.stdout);
    }
    let logs = weft.run(&["flow-run", "logs", &weft.last_run_id()]);
    logs.assert_ok();
    assert!(!logs.stdout.contains(value), "{}", logs.stdout);
    assert!(
        logs.stdout.contains(&format!("the secret is {REDACTED}")),
        "{}",
        logs.stdout
    );
}

/// A missing parameter fails the run before the flow starts; JSON
/// parameters round-trip.
pub fn a_missing_parameter_fails_before_the_flow_starts(guest: &str) {
    let weft = Weft::new();
    let run = weft.run_flow(&project(guest), &["--flow", "log-secret"]);
    run.assert_failed();
    assert!(
        run.stderr
            .contains("invalid parameters for flow 'log-secret': missing 'name'"),
        "{}",
        run.stderr
    );
    let echo = weft.run_flow(
        &project(guest),
        &[
            "--flow",
            "echo",
            "--quiet",
            "--param",
            r#"value={"a":[1,2.5,null]}"#,
        ],
    );
    echo.assert_ok();
    assert_eq!(echo.last_line(), r#"{"a":[1,2.5,null]}"#);
}

/// A flow that never ends is stopped by fuel, then by wall time, and
/// ends Crashed with the reason.
pub fn an_infinite_loop_ends_with_a_clear_reason(guest: &str) {
    let weft = Weft::new();
    let wasm = project(guest);
    let run = weft.run_flow(&wasm, &["--flow", "infinite-loop", "--fuel", "2000000000"]);
    run.assert_failed();
    assert!(
        run.stderr.contains("Crashed: fuel limit exceeded"),
        "{}",
        run.stderr
    );
    let run = weft.run_flow(&wasm, &["--flow", "infinite-loop", "--timeout-secs", "2"]);
    run.assert_failed();
    assert!(
        run.stderr.contains("Crashed: wall-clock limit exceeded"),
        "{}",
        run.stderr
    );
    assert_eq!(weft.inspect_last()["flow_run"]["state"]["type"], "CRASHED");
}

/// A flow that allocates without end is stopped by the memory limit.
pub fn a_memory_bomb_ends_with_a_clear_reason(guest: &str) {
    let weft = Weft::new();
    let wasm = project(guest);
    let run = weft.run_flow(&wasm, &["--flow", "memory-bomb", "--memory-mb", "128"]);
    run.assert_failed();
    assert!(
        run.stderr
            .contains("Crashed: memory limit exceeded: an instance asked for more than 128 MiB"),
        "{}",
        run.stderr
    );
    // In a task: that task run crashes, the flow goes on and reports it.
    let run = weft.run_flow(&wasm, &["--flow", "task-memory-bomb", "--memory-mb", "128"]);
    run.assert_ok();
    assert_eq!(
        run.last_line(),
        r#""Crashed: memory limit exceeded: an instance asked for more than 128 MiB (memories and tables together)""#
    );
    let inspected = weft.inspect_last();
    assert_eq!(task_run(&inspected, "hog-0")["state"]["type"], "CRASHED");
}

/// The four examples under `examples` and the memory bomb of `guest`,
/// deployed on a server whose embedded worker takes `pool`: the bomb
/// crashes, then the same worker completes every example.
pub fn deployed_on_a_server_with_a_worker_it_completes(examples: &str, guest: &str, pool: &str) {
    let examples = [
        (
            project(&format!("{examples}/hello")),
            "my-first-flow",
            "hello",
            "Hello from weft!",
        ),
        (
            project(&format!("{examples}/fanout")),
            "etl",
            "etl",
            "extracted 10 rows",
        ),
        (
            project(&format!("{examples}/retries")),
            "retry-flow",
            "retries",
            "attempt 3 succeeded",
        ),
        (
            project(&format!("{examples}/cache")),
            "cached-flow",
            "cache",
            "computing (not cached)",
        ),
    ];
    let bomb = project(guest);
    let weft = Weft::new();
    let server = Server::start(&weft, pool);
    let deadline = Instant::now() + Duration::from_secs(120);
    while !server
        .remote(&weft, &["work-pool", "ls"])
        .stdout
        .contains(pool)
    {
        assert!(
            Instant::now() < deadline,
            "the embedded worker's pool never appeared"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let deploy = |wasm: &std::path::Path, flow: &str, name: &str| {
        let out = server.remote(
            &weft,
            &[
                "deploy",
                wasm.to_str().expect("utf-8 path"),
                "--flow",
                flow,
                "--name",
                name,
                "--pool",
                pool,
                "--memory-mb",
                "128",
            ],
        );
        out.assert_ok();
        assert!(
            out.stdout.contains("is ready on work pool"),
            "{}",
            out.stdout
        );
    };
    deploy(&bomb, "memory-bomb", "bomb");
    for (wasm, flow, name, _) in &examples {
        deploy(wasm, flow, name);
    }
    // The bomb crashes; the same worker then runs every example to
    // Completed.
    let out = server.remote(&weft, &["deployment", "run", "memory-bomb/bomb", "--watch"]);
    assert!(
        out.stdout.contains("Crashed"),
        "{}\n{}",
        out.stdout,
        out.stderr
    );
    assert!(
        format!("{}{}", out.stdout, out.stderr).contains("memory limit exceeded"),
        "{}\n{}",
        out.stdout,
        out.stderr
    );
    for (_, flow, name, line) in &examples {
        let deployment = format!("{flow}/{name}");
        let out = server.remote(&weft, &["deployment", "run", &deployment, "--watch"]);
        out.assert_ok();
        assert!(out.stdout.contains(line), "{deployment}: {}", out.stdout);
        assert!(
            out.stdout.contains("Completed"),
            "{deployment}: {}",
            out.stdout
        );
    }
    let runs = server.remote(&weft, &["flow-run", "ls"]);
    runs.assert_ok();
    assert_eq!(
        runs.stdout.matches("Completed").count(),
        examples.len(),
        "{}",
        runs.stdout
    );
    assert!(runs.stdout.contains("Crashed"), "{}", runs.stdout);
}

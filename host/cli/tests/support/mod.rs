//! Helpers shared by the end-to-end tests that run weft as a server: real
//! `weft server start` and `weft worker start` processes on 127.0.0.1
//! (free ports), each installation with its own `WEFT_HOME`, driven through
//! the CLI and the REST API. Every wait is bounded by [`DEADLINE`].
//!
//! Each test crate (`server.rs`, `prefect.rs`) compiles this module on its
//! own and uses only part of it, hence the `dead_code` allowance.
#![allow(dead_code)]

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use weft_test_support::guest_target_dir;
use weft_worker::ApiClient;

/// The longest any single wait in these tests may take.
pub const DEADLINE: Duration = Duration::from_secs(120);

/// A port nobody listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// A child process that is stopped (SIGTERM, then SIGKILL) when dropped.
pub struct Proc {
    /// The process.
    pub child: Child,
    /// What it is, for messages ("the server").
    pub what: &'static str,
}

impl Proc {
    /// Sends SIGTERM and waits (bounded) for the process to exit; returns
    /// its exit code.
    pub fn terminate(&mut self) -> Option<i32> {
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
pub struct Weft {
    /// The `WEFT_HOME` of every command.
    pub home: tempfile::TempDir,
    /// The server's port on 127.0.0.1.
    pub port: u16,
}

impl Weft {
    /// A new installation with a fresh home and a free port.
    pub fn new() -> Weft {
        Weft {
            home: tempfile::tempdir().expect("temp dir"),
            port: free_port(),
        }
    }

    /// The server's API URL, `http://127.0.0.1:PORT/api`.
    pub fn api_url(&self) -> String {
        format!("http://127.0.0.1:{}/api", self.port)
    }

    /// A client of the server's API.
    pub fn api(&self) -> ApiClient {
        ApiClient::new(&self.api_url()).expect("API client")
    }

    /// A `weft` command with this installation's environment.
    pub fn command(&self, args: &[&str]) -> Command {
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
    pub fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("weft runs")
    }

    /// Runs a CLI command and panics with its output unless it succeeded.
    #[track_caller]
    pub fn ok(&self, args: &[&str]) -> String {
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
    pub fn start_server(&self, extra: &[&str]) -> Proc {
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
    pub fn start_worker(&self, pool: &str, extra: &[&str]) -> Proc {
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

/// Runs `f` to its end on a fresh single-threaded runtime.
pub fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
        .block_on(f)
}

/// Polls `check` until it returns `Some`, for at most [`DEADLINE`].
pub async fn eventually<T, F, Fut>(what: &str, mut check: F) -> T
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

/// The type of a flow run's current state (`COMPLETED`), "" if none.
pub fn state_type(run: &Value) -> &str {
    run["state"]["type"].as_str().unwrap_or("")
}

/// Deploys `wasm`'s `flow` as `flow/name` on `pool` (creating the pool)
/// and returns the deployment's id.
pub fn deploy(weft: &Weft, wasm: &Path, flow: &str, name: &str, pool: &str) -> String {
    weft.ok(&["work-pool", "create", pool]);
    deploy_on(weft, wasm, flow, name, pool)
}

/// Deploys `wasm`'s `flow` as `flow/name` on the existing `pool` and
/// returns the deployment's id.
pub fn deploy_on(weft: &Weft, wasm: &Path, flow: &str, name: &str, pool: &str) -> String {
    let wasm = wasm.to_str().expect("utf-8 path");
    let out = weft.ok(&[
        "deploy", wasm, "--flow", flow, "--name", name, "--pool", pool,
    ]);
    assert!(out.contains("is ready on work pool"), "{out}");
    let api = weft.api();
    let d: Value = block_on(api.get(&["deployments", "name", flow, name])).expect("deployment");
    d["id"].as_str().expect("deployment id").to_string()
}

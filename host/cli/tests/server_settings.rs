//! End-to-end tests of what the CLI sets on a server for a deployment's
//! runs: secrets (`weft secret set|ls|rm` through the API) and sandbox
//! limits (`weft deploy --fuel ...`). Real `weft server start` and `weft
//! worker start` processes on 127.0.0.1, as in `server.rs`; the tests assert
//! behaviour, never timings.

mod support;

use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use serde_json::{Value, json};
use support::{Weft, block_on, eventually, state_type};
use weft_test_support::example_wasm;

/// Runs `command` with `input` on stdin, to its end.
fn run_with_stdin(mut command: Command, input: &str) -> Output {
    let mut child = command
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
    child.wait_with_output().expect("weft runs")
}

/// Panics with the output unless the command succeeded; returns stdout.
#[track_caller]
fn succeeded(out: &Output, what: &str) -> String {
    assert!(
        out.status.success(),
        "{what} failed ({:?})\n--- stdout\n{}\n--- stderr\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn utf8(path: &Path) -> &str {
    path.to_str().expect("utf-8 path")
}

#[test]
fn secrets_set_through_the_api_reach_deployed_runs_and_are_never_printed() {
    let weft = Weft::new();
    let _server = weft.start_server(&["--worker", "local"]);
    let api = weft.api();
    block_on(eventually("the embedded worker's pool", || async {
        api.get_opt::<Value>(&["work_pools", "local"])
            .await
            .ok()
            .flatten()
    }));

    // The secret commands run with a home of their own, so what they set
    // can reach the server only through its API.
    let client_home = tempfile::tempdir().expect("temp dir");
    let client = |args: &[&str]| {
        let mut command = weft.command(args);
        command.env("WEFT_HOME", client_home.path());
        command
    };
    let value = "tok-5e3c1a9b7d-never-printed";
    let set = run_with_stdin(
        client(&["secret", "set", "API_TOKEN"]),
        &format!("{value}\n"),
    );
    succeeded(&set, "secret set");
    assert!(
        String::from_utf8_lossy(&set.stderr).contains("on the server"),
        "{set:?}"
    );
    let names: Vec<String> = block_on(api.get(&["secrets", ""])).expect("list secrets");
    assert_eq!(names, ["API_TOKEN"]);

    // `--api-url` works as `WEFT_API_URL` does; without either, the
    // client's own (empty) embedded store is listed.
    let url = weft.api_url();
    let mut by_flag = client(&["--api-url", &url, "secret", "ls"]);
    by_flag.env_remove("WEFT_API_URL");
    let ls = by_flag.output().expect("weft runs");
    let listed = succeeded(&ls, "secret ls --api-url");
    assert_eq!(listed.lines().collect::<Vec<_>>(), ["API_TOKEN"]);
    assert!(!listed.contains(value) && !String::from_utf8_lossy(&ls.stderr).contains(value));
    let mut embedded = client(&["secret", "ls"]);
    embedded.env_remove("WEFT_API_URL");
    let local = succeeded(&embedded.output().expect("weft runs"), "secret ls");
    assert_eq!(local.trim(), "", "the embedded store has no secrets");

    // A deployment granted the secret reads it; its output never shows it.
    let wasm = example_wasm("secrets");
    let out = weft.ok(&[
        "deploy",
        utf8(&wasm),
        "--flow",
        "use_secret",
        "--name",
        "tok",
        "--pool",
        "local",
        "--allow-secret",
        "API_TOKEN",
    ]);
    assert!(out.contains("is ready on work pool"), "{out}");
    let out = weft.ok(&["deployment", "run", "use-secret/tok", "--watch"]);
    assert!(
        out.contains(&format!("got API_TOKEN ({} chars)", value.len())),
        "{out}"
    );
    assert!(out.contains("Completed"), "{out}");
    assert!(!out.contains(value), "{out}");

    // Removed through the API, it is gone for the server and its runs.
    let rm = client(&["secret", "rm", "API_TOKEN"])
        .output()
        .expect("weft runs");
    succeeded(&rm, "secret rm");
    let ls = succeeded(
        &client(&["secret", "ls"]).output().expect("weft runs"),
        "secret ls",
    );
    assert_eq!(ls.trim(), "");
    let again = client(&["secret", "rm", "API_TOKEN"])
        .output()
        .expect("weft runs");
    assert!(!again.status.success());
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert!(stderr.contains("no secret named 'API_TOKEN'"), "{stderr}");
    let run = weft.run(&["deployment", "run", "use-secret/tok", "--watch"]);
    assert!(!run.status.success(), "{run:?}");
}

/// The flow runs of deployment `id` (at most a page: these tests make few).
fn runs_of(weft: &Weft, id: &str) -> Vec<Value> {
    let body = json!({ "flow_runs": { "deployment_id": { "any_": [id] } } });
    block_on(weft.api().post(&["flow_runs", "filter"], &body)).expect("filter flow runs")
}

/// The id of deployment `flow/name`.
fn deployment_id(weft: &Weft, flow: &str, name: &str) -> String {
    let d: Value =
        block_on(weft.api().get(&["deployments", "name", flow, name])).expect("deployment");
    d["id"].as_str().expect("deployment id").to_string()
}

#[test]
fn a_deployments_limits_bind_its_runs_on_a_worker() {
    let weft = Weft::new();
    let _server = weft.start_server(&[]);
    weft.ok(&["work-pool", "create", "pool-l"]);
    let wasm = example_wasm("hello");
    let deploy = |name: &str, extra: &[&str]| {
        let mut args = vec![
            "deploy",
            utf8(&wasm),
            "--flow",
            "my-first-flow",
            "--name",
            name,
            "--pool",
            "pool-l",
        ];
        args.extend_from_slice(extra);
        weft.ok(&args)
    };
    let out = deploy("tight", &["--fuel", "1000", "--memory-mb", "64"]);
    assert!(
        out.contains("Its runs' limits: fuel=1000 memory-mb=64."),
        "{out}"
    );
    let out = deploy("roomy", &[]);
    assert!(out.contains("Its runs' limits: default."), "{out}");
    let tight = deployment_id(&weft, "my-first-flow", "tight");
    let stored: Value = block_on(weft.api().get(&["deployments", &tight])).expect("the deployment");
    assert_eq!(stored["limits"]["fuel"], 1000, "{stored}");
    assert_eq!(stored["limits"]["memory_bytes"], 64 << 20, "{stored}");

    let listed = weft.ok(&["deployment", "ls"]);
    let row = |name: &str| {
        listed
            .lines()
            .find(|l| l.contains(&format!("/{name} ")))
            .unwrap_or_else(|| panic!("no row for {name}: {listed}"))
            .to_string()
    };
    assert!(row("tight").contains("fuel=1000 memory-mb=64"), "{listed}");
    assert!(row("roomy").contains("default"), "{listed}");

    let _worker = weft.start_worker("pool-l", &[]);
    let failed = weft.run(&["deployment", "run", "my-first-flow/tight", "--watch"]);
    assert!(!failed.status.success(), "{failed:?}");
    let runs = runs_of(&weft, &tight);
    assert_eq!(runs.len(), 1, "{runs:?}");
    let run = &runs[0];
    assert!(
        matches!(state_type(run), "FAILED" | "CRASHED"),
        "the run out of fuel ended {run}"
    );
    let message = run["state"]["message"].as_str().unwrap_or("");
    assert!(message.to_lowercase().contains("fuel"), "{run}");
    let watched = String::from_utf8_lossy(&failed.stdout);
    assert!(watched.to_lowercase().contains("fuel"), "{watched}");

    let out = weft.ok(&["deployment", "run", "my-first-flow/roomy", "--watch"]);
    assert!(out.contains("Hello from weft!"), "{out}");
    assert!(out.contains("Completed"), "{out}");
    let roomy = deployment_id(&weft, "my-first-flow", "roomy");
    let runs = runs_of(&weft, &roomy);
    assert_eq!(runs.len(), 1, "{runs:?}");
    assert_eq!(state_type(&runs[0]), "COMPLETED", "{runs:?}");
}

//! Outbound HTTP on real processes, against a local server on 127.0.0.1:
//! `weft run` refuses a host it was not allowed (a clear error, and a
//! warning line that `weft flow-run logs` shows), and a deployment allowed
//! the host runs through a server and a worker whose operator list allows
//! it too, its task retrying over two 503s.

mod support;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::thread;

use serde_json::Value;
use serde_json::json;
use support::{Weft, block_on, state_type};
use weft_test_support::example_wasm;

/// A local HTTP server answering each request with the next scripted
/// (status, body), the last one repeated; counts the requests.
struct Server {
    port: u16,
    hits: Arc<Mutex<usize>>,
}

impl Server {
    fn start(script: Vec<(u16, &'static str)>) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let hits = Arc::new(Mutex::new(0usize));
        let count = hits.clone();
        thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { return };
                let n = {
                    let mut c = count.lock().unwrap();
                    *c += 1;
                    *c - 1
                };
                let (status, body) = script[n.min(script.len() - 1)];
                let mut buf = Vec::new();
                let mut chunk = [0u8; 1024];
                while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut chunk) {
                        Ok(0) | Err(_) => break,
                        Ok(k) => buf.extend_from_slice(&chunk[..k]),
                    }
                }
                let response = format!(
                    "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = stream.write_all(response.as_bytes());
            }
        });
        Server { port, hits }
    }

    fn hits(&self) -> usize {
        *self.hits.lock().unwrap()
    }
}

/// The run's name from `weft run`'s output ("Flow run 'NAME' - ...").
fn run_name(stdout: &str) -> String {
    let line = stdout
        .lines()
        .find(|l| l.contains("Flow run '"))
        .unwrap_or_else(|| panic!("no flow run line in {stdout}"));
    let start = line.find("Flow run '").unwrap() + "Flow run '".len();
    let end = line[start..].find('\'').unwrap() + start;
    line[start..end].to_string()
}

#[test]
fn weft_run_refuses_a_host_it_was_not_allowed() {
    let server = Server::start(vec![(200, r#"{"ok": true}"#)]);
    let weft = Weft::new();
    let wasm = example_wasm("http-api");
    let url = format!("url=http://127.0.0.1:{}/status", server.port);
    let out = weft.run(&[
        "run",
        wasm.to_str().unwrap(),
        "--allow-host",
        "api.example.com",
        "--param",
        &url,
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(stderr.contains("denied"), "{stderr}");
    assert!(
        stderr.contains("not allowed for this run"),
        "a clear error in the guest: {stderr}"
    );
    assert_eq!(server.hits(), 0, "the server must see nothing");

    // `weft run` records in the local store: read it without a server.
    let out = weft
        .command(&["flow-run", "logs", &run_name(&stdout)])
        .env_remove("WEFT_API_URL")
        .output()
        .expect("weft runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let logs = String::from_utf8_lossy(&out.stdout);
    let hint = format!("--allow-host http://127.0.0.1:{}", server.port);
    assert!(
        logs.lines()
            .any(|l| l.contains("WARNING") && l.contains("denied") && l.contains(&hint)),
        "a warning line in the run's logs: {logs}"
    );
}

#[test]
fn a_deployment_calls_its_allowed_host_through_a_worker_with_retries() {
    let server = Server::start(vec![
        (503, "busy"),
        (503, "busy"),
        (200, r#"{"answer": 42}"#),
    ]);
    let weft = Weft::new();
    let _server = weft.start_server(&[]);
    weft.ok(&["work-pool", "create", "pool-http"]);
    let host = format!("http://127.0.0.1:{}", server.port);
    let wasm = example_wasm("http-api");
    let out = weft.ok(&[
        "deploy",
        wasm.to_str().unwrap(),
        "--flow",
        "fetch-api",
        "--name",
        "api",
        "--pool",
        "pool-http",
        "--allow-host",
        &host,
        "--params",
        &format!(r#"{{"url": "{host}/status"}}"#),
    ]);
    assert!(out.contains(&format!("allow-host={host}")), "{out}");
    let api = weft.api();
    let d: Value =
        block_on(api.get(&["deployments", "name", "fetch-api", "api"])).expect("deployment");
    assert_eq!(
        d["limits"]["network"]["allowed_hosts"][0],
        host.as_str(),
        "{d}"
    );
    // The server refuses an entry that does not parse.
    let mut bad = d["limits"].clone();
    bad["network"]["allowed_hosts"] = json!(["api.example.com/path"]);
    let id = d["id"].as_str().expect("id");
    let (status, body) = block_on(api.send_json_raw(
        reqwest::Method::PATCH,
        &["deployments", id],
        &json!({ "limits": bad }),
    ))
    .expect("the server answers");
    assert_eq!(status.as_u16(), 422, "{}", String::from_utf8_lossy(&body));

    let _worker = weft.start_worker("pool-http", &["--allow-host", "http://127.0.0.1:*"]);
    let out = weft.ok(&["deployment", "run", "fetch-api/api", "--watch"]);
    assert!(out.contains("Completed"), "{out}");
    let runs: Vec<Value> =
        block_on(api.post(&["flow_runs", "filter"], &json!({"limit": 5}))).expect("runs");
    assert_eq!(runs.len(), 1, "{runs:?}");
    assert_eq!(state_type(&runs[0]), "COMPLETED", "{}", runs[0]);
    assert_eq!(server.hits(), 3, "two 503s, then the answer");
}

#[test]
fn the_embedded_workers_operator_list_must_allow_the_host_too() {
    operator_list_refuses(
        &["--worker", "pool-op", "--allow-host", "*.example.com"],
        false,
    );
}

#[test]
fn the_servers_operator_list_reaches_remote_workers() {
    // The worker has no list of its own: the server's, sent with each
    // claimed run, refuses the deployment's host.
    operator_list_refuses(&["--allow-host", "*.example.com"], true);
}

fn operator_list_refuses(server_args: &[&str], remote_worker: bool) {
    let server = Server::start(vec![(200, r#"{"ok": true}"#)]);
    let weft = Weft::new();
    let _server = weft.start_server(server_args);
    let _worker = remote_worker.then(|| {
        weft.ok(&["work-pool", "create", "pool-op"]);
        weft.start_worker("pool-op", &[])
    });
    let host = format!("http://127.0.0.1:{}", server.port);
    let wasm = example_wasm("http-api");
    weft.ok(&[
        "deploy",
        wasm.to_str().unwrap(),
        "--flow",
        "fetch-api",
        "--name",
        "op",
        "--pool",
        "pool-op",
        "--allow-host",
        &host,
        "--params",
        &format!(r#"{{"url": "{host}/status"}}"#),
    ]);
    let out = weft.run(&["deployment", "run", "fetch-api/op", "--watch"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert_eq!(server.hits(), 0, "the server must see nothing");
    let api = weft.api();
    let runs: Vec<Value> =
        block_on(api.post(&["flow_runs", "filter"], &json!({"limit": 5}))).expect("runs");
    assert_eq!(state_type(&runs[0]), "FAILED", "{}", runs[0]);
    let id = runs[0]["id"].as_str().expect("id");
    let logs = weft.ok(&["flow-run", "logs", id]);
    assert!(
        logs.lines()
            .any(|l| l.contains("WARNING") && l.contains("denied by the operator's allowlist")),
        "{logs}"
    );
}

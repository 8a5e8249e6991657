//! Outbound HTTP on real components against local servers on loopback:
//! task retries over a flaky API, denied hosts (the run's list and the
//! operator's), secrets substituted only for their bound host, the Host
//! header, the response size cap, cancellation and wall time.

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{Harness, example, testguest};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use weft_core::network::{AllowedHosts, NetworkGrant};
use weft_core::{LogLevel, RunLimits};
use weft_runtime::{CancelToken, RunOptions};
use weft_store::Store;

/// A request the test server received: its head (request line and
/// headers, as text) and body.
#[derive(Debug, Clone)]
struct Seen {
    head: String,
    body: String,
}

impl Seen {
    fn header(&self, name: &str) -> Option<String> {
        self.head.lines().skip(1).find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim()
                .eq_ignore_ascii_case(name)
                .then(|| v.trim().to_string())
        })
    }
    fn request_line(&self) -> &str {
        self.head.lines().next().unwrap_or("")
    }
}

/// What the server answers: status and body, one per request in order
/// (the last repeats); `None` never answers; a body of `ECHO` sends the
/// request back.
type Script = Vec<Option<(u16, String)>>;

/// A one-request-per-connection HTTP/1.1 server on 127.0.0.1.
struct Server {
    port: u16,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Server {
    async fn start(script: Script) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        tokio::spawn(async move {
            let mut n = 0usize;
            loop {
                let Ok((mut socket, _)) = listener.accept().await else {
                    return;
                };
                let answer = script[n.min(script.len() - 1)].clone();
                n += 1;
                let log = log.clone();
                tokio::spawn(async move {
                    let mut buf = Vec::new();
                    let mut chunk = [0u8; 4096];
                    let head_end = loop {
                        let Ok(k) = socket.read(&mut chunk).await else {
                            return;
                        };
                        if k == 0 {
                            return;
                        }
                        buf.extend_from_slice(&chunk[..k]);
                        if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                            break p;
                        }
                    };
                    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
                    let length = head
                        .lines()
                        .find_map(|l| {
                            let (k, v) = l.split_once(':')?;
                            k.eq_ignore_ascii_case("content-length")
                                .then(|| v.trim().parse::<usize>().ok())?
                        })
                        .unwrap_or(0);
                    let mut body = buf[head_end + 4..].to_vec();
                    while body.len() < length {
                        let Ok(k) = socket.read(&mut chunk).await else {
                            return;
                        };
                        if k == 0 {
                            break;
                        }
                        body.extend_from_slice(&chunk[..k]);
                    }
                    let body = String::from_utf8_lossy(&body).to_string();
                    let echo = format!("{head}\n\n{body}");
                    log.lock().unwrap().push(Seen { head, body });
                    let Some((status, mut text)) = answer else {
                        // Never answer: hold the connection open.
                        tokio::time::sleep(Duration::from_secs(3600)).await;
                        return;
                    };
                    if text == "ECHO" {
                        text = echo;
                    }
                    let response = format!(
                        "HTTP/1.1 {status} X\r\ncontent-length: {}\r\ncontent-type: text/plain\r\nconnection: close\r\n\r\n{text}",
                        text.len()
                    );
                    let _ = socket.write_all(response.as_bytes()).await;
                    let _ = socket.shutdown().await;
                });
            }
        });
        Server { port, seen }
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

fn ok(body: &str) -> Option<(u16, String)> {
    Some((200, body.to_string()))
}

/// Options granting `hosts`, with `secret_hosts` bindings.
fn granting(hosts: &[&str], secret_hosts: &[(&str, &str)]) -> RunOptions {
    let mut network = NetworkGrant {
        allowed_hosts: hosts.iter().map(|h| h.to_string()).collect(),
        ..Default::default()
    };
    for (name, host) in secret_hosts {
        network
            .secret_hosts
            .entry(name.to_string())
            .or_default()
            .push(host.to_string());
    }
    RunOptions {
        limits: RunLimits {
            network,
            ..RunLimits::default()
        },
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn example_retries_a_flaky_api_until_it_answers() {
    let server = Server::start(vec![
        Some((503, "busy".into())),
        Some((503, "busy".into())),
        ok(r#"{"answer": 42}"#),
    ])
    .await;
    let h = Harness::new().await;
    let options = granting(&["http://127.0.0.1:*"], &[]);
    let (state, run) = h
        .run_with(
            &example("http-api"),
            "fetch-api",
            json!({"url": server.url("/status")}),
            options,
        )
        .await;
    assert_eq!(state.name, "Completed", "{state:?}");
    assert_eq!(state.data, Some(json!({"answer": 42})));
    assert_eq!(server.seen().len(), 3);
    assert_eq!(server.seen()[0].request_line(), "GET /status HTTP/1.1");
    let tasks = h.task_runs(&run).await;
    assert_eq!(tasks.len(), 1);
    let states = h.state_names(&tasks[0]).await;
    assert_eq!(
        states.iter().filter(|s| *s == "AwaitingRetry").count(),
        2,
        "{states:?}"
    );
    assert_eq!(states.last().map(String::as_str), Some("Completed"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_host_not_allowed_is_refused_with_a_warning() {
    let server = Server::start(vec![ok("hello")]).await;
    let h = Harness::new().await;
    let url = server.url("/");
    let (state, run) = h
        .run_with(
            &testguest(),
            "http-get",
            json!({"url": url}),
            granting(&["api.example.com"], &[]),
        )
        .await;
    assert_eq!(state.name, "Failed", "{state:?}");
    let message = state.message.unwrap_or_default();
    assert!(message.contains("denied"), "{message}");
    assert!(message.contains(&url), "{message}");
    assert!(server.seen().is_empty(), "the server must see nothing");
    let logs = h.logs(&run).await;
    let warning = logs
        .iter()
        .find(|l| l.level == LogLevel::Warning && l.name == "weft.http")
        .unwrap_or_else(|| panic!("no warning in {logs:?}"));
    assert!(
        warning
            .message
            .contains(&format!("--allow-host http://127.0.0.1:{}", server.port)),
        "{}",
        warning.message
    );

    // No grant at all: refused too.
    let (state, _) = h.run(&testguest(), "http-get", json!({"url": url})).await;
    assert_eq!(state.name, "Failed", "{state:?}");
    assert!(server.seen().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_operator_list_must_allow_the_request_too() {
    let server = Server::start(vec![ok("hello")]).await;
    let h = Harness::new().await;
    let mut options = granting(&["http://127.0.0.1:*"], &[]);
    options.operator_hosts = Some(AllowedHosts::parse(["*.example.com"]).unwrap());
    let (state, run) = h
        .run_with(
            &testguest(),
            "http-get",
            json!({"url": server.url("/")}),
            options.clone(),
        )
        .await;
    assert_eq!(state.name, "Failed", "{state:?}");
    assert!(server.seen().is_empty());
    let logs = h.logs(&run).await;
    assert!(
        logs.iter()
            .any(|l| l.level == LogLevel::Warning && l.message.contains("operator")),
        "{logs:?}"
    );

    options.operator_hosts = Some(AllowedHosts::parse([server.url("")]).unwrap());
    let (state, _) = h
        .run_with(
            &testguest(),
            "http-get",
            json!({"url": server.url("/")}),
            options,
        )
        .await;
    assert_eq!(state.name, "Completed", "{state:?}");
    assert_eq!(state.data, Some(json!({"status": 200, "body": "hello"})));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_placeholder_secret_reaches_only_its_bound_host() {
    let bound = Server::start(vec![ok("thanks")]).await;
    let other = Server::start(vec![ok("thanks")]).await;
    let h = Harness::new().await;
    let value = "s3cr3t value&42";
    h.store.set_secret("API_TOKEN", value).await.unwrap();
    let options = granting(&["http://127.0.0.1:*"], &[("API_TOKEN", &bound.url(""))]);

    let (state, _) = h
        .run_with(
            &testguest(),
            "http-with-secret",
            json!({"url": bound.url("/items"), "name": "API_TOKEN"}),
            options.clone(),
        )
        .await;
    assert_eq!(state.name, "Completed", "{state:?}");
    let data = state.data.unwrap();
    let read = data["read"].as_str().unwrap().to_string();
    assert!(read.starts_with("weft-secret-API_TOKEN-"), "{read}");
    assert!(
        !data.to_string().contains(value),
        "the guest saw the value: {data}"
    );
    let seen = &bound.seen()[0];
    assert_eq!(
        seen.header("authorization").as_deref(),
        Some(format!("Bearer {value}").as_str())
    );
    assert_eq!(
        seen.request_line(),
        "POST /items?token=s3cr3t%20value%2642 HTTP/1.1"
    );
    assert_eq!(seen.body, json!({"token": value}).to_string());
    assert!(!seen.head.contains("weft-secret-"), "{}", seen.head);

    // A bound host that echoes the request cannot hand the value back.
    let echo = Server::start(vec![ok("ECHO")]).await;
    let echoing = granting(&["http://127.0.0.1:*"], &[("API_TOKEN", &echo.url(""))]);
    let (state, _) = h
        .run_with(
            &testguest(),
            "http-with-secret",
            json!({"url": echo.url("/items"), "name": "API_TOKEN"}),
            echoing,
        )
        .await;
    assert_eq!(state.name, "Completed", "{state:?}");
    let data = state.data.unwrap();
    assert!(
        echo.seen()[0].head.contains(value),
        "the server got the value"
    );
    let body = data["body"].as_str().unwrap();
    assert!(!body.contains("s3cr3t"), "the guest saw the value: {body}");
    assert!(body.contains(data["read"].as_str().unwrap()), "{body}");

    // Another allowed host gets the placeholder, never the value.
    let (state, _) = h
        .run_with(
            &testguest(),
            "http-with-secret",
            json!({"url": other.url("/items"), "name": "API_TOKEN"}),
            options,
        )
        .await;
    assert_eq!(state.name, "Completed", "{state:?}");
    let seen = &other.seen()[0];
    assert!(!seen.head.contains("s3cr3t"), "{}", seen.head);
    assert!(!seen.body.contains("s3cr3t"), "{}", seen.body);
    assert!(
        seen.header("authorization")
            .unwrap_or_default()
            .starts_with("Bearer weft-secret-API_TOKEN-"),
        "{seen:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_host_header_comes_from_the_url() {
    let server = Server::start(vec![ok("hello")]).await;
    let h = Harness::new().await;
    let (state, _) = h
        .run_with(
            &testguest(),
            "http-host-header",
            json!({"url": server.url("/"), "host": "internal.example.com"}),
            granting(&["http://127.0.0.1:*"], &[]),
        )
        .await;
    // The guest may not set Host at all: the request fails in the guest,
    // or is sent with the URL's authority.
    for seen in server.seen() {
        assert_eq!(
            seen.header("host"),
            Some(format!("127.0.0.1:{}", server.port))
        );
    }
    if state.name != "Completed" {
        let message = state.message.unwrap_or_default();
        assert!(message.contains("host"), "{message}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_response_over_the_cap_fails_in_the_guest() {
    let server = Server::start(vec![ok(&"x".repeat(10_000))]).await;
    let h = Harness::new().await;
    let mut options = granting(&["http://127.0.0.1:*"], &[]);
    options.limits.network.max_response_bytes = 1000;
    let (state, _) = h
        .run_with(
            &testguest(),
            "http-get",
            json!({"url": server.url("/")}),
            options,
        )
        .await;
    assert_eq!(state.name, "Failed", "{state:?}");
    let message = state.message.unwrap_or_default();
    assert!(message.contains("size cap"), "{message}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hanging_request_ends_with_cancellation_and_wall_time() {
    let server = Server::start(vec![None]).await;
    let h = Harness::new().await;
    let options = granting(&["http://127.0.0.1:*"], &[]);
    // Build and load the guest first, so the timings below measure the run.
    h.load(&testguest()).await;
    let cancel = CancelToken::new();
    let c = cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(500)).await;
        c.cancel();
    });
    let started = Instant::now();
    let (state, _) = h
        .run_with(
            &testguest(),
            "http-get",
            json!({"url": server.url("/slow")}),
            RunOptions {
                cancel,
                ..options.clone()
            },
        )
        .await;
    assert_eq!(state.name, "Cancelled", "{state:?}");
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "{:?}",
        started.elapsed()
    );

    let mut options = options;
    options.limits.wall_time = Duration::from_secs(1);
    let started = Instant::now();
    let (state, _) = h
        .run_with(
            &testguest(),
            "http-get",
            json!({"url": server.url("/slow")}),
            options,
        )
        .await;
    assert_eq!(state.name, "Crashed", "{state:?}");
    assert!(
        state.message.unwrap_or_default().contains("wall-clock"),
        "wall time"
    );
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "{:?}",
        started.elapsed()
    );
}

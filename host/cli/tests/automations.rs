//! Events, webhooks and automations end to end, on real processes: a
//! file-upload webhook starts an ingestion deployment with the file as a
//! parameter and a worker runs it; a Failed run posts to a notification
//! URL (a local receiver); both defined with `weft webhook create` and
//! `weft automation create --from-file` (YAML).

mod support;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::mpsc;
use std::time::Duration;

use serde_json::{Value, json};
use support::{Weft, block_on, deploy, eventually, state_type};
use weft_test_support::test_guest_wasm;

fn write(weft: &Weft, name: &str, text: &str) -> String {
    let path = weft.home.path().join(name);
    std::fs::write(&path, text).expect("write a definition");
    path.to_str().expect("utf-8 path").to_string()
}

#[test]
fn a_webhook_starts_a_deployment_through_an_automation() {
    let weft = Weft::new();
    let _server = weft.start_server(&[]);
    let deployment = deploy(
        &weft,
        &test_guest_wasm("testguest"),
        "echo",
        "ingest",
        "pool-hooks",
    );
    let _worker = weft.start_worker("pool-hooks", &[]);

    let hook = write(
        &weft,
        "upload.yaml",
        r#"
slug: file-upload
description: the storage service calls this for each new file
template:
  event: file.uploaded
  resource:
    prefect.resource.id: "bucket.{{ body.bucket }}"
  payload:
    file: "{{ body.file }}"
"#,
    );
    let out = weft.ok(&["webhook", "create", "--from-file", &hook]);
    assert!(out.contains("/hooks/file-upload"), "{out}");
    let automation = write(
        &weft,
        "ingest.yaml",
        r#"
name: ingest-uploads
trigger:
  expect: [file.uploaded]
  match:
    prefect.resource.id: "bucket.*"
actions:
  - type: run-deployment
    deployment_name: echo/ingest
    parameters:
      value: "{{ event.payload.file }}"
"#,
    );
    let out = weft.ok(&["automation", "create", "--from-file", &automation]);
    assert!(out.contains("ingest-uploads"), "{out}");
    let ls = weft.ok(&["automation", "ls"]);
    assert!(
        ls.contains("file.uploaded") && ls.contains("run-deployment"),
        "{ls}"
    );

    let url = format!("http://127.0.0.1:{}/hooks/file-upload", weft.port);
    let answer = block_on(async {
        reqwest::Client::new()
            .post(&url)
            .json(&json!({"bucket": "raw", "file": "2026/12/orders.csv"}))
            .send()
            .await
            .expect("the webhook answers")
            .status()
    });
    assert_eq!(answer.as_u16(), 202);

    let api = weft.api();
    let run = block_on(eventually("the ingestion run to complete", || async {
        let runs: Vec<Value> = api
            .post(
                &["flow_runs", "filter"],
                &json!({"deployments": {"id": {"any_": [deployment]}}}),
            )
            .await
            .ok()?;
        runs.into_iter().find(|r| state_type(r) == "COMPLETED")
    }));
    assert_eq!(run["parameters"]["value"], "2026/12/orders.csv", "{run}");

    weft.ok(&["automation", "delete", "ingest-uploads"]);
    assert!(!weft.ok(&["automation", "ls"]).contains("ingest-uploads"));
    weft.ok(&["webhook", "delete", "file-upload"]);
}

/// A one-request HTTP receiver on 127.0.0.1: the body of the first POST.
fn receiver() -> (String, mpsc::Receiver<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}/notify", listener.local_addr().expect("addr"));
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let Ok((mut conn, _)) = listener.accept() else {
            return;
        };
        let _ = conn.set_read_timeout(Some(Duration::from_secs(10)));
        let mut data = Vec::new();
        let mut buf = [0u8; 4096];
        // Read the head, then as much body as Content-Length says.
        loop {
            let Ok(n) = conn.read(&mut buf) else { return };
            if n == 0 {
                break;
            }
            data.extend_from_slice(&buf[..n]);
            let text = String::from_utf8_lossy(&data).to_string();
            if let Some(end) = text.find("\r\n\r\n") {
                let len = text[..end]
                    .lines()
                    .find_map(|l| {
                        let (k, v) = l.split_once(':')?;
                        k.eq_ignore_ascii_case("content-length")
                            .then(|| v.trim().parse::<usize>().ok())
                            .flatten()
                    })
                    .unwrap_or(0);
                if data.len() >= end + 4 + len {
                    let body = String::from_utf8_lossy(&data[end + 4..end + 4 + len]).to_string();
                    let _ = conn.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n");
                    let _ = tx.send(body);
                    return;
                }
            }
        }
    });
    (url, rx)
}

#[test]
fn a_failed_run_posts_to_a_notification_url() {
    let weft = Weft::new();
    let _server = weft.start_server(&[]);
    let deployment = deploy(
        &weft,
        &test_guest_wasm("testguest"),
        "fail-flow",
        "nightly",
        "pool-notify",
    );
    let (url, received) = receiver();
    let automation = write(
        &weft,
        "notify.json",
        &json!({
            "name": "tell-on-failure",
            "trigger": {"expect": ["prefect.flow-run.Failed"],
                        "match_related": {"prefect.resource.role": "deployment",
                                          "prefect.resource.id": format!("prefect.deployment.{deployment}")}},
            "actions": [{"type": "call-webhook", "url": url,
                         "payload": {"text": "{{ flow_run.name }} failed: {{ event.resource['prefect.state-message'] }}"}}]
        })
        .to_string(),
    );
    weft.ok(&["automation", "create", "--from-file", &automation]);
    let _worker = weft.start_worker("pool-notify", &[]);
    let api = weft.api();
    let run: Value =
        block_on(api.post(&["deployments", &deployment, "create_flow_run"], &json!({})))
            .expect("create a run");
    let body = received
        .recv_timeout(support::DEADLINE)
        .expect("the notification arrives");
    let body: Value = serde_json::from_str(&body).expect("JSON body");
    let name = run["name"].as_str().expect("name");
    let text = body["text"].as_str().unwrap_or_default();
    assert!(text.starts_with(&format!("{name} failed:")), "{body}");
    assert!(text.contains("flow said no"), "{body}");
}

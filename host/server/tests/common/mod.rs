//! Starts the API on 127.0.0.1:0 over a SQLite store in a temporary
//! directory, and drives it with real HTTP.

#![allow(dead_code)]

use std::sync::{Arc, OnceLock};

use reqwest::{Client, Method, StatusCode};
use serde_json::Value;
use weft_runtime::{EngineConfig, Runtime};
use weft_server::{AppState, ServerConfig, router};
use weft_store::{SqliteStore, Store};

pub struct Server {
    pub base: String,
    pub client: Client,
    pub store: Arc<dyn Store>,
    _dir: tempfile::TempDir,
}

fn runtime() -> Runtime {
    static RT: OnceLock<Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        Runtime::new(EngineConfig {
            max_instances: 32,
            ..EngineConfig::default()
        })
        .expect("runtime starts")
    })
    .clone()
}

pub async fn start() -> Server {
    start_with(ServerConfig::default()).await
}

pub async fn start_with(config: ServerConfig) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open_home(dir.path()).await.unwrap());
    let app = router(AppState::new(config, store.clone(), runtime()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    Server {
        base: format!("http://{addr}/api"),
        client: Client::new(),
        store,
        _dir: dir,
    }
}

impl Server {
    /// Sends `body` (JSON, when given) and returns the status and the JSON
    /// answer (`Value::Null` for an empty one).
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = self
            .client
            .request(method, format!("{}{}", self.base, path));
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status();
        let text = resp.text().await.unwrap();
        let value = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text)
                .unwrap_or_else(|e| panic!("{path}: answer is not JSON ({e}): {text}"))
        };
        (status, value)
    }

    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.call(Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::POST, path, Some(body)).await
    }

    /// Posts raw bytes.
    pub async fn post_bytes(&self, path: &str, bytes: Vec<u8>) -> (StatusCode, Value) {
        let resp = self
            .client
            .post(format!("{}{}", self.base, path))
            .header("content-type", "application/wasm")
            .body(bytes)
            .send()
            .await
            .unwrap();
        let status = resp.status();
        let text = resp.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    /// Creates a flow and returns its id.
    pub async fn flow(&self, name: &str) -> String {
        let (s, f) = self
            .post(
                "/flows/",
                serde_json::json!({"name": name, "tags": [], "labels": {}}),
            )
            .await;
        assert!(s.is_success(), "{s} {f}");
        f["id"].as_str().unwrap().to_string()
    }

    /// Creates a flow run of `flow_id` (Prefect's body) and returns it.
    pub async fn flow_run(&self, flow_id: &str, extra: Value) -> Value {
        let mut body = serde_json::json!({
            "state": {"type": "PENDING", "name": "Pending", "message": null,
                      "state_details": {"traceparent": null}, "data": null},
            "name": null, "flow_id": flow_id, "flow_version": "734b",
            "parameters": {"n": 3}, "context": {}, "parent_task_run_id": null,
            "empirical_policy": {"retries": 0, "retry_delay": 0}, "tags": []
        });
        if let (Value::Object(b), Value::Object(e)) = (&mut body, extra) {
            b.extend(e);
        }
        let (s, run) = self.post("/flow_runs/", body).await;
        assert_eq!(s, StatusCode::CREATED, "{run}");
        run
    }
}

/// Asserts an error answer: the status and a JSON `detail` containing `needle`.
pub fn assert_error(got: (StatusCode, Value), status: StatusCode, needle: &str) {
    assert_eq!(got.0, status, "{}", got.1);
    let detail = got.1["detail"]
        .as_str()
        .unwrap_or_else(|| panic!("no detail: {}", got.1));
    assert!(
        detail.to_lowercase().contains(&needle.to_lowercase()),
        "{detail:?} does not mention {needle:?}"
    );
}

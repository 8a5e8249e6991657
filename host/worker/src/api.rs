//! A small client of weft's REST API: one keep-alive [`reqwest::Client`],
//! URL building with proper escaping, JSON helpers that turn every non-2xx
//! answer into an [`ApiError`] carrying the server's `detail`, and typed
//! calls for what a worker needs (claims, heartbeats, states, task runs,
//! logs, cache entries, secrets, components).
//!
//! The wire types here mirror the server's JSON (Prefect's field names) and
//! are lenient: unknown fields are ignored and most fields default, so a
//! richer server answer never breaks a worker.

use std::time::Duration;

use chrono::{DateTime, Utc};
use reqwest::{Method, StatusCode, Url};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use uuid::Uuid;
use weft_core::{CacheEntry, FlowRun, LogEntry, RunLimits, State, StateType, TaskRun};

/// Why an API call failed.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The URL given for the API is not a URL.
    #[error("invalid API URL `{url}`: {message}")]
    InvalidUrl {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        message: String,
    },
    /// The server could not be reached, or the connection broke.
    #[error("cannot reach the weft server at {url}: {source}")]
    Transport {
        /// The request's URL.
        url: String,
        /// The underlying error.
        source: reqwest::Error,
    },
    /// The server answered with an error status.
    #[error("{method} {path} failed with {status}: {detail}")]
    Status {
        /// The request's method.
        method: String,
        /// The request's path.
        path: String,
        /// The HTTP status.
        status: u16,
        /// The server's explanation (its JSON `detail`, or the body).
        detail: String,
    },
    /// The answer was not what the API promises.
    #[error("unexpected answer to {path}: {message}")]
    Decode {
        /// The request's path.
        path: String,
        /// What did not parse.
        message: String,
    },
}

impl ApiError {
    /// The HTTP status of a [`ApiError::Status`] error.
    pub fn status(&self) -> Option<u16> {
        match self {
            ApiError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// Whether the server said the thing does not exist (404).
    pub fn is_not_found(&self) -> bool {
        self.status() == Some(404)
    }

    /// Whether retrying the same request may succeed: the connection
    /// failed, or the server was unavailable or failed (5xx, 429).
    pub fn is_transient(&self) -> bool {
        match self {
            ApiError::Transport { .. } => true,
            ApiError::Status { status, .. } => *status >= 500 || *status == 429,
            _ => false,
        }
    }
}

/// A client of one weft server's API. Cheap to clone; clones share the
/// connection pool.
#[derive(Debug, Clone)]
pub struct ApiClient {
    http: reqwest::Client,
    base: Url,
}

impl ApiClient {
    /// A client of the API at `api_url` (`http://127.0.0.1:4200/api`).
    pub fn new(api_url: &str) -> Result<ApiClient, ApiError> {
        let invalid = |message: String| ApiError::InvalidUrl {
            url: api_url.to_string(),
            message,
        };
        let base = Url::parse(api_url.trim_end_matches('/')).map_err(|e| invalid(e.to_string()))?;
        if base.cannot_be_a_base() || !matches!(base.scheme(), "http" | "https") {
            return Err(invalid("expected an http:// URL".into()));
        }
        let http = reqwest::Client::builder()
            .user_agent(concat!("weft/", env!("CARGO_PKG_VERSION")))
            .pool_max_idle_per_host(256)
            .tcp_nodelay(true)
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(300))
            .build()
            .map_err(|e| invalid(e.to_string()))?;
        Ok(ApiClient { http, base })
    }

    /// The API's base URL.
    pub fn base_url(&self) -> &Url {
        &self.base
    }

    /// The URL of the API path made of `segments` (each one escaped); an
    /// empty last segment gives a trailing slash, as Prefect's create
    /// routes have (`["flow_runs", ""]` is `/api/flow_runs/`).
    pub fn url(&self, segments: &[&str]) -> Url {
        let mut url = self.base.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(segments);
        }
        url
    }

    /// Sends a request with an optional body (JSON bytes) and returns the
    /// answer's bytes, or the error the status says.
    pub async fn send(
        &self,
        method: Method,
        segments: &[&str],
        body: Option<Vec<u8>>,
    ) -> Result<Vec<u8>, ApiError> {
        let url = self.url(segments);
        let mut request = self.http.request(method.clone(), url.clone());
        if let Some(bytes) = body {
            request = request
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(bytes);
        }
        self.finish(method, &url, request).await
    }

    /// Sends a JSON body and returns the answer's status and bytes,
    /// whatever the status (only a failed connection is an error).
    pub async fn send_json_raw<B: Serialize + Sync>(
        &self,
        method: Method,
        segments: &[&str],
        body: &B,
    ) -> Result<(StatusCode, Vec<u8>), ApiError> {
        let url = self.url(segments);
        let transport = |source| ApiError::Transport {
            url: url.to_string(),
            source,
        };
        let response = self
            .http
            .request(method, url.clone())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(encode(segments, body)?)
            .send()
            .await
            .map_err(transport)?;
        let status = response.status();
        let bytes = response.bytes().await.map_err(transport)?;
        Ok((status, bytes.to_vec()))
    }

    async fn finish(
        &self,
        method: Method,
        url: &Url,
        request: reqwest::RequestBuilder,
    ) -> Result<Vec<u8>, ApiError> {
        let transport = |source| ApiError::Transport {
            url: url.to_string(),
            source,
        };
        let response = request.send().await.map_err(transport)?;
        let status = response.status();
        let bytes = response.bytes().await.map_err(transport)?;
        if status.is_success() {
            Ok(bytes.to_vec())
        } else {
            Err(ApiError::Status {
                method: method.to_string(),
                path: url.path().to_string(),
                status: status.as_u16(),
                detail: detail_of(status, &bytes),
            })
        }
    }

    /// `GET` a JSON answer.
    pub async fn get<T: DeserializeOwned>(&self, segments: &[&str]) -> Result<T, ApiError> {
        let bytes = self.send(Method::GET, segments, None).await?;
        decode(segments, &bytes)
    }

    /// `GET` a JSON answer; `None` when the server answers 404.
    pub async fn get_opt<T: DeserializeOwned>(
        &self,
        segments: &[&str],
    ) -> Result<Option<T>, ApiError> {
        match self.get(segments).await {
            Ok(v) => Ok(Some(v)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// `GET` raw bytes.
    pub async fn get_bytes(&self, segments: &[&str]) -> Result<Vec<u8>, ApiError> {
        self.send(Method::GET, segments, None).await
    }

    /// `POST` a JSON body and decode the JSON answer.
    pub async fn post<B: Serialize + Sync, T: DeserializeOwned>(
        &self,
        segments: &[&str],
        body: &B,
    ) -> Result<T, ApiError> {
        let bytes = self
            .send(Method::POST, segments, Some(encode(segments, body)?))
            .await?;
        decode(segments, &bytes)
    }

    /// Sends a JSON body with `method` and ignores the answer's body.
    pub async fn call<B: Serialize + Sync>(
        &self,
        method: Method,
        segments: &[&str],
        body: &B,
    ) -> Result<(), ApiError> {
        self.send(method, segments, Some(encode(segments, body)?))
            .await
            .map(drop)
    }

    /// `DELETE`, ignoring the answer's body.
    pub async fn delete(&self, segments: &[&str]) -> Result<(), ApiError> {
        self.send(Method::DELETE, segments, None).await.map(drop)
    }

    /// `POST` raw bytes with `content_type` and decode the JSON answer.
    pub async fn post_bytes<T: DeserializeOwned>(
        &self,
        segments: &[&str],
        bytes: Vec<u8>,
        content_type: &str,
    ) -> Result<T, ApiError> {
        let url = self.url(segments);
        let request = self
            .http
            .post(url.clone())
            .header(reqwest::header::CONTENT_TYPE, content_type)
            .body(bytes);
        let bytes = self.finish(Method::POST, &url, request).await?;
        decode(segments, &bytes)
    }

    // ---- typed calls a worker makes ----

    /// Claims up to `limit` scheduled runs of `pool` for `worker`.
    pub async fn claim_flow_runs(
        &self,
        pool: &str,
        worker: &str,
        limit: u32,
    ) -> Result<Vec<ApiFlowRun>, ApiError> {
        let body = serde_json::json!({ "worker": worker, "limit": limit });
        let claimed: Vec<ClaimedRun> = self
            .post(&["work_pools", pool, "claim_flow_runs"], &body)
            .await?;
        Ok(claimed.into_iter().map(ClaimedRun::into_run).collect())
    }

    /// Tells the server `worker` of `pool` is alive and still holds `runs`.
    pub async fn heartbeat(
        &self,
        pool: &str,
        worker: &str,
        interval: Duration,
        runs: &[Uuid],
    ) -> Result<(), ApiError> {
        let body = serde_json::json!({
            "name": worker,
            "heartbeat_interval_seconds": interval.as_secs().max(1),
            "flow_run_ids": runs,
        });
        self.call(
            Method::POST,
            &["work_pools", pool, "workers", "heartbeat"],
            &body,
        )
        .await
    }

    /// Reads a flow run; `None` when it does not exist.
    pub async fn read_flow_run(&self, id: Uuid) -> Result<Option<ApiFlowRun>, ApiError> {
        self.get_opt(&["flow_runs", &id.to_string()]).await
    }

    /// Reads a deployment by id; `None` when it does not exist.
    pub async fn read_deployment(&self, id: Uuid) -> Result<Option<ApiDeployment>, ApiError> {
        self.get_opt(&["deployments", &id.to_string()]).await
    }

    /// Downloads a component's bytes.
    pub async fn component_wasm(&self, digest: &str) -> Result<Vec<u8>, ApiError> {
        self.get_bytes(&["components", digest, "wasm"]).await
    }

    /// Proposes `state` for a flow run.
    pub async fn set_flow_run_state(
        &self,
        id: Uuid,
        state: &State,
        force: bool,
    ) -> Result<Orchestration, ApiError> {
        let body = SetState {
            state: StateCreate::from(state),
            force,
        };
        self.post(&["flow_runs", &id.to_string(), "set_state"], &body)
            .await
    }

    /// Proposes `states` for a flow run, in order, in one request (weft's
    /// `set_states`): one result per state the server handled; it stops
    /// at the first one refused.
    pub async fn set_flow_run_states(
        &self,
        id: Uuid,
        states: &[State],
    ) -> Result<Vec<Orchestration>, ApiError> {
        let body = SetStates {
            states: states.iter().map(StateCreate::from).collect(),
            force: false,
        };
        self.post(&["flow_runs", &id.to_string(), "set_states"], &body)
            .await
    }

    /// Proposes `state` for a task run.
    pub async fn set_task_run_state(
        &self,
        id: Uuid,
        state: &State,
    ) -> Result<Orchestration, ApiError> {
        let body = SetState {
            state: StateCreate::from(state),
            force: false,
        };
        self.post(&["task_runs", &id.to_string(), "set_state"], &body)
            .await
    }

    /// Records a task run, with the id the runtime gave it.
    pub async fn create_task_run(&self, run: &TaskRun) -> Result<(), ApiError> {
        let body = serde_json::json!({
            "id": run.id,
            "flow_run_id": run.flow_run_id,
            "parent_task_run_id": run.parent_task_run_id,
            "task_key": run.task_key,
            "dynamic_key": run.dynamic_key,
            "name": run.name,
            "input": run.input,
            "cache_key": run.cache_key,
            "cache_expiration": run.cache_expiration,
            "tags": run.tags,
            "state": StateCreate::from(&run.state),
        });
        self.call(Method::POST, &["task_runs", ""], &body).await
    }

    /// Records log lines in one batch (Prefect's `POST /api/logs/`).
    pub async fn write_logs(&self, entries: &[LogEntry]) -> Result<(), ApiError> {
        let body: Vec<LogCreate<'_>> = entries.iter().map(LogCreate::from).collect();
        self.call(Method::POST, &["logs", ""], &body).await
    }

    /// Reads a cache entry; `None` when there is none.
    pub async fn read_cache(&self, key: &str) -> Result<Option<CacheEntry>, ApiError> {
        let entry: Option<ApiCacheEntry> = self.get_opt(&["cache", key]).await?;
        Ok(entry.map(|e| CacheEntry {
            key: key.to_string(),
            value: e.value,
            created: e.created.unwrap_or_else(Utc::now),
            expiration: e.expiration,
            task_run_id: e.task_run_id,
        }))
    }

    /// Stores a cache entry.
    pub async fn write_cache(&self, entry: &CacheEntry) -> Result<(), ApiError> {
        let body = serde_json::json!({
            "value": entry.value,
            "expiration": entry.expiration,
            "task_run_id": entry.task_run_id,
        });
        self.call(Method::PUT, &["cache", &entry.key], &body).await
    }

    /// Reads a secret granted to a flow run's deployment; `None` when it
    /// does not exist (or is not granted).
    pub async fn read_run_secret(
        &self,
        flow_run_id: Uuid,
        name: &str,
    ) -> Result<Option<String>, ApiError> {
        let value: Option<serde_json::Value> = self
            .get_opt(&["flow_runs", &flow_run_id.to_string(), "secrets", name])
            .await?;
        Ok(value.and_then(|v| match v {
            serde_json::Value::String(s) => Some(s),
            serde_json::Value::Object(mut m) => match m.remove("value") {
                Some(serde_json::Value::String(s)) => Some(s),
                _ => None,
            },
            _ => None,
        }))
    }

    /// Hands a run `worker` claimed back to its pool: it becomes SCHEDULED
    /// (due now) for any worker to claim. `false` when it was not handed
    /// back (it had already ended). Uses `POST /api/flow_runs/{id}/release`
    /// (`{"worker": ...}`, which also clears the claim); on a server
    /// without that route, an unforced `set_state` to SCHEDULED, which the
    /// orchestration rules refuse from a terminal state.
    pub async fn release_flow_run(&self, id: Uuid, worker: &str) -> Result<bool, ApiError> {
        let id_text = id.to_string();
        let body = serde_json::json!({ "worker": worker });
        match self
            .post::<_, serde_json::Value>(&["flow_runs", &id_text, "release"], &body)
            .await
        {
            Ok(answer) => {
                return Ok(answer
                    .get("released")
                    .and_then(serde_json::Value::as_bool)
                    .or_else(|| answer.as_bool())
                    .unwrap_or(true));
            }
            Err(e) if matches!(e.status(), Some(404) | Some(405)) => {
                // No such route (or the run is gone: then set_state says so).
            }
            Err(e) => return Err(e),
        }
        let state = State::scheduled(Utc::now())
            .with_message("handed back by a worker that stopped before finishing it");
        Ok(self.set_flow_run_state(id, &state, false).await?.accepted())
    }

    /// The ids among `ids` whose runs are now CANCELLING (or already
    /// CANCELLED): a worker stops those.
    pub async fn cancelling_among(&self, ids: &[Uuid]) -> Result<Vec<Uuid>, ApiError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let body = serde_json::json!({
            "flow_runs": {
                "id": { "any_": ids },
                "state": { "type": { "any_": ["CANCELLING", "CANCELLED"] } },
            },
            "limit": ids.len(),
        });
        let runs: Vec<ApiFlowRun> = self.post(&["flow_runs", "filter"], &body).await?;
        Ok(runs.into_iter().map(|r| r.id).collect())
    }
}

fn encode<B: Serialize>(segments: &[&str], body: &B) -> Result<Vec<u8>, ApiError> {
    serde_json::to_vec(body).map_err(|e| ApiError::Decode {
        path: format!("/{}", segments.join("/")),
        message: format!("cannot encode the request: {e}"),
    })
}

/// Decodes a JSON answer of the request to `segments`.
pub(crate) fn decode<T: DeserializeOwned>(segments: &[&str], bytes: &[u8]) -> Result<T, ApiError> {
    // An empty body decodes as JSON `null` (for `()` and `Option`s).
    let bytes = if bytes.is_empty() { b"null" } else { bytes };
    serde_json::from_slice(bytes).map_err(|e| ApiError::Decode {
        path: format!("/{}", segments.join("/")),
        message: e.to_string(),
    })
}

/// The `detail` of an error answer (`{"detail": "..."}`), else its text.
pub(crate) fn detail_of(status: StatusCode, bytes: &[u8]) -> String {
    if let Ok(value) = serde_json::from_slice::<serde_json::Value>(bytes)
        && let Some(detail) = value.get("detail")
    {
        return match detail {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        };
    }
    let text = String::from_utf8_lossy(bytes).trim().to_string();
    if text.is_empty() {
        status
            .canonical_reason()
            .unwrap_or("no explanation")
            .to_string()
    } else {
        text
    }
}

/// A proposed state, as the API takes it (Prefect's `StateCreate`).
#[derive(Debug, Clone, Serialize)]
pub struct StateCreate {
    /// The state's type.
    #[serde(rename = "type")]
    pub state_type: StateType,
    /// Its name.
    pub name: String,
    /// Its message.
    pub message: Option<String>,
    /// Its result.
    pub data: Option<serde_json::Value>,
    /// When it was entered.
    pub timestamp: DateTime<Utc>,
    /// Its details (`scheduled_time`).
    pub state_details: StateDetails,
}

/// The `state_details` weft reads and writes.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct StateDetails {
    /// When a SCHEDULED state is due.
    pub scheduled_time: Option<DateTime<Utc>>,
}

impl From<&State> for StateCreate {
    fn from(s: &State) -> StateCreate {
        StateCreate {
            state_type: s.state_type,
            name: s.name.clone(),
            message: s.message.clone(),
            data: s.data.clone(),
            timestamp: s.timestamp,
            state_details: StateDetails {
                scheduled_time: s.scheduled_time,
            },
        }
    }
}

#[derive(Debug, Serialize)]
struct SetState {
    state: StateCreate,
    force: bool,
}

#[derive(Serialize)]
struct SetStates {
    states: Vec<StateCreate>,
    force: bool,
}

/// A state as the API returns it.
#[derive(Debug, Clone, Deserialize)]
pub struct ApiState {
    /// The state's id.
    #[serde(default = "Uuid::now_v7")]
    pub id: Uuid,
    /// Its type.
    #[serde(rename = "type")]
    pub state_type: StateType,
    /// Its name.
    #[serde(default)]
    pub name: Option<String>,
    /// When it was entered.
    #[serde(default)]
    pub timestamp: Option<DateTime<Utc>>,
    /// Its message.
    #[serde(default)]
    pub message: Option<String>,
    /// Its result.
    #[serde(default)]
    pub data: Option<serde_json::Value>,
    /// Its details.
    #[serde(default)]
    pub state_details: StateDetails,
}

impl From<ApiState> for State {
    fn from(s: ApiState) -> State {
        State {
            id: s.id,
            name: s
                .name
                .filter(|n| !n.is_empty())
                .unwrap_or_else(|| s.state_type.default_name().to_string()),
            state_type: s.state_type,
            timestamp: s.timestamp.unwrap_or_else(Utc::now),
            message: s.message,
            data: s.data,
            scheduled_time: s.state_details.scheduled_time,
        }
    }
}

/// What the orchestrator did with a proposed state (Prefect's
/// `OrchestrationResult`).
#[derive(Debug, Clone, Deserialize)]
pub struct Orchestration {
    /// The run's state now.
    #[serde(default)]
    pub state: Option<ApiState>,
    /// `ACCEPT`, `REJECT`, `ABORT` or `WAIT`.
    pub status: String,
    /// Why.
    #[serde(default)]
    pub details: serde_json::Value,
}

impl Orchestration {
    /// Whether the state was entered.
    pub fn accepted(&self) -> bool {
        self.status.eq_ignore_ascii_case("ACCEPT")
    }

    /// The orchestrator's reason, for a refusal.
    pub fn reason(&self) -> String {
        self.details
            .get("reason")
            .and_then(|r| r.as_str())
            .map(str::to_string)
            .unwrap_or_else(|| format!("the server answered {}", self.status))
    }
}

/// A flow run as the API returns it: what a worker and the CLI read.
#[derive(Debug, Clone, Deserialize)]
pub struct ApiFlowRun {
    /// The run's id.
    pub id: Uuid,
    /// The server's allowlist of outbound HTTP hosts, sent with a claim.
    #[serde(default)]
    pub server_allowed_hosts: Option<Vec<String>>,
    /// Its name.
    #[serde(default)]
    pub name: String,
    /// The flow's name.
    #[serde(default)]
    pub flow_name: String,
    /// The component's digest.
    #[serde(default)]
    pub component_digest: String,
    /// The deployment's name.
    #[serde(default)]
    pub deployment_name: Option<String>,
    /// The deployment's id.
    #[serde(default)]
    pub deployment_id: Option<Uuid>,
    /// The work pool's name.
    #[serde(default)]
    pub work_pool_name: Option<String>,
    /// Parameters.
    #[serde(default)]
    pub parameters: serde_json::Value,
    /// Tags.
    #[serde(default)]
    pub tags: Vec<String>,
    /// How many times it entered RUNNING.
    #[serde(default)]
    pub run_count: u32,
    /// When it was created.
    #[serde(default)]
    pub created: Option<DateTime<Utc>>,
    /// When it started.
    #[serde(default)]
    pub start_time: Option<DateTime<Utc>>,
    /// When it ended.
    #[serde(default)]
    pub end_time: Option<DateTime<Utc>>,
    /// When it was expected to start.
    #[serde(default)]
    pub expected_start_time: Option<DateTime<Utc>>,
    /// Its current state.
    pub state: Option<ApiState>,
}

impl ApiFlowRun {
    /// The core record of this run.
    pub fn into_flow_run(self) -> FlowRun {
        let state = self.state.map(State::from).unwrap_or_else(State::pending);
        FlowRun {
            id: self.id,
            name: self.name,
            flow_name: self.flow_name,
            component_digest: self.component_digest,
            deployment_name: self.deployment_name,
            parameters: if self.parameters.is_null() {
                serde_json::json!({})
            } else {
                self.parameters
            },
            tags: self.tags,
            run_count: self.run_count,
            created: self.created.unwrap_or_else(Utc::now),
            start_time: self.start_time,
            end_time: self.end_time,
            state,
            deployment_id: self.deployment_id,
            work_pool_name: self.work_pool_name,
            expected_start_time: self.expected_start_time,
        }
    }
}

/// A claimed run: Prefect's `WorkerFlowRunResponse` (`{"flow_run": ...}`)
/// or a bare flow run.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum ClaimedRun {
    Wrapped {
        flow_run: ApiFlowRun,
        #[serde(default)]
        operator_allowed_hosts: Option<Vec<String>>,
    },
    Bare(ApiFlowRun),
}

impl ClaimedRun {
    fn into_run(self) -> ApiFlowRun {
        match self {
            ClaimedRun::Wrapped {
                mut flow_run,
                operator_allowed_hosts,
            } => {
                flow_run.server_allowed_hosts = operator_allowed_hosts;
                flow_run
            }
            ClaimedRun::Bare(flow_run) => flow_run,
        }
    }
}

/// What a worker reads of a deployment.
#[derive(Debug, Clone, Deserialize)]
pub struct ApiDeployment {
    /// Its id.
    pub id: Uuid,
    /// Its name.
    #[serde(default)]
    pub name: String,
    /// Its flow's name.
    #[serde(default)]
    pub flow_name: String,
    /// The component holding the flow.
    #[serde(default)]
    pub component_digest: String,
    /// Sandbox limits of its runs.
    #[serde(default)]
    pub limits: RunLimits,
    /// Secrets its runs may read.
    #[serde(default)]
    pub allowed_secrets: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct ApiCacheEntry {
    value: serde_json::Value,
    #[serde(default)]
    created: Option<DateTime<Utc>>,
    #[serde(default)]
    expiration: Option<DateTime<Utc>>,
    #[serde(default)]
    task_run_id: Option<Uuid>,
}

#[derive(Debug, Serialize)]
struct LogCreate<'a> {
    name: &'a str,
    level: u8,
    message: &'a str,
    timestamp: DateTime<Utc>,
    flow_run_id: Uuid,
    task_run_id: Option<Uuid>,
}

impl<'a> From<&'a LogEntry> for LogCreate<'a> {
    fn from(e: &'a LogEntry) -> LogCreate<'a> {
        LogCreate {
            name: &e.name,
            level: e.level.as_number(),
            message: &e.message,
            timestamp: e.timestamp,
            flow_run_id: e.flow_run_id,
            task_run_id: e.task_run_id,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_escape_segments_and_keep_trailing_slashes() {
        let api = ApiClient::new("http://127.0.0.1:4200/api/").unwrap();
        assert_eq!(
            api.url(&["flow_runs", ""]).as_str(),
            "http://127.0.0.1:4200/api/flow_runs/"
        );
        assert_eq!(
            api.url(&["cache", "a/b c"]).as_str(),
            "http://127.0.0.1:4200/api/cache/a%2Fb%20c"
        );
    }

    #[test]
    fn bad_urls_are_refused() {
        assert!(ApiClient::new("not a url").is_err());
        assert!(ApiClient::new("ftp://x/api").is_err());
    }

    #[test]
    fn claimed_runs_parse_wrapped_or_bare() {
        let id = Uuid::now_v7();
        let bare =
            serde_json::json!([{ "id": id, "state": { "type": "PENDING" }, "flow_name": "f" }]);
        let wrapped =
            serde_json::json!([{ "work_pool_id": id, "flow_run": { "id": id, "state": null } }]);
        for body in [bare, wrapped] {
            let runs: Vec<ClaimedRun> = serde_json::from_value(body).unwrap();
            assert_eq!(runs.into_iter().next().unwrap().into_run().id, id);
        }
    }

    #[test]
    fn error_details_come_from_json_or_text() {
        assert_eq!(
            detail_of(StatusCode::NOT_FOUND, br#"{"detail":"no such run"}"#),
            "no such run"
        );
        assert_eq!(detail_of(StatusCode::BAD_GATEWAY, b"oops"), "oops");
        assert_eq!(detail_of(StatusCode::NOT_FOUND, b""), "Not Found");
    }
}

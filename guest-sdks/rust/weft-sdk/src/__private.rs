//! Not public API: the registry and helpers used by the code that
//! `#[flow]` and `#[task]` generate. May change in any release.

use std::fmt::Display;
use std::sync::Once;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::bindings::{failure, tasks, types};
use crate::task::{TaskError, TaskFuture, decode};

pub use inventory;
pub use serde;
pub use serde_json;

/// A flow registered by `#[flow]`.
pub struct FlowDef {
    /// The flow's name (passed to `run`).
    pub name: &'static str,
    /// The Rust function's name (also accepted by `run`).
    pub fn_name: &'static str,
    /// Parameter names, in declaration order.
    pub parameters: &'static [&'static str],
    /// The JSON Schema of the parameters.
    pub parameter_schema: &'static str,
    /// The doc comment.
    pub description: &'static str,
    /// Flow retries: (retries, delays in ms, backoff factor, jitter factor).
    pub retries: Option<(u32, &'static [u64], f64, f64)>,
    /// Timeout of one attempt, in milliseconds.
    pub timeout_ms: Option<u64>,
    /// Runs the flow with a JSON object of parameters.
    pub run: fn(&str) -> Result<String, String>,
}

/// A task registered by `#[task]`.
pub struct TaskDef {
    /// The task's name (passed to `run-task`).
    pub name: &'static str,
    /// The Rust function's name (also accepted by `run-task`).
    pub fn_name: &'static str,
    /// The doc comment.
    pub description: &'static str,
    /// Runs the task body with a JSON object of arguments.
    pub run: fn(&str) -> Result<String, String>,
}

inventory::collect!(FlowDef);
inventory::collect!(TaskDef);

/// Installs the log backend and the panic hook, once per instance.
pub fn enter() {
    static INIT: Once = Once::new();
    INIT.call_once(|| {
        crate::logger::install();
        std::panic::set_hook(Box::new(|info| {
            let payload = info.payload_as_str().unwrap_or("Box<dyn Any>");
            let message = match info.location() {
                Some(at) => format!(
                    "panicked at {}:{}:{}: {payload}",
                    at.file(),
                    at.line(),
                    at.column()
                ),
                None => format!("panicked: {payload}"),
            };
            failure::panicked(&message);
        }));
    });
}

fn same_name(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .all(|(x, y)| x == y || (x == b'_' || x == b'-') && (y == b'_' || y == b'-'))
}

fn flows() -> Vec<&'static FlowDef> {
    let mut flows: Vec<_> = inventory::iter::<FlowDef>.into_iter().collect();
    flows.sort_by_key(|flow| flow.name);
    flows
}

fn tasks() -> Vec<&'static TaskDef> {
    let mut tasks: Vec<_> = inventory::iter::<TaskDef>.into_iter().collect();
    tasks.sort_by_key(|task| task.name);
    tasks
}

/// The `describe` export.
pub(crate) fn describe() -> types::ComponentInfo {
    types::ComponentInfo {
        sdk: crate::SDK.to_owned(),
        flows: flows()
            .into_iter()
            .map(|flow| types::FlowInfo {
                name: flow.name.to_owned(),
                parameters: flow.parameters.iter().map(|p| (*p).to_owned()).collect(),
                parameter_schema: flow.parameter_schema.to_owned(),
                description: flow.description.to_owned(),
                options: types::FlowOptions {
                    retries: flow.retries.map(retry_policy),
                    timeout_ms: flow.timeout_ms,
                },
            })
            .collect(),
        tasks: tasks()
            .into_iter()
            .map(|task| types::TaskInfo {
                name: task.name.to_owned(),
                description: task.description.to_owned(),
            })
            .collect(),
    }
}

/// The `run` export.
pub(crate) fn run_flow(name: &str, params: &str) -> Result<String, String> {
    let flows = flows();
    let flow = flows
        .iter()
        .find(|flow| flow.name == name)
        .or_else(|| flows.iter().find(|flow| flow.fn_name == name))
        .or_else(|| flows.iter().find(|flow| same_name(flow.name, name)));
    match flow {
        Some(flow) => (flow.run)(params),
        None => {
            let names: Vec<_> = flows.iter().map(|flow| flow.name).collect();
            Err(format!(
                "no flow named '{name}' in this component (flows: {})",
                names.join(", ")
            ))
        }
    }
}

/// The `run-task` export.
pub(crate) fn run_task(name: &str, input: &str) -> Result<String, String> {
    let tasks = tasks();
    let task = tasks
        .iter()
        .find(|task| task.name == name)
        .or_else(|| tasks.iter().find(|task| task.fn_name == name));
    match task {
        Some(task) => (task.run)(input),
        None => Err(format!("no task named '{name}' in this component")),
    }
}

/// Decodes a flow's parameters or a task's input (`kind` is "flow" or
/// "task"); empty text or `null` count as `{}`.
pub fn parse_input<T: DeserializeOwned>(kind: &str, name: &str, json: &str) -> Result<T, String> {
    let json = json.trim();
    let json = if json.is_empty() || json == "null" {
        "{}"
    } else {
        json
    };
    serde_json::from_str(json).map_err(|error| {
        let what = if kind == "flow" {
            "parameters"
        } else {
            "input"
        };
        format!("invalid {what} for {kind} '{name}': {error}")
    })
}

/// Encodes a flow's or task's return value as JSON.
pub fn output<T: Serialize>(value: T) -> Result<String, String> {
    serde_json::to_string(&value).map_err(|error| format!("cannot encode the result: {error}"))
}

/// Encodes a `Result` return value: `Ok` as JSON, `Err` as its message.
pub fn output_result<T: Serialize, E: Display>(value: Result<T, E>) -> Result<String, String> {
    match value {
        Ok(value) => output(value),
        Err(error) => Err(error.to_string()),
    }
}

/// Builds a task's JSON input, an object keyed by argument names.
pub struct TaskInput {
    task: &'static str,
    args: serde_json::Map<String, serde_json::Value>,
}

impl TaskInput {
    /// Starts the input of task `task`.
    pub fn new(task: &'static str) -> Self {
        TaskInput {
            task,
            args: serde_json::Map::new(),
        }
    }

    /// Adds the argument `name`.
    #[track_caller]
    pub fn arg<T: Serialize + ?Sized>(mut self, name: &str, value: &T) -> Self {
        match serde_json::to_value(value) {
            Ok(value) => {
                self.args.insert(name.to_owned(), value);
            }
            Err(error) => panic!(
                "task '{}': cannot encode argument '{name}': {error}",
                self.task
            ),
        }
        self
    }

    /// The JSON text.
    pub fn finish(self) -> String {
        serde_json::Value::Object(self.args).to_string()
    }
}

fn retry_policy(
    (retries, delays, backoff_factor, jitter_factor): (u32, &[u64], f64, f64),
) -> types::RetryPolicy {
    types::RetryPolicy {
        retries,
        delays_ms: delays.to_vec(),
        backoff_factor,
        jitter_factor,
    }
}

/// Builds `task-options` from the attribute's values.
pub fn options(
    retries: Option<(u32, &[u64], f64, f64)>,
    cache: Option<(Option<&str>, Option<u64>)>,
    timeout_ms: Option<u64>,
    tags: &[&str],
) -> types::TaskOptions {
    types::TaskOptions {
        retries: retries.map(retry_policy),
        cache: cache.map(|(key, expiration_secs)| types::CachePolicy {
            key: key.map(str::to_owned),
            expiration_secs,
        }),
        timeout_ms,
        tags: tags.iter().map(|tag| (*tag).to_owned()).collect(),
    }
}

/// Runs a task on the host and waits for its result.
pub fn call<T: DeserializeOwned>(
    task: &'static str,
    input: String,
    options: types::TaskOptions,
) -> Result<T, TaskError> {
    let json = tasks::run(task, &input, &options).map_err(TaskError::from)?;
    decode(task, &json)
}

/// Submits a task on the host.
pub fn submit<T: DeserializeOwned>(
    task: &'static str,
    input: String,
    options: types::TaskOptions,
) -> TaskFuture<T> {
    TaskFuture::new(tasks::submit(task, &input, &options), task)
}

/// Unwraps a task's result, panicking with "task 'x' failed: ..." on error.
#[track_caller]
pub fn expect_task<T>(task: &str, result: Result<T, TaskError>) -> T {
    match result {
        Ok(value) => value,
        Err(error) => panic!("task '{task}' failed: {error}"),
    }
}

//! Facts about the current run: ids, names, attempt, parameters.

use crate::bindings::context as host;

/// The current flow run's id (a UUID).
pub fn flow_run_id() -> String {
    host::flow_run_id()
}

/// The current flow run's name (e.g. "crimson-fox").
pub fn flow_run_name() -> String {
    host::flow_run_name()
}

/// The name of the flow being run.
pub fn flow_name() -> String {
    host::flow_name()
}

/// The current task run's id inside a task; `None` in the flow body.
pub fn task_run_id() -> Option<String> {
    host::task_run_id()
}

/// The current task's name inside a task; `None` in the flow body.
pub fn task_name() -> Option<String> {
    host::task_name()
}

/// The attempt number, from 1: of the task run inside a task, of the flow
/// run in the flow body.
pub fn attempt() -> u32 {
    host::attempt()
}

/// The deployment the run was created from, if any.
pub fn deployment_name() -> Option<String> {
    host::deployment_name()
}

/// The flow run's parameters, as a JSON object.
pub fn parameters() -> serde_json::Value {
    let text = host::parameters();
    serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text))
}

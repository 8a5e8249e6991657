//! The SDK benchmark's trivial flows: `noop` returns its parameter,
//! `one-task` calls one task.

use weft_sdk::prelude::*;
use weft_sdk::serde_json::Value;

/// Returns a greeting.
#[task]
fn greet(name: String) -> String {
    format!("hello {name}")
}

/// Returns its parameter.
#[flow]
fn noop(value: Option<Value>) -> Value {
    value.unwrap_or(Value::Null)
}

/// Calls one task.
#[flow]
fn one_task() -> String {
    greet("weft".into())
}

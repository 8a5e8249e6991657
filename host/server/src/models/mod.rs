//! The API's JSON models, with Prefect's field names.
//!
//! Responses serialise every field Prefect's client reads (and some of
//! weft's own); request bodies accept what Prefect's client sends and
//! ignore fields weft does not use.

pub mod automation;
pub mod cache;
pub mod component;
pub mod concurrency;
pub mod deployment;
pub mod filter;
pub mod flow;
pub mod flow_run;
pub mod log;
pub mod state;
pub mod task_run;
pub mod variable;
pub mod work_pool;

/// Deserialises a field of a PATCH body that may be absent (`None`: keep
/// the value), `null` (`Some(None)`: clear it) or a value (`Some(Some(v))`).
/// Use with `#[serde(default, deserialize_with = "...")]`.
pub fn absent_null_or<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    <Option<T> as serde::Deserialize>::deserialize(d).map(Some)
}

//! A dynamic fan-out ETL: the number of extract tasks is known only at run
//! time (the `n` parameter).
//!
//! Task runs: a run of `etl` with parameter `n` creates exactly `n` task runs
//! (one `extract` per row); the transform and load steps run in the flow body,
//! so `weft run examples/rust/fanout --params '{"n": 1000}'` yields exactly
//! 1,000 task runs.

use weft_sdk::prelude::*;
use weft_sdk::serde_json::{Value, json};

/// Extracts row `i` of the source: its value is `i * i`.
#[task(tags = ["etl", "extract"])]
fn extract(i: u32) -> u64 {
    u64::from(i) * u64::from(i)
}

/// Transforms the extracted values (here: doubles them).
fn transform(values: &[u64]) -> Vec<u64> {
    values.iter().map(|value| value * 2).collect()
}

/// Loads the transformed rows and returns the summary.
fn load(rows: &[u64]) -> Value {
    json!({ "rows": rows.len(), "total": rows.iter().sum::<u64>() })
}

/// Extracts `n` rows concurrently, transforms and loads them; returns
/// `{"rows": n, "total": 2 * sum(i * i for i in 0..n)}`.
#[flow]
fn etl(n: u32) -> Result<Value, TaskError> {
    let futures: Vec<_> = (0..n).map(extract::submit).collect();
    let values = wait_all(futures)?;
    log::info!("extracted {} rows", values.len());
    let summary = load(&transform(&values));
    log::info!("loaded: {summary}");
    Ok(summary)
}

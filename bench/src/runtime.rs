//! The runtime's overheads (`weft-bench runtime`, the default). Measures,
//! in one process and one run so the ratios are fair:
//! - bare wasmtime: store + instantiate + call of an empty component, on
//!   the same engine configuration weft uses (the floor);
//! - a trivial flow run (no tasks), instantiate to result, not persisted;
//! - the same, persisted to SQLite (flow run created, states committed);
//! - a 10,000-task fan-out, per task, persisted and not persisted.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

use crate::stats::{median, micros};
use serde_json::json;
use weft_core::{
    CacheEntry, FlowRun, LogEntry, RecordError, RunRecorder, State, StateType, TaskRun,
};
use weft_runtime::{EngineConfig, FlowComponent, RunOptions, Runtime};
use weft_store::{SecretKey, SqliteStore};

/// A recorder that records nothing: isolates the runtime's own overhead.
struct NullRecorder;

#[async_trait::async_trait]
impl RunRecorder for NullRecorder {
    async fn create_flow_run(&self, _: &FlowRun) -> Result<(), RecordError> {
        Ok(())
    }
    async fn set_flow_run_state(&self, _: uuid::Uuid, _: &State) -> Result<(), RecordError> {
        Ok(())
    }
    async fn create_task_run(&self, _: &TaskRun) -> Result<(), RecordError> {
        Ok(())
    }
    async fn set_task_run_state(&self, _: uuid::Uuid, _: &State) -> Result<(), RecordError> {
        Ok(())
    }
    async fn write_logs(&self, _: Vec<LogEntry>) -> Result<(), RecordError> {
        Ok(())
    }
    async fn read_cache(&self, _: &str) -> Result<Option<CacheEntry>, RecordError> {
        Ok(None)
    }
    async fn write_cache(&self, _: &CacheEntry) -> Result<(), RecordError> {
        Ok(())
    }
    async fn read_secret(&self, _: &str) -> Result<Option<String>, RecordError> {
        Ok(None)
    }
}

async fn bare_wasmtime(runtime: &Runtime, iterations: usize) -> wasmtime::Result<Duration> {
    use wasmtime::component::{Component, Linker};
    let engine = runtime.engine();
    let wat = r#"(component
        (core module $m (func (export "f")))
        (core instance $i (instantiate $m))
        (func (export "run") (canon lift (core func $i "f"))))"#;
    let component = Component::new(engine, wat)?;
    let linker: Linker<()> = Linker::new(engine);
    let pre = linker.instantiate_pre(&component)?;
    let mut samples = Vec::with_capacity(iterations);
    for _ in 0..iterations {
        let start = Instant::now();
        let mut store = wasmtime::Store::new(engine, ());
        store.set_fuel(u64::MAX)?;
        store.set_epoch_deadline(u64::MAX / 2);
        let instance = pre.instantiate_async(&mut store).await?;
        let run = instance.get_typed_func::<(), ()>(&mut store, "run")?;
        run.call_async(&mut store, ()).await?;
        samples.push(start.elapsed());
    }
    Ok(median(samples))
}

async fn trivial_runs(
    runtime: &Runtime,
    component: &Arc<FlowComponent>,
    recorder: Arc<dyn RunRecorder>,
    iterations: usize,
) -> Result<Duration> {
    let mut samples = Vec::with_capacity(iterations);
    for _ in 0..iterations {
        let run = FlowRun::new("echo", component.digest(), json!({"value": 1}));
        let start = Instant::now();
        recorder.create_flow_run(&run).await?;
        let state = runtime
            .run_flow(component, &run, RunOptions::default(), recorder.clone())
            .await;
        samples.push(start.elapsed());
        anyhow::ensure!(
            state.state_type == StateType::Completed,
            "trivial run ended {state:?}"
        );
    }
    Ok(median(samples))
}

async fn fan_out(
    runtime: &Runtime,
    component: &Arc<FlowComponent>,
    recorder: Arc<dyn RunRecorder>,
    n: u64,
) -> Result<Duration> {
    let run = FlowRun::new("etl", component.digest(), json!({"n": n}));
    let start = Instant::now();
    recorder.create_flow_run(&run).await?;
    let state = runtime
        .run_flow(component, &run, RunOptions::default(), recorder.clone())
        .await;
    recorder.flush().await?;
    let elapsed = start.elapsed();
    anyhow::ensure!(
        state.state_type == StateType::Completed,
        "fan-out ended {state:?}"
    );
    Ok(elapsed)
}

/// Runs the runtime benchmarks and prints a Markdown table.
pub async fn run() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let runtime = Runtime::new(EngineConfig {
        cache_dir: Some(dir.path().join("cache")),
        ..Default::default()
    })?;
    let testguest = runtime
        .load_file(&weft_test_support::test_guest_wasm("testguest"))
        .await
        .context("loading the test guest")?;
    let fanout = runtime
        .load_file(&weft_test_support::example_wasm("fanout"))
        .await?;
    let store = SqliteStore::open(&dir.path().join("weft.db"), SecretKey::generate()).await?;
    let null: Arc<dyn RunRecorder> = Arc::new(NullRecorder);
    let sqlite: Arc<dyn RunRecorder> = Arc::new(store.clone());

    // Warm up the pool and the caches.
    trivial_runs(&runtime, &testguest, null.clone(), 200).await?;

    let bare = bare_wasmtime(&runtime, 20_000)
        .await
        .map_err(|e| anyhow::anyhow!("{e:#}"))?;
    let trivial = trivial_runs(&runtime, &testguest, null.clone(), 5_000).await?;
    let trivial_db = trivial_runs(&runtime, &testguest, sqlite.clone(), 2_000).await?;
    let n = 10_000;
    let fan_null = fan_out(&runtime, &fanout, null.clone(), n).await?;
    let fan_db = fan_out(&runtime, &fanout, sqlite.clone(), n).await?;
    store.close().await?;

    let per = |d: Duration| d / n as u32;
    println!("| measurement | median | ratio to bare wasmtime | target |");
    println!("|---|---|---|---|");
    println!(
        "| bare wasmtime: store + instantiate + call, empty component | {} | 1x | |",
        micros(bare)
    );
    let ratio = |d: Duration| format!("{:.0}x", d.as_secs_f64() / bare.as_secs_f64());
    println!(
        "| trivial flow run, instantiate to result, not persisted | {} | {} | < 100 µs |",
        micros(trivial),
        ratio(trivial)
    );
    println!(
        "| trivial flow run, persisted to SQLite | {} | {} | |",
        micros(trivial_db),
        ratio(trivial_db)
    );
    println!(
        "| 10,000-task fan-out, per task, submit to persisted result | {} ({:.2} s in all) | {} | < 100 µs |",
        micros(per(fan_db)),
        fan_db.as_secs_f64(),
        ratio(per(fan_db))
    );
    println!(
        "| 10,000-task fan-out, per task, not persisted | {} ({:.2} s in all) | {} | |",
        micros(per(fan_null)),
        fan_null.as_secs_f64(),
        ratio(per(fan_null))
    );
    Ok(())
}

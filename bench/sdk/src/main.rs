//! The SDK benchmark, in process on weft's runtime (the default engine
//! configuration: pooling allocator, fuel, epochs). For each component given
//! as `LANG=PATH.wasm` (built by `bench/sdk/run.sh` from `guests/LANG`):
//!
//! - its size;
//! - Cranelift compile time (a runtime with an empty compile cache: compile,
//!   write the `.cwasm`, describe) and load time from the `.cwasm` cache (a
//!   new runtime with that cache: `deserialize_file`, describe);
//! - instantiate-to-result of the flow `noop` (a fresh instance runs the
//!   flow body and returns; nothing recorded), and of `one-task` (the flow
//!   body plus one task run in a second fresh instance), median of N runs.
//!
//! Prints a Markdown table. `--build LANG=SECONDS` adds the build time the
//! script measured; `--keep-resident-mb N` sets the pooling allocator's
//! `keep_resident_bytes` (how much of each memory slot stays paged in
//! between instances) to see what it does to the interpreters.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};
use serde_json::json;
use weft_core::{
    CacheEntry, FlowRun, LogEntry, RecordError, RunRecorder, State, StateType, TaskRun,
};
use weft_runtime::{EngineConfig, FlowComponent, RunOptions, Runtime};

/// Records nothing: isolates the runtime's own cost.
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

/// One language's figures.
struct Figures {
    size: u64,
    build_secs: Option<f64>,
    compile: Duration,
    from_cache: Duration,
    noop: Duration,
    one_task: Duration,
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

/// Bytes of each pooled memory kept resident between instances
/// (`--keep-resident-mb`; default: the engine's default).
static KEEP_RESIDENT: std::sync::OnceLock<Option<usize>> = std::sync::OnceLock::new();

fn runtime(cache: &std::path::Path) -> Result<Runtime> {
    let defaults = EngineConfig::default();
    Ok(Runtime::new(EngineConfig {
        cache_dir: Some(cache.to_path_buf()),
        keep_resident_bytes: KEEP_RESIDENT
            .get()
            .copied()
            .flatten()
            .unwrap_or(defaults.keep_resident_bytes),
        ..defaults
    })?)
}

/// Median instantiate-to-result of `flow` over `iterations` runs.
async fn runs(
    runtime: &Runtime,
    component: &Arc<FlowComponent>,
    flow: &str,
    iterations: usize,
) -> Result<Duration> {
    let recorder: Arc<dyn RunRecorder> = Arc::new(NullRecorder);
    let mut samples = Vec::with_capacity(iterations);
    for _ in 0..iterations {
        let run = FlowRun::new(flow, component.digest(), json!({"value": 1}));
        let start = Instant::now();
        let state = runtime
            .run_flow(component, &run, RunOptions::default(), recorder.clone())
            .await;
        samples.push(start.elapsed());
        if state.state_type != StateType::Completed {
            bail!("{flow} ended {state:?}");
        }
    }
    Ok(median(samples))
}

async fn measure(path: &PathBuf, iterations: usize) -> Result<Figures> {
    let size = std::fs::metadata(path)
        .with_context(|| format!("{}", path.display()))?
        .len();
    let cache = tempfile::tempdir()?;
    let start = Instant::now();
    runtime(cache.path())?.load_file(path).await?;
    let compile = start.elapsed();
    let warm = runtime(cache.path())?;
    let start = Instant::now();
    let component = warm.load_file(path).await?;
    let from_cache = start.elapsed();
    if !component.from_cache() {
        bail!("{} was not loaded from the compile cache", path.display());
    }
    runs(&warm, &component, "noop", 20).await?;
    runs(&warm, &component, "one-task", 20).await?;
    let noop = runs(&warm, &component, "noop", iterations).await?;
    let one_task = runs(&warm, &component, "one-task", iterations).await?;
    Ok(Figures {
        size,
        build_secs: None,
        compile,
        from_cache,
        noop,
        one_task,
    })
}

fn size(bytes: u64) -> String {
    if bytes >= 1 << 20 {
        format!("{:.1} MB", bytes as f64 / (1 << 20) as f64)
    } else {
        format!("{} KB", bytes.div_ceil(1 << 10))
    }
}

fn time(d: Duration) -> String {
    let us = d.as_secs_f64() * 1e6;
    if us >= 1e6 {
        format!("{:.1} s", us / 1e6)
    } else if us >= 1e3 {
        format!("{:.2} ms", us / 1e3)
    } else {
        format!("{us:.0} µs")
    }
}

#[tokio::main(flavor = "multi_thread")]
async fn main() -> Result<()> {
    let mut components = BTreeMap::new();
    let mut builds = BTreeMap::new();
    let mut iterations = 500;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--keep-resident-mb" => {
                let mb: usize = args.next().context("--keep-resident-mb N")?.parse()?;
                let _ = KEEP_RESIDENT.set(Some(mb << 20));
            }
            "--iterations" => {
                iterations = args.next().context("--iterations N")?.parse()?;
            }
            "--build" => {
                let value = args.next().context("--build LANG=SECONDS")?;
                let (lang, secs) = value.split_once('=').context("--build LANG=SECONDS")?;
                builds.insert(lang.to_string(), secs.parse::<f64>()?);
            }
            other => {
                let (lang, path) = other.split_once('=').context("LANG=PATH.wasm")?;
                components.insert(lang.to_string(), PathBuf::from(path));
            }
        }
    }
    if components.is_empty() {
        bail!("usage: weft-bench-sdk [--iterations N] [--build LANG=SECONDS]... LANG=PATH.wasm...");
    }
    let order = ["rust", "python", "javascript"];
    let mut langs: Vec<&String> = components.keys().collect();
    langs.sort_by_key(|l| order.iter().position(|o| o == l).unwrap_or(order.len()));
    let mut rows = Vec::new();
    for lang in langs {
        let mut figures = measure(&components[lang], iterations)
            .await
            .with_context(|| format!("measuring {lang}"))?;
        figures.build_secs = builds.get(lang).copied();
        rows.push((lang.clone(), figures));
    }
    println!(
        "| SDK | component | build (`weft build`) | compile (Cranelift) | load from .cwasm cache | instantiate to result, `noop` | `one-task` (flow + 1 task instance) |"
    );
    println!("|---|---|---|---|---|---|---|");
    for (lang, f) in &rows {
        let build = f
            .build_secs
            .map(|s| format!("{s:.1} s"))
            .unwrap_or_else(|| "-".into());
        println!(
            "| {lang} | {} | {build} | {} | {} | {} | {} |",
            size(f.size),
            time(f.compile),
            time(f.from_cache),
            time(f.noop),
            time(f.one_task)
        );
    }
    let resident = KEEP_RESIDENT
        .get()
        .copied()
        .flatten()
        .unwrap_or(EngineConfig::default().keep_resident_bytes);
    println!(
        "\n(medians of {iterations} runs; nothing recorded; default limits; {} KiB of each pooled memory kept resident)",
        resident >> 10
    );
    Ok(())
}

//! `POST /api/flow_runs/filter` latency with many runs stored
//! (`weft-bench filter`): fills a fresh store, serves the API on loopback
//! in this process, and times Prefect-shaped filter bodies over HTTP.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use chrono::Utc;
use serde_json::{Value, json};
use uuid::Uuid;
use weft_core::{FlowRun, State, StateType};
use weft_runtime::{EngineConfig, Runtime};
use weft_server::{AppState, ServerConfig};
use weft_store::Store;

use crate::stats::{median, millis, percentile};

/// What `weft-bench filter` is told.
#[derive(Debug, clap::Args)]
pub struct FilterArgs {
    /// How many flow runs to store first.
    #[arg(long, default_value_t = 100_000)]
    pub runs: u64,
    /// A Postgres URL (a scratch database: the runs are added to it);
    /// SQLite in a temporary directory when absent.
    #[arg(long)]
    pub database_url: Option<String>,
    /// Keep the SQLite store in this directory (for looking at query plans
    /// afterwards) instead of a temporary one.
    #[arg(long)]
    pub keep_in: Option<std::path::PathBuf>,
    /// Requests per filter body.
    #[arg(long, default_value_t = 200)]
    pub requests: usize,
}

const FLOWS: [&str; 5] = ["etl", "report", "ingest", "train", "sync"];

/// Fills the store, serves it, times each body, prints a Markdown table.
pub async fn run(args: FilterArgs) -> Result<()> {
    let temp = tempfile::tempdir()?;
    let dir = args
        .keep_in
        .clone()
        .unwrap_or_else(|| temp.path().to_path_buf());
    std::fs::create_dir_all(&dir)?;
    let url = args
        .database_url
        .clone()
        .unwrap_or_else(|| format!("sqlite://{}", dir.join("weft.db").display()));
    let store = weft_store::open_store(&url, &dir).await?;
    let deployment = Uuid::now_v7();
    let filled = Instant::now();
    let flow_ids = fill(&store, args.runs, deployment).await?;
    if let Some(url) = &args.database_url {
        // What autovacuum does to a table that has grown: planner
        // statistics and the visibility map (for index-only counts).
        let pool = sqlx::PgPool::connect(url).await?;
        for table in ["flow_runs", "flow_run_states"] {
            sqlx::raw_sql(&format!("VACUUM ANALYZE {table}"))
                .execute(&pool)
                .await?;
        }
        pool.close().await;
    }
    eprintln!(
        "stored {} runs in {:.1} s",
        args.runs,
        filled.elapsed().as_secs_f64()
    );

    let runtime = Runtime::new(EngineConfig {
        cache_dir: Some(dir.join("cache")),
        ..Default::default()
    })?;
    let state = AppState::new(ServerConfig::default(), store.clone(), runtime);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let api = format!("http://{}/api", listener.local_addr()?);
    tokio::spawn(async move { axum::serve(listener, weft_server::router(state)).await });

    let bodies: Vec<(&str, Value)> = vec![
        (
            "`prefect flow-run ls` (newest 15 by expected start)",
            json!({"flows": null, "flow_runs": null, "task_runs": null, "deployments": null,
                   "work_pools": null, "work_pool_queues": null,
                   "sort": "EXPECTED_START_TIME_DESC", "limit": 15, "offset": 0}),
        ),
        (
            "state type FAILED, newest 15",
            json!({"flow_runs": {"operator": "and_", "state": {"operator": "and_",
                   "type": {"any_": ["FAILED"]}}}, "sort": "ID_DESC", "limit": 15}),
        ),
        (
            "one flow (by id) and not COMPLETED, page 3 of 50",
            json!({"flows": {"id": {"any_": [flow_ids[1]]}},
                   "flow_runs": {"state": {"type": {"not_any_": ["COMPLETED"]}}},
                   "sort": "START_TIME_DESC", "limit": 50, "offset": 100}),
        ),
        (
            "name like_ (the UI's search box), 15",
            json!({"flow_runs": {"name": {"like_": "run-4242"}}, "limit": 15}),
        ),
        (
            "tag `prod` and a deployment, newest 15",
            json!({"flow_runs": {"tags": {"all_": ["prod"]},
                   "deployment_id": {"any_": [deployment]}}, "limit": 15}),
        ),
        (
            "started in the last day, 15",
            json!({"flow_runs": {"start_time": {"after_": Utc::now() - chrono::Duration::days(1)}},
                   "sort": "START_TIME_DESC", "limit": 15}),
        ),
    ];
    let http = reqwest::Client::new();
    println!(
        "| `POST /api/flow_runs/filter` body, {} runs stored | median | p95 | results |",
        args.runs
    );
    println!("|---|---|---|---|");
    for (what, body) in bodies {
        let (samples, n) = time_body(&http, &api, &body, args.requests).await?;
        println!(
            "| {what} | {} | {} | {n} |",
            millis(median(samples.clone())),
            millis(percentile(samples, 95))
        );
    }
    let count_body = json!({"flow_runs": {"state": {"type": {"any_": ["COMPLETED"]}}}});
    let mut samples = Vec::new();
    let mut total = 0;
    for _ in 0..args.requests.min(50) {
        let start = Instant::now();
        total = http
            .post(format!("{api}/flow_runs/count"))
            .json(&count_body)
            .send()
            .await?
            .error_for_status()?
            .json::<u64>()
            .await?;
        samples.push(start.elapsed());
    }
    println!(
        "| `POST /api/flow_runs/count`, state COMPLETED | {} | {} | {total} |",
        millis(median(samples.clone())),
        millis(percentile(samples, 95))
    );
    Ok(())
}

/// Times `requests` calls with `body` (after a warm-up); returns the samples
/// and how many runs the body matched.
async fn time_body(
    http: &reqwest::Client,
    api: &str,
    body: &Value,
    requests: usize,
) -> Result<(Vec<Duration>, usize)> {
    let url = format!("{api}/flow_runs/filter");
    let mut matched = 0;
    for _ in 0..5 {
        call(http, &url, body).await?;
    }
    let mut samples = Vec::with_capacity(requests);
    for _ in 0..requests {
        let start = Instant::now();
        matched = call(http, &url, body).await?;
        samples.push(start.elapsed());
    }
    Ok((samples, matched))
}

async fn call(http: &reqwest::Client, url: &str, body: &Value) -> Result<usize> {
    let runs: Vec<Value> = http
        .post(url)
        .json(body)
        .send()
        .await?
        .error_for_status()
        .context("filter request")?
        .json()
        .await?;
    Ok(runs.len())
}

/// Stores `n` runs spread over the last 30 days: five flows, mostly
/// Completed, some Failed, Running and Scheduled, a third tagged `prod`,
/// a fifth of a deployment.
/// What `weft-bench seed` is told.
#[derive(Debug, clap::Args)]
pub struct SeedArgs {
    /// How many flow runs to store.
    #[arg(long, default_value_t = 100_000)]
    pub runs: u64,
    /// The weft home whose SQLite store (`HOME/weft.db`) gets them; a
    /// server started with `WEFT_HOME=HOME` then serves them.
    #[arg(long)]
    pub home: std::path::PathBuf,
}

/// Stores the runs `weft-bench filter` measures with in a weft home, for
/// looking at the UI (and its browser tests) with many runs stored.
pub async fn seed(args: SeedArgs) -> Result<()> {
    std::fs::create_dir_all(&args.home)?;
    let url = format!(
        "sqlite://{}",
        args.home.join(weft_store::home::DB_FILE).display()
    );
    let store = weft_store::open_store(&url, &args.home).await?;
    let started = Instant::now();
    fill(&store, args.runs, Uuid::now_v7()).await?;
    eprintln!(
        "stored {} runs in {} in {:.1} s",
        args.runs,
        args.home.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Stores the flows and `n` runs of them (see [`fill_runs`]), committed;
/// returns the flows' ids.
async fn fill(store: &Arc<dyn Store>, n: u64, deployment: Uuid) -> Result<Vec<Uuid>> {
    let mut flow_ids = Vec::new();
    for f in FLOWS {
        flow_ids.push(store.upsert_flow(f).await?.0.id);
    }
    fill_runs(store, n, deployment).await?;
    store.flush().await?;
    Ok(flow_ids)
}

async fn fill_runs(store: &Arc<dyn Store>, n: u64, deployment: Uuid) -> Result<()> {
    let now = Utc::now();
    let span = 30 * 24 * 3600 * 1000_i64;
    let chunk = 64;
    let mut i = 0;
    while i < n {
        let mut batch = Vec::new();
        for j in i..(i + chunk).min(n) {
            let mut run = FlowRun::new(FLOWS[(j % 5) as usize], "digest", json!({"i": j}));
            run.name = format!("run-{j}");
            let age = span - (j as i64 * span / n as i64);
            run.created = now - chrono::Duration::milliseconds(age);
            run.expected_start_time = Some(run.created);
            if j % 3 == 0 {
                run.tags = vec!["prod".into()];
            }
            if j % 5 == 0 {
                run.deployment_id = Some(deployment);
                run.deployment_name = Some("nightly".into());
            }
            let (ty, name) = match j % 10 {
                0 => (StateType::Failed, "Failed"),
                1 => (StateType::Running, "Running"),
                2 => (StateType::Scheduled, "Scheduled"),
                _ => (StateType::Completed, "Completed"),
            };
            let mut state = State::new(ty, name);
            state.timestamp = run.created;
            if ty != StateType::Scheduled {
                run.start_time = Some(run.created);
            }
            if ty.is_terminal() {
                run.end_time = Some(run.created + chrono::Duration::seconds(1));
            }
            run.state = state;
            batch.push(run);
        }
        let mut writes = tokio::task::JoinSet::new();
        for run in batch {
            let store = store.clone();
            writes.spawn(async move { store.create_flow_run(&run).await });
        }
        while let Some(r) = writes.join_next().await {
            r?.map_err(|e| anyhow::anyhow!("{e}"))?;
        }
        i += chunk;
    }
    Ok(())
}

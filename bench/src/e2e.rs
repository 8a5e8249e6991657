//! End-to-end throughput (`weft-bench e2e`): trivial flow runs created
//! through a running server's API by several clients at once, run by the
//! workers polling that server, timed from the first create until every
//! run is Completed. `bench/e2e-runs.sh` starts the server and the worker.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};

/// What `weft-bench e2e` is told.
#[derive(Debug, clap::Args)]
pub struct E2eArgs {
    /// The server's API, e.g. http://127.0.0.1:4200/api.
    #[arg(long, env = "WEFT_API_URL")]
    pub api_url: String,
    /// The deployment to run, as FLOW/DEPLOYMENT.
    #[arg(long)]
    pub deployment: String,
    /// How many runs to create.
    #[arg(long, default_value_t = 2000)]
    pub runs: u64,
    /// How many clients create runs at once.
    #[arg(long, default_value_t = 8)]
    pub clients: u64,
    /// Only create the runs (no worker needed); print the create rate.
    #[arg(long)]
    pub create_only: bool,
}

/// Creates the runs, waits for them, prints the rates.
pub async fn run(args: E2eArgs) -> Result<()> {
    let http = reqwest::Client::new();
    let api = args.api_url.trim_end_matches('/').to_string();
    let deployment: Value = http
        .get(format!("{api}/deployments/name/{}", args.deployment))
        .send()
        .await?
        .error_for_status()
        .context("reading the deployment")?
        .json()
        .await?;
    let id = deployment["id"]
        .as_str()
        .context("the deployment has no id")?
        .to_string();
    let before = count(&http, &api, &id, "COMPLETED").await?;

    let start = Instant::now();
    let next = Arc::new(AtomicU64::new(0));
    let mut clients = Vec::new();
    for _ in 0..args.clients {
        let (http, next, url) = (
            http.clone(),
            next.clone(),
            format!("{api}/deployments/{id}/create_flow_run"),
        );
        let total = args.runs;
        clients.push(tokio::spawn(async move {
            while next.fetch_add(1, Ordering::Relaxed) < total {
                http.post(&url)
                    .json(&json!({}))
                    .send()
                    .await?
                    .error_for_status()?;
            }
            anyhow::Ok(())
        }));
    }
    for c in clients {
        c.await??;
    }
    let created = start.elapsed();
    let rate = |d: Duration| args.runs as f64 / d.as_secs_f64();
    println!(
        "created {} runs through the API in {:.2} s ({:.0} creates/s, {} clients)",
        args.runs,
        created.as_secs_f64(),
        rate(created),
        args.clients
    );
    if args.create_only {
        return Ok(());
    }

    loop {
        let done = count(&http, &api, &id, "COMPLETED").await? - before;
        if done >= args.runs {
            break;
        }
        let bad =
            count(&http, &api, &id, "FAILED").await? + count(&http, &api, &id, "CRASHED").await?;
        if bad > 0 {
            bail!("{bad} runs of the deployment did not complete");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let all = start.elapsed();
    println!(
        "all {} Completed {:.2} s after the first create: {:.0} runs/s end to end",
        args.runs,
        all.as_secs_f64(),
        rate(all)
    );
    Ok(())
}

/// How many runs of deployment `id` are in state type `state_type`.
async fn count(http: &reqwest::Client, api: &str, id: &str, state_type: &str) -> Result<u64> {
    let body = json!({"flow_runs": {"deployment_id": {"any_": [id]},
        "state": {"type": {"any_": [state_type]}}}});
    Ok(http
        .post(format!("{api}/flow_runs/count"))
        .json(&body)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?)
}

//! `weft server start`: the central server (the REST API over the store),
//! optionally with an embedded worker on one pool, so one command gives a
//! working system.

use std::net::IpAddr;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use clap::{Args, Subcommand};
use tokio::sync::watch;

/// The `weft server` commands.
#[derive(Debug, Subcommand)]
pub enum ServerCommand {
    /// Serve the API until Ctrl-C or SIGTERM.
    Start(StartArgs),
}

/// Arguments of `weft server start`.
#[derive(Debug, Args)]
pub struct StartArgs {
    /// The address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    pub host: IpAddr,
    /// The port to listen on.
    #[arg(long, default_value_t = 4200)]
    pub port: u16,
    /// The database: `postgres://...`, or `sqlite://PATH`; SQLite in the
    /// weft home when absent.
    #[arg(long, value_name = "URL", env = "WEFT_DATABASE_URL")]
    pub database_url: Option<String>,
    /// Also run a worker on this pool (created if missing) against this
    /// server.
    #[arg(long, value_name = "POOL")]
    pub worker: Option<String>,
    /// Flow runs the embedded worker executes at once.
    #[arg(long, value_name = "N", default_value_t = 32, requires = "worker")]
    pub worker_limit: usize,
    /// The operator's allowlist of outbound HTTP hosts for every run this
    /// server hands out, to the embedded worker and to remote ones (as
    /// `weft worker start --allow-host`; a request must pass it, the
    /// deployment's list and the worker's own). Repeatable; default:
    /// `WEFT_ALLOWED_HOSTS`, else none.
    #[arg(long = "allow-host", value_name = "HOST")]
    pub allow_host: Vec<String>,
    /// Run no scheduler (another server on the same database may).
    #[arg(long)]
    pub no_scheduler: bool,
    /// How often the scheduler creates coming runs and marks late ones, in
    /// seconds.
    #[arg(long, value_name = "SECS", default_value_t = 5.0)]
    pub scheduler_interval: f64,
    /// A scheduled run still unclaimed this many seconds after its start
    /// time becomes Late.
    #[arg(long, value_name = "SECS", default_value_t = 15.0)]
    pub late_after: f64,
    /// A claimed run whose worker has not heartbeated for this many seconds
    /// no longer holds a slot of its deployment's or work pool's
    /// concurrency limit.
    #[arg(long, value_name = "SECS", default_value_t = 90.0)]
    pub lost_after: f64,
}

/// Runs a `weft server` command.
pub async fn run(command: ServerCommand) -> anyhow::Result<ExitCode> {
    match command {
        ServerCommand::Start(args) => start(args).await,
    }
}

async fn start(args: StartArgs) -> anyhow::Result<ExitCode> {
    let home = crate::home::home()?;
    let store = open_store(args.database_url.as_deref(), &home).await?;
    let runtime = crate::home::runtime()?;
    let secs = |v: f64, flag: &str| {
        if (0.0..1e9).contains(&v) {
            Ok(v)
        } else {
            Err(anyhow::anyhow!("--{flag} must be a number of seconds"))
        }
    };
    let lost_after = std::time::Duration::from_secs_f64(secs(args.lost_after, "lost-after")?);
    let scheduler = if args.no_scheduler {
        None
    } else {
        let tick = secs(args.scheduler_interval, "scheduler-interval")?.max(0.01);
        let late = secs(args.late_after, "late-after")?;
        Some(weft_server::scheduler::SchedulerConfig {
            tick: std::time::Duration::from_secs_f64(tick),
            late_after: chrono::Duration::milliseconds((late * 1000.0) as i64),
            ..Default::default()
        })
    };
    let config = weft_server::ServerConfig {
        host: args.host,
        port: args.port,
        scheduler,
        lost_after,
        allowed_hosts: crate::run::operator_hosts(&args.allow_host)?
            .map(|hosts| hosts.entries().map(String::from).collect()),
        ..Default::default()
    };

    // Ctrl-C / SIGTERM stops the embedded worker first (it finishes or
    // hands back its runs through the API), then the server.
    let (stop_worker, worker_stop) = watch::channel(false);
    let (stop_server, server_stop) = watch::channel(false);
    let connect_host = if args.host.is_unspecified() {
        "127.0.0.1".to_string()
    } else if args.host.is_ipv6() {
        format!("[{}]", args.host)
    } else {
        args.host.to_string()
    };
    let api_url = format!("http://{connect_host}:{}/api", args.port);
    eprintln!(
        "Weft server listening on http://{connect_host}:{}/api",
        args.port
    );

    let server = tokio::spawn(weft_server::serve(
        config,
        Arc::clone(&store),
        runtime.clone(),
        wait_for(server_stop),
    ));
    let worker = match args.worker.clone() {
        Some(pool) => {
            let api_url = api_url.clone();
            let limit = args.worker_limit;
            // The server's list reaches the embedded worker with each claim.
            Some(tokio::spawn(async move {
                embedded_worker(api_url, pool, limit, runtime, worker_stop).await
            }))
        }
        None => None,
    };

    let mut server = server;
    let outcome = tokio::select! {
        _ = crate::signal::shutdown() => None,
        result = &mut server => Some(result),
    };
    if let Some(result) = outcome {
        // The server ended on its own: that is an error (e.g. the port is taken).
        let _ = stop_worker.send(true);
        result.context("the server task failed")??;
        return Ok(ExitCode::FAILURE);
    }
    eprintln!("Shutting down.");
    let _ = stop_worker.send(true);
    if let Some(worker) = worker {
        match worker.await {
            Ok(Err(e)) => eprintln!("error: embedded worker: {e:#}"),
            Err(e) => eprintln!("error: embedded worker: {e}"),
            Ok(Ok(())) => {}
        }
    }
    let _ = stop_server.send(true);
    server.await.context("the server task failed")??;
    eprintln!("Server stopped.");
    Ok(ExitCode::SUCCESS)
}

/// Opens the store the server runs on: SQLite in the weft home unless a
/// database URL says otherwise.
async fn open_store(
    url: Option<&str>,
    home: &std::path::Path,
) -> anyhow::Result<Arc<dyn weft_store::Store>> {
    match url.map(str::trim).filter(|u| !u.is_empty()) {
        None => {
            let store = weft_store::SqliteStore::open_home(home)
                .await
                .with_context(|| format!("cannot open the store in {}", home.display()))?;
            Ok(Arc::new(store))
        }
        Some(url) => weft_store::open_store(url, home)
            .await
            .with_context(|| format!("cannot open the database `{url}`")),
    }
}

async fn wait_for(mut stop: watch::Receiver<bool>) {
    while !*stop.borrow() {
        if stop.changed().await.is_err() {
            return;
        }
    }
}

async fn embedded_worker(
    api_url: String,
    pool: String,
    limit: usize,
    runtime: weft_runtime::Runtime,
    stop: watch::Receiver<bool>,
) -> anyhow::Result<()> {
    let api = crate::remote::client(&api_url)?;
    // Wait (bounded) for our own server to answer.
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        match api.get::<serde_json::Value>(&["health"]).await {
            Ok(_) => break,
            Err(e) if tokio::time::Instant::now() >= deadline => {
                return Err(e).context("the server did not come up");
            }
            Err(_) => tokio::time::sleep(std::time::Duration::from_millis(50)).await,
        }
    }
    if crate::work_pool::ensure(&api, &pool).await? {
        eprintln!("Created work pool '{pool}'.");
    }
    let mut config = weft_worker::WorkerConfig::new(&api_url, &pool);
    config.limit = limit.max(1);
    config.cache_dir = Some(crate::home::home()?.join("components"));
    eprintln!(
        "Embedded worker '{}' started on pool '{pool}'.",
        config.name
    );
    weft_worker::run_worker(config, runtime, wait_for(stop)).await
}

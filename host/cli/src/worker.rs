//! `weft worker start`: a worker process that claims flow runs of a work
//! pool from a weft server, runs them and reports them through the API.

use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Subcommand};
use weft_worker::WorkerConfig;

/// The `weft worker` commands.
#[derive(Debug, Subcommand)]
pub enum WorkerCommand {
    /// Start a worker; it runs until Ctrl-C or SIGTERM, then finishes its
    /// runs (for up to `--grace-secs`) and hands back the rest.
    Start(StartArgs),
}

/// Arguments of `weft worker start`.
#[derive(Debug, Args)]
pub struct StartArgs {
    /// The work pool to take runs from (it must exist).
    #[arg(long, value_name = "NAME")]
    pub pool: String,
    /// The worker's name (default: generated, unique per process).
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
    /// Flow runs executing at once.
    #[arg(long, value_name = "N", default_value_t = 32)]
    pub limit: usize,
    /// Seconds between claims while the pool is empty.
    #[arg(long, value_name = "SECS", default_value_t = 1.0)]
    pub poll_interval: f64,
    /// Seconds between heartbeats.
    #[arg(long, value_name = "SECS", default_value_t = 10.0)]
    pub heartbeat_interval: f64,
    /// Seconds between checks for runs being cancelled (how fast
    /// `weft flow-run cancel` stops a running run).
    #[arg(long, value_name = "SECS", default_value_t = 0.2)]
    pub cancel_poll_interval: f64,
    /// Seconds running runs may take to finish after Ctrl-C / SIGTERM
    /// before they are handed back.
    #[arg(long, value_name = "SECS", default_value_t = 30.0)]
    pub grace_secs: f64,
    /// The operator's allowlist of outbound HTTP hosts (same syntax as
    /// `weft deploy --allow-host`): a run's request must pass it as well as
    /// its deployment's list. Repeatable; default: `WEFT_ALLOWED_HOSTS`
    /// (comma-separated), else no operator list.
    #[arg(long = "allow-host", value_name = "HOST")]
    pub allow_host: Vec<String>,
    /// Seconds a task run's lease on concurrency-limit slots lasts unless
    /// renewed (it is renewed every third of that while the task runs): how
    /// long a task on a worker that died keeps its slots.
    #[arg(long, value_name = "SECS", default_value_t = 60.0)]
    pub slot_lease_secs: f64,
}

/// Seconds as a duration; negative and non-finite values are zero.
pub fn secs(s: f64) -> Duration {
    Duration::try_from_secs_f64(s).unwrap_or(Duration::ZERO)
}

impl StartArgs {
    /// The worker's configuration against `api_url`.
    pub fn config(&self, api_url: &str) -> anyhow::Result<WorkerConfig> {
        let mut config = WorkerConfig::new(api_url, &self.pool);
        if let Some(name) = &self.name {
            config.name = name.clone();
        }
        config.limit = self.limit.max(1);
        config.poll_interval = secs(self.poll_interval);
        config.heartbeat_interval = secs(self.heartbeat_interval);
        config.cancel_poll_interval = secs(self.cancel_poll_interval);
        config.shutdown_grace = secs(self.grace_secs);
        config.cache_dir = Some(crate::home::home()?.join("components"));
        config.allowed_hosts = crate::run::operator_hosts(&self.allow_host)?;
        Ok(config)
    }
}

/// Runs a `weft worker` command.
pub async fn run(command: WorkerCommand, api_url: Option<&str>) -> anyhow::Result<ExitCode> {
    match command {
        WorkerCommand::Start(args) => {
            let api_url = api_url.unwrap_or(crate::remote::DEFAULT_API_URL);
            let config = args.config(api_url)?;
            let lease = secs(args.slot_lease_secs);
            if lease.is_zero() {
                anyhow::bail!("--slot-lease-secs must be a positive number of seconds");
            }
            let runtime = crate::home::runtime_with(weft_runtime::EngineConfig {
                slot_lease: lease,
                ..Default::default()
            })?;
            eprintln!(
                "Worker '{}' started on pool '{}' of {api_url} (up to {} runs at once).",
                config.name, config.pool, config.limit
            );
            weft_worker::run_worker(config, runtime, crate::signal::shutdown()).await?;
            eprintln!("Worker stopped.");
            Ok(ExitCode::SUCCESS)
        }
    }
}

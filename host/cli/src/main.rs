//! `weft`: build, run and inspect flows.
//!
//! `main` only wires things together: it parses the command line, sets up
//! weft's own diagnostics (to stderr, level `warn` unless `RUST_LOG` says
//! otherwise) and hands each command group to its module.

mod automation;
mod build;
mod component;
mod concurrency_limit;
mod deploy;
mod flow_run;
mod flow_run_remote;
mod home;
mod output;
mod recorder;
mod remote;
mod run;
mod secret;
mod server;
mod signal;
mod work_pool;
mod worker;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Weft runs workflows whose flows are WebAssembly components.
///
/// Everything weft keeps (the run database, secrets, compiled components)
/// lives in `$WEFT_HOME`, `~/.weft` by default.
#[derive(Debug, Parser)]
#[command(name = "weft", version, about, long_about)]
struct Cli {
    /// The weft server's API (`http://127.0.0.1:4200/api`). With it (or
    /// `WEFT_API_URL`), `flow-run` and `secret` commands use the server
    /// instead of the embedded store.
    #[arg(long, global = true, value_name = "URL", env = "WEFT_API_URL")]
    api_url: Option<String>,
    #[command(subcommand)]
    command: Command,
}

/// The command groups.
#[derive(Debug, Subcommand)]
enum Command {
    /// Build a flow project (a Rust crate, a Python or a JavaScript/TypeScript
    /// project) into a component (prints the .wasm path).
    Build(build::BuildArgs),
    /// Run a flow from a component or a project directory, printing its
    /// progress and, on the last line, its result as JSON.
    Run(run::RunArgs),
    /// List and inspect flow runs.
    #[command(subcommand)]
    FlowRun(flow_run::FlowRunCommand),
    /// Manage secrets (encrypted at rest, granted to runs by name), on the
    /// server when an API URL is given.
    #[command(subcommand)]
    Secret(secret::SecretCommand),
    /// Run the central server (REST API, optionally an embedded worker).
    #[command(subcommand)]
    Server(server::ServerCommand),
    /// Run a worker that executes a work pool's flow runs.
    #[command(subcommand)]
    Worker(worker::WorkerCommand),
    /// Deploy a flow of a component to a server's work pool.
    Deploy(deploy::DeployArgs),
    /// List a server's deployments and run them.
    #[command(subcommand)]
    Deployment(deploy::DeploymentCommand),
    /// Create and list a server's work pools.
    #[command(subcommand)]
    WorkPool(work_pool::WorkPoolCommand),
    /// Upload components to a server and list them.
    #[command(subcommand)]
    Component(component::ComponentCommand),
    /// Limit how many task runs with a tag run at once, across workers.
    #[command(subcommand)]
    ConcurrencyLimit(concurrency_limit::ConcurrencyLimitCommand),
    /// Create, list and delete a server's automations (event triggers and
    /// actions).
    #[command(subcommand)]
    Automation(automation::AutomationCommand),
    /// Create, list and delete a server's webhooks (requests become events).
    #[command(subcommand)]
    Webhook(automation::WebhookCommand),
}

/// mimalloc: the server spends a sixth of its time in glibc's malloc
/// under load; mimalloc's thread-local heaps halve that.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc's `mi_option_purge_delay` (its number in mimalloc.h 3.x).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// How long mimalloc waits before it hands freed memory back to the OS.
/// Its default (1 s, for all the memory then free at once) made a busy
/// server give back, then fault in and zero again, four times the pages
/// it faults with this (measured as minor faults over a benchmark run).
const PURGE_DELAY_MS: std::ffi::c_long = 10_000;

fn main() -> ExitCode {
    // SAFETY: sets a number mimalloc reads when it schedules a purge; any
    // value is valid.
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, PURGE_DELAY_MS) };
    init_tracing();
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(dispatch(cli.command, cli.api_url)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn dispatch(command: Command, api_url: Option<String>) -> anyhow::Result<ExitCode> {
    let api_url = api_url.filter(|u| !u.is_empty());
    let api = api_url.as_deref();
    match command {
        Command::Build(args) => build::run(args).await,
        Command::Run(args) => run::run(args).await,
        Command::FlowRun(command) => flow_run::run(command, api).await,
        Command::Secret(command) => secret::run(command, api).await,
        Command::ConcurrencyLimit(command) => concurrency_limit::run(command, api).await,
        Command::Automation(command) => {
            automation::run_automation(command, remote::required(api, "automation")?).await
        }
        Command::Webhook(command) => {
            automation::run_webhook(command, remote::required(api, "webhook")?).await
        }
        Command::Server(command) => server::run(command).await,
        Command::Worker(command) => worker::run(command, api).await,
        Command::Deploy(args) => deploy::deploy(args, remote::required(api, "deploy")?).await,
        Command::Deployment(command) => {
            deploy::run(command, remote::required(api, "deployment")?).await
        }
        Command::WorkPool(command) => {
            work_pool::run(command, remote::required(api, "work-pool")?).await
        }
        Command::Component(command) => {
            component::run(command, remote::required(api, "component")?).await
        }
    }
}

/// Weft's own diagnostics go to stderr; `RUST_LOG` overrides the default
/// level, `warn`.
fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .init();
}

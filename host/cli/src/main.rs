//! `weft`: build, run and inspect flows.
//!
//! `main` only wires things together: it parses the command line, sets up
//! weft's own diagnostics (to stderr, level `warn` unless `RUST_LOG` says
//! otherwise) and hands each command group to its module.

mod build;
mod flow_run;
mod home;
mod output;
mod recorder;
mod run;
mod secret;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Weft runs workflows whose flows are WebAssembly components.
///
/// Everything weft keeps (the run database, secrets, compiled components)
/// lives in `$WEFT_HOME`, `~/.weft` by default.
#[derive(Debug, Parser)]
#[command(name = "weft", version, about, long_about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// The command groups.
#[derive(Debug, Subcommand)]
enum Command {
    /// Build a Rust flow crate into a component (prints the .wasm path).
    Build(build::BuildArgs),
    /// Run a flow from a component or a crate directory, printing its
    /// progress and, on the last line, its result as JSON.
    Run(run::RunArgs),
    /// List and inspect flow runs.
    #[command(subcommand)]
    FlowRun(flow_run::FlowRunCommand),
    /// Manage secrets (encrypted at rest, granted to runs by name).
    #[command(subcommand)]
    Secret(secret::SecretCommand),
}

fn main() -> ExitCode {
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
    match runtime.block_on(dispatch(cli.command)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn dispatch(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Build(args) => build::run(args),
        Command::Run(args) => run::run(args).await,
        Command::FlowRun(command) => flow_run::run(command).await,
        Command::Secret(command) => secret::run(command).await,
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

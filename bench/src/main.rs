//! Weft's benchmarks, run by hand (not tests):
//!
//! - `cargo run --release -p weft-bench` (or `-- runtime`): the runtime's
//!   overheads beside bare wasmtime;
//! - `-- filter [--runs 100000] [--database-url URL]`: flow run filter
//!   latency through the API with many runs stored;
//! - `-- seed --home DIR [--runs 100000]`: the same runs stored in a weft
//!   home's SQLite store (for the UI's browser test at 100,000 runs);
//! - `-- e2e --api-url URL --deployment FLOW/NAME`: end-to-end runs per
//!   second against a running server and workers (see `bench/e2e-runs.sh`).

mod e2e;
mod filter;
mod runtime;
mod stats;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(about = "Weft's benchmarks")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// The runtime's overheads beside bare wasmtime (the default).
    Runtime,
    /// `POST /api/flow_runs/filter` latency with many runs stored.
    Filter(filter::FilterArgs),
    /// Stores many flow runs in a weft home (for the UI at scale).
    Seed(filter::SeedArgs),
    /// End-to-end runs per second through a running server.
    E2e(e2e::E2eArgs),
}

#[tokio::main(flavor = "multi_thread")]
async fn main() -> anyhow::Result<()> {
    match Cli::parse().command.unwrap_or(Command::Runtime) {
        Command::Runtime => runtime::run().await,
        Command::Filter(args) => filter::run(args).await,
        Command::Seed(args) => filter::seed(args).await,
        Command::E2e(args) => e2e::run(args).await,
    }
}

//! `weft component push|ls`: upload components to a server and list them.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Args, Subcommand};
use weft_worker::ApiClient;

use crate::deploy::{ComponentOut, push_component};
use crate::output::{self, Table};

/// The `weft component` commands.
#[derive(Debug, Subcommand)]
pub enum ComponentCommand {
    /// Upload a component (`.wasm`) or build and upload a crate directory;
    /// prints its digest.
    Push(PushArgs),
    /// List the server's components.
    Ls,
}

/// Arguments of `weft component push`.
#[derive(Debug, Args)]
pub struct PushArgs {
    /// A component (`.wasm`) or a Rust flow crate's directory.
    pub target: PathBuf,
}

/// Runs a `weft component` command.
pub async fn run(command: ComponentCommand, api: ApiClient) -> anyhow::Result<ExitCode> {
    match command {
        ComponentCommand::Push(args) => {
            let c = push_component(&api, &args.target).await?;
            let flows: Vec<&str> = c.flows.iter().map(|f| f.name.as_str()).collect();
            let tasks: Vec<&str> = c.tasks.iter().map(|t| t.name.as_str()).collect();
            eprintln!(
                "Uploaded component ({} bytes, {}): flows {}; tasks {}",
                c.size,
                if c.sdk.is_empty() {
                    "unknown SDK"
                } else {
                    &c.sdk
                },
                flows.join(", "),
                if tasks.is_empty() {
                    "-".to_string()
                } else {
                    tasks.join(", ")
                },
            );
            println!("{}", c.digest);
        }
        ComponentCommand::Ls => {
            let list: Vec<ComponentOut> = api
                .get(&["components"])
                .await
                .context("cannot list components")?;
            let mut table = Table::new(&["DIGEST", "SIZE", "SDK", "FLOWS", "UPLOADED"]);
            for c in list {
                let flows: Vec<&str> = c.flows.iter().map(|f| f.name.as_str()).collect();
                table.row(vec![
                    c.digest.clone(),
                    c.size.to_string(),
                    c.sdk.clone(),
                    flows.join(", "),
                    output::opt_datetime(c.created),
                ]);
            }
            print!("{}", table.render());
        }
    }
    Ok(ExitCode::SUCCESS)
}

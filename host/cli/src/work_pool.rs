//! `weft work-pool create|ls`: the server's work pools.

use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Args, Subcommand};
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;
use weft_worker::ApiClient;

use crate::output::Table;

/// The `weft work-pool` commands.
#[derive(Debug, Subcommand)]
pub enum WorkPoolCommand {
    /// Create a work pool.
    Create(CreateArgs),
    /// List work pools.
    Ls,
}

/// Arguments of `weft work-pool create`.
#[derive(Debug, Args)]
pub struct CreateArgs {
    /// The pool's name.
    pub name: String,
    /// A description.
    #[arg(long)]
    pub description: Option<String>,
    /// At most this many of its runs at once.
    #[arg(long, value_name = "N")]
    pub concurrency_limit: Option<u32>,
}

#[derive(Debug, Deserialize)]
struct WorkPoolOut {
    id: Uuid,
    name: String,
    #[serde(default, rename = "type")]
    pool_type: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    concurrency_limit: Option<u32>,
}

/// Creates the pool `name` unless it exists; true if it was created.
pub async fn ensure(api: &ApiClient, name: &str) -> anyhow::Result<bool> {
    let found: Option<serde_json::Value> = api.get_opt(&["work_pools", name]).await?;
    if found.is_some() {
        return Ok(false);
    }
    let _: serde_json::Value = api
        .post(
            &["work_pools", ""],
            &json!({ "name": name, "type": "weft" }),
        )
        .await?;
    Ok(true)
}

/// Runs a `weft work-pool` command.
pub async fn run(command: WorkPoolCommand, api: ApiClient) -> anyhow::Result<ExitCode> {
    match command {
        WorkPoolCommand::Create(args) => {
            let body = json!({
                "name": args.name,
                "type": "weft",
                "description": args.description,
                "concurrency_limit": args.concurrency_limit,
            });
            let pool: WorkPoolOut = api
                .post(&["work_pools", ""], &body)
                .await
                .with_context(|| format!("cannot create work pool '{}'", args.name))?;
            println!("Created work pool '{}' ({}).", pool.name, pool.id);
        }
        WorkPoolCommand::Ls => {
            let pools: Vec<WorkPoolOut> = api
                .post(&["work_pools", "filter"], &json!({}))
                .await
                .context("cannot list work pools")?;
            let mut table = Table::new(&["NAME", "TYPE", "STATUS", "CONCURRENCY", "ID"]);
            for p in pools {
                table.row(vec![
                    p.name,
                    p.pool_type,
                    p.status,
                    p.concurrency_limit
                        .map(|l| l.to_string())
                        .unwrap_or_else(|| "-".into()),
                    p.id.to_string(),
                ]);
            }
            print!("{}", table.render());
        }
    }
    Ok(ExitCode::SUCCESS)
}

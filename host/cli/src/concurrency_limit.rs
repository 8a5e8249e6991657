//! `weft concurrency-limit`: tag concurrency limits (at most N task runs
//! with a tag at once, across every worker), on the server when an API URL
//! is given (Prefect's `/api/concurrency_limits/` routes), else in the
//! embedded store.

use std::process::ExitCode;

use anyhow::{Context as _, bail};
use clap::{Args, Subcommand};
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;
use weft_core::ConcurrencyLimit;
use weft_core::concurrency::tag_limit_name;
use weft_store::Store;
use weft_worker::ApiClient;

use crate::output::Table;

/// The `weft concurrency-limit` commands.
#[derive(Debug, Subcommand)]
pub enum ConcurrencyLimitCommand {
    /// Limit the task runs with TAG to N at once (changes the limit when
    /// the tag has one).
    Create(CreateArgs),
    /// List the tag limits with the slots held now.
    Ls,
    /// Show a tag's limit and the task runs holding its slots.
    Inspect(TagArgs),
    /// Remove a tag's limit.
    Delete(TagArgs),
    /// Release every slot of a tag's limit (e.g. after a crash).
    Reset(TagArgs),
}

/// `create TAG N`.
#[derive(Debug, Args)]
pub struct CreateArgs {
    /// The tag, as tasks give it (`#[task(tags = ["db"])]`).
    pub tag: String,
    /// How many task runs with the tag may run at once (0 stops them all).
    pub limit: u32,
}

/// A tag.
#[derive(Debug, Args)]
pub struct TagArgs {
    /// The tag.
    pub tag: String,
}

/// A tag limit as both backends give it.
#[derive(Debug, Clone, Deserialize)]
struct TagLimit {
    id: Uuid,
    tag: String,
    concurrency_limit: u32,
    active_slots: Vec<Uuid>,
}

/// Runs a `weft concurrency-limit` command: against the server at
/// `api_url` when one is given, else against the embedded store.
pub async fn run(
    command: ConcurrencyLimitCommand,
    api_url: Option<&str>,
) -> anyhow::Result<ExitCode> {
    match api_url {
        Some(url) => {
            let api = crate::remote::client(url)?;
            execute(command, &Remote(api)).await
        }
        None => {
            let store = crate::home::open_store().await?;
            let result = execute(command, &Embedded(&store)).await;
            if let Err(e) = store.close().await {
                tracing::warn!("closing the store: {e}");
            }
            result
        }
    }
}

async fn execute(
    command: ConcurrencyLimitCommand,
    limits: &dyn Limits,
) -> anyhow::Result<ExitCode> {
    match command {
        ConcurrencyLimitCommand::Create(CreateArgs { tag, limit }) => {
            let l = limits.upsert(&tag, limit).await?;
            eprintln!(
                "Tag '{}' limited to {} task run(s) at once ({}).",
                l.tag, l.concurrency_limit, l.id
            );
        }
        ConcurrencyLimitCommand::Ls => {
            let mut table = Table::new(&["TAG", "LIMIT", "ACTIVE", "ID"]);
            for l in limits.list().await? {
                table.row(vec![
                    l.tag,
                    l.concurrency_limit.to_string(),
                    l.active_slots.len().to_string(),
                    l.id.to_string(),
                ]);
            }
            print!("{}", table.render());
        }
        ConcurrencyLimitCommand::Inspect(TagArgs { tag }) => {
            let l = limits.read(&tag).await?;
            let value = json!({
                "id": l.id,
                "tag": l.tag,
                "concurrency_limit": l.concurrency_limit,
                "active_slots": l.active_slots,
            });
            println!("{}", serde_json::to_string_pretty(&value)?);
        }
        ConcurrencyLimitCommand::Delete(TagArgs { tag }) => {
            limits.delete(&tag).await?;
            eprintln!("Concurrency limit of tag '{tag}' removed.");
        }
        ConcurrencyLimitCommand::Reset(TagArgs { tag }) => {
            limits.reset(&tag).await?;
            eprintln!("Every slot of tag '{tag}' released.");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Where tag limits live.
#[async_trait::async_trait]
trait Limits: Sync {
    async fn upsert(&self, tag: &str, limit: u32) -> anyhow::Result<TagLimit>;
    async fn list(&self) -> anyhow::Result<Vec<TagLimit>>;
    async fn read(&self, tag: &str) -> anyhow::Result<TagLimit>;
    async fn delete(&self, tag: &str) -> anyhow::Result<()>;
    async fn reset(&self, tag: &str) -> anyhow::Result<()>;
}

/// The server's `/api/concurrency_limits/` routes.
struct Remote(ApiClient);

#[async_trait::async_trait]
impl Limits for Remote {
    async fn upsert(&self, tag: &str, limit: u32) -> anyhow::Result<TagLimit> {
        self.0
            .post(
                &["concurrency_limits", ""],
                &json!({ "tag": tag, "concurrency_limit": limit }),
            )
            .await
            .with_context(|| format!("cannot set the limit of tag '{tag}' on the server"))
    }

    async fn list(&self) -> anyhow::Result<Vec<TagLimit>> {
        self.0
            .post(&["concurrency_limits", "filter"], &json!({}))
            .await
            .context("cannot list the server's concurrency limits")
    }

    async fn read(&self, tag: &str) -> anyhow::Result<TagLimit> {
        match self.0.get_opt(&["concurrency_limits", "tag", tag]).await {
            Ok(Some(l)) => Ok(l),
            Ok(None) => bail!("tag '{tag}' has no concurrency limit on the server"),
            Err(e) => Err(e).with_context(|| format!("cannot read the limit of tag '{tag}'")),
        }
    }

    async fn delete(&self, tag: &str) -> anyhow::Result<()> {
        match self.0.delete(&["concurrency_limits", "tag", tag]).await {
            Ok(()) => Ok(()),
            Err(e) if e.is_not_found() => {
                bail!("tag '{tag}' has no concurrency limit on the server")
            }
            Err(e) => Err(e).with_context(|| format!("cannot remove the limit of tag '{tag}'")),
        }
    }

    async fn reset(&self, tag: &str) -> anyhow::Result<()> {
        match self
            .0
            .call(
                reqwest::Method::POST,
                &["concurrency_limits", "tag", tag, "reset"],
                &json!({}),
            )
            .await
        {
            Ok(()) => Ok(()),
            Err(e) if e.is_not_found() => {
                bail!("tag '{tag}' has no concurrency limit on the server")
            }
            Err(e) => Err(e).with_context(|| format!("cannot reset the limit of tag '{tag}'")),
        }
    }
}

/// The embedded store.
struct Embedded<'a>(&'a dyn Store);

impl Embedded<'_> {
    async fn find(&self, tag: &str) -> anyhow::Result<ConcurrencyLimit> {
        match self
            .0
            .read_concurrency_limit_by_name(&tag_limit_name(tag))
            .await?
        {
            Some(l) => Ok(l),
            None => bail!("tag '{tag}' has no concurrency limit"),
        }
    }

    async fn with_holders(&self, l: ConcurrencyLimit) -> anyhow::Result<TagLimit> {
        let holders = self
            .0
            .concurrency_leases(l.id)
            .await?
            .into_iter()
            .filter_map(|lease| lease.holder.map(|h| h.id))
            .collect();
        Ok(TagLimit {
            id: l.id,
            tag: l.tag().unwrap_or(&l.name).to_string(),
            concurrency_limit: l.limit,
            active_slots: holders,
        })
    }
}

#[async_trait::async_trait]
impl Limits for Embedded<'_> {
    async fn upsert(&self, tag: &str, limit: u32) -> anyhow::Result<TagLimit> {
        if tag.trim().is_empty() {
            bail!("the tag must not be empty");
        }
        let stored = match self
            .0
            .read_concurrency_limit_by_name(&tag_limit_name(tag))
            .await?
        {
            Some(mut l) => {
                l.limit = limit;
                self.0.update_concurrency_limit(&l).await?;
                l
            }
            None => {
                self.0
                    .create_concurrency_limit(&ConcurrencyLimit::new(tag_limit_name(tag), limit))
                    .await?
            }
        };
        self.with_holders(stored).await
    }

    async fn list(&self) -> anyhow::Result<Vec<TagLimit>> {
        let mut out = Vec::new();
        for l in self.0.list_concurrency_limits(None, 0).await? {
            if l.tag().is_some() {
                out.push(self.with_holders(l).await?);
            }
        }
        Ok(out)
    }

    async fn read(&self, tag: &str) -> anyhow::Result<TagLimit> {
        let l = self.find(tag).await?;
        self.with_holders(l).await
    }

    async fn delete(&self, tag: &str) -> anyhow::Result<()> {
        let l = self.find(tag).await?;
        self.0.delete_concurrency_limit(l.id).await?;
        Ok(())
    }

    async fn reset(&self, tag: &str) -> anyhow::Result<()> {
        let l = self.find(tag).await?;
        self.0.reset_concurrency_limit(l.id).await?;
        Ok(())
    }
}

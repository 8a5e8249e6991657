//! `weft automation` and `weft webhook`: automations (a trigger on events
//! and actions) and webhooks (requests to `/hooks/{slug}` become events)
//! on a server, defined in YAML or JSON files.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context as _, bail};
use clap::{Args, Subcommand};
use serde_json::Value;
use weft_worker::ApiClient;

use crate::output::Table;

/// The `weft automation` commands.
#[derive(Debug, Subcommand)]
pub enum AutomationCommand {
    /// Create an automation from a YAML or JSON file (Prefect's automation
    /// shape: name, trigger, actions).
    Create(FromFile),
    /// List the automations.
    Ls,
    /// Delete an automation by id or name.
    Delete(Named),
}

/// The `weft webhook` commands.
#[derive(Debug, Subcommand)]
pub enum WebhookCommand {
    /// Create a webhook from a YAML or JSON file (slug, template).
    Create(FromFile),
    /// List the webhooks and their URLs.
    Ls,
    /// Delete a webhook by id or slug.
    Delete(Named),
}

/// `--from-file FILE`.
#[derive(Debug, Args)]
pub struct FromFile {
    /// The definition, YAML (`.yaml`, `.yml`) or JSON.
    #[arg(long, value_name = "FILE")]
    pub from_file: PathBuf,
}

/// An id or a name.
#[derive(Debug, Args)]
pub struct Named {
    /// The id, or the name (slug for a webhook).
    pub name: String,
}

/// Reads a YAML or JSON definition.
fn read_definition(path: &Path) -> anyhow::Result<Value> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let yaml = matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("yaml" | "yml")
    );
    let value: Value = if yaml {
        serde_yaml_ng::from_str(&text)
            .with_context(|| format!("{} is not valid YAML", path.display()))?
    } else {
        serde_json::from_str(&text)
            .with_context(|| format!("{} is not valid JSON", path.display()))?
    };
    if !value.is_object() {
        bail!("{} must hold one object", path.display());
    }
    Ok(value)
}

/// Runs a `weft automation` command against the server.
pub async fn run_automation(
    command: AutomationCommand,
    api: ApiClient,
) -> anyhow::Result<ExitCode> {
    match command {
        AutomationCommand::Create(FromFile { from_file }) => {
            let body = read_definition(&from_file)?;
            let created: Value = api
                .post(&["automations", ""], &body)
                .await
                .context("cannot create the automation")?;
            println!(
                "Automation '{}' created ({}).",
                created["name"].as_str().unwrap_or(""),
                created["id"].as_str().unwrap_or("")
            );
        }
        AutomationCommand::Ls => {
            let all = list(&api, "automations").await?;
            let mut table = Table::new(&["NAME", "ENABLED", "TRIGGER", "ACTIONS", "ID"]);
            for a in all {
                let expect = a["trigger"]["expect"]
                    .as_array()
                    .map(|v| {
                        v.iter()
                            .filter_map(Value::as_str)
                            .collect::<Vec<_>>()
                            .join(", ")
                    })
                    .unwrap_or_default();
                let actions = a["actions"]
                    .as_array()
                    .map(|v| {
                        v.iter()
                            .filter_map(|x| x["type"].as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    })
                    .unwrap_or_default();
                table.row(vec![
                    text(&a["name"]),
                    a["enabled"].as_bool().unwrap_or(true).to_string(),
                    if expect.is_empty() {
                        "any event".into()
                    } else {
                        expect
                    },
                    actions,
                    text(&a["id"]),
                ]);
            }
            print!("{}", table.render());
        }
        AutomationCommand::Delete(Named { name }) => {
            let id = find(&api, "automations", "name", &name).await?;
            api.delete(&["automations", &id])
                .await
                .with_context(|| format!("cannot delete automation '{name}'"))?;
            eprintln!("Automation '{name}' deleted.");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Runs a `weft webhook` command against the server.
pub async fn run_webhook(command: WebhookCommand, api: ApiClient) -> anyhow::Result<ExitCode> {
    let root = api
        .base_url()
        .as_str()
        .trim_end_matches('/')
        .trim_end_matches("/api")
        .to_string();
    match command {
        WebhookCommand::Create(FromFile { from_file }) => {
            let body = read_definition(&from_file)?;
            let created: Value = api
                .post(&["webhooks", ""], &body)
                .await
                .context("cannot create the webhook")?;
            println!(
                "Webhook '{}' created: POST {root}/hooks/{}",
                text(&created["slug"]),
                text(&created["slug"])
            );
        }
        WebhookCommand::Ls => {
            let all: Vec<Value> = api
                .get(&["webhooks", ""])
                .await
                .context("cannot list the webhooks")?;
            let mut table = Table::new(&["SLUG", "ENABLED", "URL", "ID"]);
            for w in all {
                table.row(vec![
                    text(&w["slug"]),
                    w["enabled"].as_bool().unwrap_or(true).to_string(),
                    format!("{root}/hooks/{}", text(&w["slug"])),
                    text(&w["id"]),
                ]);
            }
            print!("{}", table.render());
        }
        WebhookCommand::Delete(Named { name }) => {
            let all: Vec<Value> = api
                .get(&["webhooks", ""])
                .await
                .context("cannot list the webhooks")?;
            let Some(w) = all
                .iter()
                .find(|w| w["slug"] == name.as_str() || w["id"] == name.as_str())
            else {
                bail!("no webhook '{name}'");
            };
            api.delete(&["webhooks", &text(&w["id"])])
                .await
                .with_context(|| format!("cannot delete webhook '{name}'"))?;
            eprintln!("Webhook '{name}' deleted.");
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn text(v: &Value) -> String {
    v.as_str().unwrap_or("").to_string()
}

async fn list(api: &ApiClient, what: &str) -> anyhow::Result<Vec<Value>> {
    api.post(&[what, "filter"], &serde_json::json!({}))
        .await
        .with_context(|| format!("cannot list the {what}"))
}

/// The id of the item of `what` whose id or `field` is `name`.
async fn find(api: &ApiClient, what: &str, field: &str, name: &str) -> anyhow::Result<String> {
    let all = list(api, what).await?;
    match all.iter().find(|a| a["id"] == name || a[field] == name) {
        Some(a) => Ok(text(&a["id"])),
        None => bail!("no {} '{name}'", what.trim_end_matches('s')),
    }
}

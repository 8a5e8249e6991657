//! `weft secret`: sets, lists and removes secrets, on the server when an
//! API URL is given (`--api-url` or `WEFT_API_URL`), else in the embedded
//! store. Values are read from stdin (never from the command line, where
//! they would end up in shell history) and never printed; the server's API
//! never returns them either.

use std::io::{IsTerminal as _, Read as _};
use std::process::ExitCode;

use anyhow::{Context as _, bail};
use clap::{Args, Subcommand};
use reqwest::Method;
use serde_json::json;
use weft_store::Store as _;
use weft_worker::ApiClient;

/// The `weft secret` commands.
#[derive(Debug, Subcommand)]
pub enum SecretCommand {
    /// Set a secret; its value is read from stdin (one trailing newline is
    /// dropped).
    Set(NameArgs),
    /// List the secrets' names.
    Ls,
    /// Remove a secret.
    Rm(NameArgs),
}

/// A secret's name.
#[derive(Debug, Args)]
pub struct NameArgs {
    /// The secret's name, as flows ask for it.
    pub name: String,
}

/// Runs a `weft secret` command: against the server at `api_url` when one
/// is given, else against the embedded store.
pub async fn run(command: SecretCommand, api_url: Option<&str>) -> anyhow::Result<ExitCode> {
    // Read the value before touching anything, so a bad value changes nothing.
    let value = match &command {
        SecretCommand::Set(_) => read_value()?,
        _ => String::new(),
    };
    match api_url {
        Some(url) => remote(command, value, crate::remote::client(url)?).await,
        None => embedded(command, value).await,
    }
}

/// Runs a `weft secret` command against a server's `/api/secrets` routes.
async fn remote(command: SecretCommand, value: String, api: ApiClient) -> anyhow::Result<ExitCode> {
    match command {
        SecretCommand::Set(NameArgs { name }) => {
            api.call(Method::PUT, &["secrets", &name], &json!({ "value": value }))
                .await
                .with_context(|| format!("cannot set secret '{name}' on the server"))?;
            eprintln!("Secret '{name}' set on the server.");
        }
        SecretCommand::Ls => {
            let names: Vec<String> = api
                .get(&["secrets", ""])
                .await
                .context("cannot list the server's secrets")?;
            for name in names {
                println!("{name}");
            }
        }
        SecretCommand::Rm(NameArgs { name }) => match api.delete(&["secrets", &name]).await {
            Ok(()) => eprintln!("Secret '{name}' removed from the server."),
            Err(e) if e.is_not_found() => bail!("no secret named '{name}' on the server"),
            Err(e) => {
                return Err(e).with_context(|| format!("cannot remove secret '{name}'"));
            }
        },
    }
    Ok(ExitCode::SUCCESS)
}

/// Runs a `weft secret` command against the embedded store.
async fn embedded(command: SecretCommand, value: String) -> anyhow::Result<ExitCode> {
    let store = crate::home::open_store().await?;
    let result = async {
        match command {
            SecretCommand::Set(NameArgs { name }) => {
                store
                    .set_secret(&name, &value)
                    .await
                    .with_context(|| format!("cannot set secret '{name}'"))?;
                eprintln!("Secret '{name}' set.");
            }
            SecretCommand::Ls => {
                for name in store
                    .list_secret_names()
                    .await
                    .context("cannot list secrets")?
                {
                    println!("{name}");
                }
            }
            SecretCommand::Rm(NameArgs { name }) => {
                if !store
                    .delete_secret(&name)
                    .await
                    .with_context(|| format!("cannot remove secret '{name}'"))?
                {
                    bail!("no secret named '{name}'");
                }
                eprintln!("Secret '{name}' removed.");
            }
        }
        Ok(ExitCode::SUCCESS)
    }
    .await;
    if let Err(e) = store.close().await {
        tracing::warn!("closing the store: {e}");
    }
    result
}

/// Reads a secret's value from stdin.
fn read_value() -> anyhow::Result<String> {
    let mut stdin = std::io::stdin();
    if stdin.is_terminal() {
        eprintln!("Enter the secret's value, then press Ctrl-D:");
    }
    let mut value = String::new();
    stdin
        .read_to_string(&mut value)
        .context("cannot read the secret's value from stdin")?;
    let value = strip_newline(value);
    if value.is_empty() {
        bail!("refusing to set an empty secret (pipe the value on stdin)");
    }
    Ok(value)
}

/// Drops one trailing newline (`\n` or `\r\n`).
fn strip_newline(mut value: String) -> String {
    if value.ends_with('\n') {
        value.pop();
        if value.ends_with('\r') {
            value.pop();
        }
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_trailing_newline_is_dropped() {
        assert_eq!(strip_newline("abc\n".into()), "abc");
        assert_eq!(strip_newline("abc\r\n".into()), "abc");
        assert_eq!(strip_newline("abc\n\n".into()), "abc\n");
        assert_eq!(strip_newline("abc".into()), "abc");
    }
}

//! `weft run`: runs one flow of a component (building a crate directory
//! first), records it in the embedded store and prints it as it happens.
//! The last line of stdout is the result, as compact JSON.

use std::io::{IsTerminal as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, bail};
use clap::Args;
use weft_core::network::{AllowedHosts, NetworkGrant};
use weft_core::policy::FlowOverrides;
use weft_core::{FlowRun, RunLimits, RunRecorder, State, StateType};
use weft_runtime::{CancelToken, FlowComponent, RunOptions};

use crate::output::Redactor;
use crate::recorder::{Display, PrintingRecorder};

/// Arguments of `weft run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// A component (`.wasm`) or a flow project's directory: a Rust crate, a
    /// Python or a JavaScript/TypeScript project (built first, as `weft
    /// build` does).
    pub target: PathBuf,
    /// The flow to run; needed when the component has several.
    #[arg(long, value_name = "NAME")]
    pub flow: Option<String>,
    /// The parameters, as a JSON object.
    #[arg(long, value_name = "JSON")]
    pub params: Option<String>,
    /// One parameter, `key=value`; the value is parsed as JSON if it parses,
    /// else taken as a string. Repeatable; overrides `--params`.
    #[arg(long = "param", value_name = "KEY=VALUE")]
    pub param: Vec<String>,
    /// Grant the run the secret NAME. Repeatable.
    #[arg(long = "allow-secret", value_name = "NAME")]
    pub allow_secret: Vec<String>,
    /// Print only the result line.
    #[arg(long, short)]
    pub quiet: bool,
    /// The run's sandbox limits.
    #[command(flatten)]
    pub limits: LimitArgs,
}

/// The sandbox limit flags, shared by `weft run` (the run's limits) and
/// `weft deploy` (the limits of the deployment's runs). Each defaults to
/// `RunLimits::default()`'s value.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Sandbox limits")]
pub struct LimitArgs {
    /// Fuel (about one unit per Wasm instruction) for the whole run.
    #[arg(long, value_name = "N", default_value_t = defaults().fuel.unwrap_or(u64::MAX))]
    pub fuel: u64,
    /// Memory of one instance, in MiB.
    #[arg(long, value_name = "N", default_value_t = defaults().memory_bytes >> 20)]
    pub memory_mb: u64,
    /// Wall-clock limit of the whole run, in seconds.
    #[arg(long, value_name = "N", default_value_t = defaults().wall_time.as_secs())]
    pub timeout_secs: u64,
    /// Maximum task runs the flow run may create.
    #[arg(long, value_name = "N", default_value_t = defaults().max_task_runs)]
    pub max_task_runs: u64,
    /// Maximum bytes of log text.
    #[arg(long, value_name = "N", default_value_t = defaults().max_log_bytes)]
    pub max_log_bytes: u64,
    /// Maximum size of a flow or task result, in bytes.
    #[arg(long, value_name = "N", default_value_t = defaults().max_result_bytes)]
    pub max_result_bytes: u64,
    /// Allow outbound HTTP to HOST: `api.example.com` (https, port 443),
    /// `api.example.com:8443`, `*.example.com`, `http://127.0.0.1:*`,
    /// `*://host`; no scheme means https. Repeatable, or comma-separated.
    #[arg(long = "allow-host", value_name = "HOST", value_parser = parse_allowed_host, help_heading = "Network")]
    pub allow_host: Vec<String>,
    /// Bind the secret NAME to HOST (an --allow-host entry): the flow reads
    /// only a placeholder, and the host puts the real value in its place
    /// (headers, query, body) in requests to HOST alone. Repeatable.
    #[arg(long = "secret-host", value_name = "NAME=HOST", value_parser = parse_secret_host, help_heading = "Network")]
    pub secret_host: Vec<(String, String)>,
    /// Largest HTTP response body a flow may read, in bytes.
    #[arg(long, value_name = "N", default_value_t = defaults().network.max_response_bytes, help_heading = "Network")]
    pub max_response_bytes: u64,
    /// Retries of a failed flow run, overriding `#[flow(retries)]`.
    #[arg(long, value_name = "N", help_heading = "Flow overrides")]
    pub flow_retries: Option<u32>,
    /// Delay before each flow retry, in milliseconds, overriding
    /// `#[flow(retry_delay_ms)]`.
    #[arg(long, value_name = "MS", help_heading = "Flow overrides")]
    pub flow_retry_delay_ms: Option<u64>,
    /// Time limit of one flow attempt, in milliseconds (0: none), overriding
    /// `#[flow(timeout_ms)]`.
    #[arg(long, value_name = "MS", help_heading = "Flow overrides")]
    pub flow_timeout_ms: Option<u64>,
}

/// Checks an `--allow-host` value (each comma-separated entry).
fn parse_allowed_host(s: &str) -> Result<String, String> {
    AllowedHosts::parse([s]).map_err(|e| e.to_string())?;
    Ok(s.to_string())
}

/// Parses a `--secret-host NAME=HOST` value.
fn parse_secret_host(s: &str) -> Result<(String, String), String> {
    weft_core::network::parse_secret_host(s).map_err(|e| e.to_string())
}

/// The operator's allowlist: `flags` if any, else `WEFT_ALLOWED_HOSTS`
/// (comma-separated) if set, else none (the runs' own lists alone apply).
pub fn operator_hosts(flags: &[String]) -> anyhow::Result<Option<AllowedHosts>> {
    if !flags.is_empty() {
        return Ok(Some(AllowedHosts::parse(flags)?));
    }
    match std::env::var("WEFT_ALLOWED_HOSTS") {
        Ok(v) => Ok(Some(
            AllowedHosts::parse([v.as_str()]).context("WEFT_ALLOWED_HOSTS")?,
        )),
        Err(_) => Ok(None),
    }
}

/// The default limits, shown as the flags' defaults.
fn defaults() -> RunLimits {
    RunLimits::default()
}

impl LimitArgs {
    /// The limits: the defaults (`RunLimits::default()`), with the flags'
    /// values.
    pub fn run_limits(&self) -> RunLimits {
        RunLimits {
            fuel: Some(self.fuel),
            memory_bytes: self.memory_mb.saturating_mul(1 << 20),
            wall_time: Duration::from_secs(self.timeout_secs),
            max_task_runs: self.max_task_runs,
            max_log_bytes: self.max_log_bytes,
            max_result_bytes: self.max_result_bytes,
            network: self.network_grant(),
            flow: FlowOverrides {
                retries: self.flow_retries,
                retry_delay_ms: self.flow_retry_delay_ms,
                timeout_ms: self.flow_timeout_ms,
            },
            ..defaults()
        }
    }

    /// The network grant of the flags.
    fn network_grant(&self) -> NetworkGrant {
        let mut grant = NetworkGrant {
            allowed_hosts: self.allow_host.clone(),
            max_response_bytes: self.max_response_bytes,
            ..NetworkGrant::default()
        };
        for (name, host) in &self.secret_host {
            grant
                .secret_hosts
                .entry(name.clone())
                .or_default()
                .push(host.clone());
        }
        grant
    }
}

/// Runs `weft run`; exits 0 only when the flow run completed.
pub async fn run(args: RunArgs) -> anyhow::Result<ExitCode> {
    let params = parse_params(args.params.as_deref(), &args.param)?;
    let wasm = component_path(&args.target)?;

    let runtime = crate::home::runtime()?;
    let component = runtime
        .load_file(&wasm)
        .await
        .with_context(|| format!("cannot load the component {}", wasm.display()))?;
    let flow = pick_flow(&component, args.flow.as_deref())?;

    let store = crate::home::open_store().await?;
    let flow_run = FlowRun::new(flow, component.digest(), params);
    store
        .create_flow_run(&flow_run)
        .await
        .context("cannot record the flow run")?;

    let mut granted = args.allow_secret.clone();
    granted.extend(args.limits.secret_host.iter().map(|(name, _)| name.clone()));
    let redactor = Redactor::new(secret_values(&store, &granted).await);
    let display = if args.quiet {
        Display::Quiet
    } else if std::io::stdout().is_terminal() {
        Display::LinesAndBar
    } else {
        Display::Lines
    };
    let printer = Arc::new(PrintingRecorder::new(
        Arc::new(store.clone()),
        &flow_run,
        display,
        redactor.clone(),
    ));
    let options = RunOptions {
        limits: args.limits.run_limits(),
        allowed_secrets: args.allow_secret.clone(),
        operator_hosts: operator_hosts(&[])?,
        ..Default::default()
    };
    let interrupt = tokio::spawn(cancel_on_ctrl_c(options.cancel.clone()));

    let recorder: Arc<dyn RunRecorder> = printer.clone();
    let final_state = runtime
        .run_flow(&component, &flow_run, options, recorder)
        .await;
    interrupt.abort();
    if let Err(e) = printer.flush().await {
        tracing::warn!("flushing the run's records: {e}");
    }
    printer.finish();
    if let Err(e) = store.close().await {
        tracing::warn!("closing the store: {e}");
    }

    report(&flow_run, &final_state, &redactor)
}

/// The first Ctrl-C cancels the run (it ends Cancelled and is recorded so);
/// a second one exits at once.
async fn cancel_on_ctrl_c(cancel: CancelToken) {
    if tokio::signal::ctrl_c().await.is_err() {
        return;
    }
    eprintln!("interrupted: cancelling the run (press Ctrl-C again to exit at once)");
    cancel.cancel();
    if tokio::signal::ctrl_c().await.is_ok() {
        std::process::exit(130);
    }
}

/// Prints the outcome: the result line on completion, the state's message
/// on stderr otherwise.
fn report(flow_run: &FlowRun, state: &State, redactor: &Redactor) -> anyhow::Result<ExitCode> {
    if state.state_type == StateType::Completed {
        let data = state.data.clone().unwrap_or(serde_json::Value::Null);
        let json = serde_json::to_string(&data).context("serialising the result")?;
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{}", redactor.redact(&json));
        return Ok(ExitCode::SUCCESS);
    }
    let message = state.message.as_deref().unwrap_or("no message");
    eprintln!(
        "error: flow run '{}' finished in state {}: {}",
        flow_run.name,
        state.name,
        redactor.redact(message)
    );
    Ok(ExitCode::FAILURE)
}

/// The component to run: `target` itself, or the component built from it
/// when it is a directory.
pub(crate) fn component_path(target: &Path) -> anyhow::Result<PathBuf> {
    if target.is_dir() {
        let target = target.to_path_buf();
        return crate::build::build(&target, false);
    }
    if !target.is_file() {
        bail!(
            "{} is neither a component (.wasm) nor a flow project directory",
            target.display()
        );
    }
    Ok(target.to_path_buf())
}

/// The flow to run: `wanted`, or the component's only flow.
fn pick_flow(component: &FlowComponent, wanted: Option<&str>) -> anyhow::Result<String> {
    let names: Vec<&str> = component
        .info()
        .flows
        .iter()
        .map(|f| f.name.as_str())
        .collect();
    choose_flow(&names, wanted)
}

fn choose_flow(names: &[&str], wanted: Option<&str>) -> anyhow::Result<String> {
    let available = || {
        if names.is_empty() {
            "none".to_string()
        } else {
            names.join(", ")
        }
    };
    match wanted {
        Some(name) if names.contains(&name) => Ok(name.to_string()),
        Some(name) => bail!(
            "the component has no flow named '{name}'; available flows: {}",
            available()
        ),
        None => match names {
            [one] => Ok(one.to_string()),
            [] => bail!("the component exports no flows"),
            _ => bail!(
                "the component has several flows; pick one with --flow: {}",
                available()
            ),
        },
    }
}

/// The run's parameters: `--params` (a JSON object), then each `--param
/// key=value` (the value parsed as JSON if it parses, else a string).
pub fn parse_params(params: Option<&str>, pairs: &[String]) -> anyhow::Result<serde_json::Value> {
    let mut object = match params {
        None => serde_json::Map::new(),
        Some(text) => match serde_json::from_str(text).context("--params is not valid JSON")? {
            serde_json::Value::Object(map) => map,
            other => bail!("--params must be a JSON object, not {other}"),
        },
    };
    for pair in pairs {
        let Some((key, value)) = pair.split_once('=') else {
            bail!("--param {pair:?} is not of the form key=value");
        };
        let key = key.trim();
        if key.is_empty() {
            bail!("--param {pair:?} has an empty key");
        }
        let value = serde_json::from_str(value)
            .unwrap_or_else(|_| serde_json::Value::String(value.to_string()));
        object.insert(key.to_string(), value);
    }
    Ok(serde_json::Value::Object(object))
}

/// The values of the granted secrets that exist, for redacting output.
async fn secret_values(store: &weft_store::SqliteStore, names: &[String]) -> Vec<String> {
    let mut values = Vec::new();
    for name in names {
        match store.read_secret(name).await {
            Ok(Some(value)) => values.push(value),
            Ok(None) => {}
            Err(e) => tracing::warn!("reading secret {name}: {e}"),
        }
    }
    values
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn params_merge_json_and_pairs() {
        let pairs = [
            "n=5",
            "name=world",
            "flag=true",
            "list=[1,2]",
            "quoted=\"7\"",
            "eq=a=b",
        ]
        .map(String::from);
        let got = parse_params(Some(r#"{"n": 1, "keep": null}"#), &pairs).unwrap();
        assert_eq!(
            got,
            json!({"n": 5, "keep": null, "name": "world", "flag": true, "list": [1, 2], "quoted": "7", "eq": "a=b"})
        );
        assert_eq!(parse_params(None, &[]).unwrap(), json!({}));
    }

    #[test]
    fn bad_params_are_refused() {
        assert!(parse_params(Some("[1]"), &[]).is_err());
        assert!(parse_params(Some("{"), &[]).is_err());
        assert!(parse_params(None, &["novalue".into()]).is_err());
        assert!(parse_params(None, &["=1".into()]).is_err());
    }

    #[test]
    fn limit_flags_default_to_run_limits_default() {
        use clap::Parser as _;

        #[derive(clap::Parser)]
        struct Wrapper {
            #[command(flatten)]
            args: RunArgs,
        }
        let parsed = Wrapper::parse_from(["weft", "x.wasm"]);
        assert_eq!(parsed.args.limits.run_limits(), RunLimits::default());
        let parsed = Wrapper::parse_from([
            "weft",
            "x.wasm",
            "--memory-mb",
            "64",
            "--fuel",
            "5",
            "--timeout-secs",
            "2",
        ]);
        let limits = parsed.args.limits.run_limits();
        assert_eq!(limits.memory_bytes, 64 << 20);
        assert_eq!(limits.fuel, Some(5));
        assert_eq!(limits.wall_time, Duration::from_secs(2));
        let parsed = Wrapper::parse_from([
            "weft",
            "x.wasm",
            "--allow-host",
            "api.example.com,http://127.0.0.1:*",
            "--secret-host",
            "TOKEN=api.example.com",
        ]);
        let network = parsed.args.limits.run_limits().network;
        assert_eq!(
            network.allowed_hosts,
            ["api.example.com,http://127.0.0.1:*"]
        );
        assert_eq!(network.secret_hosts["TOKEN"], ["api.example.com"]);
        assert!(Wrapper::try_parse_from(["weft", "x.wasm", "--allow-host", "a.com/path"]).is_err());
        assert!(Wrapper::try_parse_from(["weft", "x.wasm", "--secret-host", "TOKEN"]).is_err());
    }

    #[test]
    fn flows_are_chosen_or_listed() {
        assert_eq!(choose_flow(&["a"], None).unwrap(), "a");
        assert_eq!(choose_flow(&["a", "b"], Some("b")).unwrap(), "b");
        let err = choose_flow(&["a", "b"], Some("c")).unwrap_err().to_string();
        assert!(err.contains("available flows: a, b"), "{err}");
        assert!(
            choose_flow(&["a", "b"], None)
                .unwrap_err()
                .to_string()
                .contains("--flow")
        );
    }
}

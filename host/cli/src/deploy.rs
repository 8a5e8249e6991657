//! `weft deploy`, `weft deployment ls` and `weft deployment run`: deploy a
//! flow of a component to a server's work pool, list deployments, and
//! start (and watch) runs of one.

use std::collections::HashSet;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context as _, bail};
use clap::{Args, Subcommand};
use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;
use weft_core::{LogLevel, RunLimits, State, StateType};
use weft_worker::ApiClient;
use weft_worker::api::{ApiFlowRun, ApiState};

use crate::output::{self, Table};

/// Arguments of `weft deploy`.
#[derive(Debug, Args)]
pub struct DeployArgs {
    /// A component (`.wasm`) or a Rust flow crate's directory (built first).
    pub target: PathBuf,
    /// The flow to deploy.
    #[arg(long, value_name = "NAME")]
    pub flow: String,
    /// The deployment's name (unique per flow).
    #[arg(long, value_name = "DEPLOYMENT")]
    pub name: String,
    /// The work pool whose workers run it (it must exist).
    #[arg(long, value_name = "POOL")]
    pub pool: String,
    /// Default parameters, a JSON object.
    #[arg(long, value_name = "JSON")]
    pub params: Option<String>,
    /// Grant its runs the secret NAME. Repeatable.
    #[arg(long = "allow-secret", value_name = "NAME")]
    pub allow_secret: Vec<String>,
    /// Run it on this cron schedule (`*/5 * * * *`, five fields).
    #[arg(long, value_name = "EXPR", conflicts_with_all = ["interval", "rrule"])]
    pub cron: Option<String>,
    /// Run it every SECS seconds.
    #[arg(long, value_name = "SECS", conflicts_with = "rrule")]
    pub interval: Option<u64>,
    /// With --interval: count the slots from this time (RFC 3339; default
    /// now).
    #[arg(long, value_name = "RFC3339", requires = "interval")]
    pub anchor: Option<chrono::DateTime<chrono::FixedOffset>>,
    /// Run it on this RFC 5545 recurrence rule (`FREQ=WEEKLY;BYDAY=MO`,
    /// optionally with a `DTSTART:...` line).
    #[arg(long, value_name = "RULE")]
    pub rrule: Option<String>,
    /// The IANA time zone the schedule is read in (`Europe/Paris`; default
    /// UTC).
    #[arg(long, value_name = "ZONE")]
    pub timezone: Option<String>,
    /// A description.
    #[arg(long)]
    pub description: Option<String>,
    /// At most N runs of this deployment at once; more wait, Scheduled and
    /// named AwaitingConcurrencySlot, until one ends.
    #[arg(long, value_name = "N")]
    pub concurrency_limit: Option<u32>,
    /// The sandbox limits of its runs (the same flags as `weft run`).
    #[command(flatten)]
    pub limits: crate::run::LimitArgs,
}

/// The `weft deployment` commands.
#[derive(Debug, Subcommand)]
pub enum DeploymentCommand {
    /// List deployments.
    Ls,
    /// Create a flow run of a deployment.
    Run(RunArgs),
    /// List, pause and resume a deployment's schedules.
    #[command(subcommand)]
    Schedule(ScheduleCommand),
}

/// The `weft deployment schedule` commands.
#[derive(Debug, Subcommand)]
pub enum ScheduleCommand {
    /// List a deployment's schedules.
    Ls {
        /// `FLOW/DEPLOYMENT`.
        deployment: String,
    },
    /// Pause a deployment's schedule (all of them unless SCHEDULE_ID is
    /// given); its coming runs that have not started are deleted.
    Pause {
        /// `FLOW/DEPLOYMENT`.
        deployment: String,
        /// The schedule's id (see `weft deployment schedule ls`).
        schedule_id: Option<Uuid>,
    },
    /// Resume a paused schedule (all of them unless SCHEDULE_ID is given).
    Resume {
        /// `FLOW/DEPLOYMENT`.
        deployment: String,
        /// The schedule's id.
        schedule_id: Option<Uuid>,
    },
}

/// A deployment schedule as the server returns it.
#[derive(Debug, Deserialize)]
struct ScheduleOut {
    id: Uuid,
    #[serde(default)]
    active: bool,
    #[serde(default)]
    schedule: Value,
}

/// `cron */5 * * * * (Europe/Paris)`, `every 60s from ... (UTC)`, `rrule ...`.
fn describe_schedule(s: &Value) -> String {
    let tz = s.get("timezone").and_then(Value::as_str).unwrap_or("UTC");
    if let Some(c) = s.get("cron").and_then(Value::as_str) {
        format!("cron {c} ({tz})")
    } else if let Some(i) = s.get("interval").and_then(Value::as_f64) {
        match s.get("anchor_date").and_then(Value::as_str) {
            Some(a) => format!("every {i}s from {a} ({tz})"),
            None => format!("every {i}s ({tz})"),
        }
    } else if let Some(r) = s.get("rrule").and_then(Value::as_str) {
        format!("rrule {} ({tz})", r.replace('\n', " "))
    } else {
        s.to_string()
    }
}

async fn find_deployment(api: &ApiClient, spec: &str) -> anyhow::Result<DeploymentOut> {
    let Some((flow, name)) = spec.split_once('/') else {
        bail!("name the deployment as FLOW/DEPLOYMENT, not '{spec}'");
    };
    let deployment: Option<DeploymentOut> = api
        .get_opt(&["deployments", "name", flow, name])
        .await
        .context("cannot read the deployment")?;
    deployment.with_context(|| format!("no deployment '{flow}/{name}' (see `weft deployment ls`)"))
}

async fn schedule_command(api: &ApiClient, command: ScheduleCommand) -> anyhow::Result<ExitCode> {
    let (spec, target, active) = match command {
        ScheduleCommand::Ls { deployment } => {
            let d = find_deployment(api, &deployment).await?;
            let schedules: Vec<ScheduleOut> = api
                .get(&["deployments", &d.id.to_string(), "schedules"])
                .await
                .context("cannot read the schedules")?;
            let mut table = Table::new(&["ID", "SCHEDULE", "ACTIVE"]);
            for s in schedules {
                table.row(vec![
                    s.id.to_string(),
                    describe_schedule(&s.schedule),
                    if s.active { "yes" } else { "paused" }.to_string(),
                ]);
            }
            print!("{}", table.render());
            return Ok(ExitCode::SUCCESS);
        }
        ScheduleCommand::Pause {
            deployment,
            schedule_id,
        } => (deployment, schedule_id, false),
        ScheduleCommand::Resume {
            deployment,
            schedule_id,
        } => (deployment, schedule_id, true),
    };
    let d = find_deployment(api, &spec).await?;
    let schedules: Vec<ScheduleOut> = api
        .get(&["deployments", &d.id.to_string(), "schedules"])
        .await
        .context("cannot read the schedules")?;
    let chosen: Vec<&ScheduleOut> = match target {
        Some(id) => {
            let Some(s) = schedules.iter().find(|s| s.id == id) else {
                bail!(
                    "deployment '{spec}' has no schedule {id} (see `weft deployment schedule ls {spec}`)"
                );
            };
            vec![s]
        }
        None => schedules.iter().collect(),
    };
    if chosen.is_empty() {
        bail!("deployment '{spec}' has no schedules");
    }
    for s in chosen {
        api.call(
            reqwest::Method::PATCH,
            &[
                "deployments",
                &d.id.to_string(),
                "schedules",
                &s.id.to_string(),
            ],
            &json!({ "active": active }),
        )
        .await
        .with_context(|| format!("cannot change schedule {}", s.id))?;
        println!(
            "{} schedule {} of '{spec}' ({}).",
            if active { "Resumed" } else { "Paused" },
            s.id,
            describe_schedule(&s.schedule)
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Arguments of `weft deployment run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// `FLOW/DEPLOYMENT`.
    pub deployment: String,
    /// Parameters, a JSON object, over the deployment's defaults.
    #[arg(long, value_name = "JSON")]
    pub params: Option<String>,
    /// Follow the run until it ends, printing its states and logs; exit 0
    /// only if it completed.
    #[arg(long)]
    pub watch: bool,
}

/// What `POST /api/components` answers.
#[derive(Debug, Deserialize)]
pub struct ComponentOut {
    /// Its digest.
    pub digest: String,
    /// Its size.
    #[serde(default)]
    pub size: u64,
    /// The SDK that built it.
    #[serde(default)]
    pub sdk: String,
    /// Its flows.
    #[serde(default)]
    pub flows: Vec<Named>,
    /// Its tasks.
    #[serde(default)]
    pub tasks: Vec<Named>,
    /// When it was uploaded.
    #[serde(default)]
    pub created: Option<chrono::DateTime<chrono::Utc>>,
}

/// Anything with a name.
#[derive(Debug, Deserialize)]
pub struct Named {
    /// The name.
    pub name: String,
}

/// What the CLI reads of a deployment.
#[derive(Debug, Deserialize)]
struct DeploymentOut {
    id: Uuid,
    name: String,
    #[serde(default)]
    flow_name: String,
    #[serde(default)]
    component_digest: String,
    #[serde(default)]
    work_pool_name: Option<String>,
    #[serde(default)]
    schedules: Vec<Value>,
    #[serde(default)]
    paused: bool,
    #[serde(default)]
    limits: RunLimits,
}

/// Uploads a component file or crate directory; returns what the server
/// made of it.
pub async fn push_component(
    api: &ApiClient,
    target: &std::path::Path,
) -> anyhow::Result<ComponentOut> {
    let wasm = crate::run::component_path(target)?;
    let bytes = tokio::fs::read(&wasm)
        .await
        .with_context(|| format!("cannot read {}", wasm.display()))?;
    api.post_bytes(&["components"], bytes, "application/wasm")
        .await
        .with_context(|| format!("cannot upload {}", wasm.display()))
}

/// Fails with a clear message unless the pool exists.
pub async fn require_pool(api: &ApiClient, pool: &str) -> anyhow::Result<()> {
    let found: Option<Value> = api
        .get_opt(&["work_pools", pool])
        .await
        .context("cannot read work pools")?;
    if found.is_none() {
        bail!("work pool '{pool}' does not exist; create it with `weft work-pool create {pool}`");
    }
    Ok(())
}

/// Runs `weft deploy`.
pub async fn deploy(args: DeployArgs, api: ApiClient) -> anyhow::Result<ExitCode> {
    let params = crate::run::parse_params(args.params.as_deref(), &[])?;
    require_pool(&api, &args.pool).await?;
    let component = push_component(&api, &args.target).await?;
    let names: Vec<&str> = component.flows.iter().map(|f| f.name.as_str()).collect();
    let flow = if names.contains(&args.flow.as_str()) {
        args.flow.clone()
    } else if names.contains(&args.flow.replace('_', "-").as_str()) {
        args.flow.replace('_', "-")
    } else {
        bail!(
            "the component has no flow named '{}'; available flows: {}",
            args.flow,
            names.join(", ")
        );
    };
    let flow_record: Value = api
        .post(&["flows", ""], &json!({ "name": flow }))
        .await
        .context("cannot record the flow")?;
    let flow_id = flow_record
        .get("id")
        .and_then(Value::as_str)
        .context("the server's flow has no id")?;
    let mut schedules = Vec::new();
    let tz = &args.timezone;
    if let Some(cron) = &args.cron {
        schedules.push(json!({ "schedule": { "cron": cron, "timezone": tz }, "active": true }));
    }
    if let Some(secs) = args.interval {
        let anchor = args.anchor.map(|a| a.with_timezone(&chrono::Utc));
        schedules.push(json!({
            "schedule": { "interval": secs, "anchor_date": anchor, "timezone": tz },
            "active": true,
        }));
    }
    if let Some(rule) = &args.rrule {
        schedules.push(json!({ "schedule": { "rrule": rule, "timezone": tz }, "active": true }));
    }
    if schedules.is_empty() && tz.is_some() {
        bail!("--timezone needs a schedule: --cron, --interval or --rrule");
    }
    let body = json!({
        "name": args.name,
        "flow_id": flow_id,
        "component_digest": component.digest,
        "parameters": params,
        "work_pool_name": args.pool,
        "allowed_secrets": args.allow_secret,
        "schedules": schedules,
        "description": args.description,
        "concurrency_limit": args.concurrency_limit,
        "limits": args.limits.run_limits(),
    });
    let deployment: DeploymentOut = api
        .post(&["deployments", ""], &body)
        .await
        .context("cannot create the deployment")?;
    println!(
        "Deployment '{}/{}' ({}) of component {} is ready on work pool '{}'.",
        flow,
        deployment.name,
        deployment.id,
        short(&component.digest),
        args.pool
    );
    println!("Its runs' limits: {}.", describe_limits(&deployment.limits));
    for s in &deployment.schedules {
        if let Ok(s) = serde_json::from_value::<ScheduleOut>(s.clone()) {
            println!("Schedule {}: {}.", s.id, describe_schedule(&s.schedule));
        }
    }
    println!(
        "Run it with: weft deployment run '{}/{}'",
        flow, deployment.name
    );
    Ok(ExitCode::SUCCESS)
}

/// The first 12 characters of a digest.
pub fn short(digest: &str) -> &str {
    digest.get(..12).unwrap_or(digest)
}

/// Runs a `weft deployment` command.
pub async fn run(command: DeploymentCommand, api: ApiClient) -> anyhow::Result<ExitCode> {
    match command {
        DeploymentCommand::Ls => ls(&api).await,
        DeploymentCommand::Run(args) => run_deployment(&api, args).await,
        DeploymentCommand::Schedule(command) => schedule_command(&api, command).await,
    }
}

async fn ls(api: &ApiClient) -> anyhow::Result<ExitCode> {
    let deployments: Vec<DeploymentOut> = api
        .post(&["deployments", "filter"], &json!({}))
        .await
        .context("cannot list deployments")?;
    let mut table = Table::new(&["NAME", "POOL", "COMPONENT", "SCHEDULES", "LIMITS", "ID"]);
    for d in deployments {
        table.row(vec![
            format!(
                "{}/{}{}",
                d.flow_name,
                d.name,
                if d.paused { " (paused)" } else { "" }
            ),
            d.work_pool_name.unwrap_or_else(|| "-".into()),
            short(&d.component_digest).to_string(),
            d.schedules.len().to_string(),
            describe_limits(&d.limits),
            d.id.to_string(),
        ]);
    }
    print!("{}", table.render());
    Ok(ExitCode::SUCCESS)
}

/// The limits that differ from `RunLimits::default()`, in the flags' units
/// (`fuel=1000 memory-mb=64`), or `default`.
fn describe_limits(limits: &RunLimits) -> String {
    let d = RunLimits::default();
    let mut parts = Vec::new();
    if limits.fuel != d.fuel {
        parts.push(match limits.fuel {
            Some(fuel) => format!("fuel={fuel}"),
            None => "fuel=unlimited".to_string(),
        });
    }
    if limits.memory_bytes != d.memory_bytes {
        parts.push(if limits.memory_bytes.is_multiple_of(1 << 20) {
            format!("memory-mb={}", limits.memory_bytes >> 20)
        } else {
            format!("memory-bytes={}", limits.memory_bytes)
        });
    }
    if limits.wall_time != d.wall_time {
        parts.push(format!("timeout-secs={}", limits.wall_time.as_secs_f64()));
    }
    if limits.max_task_runs != d.max_task_runs {
        parts.push(format!("max-task-runs={}", limits.max_task_runs));
    }
    if limits.max_concurrent_tasks != d.max_concurrent_tasks {
        parts.push(format!(
            "max-concurrent-tasks={}",
            limits.max_concurrent_tasks
        ));
    }
    if limits.max_log_bytes != d.max_log_bytes {
        parts.push(format!("max-log-bytes={}", limits.max_log_bytes));
    }
    if limits.max_result_bytes != d.max_result_bytes {
        parts.push(format!("max-result-bytes={}", limits.max_result_bytes));
    }
    for host in &limits.network.allowed_hosts {
        parts.push(format!("allow-host={host}"));
    }
    for (name, hosts) in &limits.network.secret_hosts {
        for host in hosts {
            parts.push(format!("secret-host={name}={host}"));
        }
    }
    if limits.network.max_response_bytes != d.network.max_response_bytes {
        parts.push(format!(
            "max-response-bytes={}",
            limits.network.max_response_bytes
        ));
    }
    if parts.is_empty() {
        "default".to_string()
    } else {
        parts.join(" ")
    }
}

async fn run_deployment(api: &ApiClient, args: RunArgs) -> anyhow::Result<ExitCode> {
    let Some((flow, name)) = args.deployment.split_once('/') else {
        bail!(
            "name the deployment as FLOW/DEPLOYMENT, not '{}'",
            args.deployment
        );
    };
    let deployment: Option<DeploymentOut> = api
        .get_opt(&["deployments", "name", flow, name])
        .await
        .context("cannot read the deployment")?;
    let Some(deployment) = deployment else {
        bail!("no deployment '{flow}/{name}' (see `weft deployment ls`)");
    };
    let mut body = json!({});
    if let Some(params) = &args.params {
        body["parameters"] = crate::run::parse_params(Some(params), &[])?;
    }
    let run: ApiFlowRun = api
        .post(
            &["deployments", &deployment.id.to_string(), "create_flow_run"],
            &body,
        )
        .await
        .context("cannot create the flow run")?;
    println!(
        "Created flow run '{}' ({}) of '{flow}/{name}'.",
        run.name, run.id
    );
    if !args.watch {
        return Ok(ExitCode::SUCCESS);
    }
    let state = watch(api, run.id, &run.name).await?;
    if state.state_type == StateType::Completed {
        if let Some(data) = &state.data {
            println!("{data}");
        }
        Ok(ExitCode::SUCCESS)
    } else {
        eprintln!(
            "error: flow run '{}' finished in state {}",
            run.name,
            output::state_label(&state)
        );
        Ok(ExitCode::FAILURE)
    }
}

/// One log line as `POST /api/logs/filter` returns it.
#[derive(Debug, Deserialize)]
pub struct LogOut {
    /// Level, Python's numbers.
    pub level: u8,
    /// Text.
    pub message: String,
    /// When.
    pub timestamp: chrono::DateTime<chrono::Utc>,
    /// Its task run.
    #[serde(default)]
    pub task_run_id: Option<Uuid>,
}

/// Reads the logs of a run from `offset` on, a page at a time.
pub async fn logs_from(api: &ApiClient, run: Uuid, offset: usize) -> anyhow::Result<Vec<LogOut>> {
    const PAGE: usize = 200;
    let mut out = Vec::new();
    loop {
        let body = json!({
            "logs": { "flow_run_id": { "any_": [run] } },
            "sort": "TIMESTAMP_ASC",
            "limit": PAGE,
            "offset": offset + out.len(),
        });
        let page: Vec<LogOut> = api
            .post(&["logs", "filter"], &body)
            .await
            .context("cannot read the run's logs")?;
        let n = page.len();
        out.extend(page);
        if n < PAGE {
            return Ok(out);
        }
    }
}

/// Polls a run until it ends, printing each new state and log line;
/// returns the final state.
pub async fn watch(api: &ApiClient, id: Uuid, name: &str) -> anyhow::Result<State> {
    let subject = output::flow_subject(name);
    let mut seen_states: HashSet<Uuid> = HashSet::new();
    let mut logs_seen = 0usize;
    let mut delay = Duration::from_millis(50);
    loop {
        let run: ApiFlowRun = api
            .get(&["flow_runs", &id.to_string()])
            .await
            .context("cannot read the flow run")?;
        let states: Vec<ApiState> = api
            .get(&["flow_runs", &id.to_string(), "states"])
            .await
            .unwrap_or_default();
        for s in states {
            if seen_states.insert(s.id) {
                let s = State::from(s);
                let level = match s.state_type {
                    StateType::Failed | StateType::Crashed => LogLevel::Error,
                    StateType::Cancelled | StateType::Cancelling => LogLevel::Warning,
                    _ => LogLevel::Info,
                };
                let message = if s.is_terminal() {
                    format!("Finished in state {}", output::state_label(&s))
                } else {
                    format!("Entered state {}", output::state_label(&s))
                };
                println!(
                    "{}",
                    output::log_line(s.timestamp, level, &subject, &message)
                );
            }
        }
        let logs = logs_from(api, id, logs_seen).await?;
        logs_seen += logs.len();
        for l in logs {
            println!(
                "{}",
                output::log_line(
                    l.timestamp,
                    LogLevel::from_number(l.level),
                    &subject,
                    &l.message
                )
            );
        }
        let state = run.state.map(State::from).unwrap_or_else(State::pending);
        if state.is_terminal() {
            // Logs sent just before the terminal state are already stored.
            let logs = logs_from(api, id, logs_seen).await?;
            for l in logs {
                println!(
                    "{}",
                    output::log_line(
                        l.timestamp,
                        LogLevel::from_number(l.level),
                        &subject,
                        &l.message
                    )
                );
            }
            return Ok(state);
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_millis(500));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_are_described_by_what_differs_from_the_defaults() {
        assert_eq!(describe_limits(&RunLimits::default()), "default");
        let limits = RunLimits {
            fuel: Some(1000),
            memory_bytes: 64 << 20,
            wall_time: Duration::from_millis(1500),
            ..RunLimits::default()
        };
        assert_eq!(
            describe_limits(&limits),
            "fuel=1000 memory-mb=64 timeout-secs=1.5"
        );
        let limits = RunLimits {
            fuel: None,
            max_log_bytes: 10,
            ..RunLimits::default()
        };
        assert_eq!(describe_limits(&limits), "fuel=unlimited max-log-bytes=10");
    }
}

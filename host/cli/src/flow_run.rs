//! `weft flow-run`: lists flow runs, inspects one (fields, state history,
//! task runs, result) and prints its logs.

use std::collections::HashMap;
use std::process::ExitCode;

use anyhow::{Context as _, bail};
use clap::{Args, Subcommand};
use serde::Serialize;
use uuid::Uuid;
use weft_core::{FlowRun, State, StateType, TaskRun};
use weft_store::{FlowRunFilter, LogFilter, SqliteStore, Store as _, TaskRunFilter};

use crate::output::{self, Table};

/// The `weft flow-run` commands.
#[derive(Debug, Subcommand)]
pub enum FlowRunCommand {
    /// List flow runs, newest first.
    Ls(LsArgs),
    /// Show one flow run: its fields, state history, task runs and result.
    Inspect(InspectArgs),
    /// Print a flow run's logs.
    Logs(LogsArgs),
    /// Cancel a flow run (needs a server): a run no worker holds yet is
    /// cancelled at once, a running one is asked to stop (CANCELLING): its
    /// worker interrupts it and its running task runs, and the run ends
    /// Cancelled. Waits for that (up to `--wait-secs`) unless `--no-wait`.
    Cancel(CancelArgs),
}

/// Arguments of `weft flow-run cancel`.
#[derive(Debug, Args)]
pub struct CancelArgs {
    /// The run's id or its name.
    pub id: String,
    /// Return once the server accepted the cancellation, without waiting
    /// for the run to end.
    #[arg(long)]
    pub no_wait: bool,
    /// How long to wait for a running run to end Cancelled.
    #[arg(long, value_name = "SECS", default_value_t = 10.0)]
    pub wait_secs: f64,
}

/// Arguments of `weft flow-run ls`.
#[derive(Debug, Args)]
pub struct LsArgs {
    /// How many runs to list.
    #[arg(long, default_value_t = 20)]
    pub limit: u32,
    /// Only runs whose state has this type (COMPLETED, FAILED, RUNNING, ...).
    #[arg(long, value_name = "TYPE", value_parser = parse_state_type)]
    pub state: Option<StateType>,
}

/// Arguments of `weft flow-run inspect`.
#[derive(Debug, Args)]
pub struct InspectArgs {
    /// The run's id, a unique prefix of it, or its name.
    pub id: String,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `weft flow-run logs`.
#[derive(Debug, Args)]
pub struct LogsArgs {
    /// The run's id, a unique prefix of it, or its name.
    pub id: String,
}

/// Runs a `weft flow-run` command: against the server when an API URL is
/// given, else against the embedded store.
pub async fn run(command: FlowRunCommand, api_url: Option<&str>) -> anyhow::Result<ExitCode> {
    if let Some(url) = api_url {
        let api = crate::remote::client(url)?;
        return crate::flow_run_remote::run(command, api).await;
    }
    let store = crate::home::open_store().await?;
    let result = match command {
        FlowRunCommand::Ls(args) => ls(&store, args).await,
        FlowRunCommand::Inspect(args) => inspect(&store, args).await,
        FlowRunCommand::Logs(args) => logs(&store, args).await,
        FlowRunCommand::Cancel(_) => Err(anyhow::anyhow!(
            "`weft flow-run cancel` needs a server: give --api-url URL or set WEFT_API_URL (a local `weft run` is cancelled with Ctrl-C)"
        )),
    };
    if let Err(e) = store.close().await {
        tracing::warn!("closing the store: {e}");
    }
    result.map(|()| ExitCode::SUCCESS)
}

/// Parses a state type, in any case (`completed`, `COMPLETED`).
pub(crate) fn parse_state_type(s: &str) -> Result<StateType, String> {
    StateType::parse(&s.to_ascii_uppercase()).ok_or_else(|| {
        "expected one of SCHEDULED, PENDING, RUNNING, COMPLETED, FAILED, CANCELLED, CRASHED, PAUSED, CANCELLING"
            .to_string()
    })
}

async fn ls(store: &SqliteStore, args: LsArgs) -> anyhow::Result<()> {
    let filter = FlowRunFilter {
        state_types: args.state.map(|t| vec![t]),
        limit: Some(args.limit),
        ..Default::default()
    };
    let runs = store
        .list_flow_runs(&filter)
        .await
        .context("cannot list flow runs")?;
    let mut table = Table::new(&["ID", "NAME", "FLOW", "STATE", "START", "DURATION"]);
    for run in &runs {
        table.row(vec![
            run.id.to_string(),
            run.name.clone(),
            run.flow_name.clone(),
            run.state.name.clone(),
            output::opt_datetime(run.start_time),
            output::run_duration(run.start_time, run.end_time),
        ]);
    }
    print!("{}", table.render());
    Ok(())
}

/// Finds a flow run by id, unique id prefix or name.
async fn find(store: &SqliteStore, id: &str) -> anyhow::Result<FlowRun> {
    match store
        .find_flow_run(id)
        .await
        .with_context(|| format!("cannot look up flow run '{id}'"))?
    {
        Some(run) => Ok(run),
        None => bail!("no flow run matches '{id}' (give its id, a unique id prefix or its name)"),
    }
}

/// A task run with its state history, as `inspect --json` prints it.
#[derive(Debug, Serialize)]
pub(crate) struct TaskRunView {
    #[serde(flatten)]
    pub(crate) run: TaskRun,
    pub(crate) states: Vec<State>,
}

/// What `inspect --json` prints.
#[derive(Debug, Serialize)]
pub(crate) struct InspectView {
    pub(crate) flow_run: FlowRun,
    pub(crate) states: Vec<State>,
    pub(crate) task_runs: Vec<TaskRunView>,
    pub(crate) result: Option<serde_json::Value>,
}

async fn inspect(store: &SqliteStore, args: InspectArgs) -> anyhow::Result<()> {
    let run = find(store, &args.id).await?;
    let states = store
        .read_flow_run_states(run.id)
        .await
        .context("cannot read the run's states")?;
    let task_runs = store
        .list_task_runs(&TaskRunFilter {
            flow_run_ids: Some(vec![run.id]),
            ..Default::default()
        })
        .await
        .context("cannot read the run's task runs")?;
    let mut views = Vec::with_capacity(task_runs.len());
    for task in task_runs {
        let states = store
            .read_task_run_states(task.id)
            .await
            .context("cannot read task run states")?;
        views.push(TaskRunView { run: task, states });
    }
    let result = (run.state.state_type == StateType::Completed)
        .then(|| run.state.data.clone().unwrap_or_default());
    let view = InspectView {
        flow_run: run,
        states,
        task_runs: views,
        result,
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&view)?);
    } else {
        print!("{}", render_inspect(&view));
    }
    Ok(())
}

pub(crate) fn render_inspect(view: &InspectView) -> String {
    let run = &view.flow_run;
    let or_dash = |s: String| if s.is_empty() { "-".to_string() } else { s };
    let mut fields = Table::new(&["Flow run", &run.name]);
    let rows = [
        ("ID", run.id.to_string()),
        ("Flow", run.flow_name.clone()),
        ("Component", run.component_digest.clone()),
        (
            "Deployment",
            or_dash(run.deployment_name.clone().unwrap_or_default()),
        ),
        ("Parameters", run.parameters.to_string()),
        ("Tags", or_dash(run.tags.join(", "))),
        ("State", output::state_label(&run.state)),
        ("Run count", run.run_count.to_string()),
        ("Created", output::datetime(run.created)),
        ("Started", output::opt_datetime(run.start_time)),
        ("Ended", output::opt_datetime(run.end_time)),
        (
            "Duration",
            output::run_duration(run.start_time, run.end_time),
        ),
    ];
    for (k, v) in rows {
        fields.row(vec![k.to_string(), v]);
    }
    if let Some(result) = &view.result {
        fields.row(vec!["Result".into(), result.to_string()]);
    }
    let mut out = fields.render();

    out.push_str("\nStates\n");
    let mut states = Table::new(&["  TIME", "STATE"]);
    for state in &view.states {
        states.row(vec![
            format!("  {}", output::datetime_ms(state.timestamp)),
            output::state_label(state),
        ]);
    }
    out.push_str(&states.render());

    out.push_str(&format!("\nTask runs ({})\n", view.task_runs.len()));
    if !view.task_runs.is_empty() {
        let mut tasks = Table::new(&["  NAME", "STATE", "DURATION", "HISTORY"]);
        for task in &view.task_runs {
            let history: Vec<&str> = task.states.iter().map(|s| s.name.as_str()).collect();
            tasks.row(vec![
                format!("  {}", task.run.name),
                output::state_label(&task.run.state),
                output::run_duration(task.run.start_time, task.run.end_time),
                history.join(" > "),
            ]);
        }
        out.push_str(&tasks.render());
    }
    out
}

async fn logs(store: &SqliteStore, args: LogsArgs) -> anyhow::Result<()> {
    let run = find(store, &args.id).await?;
    let tasks = store
        .list_task_runs(&TaskRunFilter {
            flow_run_ids: Some(vec![run.id]),
            ..Default::default()
        })
        .await
        .context("cannot read the run's task runs")?;
    let names: HashMap<Uuid, String> = tasks.into_iter().map(|t| (t.id, t.name)).collect();
    let entries = store
        .read_logs(&LogFilter {
            flow_run_ids: Some(vec![run.id]),
            ..Default::default()
        })
        .await
        .context("cannot read the run's logs")?;
    let mut out = String::new();
    for entry in entries {
        let subject = match entry.task_run_id.and_then(|id| names.get(&id)) {
            Some(name) => output::task_subject(name),
            None => output::flow_subject(&run.name),
        };
        out.push_str(&output::log_line(
            entry.timestamp,
            entry.level,
            &subject,
            &entry.message,
        ));
        out.push('\n');
    }
    print!("{out}");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_types_parse_in_any_case() {
        assert_eq!(parse_state_type("completed"), Ok(StateType::Completed));
        assert_eq!(parse_state_type("FAILED"), Ok(StateType::Failed));
        assert!(parse_state_type("done").is_err());
    }
}

//! `weft flow-run ls|inspect|logs|cancel` against a server's API.

use std::collections::HashMap;
use std::process::ExitCode;

use anyhow::{Context as _, bail};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;
use weft_core::{FlowRun, LogLevel, State, StateType, TaskRun};
use weft_worker::ApiClient;
use weft_worker::api::{ApiFlowRun, ApiState, Orchestration};

use crate::deploy::logs_from;
use crate::flow_run::{
    CancelArgs, FlowRunCommand, InspectArgs, InspectView, LogsArgs, LsArgs, TaskRunView,
    render_inspect,
};
use crate::output::{self, Table};

/// Runs a `weft flow-run` command against the API.
pub async fn run(command: FlowRunCommand, api: ApiClient) -> anyhow::Result<ExitCode> {
    match command {
        FlowRunCommand::Ls(args) => ls(&api, args).await?,
        FlowRunCommand::Inspect(args) => inspect(&api, args).await?,
        FlowRunCommand::Logs(args) => logs(&api, args).await?,
        FlowRunCommand::Cancel(args) => cancel(&api, args).await?,
    }
    Ok(ExitCode::SUCCESS)
}

async fn ls(api: &ApiClient, args: LsArgs) -> anyhow::Result<()> {
    let mut body = json!({ "sort": "EXPECTED_START_TIME_DESC", "limit": args.limit });
    if let Some(t) = args.state {
        body["flow_runs"] = json!({ "state": { "type": { "any_": [t.as_str()] } } });
    }
    let runs: Vec<ApiFlowRun> = api
        .post(&["flow_runs", "filter"], &body)
        .await
        .context("cannot list flow runs")?;
    let mut table = Table::new(&["ID", "NAME", "FLOW", "STATE", "START", "DURATION"]);
    for run in runs {
        let run = run.into_flow_run();
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

/// Finds a run by id or name.
async fn find(api: &ApiClient, id: &str) -> anyhow::Result<FlowRun> {
    if let Ok(uuid) = Uuid::parse_str(id) {
        match api
            .read_flow_run(uuid)
            .await
            .context("cannot read the flow run")?
        {
            Some(run) => return Ok(run.into_flow_run()),
            None => bail!("no flow run {id}"),
        }
    }
    let body = json!({ "flow_runs": { "name": { "any_": [id] } }, "limit": 2 });
    let mut runs: Vec<ApiFlowRun> = api
        .post(&["flow_runs", "filter"], &body)
        .await
        .context("cannot look up the flow run")?;
    match runs.len() {
        0 => bail!("no flow run matches '{id}' (give its id or its name)"),
        1 => Ok(runs.remove(0).into_flow_run()),
        _ => bail!("several flow runs are named '{id}': give its id"),
    }
}

/// A task run as the API returns it.
#[derive(Debug, Deserialize)]
struct ApiTaskRun {
    id: Uuid,
    flow_run_id: Uuid,
    #[serde(default)]
    parent_task_run_id: Option<Uuid>,
    task_key: String,
    #[serde(default)]
    dynamic_key: serde_json::Value,
    #[serde(default)]
    name: String,
    #[serde(default)]
    input: serde_json::Value,
    #[serde(default)]
    cache_key: Option<String>,
    #[serde(default)]
    cache_expiration: Option<DateTime<Utc>>,
    #[serde(default)]
    tags: Vec<String>,
    #[serde(default)]
    run_count: u32,
    #[serde(default)]
    created: Option<DateTime<Utc>>,
    #[serde(default)]
    start_time: Option<DateTime<Utc>>,
    #[serde(default)]
    end_time: Option<DateTime<Utc>>,
    state: Option<ApiState>,
}

impl ApiTaskRun {
    fn into_task_run(self) -> TaskRun {
        let dynamic_key = match &self.dynamic_key {
            serde_json::Value::Number(n) => n.as_u64().unwrap_or(0),
            serde_json::Value::String(s) => s.parse().unwrap_or(0),
            _ => 0,
        };
        TaskRun {
            id: self.id,
            flow_run_id: self.flow_run_id,
            parent_task_run_id: self.parent_task_run_id,
            task_key: self.task_key,
            dynamic_key,
            name: self.name,
            input: self.input,
            cache_key: self.cache_key,
            cache_expiration: self.cache_expiration,
            tags: self.tags,
            run_count: self.run_count,
            created: self.created.unwrap_or_else(Utc::now),
            start_time: self.start_time,
            end_time: self.end_time,
            state: self.state.map(State::from).unwrap_or_else(State::pending),
        }
    }
}

/// Every task run of a flow run, a page at a time.
async fn task_runs(api: &ApiClient, flow_run: Uuid) -> anyhow::Result<Vec<TaskRun>> {
    const PAGE: usize = 200;
    let mut out = Vec::new();
    loop {
        let body = json!({
            "task_runs": { "flow_run_id": { "any_": [flow_run] } },
            "sort": "EXPECTED_START_TIME_ASC",
            "limit": PAGE,
            "offset": out.len(),
        });
        let page: Vec<ApiTaskRun> = api
            .post(&["task_runs", "filter"], &body)
            .await
            .context("cannot read the run's task runs")?;
        let n = page.len();
        out.extend(page.into_iter().map(ApiTaskRun::into_task_run));
        if n < PAGE {
            return Ok(out);
        }
    }
}

async fn inspect(api: &ApiClient, args: InspectArgs) -> anyhow::Result<()> {
    let run = find(api, &args.id).await?;
    let states: Vec<ApiState> = api
        .get(&["flow_runs", &run.id.to_string(), "states"])
        .await
        .context("cannot read the run's states")?;
    let states: Vec<State> = states.into_iter().map(State::from).collect();
    let task_runs = task_runs(api, run.id)
        .await?
        .into_iter()
        .map(|t| TaskRunView {
            // The API keeps task runs' current states; their histories are
            // in the embedded store only.
            states: vec![t.state.clone()],
            run: t,
        })
        .collect();
    let result = (run.state.state_type == StateType::Completed)
        .then(|| run.state.data.clone().unwrap_or_default());
    let view = InspectView {
        flow_run: run,
        states,
        task_runs,
        result,
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&view)?);
    } else {
        print!("{}", render_inspect(&view));
    }
    Ok(())
}

async fn logs(api: &ApiClient, args: LogsArgs) -> anyhow::Result<()> {
    let run = find(api, &args.id).await?;
    let names: HashMap<Uuid, String> = task_runs(api, run.id)
        .await?
        .into_iter()
        .map(|t| (t.id, t.name))
        .collect();
    let mut out = String::new();
    for entry in logs_from(api, run.id, 0).await? {
        let subject = match entry.task_run_id.and_then(|id| names.get(&id)) {
            Some(name) => output::task_subject(name),
            None => output::flow_subject(&run.name),
        };
        out.push_str(&output::log_line(
            entry.timestamp,
            LogLevel::from_number(entry.level),
            &subject,
            &entry.message,
        ));
        out.push('\n');
    }
    print!("{out}");
    Ok(())
}

async fn propose(api: &ApiClient, id: Uuid, state: State) -> anyhow::Result<Orchestration> {
    api.set_flow_run_state(id, &state, false)
        .await
        .with_context(|| format!("cannot set the run's state to {}", state.name))
}

async fn cancel(api: &ApiClient, args: CancelArgs) -> anyhow::Result<()> {
    let run = find(api, &args.id).await?;
    if run.state.is_terminal() {
        bail!(
            "flow run '{}' has already ended ({})",
            run.name,
            output::state_label(&run.state)
        );
    }
    let o = propose(
        api,
        run.id,
        State::of_type(StateType::Cancelling).with_message("cancelled from the CLI"),
    )
    .await?;
    let now = o.state.clone().map(State::from);
    // A run no worker holds is cancelled at once (the server answers with
    // the Cancelled state it entered, as Prefect does).
    if now
        .as_ref()
        .is_some_and(|s| s.state_type == StateType::Cancelled)
    {
        println!("Flow run '{}' cancelled.", run.name);
        return Ok(());
    }
    if !o.accepted() {
        bail!(
            "the server refused to cancel '{}': {}",
            run.name,
            o.reason()
        );
    }
    if args.no_wait {
        println!(
            "Flow run '{}' is being cancelled: its worker stops it (CANCELLING).",
            run.name
        );
        return Ok(());
    }
    let started = std::time::Instant::now();
    let deadline = started + crate::worker::secs(args.wait_secs);
    loop {
        let current = api
            .read_flow_run(run.id)
            .await
            .context("cannot read the flow run")?
            .map(ApiFlowRun::into_flow_run);
        if let Some(current) = current
            && current.state.is_terminal()
        {
            println!(
                "Flow run '{}' {} after {:.2} s.",
                run.name,
                if current.state.state_type == StateType::Cancelled {
                    "cancelled".to_string()
                } else {
                    format!("ended {}", output::state_label(&current.state))
                },
                started.elapsed().as_secs_f64()
            );
            return Ok(());
        }
        if std::time::Instant::now() >= deadline {
            println!(
                "Flow run '{}' is being cancelled (CANCELLING): its worker has not confirmed yet.",
                run.name
            );
            return Ok(());
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

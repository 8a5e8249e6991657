//! The printing recorder: a [`RunRecorder`] decorator that forwards every
//! call to the store and prints, as it happens, what `weft run` shows: the
//! flow run's state changes, task runs' state changes and the run's log
//! lines, as Prefect-style lines on stdout.
//!
//! Big fan-outs stay readable: routine task lines (Running, Completed,
//! Cached, and task logs below WARNING) are printed for the first
//! [`ROUTINE_TASK_LINES`] task runs only, and a summary replaces the rest.
//! Everything else (retries, failures, crashes, the flow's own states and
//! logs) is always printed. On a terminal, a progress bar of task runs
//! (finished / created) is drawn below the lines.

use std::collections::{BTreeMap, HashMap};
use std::io::Write as _;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use async_trait::async_trait;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use uuid::Uuid;
use weft_core::{
    CacheEntry, FlowRun, LogEntry, LogLevel, RecordError, RunRecorder, SlotGrant, SlotRequest,
    State, StateType, TaskRun,
};

use crate::output::{self, Redactor};

/// Task runs whose routine lines are printed; later ones are summarised.
pub const ROUTINE_TASK_LINES: u64 = 20;

/// How the printing recorder shows the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Display {
    /// Print nothing (`--quiet`).
    Quiet,
    /// Print lines.
    Lines,
    /// Print lines, with a progress bar of task runs below them (stdout is
    /// a terminal).
    LinesAndBar,
}

/// A [`RunRecorder`] that forwards to another one and prints what happens.
pub struct PrintingRecorder {
    inner: Arc<dyn RunRecorder>,
    display: Display,
    redactor: Redactor,
    state: Mutex<PrintState>,
}

/// What the printer remembers about the run.
#[derive(Default)]
struct PrintState {
    flow_run_name: String,
    flow_name: String,
    tasks: HashMap<Uuid, TaskEntry>,
    created: u64,
    finished: u64,
    /// Final state names of finished task runs, for the summary.
    outcomes: BTreeMap<String, u64>,
    /// Task runs with routine lines not shown.
    hidden_tasks: u64,
    bar: Option<ProgressBar>,
    /// Set once the run has finished printing; later calls print nothing.
    closed: bool,
}

struct TaskEntry {
    name: String,
    /// Whether its routine lines are printed.
    verbose: bool,
    finished: bool,
}

impl PrintingRecorder {
    /// A printing recorder for `flow_run`, forwarding to `inner`; secret
    /// values known to `redactor` are masked in everything printed.
    pub fn new(
        inner: Arc<dyn RunRecorder>,
        flow_run: &FlowRun,
        display: Display,
        redactor: Redactor,
    ) -> PrintingRecorder {
        PrintingRecorder {
            inner,
            display,
            redactor,
            state: Mutex::new(PrintState {
                flow_run_name: flow_run.name.clone(),
                flow_name: flow_run.flow_name.clone(),
                ..Default::default()
            }),
        }
    }

    /// Stops printing and removes the progress bar, so what the caller
    /// prints next (the result) is the last line.
    pub fn finish(&self) {
        let mut state = self.lock();
        state.closed = true;
        if let Some(bar) = state.bar.take() {
            bar.finish_and_clear();
        }
    }

    fn lock(&self) -> MutexGuard<'_, PrintState> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Prints one line, above the progress bar when there is one.
    fn print(&self, state: &PrintState, line: &str) {
        let line = self.redactor.redact(line);
        match &state.bar {
            Some(bar) => bar.println(line),
            None => {
                let mut out = std::io::stdout().lock();
                let _ = writeln!(out, "{line}");
            }
        }
    }

    fn on_flow_state(&self, state: &State) {
        if self.display == Display::Quiet {
            return;
        }
        let mut ps = self.lock();
        if ps.closed {
            return;
        }
        let subject = output::flow_subject(&ps.flow_run_name);
        let (level, message) = match (state.state_type, state.name.as_str()) {
            (StateType::Pending, _) => return,
            (StateType::Running, "Running") => (
                LogLevel::Info,
                format!(
                    "Beginning flow run '{}' for flow '{}'",
                    ps.flow_run_name, ps.flow_name
                ),
            ),
            _ if state.is_terminal() => {
                if ps.hidden_tasks > 0 {
                    let summary = summary(&ps);
                    self.print(
                        &ps,
                        &output::log_line(state.timestamp, LogLevel::Info, &subject, &summary),
                    );
                }
                if let Some(bar) = ps.bar.take() {
                    bar.finish_and_clear();
                }
                (
                    level_of(state),
                    format!("Finished in state {}", output::state_label(state)),
                )
            }
            _ => (
                level_of(state),
                format!("Entered state {}", output::state_label(state)),
            ),
        };
        self.print(
            &ps,
            &output::log_line(state.timestamp, level, &subject, &message),
        );
    }

    fn on_task_created(&self, run: &TaskRun) {
        if self.display == Display::Quiet {
            return;
        }
        let mut ps = self.lock();
        if ps.closed {
            return;
        }
        let verbose = ps.created < ROUTINE_TASK_LINES;
        if !verbose {
            ps.hidden_tasks += 1;
        }
        ps.created += 1;
        ps.tasks.insert(
            run.id,
            TaskEntry {
                name: run.name.clone(),
                verbose,
                finished: false,
            },
        );
        if self.display == Display::LinesAndBar {
            let created = ps.created;
            ps.bar.get_or_insert_with(new_bar).set_length(created);
        }
    }

    fn on_task_state(&self, task_run_id: Uuid, state: &State) {
        if self.display == Display::Quiet {
            return;
        }
        let mut ps = self.lock();
        if ps.closed {
            return;
        }
        let Some(entry) = ps.tasks.get_mut(&task_run_id) else {
            return;
        };
        let name = entry.name.clone();
        let verbose = entry.verbose;
        let newly_finished = state.is_terminal() && !entry.finished;
        if newly_finished {
            entry.finished = true;
        }
        if newly_finished {
            ps.finished += 1;
            *ps.outcomes.entry(state.name.clone()).or_default() += 1;
            if let Some(bar) = &ps.bar {
                bar.set_position(ps.finished);
            }
        }
        let routine = matches!(
            state.name.as_str(),
            "Pending" | "Running" | "Completed" | "Cached"
        );
        if state.state_type == StateType::Pending || (routine && !verbose) {
            return;
        }
        let message = if state.is_terminal() {
            format!("Finished in state {}", output::state_label(state))
        } else {
            format!("Entered state {}", output::state_label(state))
        };
        let line = output::log_line(
            state.timestamp,
            level_of(state),
            &output::task_subject(&name),
            &message,
        );
        self.print(&ps, &line);
    }

    fn on_logs(&self, entries: &[LogEntry]) {
        if self.display == Display::Quiet {
            return;
        }
        let ps = self.lock();
        if ps.closed {
            return;
        }
        for entry in entries {
            let subject = match entry.task_run_id.and_then(|id| ps.tasks.get(&id)) {
                Some(task) if !task.verbose && entry.level < LogLevel::Warning => continue,
                Some(task) => output::task_subject(&task.name),
                None => output::flow_subject(&ps.flow_run_name),
            };
            self.print(
                &ps,
                &output::log_line(entry.timestamp, entry.level, &subject, &entry.message),
            );
        }
    }
}

/// The level a state change is printed at.
fn level_of(state: &State) -> LogLevel {
    match state.state_type {
        StateType::Failed | StateType::Crashed => LogLevel::Error,
        StateType::Cancelled | StateType::Cancelling => LogLevel::Warning,
        _ if state.name == "AwaitingRetry" => LogLevel::Warning,
        _ => LogLevel::Info,
    }
}

/// `1000 task runs: 998 Completed, 2 Cached (routine lines of 980 task runs not shown)`.
fn summary(ps: &PrintState) -> String {
    let outcomes: Vec<String> = ps
        .outcomes
        .iter()
        .map(|(name, n)| format!("{n} {name}"))
        .collect();
    let unfinished = ps.created - ps.finished;
    let mut text = format!("{} task runs: {}", ps.created, outcomes.join(", "));
    if unfinished > 0 {
        text.push_str(&format!(", {unfinished} unfinished"));
    }
    text.push_str(&format!(
        " (routine lines of {} task runs not shown; `weft flow-run inspect {}` lists them all)",
        ps.hidden_tasks, ps.flow_run_name
    ));
    text
}

fn new_bar() -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stdout());
    if let Ok(style) = ProgressStyle::with_template(
        "{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} task runs finished",
    ) {
        bar.set_style(style);
    }
    bar.enable_steady_tick(Duration::from_millis(100));
    bar
}

#[async_trait]
impl RunRecorder for PrintingRecorder {
    async fn create_flow_run(&self, run: &FlowRun) -> Result<(), RecordError> {
        self.inner.create_flow_run(run).await
    }

    async fn set_flow_run_state(
        &self,
        flow_run_id: Uuid,
        state: &State,
    ) -> Result<(), RecordError> {
        self.inner.set_flow_run_state(flow_run_id, state).await?;
        self.on_flow_state(state);
        Ok(())
    }

    async fn create_task_run(&self, run: &TaskRun) -> Result<(), RecordError> {
        self.inner.create_task_run(run).await?;
        self.on_task_created(run);
        Ok(())
    }

    async fn set_task_run_state(
        &self,
        task_run_id: Uuid,
        state: &State,
    ) -> Result<(), RecordError> {
        self.inner.set_task_run_state(task_run_id, state).await?;
        self.on_task_state(task_run_id, state);
        Ok(())
    }

    async fn write_logs(&self, entries: Vec<LogEntry>) -> Result<(), RecordError> {
        self.on_logs(&entries);
        self.inner.write_logs(entries).await
    }

    async fn read_cache(&self, key: &str) -> Result<Option<CacheEntry>, RecordError> {
        self.inner.read_cache(key).await
    }

    async fn write_cache(&self, entry: &CacheEntry) -> Result<(), RecordError> {
        self.inner.write_cache(entry).await
    }

    async fn read_secret(&self, name: &str) -> Result<Option<String>, RecordError> {
        self.inner.read_secret(name).await
    }

    async fn flush(&self) -> Result<(), RecordError> {
        self.inner.flush().await
    }

    async fn acquire_slots(&self, request: &SlotRequest) -> Result<SlotGrant, RecordError> {
        self.inner.acquire_slots(request).await
    }

    async fn renew_lease(&self, lease_id: Uuid, lease: Duration) -> Result<bool, RecordError> {
        self.inner.renew_lease(lease_id, lease).await
    }

    async fn release_lease(&self, lease_id: Uuid) -> Result<(), RecordError> {
        self.inner.release_lease(lease_id).await
    }
}

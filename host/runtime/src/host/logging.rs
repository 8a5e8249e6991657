//! `weft:flow/logging`: guest log lines go to the run's log.

use weft_core::LogLevel;

use crate::bindings::weft::flow::logging::{Host, Level};
use crate::state::HostState;

fn level(l: Level) -> LogLevel {
    match l {
        Level::Debug => LogLevel::Debug,
        Level::Info => LogLevel::Info,
        Level::Warning => LogLevel::Warning,
        Level::Error => LogLevel::Error,
        Level::Critical => LogLevel::Critical,
    }
}

impl Host for HostState {
    async fn log(&mut self, l: Level, message: String) -> wasmtime::Result<()> {
        // While describing there is no run: the line is dropped.
        let Some(run) = &self.run else { return Ok(()) };
        let logger = if self.scope.task_run_id.is_some() {
            "weft.task_runs"
        } else {
            "weft.flow_runs"
        };
        run.log(logger, level(l), &message, self.scope.task_run_id)
            .map_err(wasmtime::Error::new)
    }
}

//! Why an instance stopped: limits, traps and guest failures, classified
//! into the reasons recorded on runs.

use std::fmt;

use wasmtime::Trap;

/// A sandbox limit that ended an instance or a run.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LimitExceeded {
    /// The run used up its fuel.
    #[error("fuel limit exceeded: the run used all of its {limit} units of fuel")]
    Fuel {
        /// The run's fuel budget.
        limit: u64,
    },
    /// An instance asked for more memory than allowed.
    #[error("memory limit exceeded: an instance asked for more than {} MiB (memories and tables together)", limit >> 20)]
    Memory {
        /// Bytes allowed per instance.
        limit: u64,
    },
    /// The run exceeded its wall-clock limit.
    #[error("wall-clock limit exceeded: the run took longer than {secs:.3} s")]
    WallTime {
        /// Seconds allowed.
        secs: f64,
    },
    /// The run created more task runs than allowed.
    #[error("task run limit exceeded: the run tried to create more than {limit} task runs")]
    TaskRuns {
        /// Task runs allowed.
        limit: u64,
    },
    /// The run wrote more log text than allowed.
    #[error("log limit exceeded: the run wrote more than {limit} bytes of logs")]
    LogBytes {
        /// Bytes allowed.
        limit: u64,
    },
    /// A result (or task input) was larger than allowed.
    #[error("result size limit exceeded: {what} is {size} bytes, more than the {limit} allowed")]
    ResultSize {
        /// What was too large ("the flow's result", "a task input", ...).
        what: String,
        /// Its size.
        size: u64,
        /// Bytes allowed.
        limit: u64,
    },
}

impl LimitExceeded {
    /// Whether hitting this limit ends the whole flow run (and not only the
    /// task run that hit it).
    pub fn is_run_wide(&self) -> bool {
        !matches!(
            self,
            LimitExceeded::Memory { .. } | LimitExceeded::ResultSize { .. }
        )
    }
}

/// The run was cancelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the run was cancelled")]
pub struct Cancelled;

/// How one call into an instance (a flow body or a task attempt) ended.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum CallOutcome {
    /// Returned a result (JSON text).
    Returned(String),
    /// The guest returned an error, or panicked: user code failed.
    Failed(String),
    /// The attempt exceeded its own timeout.
    TimedOut(String),
    /// The run was cancelled.
    Cancelled,
    /// A trap or a limit ended the instance.
    Crashed(Crash),
}

/// Why an instance crashed.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Crash {
    /// A sandbox limit.
    Limit(LimitExceeded),
    /// Anything else (a trap, an instantiation failure, a host error).
    Other(String),
}

impl fmt::Display for Crash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Crash::Limit(l) => write!(f, "{l}"),
            Crash::Other(s) => f.write_str(s),
        }
    }
}

/// The attempt's own timeout, raised from the epoch callback.
#[derive(Debug, Clone, Copy, PartialEq, thiserror::Error)]
#[error("timed out after {ms} ms")]
pub(crate) struct AttemptTimedOut {
    /// The timeout, in milliseconds.
    pub ms: u64,
}

/// Classifies an error returned by wasmtime for a call into a guest.
/// `panic` is the message the guest reported through `failure.panicked`
/// before trapping, if any.
pub(crate) fn classify(
    error: &wasmtime::Error,
    panic: Option<String>,
    fuel_limit: Option<u64>,
) -> CallOutcome {
    if let Some(limit) = error.downcast_ref::<LimitExceeded>() {
        return CallOutcome::Crashed(Crash::Limit(limit.clone()));
    }
    if error.downcast_ref::<Cancelled>().is_some() {
        return CallOutcome::Cancelled;
    }
    if let Some(t) = error.downcast_ref::<AttemptTimedOut>() {
        return CallOutcome::TimedOut(t.to_string());
    }
    if let Some(message) = panic {
        return CallOutcome::Failed(message);
    }
    let reason = match error.downcast_ref::<Trap>() {
        Some(Trap::StackOverflow) => "stack overflow: the guest recursed too deeply".to_string(),
        Some(Trap::MemoryOutOfBounds) => {
            "out-of-bounds memory access (a crash in the guest, often a stack overflow of its shadow stack)".to_string()
        }
        Some(Trap::UnreachableCodeReached) => {
            "the guest aborted (wasm `unreachable` reached)".to_string()
        }
        Some(Trap::OutOfFuel) => {
            let limit = fuel_limit.unwrap_or(0);
            return CallOutcome::Crashed(Crash::Limit(LimitExceeded::Fuel { limit }));
        }
        Some(Trap::Interrupt) => "interrupted".to_string(),
        Some(trap) => format!("the guest trapped: {trap}"),
        None => format!("{error:#}"),
    };
    CallOutcome::Crashed(Crash::Other(reason))
}

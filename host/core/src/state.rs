//! Prefect's state model: state types, named states and transition rules.
//!
//! A state has a *type* (what the orchestrator reasons about) and a *name*
//! (what people read): `Cached` is a `COMPLETED` state, `AwaitingRetry` a
//! `SCHEDULED` one, `Retrying` a `RUNNING` one, `TimedOut` a `FAILED` one,
//! exactly as in Prefect 3.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The type of a state, with Prefect's names and JSON spelling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum StateType {
    /// Waiting for its start time (also Late and AwaitingRetry).
    Scheduled,
    /// Claimed or created, about to run.
    Pending,
    /// Executing (also Retrying).
    Running,
    /// Finished with a result (also Cached).
    Completed,
    /// Finished with an error raised by user code (also TimedOut).
    Failed,
    /// Cancelled by a person or the system.
    Cancelled,
    /// Ended by something outside user code: a trap, a sandbox limit, a lost worker.
    Crashed,
    /// Paused, waiting to be resumed.
    Paused,
    /// Cancellation requested, not yet confirmed.
    Cancelling,
}

impl StateType {
    /// Every state type, in Prefect's order.
    pub const ALL: [StateType; 9] = [
        StateType::Scheduled,
        StateType::Pending,
        StateType::Running,
        StateType::Completed,
        StateType::Failed,
        StateType::Cancelled,
        StateType::Crashed,
        StateType::Paused,
        StateType::Cancelling,
    ];

    /// Whether a run in this state has ended for good.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            StateType::Completed | StateType::Failed | StateType::Cancelled | StateType::Crashed
        )
    }

    /// The SCREAMING_SNAKE_CASE name Prefect uses in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            StateType::Scheduled => "SCHEDULED",
            StateType::Pending => "PENDING",
            StateType::Running => "RUNNING",
            StateType::Completed => "COMPLETED",
            StateType::Failed => "FAILED",
            StateType::Cancelled => "CANCELLED",
            StateType::Crashed => "CRASHED",
            StateType::Paused => "PAUSED",
            StateType::Cancelling => "CANCELLING",
        }
    }

    /// Parses Prefect's JSON name (`"COMPLETED"`).
    pub fn parse(s: &str) -> Option<StateType> {
        Some(match s {
            "SCHEDULED" => StateType::Scheduled,
            "PENDING" => StateType::Pending,
            "RUNNING" => StateType::Running,
            "COMPLETED" => StateType::Completed,
            "FAILED" => StateType::Failed,
            "CANCELLED" => StateType::Cancelled,
            "CRASHED" => StateType::Crashed,
            "PAUSED" => StateType::Paused,
            "CANCELLING" => StateType::Cancelling,
            _ => return None,
        })
    }

    /// The default display name of a state of this type (`"Completed"`).
    pub fn default_name(self) -> &'static str {
        match self {
            StateType::Scheduled => "Scheduled",
            StateType::Pending => "Pending",
            StateType::Running => "Running",
            StateType::Completed => "Completed",
            StateType::Failed => "Failed",
            StateType::Cancelled => "Cancelled",
            StateType::Crashed => "Crashed",
            StateType::Paused => "Paused",
            StateType::Cancelling => "Cancelling",
        }
    }
}

impl std::fmt::Display for StateType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One state of a flow run or task run, as recorded in its history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct State {
    /// Unique id of this state record.
    pub id: Uuid,
    /// The state's type.
    #[serde(rename = "type")]
    pub state_type: StateType,
    /// The state's display name (`"Cached"`, `"AwaitingRetry"`, ...).
    pub name: String,
    /// When the run entered this state.
    pub timestamp: DateTime<Utc>,
    /// A human explanation (the error of a failure, the limit of a crash).
    pub message: Option<String>,
    /// The result, as JSON, on a completed state.
    pub data: Option<serde_json::Value>,
    /// When a scheduled state (Scheduled, AwaitingRetry) is due.
    pub scheduled_time: Option<DateTime<Utc>>,
}

impl State {
    /// A state of `state_type` named `name`, entered now.
    pub fn new(state_type: StateType, name: impl Into<String>) -> State {
        State {
            id: Uuid::now_v7(),
            state_type,
            name: name.into(),
            timestamp: Utc::now(),
            message: None,
            data: None,
            scheduled_time: None,
        }
    }

    /// A state with its type's default name.
    pub fn of_type(state_type: StateType) -> State {
        State::new(state_type, state_type.default_name())
    }

    /// Sets the message.
    pub fn with_message(mut self, message: impl Into<String>) -> State {
        self.message = Some(message.into());
        self
    }

    /// `Scheduled`, due at `at`.
    pub fn scheduled(at: DateTime<Utc>) -> State {
        let mut s = State::of_type(StateType::Scheduled);
        s.scheduled_time = Some(at);
        s
    }
    /// `Pending`.
    pub fn pending() -> State {
        State::of_type(StateType::Pending)
    }
    /// `Running`.
    pub fn running() -> State {
        State::of_type(StateType::Running)
    }
    /// `Retrying`: a RUNNING state for an attempt after the first.
    pub fn retrying() -> State {
        State::new(StateType::Running, "Retrying")
    }
    /// `AwaitingRetry`: a SCHEDULED state, due at `at`.
    pub fn awaiting_retry(at: DateTime<Utc>, message: impl Into<String>) -> State {
        let mut s = State::new(StateType::Scheduled, "AwaitingRetry").with_message(message);
        s.scheduled_time = Some(at);
        s
    }
    /// `Completed` with the result `data`.
    pub fn completed(data: serde_json::Value) -> State {
        let mut s = State::of_type(StateType::Completed);
        s.data = Some(data);
        s
    }
    /// `Cached`: a COMPLETED state whose result came from the cache.
    pub fn cached(data: serde_json::Value) -> State {
        let mut s = State::new(StateType::Completed, "Cached");
        s.data = Some(data);
        s
    }
    /// `Failed` with the error `message`.
    pub fn failed(message: impl Into<String>) -> State {
        State::of_type(StateType::Failed).with_message(message)
    }
    /// `TimedOut`: a FAILED state for an attempt over its time limit.
    pub fn timed_out(message: impl Into<String>) -> State {
        State::new(StateType::Failed, "TimedOut").with_message(message)
    }
    /// `Crashed` with the reason `message`.
    pub fn crashed(message: impl Into<String>) -> State {
        State::of_type(StateType::Crashed).with_message(message)
    }
    /// `Cancelled` with the reason `message`.
    pub fn cancelled(message: impl Into<String>) -> State {
        State::of_type(StateType::Cancelled).with_message(message)
    }

    /// Whether this state ends the run.
    pub fn is_terminal(&self) -> bool {
        self.state_type.is_terminal()
    }
}

/// Why the orchestrator refused a proposed state.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    /// The run has ended and the proposed state would restart it.
    #[error("run is already {from} and cannot move to {to} unless forced")]
    FromTerminal {
        /// The current state's type.
        from: StateType,
        /// The proposed state's type.
        to: StateType,
    },
    /// The run is being cancelled: it may only become Cancelled.
    #[error("run is CANCELLING and can only become CANCELLED unless forced (proposed {to})")]
    FromCancelling {
        /// The proposed state's type.
        to: StateType,
    },
}

/// Checks Prefect's core orchestration rules for a proposed transition:
/// a run in a terminal state does not move again unless `force` is set
/// (a transition from a terminal state to the same terminal type is also
/// refused, so a finished run's result cannot be overwritten), and a run
/// that is CANCELLING can only become CANCELLED (Prefect's
/// `HandleCancellingStateTransitions`), so a worker that starts or
/// finishes a run being cancelled cannot undo the cancellation.
pub fn check_transition(
    from: Option<StateType>,
    to: StateType,
    force: bool,
) -> Result<(), TransitionError> {
    match from {
        _ if force => Ok(()),
        Some(from) if from.is_terminal() => Err(TransitionError::FromTerminal { from, to }),
        Some(StateType::Cancelling)
            if !matches!(to, StateType::Cancelled | StateType::Cancelling) =>
        {
            Err(TransitionError::FromCancelling { to })
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn named_states_keep_prefect_types() {
        assert_eq!(
            State::cached(serde_json::Value::Null).state_type,
            StateType::Completed
        );
        assert_eq!(State::retrying().state_type, StateType::Running);
        assert_eq!(State::timed_out("x").state_type, StateType::Failed);
        assert_eq!(
            State::awaiting_retry(Utc::now(), "x").state_type,
            StateType::Scheduled
        );
    }

    #[test]
    fn terminal_states_do_not_restart_unless_forced() {
        assert!(check_transition(Some(StateType::Completed), StateType::Running, false).is_err());
        assert!(check_transition(Some(StateType::Completed), StateType::Running, true).is_ok());
        assert!(check_transition(Some(StateType::Running), StateType::Completed, false).is_ok());
        assert!(check_transition(None, StateType::Pending, false).is_ok());
    }

    #[test]
    fn cancelling_runs_only_become_cancelled_unless_forced() {
        let from = Some(StateType::Cancelling);
        for to in [
            StateType::Running,
            StateType::Pending,
            StateType::Scheduled,
            StateType::Completed,
            StateType::Failed,
        ] {
            assert!(check_transition(from, to, false).is_err(), "{to}");
            assert!(check_transition(from, to, true).is_ok(), "{to}");
        }
        assert!(check_transition(from, StateType::Cancelled, false).is_ok());
        assert!(check_transition(Some(StateType::Running), StateType::Cancelling, false).is_ok());
    }

    #[test]
    fn state_type_json_matches_prefect() {
        assert_eq!(
            serde_json::to_string(&StateType::Completed).unwrap(),
            "\"COMPLETED\""
        );
        for t in [
            StateType::Scheduled,
            StateType::Crashed,
            StateType::Cancelling,
        ] {
            assert_eq!(StateType::parse(t.as_str()), Some(t));
        }
    }
}

//! Task calls: [`TaskFuture`], [`TaskError`] and helpers to wait for many.

use std::fmt;
use std::marker::PhantomData;

use serde::de::DeserializeOwned;

use crate::bindings::{tasks, types};

/// Why a task call did not produce a result (WIT `task-error`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TaskError {
    /// The task returned an error or panicked; the message says why.
    Failed(String),
    /// The run was cancelled before the task finished.
    Cancelled,
    /// The task exceeded its timeout on its last attempt.
    TimedOut,
    /// The task's instance trapped or hit a sandbox limit; the message names
    /// the reason.
    Crashed(String),
}

impl fmt::Display for TaskError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TaskError::Failed(message) => f.write_str(message),
            TaskError::Cancelled => f.write_str("cancelled"),
            TaskError::TimedOut => f.write_str("timed out"),
            TaskError::Crashed(reason) => write!(f, "crashed: {reason}"),
        }
    }
}

impl std::error::Error for TaskError {}

impl From<types::TaskError> for TaskError {
    fn from(error: types::TaskError) -> Self {
        match error {
            types::TaskError::Failed(message) => TaskError::Failed(message),
            types::TaskError::Cancelled => TaskError::Cancelled,
            types::TaskError::TimedOut => TaskError::TimedOut,
            types::TaskError::Crashed(reason) => TaskError::Crashed(reason),
        }
    }
}

/// Decodes a task's JSON result into `T`.
pub(crate) fn decode<T: DeserializeOwned>(task: &str, json: &str) -> Result<T, TaskError> {
    serde_json::from_str(json).map_err(|error| {
        TaskError::Failed(format!(
            "cannot decode the result of task '{task}': {error}"
        ))
    })
}

/// A task run started with `NAME::submit(...)`, running concurrently with
/// the caller. Wait for it with [`result`](Self::result) or
/// [`try_result`](Self::try_result).
pub struct TaskFuture<T> {
    inner: tasks::TaskFuture,
    task: String,
    _result: PhantomData<fn() -> T>,
}

impl<T> fmt::Debug for TaskFuture<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskFuture")
            .field("task", &self.task)
            .finish_non_exhaustive()
    }
}

impl<T: DeserializeOwned> TaskFuture<T> {
    pub(crate) fn new(inner: tasks::TaskFuture, task: &str) -> Self {
        TaskFuture {
            inner,
            task: task.to_owned(),
            _result: PhantomData,
        }
    }

    /// Waits for the task run and returns its result, or the reason it
    /// produced none.
    pub fn try_result(self) -> Result<T, TaskError> {
        let json = self.inner.get().map_err(TaskError::from)?;
        decode(&self.task, &json)
    }

    /// Waits for the task run and returns its result; panics (failing the
    /// flow, like an exception in Prefect) if the task run ended in error.
    #[track_caller]
    pub fn result(self) -> T {
        let task = self.task.clone();
        crate::__private::expect_task(&task, self.try_result())
    }

    /// The id of the task run (a UUID).
    pub fn task_run_id(&self) -> String {
        self.inner.task_run_id()
    }

    /// The name of the task this future runs.
    pub fn task_name(&self) -> &str {
        &self.task
    }
}

/// Waits for every future (all of them, even after an error) and returns
/// their results in order, or the first error.
pub fn wait_all<T: DeserializeOwned>(
    futures: impl IntoIterator<Item = TaskFuture<T>>,
) -> Result<Vec<T>, TaskError> {
    let mut results = Vec::new();
    let mut first_error = None;
    for future in futures {
        match future.try_result() {
            Ok(value) if first_error.is_none() => results.push(value),
            Ok(_) => {}
            Err(error) => {
                first_error.get_or_insert(error);
            }
        }
    }
    match first_error {
        None => Ok(results),
        Some(error) => Err(error),
    }
}

/// `.results()` and `.try_results()` on a `Vec` of [`TaskFuture`]s.
pub trait FutureVecExt<T> {
    /// Waits for all futures and returns their results in order, or the
    /// first error (see [`wait_all`]).
    fn try_results(self) -> Result<Vec<T>, TaskError>;
    /// Waits for all futures and returns their results in order; panics if
    /// any task run ended in error.
    fn results(self) -> Vec<T>;
}

impl<T: DeserializeOwned> FutureVecExt<T> for Vec<TaskFuture<T>> {
    fn try_results(self) -> Result<Vec<T>, TaskError> {
        wait_all(self)
    }

    #[track_caller]
    fn results(self) -> Vec<T> {
        let task = self
            .first()
            .map(|future| future.task.clone())
            .unwrap_or_default();
        crate::__private::expect_task(&task, wait_all(self))
    }
}

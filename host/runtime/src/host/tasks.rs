//! `weft:flow/tasks`: `submit` and `run` create task runs and hand them to
//! the task runner; a `task-future` waits for one.

use serde_json::Value;
use tokio::sync::oneshot;
use uuid::Uuid;
use wasmtime::component::Resource;
use weft_core::TaskRun;

use crate::bindings::weft::flow::tasks::{Host, HostTaskFuture};
use crate::bindings::{TaskError, TaskOptions};
use crate::host::run_of;
use crate::outcome::{Cancelled, LimitExceeded};
use crate::state::HostState;
use crate::task_runner;

/// The guest's handle on a submitted task run.
pub struct TaskFutureHandle {
    task_run_id: Option<Uuid>,
    result: FutureResult,
}

enum FutureResult {
    Waiting(oneshot::Receiver<Result<String, TaskError>>),
    Done(Result<String, TaskError>),
}

impl TaskFutureHandle {
    fn done(result: Result<String, TaskError>) -> TaskFutureHandle {
        TaskFutureHandle {
            task_run_id: None,
            result: FutureResult::Done(result),
        }
    }

    async fn wait(&mut self) -> Result<String, TaskError> {
        if let FutureResult::Waiting(rx) = &mut self.result {
            let r = rx
                .await
                .unwrap_or_else(|_| Err(TaskError::Crashed("the task run was lost".into())));
            self.result = FutureResult::Done(r);
        }
        match &self.result {
            FutureResult::Done(r) => r.clone(),
            FutureResult::Waiting(_) => Err(TaskError::Crashed("the task run was lost".into())),
        }
    }
}

impl HostState {
    /// Creates a task run and starts it in the background.
    async fn submit_task(
        &mut self,
        task: String,
        input: String,
        options: TaskOptions,
    ) -> wasmtime::Result<TaskFutureHandle> {
        let run = run_of(self)?;
        if let Some(reason) = run.stop_reason() {
            return Err(reason.to_error());
        }
        if self.scope.ended.is_cancelled() {
            return Err(wasmtime::Error::new(Cancelled));
        }
        if !run.component.info().tasks.iter().any(|t| t.name == task) {
            let known: Vec<_> = run
                .component
                .info()
                .tasks
                .iter()
                .map(|t| t.name.as_str())
                .collect();
            return Ok(TaskFutureHandle::done(Err(TaskError::Failed(format!(
                "the component has no task named '{task}' (it has: {})",
                known.join(", ")
            )))));
        }
        let limit = run.limits.max_result_bytes;
        if input.len() as u64 > limit {
            return Err(wasmtime::Error::new(LimitExceeded::ResultSize {
                what: format!("the input of task '{task}'"),
                size: input.len() as u64,
                limit,
            }));
        }
        let input_value: Value = match serde_json::from_str(&input) {
            Ok(v) => v,
            Err(e) => {
                return Ok(TaskFutureHandle::done(Err(TaskError::Failed(format!(
                    "the input of task '{task}' is not valid JSON: {e}"
                )))));
            }
        };
        let dynamic_key = run.next_task_run(&task).map_err(wasmtime::Error::new)?;
        let call_key = run.call_key(&task, &input);
        let mut task_run = TaskRun::new(
            run.flow_run_id(),
            self.scope.task_run_id,
            &task,
            dynamic_key,
            input_value,
        );
        task_run.tags = options.tags.clone();
        let task_run_id = task_run.id;
        let nested = self.scope.task_run_id.is_some();
        let call = task_runner::Call {
            key: call_key,
            ended: self.scope.ended.clone(),
            nested,
        };
        let rx = task_runner::start(run, task_run, input, options, call).await?;
        Ok(TaskFutureHandle {
            task_run_id: Some(task_run_id),
            result: FutureResult::Waiting(rx),
        })
    }
}

impl Host for HostState {
    async fn submit(
        &mut self,
        task: String,
        input: String,
        options: TaskOptions,
    ) -> wasmtime::Result<Resource<TaskFutureHandle>> {
        let handle = self.submit_task(task, input, options).await?;
        Ok(self.table.push(handle)?)
    }

    async fn run(
        &mut self,
        task: String,
        input: String,
        options: TaskOptions,
    ) -> wasmtime::Result<Result<String, TaskError>> {
        let mut handle = self.submit_task(task, input, options).await?;
        Ok(handle.wait().await)
    }
}

impl HostTaskFuture for HostState {
    async fn get(
        &mut self,
        this: Resource<TaskFutureHandle>,
    ) -> wasmtime::Result<Result<String, TaskError>> {
        let handle = self.table.get_mut(&this)?;
        Ok(handle.wait().await)
    }

    async fn task_run_id(&mut self, this: Resource<TaskFutureHandle>) -> wasmtime::Result<String> {
        let handle = self.table.get(&this)?;
        Ok(handle
            .task_run_id
            .map(|id| id.to_string())
            .unwrap_or_default())
    }

    async fn drop(&mut self, this: Resource<TaskFutureHandle>) -> wasmtime::Result<()> {
        // Dropping the handle does not cancel the task run: it finishes in
        // the background and the flow run waits for it before it ends.
        self.table.delete(this)?;
        Ok(())
    }
}

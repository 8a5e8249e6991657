//! `weft:flow/context`: facts about the current run.

use crate::bindings::weft::flow::context::Host;
use crate::host::run_of;
use crate::state::HostState;

impl Host for HostState {
    async fn flow_run_id(&mut self) -> wasmtime::Result<String> {
        Ok(run_of(self)?.flow_run.id.to_string())
    }
    async fn flow_run_name(&mut self) -> wasmtime::Result<String> {
        Ok(run_of(self)?.flow_run.name.clone())
    }
    async fn flow_name(&mut self) -> wasmtime::Result<String> {
        Ok(run_of(self)?.flow_run.flow_name.clone())
    }
    async fn task_run_id(&mut self) -> wasmtime::Result<Option<String>> {
        Ok(self.scope.task_run_id.map(|id| id.to_string()))
    }
    async fn task_name(&mut self) -> wasmtime::Result<Option<String>> {
        Ok(self.scope.task_name.clone())
    }
    async fn attempt(&mut self) -> wasmtime::Result<u32> {
        Ok(self.scope.attempt)
    }
    async fn deployment_name(&mut self) -> wasmtime::Result<Option<String>> {
        Ok(run_of(self)?.flow_run.deployment_name.clone())
    }
    async fn parameters(&mut self) -> wasmtime::Result<String> {
        Ok(run_of(self)?.parameters_json.clone())
    }
}

//! A harness for runtime tests: one shared runtime per test binary, a fresh
//! SQLite store per test, and helpers to run a flow and read what it
//! recorded.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use serde_json::Value;
use tempfile::TempDir;
use weft_core::{FlowRun, LogEntry, RunRecorder, State, TaskRun};
use weft_runtime::{EngineConfig, FlowComponent, RunOptions, Runtime};
use weft_store::{LogFilter, SecretKey, SqliteStore, Store, TaskRunFilter};

static CACHE_DIR: OnceLock<TempDir> = OnceLock::new();

/// The runtime shared by the tests of this binary.
pub fn runtime() -> &'static Runtime {
    static RUNTIME: OnceLock<Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        let dir = CACHE_DIR.get_or_init(|| tempfile::tempdir().expect("tempdir"));
        Runtime::new(EngineConfig {
            cache_dir: Some(dir.path().to_path_buf()),
            max_instances: 200,
            ..EngineConfig::default()
        })
        .expect("runtime starts")
    })
}

/// The test guest component.
pub fn testguest() -> PathBuf {
    weft_test_support::test_guest_wasm("testguest")
}

/// An example component.
pub fn example(name: &str) -> PathBuf {
    weft_test_support::example_wasm(name)
}

/// A fresh store in a temporary directory.
pub struct Harness {
    pub store: SqliteStore,
    pub dir: TempDir,
}

impl Harness {
    pub async fn new() -> Harness {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = SqliteStore::open(&dir.path().join("weft.db"), SecretKey::generate())
            .await
            .expect("store opens");
        Harness { store, dir }
    }

    pub async fn load(&self, path: &Path) -> Arc<FlowComponent> {
        runtime().load_file(path).await.expect("component loads")
    }

    /// Runs `flow` of the component at `path` and returns its final state
    /// and the recorded run.
    pub async fn run_with(
        &self,
        path: &Path,
        flow: &str,
        params: Value,
        options: RunOptions,
    ) -> (State, FlowRun) {
        let component = self.load(path).await;
        let run = FlowRun::new(flow, component.digest(), params);
        self.store
            .create_flow_run(&run)
            .await
            .expect("flow run recorded");
        let state = runtime()
            .run_flow(&component, &run, options, Arc::new(self.store.clone()))
            .await;
        self.store.flush().await.expect("flush");
        let recorded = self
            .store
            .read_flow_run(run.id)
            .await
            .expect("read")
            .expect("run exists");
        (state, recorded)
    }

    pub async fn run(&self, path: &Path, flow: &str, params: Value) -> (State, FlowRun) {
        self.run_with(path, flow, params, RunOptions::default())
            .await
    }

    pub async fn task_runs(&self, flow_run: &FlowRun) -> Vec<TaskRun> {
        self.store
            .list_task_runs(&TaskRunFilter {
                flow_run_ids: Some(vec![flow_run.id]),
                ..Default::default()
            })
            .await
            .expect("task runs")
    }

    pub async fn state_names(&self, task_run: &TaskRun) -> Vec<String> {
        self.store
            .read_task_run_states(task_run.id)
            .await
            .expect("states")
            .into_iter()
            .map(|s| s.name)
            .collect()
    }

    pub async fn flow_state_names(&self, flow_run: &FlowRun) -> Vec<String> {
        self.store
            .read_flow_run_states(flow_run.id)
            .await
            .expect("states")
            .into_iter()
            .map(|s| s.name)
            .collect()
    }

    pub async fn logs(&self, flow_run: &FlowRun) -> Vec<LogEntry> {
        self.store
            .read_logs(&LogFilter {
                flow_run_ids: Some(vec![flow_run.id]),
                ..Default::default()
            })
            .await
            .expect("logs")
    }
}

/// Asserts the `ok` flow still completes with 42: the host survived.
pub async fn assert_host_still_runs(h: &Harness) {
    let (state, _) = h.run(&testguest(), "ok", serde_json::json!({})).await;
    assert_eq!(
        state.name, "Completed",
        "ok flow after a hostile one: {state:?}"
    );
    assert_eq!(state.data, Some(serde_json::json!(42)));
}

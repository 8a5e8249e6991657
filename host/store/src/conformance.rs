//! The backend-independent conformance suite: what every [`Store`] must do.
//!
//! Each function takes a fresh, empty store and panics on a violation. A
//! backend runs the whole suite with [`store_conformance_tests!`]
//! (crate::store_conformance_tests), given an async function returning the
//! store and a guard kept alive for the test (a temporary directory, a
//! database to drop):
//!
//! ```ignore
//! async fn setup() -> (SqliteStore, tempfile::TempDir) { ... }
//! weft_store::store_conformance_tests!(setup);
//! ```
//!
//! Available with the `conformance` feature.

use std::collections::HashSet;

use chrono::{DateTime, Duration, Utc};
use serde_json::json;
use uuid::Uuid;
use weft_core::{CacheEntry, FlowRun, LogEntry, LogLevel, RecordError, State, StateType, TaskRun};

use weft_core::{ComponentRecord, Deployment, Schedule, Variable, WorkPool, Worker};

mod events;
mod limits;
pub use events::*;
pub use limits::*;

use crate::{
    DeploymentFilter, FlowRunFilter, FlowRunSort, LogFilter, Store, StoreError, TaskRunFilter,
    TaskRunSort, Transition, VariableFilter, WorkPoolFilter,
};

/// Generates one `#[tokio::test]` per conformance check, each calling
/// `$setup().await` for a fresh `(store, guard)`.
#[macro_export]
macro_rules! store_conformance_tests {
    ($setup:path) => {
        $crate::store_conformance_tests!(@each $setup;
            create_and_read_flow_run,
            unknown_ids_read_as_none,
            state_history_in_order,
            run_count_and_times,
            result_on_completed_state,
            replayed_state_is_ignored,
            task_runs_by_flow_run,
            logs_filter,
            flow_run_filters,
            flow_run_filter_negations_and_nulls,
            flow_run_sort_and_page,
            flow_run_deployment_pool_and_expected_start,
            find_by_id_prefix_and_name,
            flows_upserted_by_name,
            cache_upsert_and_expired,
            secrets_roundtrip,
            queued_writes_visible_after_flush,
            concurrent_writers,
            bad_write_fails_alone,
            flows_upsert_and_read,
            delete_flow_run_cascades,
            checked_state_changes,
            checked_state_sequences,
            deployments_crud_and_filter,
            work_pools_crud,
            variables_crud_and_filter,
            components_content_addressed,
            claim_release_heartbeat_lost,
            forced_retry_is_claimed_again,
            workers_heartbeat_list_delete,
            concurrent_claimers_never_share_a_run,
            scheduled_runs_once_per_slot,
            concurrent_schedulers_create_each_slot_once,
            scheduled_runs_deleted_and_recreated,
            late_runs_marked,
            concurrency_limits_crud,
            concurrency_leases,
            concurrency_waiters_wake_on_release,
            concurrent_requests_never_exceed_a_limit,
            claims_respect_flow_run_limits,
            claims_respect_pool_limits,
            events_written_and_filtered,
            definitions_crud,
        );
    };
    (@each $setup:path; $($name:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let (store, _guard) = $setup().await;
                $crate::conformance::$name(&store).await;
            }
        )*
    };
}

fn base_time() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2025-01-01T00:00:00Z")
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|_| Utc::now())
}

/// A flow run of `flow` named `name`, created `secs` after a fixed time.
pub fn flow_run(flow: &str, name: &str, secs: i64) -> FlowRun {
    let mut run = FlowRun::new(
        flow,
        "digest",
        json!({"x": 1, "nested": {"list": [1, 2.5, "three"]}}),
    );
    run.name = name.to_string();
    run.created = base_time() + Duration::seconds(secs);
    run.state.timestamp = run.created;
    run
}

fn at(state: State, t: DateTime<Utc>) -> State {
    State {
        timestamp: t,
        ..state
    }
}

async fn flush<S: Store>(store: &S) {
    store.flush().await.expect("flush");
}

/// A created run reads back as written, its state as the first history row.
pub async fn create_and_read_flow_run<S: Store>(store: &S) {
    let mut run = flow_run("etl", "crimson-fox", 0);
    run.deployment_name = Some("nightly".into());
    run.tags = vec!["a".into(), "b".into()];
    run.state.message = Some("created by a test".into());
    store.create_flow_run(&run).await.expect("create");
    flush(store).await;
    let read = store
        .read_flow_run(run.id)
        .await
        .expect("read")
        .expect("present");
    assert_eq!(read, run);
    let history = store.read_flow_run_states(run.id).await.expect("history");
    assert_eq!(history, vec![run.state.clone()]);
}

/// Unknown ids read as `None` or empty, not as errors.
pub async fn unknown_ids_read_as_none<S: Store>(store: &S) {
    let id = Uuid::now_v7();
    assert!(store.read_flow_run(id).await.expect("read").is_none());
    assert!(store.read_task_run(id).await.expect("read").is_none());
    assert!(
        store
            .read_flow_run_states(id)
            .await
            .expect("read")
            .is_empty()
    );
    assert!(
        store
            .find_flow_run("no-such-run")
            .await
            .expect("find")
            .is_none()
    );
    assert!(store.find_flow_run("").await.expect("find").is_none());
    assert!(store.read_cache("nope").await.expect("cache").is_none());
    assert!(store.read_secret("nope").await.expect("secret").is_none());
    assert!(!store.delete_secret("nope").await.expect("delete"));
    assert!(!store.delete_cache("nope").await.expect("delete"));
}

/// History is kept in the order states were set, whatever their timestamps.
pub async fn state_history_in_order<S: Store>(store: &S) {
    let run = flow_run("f", "r", 0);
    store.create_flow_run(&run).await.expect("create");
    let t = run.created;
    // Timestamps deliberately out of order: history follows call order.
    let states = vec![
        at(State::running(), t + Duration::seconds(5)),
        at(State::awaiting_retry(t, "retry"), t + Duration::seconds(1)),
        at(State::retrying(), t + Duration::seconds(3)),
        at(State::failed("boom"), t + Duration::seconds(2)),
    ];
    for s in &states {
        store
            .set_flow_run_state(run.id, s)
            .await
            .expect("set state");
    }
    let history = store.read_flow_run_states(run.id).await.expect("history");
    let mut expected = vec![run.state.clone()];
    expected.extend(states.iter().cloned());
    assert_eq!(history, expected);
    let read = store
        .read_flow_run(run.id)
        .await
        .expect("read")
        .expect("present");
    assert_eq!(read.state, states[3]);
}

/// RUNNING states count runs and start the clock once; terminal ones stop it.
pub async fn run_count_and_times<S: Store>(store: &S) {
    let run = flow_run("f", "r", 0);
    store.create_flow_run(&run).await.expect("create");
    let t = run.created;
    let first = at(State::running(), t + Duration::seconds(1));
    store
        .set_flow_run_state(run.id, &first)
        .await
        .expect("running");
    flush(store).await;
    let read = store
        .read_flow_run(run.id)
        .await
        .expect("read")
        .expect("present");
    assert_eq!(
        (read.run_count, read.start_time, read.end_time),
        (1, Some(first.timestamp), None)
    );
    store
        .set_flow_run_state(
            run.id,
            &at(State::awaiting_retry(t, "again"), t + Duration::seconds(2)),
        )
        .await
        .expect("s");
    store
        .set_flow_run_state(run.id, &at(State::retrying(), t + Duration::seconds(3)))
        .await
        .expect("s");
    let end = at(State::crashed("limit"), t + Duration::seconds(4));
    store
        .set_flow_run_state(run.id, &end)
        .await
        .expect("crashed");
    let read = store
        .read_flow_run(run.id)
        .await
        .expect("read")
        .expect("present");
    assert_eq!(
        (read.run_count, read.start_time, read.end_time),
        (2, Some(first.timestamp), Some(end.timestamp))
    );
    assert_eq!(read.state.message.as_deref(), Some("limit"));

    // Task runs follow the same rules, including a run created already running.
    let mut task = TaskRun::new(run.id, None, "t", 0, json!(null));
    task.state = at(State::running(), t + Duration::seconds(10));
    store.create_task_run(&task).await.expect("task");
    let done = at(State::completed(json!(1)), t + Duration::seconds(11));
    store
        .set_task_run_state(task.id, &done)
        .await
        .expect("done");
    let read = store
        .read_task_run(task.id)
        .await
        .expect("read")
        .expect("present");
    assert_eq!(read.run_count, 1);
    assert_eq!(read.start_time, Some(task.state.timestamp));
    assert_eq!(read.end_time, Some(done.timestamp));

    // A task run created in a terminal state (a cache hit) has ended.
    let mut cached = TaskRun::new(run.id, None, "t", 1, json!(null));
    cached.state = State::cached(json!("hit"));
    cached.state.timestamp = us(cached.state.timestamp);
    store.create_task_run(&cached).await.expect("cached");
    let read = store
        .read_task_run(cached.id)
        .await
        .expect("read")
        .expect("present");
    assert_eq!(read.run_count, 0);
    assert_eq!(read.end_time, Some(cached.state.timestamp));
    assert_eq!(read.state.data, Some(json!("hit")));
}

/// A Completed (or Cached) state's data is the run's result, on its current state.
pub async fn result_on_completed_state<S: Store>(store: &S) {
    let run = flow_run("f", "r", 0);
    store.create_flow_run(&run).await.expect("create");
    store
        .set_flow_run_state(run.id, &State::running())
        .await
        .expect("running");
    let result = json!({"rows": 1234, "names": ["a", "b"], "ratio": 0.25, "none": null});
    store
        .set_flow_run_state(run.id, &State::completed(result.clone()))
        .await
        .expect("completed");
    let read = store
        .read_flow_run(run.id)
        .await
        .expect("read")
        .expect("present");
    assert_eq!(read.state.state_type, StateType::Completed);
    assert_eq!(read.state.data, Some(result.clone()));
    let listed = store
        .list_flow_runs(&FlowRunFilter::default())
        .await
        .expect("list");
    assert_eq!(listed[0].state.data, Some(result));

    let task = TaskRun::new(run.id, None, "t", 0, json!([1, 2]));
    store.create_task_run(&task).await.expect("task");
    store
        .set_task_run_state(task.id, &State::cached(json!("from cache")))
        .await
        .expect("cached");
    let read = store
        .read_task_run(task.id)
        .await
        .expect("read")
        .expect("present");
    assert_eq!(read.state.name, "Cached");
    assert_eq!(read.state.data, Some(json!("from cache")));
    assert_eq!(read.input, json!([1, 2]));
}

/// Setting a state whose id is already recorded changes nothing (retried calls are harmless).
pub async fn replayed_state_is_ignored<S: Store>(store: &S) {
    let run = flow_run("f", "r", 0);
    store.create_flow_run(&run).await.expect("create");
    let running = State::running();
    store
        .set_flow_run_state(run.id, &running)
        .await
        .expect("running");
    store
        .set_flow_run_state(run.id, &running)
        .await
        .expect("replayed");
    flush(store).await;
    let read = store
        .read_flow_run(run.id)
        .await
        .expect("read")
        .expect("present");
    assert_eq!(read.run_count, 1);
    assert_eq!(state_count(store, run.id).await, 2);
}

/// Task runs list by flow run, oldest first by default, and by the other filters.
pub async fn task_runs_by_flow_run<S: Store>(store: &S) {
    let a = flow_run("f", "a", 0);
    let b = flow_run("f", "b", 1);
    store.create_flow_run(&a).await.expect("create");
    store.create_flow_run(&b).await.expect("create");
    let mut ids = Vec::new();
    for i in 0..5u64 {
        let mut t = TaskRun::new(
            a.id,
            None,
            if i % 2 == 0 { "even" } else { "odd" },
            i,
            json!(i),
        );
        t.created = a.created + Duration::seconds(i as i64);
        t.tags = vec!["x".into()];
        store.create_task_run(&t).await.expect("task");
        ids.push(t.id);
    }
    let parent = ids[0];
    let child = TaskRun::new(b.id, Some(parent), "child", 0, json!({}));
    store.create_task_run(&child).await.expect("child");
    store
        .set_task_run_state(ids[1], &State::failed("no"))
        .await
        .expect("failed");
    flush(store).await;

    let of_a = store
        .list_task_runs(&TaskRunFilter {
            flow_run_ids: Some(vec![a.id]),
            ..Default::default()
        })
        .await
        .expect("list");
    assert_eq!(of_a.iter().map(|t| t.id).collect::<Vec<_>>(), ids);
    assert_eq!(of_a[3].name, "odd-3");
    assert_eq!(of_a[3].dynamic_key, 3);
    assert_eq!(of_a[3].tags, vec!["x".to_string()]);

    let desc = store
        .list_task_runs(&TaskRunFilter {
            flow_run_ids: Some(vec![a.id]),
            sort: TaskRunSort::CreatedDesc,
            limit: Some(2),
            offset: 1,
            ..Default::default()
        })
        .await
        .expect("list");
    assert_eq!(
        desc.iter().map(|t| t.id).collect::<Vec<_>>(),
        vec![ids[3], ids[2]]
    );

    let failed = store
        .list_task_runs(&TaskRunFilter {
            state_types: Some(vec![StateType::Failed]),
            ..Default::default()
        })
        .await
        .expect("list");
    assert_eq!(
        failed.iter().map(|t| t.id).collect::<Vec<_>>(),
        vec![ids[1]]
    );

    let odd = store
        .list_task_runs(&TaskRunFilter {
            task_keys: Some(vec!["odd".into()]),
            ..Default::default()
        })
        .await
        .expect("list");
    assert_eq!(odd.len(), 2);
    let named = store
        .list_task_runs(&TaskRunFilter {
            names: Some(vec!["even-4".into()]),
            ..Default::default()
        })
        .await
        .expect("list");
    assert_eq!(named.iter().map(|t| t.id).collect::<Vec<_>>(), vec![ids[4]]);
    let by_id = store
        .list_task_runs(&TaskRunFilter {
            ids: Some(vec![child.id]),
            ..Default::default()
        })
        .await
        .expect("list");
    assert_eq!(by_id[0].parent_task_run_id, Some(parent));
    let none = store
        .list_task_runs(&TaskRunFilter {
            ids: Some(vec![]),
            ..Default::default()
        })
        .await
        .expect("list");
    assert!(none.is_empty());
}

/// Logs filter by flow run, task run and level, oldest first, paged.
pub async fn logs_filter<S: Store>(store: &S) {
    let run = flow_run("f", "r", 0);
    let other = flow_run("f", "o", 1);
    store.create_flow_run(&run).await.expect("create");
    store.create_flow_run(&other).await.expect("create");
    let task = TaskRun::new(run.id, None, "t", 0, json!(null));
    store.create_task_run(&task).await.expect("task");
    let levels = [
        LogLevel::Debug,
        LogLevel::Info,
        LogLevel::Warning,
        LogLevel::Error,
        LogLevel::Critical,
    ];
    let mut written = Vec::new();
    for (i, level) in levels.iter().enumerate() {
        written.push(LogEntry {
            name: "weft.flow_runs".into(),
            level: *level,
            message: format!("line {i}"),
            timestamp: run.created + Duration::milliseconds(i as i64),
            flow_run_id: run.id,
            task_run_id: (i % 2 == 1).then_some(task.id),
        });
    }
    // Written newest first in two calls: reads come back oldest first.
    let mut reversed = written.clone();
    reversed.reverse();
    store
        .write_logs(reversed[..2].to_vec())
        .await
        .expect("logs");
    store
        .write_logs(reversed[2..].to_vec())
        .await
        .expect("logs");
    store
        .write_logs(vec![LogEntry {
            flow_run_id: other.id,
            task_run_id: None,
            ..written[0].clone()
        }])
        .await
        .expect("logs");
    store.write_logs(Vec::new()).await.expect("no logs");
    flush(store).await;

    let all = store
        .read_logs(&LogFilter {
            flow_run_ids: Some(vec![run.id]),
            ..Default::default()
        })
        .await
        .expect("logs");
    assert_eq!(all, written);
    let warn = store
        .read_logs(&LogFilter {
            flow_run_ids: Some(vec![run.id]),
            level_ge: Some(LogLevel::Warning),
            ..Default::default()
        })
        .await
        .expect("logs");
    assert_eq!(warn, written[2..].to_vec());
    let of_task = store
        .read_logs(&LogFilter {
            task_run_ids: Some(vec![task.id]),
            ..Default::default()
        })
        .await
        .expect("logs");
    assert_eq!(of_task, vec![written[1].clone(), written[3].clone()]);
    let paged = store
        .read_logs(&LogFilter {
            flow_run_ids: Some(vec![run.id]),
            limit: Some(2),
            offset: 1,
            ..Default::default()
        })
        .await
        .expect("logs");
    assert_eq!(paged, written[1..3].to_vec());
    let after = store
        .read_logs(&LogFilter {
            flow_run_ids: Some(vec![run.id]),
            timestamp_after: Some(written[3].timestamp),
            ..Default::default()
        })
        .await
        .expect("logs");
    assert_eq!(after, written[4..].to_vec());
    // Newest first, paged in that order; an inclusive window; a level cap.
    let newest = store
        .read_logs(&LogFilter {
            flow_run_ids: Some(vec![run.id]),
            newest_first: true,
            limit: Some(2),
            offset: 1,
            ..Default::default()
        })
        .await
        .expect("logs");
    assert_eq!(newest, reversed[1..3].to_vec());
    let window = store
        .read_logs(&LogFilter {
            flow_run_ids: Some(vec![run.id]),
            since: Some(written[1].timestamp),
            until: Some(written[4].timestamp),
            level_le: Some(LogLevel::Error),
            ..Default::default()
        })
        .await
        .expect("logs");
    assert_eq!(window, written[1..4].to_vec());
    let everything = store.read_logs(&LogFilter::default()).await.expect("logs");
    assert_eq!(everything.len(), 6);
}

async fn ids_of<S: Store>(store: &S, filter: FlowRunFilter) -> Vec<Uuid> {
    store
        .list_flow_runs(&filter)
        .await
        .expect("list")
        .into_iter()
        .map(|r| r.id)
        .collect()
}

/// Flow run filters: ids, names, flows, state types and names, deployments, tags, start times.
pub async fn flow_run_filters<S: Store>(store: &S) {
    let mut a = flow_run("etl", "a", 0);
    a.tags = vec!["prod".into(), "eu".into()];
    a.deployment_name = Some("nightly".into());
    let mut b = flow_run("etl", "b", 1);
    b.tags = vec!["prod".into()];
    let c = flow_run("report", "c", 2);
    for r in [&a, &b, &c] {
        store.create_flow_run(r).await.expect("create");
    }
    let t = base_time();
    store
        .set_flow_run_state(a.id, &at(State::running(), t + Duration::seconds(10)))
        .await
        .expect("s");
    store
        .set_flow_run_state(b.id, &at(State::running(), t + Duration::seconds(20)))
        .await
        .expect("s");
    store
        .set_flow_run_state(b.id, &State::new(StateType::Scheduled, "Late"))
        .await
        .expect("s");
    flush(store).await;

    let f = FlowRunFilter::default;
    assert_eq!(ids_of(store, f()).await, vec![c.id, b.id, a.id]);
    assert_eq!(
        ids_of(
            store,
            FlowRunFilter {
                ids: Some(vec![a.id, c.id]),
                ..f()
            }
        )
        .await,
        vec![c.id, a.id]
    );
    assert_eq!(
        ids_of(
            store,
            FlowRunFilter {
                names: Some(vec!["b".into()]),
                ..f()
            }
        )
        .await,
        vec![b.id]
    );
    assert_eq!(
        ids_of(
            store,
            FlowRunFilter {
                flow_names: Some(vec!["etl".into()]),
                ..f()
            }
        )
        .await,
        vec![b.id, a.id]
    );
    assert_eq!(
        ids_of(
            store,
            FlowRunFilter {
                state_types: Some(vec![StateType::Running]),
                ..f()
            }
        )
        .await,
        vec![a.id]
    );
    assert_eq!(
        ids_of(
            store,
            FlowRunFilter {
                state_types: Some(vec![StateType::Pending, StateType::Scheduled]),
                ..f()
            }
        )
        .await,
        vec![c.id, b.id]
    );
    assert_eq!(
        ids_of(
            store,
            FlowRunFilter {
                state_names: Some(vec!["Late".into()]),
                ..f()
            }
        )
        .await,
        vec![b.id]
    );
    assert_eq!(
        ids_of(
            store,
            FlowRunFilter {
                deployment_names: Some(vec!["nightly".into()]),
                ..f()
            }
        )
        .await,
        vec![a.id]
    );
    assert_eq!(
        ids_of(
            store,
            FlowRunFilter {
                tags_all: Some(vec!["prod".into()]),
                ..f()
            }
        )
        .await,
        vec![b.id, a.id]
    );
    assert_eq!(
        ids_of(
            store,
            FlowRunFilter {
                tags_all: Some(vec!["prod".into(), "eu".into()]),
                ..f()
            }
        )
        .await,
        vec![a.id]
    );
    assert_eq!(
        ids_of(
            store,
            FlowRunFilter {
                start_time_after: Some(t + Duration::seconds(15)),
                ..f()
            }
        )
        .await,
        vec![b.id]
    );
    assert_eq!(
        ids_of(
            store,
            FlowRunFilter {
                start_time_before: Some(t + Duration::seconds(15)),
                ..f()
            }
        )
        .await,
        vec![a.id]
    );
    assert_eq!(
        ids_of(
            store,
            FlowRunFilter {
                flow_names: Some(vec!["etl".into()]),
                names: Some(vec!["a".into(), "c".into()]),
                ..f()
            }
        )
        .await,
        vec![a.id]
    );
    assert!(
        ids_of(
            store,
            FlowRunFilter {
                names: Some(vec![]),
                ..f()
            }
        )
        .await
        .is_empty()
    );
}

/// The rest of Prefect's run filters, all answered by the store: `not_any_`,
/// `like_`, prefixes, any-tag, no tags, null deployment, end times, and a
/// count that agrees with the list.
pub async fn flow_run_filter_negations_and_nulls<S: Store>(store: &S) {
    let t = base_time();
    let mut a = flow_run("etl", "Brave-Otter", 0);
    a.tags = vec!["prod".into(), "eu".into()];
    a.deployment_id = Some(Uuid::new_v4());
    a.work_pool_name = Some("pool".into());
    let mut b = flow_run("etl", "calm-otter", 1);
    b.tags = vec!["dev".into()];
    let c = flow_run("report", "brave-fox", 2);
    for r in [&a, &b, &c] {
        store.create_flow_run(r).await.expect("create");
    }
    for (run, secs) in [(&a, 10), (&b, 20)] {
        store
            .set_flow_run_state(run.id, &at(State::running(), t + Duration::seconds(secs)))
            .await
            .expect("s");
    }
    store
        .set_flow_run_state(
            a.id,
            &at(
                State::new(StateType::Completed, "Completed"),
                t + Duration::seconds(30),
            ),
        )
        .await
        .expect("s");
    store
        .set_flow_run_state(b.id, &State::new(StateType::Running, "Retrying"))
        .await
        .expect("s");
    flush(store).await;

    let f = FlowRunFilter::default;
    let cases: Vec<(&str, FlowRunFilter, Vec<Uuid>)> = vec![
        (
            "ids_not",
            FlowRunFilter {
                ids_not: Some(vec![b.id]),
                ..f()
            },
            vec![c.id, a.id],
        ),
        (
            "names_not",
            FlowRunFilter {
                names_not: Some(vec!["brave-fox".into()]),
                ..f()
            },
            vec![b.id, a.id],
        ),
        (
            "name_like ignores case",
            FlowRunFilter {
                name_like: Some("BRAVE".into()),
                ..f()
            },
            vec![c.id, a.id],
        ),
        (
            "name_like inside",
            FlowRunFilter {
                name_like: Some("otter".into()),
                ..f()
            },
            vec![b.id, a.id],
        ),
        (
            "name_startswith is case-sensitive",
            FlowRunFilter {
                name_startswith: Some("brave".into()),
                ..f()
            },
            vec![c.id],
        ),
        (
            "state_names_not",
            FlowRunFilter {
                state_names_not: Some(vec!["Retrying".into()]),
                ..f()
            },
            vec![c.id, a.id],
        ),
        (
            "tags_any",
            FlowRunFilter {
                tags_any: Some(vec!["eu".into(), "dev".into()]),
                ..f()
            },
            vec![b.id, a.id],
        ),
        (
            "tags_any empty",
            FlowRunFilter {
                tags_any: Some(vec![]),
                ..f()
            },
            vec![],
        ),
        (
            "tags_empty",
            FlowRunFilter {
                tags_empty: Some(true),
                ..f()
            },
            vec![c.id],
        ),
        (
            "tags not empty",
            FlowRunFilter {
                tags_empty: Some(false),
                ..f()
            },
            vec![b.id, a.id],
        ),
        (
            "no deployment",
            FlowRunFilter {
                deployment_id_is_null: Some(true),
                ..f()
            },
            vec![c.id, b.id],
        ),
        (
            "a deployment",
            FlowRunFilter {
                deployment_id_is_null: Some(false),
                ..f()
            },
            vec![a.id],
        ),
        (
            "deployment_ids_not",
            FlowRunFilter {
                deployment_ids_not: a.deployment_id.map(|d| vec![d]),
                ..f()
            },
            vec![c.id, b.id],
        ),
        (
            "no pool",
            FlowRunFilter {
                work_pool_name_is_null: Some(true),
                ..f()
            },
            vec![c.id, b.id],
        ),
        (
            "never started",
            FlowRunFilter {
                start_time_is_null: Some(true),
                ..f()
            },
            vec![c.id],
        ),
        (
            "started",
            FlowRunFilter {
                start_time_is_null: Some(false),
                ..f()
            },
            vec![b.id, a.id],
        ),
        (
            "not ended",
            FlowRunFilter {
                end_time_is_null: Some(true),
                ..f()
            },
            vec![c.id, b.id],
        ),
        (
            "ended after",
            FlowRunFilter {
                end_time_after: Some(t + Duration::seconds(25)),
                ..f()
            },
            vec![a.id],
        ),
        (
            "ended before",
            FlowRunFilter {
                end_time_before: Some(t + Duration::seconds(25)),
                ..f()
            },
            vec![],
        ),
        (
            "combined",
            FlowRunFilter {
                name_like: Some("otter".into()),
                tags_any: Some(vec!["prod".into()]),
                end_time_is_null: Some(false),
                ..f()
            },
            vec![a.id],
        ),
    ];
    for (what, filter, want) in cases {
        assert_eq!(ids_of(store, filter.clone()).await, want, "{what}");
        let count = store.count_flow_runs(&filter).await.expect("count");
        assert_eq!(count, want.len() as u64, "count of {what}");
    }
    let paged = FlowRunFilter {
        limit: Some(1),
        offset: 1,
        ..f()
    };
    assert_eq!(
        store.count_flow_runs(&paged).await.expect("count"),
        3,
        "count ignores the page"
    );
}

/// Flow run sort orders, limit and offset.
pub async fn flow_run_sort_and_page<S: Store>(store: &S) {
    let names = ["delta", "alpha", "charlie", "bravo", "echo"];
    let mut runs = Vec::new();
    for (i, name) in names.iter().enumerate() {
        let run = flow_run("f", name, i as i64);
        store.create_flow_run(&run).await.expect("create");
        runs.push(run);
    }
    let t = base_time();
    // Start in the reverse order of creation; "echo" never starts.
    for (i, run) in runs.iter().take(4).enumerate() {
        let start = at(State::running(), t + Duration::seconds(100 - i as i64));
        store.set_flow_run_state(run.id, &start).await.expect("s");
    }
    flush(store).await;
    let id = |i: usize| runs[i].id;
    let sorted = |sort| FlowRunFilter {
        sort,
        ..Default::default()
    };
    assert_eq!(
        ids_of(store, sorted(FlowRunSort::CreatedDesc)).await,
        vec![id(4), id(3), id(2), id(1), id(0)]
    );
    assert_eq!(
        ids_of(store, sorted(FlowRunSort::CreatedAsc)).await,
        vec![id(0), id(1), id(2), id(3), id(4)]
    );
    assert_eq!(
        ids_of(store, sorted(FlowRunSort::NameAsc)).await,
        vec![id(1), id(3), id(2), id(0), id(4)]
    );
    assert_eq!(
        ids_of(store, sorted(FlowRunSort::NameDesc)).await,
        vec![id(4), id(0), id(2), id(3), id(1)]
    );
    assert_eq!(
        ids_of(store, sorted(FlowRunSort::StartTimeAsc)).await,
        vec![id(3), id(2), id(1), id(0), id(4)]
    );
    assert_eq!(
        ids_of(store, sorted(FlowRunSort::StartTimeDesc)).await,
        vec![id(0), id(1), id(2), id(3), id(4)]
    );
    let page = FlowRunFilter {
        limit: Some(2),
        offset: 1,
        ..Default::default()
    };
    assert_eq!(ids_of(store, page).await, vec![id(3), id(2)]);
    let tail = FlowRunFilter {
        offset: 3,
        ..Default::default()
    };
    assert_eq!(ids_of(store, tail).await, vec![id(1), id(0)]);
    let zero = FlowRunFilter {
        limit: Some(0),
        ..Default::default()
    };
    assert!(ids_of(store, zero).await.is_empty());
}

/// Deployment id, work pool and expected start time: stored, filtered, sorted.
pub async fn flow_run_deployment_pool_and_expected_start<S: Store>(store: &S) {
    let t = base_time();
    let deployment = Uuid::now_v7();
    let mut a = flow_run("f", "a", 0);
    a.deployment_id = Some(deployment);
    a.work_pool_name = Some("pool-1".into());
    a.expected_start_time = Some(t + Duration::seconds(30));
    let mut b = flow_run("f", "b", 1);
    b.work_pool_name = Some("pool-2".into());
    // Created Scheduled with no expected start: it is the scheduled time.
    b.state = at(State::scheduled(t + Duration::seconds(60)), b.created);
    let c = flow_run("f", "c", 2);
    for r in [&a, &b, &c] {
        store.create_flow_run(r).await.expect("create");
    }
    flush(store).await;
    let read = store
        .read_flow_run(a.id)
        .await
        .expect("read")
        .expect("present");
    assert_eq!(read, a);
    let read_b = store
        .read_flow_run(b.id)
        .await
        .expect("read")
        .expect("present");
    assert_eq!(read_b.expected_start_time, Some(t + Duration::seconds(60)));
    let f = FlowRunFilter::default;
    assert_eq!(
        ids_of(
            store,
            FlowRunFilter {
                deployment_ids: Some(vec![deployment]),
                ..f()
            }
        )
        .await,
        vec![a.id]
    );
    assert_eq!(
        ids_of(
            store,
            FlowRunFilter {
                work_pool_names: Some(vec!["pool-2".into(), "pool-1".into()]),
                ..f()
            }
        )
        .await,
        vec![b.id, a.id]
    );
    assert!(
        ids_of(
            store,
            FlowRunFilter {
                work_pool_names: Some(vec![]),
                ..f()
            }
        )
        .await
        .is_empty()
    );
    assert_eq!(
        ids_of(
            store,
            FlowRunFilter {
                expected_start_time_before: Some(t + Duration::seconds(45)),
                ..f()
            }
        )
        .await,
        // c has no expected start: it is expected at its creation (t + 2 s).
        vec![c.id, a.id]
    );
    assert_eq!(
        ids_of(
            store,
            FlowRunFilter {
                expected_start_time_after: Some(t + Duration::seconds(45)),
                ..f()
            }
        )
        .await,
        vec![b.id]
    );
    // c has no expected start: it sorts by its creation time (t + 2 s).
    assert_eq!(
        ids_of(
            store,
            FlowRunFilter {
                sort: FlowRunSort::ExpectedStartTimeDesc,
                ..f()
            }
        )
        .await,
        vec![b.id, a.id, c.id]
    );
    assert_eq!(
        ids_of(
            store,
            FlowRunFilter {
                sort: FlowRunSort::ExpectedStartTimeAsc,
                limit: Some(2),
                ..f()
            }
        )
        .await,
        vec![c.id, a.id]
    );
}

/// Finding a run by full id, unique id prefix, or name (the newest of that name).
pub async fn find_by_id_prefix_and_name<S: Store>(store: &S) {
    let old = flow_run("f", "swift-otter", 0);
    let new = flow_run("f", "swift-otter", 10);
    let other = flow_run("f", "calm-lynx", 5);
    for r in [&old, &new, &other] {
        store.create_flow_run(r).await.expect("create");
    }
    flush(store).await;
    let find = |key: String| async move { store.find_flow_run(&key).await };
    assert_eq!(
        find(old.id.to_string()).await.expect("find").map(|r| r.id),
        Some(old.id)
    );
    assert_eq!(
        find(old.id.simple().to_string())
            .await
            .expect("find")
            .map(|r| r.id),
        Some(old.id)
    );
    assert_eq!(
        find("swift-otter".into())
            .await
            .expect("find")
            .map(|r| r.id),
        Some(new.id)
    );
    assert_eq!(
        find(" calm-lynx ".into())
            .await
            .expect("find")
            .map(|r| r.id),
        Some(other.id)
    );
    // The shortest prefix that tells `other` apart from the two others.
    let full = other.id.hyphenated().to_string();
    let unique = (1..=full.len())
        .map(|n| &full[..n])
        .find(|p| {
            !old.id.hyphenated().to_string().starts_with(p)
                && !new.id.hyphenated().to_string().starts_with(p)
        })
        .expect("ids differ")
        .to_string();
    assert_eq!(
        find(unique.clone()).await.expect("find").map(|r| r.id),
        Some(other.id)
    );
    assert_eq!(
        find(unique.to_uppercase())
            .await
            .expect("find")
            .map(|r| r.id),
        Some(other.id)
    );
    // Uuid v7 ids created together share their first characters.
    let common: String = full
        .chars()
        .zip(old.id.hyphenated().to_string().chars())
        .take_while(|(a, b)| a == b)
        .map(|(a, _)| a)
        .collect();
    if !common.is_empty() {
        assert!(matches!(find(common).await, Err(StoreError::Ambiguous(_))));
    }
    assert!(find("ffffffff-0000".into()).await.expect("find").is_none());
    assert!(
        find(Uuid::now_v7().to_string())
            .await
            .expect("find")
            .is_none()
    );
}

/// A flow row is upserted by name when one of its runs is created.
pub async fn flows_upserted_by_name<S: Store>(store: &S) {
    for (i, flow) in ["etl", "report", "etl"].iter().enumerate() {
        store
            .create_flow_run(&flow_run(flow, "r", i as i64))
            .await
            .expect("create");
    }
    flush(store).await;
    let flows = store.list_flows().await.expect("flows");
    assert_eq!(
        flows.iter().map(|f| f.name.as_str()).collect::<Vec<_>>(),
        vec!["etl", "report"]
    );
    assert_eq!(flows[0].created, base_time());
    assert_ne!(flows[0].id, flows[1].id);
}

/// Cache entries upsert by key; expired entries are still returned.
pub async fn cache_upsert_and_expired<S: Store>(store: &S) {
    let now = us(Utc::now());
    let first = CacheEntry {
        key: "k".into(),
        value: json!(1),
        created: now,
        expiration: None,
        task_run_id: None,
    };
    store.write_cache(&first).await.expect("write");
    flush(store).await;
    assert_eq!(store.read_cache("k").await.expect("read"), Some(first));
    let second = CacheEntry {
        key: "k".into(),
        value: json!({"v": 2}),
        created: now + Duration::seconds(1),
        expiration: Some(now - Duration::seconds(10)),
        task_run_id: Some(Uuid::now_v7()),
    };
    store.write_cache(&second).await.expect("write");
    let other = CacheEntry {
        key: "j".into(),
        created: now + Duration::seconds(2),
        ..second.clone()
    };
    store.write_cache(&other).await.expect("write");
    flush(store).await;
    let read = store.read_cache("k").await.expect("read").expect("present");
    assert_eq!(read, second);
    assert!(!read.is_valid_at(now), "expired, and still readable");
    let listed = store.list_cache(10, 0).await.expect("list");
    assert_eq!(listed, vec![other.clone(), second.clone()]);
    assert_eq!(store.list_cache(1, 1).await.expect("list"), vec![second]);
    assert!(store.delete_cache("k").await.expect("delete"));
    assert!(store.read_cache("k").await.expect("read").is_none());
    assert_eq!(store.list_cache(10, 0).await.expect("list"), vec![other]);
}

/// Secrets: set, read back, overwrite, list names, delete.
pub async fn secrets_roundtrip<S: Store>(store: &S) {
    store
        .set_secret("db-password", "hunter2")
        .await
        .expect("set");
    store.set_secret("api-key", "").await.expect("set empty");
    store
        .set_secret("unicode", "pässwörd 🔑")
        .await
        .expect("set");
    assert_eq!(
        store
            .read_secret("db-password")
            .await
            .expect("read")
            .as_deref(),
        Some("hunter2")
    );
    assert_eq!(
        store.read_secret("api-key").await.expect("read").as_deref(),
        Some("")
    );
    assert_eq!(
        store.read_secret("unicode").await.expect("read").as_deref(),
        Some("pässwörd 🔑")
    );
    store
        .set_secret("db-password", "correct horse")
        .await
        .expect("overwrite");
    assert_eq!(
        store
            .read_secret("db-password")
            .await
            .expect("read")
            .as_deref(),
        Some("correct horse")
    );
    assert_eq!(
        store.list_secret_names().await.expect("names"),
        vec!["api-key", "db-password", "unicode"]
    );
    assert!(store.delete_secret("api-key").await.expect("delete"));
    assert!(!store.delete_secret("api-key").await.expect("delete again"));
    assert!(store.read_secret("api-key").await.expect("read").is_none());
    assert_eq!(
        store.list_secret_names().await.expect("names"),
        vec!["db-password", "unicode"]
    );
}

/// 10,000 queued writes are all visible after one flush.
pub async fn queued_writes_visible_after_flush<S: Store>(store: &S) {
    let run = flow_run("f", "big", 0);
    store.create_flow_run(&run).await.expect("create");
    let mut ids = Vec::new();
    for i in 0..3_334u64 {
        let task = TaskRun::new(run.id, None, "t", i, json!(i));
        store.create_task_run(&task).await.expect("create");
        store
            .set_task_run_state(task.id, &State::running())
            .await
            .expect("running");
        store
            .write_logs(vec![LogEntry {
                name: "t".into(),
                level: LogLevel::Info,
                message: format!("task {i}"),
                timestamp: Utc::now(),
                flow_run_id: run.id,
                task_run_id: Some(task.id),
            }])
            .await
            .expect("log");
        ids.push(task.id);
    }
    flush(store).await;
    let tasks = store
        .list_task_runs(&TaskRunFilter {
            flow_run_ids: Some(vec![run.id]),
            ..Default::default()
        })
        .await
        .expect("list");
    assert_eq!(tasks.len(), ids.len());
    assert!(
        tasks
            .iter()
            .all(|t| t.state.state_type == StateType::Running && t.run_count == 1)
    );
    let logs = store
        .read_logs(&LogFilter {
            flow_run_ids: Some(vec![run.id]),
            ..Default::default()
        })
        .await
        .expect("logs");
    assert_eq!(logs.len(), ids.len());
}

/// Eight tasks writing at once: no lock errors, nothing lost, order kept per run.
pub async fn concurrent_writers<S: Store + Clone>(store: &S) {
    let mut handles = Vec::new();
    for w in 0..8 {
        let store = store.clone();
        handles.push(tokio::spawn(async move {
            let run = flow_run("f", &format!("writer-{w}"), w);
            store.create_flow_run(&run).await?;
            store.set_flow_run_state(run.id, &State::running()).await?;
            for i in 0..200u64 {
                let task = TaskRun::new(run.id, None, "t", i, json!(i));
                store.create_task_run(&task).await?;
                store.set_task_run_state(task.id, &State::running()).await?;
                store
                    .set_task_run_state(task.id, &State::completed(json!(i * 2)))
                    .await?;
            }
            store
                .set_flow_run_state(run.id, &State::completed(json!(w)))
                .await?;
            Ok::<Uuid, RecordError>(run.id)
        }));
    }
    let mut runs = Vec::new();
    for h in handles {
        runs.push(h.await.expect("writer task").expect("no write error"));
    }
    for id in runs {
        let run = store
            .read_flow_run(id)
            .await
            .expect("read")
            .expect("present");
        assert_eq!(run.state.state_type, StateType::Completed);
        let tasks = store
            .list_task_runs(&TaskRunFilter {
                flow_run_ids: Some(vec![id]),
                ..Default::default()
            })
            .await
            .expect("list");
        assert_eq!(tasks.len(), 200);
        for t in &tasks {
            assert_eq!(t.state.data, Some(json!(t.dynamic_key * 2)));
            assert_eq!(t.run_count, 1);
        }
        let history = store
            .read_task_run_states(tasks[0].id)
            .await
            .expect("history");
        let names: Vec<_> = history.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, vec!["Pending", "Running", "Completed"]);
    }
}

/// A write for an unknown run fails with NotFound (to a waiter) and does not
/// take the other writes queued with it down.
pub async fn bad_write_fails_alone<S: Store + Clone>(store: &S) {
    let run = flow_run("f", "good", 0);
    store.create_flow_run(&run).await.expect("create");
    flush(store).await;
    let unknown = Uuid::now_v7();
    // Queue good writes around bad ones without waiting in between, so they
    // share a batch.
    let mut good = Vec::new();
    let mut pending = Vec::new();
    for i in 0..50u64 {
        let task = TaskRun::new(run.id, None, "t", i, json!(i));
        store.create_task_run(&task).await.expect("queued");
        good.push(task.id);
        if i == 25 {
            // Queued without waiting: fails in the writer, logged.
            // A backend that queues returns Ok and logs the failure; one
            // that writes at once says NotFound.
            let r = store.set_flow_run_state(unknown, &State::running()).await;
            assert!(matches!(r, Ok(()) | Err(RecordError::NotFound(_))), "{r:?}");
            let orphan = TaskRun::new(unknown, None, "orphan", 0, json!(null));
            let r = store.create_task_run(&orphan).await;
            assert!(matches!(r, Ok(()) | Err(RecordError::NotFound(_))), "{r:?}");
            let s = store.clone();
            pending.push(tokio::spawn(async move {
                s.set_flow_run_state(unknown, &State::failed("x")).await
            }));
            let s = store.clone();
            pending.push(tokio::spawn(async move {
                let mut t = TaskRun::new(unknown, None, "orphan", 1, json!(null));
                t.state = State::cached(json!(1));
                s.create_task_run(&t).await
            }));
            let s = store.clone();
            pending.push(tokio::spawn(async move {
                s.set_task_run_state(Uuid::now_v7(), &State::crashed("x"))
                    .await
            }));
        }
    }
    store
        .set_flow_run_state(run.id, &State::completed(json!("ok")))
        .await
        .expect("terminal, good");
    for p in pending {
        let result = p.await.expect("task");
        assert!(
            matches!(result, Err(RecordError::NotFound(_))),
            "{result:?}"
        );
    }
    flush(store).await;
    let tasks = store
        .list_task_runs(&TaskRunFilter {
            flow_run_ids: Some(vec![run.id]),
            ..Default::default()
        })
        .await
        .expect("list");
    let found: HashSet<Uuid> = tasks.iter().map(|t| t.id).collect();
    assert_eq!(found, good.into_iter().collect());
    let read = store
        .read_flow_run(run.id)
        .await
        .expect("read")
        .expect("present");
    assert_eq!(read.state.data, Some(json!("ok")));
    assert!(store.read_flow_run(unknown).await.expect("read").is_none());
    // A task run id too large for the store is refused before it is queued.
    let mut huge = TaskRun::new(run.id, None, "t", u64::MAX, json!(null));
    huge.state = State::running();
    assert!(store.create_task_run(&huge).await.is_err());
}

/// `t` truncated to microseconds, the precision every backend keeps.
pub fn us(t: DateTime<Utc>) -> DateTime<Utc> {
    use chrono::{DurationRound, TimeDelta};
    t.duration_trunc(TimeDelta::microseconds(1)).unwrap_or(t)
}

/// Flows upsert by name; read by id and name.
pub async fn flows_upsert_and_read<S: Store>(store: &S) {
    let (flow, created) = store.upsert_flow("etl").await.expect("upsert");
    assert!(created);
    assert_eq!(flow.name, "etl");
    let (again, created) = store.upsert_flow("etl").await.expect("upsert");
    assert!(!created);
    assert_eq!(again, flow);
    assert_eq!(
        store.read_flow(flow.id).await.expect("read"),
        Some(flow.clone())
    );
    assert_eq!(
        store.read_flow_by_name("etl").await.expect("read"),
        Some(flow.clone())
    );
    assert!(
        store
            .read_flow(Uuid::now_v7())
            .await
            .expect("read")
            .is_none()
    );
    assert!(
        store
            .read_flow_by_name("nope")
            .await
            .expect("read")
            .is_none()
    );
    assert!(matches!(
        store.upsert_flow("  ").await,
        Err(StoreError::Invalid(_))
    ));
    // A run of an upserted flow keeps the flow.
    store
        .create_flow_run(&flow_run("etl", "r", 0))
        .await
        .expect("create");
    flush(store).await;
    assert_eq!(store.list_flows().await.expect("flows"), vec![flow]);
}

/// Deleting a flow run removes its states, task runs and logs.
pub async fn delete_flow_run_cascades<S: Store>(store: &S) {
    let run = flow_run("f", "doomed", 0);
    let keep = flow_run("f", "kept", 1);
    store.create_flow_run(&run).await.expect("create");
    store.create_flow_run(&keep).await.expect("create");
    let task = TaskRun::new(run.id, None, "t", 0, json!(null));
    store.create_task_run(&task).await.expect("task");
    store
        .set_task_run_state(task.id, &State::running())
        .await
        .expect("s");
    store
        .write_logs(vec![LogEntry {
            name: "n".into(),
            level: LogLevel::Info,
            message: "m".into(),
            timestamp: base_time(),
            flow_run_id: run.id,
            task_run_id: Some(task.id),
        }])
        .await
        .expect("log");
    flush(store).await;
    assert!(store.delete_flow_run(run.id).await.expect("delete"));
    assert!(!store.delete_flow_run(run.id).await.expect("delete again"));
    assert!(store.read_flow_run(run.id).await.expect("read").is_none());
    assert!(store.read_task_run(task.id).await.expect("read").is_none());
    assert!(
        store
            .read_flow_run_states(run.id)
            .await
            .expect("s")
            .is_empty()
    );
    assert!(
        store
            .read_task_run_states(task.id)
            .await
            .expect("s")
            .is_empty()
    );
    let logs = store.read_logs(&LogFilter::default()).await.expect("logs");
    assert!(logs.is_empty());
    assert!(store.read_flow_run(keep.id).await.expect("read").is_some());
}

/// Checked state changes apply the orchestration rules in one transaction.
pub async fn checked_state_changes<S: Store + Clone>(store: &S) {
    let mut run = flow_run("f", "r", 0);
    run.state = at(State::scheduled(base_time()), base_time());
    store.create_flow_run(&run).await.expect("create");
    let pending = at(State::pending(), base_time() + Duration::seconds(1));
    assert_eq!(
        store
            .set_flow_run_state_checked(run.id, &pending, false)
            .await
            .expect("pending"),
        Transition::Accepted(pending.clone())
    );
    // A second PENDING proposal is refused: another worker has the run.
    match store
        .set_flow_run_state_checked(run.id, &State::pending(), false)
        .await
        .expect("second pending")
    {
        Transition::Rejected { current, reason } => {
            assert_eq!(current, pending);
            assert!(reason.contains("PENDING"), "{reason}");
        }
        other => panic!("accepted a second PENDING: {other:?}"),
    }
    let running = at(State::running(), base_time() + Duration::seconds(2));
    assert!(matches!(
        store
            .set_flow_run_state_checked(run.id, &running, false)
            .await
            .expect("running"),
        Transition::Accepted(_)
    ));
    let done = at(
        State::completed(json!(1)),
        base_time() + Duration::seconds(3),
    );
    assert!(matches!(
        store
            .set_flow_run_state_checked(run.id, &done, false)
            .await
            .expect("done"),
        Transition::Accepted(_)
    ));
    // Terminal: no going back unless forced.
    match store
        .set_flow_run_state_checked(run.id, &State::running(), false)
        .await
        .expect("restart")
    {
        Transition::Rejected { current, .. } => assert_eq!(current, done),
        other => panic!("restarted a completed run: {other:?}"),
    }
    let forced = at(State::running(), base_time() + Duration::seconds(4));
    assert!(matches!(
        store
            .set_flow_run_state_checked(run.id, &forced, true)
            .await
            .expect("forced"),
        Transition::Accepted(_)
    ));
    let read = store
        .read_flow_run(run.id)
        .await
        .expect("read")
        .expect("present");
    assert_eq!(read.state, forced);
    assert_eq!(read.run_count, 2);
    assert_eq!(state_count(store, run.id).await, 5);
    assert!(matches!(
        store
            .set_flow_run_state_checked(Uuid::now_v7(), &State::running(), false)
            .await,
        Err(StoreError::NotFound(_))
    ));

    // Eight concurrent PENDING proposals for one scheduled run: one wins.
    let mut contested = flow_run("f", "contested", 5);
    contested.state = at(State::scheduled(base_time()), base_time());
    store.create_flow_run(&contested).await.expect("create");
    let mut handles = Vec::new();
    for _ in 0..8 {
        let s = store.clone();
        handles.push(tokio::spawn(async move {
            s.set_flow_run_state_checked(contested.id, &State::pending(), false)
                .await
        }));
    }
    let mut accepted = 0;
    for h in handles {
        if let Transition::Accepted(_) = h.await.expect("task").expect("propose") {
            accepted += 1;
        }
    }
    assert_eq!(accepted, 1);
}

/// Several checked states at once: applied in order, stopping at the
/// first one refused; the run's times and count as if proposed one by one.
pub async fn checked_state_sequences<S: Store>(store: &S) {
    let mut run = flow_run("f", "sequence", 0);
    run.state = at(State::pending(), base_time());
    store.create_flow_run(&run).await.expect("create");
    let running = at(State::running(), base_time() + Duration::seconds(1));
    let done = at(
        State::completed(json!("ok")),
        base_time() + Duration::seconds(2),
    );
    let again = at(State::running(), base_time() + Duration::seconds(3));
    let late = at(State::failed("late"), base_time() + Duration::seconds(4));
    let outcomes = store
        .set_flow_run_states_checked(run.id, &[running.clone(), done.clone(), again, late], false)
        .await
        .expect("states");
    assert_eq!(outcomes.len(), 3, "stops at the refused one: {outcomes:?}");
    assert_eq!(outcomes[0], Transition::Accepted(running.clone()));
    assert_eq!(outcomes[1], Transition::Accepted(done.clone()));
    match &outcomes[2] {
        Transition::Rejected { current, reason } => {
            assert_eq!(current, &done);
            assert!(!reason.is_empty());
        }
        other => panic!("restarted a completed run: {other:?}"),
    }
    assert_ran_once(store, run.id, &running, &done).await;
    let history = store.read_flow_run_states(run.id).await.expect("history");
    assert_eq!(history.len(), 3, "{history:?}");
    // Refused first: nothing applied.
    let outcomes = store
        .set_flow_run_states_checked(run.id, &[State::running()], false)
        .await
        .expect("refused");
    assert!(matches!(outcomes[..], [Transition::Rejected { .. }]));
    assert!(matches!(
        store
            .set_flow_run_states_checked(Uuid::now_v7(), &[State::running()], false)
            .await,
        Err(StoreError::NotFound(_))
    ));
    // A short run's Running and Completed together (both allowed in turn):
    // both recorded in order, the times and count as one by one, and the
    // same call replayed is refused (the run is Completed).
    let mut run = flow_run("f", "short", 0);
    run.state = at(State::pending(), base_time());
    store.create_flow_run(&run).await.expect("create");
    let running = at(
        State::running().with_message("starting"),
        base_time() + Duration::seconds(1),
    );
    let done = at(
        State::completed(json!({"rows": 3})),
        base_time() + Duration::seconds(2),
    );
    let both = [running.clone(), done.clone()];
    let outcomes = store
        .set_flow_run_states_checked(run.id, &both, false)
        .await
        .expect("states");
    assert_eq!(
        outcomes,
        [
            Transition::Accepted(running.clone()),
            Transition::Accepted(done.clone())
        ]
    );
    assert_ran_once(store, run.id, &running, &done).await;
    let history = store.read_flow_run_states(run.id).await.expect("history");
    assert_eq!(history, [run.state.clone(), running, done.clone()]);
    let outcomes = store
        .set_flow_run_states_checked(run.id, &both, false)
        .await
        .expect("replayed");
    assert!(matches!(outcomes[..], [Transition::Rejected { .. }]));
    assert_eq!(state_count(store, run.id).await, 3);
}

/// How many states flow run `id` has recorded.
async fn state_count<S: Store>(store: &S, id: Uuid) -> usize {
    store.read_flow_run_states(id).await.expect("history").len()
}

/// Run `id` is in `done`, ran once, from `running` to `done`.
async fn assert_ran_once<S: Store>(store: &S, id: Uuid, running: &State, done: &State) {
    let read = store
        .read_flow_run(id)
        .await
        .expect("read")
        .expect("present");
    assert_eq!(&read.state, done);
    assert_eq!(read.run_count, 1);
    assert_eq!(read.start_time, Some(running.timestamp));
    assert_eq!(read.end_time, Some(done.timestamp));
}

fn deployment(name: &str, flow: &str) -> Deployment {
    let mut d = Deployment::new(name, flow, "digest");
    d.created = us(d.created);
    d.updated = d.created;
    d
}

/// Deployments: upsert by (flow, name), read, update, delete, filter.
pub async fn deployments_crud_and_filter<S: Store>(store: &S) {
    let mut a = deployment("nightly", "etl");
    a.tags = vec!["prod".into(), "eu".into()];
    a.work_pool_name = Some("pool".into());
    a.parameters = json!({"n": 3});
    a.allowed_secrets = vec!["token".into()];
    a.schedules = vec![Schedule {
        cron: Some("0 3 * * *".into()),
        ..Schedule::default()
    }];
    a.limits.fuel = Some(1000);
    a.concurrency_limit = Some(2);
    let stored = store.create_deployment(&a).await.expect("create");
    assert_eq!(stored, a);
    // The same (flow, name) again: updated in place, id and created kept.
    let mut again = deployment("nightly", "etl");
    again.description = Some("v2".into());
    again.paused = true;
    let updated = store.create_deployment(&again).await.expect("upsert");
    assert_eq!(updated.id, a.id);
    assert_eq!(updated.created, a.created);
    assert_eq!(updated.description.as_deref(), Some("v2"));
    assert!(updated.paused);
    let b = store
        .create_deployment(&deployment("nightly", "report"))
        .await
        .expect("create");
    let c = store
        .create_deployment(&deployment("adhoc", "etl"))
        .await
        .expect("create");
    assert_ne!(b.id, a.id);
    assert_eq!(
        store.read_deployment(a.id).await.expect("read"),
        Some(updated.clone())
    );
    assert_eq!(
        store
            .read_deployment_by_name("report", "nightly")
            .await
            .expect("read"),
        Some(b.clone())
    );
    assert!(
        store
            .read_deployment_by_name("report", "adhoc")
            .await
            .expect("read")
            .is_none()
    );
    let names = |v: Vec<Deployment>| v.into_iter().map(|d| d.id).collect::<Vec<_>>();
    let all = store
        .list_deployments(&DeploymentFilter::default())
        .await
        .expect("list");
    assert_eq!(names(all), vec![c.id, a.id, b.id]);
    let f = DeploymentFilter::default;
    let list = |filter: DeploymentFilter| async move {
        names(store.list_deployments(&filter).await.expect("list"))
    };
    assert_eq!(
        list(DeploymentFilter {
            flow_names: Some(vec!["etl".into()]),
            ..f()
        })
        .await,
        vec![c.id, a.id]
    );
    assert_eq!(
        list(DeploymentFilter {
            paused: Some(true),
            ..f()
        })
        .await,
        vec![a.id]
    );
    assert_eq!(
        list(DeploymentFilter {
            paused: Some(false),
            limit: Some(1),
            offset: 1,
            ..f()
        })
        .await,
        vec![b.id]
    );
    assert_eq!(
        list(DeploymentFilter {
            ids: Some(vec![b.id]),
            names: Some(vec!["nightly".into()]),
            ..f()
        })
        .await,
        vec![b.id]
    );
    let mut changed = updated.clone();
    changed.tags = vec!["x".into()];
    changed.work_pool_name = Some("other".into());
    assert!(store.update_deployment(&changed).await.expect("update"));
    assert_eq!(
        list(DeploymentFilter {
            tags_all: Some(vec!["x".into()]),
            work_pool_names: Some(vec!["other".into()]),
            ..f()
        })
        .await,
        vec![a.id]
    );
    let read = store
        .read_deployment(a.id)
        .await
        .expect("read")
        .expect("present");
    assert_eq!(read.tags, vec!["x".to_string()]);
    assert_eq!(read.created, a.created);
    assert!(read.updated >= a.updated);
    // Renaming onto another deployment's (flow, name) is a conflict.
    let mut clash = read.clone();
    clash.name = "adhoc".into();
    assert!(matches!(
        store.update_deployment(&clash).await,
        Err(StoreError::Conflict(_))
    ));
    assert!(
        !store
            .update_deployment(&deployment("ghost", "etl"))
            .await
            .expect("update unknown")
    );
    let mut bad = deployment("", "etl");
    assert!(matches!(
        store.create_deployment(&bad).await,
        Err(StoreError::Invalid(_))
    ));
    bad.name = "ok".into();
    bad.parameters = json!([1]);
    assert!(matches!(
        store.create_deployment(&bad).await,
        Err(StoreError::Invalid(_))
    ));
    assert!(store.delete_deployment(a.id).await.expect("delete"));
    assert!(!store.delete_deployment(a.id).await.expect("delete again"));
    assert!(store.read_deployment(a.id).await.expect("read").is_none());
}

fn work_pool(name: &str) -> WorkPool {
    let mut p = WorkPool::new(name);
    p.created = us(p.created);
    p.updated = p.created;
    p
}

/// Work pools: create (conflict on the name), read, update, delete, list.
pub async fn work_pools_crud<S: Store>(store: &S) {
    let a = work_pool("b-pool");
    assert_eq!(store.create_work_pool(&a).await.expect("create"), a);
    let dup = work_pool("b-pool");
    match store.create_work_pool(&dup).await {
        Err(StoreError::Conflict(m)) => assert!(m.contains("b-pool"), "{m}"),
        other => panic!("expected a conflict, got {other:?}"),
    }
    let b = work_pool("a-pool");
    store.create_work_pool(&b).await.expect("create");
    assert_eq!(
        store.read_work_pool("b-pool").await.expect("read"),
        Some(a.clone())
    );
    assert!(store.read_work_pool("nope").await.expect("read").is_none());
    let names = |v: Vec<WorkPool>| v.into_iter().map(|p| p.name).collect::<Vec<_>>();
    assert_eq!(
        names(
            store
                .list_work_pools(&WorkPoolFilter::default())
                .await
                .expect("list")
        ),
        vec!["a-pool", "b-pool"]
    );
    assert_eq!(
        names(
            store
                .list_work_pools(&WorkPoolFilter {
                    names: Some(vec!["b-pool".into(), "x".into()]),
                    ..Default::default()
                })
                .await
                .expect("list")
        ),
        vec!["b-pool"]
    );
    assert_eq!(
        names(
            store
                .list_work_pools(&WorkPoolFilter {
                    limit: Some(1),
                    offset: 1,
                    ..Default::default()
                })
                .await
                .expect("list")
        ),
        vec!["b-pool"]
    );
    let mut changed = a.clone();
    changed.is_paused = true;
    changed.concurrency_limit = Some(4);
    changed.description = Some("d".into());
    assert!(store.update_work_pool(&changed).await.expect("update"));
    let read = store
        .read_work_pool("b-pool")
        .await
        .expect("read")
        .expect("present");
    assert!(read.is_paused);
    assert_eq!(read.concurrency_limit, Some(4));
    assert_eq!((read.id, read.created), (a.id, a.created));
    assert!(
        !store
            .update_work_pool(&work_pool("ghost"))
            .await
            .expect("update")
    );
    assert!(matches!(
        store.create_work_pool(&work_pool("")).await,
        Err(StoreError::Invalid(_))
    ));
    assert!(store.delete_work_pool("b-pool").await.expect("delete"));
    assert!(
        !store
            .delete_work_pool("b-pool")
            .await
            .expect("delete again")
    );
}

fn variable(name: &str, value: serde_json::Value, tags: &[&str]) -> Variable {
    let now = us(Utc::now());
    Variable {
        id: Uuid::now_v7(),
        name: name.into(),
        value,
        tags: tags.iter().map(|t| t.to_string()).collect(),
        created: now,
        updated: now,
    }
}

/// Variables: create (conflict on the name), read, update, delete, filter.
pub async fn variables_crud_and_filter<S: Store>(store: &S) {
    let a = variable("db_url", json!("postgres://x"), &["prod"]);
    let b = variable("batch_size", json!({"n": 10}), &["prod", "eu"]);
    let c = variable("DB_timeout", json!(3.5), &[]);
    for v in [&a, &b, &c] {
        assert_eq!(&store.create_variable(v).await.expect("create"), v);
    }
    match store
        .create_variable(&variable("db_url", json!(1), &[]))
        .await
    {
        Err(StoreError::Conflict(m)) => assert!(m.contains("db_url"), "{m}"),
        other => panic!("expected a conflict, got {other:?}"),
    }
    assert_eq!(
        store
            .read_variable_by_name("batch_size")
            .await
            .expect("read"),
        Some(b.clone())
    );
    assert_eq!(
        store.read_variable(c.id).await.expect("read"),
        Some(c.clone())
    );
    assert!(
        store
            .read_variable(Uuid::now_v7())
            .await
            .expect("read")
            .is_none()
    );
    let names = |v: Vec<Variable>| v.into_iter().map(|v| v.name).collect::<Vec<_>>();
    let list = |filter: VariableFilter| async move {
        names(store.list_variables(&filter).await.expect("list"))
    };
    assert_eq!(
        list(VariableFilter::default()).await,
        vec!["DB_timeout", "batch_size", "db_url"]
    );
    let mut like = list(VariableFilter {
        name_like: Some("db_".into()),
        ..Default::default()
    })
    .await;
    like.sort();
    assert_eq!(like, vec!["DB_timeout", "db_url"]);
    assert_eq!(
        list(VariableFilter {
            tags_all: Some(vec!["prod".into(), "eu".into()]),
            ..Default::default()
        })
        .await,
        vec!["batch_size"]
    );
    assert_eq!(
        list(VariableFilter {
            names: Some(vec!["db_url".into()]),
            limit: Some(5),
            ..Default::default()
        })
        .await,
        vec!["db_url"]
    );
    let mut changed = a.clone();
    changed.value = json!(["new"]);
    changed.name = "db_url2".into();
    assert!(store.update_variable(&changed).await.expect("update"));
    let read = store
        .read_variable(a.id)
        .await
        .expect("read")
        .expect("present");
    assert_eq!(
        (read.name.as_str(), read.value.clone()),
        ("db_url2", json!(["new"]))
    );
    assert_eq!(read.created, a.created);
    let mut clash = read.clone();
    clash.name = "batch_size".into();
    assert!(matches!(
        store.update_variable(&clash).await,
        Err(StoreError::Conflict(_))
    ));
    assert!(
        !store
            .update_variable(&variable("ghost", json!(1), &[]))
            .await
            .expect("update")
    );
    assert!(
        store
            .delete_variable_by_name("db_url2")
            .await
            .expect("delete")
    );
    assert!(
        !store
            .delete_variable_by_name("db_url2")
            .await
            .expect("delete again")
    );
}

fn component(bytes: &[u8], secs: i64) -> ComponentRecord {
    use sha2::Digest;
    ComponentRecord {
        digest: hex::encode(sha2::Sha256::digest(bytes)),
        size: bytes.len() as u64,
        world: "weft:flow/flow@0.1.0".into(),
        info: json!({"sdk": "rust", "flows": ["hello"], "tasks": []}),
        created: base_time() + Duration::seconds(secs),
    }
}

/// Components are content-addressed and idempotent; bytes round-trip.
pub async fn components_content_addressed<S: Store>(store: &S) {
    let small = b"\0asm small component".to_vec();
    // Large and incompressible-ish: 8 MiB of a simple pseudo-random sequence.
    let mut big = Vec::with_capacity(8 << 20);
    let mut x: u32 = 0x1234_5678;
    while big.len() < 8 << 20 {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        big.extend_from_slice(&x.to_le_bytes());
    }
    let a = component(&small, 0);
    let b = component(&big, 1);
    assert!(store.put_component(&a, &small).await.expect("put"));
    assert!(!store.put_component(&a, &small).await.expect("put again"));
    assert!(store.put_component(&b, &big).await.expect("put big"));
    assert_eq!(
        store.read_component(&a.digest).await.expect("read"),
        Some(a.clone())
    );
    assert_eq!(
        store
            .read_component_bytes(&b.digest)
            .await
            .expect("bytes")
            .as_deref(),
        Some(&big[..])
    );
    assert_eq!(
        store.list_components().await.expect("list"),
        vec![b.clone(), a.clone()]
    );
    assert!(store.read_component("00").await.expect("read").is_none());
    assert!(
        store
            .read_component_bytes("00")
            .await
            .expect("read")
            .is_none()
    );
    let mut wrong = a.clone();
    wrong.digest = "ab".repeat(32);
    assert!(matches!(
        store.put_component(&wrong, &small).await,
        Err(StoreError::Invalid(_))
    ));
    let mut wrong_size = a.clone();
    wrong_size.size += 1;
    assert!(matches!(
        store.put_component(&wrong_size, &small).await,
        Err(StoreError::Invalid(_))
    ));
}

fn scheduled_run(pool: &str, name: &str, due: DateTime<Utc>) -> FlowRun {
    let mut run = flow_run("f", name, 0);
    run.work_pool_name = Some(pool.into());
    run.state = at(State::scheduled(due), run.created);
    run
}

/// Scheduled runs, claiming, heartbeats, releasing and lost runs.
pub async fn claim_release_heartbeat_lost<S: Store>(store: &S) {
    let t = us(Utc::now());
    let early = scheduled_run("p", "early", t - Duration::seconds(20));
    let late = scheduled_run("p", "late", t - Duration::seconds(10));
    let future = scheduled_run("p", "future", t + Duration::hours(1));
    let other_pool = scheduled_run("q", "other", t - Duration::seconds(30));
    let mut pending = flow_run("f", "pending", 0);
    pending.work_pool_name = Some("p".into());
    for r in [&late, &future, &early, &other_pool, &pending] {
        store.create_flow_run(r).await.expect("create");
    }
    flush(store).await;
    let ids = |v: Vec<FlowRun>| v.into_iter().map(|r| r.id).collect::<Vec<_>>();
    assert_eq!(
        ids(store
            .scheduled_flow_runs("p", t, 10)
            .await
            .expect("scheduled")),
        vec![early.id, late.id]
    );
    assert_eq!(
        ids(store
            .scheduled_flow_runs("p", t, 1)
            .await
            .expect("scheduled")),
        vec![early.id]
    );
    // A paused pool hands out nothing.
    let mut pool = work_pool("p");
    pool.is_paused = true;
    store.create_work_pool(&pool).await.expect("pool");
    assert!(
        store
            .scheduled_flow_runs("p", t, 10)
            .await
            .expect("s")
            .is_empty()
    );
    assert!(
        store
            .claim_flow_runs("p", "w1", t, 10, live_after())
            .await
            .expect("c")
            .is_empty()
    );
    pool.is_paused = false;
    store.update_work_pool(&pool).await.expect("unpause");

    let claimed = store
        .claim_flow_runs("p", "w1", t, 1, live_after())
        .await
        .expect("claim");
    assert_eq!(ids(claimed.clone()), vec![early.id]);
    assert_eq!(claimed[0].state.state_type, StateType::Pending);
    let rest = store
        .claim_flow_runs("p", "w2", t, 10, live_after())
        .await
        .expect("claim");
    assert_eq!(ids(rest), vec![late.id]);
    assert!(
        store
            .claim_flow_runs("p", "w3", t, 10, live_after())
            .await
            .expect("claim")
            .is_empty()
    );
    let history = store.read_flow_run_states(early.id).await.expect("history");
    assert_eq!(
        history.iter().map(|s| s.state_type).collect::<Vec<_>>(),
        vec![StateType::Scheduled, StateType::Pending]
    );

    // Nothing is lost while heartbeats are fresh.
    assert!(
        store
            .lost_flow_runs(t - Duration::seconds(60))
            .await
            .expect("lost")
            .is_empty()
    );
    let later = Utc::now() + Duration::seconds(1);
    assert_eq!(
        {
            let mut v = ids(store.lost_flow_runs(later).await.expect("lost"));
            v.sort();
            v
        },
        {
            let mut v = vec![early.id, late.id];
            v.sort();
            v
        }
    );
    // w1 heartbeats its run (and cannot heartbeat w2's).
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let cutoff = Utc::now();
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    store
        .heartbeat_flow_runs("w1", &[early.id, late.id])
        .await
        .expect("heartbeat");
    store.heartbeat_flow_runs("w1", &[]).await.expect("none");
    assert_eq!(
        ids(store.lost_flow_runs(cutoff).await.expect("lost")),
        vec![late.id]
    );

    // Release: only by the claimer, only while unfinished.
    assert!(
        !store
            .release_flow_run(early.id, "w2")
            .await
            .expect("release")
    );
    assert!(
        store
            .release_flow_run(early.id, "w1")
            .await
            .expect("release")
    );
    assert!(!store.release_flow_run(early.id, "w1").await.expect("again"));
    let read = store
        .read_flow_run(early.id)
        .await
        .expect("read")
        .expect("present");
    assert_eq!(read.state.state_type, StateType::Scheduled);
    assert!(
        store
            .lost_flow_runs(later + Duration::hours(1))
            .await
            .expect("l")
            .iter()
            .all(|r| r.id != early.id)
    );
    let reclaimed = store
        .claim_flow_runs(
            "p",
            "w3",
            Utc::now() + Duration::seconds(1),
            10,
            live_after(),
        )
        .await
        .expect("reclaim");
    assert_eq!(ids(reclaimed), vec![early.id]);
    store
        .set_flow_run_state(late.id, &State::completed(json!(1)))
        .await
        .expect("done");
    assert!(
        !store
            .release_flow_run(late.id, "w2")
            .await
            .expect("finished")
    );
    assert!(
        store
            .lost_flow_runs(later + Duration::hours(1))
            .await
            .expect("lost")
            .iter()
            .all(|r| r.id != late.id)
    );
    assert!(
        !store
            .release_flow_run(Uuid::now_v7(), "w1")
            .await
            .expect("unknown")
    );
    assert!(
        store
            .claim_flow_runs("p", "w1", t, 0, live_after())
            .await
            .expect("zero")
            .is_empty()
    );
}

/// Eight concurrent claimers over 200 due runs: every run claimed exactly once.
pub async fn concurrent_claimers_never_share_a_run<S: Store + Clone>(store: &S) {
    let due = Utc::now() - Duration::seconds(1);
    let mut all = HashSet::new();
    for i in 0..200 {
        let run = scheduled_run("busy", &format!("r{i}"), due);
        store.create_flow_run(&run).await.expect("create");
        all.insert(run.id);
    }
    flush(store).await;
    let mut handles = Vec::new();
    for w in 0..8 {
        let store = store.clone();
        handles.push(tokio::spawn(async move {
            let worker = format!("worker-{w}");
            let mut mine = Vec::new();
            loop {
                let got = store
                    .claim_flow_runs("busy", &worker, Utc::now(), 3, live_after())
                    .await
                    .expect("claim");
                if got.is_empty() {
                    return mine;
                }
                mine.extend(got.into_iter().map(|r| r.id));
            }
        }));
    }
    let mut seen = HashSet::new();
    let mut total = 0;
    for h in handles {
        for id in h.await.expect("claimer") {
            total += 1;
            assert!(seen.insert(id), "run {id} claimed twice");
        }
    }
    assert_eq!(total, 200);
    assert_eq!(seen, all);
    for id in all.iter().take(10) {
        let states = store.read_flow_run_states(*id).await.expect("history");
        assert_eq!(states.len(), 2, "one Pending per run");
    }
}

// ------------------------------------------------------------ schedules

/// A deployment `name` of flow `flow` on pool `p` with one cron schedule.
fn scheduled_deployment(name: &str) -> (Deployment, Schedule) {
    let mut d = deployment(name, "etl");
    d.work_pool_name = Some("p".into());
    d.tags = vec!["prod".into()];
    d.parameters = json!({"n": 1, "keep": true});
    let s = Schedule {
        cron: Some("*/5 * * * *".into()),
        parameters: json!({"n": 2}),
        ..Schedule::default()
    };
    d.schedules = vec![s.clone()];
    (d, s)
}

/// Runs for `n` five-minute slots from the base time.
fn slot_runs(d: &Deployment, s: &Schedule, n: i64) -> Vec<crate::ScheduledRun> {
    (0..n)
        .map(|i| {
            crate::ScheduledRun::for_slot(d, s, base_time() + Duration::minutes(5 * i), Utc::now())
        })
        .collect()
}

async fn deployment_runs<S: Store>(store: &S, d: &Deployment) -> Vec<FlowRun> {
    let mut runs = store
        .list_flow_runs(&FlowRunFilter {
            deployment_ids: Some(vec![d.id]),
            limit: Some(1000),
            ..Default::default()
        })
        .await
        .expect("list");
    runs.sort_by_key(|r| r.expected_start_time);
    runs
}

/// Scheduling the same window twice creates each slot's run once; the
/// runs are Scheduled at their slot, with the merged parameters and tags.
pub async fn scheduled_runs_once_per_slot<S: Store>(store: &S) {
    let (d, s) = scheduled_deployment("every-5");
    store.create_deployment(&d).await.expect("deployment");
    let first = store
        .create_scheduled_flow_runs(&slot_runs(&d, &s, 4))
        .await
        .expect("schedule");
    assert_eq!(first.len(), 4);
    // Again, overlapping: only the two new slots.
    let second = store
        .create_scheduled_flow_runs(&slot_runs(&d, &s, 6))
        .await
        .expect("schedule again");
    assert_eq!(second.len(), 2);
    assert!(second.iter().all(|id| !first.contains(id)));
    let runs = deployment_runs(store, &d).await;
    assert_eq!(runs.len(), 6);
    for (i, r) in runs.iter().enumerate() {
        let slot = base_time() + Duration::minutes(5 * i as i64);
        assert_eq!(r.expected_start_time, Some(slot));
        assert_eq!(r.state.state_type, StateType::Scheduled);
        assert_eq!(r.state.name, "Scheduled");
        assert_eq!(r.state.scheduled_time, Some(slot));
        assert_eq!(r.parameters, json!({"n": 2, "keep": true}));
        assert_eq!(r.tags, vec!["auto-scheduled".to_string(), "prod".into()]);
        assert_eq!(r.deployment_name.as_deref(), Some("every-5"));
        assert_eq!(r.work_pool_name.as_deref(), Some("p"));
    }
    // Another schedule of the same deployment has slots of its own.
    let other = Schedule {
        interval_secs: Some(300),
        ..Schedule::default()
    };
    let third = store
        .create_scheduled_flow_runs(&slot_runs(&d, &other, 2))
        .await
        .expect("other schedule");
    assert_eq!(third.len(), 2);
    // A run without a deployment is refused.
    let mut bad = slot_runs(&d, &s, 1);
    bad[0].run.deployment_id = None;
    assert!(matches!(
        store.create_scheduled_flow_runs(&bad).await,
        Err(StoreError::Invalid(_))
    ));
    assert!(
        store
            .create_scheduled_flow_runs(&[])
            .await
            .expect("nothing")
            .is_empty()
    );
}

/// Eight schedulers racing over the same 50 slots: each slot gets one run.
pub async fn concurrent_schedulers_create_each_slot_once<S: Store + Clone>(store: &S) {
    let (d, s) = scheduled_deployment("raced");
    store.create_deployment(&d).await.expect("deployment");
    let mut handles = Vec::new();
    for _ in 0..8 {
        let store = store.clone();
        // Each scheduler builds its own runs (own ids) for the same slots.
        let runs = slot_runs(&d, &s, 50);
        handles.push(tokio::spawn(async move {
            store
                .create_scheduled_flow_runs(&runs)
                .await
                .expect("schedule")
        }));
    }
    let mut created = HashSet::new();
    for h in handles {
        for id in h.await.expect("scheduler") {
            assert!(created.insert(id));
        }
    }
    assert_eq!(created.len(), 50);
    let runs = deployment_runs(store, &d).await;
    assert_eq!(runs.len(), 50);
    let slots: HashSet<_> = runs.iter().map(|r| r.expected_start_time).collect();
    assert_eq!(slots.len(), 50);
}

/// Deleting a deployment's scheduled runs removes only unstarted ones (due
/// from a time, or all; of one schedule, or all) and frees their slots.
pub async fn scheduled_runs_deleted_and_recreated<S: Store>(store: &S) {
    let (d, s) = scheduled_deployment("changing");
    store.create_deployment(&d).await.expect("deployment");
    let (mut d2, s2) = scheduled_deployment("untouched");
    d2.work_pool_name = Some("other".into());
    store.create_deployment(&d2).await.expect("deployment 2");
    let ids = store
        .create_scheduled_flow_runs(&slot_runs(&d, &s, 6))
        .await
        .expect("schedule");
    store
        .create_scheduled_flow_runs(&slot_runs(&d2, &s2, 6))
        .await
        .expect("schedule 2");
    // Slot 0 was claimed by a worker; slot 1 is Late; a hand-made run of
    // the deployment is not the scheduler's.
    let claimed = store
        .claim_flow_runs("p", "w", base_time(), 1, live_after())
        .await
        .expect("claim");
    assert_eq!(claimed.len(), 1);
    assert!(ids.contains(&claimed[0].id));
    let mut late = State::new(StateType::Scheduled, "Late");
    late.scheduled_time = Some(base_time() + Duration::minutes(5));
    store.set_flow_run_state(ids[1], &late).await.expect("late");
    let mut manual = flow_run("etl", "by-hand", 0);
    manual.deployment_id = Some(d.id);
    manual.state = State::scheduled(base_time() + Duration::hours(1));
    store.create_flow_run(&manual).await.expect("manual");
    flush(store).await;
    // Due from slot 3 on: slots 3, 4, 5.
    let n = store
        .delete_scheduled_flow_runs(d.id, Some(s.id), Some(base_time() + Duration::minutes(15)))
        .await
        .expect("delete future");
    assert_eq!(n, 3);
    // Another schedule's id deletes nothing.
    let n = store
        .delete_scheduled_flow_runs(d.id, Some(Uuid::now_v7()), None)
        .await
        .expect("delete other");
    assert_eq!(n, 0);
    // All that have not started: the Late one and slot 2.
    let n = store
        .delete_scheduled_flow_runs(d.id, None, None)
        .await
        .expect("delete all");
    assert_eq!(n, 2);
    let left: Vec<Uuid> = deployment_runs(store, &d)
        .await
        .iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(left.len(), 2);
    assert!(left.contains(&claimed[0].id) && left.contains(&manual.id));
    assert_eq!(deployment_runs(store, &d2).await.len(), 6);
    // The freed slots are scheduled again; the claimed one is kept.
    let again = store
        .create_scheduled_flow_runs(&slot_runs(&d, &s, 6))
        .await
        .expect("reschedule");
    assert_eq!(again.len(), 5);
    // Deleting a run by hand frees its slot too.
    assert!(store.delete_flow_run(again[0]).await.expect("delete run"));
    let once_more = store
        .create_scheduled_flow_runs(&slot_runs(&d, &s, 6))
        .await
        .expect("reschedule");
    assert_eq!(once_more.len(), 1);
}

/// A finished run forced back to `AwaitingRetry` (a retry from the UI)
/// loses its claimer, so a worker of its pool claims it again; a run its
/// worker retries itself (Running to AwaitingRetry) stays with that worker.
pub async fn forced_retry_is_claimed_again<S: Store>(store: &S) {
    let t = us(Utc::now());
    let finished = scheduled_run("p", "finished", t - Duration::seconds(20));
    let retrying = scheduled_run("p", "retrying", t - Duration::seconds(10));
    for r in [&finished, &retrying] {
        store.create_flow_run(r).await.expect("create");
    }
    flush(store).await;
    let claimed = store
        .claim_flow_runs("p", "w1", t, 10, live_after())
        .await
        .expect("claim");
    assert_eq!(claimed.len(), 2);
    for id in [finished.id, retrying.id] {
        store
            .set_flow_run_state(id, &State::running())
            .await
            .expect("running");
    }
    store
        .set_flow_run_state(finished.id, &State::failed("boom"))
        .await
        .expect("failed");
    let mut again = State::scheduled(Utc::now());
    again.name = "AwaitingRetry".into();
    for id in [finished.id, retrying.id] {
        let mut s = again.clone();
        s.id = Uuid::now_v7();
        let outcome = store
            .set_flow_run_state_checked(id, &s, true)
            .await
            .expect("retry");
        assert!(matches!(outcome, Transition::Accepted(_)), "{outcome:?}");
    }
    let later = Utc::now() + Duration::seconds(1);
    let reclaimed = store
        .claim_flow_runs("p", "w2", later, 10, live_after())
        .await
        .expect("reclaim");
    assert_eq!(
        reclaimed.iter().map(|r| r.id).collect::<Vec<_>>(),
        vec![finished.id]
    );
    assert_eq!(reclaimed[0].state.state_type, StateType::Pending);
    // The new claimer owns it: its heartbeats count, the old worker's do not.
    assert!(
        !store
            .release_flow_run(finished.id, "w1")
            .await
            .expect("release")
    );
    assert!(
        store
            .release_flow_run(finished.id, "w2")
            .await
            .expect("release")
    );
}

/// Workers: a heartbeat creates a worker's record and later ones refresh
/// it (keeping its id and first time); listed per pool, newest first;
/// deleted alone or with their pool.
pub async fn workers_heartbeat_list_delete<S: Store>(store: &S) {
    store.create_work_pool(&work_pool("p")).await.expect("pool");
    let t = us(Utc::now());
    store
        .worker_heartbeat("p", "w1", Some(10), t)
        .await
        .expect("beat");
    store
        .worker_heartbeat("p", "w2", None, t + Duration::seconds(1))
        .await
        .expect("beat");
    store
        .worker_heartbeat("q", "w1", Some(5), t)
        .await
        .expect("other pool");
    let first = store.list_workers("p", None, 0).await.expect("list");
    assert_eq!(
        first.iter().map(|w| w.name.as_str()).collect::<Vec<_>>(),
        ["w2", "w1"]
    );
    assert_eq!(first[1].heartbeat_interval_seconds, Some(10));
    assert_eq!(first[0].heartbeat_interval_seconds, None);
    assert_eq!(first[1].last_heartbeat_time, t);
    // A later heartbeat without an interval keeps the one given before.
    store
        .worker_heartbeat("p", "w1", None, t + Duration::seconds(5))
        .await
        .expect("again");
    let now = store.list_workers("p", None, 0).await.expect("list");
    let w1: &Worker = &now[0];
    assert_eq!(w1.name, "w1");
    assert_eq!(w1.id, first[1].id);
    assert_eq!(w1.created, t);
    assert_eq!(w1.last_heartbeat_time, t + Duration::seconds(5));
    assert_eq!(w1.heartbeat_interval_seconds, Some(10));
    assert!(w1.is_online(t + Duration::seconds(34)));
    assert!(!w1.is_online(t + Duration::seconds(36)));
    assert_eq!(
        store
            .list_workers("p", Some(1), 1)
            .await
            .expect("page")
            .len(),
        1
    );
    assert!(matches!(
        store.worker_heartbeat("p", "", None, t).await,
        Err(StoreError::Invalid(_))
    ));
    assert!(store.delete_worker("p", "w2").await.expect("delete"));
    assert!(!store.delete_worker("p", "w2").await.expect("again"));
    assert!(store.delete_work_pool("p").await.expect("pool"));
    assert!(
        store
            .list_workers("p", None, 0)
            .await
            .expect("list")
            .is_empty()
    );
    assert_eq!(store.list_workers("q", None, 0).await.expect("q").len(), 1);
}

/// Unclaimed `Scheduled` runs due before a time become `Late` (type
/// SCHEDULED, same scheduled time), still claimable; others are untouched.
pub async fn late_runs_marked<S: Store>(store: &S) {
    let t = base_time();
    let overdue = scheduled_run("p", "overdue", t - Duration::minutes(10));
    let overdue2 = scheduled_run("p", "overdue-2", t - Duration::minutes(5));
    let future = scheduled_run("p", "future", t + Duration::minutes(5));
    let mut retrying = scheduled_run("p", "awaiting-retry", t - Duration::minutes(10));
    retrying.state.name = "AwaitingRetry".into();
    let claimed = scheduled_run("q", "claimed", t - Duration::minutes(10));
    for r in [&overdue, &overdue2, &future, &retrying, &claimed] {
        store.create_flow_run(r).await.expect("create");
    }
    flush(store).await;
    store
        .claim_flow_runs("q", "w", t, 10, live_after())
        .await
        .expect("claim");
    // Limit 1: the oldest first.
    let now = t + Duration::seconds(1);
    let first = store.mark_late_flow_runs(t, now, 1).await.expect("late");
    assert_eq!(first, vec![overdue.id]);
    let rest = store.mark_late_flow_runs(t, now, 100).await.expect("late");
    assert_eq!(rest, vec![overdue2.id]);
    assert!(
        store
            .mark_late_flow_runs(t, now, 100)
            .await
            .expect("again")
            .is_empty()
    );
    let read = store
        .read_flow_run(overdue.id)
        .await
        .expect("read")
        .expect("present");
    assert_eq!(read.state.state_type, StateType::Scheduled);
    assert_eq!(read.state.name, "Late");
    assert_eq!(read.state.scheduled_time, Some(t - Duration::minutes(10)));
    assert_eq!(
        store
            .read_flow_run_states(overdue.id)
            .await
            .expect("history")
            .len(),
        2
    );
    for (id, name) in [(future.id, "Scheduled"), (retrying.id, "AwaitingRetry")] {
        let r = store
            .read_flow_run(id)
            .await
            .expect("read")
            .expect("present");
        assert_eq!(r.state.name, name);
    }
    // Late runs are still claimed by workers.
    let got = store
        .claim_flow_runs("p", "w", t, 10, live_after())
        .await
        .expect("claim late");
    let got: HashSet<Uuid> = got.into_iter().map(|r| r.id).collect();
    assert!(got.contains(&overdue.id) && got.contains(&overdue2.id));
}

/// Two independent handles on one database (two servers) schedule the
/// same 40 slots at the same time, four times each: 40 runs in all.
pub async fn two_handles_schedule_each_slot_once<A, B>(a: &A, b: &B)
where
    A: Store + Clone + 'static,
    B: Store + Clone + 'static,
{
    let (d, s) = scheduled_deployment("two-servers");
    a.create_deployment(&d).await.expect("deployment");
    let mut handles = Vec::new();
    for i in 0..8 {
        let runs = slot_runs(&d, &s, 40);
        if i % 2 == 0 {
            let a = a.clone();
            handles.push(tokio::spawn(async move {
                a.create_scheduled_flow_runs(&runs).await.expect("a")
            }));
        } else {
            let b = b.clone();
            handles.push(tokio::spawn(async move {
                b.create_scheduled_flow_runs(&runs).await.expect("b")
            }));
        }
    }
    let mut total = 0;
    for h in handles {
        total += h.await.expect("scheduler").len();
    }
    assert_eq!(total, 40);
    for store_runs in [deployment_runs(a, &d).await, deployment_runs(b, &d).await] {
        assert_eq!(store_runs.len(), 40);
        let slots: HashSet<_> = store_runs.iter().map(|r| r.expected_start_time).collect();
        assert_eq!(slots.len(), 40);
    }
}

/// The `live_after` of the claims here: heartbeats of the last minute.
fn live_after() -> DateTime<Utc> {
    Utc::now() - Duration::seconds(60)
}

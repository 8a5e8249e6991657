//! The SQLite backend: the conformance suite on real files, plus what only
//! SQLite can check (file bytes, reopening, the home layout) and an ignored
//! throughput measurement.

use std::time::Instant;

use serde_json::json;
use tempfile::TempDir;
use weft_core::{FlowRun, LogEntry, LogLevel, State, TaskRun};
use weft_store::{RunRecorder, SecretKey, SqliteStore, Store, StoreError};

async fn setup() -> (SqliteStore, TempDir) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = SqliteStore::open(
        &dir.path().join("nested/dir/weft.db"),
        SecretKey::generate(),
    )
    .await
    .expect("open");
    (store, dir)
}

weft_store::store_conformance_tests!(setup);

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secret_plaintext_never_reaches_the_files() {
    let (store, dir) = setup().await;
    let plaintext = "s3cr3t-plaintext-value-7f3a9c";
    store.set_secret("token", plaintext).await.expect("set");
    store
        .set_secret("token", &format!("{plaintext}-v2"))
        .await
        .expect("overwrite");
    assert_eq!(
        store.read_secret("token").await.expect("read").as_deref(),
        Some(&*format!("{plaintext}-v2"))
    );
    let db = dir.path().join("nested/dir/weft.db");
    let wal = dir.path().join("nested/dir/weft.db-wal");
    let wal_bytes = std::fs::read(&wal).expect("the WAL exists while open");
    assert!(
        contains(&wal_bytes, b"token"),
        "the check can see plain text in the WAL"
    );
    assert!(!contains(&wal_bytes, plaintext.as_bytes()));
    store.close().await.expect("close");
    for file in [db, wal] {
        if let Ok(bytes) = std::fs::read(&file) {
            assert!(
                !contains(&bytes, plaintext.as_bytes()),
                "plaintext in {}",
                file.display()
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn data_survives_reopen_and_wrong_key_fails_cleanly() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("weft.db");
    let key = SecretKey::generate();
    let store = SqliteStore::open(&path, key.clone()).await.expect("open");
    let run = FlowRun::new("f", "d", json!({}));
    store.create_flow_run(&run).await.expect("create");
    store.set_secret("s", "v").await.expect("secret");
    store.close().await.expect("close");
    assert!(matches!(
        store.flush().await,
        Err(weft_store::RecordError::Backend(_))
    ));
    assert!(matches!(
        store.set_secret("x", "y").await,
        Err(StoreError::Closed)
    ));

    let store = SqliteStore::open(&path, key).await.expect("reopen");
    assert_eq!(
        store.read_flow_run(run.id).await.expect("read"),
        Some(run.clone())
    );
    assert_eq!(
        store.read_secret("s").await.expect("read").as_deref(),
        Some("v")
    );
    store.close().await.expect("close");

    let store = SqliteStore::open(&path, SecretKey::generate())
        .await
        .expect("reopen");
    assert!(
        store.read_secret("s").await.is_err(),
        "another key cannot decrypt"
    );
    drop(store);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_home_creates_the_layout() {
    if std::env::var_os(weft_store::crypto::SECRET_KEY_ENV).is_some() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let home = dir.path().join("weft-home");
    let store = SqliteStore::open_home(&home).await.expect("open");
    store.set_secret("a", "b").await.expect("secret");
    store.close().await.expect("close");
    assert!(home.join("weft.db").exists());
    assert!(home.join("secret.key").exists());
    let store = SqliteStore::open_home(&home).await.expect("reopen");
    assert_eq!(
        store.read_secret("a").await.expect("read").as_deref(),
        Some("b"),
        "same key reused"
    );
    store.close().await.expect("close");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_the_store_still_commits_queued_writes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("weft.db");
    let key = SecretKey::generate();
    let run = FlowRun::new("f", "d", json!({}));
    {
        let store = SqliteStore::open(&path, key.clone()).await.expect("open");
        store.create_flow_run(&run).await.expect("create");
        // Dropped without flush or close: the writer thread still commits.
    }
    let store = SqliteStore::open(&path, key).await.expect("reopen");
    let deadline = Instant::now() + std::time::Duration::from_secs(10);
    while store.read_flow_run(run.id).await.expect("read").is_none() {
        assert!(Instant::now() < deadline, "the queued write was lost");
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    store.close().await.expect("close");
}

/// Throughput of the writer: `cargo test --release -p weft-store -- --ignored --nocapture`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "measurement, not a test"]
async fn write_throughput() {
    let (store, _dir) = setup().await;
    let run = FlowRun::new("bench", "d", json!({}));
    store.create_flow_run(&run).await.expect("create");

    // Queued writes: create + Running per task run, plus one log line each.
    let n = 20_000u64;
    let started = Instant::now();
    for i in 0..n {
        let task = TaskRun::new(run.id, None, "t", i, json!({"i": i}));
        store.create_task_run(&task).await.expect("create");
        store
            .set_task_run_state(task.id, &State::running())
            .await
            .expect("running");
        store
            .write_logs(vec![LogEntry {
                name: "t".into(),
                level: LogLevel::Info,
                message: "hello".into(),
                timestamp: chrono::Utc::now(),
                flow_run_id: run.id,
                task_run_id: Some(task.id),
            }])
            .await
            .expect("log");
    }
    store.flush().await.expect("flush");
    let secs = started.elapsed().as_secs_f64();
    println!(
        "queued writes: {:.0} writes/s ({} writes in {secs:.3} s)",
        (3 * n) as f64 / secs,
        3 * n
    );

    // Whole task runs (create, Running, Completed awaited) from 64 concurrent tasks.
    let per = 500u64;
    let workers = 64u64;
    let started = Instant::now();
    let mut handles = Vec::new();
    for w in 0..workers {
        let store = store.clone();
        let flow_run_id = run.id;
        handles.push(tokio::spawn(async move {
            for i in 0..per {
                let task = TaskRun::new(flow_run_id, None, "c", w * per + i + n, json!(i));
                store.create_task_run(&task).await.expect("create");
                store
                    .set_task_run_state(task.id, &State::running())
                    .await
                    .expect("running");
                store
                    .set_task_run_state(task.id, &State::completed(json!(i)))
                    .await
                    .expect("completed");
            }
        }));
    }
    for h in handles {
        h.await.expect("task");
    }
    let secs = started.elapsed().as_secs_f64();
    let tasks = (workers * per) as f64;
    println!(
        "concurrent task runs: {:.0} task runs/s = {:.0} writes/s, {:.1} us per task run",
        tasks / secs,
        3.0 * tasks / secs,
        secs * 1e6 / tasks
    );

    // One task run at a time, each waiting for its Completed commit.
    let m = 2_000u64;
    let started = Instant::now();
    for i in 0..m {
        let task = TaskRun::new(run.id, None, "s", i, json!(i));
        store.create_task_run(&task).await.expect("create");
        store
            .set_task_run_state(task.id, &State::running())
            .await
            .expect("running");
        store
            .set_task_run_state(task.id, &State::completed(json!(i)))
            .await
            .expect("completed");
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "sequential task runs: {:.1} us per task run (create + Running + committed Completed)",
        secs * 1e6 / m as f64
    );
    store.close().await.expect("close");
}

/// Two processes' worth of stores (two writers) on one file schedule the
/// same slots at once; each slot gets one run.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_handles_schedule_each_slot_once() {
    let (a, dir) = setup().await;
    let b = SqliteStore::open(a.path(), SecretKey::generate())
        .await
        .expect("second handle");
    weft_store::conformance::two_handles_schedule_each_slot_once(&a, &b).await;
    drop(dir);
}

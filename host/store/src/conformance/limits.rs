//! Conformance checks of concurrency limits: limits, leases, waiting, and
//! the flow-run limits of deployments and work pools at claim time.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration as StdDuration;

use chrono::{Duration, Utc};
use uuid::Uuid;
use weft_core::concurrency::AWAITING_SLOT;
use weft_core::{
    ConcurrencyLimit, FlowRun, RecordError, SlotGrant, SlotHolder, SlotRequest, State, StateType,
};

use super::{deployment, flush, live_after, scheduled_run, us, work_pool};
use crate::{LogFilter, Store, StoreError};

fn request(names: &[&str], lease_ms: u64) -> SlotRequest {
    SlotRequest {
        names: names.iter().map(|n| n.to_string()).collect(),
        slots: 1,
        lease: StdDuration::from_millis(lease_ms),
        holder: Some(SlotHolder::task_run(Uuid::now_v7())),
        wait: StdDuration::ZERO,
    }
}

async fn lease_of<S: Store>(store: &S, r: &SlotRequest) -> Option<Uuid> {
    match store.acquire_slots(r).await.expect("acquire") {
        SlotGrant::Acquired { lease_id, .. } => {
            Some(lease_id.expect("a limited request gets a lease"))
        }
        SlotGrant::Busy { .. } => None,
    }
}

async fn active<S: Store>(store: &S, name: &str) -> u32 {
    store
        .read_concurrency_limit_by_name(name)
        .await
        .expect("read")
        .expect("limit exists")
        .active_slots
}

/// Limits: create (conflict on the name), read by id and name, list,
/// update, delete.
pub async fn concurrency_limits_crud<S: Store>(store: &S) {
    let a = store
        .create_concurrency_limit(&ConcurrencyLimit::new("tag:db", 2))
        .await
        .expect("create");
    assert_eq!((a.name.as_str(), a.limit, a.active), ("tag:db", 2, true));
    assert_eq!(a.active_slots, 0);
    match store
        .create_concurrency_limit(&ConcurrencyLimit::new("tag:db", 5))
        .await
    {
        Err(StoreError::Conflict(m)) => assert!(m.contains("tag:db"), "{m}"),
        other => panic!("expected a conflict, got {other:?}"),
    }
    store
        .create_concurrency_limit(&ConcurrencyLimit::new("api", 1))
        .await
        .expect("create");
    let names: Vec<String> = store
        .list_concurrency_limits(None, 0)
        .await
        .expect("list")
        .into_iter()
        .map(|l| l.name)
        .collect();
    assert_eq!(names, ["api", "tag:db"]);
    let page = store
        .list_concurrency_limits(Some(1), 1)
        .await
        .expect("page");
    assert_eq!(page.len(), 1);
    assert_eq!(page[0].name, "tag:db");

    let mut changed = store
        .read_concurrency_limit(a.id)
        .await
        .expect("read")
        .expect("found");
    changed.limit = 7;
    changed.active = false;
    assert!(
        store
            .update_concurrency_limit(&changed)
            .await
            .expect("update")
    );
    let read = store
        .read_concurrency_limit_by_name("tag:db")
        .await
        .expect("read")
        .expect("found");
    assert_eq!((read.limit, read.active, read.id), (7, false, a.id));
    assert!(store.delete_concurrency_limit(a.id).await.expect("delete"));
    assert!(!store.delete_concurrency_limit(a.id).await.expect("again"));
    assert!(
        store
            .read_concurrency_limit(a.id)
            .await
            .expect("read")
            .is_none()
    );
}

/// Leases: a full limit is busy, a release or an expiry frees a slot,
/// renewals extend, all or nothing over several limits, unknown and
/// inactive limits are not counted, asking more than a limit has is
/// invalid, and reset releases everything.
pub async fn concurrency_leases<S: Store>(store: &S) {
    store
        .create_concurrency_limit(&ConcurrencyLimit::new("tag:db", 2))
        .await
        .expect("create");
    let api = store
        .create_concurrency_limit(&ConcurrencyLimit::new("tag:api", 1))
        .await
        .expect("create");

    // Names without a limit: granted with no lease.
    match store
        .acquire_slots(&request(&["tag:none"], 60_000))
        .await
        .expect("acquire")
    {
        SlotGrant::Acquired { lease_id, limits } => {
            assert!(lease_id.is_none());
            assert!(limits.is_empty());
        }
        other => panic!("expected a grant, got {other:?}"),
    }

    let r1 = request(&["tag:db"], 60_000);
    let first = lease_of(store, &r1).await.expect("first slot");
    let second = lease_of(store, &request(&["tag:db", "tag:none"], 60_000))
        .await
        .expect("second slot");
    assert_eq!(active(store, "tag:db").await, 2);
    match store.acquire_slots(&r1).await.expect("acquire") {
        SlotGrant::Busy { limit, active, .. } => {
            assert_eq!((limit.name.as_str(), limit.limit, active), ("tag:db", 2, 2));
        }
        other => panic!("expected busy, got {other:?}"),
    }
    let denied = store
        .read_concurrency_limit_by_name("tag:db")
        .await
        .expect("read")
        .expect("found")
        .denied_slots;
    assert_eq!(denied, 1);

    // The holders are listed.
    let leases = store
        .concurrency_leases(
            store
                .read_concurrency_limit_by_name("tag:db")
                .await
                .expect("read")
                .expect("found")
                .id,
        )
        .await
        .expect("leases");
    assert_eq!(leases.len(), 2);
    assert_eq!(leases[0].id, first);
    assert_eq!(leases[0].holder, r1.holder);

    // All or nothing: db is full, so api's free slot is not taken.
    assert!(
        lease_of(store, &request(&["tag:api", "tag:db"], 60_000))
            .await
            .is_none()
    );
    assert_eq!(active(store, "tag:api").await, 0);

    // A release frees a slot.
    store.release_lease(first).await.expect("release");
    assert_eq!(active(store, "tag:db").await, 1);
    let third = lease_of(store, &r1).await.expect("slot after a release");
    assert!(
        !store
            .renew_lease(first, StdDuration::from_secs(60))
            .await
            .expect("renew")
    );
    assert!(
        store
            .renew_lease(third, StdDuration::from_secs(60))
            .await
            .expect("renew")
    );

    // An expired lease frees its slot by itself, and cannot be renewed.
    let short = lease_of(store, &request(&["tag:api"], 150))
        .await
        .expect("api");
    assert!(
        lease_of(store, &request(&["tag:api"], 60_000))
            .await
            .is_none()
    );
    tokio::time::sleep(StdDuration::from_millis(400)).await;
    assert!(
        !store
            .renew_lease(short, StdDuration::from_secs(60))
            .await
            .expect("renew")
    );
    assert_eq!(active(store, "tag:api").await, 0);
    let api_lease = lease_of(store, &request(&["tag:api"], 60_000))
        .await
        .expect("slot after expiry");

    // An inactive limit is not counted.
    let mut inactive = store
        .read_concurrency_limit(api.id)
        .await
        .expect("read")
        .expect("found");
    inactive.active = false;
    store
        .update_concurrency_limit(&inactive)
        .await
        .expect("update");
    match store
        .acquire_slots(&request(&["tag:api"], 60_000))
        .await
        .expect("acquire")
    {
        SlotGrant::Acquired { lease_id, .. } => assert!(lease_id.is_none()),
        other => panic!("expected a grant, got {other:?}"),
    }

    // More slots than a limit has can never succeed.
    let mut greedy = request(&["tag:db"], 60_000);
    greedy.slots = 3;
    match store.acquire_slots(&greedy).await {
        Err(RecordError::Invalid(m)) => assert!(m.contains("which has 2"), "{m}"),
        other => panic!("expected invalid, got {other:?}"),
    }

    // Reset releases every lease of a limit.
    let db = store
        .read_concurrency_limit_by_name("tag:db")
        .await
        .expect("read")
        .expect("found");
    assert_eq!(
        store.reset_concurrency_limit(db.id).await.expect("reset"),
        2
    );
    assert_eq!(active(store, "tag:db").await, 0);
    let _ = (second, api_lease);
}

/// A waiter is woken as soon as a slot is released, and one that times
/// out gets busy.
pub async fn concurrency_waiters_wake_on_release<S: Store>(store: &S) {
    store
        .create_concurrency_limit(&ConcurrencyLimit::new("tag:one", 1))
        .await
        .expect("create");
    let held = lease_of(store, &request(&["tag:one"], 60_000))
        .await
        .expect("slot");
    let mut brief = request(&["tag:one"], 60_000);
    brief.wait = StdDuration::from_millis(200);
    let started = std::time::Instant::now();
    assert!(matches!(
        store.acquire_slots(&brief).await.expect("acquire"),
        SlotGrant::Busy { .. }
    ));
    assert!(started.elapsed() >= StdDuration::from_millis(200));

    let mut patient = request(&["tag:one"], 60_000);
    patient.wait = StdDuration::from_secs(30);
    let started = std::time::Instant::now();
    let (grant, ()) = tokio::join!(store.acquire_slots(&patient), async {
        tokio::time::sleep(StdDuration::from_millis(100)).await;
        store.release_lease(held).await.expect("release");
    });
    assert!(matches!(
        grant.expect("acquire"),
        SlotGrant::Acquired {
            lease_id: Some(_),
            ..
        }
    ));
    // Woken by the release, not by the 30 s wait running out.
    assert!(
        started.elapsed() < StdDuration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
}

/// Many concurrent requests never hold more slots than the limit.
pub async fn concurrent_requests_never_exceed_a_limit<S: Store>(store: &S) {
    store
        .create_concurrency_limit(&ConcurrencyLimit::new("tag:pair", 2))
        .await
        .expect("create");
    let holding = Arc::new(AtomicU32::new(0));
    let most = Arc::new(AtomicU32::new(0));
    let rounds = 5;
    let mut work = Vec::new();
    for _ in 0..8 {
        let (holding, most) = (holding.clone(), most.clone());
        work.push(async move {
            for _ in 0..rounds {
                let mut r = request(&["tag:pair"], 60_000);
                r.wait = StdDuration::from_secs(30);
                let Ok(SlotGrant::Acquired {
                    lease_id: Some(lease),
                    ..
                }) = store.acquire_slots(&r).await
                else {
                    panic!("a waiting request gets its slot");
                };
                let now = holding.fetch_add(1, Ordering::SeqCst) + 1;
                most.fetch_max(now, Ordering::SeqCst);
                tokio::time::sleep(StdDuration::from_millis(5)).await;
                holding.fetch_sub(1, Ordering::SeqCst);
                store.release_lease(lease).await.expect("release");
            }
        });
    }
    join_all(work).await;
    assert_eq!(most.load(Ordering::SeqCst), 2);
    assert_eq!(active(store, "tag:pair").await, 0);
}

/// Runs `work` concurrently on this task until all of it is done.
async fn join_all<F: std::future::Future<Output = ()>>(work: Vec<F>) {
    let mut pending: Vec<_> = work.into_iter().map(|w| Some(Box::pin(w))).collect();
    std::future::poll_fn(|cx| {
        let mut left = false;
        for slot in pending.iter_mut() {
            if let Some(f) = slot {
                if f.as_mut().poll(cx).is_ready() {
                    *slot = None;
                } else {
                    left = true;
                }
            }
        }
        if left {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
}

fn ids(v: Vec<FlowRun>) -> Vec<Uuid> {
    v.into_iter().map(|r| r.id).collect()
}

/// Claims respect deployments' and pools' flow-run limits: a full limit
/// skips to runs with room, waiting runs are renamed once with a log
/// line, an ended run frees its slot, and runs whose heartbeat is older
/// than `live_after` hold none.
pub async fn claims_respect_flow_run_limits<S: Store>(store: &S) {
    let t = us(Utc::now());
    let mut limited = deployment("one-at-a-time", "f");
    limited.concurrency_limit = Some(1);
    limited.work_pool_name = Some("p".into());
    let limited = store.create_deployment(&limited).await.expect("deploy");
    let mut runs = Vec::new();
    for i in 0..3 {
        let mut r = scheduled_run("p", &format!("limited-{i}"), t - Duration::seconds(30 - i));
        r.deployment_id = Some(limited.id);
        runs.push(r);
    }
    let free = scheduled_run("p", "free", t - Duration::seconds(10));
    for r in runs.iter().chain([&free]) {
        store.create_flow_run(r).await.expect("create");
    }
    flush(store).await;

    let claimed = store
        .claim_flow_runs("p", "w1", t, 10, live_after())
        .await
        .expect("claim");
    assert_eq!(ids(claimed), vec![runs[0].id, free.id]);
    for waiting in &runs[1..] {
        let run = store
            .read_flow_run(waiting.id)
            .await
            .expect("read")
            .expect("found");
        assert_eq!(run.state.state_type, StateType::Scheduled);
        assert_eq!(run.state.name, AWAITING_SLOT);
        assert!(
            run.state
                .message
                .as_deref()
                .unwrap_or_default()
                .contains("concurrency limit of 1"),
            "{:?}",
            run.state.message
        );
        let logs = store
            .read_logs(&LogFilter {
                flow_run_ids: Some(vec![waiting.id]),
                ..Default::default()
            })
            .await
            .expect("logs");
        assert_eq!(logs.len(), 1, "one log line per waiting run");
        assert!(logs[0].message.contains("waits for a concurrency slot"));
    }
    // Still full: nothing more, and no second log line.
    assert!(
        store
            .claim_flow_runs("p", "w2", t, 10, live_after())
            .await
            .expect("claim")
            .is_empty()
    );
    let logs = store
        .read_logs(&LogFilter {
            flow_run_ids: Some(vec![runs[1].id]),
            ..Default::default()
        })
        .await
        .expect("logs");
    assert_eq!(logs.len(), 1);

    // The running one ends: the next takes its slot.
    store
        .set_flow_run_state(runs[0].id, &State::completed(serde_json::Value::Null))
        .await
        .expect("complete");
    flush(store).await;
    let claimed = store
        .claim_flow_runs("p", "w2", t, 10, live_after())
        .await
        .expect("claim");
    assert_eq!(ids(claimed), vec![runs[1].id]);

    // A worker that stopped heartbeating holds no slot.
    let claimed = store
        .claim_flow_runs("p", "w3", t, 10, Utc::now() + Duration::seconds(1))
        .await
        .expect("claim");
    assert_eq!(ids(claimed), vec![runs[2].id]);
}

/// A work pool's limit bounds its claimed, active runs.
pub async fn claims_respect_pool_limits<S: Store>(store: &S) {
    let t = us(Utc::now());
    let mut pool = work_pool("small");
    pool.concurrency_limit = Some(2);
    store.create_work_pool(&pool).await.expect("pool");
    let runs: Vec<FlowRun> = (0..4)
        .map(|i| scheduled_run("small", &format!("r{i}"), t - Duration::seconds(10 - i)))
        .collect();
    for r in &runs {
        store.create_flow_run(r).await.expect("create");
    }
    flush(store).await;
    let first = store
        .claim_flow_runs("small", "w1", t, 1, live_after())
        .await
        .expect("claim");
    assert_eq!(ids(first), vec![runs[0].id]);
    let second = store
        .claim_flow_runs("small", "w2", t, 10, live_after())
        .await
        .expect("claim");
    assert_eq!(ids(second), vec![runs[1].id]);
    for r in &runs[2..] {
        let run = store
            .read_flow_run(r.id)
            .await
            .expect("read")
            .expect("found");
        assert_eq!(run.state.name, AWAITING_SLOT);
        assert!(
            run.state
                .message
                .as_deref()
                .unwrap_or_default()
                .contains("\"small\""),
            "{:?}",
            run.state.message
        );
    }
    store
        .set_flow_run_state(runs[1].id, &State::failed("boom"))
        .await
        .expect("fail");
    flush(store).await;
    let third = store
        .claim_flow_runs("small", "w1", t, 10, live_after())
        .await
        .expect("claim");
    assert_eq!(ids(third), vec![runs[2].id]);
}

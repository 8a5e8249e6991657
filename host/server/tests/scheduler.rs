//! The scheduler on a controlled clock: exactly the expected runs for a
//! window, never twice for a slot, paused schedules and deployments get
//! none, overdue runs become Late; and the schedule routes over HTTP (bad
//! input is a 422, pause deletes coming runs, resume recreates them).

mod common;

use std::sync::Arc;

use chrono::{DateTime, Utc};
use common::{assert_error, start_with};
use reqwest::{Method, StatusCode};
use serde_json::json;
use weft_core::{Deployment, FlowRun, Schedule, StateType};
use weft_server::ServerConfig;
use weft_server::scheduler::{ManualClock, Scheduler, SchedulerConfig};
use weft_store::{FlowRunFilter, SqliteStore, Store};

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

async fn store() -> (Arc<dyn Store>, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open_home(dir.path()).await.unwrap());
    (store, dir)
}

async fn runs(store: &Arc<dyn Store>, d: &Deployment) -> Vec<FlowRun> {
    let mut runs = store
        .list_flow_runs(&FlowRunFilter {
            deployment_ids: Some(vec![d.id]),
            limit: Some(10_000),
            ..Default::default()
        })
        .await
        .unwrap();
    runs.sort_by_key(|r| r.expected_start_time);
    runs
}

fn starts(runs: &[FlowRun]) -> Vec<DateTime<Utc>> {
    runs.iter().filter_map(|r| r.expected_start_time).collect()
}

async fn deployment(store: &Arc<dyn Store>, name: &str, schedules: Vec<Schedule>) -> Deployment {
    let mut d = Deployment::new(name, "etl", "digest");
    d.work_pool_name = Some("p".into());
    d.schedules = schedules;
    store.create_deployment(&d).await.unwrap()
}

fn cron(expr: &str, tz: &str) -> Schedule {
    Schedule {
        cron: Some(expr.into()),
        timezone: Some(tz.into()),
        ..Schedule::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_window_gets_exactly_its_slots_once() {
    let (store, _dir) = store().await;
    // 09:00 Paris every day, across the spring DST change.
    let daily = deployment(&store, "daily", vec![cron("0 9 * * *", "Europe/Paris")]).await;
    let clock = Arc::new(ManualClock::new(utc("2025-03-28T12:00:00Z")));
    let s = Scheduler::with_clock(store.clone(), SchedulerConfig::default(), clock.clone());
    let from = utc("2025-03-28T00:00:00Z");
    let to = utc("2025-04-01T00:00:00Z");
    let created = s.schedule_window(from, to).await.unwrap();
    assert_eq!(created.len(), 4);
    let expected = [
        utc("2025-03-28T08:00:00Z"),
        utc("2025-03-29T08:00:00Z"),
        utc("2025-03-30T07:00:00Z"),
        utc("2025-03-31T07:00:00Z"),
    ];
    assert_eq!(starts(&runs(&store, &daily).await), expected);
    // The same window again, and an overlapping one: nothing new but the
    // one slot not seen yet.
    assert!(s.schedule_window(from, to).await.unwrap().is_empty());
    let more = s
        .schedule_window(from, utc("2025-04-02T00:00:00Z"))
        .await
        .unwrap();
    assert_eq!(more.len(), 1);
    // Two schedulers (two servers) over one store, at once.
    let other = Scheduler::with_clock(store.clone(), SchedulerConfig::default(), clock.clone());
    let far = utc("2025-05-01T00:00:00Z");
    let (a, b) = tokio::join!(
        s.schedule_window(from, far),
        other.schedule_window(from, far)
    );
    assert_eq!(a.unwrap().len() + b.unwrap().len(), 29);
    let all = starts(&runs(&store, &daily).await);
    assert_eq!(all.len(), 34);
    let unique: std::collections::HashSet<_> = all.iter().collect();
    assert_eq!(unique.len(), all.len());
    for r in runs(&store, &daily).await {
        assert_eq!(r.state.state_type, StateType::Scheduled);
        assert_eq!(r.state.name, "Scheduled");
        assert_eq!(r.state.scheduled_time, r.expected_start_time);
        assert_eq!(r.tags, vec!["auto-scheduled".to_string()]);
        assert_eq!(r.work_pool_name.as_deref(), Some("p"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ticks_schedule_ahead_skip_paused_and_mark_late() {
    let (store, _dir) = store().await;
    let every5 = deployment(&store, "every-5", vec![cron("*/5 * * * *", "Europe/Paris")]).await;
    let mut inactive = cron("* * * * *", "UTC");
    inactive.active = false;
    let paused_schedule = deployment(&store, "inactive", vec![inactive]).await;
    let mut paused = Deployment::new("paused", "etl", "digest");
    paused.schedules = vec![cron("* * * * *", "UTC")];
    paused.paused = true;
    let paused = store.create_deployment(&paused).await.unwrap();
    let interval = deployment(
        &store,
        "hourly",
        vec![Schedule {
            interval_secs: Some(3600),
            anchor_date: Some(utc("2025-01-01T00:30:00Z")),
            ..Schedule::default()
        }],
    )
    .await;

    let clock = Arc::new(ManualClock::new(utc("2025-06-01T10:02:00Z")));
    let s = Scheduler::with_clock(store.clone(), SchedulerConfig::default(), clock.clone());
    let first = s.tick().await.unwrap();
    // Every 5 minutes: 10:05 through 11:05 (at least an hour ahead); hourly
    // at :30: three (at least three runs).
    let five = starts(&runs(&store, &every5).await);
    assert_eq!(five.len(), 13);
    assert_eq!(five[0], utc("2025-06-01T10:05:00Z"));
    assert_eq!(five[12], utc("2025-06-01T11:05:00Z"));
    assert_eq!(
        starts(&runs(&store, &interval).await),
        [
            utc("2025-06-01T10:30:00Z"),
            utc("2025-06-01T11:30:00Z"),
            utc("2025-06-01T12:30:00Z")
        ]
    );
    assert_eq!(first.created.len(), 16);
    assert!(runs(&store, &paused_schedule).await.is_empty());
    assert!(runs(&store, &paused).await.is_empty());
    assert!(first.late.is_empty());

    // The same instant again: nothing new. At 10:05:10: one more slot
    // (11:10) and nothing late yet (10:05 is due, not 15 s overdue).
    assert_eq!(s.tick().await.unwrap(), Default::default());
    clock.set(utc("2025-06-01T10:05:10Z"));
    let t = s.tick().await.unwrap();
    assert_eq!(t.created.len(), 1);
    assert!(t.late.is_empty());
    // 10:05:16: the 10:05 run is late.
    clock.set(utc("2025-06-01T10:05:16Z"));
    let t = s.tick().await.unwrap();
    assert_eq!(t.late.len(), 1);
    let late = store.read_flow_run(t.late[0]).await.unwrap().unwrap();
    assert_eq!(late.expected_start_time, Some(utc("2025-06-01T10:05:00Z")));
    assert_eq!(late.state.state_type, StateType::Scheduled);
    assert_eq!(late.state.name, "Late");
    assert_eq!(late.state.scheduled_time, Some(utc("2025-06-01T10:05:00Z")));
    // A claimed run never becomes late; a late run is still claimed.
    clock.set(utc("2025-06-01T10:40:00Z"));
    let claimed = store
        .claim_flow_runs(
            "p",
            "w",
            utc("2025-06-01T10:10:00Z"),
            10,
            Utc::now() - chrono::Duration::seconds(90),
        )
        .await
        .unwrap();
    assert_eq!(claimed.len(), 2, "10:05 (late) and 10:10");
    let t = s.tick().await.unwrap();
    // 10:15 .. 10:35 of every-5, 10:30 of hourly.
    assert_eq!(t.late.len(), 6);
}

async fn api_server() -> common::Server {
    start_with(ServerConfig {
        scheduler: Some(SchedulerConfig::default()),
        ..ServerConfig::default()
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schedule_routes_validate_pause_and_resume() {
    let s = api_server().await;
    let flow_id = s.flow("etl").await;
    // Bad input: 422 with a message naming the problem.
    for (schedule, needle) in [
        (json!({"cron": "61 * * * *"}), "invalid cron expression"),
        (
            json!({"cron": "0 9 * * *", "timezone": "Mars/Olympus"}),
            "Mars/Olympus",
        ),
        (json!({"interval": 0}), "interval"),
        (json!({"interval": 1.5}), "whole number"),
        (json!({"rrule": "FREQ=SOMETIMES"}), "invalid rrule"),
        (json!({"cron": "* * * * *", "interval": 60}), "exactly one"),
        (json!({}), "exactly one"),
    ] {
        let got = s
            .post(
                "/deployments/",
                json!({"name": "bad", "flow_id": flow_id, "work_pool_name": "p",
                       "schedules": [{"schedule": schedule}]}),
            )
            .await;
        assert_error(got, StatusCode::UNPROCESSABLE_ENTITY, needle);
    }
    // A deployment with a cron schedule in Paris and an interval one (both
    // daily: the runs they get stay the same for the whole test).
    let (st, d) = s
        .post(
            "/deployments/",
            json!({"name": "sched", "flow_id": flow_id, "work_pool_name": "p",
                   "schedules": [
                       {"schedule": {"cron": "0 9 * * *", "timezone": "Europe/Paris"}},
                       {"schedule": {"interval": 86400, "anchor_date": "2025-01-01T00:00:00Z"},
                        "slug": "hourly", "parameters": {"who": "hourly"}}]}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{d}");
    let id = d["id"].as_str().unwrap().to_string();
    assert_eq!(d["schedules"][0]["schedule"]["cron"], "0 9 * * *");
    assert_eq!(d["schedules"][0]["schedule"]["timezone"], "Europe/Paris");
    assert_eq!(d["schedules"][0]["schedule"]["day_or"], true);
    assert_eq!(d["schedules"][1]["schedule"]["interval"], 86400.0);
    assert_eq!(
        d["schedules"][1]["schedule"]["anchor_date"],
        "2025-01-01T00:00:00Z"
    );
    assert_eq!(d["schedules"][1]["slug"], "hourly");
    let cron_id = d["schedules"][0]["id"].as_str().unwrap().to_string();
    let uuid = id.parse().unwrap();
    // Runs were created at once (no need to wait for a tick).
    let count = |runs: &[FlowRun], schedule_tag: Option<&str>| {
        runs.iter()
            .filter(|r| {
                schedule_tag
                    .is_none_or(|w| r.parameters.get("who").and_then(|v| v.as_str()) == Some(w))
            })
            .count()
    };
    let dep = s.store.read_deployment(uuid).await.unwrap().unwrap();
    let before = runs(&s.store, &dep).await;
    // At least three runs each (Prefect's minimum), the cron ones at 09:00
    // in Paris (08:00 or 07:00 UTC).
    assert_eq!(count(&before, None), 6);
    assert_eq!(count(&before, Some("hourly")), 3);
    for r in before.iter().filter(|r| r.parameters.get("who").is_none()) {
        let t = r.expected_start_time.unwrap();
        assert!(
            t.format("%M:%S").to_string() == "00:00"
                && ["07", "08"].contains(&&*t.format("%H").to_string()),
            "{t}"
        );
    }
    // Scheduling now again creates nothing: every slot has its run.
    let (st, created) = s
        .post(&format!("/deployments/{id}/schedule"), json!({}))
        .await;
    assert_eq!(st, StatusCode::OK, "{created}");
    assert_eq!(created, json!([]));

    // Pause the cron schedule: its coming runs go, the hourly ones stay.
    let (st, _) = s
        .call(
            Method::PATCH,
            &format!("/deployments/{id}/schedules/{cron_id}"),
            Some(json!({"active": false})),
        )
        .await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    let paused = runs(&s.store, &dep).await;
    assert_eq!(count(&paused, None), count(&paused, Some("hourly")));
    let (_, list) = s.get(&format!("/deployments/{id}/schedules")).await;
    assert_eq!(list[0]["active"], false);
    assert_eq!(list[1]["active"], true);
    let (_, created) = s
        .post(&format!("/deployments/{id}/schedule"), json!({}))
        .await;
    assert_eq!(created, json!([]), "a paused schedule gets no runs");

    // Resume: its runs are back.
    let (st, _) = s
        .call(
            Method::PATCH,
            &format!("/deployments/{id}/schedules/{cron_id}"),
            Some(json!({"active": true})),
        )
        .await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    let resumed = runs(&s.store, &dep).await;
    assert_eq!(count(&resumed, None), 6);

    // Add an RRule schedule, then delete it: its runs go with it.
    let (st, added) = s
        .post(
            &format!("/deployments/{id}/schedules"),
            json!([{"schedule": {"rrule": "FREQ=DAILY;BYHOUR=6;BYMINUTE=0;BYSECOND=0",
                                 "timezone": "Europe/Paris"},
                    "parameters": {"who": "rrule"}}]),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{added}");
    let rrule_id = added[0]["id"].as_str().unwrap().to_string();
    let with_rrule = runs(&s.store, &dep).await;
    assert_eq!(count(&with_rrule, Some("rrule")), 3);
    let (st, _) = s
        .call(
            Method::DELETE,
            &format!("/deployments/{id}/schedules/{rrule_id}"),
            None,
        )
        .await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    assert_eq!(count(&runs(&s.store, &dep).await, Some("rrule")), 0);
    assert_error(
        s.call(
            Method::DELETE,
            &format!("/deployments/{id}/schedules/{rrule_id}"),
            None,
        )
        .await,
        StatusCode::NOT_FOUND,
        "schedule",
    );
    // A bad patch is a 422 and changes nothing.
    assert_error(
        s.call(
            Method::PATCH,
            &format!("/deployments/{id}/schedules/{cron_id}"),
            Some(json!({"schedule": {"cron": "0 9 * * *", "timezone": "Nowhere/Land"}})),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "Nowhere/Land",
    );
    // Re-deploying the same schedules keeps their ids (and runs).
    let (st, again) = s
        .post(
            "/deployments/",
            json!({"name": "sched", "flow_id": flow_id, "work_pool_name": "p",
                   "schedules": [
                       {"schedule": {"cron": "0 9 * * *", "timezone": "Europe/Paris"}},
                       {"schedule": {"interval": 86400, "anchor_date": "2025-01-01T00:00:00Z"},
                        "slug": "hourly", "parameters": {"who": "hourly"}}]}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{again}");
    assert_eq!(again["schedules"][0]["id"], cron_id.as_str());
    assert_eq!(
        runs(&s.store, &dep).await.len(),
        count(&resumed, None),
        "no run deleted or added"
    );
}

#[tokio::test]
async fn runs_of_workers_that_stopped_heartbeating_end_crashed() {
    let (store, _dir) = store().await;
    let now = Utc::now();
    let mut run = FlowRun::new("etl", "digest", json!({}));
    run.work_pool_name = Some("p".into());
    run.state = weft_core::State::scheduled(now - chrono::Duration::seconds(1));
    store.create_flow_run(&run).await.unwrap();
    store.flush().await.unwrap();
    let claimed = store
        .claim_flow_runs("p", "w", now, 1, now - chrono::Duration::seconds(90))
        .await
        .unwrap();
    assert_eq!(claimed.len(), 1);

    // Within the threshold: untouched.
    let clock = Arc::new(ManualClock::new(now + chrono::Duration::seconds(30)));
    let scheduler = Scheduler::with_clock(store.clone(), SchedulerConfig::default(), clock.clone());
    assert!(scheduler.tick().await.unwrap().crashed.is_empty());

    // Past it: Crashed, with a reason, once.
    clock.advance(chrono::Duration::seconds(120));
    assert_eq!(scheduler.tick().await.unwrap().crashed, vec![run.id]);
    let read = store.read_flow_run(run.id).await.unwrap().unwrap();
    assert_eq!(read.state.state_type, StateType::Crashed);
    assert!(
        read.state
            .message
            .as_deref()
            .unwrap_or_default()
            .contains("stopped heartbeating"),
        "{:?}",
        read.state.message
    );
    assert!(scheduler.tick().await.unwrap().crashed.is_empty());
}

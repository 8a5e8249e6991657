//! Schedules end to end: a real `weft server start` (its scheduler on a
//! short interval), `weft deploy --cron ... --timezone ...`, `weft
//! deployment schedule ls|pause|resume`, and Late marking. Waits are
//! bounded polls ([`support::DEADLINE`]); the schedules used are daily, so
//! the runs they get cannot change while a test runs.

mod support;

use serde_json::{Value, json};
use support::{Weft, block_on, eventually};
use weft_test_support::example_wasm;
use weft_worker::ApiClient;

async fn runs_of(api: &ApiClient, deployment_id: &str) -> Vec<Value> {
    let body = json!({
        "flow_runs": { "deployment_id": { "any_": [deployment_id] } },
        "sort": "EXPECTED_START_TIME_ASC",
        "limit": 200,
    });
    api.post(&["flow_runs", "filter"], &body)
        .await
        .expect("filter flow runs")
}

fn deployment_id(weft: &Weft, flow: &str, name: &str) -> String {
    let d: Value =
        block_on(weft.api().get(&["deployments", "name", flow, name])).expect("deployment");
    d["id"].as_str().expect("id").to_string()
}

#[test]
fn deploy_with_cron_in_paris_then_pause_and_resume() {
    let weft = Weft::new();
    let _server = weft.start_server(&["--scheduler-interval", "0.2"]);
    weft.ok(&["work-pool", "create", "sched"]);
    let wasm = example_wasm("hello");
    let wasm = wasm.to_str().expect("utf-8 path");

    // A bad cron or time zone is refused with a clear message.
    for (flag, value, needle) in [
        ("--cron", "61 * * * *", "invalid cron expression"),
        ("--rrule", "FREQ=SOMETIMES", "invalid rrule"),
    ] {
        let out = weft.run(&[
            "deploy",
            wasm,
            "--flow",
            "my_first_flow",
            "--name",
            "bad",
            "--pool",
            "sched",
            flag,
            value,
        ]);
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(needle), "{err}");
    }
    let out = weft.run(&[
        "deploy",
        wasm,
        "--flow",
        "my_first_flow",
        "--name",
        "bad",
        "--pool",
        "sched",
        "--cron",
        "0 9 * * *",
        "--timezone",
        "Mars/Olympus",
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("Mars/Olympus"));

    // 09:00 in Paris every day.
    let out = weft.ok(&[
        "deploy",
        wasm,
        "--flow",
        "my_first_flow",
        "--name",
        "morning",
        "--pool",
        "sched",
        "--cron",
        "0 9 * * *",
        "--timezone",
        "Europe/Paris",
    ]);
    assert!(out.contains("cron 0 9 * * * (Europe/Paris)"), "{out}");
    let id = deployment_id(&weft, "my-first-flow", "morning");
    let api = weft.api();
    let runs = block_on(eventually("the scheduled runs", || async {
        let runs = runs_of(&api, &id).await;
        (runs.len() >= 3).then_some(runs)
    }));
    // Exactly three (Prefect's minimum), on three days, at 09:00 Paris
    // time (07:00 or 08:00 UTC), Scheduled, in the future.
    assert_eq!(runs.len(), 3, "{runs:#?}");
    let now = chrono::Utc::now();
    let mut days = Vec::new();
    for r in &runs {
        assert_eq!(r["state"]["type"], "SCHEDULED");
        assert_eq!(r["state"]["name"], "Scheduled");
        let t: chrono::DateTime<chrono::Utc> = r["expected_start_time"]
            .as_str()
            .expect("expected start")
            .parse()
            .expect("time");
        assert!(t > now - chrono::Duration::minutes(1), "{t}");
        assert_eq!(t.format("%M:%S").to_string(), "00:00", "{t}");
        let hour = t.format("%H").to_string();
        assert!(hour == "07" || hour == "08", "{t} is not 09:00 in Paris");
        days.push(t.date_naive());
        assert!(
            r["tags"]
                .as_array()
                .is_some_and(|t| t.contains(&json!("auto-scheduled")))
        );
    }
    days.dedup();
    assert_eq!(days.len(), 3);

    let ls = weft.ok(&["deployment", "schedule", "ls", "my-first-flow/morning"]);
    assert!(
        ls.contains("cron 0 9 * * * (Europe/Paris)") && ls.contains("yes"),
        "{ls}"
    );

    // Pause: the coming runs are deleted and none come back.
    let out = weft.ok(&["deployment", "schedule", "pause", "my-first-flow/morning"]);
    assert!(out.contains("Paused schedule"), "{out}");
    assert!(block_on(runs_of(&api, &id)).is_empty());
    let ls = weft.ok(&["deployment", "schedule", "ls", "my-first-flow/morning"]);
    assert!(ls.contains("paused"), "{ls}");
    // Scheduling by hand creates nothing either (a scheduler tick does the
    // same computation).
    let created: Value =
        block_on(api.post(&["deployments", &id, "schedule"], &json!({}))).expect("schedule");
    assert_eq!(created, json!([]));

    // Resume: the same three runs are back.
    weft.ok(&["deployment", "schedule", "resume", "my-first-flow/morning"]);
    let again = block_on(eventually("the runs again", || async {
        let runs = runs_of(&api, &id).await;
        (runs.len() >= 3).then_some(runs)
    }));
    assert_eq!(again.len(), 3);
    let starts = |runs: &[Value]| -> Vec<Value> {
        runs.iter()
            .map(|r| r["expected_start_time"].clone())
            .collect()
    };
    assert_eq!(starts(&again), starts(&runs));
}

#[test]
fn an_unclaimed_run_past_its_start_becomes_late() {
    let weft = Weft::new();
    let _server = weft.start_server(&["--scheduler-interval", "0.1", "--late-after", "0"]);
    weft.ok(&["work-pool", "create", "idle"]);
    let wasm = example_wasm("hello");
    weft.ok(&[
        "deploy",
        wasm.to_str().expect("utf-8 path"),
        "--flow",
        "my_first_flow",
        "--name",
        "manual",
        "--pool",
        "idle",
    ]);
    // No worker polls `idle`: the run stays unclaimed past its start.
    let out = weft.ok(&["deployment", "run", "my-first-flow/manual"]);
    assert!(out.contains("Created flow run"), "{out}");
    let id = deployment_id(&weft, "my-first-flow", "manual");
    let api = weft.api();
    let run = block_on(eventually("the Late state", || async {
        let runs = runs_of(&api, &id).await;
        runs.into_iter().find(|r| r["state"]["name"] == "Late")
    }));
    assert_eq!(run["state"]["type"], "SCHEDULED");
}

//! Events, webhooks and automations over real HTTP: state changes become
//! Prefect's events, a webhook's request becomes an event that starts a
//! deployment with parameters from the request, a failed run calls a
//! notification URL (a local server), counted triggers cancel a run and
//! pause a deployment, and what weft cannot run is refused.

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{Server, assert_error, start};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// Polls `check` (every 20 ms, for at most 20 s) until it returns `Some`.
async fn eventually<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Posts `body` to the webhook `slug` (`/hooks/{slug}`, outside `/api`).
async fn hook(s: &Server, slug: &str, body: Value) -> (StatusCode, Value) {
    let root = s.base.trim_end_matches("/api");
    let resp = s
        .client
        .post(format!("{root}/hooks/{slug}"))
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = resp.status();
    (status, resp.json().await.unwrap_or(Value::Null))
}

async fn events(s: &Server, filter: Value) -> Vec<Value> {
    let (st, page) = s
        .post("/events/filter", json!({"filter": filter, "limit": 100}))
        .await;
    assert_eq!(st, StatusCode::OK, "{page}");
    page["events"].as_array().unwrap().clone()
}

async fn deployment(s: &Server, flow: &str, name: &str) -> String {
    let flow_id = s.flow(flow).await;
    let (st, d) = s
        .post(
            "/deployments/",
            json!({"name": name, "flow_id": flow_id, "parameters": {"base": 1}}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{d}");
    d["id"].as_str().unwrap().to_string()
}

async fn runs_of(s: &Server, deployment: &str) -> Vec<Value> {
    let (_, runs) = s
        .post(
            "/flow_runs/filter",
            json!({"deployments": {"id": {"any_": [deployment]}}}),
        )
        .await;
    runs.as_array().unwrap().clone()
}

#[tokio::test]
async fn state_changes_and_posted_events_are_prefect_events() {
    let s = start().await;
    let flow_id = s.flow("etl").await;
    let run = s.flow_run(&flow_id, json!({"tags": ["prod"]})).await;
    let id = run["id"].as_str().unwrap();
    let (st, _) = s
        .post(
            &format!("/flow_runs/{id}/set_state"),
            json!({"state": {"type": "RUNNING"}}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED);
    let resource = format!("prefect.flow-run.{id}");
    let got = events(&s, json!({"resource": {"id": [resource]}})).await;
    let names: Vec<&str> = got.iter().map(|e| e["event"].as_str().unwrap()).collect();
    assert_eq!(names[0], "prefect.flow-run.Running", "{names:?}");
    assert!(names.len() >= 2, "{names:?}");
    let running = &got[0];
    assert_eq!(running["resource"]["prefect.state-type"], "RUNNING");
    assert!(
        running["related"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["prefect.resource.id"] == "prefect.tag.prod"),
        "{running}"
    );

    // From outside: one or a list; `weft.` names are `prefect.` names.
    let (st, _) = s
        .post(
            "/events",
            json!({"event": "file.uploaded", "resource": {"prefect.resource.id": "s3.bucket.raw"},
                   "payload": {"key": "a.csv"}}),
        )
        .await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    let (st, _) = s
        .post(
            "/events",
            json!([{"event": "weft.custom.ping", "resource": {"prefect.resource.id": "x"}}]),
        )
        .await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    let got = events(&s, json!({"event": {"name": ["file.uploaded"]}})).await;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0]["payload"]["key"], "a.csv");
    let got = events(&s, json!({"event": {"prefix": ["prefect.custom."]}})).await;
    assert_eq!(got.len(), 1);
    assert_error(
        s.post("/events", json!({"event": "x", "resource": {}}))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "prefect.resource.id",
    );
}

#[tokio::test]
async fn a_webhook_starts_a_deployment_with_parameters_from_the_request() {
    let s = start().await;
    let d = deployment(&s, "ingest", "files").await;
    let (st, webhook) = s
        .post(
            "/webhooks/",
            json!({"slug": "upload", "template": {
                "event": "file.uploaded",
                "resource": {"prefect.resource.id": "bucket.{{ body.bucket }}"},
                "payload": {"file": "{{ body.file }}", "size": "{{ body.size }}"}
            }}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{webhook}");
    let (st, automation) = s
        .post(
            "/automations/",
            json!({"name": "ingest-uploads", "trigger": {
                    "type": "event", "expect": ["file.uploaded"],
                    "match": {"prefect.resource.id": "bucket.*"}, "posture": "Reactive",
                    "threshold": 1, "within": 0},
                "actions": [{"type": "run-deployment", "source": "selected",
                             "deployment_name": "ingest/files",
                             "parameters": {"path": "{{ event.payload.file }}",
                                            "size": "{{ event.payload.size }}"}}]}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{automation}");
    assert_eq!(automation["actions"][0]["deployment_id"], d.as_str());

    let (st, answer) = hook(
        &s,
        "upload",
        json!({"bucket": "raw", "file": "a.csv", "size": 12}),
    )
    .await;
    assert_eq!(st, StatusCode::ACCEPTED, "{answer}");
    let runs = eventually("the automation's run", || async {
        let runs = runs_of(&s, &d).await;
        (!runs.is_empty()).then_some(runs)
    })
    .await;
    assert_eq!(runs.len(), 1);
    assert_eq!(
        runs[0]["parameters"],
        json!({"base": 1, "path": "a.csv", "size": 12})
    );
    assert!(
        runs[0]["tags"]
            .as_array()
            .unwrap()
            .contains(&json!("automation"))
    );
    let got = events(&s, json!({"event": {"name": ["file.uploaded"]}})).await;
    assert_eq!(got[0]["resource"]["prefect.resource.id"], "bucket.raw");
    let executed = events(
        &s,
        json!({"event": {"name": ["prefect.automation.action.executed"]}}),
    )
    .await;
    assert_eq!(executed.len(), 1, "{executed:?}");

    // A disabled automation does nothing; unknown hooks are 404s.
    let aid = automation["id"].as_str().unwrap();
    let (st, _) = s
        .call(
            Method::PATCH,
            &format!("/automations/{aid}"),
            Some(json!({"enabled": false})),
        )
        .await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    hook(
        &s,
        "upload",
        json!({"bucket": "raw", "file": "b.csv", "size": 1}),
    )
    .await;
    let (_, related) = s
        .get(&format!("/automations/related-to/prefect.deployment.{d}"))
        .await;
    assert_eq!(related.as_array().unwrap().len(), 1, "{related}");
    assert_error(
        hook(&s, "nope", json!({})).await,
        StatusCode::NOT_FOUND,
        "nope",
    );
    // Give a wrongly enabled automation time to act, then check it did not.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(runs_of(&s, &d).await.len(), 1);
}

/// A local server recording the JSON bodies posted to it.
async fn receiver() -> (String, Arc<Mutex<Vec<Value>>>) {
    let got: Arc<Mutex<Vec<Value>>> = Arc::default();
    let sink = got.clone();
    let app = axum::Router::new().route(
        "/notify",
        axum::routing::post(move |axum::Json(body): axum::Json<Value>| {
            let sink = sink.clone();
            async move {
                sink.lock().unwrap().push(body);
                StatusCode::OK
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}/notify"), got)
}

#[tokio::test]
async fn a_failed_run_posts_to_a_notification_url() {
    let s = start().await;
    let (url, got) = receiver().await;
    let (st, a) = s
        .post(
            "/automations/",
            json!({"name": "notify", "trigger": {"expect": ["prefect.flow-run.Failed"]},
                   "actions": [{"type": "call-webhook", "url": url,
                                "payload": {"text": "{{ flow_run.name }} failed: {{ event.resource['prefect.state-message'] }}"}}]}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{a}");
    let flow_id = s.flow("etl").await;
    let run = s.flow_run(&flow_id, json!({})).await;
    let id = run["id"].as_str().unwrap();
    for state in [
        json!({"type": "RUNNING"}),
        json!({"type": "FAILED", "message": "boom"}),
    ] {
        let (st, _) = s
            .post(
                &format!("/flow_runs/{id}/set_state"),
                json!({"state": state}),
            )
            .await;
        assert_eq!(st, StatusCode::CREATED);
    }
    let body = eventually("the notification", || async {
        got.lock().unwrap().first().cloned()
    })
    .await;
    let name = run["name"].as_str().unwrap();
    assert_eq!(body["text"], format!("{name} failed: boom"));
}

#[tokio::test]
async fn counted_triggers_cancel_runs_and_pause_deployments() {
    let s = start().await;
    let d = deployment(&s, "etl", "nightly").await;
    let (_, run) = s
        .post(&format!("/deployments/{d}/create_flow_run"), json!({}))
        .await;
    let id = run["id"].as_str().unwrap().to_string();
    let (st, _) = s
        .post(
            "/automations/",
            json!({"name": "stop", "trigger": {"expect": ["stop.please"], "threshold": 2, "within": 60,
                                              "for_each": ["prefect.resource.id"]},
                   "actions": [{"type": "cancel-flow-run"},
                               {"type": "pause-deployment", "source": "inferred"}]}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED);
    let stop = json!({"event": "stop.please",
                      "resource": {"prefect.resource.id": format!("prefect.flow-run.{id}")},
                      "related": [{"prefect.resource.id": format!("prefect.deployment.{d}"),
                                   "prefect.resource.role": "deployment"}]});
    s.post("/events", stop.clone()).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (_, read) = s.get(&format!("/flow_runs/{id}")).await;
    assert_eq!(
        read["state"]["type"], "SCHEDULED",
        "one event is not enough"
    );
    s.post("/events", stop).await;
    eventually("the run to be cancelled", || async {
        let (_, read) = s.get(&format!("/flow_runs/{id}")).await;
        (read["state"]["type"] == "CANCELLED").then_some(())
    })
    .await;
    eventually("the deployment to be paused", || async {
        let (_, read) = s.get(&format!("/deployments/{d}")).await;
        (read["paused"] == true).then_some(())
    })
    .await;
}

#[tokio::test]
async fn what_weft_cannot_run_is_refused() {
    let s = start().await;
    let base = |trigger: Value, actions: Value| json!({"name": "x", "trigger": trigger, "actions": actions});
    for (body, needle) in [
        (
            base(
                json!({"posture": "Proactive"}),
                json!([{"type": "do-nothing"}]),
            ),
            "Proactive",
        ),
        (base(json!({}), json!([])), "at least one action"),
        (
            base(
                json!({}),
                json!([{"type": "run-deployment", "deployment_name": "no/such"}]),
            ),
            "no deployment",
        ),
        (
            base(json!({}), json!([{"type": "run-deployment"}])),
            "deployment_id",
        ),
        (
            base(
                json!({}),
                json!([{"type": "call-webhook", "url": "ftp://x"}]),
            ),
            "http or https",
        ),
        (
            base(
                json!({}),
                json!([{"type": "call-webhook", "url": "http://127.0.0.1:1/", "payload": {"x": "{{ a. }}"}}]),
            ),
            "template",
        ),
    ] {
        assert_error(
            s.post("/automations/", body).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            needle,
        );
    }
    let ok = base(json!({}), json!([{"type": "do-nothing"}]));
    assert_eq!(
        s.post("/automations/", ok.clone()).await.0,
        StatusCode::CREATED
    );
    assert_error(
        s.post("/automations/", ok).await,
        StatusCode::CONFLICT,
        "named `x`",
    );
    assert_error(
        s.post(
            "/webhooks/",
            json!({"slug": "bad slug", "template": {"event": "x"}}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "slug",
    );
    assert_error(
        s.post("/webhooks/", json!({"slug": "s", "template": "text"}))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "JSON object",
    );
    // A template that makes no valid event answers 422 at request time.
    s.post(
        "/webhooks/",
        json!({"slug": "empty", "template": {"event": "{{ body.missing }}"}}),
    )
    .await;
    assert_error(
        hook(&s, "empty", json!({})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "template did not make an event",
    );
}

#[tokio::test]
async fn an_event_pauses_and_resumes_a_schedule() {
    let s = start().await;
    let flow_id = s.flow("etl").await;
    let (st, d) = s
        .post(
            "/deployments/",
            json!({"name": "hourly", "flow_id": flow_id,
                   "schedules": [{"schedule": {"cron": "0 * * * *"}, "active": true}]}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{d}");
    let did = d["id"].as_str().unwrap().to_string();
    for (name, kind) in [("pause", "pause-schedule"), ("resume", "resume-schedule")] {
        let (st, a) = s
            .post(
                "/automations/",
                json!({"name": name, "trigger": {"expect": [format!("maintenance.{name}")]},
                       "actions": [{"type": kind, "deployment_id": did}]}),
            )
            .await;
        assert_eq!(st, StatusCode::CREATED, "{a}");
    }
    assert_eq!(schedule_active(&s, &did).await, Some(true));
    let event = |name: &str| json!({"event": format!("maintenance.{name}"), "resource": {"prefect.resource.id": "ops"}});
    s.post("/events", event("pause")).await;
    eventually("the schedule to pause", || async {
        (schedule_active(&s, &did).await == Some(false)).then_some(())
    })
    .await;
    let (_, d) = s.get(&format!("/deployments/{did}")).await;
    assert_eq!(d["paused"], false, "only the schedule is paused: {d}");
    s.post("/events", event("resume")).await;
    eventually("the schedule to resume", || async {
        (schedule_active(&s, &did).await == Some(true)).then_some(())
    })
    .await;
}

async fn schedule_active(s: &Server, deployment: &str) -> Option<bool> {
    let (_, schedules) = s.get(&format!("/deployments/{deployment}/schedules")).await;
    schedules[0]["active"].as_bool()
}

//! The REST API over real HTTP: each route's happy path, Prefect's own
//! request bodies, and the 4xx answers for bad input.

mod common;

use common::{assert_error, start};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

#[tokio::test]
async fn admin_routes_answer_as_prefect() {
    let s = start().await;
    assert_eq!(s.get("/health").await, (StatusCode::OK, json!(true)));
    assert_eq!(
        s.get("/ready").await,
        (StatusCode::OK, json!({"message": "OK"}))
    );
    let (st, v) = s.get("/admin/version").await;
    assert_eq!(st, StatusCode::OK);
    assert!(v.as_str().unwrap().starts_with("3."));
    assert_eq!(
        s.get("/csrf-token?client=abc").await,
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            json!({"detail": "CSRF protection is disabled."})
        )
    );
    assert_eq!(
        s.get("/admin/storage").await,
        (
            StatusCode::OK,
            json!({"default_result_storage_block_id": null})
        )
    );
}

#[tokio::test]
async fn openapi_describes_every_route() {
    let s = start().await;
    let (st, doc) = s.get("/openapi.json").await;
    assert_eq!(st, StatusCode::OK);
    let paths = doc["paths"].as_object().unwrap();
    let expected = [
        ("get", "/api/health"),
        ("get", "/api/ready"),
        ("get", "/api/admin/version"),
        ("get", "/api/csrf-token"),
        ("get", "/api/admin/storage"),
        ("get", "/api/openapi.json"),
        ("post", "/api/flows/"),
        ("get", "/api/flows/{id}"),
        ("get", "/api/flows/name/{name}"),
        ("post", "/api/flows/filter"),
        ("post", "/api/flow_runs/"),
        ("get", "/api/flow_runs/{id}"),
        ("delete", "/api/flow_runs/{id}"),
        ("post", "/api/flow_runs/filter"),
        ("post", "/api/flow_runs/count"),
        ("post", "/api/flow_runs/{id}/set_state"),
        ("post", "/api/flow_runs/{id}/set_states"),
        ("get", "/api/flow_runs/{id}/states"),
        ("get", "/api/flow_runs/{id}/secrets/{name}"),
        ("post", "/api/flow_runs/{id}/release"),
        ("post", "/api/task_runs/"),
        ("get", "/api/task_runs/{id}"),
        ("post", "/api/task_runs/filter"),
        ("post", "/api/task_runs/count"),
        ("post", "/api/task_runs/{id}/set_state"),
        ("post", "/api/logs/"),
        ("post", "/api/logs/filter"),
        ("post", "/api/deployments/"),
        ("get", "/api/deployments/{id}"),
        ("patch", "/api/deployments/{id}"),
        ("delete", "/api/deployments/{id}"),
        ("post", "/api/deployments/filter"),
        ("post", "/api/deployments/count"),
        ("get", "/api/deployments/name/{flow}/{deployment}"),
        ("post", "/api/deployments/{id}/create_flow_run"),
        ("post", "/api/work_pools/"),
        ("get", "/api/work_pools/{name}"),
        ("patch", "/api/work_pools/{name}"),
        ("delete", "/api/work_pools/{name}"),
        ("post", "/api/work_pools/filter"),
        ("post", "/api/work_pools/{name}/get_scheduled_flow_runs"),
        ("post", "/api/work_pools/{name}/claim_flow_runs"),
        ("post", "/api/concurrency_limits/"),
        ("get", "/api/concurrency_limits/{id}"),
        ("delete", "/api/concurrency_limits/{id}"),
        ("get", "/api/concurrency_limits/tag/{tag}"),
        ("delete", "/api/concurrency_limits/tag/{tag}"),
        ("post", "/api/concurrency_limits/tag/{tag}/reset"),
        ("post", "/api/concurrency_limits/filter"),
        ("post", "/api/v2/concurrency_limits/"),
        ("get", "/api/v2/concurrency_limits/{id_or_name}"),
        ("patch", "/api/v2/concurrency_limits/{id_or_name}"),
        ("delete", "/api/v2/concurrency_limits/{id_or_name}"),
        ("post", "/api/v2/concurrency_limits/filter"),
        ("post", "/api/v2/concurrency_limits/increment-with-lease"),
        ("post", "/api/v2/concurrency_limits/leases/{lease_id}/renew"),
        ("post", "/api/v2/concurrency_limits/decrement-with-lease"),
        ("post", "/api/events"),
        ("post", "/api/events/filter"),
        ("get", "/api/events/stream"),
        ("post", "/api/webhooks/"),
        ("get", "/api/webhooks/"),
        ("get", "/api/webhooks/{id}"),
        ("delete", "/api/webhooks/{id}"),
        ("post", "/hooks/{slug}"),
        ("post", "/api/automations/"),
        ("get", "/api/automations/{id}"),
        ("put", "/api/automations/{id}"),
        ("patch", "/api/automations/{id}"),
        ("delete", "/api/automations/{id}"),
        ("post", "/api/automations/filter"),
        ("get", "/api/automations/related-to/{resource_id}"),
        ("post", "/api/work_pools/{name}/workers/heartbeat"),
        ("post", "/api/work_pools/{name}/workers/filter"),
        ("delete", "/api/work_pools/{name}/workers/{worker_name}"),
        ("post", "/api/variables/"),
        ("get", "/api/variables/{id}"),
        ("patch", "/api/variables/{id}"),
        ("delete", "/api/variables/{id}"),
        ("get", "/api/variables/name/{name}"),
        ("patch", "/api/variables/name/{name}"),
        ("delete", "/api/variables/name/{name}"),
        ("post", "/api/variables/filter"),
        ("put", "/api/secrets/{name}"),
        ("delete", "/api/secrets/{name}"),
        ("get", "/api/secrets/"),
        ("post", "/api/components"),
        ("get", "/api/components"),
        ("get", "/api/components/{digest}"),
        ("get", "/api/components/{digest}/wasm"),
        ("get", "/api/cache"),
        ("get", "/api/cache/{key}"),
        ("put", "/api/cache/{key}"),
        ("delete", "/api/cache/{key}"),
        ("get", "/api/deployments/{id}/schedules"),
        ("post", "/api/deployments/{id}/schedules"),
        ("patch", "/api/deployments/{id}/schedules/{schedule_id}"),
        ("delete", "/api/deployments/{id}/schedules/{schedule_id}"),
        ("post", "/api/deployments/{id}/schedule"),
    ];
    for (method, path) in expected {
        assert!(
            paths.get(path).and_then(|p| p.get(method)).is_some(),
            "{method} {path} is not in the OpenAPI document"
        );
    }
    let total: usize = paths.values().map(|p| p.as_object().unwrap().len()).sum();
    assert_eq!(
        total,
        expected.len(),
        "the document has routes the test does not know"
    );
    // Every documented route is served (no 404/405 from the router itself);
    // the event stream never ends, so tests/ui.rs reads it instead.
    for (method, path) in expected {
        if path == "/api/events/stream" {
            continue;
        }
        let url = path
            .replace("{id}", "00000000-0000-0000-0000-000000000000")
            .replace("{name}", "x")
            .replace("{flow}", "x")
            .replace("{deployment}", "x")
            .replace("{digest}", "x")
            .replace("{key}", "x")
            .replace("{tag}", "x")
            .replace("{id_or_name}", "x")
            .replace("{lease_id}", "00000000-0000-0000-0000-000000000000")
            .replace("{slug}", "x")
            .replace("{resource_id}", "x");
        let m = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
        let (st, body) = s
            .call(m, url.trim_start_matches("/api"), Some(json!({})))
            .await;
        assert_ne!(st, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
        if st == StatusCode::NOT_FOUND {
            assert!(
                body["detail"].is_string(),
                "{method} {path}: router 404: {body}"
            );
        }
        assert!(!st.is_server_error(), "{method} {path}: {st} {body}");
    }
}

#[tokio::test]
async fn flows_upsert_read_and_filter() {
    let s = start().await;
    let (st, f) = s
        .post(
            "/flows/",
            json!({"name": "scen-a", "tags": [], "labels": {}}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED);
    let id = f["id"].as_str().unwrap();
    let (st, again) = s.post("/flows/", json!({"name": "scen-a"})).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(again["id"], f["id"]);
    assert_eq!(s.get(&format!("/flows/{id}")).await.1["name"], "scen-a");
    assert_eq!(s.get("/flows/name/scen-a").await.1["id"], f["id"]);
    s.flow("other").await;
    let (st, list) = s
        .post(
            "/flows/filter",
            json!({"flows": {"operator": "and_", "id": {"any_": [id]}}, "limit": null, "offset": 0}),
        )
        .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(list.as_array().unwrap().len(), 1);
    let (_, list) = s
        .post(
            "/flows/filter",
            json!({"flows": {"name": {"any_": ["other", "scen-a"]}}}),
        )
        .await;
    assert_eq!(list.as_array().unwrap().len(), 2);
    assert_error(
        s.get("/flows/name/nope").await,
        StatusCode::NOT_FOUND,
        "not found",
    );
    assert_error(
        s.get("/flows/00000000-0000-0000-0000-000000000000").await,
        StatusCode::NOT_FOUND,
        "not found",
    );
    assert_error(
        s.post("/flows/", json!({"tags": []})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "name",
    );
    assert_error(
        s.get("/flows/not-a-uuid").await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "",
    );
}

#[tokio::test]
async fn bodies_that_do_not_parse_are_json_422s() {
    let s = start().await;
    let resp = s
        .client
        .post(format!("{}/flows/", s.base))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let v: Value = resp.json().await.unwrap();
    assert!(
        v["detail"]
            .as_str()
            .unwrap()
            .contains("invalid request body"),
        "{v}"
    );
    assert_error(
        s.post("/flow_runs/filter", json!({"sort": "SIDEWAYS"}))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "SIDEWAYS",
    );
    assert_error(
        s.post(
            "/flow_runs/filter",
            json!({"flow_runs": {"state": {"type": {"any_": ["BOGUS"]}}}}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "BOGUS",
    );
    assert_error(
        s.post("/flow_runs/filter", json!({"limit": "ten"})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "",
    );
    assert_error(
        s.post("/logs/", json!({"not": "a list"})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "",
    );
}

#[tokio::test]
async fn flow_runs_create_read_states_and_delete() {
    let s = start().await;
    let flow_id = s.flow("scen-a").await;
    let run = s.flow_run(&flow_id, json!({})).await;
    let id = run["id"].as_str().unwrap().to_string();
    for field in [
        "id",
        "created",
        "updated",
        "name",
        "flow_id",
        "state_id",
        "deployment_id",
        "work_pool_name",
        "parameters",
        "tags",
        "labels",
        "run_count",
        "expected_start_time",
        "start_time",
        "end_time",
        "total_run_time",
        "state_type",
        "state_name",
        "empirical_policy",
        "state",
        "job_variables",
        "work_queue_name",
        "idempotency_key",
        "parent_task_run_id",
        "auto_scheduled",
    ] {
        assert!(run.get(field).is_some(), "FlowRun lacks `{field}`: {run}");
    }
    assert_eq!(run["flow_id"], flow_id.as_str());
    assert_eq!(run["state"]["type"], "PENDING");
    assert_eq!(run["state"]["state_details"]["flow_run_id"], id.as_str());
    assert_eq!(run["parameters"], json!({"n": 3}));
    assert!(!run["name"].as_str().unwrap().is_empty());
    let (st, read) = s.get(&format!("/flow_runs/{id}")).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(read["id"], run["id"]);
    let (st, r) = s
        .post(
            &format!("/flow_runs/{id}/set_state"),
            json!({"state": {"type": "RUNNING", "name": "Running", "message": null,
                   "state_details": {"transition_id": "6f0c1d3c-63a1-4a4e-9a7e-6b3f8b3f2a10"}, "data": null},
                   "force": false}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{r}");
    assert_eq!(r["status"], "ACCEPT");
    assert_eq!(r["details"]["type"], "accept_details");
    assert_eq!(r["state"]["type"], "RUNNING");
    let (_, states) = s.get(&format!("/flow_runs/{id}/states")).await;
    let names: Vec<&str> = states
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Pending", "Running"]);
    let (_, read) = s.get(&format!("/flow_runs/{id}")).await;
    assert_eq!(read["run_count"], 1);
    assert!(read["start_time"].is_string());
    assert_eq!(
        s.call(Method::DELETE, &format!("/flow_runs/{id}"), None)
            .await
            .0,
        StatusCode::NO_CONTENT
    );
    assert_error(
        s.get(&format!("/flow_runs/{id}")).await,
        StatusCode::NOT_FOUND,
        "not found",
    );
    assert_error(
        s.call(Method::DELETE, &format!("/flow_runs/{id}"), None)
            .await,
        StatusCode::NOT_FOUND,
        "",
    );
    assert_error(
        s.post(
            "/flow_runs/",
            json!({"flow_id": "00000000-0000-0000-0000-000000000000"}),
        )
        .await,
        StatusCode::NOT_FOUND,
        "flow",
    );
    assert_error(
        s.post("/flow_runs/", json!({"name": "x"})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "flow_id",
    );
    assert_error(
        s.post(
            "/flow_runs/",
            json!({"flow_id": flow_id, "parameters": [1]}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "parameters",
    );
}

#[tokio::test]
async fn set_state_follows_prefect_orchestration_rules() {
    let s = start().await;
    let flow_id = s.flow("f").await;
    let id = s.flow_run(&flow_id, json!({})).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let path = format!("/flow_runs/{id}/set_state");
    let (st, r) = s
        .post(&path, json!({"state": {"type": "COMPLETED", "data": 42}}))
        .await;
    assert_eq!(
        (st, r["status"].as_str()),
        (StatusCode::CREATED, Some("ACCEPT"))
    );
    let (st, r) = s.post(&path, json!({"state": {"type": "RUNNING"}})).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(r["status"], "REJECT");
    assert_eq!(r["details"]["type"], "reject_details");
    assert!(
        r["details"]["reason"]
            .as_str()
            .unwrap()
            .contains("COMPLETED"),
        "{r}"
    );
    assert_eq!(r["state"]["type"], "COMPLETED");
    assert_eq!(
        s.get(&format!("/flow_runs/{id}")).await.1["state_type"],
        "COMPLETED"
    );
    let (st, r) = s
        .post(&path, json!({"state": {"type": "RUNNING"}, "force": true}))
        .await;
    assert_eq!(
        (st, r["status"].as_str()),
        (StatusCode::CREATED, Some("ACCEPT"))
    );
    assert_error(
        s.post(
            "/flow_runs/00000000-0000-0000-0000-000000000000/set_state",
            json!({"state": {"type": "RUNNING"}}),
        )
        .await,
        StatusCode::NOT_FOUND,
        "not found",
    );
    assert_error(
        s.post(&path, json!({"state": {"type": "DONE"}})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "DONE",
    );
    assert_error(
        s.post(&path, json!({"force": true})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "state",
    );
}

#[tokio::test]
async fn set_states_applies_proposals_in_order_until_one_is_refused() {
    let s = start().await;
    let flow_id = s.flow("f").await;
    let id = s.flow_run(&flow_id, json!({})).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let path = format!("/flow_runs/{id}/set_states");
    let (st, r) = s
        .post(
            &path,
            json!({"states": [
                {"type": "RUNNING"},
                {"type": "COMPLETED", "data": 7},
                {"type": "RUNNING"},
                {"type": "FAILED"}
            ]}),
        )
        .await;
    assert_eq!(st, StatusCode::OK);
    let results = r.as_array().expect("a list");
    assert_eq!(results.len(), 3, "{r}");
    assert_eq!(results[0]["status"], "ACCEPT");
    assert_eq!(results[0]["state"]["type"], "RUNNING");
    assert_eq!(results[1]["status"], "ACCEPT");
    assert_eq!(results[2]["status"], "REJECT");
    assert_eq!(results[2]["state"]["type"], "COMPLETED");
    let run = s.get(&format!("/flow_runs/{id}")).await.1;
    assert_eq!(run["state_type"], "COMPLETED");
    assert_eq!(run["run_count"], 1);
    assert!(run["start_time"].is_string(), "{run}");
    let (_, history) = s.get(&format!("/flow_runs/{id}/states")).await;
    assert_eq!(history.as_array().unwrap().len(), 3, "{history}");
    assert_error(
        s.post(&path, json!({"states": []})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "states",
    );
    assert_error(
        s.post(&path, json!({"states": [{"type": "CANCELLING"}]}))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "set_state",
    );
    assert_error(
        s.post(
            "/flow_runs/00000000-0000-0000-0000-000000000000/set_states",
            json!({"states": [{"type": "RUNNING"}]}),
        )
        .await,
        StatusCode::NOT_FOUND,
        "not found",
    );
}

#[tokio::test]
async fn concurrent_pending_proposals_accept_exactly_one() {
    let s = std::sync::Arc::new(start().await);
    let flow_id = s.flow("f").await;
    for _ in 0..3 {
        let run = s
            .flow_run(
                &flow_id,
                json!({"state": {"type": "SCHEDULED", "name": "Scheduled"}}),
            )
            .await;
        let path = format!("/flow_runs/{}/set_state", run["id"].as_str().unwrap());
        let mut handles = Vec::new();
        for _ in 0..8 {
            let s = s.clone();
            let path = path.clone();
            handles.push(tokio::spawn(async move {
                s.post(&path, json!({"state": {"type": "PENDING"}})).await
            }));
        }
        let mut accepted = 0;
        for h in handles {
            let (st, r) = h.await.unwrap();
            assert!(st.is_success(), "{st} {r}");
            if r["status"] == "ACCEPT" {
                accepted += 1;
            } else {
                assert_eq!(r["status"], "REJECT", "{r}");
            }
        }
        assert_eq!(accepted, 1);
    }
}

#[tokio::test]
async fn flow_run_filter_takes_prefect_cli_bodies() {
    let s = start().await;
    let a = s.flow("alpha").await;
    let b = s.flow("beta").await;
    let r1 = s
        .flow_run(&a, json!({"name": "run-one", "tags": ["x", "y"]}))
        .await;
    let r2 = s
        .flow_run(&a, json!({"name": "run-two", "tags": ["x"]}))
        .await;
    let r3 = s.flow_run(&b, json!({"name": "run-three"})).await;
    s.post(
        &format!("/flow_runs/{}/set_state", r2["id"].as_str().unwrap()),
        json!({"state": {"type": "RUNNING"}}),
    )
    .await;
    // Exactly what `prefect flow-run ls` sends.
    let ls = json!({"flows": null, "flow_runs": null, "task_runs": null, "deployments": null,
                    "work_pools": null, "work_pool_queues": null, "sort": "EXPECTED_START_TIME_DESC",
                    "limit": 15, "offset": 0});
    let (st, all) = s.post("/flow_runs/filter", ls).await;
    assert_eq!(st, StatusCode::OK, "{all}");
    let names: Vec<&str> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["run-three", "run-two", "run-one"]);
    let names_of = |v: &Value| -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|r| r["name"].as_str().unwrap().to_string())
            .collect()
    };
    let q = |body: Value| {
        let s = &s;
        async move {
            let (st, v) = s.post("/flow_runs/filter", body).await;
            assert_eq!(st, StatusCode::OK, "{v}");
            v
        }
    };
    let v =
        q(json!({"flow_runs": {"id": {"any_": [r1["id"], r3["id"]]}}, "sort": "NAME_ASC"})).await;
    assert_eq!(names_of(&v), ["run-one", "run-three"]);
    let v = q(json!({"flow_runs": {"name": {"any_": ["run-two"]}}})).await;
    assert_eq!(names_of(&v), ["run-two"]);
    let v = q(json!({"flow_runs": {"state": {"type": {"any_": ["RUNNING"]}}}})).await;
    assert_eq!(names_of(&v), ["run-two"]);
    let v = q(json!({"flow_runs": {"state": {"name": {"any_": ["Pending"]}}}, "sort": "NAME_ASC"}))
        .await;
    assert_eq!(names_of(&v), ["run-one", "run-three"]);
    let v = q(json!({"flows": {"operator": "and_", "id": {"any_": [b]}}})).await;
    assert_eq!(names_of(&v), ["run-three"]);
    let v = q(json!({"flows": {"name": {"any_": ["alpha"]}}, "sort": "NAME_DESC"})).await;
    assert_eq!(names_of(&v), ["run-two", "run-one"]);
    let v = q(json!({"flow_runs": {"tags": {"all_": ["x", "y"]}}})).await;
    assert_eq!(names_of(&v), ["run-one"]);
    let v = q(json!({"flow_runs": {"tags": {"any_": ["y", "z"]}}})).await;
    assert_eq!(names_of(&v), ["run-one"]);
    let v = q(json!({"flow_runs": {"start_time": {"after_": "2000-01-01 00:00:00+00:00"}}})).await;
    assert_eq!(names_of(&v), ["run-two"]);
    let v = q(json!({"flow_runs": {"start_time": {"is_null_": true}}, "sort": "NAME_ASC"})).await;
    assert_eq!(names_of(&v), ["run-one", "run-three"]);
    let v =
        q(json!({"flow_runs": {"expected_start_time": {"before_": "2000-01-01T00:00:00Z"}}})).await;
    assert!(names_of(&v).is_empty());
    let v = q(json!({"sort": "NAME_ASC", "limit": 1, "offset": 1})).await;
    assert_eq!(names_of(&v), ["run-three"]);
    let v = q(json!({"sort": "START_TIME_DESC", "limit": 1})).await;
    assert_eq!(names_of(&v), ["run-two"]);
    let v = q(json!({"sort": "ID_DESC"})).await;
    assert_eq!(names_of(&v), ["run-three", "run-two", "run-one"]);
    let v = q(
        json!({"flow_runs": {"name": {"not_any_": ["run-two"]}}, "sort": "NAME_ASC", "limit": 1}),
    )
    .await;
    assert_eq!(names_of(&v), ["run-one"]);
    let (_, n) = s
        .post(
            "/flow_runs/count",
            json!({"flows": {"name": {"any_": ["alpha"]}}}),
        )
        .await;
    assert_eq!(n, json!(2));
    let (_, n) = s.post("/flow_runs/count", json!({})).await;
    assert_eq!(n, json!(3));
}

#[tokio::test]
async fn task_runs_and_logs() {
    let s = start().await;
    let flow_id = s.flow("f").await;
    let run = s.flow_run(&flow_id, json!({})).await;
    let fr = run["id"].as_str().unwrap();
    let (st, t) = s
        .post(
            "/task_runs/",
            json!({"flow_run_id": fr, "task_key": "add", "dynamic_key": 0, "input": [1, 2]}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{t}");
    let tid = t["id"].as_str().unwrap().to_string();
    assert_eq!(t["dynamic_key"], "0");
    assert_eq!(t["name"], "add-0");
    let (st, r) = s
        .post(
            &format!("/task_runs/{tid}/set_state"),
            json!({"state": {"type": "COMPLETED", "data": 3}}),
        )
        .await;
    assert_eq!(
        (st, r["status"].as_str()),
        (StatusCode::CREATED, Some("ACCEPT"))
    );
    let (_, r) = s
        .post(
            &format!("/task_runs/{tid}/set_state"),
            json!({"state": {"type": "RUNNING"}}),
        )
        .await;
    assert_eq!(r["status"], "REJECT");
    let (st, read) = s.get(&format!("/task_runs/{tid}")).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(read["state"]["type"], "COMPLETED");
    assert_eq!(read["task_key"], "add");
    s.post(
        "/task_runs/",
        json!({"flow_run_id": fr, "task_key": "add", "dynamic_key": "1"}),
    )
    .await;
    let (_, list) = s
        .post("/task_runs/filter", json!({"task_runs": {"flow_run_id": {"any_": [fr]}}, "sort": "EXPECTED_START_TIME_ASC"}))
        .await;
    assert_eq!(list.as_array().unwrap().len(), 2);
    let (_, list) = s
        .post(
            "/task_runs/filter",
            json!({"task_runs": {"state": {"type": {"any_": ["COMPLETED"]}}}}),
        )
        .await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(s.post("/task_runs/count", json!({})).await.1, json!(2));
    assert_error(
        s.post("/task_runs/", json!({"flow_run_id": "00000000-0000-0000-0000-000000000000", "task_key": "a", "dynamic_key": 0}))
            .await,
        StatusCode::NOT_FOUND,
        "flow run",
    );
    assert_error(
        s.post(
            "/task_runs/",
            json!({"flow_run_id": fr, "task_key": "a", "dynamic_key": 0, "id": tid}),
        )
        .await,
        StatusCode::CONFLICT,
        "exists",
    );
    assert_error(
        s.get("/task_runs/00000000-0000-0000-0000-000000000000")
            .await,
        StatusCode::NOT_FOUND,
        "not found",
    );

    // Logs, exactly as Prefect's client batches them.
    let (st, v) = s
        .post(
            "/logs/",
            json!([
                {"name": "prefect.flow_runs", "level": 20, "message": "hello from flow, n=3",
                 "timestamp": "2026-11-24T18:38:03.893566Z", "flow_run_id": fr, "task_run_id": null},
                {"name": "prefect.task_runs", "level": 40, "message": "boom",
                 "timestamp": "2026-11-24T18:38:04Z", "flow_run_id": fr, "task_run_id": tid},
                {"name": "prefect.flow_runs.worker", "level": 20, "message": "worker says hi",
                 "timestamp": "2026-11-24T18:38:04Z", "flow_run_id": null}
            ]),
        )
        .await;
    assert_eq!((st, v), (StatusCode::CREATED, Value::Null));
    s.store.flush().await.unwrap();
    let (st, logs) = s
        .post("/logs/filter", json!({"logs": {"flow_run_id": {"any_": [fr]}}, "sort": "TIMESTAMP_ASC", "limit": 200, "offset": 0}))
        .await;
    assert_eq!(st, StatusCode::OK);
    let msgs: Vec<&str> = logs
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["message"].as_str().unwrap())
        .collect();
    assert_eq!(msgs, ["hello from flow, n=3", "boom"]);
    let (_, logs) = s
        .post("/logs/filter", json!({"logs": {"level": {"ge_": 30}}}))
        .await;
    assert_eq!(logs.as_array().unwrap().len(), 1);
    assert_eq!(logs[0]["level"], 40);
    let (_, logs) = s
        .post(
            "/logs/filter",
            json!({"sort": "TIMESTAMP_DESC", "limit": 1}),
        )
        .await;
    assert_eq!(logs[0]["message"], "boom");
    let (_, logs) = s
        .post(
            "/logs/filter",
            json!({"sort": "TIMESTAMP_DESC", "limit": 5, "offset": 1}),
        )
        .await;
    assert_eq!(logs, json!([logs[0].clone()]));
    assert_eq!(logs[0]["message"], "hello from flow, n=3");
    let (_, logs) = s
        .post(
            "/logs/filter",
            json!({"logs": {"flow_run_id": {"any_": [fr]}, "level": {"le_": 40, "ge_": 40},
                            "timestamp": {"after_": "2026-11-24T18:38:04Z", "before_": "2026-11-24T18:38:04Z"}}}),
        )
        .await;
    assert_eq!(logs.as_array().unwrap().len(), 1, "{logs}");
    assert_eq!(logs[0]["message"], "boom");
    let (_, logs) = s
        .post(
            "/logs/filter",
            json!({"logs": {"flow_run_id": {"not_any_": [fr]}}, "limit": 1}),
        )
        .await;
    assert_eq!(logs, json!([]));
}

#[tokio::test]
async fn deployments_work_pools_and_scheduling() {
    let s = start().await;
    let flow_id = s.flow("scen-a").await;
    let (st, pool) = s
        .post(
            "/work_pools/",
            json!({"name": "lab-pool", "type": "process", "base_job_template": {}}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{pool}");
    assert_eq!(pool["type"], "process");
    assert_error(
        s.post("/work_pools/", json!({"name": "lab-pool"})).await,
        StatusCode::CONFLICT,
        "already exists",
    );
    assert_error(
        s.get("/work_pools/nope").await,
        StatusCode::NOT_FOUND,
        "nope",
    );
    assert_eq!(s.get("/work_pools/lab-pool").await.1["id"], pool["id"]);
    let (_, pools) = s
        .post(
            "/work_pools/filter",
            json!({"limit": null, "offset": 0, "work_pools": null}),
        )
        .await;
    assert_eq!(pools.as_array().unwrap().len(), 1);
    assert_eq!(
        s.call(
            Method::PATCH,
            "/work_pools/lab-pool",
            Some(json!({"description": "d"}))
        )
        .await
        .0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(s.get("/work_pools/lab-pool").await.1["description"], "d");

    // Prefect's `flow.serve()` body, plus weft's pool.
    let (st, d) = s
        .post(
            "/deployments/",
            json!({"name": "served", "flow_id": flow_id, "paused": false, "schedules": [],
                   "concurrency_limit": null, "concurrency_options": null, "enforce_parameter_schema": true,
                   "parameter_openapi_schema": {"title": "Parameters", "type": "object"},
                   "parameters": {"n": 5, "m": 1}, "tags": ["lab"], "labels": {}, "work_queue_name": null,
                   "storage_document_id": null, "infrastructure_document_id": null, "description": "None",
                   "path": ".", "entrypoint": "flows/scen_a.py:scen_a", "job_variables": {},
                   "version": "734b", "work_pool_name": "lab-pool"}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{d}");
    assert_eq!(d["flow_id"], flow_id.as_str());
    let did = d["id"].as_str().unwrap().to_string();
    let (st, again) = s.post("/deployments/", json!({"name": "served", "flow_id": flow_id, "tags": ["lab"], "parameters": {"n": 5, "m": 1}, "work_pool_name": "lab-pool"})).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(again["id"], d["id"]);
    assert_eq!(
        s.get(&format!("/deployments/{did}")).await.1["name"],
        "served"
    );
    assert_eq!(
        s.get("/deployments/name/scen-a/served").await.1["id"],
        d["id"]
    );
    assert_error(
        s.get("/deployments/name/scen-a/nope").await,
        StatusCode::NOT_FOUND,
        "not found",
    );
    assert_eq!(
        s.call(
            Method::PATCH,
            &format!("/deployments/{did}"),
            Some(json!({"description": "patched"}))
        )
        .await
        .0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        s.get(&format!("/deployments/{did}")).await.1["description"],
        "patched"
    );
    // Exactly what `prefect deployment ls` sends.
    let (st, list) = s
        .post("/deployments/filter", json!({"flows": null, "flow_runs": null, "task_runs": null, "deployments": null,
                                            "work_pools": null, "work_pool_queues": null, "limit": null, "offset": 0, "sort": null}))
        .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(s.post("/deployments/count", json!({})).await.1, json!(1));
    let (_, list) = s
        .post(
            "/deployments/filter",
            json!({"deployments": {"name": {"any_": ["other"]}}}),
        )
        .await;
    assert!(list.as_array().unwrap().is_empty());

    // `prefect deployment run` body.
    let (st, run) = s
        .post(
            &format!("/deployments/{did}/create_flow_run"),
            json!({"state": {"type": "SCHEDULED", "name": "Scheduled", "state_details": {"scheduled_time": "2020-01-01T00:00:00Z"}},
                   "name": null, "parameters": {"n": 7}, "context": {}, "tags": ["extra"], "idempotency_key": null,
                   "parent_task_run_id": null, "job_variables": {}, "labels": {}}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{run}");
    assert_eq!(run["parameters"], json!({"n": 7, "m": 1}));
    assert_eq!(run["tags"], json!(["lab", "extra"]));
    assert_eq!(run["deployment_id"], d["id"]);
    assert_eq!(run["work_pool_name"], "lab-pool");
    assert_eq!(run["state"]["type"], "SCHEDULED");
    assert_eq!(run["labels"]["prefect.deployment.id"], d["id"]);
    let (st, run2) = s
        .post(&format!("/deployments/{did}/create_flow_run"), json!({}))
        .await;
    assert_eq!(st, StatusCode::CREATED);
    assert_eq!(run2["state"]["type"], "SCHEDULED");
    let (_, v) = s
        .post(
            "/flow_runs/filter",
            json!({"deployments": {"id": {"any_": [did]}}}),
        )
        .await;
    assert_eq!(v.as_array().unwrap().len(), 2);
    let (_, v) = s
        .post(
            "/flow_runs/filter",
            json!({"work_pools": {"name": {"any_": ["lab-pool"]}}}),
        )
        .await;
    assert_eq!(v.as_array().unwrap().len(), 2);

    // A worker's poll, then weft's claim.
    let (st, due) = s
        .post(
            "/work_pools/lab-pool/get_scheduled_flow_runs",
            json!({"work_queue_names": [], "scheduled_before": "2030-01-01 00:00:00+00:00"}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{due}");
    assert_eq!(due.as_array().unwrap().len(), 2);
    assert_eq!(due[0]["work_pool_id"], pool["id"]);
    assert!(due[0].get("work_queue_id").is_some());
    assert_eq!(due[0]["flow_run"]["id"], run["id"]);
    let (st, claimed) = s
        .post(
            "/work_pools/lab-pool/claim_flow_runs",
            json!({"worker": "w1", "limit": 5}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{claimed}");
    assert_eq!(claimed.as_array().unwrap().len(), 2);
    assert_eq!(claimed[0]["flow_run"]["state"]["type"], "PENDING");
    let (_, none) = s
        .post(
            "/work_pools/lab-pool/claim_flow_runs",
            json!({"worker": "w2", "limit": 5}),
        )
        .await;
    assert!(none.as_array().unwrap().is_empty());
    assert_eq!(
        s.post(
            "/work_pools/lab-pool/workers/heartbeat",
            json!({"name": "w1", "heartbeat_interval_seconds": 30, "flow_run_ids": [run["id"]]})
        )
        .await
        .0,
        StatusCode::NO_CONTENT
    );
    let rel = format!(
        "/flow_runs/{}/release",
        claimed[1]["flow_run"]["id"].as_str().unwrap()
    );
    assert_eq!(
        s.post(&rel, json!({"worker": "w2"})).await.1,
        json!({"released": false})
    );
    assert_eq!(
        s.post(&rel, json!({"worker": "w1"})).await.1,
        json!({"released": true})
    );
    let (_, again) = s
        .post(
            "/work_pools/lab-pool/claim_flow_runs",
            json!({"worker": "w2", "limit": 5}),
        )
        .await;
    assert_eq!(again.as_array().unwrap().len(), 1);
    assert_error(
        s.post("/work_pools/nope/claim_flow_runs", json!({"worker": "w"}))
            .await,
        StatusCode::NOT_FOUND,
        "nope",
    );
    assert_error(
        s.post("/work_pools/lab-pool/claim_flow_runs", json!({"limit": 1}))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "worker",
    );

    // Secrets for the run: only those its deployment lists.
    assert_eq!(
        s.call(
            Method::PUT,
            "/secrets/api-key",
            Some(json!({"value": "s3cr3t"}))
        )
        .await
        .0,
        StatusCode::NO_CONTENT
    );
    let rid = run["id"].as_str().unwrap();
    assert_error(
        s.get(&format!("/flow_runs/{rid}/secrets/api-key")).await,
        StatusCode::FORBIDDEN,
        "api-key",
    );
    s.call(
        Method::PATCH,
        &format!("/deployments/{did}"),
        Some(json!({"allowed_secrets": ["api-key"]})),
    )
    .await;
    assert_eq!(
        s.get(&format!("/flow_runs/{rid}/secrets/api-key")).await,
        (StatusCode::OK, json!("s3cr3t"))
    );

    assert_eq!(
        s.call(Method::DELETE, &format!("/deployments/{did}"), None)
            .await
            .0,
        StatusCode::NO_CONTENT
    );
    assert_error(
        s.get(&format!("/deployments/{did}")).await,
        StatusCode::NOT_FOUND,
        "not found",
    );
    assert_eq!(
        s.call(Method::DELETE, "/work_pools/lab-pool", None).await.0,
        StatusCode::NO_CONTENT
    );
    assert_error(
        s.call(Method::DELETE, "/work_pools/lab-pool", None).await,
        StatusCode::NOT_FOUND,
        "",
    );
    assert_error(
        s.post(
            "/deployments/",
            json!({"name": "x", "flow_id": "00000000-0000-0000-0000-000000000000"}),
        )
        .await,
        StatusCode::NOT_FOUND,
        "flow",
    );
    assert_error(
        s.post(
            "/deployments/",
            json!({"name": "x", "flow_id": flow_id, "component_digest": "abc"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "not stored",
    );
}

#[tokio::test]
async fn deployment_limits_are_stored_read_and_changed() {
    let s = start().await;
    let flow_id = s.flow("limited").await;
    let (st, d) = s
        .post(
            "/deployments/",
            json!({"name": "tight", "flow_id": flow_id,
                   "limits": {"fuel": 1000, "memory_bytes": 67108864, "wall_time": 30000}}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{d}");
    let did = d["id"].as_str().unwrap().to_string();
    // Given limits are kept, the others default (as `RunLimits::default()`).
    let (_, read) = s.get(&format!("/deployments/{did}")).await;
    assert_eq!(read["limits"]["fuel"], 1000, "{read}");
    assert_eq!(read["limits"]["memory_bytes"], 64 << 20, "{read}");
    assert_eq!(read["limits"]["wall_time"], 30000, "{read}");
    assert_eq!(read["limits"]["max_task_runs"], 100_000, "{read}");

    // A PATCH replaces them; a PATCH without `limits` leaves them alone.
    assert_eq!(
        s.call(
            Method::PATCH,
            &format!("/deployments/{did}"),
            Some(json!({"limits": {"fuel": 5, "max_log_bytes": 10}}))
        )
        .await
        .0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        s.call(
            Method::PATCH,
            &format!("/deployments/{did}"),
            Some(json!({"description": "d"}))
        )
        .await
        .0,
        StatusCode::NO_CONTENT
    );
    let (_, read) = s.get("/deployments/name/limited/tight").await;
    assert_eq!(read["limits"]["fuel"], 5, "{read}");
    assert_eq!(read["limits"]["max_log_bytes"], 10, "{read}");
    assert_eq!(read["limits"]["memory_bytes"], 512 << 20, "{read}");

    // The upsert by flow and name replaces them too.
    let (st, again) = s
        .post(
            "/deployments/",
            json!({"name": "tight", "flow_id": flow_id, "limits": {"fuel": 7}}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{again}");
    assert_eq!(again["id"], d["id"]);
    assert_eq!(again["limits"]["fuel"], 7, "{again}");
    assert_error(
        s.post(
            "/deployments/",
            json!({"name": "bad", "flow_id": flow_id, "limits": {"fuel": "lots"}}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "",
    );
}

#[tokio::test]
async fn variables_secrets_and_cache() {
    let s = start().await;
    let (st, v) = s
        .post(
            "/variables/",
            json!({"name": "lab_var", "value": {"a": 1}, "tags": []}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let id = v["id"].as_str().unwrap().to_string();
    assert_error(
        s.post("/variables/", json!({"name": "lab_var", "value": 1}))
            .await,
        StatusCode::CONFLICT,
        "exists",
    );
    assert_error(
        s.get("/variables/name/missing").await,
        StatusCode::NOT_FOUND,
        "missing",
    );
    assert_eq!(
        s.get("/variables/name/lab_var").await.1["value"],
        json!({"a": 1})
    );
    assert_eq!(
        s.get(&format!("/variables/{id}")).await.1["name"],
        "lab_var"
    );
    assert_eq!(
        s.call(
            Method::PATCH,
            "/variables/name/lab_var",
            Some(json!({"value": [1, 2]}))
        )
        .await
        .0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        s.get("/variables/name/lab_var").await.1["value"],
        json!([1, 2])
    );
    s.post(
        "/variables/",
        json!({"name": "other", "value": null, "tags": ["t"]}),
    )
    .await;
    let (_, list) = s
        .post(
            "/variables/filter",
            json!({"variables": {"name": {"like_": "lab"}}}),
        )
        .await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    let (_, list) = s
        .post("/variables/filter", json!({"limit": 10, "offset": 0}))
        .await;
    assert_eq!(list.as_array().unwrap().len(), 2);
    assert_eq!(
        s.call(Method::DELETE, "/variables/name/lab_var", None)
            .await
            .0,
        StatusCode::NO_CONTENT
    );
    assert_error(
        s.get(&format!("/variables/{id}")).await,
        StatusCode::NOT_FOUND,
        "",
    );
    assert_error(
        s.post("/variables/", json!({"name": "x"})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "value",
    );

    assert_eq!(
        s.call(Method::PUT, "/secrets/b", Some(json!({"value": "2"})))
            .await
            .0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        s.call(Method::PUT, "/secrets/a", Some(json!({"value": "1"})))
            .await
            .0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        s.get("/secrets/").await,
        (StatusCode::OK, json!(["a", "b"]))
    );
    assert_eq!(
        s.call(Method::DELETE, "/secrets/a", None).await.0,
        StatusCode::NO_CONTENT
    );
    assert_error(
        s.call(Method::DELETE, "/secrets/a", None).await,
        StatusCode::NOT_FOUND,
        "",
    );
    assert_error(
        s.call(Method::PUT, "/secrets/b", Some(json!({}))).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "value",
    );

    assert_eq!(
        s.call(
            Method::PUT,
            "/cache/k1",
            Some(json!({"value": {"r": 1}, "expiration": null}))
        )
        .await
        .0,
        StatusCode::NO_CONTENT
    );
    let (st, e) = s.get("/cache/k1").await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(e["value"], json!({"r": 1}));
    assert_eq!(e["valid"], true);
    assert_eq!(s.get("/cache").await.1.as_array().unwrap().len(), 1);
    assert_eq!(
        s.call(Method::DELETE, "/cache/k1", None).await.0,
        StatusCode::NO_CONTENT
    );
    assert_error(s.get("/cache/k1").await, StatusCode::NOT_FOUND, "k1");
    assert_error(
        s.call(Method::DELETE, "/cache/k1", None).await,
        StatusCode::NOT_FOUND,
        "",
    );
}

/// Workers appear through their heartbeats (Prefect's `workers/filter`,
/// with status), make their pool READY, and can be deleted; a finished run
/// retried from the UI (forced to AwaitingRetry) is claimed again.
#[tokio::test]
async fn workers_by_heartbeat_and_a_retried_run_is_claimed_again() {
    let s = start().await;
    let (st, pool) = s.post("/work_pools/", json!({"name": "wp"})).await;
    assert_eq!(st, StatusCode::CREATED, "{pool}");
    assert_eq!(pool["status"], "NOT_READY");
    let (st, none) = s.post("/work_pools/wp/workers/filter", json!({})).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(none, json!([]));
    for (name, interval) in [("w1", json!(30)), ("w2", json!(null))] {
        let (st, _) = s
            .post(
                "/work_pools/wp/workers/heartbeat",
                json!({"name": name, "heartbeat_interval_seconds": interval}),
            )
            .await;
        assert_eq!(st, StatusCode::NO_CONTENT);
    }
    assert_eq!(s.get("/work_pools/wp").await.1["status"], "READY");
    let (_, workers) = s
        .post(
            "/work_pools/wp/workers/filter",
            json!({"workers": {"status": {"any_": ["ONLINE"]}}}),
        )
        .await;
    let names: Vec<&str> = workers
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["w2", "w1"], "{workers}");
    assert_eq!(workers[1]["work_pool_id"], pool["id"]);
    assert_eq!(workers[1]["heartbeat_interval_seconds"], 30);
    assert_eq!(workers[1]["status"], "ONLINE");
    assert!(workers[1]["last_heartbeat_time"].is_string());
    let (_, offline) = s
        .post(
            "/work_pools/wp/workers/filter",
            json!({"workers": {"status": {"any_": ["OFFLINE"]}}}),
        )
        .await;
    assert_eq!(offline, json!([]));
    let (_, page) = s
        .post(
            "/work_pools/wp/workers/filter",
            json!({"limit": 1, "offset": 1}),
        )
        .await;
    assert_eq!(page[0]["name"], "w1");
    assert_error(
        s.post("/work_pools/nope/workers/filter", json!({})).await,
        StatusCode::NOT_FOUND,
        "nope",
    );
    assert_error(
        s.post("/work_pools/wp/workers/heartbeat", json!({"name": ""}))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "name",
    );
    assert_eq!(
        s.call(Method::DELETE, "/work_pools/wp/workers/w2", None)
            .await
            .0,
        StatusCode::NO_CONTENT
    );
    assert_error(
        s.call(Method::DELETE, "/work_pools/wp/workers/w2", None)
            .await,
        StatusCode::NOT_FOUND,
        "w2",
    );

    // A PATCH keeps a limit it does not name and removes one set to null.
    for (body, want) in [
        (json!({"concurrency_limit": 3}), json!(3)),
        (json!({"description": "d"}), json!(3)),
        (json!({"concurrency_limit": null}), json!(null)),
    ] {
        let (st, _) = s
            .call(Method::PATCH, "/work_pools/wp", Some(body.clone()))
            .await;
        assert_eq!(st, StatusCode::NO_CONTENT, "{body}");
        assert_eq!(
            s.get("/work_pools/wp").await.1["concurrency_limit"],
            want,
            "{body}"
        );
    }

    // A run of the pool, claimed, run and failed, then retried from the UI.
    let flow_id = s.flow("retried").await;
    let (_, d) = s
        .post(
            "/deployments/",
            json!({"name": "d", "flow_id": flow_id, "work_pool_name": "wp"}),
        )
        .await;
    let did = d["id"].as_str().unwrap().to_string();
    for (body, want) in [
        (json!({"concurrency_limit": 2}), json!(2)),
        (json!({"concurrency_limit": null}), json!(null)),
    ] {
        let (st, _) = s
            .call(Method::PATCH, &format!("/deployments/{did}"), Some(body))
            .await;
        assert_eq!(st, StatusCode::NO_CONTENT);
        assert_eq!(
            s.get(&format!("/deployments/{did}")).await.1["concurrency_limit"],
            want
        );
    }
    let (_, run) = s
        .post(&format!("/deployments/{did}/create_flow_run"), json!({}))
        .await;
    let id = run["id"].as_str().unwrap().to_string();
    let claim = |worker: &'static str| {
        s.post(
            "/work_pools/wp/claim_flow_runs",
            json!({"worker": worker, "limit": 5}),
        )
    };
    assert_eq!(claim("w1").await.1[0]["flow_run"]["id"], id.as_str());
    for state in [
        json!({"type": "RUNNING"}),
        json!({"type": "FAILED", "message": "boom"}),
    ] {
        let (_, r) = s
            .post(
                &format!("/flow_runs/{id}/set_state"),
                json!({"state": state}),
            )
            .await;
        assert_eq!(r["status"], "ACCEPT", "{r}");
    }
    let (_, r) = s
        .post(
            &format!("/flow_runs/{id}/set_state"),
            json!({"state": {"type": "SCHEDULED", "name": "AwaitingRetry",
                             "message": "Retried from the UI"}, "force": true}),
        )
        .await;
    assert_eq!(r["status"], "ACCEPT", "{r}");
    let (_, again) = claim("w2").await;
    assert_eq!(again.as_array().unwrap().len(), 1, "{again}");
    assert_eq!(again[0]["flow_run"]["id"], id.as_str());
    assert_eq!(again[0]["flow_run"]["state"]["type"], "PENDING");
}

/// A deployment is read once for a burst of its runs, but a change made
/// through this server shows in the next run at once, and a deleted one
/// gets no more runs.
#[tokio::test]
async fn runs_of_a_deployment_see_its_changes_at_once() {
    let s = start().await;
    let flow_id = s.flow("burst").await;
    let (st, d) = s
        .post(
            "/deployments/",
            json!({"name": "b", "flow_id": flow_id, "parameters": {"n": 1}}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{d}");
    let did = d["id"].as_str().unwrap().to_string();
    let create = format!("/deployments/{did}/create_flow_run");
    for _ in 0..3 {
        let (st, run) = s.post(&create, json!({})).await;
        assert_eq!(st, StatusCode::CREATED, "{run}");
        assert_eq!(run["parameters"], json!({"n": 1}));
    }
    let patch = s
        .call(
            Method::PATCH,
            &format!("/deployments/{did}"),
            Some(json!({"parameters": {"n": 2}})),
        )
        .await;
    assert_eq!(patch.0, StatusCode::NO_CONTENT, "{:?}", patch.1);
    let (_, run) = s.post(&create, json!({})).await;
    assert_eq!(run["parameters"], json!({"n": 2}), "{run}");
    // The same (flow, name) posted again updates it in place.
    let (st, _) = s
        .post(
            "/deployments/",
            json!({"name": "b", "flow_id": flow_id, "parameters": {"n": 3}}),
        )
        .await;
    assert_eq!(st, StatusCode::OK);
    let (_, run) = s.post(&create, json!({})).await;
    assert_eq!(run["parameters"], json!({"n": 3}), "{run}");
    let deleted = s
        .call(Method::DELETE, &format!("/deployments/{did}"), None)
        .await;
    assert_eq!(deleted.0, StatusCode::NO_CONTENT);
    assert_error(
        s.post(&create, json!({})).await,
        StatusCode::NOT_FOUND,
        "deployment",
    );
}

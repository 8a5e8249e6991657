//! Eight clients creating and filtering flow runs at once on SQLite: no
//! request fails.

mod common;

use std::sync::Arc;

use common::start;
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn eight_concurrent_clients_create_and_filter() {
    let s = Arc::new(start().await);
    let flow_id = s.flow("load").await;
    let mut clients = Vec::new();
    for c in 0..8 {
        let s = s.clone();
        let flow_id = flow_id.clone();
        clients.push(tokio::spawn(async move {
            for i in 0..25 {
                let (st, run) = s
                    .post(
                        "/flow_runs/",
                        json!({"flow_id": flow_id, "name": format!("c{c}-{i}"), "tags": [format!("client-{c}")]}),
                    )
                    .await;
                assert_eq!(st, StatusCode::CREATED, "{run}");
                let id = run["id"].as_str().unwrap();
                let (st, r) = s
                    .post(&format!("/flow_runs/{id}/set_state"), json!({"state": {"type": "RUNNING"}}))
                    .await;
                assert_eq!(st, StatusCode::CREATED, "{r}");
                let (st, list) = s
                    .post(
                        "/flow_runs/filter",
                        json!({"flow_runs": {"tags": {"all_": [format!("client-{c}")]}}, "sort": "EXPECTED_START_TIME_DESC", "limit": 15, "offset": 0}),
                    )
                    .await;
                assert_eq!(st, StatusCode::OK, "{list}");
                assert_eq!(list.as_array().unwrap().len(), (i + 1).min(15));
            }
        }));
    }
    for c in clients {
        c.await.unwrap();
    }
    let (_, n) = s.post("/flow_runs/count", json!({})).await;
    assert_eq!(n, json!(200));
}

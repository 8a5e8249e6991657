//! Prefect's concurrency-limit routes over real HTTP: v1 tag limits (the
//! calls `prefect concurrency-limit` makes), v2 global limits, and leases
//! (`increment-with-lease`, 423 when full, renew, decrement).

mod common;

use common::{assert_error, start};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

#[tokio::test]
async fn tag_limits_as_prefect_concurrency_limit_uses_them() {
    let s = start().await;
    let (st, created) = s
        .post(
            "/concurrency_limits/",
            json!({"tag": "mytag", "concurrency_limit": 2}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{created}");
    assert_eq!(created["tag"], "mytag");
    assert_eq!(created["concurrency_limit"], 2);
    assert_eq!(created["active_slots"], json!([]));
    let id = created["id"].as_str().unwrap().to_string();

    let (st, by_tag) = s.get("/concurrency_limits/tag/mytag").await;
    assert_eq!((st, by_tag["id"].clone()), (StatusCode::OK, json!(id)));
    let (st, by_id) = s.get(&format!("/concurrency_limits/{id}")).await;
    assert_eq!((st, by_id["tag"].clone()), (StatusCode::OK, json!("mytag")));
    // Creating it again changes its size (Prefect's upsert), same id.
    let (st, again) = s
        .post(
            "/concurrency_limits/",
            json!({"tag": "mytag", "concurrency_limit": 3}),
        )
        .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(
        (again["id"].clone(), again["concurrency_limit"].clone()),
        (json!(id), json!(3))
    );

    // It is the v2 limit `tag:mytag`, with the same id.
    let (st, v2) = s.get("/v2/concurrency_limits/tag:mytag").await;
    assert_eq!(st, StatusCode::OK, "{v2}");
    assert_eq!(
        (v2["id"].clone(), v2["limit"].clone()),
        (json!(id), json!(3))
    );

    // A global limit is not a tag limit.
    let (st, _) = s
        .post(
            "/v2/concurrency_limits/",
            json!({"name": "gcl", "limit": 1}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED);
    let (_, tags) = s
        .post(
            "/concurrency_limits/filter",
            json!({"limit": 15, "offset": 0}),
        )
        .await;
    let tags: Vec<&str> = tags
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["tag"].as_str().unwrap())
        .collect();
    assert_eq!(tags, ["mytag"]);
    let (_, all) = s.post("/v2/concurrency_limits/filter", json!({})).await;
    assert_eq!(all.as_array().unwrap().len(), 2, "{all}");

    // A holder shows in active_slots; reset frees it.
    let task_run = "0195e0a0-0000-7000-8000-000000000001";
    let (st, lease) = s
        .post(
            "/v2/concurrency_limits/increment-with-lease",
            json!({"names": ["tag:mytag"], "slots": 1, "mode": "concurrency",
                   "lease_duration": 60, "holder": {"type": "task_run", "id": task_run}}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{lease}");
    let (_, held) = s.get("/concurrency_limits/tag/mytag").await;
    assert_eq!(held["active_slots"], json!([task_run]));
    let (st, _) = s
        .call(Method::POST, "/concurrency_limits/tag/mytag/reset", None)
        .await;
    assert_eq!(st, StatusCode::OK);
    let (_, reset) = s.get("/concurrency_limits/tag/mytag").await;
    assert_eq!(reset["active_slots"], json!([]));

    let (st, _) = s
        .call(Method::DELETE, "/concurrency_limits/tag/mytag", None)
        .await;
    assert_eq!(st, StatusCode::OK);
    assert_error(
        s.get("/concurrency_limits/tag/mytag").await,
        StatusCode::NOT_FOUND,
        "mytag",
    );
    assert_error(
        s.get(&format!("/concurrency_limits/{id}")).await,
        StatusCode::NOT_FOUND,
        "not found",
    );
}

#[tokio::test]
async fn leases_take_renew_and_release_slots() {
    let s = start().await;
    let (st, gcl) = s
        .post(
            "/v2/concurrency_limits/",
            json!({"name": "lab-gcl", "limit": 1, "active": true, "active_slots": 0,
                   "slot_decay_per_second": 0.0}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{gcl}");
    assert_eq!(gcl["active_slots"], 0);
    assert_eq!(gcl["denied_slots"], 0);
    assert_error(
        s.post(
            "/v2/concurrency_limits/",
            json!({"name": "lab-gcl", "limit": 2}),
        )
        .await,
        StatusCode::CONFLICT,
        "lab-gcl",
    );

    let take = json!({"names": ["lab-gcl"], "slots": 1, "mode": "concurrency",
                      "lease_duration": 300});
    let (st, first) = s
        .post("/v2/concurrency_limits/increment-with-lease", take.clone())
        .await;
    assert_eq!(st, StatusCode::OK, "{first}");
    assert_eq!(first["limits"][0]["name"], "lab-gcl");
    assert_eq!(first["limits"][0]["limit"], 1);
    let lease = first["lease_id"].as_str().unwrap().to_string();

    // Full: 423 with Retry-After and which limit.
    let resp = s
        .client
        .post(format!(
            "{}/v2/concurrency_limits/increment-with-lease",
            s.base
        ))
        .json(&take)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::LOCKED);
    assert!(resp.headers().get("retry-after").is_some());
    let full: Value = resp.json().await.unwrap();
    assert_eq!(full["limit"]["name"], "lab-gcl", "{full}");
    assert_eq!(full["active_slots"], 1, "{full}");
    let (_, read) = s.get("/v2/concurrency_limits/lab-gcl").await;
    assert_eq!(
        (read["active_slots"].clone(), read["denied_slots"].clone()),
        (json!(1), json!(1))
    );

    // Renew, release, take again.
    let (st, _) = s
        .post(
            &format!("/v2/concurrency_limits/leases/{lease}/renew"),
            json!({"lease_duration": 60}),
        )
        .await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    let (st, _) = s
        .post(
            "/v2/concurrency_limits/decrement-with-lease",
            json!({"lease_id": lease}),
        )
        .await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    assert_error(
        s.post(
            &format!("/v2/concurrency_limits/leases/{lease}/renew"),
            json!({"lease_duration": 60}),
        )
        .await,
        StatusCode::NOT_FOUND,
        "expired or released",
    );
    let (st, _) = s
        .post("/v2/concurrency_limits/increment-with-lease", take.clone())
        .await;
    assert_eq!(st, StatusCode::OK);

    // Names without a limit are granted without a lease.
    let (st, none) = s
        .post(
            "/v2/concurrency_limits/increment-with-lease",
            json!({"names": ["nobody"]}),
        )
        .await;
    assert_eq!(
        (st, none["lease_id"].clone()),
        (StatusCode::OK, Value::Null)
    );

    // Inactive: not counted. Patch by name, then by id.
    let id = gcl["id"].as_str().unwrap();
    let (st, _) = s
        .call(
            Method::PATCH,
            "/v2/concurrency_limits/lab-gcl",
            Some(json!({"active": false})),
        )
        .await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    let (st, _) = s
        .post("/v2/concurrency_limits/increment-with-lease", take.clone())
        .await;
    assert_eq!(st, StatusCode::OK);
    let (st, _) = s
        .call(
            Method::PATCH,
            &format!("/v2/concurrency_limits/{id}"),
            Some(json!({"limit": 5, "active": true})),
        )
        .await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    let (_, read) = s.get(&format!("/v2/concurrency_limits/{id}")).await;
    assert_eq!(
        (read["limit"].clone(), read["active"].clone()),
        (json!(5), json!(true))
    );

    // A reset: active_slots 0 releases every slot held; no other number.
    assert_eq!(read["active_slots"], 1, "{read}");
    assert_error(
        s.call(
            Method::PATCH,
            "/v2/concurrency_limits/lab-gcl",
            Some(json!({"active_slots": 3})),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "active_slots",
    );
    let (st, _) = s
        .call(
            Method::PATCH,
            "/v2/concurrency_limits/lab-gcl",
            Some(json!({"active_slots": 0})),
        )
        .await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    assert_eq!(
        s.get("/v2/concurrency_limits/lab-gcl").await.1["active_slots"],
        0
    );

    // What weft does not do is refused, not ignored.
    assert_error(
        s.post(
            "/v2/concurrency_limits/increment-with-lease",
            json!({"names": ["lab-gcl"], "mode": "rate"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "rate",
    );
    assert_error(
        s.post(
            "/v2/concurrency_limits/",
            json!({"name": "rl", "limit": 5, "slot_decay_per_second": 1.5}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "slot_decay_per_second",
    );
    assert_error(
        s.post(
            "/v2/concurrency_limits/increment-with-lease",
            json!({"names": ["lab-gcl"], "slots": 9}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "which has 5",
    );
    assert_error(
        s.post(
            "/v2/concurrency_limits/increment-with-lease",
            json!({"names": ["lab-gcl"], "lease_duration": -1}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "lease_duration",
    );
    let (st, _) = s
        .call(Method::DELETE, "/v2/concurrency_limits/lab-gcl", None)
        .await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    assert_error(
        s.get("/v2/concurrency_limits/lab-gcl").await,
        StatusCode::NOT_FOUND,
        "lab-gcl",
    );
}

#[tokio::test]
async fn a_waiting_request_gets_the_slot_when_it_is_released() {
    let s = start().await;
    s.post(
        "/v2/concurrency_limits/",
        json!({"name": "one", "limit": 1}),
    )
    .await;
    let (_, held) = s
        .post(
            "/v2/concurrency_limits/increment-with-lease",
            json!({"names": ["one"]}),
        )
        .await;
    let lease = held["lease_id"].as_str().unwrap().to_string();
    let waiting = s.post(
        "/v2/concurrency_limits/increment-with-lease",
        json!({"names": ["one"], "wait_seconds": 30}),
    );
    let release = async {
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        s.post(
            "/v2/concurrency_limits/decrement-with-lease",
            json!({"lease_id": lease}),
        )
        .await
    };
    let started = std::time::Instant::now();
    let ((st, got), (released, _)) = tokio::join!(waiting, release);
    assert_eq!(released, StatusCode::NO_CONTENT);
    assert_eq!(st, StatusCode::OK, "{got}");
    assert!(got["lease_id"].is_string(), "{got}");
    // Woken by the release, long before its 30 s wait ran out.
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
}

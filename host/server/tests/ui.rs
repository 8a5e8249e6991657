//! The web UI through real HTTP: the page, its assets and their types,
//! the API's JSON 404 beside the page's fallback, and the live event stream.

mod common;

use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::{CACHE_CONTROL, CONTENT_TYPE, ETAG, IF_NONE_MATCH};
use serde_json::json;
use weft_server::ui::ASSETS;

fn root(s: &common::Server) -> String {
    s.base.trim_end_matches("/api").to_string()
}

/// GETs `path` (from the server's root, not `/api`).
async fn get(s: &common::Server, path: &str) -> reqwest::Response {
    s.client
        .get(format!("{}{path}", root(s)))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn the_page_is_served_at_root_and_for_app_paths() {
    let s = common::start().await;
    for path in [
        "/",
        "/runs",
        "/runs/01a232f7-1263-7624-b62c-71b4bc582f68",
        "/deployments?x=1",
    ] {
        let resp = get(&s, path).await;
        assert_eq!(resp.status(), StatusCode::OK, "{path}");
        let ty = resp.headers()[CONTENT_TYPE].to_str().unwrap().to_string();
        assert_eq!(ty, "text/html; charset=utf-8", "{path}");
        assert_eq!(resp.headers()[CACHE_CONTROL], "no-cache");
        let html = resp.text().await.unwrap();
        assert!(
            html.contains(r#"<script type="module" src="/ui/app.js">"#),
            "{html}"
        );
    }
}

#[tokio::test]
async fn every_asset_loads_with_its_content_type_and_revalidates() {
    let s = common::start().await;
    for a in ASSETS.iter() {
        let url = format!("{}/ui/{}", root(&s), a.path);
        let resp = s.client.get(&url).send().await.unwrap();
        assert_eq!(resp.status(), StatusCode::OK, "{url}");
        let ty = resp.headers()[CONTENT_TYPE].to_str().unwrap().to_string();
        let want = match a.path.rsplit('.').next().unwrap() {
            "js" => "text/javascript; charset=utf-8",
            "css" => "text/css; charset=utf-8",
            "html" => "text/html; charset=utf-8",
            "svg" => "image/svg+xml",
            other => panic!("unexpected asset type {other}"),
        };
        assert_eq!(ty, want, "{url}");
        let etag = resp.headers()[ETAG].clone();
        assert_eq!(resp.bytes().await.unwrap().as_ref(), a.bytes);
        let again = s
            .client
            .get(&url)
            .header(IF_NONE_MATCH, etag)
            .send()
            .await
            .unwrap();
        assert_eq!(again.status(), StatusCode::NOT_MODIFIED, "{url}");
    }
    let missing = get(&s, "/ui/nope.js").await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
}

/// Every relative module import of every script names an embedded asset,
/// so no page fails to load for a file missing from the table.
#[test]
fn every_module_import_is_embedded() {
    for a in ASSETS.iter().filter(|a| a.path.ends_with(".js")) {
        let text = std::str::from_utf8(a.bytes).unwrap();
        let dir = a.path.rsplit_once('/').map_or("", |(d, _)| d);
        for quote in ["from '", "import('"] {
            for part in text.split(quote).skip(1) {
                let spec = part.split('\'').next().unwrap();
                if !spec.starts_with('.') {
                    continue;
                }
                let mut segs: Vec<&str> = dir.split('/').filter(|s| !s.is_empty()).collect();
                for seg in spec.split('/') {
                    match seg {
                        "." => {}
                        ".." => {
                            segs.pop();
                        }
                        s => segs.push(s),
                    }
                }
                let path = segs.join("/");
                assert!(
                    ASSETS.iter().any(|x| x.path == path),
                    "{} imports {spec} ({path}), which is not embedded",
                    a.path
                );
            }
        }
    }
}

#[tokio::test]
async fn unknown_api_paths_still_answer_json_404() {
    let s = common::start().await;
    for path in ["/api/nope", "/api/flow_runs/x/nope", "/api", "/hooks"] {
        let resp = get(&s, path).await;
        assert_eq!(resp.status(), StatusCode::NOT_FOUND, "{path}");
        assert_eq!(resp.headers()[CONTENT_TYPE], "application/json", "{path}");
        let body: serde_json::Value = resp.json().await.unwrap();
        assert!(
            body["detail"].as_str().unwrap().contains("no route"),
            "{body}"
        );
    }
    // Only GETs fall back to the page.
    let resp = s
        .client
        .post(format!("{}/runs", root(&s)))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    assert_eq!(resp.headers()[CONTENT_TYPE], "application/json");
}

#[tokio::test]
async fn the_event_stream_delivers_a_state_change() {
    let s = common::start().await;
    let (_, doc) = s.get("/openapi.json").await;
    assert!(doc["paths"]["/api/events/stream"]["get"].is_object());
    let flow = s.flow("streamed").await;
    let run = s.flow_run(&flow, json!({})).await;
    let id = run["id"].as_str().unwrap().to_string();
    let other = s.flow_run(&flow, json!({})).await;

    let mut resp = s
        .client
        .get(format!(
            "{}/events/stream?resource=prefect.flow-run.{id}",
            s.base
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(
        resp.headers()[CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    let running = json!({"state": {"type": "RUNNING", "name": "Running"}, "force": false});
    // Another run's change is filtered out; this run's arrives.
    let other_id = other["id"].as_str().unwrap();
    let (st, _) = s
        .post(&format!("/flow_runs/{other_id}/set_state"), running.clone())
        .await;
    assert!(st.is_success());
    let (st, _) = s.post(&format!("/flow_runs/{id}/set_state"), running).await;
    assert!(st.is_success());

    let mut text = String::new();
    let found = tokio::time::timeout(Duration::from_secs(10), async {
        while let Some(chunk) = resp.chunk().await.unwrap() {
            text.push_str(&String::from_utf8_lossy(&chunk));
            if text.contains("prefect.flow-run.Running") {
                return;
            }
        }
    })
    .await;
    assert!(found.is_ok(), "no Running event within 10 s; got {text:?}");
    assert!(
        !text.contains(other_id),
        "the filter let another run through: {text}"
    );
    let data = text
        .lines()
        .find(|l| l.starts_with("data:") && l.contains("prefect.flow-run.Running"))
        .unwrap();
    let event: serde_json::Value =
        serde_json::from_str(data.trim_start_matches("data:").trim()).unwrap();
    assert_eq!(
        event["resource"]["prefect.resource.id"],
        format!("prefect.flow-run.{id}")
    );
}

//! Component upload over HTTP: a real component, and the refusals of
//! malformed, core-module, wrong-world and oversized bytes.

mod common;

use common::{assert_error, start, start_with};
use reqwest::StatusCode;
use weft_server::ServerConfig;

fn hello() -> Vec<u8> {
    std::fs::read(weft_test_support::example_wasm("hello")).unwrap()
}

#[tokio::test]
async fn upload_list_read_and_download() {
    let s = start().await;
    let bytes = hello();
    let (st, c) = s.post_bytes("/components", bytes.clone()).await;
    assert_eq!(st, StatusCode::CREATED, "{c}");
    let digest = c["digest"].as_str().unwrap().to_string();
    assert_eq!(digest, weft_runtime::digest_of(&bytes));
    assert_eq!(c["world"], "weft:flow/flow@0.1.0");
    assert_eq!(c["size"], bytes.len());
    assert!(!c["flows"].as_array().unwrap().is_empty(), "{c}");
    assert!(c["tasks"].is_array());
    let (st, again) = s.post_bytes("/components", bytes.clone()).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(again["digest"], c["digest"]);
    let (_, list) = s.get("/components").await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(
        s.get(&format!("/components/{digest}")).await.1["digest"],
        c["digest"]
    );
    let resp = s
        .client
        .get(format!("{}/components/{digest}/wasm", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()["content-type"], "application/wasm");
    assert_eq!(resp.bytes().await.unwrap().to_vec(), bytes);
    assert_error(s.get("/components/abc").await, StatusCode::NOT_FOUND, "abc");
    assert_error(
        s.get("/components/abc/wasm").await,
        StatusCode::NOT_FOUND,
        "abc",
    );

    // A deployment of the stored component.
    let flow_id = s.flow("my-first-flow").await;
    let (st, d) = s
        .post(
            "/deployments/",
            serde_json::json!({"name": "d", "flow_id": flow_id, "component_digest": digest}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{d}");
    assert_eq!(d["component_digest"], digest.as_str());
}

#[tokio::test]
async fn bad_components_are_refused_with_the_reason() {
    let s = start().await;
    assert_error(
        s.post_bytes("/components", b"hello, not wasm".to_vec())
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "not a WebAssembly binary",
    );
    let core = wat::parse_str("(module (func (export \"run\")))").unwrap();
    assert_error(
        s.post_bytes("/components", core).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "core WebAssembly module",
    );
    let wrong = wat::parse_str("(component (core module $m (func (export \"f\"))))").unwrap();
    assert_error(
        s.post_bytes("/components", wrong).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "weft:flow/flow world",
    );
    let mut truncated = hello();
    truncated.truncate(truncated.len() / 2);
    let (st, body) = s.post_bytes("/components", truncated).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body["detail"].is_string());
    assert_error(
        s.post_bytes("/components", Vec::new()).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "",
    );
    // Nothing was stored.
    assert!(s.get("/components").await.1.as_array().unwrap().is_empty());
}

#[tokio::test]
async fn oversized_components_are_413() {
    let s = start_with(ServerConfig {
        max_component_bytes: 1024,
        ..ServerConfig::default()
    })
    .await;
    assert_error(
        s.post_bytes("/components", hello()).await,
        StatusCode::PAYLOAD_TOO_LARGE,
        "larger than 1024 bytes",
    );
    // Without a declared length (chunked), the limit still holds.
    let stream = futures_stream(vec![0u8; 4096]);
    let resp = s
        .client
        .post(format!("{}/components", s.base))
        .body(reqwest::Body::wrap_stream(stream))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let v: serde_json::Value = resp.json().await.unwrap();
    assert!(v["detail"].as_str().unwrap().contains("larger than"), "{v}");
    assert!(s.get("/components").await.1.as_array().unwrap().is_empty());
}

fn futures_stream(
    bytes: Vec<u8>,
) -> impl futures_core::Stream<Item = Result<Vec<u8>, std::io::Error>> + Send + 'static {
    struct Chunks(Vec<Vec<u8>>);
    impl futures_core::Stream for Chunks {
        type Item = Result<Vec<u8>, std::io::Error>;
        fn poll_next(
            mut self: std::pin::Pin<&mut Self>,
            _cx: &mut std::task::Context<'_>,
        ) -> std::task::Poll<Option<Self::Item>> {
            std::task::Poll::Ready(if self.0.is_empty() {
                None
            } else {
                Some(Ok(self.0.remove(0)))
            })
        }
    }
    Chunks(bytes.chunks(512).map(<[u8]>::to_vec).collect())
}

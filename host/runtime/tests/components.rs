//! Loading components: validation against the weft:flow world, describe,
//! and the compile cache.

mod common;

use common::{example, runtime, testguest};
use weft_runtime::{ComponentError, EngineConfig, Runtime};

async fn refuse(bytes: Vec<u8>) -> ComponentError {
    runtime()
        .load(bytes)
        .await
        .expect_err("component is refused")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refuses_what_is_not_a_weft_component() {
    let e = refuse(b"definitely not wasm".to_vec()).await;
    assert!(matches!(e, ComponentError::NotWasm), "{e}");

    let core = wat::parse_str("(module (func (export \"run\")))").unwrap();
    let e = refuse(core).await;
    assert!(matches!(e, ComponentError::CoreModule), "{e}");
    assert!(e.to_string().contains("core WebAssembly module"));

    let other_world = wat::parse_str(
        r#"(component
            (core module $m (func (export "f")))
            (core instance $i (instantiate $m))
            (func (export "hello") (canon lift (core func $i "f"))))"#,
    )
    .unwrap();
    let e = refuse(other_world).await;
    assert!(matches!(e, ComponentError::WrongWorld(_)), "{e}");
    assert!(e.to_string().contains("does not export `describe`"), "{e}");

    let foreign = wat::parse_str(r#"(component (import "example:foo/bar" (instance)))"#).unwrap();
    let e = refuse(foreign).await;
    assert!(
        matches!(e, ComponentError::UnsupportedImport(ref name) if name == "example:foo/bar"),
        "{e}"
    );
    assert!(e.to_string().contains("example:foo/bar"));

    let garbage = {
        let mut b = b"\0asm\x0d\0\x01\0".to_vec();
        b.extend_from_slice(&[0xff; 64]);
        b
    };
    let e = refuse(garbage).await;
    assert!(matches!(e, ComponentError::Invalid(_)), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn describes_flows_and_tasks() {
    let c = runtime().load_file(&example("hello")).await.unwrap();
    let info = c.info();
    assert!(info.sdk.starts_with("weft-sdk-rust"));
    assert_eq!(info.flows.len(), 1);
    assert_eq!(info.flows[0].name, "my-first-flow");
    assert!(info.tasks.iter().any(|t| t.name == "get_data"));
    let c = runtime().load_file(&example("fanout")).await.unwrap();
    assert_eq!(c.find_flow("etl").unwrap().parameters, ["n"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn second_load_uses_the_compile_cache() {
    let dir = tempfile::tempdir().unwrap();
    let config = || EngineConfig {
        cache_dir: Some(dir.path().to_path_buf()),
        max_instances: 20,
        ..Default::default()
    };
    let first = Runtime::new(config()).unwrap();
    let a = first.load_file(&testguest()).await.unwrap();
    assert!(!a.from_cache());
    let files: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(files.len(), 1, "one artifact cached");
    drop(first);
    let second = Runtime::new(config()).unwrap();
    let b = second.load_file(&testguest()).await.unwrap();
    assert!(b.from_cache(), "a new runtime loads the cached artifact");
    assert_eq!(a.digest(), b.digest());
    // A corrupt artifact is discarded and rebuilt, not trusted. (Replaced
    // by rename, as the cache itself writes: live components map the old file.)
    drop((a, b, second));
    let path = std::fs::read_dir(dir.path())
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let tmp = dir.path().join("corrupt.tmp");
    std::fs::write(&tmp, b"corrupt").unwrap();
    std::fs::rename(&tmp, &path).unwrap();
    let third = Runtime::new(config()).unwrap();
    let c = third.load_file(&testguest()).await.unwrap();
    assert!(!c.from_cache());
}

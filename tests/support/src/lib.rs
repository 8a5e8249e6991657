//! Test helpers shared by weft's test suites and benchmarks.
//!
//! Guest components (the examples under `examples/` and the test guests
//! under `tests/guests/`) are built for `wasm32-wasip2` into
//! `target/guests`, once per test process; cargo's own lock makes
//! concurrent builds from several test processes safe.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The repository's root directory.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("repository root exists")
}

/// Where guest components are built.
pub fn guest_target_dir() -> PathBuf {
    repo_root().join("target/guests")
}

fn build_workspace(manifest: &Path) {
    let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args([
            "build",
            "--release",
            "--quiet",
            "--target",
            "wasm32-wasip2",
            "--manifest-path",
        ])
        .arg(manifest)
        .arg("--target-dir")
        .arg(guest_target_dir())
        .status()
        .expect("cargo runs");
    assert!(
        status.success(),
        "building the guests in {} failed (is the wasm32-wasip2 target installed? `./dev/setup` adds it)",
        manifest.display()
    );
}

fn built_guests() -> &'static Path {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT.get_or_init(|| {
        let root = repo_root();
        build_workspace(&root.join("examples/Cargo.toml"));
        build_workspace(&root.join("tests/guests/Cargo.toml"));
        guest_target_dir().join("wasm32-wasip2/release")
    })
}

/// The built component of the example `examples/rust/NAME`.
pub fn example_wasm(name: &str) -> PathBuf {
    let path = built_guests().join(format!("{}.wasm", name.replace('-', "_")));
    assert!(
        path.exists(),
        "example component {} was not built",
        path.display()
    );
    path
}

/// The built component of the test guest `tests/guests/NAME`.
pub fn test_guest_wasm(name: &str) -> PathBuf {
    example_wasm(name)
}

/// The directory of the example `examples/rust/NAME` (its sources).
pub fn example_dir(name: &str) -> PathBuf {
    repo_root().join("examples/rust").join(name)
}

//! Where weft keeps its state, and opening it: the embedded store and the
//! runtime's compile cache, both under `$WEFT_HOME` (default `~/.weft`);
//! `$WEFT_CACHE_DIR` moves the compile cache elsewhere (e.g. one cache
//! shared by several homes).

use std::path::PathBuf;

use anyhow::Context as _;
use weft_store::SqliteStore;

/// The weft home directory (`$WEFT_HOME` or `~/.weft`), created if missing.
pub fn home() -> anyhow::Result<PathBuf> {
    let home = weft_store::home::weft_home();
    std::fs::create_dir_all(&home)
        .with_context(|| format!("cannot create the weft home {}", home.display()))?;
    Ok(home)
}

/// Opens the embedded store in the weft home.
pub async fn open_store() -> anyhow::Result<SqliteStore> {
    let home = home()?;
    SqliteStore::open_home(&home)
        .await
        .with_context(|| format!("cannot open the store in {}", home.display()))
}

/// Creates the WebAssembly runtime, with its compile cache in the weft home.
pub fn runtime() -> anyhow::Result<weft_runtime::Runtime> {
    runtime_with(weft_runtime::EngineConfig::default())
}

/// The runtime with `config`, compiling into `$WEFT_CACHE_DIR`, else the
/// home's `cache/`.
pub fn runtime_with(config: weft_runtime::EngineConfig) -> anyhow::Result<weft_runtime::Runtime> {
    let cache_dir = match std::env::var_os("WEFT_CACHE_DIR").filter(|d| !d.is_empty()) {
        Some(dir) => PathBuf::from(dir),
        None => home()?.join("cache"),
    };
    let config = weft_runtime::EngineConfig {
        cache_dir: Some(cache_dir),
        ..config
    };
    weft_runtime::Runtime::new(config).context("cannot create the WebAssembly runtime")
}

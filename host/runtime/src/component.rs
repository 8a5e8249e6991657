//! The component registry: validation against the `weft:flow` world,
//! compilation with an on-disk cache of precompiled artifacts, and
//! `describe`.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tokio::sync::Semaphore;
use wasmtime::Engine;
use wasmtime::component::{Component, Linker};
use weft_core::RetryPolicy;
use weft_core::policy::FlowPolicy;

use crate::bindings::FlowPre;
use crate::state::{HostState, Scope, StoreOptions, new_store};

/// What a component contains, from its `describe` export.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ComponentInfo {
    /// The SDK that built it.
    pub sdk: String,
    /// Its flows.
    pub flows: Vec<FlowInfo>,
    /// Its tasks.
    pub tasks: Vec<TaskInfo>,
}

/// A flow of a component.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FlowInfo {
    /// Its name.
    pub name: String,
    /// Its parameter names, in order.
    pub parameters: Vec<String>,
    /// A JSON Schema of its parameters.
    pub parameter_schema: serde_json::Value,
    /// Its description.
    pub description: String,
    /// Its retries and timeout, from its definition.
    #[serde(default)]
    pub policy: FlowPolicy,
}

/// A task of a component.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskInfo {
    /// Its name.
    pub name: String,
    /// Its description.
    pub description: String,
}

/// Why a component was refused.
#[derive(Debug, thiserror::Error)]
pub enum ComponentError {
    /// The bytes are not WebAssembly.
    #[error("not a WebAssembly binary (no `\\0asm` header)")]
    NotWasm,
    /// A core module, not a component.
    #[error(
        "this is a core WebAssembly module, not a component: build it for wasm32-wasip2 (`weft build`), or wrap it with `wasm-tools component new`"
    )]
    CoreModule,
    /// The component does not parse or validate.
    #[error("invalid component: {0}")]
    Invalid(String),
    /// It imports something weft does not provide.
    #[error(
        "the component imports `{0}`, which weft does not provide (weft provides weft:flow/*@0.1.0 and the WASI 0.2 interfaces io, clocks, random, cli, filesystem, sockets, and http's types and outgoing-handler)"
    )]
    UnsupportedImport(String),
    /// It does not target the `weft:flow/flow` world.
    #[error("the component does not target the weft:flow/flow world: {0}")]
    WrongWorld(String),
    /// Its `describe` export failed.
    #[error("the component's `describe` failed: {0}")]
    Describe(String),
    /// Reading the file failed.
    #[error("could not read {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
}

/// A validated, compiled component, ready to instantiate.
pub struct FlowComponent {
    digest: String,
    info: ComponentInfo,
    pre: FlowPre<HostState>,
    engine: Engine,
    instance_slots: Arc<Semaphore>,
    from_cache: bool,
    size: usize,
}

impl std::fmt::Debug for FlowComponent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FlowComponent")
            .field("digest", &self.digest)
            .field("info", &self.info)
            .finish()
    }
}

impl FlowComponent {
    /// SHA-256 of the component's bytes, hex.
    pub fn digest(&self) -> &str {
        &self.digest
    }
    /// What it contains.
    pub fn info(&self) -> &ComponentInfo {
        &self.info
    }
    /// Whether the precompiled artifact came from the disk cache.
    pub fn from_cache(&self) -> bool {
        self.from_cache
    }
    /// Size of the component's bytes.
    pub fn size(&self) -> usize {
        self.size
    }
    /// The flow named `name`, accepting `_` for `-`.
    pub fn find_flow(&self, name: &str) -> Option<&FlowInfo> {
        self.info.flows.iter().find(|f| f.name == name).or_else(|| {
            self.info
                .flows
                .iter()
                .find(|f| f.name == name.replace('_', "-"))
        })
    }
    pub(crate) fn pre(&self) -> &FlowPre<HostState> {
        &self.pre
    }
    pub(crate) fn engine(&self) -> &Engine {
        &self.engine
    }
    pub(crate) fn instance_slots(&self) -> &Arc<Semaphore> {
        &self.instance_slots
    }
}

/// SHA-256 of `bytes`, hex.
pub fn digest_of(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Refuses what is not a component before compiling it.
fn check_header(bytes: &[u8]) -> Result<(), ComponentError> {
    if wasmparser::Parser::is_component(bytes) {
        Ok(())
    } else if wasmparser::Parser::is_core_wasm(bytes) {
        Err(ComponentError::CoreModule)
    } else {
        Err(ComponentError::NotWasm)
    }
}

fn engine_hash(engine: &Engine) -> String {
    let mut h = DefaultHasher::new();
    engine.precompile_compatibility_hash().hash(&mut h);
    format!("{:016x}", h.finish())
}

/// Compiles `bytes`, or loads the artifact this engine compiled earlier.
fn compile(
    engine: &Engine,
    cache_dir: Option<&Path>,
    digest: &str,
    bytes: &[u8],
) -> Result<(Component, bool), ComponentError> {
    let Some(dir) = cache_dir else {
        return Component::new(engine, bytes)
            .map(|c| (c, false))
            .map_err(|e| ComponentError::Invalid(format!("{e:#}")));
    };
    let path = dir.join(format!("{digest}-{}.cwasm", engine_hash(engine)));
    if path.exists() {
        // SAFETY: the cache directory holds only artifacts this host wrote
        // with `precompile_component` for an engine of the same
        // compatibility hash (part of the file name), written atomically.
        match unsafe { Component::deserialize_file(engine, &path) } {
            Ok(c) => return Ok((c, true)),
            Err(e) => {
                tracing::warn!(path = %path.display(), error = %e, "discarding unusable cached artifact")
            }
        }
    }
    let artifact = engine
        .precompile_component(bytes)
        .map_err(|e| ComponentError::Invalid(format!("{e:#}")))?;
    if let Err(e) = write_atomically(dir, &path, &artifact) {
        tracing::warn!(path = %path.display(), error = %e, "could not cache the compiled component");
    } else {
        // SAFETY: as above; this host just wrote the file.
        if let Ok(c) = unsafe { Component::deserialize_file(engine, &path) } {
            return Ok((c, false));
        }
    }
    // SAFETY: the bytes were produced by this engine a moment ago.
    unsafe { Component::deserialize(engine, &artifact) }
        .map(|c| (c, false))
        .map_err(|e| ComponentError::Invalid(format!("{e:#}")))
}

fn write_atomically(dir: &Path, path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let tmp = dir.join(format!(
        ".tmp-{}-{}",
        std::process::id(),
        uuid::Uuid::new_v4()
    ));
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path)
}

/// Whether weft provides the import `name`.
fn is_provided(name: &str) -> bool {
    let (path, version) = name.split_once('@').unwrap_or((name, ""));
    if let Some(iface) = path.strip_prefix("weft:flow/") {
        return version == "0.1.0"
            && ["types", "tasks", "logging", "secrets", "context", "failure"].contains(&iface);
    }
    if let Some(rest) = path.strip_prefix("wasi:") {
        let (package, iface) = rest.split_once('/').unwrap_or((rest, ""));
        let provided = ["io", "clocks", "random", "cli", "filesystem", "sockets"]
            .contains(&package)
            || (package == "http" && ["types", "outgoing-handler"].contains(&iface));
        return version.starts_with("0.2.") && provided;
    }
    false
}

fn check_world(engine: &Engine, component: &Component) -> Result<(), ComponentError> {
    let ty = component.component_type();
    if let Some((name, _)) = ty.imports(engine).find(|(name, _)| !is_provided(name)) {
        return Err(ComponentError::UnsupportedImport(name.to_string()));
    }
    let exports: Vec<String> = ty.exports(engine).map(|(n, _)| n.to_string()).collect();
    for needed in ["describe", "run", "run-task"] {
        if !exports.iter().any(|e| e == needed) {
            return Err(ComponentError::WrongWorld(format!(
                "it does not export `{needed}` (it exports: {})",
                if exports.is_empty() {
                    "nothing".to_string()
                } else {
                    exports.join(", ")
                }
            )));
        }
    }
    Ok(())
}

/// Validates, compiles (or loads from the cache) and describes a component.
pub(crate) async fn load(
    engine: &Engine,
    linker: &Linker<HostState>,
    cache_dir: Option<PathBuf>,
    instance_slots: Arc<Semaphore>,
    bytes: Vec<u8>,
) -> Result<FlowComponent, ComponentError> {
    check_header(&bytes)?;
    let digest = digest_of(&bytes);
    let size = bytes.len();
    let (component, from_cache) = {
        let engine = engine.clone();
        let digest = digest.clone();
        tokio::task::spawn_blocking(move || compile(&engine, cache_dir.as_deref(), &digest, &bytes))
            .await
            .map_err(|e| ComponentError::Invalid(format!("compilation did not finish: {e}")))??
    };
    check_world(engine, &component)?;
    let instance_pre = linker
        .instantiate_pre(&component)
        .map_err(|e| ComponentError::WrongWorld(format!("{e:#}")))?;
    let pre =
        FlowPre::new(instance_pre).map_err(|e| ComponentError::WrongWorld(format!("{e:#}")))?;
    let info = describe(engine, &pre).await?;
    Ok(FlowComponent {
        digest,
        info,
        pre,
        engine: engine.clone(),
        instance_slots,
        from_cache,
        size,
    })
}

async fn describe(
    engine: &Engine,
    pre: &FlowPre<HostState>,
) -> Result<ComponentInfo, ComponentError> {
    let options = StoreOptions {
        memory_bytes: 1 << 30,
        fuel: 10_000_000_000,
        timeout: None,
        deadline: Some(Instant::now() + Duration::from_secs(30)),
    };
    let err = |e: wasmtime::Error| ComponentError::Describe(format!("{e:#}"));
    let mut store = new_store(engine, None, Scope::default(), options).map_err(err)?;
    let instance = pre.instantiate_async(&mut store).await.map_err(err)?;
    let info = instance.call_describe(&mut store).await.map_err(|e| {
        let panic = store.data_mut().panic.take();
        ComponentError::Describe(panic.unwrap_or_else(|| format!("{e:#}")))
    })?;
    Ok(ComponentInfo {
        sdk: info.sdk,
        flows: info
            .flows
            .into_iter()
            .map(|f| FlowInfo {
                name: f.name,
                parameters: f.parameters,
                parameter_schema: serde_json::from_str(&f.parameter_schema)
                    .unwrap_or_else(|_| serde_json::json!({})),
                description: f.description,
                policy: FlowPolicy {
                    retries: f.options.retries.map(|r| RetryPolicy {
                        retries: r.retries,
                        delays_ms: r.delays_ms,
                        backoff_factor: r.backoff_factor,
                        jitter_factor: r.jitter_factor,
                    }),
                    timeout_ms: f.options.timeout_ms,
                },
            })
            .collect(),
        tasks: info
            .tasks
            .into_iter()
            .map(|t| TaskInfo {
                name: t.name,
                description: t.description,
            })
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provided_imports() {
        assert!(is_provided("weft:flow/tasks@0.1.0"));
        assert!(is_provided("wasi:io/streams@0.2.6"));
        assert!(is_provided("wasi:http/outgoing-handler@0.2.6"));
        assert!(is_provided("wasi:http/types@0.2.12"));
        assert!(!is_provided("wasi:http/incoming-handler@0.2.6"));
        assert!(!is_provided("weft:flow/tasks@0.2.0"));
        assert!(!is_provided("example:foo/bar"));
    }

    #[test]
    fn headers() {
        assert!(matches!(
            check_header(b"hello"),
            Err(ComponentError::NotWasm)
        ));
        assert!(matches!(
            check_header(b"\0asm\x01\0\0\0"),
            Err(ComponentError::CoreModule)
        ));
    }
}

//! The worker's component cache: each component is fetched from the
//! server once (`GET /api/components/{digest}/wasm`), checked against its
//! digest, kept on disk beside the runtime's compile cache, and loaded on
//! the runtime once; concurrent runs of one component share one fetch.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use tokio::sync::OnceCell;
use weft_runtime::{FlowComponent, Runtime, digest_of};

use crate::WorkerError;
use crate::api::ApiClient;
use crate::recorder::retry;

/// Loaded components by digest.
pub(crate) struct Components {
    api: ApiClient,
    runtime: Runtime,
    /// Where fetched `.wasm` bytes are kept (`None`: memory only).
    dir: Option<PathBuf>,
    cells: Mutex<HashMap<String, Arc<OnceCell<Arc<FlowComponent>>>>>,
}

impl Components {
    pub(crate) fn new(api: ApiClient, runtime: Runtime, dir: Option<PathBuf>) -> Components {
        Components {
            api,
            runtime,
            dir,
            cells: Mutex::new(HashMap::new()),
        }
    }

    /// The component `digest`, loaded; fetched first if this worker has
    /// not seen it. A failed load is tried again by the next caller.
    pub(crate) async fn get(&self, digest: &str) -> Result<Arc<FlowComponent>, WorkerError> {
        if digest.len() != 64 || !digest.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(WorkerError::Component {
                digest: digest.to_string(),
                message: "not a SHA-256 digest".into(),
            });
        }
        let cell = self
            .cells
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(digest.to_string())
            .or_default()
            .clone();
        cell.get_or_try_init(|| self.load(digest)).await.cloned()
    }

    async fn load(&self, digest: &str) -> Result<Arc<FlowComponent>, WorkerError> {
        let bytes = match self.read_disk(digest).await {
            Some(bytes) => bytes,
            None => {
                let bytes = retry(|| self.api.component_wasm(digest)).await?;
                let actual = digest_of(&bytes);
                if actual != digest {
                    return Err(WorkerError::Component {
                        digest: digest.to_string(),
                        message: format!("the server sent bytes whose digest is {actual}"),
                    });
                }
                self.write_disk(digest, &bytes).await;
                tracing::info!(%digest, size = bytes.len(), "fetched component");
                bytes
            }
        };
        self.runtime
            .load(bytes)
            .await
            .map_err(|e| WorkerError::Component {
                digest: digest.to_string(),
                message: e.to_string(),
            })
    }

    fn path(&self, digest: &str) -> Option<PathBuf> {
        self.dir.as_ref().map(|d| d.join(format!("{digest}.wasm")))
    }

    async fn read_disk(&self, digest: &str) -> Option<Vec<u8>> {
        let path = self.path(digest)?;
        let bytes = tokio::fs::read(&path).await.ok()?;
        (digest_of(&bytes) == digest).then_some(bytes)
    }

    async fn write_disk(&self, digest: &str, bytes: &[u8]) {
        let (Some(dir), Some(path)) = (self.dir.as_ref(), self.path(digest)) else {
            return;
        };
        let tmp = dir.join(format!(".{digest}.{}.tmp", uuid::Uuid::new_v4()));
        let result = async {
            tokio::fs::create_dir_all(dir).await?;
            tokio::fs::write(&tmp, bytes).await?;
            tokio::fs::rename(&tmp, &path).await
        }
        .await;
        if let Err(e) = result {
            let _ = tokio::fs::remove_file(&tmp).await;
            tracing::warn!(path = %path.display(), error = %e, "could not keep the component on disk");
        }
    }
}

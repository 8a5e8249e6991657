//! Engine-wide configuration: the compile cache and the instance pool.

use std::path::PathBuf;
use std::time::Duration;

/// Configuration of a [`crate::Runtime`]: plain data with defaults.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// Where precompiled components are cached (`None`: no disk cache).
    pub cache_dir: Option<PathBuf>,
    /// Component instances alive at once across the whole engine (the
    /// pooling allocator's slots). Instantiations beyond it wait for a slot.
    pub max_instances: u32,
    /// Upper bound of one linear memory, whatever a run's limits say.
    pub max_memory_bytes: u64,
    /// Bytes of each pooled memory slot kept resident between instances,
    /// so a fresh instance does not fault its first pages in again.
    pub keep_resident_bytes: usize,
    /// How often the epoch advances: the granularity of wall-clock limits,
    /// cancellation and fuel accounting across instances.
    pub epoch_tick: Duration,
    /// Maximum native stack a guest may use, in bytes.
    pub max_wasm_stack: usize,
    /// How long a task run's lease on concurrency-limit slots lasts unless
    /// renewed (renewed every third of it while the task runs): how long
    /// the slots of a task on a worker that died stay taken.
    pub slot_lease: Duration,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            cache_dir: None,
            max_instances: 1000,
            max_memory_bytes: 4 << 30,
            keep_resident_bytes: 256 << 10,
            epoch_tick: Duration::from_millis(10),
            max_wasm_stack: 1 << 20,
            slot_lease: Duration::from_secs(60),
        }
    }
}

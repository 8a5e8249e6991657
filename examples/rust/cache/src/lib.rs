//! Caching: the task's result is cached for an hour under a key the host
//! derives from the task's name, the component and the input; a second run
//! of the flow is a cache hit and does not run the task again.

use weft_sdk::prelude::*;

/// An expensive computation: the sum of the squares below `n`.
#[task(cache_expiration = 3600)]
fn expensive(n: u64) -> u64 {
    log::info!("computing (not cached)");
    (0..n).map(|i| i * i).sum()
}

/// Calls the cached task with a fixed input and returns its result.
#[flow]
fn cached_flow() -> u64 {
    expensive(1000)
}

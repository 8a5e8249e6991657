//! Caches of the names flow runs refer to, so that linking a run (its
//! flow's id, its work pool's id) costs no store read on the hot paths.
//!
//! A flow is never renamed or deleted, so a flow read once is kept for the
//! server's life. A work pool can be deleted and created again under the
//! same name (with a new id), possibly through another server on the same
//! database, so a pool's id is reused for [`POOL_TTL`] only, and dropped at
//! once when this server changes the pool. A deployment read to create
//! one of its runs is reused for [`DEPLOYMENT_TTL`] (a burst of runs of one
//! deployment reads it once), and dropped at once when this server changes
//! or deletes it. The caches are bounded.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use uuid::Uuid;
use weft_core::Deployment;
use weft_store::{Flow, Store, StoreError};

/// How long a work pool's id is reused before it is read again.
pub const POOL_TTL: Duration = Duration::from_secs(5);

/// How long a deployment read to create its runs is reused (a change made
/// through another server on the same database shows after this).
pub const DEPLOYMENT_TTL: Duration = Duration::from_secs(1);

/// Entries kept per cache at most; past it the cache starts afresh.
const MAX_ENTRIES: usize = 100_000;

/// The caches. Cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    inner: Arc<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    flows_by_id: RwLock<HashMap<Uuid, Flow>>,
    flow_ids: RwLock<HashMap<String, Uuid>>,
    pools: RwLock<HashMap<String, (Option<Uuid>, Instant)>>,
    deployments: RwLock<HashMap<Uuid, (Arc<Deployment>, Instant)>>,
}

impl Catalog {
    /// The flow with id `id`, if it exists.
    pub async fn flow(&self, store: &dyn Store, id: Uuid) -> Result<Option<Flow>, StoreError> {
        if let Some(flow) = read(&self.inner.flows_by_id).get(&id) {
            return Ok(Some(flow.clone()));
        }
        let flow = store.read_flow(id).await?;
        if let Some(f) = &flow {
            self.remember_flow(f);
        }
        Ok(flow)
    }

    /// The id of the flow named `name`, or nil when no such flow was ever
    /// recorded (then it is asked again next time).
    pub async fn flow_id(&self, store: &dyn Store, name: &str) -> Result<Uuid, StoreError> {
        if let Some(id) = read(&self.inner.flow_ids).get(name) {
            return Ok(*id);
        }
        match store.read_flow_by_name(name).await? {
            Some(f) => {
                self.remember_flow(&f);
                Ok(f.id)
            }
            None => Ok(Uuid::nil()),
        }
    }

    /// Remembers a flow just read or created.
    pub fn remember_flow(&self, flow: &Flow) {
        insert(&self.inner.flows_by_id, flow.id, flow.clone());
        insert(&self.inner.flow_ids, flow.name.clone(), flow.id);
    }

    /// The id of the work pool named `name`, if it exists.
    pub async fn work_pool_id(
        &self,
        store: &dyn Store,
        name: &str,
    ) -> Result<Option<Uuid>, StoreError> {
        if let Some((id, at)) = read(&self.inner.pools).get(name)
            && at.elapsed() < POOL_TTL
        {
            return Ok(*id);
        }
        let id = store.read_work_pool(name).await?.map(|p| p.id);
        insert(&self.inner.pools, name.to_string(), (id, Instant::now()));
        Ok(id)
    }

    /// Deployment `id` as read at most [`DEPLOYMENT_TTL`] ago, to create
    /// runs of it; `None` when it does not exist (not remembered).
    pub async fn deployment_for_runs(
        &self,
        store: &dyn Store,
        id: Uuid,
    ) -> Result<Option<Arc<Deployment>>, StoreError> {
        if let Some((d, at)) = read(&self.inner.deployments).get(&id)
            && at.elapsed() < DEPLOYMENT_TTL
        {
            return Ok(Some(d.clone()));
        }
        let d = store.read_deployment(id).await?.map(Arc::new);
        if let Some(d) = &d {
            insert(&self.inner.deployments, id, (d.clone(), Instant::now()));
        }
        Ok(d)
    }

    /// Forgets deployment `id` (this server created, changed or deleted
    /// it).
    pub fn forget_deployment(&self, id: Uuid) {
        self.inner
            .deployments
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&id);
    }

    /// Forgets the work pool named `name` (this server created, changed or
    /// deleted it).
    pub fn forget_work_pool(&self, name: &str) {
        self.inner
            .pools
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .remove(name);
    }
}

fn read<T>(lock: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(|e| e.into_inner())
}

fn insert<K: std::hash::Hash + Eq, V>(lock: &RwLock<HashMap<K, V>>, key: K, value: V) {
    let mut map = lock.write().unwrap_or_else(|e| e.into_inner());
    if map.len() >= MAX_ENTRIES {
        map.clear();
    }
    map.insert(key, value);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_cache_starts_afresh() {
        let lock = RwLock::new(HashMap::new());
        for i in 0..MAX_ENTRIES {
            insert(&lock, i, i);
        }
        insert(&lock, MAX_ENTRIES, 0);
        assert_eq!(read(&lock).len(), 1);
    }
}

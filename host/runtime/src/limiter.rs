//! Per-instance memory accounting: one budget over all memories and tables.
//!
//! wasmtime's `StoreLimits` caps each linear memory separately; a component
//! has several core modules and memories, so weft sums them here.

use wasmtime::ResourceLimiter;

use crate::outcome::LimitExceeded;

/// Bytes charged per table element (wasmtime stores one pointer each).
const TABLE_ELEMENT_BYTES: usize = std::mem::size_of::<usize>();

/// A [`ResourceLimiter`] that caps the sum of an instance's memories and
/// tables.
#[derive(Debug)]
pub(crate) struct InstanceLimiter {
    limit: usize,
    used: usize,
}

impl InstanceLimiter {
    /// A limiter allowing `limit` bytes in all.
    pub(crate) fn new(limit: u64) -> InstanceLimiter {
        InstanceLimiter {
            limit: usize::try_from(limit).unwrap_or(usize::MAX),
            used: 0,
        }
    }

    fn grow(&mut self, current: usize, desired: usize) -> wasmtime::Result<bool> {
        let extra = desired.saturating_sub(current);
        let total = self.used.saturating_add(extra);
        if total > self.limit {
            return Err(wasmtime::Error::new(LimitExceeded::Memory {
                limit: self.limit as u64,
            }));
        }
        self.used = total;
        Ok(true)
    }
}

impl ResourceLimiter for InstanceLimiter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        self.grow(current, desired)
    }

    fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        self.grow(
            current.saturating_mul(TABLE_ELEMENT_BYTES),
            desired.saturating_mul(TABLE_ELEMENT_BYTES),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_memories_and_tables() {
        let mut l = InstanceLimiter::new(1 << 20);
        assert!(l.memory_growing(0, 512 << 10, None).unwrap());
        assert!(l.table_growing(0, 1024, None).unwrap());
        assert!(l.memory_growing(0, 512 << 10, None).is_err());
    }
}

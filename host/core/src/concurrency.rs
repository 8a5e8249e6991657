//! Concurrency limits: named limits with slots held as leases.
//!
//! A limit (Prefect's global concurrency limit) has a name and a number of
//! slots. Tag limits, which bound the task runs carrying a tag, are limits
//! named `tag:<tag>` ([`tag_limit_name`]), as in Prefect 3. A holder takes
//! slots of one or more limits at once as a *lease*: all or nothing, and
//! with an expiry the holder renews while it works. A holder that dies
//! stops renewing, its lease expires and the slots come back by
//! themselves, so a killed worker never leaks a slot.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The prefix of tag limits' names.
pub const TAG_PREFIX: &str = "tag:";

/// The state name of a run waiting for a slot (type PENDING for task runs,
/// SCHEDULED for flow runs), as Prefect names it.
pub const AWAITING_SLOT: &str = "AwaitingConcurrencySlot";

/// The name of the limit bounding task runs tagged `tag`.
pub fn tag_limit_name(tag: &str) -> String {
    format!("{TAG_PREFIX}{tag}")
}

/// A named concurrency limit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConcurrencyLimit {
    /// Its id.
    pub id: Uuid,
    /// Its unique name (`tag:<tag>` for a tag limit).
    pub name: String,
    /// How many slots may be held at once.
    pub limit: u32,
    /// An inactive limit grants every request without counting it.
    pub active: bool,
    /// Requests refused because the limit was full, since it was created.
    pub denied_slots: u64,
    /// Slots held now (by leases that have not expired).
    pub active_slots: u32,
    /// When it was created.
    pub created: DateTime<Utc>,
    /// When it was last changed.
    pub updated: DateTime<Utc>,
}

impl ConcurrencyLimit {
    /// A new active limit `name` of `limit` slots.
    pub fn new(name: impl Into<String>, limit: u32) -> ConcurrencyLimit {
        let now = Utc::now();
        ConcurrencyLimit {
            id: Uuid::now_v7(),
            name: name.into(),
            limit,
            active: true,
            denied_slots: 0,
            active_slots: 0,
            created: now,
            updated: now,
        }
    }

    /// The tag of a tag limit (`None` for other limits).
    pub fn tag(&self) -> Option<&str> {
        self.name.strip_prefix(TAG_PREFIX)
    }
}

/// Who holds a lease (Prefect's `holder`): e.g. `task_run` and its id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlotHolder {
    /// What kind of thing holds it (`task_run`, `flow_run`, ...).
    #[serde(rename = "type")]
    pub kind: String,
    /// Its id.
    pub id: Uuid,
}

impl SlotHolder {
    /// The holder for a task run.
    pub fn task_run(id: Uuid) -> SlotHolder {
        SlotHolder {
            kind: "task_run".into(),
            id,
        }
    }
}

/// A request for slots of several limits at once.
#[derive(Debug, Clone, PartialEq)]
pub struct SlotRequest {
    /// The limits' names; names without a limit (or of inactive limits)
    /// are not counted.
    pub names: Vec<String>,
    /// Slots of each limit.
    pub slots: u32,
    /// How long the lease lasts unless renewed.
    pub lease: Duration,
    /// Who asks.
    pub holder: Option<SlotHolder>,
    /// How long to wait for the slots when a limit is full (zero: answer
    /// at once).
    pub wait: Duration,
}

/// One limit a lease counts against.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LimitRef {
    /// The limit's id.
    pub id: Uuid,
    /// Its name.
    pub name: String,
    /// Its number of slots.
    pub limit: u32,
}

/// The answer to a [`SlotRequest`].
#[derive(Debug, Clone, PartialEq)]
pub enum SlotGrant {
    /// The slots are held. `lease_id` is `None` when no active limit has
    /// one of the names (nothing to hold or release).
    Acquired {
        /// The lease to renew and release.
        lease_id: Option<Uuid>,
        /// The limits it counts against.
        limits: Vec<LimitRef>,
    },
    /// A limit is full (after waiting, when the request allowed it).
    Busy {
        /// The full limit.
        limit: LimitRef,
        /// Slots of it held now.
        active: u32,
        /// When one of its leases expires at the latest, a hint of when to
        /// ask again.
        retry_after: Duration,
    },
}

/// A lease on slots, as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Lease {
    /// Its id.
    pub id: Uuid,
    /// Its holder.
    pub holder: Option<SlotHolder>,
    /// Slots of each of its limits.
    pub slots: u32,
    /// When it expires unless renewed.
    pub expires: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_limits_are_prefixed() {
        let l = ConcurrencyLimit::new(tag_limit_name("db"), 2);
        assert_eq!(l.name, "tag:db");
        assert_eq!(l.tag(), Some("db"));
        assert_eq!(ConcurrencyLimit::new("gcl", 1).tag(), None);
    }

    #[test]
    fn holders_serialize_as_prefect_does() {
        let id = Uuid::nil();
        let v = serde_json::to_value(SlotHolder::task_run(id)).unwrap();
        assert_eq!(v, serde_json::json!({"type": "task_run", "id": id}));
    }
}

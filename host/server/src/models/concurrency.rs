//! Prefect's concurrency-limit models: v1 tag limits (`ConcurrencyLimit`),
//! v2 global limits (`GlobalConcurrencyLimitResponse`) and leases
//! (`ConcurrencyLimitWithLeaseResponse`).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;
use weft_core::concurrency::LimitRef;
use weft_core::{ConcurrencyLimit, SlotHolder};

/// A tag limit as `/api/concurrency_limits/` returns it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TagLimitOut {
    /// Its id (the same as the v2 limit `tag:<tag>`).
    pub id: Uuid,
    /// When it was created.
    pub created: DateTime<Utc>,
    /// When it last changed.
    pub updated: DateTime<Utc>,
    /// The tag.
    pub tag: String,
    /// How many task runs with the tag may run at once.
    pub concurrency_limit: u32,
    /// The task runs holding its slots now.
    pub active_slots: Vec<Uuid>,
}

impl TagLimitOut {
    /// The tag limit `l` (named `tag:<tag>`) with its holders.
    pub fn new(l: ConcurrencyLimit, holders: Vec<Uuid>) -> TagLimitOut {
        TagLimitOut {
            tag: l.tag().unwrap_or(&l.name).to_string(),
            id: l.id,
            created: l.created,
            updated: l.updated,
            concurrency_limit: l.limit,
            active_slots: holders,
        }
    }
}

/// The body of `POST /api/concurrency_limits/`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TagLimitCreate {
    /// The tag.
    pub tag: String,
    /// How many task runs with the tag may run at once.
    pub concurrency_limit: u32,
}

/// The body of the filter routes: a page.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct LimitFilterBody {
    /// At most this many.
    pub limit: Option<u32>,
    /// Skip this many.
    pub offset: Option<u32>,
}

/// A global limit as `/api/v2/concurrency_limits/` returns it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct GlobalLimitOut {
    /// Its id.
    pub id: Uuid,
    /// When it was created.
    pub created: DateTime<Utc>,
    /// When it last changed.
    pub updated: DateTime<Utc>,
    /// Whether it counts (an inactive limit grants everything).
    pub active: bool,
    /// Its name (`tag:<tag>` for a tag limit).
    pub name: String,
    /// Its number of slots.
    pub limit: u32,
    /// Slots held now.
    pub active_slots: u32,
    /// Requests refused because it was full.
    pub denied_slots: u64,
    /// Always 0: weft's limits do not decay (no rate limits yet).
    pub slot_decay_per_second: f64,
    /// Prefect's estimate of a slot's occupancy; weft reports Prefect's
    /// default.
    pub avg_slot_occupancy_seconds: f64,
}

impl From<ConcurrencyLimit> for GlobalLimitOut {
    fn from(l: ConcurrencyLimit) -> GlobalLimitOut {
        GlobalLimitOut {
            id: l.id,
            created: l.created,
            updated: l.updated,
            active: l.active,
            name: l.name,
            limit: l.limit,
            active_slots: l.active_slots,
            denied_slots: l.denied_slots,
            slot_decay_per_second: 0.0,
            avg_slot_occupancy_seconds: 2.0,
        }
    }
}

fn yes() -> bool {
    true
}

/// The body of `POST /api/v2/concurrency_limits/`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct GlobalLimitCreate {
    /// Its name.
    pub name: String,
    /// Its number of slots.
    pub limit: u32,
    /// Whether it counts (default true).
    #[serde(default = "yes")]
    pub active: bool,
    /// Ignored (Prefect's client sends 0).
    #[serde(default)]
    pub active_slots: u32,
    /// Must be 0: rate limits are not supported.
    #[serde(default)]
    pub slot_decay_per_second: f64,
}

/// The body of `PATCH /api/v2/concurrency_limits/{id_or_name}`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct GlobalLimitUpdate {
    /// A new name.
    pub name: Option<String>,
    /// A new number of slots.
    pub limit: Option<u32>,
    /// Active or not.
    pub active: Option<bool>,
    /// Only 0, which releases every slot held (a reset): weft counts held
    /// slots from their leases, so it cannot set another number.
    pub active_slots: Option<u32>,
    /// Must be 0 when given.
    pub slot_decay_per_second: Option<f64>,
}

/// Who holds a lease, as Prefect sends it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct HolderIn {
    /// `task_run`, `flow_run`, ...
    #[serde(rename = "type")]
    pub kind: String,
    /// Its id.
    pub id: Uuid,
}

impl From<HolderIn> for SlotHolder {
    fn from(h: HolderIn) -> SlotHolder {
        SlotHolder {
            kind: h.kind,
            id: h.id,
        }
    }
}

fn one() -> u32 {
    1
}

fn default_lease() -> f64 {
    300.0
}

/// The body of `POST /api/v2/concurrency_limits/increment-with-lease`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct IncrementWithLease {
    /// The limits' names (names without a limit are not counted).
    pub names: Vec<String>,
    /// Slots of each (default 1).
    #[serde(default = "one")]
    pub slots: u32,
    /// `concurrency` (the default); `rate` is not supported.
    #[serde(default)]
    pub mode: Option<String>,
    /// Seconds the lease lasts unless renewed (default 300).
    #[serde(default = "default_lease")]
    pub lease_duration: f64,
    /// Who holds it.
    #[serde(default)]
    pub holder: Option<HolderIn>,
    /// Weft's own: wait up to this many seconds (at most 60) for the slots
    /// instead of answering 423 at once. A release on this server answers
    /// at once.
    #[serde(default)]
    pub wait_seconds: Option<f64>,
}

/// A limit a lease counts against (Prefect's
/// `MinimalConcurrencyLimitResponse`).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct MinimalLimit {
    /// Its id.
    pub id: Uuid,
    /// Its name.
    pub name: String,
    /// Its number of slots.
    pub limit: u32,
}

impl From<LimitRef> for MinimalLimit {
    fn from(l: LimitRef) -> MinimalLimit {
        MinimalLimit {
            id: l.id,
            name: l.name,
            limit: l.limit,
        }
    }
}

/// The answer of `increment-with-lease` (Prefect's
/// `ConcurrencyLimitWithLeaseResponse`). `lease_id` is null when no active
/// limit has one of the names.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct LeaseOut {
    /// The lease to renew and release.
    pub lease_id: Option<Uuid>,
    /// The limits it counts against.
    pub limits: Vec<MinimalLimit>,
}

/// The body of a 423 answer: which limit is full.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct LimitFull {
    /// What happened.
    pub detail: String,
    /// The full limit.
    pub limit: MinimalLimit,
    /// Its slots held now.
    pub active_slots: u32,
    /// Seconds after which to ask again.
    pub retry_after: f64,
}

/// The body of `POST /api/v2/concurrency_limits/leases/{id}/renew`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RenewLease {
    /// Seconds from now the lease lasts (default 300).
    #[serde(default = "default_lease")]
    pub lease_duration: f64,
}

/// The body of `POST /api/v2/concurrency_limits/decrement-with-lease`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DecrementWithLease {
    /// The lease to release.
    pub lease_id: Uuid,
}

//! The result cache's entries, and the body workers store them with.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;
use weft_core::CacheEntry;

/// A cache entry as the API returns it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CacheEntryOut {
    /// The cache key.
    pub key: String,
    /// The cached result, JSON.
    pub value: serde_json::Value,
    /// When it was stored.
    pub created: DateTime<Utc>,
    /// When it expires; never when null.
    pub expiration: Option<DateTime<Utc>>,
    /// Whether it is valid now.
    pub valid: bool,
    /// The task run that produced it.
    pub task_run_id: Option<Uuid>,
}

impl From<CacheEntry> for CacheEntryOut {
    fn from(e: CacheEntry) -> CacheEntryOut {
        CacheEntryOut {
            valid: e.is_valid_at(Utc::now()),
            key: e.key,
            value: e.value,
            created: e.created,
            expiration: e.expiration,
            task_run_id: e.task_run_id,
        }
    }
}

/// The body of `PUT /api/cache/{key}`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CacheEntryPut {
    /// The result, JSON (required).
    pub value: serde_json::Value,
    /// When it expires; never when absent.
    #[serde(default)]
    pub expiration: Option<DateTime<Utc>>,
    /// The task run that produced it.
    #[serde(default)]
    pub task_run_id: Option<Uuid>,
}

/// Query parameters of `GET /api/cache`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::IntoParams)]
#[serde(default)]
pub struct CacheQuery {
    /// At most this many (default 200).
    pub limit: Option<u32>,
    /// Skip this many.
    pub offset: Option<u32>,
}

//! Prefect's `Flow` and `FlowCreate`.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;
use weft_store::Flow;

/// A flow as the API returns it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct FlowOut {
    /// The flow's id.
    pub id: Uuid,
    /// When it was first recorded.
    pub created: DateTime<Utc>,
    /// When it last changed.
    pub updated: DateTime<Utc>,
    /// Its name.
    pub name: String,
    /// Tags (weft keeps none on flows).
    pub tags: Vec<String>,
    /// Labels.
    pub labels: BTreeMap<String, serde_json::Value>,
}

impl From<Flow> for FlowOut {
    fn from(f: Flow) -> FlowOut {
        FlowOut {
            id: f.id,
            created: f.created,
            updated: f.created,
            name: f.name,
            tags: Vec::new(),
            labels: BTreeMap::new(),
        }
    }
}

/// The body of `POST /api/flows/`: only `name` is read.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct FlowCreate {
    /// The flow's name.
    pub name: String,
    /// Tags (accepted, not kept).
    #[serde(default)]
    pub tags: Vec<String>,
}

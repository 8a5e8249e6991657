//! Weft's component metadata, as `POST /api/components` returns it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use weft_core::ComponentRecord;

/// A flow a component exports.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ComponentFlow {
    /// Its name.
    pub name: String,
    /// Its parameter names, in order.
    #[serde(default)]
    pub parameters: Vec<String>,
    /// A JSON Schema of its parameters.
    #[serde(default)]
    pub parameter_schema: serde_json::Value,
    /// Its description.
    #[serde(default)]
    pub description: String,
}

/// A task a component exports.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ComponentTask {
    /// Its name.
    pub name: String,
    /// Its description.
    #[serde(default)]
    pub description: String,
}

/// A stored component's metadata.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ComponentOut {
    /// SHA-256 of its bytes, hex.
    pub digest: String,
    /// Size of its bytes.
    pub size: u64,
    /// The world it targets.
    pub world: String,
    /// The SDK that built it.
    pub sdk: String,
    /// Its flows.
    pub flows: Vec<ComponentFlow>,
    /// Its tasks.
    pub tasks: Vec<ComponentTask>,
    /// When it was uploaded.
    pub created: DateTime<Utc>,
}

impl From<ComponentRecord> for ComponentOut {
    fn from(c: ComponentRecord) -> ComponentOut {
        let field = |name: &str| c.info.get(name).cloned().unwrap_or_default();
        ComponentOut {
            sdk: field("sdk").as_str().unwrap_or_default().to_string(),
            flows: serde_json::from_value(field("flows")).unwrap_or_default(),
            tasks: serde_json::from_value(field("tasks")).unwrap_or_default(),
            digest: c.digest,
            size: c.size,
            world: c.world,
            created: c.created,
        }
    }
}

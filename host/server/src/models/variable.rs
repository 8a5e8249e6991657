//! Prefect's `Variable`, `VariableCreate`, `VariableUpdate` and filter.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;
use weft_core::Variable;

use super::filter::{IdFilter, NameFilter, TagsFilter};

/// A variable as the API returns it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct VariableOut {
    /// Its id.
    pub id: Uuid,
    /// When it was created.
    pub created: DateTime<Utc>,
    /// When it last changed.
    pub updated: DateTime<Utc>,
    /// Its name.
    pub name: String,
    /// Its value, any JSON.
    pub value: serde_json::Value,
    /// Tags.
    pub tags: Vec<String>,
}

impl From<Variable> for VariableOut {
    fn from(v: Variable) -> VariableOut {
        VariableOut {
            id: v.id,
            created: v.created,
            updated: v.updated,
            name: v.name,
            value: v.value,
            tags: v.tags,
        }
    }
}

/// The body of `POST /api/variables/`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct VariableCreate {
    /// Its name (required).
    pub name: String,
    /// Its value (required; any JSON, `null` included).
    pub value: serde_json::Value,
    /// Tags.
    #[serde(default)]
    pub tags: Vec<String>,
}

/// The body of `PATCH /api/variables/...`: the fields to change.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct VariableUpdate {
    /// A new name.
    pub name: Option<String>,
    /// A new value.
    pub value: Option<serde_json::Value>,
    /// New tags.
    pub tags: Option<Vec<String>>,
}

/// Prefect's `variables` criteria.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct VariableCriteria {
    /// By id.
    pub id: Option<IdFilter>,
    /// By name.
    pub name: Option<NameFilter>,
    /// By tags.
    pub tags: Option<TagsFilter>,
}

/// The body of `POST /api/variables/filter`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct VariableFilterBody {
    /// Criteria.
    pub variables: Option<VariableCriteria>,
    /// `NAME_ASC` (default), `NAME_DESC`, `CREATED_DESC`, `UPDATED_DESC`.
    pub sort: Option<String>,
    /// At most this many.
    pub limit: Option<u32>,
    /// Skip this many.
    pub offset: Option<u32>,
}

//! Events and definitions: the rows, the reads both backends share, and
//! the Postgres writes (the SQLite ones run on the writer thread,
//! `sqlite::events`).
//!
//! A definition is a named JSON document of one kind (an automation, a
//! webhook): the server gives it meaning; the store keeps it, unique by
//! (kind, name).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use uuid::Uuid;
use weft_core::Event;

use crate::StoreError;
use crate::query::Reader;
use crate::rows::uuid;

/// Which events to read: every given condition holds. Newest first.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EventFilter {
    /// Events with one of these names.
    pub names: Option<Vec<String>>,
    /// Events whose name starts with one of these.
    pub prefixes: Option<Vec<String>>,
    /// Events about one of these resources (`prefect.flow-run.<id>`).
    pub resource_ids: Option<Vec<String>>,
    /// Events that occurred at or after this.
    pub since: Option<DateTime<Utc>>,
    /// Events that occurred at or before this.
    pub until: Option<DateTime<Utc>>,
    /// At most this many.
    pub limit: Option<u32>,
}

/// A named JSON document of one kind.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Definition {
    /// Its id.
    pub id: Uuid,
    /// Its name, unique within its kind.
    pub name: String,
    /// The document.
    pub body: serde_json::Value,
    /// When it was created.
    pub created: DateTime<Utc>,
    /// When it last changed.
    pub updated: DateTime<Utc>,
}

/// An event row.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct EventRow {
    pub id: String,
    pub occurred: DateTime<Utc>,
    pub event: String,
    pub resource_id: String,
    pub resource: String,
    pub related: String,
    pub payload: String,
    pub received: DateTime<Utc>,
}

fn json<T: Serialize>(v: &T) -> Result<String, StoreError> {
    serde_json::to_string(v).map_err(|e| StoreError::Invalid(format!("cannot encode: {e}")))
}

fn parse<T: serde::de::DeserializeOwned>(s: &str) -> Result<T, StoreError> {
    serde_json::from_str(s).map_err(|e| StoreError::Decode(format!("bad JSON: {e}")))
}

impl EventRow {
    /// The row of `e`.
    pub fn from_model(e: &Event) -> Result<EventRow, StoreError> {
        Ok(EventRow {
            id: e.id.hyphenated().to_string(),
            occurred: e.occurred,
            event: e.event.clone(),
            resource_id: e.resource_id().to_string(),
            resource: json(&e.resource)?,
            related: json(&e.related)?,
            payload: json(&e.payload)?,
            received: e.received,
        })
    }

    fn into_model(self) -> Result<Event, StoreError> {
        Ok(Event {
            id: uuid(&self.id)?,
            occurred: self.occurred,
            event: self.event,
            resource: parse(&self.resource)?,
            related: parse(&self.related)?,
            payload: parse(&self.payload)?,
            received: self.received,
        })
    }
}

/// A definition row.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct DefinitionRow {
    pub id: String,
    pub name: String,
    pub body: String,
    pub created: DateTime<Utc>,
    pub updated: DateTime<Utc>,
}

impl DefinitionRow {
    /// The row of `d`.
    pub fn from_model(d: &Definition) -> Result<DefinitionRow, StoreError> {
        if d.name.trim().is_empty() || d.name.len() > 1024 {
            return Err(StoreError::Invalid("a name must be 1 to 1024 bytes".into()));
        }
        Ok(DefinitionRow {
            id: d.id.hyphenated().to_string(),
            name: d.name.clone(),
            body: json(&d.body)?,
            created: d.created,
            updated: d.updated,
        })
    }

    fn into_model(self) -> Result<Definition, StoreError> {
        Ok(Definition {
            id: uuid(&self.id)?,
            name: self.name,
            body: parse(&self.body)?,
            created: self.created,
            updated: self.updated,
        })
    }
}

/// Events matching `f`, newest first.
pub(crate) async fn read_events(db: &Reader, f: &EventFilter) -> Result<Vec<Event>, StoreError> {
    let mut q = db.sql(
        "SELECT id, occurred, event, resource_id, resource, related, payload, received FROM events",
    );
    q.any_of("event", f.names.clone());
    q.any_of("resource_id", f.resource_ids.clone());
    if let Some(prefixes) = &f.prefixes {
        q.cond().push("(");
        if prefixes.is_empty() {
            q.push("1 = 0");
        }
        for (i, p) in prefixes.iter().enumerate() {
            if i > 0 {
                q.push(" OR ");
            }
            q.push("substr(event, 1, CAST(")
                .bind(p.len() as i64)
                .push(" AS INTEGER)) = ")
                .bind(p.clone());
        }
        q.push(")");
    }
    if let Some(t) = f.since {
        q.cond().push("occurred >= ").bind(t);
    }
    if let Some(t) = f.until {
        q.cond().push("occurred <= ").bind(t);
    }
    q.push(" ORDER BY occurred DESC, id DESC");
    q.page(Some(f.limit.unwrap_or(200).min(10_000)), 0);
    let rows: Vec<EventRow> = db.all(&q).await?;
    rows.into_iter().map(EventRow::into_model).collect()
}

/// The definitions of `kind`, by name.
pub(crate) async fn list_definitions(
    db: &Reader,
    kind: &str,
) -> Result<Vec<Definition>, StoreError> {
    let mut q = db.sql("SELECT id, name, body, created, updated FROM definitions WHERE kind = ");
    q.bind(kind).push(" ORDER BY name");
    let rows: Vec<DefinitionRow> = db.all(&q).await?;
    rows.into_iter().map(DefinitionRow::into_model).collect()
}

/// The definition of `kind` with this id.
pub(crate) async fn read_definition(
    db: &Reader,
    kind: &str,
    id: Uuid,
) -> Result<Option<Definition>, StoreError> {
    let mut q = db.sql("SELECT id, name, body, created, updated FROM definitions WHERE kind = ");
    q.bind(kind)
        .push(" AND id = ")
        .bind(id.hyphenated().to_string());
    let row: Option<DefinitionRow> = db.optional(&q).await?;
    row.map(DefinitionRow::into_model).transpose()
}

/// The conflict of a definition whose name is taken.
pub(crate) fn name_taken(kind: &str, name: &str) -> StoreError {
    StoreError::Conflict(format!("a {kind} named {name:?} already exists"))
}

// ------------------------------------------------------------ Postgres

/// Inserts events (an id already stored is skipped), in one statement.
/// The commit does not wait for the WAL flush: events are derived records
/// (and posted ones were already answered before they were stored), so a
/// crash may lose the last few milliseconds of them, never a run's state.
pub(crate) async fn pg_write_events(pool: &PgPool, events: &[Event]) -> Result<(), StoreError> {
    let rows = events
        .iter()
        .map(EventRow::from_model)
        .collect::<Result<Vec<_>, _>>()?;
    let column = |f: fn(&EventRow) -> &String| rows.iter().map(f).cloned().collect::<Vec<_>>();
    let mut tx = pool.begin().await?;
    sqlx::query("SET LOCAL synchronous_commit = off")
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "INSERT INTO events (id, occurred, event, resource_id, resource, related, payload,
            received)
         SELECT * FROM UNNEST($1::text[], $2::timestamptz[], $3::text[], $4::text[],
            $5::text[], $6::text[], $7::text[], $8::timestamptz[])
         ON CONFLICT (id) DO NOTHING",
    )
    .bind(column(|r| &r.id))
    .bind(rows.iter().map(|r| r.occurred).collect::<Vec<_>>())
    .bind(column(|r| &r.event))
    .bind(column(|r| &r.resource_id))
    .bind(column(|r| &r.resource))
    .bind(column(|r| &r.related))
    .bind(column(|r| &r.payload))
    .bind(rows.iter().map(|r| r.received).collect::<Vec<_>>())
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Inserts or replaces a definition (by kind and id).
pub(crate) async fn pg_put_definition(
    pool: &PgPool,
    kind: &str,
    d: &Definition,
) -> Result<(), StoreError> {
    let r = DefinitionRow::from_model(d)?;
    sqlx::query(
        "INSERT INTO definitions (kind, id, name, body, created, updated)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (kind, id) DO UPDATE SET name = excluded.name, body = excluded.body,
             updated = excluded.updated",
    )
    .bind(kind)
    .bind(&r.id)
    .bind(&r.name)
    .bind(&r.body)
    .bind(r.created)
    .bind(r.updated)
    .execute(pool)
    .await
    .map_err(|e| match &e {
        sqlx::Error::Database(db) if db.code().as_deref() == Some("23505") => {
            name_taken(kind, &d.name)
        }
        _ => StoreError::Database(e),
    })?;
    Ok(())
}

/// Deletes a definition; whether it existed.
pub(crate) async fn pg_delete_definition(
    pool: &PgPool,
    kind: &str,
    id: Uuid,
) -> Result<bool, StoreError> {
    let n = sqlx::query("DELETE FROM definitions WHERE kind = $1 AND id = $2")
        .bind(kind)
        .bind(id.hyphenated().to_string())
        .execute(pool)
        .await?;
    Ok(n.rows_affected() > 0)
}

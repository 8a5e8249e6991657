//! Events and definitions on SQLite (see [`crate::events`]): writes are
//! [`Op::Call`]s on the single writer.

use rusqlite::params;
use uuid::Uuid;

use super::writer::{self, Op, Out, WriteFn};
use crate::events::{DefinitionRow, EventRow, name_taken};

/// The op inserting events (an id already stored is skipped).
pub(super) fn write(rows: Vec<EventRow>) -> Op {
    Op::Call(WriteFn(Box::new(move |conn| {
        let mut n = 0;
        for r in &rows {
            n += conn
                .prepare_cached(
                    "INSERT INTO events (id, occurred, event, resource_id, resource, related,
                        payload, received) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
                     ON CONFLICT (id) DO NOTHING",
                )
                .and_then(|mut st| {
                    st.execute(params![
                        r.id,
                        writer::ts(&r.occurred),
                        r.event,
                        r.resource_id,
                        r.resource,
                        r.related,
                        r.payload,
                        writer::ts(&r.received)
                    ])
                })
                .map_err(writer::sqlite)?;
        }
        Ok(Out::N(n as u64))
    })))
}

/// The op inserting or replacing a definition.
pub(super) fn put(kind: String, r: DefinitionRow) -> Op {
    Op::Call(WriteFn(Box::new(move |conn| {
        conn.prepare_cached(
            "INSERT INTO definitions (kind, id, name, body, created, updated)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (kind, id) DO UPDATE SET name = excluded.name, body = excluded.body,
                 updated = excluded.updated",
        )
        .and_then(|mut st| {
            st.execute(params![
                kind,
                r.id,
                r.name,
                r.body,
                writer::ts(&r.created),
                writer::ts(&r.updated)
            ])
        })
        .map(|n| Out::N(n as u64))
        .map_err(|e| match writer::classify(e, String::new) {
            crate::StoreError::Conflict(_) => name_taken(&kind, &r.name),
            other => other,
        })
    })))
}

/// The op deleting a definition.
pub(super) fn delete(kind: String, id: Uuid) -> Op {
    let id = id.hyphenated().to_string();
    Op::Call(WriteFn(Box::new(move |conn| {
        conn.prepare_cached("DELETE FROM definitions WHERE kind = ?1 AND id = ?2")
            .and_then(|mut st| st.execute(params![kind, id]))
            .map(|n| Out::N(n as u64))
            .map_err(writer::sqlite)
    })))
}

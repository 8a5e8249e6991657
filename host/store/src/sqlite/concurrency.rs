//! Concurrency limits and leases on SQLite (see [`crate::concurrency`]):
//! each write is one [`Op::Call`] on the single writer, so a request's
//! count and its lease insert run in one `BEGIN IMMEDIATE` transaction and
//! no other write (of this process or another on the same file)
//! interleaves with them.

use std::time::Duration;

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params};
use uuid::Uuid;
use weft_core::concurrency::{LimitRef, SlotGrant, SlotRequest};

use super::writer::{self, Op, Out, WriteFn};
use crate::StoreError;
use crate::concurrency::{LimitRow, LimitUse, SWEEP_AFTER, expiry, full_limit};
use crate::rows::uuid;

/// The op inserting a limit.
pub(super) fn create(row: LimitRow) -> Op {
    Op::Call(WriteFn(Box::new(move |conn| {
        conn.prepare_cached(
            "INSERT INTO concurrency_limits (id, name, slots, active, denied_slots, created, updated)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )
        .and_then(|mut st| {
            st.execute(params![
                row.id,
                row.name,
                row.slots,
                row.active,
                row.denied_slots,
                writer::ts(&row.created),
                writer::ts(&row.updated)
            ])
        })
        .map(|n| Out::N(n as u64))
        .map_err(|e| named(e, &row.name))
    })))
}

fn named(e: rusqlite::Error, name: &str) -> StoreError {
    match writer::classify(e, String::new) {
        StoreError::Conflict(_) => {
            StoreError::Conflict(format!("a concurrency limit named {name:?} already exists"))
        }
        other => other,
    }
}

/// The op replacing a limit's name, size and activity.
pub(super) fn update(row: LimitRow, now: DateTime<Utc>) -> Op {
    Op::Call(WriteFn(Box::new(move |conn| {
        conn.prepare_cached(
            "UPDATE concurrency_limits SET name = ?2, slots = ?3, active = ?4, updated = ?5
             WHERE id = ?1",
        )
        .and_then(|mut st| {
            st.execute(params![
                row.id,
                row.name,
                row.slots,
                row.active,
                writer::ts(&now)
            ])
        })
        .map(|n| Out::N(n as u64))
        .map_err(|e| named(e, &row.name))
    })))
}

/// The op running one statement with a limit's or a lease's id.
fn by_id(sql: &'static str, id: Uuid) -> Op {
    let id = id.hyphenated().to_string();
    Op::Call(WriteFn(Box::new(move |conn| {
        conn.prepare_cached(sql)
            .and_then(|mut st| st.execute(params![id]))
            .map(|n| Out::N(n as u64))
            .map_err(writer::sqlite)
    })))
}

/// The op deleting a limit.
pub(super) fn delete(id: Uuid) -> Op {
    by_id("DELETE FROM concurrency_limits WHERE id = ?1", id)
}

/// The op releasing every lease of a limit.
pub(super) fn reset(id: Uuid) -> Op {
    by_id(
        "DELETE FROM concurrency_leases WHERE id IN
         (SELECT lease_id FROM concurrency_lease_limits WHERE limit_id = ?1)",
        id,
    )
}

/// The op releasing a lease.
pub(super) fn release(id: Uuid) -> Op {
    by_id("DELETE FROM concurrency_leases WHERE id = ?1", id)
}

/// The op extending an unexpired lease (1 when it was).
pub(super) fn renew(id: Uuid, lease: Duration) -> Op {
    let id = id.hyphenated().to_string();
    Op::Call(WriteFn(Box::new(move |conn| {
        let now = Utc::now();
        conn.prepare_cached(
            "UPDATE concurrency_leases SET expires = ?2 WHERE id = ?1 AND expires > ?3",
        )
        .and_then(|mut st| {
            st.execute(params![
                id,
                writer::ts(&expiry(now, lease)),
                writer::ts(&now)
            ])
        })
        .map(|n| Out::N(n as u64))
        .map_err(writer::sqlite)
    })))
}

/// The op making one attempt at a request (answers [`Out::Grant`]).
pub(super) fn try_acquire(request: SlotRequest) -> Op {
    Op::Call(WriteFn(Box::new(move |conn| {
        try_acquire_in(conn, &request, Utc::now()).map(Out::Grant)
    })))
}

fn try_acquire_in(
    conn: &Connection,
    request: &SlotRequest,
    now: DateTime<Utc>,
) -> Result<SlotGrant, StoreError> {
    let e = writer::sqlite;
    let mut uses = Vec::new();
    let mut names: Vec<&String> = request.names.iter().collect();
    names.sort();
    names.dedup();
    for name in names {
        let limit = conn
            .prepare_cached("SELECT id, slots FROM concurrency_limits WHERE name = ?1 AND active")
            .map_err(e)?
            .query_row(params![name], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
            })
            .optional()
            .map_err(e)?;
        let Some((id, slots)) = limit else {
            continue;
        };
        let (active, next): (i64, Option<String>) = conn
            .prepare_cached(
                "SELECT COALESCE(SUM(s.slots), 0), MIN(s.expires)
                 FROM concurrency_lease_limits ll JOIN concurrency_leases s ON s.id = ll.lease_id
                 WHERE ll.limit_id = ?1 AND s.expires > ?2",
            )
            .map_err(e)?
            .query_row(params![id, writer::ts(&now)], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .map_err(e)?;
        let next_expiry = next
            .map(|t| DateTime::parse_from_rfc3339(&t).map(|t| t.with_timezone(&Utc)))
            .transpose()
            .map_err(|err| StoreError::Decode(format!("lease expiry: {err}")))?;
        uses.push(LimitUse {
            limit: LimitRef {
                id: uuid(&id)?,
                name: name.clone(),
                limit: u32::try_from(slots).unwrap_or(0),
            },
            active: u32::try_from(active).unwrap_or(u32::MAX),
            next_expiry,
        });
    }
    if uses.is_empty() {
        return Ok(SlotGrant::Acquired {
            lease_id: None,
            limits: Vec::new(),
        });
    }
    if let Some(busy) = full_limit(&uses, request.slots, now)? {
        if let SlotGrant::Busy { limit, .. } = &busy {
            conn.prepare_cached(
                "UPDATE concurrency_limits SET denied_slots = denied_slots + ?2 WHERE id = ?1",
            )
            .and_then(|mut st| {
                st.execute(params![
                    limit.id.hyphenated().to_string(),
                    i64::from(request.slots)
                ])
            })
            .map_err(e)?;
        }
        return Ok(busy);
    }
    conn.prepare_cached("DELETE FROM concurrency_leases WHERE expires < ?1")
        .and_then(|mut st| st.execute(params![writer::ts(&(now - SWEEP_AFTER))]))
        .map_err(e)?;
    let lease_id = Uuid::now_v7();
    let id = lease_id.hyphenated().to_string();
    conn.prepare_cached(
        "INSERT INTO concurrency_leases (id, holder_type, holder_id, slots, expires, created)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )
    .and_then(|mut st| {
        st.execute(params![
            id,
            request.holder.as_ref().map(|h| h.kind.clone()),
            request
                .holder
                .as_ref()
                .map(|h| h.id.hyphenated().to_string()),
            i64::from(request.slots),
            writer::ts(&expiry(now, request.lease)),
            writer::ts(&now)
        ])
    })
    .map_err(e)?;
    for u in &uses {
        conn.prepare_cached(
            "INSERT INTO concurrency_lease_limits (lease_id, limit_id) VALUES (?1, ?2)",
        )
        .and_then(|mut st| st.execute(params![id, u.limit.id.hyphenated().to_string()]))
        .map_err(e)?;
    }
    Ok(SlotGrant::Acquired {
        lease_id: Some(lease_id),
        limits: uses.into_iter().map(|u| u.limit).collect(),
    })
}

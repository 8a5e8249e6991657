//! Workers' heartbeats on SQLite: one [`Op::Call`] on the single writer
//! each, an upsert keyed by pool and worker name.

use chrono::{DateTime, Utc};
use rusqlite::params;
use uuid::Uuid;

use super::sql;
use super::writer::{self, Op, Out, WriteFn};

/// The op recording a heartbeat of worker `name` of `pool` at `at`.
pub(super) fn heartbeat(pool: &str, name: &str, interval: Option<u32>, at: DateTime<Utc>) -> Op {
    let id = Uuid::now_v7().hyphenated().to_string();
    let (pool, name, at) = (pool.to_string(), name.to_string(), writer::ts(&at));
    let interval = interval.map(i64::from);
    Op::Call(WriteFn(Box::new(move |conn| {
        conn.prepare_cached(sql::UPSERT_WORKER)
            .and_then(|mut st| st.execute(params![id, pool, name, at, interval]))
            .map(|n| Out::N(n as u64))
            .map_err(writer::sqlite)
    })))
}

/// The op deleting worker `name` of `pool` (answers the rows deleted).
pub(super) fn delete(pool: &str, name: &str) -> Op {
    let (pool, name) = (pool.to_string(), name.to_string());
    Op::Call(WriteFn(Box::new(move |conn| {
        conn.prepare_cached(sql::DELETE_WORKER)
            .and_then(|mut st| st.execute(params![pool, name]))
            .map(|n| Out::N(n as u64))
            .map_err(writer::sqlite)
    })))
}

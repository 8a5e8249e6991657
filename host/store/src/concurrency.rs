//! Concurrency limits and their leases (see [`weft_core::concurrency`]):
//! the rows, the reads both backends share, the rule deciding a request,
//! waiting for a release, and the Postgres writes. The SQLite writes run
//! on the writer thread (`sqlite::concurrency`).
//!
//! A request locks the rows of the limits it names (`FOR UPDATE` on
//! Postgres; the single writer's `BEGIN IMMEDIATE` on SQLite), counts the
//! slots of their unexpired leases, and inserts a lease only when every
//! limit has room: two requests never both take a limit's last slot, from
//! any number of servers and workers. A released lease wakes the waiters
//! of this process at once; others (another server on the same database)
//! see it at their next poll, within [`POLL`].

use std::future::Future;
use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::{PgPool, Postgres, Row, Transaction};
use tokio::sync::Notify;
use uuid::Uuid;
use weft_core::concurrency::{LimitRef, SlotGrant, SlotRequest};
use weft_core::{ConcurrencyLimit, Lease, SlotHolder};

use crate::StoreError;
use crate::query::{Reader, Sql};
use crate::rows::{name_ok, uuid};

/// How often a waiter asks again without being woken (a release by
/// another process, or a lease expiring).
pub(crate) const POLL: Duration = Duration::from_secs(1);

/// The longest one request may wait for slots.
pub const MAX_WAIT: Duration = Duration::from_secs(60);

/// The longest lease one request may ask for: one day.
pub const MAX_LEASE: Duration = Duration::from_secs(24 * 60 * 60);

/// How long expired leases are kept before they are swept.
pub(crate) const SWEEP_AFTER: chrono::Duration = chrono::Duration::minutes(5);

/// A limit row, with the slots its unexpired leases hold.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct LimitRow {
    pub id: String,
    pub name: String,
    pub slots: i64,
    pub active: bool,
    pub denied_slots: i64,
    pub active_slots: i64,
    pub created: DateTime<Utc>,
    pub updated: DateTime<Utc>,
}

impl LimitRow {
    /// The row for `l`, checked.
    pub fn from_model(l: &ConcurrencyLimit) -> Result<LimitRow, StoreError> {
        name_ok("concurrency limit", &l.name)?;
        Ok(LimitRow {
            id: l.id.hyphenated().to_string(),
            name: l.name.clone(),
            slots: i64::from(l.limit),
            active: l.active,
            denied_slots: i64::try_from(l.denied_slots).unwrap_or(i64::MAX),
            active_slots: 0,
            created: l.created,
            updated: l.updated,
        })
    }

    /// The model of this row.
    pub fn into_model(self) -> Result<ConcurrencyLimit, StoreError> {
        let n = |v: i64| {
            u32::try_from(v).map_err(|_| StoreError::Decode(format!("slot count {v} out of range")))
        };
        Ok(ConcurrencyLimit {
            id: uuid(&self.id)?,
            name: self.name,
            limit: n(self.slots)?,
            active: self.active,
            denied_slots: u64::try_from(self.denied_slots).unwrap_or(0),
            active_slots: n(self.active_slots)?,
            created: self.created,
            updated: self.updated,
        })
    }
}

/// A lease row.
#[derive(Debug, Clone, sqlx::FromRow)]
struct LeaseRow {
    id: String,
    holder_type: Option<String>,
    holder_id: Option<String>,
    slots: i64,
    expires: DateTime<Utc>,
}

impl LeaseRow {
    fn into_model(self) -> Result<Lease, StoreError> {
        let holder = match (self.holder_type, self.holder_id) {
            (Some(kind), Some(id)) => Some(SlotHolder {
                kind,
                id: uuid(&id)?,
            }),
            _ => None,
        };
        Ok(Lease {
            id: uuid(&self.id)?,
            holder,
            slots: u32::try_from(self.slots).unwrap_or(u32::MAX),
            expires: self.expires,
        })
    }
}

/// Limits with the slots held at `now`.
fn limit_select(db: &Reader, now: DateTime<Utc>) -> Sql {
    let mut q = db.sql(
        "SELECT l.id, l.name, l.slots, l.active, l.denied_slots, \
         CAST(COALESCE((SELECT SUM(s.slots) FROM concurrency_lease_limits ll \
             JOIN concurrency_leases s ON s.id = ll.lease_id \
             WHERE ll.limit_id = l.id AND s.expires > ",
    );
    q.bind(now)
        .push("), 0) AS BIGINT) AS active_slots, l.created, l.updated FROM concurrency_limits l");
    q
}

/// Which limit to read.
#[derive(Debug, Clone, Copy)]
pub(crate) enum LimitKey<'a> {
    /// By id.
    Id(Uuid),
    /// By name.
    Name(&'a str),
}

/// One limit, as of now.
pub(crate) async fn read_limit(
    db: &Reader,
    key: LimitKey<'_>,
) -> Result<Option<ConcurrencyLimit>, StoreError> {
    let mut q = limit_select(db, Utc::now());
    match key {
        LimitKey::Id(id) => q.push(" WHERE l.id = ").bind(id.hyphenated().to_string()),
        LimitKey::Name(name) => q.push(" WHERE l.name = ").bind(name),
    };
    let row: Option<LimitRow> = db.optional(&q).await?;
    row.map(LimitRow::into_model).transpose()
}

/// Limits by name, a page of them.
pub(crate) async fn list_limits(
    db: &Reader,
    limit: Option<u32>,
    offset: u32,
) -> Result<Vec<ConcurrencyLimit>, StoreError> {
    let mut q = limit_select(db, Utc::now());
    q.push(" ORDER BY l.name");
    q.page(limit, offset);
    let rows: Vec<LimitRow> = db.all(&q).await?;
    rows.into_iter().map(LimitRow::into_model).collect()
}

/// The unexpired leases counting against a limit, oldest first.
pub(crate) async fn leases_of(db: &Reader, limit_id: Uuid) -> Result<Vec<Lease>, StoreError> {
    let mut q = db.sql(
        "SELECT s.id, s.holder_type, s.holder_id, s.slots, s.expires FROM concurrency_leases s \
         JOIN concurrency_lease_limits ll ON ll.lease_id = s.id WHERE ll.limit_id = ",
    );
    q.bind(limit_id.hyphenated().to_string())
        .push(" AND s.expires > ")
        .bind(Utc::now())
        .push(" ORDER BY s.created, s.id");
    let rows: Vec<LeaseRow> = db.all(&q).await?;
    rows.into_iter().map(LeaseRow::into_model).collect()
}

/// A limit a request names, with its use at the time of the request.
#[derive(Debug, Clone)]
pub(crate) struct LimitUse {
    pub limit: LimitRef,
    /// Slots held now.
    pub active: u32,
    /// When the first of its leases expires.
    pub next_expiry: Option<DateTime<Utc>>,
}

/// What a request gets, given the use of the limits it names: the first
/// full one, or `None` when every limit has room. Asking for more slots
/// than a limit has can never succeed and is [`StoreError::Invalid`].
pub(crate) fn full_limit(
    uses: &[LimitUse],
    slots: u32,
    now: DateTime<Utc>,
) -> Result<Option<SlotGrant>, StoreError> {
    for u in uses {
        if slots > u.limit.limit {
            return Err(StoreError::Invalid(format!(
                "{slots} slots asked of concurrency limit {:?}, which has {}",
                u.limit.name, u.limit.limit
            )));
        }
    }
    Ok(uses
        .iter()
        .find(|u| u.active.saturating_add(slots) > u.limit.limit)
        .map(|u| SlotGrant::Busy {
            limit: u.limit.clone(),
            active: u.active,
            retry_after: u
                .next_expiry
                .and_then(|t| (t - now).to_std().ok())
                .unwrap_or(POLL)
                .min(POLL),
        }))
}

/// Checks a request before it reaches the database.
pub(crate) fn check_request(request: &SlotRequest) -> Result<(), StoreError> {
    if request.slots == 0 {
        return Err(StoreError::Invalid(
            "a request must ask for at least one slot".into(),
        ));
    }
    if request.lease.is_zero() || request.lease > MAX_LEASE {
        return Err(StoreError::Invalid(format!(
            "a lease must last between 1 ms and {} s",
            MAX_LEASE.as_secs()
        )));
    }
    Ok(())
}

/// When a lease of `lease` taken at `now` expires.
pub(crate) fn expiry(now: DateTime<Utc>, lease: Duration) -> DateTime<Utc> {
    now + chrono::Duration::from_std(lease.min(MAX_LEASE)).unwrap_or(chrono::Duration::zero())
}

/// Wakes the waiters of this process when slots are released.
#[derive(Debug, Default)]
pub(crate) struct SlotWaiters {
    released: Notify,
}

impl SlotWaiters {
    /// Slots were released: every waiter asks again.
    pub fn released(&self) {
        self.released.notify_waiters();
    }

    /// Runs `attempt` until it acquires, or until `request.wait` (at most
    /// [`MAX_WAIT`]) has passed, asking again as soon as a lease is
    /// released in this process, and at least every [`POLL`].
    pub async fn acquire<F, Fut>(
        &self,
        request: &SlotRequest,
        mut attempt: F,
    ) -> Result<SlotGrant, StoreError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<SlotGrant, StoreError>>,
    {
        check_request(request)?;
        let deadline = tokio::time::Instant::now() + request.wait.min(MAX_WAIT);
        loop {
            // Listen before asking, so a release between the two is seen.
            let notified = self.released.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let grant = attempt().await?;
            let SlotGrant::Busy { retry_after, .. } = &grant else {
                return Ok(grant);
            };
            let now = tokio::time::Instant::now();
            if now >= deadline {
                return Ok(grant);
            }
            let pause = (*retry_after)
                .max(Duration::from_millis(10))
                .min(deadline - now);
            tokio::select! {
                _ = notified => {}
                _ = tokio::time::sleep(pause) => {}
            }
        }
    }
}

// ------------------------------------------------------------ Postgres

fn db(e: sqlx::Error) -> StoreError {
    StoreError::Database(e)
}

/// Creates a limit; a limit of the same name is [`StoreError::Conflict`].
pub(crate) async fn pg_create(pool: &PgPool, l: &ConcurrencyLimit) -> Result<(), StoreError> {
    let r = LimitRow::from_model(l)?;
    sqlx::query(
        "INSERT INTO concurrency_limits (id, name, slots, active, denied_slots, created, updated)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&r.id)
    .bind(&r.name)
    .bind(r.slots)
    .bind(r.active)
    .bind(r.denied_slots)
    .bind(r.created)
    .bind(r.updated)
    .execute(pool)
    .await
    .map_err(|e| conflict(e, &l.name))?;
    Ok(())
}

fn conflict(e: sqlx::Error, name: &str) -> StoreError {
    match &e {
        sqlx::Error::Database(d) if d.code().as_deref() == Some("23505") => {
            StoreError::Conflict(format!("a concurrency limit named {name:?} already exists"))
        }
        _ => StoreError::Database(e),
    }
}

/// Replaces a limit's name, size and activity; whether it existed.
pub(crate) async fn pg_update(pool: &PgPool, l: &ConcurrencyLimit) -> Result<bool, StoreError> {
    let r = LimitRow::from_model(l)?;
    let n = sqlx::query(
        "UPDATE concurrency_limits SET name = $2, slots = $3, active = $4, updated = $5
         WHERE id = $1",
    )
    .bind(&r.id)
    .bind(&r.name)
    .bind(r.slots)
    .bind(r.active)
    .bind(Utc::now())
    .execute(pool)
    .await
    .map_err(|e| conflict(e, &l.name))?;
    Ok(n.rows_affected() > 0)
}

/// Deletes a limit; whether it existed.
pub(crate) async fn pg_delete(pool: &PgPool, id: Uuid) -> Result<bool, StoreError> {
    let n = sqlx::query("DELETE FROM concurrency_limits WHERE id = $1")
        .bind(id.hyphenated().to_string())
        .execute(pool)
        .await
        .map_err(db)?;
    Ok(n.rows_affected() > 0)
}

/// Releases every lease of a limit; how many.
pub(crate) async fn pg_reset(pool: &PgPool, id: Uuid) -> Result<u64, StoreError> {
    let n = sqlx::query(
        "DELETE FROM concurrency_leases WHERE id IN
         (SELECT lease_id FROM concurrency_lease_limits WHERE limit_id = $1)",
    )
    .bind(id.hyphenated().to_string())
    .execute(pool)
    .await
    .map_err(db)?;
    Ok(n.rows_affected())
}

/// One attempt at a request (see the module docs).
pub(crate) async fn pg_try_acquire(
    pool: &PgPool,
    request: &SlotRequest,
) -> Result<SlotGrant, StoreError> {
    let now = Utc::now();
    let mut tx = pool.begin().await.map_err(db)?;
    let limits = sqlx::query(
        "SELECT id, name, slots FROM concurrency_limits WHERE active AND name = ANY($1)
         ORDER BY name FOR UPDATE",
    )
    .bind(&request.names)
    .fetch_all(&mut *tx)
    .await
    .map_err(db)?;
    if limits.is_empty() {
        return Ok(SlotGrant::Acquired {
            lease_id: None,
            limits: Vec::new(),
        });
    }
    let mut uses = Vec::with_capacity(limits.len());
    for row in limits {
        let id: String = row.try_get("id").map_err(db)?;
        let held = sqlx::query(
            "SELECT COALESCE(SUM(s.slots), 0)::BIGINT AS active, MIN(s.expires) AS next
             FROM concurrency_lease_limits ll JOIN concurrency_leases s ON s.id = ll.lease_id
             WHERE ll.limit_id = $1 AND s.expires > $2",
        )
        .bind(&id)
        .bind(now)
        .fetch_one(&mut *tx)
        .await
        .map_err(db)?;
        uses.push(LimitUse {
            limit: LimitRef {
                id: uuid(&id)?,
                name: row.try_get("name").map_err(db)?,
                limit: u32::try_from(row.try_get::<i64, _>("slots").map_err(db)?).unwrap_or(0),
            },
            active: u32::try_from(held.try_get::<i64, _>("active").map_err(db)?).unwrap_or(0),
            next_expiry: held.try_get("next").map_err(db)?,
        });
    }
    if let Some(busy) = full_limit(&uses, request.slots, now)? {
        if let SlotGrant::Busy { limit, .. } = &busy {
            sqlx::query(
                "UPDATE concurrency_limits SET denied_slots = denied_slots + $2 WHERE id = $1",
            )
            .bind(limit.id.hyphenated().to_string())
            .bind(i64::from(request.slots))
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        }
        tx.commit().await.map_err(db)?;
        return Ok(busy);
    }
    let lease_id = Uuid::now_v7();
    pg_insert_lease(&mut tx, lease_id, request, &uses, now).await?;
    tx.commit().await.map_err(db)?;
    Ok(SlotGrant::Acquired {
        lease_id: Some(lease_id),
        limits: uses.into_iter().map(|u| u.limit).collect(),
    })
}

async fn pg_insert_lease(
    tx: &mut Transaction<'static, Postgres>,
    lease_id: Uuid,
    request: &SlotRequest,
    uses: &[LimitUse],
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM concurrency_leases WHERE expires < $1")
        .bind(now - SWEEP_AFTER)
        .execute(&mut **tx)
        .await
        .map_err(db)?;
    let id = lease_id.hyphenated().to_string();
    sqlx::query(
        "INSERT INTO concurrency_leases (id, holder_type, holder_id, slots, expires, created)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&id)
    .bind(request.holder.as_ref().map(|h| h.kind.clone()))
    .bind(
        request
            .holder
            .as_ref()
            .map(|h| h.id.hyphenated().to_string()),
    )
    .bind(i64::from(request.slots))
    .bind(expiry(now, request.lease))
    .bind(now)
    .execute(&mut **tx)
    .await
    .map_err(db)?;
    let limit_ids: Vec<String> = uses
        .iter()
        .map(|u| u.limit.id.hyphenated().to_string())
        .collect();
    sqlx::query(
        "INSERT INTO concurrency_lease_limits (lease_id, limit_id) SELECT $1, unnest($2::TEXT[])",
    )
    .bind(&id)
    .bind(&limit_ids)
    .execute(&mut **tx)
    .await
    .map_err(db)?;
    Ok(())
}

/// Extends an unexpired lease; whether it was.
pub(crate) async fn pg_renew(pool: &PgPool, id: Uuid, lease: Duration) -> Result<bool, StoreError> {
    let now = Utc::now();
    let n =
        sqlx::query("UPDATE concurrency_leases SET expires = $2 WHERE id = $1 AND expires > $3")
            .bind(id.hyphenated().to_string())
            .bind(expiry(now, lease))
            .bind(now)
            .execute(pool)
            .await
            .map_err(db)?;
    Ok(n.rows_affected() > 0)
}

/// Deletes a lease; whether it existed.
pub(crate) async fn pg_release(pool: &PgPool, id: Uuid) -> Result<bool, StoreError> {
    let n = sqlx::query("DELETE FROM concurrency_leases WHERE id = $1")
        .bind(id.hyphenated().to_string())
        .execute(pool)
        .await
        .map_err(db)?;
    Ok(n.rows_affected() > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn used(name: &str, limit: u32, active: u32) -> LimitUse {
        LimitUse {
            limit: LimitRef {
                id: Uuid::now_v7(),
                name: name.into(),
                limit,
            },
            active,
            next_expiry: None,
        }
    }

    #[test]
    fn a_request_needs_room_in_every_limit() {
        let now = Utc::now();
        let uses = [used("tag:a", 2, 1), used("tag:b", 3, 3)];
        match full_limit(&uses, 1, now).unwrap() {
            Some(SlotGrant::Busy { limit, active, .. }) => {
                assert_eq!(limit.name, "tag:b");
                assert_eq!(active, 3);
            }
            other => panic!("expected busy, got {other:?}"),
        }
        assert!(full_limit(&uses[..1], 1, now).unwrap().is_none());
        assert!(full_limit(&uses[..1], 2, now).unwrap().is_some());
    }

    #[test]
    fn asking_more_than_a_limit_has_is_invalid() {
        let err = full_limit(&[used("gcl", 2, 0)], 3, Utc::now()).unwrap_err();
        assert!(err.to_string().contains("which has 2"), "{err}");
    }
}

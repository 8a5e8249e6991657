//! Concurrency slots through the API: `increment-with-lease` (with weft's
//! `wait_seconds`, so a waiting task is woken by the server as soon as a
//! slot is released), `leases/{id}/renew` and `decrement-with-lease`.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde::Deserialize;
use uuid::Uuid;
use weft_core::concurrency::LimitRef;
use weft_core::{SlotGrant, SlotRequest};

use crate::api::{ApiClient, ApiError, decode, detail_of};

const LIMITS: &str = "v2";

#[derive(Deserialize)]
struct LeaseOut {
    lease_id: Option<Uuid>,
    #[serde(default)]
    limits: Vec<LimitRef>,
}

#[derive(Deserialize)]
struct LimitFull {
    limit: LimitRef,
    #[serde(default)]
    active_slots: u32,
    #[serde(default)]
    retry_after: f64,
}

impl ApiClient {
    /// Asks the server for the slots of `request`.
    pub async fn acquire_slots(&self, request: &SlotRequest) -> Result<SlotGrant, ApiError> {
        let segments = [LIMITS, "concurrency_limits", "increment-with-lease"];
        let body = serde_json::json!({
            "names": request.names,
            "slots": request.slots,
            "mode": "concurrency",
            "lease_duration": request.lease.as_secs_f64(),
            "holder": request.holder,
            "wait_seconds": request.wait.as_secs_f64(),
        });
        let (status, bytes) = self.send_json_raw(Method::POST, &segments, &body).await?;
        match status {
            s if s.is_success() => {
                let out: LeaseOut = decode(&segments, &bytes)?;
                Ok(SlotGrant::Acquired {
                    lease_id: out.lease_id,
                    limits: out.limits,
                })
            }
            StatusCode::LOCKED => {
                let full: LimitFull = decode(&segments, &bytes)?;
                Ok(SlotGrant::Busy {
                    limit: full.limit,
                    active: full.active_slots,
                    retry_after: Duration::from_secs_f64(full.retry_after.clamp(0.0, 60.0)),
                })
            }
            s => Err(ApiError::Status {
                method: "POST".into(),
                path: format!("/{}", segments.join("/")),
                status: s.as_u16(),
                detail: detail_of(s, &bytes),
            }),
        }
    }

    /// Extends a lease; false when the server no longer has it.
    pub async fn renew_lease(&self, lease_id: Uuid, lease: Duration) -> Result<bool, ApiError> {
        let id = lease_id.to_string();
        let body = serde_json::json!({ "lease_duration": lease.as_secs_f64() });
        match self
            .call(
                Method::POST,
                &[LIMITS, "concurrency_limits", "leases", &id, "renew"],
                &body,
            )
            .await
        {
            Ok(()) => Ok(true),
            Err(e) if e.is_not_found() => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Releases a lease.
    pub async fn release_lease(&self, lease_id: Uuid) -> Result<(), ApiError> {
        let body = serde_json::json!({ "lease_id": lease_id });
        self.call(
            Method::POST,
            &[LIMITS, "concurrency_limits", "decrement-with-lease"],
            &body,
        )
        .await
    }
}

//! The API's error type and its one conversion into an HTTP response.
//!
//! Every error becomes a JSON body `{"detail": "..."}`, as Prefect's
//! server answers, with a status that says whose fault it is: 4xx for the
//! caller's input, 5xx only for failures of the server or its database.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;
use weft_store::StoreError;

/// Why an API call failed.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The record named by the path does not exist (404).
    #[error("{0}")]
    NotFound(String),
    /// The body does not parse or holds an invalid value (422).
    #[error("{0}")]
    Unprocessable(String),
    /// The record already exists, or the call conflicts with its state (409).
    #[error("{0}")]
    Conflict(String),
    /// The caller may not read this (403).
    #[error("{0}")]
    Forbidden(String),
    /// The body is larger than the server accepts (413).
    #[error("{0}")]
    PayloadTooLarge(String),
    /// The store is shutting down (503).
    #[error("{0}")]
    Unavailable(String),
    /// The server or its database failed (500).
    #[error("{0}")]
    Internal(String),
}

/// The JSON body of every error response.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// What went wrong, for people.
    pub detail: String,
}

impl ApiError {
    /// A 404 for `what` (e.g. `"flow run 0195…"`).
    pub fn not_found(what: impl std::fmt::Display) -> ApiError {
        ApiError::NotFound(format!("{what} not found"))
    }

    /// A 422 with `message`.
    pub fn invalid(message: impl Into<String>) -> ApiError {
        ApiError::Unprocessable(message.into())
    }

    /// The HTTP status of this error.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        match e {
            StoreError::NotFound(what) => ApiError::NotFound(format!("not found: {what}")),
            StoreError::Conflict(what) => ApiError::Conflict(format!("already exists: {what}")),
            StoreError::Ambiguous(what) => ApiError::Conflict(format!("ambiguous: {what}")),
            StoreError::Invalid(what) => ApiError::Unprocessable(format!("invalid value: {what}")),
            StoreError::Closed => ApiError::Unavailable("the store is closed".into()),
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl From<weft_core::RecordError> for ApiError {
    fn from(e: weft_core::RecordError) -> ApiError {
        match e {
            weft_core::RecordError::NotFound(what) => {
                ApiError::NotFound(format!("not found: {what}"))
            }
            weft_core::RecordError::Refused(why) => ApiError::Conflict(why),
            weft_core::RecordError::Invalid(why) => ApiError::invalid(why),
            weft_core::RecordError::Backend(why) => ApiError::Internal(why),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        if status.is_server_error() {
            tracing::error!(status = status.as_u16(), error = %self, "request failed");
        } else {
            tracing::debug!(status = status.as_u16(), error = %self, "request refused");
        }
        (
            status,
            axum::Json(ErrorBody {
                detail: self.to_string(),
            }),
        )
            .into_response()
    }
}

/// The result of a handler.
pub type ApiResult<T> = Result<T, ApiError>;

//! Small pieces every backend's `Store` methods share: validation and
//! error messages.

use weft_core::ComponentRecord;

use crate::StoreError;
use crate::rows::ComponentRow;

/// A flow name must be non-empty.
pub(crate) fn flow_name_ok(name: &str) -> Result<(), StoreError> {
    if name.trim().is_empty() {
        return Err(StoreError::Invalid("flow name must not be empty".into()));
    }
    Ok(())
}

/// A conflict reported with a clear message; other errors unchanged.
pub(crate) fn conflict(e: StoreError, message: impl FnOnce() -> String) -> StoreError {
    match e {
        StoreError::Conflict(_) => StoreError::Conflict(message()),
        other => other,
    }
}

/// Checks a component's record against its bytes (hashing them off the
/// async threads) and returns its row and an owned copy of the bytes.
pub(crate) async fn component_row(
    record: &ComponentRecord,
    bytes: &[u8],
) -> Result<(ComponentRow, Vec<u8>), StoreError> {
    let record = record.clone();
    let bytes = bytes.to_vec();
    tokio::task::spawn_blocking(move || {
        ComponentRow::from_model(&record, &bytes).map(|row| (row, bytes))
    })
    .await
    .map_err(|e| StoreError::Invalid(format!("hashing the component failed: {e}")))?
}

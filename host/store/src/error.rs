//! The store's error type.

use weft_core::recorder::RecordError;

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The record the call refers to does not exist (a state or task run for
    /// an unknown run, for instance).
    #[error("not found: {0}")]
    NotFound(String),
    /// A record with the same id already exists.
    #[error("already exists: {0}")]
    Conflict(String),
    /// A uuid prefix matched more than one record.
    #[error("ambiguous: {0}")]
    Ambiguous(String),
    /// The database refused or failed the operation.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// The SQLite writer's connection refused or failed a write.
    #[error("sqlite error: {0}")]
    Sqlite(String),
    /// Applying the schema migrations failed.
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A transaction shared by several writes failed to begin or commit;
    /// every write in it failed with this message.
    #[error("transaction failed: {0}")]
    Transaction(String),
    /// Encrypting or decrypting a secret failed (wrong key, corrupt value).
    #[error("crypto error: {0}")]
    Crypto(String),
    /// A file-system operation failed.
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),
    /// The secret key is malformed.
    #[error("invalid secret key: {0}")]
    InvalidKey(String),
    /// A stored value could not be turned back into a model.
    #[error("cannot decode stored value: {0}")]
    Decode(String),
    /// A value cannot be stored (a number out of range, for instance).
    #[error("invalid value: {0}")]
    Invalid(String),
    /// The store has been closed.
    #[error("the store is closed")]
    Closed,
}

impl From<StoreError> for RecordError {
    fn from(e: StoreError) -> RecordError {
        match e {
            StoreError::NotFound(what) => RecordError::NotFound(what),
            StoreError::Invalid(what) => RecordError::Invalid(what),
            other => RecordError::Backend(other.to_string()),
        }
    }
}

//! Weft's persistence: everything weft records, behind one [`Store`] trait.
//!
//! [`SqliteStore`] is the embedded default (a file under [`home::weft_home`]);
//! [`PgStore`] is the shared one (many servers and workers on one
//! Postgres). [`open_store`] opens either from a URL. The pieces a second
//! backend shares live outside [`sqlite`]: the filters ([`filter`]), the
//! mapping between rows and weft's models (`rows`), secret encryption
//! ([`crypto`]) and the conformance suite (`conformance`, behind the
//! `conformance` feature).
//!
//! Writes are queued to a single writer that commits them in batches (see
//! [`sqlite`]): non-terminal writes return once queued (and are committed
//! within a few milliseconds), terminal states, secrets, deletes and
//! [`RunRecorder::flush`] once committed. Calls from one task are applied in
//! the order made. Reads see committed data, so call `flush` first to read
//! your own queued writes.

pub mod claims;
mod common;
pub mod concurrency;
pub mod crypto;
mod error;
pub mod events;
pub mod filter;
pub mod home;
mod pg_batch;
pub mod postgres;
mod query;
mod reads;
mod rows;
pub mod schedules;
pub mod sqlite;
mod store;

#[cfg(feature = "conformance")]
pub mod conformance;

pub use crypto::SecretKey;
pub use error::StoreError;
pub use events::{Definition, EventFilter};
pub use filter::{
    DeploymentFilter, FlowRunFilter, FlowRunSort, LogFilter, TaskRunFilter, TaskRunSort,
    VariableFilter, WorkPoolFilter,
};
pub use postgres::PgStore;
pub use schedules::ScheduledRun;
pub use sqlite::SqliteStore;
pub use store::{Flow, Store, Transition, check_flow_run_transition};
pub use weft_core::recorder::{RecordError, RunRecorder};

/// Opens the store at `url`: `sqlite://PATH` (created when absent) or
/// `postgres://...` / `postgresql://...` (migrated at connect). Secrets are
/// encrypted with the key of [`SecretKey::load_or_create`] for `home`.
pub async fn open_store(
    url: &str,
    home: &std::path::Path,
) -> Result<std::sync::Arc<dyn Store>, StoreError> {
    let url = url.trim();
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let key = SecretKey::load_or_create(home)?;
        return Ok(std::sync::Arc::new(PgStore::connect(url, key).await?));
    }
    if let Some(path) = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
    {
        if path.is_empty() {
            return Err(StoreError::Invalid(
                "a sqlite:// URL needs a file path".into(),
            ));
        }
        let key = SecretKey::load_or_create(home)?;
        return Ok(std::sync::Arc::new(
            SqliteStore::open(std::path::Path::new(path), key).await?,
        ));
    }
    Err(StoreError::Invalid(format!(
        "unsupported database URL {url:?}: expected sqlite://PATH or postgres://..."
    )))
}

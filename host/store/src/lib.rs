//! Weft's persistence: everything weft records, behind one [`Store`] trait.
//!
//! [`SqliteStore`] is the embedded default (a file under [`home::weft_home`]);
//! a Postgres backend will sit behind the same trait. The pieces a second
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

mod common;
pub mod crypto;
mod error;
pub mod filter;
pub mod home;
mod query;
mod reads;
mod rows;
pub mod sqlite;
mod store;

#[cfg(feature = "conformance")]
pub mod conformance;

pub use crypto::SecretKey;
pub use error::StoreError;
pub use filter::{
    DeploymentFilter, FlowRunFilter, FlowRunSort, LogFilter, TaskRunFilter, TaskRunSort,
    VariableFilter, WorkPoolFilter,
};
pub use sqlite::SqliteStore;
pub use store::{Flow, Store, Transition, check_flow_run_transition};
pub use weft_core::recorder::{RecordError, RunRecorder};

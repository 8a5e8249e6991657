//! Weft's domain: the types and rules every other crate shares.
//!
//! This crate does no I/O. It defines Prefect's state model
//! ([`state`]), the records of flows, flow runs, task runs and logs
//! ([`model`]), retry and cache policies ([`policy`]), sandbox limits
//! ([`limits`]), concurrency limits and their leases ([`concurrency`]), schedules' slots ([`schedule`]), human-friendly run names ([`names`]) and the
//! [`recorder::RunRecorder`] trait through which the runtime persists what
//! happens during a run.

pub mod concurrency;
pub mod deployment;
pub mod event;
pub mod limits;
pub mod model;
pub mod names;
pub mod network;
pub mod policy;
pub mod recorder;
pub mod schedule;
pub mod state;

pub use concurrency::{ConcurrencyLimit, Lease, SlotGrant, SlotHolder, SlotRequest};
pub use deployment::{ComponentRecord, Deployment, Schedule, Variable, WorkPool, Worker};
pub use event::Event;
pub use limits::RunLimits;
pub use model::{CacheEntry, FlowRun, LogEntry, LogLevel, TaskRun};
pub use policy::{CachePolicy, RetryPolicy};
pub use recorder::{RecordError, RunRecorder};
pub use schedule::{ScheduleError, SchedulePolicy};
pub use state::{State, StateType};

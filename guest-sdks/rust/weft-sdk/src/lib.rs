//! Write [weft](https://github.com/) flows and tasks in Rust.
//!
//! A crate that depends on `weft-sdk`, is built as a `cdylib` for
//! `wasm32-wasip2` and marks functions with [`flow`] and [`task`] is a weft
//! flow component: the SDK implements the `weft:flow` world's exports
//! (`describe`, `run`, `run-task`) and dispatches them to the registered
//! functions, so the crate needs nothing but the attributes.
//!
//! ```ignore
//! use weft_sdk::prelude::*;
//!
//! #[task]
//! fn get_data() -> String {
//!     "Hello from weft!".into()
//! }
//!
//! #[flow]
//! fn my_first_flow() {
//!     let data = get_data();
//!     log::info!("{data}");
//! }
//! ```
//!
//! Calling a task function runs it as a task run on the host (in a fresh
//! instance of the component, with the task's retries, cache and timeout)
//! and returns its result; `NAME::submit(...)` starts it concurrently and
//! returns a [`TaskFuture`]. [`http`] calls HTTP APIs on the hosts the run
//! is allowed. See the crate's README for every option.

#![warn(missing_docs)]

mod bindings;
pub mod context;
pub mod http;
mod logger;
pub mod secrets;
mod task;

#[doc(hidden)]
pub mod __private;

pub use bindings::types::{CachePolicy, RetryPolicy, TaskOptions};
pub use log;
pub use serde;
pub use serde_json;
pub use task::{FutureVecExt, TaskError, TaskFuture, wait_all};
pub use weft_sdk_macros::{flow, task};

/// The SDK's name and version, as `describe` reports it.
pub const SDK: &str = concat!("weft-sdk-rust ", env!("CARGO_PKG_VERSION"));

/// Everything a flow module usually needs: `use weft_sdk::prelude::*;`.
pub mod prelude {
    pub use crate::log;
    pub use crate::task::{FutureVecExt, TaskError, TaskFuture, wait_all};
    pub use crate::{context, flow, http, secrets, task};
}

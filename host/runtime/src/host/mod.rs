//! One module per WIT interface the host provides. Each implements that
//! interface's generated `Host` trait on [`crate::state::HostState`];
//! [`add_to_linker`] links them all (and WASI) once per engine.

pub(crate) mod context;
pub(crate) mod failure;
pub(crate) mod http;
mod http_redact;
mod http_send;
pub(crate) mod logging;
pub(crate) mod secrets;
pub(crate) mod stdio;
pub(crate) mod tasks;

use wasmtime::component::{HasSelf, Linker};

use crate::bindings::Flow;
use crate::state::HostState;

impl crate::bindings::weft::flow::types::Host for HostState {}

/// Adds WASI (no ambient authority: see [`crate::state::new_store`]),
/// `wasi:http`'s outgoing handler (filtered by [`http`]) and every weft
/// interface to `linker`.
pub(crate) fn add_to_linker(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    wasmtime_wasi::p2::add_to_linker_async(linker)?;
    wasmtime_wasi_http::p2::add_only_http_to_linker_async(linker)?;
    Flow::add_to_linker::<_, HasSelf<HostState>>(linker, |s| s)?;
    Ok(())
}

/// The run of an instance, or a trap when the instance belongs to no run
/// (a component being described may not call into the run).
pub(crate) fn run_of(
    state: &HostState,
) -> wasmtime::Result<std::sync::Arc<crate::run::RunContext>> {
    state.run.clone().ok_or_else(|| {
        wasmtime::format_err!("this call is not available while describing a component")
    })
}

//! Host bindings for the `weft:flow` world, generated from `wit/weft.wit`.

wasmtime::component::bindgen!({
    path: "../../wit",
    world: "weft:flow/flow",
    imports: { default: async | trappable },
    exports: { default: async },
    with: {
        "weft:flow/tasks.task-future": crate::host::tasks::TaskFutureHandle,
    },
});

pub use weft::flow::types::{TaskError, TaskOptions};

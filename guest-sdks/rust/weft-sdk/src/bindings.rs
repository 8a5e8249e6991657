//! The `weft:flow` world's bindings and the implementation of its exports.

wit_bindgen::generate!({
    path: "../../../wit",
    world: "flow",
});

pub(crate) use self::weft::flow::{context, failure, logging, secrets, tasks, types};

/// The component's export implementation: every entry installs the SDK's
/// log backend and panic hook, then dispatches to the registry.
struct Component;

impl Guest for Component {
    fn describe() -> types::ComponentInfo {
        crate::__private::enter();
        crate::__private::describe()
    }

    fn run(flow: String, params: String) -> Result<String, String> {
        crate::__private::enter();
        crate::__private::run_flow(&flow, &params)
    }

    fn run_task(task: String, input: String) -> Result<String, String> {
        crate::__private::enter();
        crate::__private::run_task(&task, &input)
    }
}

export!(Component);

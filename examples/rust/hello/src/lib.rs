//! The first flow: a task returns a greeting and the flow logs it.

use weft_sdk::prelude::*;

/// Returns the greeting.
#[task]
fn get_data() -> String {
    "Hello from weft!".into()
}

/// Gets the greeting from a task and logs it.
#[flow]
fn my_first_flow() {
    let data = get_data();
    log::info!("{data}");
}

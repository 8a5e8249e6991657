//! Retries: a flaky task fails on its first two attempts and succeeds on the
//! third; the host retries it after 100 ms and then 200 ms.

use weft_sdk::prelude::*;

/// Fails on attempts 1 and 2, succeeds on attempt 3.
#[task(retries = 2, retry_delay_ms = [100, 200])]
fn flaky_fetch() -> Result<String, String> {
    let attempt = context::attempt();
    if attempt < 3 {
        log::warn!("attempt {attempt} failed");
        return Err(format!("attempt {attempt}: the service is unavailable"));
    }
    log::info!("attempt {attempt} succeeded");
    Ok(format!("fetched on attempt {attempt}"))
}

/// Calls the flaky task (which needs three attempts) and returns its value.
#[flow]
fn retry_flow() -> String {
    flaky_fetch()
}

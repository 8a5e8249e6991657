//! Outbound HTTP: a flow that calls an HTTP API through a task with
//! retries, so a flaky API (a 503 now and then) does not fail the run.
//!
//! The host sends requests only to allowed hosts:
//!
//! ```sh
//! weft run examples/rust/http-api --allow-host http://127.0.0.1:8080 \
//!     --param url=http://127.0.0.1:8080/status
//! ```
//!
//! With `--secret-host API_TOKEN=http://127.0.0.1:8080` the flow sends the
//! secret `API_TOKEN` as a bearer token: it reads only a placeholder, and
//! the host puts the real value into requests to that host alone.

use weft_sdk::prelude::*;
use weft_sdk::serde_json::{Value, json};

/// GETs `url` (with the secret `API_TOKEN` as a bearer token when the run
/// has it); fails on an error status, so the host retries it: three
/// attempts in all, 200 ms then 400 ms apart.
#[task(retries = 2, retry_delay_ms = [200, 400])]
fn fetch(url: String) -> Result<Value, String> {
    let mut request = http::Request::get(&url).header("accept", "application/json");
    if let Ok(token) = secrets::get("API_TOKEN") {
        request = request.bearer_auth(&token);
    }
    let response = request.send()?;
    log::info!("GET {url}: {}", response.status());
    let response = response.error_for_status()?;
    Ok(response
        .json::<Value>()
        .unwrap_or_else(|_| json!(response.text())))
}

/// Fetches `url` and returns what the API answered.
#[flow]
fn fetch_api(url: String) -> Result<Value, String> {
    fetch::try_call(url).map_err(|e| format!("the API call failed: {e}"))
}

//! Secrets: reads the secret `API_TOKEN` granted to the run (e.g. with
//! `weft run --allow-secret API_TOKEN`) and logs its length, never its value.

use weft_sdk::prelude::*;

/// Reads `API_TOKEN`; fails with the host's message if it is not granted.
#[flow]
fn use_secret() -> Result<bool, String> {
    let token = secrets::get("API_TOKEN")?;
    log::info!("got API_TOKEN ({} chars)", token.chars().count());
    Ok(true)
}

//! Talking to a weft server: which API to use (`--api-url` or
//! `WEFT_API_URL`, as `PREFECT_API_URL` works for Prefect) and the client.

use anyhow::Context as _;
use weft_worker::ApiClient;

/// Where the server's API is when none is configured (Prefect's port).
pub const DEFAULT_API_URL: &str = "http://127.0.0.1:4200/api";

/// A client of the API at `url`.
pub fn client(url: &str) -> anyhow::Result<ApiClient> {
    ApiClient::new(url).with_context(|| format!("cannot use the API URL `{url}`"))
}

/// The client of the configured server, or an error saying how to
/// configure one, for commands that only work against a server.
pub fn required(url: Option<&str>, command: &str) -> anyhow::Result<ApiClient> {
    match url {
        Some(url) => client(url),
        None => anyhow::bail!(
            "`weft {command}` talks to a weft server: give --api-url URL or set WEFT_API_URL (e.g. {DEFAULT_API_URL}; start one with `weft server start`)"
        ),
    }
}

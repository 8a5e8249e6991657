//! `weft:flow/secrets`: reads secrets granted to the run, and registers
//! their values for redaction. A secret bound to hosts
//! (`--secret-host NAME=HOST`) reads as its placeholder instead.

use crate::bindings::weft::flow::secrets::Host;
use crate::host::run_of;
use crate::state::HostState;

impl Host for HostState {
    async fn get(&mut self, name: String) -> wasmtime::Result<Result<String, String>> {
        let run = run_of(self)?;
        if let Some(placeholder) = run.network.placeholder_of(&name) {
            // Bound to hosts: the guest gets only the placeholder, which
            // the host replaces in requests to those hosts.
            return match run.recorder.read_secret(&name).await {
                Ok(Some(value)) => {
                    run.network.remember(&name, &value);
                    run.add_redaction(&value);
                    Ok(Ok(placeholder.to_string()))
                }
                Ok(None) => Ok(Err(format!("secret '{name}' does not exist"))),
                Err(e) => Ok(Err(format!("secret '{name}' could not be read: {e}"))),
            };
        }
        if !run.allowed_secrets.contains(&name) {
            return Ok(Err(format!(
                "secret '{name}' is not granted to this run (grant it with --allow-secret {name} or in the deployment)"
            )));
        }
        match run.recorder.read_secret(&name).await {
            Ok(Some(value)) => {
                run.add_redaction(&value);
                Ok(Ok(value))
            }
            Ok(None) => Ok(Err(format!("secret '{name}' does not exist"))),
            Err(e) => Ok(Err(format!("secret '{name}' could not be read: {e}"))),
        }
    }
}

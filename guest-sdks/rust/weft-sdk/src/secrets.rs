//! Secrets granted to the run (by its deployment or `weft run --allow-secret`).

/// Returns the value of the secret `name`, or an error that says whether it
/// does not exist or is not granted to this run.
///
/// The host redacts secret values from logs and stdout, but never log a
/// secret on purpose.
pub fn get(name: &str) -> Result<String, String> {
    crate::bindings::secrets::get(name)
}

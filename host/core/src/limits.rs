//! Sandbox limits applied to each flow run.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::network::NetworkGrant;
use crate::policy::FlowOverrides;

/// Limits for one flow run and all its task runs. Exceeding one ends the
/// run (Crashed or Failed, with a reason naming the limit); nothing else is
/// affected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RunLimits {
    /// Fuel (roughly, Wasm instructions) for the whole run, over every
    /// instance; unlimited when `None`.
    pub fuel: Option<u64>,
    /// Memory of one instance, summed over all its memories and tables, in
    /// bytes.
    pub memory_bytes: u64,
    /// Wall-clock limit of the whole run.
    #[serde(with = "duration_ms")]
    pub wall_time: Duration,
    /// Maximum task runs the flow run may create.
    pub max_task_runs: u64,
    /// Maximum task runs executing at once (instances alive at once).
    pub max_concurrent_tasks: usize,
    /// Maximum bytes of log text (guest logs and stdout/stderr).
    pub max_log_bytes: u64,
    /// Maximum size of a flow or task result (and of a task input), bytes.
    pub max_result_bytes: u64,
    /// Overrides of the flow's own retries and timeout (`#[flow(retries,
    /// retry_delay_ms, timeout_ms)]`), e.g. a deployment's. Serialized as
    /// `"flow": {"retries": N, "retry_delay_ms": M, "timeout_ms": T}`, left
    /// out when empty.
    #[serde(skip_serializing_if = "FlowOverrides::is_empty")]
    pub flow: FlowOverrides,
    /// Outbound HTTP: allowed hosts, secrets bound to hosts, the response
    /// size cap ([`crate::network`]). Left out when it grants nothing.
    #[serde(skip_serializing_if = "NetworkGrant::is_empty")]
    pub network: NetworkGrant,
}

impl Default for RunLimits {
    fn default() -> Self {
        RunLimits {
            fuel: Some(100_000_000_000),
            memory_bytes: 512 << 20,
            wall_time: Duration::from_secs(3600),
            max_task_runs: 100_000,
            max_concurrent_tasks: 64,
            max_log_bytes: 16 << 20,
            max_result_bytes: 16 << 20,
            flow: FlowOverrides::default(),
            network: NetworkGrant::default(),
        }
    }
}

mod duration_ms {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(d.as_millis().min(u64::MAX as u128) as u64)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        Ok(Duration::from_millis(u64::deserialize(d)?))
    }
}

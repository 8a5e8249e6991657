//! Retry and cache policies, with the arithmetic the host applies to them.
//!
//! The numbers come from guests, so every computation saturates instead of
//! overflowing or panicking (NaN, infinity and huge values included).

use std::time::Duration;

use rand::Rng;
use serde::{Deserialize, Serialize};

/// The longest delay a retry may wait: one day.
pub const MAX_RETRY_DELAY: Duration = Duration::from_secs(24 * 60 * 60);

/// How a failed task run is retried.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct RetryPolicy {
    /// Retries after the first attempt.
    pub retries: u32,
    /// Delay before retry n (1-based) is `delays_ms[n-1]`; past the end,
    /// the last delay times `backoff_factor` per extra retry.
    pub delays_ms: Vec<u64>,
    /// Growth of the delay past the end of `delays_ms`.
    pub backoff_factor: f64,
    /// Random jitter as a fraction of the delay.
    pub jitter_factor: f64,
}

impl RetryPolicy {
    /// The delay before retry `retry` (1 for the first retry), before jitter.
    pub fn base_delay(&self, retry: u32) -> Duration {
        let Some(&last) = self.delays_ms.last() else {
            return Duration::ZERO;
        };
        let index = retry.saturating_sub(1) as usize;
        if let Some(&d) = self.delays_ms.get(index) {
            return clamp_ms(d as f64);
        }
        let extra = (index + 1 - self.delays_ms.len()) as i32;
        let factor = sane(self.backoff_factor, 1.0).max(0.0);
        clamp_ms(last as f64 * factor.powi(extra))
    }

    /// The delay before retry `retry`, with jitter drawn from `rng`.
    pub fn delay(&self, retry: u32, rng: &mut impl Rng) -> Duration {
        let base = self.base_delay(retry).as_secs_f64() * 1000.0;
        let jitter = sane(self.jitter_factor, 0.0).clamp(0.0, 1.0);
        if jitter == 0.0 || base == 0.0 {
            return clamp_ms(base);
        }
        let spread: f64 = rng.random_range(-jitter..=jitter);
        clamp_ms(base * (1.0 + spread))
    }
}

/// How a task's result is cached.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct CachePolicy {
    /// The key; derived from task, component and input when absent.
    pub key: Option<String>,
    /// Validity in seconds; forever when absent.
    pub expiration_secs: Option<u64>,
}

impl CachePolicy {
    /// The validity as a duration, capped at 100 years so dates stay valid.
    pub fn expiration(&self) -> Option<chrono::Duration> {
        const MAX_SECS: u64 = 100 * 365 * 24 * 60 * 60;
        self.expiration_secs
            .map(|s| chrono::Duration::seconds(s.min(MAX_SECS) as i64))
    }
}

/// Flow-level retries and timeout of a flow run: the flow's own options
/// (`#[flow(retries = N, retry_delay_ms = M, timeout_ms = T)]`, reported
/// by the component's `describe`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct FlowPolicy {
    /// Retries of the whole flow run after a failed attempt; none when
    /// absent.
    pub retries: Option<RetryPolicy>,
    /// Wall-clock limit of one attempt of the flow body, in milliseconds.
    pub timeout_ms: Option<u64>,
}

/// A deployment's overrides of its flow's [`FlowPolicy`]: each field that
/// is set replaces the flow's own value.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct FlowOverrides {
    /// Retries of the flow run (0: never retry).
    pub retries: Option<u32>,
    /// Delay before each retry, in milliseconds.
    pub retry_delay_ms: Option<u64>,
    /// Wall-clock limit of one attempt, in milliseconds (0: no timeout).
    pub timeout_ms: Option<u64>,
}

impl FlowOverrides {
    /// Whether no field is set.
    pub fn is_empty(&self) -> bool {
        self == &FlowOverrides::default()
    }

    /// `policy` with these overrides applied.
    pub fn apply(&self, mut policy: FlowPolicy) -> FlowPolicy {
        if let Some(retries) = self.retries {
            let mut r = policy.retries.take().unwrap_or(RetryPolicy {
                backoff_factor: 1.0,
                ..RetryPolicy::default()
            });
            r.retries = retries;
            policy.retries = (retries > 0).then_some(r);
        }
        if let Some(delay) = self.retry_delay_ms
            && let Some(r) = policy.retries.as_mut()
        {
            // A constant delay, as Prefect's `retry_delay_seconds`.
            r.delays_ms = vec![delay];
            r.backoff_factor = 1.0;
        }
        if let Some(ms) = self.timeout_ms {
            policy.timeout_ms = (ms > 0).then_some(ms);
        }
        policy
    }
}

fn sane(x: f64, default: f64) -> f64 {
    if x.is_finite() { x } else { default }
}

fn clamp_ms(ms: f64) -> Duration {
    if !ms.is_finite() || ms <= 0.0 {
        return if ms.is_infinite() && ms > 0.0 {
            MAX_RETRY_DELAY
        } else {
            Duration::ZERO
        };
    }
    Duration::from_secs_f64(ms / 1000.0).min(MAX_RETRY_DELAY)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(delays: &[u64], backoff: f64, jitter: f64) -> RetryPolicy {
        RetryPolicy {
            retries: 5,
            delays_ms: delays.to_vec(),
            backoff_factor: backoff,
            jitter_factor: jitter,
        }
    }

    #[test]
    fn list_of_delays_then_backoff() {
        let p = policy(&[10, 20], 2.0, 0.0);
        assert_eq!(p.base_delay(1), Duration::from_millis(10));
        assert_eq!(p.base_delay(2), Duration::from_millis(20));
        assert_eq!(p.base_delay(3), Duration::from_millis(40));
        assert_eq!(p.base_delay(4), Duration::from_millis(80));
    }

    #[test]
    fn no_delays_means_immediate() {
        assert_eq!(
            policy(&[], 2.0, 0.5).delay(3, &mut rand::rng()),
            Duration::ZERO
        );
    }

    #[test]
    fn jitter_stays_in_range() {
        let p = policy(&[1000], 1.0, 0.5);
        let mut rng = rand::rng();
        for _ in 0..100 {
            let d = p.delay(1, &mut rng);
            assert!(
                d >= Duration::from_millis(500) && d <= Duration::from_millis(1500),
                "{d:?}"
            );
        }
    }

    #[test]
    fn flow_overrides_replace_set_fields() {
        let own = FlowPolicy {
            retries: Some(policy(&[10], 1.0, 0.0)),
            timeout_ms: Some(500),
        };
        assert_eq!(FlowOverrides::default().apply(own.clone()), own);
        let o = FlowOverrides {
            retries: Some(2),
            retry_delay_ms: Some(7),
            timeout_ms: Some(0),
        };
        let p = o.apply(own.clone());
        let r = p.retries.expect("retries");
        assert_eq!((r.retries, r.delays_ms), (2, vec![7]));
        assert_eq!(p.timeout_ms, None);
        let none = FlowOverrides {
            retries: Some(0),
            ..Default::default()
        };
        assert_eq!(none.apply(own).retries, None);
        let from_nothing = FlowOverrides {
            retries: Some(1),
            retry_delay_ms: Some(3),
            timeout_ms: Some(9),
        }
        .apply(FlowPolicy::default());
        assert_eq!(from_nothing.retries.map(|r| r.delays_ms), Some(vec![3]));
        assert_eq!(from_nothing.timeout_ms, Some(9));
    }

    #[test]
    fn hostile_numbers_saturate() {
        let p = policy(&[u64::MAX], f64::INFINITY, f64::NAN);
        assert_eq!(p.base_delay(1), MAX_RETRY_DELAY);
        assert_eq!(p.base_delay(u32::MAX), MAX_RETRY_DELAY);
        let p = policy(&[5], f64::NAN, f64::INFINITY);
        assert_eq!(p.base_delay(9), Duration::from_millis(5));
        let p = policy(&[5], -3.0, 0.0);
        assert_eq!(p.base_delay(2), Duration::ZERO);
        let c = CachePolicy {
            key: None,
            expiration_secs: Some(u64::MAX),
        };
        assert!(c.expiration().is_some());
    }
}

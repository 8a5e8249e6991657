//! Summaries of timing samples.

use std::time::Duration;

/// The median of `samples` (which must not be empty).
pub fn median(samples: Vec<Duration>) -> Duration {
    percentile(samples, 50)
}

/// The `p`th percentile of `samples` (nearest rank; must not be empty).
pub fn percentile(mut samples: Vec<Duration>, p: usize) -> Duration {
    samples.sort();
    let rank = (samples.len() * p).div_ceil(100).max(1);
    samples[rank.min(samples.len()) - 1]
}

/// `d` in microseconds, one decimal.
pub fn micros(d: Duration) -> String {
    format!("{:.1} µs", d.as_secs_f64() * 1e6)
}

/// `d` in milliseconds, two decimals.
pub fn millis(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

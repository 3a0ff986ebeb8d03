//! Latency percentiles and medians for the benchmark reports.

use serde::Serialize;
use std::time::Duration;

/// Latency summary of one run, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Latency {
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

/// Nearest-rank percentile (`p` in 0..=100) of sorted samples.
fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

pub fn latency(mut samples: Vec<Duration>) -> Latency {
    samples.sort_unstable();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    Latency {
        p50_ms: ms(percentile(&samples, 50.0)),
        p99_ms: ms(percentile(&samples, 99.0)),
        max_ms: ms(samples.last().copied().unwrap_or_default()),
    }
}

/// Median of the values (the mean of the middle two for an even count).
pub fn median(values: impl IntoIterator<Item = f64>) -> f64 {
    let mut v: Vec<f64> = values.into_iter().collect();
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(f64::total_cmp);
    let mid = v.len() / 2;
    if v.len() % 2 == 1 {
        v[mid]
    } else {
        (v[mid - 1] + v[mid]) / 2.0
    }
}

/// Median latency over runs, metric by metric.
pub fn median_latency(runs: &[Latency]) -> Latency {
    Latency {
        p50_ms: median(runs.iter().map(|l| l.p50_ms)),
        p99_ms: median(runs.iter().map(|l| l.p99_ms)),
        max_ms: median(runs.iter().map(|l| l.max_ms)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_use_the_nearest_rank() {
        let samples: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        let l = latency(samples);
        assert_eq!((l.p50_ms, l.p99_ms, l.max_ms), (50.0, 99.0, 100.0));
        assert_eq!(latency(vec![Duration::from_millis(7)]).p99_ms, 7.0);
    }

    #[test]
    fn medians_of_odd_and_even_counts() {
        assert_eq!(median([3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median([4.0, 1.0, 2.0, 3.0]), 2.5);
        assert_eq!(median([]), 0.0);
    }
}

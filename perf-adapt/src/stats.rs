//! Frame statistics over a fixed-capacity ring.

use crate::Error;

/// What happened to a sample given to [`FrameStats::push`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SampleOutcome {
    /// Stored as given.
    Accepted,
    /// Longer than the configured maximum: stored as the maximum.
    Clamped,
    /// NaN, infinite, zero or negative: not stored.
    Rejected,
}

/// A fixed-capacity ring of frame times (milliseconds) with mean, EWMA,
/// percentiles and FPS.
///
/// Bad samples never poison the statistics: NaN, ±∞ and non-positive values
/// are rejected, absurd spikes (above `max_frame_ms`) are clamped, and both
/// are counted. Nothing allocates after construction; percentiles sort a
/// preallocated scratch copy.
///
/// ```
/// use vivace_perf_adapt::FrameStats;
/// let mut stats = FrameStats::new(120).unwrap();
/// for ms in [16.0, 17.0, 16.5, f64::NAN, 15.5] {
///     stats.push(ms);
/// }
/// assert_eq!(stats.len(), 4);
/// assert_eq!(stats.rejected(), 1);
/// assert!((stats.mean() - 16.25).abs() < 1e-12);
/// assert!((stats.fps() - 1000.0 / 16.25).abs() < 1e-9);
/// ```
#[derive(Debug, Clone)]
pub struct FrameStats {
    ring: Vec<f64>,
    scratch: Vec<f64>,
    next: usize,
    len: usize,
    sum: f64,
    ewma: Option<f64>,
    ewma_alpha: f64,
    max_frame_ms: f64,
    rejected: u64,
    clamped: u64,
    pushed_since_resum: usize,
}

impl FrameStats {
    /// Default EWMA weight of the newest sample.
    pub const DEFAULT_EWMA_ALPHA: f64 = 0.1;
    /// Default spike ceiling: one second.
    pub const DEFAULT_MAX_FRAME_MS: f64 = 1000.0;

    /// A ring of `capacity` frames (at least 1) with default settings.
    pub fn new(capacity: usize) -> Result<Self, Error> {
        FrameStats::with_settings(
            capacity,
            Self::DEFAULT_EWMA_ALPHA,
            Self::DEFAULT_MAX_FRAME_MS,
        )
    }

    /// A ring with an EWMA weight in (0, 1] and a spike ceiling > 0.
    pub fn with_settings(
        capacity: usize,
        ewma_alpha: f64,
        max_frame_ms: f64,
    ) -> Result<Self, Error> {
        if capacity == 0 {
            return Err(Error::invalid("capacity", "must be at least 1"));
        }
        if !(ewma_alpha > 0.0 && ewma_alpha <= 1.0) {
            return Err(Error::invalid("ewma_alpha", "must be in (0, 1]"));
        }
        if !(max_frame_ms.is_finite() && max_frame_ms > 0.0) {
            return Err(Error::invalid("max_frame_ms", "must be finite and > 0"));
        }
        Ok(FrameStats {
            ring: vec![0.0; capacity],
            scratch: Vec::with_capacity(capacity),
            next: 0,
            len: 0,
            sum: 0.0,
            ewma: None,
            ewma_alpha,
            max_frame_ms,
            rejected: 0,
            clamped: 0,
            pushed_since_resum: 0,
        })
    }

    /// Adds a frame time in milliseconds.
    pub fn push(&mut self, frame_ms: f64) -> SampleOutcome {
        if !frame_ms.is_finite() || frame_ms <= 0.0 {
            self.rejected += 1;
            return SampleOutcome::Rejected;
        }
        let (value, outcome) = if frame_ms > self.max_frame_ms {
            self.clamped += 1;
            (self.max_frame_ms, SampleOutcome::Clamped)
        } else {
            (frame_ms, SampleOutcome::Accepted)
        };
        let capacity = self.ring.len();
        if self.len == capacity {
            self.sum -= self.ring[self.next];
        } else {
            self.len += 1;
        }
        self.ring[self.next] = value;
        self.sum += value;
        self.next = (self.next + 1) % capacity;
        self.ewma = Some(match self.ewma {
            None => value,
            Some(e) => e + self.ewma_alpha * (value - e),
        });
        // A running sum drifts by rounding; re-add it exactly now and then.
        self.pushed_since_resum += 1;
        if self.pushed_since_resum >= 4096 {
            self.sum = self.samples().iter().sum();
            self.pushed_since_resum = 0;
        }
        outcome
    }

    /// Forgets every sample (counters of bad samples are kept).
    pub fn clear(&mut self) {
        self.len = 0;
        self.next = 0;
        self.sum = 0.0;
        self.ewma = None;
    }

    fn samples(&self) -> &[f64] {
        &self.ring[..self.len]
    }

    /// Samples held.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether no sample is held.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The ring's capacity.
    pub fn capacity(&self) -> usize {
        self.ring.len()
    }

    /// The newest sample.
    pub fn last(&self) -> Option<f64> {
        (self.len > 0).then(|| self.ring[(self.next + self.ring.len() - 1) % self.ring.len()])
    }

    /// Mean frame time of the held samples (0 when empty).
    pub fn mean(&self) -> f64 {
        if self.len == 0 {
            0.0
        } else {
            self.sum / self.len as f64
        }
    }

    /// Exponentially weighted moving average (0 before the first sample).
    pub fn ewma(&self) -> f64 {
        self.ewma.unwrap_or(0.0)
    }

    /// Frames per second from the mean frame time (0 when empty).
    pub fn fps(&self) -> f64 {
        let mean = self.mean();
        if mean > 0.0 { 1000.0 / mean } else { 0.0 }
    }

    /// The `p`-th percentile (0–100, nearest rank) of the held samples; 0
    /// when empty. Selects in a preallocated copy (O(n), no allocation).
    pub fn percentile(&mut self, p: f64) -> f64 {
        if self.len == 0 {
            return 0.0;
        }
        self.scratch.clear();
        self.scratch.extend_from_slice(&self.ring[..self.len]);
        let index = nearest_rank(p, self.len);
        *self.scratch.select_nth_unstable_by(index, f64::total_cmp).1
    }

    /// Mean, EWMA, p50/p95/p99 and FPS at once (nested selections in one
    /// preallocated copy): the cheapest way to read several percentiles.
    pub fn summary(&mut self) -> FrameSummary {
        let (mut p50, mut p95, mut p99) = (0.0, 0.0, 0.0);
        if self.len > 0 {
            self.scratch.clear();
            self.scratch.extend_from_slice(&self.ring[..self.len]);
            // Select the highest rank first; each lower one then only
            // needs the part left of it.
            let (i50, i95, i99) = (
                nearest_rank(50.0, self.len),
                nearest_rank(95.0, self.len),
                nearest_rank(99.0, self.len),
            );
            let values = &mut self.scratch[..];
            p99 = *values.select_nth_unstable_by(i99, f64::total_cmp).1;
            let below = &mut values[..=i99];
            p95 = *below.select_nth_unstable_by(i95, f64::total_cmp).1;
            let below = &mut below[..=i95];
            p50 = *below.select_nth_unstable_by(i50, f64::total_cmp).1;
        }
        FrameSummary {
            mean_ms: self.mean(),
            ewma_ms: self.ewma(),
            p50_ms: p50,
            p95_ms: p95,
            p99_ms: p99,
            fps: self.fps(),
        }
    }

    /// Median frame time.
    pub fn p50(&mut self) -> f64 {
        self.percentile(50.0)
    }

    /// 95th percentile frame time.
    pub fn p95(&mut self) -> f64 {
        self.percentile(95.0)
    }

    /// 99th percentile frame time.
    pub fn p99(&mut self) -> f64 {
        self.percentile(99.0)
    }

    /// Samples rejected (NaN, infinite, ≤ 0) since construction.
    pub fn rejected(&self) -> u64 {
        self.rejected
    }

    /// Samples clamped to the spike ceiling since construction.
    pub fn clamped(&self) -> u64 {
        self.clamped
    }
}

/// Index of the nearest-rank `p`-th percentile among `len` sorted values.
fn nearest_rank(p: f64, len: usize) -> usize {
    let p = if p.is_nan() {
        50.0
    } else {
        p.clamp(0.0, 100.0)
    };
    let rank = ((p / 100.0) * len as f64).ceil() as usize;
    rank.clamp(1, len) - 1
}

/// Several statistics of a [`FrameStats`] at once.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct FrameSummary {
    /// Mean frame time, ms.
    pub mean_ms: f64,
    /// EWMA frame time, ms.
    pub ewma_ms: f64,
    /// Median, ms.
    pub p50_ms: f64,
    /// 95th percentile, ms.
    pub p95_ms: f64,
    /// 99th percentile, ms.
    pub p99_ms: f64,
    /// Frames per second from the mean.
    pub fps: f64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn ring_keeps_only_the_newest_capacity_samples() {
        let mut s = FrameStats::new(3).unwrap();
        for ms in [10.0, 20.0, 30.0, 40.0] {
            s.push(ms);
        }
        assert_eq!(s.len(), 3);
        assert_eq!(s.mean(), 30.0);
        assert_eq!(s.last(), Some(40.0));
        assert_eq!(s.p50(), 30.0);
        assert_eq!(s.percentile(100.0), 40.0);
        assert_eq!(s.percentile(0.0), 20.0);
    }

    #[test]
    fn bad_samples_are_rejected_or_clamped_and_counted() {
        let mut s = FrameStats::with_settings(10, 0.5, 100.0).unwrap();
        assert_eq!(s.push(f64::NAN), SampleOutcome::Rejected);
        assert_eq!(s.push(f64::INFINITY), SampleOutcome::Rejected);
        assert_eq!(s.push(0.0), SampleOutcome::Rejected);
        assert_eq!(s.push(-3.0), SampleOutcome::Rejected);
        assert_eq!(s.push(1e9), SampleOutcome::Clamped);
        assert_eq!(s.push(10.0), SampleOutcome::Accepted);
        assert_eq!(s.rejected(), 4);
        assert_eq!(s.clamped(), 1);
        assert_eq!(s.len(), 2);
        assert_eq!(s.mean(), 55.0);
        assert!(s.mean().is_finite() && s.ewma().is_finite());
    }

    #[test]
    fn ewma_weights_the_newest_sample_by_alpha() {
        let mut s = FrameStats::with_settings(4, 0.25, 1000.0).unwrap();
        s.push(10.0);
        s.push(20.0);
        assert_eq!(s.ewma(), 12.5);
    }

    #[test]
    fn empty_stats_are_zero_not_nan() {
        let mut s = FrameStats::new(8).unwrap();
        assert_eq!((s.mean(), s.ewma(), s.fps(), s.p99()), (0.0, 0.0, 0.0, 0.0));
        assert_eq!(s.last(), None);
    }

    #[test]
    fn invalid_settings_are_errors() {
        assert!(FrameStats::new(0).is_err());
        assert!(FrameStats::with_settings(4, 0.0, 10.0).is_err());
        assert!(FrameStats::with_settings(4, f64::NAN, 10.0).is_err());
        assert!(FrameStats::with_settings(4, 0.5, -1.0).is_err());
    }

    proptest! {
        /// Against a brute-force recomputation over the last `capacity`
        /// accepted samples.
        #[test]
        fn matches_brute_force(
            samples in prop::collection::vec(prop_oneof![
                0.1f64..100.0,
                Just(f64::NAN),
                Just(-1.0),
                Just(5000.0),
            ], 0..500),
            capacity in 1usize..64,
            p in 0.0f64..100.0,
        ) {
            let mut s = FrameStats::new(capacity).unwrap();
            let mut kept = Vec::new();
            for &x in &samples {
                s.push(x);
                if x.is_finite() && x > 0.0 {
                    kept.push(x.min(FrameStats::DEFAULT_MAX_FRAME_MS));
                }
            }
            let window: Vec<f64> = kept.iter().rev().take(capacity).copied().collect();
            prop_assert_eq!(s.len(), window.len());
            if !window.is_empty() {
                let mean = window.iter().sum::<f64>() / window.len() as f64;
                prop_assert!((s.mean() - mean).abs() <= 1e-9 * mean.max(1.0));
                let mut sorted = window.clone();
                sorted.sort_by(f64::total_cmp);
                let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
                prop_assert_eq!(s.percentile(p), sorted[rank.clamp(1, sorted.len()) - 1]);
                let summary = s.summary();
                prop_assert_eq!(summary.p99_ms, s.percentile(99.0));
                prop_assert_eq!(summary.p50_ms, s.percentile(50.0));
            }
        }
    }
}

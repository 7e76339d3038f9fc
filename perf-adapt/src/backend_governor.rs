//! Moving a workload between backends as its size changes.

use std::time::Duration;

use vivace_backend::{Backend, BackendKind, Calibration};

use crate::Error;
use crate::error::check_range;

/// Measured points kept per backend.
const HISTORY: usize = 32;

/// Time of a workload on one backend as `fixed + per_item × size`, fitted
/// by least squares to the latest measurements.
#[derive(Debug, Clone)]
struct TimeModel {
    points: Vec<(f64, f64)>,
    next: usize,
    fixed_s: f64,
    per_item_s: f64,
}

impl TimeModel {
    fn new() -> Self {
        TimeModel {
            points: Vec::with_capacity(HISTORY),
            next: 0,
            fixed_s: 0.0,
            per_item_s: 0.0,
        }
    }

    fn observe(&mut self, size: f64, seconds: f64) {
        if self.points.len() < HISTORY {
            self.points.push((size, seconds));
        } else {
            self.points[self.next] = (size, seconds);
        }
        self.next = (self.next + 1) % HISTORY;
        self.fit();
    }

    fn fit(&mut self) {
        let n = self.points.len() as f64;
        let mean_x = self.points.iter().map(|p| p.0).sum::<f64>() / n;
        let mean_y = self.points.iter().map(|p| p.1).sum::<f64>() / n;
        let sxx: f64 = self.points.iter().map(|p| (p.0 - mean_x).powi(2)).sum();
        let sxy: f64 = self
            .points
            .iter()
            .map(|p| (p.0 - mean_x) * (p.1 - mean_y))
            .sum();
        if sxx > 1e-9 * mean_x.max(1.0).powi(2) && sxy > 0.0 {
            self.per_item_s = sxy / sxx;
            self.fixed_s = (mean_y - self.per_item_s * mean_x).max(0.0);
        } else {
            // One size only: assume the time is all per-item.
            self.per_item_s = mean_y / mean_x.max(1.0);
            self.fixed_s = 0.0;
        }
    }

    fn predict(&self, size: f64) -> Option<f64> {
        (!self.points.is_empty()).then_some(self.fixed_s + self.per_item_s * size)
    }
}

/// Settings of a [`BackendGovernor`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BackendGovernorConfig {
    /// A backend must be predicted this much faster (0.2 = 20%) to take
    /// over (default 0.2).
    pub hysteresis: f64,
    /// …on this many consecutive decisions (default 3).
    pub confirm: u32,
}

impl Default for BackendGovernorConfig {
    fn default() -> Self {
        BackendGovernorConfig {
            hysteresis: 0.2,
            confirm: 3,
        }
    }
}

/// Chooses among backends by predicted time at the current workload size,
/// with hysteresis so it does not flap around a crossover.
///
/// Seed it from a [`vivace_backend::Calibrator`] run (or any timings), feed it
/// live timings with [`BackendGovernor::observe`], and ask
/// [`BackendGovernor::choose`] each frame.
///
/// ```
/// use std::time::Duration;
/// use vivace_backend::{BackendKind, SimdLevel};
/// use vivace_perf_adapt::{BackendGovernor, BackendGovernorConfig};
///
/// let simd = BackendKind::Simd(SimdLevel::Avx2Fma);
/// let mut governor = BackendGovernor::new(&[simd, BackendKind::Gpu], BackendGovernorConfig::default()).unwrap();
/// // SIMD: 10 ns per particle. GPU: 200 µs fixed + 1 ns per particle.
/// for n in [1_000.0, 100_000.0, 1_000_000.0] {
///     governor.observe(simd, n, Duration::from_secs_f64(10e-9 * n));
///     governor.observe(BackendKind::Gpu, n, Duration::from_secs_f64(200e-6 + 1e-9 * n));
/// }
/// assert_eq!(governor.choose(5_000.0), simd);
/// for _ in 0..3 {
///     governor.choose(500_000.0);
/// }
/// assert_eq!(governor.choose(500_000.0), BackendKind::Gpu);
/// ```
#[derive(Debug, Clone)]
pub struct BackendGovernor {
    kinds: Vec<BackendKind>,
    models: Vec<TimeModel>,
    config: BackendGovernorConfig,
    current: Option<usize>,
    challenger: Option<(usize, u32)>,
    switches: u64,
}

impl BackendGovernor {
    /// A governor over `kinds` (at least one, no duplicates).
    pub fn new(kinds: &[BackendKind], config: BackendGovernorConfig) -> Result<Self, Error> {
        if kinds.is_empty() {
            return Err(Error::invalid("backends", "need at least one"));
        }
        if kinds
            .iter()
            .enumerate()
            .any(|(i, k)| kinds[..i].contains(k))
        {
            return Err(Error::invalid("backends", "each backend may appear once"));
        }
        check_range("hysteresis", config.hysteresis, 0.0, 0.95)?;
        if config.confirm == 0 {
            return Err(Error::invalid("confirm", "must be at least 1"));
        }
        Ok(BackendGovernor {
            kinds: kinds.to_vec(),
            models: kinds.iter().map(|_| TimeModel::new()).collect(),
            config,
            current: None,
            challenger: None,
            switches: 0,
        })
    }

    /// Records that `kind` took `time` on a workload of `size` items.
    /// Unknown kinds, sizes ≤ 0 and zero times are ignored.
    pub fn observe(&mut self, kind: BackendKind, size: f64, time: Duration) {
        let Some(i) = self.kinds.iter().position(|&k| k == kind) else {
            return;
        };
        if size.is_finite() && size > 0.0 && !time.is_zero() {
            self.models[i].observe(size, time.as_secs_f64());
        }
    }

    /// Seeds the models from a calibration run done at `size` items.
    pub fn seed_from_calibration<T: Backend>(&mut self, calibration: &Calibration<T>, size: f64) {
        for timing in &calibration.timings {
            self.observe(timing.kind, size, timing.median);
        }
    }

    /// Predicted time of `kind` at `size`, once it has measurements.
    pub fn predict(&self, kind: BackendKind, size: f64) -> Option<Duration> {
        let i = self.kinds.iter().position(|&k| k == kind)?;
        let seconds = self.models[i].predict(size)?;
        Some(Duration::from_secs_f64(seconds.max(0.0)))
    }

    /// The backend to use at `size`: the current one unless another is
    /// predicted faster by more than the hysteresis on `confirm`
    /// consecutive calls. Backends without measurements are never chosen
    /// (unless none has any: then the first).
    pub fn choose(&mut self, size: f64) -> BackendKind {
        let predictions: Vec<Option<f64>> = self.models.iter().map(|m| m.predict(size)).collect();
        let best = predictions
            .iter()
            .enumerate()
            .filter_map(|(i, p)| p.map(|p| (i, p)))
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .map(|(i, _)| i);
        let Some(best) = best else {
            return self.kinds[self.current.unwrap_or(0)];
        };
        let Some(current) = self.current else {
            self.current = Some(best);
            return self.kinds[best];
        };
        let beats = match (predictions[best], predictions[current]) {
            (Some(b), Some(c)) => best != current && b < c * (1.0 - self.config.hysteresis),
            (Some(_), None) => true,
            _ => false,
        };
        if beats {
            let count = match self.challenger {
                Some((i, n)) if i == best => n + 1,
                _ => 1,
            };
            if count >= self.config.confirm {
                self.current = Some(best);
                self.challenger = None;
                self.switches += 1;
            } else {
                self.challenger = Some((best, count));
            }
        } else {
            self.challenger = None;
        }
        self.kinds[self.current.unwrap_or(best)]
    }

    /// The backend in use (after the first `choose`).
    pub fn current(&self) -> Option<BackendKind> {
        self.current.map(|i| self.kinds[i])
    }

    /// How many times the choice changed.
    pub fn switches(&self) -> u64 {
        self.switches
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vivace_backend::SimdLevel;

    const SIMD: BackendKind = BackendKind::Simd(SimdLevel::Avx2Fma);

    fn simd_time(n: f64) -> Duration {
        Duration::from_secs_f64(10e-9 * n)
    }
    fn gpu_time(n: f64) -> Duration {
        Duration::from_secs_f64(200e-6 + 1e-9 * n)
    }

    fn seeded() -> BackendGovernor {
        let mut g =
            BackendGovernor::new(&[SIMD, BackendKind::Gpu], BackendGovernorConfig::default())
                .unwrap();
        for n in [1e3, 1e4, 1e5, 1e6] {
            g.observe(SIMD, n, simd_time(n));
            g.observe(BackendKind::Gpu, n, gpu_time(n));
        }
        g
    }

    #[test]
    fn learns_the_crossover() {
        let g = seeded();
        // Crossover at 200e-6 / 9e-9 ≈ 22,222 items.
        let at = |n: f64| {
            (
                g.predict(SIMD, n).unwrap(),
                g.predict(BackendKind::Gpu, n).unwrap(),
            )
        };
        let (s, gp) = at(10_000.0);
        assert!(s < gp);
        let (s, gp) = at(50_000.0);
        assert!(s > gp);
    }

    #[test]
    fn moves_with_the_size_and_does_not_flap_at_the_crossover() {
        let mut g = seeded();
        let mut chosen = Vec::new();
        // Grow from 1k to 1M, wobble around the crossover, shrink back.
        let sizes: Vec<f64> = (0..=60)
            .map(|i| 1e3 * 1e3f64.powf(i as f64 / 60.0))
            .chain((0..200).map(|i| 22_222.0 * (1.0 + 0.15 * ((i as f64) * 0.7).sin())))
            .chain((0..=60).rev().map(|i| 1e3 * 1e3f64.powf(i as f64 / 60.0)))
            .collect();
        for &n in &sizes {
            let kind = g.choose(n);
            g.observe(
                kind,
                n,
                if kind == SIMD {
                    simd_time(n)
                } else {
                    gpu_time(n)
                },
            );
            chosen.push(kind);
        }
        assert_eq!(chosen[0], SIMD);
        assert_eq!(chosen[60], BackendKind::Gpu);
        assert_eq!(*chosen.last().unwrap(), SIMD);
        // Up once, down once (the wobble of ±15% sits inside the 20%
        // hysteresis and must not cause switches).
        assert!(g.switches() <= 3, "{} switches", g.switches());
    }

    #[test]
    fn invalid_setups_are_errors_and_unknown_kinds_are_ignored() {
        assert!(BackendGovernor::new(&[], BackendGovernorConfig::default()).is_err());
        assert!(BackendGovernor::new(&[SIMD, SIMD], BackendGovernorConfig::default()).is_err());
        let cfg = BackendGovernorConfig {
            hysteresis: 2.0,
            confirm: 1,
        };
        assert!(BackendGovernor::new(&[SIMD], cfg).is_err());
        let mut g = BackendGovernor::new(&[SIMD], BackendGovernorConfig::default()).unwrap();
        g.observe(BackendKind::Gpu, 10.0, Duration::from_millis(1));
        assert_eq!(g.predict(BackendKind::Gpu, 10.0), None);
        assert_eq!(g.choose(10.0), SIMD);
    }

    #[test]
    fn seeds_from_a_calibration() {
        use vivace_backend::{Calibrator, Candidate, Preference};
        #[derive(Debug)]
        struct K(BackendKind);
        impl Backend for K {
            fn kind(&self) -> BackendKind {
                self.0
            }
        }
        let chain = vec![
            Candidate::new(BackendKind::Scalar, || Ok(K(BackendKind::Scalar))),
            Candidate::new(SIMD, || Ok(K(SIMD))),
        ];
        let calibration = Calibrator::new(0, 3)
            .unwrap()
            .pick_fastest(Preference::Auto, chain, |k: &mut K| {
                let n = if k.0 == SIMD { 1_000 } else { 50_000 };
                std::hint::black_box((0..n).sum::<u64>());
            })
            .unwrap();
        let mut g = BackendGovernor::new(
            &[BackendKind::Scalar, SIMD],
            BackendGovernorConfig::default(),
        )
        .unwrap();
        g.seed_from_calibration(&calibration, 1_000.0);
        assert!(g.predict(SIMD, 1_000.0).is_some());
        assert!(g.predict(BackendKind::Scalar, 1_000.0).is_some());
    }
}

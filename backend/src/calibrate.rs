//! Calibration: time every available candidate and keep the fastest.

use std::fmt;
use std::ops::ControlFlow;
use std::time::Duration;

use crate::select::{nothing_available, walk};
use crate::{Backend, BackendKind, Candidate, Preference, SelectError, Unavailable};

/// A monotonic clock: time since some fixed point.
pub type Clock = fn() -> Duration;

/// Times backends on a caller-supplied workload: `warmup_runs` untimed
/// runs, then `measured_runs` timed runs, and the median of those.
///
/// ```
/// use vivace_backend::{Backend, BackendKind, Calibrator, Candidate, Preference};
///
/// struct Summer(BackendKind);
/// impl Backend for Summer {
///     fn kind(&self) -> BackendKind { self.0 }
/// }
///
/// let data: Vec<f32> = (0..10_000).map(|i| i as f32).collect();
/// let chain = vec![Candidate::new(BackendKind::Scalar, || Ok(Summer(BackendKind::Scalar)))];
/// let calibration = Calibrator::default()
///     .pick_fastest(Preference::Auto, chain, |_kernel: &mut Summer| {
///         std::hint::black_box(data.iter().sum::<f32>());
///     })
///     .unwrap();
/// assert_eq!(calibration.fastest.kind(), BackendKind::Scalar);
/// assert_eq!(calibration.timings.len(), 1);
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Calibrator {
    warmup_runs: u32,
    measured_runs: u32,
    clock: Option<Clock>,
}

impl Default for Calibrator {
    /// Two warm-up runs and seven measured runs on the standard clock.
    fn default() -> Self {
        Calibrator {
            warmup_runs: 2,
            measured_runs: 7,
            clock: None,
        }
    }
}

impl Calibrator {
    /// A calibrator with the given run counts. `measured_runs` must be at
    /// least 1.
    pub fn new(warmup_runs: u32, measured_runs: u32) -> Result<Self, CalibrateError> {
        if measured_runs == 0 {
            return Err(CalibrateError::NoMeasuredRuns);
        }
        Ok(Calibrator {
            warmup_runs,
            measured_runs,
            clock: None,
        })
    }

    /// Uses `clock` instead of `std::time::Instant` (needed on
    /// `wasm32-unknown-unknown`, where `Instant` is unavailable: pass a clock
    /// built on `performance.now()`).
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = Some(clock);
        self
    }

    fn clock(&self) -> Result<Clock, CalibrateError> {
        match self.clock {
            Some(clock) => Ok(clock),
            None if cfg!(all(target_arch = "wasm32", target_os = "unknown")) => {
                Err(CalibrateError::NoClock)
            }
            None => Ok(instant_clock),
        }
    }

    /// Times `workload` on one backend.
    pub fn time<T: Backend>(
        &self,
        backend: &mut T,
        workload: impl FnMut(&mut T),
    ) -> Result<Timing, CalibrateError> {
        Ok(self.time_with(self.clock()?, backend, workload))
    }

    fn time_with<T: Backend>(
        &self,
        clock: Clock,
        backend: &mut T,
        mut workload: impl FnMut(&mut T),
    ) -> Timing {
        for _ in 0..self.warmup_runs {
            workload(backend);
        }
        let mut runs = Vec::with_capacity(self.measured_runs as usize);
        for _ in 0..self.measured_runs {
            let start = clock();
            workload(backend);
            runs.push(clock().saturating_sub(start));
        }
        runs.sort_unstable();
        Timing {
            kind: backend.kind(),
            name: backend.name(),
            median: median(&runs),
            min: runs[0],
            max: runs[runs.len() - 1],
        }
    }

    /// Builds every candidate that `preference` admits, times each on
    /// `workload`, and returns the fastest (lowest median) with all timings.
    ///
    /// Candidates that fail to build are reported in `skipped`. Ties go to
    /// the earlier candidate in the chain. With nothing to run on, the error
    /// is the one [`crate::select`] would give.
    pub fn pick_fastest<'a, T: Backend>(
        &self,
        preference: Preference,
        chain: impl IntoIterator<Item = Candidate<'a, T>>,
        mut workload: impl FnMut(&mut T),
    ) -> Result<Calibration<T>, CalibrateError> {
        let clock = self.clock()?;
        let mut timings = Vec::new();
        let mut fastest: Option<(T, Duration)> = None;
        let (skipped, tried) = walk(preference, chain, |_, mut backend| {
            let timing = self.time_with(clock, &mut backend, &mut workload);
            let median = timing.median;
            timings.push(timing);
            if fastest.as_ref().is_none_or(|(_, best)| median < *best) {
                fastest = Some((backend, median));
            }
            ControlFlow::Continue(())
        });
        match fastest {
            Some((fastest, _)) => Ok(Calibration {
                fastest,
                timings,
                skipped,
            }),
            None => Err(CalibrateError::Select(nothing_available(preference, tried))),
        }
    }
}

fn instant_clock() -> Duration {
    use std::sync::OnceLock;
    use std::time::Instant;
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    EPOCH.get_or_init(Instant::now).elapsed()
}

fn median(sorted: &[Duration]) -> Duration {
    let mid = sorted.len() / 2;
    if sorted.len() % 2 == 1 {
        sorted[mid]
    } else {
        (sorted[mid - 1] + sorted[mid]) / 2
    }
}

/// How long one backend took on the calibration workload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Timing {
    /// The backend's kind.
    pub kind: BackendKind,
    /// The backend's name.
    pub name: String,
    /// Median of the measured runs.
    pub median: Duration,
    /// Fastest measured run.
    pub min: Duration,
    /// Slowest measured run.
    pub max: Duration,
}

impl fmt::Display for Timing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: median {:?} (min {:?}, max {:?})",
            self.name, self.median, self.min, self.max
        )
    }
}

/// The outcome of [`Calibrator::pick_fastest`].
#[derive(Debug)]
pub struct Calibration<T> {
    /// The backend with the lowest median time.
    pub fastest: T,
    /// Every timed backend, in chain order.
    pub timings: Vec<Timing>,
    /// Candidates that were excluded or could not be built, with reasons.
    pub skipped: Vec<Unavailable>,
}

/// Why calibration could not run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CalibrateError {
    /// `measured_runs` was 0: there would be nothing to take a median of.
    NoMeasuredRuns,
    /// No clock on this target (`wasm32-unknown-unknown`); supply one with
    /// [`Calibrator::with_clock`].
    NoClock,
    /// No candidate could be built.
    Select(SelectError),
}

impl fmt::Display for CalibrateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CalibrateError::NoMeasuredRuns => {
                f.write_str("calibration needs at least one measured run")
            }
            CalibrateError::NoClock => f.write_str(
                "no clock on this target: pass one with Calibrator::with_clock (e.g. performance.now)",
            ),
            CalibrateError::Select(e) => write!(f, "calibration found nothing to run: {e}"),
        }
    }
}

impl std::error::Error for CalibrateError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            CalibrateError::Select(e) => Some(e),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SimdLevel;
    use std::cell::Cell;

    /// A fake backend whose workload advances a fake clock by a fixed cost,
    /// so timings are exact and the test cannot be flaky.
    #[derive(Debug)]
    struct Fake {
        kind: BackendKind,
        cost_us: u64,
    }
    impl Backend for Fake {
        fn kind(&self) -> BackendKind {
            self.kind
        }
    }

    thread_local! {
        static NOW_US: Cell<u64> = const { Cell::new(0) };
    }
    fn fake_clock() -> Duration {
        Duration::from_micros(NOW_US.with(Cell::get))
    }
    fn advance(us: u64) {
        NOW_US.with(|t| t.set(t.get() + us));
    }

    fn fake(kind: BackendKind, cost_us: u64) -> Candidate<'static, Fake> {
        Candidate::new(kind, move || Ok(Fake { kind, cost_us }))
    }

    #[test]
    fn picks_the_lowest_median_and_returns_every_timing() {
        let simd = BackendKind::Simd(SimdLevel::Avx2Fma);
        let chain = vec![
            Candidate::new(BackendKind::Gpu, || {
                Err(Unavailable::new(BackendKind::Gpu, "no adapter"))
            }),
            fake(simd, 10),
            fake(BackendKind::Scalar, 40),
        ];
        let calibrator = Calibrator::new(1, 5).unwrap().with_clock(fake_clock);
        let result = calibrator
            .pick_fastest(Preference::Auto, chain, |b: &mut Fake| advance(b.cost_us))
            .unwrap();
        assert_eq!(result.fastest.kind, simd);
        assert_eq!(result.timings.len(), 2);
        assert_eq!(result.timings[0].median, Duration::from_micros(10));
        assert_eq!(result.timings[1].median, Duration::from_micros(40));
        assert_eq!(result.skipped.len(), 1);
    }

    #[test]
    fn median_ignores_outliers_and_warmups_are_untimed() {
        let mut run = 0u32;
        let calibrator = Calibrator::new(2, 5).unwrap().with_clock(fake_clock);
        let mut backend = Fake {
            kind: BackendKind::Scalar,
            cost_us: 0,
        };
        // Warm-ups cost 1000 us each; measured runs 5, 5, 500, 5, 7.
        let costs = [1000, 1000, 5, 5, 500, 5, 7];
        let timing = calibrator
            .time(&mut backend, |_| {
                advance(costs[run as usize]);
                run += 1;
            })
            .unwrap();
        assert_eq!(run, 7);
        assert_eq!(timing.median, Duration::from_micros(5));
        assert_eq!(timing.min, Duration::from_micros(5));
        assert_eq!(timing.max, Duration::from_micros(500));
    }

    #[test]
    fn even_run_count_takes_the_mean_of_the_middle_two() {
        let d = Duration::from_micros;
        assert_eq!(median(&[d(1), d(3), d(5), d(100)]), d(4));
    }

    #[test]
    fn zero_measured_runs_is_an_error() {
        assert_eq!(
            Calibrator::new(3, 0).unwrap_err(),
            CalibrateError::NoMeasuredRuns
        );
    }

    #[test]
    fn forced_preference_is_honoured_and_unavailable_is_an_error() {
        let calibrator = Calibrator::new(0, 1).unwrap().with_clock(fake_clock);
        let chain = vec![fake(BackendKind::Gpu, 1), fake(BackendKind::Scalar, 9)];
        let result = calibrator
            .pick_fastest(Preference::Scalar, chain, |b: &mut Fake| advance(b.cost_us))
            .unwrap();
        assert_eq!(result.fastest.kind, BackendKind::Scalar);
        assert_eq!(result.timings.len(), 1);

        let chain = vec![fake(BackendKind::Scalar, 9)];
        let err = calibrator
            .pick_fastest(Preference::Gpu, chain, |b: &mut Fake| advance(b.cost_us))
            .unwrap_err();
        assert!(matches!(
            err,
            CalibrateError::Select(SelectError::ForcedUnavailable { .. })
        ));
    }

    #[test]
    fn standard_clock_measures_real_time() {
        let calibrator = Calibrator::new(0, 3).unwrap();
        let mut backend = Fake {
            kind: BackendKind::Scalar,
            cost_us: 0,
        };
        let timing = calibrator
            .time(&mut backend, |_| {
                std::thread::sleep(Duration::from_millis(2))
            })
            .unwrap();
        assert!(timing.median >= Duration::from_millis(2), "{timing}");
    }
}

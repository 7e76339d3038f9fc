//! A deterministic frame-load simulator and the scores governors are
//! judged by.
//!
//! Frame time at quality `q` on frame `t` is
//! `(fixed(t) + variable(t) × cost(q)) × (1 + noise·z_t) + hitch(t)`,
//! optionally rounded up to whole vsync intervals. The noise `z_t` and the
//! hitches depend only on the seed and the frame, never on the governor, so
//! every governor (and the oracle) sees the same world.

use std::fmt;

use crate::error::check_range;
use crate::{Error, Governor, QualityBounds};

/// A load component over time, in milliseconds.
#[derive(Debug, Clone, PartialEq)]
pub enum Load {
    /// The same every frame.
    Constant(f64),
    /// `before` until frame `at`, then `after`.
    Step {
        /// Value before the step.
        before: f64,
        /// Value from frame `at` on.
        after: f64,
        /// First frame of the new value.
        at: usize,
    },
    /// `from` until `start`, linear to `to` at `end`, then `to`.
    Ramp {
        /// Value up to `start`.
        from: f64,
        /// Value from `end` on.
        to: f64,
        /// First frame of the ramp.
        start: usize,
        /// Last frame of the ramp.
        end: usize,
    },
    /// One value per frame (the last repeats).
    PerFrame(Vec<f64>),
}

impl Load {
    /// The value on `frame`.
    pub fn at(&self, frame: usize) -> f64 {
        match self {
            Load::Constant(v) => *v,
            Load::Step { before, after, at } => {
                if frame < *at {
                    *before
                } else {
                    *after
                }
            }
            Load::Ramp {
                from,
                to,
                start,
                end,
            } => {
                if frame <= *start {
                    *from
                } else if frame >= *end {
                    *to
                } else {
                    from + (to - from) * (frame - start) as f64 / (end - start) as f64
                }
            }
            Load::PerFrame(values) => values.get(frame).or(values.last()).copied().unwrap_or(0.0),
        }
    }
}

/// How the variable part of the load scales with quality.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum CostCurve {
    /// `cost(q) = q` (what `governor_sim` traces use).
    Linear,
    /// `cost(q) = q^γ`, e.g. γ = 2 for a resolution scale.
    Power(f64),
}

impl CostCurve {
    /// The cost multiplier at quality `q`.
    pub fn cost(self, q: f64) -> f64 {
        match self {
            CostCurve::Linear => q,
            CostCurve::Power(gamma) => q.max(0.0).powf(gamma),
        }
    }
}

/// A simulated workload.
#[derive(Debug, Clone, PartialEq)]
pub struct Scenario {
    /// Name for reports.
    pub name: String,
    /// Frames to simulate.
    pub frames: usize,
    /// Target frames per second (budget = 1000 / target).
    pub target_fps: f64,
    /// Cost that quality does not change, ms.
    pub fixed_ms: Load,
    /// Cost at quality 1, ms (scaled by `cost`).
    pub variable_ms: Load,
    /// How the variable cost scales with quality.
    pub cost: CostCurve,
    /// Relative standard deviation of Gaussian frame noise (0.03 = 3%).
    pub noise: f64,
    /// A hitch of `hitch_ms` every this many frames.
    pub hitch_every: Option<usize>,
    /// Extra milliseconds of a hitch frame.
    pub hitch_ms: f64,
    /// Round frame times up to whole refresh intervals (at the target rate).
    pub vsync: bool,
    /// Seed of the noise.
    pub seed: u64,
}

impl Scenario {
    fn base(name: &str, fixed: Load, variable: Load) -> Scenario {
        Scenario {
            name: name.to_string(),
            frames: 600,
            target_fps: 60.0,
            fixed_ms: fixed,
            variable_ms: variable,
            cost: CostCurve::Linear,
            noise: 0.02,
            hitch_every: None,
            hitch_ms: 0.0,
            vsync: false,
            seed: 7,
        }
    }

    /// The standard scenarios at 60 FPS (budget 16.7 ms), 600 frames each:
    /// `steady` (quality 1 costs 1.6× the budget), `step_up` (the load
    /// doubles at frame 200), `step_down` (it halves), `ramp` (it triples
    /// over frames 100–400), `hitchy` (a 40 ms hitch every 97 frames) and
    /// `noisy` (8% frame noise, a resolution-like q² cost).
    pub fn standard() -> Vec<Scenario> {
        vec![
            Scenario::base("steady", Load::Constant(4.0), Load::Constant(22.0)),
            Scenario::base(
                "step_up",
                Load::Constant(3.0),
                Load::Step {
                    before: 12.0,
                    after: 26.0,
                    at: 200,
                },
            ),
            Scenario::base(
                "step_down",
                Load::Constant(3.0),
                Load::Step {
                    before: 30.0,
                    after: 13.0,
                    at: 300,
                },
            ),
            Scenario::base(
                "ramp",
                Load::Constant(2.0),
                Load::Ramp {
                    from: 10.0,
                    to: 32.0,
                    start: 100,
                    end: 400,
                },
            ),
            Scenario {
                hitch_every: Some(97),
                hitch_ms: 40.0,
                ..Scenario::base("hitchy", Load::Constant(3.0), Load::Constant(18.0))
            },
            Scenario {
                noise: 0.08,
                cost: CostCurve::Power(2.0),
                seed: 11,
                ..Scenario::base("noisy", Load::Constant(4.0), Load::Constant(20.0))
            },
        ]
    }

    /// A scenario from a CSV trace with the header `fixed_ms,variable_ms`
    /// and one row per frame (linear cost, no extra noise or hitches: the
    /// trace is the world). Errors name the 1-based line.
    pub fn from_trace_csv(name: &str, text: &str, target_fps: f64) -> Result<Scenario, Error> {
        check_range("target_fps", target_fps, 1e-3, 10_000.0)?;
        let mut lines = text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty());
        let Some((header_index, header)) = lines.next() else {
            return Err(Error::Trace {
                line: 1,
                reason: "empty trace: expected a header `fixed_ms,variable_ms`".into(),
            });
        };
        let columns: Vec<&str> = header.split(',').map(str::trim).collect();
        if columns != ["fixed_ms", "variable_ms"] {
            return Err(Error::Trace {
                line: header_index + 1,
                reason: format!(
                    "expected the header `fixed_ms,variable_ms`, got `{}`",
                    header.trim()
                ),
            });
        }
        let (mut fixed, mut variable) = (Vec::new(), Vec::new());
        for (index, line) in lines {
            let line_no = index + 1;
            let fields: Vec<&str> = line.split(',').map(str::trim).collect();
            if fields.len() != 2 {
                return Err(Error::Trace {
                    line: line_no,
                    reason: format!("expected 2 fields, got {}", fields.len()),
                });
            }
            let parse = |field: &str, what: &str| -> Result<f64, Error> {
                let value: f64 = field.parse().map_err(|_| Error::Trace {
                    line: line_no,
                    reason: format!("{what} `{field}` is not a number"),
                })?;
                if !value.is_finite() || value < 0.0 {
                    return Err(Error::Trace {
                        line: line_no,
                        reason: format!("{what} must be finite and >= 0, got {field}"),
                    });
                }
                Ok(value)
            };
            let f = parse(fields[0], "fixed_ms")?;
            let v = parse(fields[1], "variable_ms")?;
            if f + v <= 0.0 {
                return Err(Error::Trace {
                    line: line_no,
                    reason: "a frame must cost something (fixed_ms + variable_ms > 0)".into(),
                });
            }
            fixed.push(f);
            variable.push(v);
        }
        if fixed.is_empty() {
            return Err(Error::Trace {
                line: header_index + 2,
                reason: "the trace has no frames".into(),
            });
        }
        Ok(Scenario {
            name: name.to_string(),
            frames: fixed.len(),
            target_fps,
            fixed_ms: Load::PerFrame(fixed),
            variable_ms: Load::PerFrame(variable),
            cost: CostCurve::Linear,
            noise: 0.0,
            hitch_every: None,
            hitch_ms: 0.0,
            vsync: false,
            seed: 0,
        })
    }

    /// Frame budget in ms.
    pub fn budget_ms(&self) -> f64 {
        1000.0 / self.target_fps
    }

    /// Noise-free frame time at quality `q` on `frame`.
    pub fn expected_ms(&self, frame: usize, q: f64) -> f64 {
        self.fixed_ms.at(frame) + self.variable_ms.at(frame) * self.cost.cost(q)
    }

    /// Frames where the load jumps (the full-quality cost moves by more than
    /// 10% from one frame to the next): where settling is measured.
    pub fn load_steps(&self) -> Vec<usize> {
        (1..self.frames)
            .filter(|&t| {
                let (a, b) = (self.expected_ms(t - 1, 1.0), self.expected_ms(t, 1.0));
                (b - a).abs() > 0.1 * a.max(1e-9)
            })
            .collect()
    }

    /// The oracle: the highest quality in `bounds` whose noise-free frame
    /// time fits `budget × (1 − headroom)`, knowing the load exactly.
    pub fn oracle_quality(&self, frame: usize, headroom: f64, bounds: QualityBounds) -> f64 {
        let aim = self.budget_ms() * (1.0 - headroom);
        if self.expected_ms(frame, bounds.max) <= aim {
            return bounds.max;
        }
        if self.expected_ms(frame, bounds.min) >= aim {
            return bounds.min;
        }
        let (mut lo, mut hi) = (bounds.min, bounds.max);
        for _ in 0..60 {
            let mid = 0.5 * (lo + hi);
            if self.expected_ms(frame, mid) <= aim {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        lo
    }

    fn world(&self) -> World {
        let mut rng = SplitMix(self.seed);
        World {
            noise: (0..self.frames)
                .map(|_| rng.gaussian() * self.noise)
                .collect(),
        }
    }

    fn frame_ms(&self, world: &World, frame: usize, q: f64) -> f64 {
        let mut ms = self.expected_ms(frame, q) * (1.0 + world.noise[frame]).max(0.1);
        if let Some(every) = self.hitch_every
            && every > 0
            && frame % every == every - 1
        {
            ms += self.hitch_ms;
        }
        if self.vsync {
            let period = 1000.0 / self.target_fps;
            ms = (ms / period).ceil().max(1.0) * period;
        }
        ms
    }
}

struct World {
    noise: Vec<f64>,
}

/// SplitMix64 with a Box–Muller Gaussian.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn unit(&mut self) -> f64 {
        ((self.next() >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }
    fn gaussian(&mut self) -> f64 {
        let (u, v) = (self.unit(), self.unit());
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }
}

/// One simulated frame.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct FrameRecord {
    /// Frame index.
    pub frame: usize,
    /// Quality the frame was rendered at.
    pub quality: f64,
    /// Its frame time, ms.
    pub frame_ms: f64,
    /// The oracle's quality for this frame.
    pub oracle_quality: f64,
}

/// How a governor did on a scenario.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Scores {
    /// Percent of frames over the budget.
    pub over_budget_pct: f64,
    /// 99th percentile frame time, ms.
    pub p99_ms: f64,
    /// Mean quality.
    pub mean_quality: f64,
    /// Changes of direction of quality (up then down, or down then up).
    pub reversals: usize,
    /// The most reversals in any stretch between load steps (the start of
    /// the run counts as a step).
    pub max_reversals_per_step: usize,
    /// For each load step: frames until quality stays within 0.05 of where
    /// it ends before the next step.
    pub settle_frames: Vec<usize>,
    /// Mean of max(0, oracle − quality).
    pub shortfall: f64,
    /// The oracle's percent of frames over budget (same noise and hitches).
    pub oracle_over_budget_pct: f64,
    /// The oracle's mean quality.
    pub oracle_mean_quality: f64,
}

impl Scores {
    /// The slowest settling after a load step (0 without steps).
    pub fn worst_settle(&self) -> usize {
        self.settle_frames.iter().copied().max().unwrap_or(0)
    }
}

impl fmt::Display for Scores {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "over budget {:5.1}% (oracle {:4.1}%), p99 {:6.2} ms, mean quality {:.3} (oracle {:.3}), \
             reversals {} (max {} per step), settle {:?} frames, shortfall {:.3}",
            self.over_budget_pct,
            self.oracle_over_budget_pct,
            self.p99_ms,
            self.mean_quality,
            self.oracle_mean_quality,
            self.reversals,
            self.max_reversals_per_step,
            self.settle_frames,
            self.shortfall
        )
    }
}

/// The trace and scores of one run.
#[derive(Debug, Clone)]
pub struct SimRun {
    /// Every frame.
    pub trace: Vec<FrameRecord>,
    /// The scores.
    pub scores: Scores,
}

/// How close to its final value quality must stay to count as settled.
pub const SETTLE_TOLERANCE: f64 = 0.05;

/// Runs `governor` through `scenario`. The oracle uses `headroom` (give it
/// the governor's own, so the comparison isolates not knowing the load)
/// and `bounds`.
pub fn simulate(
    scenario: &Scenario,
    governor: &mut dyn Governor,
    headroom: f64,
    bounds: QualityBounds,
) -> SimRun {
    let world = scenario.world();
    let budget = scenario.budget_ms();
    let mut trace = Vec::with_capacity(scenario.frames);
    let mut oracle_frames = Vec::with_capacity(scenario.frames);
    for t in 0..scenario.frames {
        let q = governor.quality();
        let ms = scenario.frame_ms(&world, t, q);
        let oracle_quality = scenario.oracle_quality(t, headroom, bounds);
        oracle_frames.push(scenario.frame_ms(&world, t, oracle_quality));
        trace.push(FrameRecord {
            frame: t,
            quality: q,
            frame_ms: ms,
            oracle_quality,
        });
        governor.on_frame(ms);
    }
    let scores = score(scenario, &trace, &oracle_frames, budget);
    SimRun { trace, scores }
}

fn score(scenario: &Scenario, trace: &[FrameRecord], oracle_frames: &[f64], budget: f64) -> Scores {
    let n = trace.len().max(1) as f64;
    let pct_over = |frames: &mut dyn Iterator<Item = f64>| {
        100.0 * frames.filter(|&ms| ms > budget).count() as f64 / n
    };
    let mut sorted: Vec<f64> = trace.iter().map(|r| r.frame_ms).collect();
    sorted.sort_by(f64::total_cmp);
    let p99 = sorted
        .get(((0.99 * sorted.len() as f64).ceil() as usize).saturating_sub(1))
        .copied()
        .unwrap_or(0.0);

    let steps = scenario.load_steps();
    let mut boundaries = vec![0];
    boundaries.extend(&steps);
    boundaries.push(trace.len());
    let mut reversals_per_segment = vec![0usize; boundaries.len() - 1];
    let mut reversals = 0;
    let mut direction = 0i8;
    for i in 1..trace.len() {
        let delta = trace[i].quality - trace[i - 1].quality;
        if delta.abs() < 1e-12 {
            continue;
        }
        let d = if delta > 0.0 { 1 } else { -1 };
        if direction != 0 && d != direction {
            reversals += 1;
            let segment = boundaries
                .windows(2)
                .position(|w| (w[0]..w[1]).contains(&i))
                .unwrap_or(0);
            reversals_per_segment[segment] += 1;
        }
        direction = d;
    }
    let settle_frames = boundaries[1..boundaries.len() - 1]
        .iter()
        .zip(&boundaries[2..])
        .map(|(&start, &end)| {
            let last = trace[end - 1].quality;
            let mut k = end;
            while k > start && (trace[k - 1].quality - last).abs() <= SETTLE_TOLERANCE {
                k -= 1;
            }
            k - start
        })
        .collect();

    Scores {
        over_budget_pct: pct_over(&mut trace.iter().map(|r| r.frame_ms)),
        p99_ms: p99,
        mean_quality: trace.iter().map(|r| r.quality).sum::<f64>() / n,
        reversals,
        max_reversals_per_step: reversals_per_segment.into_iter().max().unwrap_or(0),
        settle_frames,
        shortfall: trace
            .iter()
            .map(|r| (r.oracle_quality - r.quality).max(0.0))
            .sum::<f64>()
            / n,
        oracle_over_budget_pct: pct_over(&mut oracle_frames.iter().copied()),
        oracle_mean_quality: trace.iter().map(|r| r.oracle_quality).sum::<f64>() / n,
    }
}

/*!
Frame statistics, adaptive quality and backend governors, a performance
monitor, and a deterministic simulator to judge governors by.

Interactive programs have a frame budget (16.7 ms at 60 FPS). When the
load grows, something has to give: particle count, animation detail, render
scale. This crate decides *how much*, from measured frame times:

- [`FrameStats`]: a fixed-capacity ring of frame times with mean, EWMA,
  percentiles and FPS; bad samples are rejected or clamped and counted.
- [`Governor`]s: [`StepGovernor`] is the origin's fixed-step rule, kept as a
  baseline; [`BudgetGovernor`] (the default) aims under the budget with
  headroom, drops fast, rises slowly, ignores lone hitches, waits out a
  deadband and cooldowns, and learns a [`CostModel`] of frame time against
  quality so it can jump straight to the quality that fits.
- [`QualityMap`]: quality → named knobs (particle count, render scale, …)
  with curves and steps, notifying only when a knob really changes.
- [`BackendGovernor`]: moves a workload between backends (SIMD for small
  sizes, GPU for large) from calibration and live timings, with hysteresis.
- [`PerformanceMonitor`]: frame time, FPS, quality, worker-pool tasks/s
  and latency, GPU latency and a bottleneck verdict, as text or (with the
  `serde` feature) JSON.
- [`sim`]: a seeded simulator (`frame = fixed + variable × cost(q)`, noise,
  hitches, load steps, vsync) with scores against an oracle that knows the
  load, and standard scenarios.

# Design

Governors see nothing but frame times: they are pure state machines with
no clock, no allocation per frame and no I/O, so they are cheap (well under
a microsecond per frame) and fully reproducible in the simulator.
*/
#![deny(missing_docs)]

mod backend_governor;
mod error;
mod governor;
mod knobs;
mod model;
mod monitor;
pub mod sim;
mod stats;

pub use backend_governor::{BackendGovernor, BackendGovernorConfig};
pub use error::Error;
pub use governor::{BudgetConfig, BudgetGovernor, Governor, QualityBounds, StepGovernor};
pub use knobs::{Curve, Knob, KnobChange, QualityMap};
pub use model::CostModel;
pub use monitor::{Bottleneck, PerformanceMonitor, PerformanceReport};
pub use stats::{FrameStats, FrameSummary, SampleOutcome};

//! Quality governors: the origin's step rule and the budget governor.

use crate::error::check_range;
use crate::{CostModel, Error};

/// The range quality may take.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct QualityBounds {
    /// Lowest quality (> 0).
    pub min: f64,
    /// Highest quality (≥ min).
    pub max: f64,
}

impl QualityBounds {
    /// Bounds `[min, max]` with `0 < min ≤ max`, both finite.
    pub fn new(min: f64, max: f64) -> Result<Self, Error> {
        if !(min.is_finite() && max.is_finite() && min > 0.0 && min <= max) {
            return Err(Error::invalid(
                "quality bounds",
                format!("need 0 < min <= max, got [{min}, {max}]"),
            ));
        }
        Ok(QualityBounds { min, max })
    }

    /// Clamps `q` into the bounds (NaN becomes `min`).
    pub fn clamp(&self, q: f64) -> f64 {
        if q.is_nan() {
            self.min
        } else {
            q.clamp(self.min, self.max)
        }
    }
}

impl Default for QualityBounds {
    /// The origin's `[0.1, 1.0]`.
    fn default() -> Self {
        QualityBounds { min: 0.1, max: 1.0 }
    }
}

/// Something that adapts quality to measured frame times.
pub trait Governor {
    /// Feeds the time of the frame just rendered (at [`Governor::quality`])
    /// and returns the quality for the next frame. Bad samples (NaN, ≤ 0)
    /// are ignored and leave quality unchanged.
    fn on_frame(&mut self, frame_ms: f64) -> f64;

    /// The current quality.
    fn quality(&self) -> f64;

    /// A short name for reports.
    fn name(&self) -> &'static str;
}

/// EWMA weight of the model's reference frame time.
const RECENT_ALPHA: f64 = 0.25;

/// The origin's fixed-step rule, kept exactly as the baseline: keep the last
/// 60 FPS samples; after every frame, if their average is below 0.8 × target
/// lower quality by 0.1, if above 0.95 × target raise it by 0.05; quality in
/// `[0.1, 1.0]`, starting at 1.0.
#[derive(Debug, Clone)]
pub struct StepGovernor {
    target_fps: f64,
    fps: [f64; 60],
    len: usize,
    next: usize,
    quality: f64,
}

impl StepGovernor {
    /// The rule for `target_fps` (> 0).
    pub fn new(target_fps: f64) -> Result<Self, Error> {
        check_range("target_fps", target_fps, 1e-3, 10_000.0)?;
        Ok(StepGovernor {
            target_fps,
            fps: [0.0; 60],
            len: 0,
            next: 0,
            quality: 1.0,
        })
    }
}

impl Governor for StepGovernor {
    fn on_frame(&mut self, frame_ms: f64) -> f64 {
        if !(frame_ms.is_finite() && frame_ms > 0.0) {
            return self.quality;
        }
        self.fps[self.next] = 1000.0 / frame_ms;
        self.next = (self.next + 1) % self.fps.len();
        self.len = (self.len + 1).min(self.fps.len());
        let average = self.fps[..self.len].iter().sum::<f64>() / self.len as f64;
        if average < 0.8 * self.target_fps {
            self.quality -= 0.1;
        } else if average > 0.95 * self.target_fps {
            self.quality += 0.05;
        }
        self.quality = self.quality.clamp(0.1, 1.0);
        self.quality
    }

    fn quality(&self) -> f64 {
        self.quality
    }

    fn name(&self) -> &'static str {
        "step"
    }
}

/// Settings of the [`BudgetGovernor`]. `BudgetConfig::new(60.0)` gives the
/// defaults for a 60 FPS target.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct BudgetConfig {
    /// Target frames per second; the budget is `1000 / target_fps` ms.
    pub target_fps: f64,
    /// Fraction of the budget kept free: the governor aims at
    /// `budget × (1 − headroom)` (default 0.1).
    pub headroom: f64,
    /// Allowed quality range.
    pub bounds: QualityBounds,
    /// Quality before the first frame (default: `bounds.max`).
    pub initial_quality: f64,
    /// Consecutive over-budget frames that trigger a decrease (default 2).
    pub drop_after_frames: u32,
    /// A lone frame above `hitch_ratio ×` the expected time is a hitch and
    /// is ignored unless the next frame confirms it (default 1.8).
    pub hitch_ratio: f64,
    /// Relative band around the aim inside which nothing changes
    /// (default 0.06).
    pub deadband: f64,
    /// Frames after any change before quality may rise (default 6).
    pub up_cooldown_frames: u32,
    /// Frames after any change before quality may fall again (default 2).
    pub down_cooldown_frames: u32,
    /// Largest single increase (default 0.2): up is amortised.
    pub max_up_step: f64,
    /// Changes smaller than this are skipped (default 0.02).
    pub min_change: f64,
    /// EWMA weight with which the cost model follows frame times at the
    /// current quality (default 0.25).
    pub model_alpha: f64,
}

impl BudgetConfig {
    /// Defaults for `target_fps`.
    pub fn new(target_fps: f64) -> Self {
        BudgetConfig {
            target_fps,
            headroom: 0.1,
            bounds: QualityBounds::default(),
            initial_quality: 1.0,
            drop_after_frames: 2,
            hitch_ratio: 1.8,
            deadband: 0.06,
            up_cooldown_frames: 6,
            down_cooldown_frames: 2,
            max_up_step: 0.2,
            min_change: 0.02,
            model_alpha: RECENT_ALPHA,
        }
    }

    /// Checks every field.
    pub fn validate(&self) -> Result<(), Error> {
        check_range("target_fps", self.target_fps, 1e-3, 10_000.0)?;
        check_range("headroom", self.headroom, 0.0, 0.9)?;
        QualityBounds::new(self.bounds.min, self.bounds.max)?;
        check_range(
            "initial_quality",
            self.initial_quality,
            self.bounds.min,
            self.bounds.max,
        )?;
        if self.drop_after_frames == 0 {
            return Err(Error::invalid("drop_after_frames", "must be at least 1"));
        }
        check_range("hitch_ratio", self.hitch_ratio, 1.0, 100.0)?;
        check_range("deadband", self.deadband, 0.0, 0.5)?;
        check_range("max_up_step", self.max_up_step, 1e-6, 1e6)?;
        check_range("min_change", self.min_change, 0.0, 1e6)?;
        check_range("model_alpha", self.model_alpha, 1e-3, 1.0)?;
        Ok(())
    }

    /// The frame budget in ms.
    pub fn budget_ms(&self) -> f64 {
        1000.0 / self.target_fps
    }

    /// The frame time the governor aims at, in ms.
    pub fn aim_ms(&self) -> f64 {
        self.budget_ms() * (1.0 - self.headroom)
    }
}

/// The default governor: a frame budget with headroom, fast decreases,
/// slow amortised increases, a deadband, cooldowns, hitch rejection, and an
/// online [`CostModel`] that jumps straight to the quality that fits.
///
/// ```
/// use vivace_perf_adapt::{BudgetConfig, BudgetGovernor, Governor};
/// let mut governor = BudgetGovernor::new(BudgetConfig::new(60.0)).unwrap();
/// // A load where quality 1.0 costs 30 ms: twice the 16.7 ms budget.
/// let mut q = governor.quality();
/// for _ in 0..60 {
///     q = governor.on_frame(2.0 + 28.0 * q);
/// }
/// let frame = 2.0 + 28.0 * q;
/// assert!(frame <= 1000.0 / 60.0, "settled under budget: {frame} ms at q = {q}");
/// assert!(frame >= 12.0, "without giving away quality: {frame} ms");
/// ```
#[derive(Debug, Clone)]
pub struct BudgetGovernor {
    config: BudgetConfig,
    model: CostModel,
    quality: f64,
    /// Consecutive over-budget frames (a pending hitch counts once confirmed).
    over: u32,
    /// Sum of those frames' times.
    over_sum: f64,
    /// A lone spike waiting for the next frame to confirm or dismiss it.
    pending_hitch: Option<f64>,
    /// EWMA of the relative difference between successive frames; for
    /// Gaussian noise of deviation σ it tends to 2σ/√π.
    noise_mad: f64,
    previous_ms: Option<f64>,
    frames_since_change: u32,
    hitches: u64,
}

impl BudgetGovernor {
    /// A governor with `config` (validated).
    pub fn new(config: BudgetConfig) -> Result<Self, Error> {
        config.validate()?;
        Ok(BudgetGovernor {
            model: CostModel::new(config.model_alpha),
            quality: config.initial_quality,
            config,
            over: 0,
            over_sum: 0.0,
            pending_hitch: None,
            noise_mad: 0.0,
            previous_ms: None,
            frames_since_change: u32::MAX / 2,
            hitches: 0,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &BudgetConfig {
        &self.config
    }

    /// The learned cost model.
    pub fn model(&self) -> &CostModel {
        &self.model
    }

    /// Frames dismissed as hitches so far.
    pub fn hitches(&self) -> u64 {
        self.hitches
    }

    fn set_quality(&mut self, q: f64) {
        let q = self.config.bounds.clamp(q);
        if (q - self.quality).abs() >= self.config.min_change.max(1e-9) {
            self.quality = q;
            self.frames_since_change = 0;
            self.over = 0;
            self.over_sum = 0.0;
        }
    }

    /// Accepts a frame into the model and the running averages.
    fn accept(&mut self, frame_ms: f64) {
        // Frame noise from successive differences: a load step is one
        // large difference (capped), not a lasting rise in the estimate.
        if let Some(previous) = self.previous_ms {
            let jump = ((frame_ms - previous) / previous).abs().min(0.25);
            self.noise_mad += 0.05 * (jump - self.noise_mad);
        }
        self.previous_ms = Some(frame_ms);
        self.model.observe(self.quality, frame_ms);
        if frame_ms > self.config.budget_ms() {
            self.over += 1;
            self.over_sum += frame_ms;
        } else {
            self.over = 0;
            self.over_sum = 0.0;
        }
    }

    /// The quality the model says fits `aim_ms` when the current quality
    /// costs `observed_ms`.
    fn fitting_quality(&self, aim_ms: f64, observed_ms: f64) -> f64 {
        self.model
            .quality_for_from(aim_ms, observed_ms)
            .unwrap_or(self.quality * aim_ms / observed_ms)
    }
}

impl Governor for BudgetGovernor {
    fn on_frame(&mut self, frame_ms: f64) -> f64 {
        if !(frame_ms.is_finite() && frame_ms > 0.0) {
            return self.quality;
        }
        let cfg = self.config;
        let (budget, aim) = (cfg.budget_ms(), cfg.aim_ms());
        self.frames_since_change = self.frames_since_change.saturating_add(1);

        // Hitch rejection: a lone spike well above what this quality is
        // expected to cost waits for the next frame to confirm it.
        let expected = self.model.reference().map_or(frame_ms, |(_, f)| f);
        let spike = frame_ms > cfg.hitch_ratio * expected && frame_ms > budget;
        match (self.pending_hitch.take(), spike || frame_ms > budget) {
            (None, _) if spike => {
                self.pending_hitch = Some(frame_ms);
                return self.quality;
            }
            (Some(previous), true) => {
                // Two slow frames in a row: a load change, not a hitch.
                self.accept(previous);
                self.accept(frame_ms);
            }
            (Some(_), false) => {
                self.hitches += 1;
                self.accept(frame_ms);
            }
            (None, _) => self.accept(frame_ms),
        }

        // What the current quality costs now: the model's reference, an
        // EWMA that starts each quality at its prediction and snaps to the
        // measured mean once the slope is measured.
        let recent = self.model.reference().map_or(frame_ms, |(_, f)| f);
        // The deadband never gets narrower than the noise of `recent`
        // (an EWMA of ~7 frames: σ/√7 ≈ 0.38σ; 3.5 of those, so noise
        // alone crosses it about once in 5,000 frames).
        let noise = self.noise_mad * std::f64::consts::PI.sqrt() / 2.0;
        let alpha = cfg.model_alpha;
        let deadband = cfg
            .deadband
            .max(3.5 * noise * (alpha / (2.0 - alpha)).sqrt());
        // A run of slow frames counts only if its mean is beyond what the
        // noise explains.
        let run_mean = if self.over > 0 {
            self.over_sum / f64::from(self.over)
        } else {
            0.0
        };
        let slow_run = self.over >= cfg.drop_after_frames && run_mean > budget * (1.0 + noise);
        let may_fall = self.frames_since_change > cfg.down_cooldown_frames;
        let may_rise = self.frames_since_change > cfg.up_cooldown_frames;

        if may_fall && (slow_run || recent > aim * (1.0 + deadband)) {
            // Decrease fast: straight to the quality that fits the aim,
            // at least one minimum step down. A run of slow frames is the
            // best evidence of what this quality costs now.
            let observed = if slow_run {
                run_mean.max(recent)
            } else {
                recent
            };
            let target = self.fitting_quality(aim, observed);
            self.set_quality(target.min(self.quality - cfg.min_change));
        } else if may_rise && recent < aim * (1.0 - deadband) {
            // Increase slowly: toward the quality that fits a little under
            // the aim, at most `max_up_step` at a time.
            let target = self.fitting_quality(aim * (1.0 - 0.75 * deadband), recent);
            // A rise worth less than the deadband in frame time is lost
            // in the noise; skip it rather than creep toward the edge.
            let worth = self
                .model
                .slope()
                .map_or(cfg.min_change, |slope| deadband * recent / slope);
            if target > self.quality + worth {
                self.set_quality(target.min(self.quality + cfg.max_up_step));
            }
        }
        self.quality
    }

    fn quality(&self) -> f64 {
        self.quality
    }

    fn name(&self) -> &'static str {
        "default"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn step_rule_moves_by_its_fixed_steps() {
        let mut g = StepGovernor::new(60.0).unwrap();
        assert_eq!(g.quality(), 1.0);
        // 40 FPS average < 48: down by 0.1.
        assert!((g.on_frame(25.0) - 0.9).abs() < 1e-12);
        assert!((g.on_frame(25.0) - 0.8).abs() < 1e-12);
        // Average stays low for a while even when frames get fast.
        let mut g = StepGovernor::new(60.0).unwrap();
        for _ in 0..20 {
            g.on_frame(25.0);
        }
        assert!((g.quality() - 0.1).abs() < 1e-12, "clamped at 0.1");
        // 100 FPS > 57: up by 0.05 per frame once the average recovers.
        let mut g = StepGovernor::new(60.0).unwrap();
        for _ in 0..5 {
            g.on_frame(25.0);
        }
        let before = g.quality();
        for _ in 0..200 {
            g.on_frame(10.0);
        }
        assert!(g.quality() > before);
        assert_eq!(g.quality(), 1.0);
        // In between (50 FPS): no change.
        let mut g = StepGovernor::new(60.0).unwrap();
        assert_eq!(g.on_frame(20.0), 1.0);
    }

    #[test]
    fn bad_samples_leave_quality_unchanged() {
        let mut g = BudgetGovernor::new(BudgetConfig::new(60.0)).unwrap();
        for bad in [f64::NAN, -1.0, 0.0, f64::INFINITY] {
            assert_eq!(g.on_frame(bad), 1.0);
        }
        let mut s = StepGovernor::new(60.0).unwrap();
        assert_eq!(s.on_frame(f64::NAN), 1.0);
    }

    #[test]
    fn one_hitch_does_not_drop_quality() {
        let mut g = BudgetGovernor::new(BudgetConfig::new(60.0)).unwrap();
        for _ in 0..30 {
            g.on_frame(12.0);
        }
        let q = g.quality();
        g.on_frame(80.0);
        for _ in 0..5 {
            g.on_frame(12.0);
        }
        assert_eq!(g.quality(), q);
        assert_eq!(g.hitches(), 1);
    }

    #[test]
    fn quality_stays_in_bounds_whatever_the_frames() {
        let mut cfg = BudgetConfig::new(60.0);
        cfg.bounds = QualityBounds::new(0.25, 0.75).unwrap();
        cfg.initial_quality = 0.5;
        let mut g = BudgetGovernor::new(cfg).unwrap();
        for i in 0..2000 {
            let ms = if (i / 100) % 2 == 0 { 500.0 } else { 0.5 };
            let q = g.on_frame(ms);
            assert!((0.25..=0.75).contains(&q), "{q}");
        }
    }

    #[test]
    fn invalid_configs_are_errors() {
        let mut cfg = BudgetConfig::new(60.0);
        cfg.headroom = 1.5;
        assert!(BudgetGovernor::new(cfg).is_err());
        let mut cfg = BudgetConfig::new(-5.0);
        assert!(BudgetGovernor::new(cfg).is_err());
        cfg = BudgetConfig::new(60.0);
        cfg.initial_quality = 2.0;
        assert!(matches!(
            BudgetGovernor::new(cfg),
            Err(Error::InvalidParameter {
                name: "initial_quality",
                ..
            })
        ));
        assert!(QualityBounds::new(0.0, 1.0).is_err());
        assert!(QualityBounds::new(0.8, 0.2).is_err());
        assert!(StepGovernor::new(0.0).is_err());
    }
}

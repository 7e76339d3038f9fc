//! An online cost model: frame time as a function of quality, near the
//! quality in use.

/// Frame time near the current quality, as a line through what the current
/// quality costs now, with a slope learned from quality changes.
///
/// - The *reference* is an EWMA of frame times at the quality in use, so the
///   model follows load changes within a few frames.
/// - The *slope* (ms per unit of quality) is measured each time quality
///   changes: the frame time just before the change against the mean of the
///   next few frames after it. Until the first measurement it assumes a
///   fixed share of 10%: 90% of the frame scales with quality (a
///   cautious guess: decreases undershoot rather than overshoot).
///
/// Why not least squares over (quality, frame time) pairs: quality is
/// constant most of the time, which leaves the fixed/variable split
/// unidentified and makes a forgetting estimator wind up or stall; this
/// split of responsibilities stays well-conditioned.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CostModel {
    alpha: f64,
    prior_fixed_share: f64,
    reference: Option<(f64, f64)>,
    slope: Option<f64>,
    /// The reference frame time the measured slope belongs to.
    anchor_ms: f64,
    /// (quality, frame time) just before the last change, while the frames
    /// after it are being averaged.
    before_change: Option<(f64, f64)>,
    after_sum: f64,
    after_count: u32,
    observations: u64,
}

/// Frames averaged after a quality change to measure the slope.
const SLOPE_FRAMES: u32 = 6;

impl CostModel {
    /// A model whose reference follows frames with EWMA weight `alpha` in
    /// (0, 1] (0.3 reacts within a few frames).
    pub fn new(alpha: f64) -> Self {
        CostModel {
            alpha: alpha.clamp(1e-3, 1.0),
            prior_fixed_share: 0.1,
            reference: None,
            slope: None,
            anchor_ms: 0.0,
            before_change: None,
            after_sum: 0.0,
            after_count: 0,
            observations: 0,
        }
    }

    /// Frames observed so far.
    pub fn observations(&self) -> u64 {
        self.observations
    }

    /// Learns from one frame rendered at `quality` that took `frame_ms`.
    pub fn observe(&mut self, quality: f64, frame_ms: f64) {
        if !(quality.is_finite() && quality > 0.0 && frame_ms.is_finite() && frame_ms > 0.0) {
            return;
        }
        self.observations += 1;
        let Some((q_ref, f_ref)) = self.reference else {
            self.reference = Some((quality, frame_ms));
            self.anchor_ms = frame_ms;
            return;
        };
        if (quality - q_ref).abs() > 1e-9 {
            // Quality changed: bake the load scaling into the slope, start
            // the new reference at the prediction (not at one noisy frame),
            // and start measuring the slope across the change.
            let predicted = self.predict(quality).unwrap_or(frame_ms).max(1e-6);
            if self.slope.is_some() {
                self.slope = self.slope();
            }
            self.before_change = Some((q_ref, f_ref));
            self.after_sum = frame_ms;
            self.after_count = 1;
            self.anchor_ms = predicted;
            self.reference = Some((quality, predicted + self.alpha * (frame_ms - predicted)));
            return;
        }
        self.reference = Some((q_ref, f_ref + self.alpha * (frame_ms - f_ref)));
        if let Some((q1, f1)) = self.before_change {
            self.after_sum += frame_ms;
            self.after_count += 1;
            if self.after_count == SLOPE_FRAMES {
                let f2 = self.after_sum / f64::from(SLOPE_FRAMES);
                let sample = (f2 - f1) / (quality - q1);
                // Cost must grow with quality, and cannot exceed "all of the
                // frame scales with quality" by much; anything else was a
                // load change during the measurement.
                let ceiling = 1.5 * f2.max(f1) / quality.min(q1);
                if sample > 0.0 && sample <= ceiling {
                    let current = self.slope();
                    self.slope = Some(match (self.slope, current) {
                        (Some(_), Some(s)) => s + 0.7 * (sample - s),
                        _ => sample,
                    });
                    // The measured mean is the best estimate of what this
                    // quality costs now: it anchors the slope and the reference.
                    self.anchor_ms = f2;
                    self.reference = Some((quality, f2));
                }
                self.before_change = None;
            }
        }
    }

    /// Cost per unit of quality, ms: measured, or the prior's guess.
    pub fn slope(&self) -> Option<f64> {
        let (q, f) = self.reference?;
        let slope = match self.slope {
            Some(measured) => measured * (f / self.anchor_ms).clamp(0.25, 4.0),
            None => (1.0 - self.prior_fixed_share) * f / q,
        };
        Some(slope.max(1e-6))
    }

    /// Whether the slope has been measured (not the prior).
    pub fn slope_measured(&self) -> bool {
        self.slope.is_some()
    }

    /// The quality in use and its recent frame time.
    pub fn reference(&self) -> Option<(f64, f64)> {
        self.reference
    }

    /// Predicted frame time at `quality`.
    pub fn predict(&self, quality: f64) -> Option<f64> {
        let (q, f) = self.reference?;
        Some(f + self.slope()? * (quality - q))
    }

    /// The quality whose predicted frame time is `frame_ms`.
    pub fn quality_for(&self, frame_ms: f64) -> Option<f64> {
        let (_, f) = self.reference?;
        self.quality_for_from(frame_ms, f)
    }

    /// Like [`CostModel::quality_for`], but taking `observed_ms` as what the
    /// current quality costs now (e.g. the mean of a run of slow frames the
    /// reference has not caught up with yet).
    pub fn quality_for_from(&self, frame_ms: f64, observed_ms: f64) -> Option<f64> {
        let (q, _) = self.reference?;
        Some(q + (frame_ms - observed_ms) / self.slope()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed(m: &mut CostModel, q: f64, frames: usize, cost: impl Fn(f64) -> f64) {
        for _ in 0..frames {
            m.observe(q, cost(q));
        }
    }

    #[test]
    fn measures_the_slope_across_a_quality_change() {
        let mut m = CostModel::new(0.3);
        let cost = |q: f64| 4.0 + 20.0 * q;
        feed(&mut m, 0.9, 20, cost);
        assert!(!m.slope_measured());
        // Prior: 90% of 22 ms over 0.9 quality.
        assert!((m.slope().unwrap() - 0.9 * 22.0 / 0.9).abs() < 1e-9);
        feed(&mut m, 0.5, 10, cost);
        assert!(m.slope_measured());
        assert!((m.slope().unwrap() - 20.0).abs() < 1e-9);
        assert!((m.quality_for(12.0).unwrap() - 0.4).abs() < 1e-9);
        assert!((m.predict(1.0).unwrap() - 24.0).abs() < 1e-9);
    }

    #[test]
    fn reference_follows_a_load_change_within_frames() {
        let mut m = CostModel::new(0.3);
        feed(&mut m, 0.6, 30, |q| 2.0 + 10.0 * q);
        feed(&mut m, 0.6, 15, |q| 2.0 + 30.0 * q);
        assert!((m.predict(0.6).unwrap() - 20.0).abs() < 0.1);
    }

    #[test]
    fn load_changes_during_a_measurement_do_not_corrupt_the_slope() {
        let mut m = CostModel::new(0.3);
        feed(&mut m, 0.8, 20, |q| 2.0 + 10.0 * q);
        // Quality rises while the load drops: the "slope" would be negative.
        feed(&mut m, 0.9, 10, |q| 1.0 + 5.0 * q);
        assert!(!m.slope_measured());
        assert!(m.slope().unwrap() > 0.0);
    }

    #[test]
    fn bad_samples_are_ignored() {
        let mut m = CostModel::new(0.3);
        m.observe(0.5, f64::NAN);
        m.observe(f64::NAN, 10.0);
        m.observe(0.5, -1.0);
        m.observe(0.0, 10.0);
        assert_eq!(m.observations(), 0);
        assert_eq!(m.quality_for(10.0), None);
    }
}

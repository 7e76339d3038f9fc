//! Quality → named knobs, with change notifications.

use std::sync::mpsc::Sender;

use crate::error::check_range;
use crate::{Error, QualityBounds};

/// How a knob follows quality between its min and max.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Curve {
    /// Straight line.
    Linear,
    /// `t^γ`: γ > 1 keeps the knob low until quality is high.
    Power(f64),
    /// Smoothstep `3t² − 2t³`: gentle at both ends.
    Smooth,
}

impl Curve {
    fn apply(self, t: f64) -> f64 {
        match self {
            Curve::Linear => t,
            Curve::Power(gamma) => t.powf(gamma),
            Curve::Smooth => t * t * (3.0 - 2.0 * t),
        }
    }
}

/// One setting driven by quality: `min` at the lowest quality, `max` at the
/// highest, along `curve`, rounded to multiples of `step` (if any).
#[derive(Debug, Clone, PartialEq)]
pub struct Knob {
    name: String,
    min: f64,
    max: f64,
    curve: Curve,
    step: Option<f64>,
}

impl Knob {
    /// A linear knob from `min` to `max` (finite; `max < min` is allowed
    /// for knobs that fall as quality rises).
    pub fn new(name: impl Into<String>, min: f64, max: f64) -> Result<Self, Error> {
        if !(min.is_finite() && max.is_finite()) {
            return Err(Error::invalid(
                "knob range",
                format!("[{min}, {max}] must be finite"),
            ));
        }
        Ok(Knob {
            name: name.into(),
            min,
            max,
            curve: Curve::Linear,
            step: None,
        })
    }

    /// Uses `curve` (a power curve needs γ > 0).
    pub fn with_curve(mut self, curve: Curve) -> Result<Self, Error> {
        if let Curve::Power(gamma) = curve {
            check_range("curve exponent", gamma, 1e-6, 1e6)?;
        }
        self.curve = curve;
        Ok(self)
    }

    /// Rounds values to multiples of `step` (> 0).
    pub fn with_step(mut self, step: f64) -> Result<Self, Error> {
        check_range("knob step", step, 1e-12, f64::MAX)?;
        self.step = Some(step);
        Ok(self)
    }

    /// The knob's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The value at normalised quality `t` in [0, 1].
    pub fn value(&self, t: f64) -> f64 {
        let t = t.clamp(0.0, 1.0);
        let raw = self.min + (self.max - self.min) * self.curve.apply(t);
        match self.step {
            Some(step) => {
                let (lo, hi) = (self.min.min(self.max), self.min.max(self.max));
                ((raw / step).round() * step).clamp(lo, hi)
            }
            None => raw,
        }
    }
}

/// A knob whose value changed.
#[derive(Debug, Clone, PartialEq)]
pub struct KnobChange {
    /// The knob's name.
    pub name: String,
    /// Its previous value (`None` on the first `apply`).
    pub old: Option<f64>,
    /// Its new value.
    pub new: f64,
}

type Listener = Box<dyn FnMut(&KnobChange) + Send>;

/// Maps quality to named knobs and tells a listener when a knob actually
/// changes (not on every frame, not when a change rounds away).
///
/// ```
/// use std::sync::mpsc;
/// use vivace_perf_adapt::QualityMap;
/// let (sender, changes) = mpsc::channel();
/// let mut map = QualityMap::origin().notify(sender);
/// map.apply(1.0);
/// map.apply(0.5);
/// map.apply(0.5); // nothing changes: no notification
/// assert_eq!(map.value("particle_count"), Some(50_000.0));
/// assert_eq!(map.value("render_scale"), Some(0.75));
/// let all: Vec<_> = changes.try_iter().collect();
/// assert_eq!(all.len(), 3 + 3); // three knobs set, then three changed
/// ```
pub struct QualityMap {
    bounds: QualityBounds,
    knobs: Vec<Knob>,
    values: Vec<Option<f64>>,
    listener: Option<Listener>,
}

impl std::fmt::Debug for QualityMap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QualityMap")
            .field("bounds", &self.bounds)
            .field("knobs", &self.knobs)
            .field("values", &self.values)
            .finish_non_exhaustive()
    }
}

impl QualityMap {
    /// An empty map over `bounds`.
    pub fn new(bounds: QualityBounds) -> Self {
        QualityMap {
            bounds,
            knobs: Vec::new(),
            values: Vec::new(),
            listener: None,
        }
    }

    /// The origin's knobs over quality [0.1, 1]: `particle_count` =
    /// 100,000 × q (steps of 1,000), `render_scale` = 0.5 + 0.5 q, and
    /// `animation_complexity` 1–5 (whole steps).
    pub fn origin() -> Self {
        let knob = |name: &str, min: f64, max: f64, step: f64| {
            Knob::new(name, min, max)
                .and_then(|k| k.with_step(step))
                .expect("constant knob settings are valid")
        };
        QualityMap::new(QualityBounds::default())
            .with_knob(knob("particle_count", 10_000.0, 100_000.0, 1_000.0))
            .with_knob(
                Knob::new("render_scale", 0.55, 1.0).expect("constant knob settings are valid"),
            )
            .with_knob(knob("animation_complexity", 1.0, 5.0, 1.0))
    }

    /// Adds a knob (a knob of the same name is replaced).
    pub fn with_knob(mut self, knob: Knob) -> Self {
        match self.knobs.iter().position(|k| k.name == knob.name) {
            Some(i) => {
                self.knobs[i] = knob;
                self.values[i] = None;
            }
            None => {
                self.knobs.push(knob);
                self.values.push(None);
            }
        }
        self
    }

    /// Calls `listener` for every knob change.
    pub fn on_change(mut self, listener: impl FnMut(&KnobChange) + Send + 'static) -> Self {
        self.listener = Some(Box::new(listener));
        self
    }

    /// Sends every knob change to `sender` (a receiver that hung up is
    /// ignored).
    pub fn notify(self, sender: Sender<KnobChange>) -> Self {
        self.on_change(move |change| {
            let _ = sender.send(change.clone());
        })
    }

    /// Sets every knob for `quality` (clamped to the bounds) and notifies
    /// the listener of the knobs whose value changed. Returns how many did.
    pub fn apply(&mut self, quality: f64) -> usize {
        let q = self.bounds.clamp(quality);
        let span = self.bounds.max - self.bounds.min;
        let t = if span > 0.0 {
            (q - self.bounds.min) / span
        } else {
            1.0
        };
        let mut changed = 0;
        for (knob, value) in self.knobs.iter().zip(self.values.iter_mut()) {
            let new = knob.value(t);
            if *value == Some(new) {
                continue;
            }
            let change = KnobChange {
                name: knob.name.clone(),
                old: *value,
                new,
            };
            *value = Some(new);
            changed += 1;
            if let Some(listener) = self.listener.as_mut() {
                listener(&change);
            }
        }
        changed
    }

    /// The current value of the knob called `name` (after an `apply`).
    pub fn value(&self, name: &str) -> Option<f64> {
        let i = self.knobs.iter().position(|k| k.name == name)?;
        self.values[i]
    }

    /// Every knob with its current value.
    pub fn values(&self) -> impl Iterator<Item = (&str, Option<f64>)> {
        self.knobs
            .iter()
            .map(|k| k.name.as_str())
            .zip(self.values.iter().copied())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    #[test]
    fn origin_knobs_match_the_origin_formulas() {
        let mut map = QualityMap::origin();
        for q in [0.1, 0.25, 0.5, 0.73, 1.0] {
            map.apply(q);
            let count = map.value("particle_count").unwrap();
            assert_eq!(count, (100_000.0 * q / 1000.0_f64).round() * 1000.0);
            let scale = map.value("render_scale").unwrap();
            assert!((scale - (0.5 + 0.5 * q)).abs() < 1e-12);
        }
    }

    #[test]
    fn notifies_only_real_changes() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = Arc::clone(&seen);
        let mut map = QualityMap::new(QualityBounds::default())
            .with_knob(Knob::new("lod", 0.0, 4.0).unwrap().with_step(1.0).unwrap())
            .on_change(move |c| log.lock().unwrap().push(c.clone()));
        assert_eq!(map.apply(1.0), 1);
        // 0.99 → t = 0.989 → 3.96 rounds to 4: no change, no call.
        assert_eq!(map.apply(0.99), 0);
        assert_eq!(map.apply(0.1), 1);
        let seen = seen.lock().unwrap();
        assert_eq!(seen.len(), 2);
        assert_eq!(
            seen[0],
            KnobChange {
                name: "lod".into(),
                old: None,
                new: 4.0
            }
        );
        assert_eq!(
            seen[1],
            KnobChange {
                name: "lod".into(),
                old: Some(4.0),
                new: 0.0
            }
        );
    }

    #[test]
    fn curves_shape_the_response_and_values_stay_in_range() {
        let knob = Knob::new("detail", 0.0, 1.0)
            .unwrap()
            .with_curve(Curve::Power(2.0))
            .unwrap();
        assert_eq!(knob.value(0.5), 0.25);
        let smooth = Knob::new("s", 10.0, 20.0)
            .unwrap()
            .with_curve(Curve::Smooth)
            .unwrap();
        assert_eq!(smooth.value(0.5), 15.0);
        let falling = Knob::new("blur", 8.0, 2.0).unwrap().with_step(3.0).unwrap();
        for t in [0.0, 0.3, 0.5, 1.0, 7.0, -3.0] {
            let v = falling.value(t);
            assert!((2.0..=8.0).contains(&v), "{v}");
        }
        assert!(Knob::new("x", f64::NAN, 1.0).is_err());
        assert!(Knob::new("x", 0.0, 1.0).unwrap().with_step(0.0).is_err());
        assert!(
            Knob::new("x", 0.0, 1.0)
                .unwrap()
                .with_curve(Curve::Power(-1.0))
                .is_err()
        );
    }
}

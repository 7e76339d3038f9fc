//! An animated particle field: structure of arrays, updated in parallel
//! chunks, no allocation per frame.
//!
//! Animation modes place each particle as a function of its rest position,
//! time and a complexity parameter (no state, so any frame can be computed
//! directly); the physics mode integrates velocities under a softened
//! gravity well with damping inside reflecting bounds.
//!
//! ```
//! use vivace_particles::field::{FieldMode, FieldParams, ParticleField};
//! let mut field = ParticleField::random(10_000, 7).unwrap();
//! let params = FieldParams { mode: FieldMode::Swirl, ..FieldParams::default() };
//! for frame in 0..3 {
//!     field.update(&params, frame as f32 / 60.0, 1.0 / 60.0).unwrap();
//! }
//! assert!(field.x().iter().all(|v| v.is_finite()));
//! ```

use rayon::prelude::*;

use crate::Error;
use crate::ic::Rng;

/// How particles move.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldMode {
    /// Vertical waves travelling across the field.
    Wave,
    /// Differential rotation about the y axis, faster outside, with a bob.
    Swirl,
    /// Each particle on a Kepler-like circle about the origin, tilted by
    /// complexity.
    Orbit,
    /// Velocities integrated under a gravity well, with damping and bounds.
    Physics,
}

/// Settings of a field update.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FieldParams {
    /// The mode.
    pub mode: FieldMode,
    /// Detail of the motion (≥ 0): wave frequency, swirl shear, orbit tilt.
    pub complexity: f32,
    /// Size of the motion (animation modes).
    pub amplitude: f32,
    /// Physics: centre of the gravity well.
    pub well: [f32; 3],
    /// Physics: strength of the well (≥ 0).
    pub well_strength: f32,
    /// Physics: softening of the well (> 0).
    pub well_softening: f32,
    /// Physics: velocity damping per second (≥ 0).
    pub damping: f32,
    /// Physics: particles reflect off the cube [−bounds, bounds]³ (> 0).
    pub bounds: f32,
}

impl Default for FieldParams {
    fn default() -> Self {
        FieldParams {
            mode: FieldMode::Wave,
            complexity: 1.0,
            amplitude: 0.2,
            well: [0.0; 3],
            well_strength: 1.0,
            well_softening: 0.1,
            damping: 0.1,
            bounds: 2.0,
        }
    }
}

impl FieldParams {
    /// Checks every field.
    pub fn validate(&self) -> Result<(), Error> {
        let finite_non_negative = |name, v: f32| {
            if v.is_finite() && v >= 0.0 {
                Ok(())
            } else {
                Err(Error::invalid(
                    name,
                    format!("must be finite and >= 0, got {v}"),
                ))
            }
        };
        finite_non_negative("complexity", self.complexity)?;
        finite_non_negative("amplitude", self.amplitude)?;
        finite_non_negative("well_strength", self.well_strength)?;
        finite_non_negative("damping", self.damping)?;
        crate::error::check_positive("well_softening", f64::from(self.well_softening))?;
        crate::error::check_positive("bounds", f64::from(self.bounds))?;
        if !self.well.iter().all(|v| v.is_finite()) {
            return Err(Error::invalid("well", "must be finite"));
        }
        Ok(())
    }
}

/// Particles per parallel task (the origin sent chunks of ≥ 1,000 to its
/// workers; here a task is a slice, not a message).
pub const MIN_CHUNK: usize = 4096;

/// A particle field: rest positions, current positions and velocities.
#[derive(Debug, Clone)]
pub struct ParticleField {
    rest: [Vec<f32>; 3],
    pos: [Vec<f32>; 3],
    vel: [Vec<f32>; 3],
}

impl ParticleField {
    /// `n` particles at rest, uniform in [−1, 1]³ (seeded).
    pub fn random(n: usize, seed: u64) -> Result<Self, Error> {
        let mut rng = Rng::new(seed);
        let mut axis = || {
            (0..n)
                .map(|_| (2.0 * rng.unit() - 1.0) as f32)
                .collect::<Vec<_>>()
        };
        let rest = [axis(), axis(), axis()];
        Ok(ParticleField {
            pos: rest.clone(),
            vel: [vec![0.0; n], vec![0.0; n], vec![0.0; n]],
            rest,
        })
    }

    /// Number of particles.
    pub fn len(&self) -> usize {
        self.rest[0].len()
    }

    /// Whether empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Current x positions.
    pub fn x(&self) -> &[f32] {
        &self.pos[0]
    }
    /// Current y positions.
    pub fn y(&self) -> &[f32] {
        &self.pos[1]
    }
    /// Current z positions.
    pub fn z(&self) -> &[f32] {
        &self.pos[2]
    }

    /// Advances the field to `time` (animation modes) or by `dt` (physics),
    /// in parallel chunks of at least [`MIN_CHUNK`]. Allocates nothing when
    /// run inside the rayon pool (a frame loop in `ThreadPool::install`,
    /// after each worker has stolen once); from a thread outside the pool,
    /// rayon's global injector allocates one small block per 63 calls.
    pub fn update(&mut self, params: &FieldParams, time: f32, dt: f32) -> Result<(), Error> {
        self.update_first(self.len(), params, time, dt)
    }

    /// Like [`ParticleField::update`], for the first `count` particles only
    /// (at most all): a quality knob can scale the work without
    /// reallocating the field.
    pub fn update_first(
        &mut self,
        count: usize,
        params: &FieldParams,
        time: f32,
        dt: f32,
    ) -> Result<(), Error> {
        params.validate()?;
        let count = count.min(self.len());
        if !time.is_finite() {
            return Err(Error::invalid("time", "must be finite"));
        }
        if !(dt.is_finite() && dt >= 0.0) {
            return Err(Error::invalid(
                "dt",
                format!("must be finite and >= 0, got {dt}"),
            ));
        }
        let p = *params;
        let [rx, ry, rz] = &self.rest;
        let [px, py, pz] = &mut self.pos;
        let [vx, vy, vz] = &mut self.vel;
        let (px, py, pz) = (&mut px[..count], &mut py[..count], &mut pz[..count]);
        let (vx, vy, vz) = (&mut vx[..count], &mut vy[..count], &mut vz[..count]);
        px.par_chunks_mut(MIN_CHUNK)
            .zip(py.par_chunks_mut(MIN_CHUNK))
            .zip(pz.par_chunks_mut(MIN_CHUNK))
            .zip(vx.par_chunks_mut(MIN_CHUNK))
            .zip(vy.par_chunks_mut(MIN_CHUNK))
            .zip(vz.par_chunks_mut(MIN_CHUNK))
            .enumerate()
            .for_each(|(chunk, (((((px, py), pz), vx), vy), vz))| {
                let start = chunk * MIN_CHUNK;
                let end = start + px.len();
                let rest = (&rx[start..end], &ry[start..end], &rz[start..end]);
                match p.mode {
                    FieldMode::Wave => wave(&p, time, rest, px, py, pz),
                    FieldMode::Swirl => swirl(&p, time, rest, px, py, pz),
                    FieldMode::Orbit => orbit(&p, time, rest, px, py, pz),
                    FieldMode::Physics => physics(&p, dt, (px, py, pz), (vx, vy, vz)),
                }
            });
        Ok(())
    }
}

type Rest<'a> = (&'a [f32], &'a [f32], &'a [f32]);

fn wave(
    p: &FieldParams,
    t: f32,
    (rx, ry, rz): Rest<'_>,
    px: &mut [f32],
    py: &mut [f32],
    pz: &mut [f32],
) {
    let k = std::f32::consts::PI * (1.0 + p.complexity);
    for i in 0..px.len() {
        px[i] = rx[i];
        pz[i] = rz[i];
        py[i] = ry[i] + p.amplitude * (k * rx[i] + 2.0 * t).sin() * (k * rz[i] + 1.3 * t).cos();
    }
}

fn swirl(
    p: &FieldParams,
    t: f32,
    (rx, ry, rz): Rest<'_>,
    px: &mut [f32],
    py: &mut [f32],
    pz: &mut [f32],
) {
    for i in 0..px.len() {
        let r = (rx[i] * rx[i] + rz[i] * rz[i]).sqrt();
        let angle = t * (1.0 + p.complexity * r);
        let (s, c) = angle.sin_cos();
        px[i] = c * rx[i] - s * rz[i];
        pz[i] = s * rx[i] + c * rz[i];
        py[i] = ry[i] + p.amplitude * (3.0 * r - 2.0 * t).sin();
    }
}

fn orbit(
    p: &FieldParams,
    t: f32,
    (rx, ry, rz): Rest<'_>,
    px: &mut [f32],
    py: &mut [f32],
    pz: &mut [f32],
) {
    for i in 0..px.len() {
        let r = (rx[i] * rx[i] + ry[i] * ry[i] + rz[i] * rz[i])
            .sqrt()
            .max(0.05);
        // Angular speed ∝ r^(-3/2) (Kepler), starting from the rest angle.
        let angle = rz[i].atan2(rx[i]) + t / (r * r.sqrt());
        let tilt = p.complexity * 0.3 * ry[i];
        let (s, c) = angle.sin_cos();
        px[i] = r * c;
        pz[i] = r * s;
        py[i] = ry[i] * (1.0 - p.amplitude) + r * tilt.sin() * s;
    }
}

fn physics(
    p: &FieldParams,
    dt: f32,
    (px, py, pz): (&mut [f32], &mut [f32], &mut [f32]),
    (vx, vy, vz): (&mut [f32], &mut [f32], &mut [f32]),
) {
    let soft2 = p.well_softening * p.well_softening;
    let keep = (-p.damping * dt).exp();
    for i in 0..px.len() {
        let d = [p.well[0] - px[i], p.well[1] - py[i], p.well[2] - pz[i]];
        let r2 = d[0] * d[0] + d[1] * d[1] + d[2] * d[2] + soft2;
        let s = p.well_strength / (r2 * r2.sqrt());
        // Semi-implicit Euler: velocity first, then position with it.
        vx[i] = (vx[i] + s * d[0] * dt) * keep;
        vy[i] = (vy[i] + s * d[1] * dt) * keep;
        vz[i] = (vz[i] + s * d[2] * dt) * keep;
        for (x, v) in [
            (&mut px[i], &mut vx[i]),
            (&mut py[i], &mut vy[i]),
            (&mut pz[i], &mut vz[i]),
        ] {
            *x += *v * dt;
            if *x > p.bounds {
                *x = 2.0 * p.bounds - *x;
                *v = -*v;
            } else if *x < -p.bounds {
                *x = -2.0 * p.bounds - *x;
                *v = -*v;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn animation_modes_are_pure_functions_of_time() {
        for mode in [FieldMode::Wave, FieldMode::Swirl, FieldMode::Orbit] {
            let params = FieldParams {
                mode,
                complexity: 2.0,
                ..FieldParams::default()
            };
            let mut a = ParticleField::random(10_000, 3).unwrap();
            let mut b = a.clone();
            for frame in 0..5 {
                a.update(&params, frame as f32 * 0.1, 0.1).unwrap();
            }
            b.update(&params, 0.4, 0.1).unwrap();
            assert_eq!(a.x(), b.x(), "{mode:?}");
            assert_eq!(a.y(), b.y(), "{mode:?}");
        }
    }

    #[test]
    fn swirl_preserves_the_distance_to_the_axis() {
        let params = FieldParams {
            mode: FieldMode::Swirl,
            ..FieldParams::default()
        };
        let mut f = ParticleField::random(5000, 4).unwrap();
        f.update(&params, 1.7, 0.0).unwrap();
        for i in 0..f.len() {
            let before = f.rest[0][i].hypot(f.rest[2][i]);
            let after = f.x()[i].hypot(f.z()[i]);
            assert!((before - after).abs() < 1e-5);
        }
    }

    #[test]
    fn physics_stays_in_bounds_and_falls_toward_the_well() {
        let params = FieldParams {
            mode: FieldMode::Physics,
            bounds: 1.5,
            damping: 0.5,
            ..FieldParams::default()
        };
        let mut f = ParticleField::random(20_000, 5).unwrap();
        let spread = |f: &ParticleField| {
            f.x()
                .iter()
                .zip(f.y())
                .zip(f.z())
                .map(|((x, y), z)| x * x + y * y + z * z)
                .sum::<f32>()
        };
        let before = spread(&f);
        for _ in 0..120 {
            f.update(&params, 0.0, 1.0 / 60.0).unwrap();
        }
        assert!(
            f.x()
                .iter()
                .chain(f.y())
                .chain(f.z())
                .all(|v| v.abs() <= 1.5 + 1e-4)
        );
        assert!(spread(&f) < before);
    }

    #[test]
    fn bad_parameters_are_errors() {
        let mut f = ParticleField::random(10, 1).unwrap();
        let bad = FieldParams {
            well_softening: 0.0,
            ..FieldParams::default()
        };
        assert!(f.update(&bad, 0.0, 0.1).is_err());
        assert!(f.update(&FieldParams::default(), f32::NAN, 0.1).is_err());
        assert!(f.update(&FieldParams::default(), 0.0, -1.0).is_err());
    }
}

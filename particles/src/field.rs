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
use vivace_backend::{Backend, BackendKind};

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
///
/// Two backends: [`BackendKind::Scalar`] evaluates the animation with the
/// standard library's `sin`/`cos`/`atan2` (the reference), and SIMD (AVX2+FMA
/// or SSE4.1, chosen at run time) uses branch-free polynomial `sin`/`cos`
/// (error < 1e-6) and per-particle constants precomputed at construction,
/// compiled for the detected instruction set so the loops vectorise.
#[derive(Debug, Clone)]
pub struct ParticleField {
    rest: [Vec<f32>; 3],
    pos: [Vec<f32>; 3],
    vel: [Vec<f32>; 3],
    /// Per particle: distance to the y axis, orbit radius, orbit phase and
    /// orbit angular speed (constants of the rest position).
    derived: [Vec<f32>; 4],
    kind: BackendKind,
}

impl ParticleField {
    /// `n` particles at rest, uniform in [−1, 1]³ (seeded), on the best
    /// SIMD level this CPU has (else scalar).
    pub fn random(n: usize, seed: u64) -> Result<Self, Error> {
        let kind = fast::best_level().map_or(BackendKind::Scalar, BackendKind::Simd);
        ParticleField::random_on(n, seed, kind)
    }

    /// Like [`ParticleField::random`] on a given backend: `Scalar`, or a
    /// SIMD level this CPU has (AVX2+FMA or SSE4.1).
    pub fn random_on(n: usize, seed: u64, kind: BackendKind) -> Result<Self, Error> {
        match kind {
            BackendKind::Scalar => {}
            BackendKind::Simd(level) if fast::supported(level) => {}
            other => {
                return Err(Error::invalid(
                    "backend",
                    format!("the particle field has no {other} kernel on this CPU"),
                ));
            }
        }
        let mut rng = Rng::new(seed);
        let mut axis = || {
            (0..n)
                .map(|_| (2.0 * rng.unit() - 1.0) as f32)
                .collect::<Vec<_>>()
        };
        let rest = [axis(), axis(), axis()];
        let [rx, ry, rz] = &rest;
        let axis_distance: Vec<f32> = (0..n).map(|i| rx[i].hypot(rz[i])).collect();
        let radius: Vec<f32> = (0..n)
            .map(|i| {
                (rx[i] * rx[i] + ry[i] * ry[i] + rz[i] * rz[i])
                    .sqrt()
                    .max(0.05)
            })
            .collect();
        let phase: Vec<f32> = (0..n).map(|i| rz[i].atan2(rx[i])).collect();
        let omega: Vec<f32> = radius.iter().map(|r| 1.0 / (r * r.sqrt())).collect();
        Ok(ParticleField {
            pos: rest.clone(),
            vel: [vec![0.0; n], vec![0.0; n], vec![0.0; n]],
            derived: [axis_distance, radius, phase, omega],
            rest,
            kind,
        })
    }

    /// The backend the animation modes run on.
    pub fn kind(&self) -> BackendKind {
        self.kind
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
        let [axis, radius, phase, omega] = &self.derived;
        let kind = self.kind;
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
                let derived = fast::Derived {
                    axis: &axis[start..end],
                    radius: &radius[start..end],
                    phase: &phase[start..end],
                    omega: &omega[start..end],
                };
                match (p.mode, kind) {
                    (FieldMode::Physics, _) => physics(&p, dt, (px, py, pz), (vx, vy, vz)),
                    (mode, BackendKind::Simd(level)) => {
                        fast::animate(level, mode, &p, time, rest, &derived, px, py, pz)
                    }
                    (FieldMode::Wave, _) => wave(&p, time, rest, px, py, pz),
                    (FieldMode::Swirl, _) => swirl(&p, time, rest, px, py, pz),
                    (FieldMode::Orbit, _) => orbit(&p, time, rest, px, py, pz),
                }
            });
        Ok(())
    }
}

impl Backend for ParticleField {
    fn kind(&self) -> BackendKind {
        self.kind
    }
    fn name(&self) -> String {
        format!(
            "particle field ({} × {} threads)",
            self.kind,
            rayon::current_num_threads()
        )
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

/// The SIMD animation kernels: branch-free polynomial trigonometry over
/// precomputed per-particle constants, compiled per instruction set.
mod fast {
    use super::{FieldMode, FieldParams, Rest};
    use vivace_backend::SimdLevel;

    /// Per-particle constants of the rest position, for one chunk.
    pub(super) struct Derived<'a> {
        pub(super) axis: &'a [f32],
        pub(super) radius: &'a [f32],
        pub(super) phase: &'a [f32],
        pub(super) omega: &'a [f32],
    }

    pub(super) fn supported(level: SimdLevel) -> bool {
        cfg!(any(target_arch = "x86", target_arch = "x86_64"))
            && matches!(level, SimdLevel::Avx2Fma | SimdLevel::Sse41)
            && level.is_available()
    }

    pub(super) fn best_level() -> Option<SimdLevel> {
        [SimdLevel::Avx2Fma, SimdLevel::Sse41]
            .into_iter()
            .find(|&l| supported(l))
    }

    /// sin(x) to within 2e-7 plus the rounding of `x` itself: Cody–Waite
    /// reduction by 2π (split so `n·C1` is exact), a fold into [0, π/2],
    /// and the odd Taylor polynomial to θ¹¹. No branches, no tables, no
    /// fused multiply-add (so it vectorises at every level).
    #[inline(always)]
    pub(super) fn sin(x: f32) -> f32 {
        // 1.5 × 2²³: adding and subtracting it rounds to the nearest integer.
        const ROUND: f32 = 12_582_912.0;
        // 2π = C1 + C2 with C1 = 6.28125 exact in 9 bits.
        const C1: f32 = 6.28125;
        const C2: f32 = 0.001_935_307_2;
        let n = (x * (0.5 * std::f32::consts::FRAC_1_PI) + ROUND) - ROUND;
        let r = (x - n * C1) - n * C2; // in [-π, π]
        let half_pi = std::f32::consts::FRAC_PI_2;
        let t = half_pi - (r.abs() - half_pi).abs(); // sin(π − θ) = sin θ
        let t2 = t * t;
        let p = -1.0 / 39_916_800.0f32;
        let p = p * t2 + 1.0 / 362_880.0;
        let p = p * t2 - 1.0 / 5040.0;
        let p = p * t2 + 1.0 / 120.0;
        let p = p * t2 - 1.0 / 6.0;
        let p = p * t2 + 1.0;
        (p * t).copysign(r)
    }

    #[inline(always)]
    fn cos(x: f32) -> f32 {
        sin(x + std::f32::consts::FRAC_PI_2)
    }

    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    fn animate_with(
        mode: FieldMode,
        p: &FieldParams,
        t: f32,
        (rx, ry, rz): Rest<'_>,
        d: &Derived<'_>,
        px: &mut [f32],
        py: &mut [f32],
        pz: &mut [f32],
    ) {
        let n = px.len().min(py.len()).min(pz.len()).min(rx.len());
        let (rx, ry, rz) = (&rx[..n], &ry[..n], &rz[..n]);
        let (px, py, pz) = (&mut px[..n], &mut py[..n], &mut pz[..n]);
        match mode {
            FieldMode::Wave => {
                let k = std::f32::consts::PI * (1.0 + p.complexity);
                for i in 0..n {
                    px[i] = rx[i];
                    pz[i] = rz[i];
                    py[i] =
                        ry[i] + p.amplitude * sin(k * rx[i] + 2.0 * t) * cos(k * rz[i] + 1.3 * t);
                }
            }
            FieldMode::Swirl => {
                let axis = &d.axis[..n];
                for i in 0..n {
                    let angle = t * (1.0 + p.complexity * axis[i]);
                    let (s, c) = (sin(angle), cos(angle));
                    px[i] = c * rx[i] - s * rz[i];
                    pz[i] = s * rx[i] + c * rz[i];
                    py[i] = ry[i] + p.amplitude * sin(3.0 * axis[i] - 2.0 * t);
                }
            }
            FieldMode::Orbit | FieldMode::Physics => {
                let (radius, phase, omega) = (&d.radius[..n], &d.phase[..n], &d.omega[..n]);
                for i in 0..n {
                    let angle = phase[i] + t * omega[i];
                    let (s, c) = (sin(angle), cos(angle));
                    let tilt = p.complexity * 0.3 * ry[i];
                    px[i] = radius[i] * c;
                    pz[i] = radius[i] * s;
                    py[i] = ry[i] * (1.0 - p.amplitude) + radius[i] * sin(tilt) * s;
                }
            }
        }
    }

    #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
    #[allow(clippy::too_many_arguments)]
    #[target_feature(enable = "avx2,fma")]
    fn animate_avx2(
        mode: FieldMode,
        p: &FieldParams,
        t: f32,
        rest: Rest<'_>,
        d: &Derived<'_>,
        px: &mut [f32],
        py: &mut [f32],
        pz: &mut [f32],
    ) {
        animate_with(mode, p, t, rest, d, px, py, pz)
    }

    #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
    #[allow(clippy::too_many_arguments)]
    #[target_feature(enable = "sse4.1")]
    fn animate_sse41(
        mode: FieldMode,
        p: &FieldParams,
        t: f32,
        rest: Rest<'_>,
        d: &Derived<'_>,
        px: &mut [f32],
        py: &mut [f32],
        pz: &mut [f32],
    ) {
        animate_with(mode, p, t, rest, d, px, py, pz)
    }

    /// Runs the animation for `level`, which a field only holds after
    /// `supported(level)` said yes at construction.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn animate(
        level: SimdLevel,
        mode: FieldMode,
        p: &FieldParams,
        t: f32,
        rest: Rest<'_>,
        d: &Derived<'_>,
        px: &mut [f32],
        py: &mut [f32],
        pz: &mut [f32],
    ) {
        #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
        match level {
            // SAFETY: the field's constructor checked `supported(level)`,
            // i.e. this CPU has AVX2 and FMA.
            SimdLevel::Avx2Fma => unsafe { animate_avx2(mode, p, t, rest, d, px, py, pz) },
            // SAFETY: as above, SSE4.1.
            _ => unsafe { animate_sse41(mode, p, t, rest, d, px, py, pz) },
        }
        #[cfg(not(any(target_arch = "x86", target_arch = "x86_64")))]
        {
            let _ = level;
            animate_with(mode, p, t, rest, d, px, py, pz)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_sin_is_within_1e_minus_6_of_f64_sin() {
        let mut worst = 0.0f64;
        let mut x = -200.0f32;
        while x < 200.0 {
            let err = (f64::from(fast::sin(x)) - f64::from(x).sin()).abs();
            worst = worst.max(err);
            x += 0.00731;
        }
        assert!(worst < 1e-6, "{worst:e}");
    }

    #[test]
    fn simd_backends_match_scalar() {
        let levels: Vec<_> = [
            vivace_backend::SimdLevel::Avx2Fma,
            vivace_backend::SimdLevel::Sse41,
        ]
        .into_iter()
        .filter(|&l| fast::supported(l))
        .collect();
        for mode in [
            FieldMode::Wave,
            FieldMode::Swirl,
            FieldMode::Orbit,
            FieldMode::Physics,
        ] {
            let params = FieldParams {
                mode,
                complexity: 2.0,
                ..FieldParams::default()
            };
            let mut reference = ParticleField::random_on(9_000, 6, BackendKind::Scalar).unwrap();
            reference.update(&params, 3.7, 0.01).unwrap();
            for &level in &levels {
                let mut f = ParticleField::random_on(9_000, 6, BackendKind::Simd(level)).unwrap();
                f.update(&params, 3.7, 0.01).unwrap();
                for (a, b) in [
                    (f.x(), reference.x()),
                    (f.y(), reference.y()),
                    (f.z(), reference.z()),
                ] {
                    for (u, v) in a.iter().zip(b) {
                        assert!((u - v).abs() < 2e-5, "{mode:?} {level}: {u} vs {v}");
                    }
                }
            }
        }
        assert!(ParticleField::random_on(10, 1, BackendKind::Gpu).is_err());
    }

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

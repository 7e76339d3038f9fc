//! Direct-sum gravity: every pair, O(N²), with Plummer softening.
//!
//! a_i = G Σ_j m_j r_ij / (|r_ij|² + ε²)^{3/2}. With ε > 0 the self term
//! (r_ii = 0) contributes exactly zero, so no kernel branches on i = j.

use rayon::prelude::*;
use vivace_backend::{Backend, BackendKind, SimdLevel, Unavailable};

use crate::error::check_positive;
use crate::{Accelerations, Bodies, Error};

/// Gravitational constant and softening length.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Gravity {
    /// G (finite, ≥ 0).
    pub g: f32,
    /// Plummer softening ε (> 0).
    pub softening: f32,
}

impl Gravity {
    /// Validated parameters.
    pub fn new(g: f32, softening: f32) -> Result<Self, Error> {
        if !(g.is_finite() && g >= 0.0) {
            return Err(Error::invalid(
                "G",
                format!("must be finite and >= 0, got {g}"),
            ));
        }
        check_positive("softening", f64::from(softening))?;
        Ok(Gravity { g, softening })
    }

    pub(crate) fn eps2(&self) -> f32 {
        self.softening * self.softening
    }
}

/// Something that computes accelerations for all bodies.
pub trait GravityKernel: Backend + Send {
    /// Fills `out` (resized to `bodies.len()`) with every body's
    /// acceleration.
    fn accelerations(
        &mut self,
        bodies: &Bodies,
        gravity: &Gravity,
        out: &mut Accelerations,
    ) -> Result<(), Error>;
}

impl<K: GravityKernel + ?Sized> GravityKernel for Box<K> {
    fn accelerations(
        &mut self,
        bodies: &Bodies,
        gravity: &Gravity,
        out: &mut Accelerations,
    ) -> Result<(), Error> {
        (**self).accelerations(bodies, gravity, out)
    }
}

/// Σ_j m_j d / (|d|² + ε²)^{3/2} for body `i`, one pair at a time with
/// `1 / sqrt`: the scalar reference, shared by the single and threaded
/// scalar kernels.
fn pair_sum(bodies: &Bodies, i: usize, eps2: f32) -> [f32; 3] {
    let (xi, yi, zi) = (bodies.x[i], bodies.y[i], bodies.z[i]);
    let mut a = [0.0f32; 3];
    for j in 0..bodies.len() {
        let d = [bodies.x[j] - xi, bodies.y[j] - yi, bodies.z[j] - zi];
        let r2 = d[0] * d[0] + d[1] * d[1] + d[2] * d[2] + eps2;
        let inv = 1.0 / r2.sqrt();
        let s = bodies.m[j] * inv * inv * inv;
        for k in 0..3 {
            a[k] += s * d[k];
        }
    }
    a
}

/// The scalar reference: one pair at a time, `1 / sqrt`.
#[derive(Debug, Clone, Copy, Default)]
pub struct ScalarDirect;

impl Backend for ScalarDirect {
    fn kind(&self) -> BackendKind {
        BackendKind::Scalar
    }
    fn name(&self) -> String {
        "direct sum (scalar)".into()
    }
}

impl GravityKernel for ScalarDirect {
    fn accelerations(
        &mut self,
        bodies: &Bodies,
        gravity: &Gravity,
        out: &mut Accelerations,
    ) -> Result<(), Error> {
        bodies.check_lengths()?;
        let n = bodies.len();
        out.resize(n);
        let eps2 = gravity.eps2();
        for i in 0..n {
            [out.ax[i], out.ay[i], out.az[i]] = pair_sum(bodies, i, eps2).map(|a| gravity.g * a);
        }
        Ok(())
    }
}

/// Bodies per parallel task: big enough to amortise scheduling, small
/// enough to balance two to hundreds of cores.
const TASK_BODIES: usize = 256;

/// Direct sum on SIMD (`rsqrt` + one Newton step), optionally across all
/// cores with rayon.
///
/// Vectorised over `i` (8 bodies per AVX2 register, 4 per SSE4.1), two
/// registers per `j` for instruction-level parallelism; `j` is broadcast.
#[derive(Debug, Clone)]
pub struct SimdDirect {
    level: SimdLevel,
    threaded: bool,
}

impl SimdDirect {
    /// Single-threaded kernels for `level`, if this CPU has it (x86: AVX2+FMA or SSE4.1).
    pub fn new(level: SimdLevel) -> Result<Self, Unavailable> {
        let kind = BackendKind::Simd(level);
        if let Some(reason) = level.unavailable_reason() {
            return Err(Unavailable::new(kind, reason));
        }
        if !matches!(level, SimdLevel::Avx2Fma | SimdLevel::Sse41) {
            return Err(Unavailable::new(
                kind,
                format!("no {level} N-body kernel yet"),
            ));
        }
        Ok(SimdDirect {
            level,
            threaded: false,
        })
    }

    /// The same kernels on every core (rayon), in tasks of 256 bodies.
    pub fn threaded(level: SimdLevel) -> Result<Self, Unavailable> {
        Ok(SimdDirect {
            threaded: true,
            ..SimdDirect::new(level)?
        })
    }

    /// The best level this CPU has.
    pub fn best(threaded: bool) -> Result<Self, Unavailable> {
        let build = if threaded {
            SimdDirect::threaded
        } else {
            SimdDirect::new
        };
        build(SimdLevel::Avx2Fma).or_else(|_| build(SimdLevel::Sse41))
    }

    /// The SIMD level.
    pub fn level(&self) -> SimdLevel {
        self.level
    }
}

impl Backend for SimdDirect {
    fn kind(&self) -> BackendKind {
        BackendKind::Simd(self.level)
    }
    fn name(&self) -> String {
        if self.threaded {
            format!(
                "direct sum ({} × {} threads)",
                self.level,
                rayon::current_num_threads()
            )
        } else {
            format!("direct sum ({})", self.level)
        }
    }
}

impl GravityKernel for SimdDirect {
    fn accelerations(
        &mut self,
        bodies: &Bodies,
        gravity: &Gravity,
        out: &mut Accelerations,
    ) -> Result<(), Error> {
        bodies.check_lengths()?;
        let n = bodies.len();
        out.resize(n);
        let level = self.level;
        let run = |start: usize, ax: &mut [f32], ay: &mut [f32], az: &mut [f32]| {
            simd::range(level, bodies, gravity, start, ax, ay, az);
        };
        if self.threaded {
            out.ax
                .par_chunks_mut(TASK_BODIES)
                .zip(out.ay.par_chunks_mut(TASK_BODIES))
                .zip(out.az.par_chunks_mut(TASK_BODIES))
                .enumerate()
                .for_each(|(task, ((ax, ay), az))| run(task * TASK_BODIES, ax, ay, az));
        } else {
            run(0, &mut out.ax, &mut out.ay, &mut out.az);
        }
        Ok(())
    }
}

/// Scalar kernels on every core, for CPUs without a SIMD level here.
#[derive(Debug, Clone, Copy, Default)]
pub struct ThreadedScalarDirect;

impl Backend for ThreadedScalarDirect {
    fn kind(&self) -> BackendKind {
        BackendKind::Scalar
    }
    fn name(&self) -> String {
        format!(
            "direct sum (scalar × {} threads)",
            rayon::current_num_threads()
        )
    }
}

impl GravityKernel for ThreadedScalarDirect {
    fn accelerations(
        &mut self,
        bodies: &Bodies,
        gravity: &Gravity,
        out: &mut Accelerations,
    ) -> Result<(), Error> {
        bodies.check_lengths()?;
        let n = bodies.len();
        out.resize(n);
        let eps2 = gravity.eps2();
        out.ax
            .par_iter_mut()
            .zip(out.ay.par_iter_mut())
            .zip(out.az.par_iter_mut())
            .enumerate()
            .with_min_len(TASK_BODIES)
            .for_each(|(i, ((ax, ay), az))| {
                [*ax, *ay, *az] = pair_sum(bodies, i, eps2).map(|a| gravity.g * a);
            });
        Ok(())
    }
}

#[cfg(not(any(target_arch = "x86", target_arch = "x86_64")))]
mod simd {
    use super::*;
    /// `SimdDirect::new` fails on other architectures, so this is unreachable.
    pub(super) fn range(
        _: SimdLevel,
        _: &Bodies,
        _: &Gravity,
        _: usize,
        _: &mut [f32],
        _: &mut [f32],
        _: &mut [f32],
    ) {
        unreachable!("SimdDirect cannot be built on this architecture")
    }
}

#[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
mod simd {
    #[cfg(target_arch = "x86")]
    use std::arch::x86::*;
    #[cfg(target_arch = "x86_64")]
    use std::arch::x86_64::*;

    use super::{Bodies, Gravity, SimdLevel};

    /// A vector of f32 lanes; `unsafe` because the caller must have proven
    /// the instruction set.
    trait Lanes: Copy {
        const N: usize;
        unsafe fn splat(v: f32) -> Self;
        unsafe fn load(p: *const f32) -> Self;
        unsafe fn store(self, p: *mut f32);
        unsafe fn sub(a: Self, b: Self) -> Self;
        unsafe fn mul(a: Self, b: Self) -> Self;
        /// a·b + c.
        unsafe fn mul_add(a: Self, b: Self, c: Self) -> Self;
        /// ≈ 1/√x to 12 bits.
        unsafe fn rsqrt(x: Self) -> Self;
    }

    #[derive(Clone, Copy)]
    struct Avx(__m256);
    #[derive(Clone, Copy)]
    struct Sse(__m128);

    impl Lanes for Avx {
        const N: usize = 8;
        #[inline(always)]
        unsafe fn splat(v: f32) -> Self {
            // SAFETY: AVX proven by the caller.
            unsafe { Avx(_mm256_set1_ps(v)) }
        }
        #[inline(always)]
        unsafe fn load(p: *const f32) -> Self {
            // SAFETY: the caller guarantees 8 readable values.
            unsafe { Avx(_mm256_loadu_ps(p)) }
        }
        #[inline(always)]
        unsafe fn store(self, p: *mut f32) {
            // SAFETY: the caller guarantees 8 writable values.
            unsafe { _mm256_storeu_ps(p, self.0) }
        }
        #[inline(always)]
        unsafe fn sub(a: Self, b: Self) -> Self {
            // SAFETY: AVX proven by the caller.
            unsafe { Avx(_mm256_sub_ps(a.0, b.0)) }
        }
        #[inline(always)]
        unsafe fn mul(a: Self, b: Self) -> Self {
            // SAFETY: AVX proven by the caller.
            unsafe { Avx(_mm256_mul_ps(a.0, b.0)) }
        }
        #[inline(always)]
        unsafe fn mul_add(a: Self, b: Self, c: Self) -> Self {
            // SAFETY: FMA proven by the caller.
            unsafe { Avx(_mm256_fmadd_ps(a.0, b.0, c.0)) }
        }
        #[inline(always)]
        unsafe fn rsqrt(x: Self) -> Self {
            // SAFETY: AVX proven by the caller.
            unsafe { Avx(_mm256_rsqrt_ps(x.0)) }
        }
    }

    impl Lanes for Sse {
        const N: usize = 4;
        #[inline(always)]
        unsafe fn splat(v: f32) -> Self {
            // SAFETY: SSE is baseline where SSE4.1 was proven.
            unsafe { Sse(_mm_set1_ps(v)) }
        }
        #[inline(always)]
        unsafe fn load(p: *const f32) -> Self {
            // SAFETY: the caller guarantees 4 readable values.
            unsafe { Sse(_mm_loadu_ps(p)) }
        }
        #[inline(always)]
        unsafe fn store(self, p: *mut f32) {
            // SAFETY: the caller guarantees 4 writable values.
            unsafe { _mm_storeu_ps(p, self.0) }
        }
        #[inline(always)]
        unsafe fn sub(a: Self, b: Self) -> Self {
            // SAFETY: SSE proven by the caller.
            unsafe { Sse(_mm_sub_ps(a.0, b.0)) }
        }
        #[inline(always)]
        unsafe fn mul(a: Self, b: Self) -> Self {
            // SAFETY: SSE proven by the caller.
            unsafe { Sse(_mm_mul_ps(a.0, b.0)) }
        }
        #[inline(always)]
        unsafe fn mul_add(a: Self, b: Self, c: Self) -> Self {
            // SAFETY: SSE proven by the caller; no FMA at this level.
            unsafe { Sse(_mm_add_ps(_mm_mul_ps(a.0, b.0), c.0)) }
        }
        #[inline(always)]
        unsafe fn rsqrt(x: Self) -> Self {
            // SAFETY: SSE proven by the caller.
            unsafe { Sse(_mm_rsqrt_ps(x.0)) }
        }
    }

    /// Registers of `i` bodies per pass over `j`.
    const UNROLL: usize = 2;

    /// Accelerations of bodies `start .. start + ax.len()`, written once over
    /// the lane type.
    #[inline(always)]
    unsafe fn range_with<V: Lanes>(
        bodies: &Bodies,
        gravity: &Gravity,
        start: usize,
        ax: &mut [f32],
        ay: &mut [f32],
        az: &mut [f32],
    ) {
        let n = bodies.len();
        let count = ax.len();
        let group = V::N * UNROLL;
        // SAFETY: the level was proven by the caller; every load and store
        // touches `group` ≤ 32 values of the on-stack arrays below, and every
        // broadcast reads index j < n of body arrays of length n (checked by
        // `range`).
        unsafe {
            let (eps2, half, three_halves) =
                (V::splat(gravity.eps2()), V::splat(0.5), V::splat(1.5));
            let g = V::splat(gravity.g);
            let mut first = 0;
            while first < count {
                let valid = (count - first).min(group);
                // Gather this group's positions (padding lanes repeat body
                // `start + first`; their results are dropped).
                let mut px = [0.0f32; 32];
                let mut py = [0.0f32; 32];
                let mut pz = [0.0f32; 32];
                for k in 0..group {
                    let i = start + first + k.min(valid - 1);
                    px[k] = bodies.x[i];
                    py[k] = bodies.y[i];
                    pz[k] = bodies.z[i];
                }
                let mut xi = [V::splat(0.0); UNROLL];
                let mut yi = xi;
                let mut zi = xi;
                for u in 0..UNROLL {
                    xi[u] = V::load(px.as_ptr().add(u * V::N));
                    yi[u] = V::load(py.as_ptr().add(u * V::N));
                    zi[u] = V::load(pz.as_ptr().add(u * V::N));
                }
                let mut sx = [V::splat(0.0); UNROLL];
                let mut sy = sx;
                let mut sz = sx;
                for j in 0..n {
                    let xj = V::splat(*bodies.x.get_unchecked(j));
                    let yj = V::splat(*bodies.y.get_unchecked(j));
                    let zj = V::splat(*bodies.z.get_unchecked(j));
                    let mj = V::splat(*bodies.m.get_unchecked(j));
                    for u in 0..UNROLL {
                        let dx = V::sub(xj, xi[u]);
                        let dy = V::sub(yj, yi[u]);
                        let dz = V::sub(zj, zi[u]);
                        let r2 = V::mul_add(dx, dx, V::mul_add(dy, dy, V::mul_add(dz, dz, eps2)));
                        // rsqrt to 12 bits, one Newton step to ~23:
                        // y ← y (1.5 − 0.5 r² y²).
                        let y = V::rsqrt(r2);
                        let y = V::mul(
                            y,
                            V::sub(three_halves, V::mul(V::mul(half, r2), V::mul(y, y))),
                        );
                        let s = V::mul(mj, V::mul(y, V::mul(y, y)));
                        sx[u] = V::mul_add(s, dx, sx[u]);
                        sy[u] = V::mul_add(s, dy, sy[u]);
                        sz[u] = V::mul_add(s, dz, sz[u]);
                    }
                }
                let mut ox = [0.0f32; 32];
                let mut oy = [0.0f32; 32];
                let mut oz = [0.0f32; 32];
                for u in 0..UNROLL {
                    V::mul(g, sx[u]).store(ox.as_mut_ptr().add(u * V::N));
                    V::mul(g, sy[u]).store(oy.as_mut_ptr().add(u * V::N));
                    V::mul(g, sz[u]).store(oz.as_mut_ptr().add(u * V::N));
                }
                ax[first..first + valid].copy_from_slice(&ox[..valid]);
                ay[first..first + valid].copy_from_slice(&oy[..valid]);
                az[first..first + valid].copy_from_slice(&oz[..valid]);
                first += valid;
            }
        }
    }

    #[target_feature(enable = "avx2,fma")]
    fn range_avx2(
        bodies: &Bodies,
        gravity: &Gravity,
        start: usize,
        ax: &mut [f32],
        ay: &mut [f32],
        az: &mut [f32],
    ) {
        // SAFETY: only called where avx2+fma were detected.
        unsafe { range_with::<Avx>(bodies, gravity, start, ax, ay, az) }
    }

    #[target_feature(enable = "sse4.1")]
    fn range_sse41(
        bodies: &Bodies,
        gravity: &Gravity,
        start: usize,
        ax: &mut [f32],
        ay: &mut [f32],
        az: &mut [f32],
    ) {
        // SAFETY: only called where sse4.1 was detected.
        unsafe { range_with::<Sse>(bodies, gravity, start, ax, ay, az) }
    }

    /// Dispatch; `level` comes from a `SimdDirect`, whose constructor
    /// checked the CPU, and the three slices have equal lengths with
    /// `start + len <= bodies.len()`.
    pub(super) fn range(
        level: SimdLevel,
        bodies: &Bodies,
        gravity: &Gravity,
        start: usize,
        ax: &mut [f32],
        ay: &mut [f32],
        az: &mut [f32],
    ) {
        // Guaranteed by `SimdDirect::accelerations` (lengths checked, output
        // resized, chunks within it); the unchecked loads rely on them.
        assert!(ax.len() == ay.len() && ay.len() == az.len() && start + ax.len() <= bodies.len());
        assert!(
            bodies.x.len() == bodies.len()
                && bodies.y.len() == bodies.len()
                && bodies.z.len() == bodies.len()
        );
        match level {
            // SAFETY: `level` was checked by the `SimdDirect` constructor.
            SimdLevel::Avx2Fma => unsafe { range_avx2(bodies, gravity, start, ax, ay, az) },
            // SAFETY: as above.
            _ => unsafe { range_sse41(bodies, gravity, start, ax, ay, az) },
        }
    }
}

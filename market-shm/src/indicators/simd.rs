//! SIMD across series: each `f64` register holds the same state of 4
//! (AVX2) or 2 (SSE4.1) series, which advance bar by bar in lockstep.
//!
//! The kernels repeat the scalar `step` operation for operation, in the same
//! order and without fused multiply-add, so they agree with the scalar
//! reference bit for bit (up to the sign of zero in intermediate gains and
//! losses, which cannot reach an output). The kernels are reachable only
//! through [`SimdIndicators`], whose constructor checked the level.

use vivace_backend::{Backend, BackendKind, SimdLevel, Unavailable};

use super::{IndicatorKernel, IndicatorParams, IndicatorSeries, KlineHistory};
use crate::error::Error;

/// Levels with kernels here, best first.
pub(crate) const LEVELS: [SimdLevel; 2] = [SimdLevel::Avx2Fma, SimdLevel::Sse41];

/// The SIMD indicator kernel for one level.
#[derive(Clone, Copy, Debug)]
pub struct SimdIndicators {
    level: SimdLevel,
}

impl SimdIndicators {
    /// The kernel for `level`, if this CPU has it and there is a kernel.
    pub fn new(level: SimdLevel) -> Result<Self, Unavailable> {
        if !LEVELS.contains(&level) || !cfg!(any(target_arch = "x86", target_arch = "x86_64")) {
            return Err(Unavailable::new(
                BackendKind::Simd(level),
                format!("vivace-market-shm has no {level} indicator kernel"),
            ));
        }
        match level.unavailable_reason() {
            Some(reason) => Err(Unavailable::new(BackendKind::Simd(level), reason)),
            None => Ok(SimdIndicators { level }),
        }
    }

    /// The best level this CPU has a kernel for.
    pub fn best() -> Result<Self, Unavailable> {
        let mut last = None;
        for level in LEVELS {
            match SimdIndicators::new(level) {
                Ok(k) => return Ok(k),
                Err(e) => last = Some(e),
            }
        }
        Err(last.expect("LEVELS is not empty"))
    }

    /// The level.
    pub fn level(&self) -> SimdLevel {
        self.level
    }
}

impl Backend for SimdIndicators {
    fn kind(&self) -> BackendKind {
        BackendKind::Simd(self.level)
    }
    fn name(&self) -> String {
        format!("indicators ({})", self.level)
    }
}

impl IndicatorKernel for SimdIndicators {
    fn compute(
        &mut self,
        params: &IndicatorParams,
        history: &KlineHistory,
        out: &mut IndicatorSeries,
    ) -> Result<(), Error> {
        super::prepare(params, history, out)?;
        let done = imp::compute(self.level, params, history, out);
        super::scalar::compute_series(params, history, done..history.series(), out);
        Ok(())
    }
}

#[cfg(not(any(target_arch = "x86", target_arch = "x86_64")))]
mod imp {
    use super::*;
    pub(super) fn compute(
        _: SimdLevel,
        _: &IndicatorParams,
        _: &KlineHistory,
        _: &mut IndicatorSeries,
    ) -> usize {
        unreachable!("SimdIndicators cannot be built on this architecture")
    }
}

#[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
mod imp {
    #[cfg(target_arch = "x86")]
    use std::arch::x86::*;
    #[cfg(target_arch = "x86_64")]
    use std::arch::x86_64::*;

    use super::*;

    /// `f64` lanes. Every method is `unsafe`: the caller proved the level,
    /// and `load` needs `N` readable values.
    trait Vd: Copy {
        const N: usize;
        unsafe fn splat(v: f64) -> Self;
        unsafe fn load(p: *const f64) -> Self;
        /// Stores the N lanes at `p`.
        unsafe fn store(self, p: *mut f64);
        unsafe fn add(a: Self, b: Self) -> Self;
        unsafe fn sub(a: Self, b: Self) -> Self;
        unsafe fn mul(a: Self, b: Self) -> Self;
        unsafe fn div(a: Self, b: Self) -> Self;
        unsafe fn max(a: Self, b: Self) -> Self;
        unsafe fn sqrt(a: Self) -> Self;
        /// `a == b ? t : f` per lane.
        unsafe fn select_eq(a: Self, b: Self, t: Self, f: Self) -> Self;
        /// `a > b ? t : f` per lane.
        unsafe fn select_gt(a: Self, b: Self, t: Self, f: Self) -> Self;
    }

    macro_rules! lanes {
        ($name:ident, $reg:ty, $n:expr, splat $splat:ident, load $load:ident, store $store:ident,
         add $add:ident, sub $sub:ident, mul $mul:ident, div $div:ident, max $max:ident,
         sqrt $sqrt:ident, blendv $blendv:ident, cmp $cmp:ident) => {
            #[derive(Clone, Copy)]
            struct $name($reg);
            // SAFETY (all methods): the caller proved the instruction set
            // (trait contract) and passes pointers to N readable f64.
            impl Vd for $name {
                const N: usize = $n;
                #[inline(always)]
                unsafe fn splat(v: f64) -> Self {
                    // SAFETY: see the impl comment.
                    unsafe { $name($splat(v)) }
                }
                #[inline(always)]
                unsafe fn load(p: *const f64) -> Self {
                    // SAFETY: see the impl comment.
                    unsafe { $name($load(p)) }
                }
                #[inline(always)]
                unsafe fn store(self, p: *mut f64) {
                    // SAFETY: see the impl comment.
                    unsafe { $store(p, self.0) }
                }
                #[inline(always)]
                unsafe fn add(a: Self, b: Self) -> Self {
                    // SAFETY: see the impl comment.
                    unsafe { $name($add(a.0, b.0)) }
                }
                #[inline(always)]
                unsafe fn sub(a: Self, b: Self) -> Self {
                    // SAFETY: see the impl comment.
                    unsafe { $name($sub(a.0, b.0)) }
                }
                #[inline(always)]
                unsafe fn mul(a: Self, b: Self) -> Self {
                    // SAFETY: see the impl comment.
                    unsafe { $name($mul(a.0, b.0)) }
                }
                #[inline(always)]
                unsafe fn div(a: Self, b: Self) -> Self {
                    // SAFETY: see the impl comment.
                    unsafe { $name($div(a.0, b.0)) }
                }
                #[inline(always)]
                unsafe fn max(a: Self, b: Self) -> Self {
                    // SAFETY: see the impl comment.
                    unsafe { $name($max(a.0, b.0)) }
                }
                #[inline(always)]
                unsafe fn sqrt(a: Self) -> Self {
                    // SAFETY: see the impl comment.
                    unsafe { $name($sqrt(a.0)) }
                }
                #[inline(always)]
                unsafe fn select_eq(a: Self, b: Self, t: Self, f: Self) -> Self {
                    // SAFETY: see the impl comment.
                    unsafe { $name($blendv(f.0, t.0, $cmp::<_CMP_EQ_OQ>(a.0, b.0))) }
                }
                #[inline(always)]
                unsafe fn select_gt(a: Self, b: Self, t: Self, f: Self) -> Self {
                    // SAFETY: see the impl comment.
                    unsafe { $name($blendv(f.0, t.0, $cmp::<_CMP_GT_OQ>(a.0, b.0))) }
                }
            }
        };
    }

    lanes!(Avx, __m256d, 4, splat _mm256_set1_pd, load _mm256_loadu_pd, store _mm256_storeu_pd,
        add _mm256_add_pd, sub _mm256_sub_pd, mul _mm256_mul_pd, div _mm256_div_pd, max _mm256_max_pd,
        sqrt _mm256_sqrt_pd, blendv _mm256_blendv_pd, cmp _mm256_cmp_pd);
    lanes!(Sse, __m128d, 2, splat _mm_set1_pd, load _mm_loadu_pd, store _mm_storeu_pd,
        add _mm_add_pd, sub _mm_sub_pd, mul _mm_mul_pd, div _mm_div_pd, max _mm_max_pd,
        sqrt _mm_sqrt_pd, blendv _mm_blendv_pd, cmp _mm_cmp_pd_sse);

    /// SSE has no immediate-predicate compare; map the two we use.
    #[inline(always)]
    #[allow(non_snake_case)]
    unsafe fn _mm_cmp_pd_sse<const P: i32>(a: __m128d, b: __m128d) -> __m128d {
        // SAFETY: SSE2 is proven by the caller (part of SSE4.1).
        unsafe {
            if P == _CMP_EQ_OQ {
                _mm_cmpeq_pd(a, b)
            } else {
                _mm_cmpgt_pd(a, b)
            }
        }
    }

    /// Runs the SIMD kernel over as many whole groups of series as fit;
    /// returns the number of series done (the rest go to scalar).
    pub(super) fn compute(
        level: SimdLevel,
        p: &IndicatorParams,
        h: &KlineHistory,
        out: &mut IndicatorSeries,
    ) -> usize {
        match level {
            // SAFETY: `SimdIndicators::new` checked AVX2 (and FMA, unused).
            SimdLevel::Avx2Fma => unsafe { compute_avx(p, h, out) },
            // SAFETY: `SimdIndicators::new` checked SSE4.1.
            SimdLevel::Sse41 => unsafe { compute_sse(p, h, out) },
            _ => 0,
        }
    }

    #[target_feature(enable = "avx2")]
    unsafe fn compute_avx(
        p: &IndicatorParams,
        h: &KlineHistory,
        out: &mut IndicatorSeries,
    ) -> usize {
        // SAFETY: AVX2 is enabled in this function.
        unsafe { kernel::<Avx>(p, h, out) }
    }

    #[target_feature(enable = "sse4.1")]
    unsafe fn compute_sse(
        p: &IndicatorParams,
        h: &KlineHistory,
        out: &mut IndicatorSeries,
    ) -> usize {
        // SAFETY: SSE4.1 is enabled in this function.
        unsafe { kernel::<Sse>(p, h, out) }
    }

    /// The scalar `step`, lane-parallel. Safety: `V`'s level is available.
    #[inline(always)]
    unsafe fn kernel<V: Vd>(
        p: &IndicatorParams,
        h: &KlineHistory,
        out: &mut IndicatorSeries,
    ) -> usize {
        let n = h.series();
        let groups = n / V::N;
        // SAFETY: (whole body) the level is proven by the caller; every load
        // reads N values at `t × n + s0` with `s0 + N ≤ n` and `t < len`,
        // inside the history's vectors (checked by `KlineHistory::check`),
        // and every state access `k × n + s0` (k < 12) is inside `state`.
        unsafe {
            let zero = V::splat(0.0);
            let third = V::splat(3.0);
            let alpha = V::splat(2.0 / (p.ema_period as f64 + 1.0));
            let k = V::splat(p.bollinger_k);
            let (n_sma, n_bb) = (
                V::splat(p.sma_period as f64),
                V::splat(p.bollinger_period as f64),
            );
            let (fifty, hundred, one, nan) = (
                V::splat(50.0),
                V::splat(100.0),
                V::splat(1.0),
                V::splat(f64::NAN),
            );
            // State of every series, one row per variable: prev, ema, gain,
            // loss, shift, bb_shift, sum_sma, sum_bb, sum_bb2, sum_pv,
            // sum_v, traded. Bars outer, series groups inner: the history
            // and the outputs stream row by row.
            let mut state = vec![0.0f64; 12 * n];
            let sp = state.as_mut_ptr();
            for t in 0..h.len() {
                for g in 0..groups {
                    let s0 = g * V::N;
                    let at = |v: &Vec<f64>, t: usize| V::load(v.as_ptr().add(t * n + s0));
                    let pv_at = |t: usize| {
                        let sum = V::add(V::add(at(&h.high, t), at(&h.low, t)), at(&h.close, t));
                        V::mul(V::div(sum, third), at(&h.volume, t))
                    };
                    let ld = |k: usize| V::load(sp.add(k * n + s0));
                    let (mut prev, mut ema, mut gain_avg, mut loss_avg) =
                        (ld(0), ld(1), ld(2), ld(3));
                    let (mut shift, mut bb_shift) = (ld(4), ld(5));
                    let (mut sum_sma, mut sum_bb, mut sum_bb2, mut sum_pv, mut sum_v) =
                        (ld(6), ld(7), ld(8), ld(9), ld(10));
                    let mut traded = ld(11);
                    let close = at(&h.close, t);
                    if t == 0 {
                        shift = close;
                        bb_shift = close;
                        ema = close;
                    } else {
                        ema = V::add(ema, V::mul(alpha, V::sub(close, ema)));
                        let d = V::sub(close, prev);
                        let gain = V::max(d, zero);
                        let loss = V::max(V::sub(zero, d), zero);
                        let m = V::splat(t.min(p.rsi_period) as f64);
                        gain_avg = V::add(gain_avg, V::div(V::sub(gain, gain_avg), m));
                        loss_avg = V::add(loss_avg, V::div(V::sub(loss, loss_avg), m));
                    }
                    let x = V::sub(close, shift);
                    let xb = V::sub(close, bb_shift);
                    let volume = at(&h.volume, t);
                    sum_sma = V::add(sum_sma, x);
                    sum_bb = V::add(sum_bb, xb);
                    sum_bb2 = V::add(sum_bb2, V::mul(xb, xb));
                    let pv = pv_at(t);
                    sum_pv = V::add(sum_pv, pv);
                    sum_v = V::add(sum_v, volume);
                    traded = V::add(traded, V::select_gt(volume, zero, one, zero));
                    if t >= p.sma_period {
                        sum_sma = V::sub(sum_sma, V::sub(at(&h.close, t - p.sma_period), shift));
                    }
                    if t >= p.bollinger_period {
                        let y = V::sub(at(&h.close, t - p.bollinger_period), bb_shift);
                        sum_bb = V::sub(sum_bb, y);
                        sum_bb2 = V::sub(sum_bb2, V::mul(y, y));
                    }
                    if t >= p.vwap_period {
                        sum_pv = V::sub(sum_pv, pv_at(t - p.vwap_period));
                        let old_v = at(&h.volume, t - p.vwap_period);
                        sum_v = V::sub(sum_v, old_v);
                        traded = V::sub(traded, V::select_gt(old_v, zero, one, zero));
                    }
                    let seen = t + 1;
                    if seen.is_multiple_of(p.bollinger_period) {
                        bb_shift = close;
                        let (mut s1, mut s2) = (zero, zero);
                        for age in 1..p.bollinger_period {
                            let y = V::sub(at(&h.close, t - age), close);
                            s1 = V::add(s1, y);
                            s2 = V::add(s2, V::mul(y, y));
                        }
                        sum_bb = s1;
                        sum_bb2 = s2;
                    }
                    if seen.is_multiple_of(p.vwap_period) {
                        let (mut s_pv, mut s_v) = (pv, volume);
                        for age in 1..p.vwap_period {
                            s_pv = V::add(s_pv, pv_at(t - age));
                            s_v = V::add(s_v, at(&h.volume, t - age));
                        }
                        sum_pv = s_pv;
                        sum_v = s_v;
                    }
                    let sma = if seen >= p.sma_period {
                        V::add(V::div(sum_sma, n_sma), shift)
                    } else {
                        nan
                    };
                    let rsi = if t >= p.rsi_period {
                        let general = V::sub(
                            hundred,
                            V::div(hundred, V::add(one, V::div(gain_avg, loss_avg))),
                        );
                        let flat = V::select_eq(gain_avg, zero, fifty, hundred);
                        V::select_eq(loss_avg, zero, flat, general)
                    } else {
                        nan
                    };
                    let (mid, upper, lower) = if seen >= p.bollinger_period {
                        let m = V::div(sum_bb, n_bb);
                        let var = V::max(V::sub(V::div(sum_bb2, n_bb), V::mul(m, m)), zero);
                        let sd = V::sqrt(var);
                        let mid = V::add(m, bb_shift);
                        (mid, V::add(mid, V::mul(k, sd)), V::sub(mid, V::mul(k, sd)))
                    } else {
                        (nan, nan, nan)
                    };
                    let vwap = if seen >= p.vwap_period {
                        V::select_gt(traded, zero, V::div(sum_pv, sum_v), nan)
                    } else {
                        nan
                    };
                    prev = close;
                    let plane = h.len() * n;
                    let base = t * n + s0;
                    let dst = out.values.as_mut_ptr();
                    for (o, v) in [sma, ema, rsi, mid, upper, lower, vwap]
                        .into_iter()
                        .enumerate()
                    {
                        // `o × plane + base + N ≤ 7 × plane`: inside `values`
                        // (sized by `resize_for`).
                        V::store(v, dst.add(o * plane + base));
                    }
                    for (k, v) in [
                        prev, ema, gain_avg, loss_avg, shift, bb_shift, sum_sma, sum_bb, sum_bb2,
                        sum_pv, sum_v, traded,
                    ]
                    .into_iter()
                    .enumerate()
                    {
                        V::store(v, sp.add(k * n + s0));
                    }
                }
            }
        }
        groups * V::N
    }
}

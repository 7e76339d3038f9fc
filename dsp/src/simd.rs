//! SIMD across strips and channels: each register holds the same stage of
//! 8 (AVX2+FMA) or 4 (SSE4.1, NEON, wasm simd128) independent channels.
//!
//! The kernels are written once over a lane type (`imp::Vf`); x86 gets
//! AVX2+FMA and SSE4.1 lanes (detected at run time), aarch64 NEON lanes
//! (part of the architecture's baseline), wasm32 simd128 lanes where the
//! module is compiled with `-C target-feature=+simd128` (WebAssembly has no
//! run-time detection: an engine without SIMD refuses such a module).
//!
//! The only way to reach the `#[target_feature]` functions is through
//! [`SimdStrips`](crate::SimdStrips) or a SIMD [`BiquadBank`](crate::BiquadBank),
//! whose constructors checked the level with [`check_level`].

use crate::bank::StripBank;
use std::ops::Range;
use vivace_backend::{BackendKind, SimdLevel, Unavailable};

/// The levels with kernels here, best first.
pub(crate) const LEVELS: [SimdLevel; 4] = [
    SimdLevel::Avx2Fma,
    SimdLevel::Sse41,
    SimdLevel::Neon,
    SimdLevel::Simd128,
];

/// Ok if this CPU has `level` and there is a kernel for it.
pub(crate) fn check_level(level: SimdLevel) -> Result<(), Unavailable> {
    if !LEVELS.contains(&level) {
        return Err(Unavailable::new(
            BackendKind::Simd(level),
            format!("vivace-dsp has no {level} kernel"),
        ));
    }
    match level.unavailable_reason() {
        Some(reason) => Err(Unavailable::new(BackendKind::Simd(level), reason)),
        None => Ok(()),
    }
}

/// The best level with a kernel that this CPU has.
pub(crate) fn best_level() -> Result<SimdLevel, Unavailable> {
    LEVELS
        .into_iter()
        .find(|l| check_level(*l).is_ok())
        .ok_or_else(|| {
            Unavailable::new(
                BackendKind::Simd(SimdLevel::Sse41),
                format!(
                    "this CPU ({}) has no SIMD level vivace-dsp has kernels for",
                    std::env::consts::ARCH
                ),
            )
        })
}

#[cfg(not(any(
    target_arch = "x86",
    target_arch = "x86_64",
    all(target_arch = "aarch64", target_feature = "neon"),
    all(target_arch = "wasm32", target_feature = "simd128")
)))]
mod imp {
    use super::*;
    pub(crate) fn process_strips(
        _: SimdLevel,
        _: &mut StripBank,
        _: &[f32],
        _: usize,
        _: Range<usize>,
        _: &mut [f32],
        _: &mut [f32],
    ) {
        unreachable!("SimdStrips cannot be built on this architecture")
    }
    pub(crate) fn biquad_interleaved(
        _: SimdLevel,
        _: &mut [f32],
        _: &mut [f32],
        _: &mut [f32],
        _: usize,
    ) -> usize {
        unreachable!("a SIMD BiquadBank cannot be built on this architecture")
    }
}

#[cfg(any(
    target_arch = "x86",
    target_arch = "x86_64",
    all(target_arch = "aarch64", target_feature = "neon"),
    all(target_arch = "wasm32", target_feature = "simd128")
))]
mod imp {
    #[cfg(target_arch = "aarch64")]
    use std::arch::aarch64::*;
    #[cfg(target_arch = "wasm32")]
    use std::arch::wasm32::*;
    #[cfg(target_arch = "x86")]
    use std::arch::x86::*;
    #[cfg(target_arch = "x86_64")]
    use std::arch::x86_64::*;

    use super::*;
    use crate::bank::{BANDS, ENVELOPE_CEILING, GROUP, LEVEL_FLOOR};
    use crate::biquad::ANTI_DENORMAL;

    /// A vector of f32 lanes. Every method is `unsafe`: the caller must have
    /// proven the instruction set, and loads/stores need `N` valid values.
    pub(crate) trait Vf: Copy {
        const N: usize;
        unsafe fn splat(v: f32) -> Self;
        unsafe fn load(p: *const f32) -> Self;
        unsafe fn store(self, p: *mut f32);
        unsafe fn add(a: Self, b: Self) -> Self;
        unsafe fn sub(a: Self, b: Self) -> Self;
        unsafe fn mul(a: Self, b: Self) -> Self;
        /// a·b + c (fused where the level has FMA).
        unsafe fn mul_add(a: Self, b: Self, c: Self) -> Self;
        unsafe fn max(a: Self, b: Self) -> Self;
        unsafe fn min(a: Self, b: Self) -> Self;
        unsafe fn abs(a: Self) -> Self;
        /// Per lane, `t` where `m`'s sign bit is set (m < 0 or m = −0),
        /// else `f`.
        unsafe fn select_sign(m: Self, t: Self, f: Self) -> Self;
        /// Round to nearest integer (as f32).
        unsafe fn round(a: Self) -> Self;
        /// For x > 0 normal: (e as f32, m) with x = 2^e·m and m in
        /// [√½, √2), by integer arithmetic on the bits: adding
        /// 1.0's bits − √½'s bits carries into the exponent exactly when
        /// the mantissa is ≥ √2.
        unsafe fn split_log2(x: Self) -> (Self, Self);
        /// 2^n for integer-valued n in [−126, 127].
        unsafe fn pow2i(n: Self) -> Self;
        /// Reads `N` rows of `N` values (row `r` at `p + r·stride`) and
        /// writes them transposed to `out[0..N]`: `out[j]` lane `r` is row
        /// `r`'s value `j`.
        unsafe fn load_transposed(p: *const f32, stride: usize, out: *mut Self);
    }

    #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
    macro_rules! lanes {
        ($name:ident, $reg:ty, $n:expr, $feat:literal,
         splat $splat:ident, load $load:ident, store $store:ident,
         add $add:ident, sub $sub:ident, mul $mul:ident, max $max:ident, min $min:ident,
         and $and:ident, blendv $blendv:ident,
         round $round:ident, cast_i $cast_i:ident, cast_f $cast_f:ident, set1_i $set1_i:ident,
         and_i $and_i:ident, add_i $add_i:ident, srli $srli:ident, slli $slli:ident,
         cvt_if $cvt_if:ident, cvt_fi $cvt_fi:ident,
         fma $fma:expr, transpose $transpose:ident) => {
            #[derive(Clone, Copy)]
            struct $name($reg);
            // SAFETY (all methods): the caller proved `$feat` (trait
            // contract) and passes pointers to N valid f32.
            impl Vf for $name {
                const N: usize = $n;
                #[inline(always)]
                unsafe fn splat(v: f32) -> Self {
                    // SAFETY: see the impl comment.
                    unsafe { $name($splat(v)) }
                }
                #[inline(always)]
                unsafe fn load(p: *const f32) -> Self {
                    // SAFETY: see the impl comment.
                    unsafe { $name($load(p)) }
                }
                #[inline(always)]
                unsafe fn store(self, p: *mut f32) {
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
                unsafe fn mul_add(a: Self, b: Self, c: Self) -> Self {
                    // SAFETY: see the impl comment.
                    unsafe { $name($fma(a.0, b.0, c.0)) }
                }
                #[inline(always)]
                unsafe fn max(a: Self, b: Self) -> Self {
                    // SAFETY: see the impl comment.
                    unsafe { $name($max(a.0, b.0)) }
                }
                #[inline(always)]
                unsafe fn min(a: Self, b: Self) -> Self {
                    // SAFETY: see the impl comment.
                    unsafe { $name($min(a.0, b.0)) }
                }
                #[inline(always)]
                unsafe fn abs(a: Self) -> Self {
                    // SAFETY: see the impl comment.
                    unsafe { $name($and(a.0, $cast_f($set1_i(0x7fff_ffff)))) }
                }
                #[inline(always)]
                unsafe fn select_sign(m: Self, t: Self, f: Self) -> Self {
                    // SAFETY: see the impl comment.
                    unsafe { $name($blendv(f.0, t.0, m.0)) }
                }
                #[inline(always)]
                unsafe fn round(a: Self) -> Self {
                    // SAFETY: see the impl comment.
                    unsafe {
                        $name($round::<{ _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC }>(
                            a.0,
                        ))
                    }
                }
                #[inline(always)]
                unsafe fn split_log2(x: Self) -> (Self, Self) {
                    // SAFETY: see the impl comment.
                    unsafe {
                        let bits = $add_i($cast_i(x.0), $set1_i(SPLIT_OFFSET));
                        let e = $add_i($and_i($srli::<23>(bits), $set1_i(0xff)), $set1_i(-127));
                        let m = $add_i($and_i(bits, $set1_i(0x007f_ffff)), $set1_i(SQRT_HALF_BITS));
                        ($name($cvt_if(e)), $name($cast_f(m)))
                    }
                }
                #[inline(always)]
                unsafe fn pow2i(n: Self) -> Self {
                    // SAFETY: see the impl comment.
                    unsafe {
                        let e = $add_i($cvt_fi(n.0), $set1_i(127));
                        $name($cast_f($slli::<23>(e)))
                    }
                }
                #[inline(always)]
                unsafe fn load_transposed(p: *const f32, stride: usize, out: *mut Self) {
                    // SAFETY: see the impl comment; `out` has N slots.
                    unsafe {
                        for (j, v) in $transpose(p, stride).into_iter().enumerate() {
                            out.add(j).write($name(v));
                        }
                    }
                }
            }
        };
    }

    /// 8 × 8 transpose of rows at `p + r·stride` (AVX).
    ///
    /// # Safety
    /// AVX is available and the 8 rows hold 8 readable values each.
    #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
    #[inline(always)]
    unsafe fn transpose_avx(p: *const f32, stride: usize) -> [__m256; 8] {
        // SAFETY: the caller's contract.
        unsafe {
            // Row i's values 0–3 beside row i + 4's (low/high 128-bit
            // halves), then values 4–7 the same way: the halves come
            // straight from memory, so no cross-half shuffle is needed.
            let half = |row: usize, at: usize| _mm_loadu_ps(p.add(row * stride + at));
            let t: [__m256; 8] = std::array::from_fn(|i| {
                let (row, at) = (i % 4, 4 * (i / 4));
                _mm256_insertf128_ps::<1>(_mm256_castps128_ps256(half(row, at)), half(row + 4, at))
            });
            // A 4 × 4 transpose inside each half, for values 0–3 and 4–7.
            let mut out = [_mm256_setzero_ps(); 8];
            for g in 0..2 {
                let [a, b, c, d] = [t[4 * g], t[4 * g + 1], t[4 * g + 2], t[4 * g + 3]];
                let (ab_lo, ab_hi) = (_mm256_unpacklo_ps(a, b), _mm256_unpackhi_ps(a, b));
                let (cd_lo, cd_hi) = (_mm256_unpacklo_ps(c, d), _mm256_unpackhi_ps(c, d));
                out[4 * g] = _mm256_shuffle_ps::<0x44>(ab_lo, cd_lo);
                out[4 * g + 1] = _mm256_shuffle_ps::<0xee>(ab_lo, cd_lo);
                out[4 * g + 2] = _mm256_shuffle_ps::<0x44>(ab_hi, cd_hi);
                out[4 * g + 3] = _mm256_shuffle_ps::<0xee>(ab_hi, cd_hi);
            }
            out
        }
    }

    /// 4 × 4 transpose of rows at `p + r·stride` (SSE).
    ///
    /// # Safety
    /// SSE is available and the 4 rows hold 4 readable values each.
    #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
    #[inline(always)]
    unsafe fn transpose_sse(p: *const f32, stride: usize) -> [__m128; 4] {
        // SAFETY: the caller's contract.
        unsafe {
            let r: [__m128; 4] = std::array::from_fn(|i| _mm_loadu_ps(p.add(i * stride)));
            let t0 = _mm_unpacklo_ps(r[0], r[1]);
            let t1 = _mm_unpacklo_ps(r[2], r[3]);
            let t2 = _mm_unpackhi_ps(r[0], r[1]);
            let t3 = _mm_unpackhi_ps(r[2], r[3]);
            [
                _mm_movelh_ps(t0, t1),
                _mm_movehl_ps(t1, t0),
                _mm_movelh_ps(t2, t3),
                _mm_movehl_ps(t3, t2),
            ]
        }
    }

    #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
    lanes!(Avx, __m256, 8, "avx2,fma",
        splat _mm256_set1_ps, load _mm256_loadu_ps, store _mm256_storeu_ps,
        add _mm256_add_ps, sub _mm256_sub_ps, mul _mm256_mul_ps, max _mm256_max_ps, min _mm256_min_ps,
        and _mm256_and_ps, blendv _mm256_blendv_ps,
        round _mm256_round_ps, cast_i _mm256_castps_si256, cast_f _mm256_castsi256_ps,
        set1_i _mm256_set1_epi32, and_i _mm256_and_si256,
        add_i _mm256_add_epi32, srli _mm256_srli_epi32, slli _mm256_slli_epi32,
        cvt_if _mm256_cvtepi32_ps, cvt_fi _mm256_cvtps_epi32,
        fma _mm256_fmadd_ps, transpose transpose_avx);

    #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
    lanes!(Sse, __m128, 4, "sse4.1",
        splat _mm_set1_ps, load _mm_loadu_ps, store _mm_storeu_ps,
        add _mm_add_ps, sub _mm_sub_ps, mul _mm_mul_ps, max _mm_max_ps, min _mm_min_ps,
        and _mm_and_ps, blendv _mm_blendv_ps,
        round _mm_round_ps, cast_i _mm_castps_si128, cast_f _mm_castsi128_ps,
        set1_i _mm_set1_epi32, and_i _mm_and_si128,
        add_i _mm_add_epi32, srli _mm_srli_epi32, slli _mm_slli_epi32,
        cvt_if _mm_cvtepi32_ps, cvt_fi _mm_cvtps_epi32,
        fma (|a, b, c| _mm_add_ps(_mm_mul_ps(a, b), c)), transpose transpose_sse);

    /// NEON lanes (NEON is part of the aarch64 baseline that this code was
    /// compiled for, so every intrinsic is available; only loads and stores
    /// are unsafe).
    #[cfg(target_arch = "aarch64")]
    #[derive(Clone, Copy)]
    pub(crate) struct Neon(float32x4_t);

    #[cfg(target_arch = "aarch64")]
    impl Vf for Neon {
        const N: usize = 4;
        #[inline(always)]
        unsafe fn splat(v: f32) -> Self {
            // SAFETY: NEON is in this build's baseline (module cfg).
            unsafe { Neon(vdupq_n_f32(v)) }
        }
        #[inline(always)]
        unsafe fn load(p: *const f32) -> Self {
            // SAFETY: the caller passes 4 valid f32 (trait contract).
            unsafe { Neon(vld1q_f32(p)) }
        }
        #[inline(always)]
        unsafe fn store(self, p: *mut f32) {
            // SAFETY: as for `load`.
            unsafe { vst1q_f32(p, self.0) }
        }
        #[inline(always)]
        unsafe fn add(a: Self, b: Self) -> Self {
            // SAFETY: NEON is in this build's baseline (module cfg).
            unsafe { Neon(vaddq_f32(a.0, b.0)) }
        }
        #[inline(always)]
        unsafe fn sub(a: Self, b: Self) -> Self {
            // SAFETY: NEON is in this build's baseline (module cfg).
            unsafe { Neon(vsubq_f32(a.0, b.0)) }
        }
        #[inline(always)]
        unsafe fn mul(a: Self, b: Self) -> Self {
            // SAFETY: NEON is in this build's baseline (module cfg).
            unsafe { Neon(vmulq_f32(a.0, b.0)) }
        }
        #[inline(always)]
        unsafe fn mul_add(a: Self, b: Self, c: Self) -> Self {
            // Fused, as on AVX2+FMA (the filters never use it: see `tdf2`).
            // SAFETY: NEON is in this build's baseline (module cfg).
            unsafe { Neon(vfmaq_f32(c.0, a.0, b.0)) }
        }
        #[inline(always)]
        unsafe fn max(a: Self, b: Self) -> Self {
            // SAFETY: NEON is in this build's baseline (module cfg).
            unsafe { Neon(vmaxq_f32(a.0, b.0)) }
        }
        #[inline(always)]
        unsafe fn min(a: Self, b: Self) -> Self {
            // SAFETY: NEON is in this build's baseline (module cfg).
            unsafe { Neon(vminq_f32(a.0, b.0)) }
        }
        #[inline(always)]
        unsafe fn abs(a: Self) -> Self {
            // SAFETY: NEON is in this build's baseline (module cfg).
            unsafe { Neon(vabsq_f32(a.0)) }
        }
        #[inline(always)]
        unsafe fn select_sign(m: Self, t: Self, f: Self) -> Self {
            // SAFETY: NEON is in this build's baseline (module cfg).
            unsafe {
                let mask = vreinterpretq_u32_s32(vshrq_n_s32::<31>(vreinterpretq_s32_f32(m.0)));
                Neon(vbslq_f32(mask, t.0, f.0))
            }
        }
        #[inline(always)]
        unsafe fn round(a: Self) -> Self {
            // Round half to even, like the x86 levels' `round`.
            // SAFETY: NEON is in this build's baseline (module cfg).
            unsafe { Neon(vrndnq_f32(a.0)) }
        }
        #[inline(always)]
        unsafe fn split_log2(x: Self) -> (Self, Self) {
            // SAFETY: NEON is in this build's baseline (module cfg).
            unsafe {
                let bits = vaddq_u32(vreinterpretq_u32_f32(x.0), vdupq_n_u32(SPLIT_OFFSET as u32));
                let e = vaddq_s32(
                    vreinterpretq_s32_u32(vandq_u32(vshrq_n_u32::<23>(bits), vdupq_n_u32(0xff))),
                    vdupq_n_s32(-127),
                );
                let m = vaddq_u32(
                    vandq_u32(bits, vdupq_n_u32(0x007f_ffff)),
                    vdupq_n_u32(SQRT_HALF_BITS as u32),
                );
                (Neon(vcvtq_f32_s32(e)), Neon(vreinterpretq_f32_u32(m)))
            }
        }
        #[inline(always)]
        unsafe fn pow2i(n: Self) -> Self {
            // n is integer-valued, so truncation is exact.
            // SAFETY: NEON is in this build's baseline (module cfg).
            unsafe {
                let e = vaddq_s32(vcvtq_s32_f32(n.0), vdupq_n_s32(127));
                Neon(vreinterpretq_f32_s32(vshlq_n_s32::<23>(e)))
            }
        }
        #[inline(always)]
        unsafe fn load_transposed(p: *const f32, stride: usize, out: *mut Self) {
            // SAFETY: the caller passes 4 rows of 4 valid f32 and 4 slots.
            unsafe {
                let r: [float32x4_t; 4] = std::array::from_fn(|i| vld1q_f32(p.add(i * stride)));
                // a0 b0 a2 b2 / a1 b1 a3 b3, and the same for rows c, d.
                let ab = [vtrn1q_f32(r[0], r[1]), vtrn2q_f32(r[0], r[1])];
                let cd = [vtrn1q_f32(r[2], r[3]), vtrn2q_f32(r[2], r[3])];
                let d = vreinterpretq_f64_f32;
                let f = vreinterpretq_f32_f64;
                out.write(Neon(f(vtrn1q_f64(d(ab[0]), d(cd[0])))));
                out.add(1).write(Neon(f(vtrn1q_f64(d(ab[1]), d(cd[1])))));
                out.add(2).write(Neon(f(vtrn2q_f64(d(ab[0]), d(cd[0])))));
                out.add(3).write(Neon(f(vtrn2q_f64(d(ab[1]), d(cd[1])))));
            }
        }
    }

    /// wasm simd128 lanes (the module was compiled with simd128, so every
    /// intrinsic here is available; only loads and stores are unsafe).
    #[cfg(target_arch = "wasm32")]
    #[derive(Clone, Copy)]
    pub(crate) struct Wasm(v128);

    #[cfg(target_arch = "wasm32")]
    impl Vf for Wasm {
        const N: usize = 4;
        #[inline(always)]
        unsafe fn splat(v: f32) -> Self {
            Wasm(f32x4_splat(v))
        }
        #[inline(always)]
        unsafe fn load(p: *const f32) -> Self {
            // SAFETY: the caller passes 4 valid f32 (trait contract); wasm
            // loads need no alignment.
            unsafe { Wasm(v128_load(p.cast::<v128>())) }
        }
        #[inline(always)]
        unsafe fn store(self, p: *mut f32) {
            // SAFETY: as for `load`.
            unsafe { v128_store(p.cast::<v128>(), self.0) }
        }
        #[inline(always)]
        unsafe fn add(a: Self, b: Self) -> Self {
            Wasm(f32x4_add(a.0, b.0))
        }
        #[inline(always)]
        unsafe fn sub(a: Self, b: Self) -> Self {
            Wasm(f32x4_sub(a.0, b.0))
        }
        #[inline(always)]
        unsafe fn mul(a: Self, b: Self) -> Self {
            Wasm(f32x4_mul(a.0, b.0))
        }
        #[inline(always)]
        unsafe fn mul_add(a: Self, b: Self, c: Self) -> Self {
            // No fused multiply-add in simd128 (relaxed-simd's is not
            // deterministic across engines).
            Wasm(f32x4_add(f32x4_mul(a.0, b.0), c.0))
        }
        #[inline(always)]
        unsafe fn max(a: Self, b: Self) -> Self {
            Wasm(f32x4_max(a.0, b.0))
        }
        #[inline(always)]
        unsafe fn min(a: Self, b: Self) -> Self {
            Wasm(f32x4_min(a.0, b.0))
        }
        #[inline(always)]
        unsafe fn abs(a: Self) -> Self {
            Wasm(f32x4_abs(a.0))
        }
        #[inline(always)]
        unsafe fn select_sign(m: Self, t: Self, f: Self) -> Self {
            Wasm(v128_bitselect(t.0, f.0, i32x4_shr(m.0, 31)))
        }
        #[inline(always)]
        unsafe fn round(a: Self) -> Self {
            // Round half to even, like the x86 levels' `round`.
            Wasm(f32x4_nearest(a.0))
        }
        #[inline(always)]
        unsafe fn split_log2(x: Self) -> (Self, Self) {
            let bits = i32x4_add(x.0, i32x4_splat(SPLIT_OFFSET));
            let e = i32x4_add(
                v128_and(u32x4_shr(bits, 23), i32x4_splat(0xff)),
                i32x4_splat(-127),
            );
            let m = i32x4_add(
                v128_and(bits, i32x4_splat(0x007f_ffff)),
                i32x4_splat(SQRT_HALF_BITS),
            );
            (Wasm(f32x4_convert_i32x4(e)), Wasm(m))
        }
        #[inline(always)]
        unsafe fn pow2i(n: Self) -> Self {
            let e = i32x4_add(i32x4_trunc_sat_f32x4(n.0), i32x4_splat(127));
            Wasm(i32x4_shl(e, 23))
        }
        #[inline(always)]
        unsafe fn load_transposed(p: *const f32, stride: usize, out: *mut Self) {
            // SAFETY: the caller passes 4 rows of 4 valid f32 and 4 slots.
            unsafe {
                let r: [v128; 4] =
                    std::array::from_fn(|i| v128_load(p.add(i * stride).cast::<v128>()));
                let t0 = i32x4_shuffle::<0, 4, 1, 5>(r[0], r[1]);
                let t1 = i32x4_shuffle::<0, 4, 1, 5>(r[2], r[3]);
                let t2 = i32x4_shuffle::<2, 6, 3, 7>(r[0], r[1]);
                let t3 = i32x4_shuffle::<2, 6, 3, 7>(r[2], r[3]);
                out.write(Wasm(i64x2_shuffle::<0, 2>(t0, t1)));
                out.add(1).write(Wasm(i64x2_shuffle::<1, 3>(t0, t1)));
                out.add(2).write(Wasm(i64x2_shuffle::<0, 2>(t2, t3)));
                out.add(3).write(Wasm(i64x2_shuffle::<1, 3>(t2, t3)));
            }
        }
    }

    /// The bits of √½ rounded down to f32 (0.70710677).
    const SQRT_HALF_BITS: i32 = 0x3f35_04f3;
    /// 1.0's bits − √½'s: see [`Vf::split_log2`].
    const SPLIT_OFFSET: i32 = 0x3f80_0000 - SQRT_HALF_BITS;

    /// log2(1 + t)/t on t in [√½ − 1, √2 − 1]: degree 5, fitted for the
    /// least largest error of t·q(t) (Lawson's iteration); t·q(t) is within
    /// 2.2e-6 of log2(1 + t) in exact arithmetic. In the gain computer
    /// that is ≤ 1.3e-5 dB of level (≤ 1.5e-6 relative gain), far inside
    /// both the 0.01 dB curve bound and the 1e-5 backend tolerance; degree
    /// 7 (5e-8) cost three more multiply-adds per sample.
    const LOG2_Q: [f32; 6] = [
        1.442_713_5,
        -0.721_131_86,
        0.479_348_15,
        -0.367_489_84,
        0.322_154_25,
        -0.206_592_4,
    ];

    /// log2(x) for x > 0 normal, to ~2.3e-6 absolute: x = 2^e·m with m in
    /// [√½, √2), then e + t·q(t) with t = m − 1, the polynomial evaluated
    /// in Estrin's scheme (a short dependency chain, no division).
    #[inline(always)]
    unsafe fn log2<V: Vf>(x: V) -> V {
        // SAFETY: level proven by the caller (trait contract).
        unsafe {
            let (e, m) = V::split_log2(x);
            let t = V::sub(m, V::splat(1.0));
            let c = |k: usize| V::splat(LOG2_Q[k]);
            let t2 = V::mul(t, t);
            let q01 = V::mul_add(c(1), t, c(0));
            let q23 = V::mul_add(c(3), t, c(2));
            let q45 = V::mul_add(c(5), t, c(4));
            let q25 = V::mul_add(q45, t2, q23);
            V::mul_add(t, V::mul_add(q25, t2, q01), e)
        }
    }

    /// 2^f on f in [−½, ½], degree 5 with the constant term 1 and the
    /// linear term ln 2, the rest fitted for the least largest relative
    /// error (Lawson's iteration): 1.05e-7 in exact arithmetic, 1.6e-7
    /// evaluated in f32.
    const EXP2_P: [f32; 5] = [
        std::f32::consts::LN_2,
        0.240_222_83,
        0.055_505_585,
        0.009_669_691,
        0.001_330_060_5,
    ];

    /// 2^x, clamped to [−126, 126], to ~2e-7 relative: n = round(x),
    /// 2^(x−n) by [`EXP2_P`], times 2^n from the bits.
    #[inline(always)]
    unsafe fn exp2<V: Vf>(x: V) -> V {
        // SAFETY: level proven by the caller (trait contract).
        unsafe {
            let x = V::min(V::max(x, V::splat(-126.0)), V::splat(126.0));
            let n = V::round(x);
            let f = V::sub(x, n);
            let mut p = V::splat(EXP2_P[4]);
            for &c in EXP2_P[..4].iter().rev() {
                p = V::mul_add(p, f, V::splat(c));
            }
            p = V::mul_add(p, f, V::splat(1.0));
            V::mul(p, V::pow2i(n))
        }
    }

    /// One filter step on `V::N` channels (the reassociated TDF-II of
    /// [`crate::biquad`]): the scalar step's operations in the scalar
    /// step's order, unfused, so every backend's filters are bit-identical
    /// (a fused step measured ≈ 4 % faster on the AVX2 mixer, but would not
    /// match scalar within the backends' tolerance: see the module docs of
    /// [`crate::biquad`]).
    #[inline(always)]
    unsafe fn tdf2<V: Vf>(c: &[V; 5], s: &mut [V; 2], x: V, guard: V) -> V {
        // SAFETY: level proven by the caller (trait contract).
        unsafe {
            let y = V::add(V::mul(c[0], x), s[0]);
            let s1 = V::sub(V::add(V::mul(c[1], x), s[1]), V::mul(c[3], s[0]));
            s[1] = V::sub(V::add(V::mul(c[2], x), guard), V::mul(c[4], s[0]));
            s[0] = s1;
            y
        }
    }

    /// Per-band filter states of one register of strips: `[band][side][w]`.
    type EqState<V> = [[[V; 2]; 2]; BANDS];

    /// The EQ over a chunk with steady coefficients; bit `b` of `RUN` says
    /// band `b` runs. One side at a time, so its three bands' states stay
    /// in registers beside the coefficients (both sides at once spill
    /// states to the stack, and a recursion through memory waits on a
    /// store every frame). The bands are skewed in time: one pass of the
    /// loop runs the first band on frame n, the second on frame n − 1 and
    /// the third on frame n − 2, so the steps of a pass do not wait on each
    /// other and only each band's own recursion carries from pass to pass
    /// (the per-sample operations, and so the results, are those of the
    /// plain frame-by-frame loop).
    #[inline(always)]
    unsafe fn eq_steady<V: Vf, const RUN: u8>(
        coef: &[[V; 5]; BANDS],
        state: &mut EqState<V>,
        (xl, xr): (&mut [V], &mut [V]),
        guard: V,
    ) {
        // The running bands in order: constants once RUN is known, so the
        // loops over them unroll.
        let mut order = [0usize; BANDS];
        let mut k = 0;
        for b in 0..BANDS {
            if RUN >> b & 1 == 1 {
                order[k] = b;
                k += 1;
            }
        }
        if k == 0 {
            return;
        }
        // SAFETY: level proven by the caller (trait contract).
        unsafe {
            for (side, x) in [xl, xr].into_iter().enumerate() {
                let mut s: [[V; 2]; BANDS] = std::array::from_fn(|b| state[b][side]);
                // Stage j is the j-th running band. (A macro, not a
                // closure: closures do not inherit the enclosing
                // function's target features, so theirs would not inline.)
                macro_rules! stage {
                    ($j:expr, $v:expr) => {{
                        let b = order[$j];
                        tdf2(&coef[b], &mut s[b], $v, guard)
                    }};
                }
                let n = x.len();
                if n < k {
                    for v in x.iter_mut() {
                        for j in 0..k {
                            *v = stage!(j, *v);
                        }
                    }
                } else {
                    // carry[j]: stage j's output of the previous pass, the
                    // input of stage j + 1 in this one.
                    let mut carry = [V::splat(0.0); BANDS];
                    // Fill: frames 0..k − 1 enter the first stages.
                    for t in 0..k - 1 {
                        for j in (0..=t).rev() {
                            let v = if j == 0 { x[t] } else { carry[j - 1] };
                            carry[j] = stage!(j, v);
                        }
                    }
                    // Every stage busy: frame t enters, frame t + 1 − k
                    // leaves (stages run last to first, so each reads its
                    // input before the stage before it overwrites it).
                    for t in k - 1..n {
                        for j in (0..k).rev() {
                            let v = if j == 0 { x[t] } else { carry[j - 1] };
                            let y = stage!(j, v);
                            if j == k - 1 {
                                x[t + 1 - k] = y;
                            } else {
                                carry[j] = y;
                            }
                        }
                    }
                    // Drain: the last frames leave through the last stages.
                    for t in n..n + k - 1 {
                        for j in (t + 1 - n..k).rev() {
                            let y = stage!(j, carry[j - 1]);
                            if j == k - 1 {
                                x[t + 1 - k] = y;
                            } else {
                                carry[j] = y;
                            }
                        }
                    }
                }
                for b in 0..BANDS {
                    state[b][side] = s[b];
                }
            }
        }
    }

    /// The EQ over a chunk while some band's coefficients ramp (the block
    /// after a retune): each running band first steps its ramping
    /// coefficients by `delta`, then filters.
    #[inline(always)]
    unsafe fn eq_ramping<V: Vf>(
        coef: &mut [[V; 5]; BANDS],
        delta: &[[V; 5]; BANDS],
        state: &mut EqState<V>,
        run: [bool; BANDS],
        ramp: [bool; BANDS],
        (xl, xr): (&mut [V], &mut [V]),
        guard: V,
    ) {
        for (l, r) in xl.iter_mut().zip(xr.iter_mut()) {
            for band in (0..BANDS).filter(|&b| run[b]) {
                // SAFETY: level proven by the caller (trait contract).
                unsafe {
                    if ramp[band] {
                        for k in 0..5 {
                            coef[band][k] = V::add(coef[band][k], delta[band][k]);
                        }
                    }
                    *l = tdf2(&coef[band], &mut state[band][0], *l, guard);
                    *r = tdf2(&coef[band], &mut state[band][1], *r, guard);
                }
            }
        }
    }

    /// The output stage's per-register state: gain (with its ramp step),
    /// mono blend and meters, each `[left, right]` where it has sides.
    struct Output<V> {
        gain: [V; 2],
        gain_delta: [V; 2],
        mono: V,
        peak: [V; 2],
        sum_squares: [V; 2],
    }

    /// Gain (ramping when `RAMP`), mono blend (when `MONO`: some lane
    /// sums to mono; a zero blend leaves a finite sample's value unchanged,
    /// so skipping it changes nothing but, at most, the sign of a zero),
    /// meters and the sum into the chunk's bus
    /// (`bus[side][frame · GROUP + lane]`), frame by frame.
    /// Its own function so the meters stay in registers: through memory,
    /// their one-operation recursions would each wait on a store.
    #[inline(always)]
    unsafe fn output<V: Vf, const RAMP: bool, const MONO: bool>(
        out: &mut Output<V>,
        (xl, xr): (&[V], &[V]),
        bus: &mut [[f32; CHUNK * GROUP]; 2],
    ) {
        let Output {
            mut gain,
            gain_delta,
            mono,
            mut peak,
            mut sum_squares,
        } = *out;
        // SAFETY: level proven by the caller (trait contract); the slices
        // hold at most CHUNK frames, so every bus offset stays in bounds.
        unsafe {
            let half = V::splat(0.5);
            for (i, (&l, &r)) in xl.iter().zip(xr).enumerate() {
                if RAMP {
                    gain[0] = V::add(gain[0], gain_delta[0]);
                    gain[1] = V::add(gain[1], gain_delta[1]);
                }
                let l = V::mul(l, gain[0]);
                let r = V::mul(r, gain[1]);
                let (l, r) = if MONO {
                    let m = V::mul(V::add(l, r), half);
                    (
                        V::mul_add(mono, V::sub(m, l), l),
                        V::mul_add(mono, V::sub(m, r), r),
                    )
                } else {
                    (l, r)
                };
                peak[0] = V::max(peak[0], V::abs(l));
                peak[1] = V::max(peak[1], V::abs(r));
                sum_squares[0] = V::mul_add(l, l, sum_squares[0]);
                sum_squares[1] = V::mul_add(r, r, sum_squares[1]);
                let bl = bus[0].as_mut_ptr().add(i * GROUP);
                let br = bus[1].as_mut_ptr().add(i * GROUP);
                V::add(V::load(bl), l).store(bl);
                V::add(V::load(br), r).store(br);
            }
        }
        (out.gain, out.peak, out.sum_squares) = (gain, peak, sum_squares);
    }

    /// Frames per pass: the bus accumulates in a stack buffer of this many
    /// frames × 8 lanes per side. A whole 128-frame block in one pass
    /// loads and stores each register's filter and compressor state once
    /// (64 frames: ≈ 2 % slower).
    const CHUNK: usize = 128;

    /// Every strip of `bank` over `frames`, written once over the lane type.
    #[inline(always)]
    unsafe fn strips_with<V: Vf>(
        bank: &mut StripBank,
        input: &[f32],
        block: usize,
        frames: Range<usize>,
        left: &mut [f32],
        right: &mut [f32],
    ) {
        let p = bank.padded;
        // Per-register working rows, written before they are read on every
        // use (declared once: zeroing them per register cost a tenth of
        // the time).
        // SAFETY: level proven by the caller (trait contract).
        let zero = unsafe { V::splat(0.0) };
        let (mut xl, mut xr, mut target) = ([zero; CHUNK], [zero; CHUNK], [zero; CHUNK]);
        let groups = bank.groups();
        let mut start = frames.start;
        while start < frames.end {
            let end = frames.end.min(start + CHUNK);
            let count = end - start;
            let mut bus = [[0.0f32; CHUNK * GROUP]; 2];
            for group in 0..groups {
                let run: [bool; BANDS] = std::array::from_fn(|b| {
                    bank.band_active[b * groups + group] || bank.band_ramping[b * groups + group]
                });
                let ramp: [bool; BANDS] =
                    std::array::from_fn(|b| bank.band_ramping[b * groups + group]);
                let comp_on = bank.comp_active[group];
                let gain_ramp = bank.gain_ramping[group];
                for half in 0..GROUP / V::N {
                    let strip = group * GROUP + half * V::N;
                    // SAFETY: every per-strip array has `padded` entries and
                    // strip + N ≤ padded; the input holds `block` frames for
                    // each side of each of `bank.strips` strips, only real
                    // strips' rows are read, and end ≤ block (asserted by
                    // `process_strips`); the bus buffers hold CHUNK × GROUP
                    // and count ≤ CHUNK.
                    unsafe {
                        let ld = |v: &[f32], at: usize| V::load(v.as_ptr().add(at + strip));
                        let mut coef = [[V::splat(0.0); 5]; BANDS];
                        let mut delta = [[V::splat(0.0); 5]; BANDS];
                        let mut state = [[[V::splat(0.0); 2]; 2]; BANDS];
                        for band in 0..BANDS {
                            for k in 0..5 {
                                coef[band][k] = ld(&bank.coef, bank.coef_at(band, k));
                                delta[band][k] = ld(&bank.delta, bank.coef_at(band, k));
                            }
                            for side in 0..2 {
                                for w in 0..2 {
                                    state[band][side][w] =
                                        ld(&bank.state, bank.state_at(band, side, w));
                                }
                            }
                        }
                        let [thr, slope, half_knee, knee_scale, attack, release, makeup]: [V; 7] =
                            std::array::from_fn(|k| ld(&bank.comp[k], 0));
                        let mut envelope = ld(&bank.envelope, 0);
                        let mut out = Output {
                            gain: [ld(&bank.gain, 0), ld(&bank.gain, p)],
                            gain_delta: [ld(&bank.gain_delta, 0), ld(&bank.gain_delta, p)],
                            mono: ld(&bank.mono, 0),
                            peak: [ld(&bank.peak, 0), ld(&bank.peak, p)],
                            sum_squares: [ld(&bank.sum_squares, 0), ld(&bank.sum_squares, p)],
                        };
                        let guard = V::splat(ANTI_DENORMAL);
                        let floor = V::splat(LEVEL_FLOOR);
                        let ceiling = V::splat(ENVELOPE_CEILING);
                        let db_per_log2 = V::splat(20.0 * std::f32::consts::LOG10_2);
                        let log2_per_db = V::splat(std::f32::consts::LOG2_10 / 20.0);
                        let knee = V::add(half_knee, half_knee);
                        // Stage by stage over the chunk, so that only the
                        // filter states and the envelope carry from frame to
                        // frame: the long per-frame chain (EQ → log2 → gain
                        // computer → exp2 → meters) of consecutive frames
                        // then overlaps instead of each frame waiting on it.
                        // The operations per sample are the same either way.
                        // The strips' planar rows, transposed N frames at a
                        // time into one register per frame; lanes past the
                        // last strip stay silent.
                        // (`real` is 0 for a half past the last strip: it
                        // stays silent, and no pointer past the input is
                        // ever formed.)
                        let real = bank.strips.saturating_sub(strip).min(V::N);
                        let sides = if real > 0 { 2 } else { 0 };
                        for (side, x) in [&mut xl, &mut xr].into_iter().enumerate().take(sides) {
                            let rows = input.as_ptr().add((strip * 2 + side) * block + start);
                            let mut i = 0;
                            if real == V::N {
                                while i + V::N <= count {
                                    V::load_transposed(
                                        rows.add(i),
                                        2 * block,
                                        x.as_mut_ptr().add(i),
                                    );
                                    i += V::N;
                                }
                            }
                            for (i, xi) in x.iter_mut().enumerate().take(count).skip(i) {
                                let mut frame = [0.0f32; GROUP];
                                for (lane, v) in frame.iter_mut().enumerate().take(real) {
                                    *v = *rows.add(lane * 2 * block + i);
                                }
                                *xi = V::load(frame.as_ptr());
                            }
                        }
                        let x = (&mut xl[..count], &mut xr[..count]);
                        if ramp.contains(&true) {
                            eq_ramping(&mut coef, &delta, &mut state, run, ramp, x, guard);
                        } else {
                            // Steady coefficients (every block but the one
                            // after a retune): the running bands become a
                            // constant, so the band loop unrolls and the
                            // filter states live in registers.
                            let mask = run.iter().rev().fold(0, |m, &on| m << 1 | on as u8);
                            match mask {
                                0 => {}
                                1 => eq_steady::<V, 1>(&coef, &mut state, x, guard),
                                2 => eq_steady::<V, 2>(&coef, &mut state, x, guard),
                                3 => eq_steady::<V, 3>(&coef, &mut state, x, guard),
                                4 => eq_steady::<V, 4>(&coef, &mut state, x, guard),
                                5 => eq_steady::<V, 5>(&coef, &mut state, x, guard),
                                6 => eq_steady::<V, 6>(&coef, &mut state, x, guard),
                                _ => eq_steady::<V, 7>(&coef, &mut state, x, guard),
                            }
                        }
                        if comp_on {
                            // The gain computer: no state, frames independent.
                            // Two passes (level in dB over the threshold, then
                            // the knee curve): each loop's chain is short
                            // enough that several frames fit in the core's
                            // scheduler at once (one pass: 313 → 290 µs per
                            // 1,000-strip block on AVX2).
                            for i in 0..count {
                                let level = V::max(V::max(V::abs(xl[i]), V::abs(xr[i])), floor);
                                target[i] = V::mul_add(log2(level), db_per_log2, V::sub(zero, thr));
                            }
                            for i in 0..count {
                                let over = target[i];
                                // The curve without branches: with
                                // k = clamp(over + W/2, 0, W), it is
                                // ks·k² + slope·max(over − W/2, 0), since
                                // ks·W² = slope·W/2 (ks = slope/2W; 0 and
                                // so a hard knee at W = 0).
                                let k = V::min(V::max(V::add(over, half_knee), zero), knee);
                                let soft = V::mul(knee_scale, V::mul(k, k));
                                let above = V::max(V::sub(over, half_knee), zero);
                                target[i] = V::min(V::mul_add(slope, above, soft), ceiling);
                            }
                            // The smoothing (a short recursion) with the
                            // gain it gives: the exp2 of one frame overlaps
                            // the recursion of the next.
                            for i in 0..count {
                                let reduction = target[i];
                                // Attack where the reduction is below the
                                // envelope (d > 0), else release: the sign
                                // of d picks, with no comparison on the
                                // recursion (at d = ±0 both give the same
                                // envelope).
                                let d = V::sub(envelope, reduction);
                                let alpha = V::select_sign(d, release, attack);
                                envelope = V::mul_add(alpha, d, reduction);
                                let g = exp2(V::mul(V::add(envelope, makeup), log2_per_db));
                                xl[i] = V::mul(xl[i], g);
                                xr[i] = V::mul(xr[i], g);
                            }
                        }
                        let x = (&xl[..count], &xr[..count]);
                        match (gain_ramp, bank.mono_any[group]) {
                            (false, false) => output::<V, false, false>(&mut out, x, &mut bus),
                            (false, true) => output::<V, false, true>(&mut out, x, &mut bus),
                            (true, false) => output::<V, true, false>(&mut out, x, &mut bus),
                            (true, true) => output::<V, true, true>(&mut out, x, &mut bus),
                        }
                        let st = |v: &mut [f32], at: usize, x: V| {
                            x.store(v.as_mut_ptr().add(at + strip))
                        };
                        for band in 0..BANDS {
                            if ramp[band] {
                                for k in 0..5 {
                                    let at = bank.coef_at(band, k);
                                    st(&mut bank.coef, at, coef[band][k]);
                                }
                            }
                            for side in 0..2 {
                                for w in 0..2 {
                                    let at = bank.state_at(band, side, w);
                                    st(&mut bank.state, at, state[band][side][w]);
                                }
                            }
                        }
                        st(&mut bank.envelope, 0, envelope);
                        for side in 0..2 {
                            st(&mut bank.gain, side * p, out.gain[side]);
                            st(&mut bank.peak, side * p, out.peak[side]);
                            st(&mut bank.sum_squares, side * p, out.sum_squares[side]);
                        }
                    }
                }
            }
            for i in 0..count {
                left[start + i] += bus[0][i * GROUP..i * GROUP + V::N].iter().sum::<f32>();
                right[start + i] += bus[1][i * GROUP..i * GROUP + V::N].iter().sum::<f32>();
            }
            start = end;
        }
    }

    #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
    #[target_feature(enable = "avx2,fma")]
    fn strips_avx2(
        bank: &mut StripBank,
        input: &[f32],
        block: usize,
        frames: Range<usize>,
        l: &mut [f32],
        r: &mut [f32],
    ) {
        // SAFETY: only called where avx2+fma were detected.
        unsafe { strips_with::<Avx>(bank, input, block, frames, l, r) }
    }

    #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
    #[target_feature(enable = "sse4.1")]
    fn strips_sse41(
        bank: &mut StripBank,
        input: &[f32],
        block: usize,
        frames: Range<usize>,
        l: &mut [f32],
        r: &mut [f32],
    ) {
        // SAFETY: only called where sse4.1 was detected.
        unsafe { strips_with::<Sse>(bank, input, block, frames, l, r) }
    }

    /// Dispatch; `level` comes from a checked constructor.
    pub(crate) fn process_strips(
        level: SimdLevel,
        bank: &mut StripBank,
        input: &[f32],
        block: usize,
        frames: Range<usize>,
        left: &mut [f32],
        right: &mut [f32],
    ) {
        // The unchecked loads rely on these (guaranteed by the mixer).
        assert!(frames.end <= block && frames.end <= left.len() && frames.end <= right.len());
        assert!(input.len() >= bank.strips * 2 * block);
        assert!(
            bank.coef.len() == BANDS * 5 * bank.padded
                && bank.state.len() == BANDS * 4 * bank.padded
        );
        assert!(bank.gain.len() == 2 * bank.padded && bank.peak.len() == 2 * bank.padded);
        #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
        match level {
            // SAFETY: `level` was checked by the SimdStrips constructor.
            SimdLevel::Avx2Fma => unsafe { strips_avx2(bank, input, block, frames, left, right) },
            // SAFETY: as above.
            _ => unsafe { strips_sse41(bank, input, block, frames, left, right) },
        }
        #[cfg(target_arch = "aarch64")]
        {
            debug_assert_eq!(level, SimdLevel::Neon);
            // SAFETY: NEON is in this build's baseline; the asserts above
            // bound every load and store.
            unsafe { strips_with::<Neon>(bank, input, block, frames, left, right) }
        }
        #[cfg(target_arch = "wasm32")]
        {
            debug_assert_eq!(level, SimdLevel::Simd128);
            // SAFETY: the module is compiled with simd128; the asserts above
            // bound every load and store.
            unsafe { strips_with::<Wasm>(bank, input, block, frames, left, right) }
        }
    }

    /// A bank of biquads over interleaved frames, written once over the lane
    /// type: up to four registers are kept in flight so the recursion's
    /// latency overlaps. Returns how many leading channels it processed (a
    /// multiple of `V::N`); the caller does the rest.
    #[inline(always)]
    unsafe fn biquad_with<V: Vf>(
        coef: &mut [f32],
        state: &mut [f32],
        buf: &mut [f32],
        channels: usize,
    ) -> usize {
        if channels >= TILED_CHANNELS {
            // SAFETY: level proven by the caller; the slices are the bank's.
            return unsafe { biquad_rows::<V>(coef, state, buf, channels) };
        }
        let mut first = 0;
        while first < channels {
            let width = ((channels - first) / V::N).min(4);
            if width == 0 {
                break;
            }
            // SAFETY: level proven by the caller; lanes first ..
            // first + width·N are channels of the bank.
            unsafe {
                match width {
                    1 => biquad_run::<V, 1>(coef, state, buf, channels, first),
                    2 => biquad_run::<V, 2>(coef, state, buf, channels, first),
                    3 => biquad_run::<V, 3>(coef, state, buf, channels, first),
                    _ => biquad_run::<V, 4>(coef, state, buf, channels, first),
                }
            }
            first += width * V::N;
        }
        first
    }

    /// From this many channels on, a bank is run in tiles of
    /// [`TILE_FRAMES`] frames across all channels rather than one
    /// register-column through every frame: a column pass strides through
    /// the buffer a row apart, which the prefetcher serves poorly once rows
    /// are long.
    const TILED_CHANNELS: usize = 128;
    /// Frames per tile (state goes through L1 once per tile). Eight rows
    /// of a register column stay within an L1 set's eight ways even when
    /// rows are 4 KiB apart (1,024 channels). Measured against 32 (the
    /// `biquad` bench, AVX2): 256 channels 5.8 → 6.1 G/s; 1,024 channels
    /// the same in the bench (≈ 3.7 G/s, bound by the buffer coming from
    /// beyond L2), faster on calls with a warm buffer (3.9 → 4.7 G/s).
    const TILE_FRAMES: usize = 8;

    /// Every whole register of channels, tile by tile.
    #[inline(always)]
    unsafe fn biquad_rows<V: Vf>(
        coef: &mut [f32],
        state: &mut [f32],
        buf: &mut [f32],
        channels: usize,
    ) -> usize {
        let mut done = 0;
        for tile in buf.chunks_mut(TILE_FRAMES * channels) {
            let mut first = 0;
            while first + 4 * V::N <= channels {
                // SAFETY: level proven by the caller; first + 4·N ≤ channels.
                unsafe { biquad_run::<V, 4>(coef, state, tile, channels, first) };
                first += 4 * V::N;
            }
            let width = (channels - first) / V::N;
            // SAFETY: as above, with first + width·N ≤ channels.
            unsafe {
                match width {
                    1 => biquad_run::<V, 1>(coef, state, tile, channels, first),
                    2 => biquad_run::<V, 2>(coef, state, tile, channels, first),
                    3 => biquad_run::<V, 3>(coef, state, tile, channels, first),
                    _ => {}
                }
            }
            done = first + width * V::N;
        }
        done
    }

    /// `W` registers of channels from `first` through every frame. `W` is a
    /// constant so the loops unroll and the state stays in registers (a
    /// state round trip through memory would sit on the recursion).
    #[inline(always)]
    unsafe fn biquad_run<V: Vf, const W: usize>(
        coef: &[f32],
        state: &mut [f32],
        buf: &mut [f32],
        channels: usize,
        first: usize,
    ) {
        let frames = buf.len() / channels;
        // SAFETY: level proven by the caller; coef holds 5 × channels and
        // state 2 × channels values (`[k][channel]`), buf `frames ×
        // channels`, and first + W·N ≤ channels (caller).
        unsafe {
            let guard = V::splat(ANTI_DENORMAL);
            let cp = coef.as_ptr().add(first);
            let sp = state.as_mut_ptr().add(first);
            let mut s: [[V; 2]; W] = std::array::from_fn(|u| {
                std::array::from_fn(|w| V::load(sp.add(w * channels + u * V::N)))
            });
            let c: [[V; 5]; W] = std::array::from_fn(|u| {
                std::array::from_fn(|k| V::load(cp.add(k * channels + u * V::N)))
            });
            let ptr = buf.as_mut_ptr().add(first);
            for f in 0..frames {
                let row = ptr.add(f * channels);
                for u in 0..W {
                    let x = V::load(row.add(u * V::N));
                    // With four registers of state the 20 coefficient
                    // vectors do not fit beside them: re-read them from L1
                    // (cheaper than spilling the state).
                    let cu: [V; 5] = if W == 4 {
                        std::array::from_fn(|k| V::load(cp.add(k * channels + u * V::N)))
                    } else {
                        c[u]
                    };
                    tdf2(&cu, &mut s[u], x, guard).store(row.add(u * V::N));
                }
            }
            for (u, su) in s.iter().enumerate() {
                for (w, sw) in su.iter().enumerate() {
                    sw.store(sp.add(w * channels + u * V::N));
                }
            }
        }
    }

    #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
    #[target_feature(enable = "avx2,fma")]
    fn biquad_avx2(coef: &mut [f32], state: &mut [f32], buf: &mut [f32], channels: usize) -> usize {
        // SAFETY: only called where avx2+fma were detected.
        unsafe { biquad_with::<Avx>(coef, state, buf, channels) }
    }

    #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
    #[target_feature(enable = "sse4.1")]
    fn biquad_sse41(
        coef: &mut [f32],
        state: &mut [f32],
        buf: &mut [f32],
        channels: usize,
    ) -> usize {
        // SAFETY: only called where sse4.1 was detected.
        unsafe { biquad_with::<Sse>(coef, state, buf, channels) }
    }

    /// Dispatch for [`BiquadBank`](crate::BiquadBank): processes the
    /// leading channels that fill whole registers and returns how many.
    pub(crate) fn biquad_interleaved(
        level: SimdLevel,
        coef: &mut [f32],
        state: &mut [f32],
        buf: &mut [f32],
        channels: usize,
    ) -> usize {
        assert!(channels > 0 && coef.len() == 5 * channels && state.len() == 2 * channels);
        assert!(buf.len().is_multiple_of(channels));
        #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
        match level {
            // SAFETY: `level` was checked by the bank's constructor.
            SimdLevel::Avx2Fma => unsafe { biquad_avx2(coef, state, buf, channels) },
            // SAFETY: as above.
            _ => unsafe { biquad_sse41(coef, state, buf, channels) },
        }
        #[cfg(target_arch = "aarch64")]
        {
            debug_assert_eq!(level, SimdLevel::Neon);
            // SAFETY: NEON is in this build's baseline; the asserts above
            // bound every access.
            unsafe { biquad_with::<Neon>(coef, state, buf, channels) }
        }
        #[cfg(target_arch = "wasm32")]
        {
            debug_assert_eq!(level, SimdLevel::Simd128);
            // SAFETY: the module is compiled with simd128; the asserts above
            // bound every access.
            unsafe { biquad_with::<Wasm>(coef, state, buf, channels) }
        }
    }

    /// log2 and exp2 on AVX2 for the accuracy tests.
    #[cfg(all(test, any(target_arch = "x86", target_arch = "x86_64")))]
    pub(crate) fn log2_exp2_avx2(x: &[f32; 8]) -> ([f32; 8], [f32; 8]) {
        assert!(SimdLevel::Avx2Fma.is_available());
        #[target_feature(enable = "avx2,fma")]
        fn inner(x: &[f32; 8]) -> ([f32; 8], [f32; 8]) {
            let (mut l, mut e) = ([0.0; 8], [0.0; 8]);
            // SAFETY: avx2+fma checked above; arrays hold 8 values.
            unsafe {
                let v = Avx::load(x.as_ptr());
                log2(v).store(l.as_mut_ptr());
                exp2(v).store(e.as_mut_ptr());
            }
            (l, e)
        }
        // SAFETY: checked above.
        unsafe { inner(x) }
    }
}

pub(crate) use imp::*;

#[cfg(all(test, any(target_arch = "x86", target_arch = "x86_64")))]
mod tests {
    use super::*;

    #[test]
    fn fast_log2_and_exp2_are_accurate() {
        if !SimdLevel::Avx2Fma.is_available() {
            eprintln!("SKIPPED: no AVX2+FMA");
            return;
        }
        let mut worst_log = 0.0f64;
        let mut worst_exp = 0.0f64;
        let mut x = 1e-30f32;
        while x < 1e30 {
            let xs: [f32; 8] = std::array::from_fn(|i| x * (1.0 + i as f32 * 0.137));
            let (l, _) = log2_exp2_avx2(&xs);
            for i in 0..8 {
                let exact = (xs[i] as f64).log2();
                worst_log = worst_log.max((l[i] as f64 - exact).abs() / exact.abs().max(1.0));
            }
            x *= 1.37;
        }
        // Densely over [0.6, 3.8], through the folds at √½, √2 and 2√2.
        for k in 0..4_000 {
            let xs: [f32; 8] = std::array::from_fn(|i| 0.6 + (k * 8 + i) as f32 * 1e-4);
            let (l, _) = log2_exp2_avx2(&xs);
            for i in 0..8 {
                let exact = (xs[i] as f64).log2();
                worst_log = worst_log.max((l[i] as f64 - exact).abs() / exact.abs().max(1.0));
            }
        }
        let mut y = -120.0f32;
        while y < 120.0 {
            let ys: [f32; 8] = std::array::from_fn(|i| y + i as f32 * 0.0173);
            let (_, e) = log2_exp2_avx2(&ys);
            for i in 0..8 {
                let exact = (ys[i] as f64).exp2();
                worst_exp = worst_exp.max(((e[i] as f64 - exact) / exact).abs());
            }
            y += 0.31;
        }
        // log2 within 3e-6 (relative above |log2| = 1), i.e. ≪ 0.01 dB;
        // exp2 within 1e-6 relative.
        assert!(worst_log < 3e-6, "log2 error {worst_log}");
        assert!(worst_exp < 1e-6, "exp2 error {worst_exp}");
    }
}

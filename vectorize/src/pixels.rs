//! Pixel kernels: RGBA → luma (composited over white) and fixed
//! thresholding, on scalar and run-time SIMD (AVX2, SSE4.1), bit-identical.
//!
//! Luma is Rec. 601 in 8-bit integer arithmetic,
//! `y = (77 R + 150 G + 29 B + 128) >> 8`, then composited over white with
//! straight alpha: `(y·a + 255·(255 − a) + 127) / 255` (the division done
//! exactly as `(x + 1 + (x >> 8)) >> 8`, valid for every `x` that occurs).
//! Pixels with alpha < 128 are *transparent*: never ink, and left out of
//! histograms.

use vivace_backend::{
    Backend, BackendKind, Candidate, Preference, SelectError, Selection, SimdLevel, Unavailable,
    select,
};

use crate::error::Error;
use crate::oklab::ColorKernel;
use crate::raster::RgbaRaster;
use crate::threshold::histogram;

/// Alpha at or above which a pixel is opaque.
pub const OPAQUE_ALPHA: u8 = 128;

/// Luma of one RGBA pixel, composited over white.
#[inline(always)]
pub fn luma_of(p: [u8; 4]) -> u8 {
    let [r, g, b, a] = p.map(u32::from);
    let y = (77 * r + 150 * g + 29 * b + 128) >> 8;
    let x = y * a + 255 * (255 - a) + 127;
    ((x + 1 + (x >> 8)) >> 8) as u8
}

/// Converts and thresholds pixels; one implementation per backend. The
/// colour stages ([`ColorKernel`]: OKLab, k-means assignment) come with it.
///
/// The CPU kernels cannot fail; the GPU kernel returns [`Error::Gpu`] when
/// the device does.
pub trait PixelKernel: Backend + ColorKernel + Send + Sync {
    /// Luma of every pixel of `raster` into `luma` (resized).
    fn luma(&self, raster: &RgbaRaster<'_>, luma: &mut Vec<u8>) -> Result<(), Error>;
    /// `ink[i] = 1` where pixel `i` is opaque and its luma is below
    /// `threshold`, else 0 (`ink` resized).
    fn threshold(
        &self,
        raster: &RgbaRaster<'_>,
        threshold: u8,
        ink: &mut Vec<u8>,
    ) -> Result<(), Error>;
    /// Histogram of the luma of the opaque pixels (Otsu's input).
    fn luma_histogram(&self, raster: &RgbaRaster<'_>) -> Result<[u64; 256], Error> {
        let mut luma = Vec::new();
        self.luma(raster, &mut luma)?;
        Ok(histogram(&luma, raster))
    }
}

/// The scalar reference.
#[derive(Clone, Copy, Debug, Default)]
pub struct ScalarPixels;

impl Backend for ScalarPixels {
    fn kind(&self) -> BackendKind {
        BackendKind::Scalar
    }
    fn name(&self) -> String {
        "pixels (scalar)".into()
    }
}

impl PixelKernel for ScalarPixels {
    fn luma(&self, raster: &RgbaRaster<'_>, luma: &mut Vec<u8>) -> Result<(), Error> {
        luma.clear();
        luma.extend(
            raster
                .data()
                .chunks_exact(4)
                .map(|p| luma_of([p[0], p[1], p[2], p[3]])),
        );
        Ok(())
    }
    fn threshold(
        &self,
        raster: &RgbaRaster<'_>,
        threshold: u8,
        ink: &mut Vec<u8>,
    ) -> Result<(), Error> {
        ink.clear();
        ink.extend(raster.data().chunks_exact(4).map(|p| {
            u8::from(p[3] >= OPAQUE_ALPHA && luma_of([p[0], p[1], p[2], p[3]]) < threshold)
        }));
        Ok(())
    }
}

/// SIMD pixel kernels (8 pixels per AVX2 register, 4 per SSE4.1, NEON and
/// wasm simd128).
#[derive(Clone, Copy, Debug)]
pub struct SimdPixels {
    level: SimdLevel,
}

/// Levels with kernels here, best first.
const LEVELS: [SimdLevel; 4] = [
    SimdLevel::Avx2Fma,
    SimdLevel::Sse41,
    SimdLevel::Neon,
    SimdLevel::Simd128,
];

/// Whether this build has a kernel for `level` (the architecture's own).
fn has_kernel(level: SimdLevel) -> bool {
    match level {
        SimdLevel::Avx2Fma | SimdLevel::Sse41 => {
            cfg!(any(target_arch = "x86", target_arch = "x86_64"))
        }
        SimdLevel::Neon => cfg!(all(target_arch = "aarch64", target_feature = "neon")),
        SimdLevel::Simd128 => cfg!(all(target_arch = "wasm32", target_feature = "simd128")),
        _ => false,
    }
}

impl SimdPixels {
    /// The kernel for `level`, if this CPU has it and there is a kernel.
    pub fn new(level: SimdLevel) -> Result<Self, Unavailable> {
        if !LEVELS.contains(&level) || !has_kernel(level) {
            return Err(Unavailable::new(
                BackendKind::Simd(level),
                format!("vivace-vectorize has no {level} pixel kernel"),
            ));
        }
        match level.unavailable_reason() {
            Some(reason) => Err(Unavailable::new(BackendKind::Simd(level), reason)),
            None => Ok(SimdPixels { level }),
        }
    }
    /// The level.
    pub fn level(&self) -> SimdLevel {
        self.level
    }
}

impl Backend for SimdPixels {
    fn kind(&self) -> BackendKind {
        BackendKind::Simd(self.level)
    }
    fn name(&self) -> String {
        format!("pixels ({})", self.level)
    }
}

impl PixelKernel for SimdPixels {
    fn luma(&self, raster: &RgbaRaster<'_>, luma: &mut Vec<u8>) -> Result<(), Error> {
        luma.clear();
        luma.resize(raster.len(), 0);
        let done = imp::run(self.level, raster.data(), None, luma);
        for (o, p) in luma[done..]
            .iter_mut()
            .zip(raster.data()[done * 4..].chunks_exact(4))
        {
            *o = luma_of([p[0], p[1], p[2], p[3]]);
        }
        Ok(())
    }
    fn threshold(
        &self,
        raster: &RgbaRaster<'_>,
        threshold: u8,
        ink: &mut Vec<u8>,
    ) -> Result<(), Error> {
        ink.clear();
        ink.resize(raster.len(), 0);
        let done = imp::run(self.level, raster.data(), Some(threshold), ink);
        for (o, p) in ink[done..]
            .iter_mut()
            .zip(raster.data()[done * 4..].chunks_exact(4))
        {
            *o = u8::from(p[3] >= OPAQUE_ALPHA && luma_of([p[0], p[1], p[2], p[3]]) < threshold);
        }
        Ok(())
    }
}

/// The luma / ink kernel over one instruction set's 32-bit integer lanes,
/// written once; each `imp` module names its intrinsics (or thin wrappers
/// with the x86 shapes).
macro_rules! kernel {
    ($name:ident, $feat:literal, $reg:ty, $n:expr, $loadu:ident, $storeu:ident, $set1:ident, $and:ident,
     $srli:ident, $mullo:ident, $add:ident, $sub:ident, $cmpgt:ident) => {
        #[target_feature(enable = $feat)]
        unsafe fn $name(data: &[u8], threshold: Option<u8>, out: &mut [u8]) -> usize {
            let groups = out.len().min(data.len() / 4) / $n;
            let (byte, c77, c150, c29, c128, c255, c65152, one) = (
                $set1(0xff),
                $set1(77),
                $set1(150),
                $set1(29),
                $set1(128),
                $set1(255),
                $set1(255 * 255 + 127),
                $set1(1),
            );
            let t = $set1(i32::from(threshold.unwrap_or(0)));
            let opaque = $set1(i32::from(OPAQUE_ALPHA) - 1);
            for g in 0..groups {
                // SAFETY: pixel group `g` lies inside `data` (4·N bytes
                // from 4·N·g, and `groups` counts whole groups); the
                // instruction set is enabled on this function.
                let v = unsafe { $loadu(data.as_ptr().add(g * 4 * $n).cast::<$reg>()) };
                let r = $and(v, byte);
                let gg = $and($srli::<8>(v), byte);
                let b = $and($srli::<16>(v), byte);
                let a = $srli::<24>(v);
                let y = $srli::<8>($add(
                    $add($add($mullo(r, c77), $mullo(gg, c150)), $mullo(b, c29)),
                    c128,
                ));
                // y·a + 255·(255 − a) + 127 = y·a − 255·a + 65152
                let x = $sub($add($mullo(y, a), c65152), $mullo(a, c255));
                let l = $srli::<8>($add($add(x, one), $srli::<8>(x)));
                let lanes = match threshold {
                    None => l,
                    // ink = opaque && l < t, as 0/1.
                    Some(_) => $and($and($cmpgt(t, l), $cmpgt(a, opaque)), one),
                };
                let mut tmp = [0i32; $n];
                // SAFETY: `tmp` holds N i32.
                unsafe { $storeu(tmp.as_mut_ptr().cast::<$reg>(), lanes) };
                for (o, v) in out[g * $n..(g + 1) * $n].iter_mut().zip(tmp) {
                    *o = v as u8;
                }
            }
            groups * $n
        }
    };
}

#[cfg(not(any(
    target_arch = "x86",
    target_arch = "x86_64",
    all(target_arch = "aarch64", target_feature = "neon"),
    all(target_arch = "wasm32", target_feature = "simd128")
)))]
mod imp {
    use super::*;
    pub(super) fn run(_: SimdLevel, _: &[u8], _: Option<u8>, _: &mut [u8]) -> usize {
        unreachable!("SimdPixels cannot be built on this architecture")
    }
}

#[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
mod imp {
    #[cfg(target_arch = "x86")]
    use std::arch::x86::*;
    #[cfg(target_arch = "x86_64")]
    use std::arch::x86_64::*;

    use super::*;

    /// Converts (or, with a threshold, thresholds) whole groups of pixels
    /// of `data` into `out`; returns how many pixels were done.
    pub(super) fn run(
        level: SimdLevel,
        data: &[u8],
        threshold: Option<u8>,
        out: &mut [u8],
    ) -> usize {
        match level {
            // SAFETY: `SimdPixels::new` checked AVX2.
            SimdLevel::Avx2Fma => unsafe { avx2(data, threshold, out) },
            // SAFETY: `SimdPixels::new` checked SSE4.1.
            SimdLevel::Sse41 => unsafe { sse41(data, threshold, out) },
            _ => 0,
        }
    }

    kernel!(
        avx2,
        "avx2",
        __m256i,
        8,
        _mm256_loadu_si256,
        _mm256_storeu_si256,
        _mm256_set1_epi32,
        _mm256_and_si256,
        _mm256_srli_epi32,
        _mm256_mullo_epi32,
        _mm256_add_epi32,
        _mm256_sub_epi32,
        _mm256_cmpgt_epi32
    );
    kernel!(
        sse41,
        "sse4.1",
        __m128i,
        4,
        _mm_loadu_si128,
        _mm_storeu_si128,
        _mm_set1_epi32,
        _mm_and_si128,
        _mm_srli_epi32,
        _mm_mullo_epi32,
        _mm_add_epi32,
        _mm_sub_epi32,
        _mm_cmpgt_epi32
    );
}

/// NEON, with wrappers in the x86 intrinsics' shapes (NEON is part of the
/// aarch64 baseline this was compiled for).
#[cfg(all(target_arch = "aarch64", target_feature = "neon"))]
mod imp {
    use super::*;
    use std::arch::aarch64::*;

    pub(super) fn run(
        level: SimdLevel,
        data: &[u8],
        threshold: Option<u8>,
        out: &mut [u8],
    ) -> usize {
        match level {
            // SAFETY: NEON is in this build's baseline.
            SimdLevel::Neon => unsafe { neon(data, threshold, out) },
            _ => 0,
        }
    }

    type Reg = uint32x4_t;
    /// # Safety
    /// `p` points to 16 readable bytes.
    #[inline]
    #[target_feature(enable = "neon")]
    unsafe fn loadu(p: *const Reg) -> Reg {
        // SAFETY: the caller's contract.
        unsafe { vld1q_u32(p.cast::<u32>()) }
    }
    /// # Safety
    /// `p` points to 16 writable bytes.
    #[inline]
    #[target_feature(enable = "neon")]
    unsafe fn storeu(p: *mut Reg, v: Reg) {
        // SAFETY: the caller's contract.
        unsafe { vst1q_u32(p.cast::<u32>(), v) }
    }
    #[inline]
    #[target_feature(enable = "neon")]
    fn set1(v: i32) -> Reg {
        vdupq_n_u32(v as u32)
    }
    #[inline]
    #[target_feature(enable = "neon")]
    fn srli<const N: i32>(v: Reg) -> Reg {
        vshrq_n_u32::<N>(v)
    }
    // The values are small and non-negative: unsigned compare is signed
    // compare.
    kernel!(
        neon, "neon", Reg, 4, loadu, storeu, set1, vandq_u32, srli, vmulq_u32, vaddq_u32,
        vsubq_u32, vcgtq_u32
    );
}

/// wasm simd128 (the module was compiled with simd128).
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod imp {
    use super::*;
    use std::arch::wasm32::*;

    pub(super) fn run(
        level: SimdLevel,
        data: &[u8],
        threshold: Option<u8>,
        out: &mut [u8],
    ) -> usize {
        match level {
            // SAFETY: the module is compiled with simd128.
            SimdLevel::Simd128 => unsafe { simd128(data, threshold, out) },
            _ => 0,
        }
    }

    /// # Safety
    /// `p` points to 16 readable bytes.
    #[inline]
    unsafe fn loadu(p: *const v128) -> v128 {
        // SAFETY: the caller's contract; wasm loads need no alignment.
        unsafe { v128_load(p) }
    }
    /// # Safety
    /// `p` points to 16 writable bytes.
    #[inline]
    unsafe fn storeu(p: *mut v128, v: v128) {
        // SAFETY: the caller's contract.
        unsafe { v128_store(p, v) }
    }
    #[inline]
    fn srli<const N: u32>(v: v128) -> v128 {
        u32x4_shr(v, N)
    }
    kernel!(
        simd128,
        "simd128",
        v128,
        4,
        loadu,
        storeu,
        i32x4_splat,
        v128_and,
        srli,
        i32x4_mul,
        i32x4_add,
        i32x4_sub,
        i32x4_gt
    );
}

/// The best CPU kernel here: the widest SIMD level, else scalar.
pub fn best_cpu_kernel() -> Box<dyn PixelKernel> {
    LEVELS
        .into_iter()
        .find_map(|l| SimdPixels::new(l).ok())
        .map_or_else(
            || Box::new(ScalarPixels) as Box<dyn PixelKernel>,
            |k| Box::new(k) as Box<dyn PixelKernel>,
        )
}

/// The CPU part of the chain: AVX2 → SSE4.1 → scalar.
fn cpu_chain<'a>(chain: &mut Vec<Candidate<'a, Box<dyn PixelKernel>>>) {
    for level in LEVELS {
        chain.push(Candidate::new(BackendKind::Simd(level), move || {
            SimdPixels::new(level).map(|k| Box::new(k) as Box<dyn PixelKernel>)
        }));
    }
    chain.push(Candidate::new(BackendKind::Scalar, || {
        Ok(Box::new(ScalarPixels) as Box<dyn PixelKernel>)
    }));
}

/// The chain GPU → AVX2 → SSE4.1 → scalar, resolved against `preference`.
///
/// `Auto` passes over the GPU: whether it pays depends on the machine and
/// the image size, which only a measurement can tell — use
/// [`calibrate_pixel_kernel`] for that. A forced `gpu` preference gets
/// `gpu::GpuPixels` (feature `gpu`) from
/// `gpu::DEFAULT_GPU_MIN_PIXELS`.
pub fn select_pixel_kernel(
    preference: Preference,
) -> Result<Selection<Box<dyn PixelKernel>>, SelectError> {
    let mut chain: Vec<Candidate<'_, Box<dyn PixelKernel>>> =
        vec![Candidate::new(BackendKind::Gpu, move || {
            if !preference.is_forced() {
                return Err(Unavailable::new(
                    BackendKind::Gpu,
                    "auto uses the GPU only after calibrate_pixel_kernel measured it faster",
                ));
            }
            gpu_candidate(None)
        })];
    cpu_chain(&mut chain);
    select(preference, chain)
}

/// Like [`select_pixel_kernel`], but under `Auto` (or a forced `gpu`)
/// first measures where the GPU overtakes the best CPU kernel on this
/// machine, for images up to `max_pixels`
/// (`gpu::GpuPixels::measure_crossover`,
/// a fraction of a second to a few seconds), and takes the GPU with that
/// crossover if it ever wins. The measurement is in
/// [`Selection::skipped`] when the GPU lost.
pub fn calibrate_pixel_kernel(
    preference: Preference,
    max_pixels: usize,
) -> Result<Selection<Box<dyn PixelKernel>>, SelectError> {
    let mut chain: Vec<Candidate<'_, Box<dyn PixelKernel>>> =
        vec![Candidate::new(BackendKind::Gpu, move || {
            gpu_candidate(Some((preference, max_pixels)))
        })];
    cpu_chain(&mut chain);
    select(preference, chain)
}

/// The GPU kernel; with `calibrate`, only where it measured faster (or is
/// forced).
#[cfg(feature = "gpu")]
fn gpu_candidate(
    calibrate: Option<(Preference, usize)>,
) -> Result<Box<dyn PixelKernel>, Unavailable> {
    let gpu = crate::gpu::GpuPixels::shared()?;
    let Some((preference, max_pixels)) = calibrate else {
        return Ok(Box::new(gpu));
    };
    let crossover = gpu
        .measure_crossover(max_pixels)
        .map_err(|e| Unavailable::new(BackendKind::Gpu, e.to_string()))?;
    match crossover.min_pixels {
        Some(n) => Ok(Box::new(gpu.with_min_pixels(n))),
        None if preference.is_forced() => Ok(Box::new(gpu)),
        None => Err(Unavailable::new(
            BackendKind::Gpu,
            format!("measured slower than the CPU: {crossover}"),
        )),
    }
}

#[cfg(not(feature = "gpu"))]
fn gpu_candidate(_: Option<(Preference, usize)>) -> Result<Box<dyn PixelKernel>, Unavailable> {
    Err(Unavailable::new(
        BackendKind::Gpu,
        "vivace-vectorize was built without its `gpu` feature",
    ))
}

/// Every pixel kernel this CPU can run, scalar first.
pub fn available_pixel_kernels() -> Vec<Box<dyn PixelKernel>> {
    let mut kernels: Vec<Box<dyn PixelKernel>> = vec![Box::new(ScalarPixels)];
    kernels.extend(
        LEVELS
            .into_iter()
            .filter_map(|l| SimdPixels::new(l).ok())
            .map(|k| Box::new(k) as Box<dyn PixelKernel>),
    );
    kernels
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_division_by_255_is_exact_wherever_it_is_used() {
        for y in 0..=255u32 {
            for a in 0..=255u32 {
                let x = y * a + 255 * (255 - a) + 127;
                assert_eq!((x + 1 + (x >> 8)) >> 8, x / 255, "y {y} a {a}");
            }
        }
    }

    #[test]
    fn luma_matches_an_f64_reference_within_one_level() {
        for p in [
            [0, 0, 0, 255],
            [255, 255, 255, 255],
            [255, 0, 0, 255],
            [0, 255, 0, 255],
            [0, 0, 255, 255],
            [12, 200, 99, 77],
            [0, 0, 0, 0],
        ] {
            let [r, g, b, a] = p.map(f64::from);
            let y = 0.299 * r + 0.587 * g + 0.114 * b;
            let want = (y * a + 255.0 * (255.0 - a)) / 255.0;
            assert!(
                (f64::from(luma_of(p)) - want).abs() <= 1.0,
                "{p:?}: {} vs {want}",
                luma_of(p)
            );
        }
        assert_eq!(
            luma_of([0, 0, 0, 0]),
            255,
            "transparent composites to white"
        );
    }
}

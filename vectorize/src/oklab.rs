//! Colour pixel stages: sRGB → OKLab and nearest-centroid assignment for
//! k-means, on scalar and SIMD (AVX2: 8 pixels per register, SSE4.1: 4),
//! bit-identical.
//!
//! OKLab is Björn Ottosson's (2020): sRGB decoded through a 256-entry
//! table (scalar on every backend: a gather does not pay here), the two
//! 3×3 matrices, and a cube root computed the same way on every backend —
//! an exponent-bit estimate and three Newton steps, with only IEEE `+ − × ÷`
//! (no fused multiply-add), so SIMD lanes round exactly like the scalar
//! code. Its relative error is below 1e-6.
//!
//! Assignment picks the centroid with the least squared distance, the
//! lowest index on ties, with `(ΔL² + Δa²) + Δb²` evaluated in that order
//! on every backend.

use std::sync::OnceLock;

use rayon::prelude::*;

use crate::error::Error;
use crate::pixels::{OPAQUE_ALPHA, ScalarPixels, SimdPixels};
use crate::raster::RgbaRaster;
use vivace_backend::SimdLevel;

/// Planar OKLab pixels (`l[i]`, `a[i]`, `b[i]` of pixel `i`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LabPlanes {
    /// Lightness, 0–1.
    pub l: Vec<f32>,
    /// Green–red.
    pub a: Vec<f32>,
    /// Blue–yellow.
    pub b: Vec<f32>,
}

impl LabPlanes {
    /// Number of pixels.
    pub fn len(&self) -> usize {
        self.l.len()
    }
    /// Whether there are no pixels.
    pub fn is_empty(&self) -> bool {
        self.l.is_empty()
    }
    /// Pixel `i` as `[L, a, b]`.
    pub fn get(&self, i: usize) -> [f32; 3] {
        [self.l[i], self.a[i], self.b[i]]
    }
}

/// sRGB 8-bit → linear light.
pub(crate) fn decode_table() -> &'static [f32; 256] {
    static TABLE: OnceLock<[f32; 256]> = OnceLock::new();
    TABLE.get_or_init(|| {
        std::array::from_fn(|v| {
            let c = v as f64 / 255.0;
            (if c <= 0.04045 {
                c / 12.92
            } else {
                ((c + 0.055) / 1.055).powf(2.4)
            }) as f32
        })
    })
}

const M1: [[f32; 3]; 3] = [
    [0.412_221_46, 0.536_332_55, 0.051_445_995],
    [0.211_903_5, 0.680_699_5, 0.107_396_96],
    [0.088_302_46, 0.281_718_85, 0.629_978_7],
];
const M2: [[f32; 3]; 3] = [
    [0.210_454_26, 0.793_617_8, -0.004_072_047],
    [1.977_998_5, -2.428_592_2, 0.450_593_7],
    [0.025_904_037, 0.782_771_77, -0.808_675_77],
];
const CBRT_MAGIC: u32 = 0x2a51_37a0;
const THIRD: f32 = 1.0 / 3.0;

/// The shared cube root (x ≥ 0).
#[inline(always)]
fn cbrt(x: f32) -> f32 {
    let mut y = f32::from_bits(x.to_bits() / 3 + CBRT_MAGIC);
    for _ in 0..3 {
        y = (y + y + x / (y * y)) * THIRD;
    }
    y
}

/// OKLab of one pixel (alpha ignored), exactly as every backend computes it.
pub fn oklab_of(p: [u8; 4]) -> [f32; 3] {
    let t = decode_table();
    let rgb = [t[p[0] as usize], t[p[1] as usize], t[p[2] as usize]];
    let lms: [f32; 3] =
        std::array::from_fn(|r| cbrt(M1[r][0] * rgb[0] + M1[r][1] * rgb[1] + M1[r][2] * rgb[2]));
    std::array::from_fn(|r| M2[r][0] * lms[0] + M2[r][1] * lms[1] + M2[r][2] * lms[2])
}

/// Squared distance, in the shared order.
#[inline(always)]
pub fn distance2(p: [f32; 3], c: [f32; 3]) -> f32 {
    let (dl, da, db) = (p[0] - c[0], p[1] - c[1], p[2] - c[2]);
    (dl * dl + da * da) + db * db
}

/// Index of the nearest centroid (lowest on ties).
pub fn nearest(p: [f32; 3], centroids: &[[f32; 3]]) -> usize {
    let (mut best, mut best_d) = (0, f32::INFINITY);
    for (k, &c) in centroids.iter().enumerate() {
        let d = distance2(p, c);
        if d < best_d {
            best = k;
            best_d = d;
        }
    }
    best
}

/// Label given to transparent pixels.
pub const TRANSPARENT: u8 = u8::MAX;

/// Borrowed OKLab planes of a run of pixels.
#[derive(Clone, Copy, Debug)]
pub struct LabRef<'a> {
    /// Lightness.
    pub l: &'a [f32],
    /// Green–red.
    pub a: &'a [f32],
    /// Blue–yellow.
    pub b: &'a [f32],
}

/// Mutably borrowed OKLab planes of a run of pixels.
#[derive(Debug)]
pub struct LabMut<'a> {
    /// Lightness.
    pub l: &'a mut [f32],
    /// Green–red.
    pub a: &'a mut [f32],
    /// Blue–yellow.
    pub b: &'a mut [f32],
}

impl LabRef<'_> {
    fn len(&self) -> usize {
        self.l.len()
    }
    fn get(&self, i: usize) -> [f32; 3] {
        [self.l[i], self.a[i], self.b[i]]
    }
}

impl LabMut<'_> {
    fn len(&self) -> usize {
        self.l.len()
    }
}

/// Pixels per parallel work item of the colour stages.
const CHUNK: usize = 16_384;

/// The colour stages of one backend: per run of pixels (`*_chunk`), and
/// over whole images in parallel chunks on the current rayon pool.
pub trait ColorKernel: Send + Sync {
    /// OKLab of the RGBA pixels `rgba` into `out` (as many pixels).
    fn oklab_chunk(&self, rgba: &[u8], out: LabMut<'_>);
    /// The nearest of `centroids` (at most 254) for each pixel of `lab`
    /// into `labels`, or [`TRANSPARENT`] where `rgba` (the same pixels'
    /// RGBA bytes, if given) has alpha below 128.
    fn assign_chunk(
        &self,
        lab: LabRef<'_>,
        rgba: Option<&[u8]>,
        centroids: &[[f32; 3]],
        labels: &mut [u8],
    );

    /// OKLab of every pixel of `raster` into `out` (resized).
    fn oklab(&self, raster: &RgbaRaster<'_>, out: &mut LabPlanes) -> Result<(), Error> {
        let n = raster.len();
        for plane in [&mut out.l, &mut out.a, &mut out.b] {
            plane.clear();
            plane.resize(n, 0.0);
        }
        out.l
            .par_chunks_mut(CHUNK)
            .zip(out.a.par_chunks_mut(CHUNK))
            .zip(out.b.par_chunks_mut(CHUNK))
            .zip(raster.data().par_chunks(4 * CHUNK))
            .for_each(|(((l, a), b), rgba)| self.oklab_chunk(rgba, LabMut { l, a, b }));
        Ok(())
    }

    /// [`ColorKernel::assign_chunk`] over every pixel of `lab` (as many as
    /// `labels` holds).
    fn assign(
        &self,
        lab: &LabPlanes,
        rgba: Option<&[u8]>,
        centroids: &[[f32; 3]],
        labels: &mut [u8],
    ) -> Result<(), Error> {
        let n = labels.len().min(lab.len());
        labels[..n]
            .par_chunks_mut(CHUNK)
            .enumerate()
            .for_each(|(k, labels)| {
                let r = k * CHUNK..k * CHUNK + labels.len();
                let view = LabRef {
                    l: &lab.l[r.clone()],
                    a: &lab.a[r.clone()],
                    b: &lab.b[r.clone()],
                };
                let px = rgba.map(|p| &p[r.start * 4..r.end * 4]);
                self.assign_chunk(view, px, centroids, labels);
            });
        Ok(())
    }

    /// The nearest of `centroids` (1 to 254) to the OKLab colour of every
    /// pixel of `raster`, into `labels` (one per pixel), [`TRANSPARENT`]
    /// where alpha is below 128: [`oklab`](ColorKernel::oklab) then
    /// [`assign`](ColorKernel::assign) with the same labels, but chunk by
    /// chunk, so the OKLab planes of the whole image are never stored (the
    /// GPU kernel uploads 4 bytes a pixel instead of 16).
    ///
    /// ```
    /// use vivace_vectorize::oklab::{ColorKernel, TRANSPARENT};
    /// use vivace_vectorize::RgbaRaster;
    /// use vivace_vectorize::pixels::ScalarPixels;
    ///
    /// // Red, blue, and a transparent pixel.
    /// let px = [255, 0, 0, 255, 0, 0, 255, 255, 9, 9, 9, 0];
    /// let raster = RgbaRaster::new(3, 1, &px)?;
    /// let red = vivace_vectorize::oklab::oklab_of([255, 0, 0, 255]);
    /// let blue = vivace_vectorize::oklab::oklab_of([0, 0, 255, 255]);
    /// let mut labels = [0u8; 3];
    /// ScalarPixels.assign_raster(&raster, &[blue, red], &mut labels)?;
    /// assert_eq!(labels, [1, 0, TRANSPARENT]);
    /// # Ok::<(), vivace_vectorize::Error>(())
    /// ```
    fn assign_raster(
        &self,
        raster: &RgbaRaster<'_>,
        centroids: &[[f32; 3]],
        labels: &mut [u8],
    ) -> Result<(), Error> {
        check_assign_raster(raster.len(), centroids, labels)?;
        labels
            .par_chunks_mut(CHUNK)
            .zip(raster.data().par_chunks(4 * CHUNK))
            .for_each_init(LabPlanes::default, |lab, (labels, rgba)| {
                let n = labels.len();
                for plane in [&mut lab.l, &mut lab.a, &mut lab.b] {
                    plane.resize(n, 0.0);
                }
                self.oklab_chunk(
                    rgba,
                    LabMut {
                        l: &mut lab.l[..n],
                        a: &mut lab.a[..n],
                        b: &mut lab.b[..n],
                    },
                );
                let view = LabRef {
                    l: &lab.l[..n],
                    a: &lab.a[..n],
                    b: &lab.b[..n],
                };
                self.assign_chunk(view, Some(rgba), centroids, labels);
            });
        Ok(())
    }
}

/// What [`ColorKernel::assign_raster`] accepts: one label per pixel, and 1
/// to 254 centroids (label 255 is [`TRANSPARENT`]).
pub(crate) fn check_assign_raster(
    pixels: usize,
    centroids: &[[f32; 3]],
    labels: &[u8],
) -> Result<(), Error> {
    if centroids.is_empty() || centroids.len() > 254 {
        return Err(Error::InvalidParameter {
            name: "centroids",
            reason: format!("1 to 254 centroids, got {}", centroids.len()),
        });
    }
    if labels.len() != pixels {
        return Err(Error::InvalidParameter {
            name: "labels",
            reason: format!("one label per pixel: {pixels}, got {}", labels.len()),
        });
    }
    Ok(())
}

fn scalar_oklab(data: &[u8], out: &mut LabMut<'_>, from: usize) {
    for (i, p) in data.chunks_exact(4).enumerate().skip(from) {
        let [l, a, b] = oklab_of([p[0], p[1], p[2], p[3]]);
        out.l[i] = l;
        out.a[i] = a;
        out.b[i] = b;
    }
}

fn scalar_assign(
    lab: LabRef<'_>,
    rgba: Option<&[u8]>,
    centroids: &[[f32; 3]],
    labels: &mut [u8],
    from: usize,
) {
    for (i, label) in labels.iter_mut().enumerate().skip(from) {
        *label = if rgba.is_some_and(|a| a[i * 4 + 3] < OPAQUE_ALPHA) {
            TRANSPARENT
        } else {
            nearest(lab.get(i), centroids) as u8
        };
    }
}

impl ColorKernel for ScalarPixels {
    fn oklab_chunk(&self, rgba: &[u8], mut out: LabMut<'_>) {
        scalar_oklab(rgba, &mut out, 0);
    }
    fn assign_chunk(
        &self,
        lab: LabRef<'_>,
        rgba: Option<&[u8]>,
        centroids: &[[f32; 3]],
        labels: &mut [u8],
    ) {
        scalar_assign(lab, rgba, centroids, labels, 0);
    }
}

impl ColorKernel for SimdPixels {
    fn oklab_chunk(&self, rgba: &[u8], mut out: LabMut<'_>) {
        // Decode through the table into the planes first (scalar), then
        // the matrices and cube roots in SIMD, in place.
        let t = decode_table();
        for (i, p) in rgba.chunks_exact(4).enumerate() {
            out.l[i] = t[p[0] as usize];
            out.a[i] = t[p[1] as usize];
            out.b[i] = t[p[2] as usize];
        }
        let done = imp::oklab(self.level(), &mut out);
        scalar_oklab(rgba, &mut out, done);
    }
    fn assign_chunk(
        &self,
        lab: LabRef<'_>,
        rgba: Option<&[u8]>,
        centroids: &[[f32; 3]],
        labels: &mut [u8],
    ) {
        let done = imp::assign(self.level(), lab, centroids, labels);
        if let Some(a) = rgba {
            for (i, label) in labels[..done].iter_mut().enumerate() {
                if a[i * 4 + 3] < OPAQUE_ALPHA {
                    *label = TRANSPARENT;
                }
            }
        }
        scalar_assign(lab, rgba, centroids, labels, done);
    }
}

/// The OKLab and assignment kernels over one instruction set's f32 lanes,
/// written once; each `imp` module names its intrinsics (or thin wrappers
/// with the x86 shapes: `cmplt` gives a lane mask as a float register,
/// `blend(a, b, mask)` takes `b` where the mask is set).
macro_rules! kernels {
    ($oklab:ident, $assign:ident, $cbrt:ident, $feat:literal, $reg:ty, $n:expr,
     $loadu:ident, $storeu:ident, $set1:ident, $add:ident, $sub:ident, $mul:ident,
     $div:ident, $cmplt:ident, $blend:ident) => {
        /// Cube root, lane by lane exactly as [`cbrt`] (the exponent
        /// estimate `bits / 3` per lane, then Newton steps in SIMD).
        #[target_feature(enable = $feat)]
        unsafe fn $cbrt(x: $reg) -> $reg {
            // SAFETY: a register is N f32 lanes, bit for bit N u32.
            let bits: [u32; $n] = unsafe { std::mem::transmute(x) };
            let est: [u32; $n] = std::array::from_fn(|k| bits[k] / 3 + CBRT_MAGIC);
            // SAFETY: as above, back.
            let mut y: $reg = unsafe { std::mem::transmute(est) };
            let third = $set1(THIRD);
            for _ in 0..3 {
                y = $mul($add($add(y, y), $div(x, $mul(y, y))), third);
            }
            y
        }

        #[target_feature(enable = $feat)]
        unsafe fn $oklab(p: &mut LabMut<'_>) -> usize {
            let groups = p.len() / $n;
            let m1: [[$reg; 3]; 3] =
                std::array::from_fn(|r| std::array::from_fn(|c| $set1(M1[r][c])));
            let m2: [[$reg; 3]; 3] =
                std::array::from_fn(|r| std::array::from_fn(|c| $set1(M2[r][c])));
            for g in 0..groups {
                let o = g * $n;
                // SAFETY: lanes o..o+N lie in every plane (whole
                // groups of the planes' common length).
                let rgb = unsafe {
                    [
                        $loadu(p.l.as_ptr().add(o)),
                        $loadu(p.a.as_ptr().add(o)),
                        $loadu(p.b.as_ptr().add(o)),
                    ]
                };
                let lms: [$reg; 3] = std::array::from_fn(|r| {
                    // SAFETY: the feature is enabled on this function.
                    unsafe {
                        $cbrt($add(
                            $add($mul(m1[r][0], rgb[0]), $mul(m1[r][1], rgb[1])),
                            $mul(m1[r][2], rgb[2]),
                        ))
                    }
                });
                let out: [$reg; 3] = std::array::from_fn(|r| {
                    $add(
                        $add($mul(m2[r][0], lms[0]), $mul(m2[r][1], lms[1])),
                        $mul(m2[r][2], lms[2]),
                    )
                });
                // SAFETY: as for the loads.
                unsafe {
                    $storeu(p.l.as_mut_ptr().add(o), out[0]);
                    $storeu(p.a.as_mut_ptr().add(o), out[1]);
                    $storeu(p.b.as_mut_ptr().add(o), out[2]);
                }
            }
            groups * $n
        }

        #[target_feature(enable = $feat)]
        unsafe fn $assign(lab: LabRef<'_>, centroids: &[[f32; 3]], labels: &mut [u8]) -> usize {
            let groups = labels.len().min(lab.len()) / $n;
            let cs: Vec<[$reg; 3]> = centroids
                .iter()
                .map(|c| [$set1(c[0]), $set1(c[1]), $set1(c[2])])
                .collect();
            for g in 0..groups {
                let o = g * $n;
                // SAFETY: lanes o..o+N lie in every plane.
                let (l, a, b) = unsafe {
                    (
                        $loadu(lab.l.as_ptr().add(o)),
                        $loadu(lab.a.as_ptr().add(o)),
                        $loadu(lab.b.as_ptr().add(o)),
                    )
                };
                let mut best = $set1(f32::INFINITY);
                let mut idx = $set1(0.0);
                for (k, c) in cs.iter().enumerate() {
                    let (dl, da, db) = ($sub(l, c[0]), $sub(a, c[1]), $sub(b, c[2]));
                    let d = $add($add($mul(dl, dl), $mul(da, da)), $mul(db, db));
                    let closer = $cmplt(d, best);
                    best = $blend(best, d, closer);
                    idx = $blend(idx, $set1(k as f32), closer);
                }
                // SAFETY: a register is N f32 lanes.
                let lanes: [f32; $n] = unsafe { std::mem::transmute(idx) };
                for (dst, v) in labels[o..o + $n].iter_mut().zip(lanes) {
                    *dst = v as u8;
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
    pub(super) fn oklab(_: SimdLevel, _: &mut LabMut<'_>) -> usize {
        unreachable!("SimdPixels cannot be built on this architecture")
    }
    pub(super) fn assign(_: SimdLevel, _: LabRef<'_>, _: &[[f32; 3]], _: &mut [u8]) -> usize {
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

    /// OKLab from linear planes, in place; returns the pixels done.
    pub(super) fn oklab(level: SimdLevel, planes: &mut LabMut<'_>) -> usize {
        match level {
            // SAFETY: `SimdPixels::new` checked AVX2.
            SimdLevel::Avx2Fma => unsafe { oklab_avx2(planes) },
            // SAFETY: `SimdPixels::new` checked SSE4.1.
            SimdLevel::Sse41 => unsafe { oklab_sse41(planes) },
            _ => 0,
        }
    }

    /// Nearest-centroid labels for whole groups; returns the pixels done.
    pub(super) fn assign(
        level: SimdLevel,
        lab: LabRef<'_>,
        centroids: &[[f32; 3]],
        labels: &mut [u8],
    ) -> usize {
        match level {
            // SAFETY: `SimdPixels::new` checked AVX2.
            SimdLevel::Avx2Fma => unsafe { assign_avx2(lab, centroids, labels) },
            // SAFETY: `SimdPixels::new` checked SSE4.1.
            SimdLevel::Sse41 => unsafe { assign_sse41(lab, centroids, labels) },
            _ => 0,
        }
    }

    #[inline]
    #[target_feature(enable = "avx")]
    fn cmplt_avx(a: __m256, b: __m256) -> __m256 {
        _mm256_cmp_ps::<_CMP_LT_OQ>(a, b)
    }

    kernels!(
        oklab_avx2,
        assign_avx2,
        cbrt_avx2,
        "avx2",
        __m256,
        8,
        _mm256_loadu_ps,
        _mm256_storeu_ps,
        _mm256_set1_ps,
        _mm256_add_ps,
        _mm256_sub_ps,
        _mm256_mul_ps,
        _mm256_div_ps,
        cmplt_avx,
        _mm256_blendv_ps
    );
    kernels!(
        oklab_sse41,
        assign_sse41,
        cbrt_sse41,
        "sse4.1",
        __m128,
        4,
        _mm_loadu_ps,
        _mm_storeu_ps,
        _mm_set1_ps,
        _mm_add_ps,
        _mm_sub_ps,
        _mm_mul_ps,
        _mm_div_ps,
        _mm_cmplt_ps,
        _mm_blendv_ps
    );
}

/// NEON, with wrappers in the x86 intrinsics' shapes (NEON is part of the
/// aarch64 baseline this was compiled for).
#[cfg(all(target_arch = "aarch64", target_feature = "neon"))]
mod imp {
    use super::*;
    use std::arch::aarch64::*;

    pub(super) fn oklab(level: SimdLevel, planes: &mut LabMut<'_>) -> usize {
        match level {
            // SAFETY: NEON is in this build's baseline.
            SimdLevel::Neon => unsafe { oklab_neon(planes) },
            _ => 0,
        }
    }

    pub(super) fn assign(
        level: SimdLevel,
        lab: LabRef<'_>,
        centroids: &[[f32; 3]],
        labels: &mut [u8],
    ) -> usize {
        match level {
            // SAFETY: NEON is in this build's baseline.
            SimdLevel::Neon => unsafe { assign_neon(lab, centroids, labels) },
            _ => 0,
        }
    }

    #[inline]
    #[target_feature(enable = "neon")]
    fn cmplt(a: float32x4_t, b: float32x4_t) -> float32x4_t {
        vreinterpretq_f32_u32(vcltq_f32(a, b))
    }
    #[inline]
    #[target_feature(enable = "neon")]
    fn blend(a: float32x4_t, b: float32x4_t, mask: float32x4_t) -> float32x4_t {
        vbslq_f32(vreinterpretq_u32_f32(mask), b, a)
    }

    kernels!(
        oklab_neon,
        assign_neon,
        cbrt_neon,
        "neon",
        float32x4_t,
        4,
        vld1q_f32,
        vst1q_f32,
        vdupq_n_f32,
        vaddq_f32,
        vsubq_f32,
        vmulq_f32,
        vdivq_f32,
        cmplt,
        blend
    );
}

/// wasm simd128 (the module was compiled with simd128).
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod imp {
    use super::*;
    use std::arch::wasm32::*;

    pub(super) fn oklab(level: SimdLevel, planes: &mut LabMut<'_>) -> usize {
        match level {
            // SAFETY: the module is compiled with simd128.
            SimdLevel::Simd128 => unsafe { oklab_simd128(planes) },
            _ => 0,
        }
    }

    pub(super) fn assign(
        level: SimdLevel,
        lab: LabRef<'_>,
        centroids: &[[f32; 3]],
        labels: &mut [u8],
    ) -> usize {
        match level {
            // SAFETY: the module is compiled with simd128.
            SimdLevel::Simd128 => unsafe { assign_simd128(lab, centroids, labels) },
            _ => 0,
        }
    }

    /// # Safety
    /// `p` points to 4 readable f32.
    #[inline]
    unsafe fn loadu(p: *const f32) -> v128 {
        // SAFETY: the caller's contract; wasm loads need no alignment.
        unsafe { v128_load(p.cast::<v128>()) }
    }
    /// # Safety
    /// `p` points to 4 writable f32.
    #[inline]
    unsafe fn storeu(p: *mut f32, v: v128) {
        // SAFETY: the caller's contract.
        unsafe { v128_store(p.cast::<v128>(), v) }
    }
    #[inline]
    fn blend(a: v128, b: v128, mask: v128) -> v128 {
        v128_bitselect(b, a, mask)
    }

    kernels!(
        oklab_simd128,
        assign_simd128,
        cbrt_simd128,
        "simd128",
        v128,
        4,
        loadu,
        storeu,
        f32x4_splat,
        f32x4_add,
        f32x4_sub,
        f32x4_mul,
        f32x4_div,
        f32x4_lt,
        blend
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cube_root_is_within_1e6_relative() {
        for k in 0..=10_000 {
            let x = k as f32 / 10_000.0;
            let want = f64::from(x).cbrt();
            let got = f64::from(cbrt(x));
            assert!(
                (got - want).abs() <= 1e-6 * want.max(1e-3),
                "cbrt({x}) = {got}, want {want}"
            );
        }
    }

    #[test]
    fn oklab_matches_an_f64_reference() {
        // Ottosson's reference values: white is L = 1, a = b = 0; pure red
        // (sRGB 255, 0, 0) is (0.62796, 0.22486, 0.12585).
        let white = oklab_of([255, 255, 255, 255]);
        assert!((white[0] - 1.0).abs() < 1e-4 && white[1].abs() < 1e-4 && white[2].abs() < 1e-4);
        let red = oklab_of([255, 0, 0, 255]);
        for (got, want) in red.iter().zip([0.627_955, 0.224_863, 0.125_846]) {
            assert!((got - want).abs() < 1e-4, "{red:?}");
        }
        let black = oklab_of([0, 0, 0, 255]);
        assert!(black.iter().all(|v| v.abs() < 1e-3), "{black:?}");
    }
}

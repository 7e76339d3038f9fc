//! The pixel stages on the GPU (feature `gpu`, on vivace-gpu-compute):
//! luma, ink thresholding, the luma histogram and k-means assignment
//! (from OKLab planes, or straight from RGBA with the OKLab conversion in
//! the shader: [`ColorKernel::assign_raster`], what colour quantisation
//! uses for the whole image — 4 bytes a pixel go up instead of 16).
//!
//! [`GpuPixels`] sends a call to the GPU only when it covers at least
//! [`GpuPixels::min_pixels`] pixels; smaller calls (the k-means sample,
//! small images) and OKLab planes run on the best CPU kernel it wraps.
//! That threshold is the *crossover*: [`GpuPixels::measure_crossover`]
//! times the CPU and the GPU at growing sizes on this machine, and
//! [`calibrate_pixel_kernel`](crate::pixels::calibrate_pixel_kernel) uses the
//! GPU under `Auto` only where that measurement says it pays.
//!
//! # Agreement with the CPU
//!
//! - Luma, ink and the histogram use the CPU's 8-bit integer arithmetic:
//!   **bit-identical** on every adapter.
//! - Assignment computes `(ΔL² + Δa²) + Δb²` like the CPU, but WGSL lets the
//!   shader compiler fuse multiply-adds, so the distances can differ in the
//!   last bits. A pixel can therefore get a different label only when its
//!   two centroids are equidistant to within [`ASSIGN_TOLERANCE`]
//!   (relative); the tests check exactly that bound on random inputs.
//!   Assignment from RGBA keeps every product unfused, but its cube roots
//!   divide, and WGSL's division need not be correctly rounded: the same
//!   bound holds, checked the same way.
//!
//! Images larger than one storage binding are processed in slices of at
//! most [`SLICE_PIXELS`] pixels.

use std::sync::Arc;
use std::time::Duration;

use vivace_backend::{Backend, BackendKind, Calibrator, Unavailable};
use vivace_gpu_compute::{ComputeKernel, GpuBuffer, GpuContext};

use crate::error::Error;
use crate::oklab::{ColorKernel, LabMut, LabPlanes, LabRef, check_assign_raster, decode_table};
use crate::pixels::{PixelKernel, best_cpu_kernel};
use crate::raster::RgbaRaster;

/// The WGSL modules, each with the shared helpers (`common.wgsl`) first.
const LUMA_SOURCE: &str = concat!(include_str!("common.wgsl"), include_str!("luma.wgsl"));
const HISTOGRAM_SOURCE: &str = concat!(
    include_str!("common.wgsl"),
    include_str!("luma_histogram.wgsl")
);
const ASSIGN_SOURCE: &str = concat!(include_str!("common.wgsl"), include_str!("assign.wgsl"));
const ASSIGN_RGBA_SOURCE: &str = concat!(
    include_str!("common.wgsl"),
    include_str!("assign_rgba.wgsl")
);

const LUMA_OR_INK: ComputeKernel = ComputeKernel {
    label: "vectorize_luma_or_ink",
    source: LUMA_SOURCE,
    entry_point: "luma_or_ink",
    workgroup_size: 256,
};
const LUMA_HISTOGRAM: ComputeKernel = ComputeKernel {
    label: "vectorize_luma_histogram",
    source: HISTOGRAM_SOURCE,
    entry_point: "luma_histogram",
    workgroup_size: 256,
};
const ASSIGN: ComputeKernel = ComputeKernel {
    label: "vectorize_assign",
    source: ASSIGN_SOURCE,
    entry_point: "assign",
    workgroup_size: 256,
};
const ASSIGN_ALPHA: ComputeKernel = ComputeKernel {
    label: "vectorize_assign_alpha",
    source: ASSIGN_SOURCE,
    entry_point: "assign_alpha",
    workgroup_size: 256,
};

const ASSIGN_RGBA: ComputeKernel = ComputeKernel {
    label: "vectorize_assign_rgba",
    source: ASSIGN_RGBA_SOURCE,
    entry_point: "assign_rgba",
    workgroup_size: 256,
};

/// Relative distance tolerance of GPU assignment: where the GPU's label
/// differs from the CPU's, the two centroids' squared distances (computed
/// the CPU's way) differ by at most this fraction of the larger, plus
/// `1e-7` absolute.
pub const ASSIGN_TOLERANCE: f32 = 1e-5;

/// Most pixels per GPU slice (16 M: 64 MiB of RGBA or of one OKLab plane).
pub const SLICE_PIXELS: usize = 1 << 24;

/// Pixels from which a [`GpuPixels`] built without calibration uses the
/// GPU (a 1024 × 1024 image): an estimate, not a measurement; use
/// [`GpuPixels::measure_crossover`] for this machine's.
pub const DEFAULT_GPU_MIN_PIXELS: usize = 1 << 20;

/// Most workgroups of the histogram pass (each adds its 256 bins).
const HISTOGRAM_GROUPS: u64 = 1024;

#[repr(C)]
#[derive(Debug, Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Params([u32; 4]);

fn gpu_error(e: vivace_gpu_compute::Error) -> Error {
    Error::Gpu(e.to_string())
}

/// The pixel stages on a GPU, with a CPU kernel for calls below the
/// crossover and for the OKLab conversion.
pub struct GpuPixels {
    ctx: Arc<GpuContext>,
    cpu: Box<dyn PixelKernel>,
    min_pixels: usize,
    slice: usize,
}

impl std::fmt::Debug for GpuPixels {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GpuPixels")
            .field("adapter", &self.ctx.adapter().name)
            .field("cpu", &self.cpu.name())
            .field("min_pixels", &self.min_pixels)
            .finish()
    }
}

/// CPU and GPU time at one size, from [`GpuPixels::measure_crossover`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CrossoverPoint {
    /// Pixels per call.
    pub pixels: usize,
    /// Median CPU time (luma histogram + 16-colour assignment from RGBA).
    pub cpu: Duration,
    /// Median GPU time for the same, transfers included.
    pub gpu: Duration,
}

/// The outcome of [`GpuPixels::measure_crossover`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Crossover {
    /// The measurements, smallest size first.
    pub points: Vec<CrossoverPoint>,
    /// The smallest measured size from which the GPU was faster at every
    /// larger measured size too; `None` where it never was.
    pub min_pixels: Option<usize>,
}

impl std::fmt::Display for Crossover {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.min_pixels {
            Some(n) => write!(f, "GPU from {n} pixels")?,
            None => write!(f, "GPU never faster")?,
        }
        for p in &self.points {
            write!(f, "; {} px: cpu {:?}, gpu {:?}", p.pixels, p.cpu, p.gpu)?;
        }
        Ok(())
    }
}

impl GpuPixels {
    /// On `ctx`, using the GPU from `min_pixels` pixels per call (0: for
    /// every call), with the best CPU kernel for the rest.
    pub fn new(ctx: Arc<GpuContext>, min_pixels: usize) -> Self {
        let limit = usize::try_from(ctx.limits().max_storage_buffer_binding_size).unwrap_or(0);
        // Whole words of packed bytes per slice, and at least one word.
        let slice = (limit / 4).clamp(4, SLICE_PIXELS) & !3;
        GpuPixels {
            ctx,
            cpu: best_cpu_kernel(),
            min_pixels,
            slice,
        }
    }

    /// On the process-wide shared context, from
    /// [`DEFAULT_GPU_MIN_PIXELS`], or why not.
    pub fn shared() -> Result<Self, Unavailable> {
        GpuContext::shared()
            .map(|ctx| GpuPixels::new(ctx, DEFAULT_GPU_MIN_PIXELS))
            .map_err(|e| e.unavailable())
    }

    /// The same kernel with another crossover.
    pub fn with_min_pixels(mut self, min_pixels: usize) -> Self {
        self.min_pixels = min_pixels;
        self
    }

    /// Calls on at least this many pixels run on the GPU.
    pub fn min_pixels(&self) -> usize {
        self.min_pixels
    }

    /// The context.
    pub fn context(&self) -> &Arc<GpuContext> {
        &self.ctx
    }

    /// Limits slices to `pixels` (rounded down to a multiple of 4, at least
    /// 4), so tests can exercise slicing on small images.
    pub fn with_slice_pixels(mut self, pixels: usize) -> Self {
        self.slice = pixels.clamp(4, SLICE_PIXELS) & !3;
        self
    }

    fn on_gpu(&self, pixels: usize) -> bool {
        pixels > 0 && pixels >= self.min_pixels
    }

    /// Times the CPU kernel and the GPU on the luma histogram and a
    /// 16-colour assignment from RGBA ([`ColorKernel::assign_raster`], the
    /// stages a tracing sends to the GPU) of a synthetic image at 2¹⁶,
    /// 2¹⁸, … pixels up to `max_pixels` (which is always measured), and
    /// finds where the GPU starts winning. Takes a few runs per size: call it once per process
    /// (or keep the answer).
    pub fn measure_crossover(&self, max_pixels: usize) -> Result<Crossover, Error> {
        let max_pixels = max_pixels.max(1);
        let mut sizes: Vec<usize> = (16..=30)
            .step_by(2)
            .map(|p| 1usize << p)
            .take_while(|&n| n < max_pixels)
            .collect();
        sizes.push(max_pixels);
        let calibrator =
            Calibrator::new(1, 3).map_err(|e| Error::Gpu(format!("calibration: {e}")))?;
        let centroids: Vec<[f32; 3]> = (0..16)
            .map(|k| {
                let t = k as f32 / 15.0;
                [t, 0.2 * t - 0.1, 0.1 - 0.2 * t]
            })
            .collect();
        let gpu = GpuPixels {
            ctx: Arc::clone(&self.ctx),
            cpu: best_cpu_kernel(),
            min_pixels: 0,
            slice: self.slice,
        };
        let mut points = Vec::new();
        for &n in &sizes {
            let rgba: Vec<u8> = (0..n * 4)
                .map(|i| (i.wrapping_mul(2_654_435_761) >> 7) as u8 | 0x80)
                .collect();
            let raster = RgbaRaster::with_limit(n, 1, &rgba, u64::MAX)?;
            let mut labels = vec![0u8; n];
            let mut failure = None;
            let mut time = |kernel: &dyn PixelKernel| -> Result<Duration, Error> {
                let mut timed = Timed(kernel);
                let timing = calibrator
                    .time(&mut timed, |k| {
                        let run =
                            k.0.luma_histogram(&raster)
                                .and_then(|_| k.0.assign_raster(&raster, &centroids, &mut labels));
                        if let Err(e) = run {
                            failure = Some(e);
                        }
                    })
                    .map_err(|e| Error::Gpu(format!("calibration: {e}")))?;
                match failure.take() {
                    Some(e) => Err(e),
                    None => Ok(timing.median),
                }
            };
            let cpu = time(self.cpu.as_ref())?;
            let gpu = time(&gpu)?;
            points.push(CrossoverPoint {
                pixels: n,
                cpu,
                gpu,
            });
        }
        let wins_from = points
            .iter()
            .rposition(|p| p.gpu >= p.cpu)
            .map_or(0, |last_loss| last_loss + 1);
        let min_pixels = points.get(wins_from).map(|p| p.pixels);
        Ok(Crossover { points, min_pixels })
    }

    /// Pixels `start..start + count` of the RGBA bytes `rgba`, on the GPU.
    fn upload_pixels(
        &self,
        rgba: &[u8],
        start: usize,
        count: usize,
    ) -> Result<GpuBuffer<u8>, Error> {
        self.ctx
            .upload(&rgba[start * 4..(start + count) * 4])
            .map_err(gpu_error)
    }

    /// Centroids on the GPU, padded to `vec4` (WGSL's array stride).
    fn upload_centroids(&self, centroids: &[[f32; 3]]) -> Result<GpuBuffer<[f32; 4]>, Error> {
        let padded: Vec<[f32; 4]> = centroids.iter().map(|c| [c[0], c[1], c[2], 0.0]).collect();
        self.ctx.upload(&padded).map_err(gpu_error)
    }

    /// Runs `dispatch` on slices of `len` pixels: `(start, count)`.
    fn slices(
        &self,
        len: usize,
        mut dispatch: impl FnMut(usize, usize) -> Result<(), Error>,
    ) -> Result<(), Error> {
        let mut start = 0;
        while start < len {
            let count = self.slice.min(len - start);
            dispatch(start, count)?;
            start += count;
        }
        Ok(())
    }

    /// Luma of `raster` into `out`, or with `ink: Some(threshold)` its ink.
    fn luma_or_ink(
        &self,
        raster: &RgbaRaster<'_>,
        ink: Option<u8>,
        out: &mut Vec<u8>,
    ) -> Result<(), Error> {
        let n = raster.len();
        out.clear();
        out.resize(n, 0);
        let data = raster.data();
        self.slices(n, |start, count| {
            let pixels = self.upload_pixels(data, start, count)?;
            let result = self.ctx.alloc::<u8>(count).map_err(gpu_error)?;
            let params = Params([
                count as u32,
                u32::from(ink.unwrap_or(0)),
                u32::from(ink.is_some()),
                0,
            ]);
            let mut rec = self.ctx.record();
            rec.dispatch_elements(
                &LUMA_OR_INK,
                &params,
                &[&pixels, &result],
                count.div_ceil(4) as u64,
            )
            .map_err(gpu_error)?;
            rec.submit_and_read(&result, &mut out[start..start + count])
                .map_err(gpu_error)
        })
    }
}

/// A borrowed kernel as a [`Backend`], for the calibrator.
struct Timed<'a>(&'a dyn PixelKernel);

impl Backend for Timed<'_> {
    fn kind(&self) -> BackendKind {
        self.0.kind()
    }
    fn name(&self) -> String {
        self.0.name()
    }
}

impl Backend for GpuPixels {
    fn kind(&self) -> BackendKind {
        BackendKind::Gpu
    }
    fn name(&self) -> String {
        format!(
            "pixels (gpu: {}, from {} px; else {})",
            self.ctx.adapter().name,
            self.min_pixels,
            self.cpu.name()
        )
    }
}

impl PixelKernel for GpuPixels {
    fn luma(&self, raster: &RgbaRaster<'_>, luma: &mut Vec<u8>) -> Result<(), Error> {
        if !self.on_gpu(raster.len()) {
            return self.cpu.luma(raster, luma);
        }
        self.luma_or_ink(raster, None, luma)
    }

    fn threshold(
        &self,
        raster: &RgbaRaster<'_>,
        threshold: u8,
        ink: &mut Vec<u8>,
    ) -> Result<(), Error> {
        if !self.on_gpu(raster.len()) {
            return self.cpu.threshold(raster, threshold, ink);
        }
        self.luma_or_ink(raster, Some(threshold), ink)
    }

    fn luma_histogram(&self, raster: &RgbaRaster<'_>) -> Result<[u64; 256], Error> {
        if !self.on_gpu(raster.len()) {
            return self.cpu.luma_histogram(raster);
        }
        let mut total = [0u64; 256];
        let mut bins = [0u32; 256];
        let data = raster.data();
        self.slices(raster.len(), |start, count| {
            let pixels = self.upload_pixels(data, start, count)?;
            let gbins: GpuBuffer<u32> = self.ctx.alloc(256).map_err(gpu_error)?;
            let mut rec = self.ctx.record();
            rec.clear(&gbins);
            let groups = (count as u64).div_ceil(256).min(HISTOGRAM_GROUPS);
            let params = Params([count as u32, 0, 0, 0]);
            rec.dispatch_workgroups(&LUMA_HISTOGRAM, &params, &[&pixels, &gbins], groups)
                .map_err(gpu_error)?;
            rec.submit_and_read(&gbins, &mut bins).map_err(gpu_error)?;
            for (t, &b) in total.iter_mut().zip(&bins) {
                *t += u64::from(b);
            }
            Ok(())
        })?;
        Ok(total)
    }
}

impl ColorKernel for GpuPixels {
    fn oklab_chunk(&self, rgba: &[u8], out: LabMut<'_>) {
        self.cpu.oklab_chunk(rgba, out);
    }

    fn assign_chunk(
        &self,
        lab: LabRef<'_>,
        rgba: Option<&[u8]>,
        centroids: &[[f32; 3]],
        labels: &mut [u8],
    ) {
        self.cpu.assign_chunk(lab, rgba, centroids, labels);
    }

    fn oklab(&self, raster: &RgbaRaster<'_>, out: &mut LabPlanes) -> Result<(), Error> {
        self.cpu.oklab(raster, out)
    }

    fn assign(
        &self,
        lab: &LabPlanes,
        rgba: Option<&[u8]>,
        centroids: &[[f32; 3]],
        labels: &mut [u8],
    ) -> Result<(), Error> {
        let n = labels.len().min(lab.len());
        if !self.on_gpu(n) || centroids.is_empty() {
            return self.cpu.assign(lab, rgba, centroids, labels);
        }
        if centroids.len() > 254 {
            return Err(Error::InvalidParameter {
                name: "centroids",
                reason: format!("at most 254, got {}", centroids.len()),
            });
        }
        if let Some(px) = rgba
            && px.len() < n * 4
        {
            return Err(Error::BufferSize {
                width: n,
                height: 1,
                expected: n * 4,
                actual: px.len(),
            });
        }
        let gcentroids = self.upload_centroids(centroids)?;
        self.slices(n, |start, count| {
            let r = start..start + count;
            let l = self.ctx.upload(&lab.l[r.clone()]).map_err(gpu_error)?;
            let a = self.ctx.upload(&lab.a[r.clone()]).map_err(gpu_error)?;
            let b = self.ctx.upload(&lab.b[r.clone()]).map_err(gpu_error)?;
            let out = self.ctx.alloc::<u8>(count).map_err(gpu_error)?;
            let params = Params([count as u32, centroids.len() as u32, 0, 0]);
            let words = count.div_ceil(4) as u64;
            let mut rec = self.ctx.record();
            match rgba {
                Some(px) => {
                    let pixels = self.upload_pixels(px, start, count)?;
                    rec.dispatch_elements(
                        &ASSIGN_ALPHA,
                        &params,
                        &[&l, &a, &b, &gcentroids, &out, &pixels],
                        words,
                    )
                    .map_err(gpu_error)?;
                    rec.hold(pixels);
                }
                None => rec
                    .dispatch_elements(&ASSIGN, &params, &[&l, &a, &b, &gcentroids, &out], words)
                    .map_err(gpu_error)?,
            }
            rec.submit_and_read(&out, &mut labels[r]).map_err(gpu_error)
        })
    }

    fn assign_raster(
        &self,
        raster: &RgbaRaster<'_>,
        centroids: &[[f32; 3]],
        labels: &mut [u8],
    ) -> Result<(), Error> {
        let n = raster.len();
        if !self.on_gpu(n) {
            return self.cpu.assign_raster(raster, centroids, labels);
        }
        check_assign_raster(n, centroids, labels)?;
        let gcentroids = self.upload_centroids(centroids)?;
        let table = self.ctx.upload(decode_table()).map_err(gpu_error)?;
        let data = raster.data();
        self.slices(n, |start, count| {
            let pixels = self.upload_pixels(data, start, count)?;
            let out = self.ctx.alloc::<u8>(count).map_err(gpu_error)?;
            let params = Params([count as u32, centroids.len() as u32, 0, 0]);
            let mut rec = self.ctx.record();
            rec.dispatch_elements(
                &ASSIGN_RGBA,
                &params,
                &[&pixels, &table, &gcentroids, &out],
                count.div_ceil(4) as u64,
            )
            .map_err(gpu_error)?;
            rec.submit_and_read(&out, &mut labels[start..start + count])
                .map_err(gpu_error)
        })
    }
}

//! Generic kernels on every backend: `axpy`, reductions, prefix scan and a
//! byte histogram.
//!
//! Each kernel has three implementations behind [`GenericKernels`]:
//! [`ScalarKernels`] (the reference), [`SimdKernels`] (run-time dispatched
//! AVX2+FMA or SSE4.1 on x86/x86_64) and [`GpuKernels`] (WGSL on
//! wgpu). [`select_kernels`] walks the usual chain and [`calibrate_kernels`]
//! times them on your size.
//!
//! ```
//! use vivace_backend::Preference;
//! use vivace_gpu_compute::kernels::{select_kernels, GenericKernels};
//!
//! let mut kernels = select_kernels(Preference::Auto).unwrap().backend;
//! let x = vec![1.0f32; 1000];
//! let mut y = vec![2.0f32; 1000];
//! kernels.axpy(0.5, &x, &mut y).unwrap();
//! assert_eq!(y[999], 2.5);
//! assert_eq!(kernels.sum(&y).unwrap(), 2500.0);
//! assert_eq!(kernels.histogram(&[7u8, 7, 9]).unwrap()[7], 2);
//! ```

mod gpu;
mod scalar;
mod simd;

pub use gpu::GpuKernels;
pub use scalar::ScalarKernels;
pub use simd::SimdKernels;

use vivace_backend::{
    Backend, BackendKind, CalibrateError, Calibration, Calibrator, Candidate, Preference,
    SelectError, Selection, SimdLevel, Unavailable, select,
};

use crate::{ComputeKernel, Error, Result};

/// `y = a·x + y`, one invocation per value.
pub const AXPY: ComputeKernel = ComputeKernel {
    label: "axpy",
    source: include_str!("axpy.wgsl"),
    entry_point: "axpy",
    workgroup_size: 256,
};

/// Sum / min / max into one partial per workgroup.
pub const REDUCE: ComputeKernel = ComputeKernel {
    label: "reduce",
    source: include_str!("reduce.wgsl"),
    entry_point: "reduce",
    workgroup_size: 256,
};

/// Inclusive scan of 1024-value blocks, with block totals.
pub const SCAN_BLOCKS: ComputeKernel = ComputeKernel {
    label: "scan_blocks",
    source: include_str!("scan.wgsl"),
    entry_point: "scan_blocks",
    workgroup_size: 256,
};

/// Adds scanned block totals to the blocks after them.
pub const SCAN_ADD_OFFSETS: ComputeKernel = ComputeKernel {
    label: "scan_add_offsets",
    source: include_str!("scan.wgsl"),
    entry_point: "add_offsets",
    workgroup_size: 256,
};

/// 256-bin byte histogram.
pub const HISTOGRAM: ComputeKernel = ComputeKernel {
    label: "histogram",
    source: include_str!("histogram.wgsl"),
    entry_point: "histogram",
    workgroup_size: 256,
};

/// Which reduction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReduceOp {
    /// Sum (0 for no values).
    Sum,
    /// Minimum (+∞ for no values).
    Min,
    /// Maximum (−∞ for no values).
    Max,
}

impl ReduceOp {
    /// The value of the reduction over no values.
    pub fn identity(self) -> f32 {
        match self {
            ReduceOp::Sum => 0.0,
            ReduceOp::Min => f32::INFINITY,
            ReduceOp::Max => f32::NEG_INFINITY,
        }
    }

    pub(crate) fn code(self) -> u32 {
        match self {
            ReduceOp::Sum => 0,
            ReduceOp::Min => 1,
            ReduceOp::Max => 2,
        }
    }
}

/// The generic kernels, on one backend.
///
/// Results agree across backends within stated tolerances: `axpy` within
/// 2 ulp-scale rounding (one backend fuses the multiply-add, another may
/// not); `sum` within the floating-point error bound of its summation order
/// (`≈ n·ε·Σ|x|`, the order differs by backend); min, max, scan and
/// histogram exactly. NaN inputs give unspecified min/max.
pub trait GenericKernels: Backend + Send {
    /// `y = a·x + y`; `x` and `y` must have the same length.
    fn axpy(&mut self, a: f32, x: &[f32], y: &mut [f32]) -> Result<()>;

    /// Reduces `x` with `op` (its identity for empty input).
    fn reduce(&mut self, op: ReduceOp, x: &[f32]) -> Result<f32>;

    /// `output[i] = input[0] + … + input[i]`, wrapping on overflow; the
    /// slices must have the same length.
    fn inclusive_scan(&mut self, input: &[u32], output: &mut [u32]) -> Result<()>;

    /// Counts of each byte value (at most `u32::MAX` bytes).
    fn histogram(&mut self, bytes: &[u8]) -> Result<[u32; 256]>;

    /// Sum of `x`.
    fn sum(&mut self, x: &[f32]) -> Result<f32> {
        self.reduce(ReduceOp::Sum, x)
    }

    /// Minimum of `x`, `None` when empty.
    fn min(&mut self, x: &[f32]) -> Result<Option<f32>> {
        Ok((!x.is_empty()).then_some(self.reduce(ReduceOp::Min, x)?))
    }

    /// Maximum of `x`, `None` when empty.
    fn max(&mut self, x: &[f32]) -> Result<Option<f32>> {
        Ok((!x.is_empty()).then_some(self.reduce(ReduceOp::Max, x)?))
    }
}

pub(crate) fn check_same_len(what: &'static str, expected: usize, actual: usize) -> Result<()> {
    if expected == actual {
        Ok(())
    } else {
        Err(Error::LengthMismatch {
            what,
            expected,
            actual,
        })
    }
}

pub(crate) fn check_histogram_len(len: usize) -> Result<()> {
    if len as u64 > u64::from(u32::MAX) {
        return Err(Error::InputTooLong {
            len,
            max: u32::MAX as usize,
        });
    }
    Ok(())
}

/// The fallback chain: GPU, SIMD levels best first, scalar.
///
/// With `gpu_on_auto` false the GPU candidate refuses under `Auto`: these
/// kernels take host slices, and for memory-bound work the host↔device
/// copies cost more than the kernel saves, so the GPU is used when forced
/// or when calibration shows it winning.
pub fn kernel_chain<'a>(
    preference: Preference,
    gpu_on_auto: bool,
) -> Vec<Candidate<'a, Box<dyn GenericKernels>>> {
    let mut chain: Vec<Candidate<'a, Box<dyn GenericKernels>>> =
        vec![Candidate::new(BackendKind::Gpu, move || {
            if !gpu_on_auto && !preference.is_forced() {
                return Err(Unavailable::new(
                    BackendKind::Gpu,
                    "not chosen on auto: host-slice kernels are bound by host-device copies \
                     (force gpu, or calibrate)",
                ));
            }
            GpuKernels::shared()
                .map(|k| Box::new(k) as Box<dyn GenericKernels>)
                .map_err(|e| e.unavailable())
        })];
    for level in [SimdLevel::Avx512, SimdLevel::Avx2Fma, SimdLevel::Sse41] {
        let kind = BackendKind::Simd(level);
        if level == SimdLevel::Avx512 && level.is_available() {
            // No AVX-512 kernels here (yet); keep the reason visible.
            chain.push(Candidate::new(kind, move || {
                Err(Unavailable::new(
                    kind,
                    "no AVX-512 generic kernels; AVX2+FMA is the widest",
                ))
            }));
            continue;
        }
        chain.push(Candidate::new(kind, move || {
            SimdKernels::new(level).map(|k| Box::new(k) as Box<dyn GenericKernels>)
        }));
    }
    chain.push(Candidate::new(BackendKind::Scalar, || {
        Ok(Box::new(ScalarKernels) as Box<dyn GenericKernels>)
    }));
    chain
}

/// Picks the generic kernels for `preference`: under `Auto` the best SIMD
/// level, else scalar (see [`kernel_chain`] for why not the GPU).
pub fn select_kernels(
    preference: Preference,
) -> Result<Selection<Box<dyn GenericKernels>>, SelectError> {
    select(preference, kernel_chain(preference, false))
}

/// Times every available backend on a sum and an axpy over `len` values and
/// keeps the fastest (GPU included under `Auto`).
pub fn calibrate_kernels(
    preference: Preference,
    len: usize,
) -> Result<Calibration<Box<dyn GenericKernels>>, CalibrateError> {
    let x: Vec<f32> = (0..len).map(|i| (i % 17) as f32 * 0.25).collect();
    let mut y = x.clone();
    Calibrator::new(1, 5)?.pick_fastest(
        preference,
        kernel_chain(preference, true),
        |k: &mut Box<dyn GenericKernels>| {
            // A backend that failed here would look fast; after a successful
            // build only device loss can fail, and the next real call
            // reports it.
            let sum = k.sum(&x);
            let axpy = k.axpy(1.0, &x, &mut y);
            std::hint::black_box((sum.is_ok(), axpy.is_ok()));
        },
    )
}

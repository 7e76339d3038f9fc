//! The strip kernel on the GPU (feature `gpu`, on vivace-gpu-compute), for
//! offline bulk rendering of many strips × long blocks.
//!
//! One GPU invocation runs one strip through every frame of a call in
//! order (the filters and the compressor recur in time, so a strip cannot
//! be split across invocations), its parameters and state in registers;
//! then partial sums over chunks of 64 strips (one invocation per chunk,
//! side and frame) and a final pass per frame add the strips into the bus.
//! Parallelism in the strip pass therefore comes from the number of
//! strips: thousands are needed to fill a real GPU, and each call pays an
//! upload, three dispatches and two readbacks, so a 128-frame real-time
//! block never pays. Not real-time safe (it allocates and waits on the
//! device): use it for rendering, chosen by
//! [`calibrate_strip_kernel`](crate::calibrate_strip_kernel) where it
//! measured faster, or forced.
//!
//! # Agreement with scalar
//!
//! The shader performs the scalar kernel's filter operations in its order
//! and keeps every filter product rounded on its own (WGSL would otherwise
//! let the shader compiler fuse a multiply and an add; on an NVIDIA H100
//! that alone put a low shelf 1.0e-5 of full scale away from scalar). The
//! compressor uses the GPU's `log2`/`exp2` instead of libm's
//! `log10`/`powf`, and the bus is summed in chunks rather than strictly in
//! strip order. The mixer tests hold it to the SIMD kernels' tolerance
//! (1e-5 of the bus's full scale) on random settings, on lavapipe in CI
//! and on an H100 when one was lent.

use std::ops::Range;
use std::sync::Arc;

use vivace_backend::{Backend, BackendKind, Unavailable};
use vivace_gpu_compute::{ComputeKernel, GpuContext};

use crate::bank::{BANDS, GROUP, StripBank};
use crate::error::Error;
use crate::kernel::{StripKernel, check_kernel_buffers};

const STRIPS: ComputeKernel = ComputeKernel {
    label: "dsp_strips",
    source: include_str!("strip.wgsl"),
    entry_point: "strips",
    workgroup_size: 64,
};
const BUS_PARTIAL: ComputeKernel = ComputeKernel {
    label: "dsp_bus_partial",
    source: include_str!("bus.wgsl"),
    entry_point: "bus_partial",
    workgroup_size: 64,
};
const BUS: ComputeKernel = ComputeKernel {
    label: "dsp_bus_sum",
    source: include_str!("bus.wgsl"),
    entry_point: "bus_sum",
    workgroup_size: 64,
};

/// Strips per partial sum of the bus (the first of two summing passes).
const CHUNK: usize = 64;

/// Floats per strip record (layout in strip.wgsl).
const RECORD: usize = 60;
const COEF: usize = 0;
const DELTA: usize = 15;
const STATE: usize = 30;
const COMP: usize = 42;
const ENVELOPE: usize = 49;
const GAIN: usize = 50;
const GAIN_DELTA: usize = 52;
const MONO: usize = 54;
const PEAK: usize = 55;
const SUM_SQUARES: usize = 57;
const FLAGS: usize = 59;

/// Most strip-output floats per slice by default (64 MiB).
const SLICE_FLOATS: usize = 1 << 24;

#[repr(C)]
#[derive(Debug, Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Params {
    strips: u32,
    /// Floats per input row (`[strip][side]` rows, each starting at the
    /// slice's first frame).
    row: u32,
    pad: u32,
    /// Frames in this slice.
    count: u32,
    bus_offset: u32,
    bus_len: u32,
    /// Always 0: the shader's `rounded` hides it from the compiler.
    zero: u32,
    /// Strips per partial bus sum.
    chunk: u32,
}

fn gpu_error(e: vivace_gpu_compute::Error) -> Error {
    Error::Gpu(e.to_string())
}

/// The strips on a GPU: see the module docs.
#[derive(Debug)]
pub struct GpuStrips {
    ctx: Arc<GpuContext>,
    records: Vec<f32>,
    bus: Vec<f32>,
    slice_floats: usize,
}

impl GpuStrips {
    /// On `ctx`.
    pub fn new(ctx: Arc<GpuContext>) -> Self {
        GpuStrips {
            ctx,
            records: Vec::new(),
            bus: Vec::new(),
            slice_floats: SLICE_FLOATS,
        }
    }

    /// Bounds the strips' output held on the GPU at once to `floats`
    /// (default 2²⁴, 64 MiB): calls longer than `floats / (2 × strips)`
    /// frames go through in slices of that many frames, each with its own
    /// upload. Lower it to bound GPU memory; at least one frame per slice.
    pub fn with_slice_floats(mut self, floats: usize) -> Self {
        self.slice_floats = floats.max(1);
        self
    }

    /// On the process-wide shared context, or why not.
    pub fn shared() -> Result<Self, Unavailable> {
        GpuContext::shared()
            .map(GpuStrips::new)
            .map_err(|e| e.unavailable())
    }

    /// The context.
    pub fn context(&self) -> &Arc<GpuContext> {
        &self.ctx
    }

    /// Packs every strip's parameters and state into records.
    fn pack(&mut self, bank: &StripBank) {
        let (p, groups) = (bank.padded, bank.groups());
        self.records.clear();
        self.records.resize(bank.strips * RECORD, 0.0);
        for (strip, r) in self.records.chunks_exact_mut(RECORD).enumerate() {
            let group = strip / GROUP;
            let mut flags = 0u32;
            for band in 0..BANDS {
                let ramping = bank.band_ramping[band * groups + group];
                if bank.band_active[band * groups + group] || ramping {
                    flags |= 1 << band;
                }
                if ramping {
                    flags |= 8 << band;
                }
                for k in 0..5 {
                    r[COEF + band * 5 + k] = bank.coef[bank.coef_at(band, k) + strip];
                    r[DELTA + band * 5 + k] = bank.delta[bank.coef_at(band, k) + strip];
                }
                for side in 0..2 {
                    for w in 0..2 {
                        r[STATE + band * 4 + side * 2 + w] =
                            bank.state[bank.state_at(band, side, w) + strip];
                    }
                }
            }
            if bank.comp_active[group] {
                flags |= 64;
            }
            if bank.gain_ramping[group] {
                flags |= 128;
            }
            for k in 0..7 {
                r[COMP + k] = bank.comp[k][strip];
            }
            r[ENVELOPE] = bank.envelope[strip];
            r[MONO] = bank.mono[strip];
            for side in 0..2 {
                r[GAIN + side] = bank.gain[side * p + strip];
                r[GAIN_DELTA + side] = bank.gain_delta[side * p + strip];
                r[PEAK + side] = bank.peak[side * p + strip];
                r[SUM_SQUARES + side] = bank.sum_squares[side * p + strip];
            }
            r[FLAGS] = f32::from_bits(flags);
        }
    }

    /// Writes the records' state back into the bank.
    fn unpack(&self, bank: &mut StripBank) {
        let p = bank.padded;
        for (strip, r) in self.records.chunks_exact(RECORD).enumerate() {
            for band in 0..BANDS {
                for k in 0..5 {
                    let at = bank.coef_at(band, k) + strip;
                    bank.coef[at] = r[COEF + band * 5 + k];
                }
                for side in 0..2 {
                    for w in 0..2 {
                        let at = bank.state_at(band, side, w) + strip;
                        bank.state[at] = r[STATE + band * 4 + side * 2 + w];
                    }
                }
            }
            bank.envelope[strip] = r[ENVELOPE];
            for side in 0..2 {
                bank.gain[side * p + strip] = r[GAIN + side];
                bank.peak[side * p + strip] = r[PEAK + side];
                bank.sum_squares[side * p + strip] = r[SUM_SQUARES + side];
            }
        }
    }
}

impl Backend for GpuStrips {
    fn kind(&self) -> BackendKind {
        BackendKind::Gpu
    }
    fn name(&self) -> String {
        format!(
            "gpu ({}, one invocation per strip)",
            self.ctx.adapter().name
        )
    }
}

impl StripKernel for GpuStrips {
    fn process(
        &mut self,
        bank: &mut StripBank,
        input: &[f32],
        block: usize,
        frames: Range<usize>,
        left: &mut [f32],
        right: &mut [f32],
    ) -> Result<(), Error> {
        check_kernel_buffers(bank, input, block, &frames, left, right)?;
        let count = frames.len();
        if count == 0 || bank.strips == 0 {
            return Ok(());
        }
        let too_long = |what| Error::invalid(what, "too long for the GPU kernel's 32-bit indices");
        let strips = u32::try_from(bank.strips).map_err(|_| too_long("strip count"))?;
        let rows = bank.strips * 2;
        if rows.saturating_mul(block) >= u32::MAX as usize {
            return Err(too_long("input"));
        }
        // Frames go through in slices of at most `slice_floats` strip-output
        // floats. A call over whole rows that fits one slice uploads the
        // input as it is; otherwise each slice's frames of every row are
        // gathered straight into the upload (one copy) over the previous
        // slice's.
        let slice = (self.slice_floats / rows).clamp(1, count);
        let direct = slice == count && count == block;
        self.pack(bank);
        self.bus.clear();
        self.bus.extend_from_slice(&left[frames.clone()]);
        self.bus.extend_from_slice(&right[frames.clone()]);

        let ctx = Arc::clone(&self.ctx);
        let records = ctx.upload(&self.records).map_err(gpu_error)?;
        let bus = ctx.upload(&self.bus).map_err(gpu_error)?;
        let rows_in = if direct {
            ctx.upload(&input[..rows * block])
        } else {
            ctx.alloc::<f32>(rows * slice)
        }
        .map_err(gpu_error)?;
        let strip_out = ctx.alloc::<f32>(rows * slice).map_err(gpu_error)?;
        let chunks = bank.strips.div_ceil(CHUNK);
        let partial = if chunks > 1 {
            Some(ctx.alloc::<f32>(chunks * 2 * slice).map_err(gpu_error)?)
        } else {
            None
        };
        let mut done = 0;
        while done < count {
            let n = slice.min(count - done);
            let row = if direct {
                block
            } else {
                let first = frames.start + done;
                let parts = (0..rows).map(|r| &input[r * block + first..r * block + first + n]);
                ctx.write_gathered(&rows_in, rows * n, parts)
                    .map_err(gpu_error)?;
                n
            };
            let params = Params {
                strips,
                row: row as u32,
                pad: 0,
                count: n as u32,
                bus_offset: done as u32,
                bus_len: count as u32,
                zero: 0,
                chunk: CHUNK as u32,
            };
            let mut rec = ctx.record();
            rec.dispatch_elements(
                &STRIPS,
                &params,
                &[&records, &rows_in, &strip_out],
                u64::from(strips),
            )
            .map_err(gpu_error)?;
            match &partial {
                Some(partial) => {
                    rec.dispatch_elements(
                        &BUS_PARTIAL,
                        &params,
                        &[&strip_out, partial],
                        (chunks * 2 * n) as u64,
                    )
                    .map_err(gpu_error)?;
                    let chunked = Params {
                        strips: chunks as u32,
                        ..params
                    };
                    rec.dispatch_elements(&BUS, &chunked, &[partial, &bus], n as u64)
                }
                None => rec.dispatch_elements(&BUS, &params, &[&strip_out, &bus], n as u64),
            }
            .map_err(gpu_error)?;
            rec.submit().map_err(gpu_error)?;
            done += n;
        }
        ctx.read(&bus, &mut self.bus).map_err(gpu_error)?;
        ctx.read(&records, &mut self.records).map_err(gpu_error)?;
        self.unpack(bank);
        left[frames.clone()].copy_from_slice(&self.bus[..count]);
        right[frames].copy_from_slice(&self.bus[count..]);
        Ok(())
    }
}

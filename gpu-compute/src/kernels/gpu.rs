//! The generic kernels on the GPU.

use std::sync::Arc;

use vivace_backend::{Backend, BackendKind};

use super::{
    AXPY, GenericKernels, HISTOGRAM, REDUCE, ReduceOp, SCAN_ADD_OFFSETS, SCAN_BLOCKS,
    check_histogram_len, check_same_len,
};
use crate::{Error, GpuBuffer, GpuContext, Recording, Result};

/// Uniform block shared by the kernels: four 32-bit words.
#[repr(C)]
#[derive(Debug, Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Params([u32; 4]);

/// Values per scan block (256 invocations × 4).
const SCAN_BLOCK: u64 = 1024;
/// Most workgroups a reduction's first pass uses; the second pass folds
/// their partials in one workgroup.
const REDUCE_GROUPS: u64 = 1024;
/// Most workgroups a histogram uses (each adds its 256 bins globally).
const HISTOGRAM_GROUPS: u64 = 1024;

/// The generic kernels on a [`GpuContext`].
///
/// [`GenericKernels`] methods take host slices (upload, dispatch, read
/// back). For data that lives on the GPU, the `record_*` methods add the
/// kernel to a [`Recording`] on device-resident [`GpuBuffer`]s, with no
/// transfers.
#[derive(Debug, Clone)]
pub struct GpuKernels {
    ctx: Arc<GpuContext>,
}

impl GpuKernels {
    /// Kernels on `ctx`.
    pub fn new(ctx: Arc<GpuContext>) -> Self {
        GpuKernels { ctx }
    }

    /// Kernels on the process-wide shared context.
    pub fn shared() -> Result<Self> {
        GpuContext::shared().map(GpuKernels::new)
    }

    /// The context.
    pub fn context(&self) -> &Arc<GpuContext> {
        &self.ctx
    }

    /// Records `y = a·x + y`.
    pub fn record_axpy(
        &self,
        rec: &mut Recording<'_>,
        a: f32,
        x: &GpuBuffer<f32>,
        y: &GpuBuffer<f32>,
    ) -> Result<()> {
        check_same_len("axpy x and y", x.len(), y.len())?;
        let len = index_len(x.len())?;
        let params = Params([a.to_bits(), len, 0, 0]);
        rec.dispatch_elements(&AXPY, &params, &[x, y], u64::from(len))
    }

    /// Records a reduction of `x`; the returned one-value buffer holds the
    /// result after submission (the identity for an empty `x`).
    pub fn record_reduce(
        &self,
        rec: &mut Recording<'_>,
        op: ReduceOp,
        x: &GpuBuffer<f32>,
    ) -> Result<GpuBuffer<f32>> {
        let len = index_len(x.len())?;
        if len == 0 {
            return self.ctx.upload(&[op.identity()]);
        }
        let groups = u64::from(len).div_ceil(256).min(REDUCE_GROUPS);
        let partials = self.ctx.alloc::<f32>(groups as usize)?;
        let params = Params([len, op.code(), groups as u32, 0]);
        rec.dispatch_workgroups(&REDUCE, &params, &[x, &partials], groups)?;
        if groups == 1 {
            return Ok(partials);
        }
        let result = self.ctx.alloc::<f32>(1)?;
        let params = Params([groups as u32, op.code(), 1, 0]);
        rec.dispatch_workgroups(&REDUCE, &params, &[&partials, &result], 1)?;
        rec.hold(partials);
        Ok(result)
    }

    /// Records an inclusive scan of `input` into `output` (same length).
    pub fn record_scan(
        &self,
        rec: &mut Recording<'_>,
        input: &GpuBuffer<u32>,
        output: &GpuBuffer<u32>,
    ) -> Result<()> {
        check_same_len("scan input and output", input.len(), output.len())?;
        let len = index_len(input.len())?;
        if len == 0 {
            return Ok(());
        }
        let blocks = u64::from(len).div_ceil(SCAN_BLOCK);
        let sums = self.ctx.alloc::<u32>(blocks as usize)?;
        let params = Params([len, 0, 0, 0]);
        rec.dispatch_workgroups(&SCAN_BLOCKS, &params, &[input, output, &sums], blocks)?;
        if blocks > 1 {
            // Scan the block totals (recursively), then add each block's
            // carry-in: the scanned total of every block before it.
            let scanned = self.ctx.alloc::<u32>(blocks as usize)?;
            self.record_scan(rec, &sums, &scanned)?;
            rec.dispatch_workgroups(&SCAN_ADD_OFFSETS, &params, &[&scanned, output], blocks)?;
            rec.hold(scanned);
        }
        rec.hold(sums);
        Ok(())
    }

    /// Records a 256-bin histogram of `bytes` into `bins` (256 values,
    /// cleared first).
    pub fn record_histogram(
        &self,
        rec: &mut Recording<'_>,
        bytes: &GpuBuffer<u8>,
        bins: &GpuBuffer<u32>,
    ) -> Result<()> {
        check_same_len("histogram bins", 256, bins.len())?;
        check_histogram_len(bytes.len())?;
        rec.clear(bins);
        let len = bytes.len() as u32;
        if len == 0 {
            return Ok(());
        }
        let words = u64::from(len).div_ceil(4);
        let groups = words.div_ceil(256).min(HISTOGRAM_GROUPS);
        let params = Params([len, 0, 0, 0]);
        rec.dispatch_workgroups(&HISTOGRAM, &params, &[bytes, bins], groups)
    }
}

/// Kernel indices are `u32`; longer inputs are refused.
fn index_len(len: usize) -> Result<u32> {
    u32::try_from(len).map_err(|_| Error::InputTooLong {
        len,
        max: u32::MAX as usize,
    })
}

impl Backend for GpuKernels {
    fn kind(&self) -> BackendKind {
        BackendKind::Gpu
    }
    fn name(&self) -> String {
        format!("generic kernels (gpu: {})", self.ctx.adapter().name)
    }
}

impl GenericKernels for GpuKernels {
    fn axpy(&mut self, a: f32, x: &[f32], y: &mut [f32]) -> Result<()> {
        check_same_len("axpy x and y", x.len(), y.len())?;
        if x.is_empty() {
            return Ok(());
        }
        let gx = self.ctx.upload(x)?;
        let gy = self.ctx.upload(y)?;
        let mut rec = self.ctx.record();
        self.record_axpy(&mut rec, a, &gx, &gy)?;
        rec.submit_and_read(&gy, y)
    }

    fn reduce(&mut self, op: ReduceOp, x: &[f32]) -> Result<f32> {
        if x.is_empty() {
            return Ok(op.identity());
        }
        let gx = self.ctx.upload(x)?;
        let mut rec = self.ctx.record();
        let result = self.record_reduce(&mut rec, op, &gx)?;
        let mut out = [0.0f32];
        rec.submit_and_read(&result, &mut out)?;
        Ok(out[0])
    }

    fn inclusive_scan(&mut self, input: &[u32], output: &mut [u32]) -> Result<()> {
        check_same_len("scan input and output", input.len(), output.len())?;
        if input.is_empty() {
            return Ok(());
        }
        let gin = self.ctx.upload(input)?;
        let gout = self.ctx.alloc::<u32>(input.len())?;
        let mut rec = self.ctx.record();
        self.record_scan(&mut rec, &gin, &gout)?;
        rec.submit_and_read(&gout, output)
    }

    fn histogram(&mut self, bytes: &[u8]) -> Result<[u32; 256]> {
        check_histogram_len(bytes.len())?;
        let mut bins = [0u32; 256];
        if bytes.is_empty() {
            return Ok(bins);
        }
        let gbytes = self.ctx.upload(bytes)?;
        let gbins = self.ctx.alloc::<u32>(256)?;
        let mut rec = self.ctx.record();
        self.record_histogram(&mut rec, &gbytes, &gbins)?;
        rec.submit_and_read(&gbins, &mut bins)?;
        Ok(bins)
    }
}

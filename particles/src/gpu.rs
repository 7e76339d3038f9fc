//! Direct-sum gravity on the GPU (tiled WGSL kernel), behind the `gpu`
//! feature.

use std::sync::Arc;

use vivace_backend::{Backend, BackendKind, Unavailable};
use vivace_gpu_compute::{ComputeKernel, GpuContext};

use crate::{Accelerations, Bodies, Error, Gravity, GravityKernel};

const FORCES: ComputeKernel = ComputeKernel {
    label: "nbody_direct_tiled",
    source: include_str!("direct_gpu.wgsl"),
    entry_point: "forces",
    workgroup_size: 256,
};

#[repr(C)]
#[derive(Debug, Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Params {
    n: u32,
    eps2: f32,
    g: f32,
    pad: u32,
}

/// Direct sum on the GPU: positions and masses go up as `vec4`s each step,
/// accelerations come back. Buffers come from the context's pool, so a
/// steady run creates no GPU buffers after the first step.
#[derive(Debug)]
pub struct GpuDirect {
    ctx: Arc<GpuContext>,
    staging: Vec<[f32; 4]>,
}

impl GpuDirect {
    /// On `ctx`.
    pub fn new(ctx: Arc<GpuContext>) -> Self {
        GpuDirect {
            ctx,
            staging: Vec::new(),
        }
    }

    /// On the process-wide shared context, or why not.
    pub fn shared() -> Result<Self, Unavailable> {
        GpuContext::shared()
            .map(GpuDirect::new)
            .map_err(|e| e.unavailable())
    }

    /// The context.
    pub fn context(&self) -> &Arc<GpuContext> {
        &self.ctx
    }
}

impl Backend for GpuDirect {
    fn kind(&self) -> BackendKind {
        BackendKind::Gpu
    }
    fn name(&self) -> String {
        format!("direct sum (gpu: {})", self.ctx.adapter().name)
    }
}

fn gpu_error(e: vivace_gpu_compute::Error) -> Error {
    Error::Gpu(e.to_string())
}

impl GravityKernel for GpuDirect {
    fn accelerations(
        &mut self,
        bodies: &Bodies,
        gravity: &Gravity,
        out: &mut Accelerations,
    ) -> Result<(), Error> {
        bodies.check_lengths()?;
        let n = bodies.len();
        out.resize(n);
        if n == 0 {
            return Ok(());
        }
        let count = u32::try_from(n)
            .map_err(|_| Error::invalid("body count", "more than u32::MAX bodies"))?;
        self.staging.clear();
        self.staging
            .extend((0..n).map(|i| [bodies.x[i], bodies.y[i], bodies.z[i], bodies.m[i]]));
        let input = self.ctx.upload(&self.staging).map_err(gpu_error)?;
        let output = self.ctx.alloc::<[f32; 4]>(n).map_err(gpu_error)?;
        let params = Params {
            n: count,
            eps2: gravity.eps2(),
            g: gravity.g,
            pad: 0,
        };
        let mut rec = self.ctx.record();
        rec.dispatch_elements(&FORCES, &params, &[&input, &output], u64::from(count))
            .map_err(gpu_error)?;
        rec.submit_and_read(&output, &mut self.staging)
            .map_err(gpu_error)?;
        for (i, a) in self.staging.iter().enumerate() {
            out.ax[i] = a[0];
            out.ay[i] = a[1];
            out.az[i] = a[2];
        }
        Ok(())
    }
}

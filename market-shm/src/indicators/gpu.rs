//! The GPU indicator kernel (feature `gpu`): one invocation per series, in
//! `f32`.

use std::sync::Arc;

use vivace_backend::{Backend, BackendKind, Unavailable};
use vivace_gpu_compute::{ComputeKernel, GpuContext};

use super::{IndicatorKernel, IndicatorParams, IndicatorSeries, KlineHistory, OUTPUTS};
use crate::error::Error;

const KERNEL: ComputeKernel = ComputeKernel {
    label: "market_indicators",
    source: include_str!("indicators.wgsl"),
    entry_point: "indicators",
    workgroup_size: 64,
};

#[repr(C)]
#[derive(Debug, Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Params {
    series: u32,
    len: u32,
    sma_period: u32,
    ema_period: u32,
    rsi_period: u32,
    bollinger_period: u32,
    vwap_period: u32,
    bollinger_k: f32,
}

/// Indicators on the GPU, for bulk recomputation over many series.
///
/// The kernel repeats the CPU algorithm in `f32` (WGSL has no portable
/// `f64`), on bars uploaded as `f32`. Against the scalar `f64` reference it
/// agrees within **1e-4 relative** for the price-like outputs (SMA, EMA,
/// bands, VWAP) and **0.05 points** for RSI on price series of ordinary
/// volatility (a test checks this on random walks); NaN warm-up patterns are
/// identical. Series are processed in chunks that fit the device's storage
/// binding limit.
#[derive(Debug)]
pub struct GpuIndicators {
    ctx: Arc<GpuContext>,
    bars: Vec<[f32; 4]>,
    out: Vec<f32>,
}

impl GpuIndicators {
    /// On `ctx`.
    pub fn new(ctx: Arc<GpuContext>) -> Self {
        GpuIndicators {
            ctx,
            bars: Vec::new(),
            out: Vec::new(),
        }
    }

    /// On the process-wide shared context, or why not.
    pub fn shared() -> Result<Self, Unavailable> {
        GpuContext::shared()
            .map(GpuIndicators::new)
            .map_err(|e| e.unavailable())
    }

    /// The context.
    pub fn context(&self) -> &Arc<GpuContext> {
        &self.ctx
    }
}

impl Backend for GpuIndicators {
    fn kind(&self) -> BackendKind {
        BackendKind::Gpu
    }
    fn name(&self) -> String {
        format!("indicators (gpu: {})", self.ctx.adapter().name)
    }
}

fn gpu_error(e: vivace_gpu_compute::Error) -> Error {
    Error::Gpu(e.to_string())
}

fn as_u32(name: &str, v: usize) -> Result<u32, Error> {
    u32::try_from(v).map_err(|_| {
        Error::InvalidParameter(format!("{name} = {v} exceeds the GPU kernel's u32 range"))
    })
}

impl IndicatorKernel for GpuIndicators {
    fn compute(
        &mut self,
        params: &IndicatorParams,
        history: &KlineHistory,
        out: &mut IndicatorSeries,
    ) -> Result<(), Error> {
        super::prepare(params, history, out)?;
        let (n, len) = (history.series(), history.len());
        if n == 0 || len == 0 {
            return Ok(());
        }
        // The larger buffer (outputs, 7 f32 per bar) decides the chunk.
        let limit = self
            .ctx
            .limits()
            .max_storage_buffer_binding_size
            .min(self.ctx.limits().max_buffer_size);
        let per_series = (len * OUTPUTS * 4) as u64;
        let chunk = usize::try_from(limit / per_series)
            .unwrap_or(usize::MAX)
            .min(n);
        if chunk == 0 {
            return Err(Error::InvalidParameter(format!(
                "{len} bars per series exceed the GPU's buffer limit"
            )));
        }
        for first in (0..n).step_by(chunk) {
            let m = chunk.min(n - first);
            self.bars.clear();
            for t in 0..len {
                let row = t * n + first;
                for s in row..row + m {
                    self.bars.push([
                        history.close[s] as f32,
                        history.high[s] as f32,
                        history.low[s] as f32,
                        history.volume[s] as f32,
                    ]);
                }
            }
            let p = Params {
                series: as_u32("series", m)?,
                len: as_u32("bars", len)?,
                sma_period: as_u32("sma_period", params.sma_period)?,
                ema_period: as_u32("ema_period", params.ema_period)?,
                rsi_period: as_u32("rsi_period", params.rsi_period)?,
                bollinger_period: as_u32("bollinger_period", params.bollinger_period)?,
                vwap_period: as_u32("vwap_period", params.vwap_period)?,
                bollinger_k: params.bollinger_k as f32,
            };
            let input = self.ctx.upload(&self.bars).map_err(gpu_error)?;
            let output = self
                .ctx
                .alloc::<f32>(m * len * OUTPUTS)
                .map_err(gpu_error)?;
            let mut rec = self.ctx.record();
            rec.dispatch_elements(&KERNEL, &p, &[&input, &output], m as u64)
                .map_err(gpu_error)?;
            self.out.clear();
            self.out.resize(m * len * OUTPUTS, 0.0);
            rec.submit_and_read(&output, &mut self.out)
                .map_err(gpu_error)?;
            // The kernel writes planes like `IndicatorSeries`, per chunk.
            for o in 0..OUTPUTS {
                for t in 0..len {
                    let src = (o * len + t) * m;
                    let dst = out.index(o, t, first);
                    for (d, v) in out.values[dst..dst + m]
                        .iter_mut()
                        .zip(&self.out[src..src + m])
                    {
                        *d = f64::from(*v);
                    }
                }
            }
        }
        Ok(())
    }
}

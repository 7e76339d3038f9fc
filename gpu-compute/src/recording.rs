//! Recording GPU work: dispatches, copies, submission, readback, timing.

use std::fmt;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use bytemuck::Pod;
use parking_lot::MutexGuard;

use crate::context::write_bytes;
use crate::pool::{BufferRole, PooledBuffer};
use crate::{ComputeKernel, Error, GpuBuffer, GpuContext, Result};

/// The most compute passes a timed recording can time with timestamps.
const MAX_TIMED_PASSES: u32 = 64;

/// Something that binds as a storage buffer: a [`GpuBuffer`] of any type.
pub trait StorageBinding {
    /// The binding (the data's bytes, rounded up to whole 4-byte words).
    fn binding(&self) -> wgpu::BufferBinding<'_>;
}

impl<T: Pod> StorageBinding for GpuBuffer<T> {
    fn binding(&self) -> wgpu::BufferBinding<'_> {
        wgpu::BufferBinding {
            buffer: self.raw(),
            offset: 0,
            size: wgpu::BufferSize::new(self.byte_len().div_ceil(4).max(1) * 4),
        }
    }
}

/// The workgroup grid for `groups` workgroups: 1-D up to `limit` per
/// dimension, else 2-D (`x = limit`, `y = ⌈groups / limit⌉`). Kernels
/// recover the flat index as `(wid.y × nwg.x + wid.x) × size + local`,
/// and must ignore the few surplus groups of a 2-D grid's last row.
pub fn workgroup_grid(groups: u64, limit: u32) -> Result<(u32, u32)> {
    let limit = u64::from(limit.max(1));
    if groups <= limit {
        return Ok((groups as u32, 1));
    }
    let rows = groups.div_ceil(limit);
    if rows > limit {
        return Err(Error::DispatchTooLarge {
            groups,
            max: limit * limit,
        });
    }
    Ok((limit as u32, rows as u32))
}

/// Where a [`GpuTiming`] came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimingSource {
    /// GPU timestamp queries around the compute passes: kernel time only.
    Timestamps,
    /// Host wall clock from submission to completion: includes submission
    /// and synchronisation overhead (the adapter lacks `TIMESTAMP_QUERY`).
    WallClock,
}

/// How long submitted GPU work took.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GpuTiming {
    /// The duration.
    pub duration: Duration,
    /// How it was measured.
    pub source: TimingSource,
}

impl fmt::Display for GpuTiming {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let label = match self.source {
            TimingSource::Timestamps => "GPU timestamps",
            TimingSource::WallClock => "wall clock, includes submission",
        };
        write!(f, "{:?} ({label})", self.duration)
    }
}

/// Timestamp query resources, created once per context.
pub(crate) struct TimestampQueries {
    set: wgpu::QuerySet,
    resolve: wgpu::Buffer,
    readback: wgpu::Buffer,
    period_ns: f64,
}

impl TimestampQueries {
    pub(crate) fn new(device: &wgpu::Device, queue: &wgpu::Queue) -> Self {
        let count = MAX_TIMED_PASSES * 2;
        let bytes = u64::from(count) * 8;
        TimestampQueries {
            set: device.create_query_set(&wgpu::QuerySetDescriptor {
                label: Some("vivace timestamps"),
                ty: wgpu::QueryType::Timestamp,
                count,
            }),
            resolve: device.create_buffer(&wgpu::BufferDescriptor {
                label: Some("vivace timestamp resolve"),
                size: bytes,
                usage: wgpu::BufferUsages::QUERY_RESOLVE | wgpu::BufferUsages::COPY_SRC,
                mapped_at_creation: false,
            }),
            readback: device.create_buffer(&wgpu::BufferDescriptor {
                label: Some("vivace timestamp readback"),
                size: bytes,
                usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
                mapped_at_creation: false,
            }),
            period_ns: f64::from(queue.get_timestamp_period()),
        }
    }
}

/// GPU work being recorded into one command buffer.
///
/// Every dispatch is its own compute pass, so later dispatches see earlier
/// ones' writes. Nothing runs until [`Recording::submit`] (or one of its
/// variants). Uniform parameter blocks come from the buffer pool and go back
/// to it after submission.
///
/// ```no_run
/// use vivace_gpu_compute::{kernels::AXPY, GpuContext};
/// let ctx = GpuContext::new()?;
/// let x = ctx.upload(&[1.0f32; 1000])?;
/// let y = ctx.upload(&[2.0f32; 1000])?;
/// #[repr(C)]
/// #[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
/// struct Params { a: f32, len: u32, pad: [u32; 2] }
/// let mut rec = ctx.record_timed();
/// rec.dispatch_elements(&AXPY, &Params { a: 3.0, len: 1000, pad: [0; 2] }, &[&x, &y], 1000)?;
/// let timing = rec.submit_and_wait()?;
/// println!("axpy took {timing}");
/// # Ok::<(), vivace_gpu_compute::Error>(())
/// ```
pub struct Recording<'c> {
    ctx: &'c GpuContext,
    encoder: wgpu::CommandEncoder,
    /// Pooled buffers (uniform blocks, temporaries) held until submission.
    uniforms: Vec<PooledBuffer>,
    passes: u32,
    timestamps: Option<MutexGuard<'c, TimestampQueries>>,
    timed: bool,
}

impl<'c> Recording<'c> {
    pub(crate) fn new(ctx: &'c GpuContext) -> Self {
        Recording {
            ctx,
            encoder: ctx
                .device()
                .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                    label: Some("vivace recording"),
                }),
            uniforms: Vec::new(),
            passes: 0,
            timestamps: None,
            timed: false,
        }
    }

    pub(crate) fn new_timed(ctx: &'c GpuContext) -> Self {
        let mut recording = Recording::new(ctx);
        recording.timed = true;
        recording.timestamps = ctx.timestamps.as_ref().map(|t| t.lock());
        recording
    }

    /// The context this records for.
    pub fn context(&self) -> &'c GpuContext {
        self.ctx
    }

    /// Dispatches `kernel` over `elements` items: one invocation per item,
    /// `⌈elements / workgroup_size⌉` workgroups, 2-D past the per-dimension
    /// limit. `params` is bound at binding 0, `buffers` at 1, 2, …
    pub fn dispatch_elements<P: Pod>(
        &mut self,
        kernel: &ComputeKernel,
        params: &P,
        buffers: &[&dyn StorageBinding],
        elements: u64,
    ) -> Result<()> {
        let groups = elements.div_ceil(u64::from(kernel.workgroup_size.max(1)));
        self.dispatch_workgroups(kernel, params, buffers, groups)
    }

    /// Dispatches exactly `groups` workgroups (2-D past the per-dimension
    /// limit), for kernels that loop over their input themselves.
    pub fn dispatch_workgroups<P: Pod>(
        &mut self,
        kernel: &ComputeKernel,
        params: &P,
        buffers: &[&dyn StorageBinding],
        groups: u64,
    ) -> Result<()> {
        let (x, y) = workgroup_grid(groups, self.ctx.dispatch_dimension_limit())?;
        if x == 0 {
            return Ok(());
        }
        let pipeline = self.ctx.pipeline(kernel)?;

        let param_bytes: &[u8] = bytemuck::bytes_of(params);
        let uniform_size = (param_bytes.len() as u64).div_ceil(16).max(1) * 16;
        let uniform = self.ctx.acquire(BufferRole::Uniform, uniform_size)?;
        write_bytes(self.ctx.queue(), uniform.raw(), param_bytes);

        let mut entries = Vec::with_capacity(buffers.len() + 1);
        entries.push(wgpu::BindGroupEntry {
            binding: 0,
            resource: wgpu::BindingResource::Buffer(wgpu::BufferBinding {
                buffer: uniform.raw(),
                offset: 0,
                size: wgpu::BufferSize::new(uniform_size),
            }),
        });
        for (i, buffer) in buffers.iter().enumerate() {
            entries.push(wgpu::BindGroupEntry {
                binding: i as u32 + 1,
                resource: wgpu::BindingResource::Buffer(buffer.binding()),
            });
        }
        let bind_group = self
            .ctx
            .device()
            .create_bind_group(&wgpu::BindGroupDescriptor {
                label: Some(kernel.label),
                layout: &pipeline.layout,
                entries: &entries,
            });

        let timestamp_writes = match &self.timestamps {
            Some(ts) if self.passes < MAX_TIMED_PASSES => Some(wgpu::ComputePassTimestampWrites {
                query_set: &ts.set,
                beginning_of_pass_write_index: Some(self.passes * 2),
                end_of_pass_write_index: Some(self.passes * 2 + 1),
            }),
            _ => None,
        };
        {
            let mut pass = self
                .encoder
                .begin_compute_pass(&wgpu::ComputePassDescriptor {
                    label: Some(kernel.label),
                    timestamp_writes,
                });
            pass.set_pipeline(&pipeline.pipeline);
            pass.set_bind_group(0, &bind_group, &[]);
            pass.dispatch_workgroups(x, y, 1);
        }
        self.passes += 1;
        self.uniforms.push(uniform);
        Ok(())
    }

    /// Keeps a temporary buffer alive until this recording is submitted, so
    /// the pool cannot hand it to another use inside the same recording.
    pub fn hold<T: Pod>(&mut self, buffer: GpuBuffer<T>) {
        self.uniforms.push(buffer.into_pooled());
    }

    /// Fills `buffer` with zero bytes.
    pub fn clear<T: Pod>(&mut self, buffer: &GpuBuffer<T>) {
        let bytes = buffer.byte_len().div_ceil(4) * 4;
        if bytes > 0 {
            self.encoder.clear_buffer(buffer.raw(), 0, Some(bytes));
        }
    }

    /// Copies all of `src` into the start of `dst`.
    pub fn copy<T: Pod>(&mut self, src: &GpuBuffer<T>, dst: &GpuBuffer<T>) -> Result<()> {
        if src.len() > dst.len() {
            return Err(Error::LengthMismatch {
                what: "copy destination is shorter than its source",
                expected: src.len(),
                actual: dst.len(),
            });
        }
        let bytes = src.byte_len().div_ceil(4) * 4;
        if bytes > 0 {
            self.encoder
                .copy_buffer_to_buffer(src.raw(), 0, dst.raw(), 0, bytes);
        }
        Ok(())
    }

    /// Records a copy of `src` into a pooled readback buffer.
    pub(crate) fn copy_to_readback<T: Pod>(&mut self, src: &GpuBuffer<T>) -> Result<PooledBuffer> {
        let bytes = src.byte_len().div_ceil(4).max(1) * 4;
        let staging = self.ctx.acquire(BufferRole::Readback, bytes)?;
        self.copy_raw_to(src, staging.raw());
        Ok(staging)
    }

    pub(crate) fn copy_raw_to<T: Pod>(&mut self, src: &GpuBuffer<T>, dst: &wgpu::Buffer) {
        let bytes = src.byte_len().div_ceil(4) * 4;
        if bytes > 0 {
            self.encoder
                .copy_buffer_to_buffer(src.raw(), 0, dst, 0, bytes);
        }
    }

    /// Submits the work without waiting.
    pub fn submit(self) -> Result<wgpu::SubmissionIndex> {
        let ctx = self.ctx;
        let index = ctx.queue().submit([self.encoder.finish()]);
        ctx.check_health()?;
        Ok(index)
    }

    /// Submits and waits for completion. Returns the GPU time of the
    /// dispatches from timestamps (recordings from
    /// [`GpuContext::record_timed`] on adapters with `TIMESTAMP_QUERY`),
    /// else the wall time from submission to completion.
    pub fn submit_and_wait(mut self) -> Result<GpuTiming> {
        let ctx = self.ctx;
        let passes = self.passes.min(MAX_TIMED_PASSES);
        let timed_passes = self.timed && self.timestamps.is_some() && passes > 0;
        if timed_passes {
            let ts = self.timestamps.as_ref().expect("checked");
            self.encoder
                .resolve_query_set(&ts.set, 0..passes * 2, &ts.resolve, 0);
            self.encoder.copy_buffer_to_buffer(
                &ts.resolve,
                0,
                &ts.readback,
                0,
                u64::from(passes) * 16,
            );
        }
        let timestamps = self.timestamps.take();
        let start = Instant::now();
        let index = ctx.queue().submit([self.encoder.finish()]);
        wait(ctx, index)?;
        let wall = start.elapsed();
        ctx.check_health()?;
        match timestamps {
            Some(ts) if timed_passes => {
                let mut ticks = vec![0u64; passes as usize * 2];
                map_and_copy(ctx, &ts.readback, bytemuck::cast_slice_mut(&mut ticks))?;
                let span = ticks[ticks.len() - 1].saturating_sub(ticks[0]);
                Ok(GpuTiming {
                    duration: Duration::from_nanos((span as f64 * ts.period_ns) as u64),
                    source: TimingSource::Timestamps,
                })
            }
            _ => Ok(GpuTiming {
                duration: wall,
                source: TimingSource::WallClock,
            }),
        }
    }

    /// Copies `src` to a staging buffer, submits, waits and reads the
    /// values into `out` (which must have `src.len()` values).
    pub fn submit_and_read<T: Pod>(mut self, src: &GpuBuffer<T>, out: &mut [T]) -> Result<()> {
        if out.len() != src.len() {
            return Err(Error::LengthMismatch {
                what: "readback target and GPU buffer",
                expected: src.len(),
                actual: out.len(),
            });
        }
        if src.is_empty() {
            return self.submit().map(drop);
        }
        let ctx = self.ctx;
        let staging = self.copy_to_readback(src)?;
        let index = ctx.queue().submit([self.encoder.finish()]);
        wait(ctx, index)?;
        ctx.check_health()?;
        map_and_copy(ctx, staging.raw(), bytemuck::cast_slice_mut(out))
    }
}

impl GpuContext {
    /// Starts a recording whose [`Recording::submit_and_wait`] reports GPU
    /// time (timestamps where available). Timed recordings take turns on the
    /// context's timestamp queries.
    pub fn record_timed(&self) -> Recording<'_> {
        Recording::new_timed(self)
    }
}

fn wait(ctx: &GpuContext, index: wgpu::SubmissionIndex) -> Result<()> {
    ctx.device()
        .poll(wgpu::PollType::Wait {
            submission_index: Some(index),
            timeout: None,
        })
        .map(drop)
        .map_err(|e| poll_error(ctx, e))
}

/// A failed wait is often a lost device whose submission never happened;
/// one plain poll lets wgpu run its device-lost callback, so the error says
/// so instead of blaming the wait.
pub(crate) fn poll_error(ctx: &GpuContext, error: wgpu::PollError) -> Error {
    let _ = ctx.device().poll(wgpu::PollType::Poll);
    match ctx.check_health() {
        Err(lost @ Error::DeviceLost { .. }) => lost,
        _ => Error::Poll {
            reason: error.to_string(),
        },
    }
}

/// Maps the start of `buffer`, copies `out.len()` bytes out, unmaps.
/// Blocks until the map completes.
pub(crate) fn map_and_copy(ctx: &GpuContext, buffer: &wgpu::Buffer, out: &mut [u8]) -> Result<()> {
    let bytes = (out.len() as u64).div_ceil(4).max(1) * 4;
    let (sender, receiver) = mpsc::channel();
    buffer.map_async(wgpu::MapMode::Read, 0..bytes, move |result| {
        // The receiver outlives the poll below; a send error cannot happen.
        let _ = sender.send(result);
    });
    ctx.device()
        .poll(wgpu::PollType::wait_indefinitely())
        .map_err(|e| poll_error(ctx, e))?;
    receiver
        .recv()
        .map_err(|_| Error::Map {
            reason: "the map callback never ran".into(),
        })?
        .map_err(|e| Error::Map {
            reason: e.to_string(),
        })?;
    copy_mapped(buffer, out)
}

/// Copies from an already-mapped `buffer` and unmaps it.
pub(crate) fn copy_mapped(buffer: &wgpu::Buffer, out: &mut [u8]) -> Result<()> {
    if out.is_empty() {
        buffer.unmap();
        return Ok(());
    }
    let bytes = (out.len() as u64).div_ceil(4) * 4;
    {
        let view = buffer.get_mapped_range(0..bytes).map_err(|e| Error::Map {
            reason: e.to_string(),
        })?;
        out.copy_from_slice(&view[..out.len()]);
    }
    buffer.unmap();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grid_is_one_dimensional_up_to_the_limit() {
        assert_eq!(workgroup_grid(0, 65_535).unwrap(), (0, 1));
        assert_eq!(workgroup_grid(1, 65_535).unwrap(), (1, 1));
        assert_eq!(workgroup_grid(65_535, 65_535).unwrap(), (65_535, 1));
    }

    #[test]
    fn grid_goes_two_dimensional_past_the_limit() {
        assert_eq!(workgroup_grid(65_536, 65_535).unwrap(), (65_535, 2));
        let (x, y) = workgroup_grid(1 << 26, 65_535).unwrap();
        assert!(u64::from(x) * u64::from(y) >= 1 << 26);
        assert!(u64::from(x) * u64::from(y - 1) < 1 << 26);
        assert_eq!(workgroup_grid(10, 4).unwrap(), (4, 3));
    }

    #[test]
    fn grid_past_two_dimensions_is_an_error() {
        assert!(matches!(
            workgroup_grid(17, 4),
            Err(Error::DispatchTooLarge {
                groups: 17,
                max: 16
            })
        ));
    }
}

/*!
The wgpu compute runtime every vivace GPU backend runs on.

- [`GpuContext`]: picks an adapter (honouring `WGPU_BACKEND`,
  `WGPU_ADAPTER_NAME`, `WGPU_POWER_PREF`), creates a device with the limits
  the kernels need, and says plainly when the adapter is a software one
  (lavapipe/llvmpipe). No adapter is an [`Error::NoAdapter`], which converts
  into a [`vivace_backend::Unavailable`] for selection chains.
- A **buffer pool** (by role and power-of-two size class): after warm-up a
  steady loop of the same dispatches creates no wgpu buffers
  ([`GpuContext::pool_stats`]).
- A **pipeline cache** keyed by WGSL module and entry point: each kernel
  compiles once ([`GpuContext::pipeline_stats`]).
- A typed API: [`GpuContext::upload`] `&[T: Pod]` into a [`GpuBuffer<T>`],
  [`Recording::dispatch_elements`] by element count (workgroups computed,
  2-D past the per-dimension limit), [`GpuContext::read`] into a caller's
  slice, and a [`ReadbackRing`] for frame loops that must never wait on
  `map_async`.
- [`GpuTiming`]: kernel time from timestamp queries where the adapter has
  them, else wall time, labelled as such.
- [`kernels`]: `axpy`, sum/min/max reductions, inclusive `u32` scan and a
  256-bin byte histogram, each with scalar and SIMD CPU twins.

# Design

Everything that can fail returns [`Error`]; wgpu's error scopes catch
out-of-memory and shader validation errors at the call that caused them,
and an uncaptured-error handler plus the device-lost callback record the
rest, reported by the next call ([`GpuContext::check_health`]). Buffer
sizes are checked against the device limits before wgpu sees them.

Pooled buffers go back to the pool when dropped, even while a submission
that uses them is in flight: the queue runs in order, so a later user's
writes land after the earlier reads. Within one [`Recording`], temporaries
are [held](Recording::hold) until submission so no two uses alias.
*/
#![deny(missing_docs)]

mod context;
mod error;
pub mod kernels;
mod pipeline;
mod pool;
mod readback;
mod recording;

pub use context::{AdapterSummary, GpuBuffer, GpuContext, GpuOptions, gpu_required, list_adapters};
pub use error::{Error, Result};
pub use pipeline::{CachedPipeline, ComputeKernel, PipelineStats};
pub use pool::{BufferRole, PoolStats, PooledBuffer};
pub use readback::ReadbackRing;
pub use recording::{GpuTiming, Recording, StorageBinding, TimingSource, workgroup_grid};

/// Re-exported so callers can name wgpu types without a version mismatch.
pub use wgpu;

//! Device acquisition and the context every GPU kernel runs on.

use std::fmt;
use std::marker::PhantomData;
use std::sync::{Arc, OnceLock};

use bytemuck::Pod;
use parking_lot::Mutex;
use vivace_backend::CapabilityReport;

use crate::pipeline::{CachedPipeline, PipelineCache, PipelineStats};
use crate::pool::{BufferPool, BufferRole, PoolStats, PooledBuffer};
use crate::recording::{Recording, TimestampQueries};
use crate::{ComputeKernel, Error, Result};

/// How to pick and configure the device.
#[derive(Debug, Clone)]
pub struct GpuOptions {
    /// Power preference when no adapter is named; defaults to wgpu's
    /// `WGPU_POWER_PREF` environment variable, else high performance.
    pub power_preference: wgpu::PowerPreference,
    /// Ask for `TIMESTAMP_QUERY` where the adapter has it (default true).
    pub timestamps: bool,
    /// Cap on workgroups per dispatch dimension, below the device's own
    /// limit. `None` uses the device limit (65,535 on most devices). Lower
    /// it to exercise the 2-D dispatch path on small inputs (tests do).
    pub dispatch_dimension_limit: Option<u32>,
}

impl Default for GpuOptions {
    fn default() -> Self {
        GpuOptions {
            power_preference: wgpu::PowerPreference::from_env()
                .unwrap_or(wgpu::PowerPreference::HighPerformance),
            timestamps: true,
            dispatch_dimension_limit: None,
        }
    }
}

/// What adapter a context runs on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdapterSummary {
    /// The adapter's name, e.g. `"NVIDIA H100 80GB HBM3"` or `"llvmpipe (LLVM 15.0.6, 256 bits)"`.
    pub name: String,
    /// The graphics API wgpu drives it through.
    pub backend: wgpu::Backend,
    /// Discrete, integrated, virtual or CPU.
    pub device_type: wgpu::DeviceType,
    /// Driver name and version.
    pub driver: String,
}

impl AdapterSummary {
    fn new(info: &wgpu::AdapterInfo) -> Self {
        let driver = match (info.driver.is_empty(), info.driver_info.is_empty()) {
            (false, false) => format!("{} {}", info.driver, info.driver_info),
            (false, true) => info.driver.clone(),
            _ => info.driver_info.clone(),
        };
        AdapterSummary {
            name: info.name.clone(),
            backend: info.backend,
            device_type: info.device_type,
            driver,
        }
    }

    /// Whether this is a software adapter running on the CPU (lavapipe /
    /// llvmpipe, SwiftShader, WARP): correct, but its timings say nothing
    /// about GPUs.
    pub fn is_software(&self) -> bool {
        let name = self.name.to_ascii_lowercase();
        self.device_type == wgpu::DeviceType::Cpu
            || ["llvmpipe", "lavapipe", "swiftshader", "warp"]
                .iter()
                .any(|soft| name.contains(soft))
    }
}

impl fmt::Display for AdapterSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.device_type {
            wgpu::DeviceType::DiscreteGpu => "discrete GPU",
            wgpu::DeviceType::IntegratedGpu => "integrated GPU",
            wgpu::DeviceType::VirtualGpu => "virtual GPU",
            wgpu::DeviceType::Cpu => "CPU",
            wgpu::DeviceType::Other => "other",
        };
        write!(f, "{} ({:?}, {kind}", self.name, self.backend)?;
        if self.is_software() {
            f.write_str(", software adapter: correct but not GPU-speed")?;
        }
        f.write_str(")")
    }
}

/// Device health, written by wgpu's callbacks and checked after submissions.
#[derive(Default)]
struct Health {
    lost: Mutex<Option<String>>,
    uncaptured: Mutex<Option<String>>,
}

/// A wgpu device and queue with a buffer pool, a pipeline cache and, where
/// the adapter has them, timestamp queries.
///
/// Make one per program and share it (`Arc<GpuContext>`); [`GpuContext::shared`]
/// keeps one for the whole process.
///
/// ```no_run
/// use vivace_gpu_compute::GpuContext;
/// let ctx = GpuContext::new()?;
/// println!("running on {}", ctx.adapter());
/// let x = ctx.upload(&[1.0f32, 2.0, 3.0])?;
/// let mut back = [0.0f32; 3];
/// ctx.read(&x, &mut back)?;
/// assert_eq!(back, [1.0, 2.0, 3.0]);
/// # Ok::<(), vivace_gpu_compute::Error>(())
/// ```
pub struct GpuContext {
    device: wgpu::Device,
    queue: wgpu::Queue,
    adapter: AdapterSummary,
    limits: wgpu::Limits,
    features: wgpu::Features,
    dispatch_limit: u32,
    pool: Arc<BufferPool>,
    pipelines: PipelineCache,
    pub(crate) timestamps: Option<Mutex<TimestampQueries>>,
    health: Arc<Health>,
}

impl fmt::Debug for GpuContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GpuContext")
            .field("adapter", &self.adapter)
            .field("pool", &self.pool.stats())
            .field("pipelines", &self.pipelines.stats())
            .finish_non_exhaustive()
    }
}

impl GpuContext {
    /// Picks an adapter and creates a device with default options, blocking.
    pub fn new() -> Result<Self> {
        GpuContext::with_options(GpuOptions::default())
    }

    /// Like [`GpuContext::new`] with explicit options, blocking.
    pub fn with_options(options: GpuOptions) -> Result<Self> {
        pollster::block_on(GpuContext::new_async(options))
    }

    /// Picks an adapter and creates a device.
    ///
    /// Honours wgpu's environment overrides: `WGPU_BACKEND` (which APIs to
    /// try), `WGPU_ADAPTER_NAME` (a substring of the adapter name; no match
    /// is an error that lists the adapters found) and `WGPU_POWER_PREF`.
    /// Requests the default limits raised to what the adapter allows for
    /// buffer size and storage binding size, and to 8 storage buffers per
    /// shader stage where the adapter has them.
    pub async fn new_async(options: GpuOptions) -> Result<Self> {
        let instance =
            wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle_from_env());
        let adapter = pick_adapter(&instance, &options).await?;
        let adapter_limits = adapter.limits();

        let mut limits = wgpu::Limits::downlevel_defaults();
        limits.max_buffer_size = adapter_limits.max_buffer_size;
        limits.max_storage_buffer_binding_size = adapter_limits.max_storage_buffer_binding_size;
        limits.max_compute_workgroups_per_dimension =
            adapter_limits.max_compute_workgroups_per_dimension;
        // WebGPU's default of 8 storage buffers per stage where the adapter
        // has them (the downlevel default is 4).
        limits.max_storage_buffers_per_shader_stage = adapter_limits
            .max_storage_buffers_per_shader_stage
            .min(8)
            .max(limits.max_storage_buffers_per_shader_stage);

        let mut features = wgpu::Features::empty();
        if options.timestamps && adapter.features().contains(wgpu::Features::TIMESTAMP_QUERY) {
            features |= wgpu::Features::TIMESTAMP_QUERY;
        }

        let (device, queue) = adapter
            .request_device(&wgpu::DeviceDescriptor {
                label: Some("vivace"),
                required_features: features,
                required_limits: limits.clone(),
                ..Default::default()
            })
            .await
            .map_err(|e| Error::DeviceRequest {
                reason: e.to_string(),
            })?;

        let health = Arc::new(Health::default());
        let lost = Arc::clone(&health);
        device.set_device_lost_callback(move |reason, message| {
            *lost.lost.lock() = Some(format!("{reason:?}: {message}"));
        });
        let uncaptured = Arc::clone(&health);
        device.on_uncaptured_error(Arc::new(move |error: wgpu::Error| {
            *uncaptured.uncaptured.lock() = Some(error.to_string());
        }));

        let dispatch_limit = options
            .dispatch_dimension_limit
            .unwrap_or(u32::MAX)
            .clamp(1, limits.max_compute_workgroups_per_dimension);
        let timestamps = features
            .contains(wgpu::Features::TIMESTAMP_QUERY)
            .then(|| Mutex::new(TimestampQueries::new(&device, &queue)));

        Ok(GpuContext {
            pool: Arc::new(BufferPool::new(device.clone(), limits.max_buffer_size)),
            adapter: AdapterSummary::new(&adapter.get_info()),
            device,
            queue,
            limits,
            features,
            dispatch_limit,
            pipelines: PipelineCache::default(),
            timestamps,
            health,
        })
    }

    /// One context for the whole process, created on first use. A failure
    /// is remembered too: later calls return the same error without
    /// retrying.
    pub fn shared() -> Result<Arc<GpuContext>> {
        static SHARED: OnceLock<Result<Arc<GpuContext>>> = OnceLock::new();
        SHARED
            .get_or_init(|| GpuContext::new().map(Arc::new))
            .clone()
    }

    /// For tests of GPU code: the shared context, or `None` with a printed
    /// reason when there is no adapter. With `VIVACE_REQUIRE_GPU=1` a
    /// missing adapter panics instead, so CI cannot skip GPU tests silently.
    pub fn shared_or_skip(test: &str) -> Option<Arc<GpuContext>> {
        match GpuContext::shared() {
            Ok(ctx) => Some(ctx),
            Err(e) if gpu_required() => {
                panic!("{test}: VIVACE_REQUIRE_GPU=1 but the GPU is unavailable: {e}")
            }
            Err(e) => {
                eprintln!("SKIPPED {test}: {e} (set VIVACE_REQUIRE_GPU=1 to fail instead)");
                None
            }
        }
    }

    /// The adapter this context runs on.
    pub fn adapter(&self) -> &AdapterSummary {
        &self.adapter
    }

    /// The wgpu device, for callers who build their own pipelines.
    pub fn device(&self) -> &wgpu::Device {
        &self.device
    }

    /// The wgpu queue.
    pub fn queue(&self) -> &wgpu::Queue {
        &self.queue
    }

    /// The limits the device was created with.
    pub fn limits(&self) -> &wgpu::Limits {
        &self.limits
    }

    /// The features the device was created with.
    pub fn features(&self) -> wgpu::Features {
        self.features
    }

    /// Whether kernel times come from GPU timestamps (else wall clock).
    pub fn has_timestamps(&self) -> bool {
        self.timestamps.is_some()
    }

    /// The most workgroups a dispatch puts in one dimension.
    pub fn dispatch_dimension_limit(&self) -> u32 {
        self.dispatch_limit
    }

    /// Buffer pool counters.
    pub fn pool_stats(&self) -> PoolStats {
        self.pool.stats()
    }

    /// Releases every free pooled buffer.
    pub fn trim_pool(&self) {
        self.pool.trim();
    }

    /// Pipeline cache counters.
    pub fn pipeline_stats(&self) -> PipelineStats {
        self.pipelines.stats()
    }

    /// The compiled pipeline for `kernel`, compiling it on first use.
    pub fn pipeline(&self, kernel: &ComputeKernel) -> Result<Arc<CachedPipeline>> {
        self.check_health()?;
        self.pipelines.get(&self.device, kernel)
    }

    /// The line vivace-backend's capability report shows for the GPU.
    pub fn report_line(&self) -> String {
        let timing = if self.has_timestamps() {
            "timestamp queries"
        } else {
            "no timestamp queries (wall-clock timing)"
        };
        format!("{}; {timing}", self.adapter)
    }

    /// Adds the GPU line to a capability report: the shared context's
    /// adapter, or why there is none.
    pub fn add_to_report(report: &mut CapabilityReport) {
        let line = match GpuContext::shared() {
            Ok(ctx) => ctx.report_line(),
            Err(e) => format!("none ({e})"),
        };
        report.push_line("gpu", line);
    }

    /// Fails with `DeviceLost` or the last uncaptured validation error.
    pub fn check_health(&self) -> Result<()> {
        if let Some(reason) = self.health.lost.lock().clone() {
            return Err(Error::DeviceLost { reason });
        }
        if let Some(message) = self.health.uncaptured.lock().take() {
            return Err(Error::Validation { message });
        }
        Ok(())
    }

    /// Checks `bytes` against the device limits for `role`.
    pub(crate) fn check_size(&self, role: BufferRole, bytes: u64) -> Result<()> {
        let (limit, limit_name) = if role == BufferRole::Storage {
            (
                self.limits
                    .max_storage_buffer_binding_size
                    .min(self.limits.max_buffer_size),
                "max_storage_buffer_binding_size",
            )
        } else {
            (self.limits.max_buffer_size, "max_buffer_size")
        };
        if bytes > limit {
            return Err(Error::BufferTooLarge {
                requested: bytes,
                limit,
                limit_name,
            });
        }
        Ok(())
    }

    pub(crate) fn acquire(&self, role: BufferRole, bytes: u64) -> Result<PooledBuffer> {
        self.check_health()?;
        self.check_size(role, bytes)?;
        self.pool.acquire(role, bytes)
    }

    /// A storage buffer for `len` values of `T`. Its contents are
    /// unspecified (it may be recycled): write or compute into it first.
    pub fn alloc<T: Pod>(&self, len: usize) -> Result<GpuBuffer<T>> {
        let bytes = byte_len::<T>(len)?;
        Ok(GpuBuffer {
            raw: self.acquire(BufferRole::Storage, bytes.max(4))?,
            len,
            _values: PhantomData,
        })
    }

    /// A storage buffer holding a copy of `data`.
    pub fn upload<T: Pod>(&self, data: &[T]) -> Result<GpuBuffer<T>> {
        let buffer = self.alloc(data.len())?;
        self.write(&buffer, data)?;
        Ok(buffer)
    }

    /// Overwrites the start of `buffer` with `data` (queued; it lands before
    /// the next submission runs).
    pub fn write<T: Pod>(&self, buffer: &GpuBuffer<T>, data: &[T]) -> Result<()> {
        if data.len() > buffer.len {
            return Err(Error::LengthMismatch {
                what: "data written to a GPU buffer is longer than the buffer",
                expected: buffer.len,
                actual: data.len(),
            });
        }
        write_bytes(&self.queue, buffer.raw(), bytemuck::cast_slice(data));
        Ok(())
    }

    /// Overwrites the start of `buffer` with `parts`, one after another
    /// (`len` values in all), copying each straight into the upload's
    /// staging memory: gathering rows or tiles this way costs one copy
    /// instead of two (into a `Vec`, then into staging). Queued like
    /// [`write`](Self::write).
    ///
    /// ```no_run
    /// # fn main() -> vivace_gpu_compute::Result<()> {
    /// let ctx = vivace_gpu_compute::GpuContext::shared()?;
    /// let rows: Vec<Vec<f32>> = vec![vec![1.0; 100]; 4];
    /// let buffer = ctx.alloc::<f32>(4 * 10)?;
    /// // The first ten values of every row, packed.
    /// ctx.write_gathered(&buffer, 40, rows.iter().map(|r| &r[..10]))?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn write_gathered<'a, T: Pod, I>(
        &self,
        buffer: &GpuBuffer<T>,
        len: usize,
        parts: I,
    ) -> Result<()>
    where
        I: IntoIterator<Item = &'a [T]>,
        I::IntoIter: Clone,
    {
        let parts = parts.into_iter();
        let total: usize = parts.clone().map(<[T]>::len).sum();
        if total != len {
            return Err(Error::LengthMismatch {
                what: "gathered parts and the length given",
                expected: len,
                actual: total,
            });
        }
        if len > buffer.len {
            return Err(Error::LengthMismatch {
                what: "data written to a GPU buffer is longer than the buffer",
                expected: buffer.len,
                actual: len,
            });
        }
        let bytes = byte_len::<T>(len)?;
        let size = match wgpu::BufferSize::new(bytes) {
            Some(size) if bytes % wgpu::COPY_BUFFER_ALIGNMENT == 0 => size,
            // Empty, or not whole words (a copy's unit): gather, then write.
            _ => {
                let packed: Vec<T> = parts.flatten().copied().collect();
                return self.write(buffer, &packed);
            }
        };
        let mut view = self
            .queue
            .write_buffer_with(buffer.raw(), 0, size)
            .ok_or_else(|| Error::Validation {
                message: format!("a staging write of {bytes} bytes was refused"),
            })?;
        let mut at = 0usize;
        for part in parts {
            let part: &[u8] = bytemuck::cast_slice(part);
            view.slice(at..at + part.len()).copy_from_slice(part);
            at += part.len();
        }
        Ok(())
    }

    /// Reads `buffer` into `out` (same length), blocking until the GPU is
    /// done with everything submitted before.
    pub fn read<T: Pod>(&self, buffer: &GpuBuffer<T>, out: &mut [T]) -> Result<()> {
        self.record().submit_and_read(buffer, out)
    }

    /// Starts recording GPU work; see [`Recording`].
    pub fn record(&self) -> Recording<'_> {
        Recording::new(self)
    }
}

/// Whether `VIVACE_REQUIRE_GPU=1` asks GPU tests to fail instead of skip.
pub fn gpu_required() -> bool {
    std::env::var("VIVACE_REQUIRE_GPU").is_ok_and(|v| v.trim() == "1")
}

async fn pick_adapter(instance: &wgpu::Instance, options: &GpuOptions) -> Result<wgpu::Adapter> {
    // wgpu's own helper for WGPU_ADAPTER_NAME panics when nothing matches;
    // do the same matching here and return an error instead.
    if let Ok(wanted) = std::env::var("WGPU_ADAPTER_NAME") {
        let wanted = wanted.to_lowercase();
        let adapters = instance.enumerate_adapters(wgpu::Backends::all()).await;
        let names: Vec<String> = adapters.iter().map(|a| a.get_info().name).collect();
        return adapters
            .into_iter()
            .find(|a| a.get_info().name.to_lowercase().contains(&wanted))
            .ok_or_else(|| Error::NoAdapter {
                reason: format!(
                    "WGPU_ADAPTER_NAME={wanted:?} matches none of the adapters found: [{}]",
                    names.join(", ")
                ),
            });
    }
    instance
        .request_adapter(&wgpu::RequestAdapterOptions {
            power_preference: options.power_preference,
            ..Default::default()
        })
        .await
        .map_err(|e| Error::NoAdapter {
            reason: format!(
                "{e} (on a machine without a GPU, install a software Vulkan driver: apt-get install mesa-vulkan-drivers)"
            ),
        })
}

/// Lists every adapter wgpu can see (honouring `WGPU_BACKEND`), blocking.
pub fn list_adapters() -> Vec<(AdapterSummary, wgpu::Limits, wgpu::Features)> {
    let instance =
        wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle_from_env());
    pollster::block_on(instance.enumerate_adapters(wgpu::Backends::all()))
        .into_iter()
        .map(|a| (AdapterSummary::new(&a.get_info()), a.limits(), a.features()))
        .collect()
}

fn byte_len<T>(len: usize) -> Result<u64> {
    (len as u64)
        .checked_mul(size_of::<T>() as u64)
        .ok_or(Error::BufferTooLarge {
            requested: u64::MAX,
            limit: u64::MAX,
            limit_name: "u64 byte count",
        })
}

/// `queue.write_buffer` needs whole 4-byte words; write the aligned prefix
/// directly and the tail padded with zeros.
pub(crate) fn write_bytes(queue: &wgpu::Queue, buffer: &wgpu::Buffer, bytes: &[u8]) {
    let aligned = bytes.len() / 4 * 4;
    if aligned > 0 {
        queue.write_buffer(buffer, 0, &bytes[..aligned]);
    }
    let tail = &bytes[aligned..];
    if !tail.is_empty() {
        let mut word = [0u8; 4];
        word[..tail.len()].copy_from_slice(tail);
        queue.write_buffer(buffer, aligned as u64, &word);
    }
}

/// A typed storage buffer on the GPU, on loan from the context's pool.
///
/// `len` counts values of `T`; the wgpu buffer underneath may be larger
/// (its size class).
pub struct GpuBuffer<T: Pod> {
    raw: PooledBuffer,
    len: usize,
    _values: PhantomData<T>,
}

impl<T: Pod> GpuBuffer<T> {
    /// Number of values.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether it holds no values.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Bytes of data (`len × size_of::<T>()`).
    pub fn byte_len(&self) -> u64 {
        (self.len * size_of::<T>()) as u64
    }

    /// The wgpu buffer, for binding.
    pub fn raw(&self) -> &wgpu::Buffer {
        self.raw.raw()
    }

    pub(crate) fn into_pooled(self) -> PooledBuffer {
        self.raw
    }
}

impl<T: Pod> fmt::Debug for GpuBuffer<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GpuBuffer")
            .field("type", &std::any::type_name::<T>())
            .field("len", &self.len)
            .finish()
    }
}

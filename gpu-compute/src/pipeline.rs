//! Compiled compute pipelines, cached by kernel.

use std::collections::HashMap;
use std::sync::Arc;

use parking_lot::Mutex;

use crate::{Error, Result};

/// A compute kernel: a WGSL module, its entry point and its workgroup size.
///
/// Binding convention for every vivace kernel: `@group(0) @binding(0)` is a
/// uniform parameter block, and `@binding(1)`, `@binding(2)`, … are storage
/// buffers in the order they are passed to
/// [`Recording::dispatch_elements`](crate::Recording::dispatch_elements).
#[derive(Debug, Clone, Copy)]
pub struct ComputeKernel {
    /// A label for errors and GPU debuggers.
    pub label: &'static str,
    /// The WGSL source (usually `include_str!` of a `.wgsl` file).
    pub source: &'static str,
    /// The entry point in `source`.
    pub entry_point: &'static str,
    /// The `@workgroup_size` of the entry point (1-D).
    pub workgroup_size: u32,
}

impl ComputeKernel {
    /// The cache key: the identity of the static source text and the entry
    /// point. The bind group layout is derived from the module and entry
    /// point, so it is determined by the key too.
    fn key(&self) -> (usize, usize, &'static str) {
        (
            self.source.as_ptr() as usize,
            self.source.len(),
            self.entry_point,
        )
    }
}

/// A compiled pipeline and its bind group layout.
#[derive(Debug)]
pub struct CachedPipeline {
    /// The pipeline.
    pub pipeline: wgpu::ComputePipeline,
    /// Layout of `@group(0)`.
    pub layout: wgpu::BindGroupLayout,
}

/// Hit and miss counters of the pipeline cache.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PipelineStats {
    /// Lookups answered from the cache.
    pub hits: u64,
    /// Lookups that compiled a pipeline.
    pub misses: u64,
}

#[derive(Default)]
pub(crate) struct PipelineCache {
    state: Mutex<CacheState>,
}

type PipelineKey = (usize, usize, &'static str);

#[derive(Default)]
struct CacheState {
    pipelines: HashMap<PipelineKey, Arc<CachedPipeline>>,
    stats: PipelineStats,
}

impl PipelineCache {
    pub(crate) fn stats(&self) -> PipelineStats {
        self.state.lock().stats
    }

    pub(crate) fn get(
        &self,
        device: &wgpu::Device,
        kernel: &ComputeKernel,
    ) -> Result<Arc<CachedPipeline>> {
        let key = kernel.key();
        {
            let mut state = self.state.lock();
            if let Some(found) = state.pipelines.get(&key).cloned() {
                state.stats.hits += 1;
                return Ok(found);
            }
        }
        // Compile outside the lock; a racing compile of the same kernel
        // wastes work but stays correct (the first one stored wins).
        let compiled = Arc::new(compile(device, kernel)?);
        let mut state = self.state.lock();
        state.stats.misses += 1;
        Ok(Arc::clone(state.pipelines.entry(key).or_insert(compiled)))
    }
}

fn compile(device: &wgpu::Device, kernel: &ComputeKernel) -> Result<CachedPipeline> {
    // Compilation and validation errors are caught by an error scope and
    // turned into `Error::Shader` instead of reaching the uncaptured handler.
    let scope = device.push_error_scope(wgpu::ErrorFilter::Validation);
    let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
        label: Some(kernel.label),
        source: wgpu::ShaderSource::Wgsl(kernel.source.into()),
    });
    let pipeline = device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
        label: Some(kernel.label),
        layout: None,
        module: &module,
        entry_point: Some(kernel.entry_point),
        compilation_options: Default::default(),
        cache: None,
    });
    let layout = pipeline.get_bind_group_layout(0);
    if let Some(error) = pollster::block_on(scope.pop()) {
        return Err(Error::Shader {
            kernel: kernel.label.to_string(),
            message: error.to_string(),
        });
    }
    Ok(CachedPipeline { pipeline, layout })
}

/*!
Particle fields and N-body gravity for interactive programs.

- [`field`]: an animated particle field (structure of arrays) with wave,
  swirl and orbit animation modes and a physics mode, updated in parallel
  chunks with no allocation per frame.
- N-body: [`Bodies`] (structure of arrays), direct-sum gravity with Plummer
  softening on scalar ([`ScalarDirect`]), SIMD ([`SimdDirect`]: AVX2+FMA or
  SSE4.1 with `rsqrt` + one Newton step), SIMD × all cores, and Barnes–Hut
  ([`BarnesHut`]); a kick-drift-kick leapfrog [`Simulation`];
  [`Diagnostics`] (energy with softening, linear and angular momentum);
  seeded initial conditions in [`ic`].

# Design

Softening is mandatory (ε > 0): a_i = G Σ m_j r_ij / (r² + ε²)^{3/2} has no
singularity, the self term vanishes, and there is no hard cut-off to break
energy conservation. Positions and forces are f32 (the GPU's and SIMD's
native width); diagnostics are accumulated in f64.
*/
#![deny(missing_docs)]

mod barnes_hut;
mod bodies;
mod diagnostics;
mod direct;
mod error;
pub mod field;
#[cfg(feature = "gpu")]
mod gpu;
pub mod ic;
mod integrator;

pub use barnes_hut::BarnesHut;
pub use bodies::{Accelerations, Bodies, Body};
pub use diagnostics::Diagnostics;
pub use direct::{Gravity, GravityKernel, ScalarDirect, SimdDirect, ThreadedScalarDirect};
pub use error::Error;
#[cfg(feature = "gpu")]
pub use gpu::GpuDirect;
pub use integrator::Simulation;

use vivace_backend::{BackendKind, Candidate, Preference, SelectError, Selection, select};

/// Bodies from which the GPU is tried first under `Auto`: below this the
/// per-step upload, dispatch and readback can cost more than the CPU's
/// sum. A conservative estimate: an NVIDIA H100 already beat 16 AVX2
/// threads at 1,024 bodies (224 µs vs 299 µs), a smaller GPU will not.
pub const GPU_MIN_BODIES: usize = 8192;

/// The direct-sum chain for `n` bodies: GPU (with the `gpu` feature; under
/// `Auto` only from [`GPU_MIN_BODIES`]), SIMD × all cores (best level first),
/// then scalar × all cores.
pub fn select_direct(
    preference: Preference,
    n: usize,
) -> Result<Selection<Box<dyn GravityKernel>>, SelectError> {
    use vivace_backend::{SimdLevel, Unavailable};
    let mut chain: Vec<Candidate<'_, Box<dyn GravityKernel>>> = Vec::new();
    chain.push(Candidate::new(BackendKind::Gpu, move || {
        if !preference.is_forced() && n < GPU_MIN_BODIES {
            return Err(Unavailable::new(
                BackendKind::Gpu,
                format!(
                    "{n} bodies is too few to pay for GPU transfers (auto uses it from {GPU_MIN_BODIES})"
                ),
            ));
        }
        gpu_candidate()
    }));
    for level in [SimdLevel::Avx2Fma, SimdLevel::Sse41] {
        chain.push(Candidate::new(BackendKind::Simd(level), move || {
            SimdDirect::threaded(level).map(|k| Box::new(k) as Box<dyn GravityKernel>)
        }));
    }
    chain.push(Candidate::new(BackendKind::Scalar, || {
        Ok(Box::new(ThreadedScalarDirect) as Box<dyn GravityKernel>)
    }));
    select(preference, chain)
}

#[cfg(feature = "gpu")]
fn gpu_candidate() -> Result<Box<dyn GravityKernel>, vivace_backend::Unavailable> {
    GpuDirect::shared().map(|k| Box::new(k) as Box<dyn GravityKernel>)
}

#[cfg(not(feature = "gpu"))]
fn gpu_candidate() -> Result<Box<dyn GravityKernel>, vivace_backend::Unavailable> {
    Err(vivace_backend::Unavailable::new(
        BackendKind::Gpu,
        "vivace-particles was built without its `gpu` feature",
    ))
}

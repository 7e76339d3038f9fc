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
pub mod ic;
mod integrator;

pub use barnes_hut::BarnesHut;
pub use bodies::{Accelerations, Bodies, Body};
pub use diagnostics::Diagnostics;
pub use direct::{Gravity, GravityKernel, ScalarDirect, SimdDirect, ThreadedScalarDirect};
pub use error::Error;
pub use integrator::Simulation;

use vivace_backend::{BackendKind, Candidate, Preference, SelectError, Selection, select};

/// The direct-sum chain: SIMD × all cores (best level first), then scalar ×
/// all cores. (The GPU kernel joins the chain with the `gpu` feature.)
pub fn select_direct(
    preference: Preference,
) -> Result<Selection<Box<dyn GravityKernel>>, SelectError> {
    use vivace_backend::SimdLevel;
    let mut chain: Vec<Candidate<'_, Box<dyn GravityKernel>>> = Vec::new();
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

/*!
Particle fields and N-body simulation: animated particle fields over threads, direct-sum and Barnes-Hut gravity with Plummer softening and a leapfrog integrator, energy and momentum diagnostics.

**Status: planned.** This crate holds no code yet; its design and
acceptance criteria are tracked in issue #5. It is part of the workspace
now so that its name, folder and place in the dependency graph are fixed:
like every vivace domain crate it will depend on `vivace-backend`, offer
scalar, SIMD and GPU kernels chosen at run time, and never depend on
another domain crate.
*/
#![deny(missing_docs)]

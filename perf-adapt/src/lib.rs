/*!
Frame statistics, adaptive quality and backend governors, a performance monitor and a deterministic load simulator.

**Status: planned.** This crate holds no code yet; its design and
acceptance criteria are tracked in issue #8. It is part of the workspace
now so that its name, folder and place in the dependency graph are fixed:
like every vivace domain crate it will depend on `vivace-backend`, offer
scalar, SIMD and GPU kernels chosen at run time, and never depend on
another domain crate.
*/
#![deny(missing_docs)]

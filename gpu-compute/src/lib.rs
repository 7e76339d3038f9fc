//! wgpu compute runtime (in progress).
#![deny(missing_docs)]

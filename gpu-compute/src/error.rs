//! The crate's error type.

use vivace_backend::{BackendKind, Unavailable};

/// Everything that can go wrong on the GPU path, as variants a caller can
/// match on. Nothing in this crate panics on a GPU error.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// No adapter could be found (or none matched `WGPU_ADAPTER_NAME`).
    #[error("no GPU adapter: {reason}")]
    NoAdapter {
        /// What wgpu said, and what was looked for.
        reason: String,
    },
    /// The adapter refused to create a device with the requested limits.
    #[error("the adapter could not create a device: {reason}")]
    DeviceRequest {
        /// wgpu's reason.
        reason: String,
    },
    /// The device was lost (driver reset, GPU removed, destroyed).
    #[error("the GPU device was lost: {reason}")]
    DeviceLost {
        /// wgpu's reason.
        reason: String,
    },
    /// The device ran out of memory while creating `what`.
    #[error("the GPU ran out of memory creating {what}")]
    OutOfMemory {
        /// What was being created.
        what: String,
    },
    /// A buffer larger than the device allows was requested; checked before
    /// calling wgpu.
    #[error(
        "a buffer of {requested} bytes exceeds the device limit of {limit} bytes ({limit_name})"
    )]
    BufferTooLarge {
        /// Bytes requested.
        requested: u64,
        /// The device's limit.
        limit: u64,
        /// Which limit: `max_buffer_size` or `max_storage_buffer_binding_size`.
        limit_name: &'static str,
    },
    /// A WGSL module failed to compile, or a pipeline failed validation.
    #[error("kernel `{kernel}` failed to compile or validate: {message}")]
    Shader {
        /// The kernel's label.
        kernel: String,
        /// The compiler's message.
        message: String,
    },
    /// Any other wgpu validation error (a bug in a caller's bindings, say).
    #[error("GPU validation error: {message}")]
    Validation {
        /// wgpu's message.
        message: String,
    },
    /// Mapping a buffer for readback failed.
    #[error("mapping a GPU buffer failed: {reason}")]
    Map {
        /// wgpu's reason.
        reason: String,
    },
    /// Waiting for the GPU failed or timed out.
    #[error("waiting for the GPU failed: {reason}")]
    Poll {
        /// wgpu's reason.
        reason: String,
    },
    /// Two lengths that must agree do not (e.g. `x` and `y` of axpy, or a
    /// readback target and its buffer).
    #[error("length mismatch: {what} (expected {expected}, got {actual})")]
    LengthMismatch {
        /// Which lengths.
        what: &'static str,
        /// The length required.
        expected: usize,
        /// The length given.
        actual: usize,
    },
    /// A dispatch needs more workgroups than even a 2-D grid can hold.
    #[error("a dispatch of {groups} workgroups exceeds the {max} a 2-D grid can hold")]
    DispatchTooLarge {
        /// Workgroups needed.
        groups: u64,
        /// The most a 2-D grid holds on this device.
        max: u64,
    },
    /// An input longer than a kernel can index or count (`u32::MAX`).
    #[error("an input of {len} values is longer than the {max} this kernel supports")]
    InputTooLong {
        /// The input's length.
        len: usize,
        /// The most the kernel supports.
        max: usize,
    },
    /// Every staging buffer of a [`crate::ReadbackRing`] is still in flight.
    #[error("all {slots} readback slots are in flight; collect a result before submitting more")]
    ReadbackRingFull {
        /// The ring's size.
        slots: usize,
    },
}

impl Error {
    /// The error as a [`vivace_backend::Unavailable`] reason for the GPU
    /// backend, for selection chains.
    pub fn unavailable(&self) -> Unavailable {
        Unavailable::new(BackendKind::Gpu, self.to_string())
    }
}

impl From<Error> for Unavailable {
    fn from(e: Error) -> Self {
        e.unavailable()
    }
}

/// This crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

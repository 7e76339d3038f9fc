//! The crate's error type.

/// Everything that can go wrong in vivace-vectorize.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The pixel buffer does not match the stated size.
    #[error("{width}×{height} RGBA needs {expected} bytes, got {actual}")]
    BufferSize {
        /// Stated width.
        width: usize,
        /// Stated height.
        height: usize,
        /// `width × height × 4`.
        expected: usize,
        /// Bytes given.
        actual: usize,
    },
    /// The image has more pixels than the configured limit.
    #[error("{width}×{height} = {pixels} pixels exceeds the limit of {limit}")]
    TooLarge {
        /// Width.
        width: usize,
        /// Height.
        height: usize,
        /// `width × height`.
        pixels: u128,
        /// The limit.
        limit: u64,
    },
    /// A parameter is out of range.
    #[error("invalid parameter {name}: {reason}")]
    InvalidParameter {
        /// The parameter.
        name: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// An image file could not be read or decoded.
    #[error("{path}: {reason}")]
    Image {
        /// The file.
        path: String,
        /// What went wrong.
        reason: String,
    },
    /// A file could not be written.
    #[error("cannot write {path}: {reason}")]
    Io {
        /// The file.
        path: String,
        /// What went wrong.
        reason: String,
    },
    /// The batch was cancelled before this job ran.
    #[error("cancelled")]
    Cancelled,
    /// An SVG could not be parsed or rendered.
    #[error("SVG: {0}")]
    Svg(String),
    /// The GPU pixel kernel failed (device lost, out of memory, …).
    #[error("GPU pixel kernel: {0}")]
    Gpu(String),
    /// No pixel-kernel backend could be selected.
    #[error(transparent)]
    Backend(#[from] vivace_backend::SelectError),
}

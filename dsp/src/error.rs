//! The crate's error type.

/// What can be wrong with a caller's parameters, buffers or backend.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A parameter is out of range (frequency at or above Nyquist, Q ≤ 0,
    /// ratio < 1, non-finite gain, …).
    #[error("invalid {name}: {reason}")]
    InvalidParameter {
        /// The parameter.
        name: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// Buffers whose lengths must agree do not.
    #[error("length mismatch: {what} (expected {expected}, got {actual})")]
    LengthMismatch {
        /// Which buffer.
        what: &'static str,
        /// Required length.
        expected: usize,
        /// Given length.
        actual: usize,
    },
    /// A block is longer than the configured maximum.
    #[error("block of {frames} frames exceeds the configured maximum of {max}")]
    BlockTooLong {
        /// Frames asked for.
        frames: usize,
        /// The configured maximum.
        max: usize,
    },
    /// A strip or channel index is out of range.
    #[error("{what} {index} out of range (there are {count})")]
    IndexOutOfRange {
        /// What was indexed.
        what: &'static str,
        /// The index given.
        index: usize,
        /// How many there are.
        count: usize,
    },
    /// The GPU kernel failed (device lost, out of memory, …).
    #[error("GPU strip kernel: {0}")]
    Gpu(String),
    /// No backend could be built for the preference.
    #[error("backend: {0}")]
    Backend(#[from] vivace_backend::SelectError),
}

impl Error {
    pub(crate) fn invalid(name: &'static str, reason: impl Into<String>) -> Self {
        Error::InvalidParameter {
            name,
            reason: reason.into(),
        }
    }
}

/// Checks that `value` is finite and > 0.
pub(crate) fn check_positive(name: &'static str, value: f64) -> Result<(), Error> {
    if value.is_finite() && value > 0.0 {
        Ok(())
    } else {
        Err(Error::invalid(
            name,
            format!("must be finite and > 0, got {value}"),
        ))
    }
}

/// Checks that `value` is finite.
pub(crate) fn check_finite(name: &'static str, value: f64) -> Result<(), Error> {
    if value.is_finite() {
        Ok(())
    } else {
        Err(Error::invalid(name, format!("must be finite, got {value}")))
    }
}

/// Checks `a == b` for buffer lengths.
pub(crate) fn check_len(what: &'static str, expected: usize, actual: usize) -> Result<(), Error> {
    if expected == actual {
        Ok(())
    } else {
        Err(Error::LengthMismatch {
            what,
            expected,
            actual,
        })
    }
}

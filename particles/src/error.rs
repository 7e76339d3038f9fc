//! The crate's error type.

/// What can be wrong with a caller's bodies, parameters or backend.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A parameter is out of range (softening ≤ 0, dt ≤ 0, θ < 0, …).
    #[error("invalid {name}: {reason}")]
    InvalidParameter {
        /// The parameter.
        name: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// A body has a non-finite coordinate or a negative mass.
    #[error("body {index}: {reason}")]
    InvalidBody {
        /// Index of the body.
        index: usize,
        /// What is wrong.
        reason: String,
    },
    /// Two arrays that must have the same length do not.
    #[error("length mismatch: {what} (expected {expected}, got {actual})")]
    LengthMismatch {
        /// Which arrays.
        what: &'static str,
        /// Required length.
        expected: usize,
        /// Given length.
        actual: usize,
    },
    /// A bodies CSV has a malformed line.
    #[error("line {line}: {reason}")]
    Csv {
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        reason: String,
    },
    /// The GPU backend failed.
    #[error("gpu: {0}")]
    Gpu(String),
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

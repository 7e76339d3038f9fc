//! The crate's error type.

use std::path::PathBuf;
use std::time::Duration;

use crate::layout::Interval;

/// Everything that can go wrong in vivace-market-shm.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A layout or option is out of range.
    #[error("invalid configuration: {0}")]
    InvalidConfig(String),
    /// Symbol metadata cannot be stored (name too long or with NUL).
    #[error("invalid metadata: {0}")]
    InvalidMetadata(String),
    /// An indicator parameter is out of range.
    #[error("invalid indicator parameter: {0}")]
    InvalidParameter(String),
    /// A file operation failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// The file does not start with the region magic: not a vivace market region.
    #[error("{path}: not a vivace market region (magic {found:#018x})")]
    BadMagic {
        /// The file.
        path: PathBuf,
        /// The first eight bytes, as a little-endian `u64`.
        found: u64,
    },
    /// The region was written by another format version.
    #[error("{path}: format version {found}, this build reads version {supported}")]
    UnsupportedVersion {
        /// The file.
        path: PathBuf,
        /// The version in the header.
        found: u64,
        /// The version this crate reads.
        supported: u64,
    },
    /// The header's geometry is invalid or does not hash to the stored value.
    #[error("{path}: corrupt header: {reason}")]
    CorruptHeader {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The file is shorter (or longer) than its header says.
    #[error("{path}: file is {actual} bytes, its layout needs {expected}")]
    Truncated {
        /// The file.
        path: PathBuf,
        /// Size the layout needs.
        expected: u64,
        /// Size on disk.
        actual: u64,
    },
    /// An existing region has another layout than the one asked for.
    #[error(
        "{path}: existing region has another layout (hash {found:#x}, asked for {expected:#x})"
    )]
    LayoutMismatch {
        /// The file.
        path: PathBuf,
        /// Hash of the asked-for layout.
        expected: u64,
        /// Hash in the file.
        found: u64,
    },
    /// Another writer holds the region.
    #[error("the region already has a writer{}", match .pid { Some(p) => format!(" (pid {p})"), None => String::new() })]
    WriterExists {
        /// The other writer's process id, where known.
        pid: Option<u32>,
    },
    /// A symbol index beyond the layout.
    #[error("symbol {symbol} out of range (the region has {symbols})")]
    SymbolOutOfRange {
        /// The index asked for.
        symbol: usize,
        /// Symbols in the layout.
        symbols: usize,
    },
    /// An interval the layout does not have.
    #[error("interval {0} is not in this region's layout")]
    UnknownInterval(Interval),
    /// The writer died (its process is gone, or it detached) while a record
    /// was half written; the record is not returned.
    #[error("the writer died mid-write{}", match .pid { Some(p) => format!(" (pid {p})"), None => String::new() })]
    WriterDead {
        /// The dead writer's process id, where known.
        pid: Option<u32>,
    },
    /// A record stayed mid-write longer than the stall timeout while its
    /// writer is still alive (stopped or starved).
    #[error("a record stayed mid-write for {0:?} while the writer is alive")]
    WriterStalled(Duration),
    /// Nothing new arrived within the timeout.
    #[error("no update within {0:?}")]
    Timeout(Duration),
    /// The feed's sending side is gone (batched and individual modes).
    #[error("the feed was closed")]
    Disconnected,
    /// A message of the individual feed could not be decoded.
    #[error("malformed feed message: {0}")]
    Malformed(String),
    /// No indicator backend could be selected.
    #[error(transparent)]
    Backend(#[from] vivace_backend::SelectError),
    /// The GPU backend failed.
    #[error("GPU indicator backend: {0}")]
    Gpu(String),
}

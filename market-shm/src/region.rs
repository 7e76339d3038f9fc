//! Regions: the memory a writer and its readers share.

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};
use std::ptr::NonNull;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};

use memmap2::{Mmap, MmapMut, MmapOptions};

use crate::error::Error;
use crate::layout::{
    FORMAT_VERSION, HEADER_BYTES, Interval, Layout, LayoutConfig, MAGIC, MAX_INTERVALS, PAGE,
    READER_PAGE, hw,
};

enum Memory {
    Heap {
        ptr: NonNull<u8>,
        layout: std::alloc::Layout,
    },
    ReadWrite(#[allow(dead_code)] MmapMut),
    ReadOnly {
        _feed: Mmap,
        _reader_page: Option<MmapMut>,
    },
}

/// Where a region lives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RegionKind {
    /// A heap block shared by `Arc` between threads of one process.
    InProcess,
    /// A memory-mapped file shared between processes.
    File(PathBuf),
}

/// A block of shared market memory with a validated [`Layout`].
///
/// In process, create one with [`Region::in_memory`] and hand `Arc` clones
/// to a [`crate::Writer`] and any number of [`crate::Reader`]s. Across
/// processes, [`crate::Writer::open_or_create`] and [`crate::Reader::open`]
/// map a file.
pub struct Region {
    base: NonNull<u8>,
    waiters: Option<NonNull<AtomicU32>>,
    layout: Layout,
    kind: RegionKind,
    writable: bool,
    pub(crate) writer_attached: AtomicBool,
    pub(crate) file: Option<File>,
    _memory: Memory,
}

// SAFETY: the region's memory is only ever accessed through atomics (`&AtomicU64`
// and `&AtomicU32` views), so sharing it between threads is data-race free;
// the mapping or heap block lives as long as the `Region`.
unsafe impl Send for Region {}
// SAFETY: as above.
unsafe impl Sync for Region {}

impl Drop for Region {
    fn drop(&mut self) {
        if let Memory::Heap { ptr, layout } = self._memory {
            // SAFETY: allocated in `in_memory` with exactly this layout, and
            // no reference into it outlives `self`.
            unsafe { std::alloc::dealloc(ptr.as_ptr(), layout) };
        }
    }
}

impl std::fmt::Debug for Region {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Region")
            .field("kind", &self.kind)
            .field("layout", &self.layout)
            .finish()
    }
}

impl Region {
    /// A zeroed in-process region with `config`'s layout and an initialised
    /// header.
    ///
    /// ```
    /// use vivace_market_shm::{LayoutConfig, Region};
    /// let region = Region::in_memory(LayoutConfig::default())?;
    /// assert_eq!(region.layout().symbols(), 100);
    /// # Ok::<(), vivace_market_shm::Error>(())
    /// ```
    pub fn in_memory(config: LayoutConfig) -> Result<Arc<Region>, Error> {
        let layout = Layout::new(config)?;
        let alloc = std::alloc::Layout::from_size_align(layout.total_size(), PAGE)
            .map_err(|e| Error::InvalidConfig(format!("region too large: {e}")))?;
        // SAFETY: the layout has a non-zero size (at least the header pages).
        let ptr = unsafe { std::alloc::alloc_zeroed(alloc) };
        let Some(ptr) = NonNull::new(ptr) else {
            std::alloc::handle_alloc_error(alloc)
        };
        let region = Region {
            base: ptr,
            // SAFETY: the reader page lies inside the block and is 4-aligned.
            waiters: Some(unsafe { ptr.add(HEADER_BYTES).cast() }),
            layout,
            kind: RegionKind::InProcess,
            writable: true,
            writer_attached: AtomicBool::new(false),
            file: None,
            _memory: Memory::Heap { ptr, layout: alloc },
        };
        region.write_header();
        Ok(Arc::new(region))
    }

    /// Creates a zeroed file region at `path` (which must not exist).
    pub(crate) fn create_file(path: &Path, config: LayoutConfig) -> Result<Region, Error> {
        let layout = Layout::new(config)?;
        let io = |source| Error::Io {
            path: path.to_path_buf(),
            source,
        };
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(path)
            .map_err(io)?;
        file.set_len(layout.total_size() as u64).map_err(io)?;
        // SAFETY: the file was just created by us with the right length; other
        // processes only ever access it through atomics, like we do.
        let map = unsafe { MmapOptions::new().map_mut(&file) }.map_err(io)?;
        let region = Region::from_mmap_mut(map, layout, path, file);
        region.write_header();
        Ok(region)
    }

    /// Maps an existing region file read-write after validating it.
    pub(crate) fn open_file_rw(path: &Path) -> Result<Region, Error> {
        let io = |source| Error::Io {
            path: path.to_path_buf(),
            source,
        };
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .open(path)
            .map_err(io)?;
        let layout = validate_file(&file, path)?;
        // SAFETY: as in `create_file`: all shared access is atomic.
        let map =
            unsafe { MmapOptions::new().len(layout.total_size()).map_mut(&file) }.map_err(io)?;
        Ok(Region::from_mmap_mut(map, layout, path, file))
    }

    /// Maps an existing region file read-only (plus the reader page
    /// read-write where the file permissions allow) after validating it.
    pub(crate) fn open_file_ro(path: &Path) -> Result<Region, Error> {
        let io = |source| Error::Io {
            path: path.to_path_buf(),
            source,
        };
        let (file, page_writable) = match OpenOptions::new().read(true).write(true).open(path) {
            Ok(f) => (f, true),
            Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
                (File::open(path).map_err(io)?, false)
            }
            Err(e) => return Err(io(e)),
        };
        let layout = validate_file(&file, path)?;
        // SAFETY: a read-only shared mapping; we only ever load through atomics.
        let feed = unsafe { MmapOptions::new().len(layout.total_size()).map(&file) }.map_err(io)?;
        let reader_page = if page_writable {
            // SAFETY: maps only the reader page, the one part readers write
            // (the waiter count, atomically).
            Some(
                unsafe {
                    MmapOptions::new()
                        .offset(HEADER_BYTES as u64)
                        .len(READER_PAGE)
                        .map_mut(&file)
                }
                .map_err(io)?,
            )
        } else {
            None
        };
        let base = NonNull::new(feed.as_ptr().cast_mut()).expect("mmap returns a non-null pointer");
        let waiters = reader_page.as_ref().map(|p| {
            NonNull::new(p.as_ptr().cast_mut().cast::<AtomicU32>())
                .expect("mmap returns a non-null pointer")
        });
        Ok(Region {
            base,
            waiters,
            layout,
            kind: RegionKind::File(path.to_path_buf()),
            writable: false,
            writer_attached: AtomicBool::new(false),
            file: Some(file),
            _memory: Memory::ReadOnly {
                _feed: feed,
                _reader_page: reader_page,
            },
        })
    }

    fn from_mmap_mut(mut map: MmapMut, layout: Layout, path: &Path, file: File) -> Region {
        let base = NonNull::new(map.as_mut_ptr()).expect("mmap returns a non-null pointer");
        Region {
            base,
            // SAFETY: the reader page lies inside the mapping, page aligned.
            waiters: Some(unsafe { base.add(HEADER_BYTES).cast() }),
            layout,
            kind: RegionKind::File(path.to_path_buf()),
            writable: true,
            writer_attached: AtomicBool::new(false),
            file: Some(file),
            _memory: Memory::ReadWrite(map),
        }
    }

    fn write_header(&self) {
        let geometry = self.layout.geometry_words();
        self.header(hw::VERSION)
            .store(geometry[0], Ordering::Relaxed);
        for (i, &w) in geometry[1..].iter().enumerate() {
            self.header(hw::SYMBOLS + i).store(w, Ordering::Relaxed);
        }
        self.header(hw::HASH)
            .store(self.layout.hash(), Ordering::Relaxed);
        self.header(hw::TOTAL)
            .store(self.layout.total_size() as u64, Ordering::Relaxed);
        // The magic last: a half-initialised region never validates.
        self.header(hw::MAGIC).store(MAGIC, Ordering::Release);
    }

    /// The region's layout.
    #[inline]
    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    /// Where the region lives.
    pub fn kind(&self) -> &RegionKind {
        &self.kind
    }

    /// Whether this mapping may be written (false for a reader's mapping).
    pub fn is_writable(&self) -> bool {
        self.writable
    }

    #[inline]
    pub(crate) fn is_shared_across_processes(&self) -> bool {
        matches!(self.kind, RegionKind::File(_))
    }

    /// The 64-bit word at byte `offset`.
    #[inline(always)]
    pub(crate) fn word(&self, offset: usize) -> &AtomicU64 {
        debug_assert!(offset.is_multiple_of(8) && offset + 8 <= self.layout.total_size());
        // SAFETY: `offset` comes from the layout, so it is in bounds and
        // 8-aligned (the base is page aligned); the memory lives as long as
        // `self` and is only accessed atomically.
        unsafe { &*self.base.as_ptr().add(offset).cast::<AtomicU64>() }
    }

    /// `n` consecutive words starting at byte `offset`.
    #[inline(always)]
    pub(crate) fn words(&self, offset: usize, n: usize) -> &[AtomicU64] {
        debug_assert!(offset.is_multiple_of(8) && offset + 8 * n <= self.layout.total_size());
        // SAFETY: as in `word`, for the whole range.
        unsafe { std::slice::from_raw_parts(self.base.as_ptr().add(offset).cast::<AtomicU64>(), n) }
    }

    #[inline(always)]
    pub(crate) fn header(&self, index: usize) -> &AtomicU64 {
        self.word(8 * index)
    }

    /// The futex word readers block on.
    #[inline(always)]
    pub(crate) fn epoch(&self) -> &AtomicU32 {
        // SAFETY: inside the header page, 4-aligned, accessed only atomically.
        unsafe { &*self.base.as_ptr().add(hw::EPOCH_BYTE).cast::<AtomicU32>() }
    }

    /// The count of readers blocked on the futex, where this mapping can
    /// write it.
    #[inline(always)]
    pub(crate) fn waiters(&self) -> Option<&AtomicU32> {
        // SAFETY: points into the reader page of a live mapping owned by
        // `self`; 4-aligned; accessed only atomically.
        self.waiters.map(|p| unsafe { &*p.as_ptr() })
    }
}

fn read_u64_at(file: &File, path: &Path, index: usize) -> Result<u64, Error> {
    let mut buf = [0u8; 8];
    read_exact_at(file, &mut buf, (index * 8) as u64).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(u64::from_le_bytes(buf))
}

#[cfg(unix)]
fn read_exact_at(file: &File, buf: &mut [u8], offset: u64) -> std::io::Result<()> {
    std::os::unix::fs::FileExt::read_exact_at(file, buf, offset)
}

#[cfg(not(unix))]
fn read_exact_at(file: &File, buf: &mut [u8], offset: u64) -> std::io::Result<()> {
    use std::io::{Read, Seek, SeekFrom};
    let mut f = file;
    f.seek(SeekFrom::Start(offset))?;
    f.read_exact(buf)
}

/// Checks magic, version, geometry, hash and size; returns the layout.
fn validate_file(file: &File, path: &Path) -> Result<Layout, Error> {
    let actual = file
        .metadata()
        .map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?
        .len();
    let min = (HEADER_BYTES + READER_PAGE) as u64;
    let truncated = |expected: u64| Error::Truncated {
        path: path.to_path_buf(),
        expected,
        actual,
    };
    // Too short for the magic: truncated. Otherwise the magic decides
    // first, so a file that is not a region says so whatever its size.
    if actual < 8 {
        return Err(truncated(min));
    }
    let magic = read_u64_at(file, path, hw::MAGIC)?;
    if magic != MAGIC {
        return Err(Error::BadMagic {
            path: path.to_path_buf(),
            found: magic,
        });
    }
    if actual < min {
        return Err(truncated(min));
    }
    let version = read_u64_at(file, path, hw::VERSION)?;
    if version != FORMAT_VERSION {
        return Err(Error::UnsupportedVersion {
            path: path.to_path_buf(),
            found: version,
            supported: FORMAT_VERSION,
        });
    }
    let corrupt = |reason: String| Error::CorruptHeader {
        path: path.to_path_buf(),
        reason,
    };
    let symbols = read_u64_at(file, path, hw::SYMBOLS)?;
    let n_intervals = read_u64_at(file, path, hw::INTERVALS)?;
    let capacity = read_u64_at(file, path, hw::CAPACITY)?;
    if n_intervals == 0 || n_intervals > MAX_INTERVALS as u64 {
        return Err(corrupt(format!("{n_intervals} intervals")));
    }
    let mut intervals = Vec::new();
    for i in 0..n_intervals as usize {
        let secs = read_u64_at(file, path, hw::INTERVAL0 + i)?;
        let secs = u32::try_from(secs).map_err(|_| corrupt(format!("interval of {secs} s")))?;
        intervals.push(Interval::from_secs(secs).map_err(|e| corrupt(e.to_string()))?);
    }
    let config = LayoutConfig {
        symbols: usize::try_from(symbols).unwrap_or(usize::MAX),
        intervals,
        kline_capacity: usize::try_from(capacity).unwrap_or(usize::MAX),
    };
    let layout = Layout::new(config).map_err(|e| corrupt(e.to_string()))?;
    let stored_words: Vec<u64> = std::iter::once(version)
        .chain(
            (hw::SYMBOLS..hw::INTERVAL0 + MAX_INTERVALS)
                .map(|i| read_u64_at(file, path, i).unwrap_or(!0)),
        )
        .collect();
    let stored_hash = read_u64_at(file, path, hw::HASH)?;
    if stored_words != layout.geometry_words() || stored_hash != layout.hash() {
        return Err(corrupt(format!(
            "layout hash {stored_hash:#x} does not match its geometry ({:#x})",
            layout.hash()
        )));
    }
    if actual != layout.total_size() as u64 {
        return Err(truncated(layout.total_size() as u64));
    }
    Ok(layout)
}

#[cfg(test)]
mod tests {
    //! In-process regions end to end: small enough for Miri, which checks
    //! every raw-pointer view above.
    use super::*;
    use crate::layout::{Kline, TICKER_FIELDS, Ticker};
    use crate::protocol;
    use crate::{Reader, WaitMode, Writer};
    use std::time::Duration;

    fn small() -> LayoutConfig {
        LayoutConfig {
            symbols: 3,
            intervals: vec![Interval::M1, Interval::H1],
            kline_capacity: 4,
        }
    }

    #[test]
    fn header_words_match_the_documented_map() {
        let region = Region::in_memory(small()).unwrap();
        let l = region.layout().clone();
        let h = |i| region.header(i).load(Ordering::Relaxed);
        assert_eq!(h(hw::MAGIC), MAGIC);
        assert_eq!(h(hw::VERSION), FORMAT_VERSION);
        assert_eq!(h(hw::HASH), l.hash());
        assert_eq!(h(hw::TOTAL), l.total_size() as u64);
        assert_eq!(
            (
                h(hw::SYMBOLS),
                h(hw::INTERVALS),
                h(hw::CAPACITY),
                h(hw::FIELDS)
            ),
            (3, 2, 4, 10)
        );
        assert_eq!(h(hw::COUNTERS), l.counters_offset as u64);
        assert_eq!(h(hw::METADATA), l.metadata_offset as u64);
        assert_eq!(h(hw::TICKERS), l.tickers_offset as u64);
        assert_eq!(h(hw::KLINES), l.klines_offset as u64);
        assert_eq!(h(hw::TICKER_STRIDE), 128);
        assert_eq!(h(hw::RING_STRIDE), l.ring_stride as u64);
        assert_eq!((h(hw::SLOT_STRIDE), h(hw::METADATA_STRIDE)), (64, 256));
        assert_eq!(
            (h(hw::INTERVAL0), h(hw::INTERVAL0 + 1), h(hw::INTERVAL0 + 2)),
            (60, 3_600, 0)
        );
    }

    #[test]
    fn threads_share_tickers_and_klines_torn_free() {
        let region = Region::in_memory(small()).unwrap();
        let writes: u64 = if cfg!(miri) { 50 } else { 20_000 };
        let reader = Reader::attach(Arc::clone(&region));
        let writer = {
            let region = Arc::clone(&region);
            std::thread::spawn(move || {
                let mut w = Writer::attach(region).unwrap();
                for i in 1..=writes {
                    w.write_ticker((i % 3) as usize, &Ticker([i as f64; TICKER_FIELDS]))
                        .unwrap();
                    let k = i as f64;
                    let kline = Kline {
                        open_time: k,
                        open: k,
                        high: k,
                        low: k,
                        close: k,
                        volume: k,
                    };
                    w.push_kline(1, Interval::H1, &kline).unwrap();
                }
            })
        };
        let mut cursor = reader.kline_cursor(1, Interval::H1).unwrap();
        let mut out = Vec::new();
        let mut last = 0.0;
        loop {
            let done = writer.is_finished();
            for s in 0..3 {
                let t = reader.ticker(s).unwrap();
                assert!(t.0.iter().all(|&v| v == t.0[0]), "torn {t:?}");
            }
            out.clear();
            reader.read_new_klines(&mut cursor, &mut out).unwrap();
            for k in &out {
                assert!(k.open_time > last && k.close == k.open_time);
                last = k.open_time;
            }
            if done {
                break;
            }
        }
        writer.join().unwrap();
        assert_eq!(reader.update_count(), 2 * writes);
        assert!(
            matches!(reader.wait_for_update(0, Duration::ZERO, WaitMode::Spin), Ok(n) if n == 2 * writes)
        );
    }

    #[test]
    fn taking_over_resets_half_written_records() {
        let region = Region::in_memory(small()).unwrap();
        let mut w = Writer::attach(Arc::clone(&region)).unwrap();
        w.write_ticker(2, &Ticker([5.0; TICKER_FIELDS])).unwrap();
        let k = Kline {
            open_time: 1.0,
            open: 1.0,
            high: 1.0,
            low: 1.0,
            close: 1.0,
            volume: 1.0,
        };
        w.push_kline(0, Interval::M1, &k).unwrap();
        // Leave ticker 2 and the next kline slot mid-write, as a crash would.
        let layout = region.layout().clone();
        protocol::begin_write(region.word(layout.ticker_offset(2)));
        let ring = layout.ring_offset(0, 0);
        protocol::begin_write(region.word(ring + crate::layout::LINE + crate::layout::SLOT_STRIDE));
        drop(w);
        let mut reader = Reader::attach(Arc::clone(&region));
        reader.set_stall_timeout(Duration::from_millis(1));
        assert!(matches!(reader.ticker(2), Err(Error::WriterDead { .. })));
        let w = Writer::attach(Arc::clone(&region)).unwrap();
        assert_eq!(
            w.repair(),
            crate::Repair {
                tickers: 1,
                kline_slots: 1,
                metadata: 0
            }
        );
        assert_eq!(reader.ticker(2).unwrap(), Ticker::default());
        assert_eq!(reader.latest_kline(0, Interval::M1).unwrap(), Some(k));
    }
}

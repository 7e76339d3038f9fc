//! Readers.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering, fence};
use std::time::{Duration, Instant};

use crate::error::Error;
use crate::layout::{
    Interval, KLINE_WORDS, Kline, Layout, METADATA_WORDS, SymbolMeta, TICKER_FIELDS, Ticker, hw,
};
use crate::protocol;
use crate::region::Region;
use crate::sys;
use crate::writer::{STATE_ACTIVE, STATE_CLOSED};

/// How long a record may stay mid-write before a read gives up, unless set
/// with [`Reader::set_stall_timeout`].
pub const DEFAULT_STALL_TIMEOUT: Duration = Duration::from_millis(250);

/// How [`Reader::wait_for_update`] waits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WaitMode {
    /// Poll the update counter in a loop (lowest latency, burns a core).
    Spin,
    /// Sleep on the futex until the writer publishes (a system call on each
    /// side, but no CPU while idle).
    Block,
}

/// The state of a region's writer, as a reader sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WriterStatus {
    /// No writer ever attached.
    None,
    /// A writer is attached (and, across processes, its process is alive).
    Active,
    /// The last writer detached cleanly.
    Closed,
    /// The writer's process died without detaching.
    Dead,
}

/// Where an incremental kline reader stands in one ring.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KlineCursor {
    /// Byte offset of the ring in the region.
    ring: usize,
    next: u64,
}

impl KlineCursor {
    /// Index (in append order) of the next kline this cursor will return.
    pub fn next_index(&self) -> u64 {
        self.next
    }
}

/// What one incremental kline read returned.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct KlineRead {
    /// Klines appended to the output.
    pub read: usize,
    /// Klines the writer overwrote before this reader got to them.
    pub missed: u64,
}

/// A reader of a region: tickers, metadata, klines and update notifications.
///
/// Reads never return a torn record. A record found mid-write is retried;
/// if it stays mid-write past the stall timeout the read fails with
/// [`Error::WriterDead`] (the writer's process is gone or it detached) or
/// [`Error::WriterStalled`] (it is alive but stuck), never spinning forever.
///
/// Across processes the reader maps the feed **read-only**: it cannot
/// corrupt it. It writes only the reader page (the count of readers blocked
/// on the futex), where the file's permissions allow.
pub struct Reader {
    region: Arc<Region>,
    stall_timeout: Duration,
    shared_futex: bool,
}

impl std::fmt::Debug for Reader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reader")
            .field("region", &self.region)
            .finish()
    }
}

impl Reader {
    /// A reader of an in-process region (or a region this process mapped).
    pub fn attach(region: Arc<Region>) -> Reader {
        let shared_futex = region.is_shared_across_processes();
        Reader {
            region,
            stall_timeout: DEFAULT_STALL_TIMEOUT,
            shared_futex,
        }
    }

    /// Opens and validates the region file at `path` (magic, version, layout
    /// hash, size) and maps it read-only.
    pub fn open(path: impl AsRef<Path>) -> Result<Reader, Error> {
        Ok(Reader::attach(Arc::new(Region::open_file_ro(
            path.as_ref(),
        )?)))
    }

    /// Sets how long a record may stay mid-write before reads fail.
    pub fn set_stall_timeout(&mut self, timeout: Duration) {
        self.stall_timeout = timeout;
    }

    /// The region read from.
    pub fn region(&self) -> &Arc<Region> {
        &self.region
    }

    /// The region's layout.
    #[inline]
    pub fn layout(&self) -> &Layout {
        self.region.layout()
    }

    /// The state of the region's writer.
    pub fn writer_status(&self) -> WriterStatus {
        match self.region.header(hw::WRITER_STATE).load(Ordering::Relaxed) {
            0 => WriterStatus::None,
            STATE_CLOSED => WriterStatus::Closed,
            STATE_ACTIVE if !self.region.is_shared_across_processes() => WriterStatus::Active,
            STATE_ACTIVE => match self.writer_pid() {
                Some(pid) if sys::process_alive(pid) => WriterStatus::Active,
                _ => WriterStatus::Dead,
            },
            _ => WriterStatus::Dead,
        }
    }

    /// The writer's process id, if one ever attached.
    pub fn writer_pid(&self) -> Option<u32> {
        let pid = self.region.header(hw::WRITER_PID).load(Ordering::Relaxed);
        u32::try_from(pid).ok().filter(|&p| p != 0)
    }

    /// Updates published so far (the global update counter).
    #[inline]
    pub fn update_count(&self) -> u64 {
        let n = self.region.header(hw::UPDATE_COUNT).load(Ordering::Relaxed);
        fence(Ordering::Acquire);
        n
    }

    /// Updates of `symbol` so far (ticker, kline and metadata writes).
    #[inline]
    pub fn symbol_changes(&self, symbol: usize) -> Result<u64, Error> {
        self.layout().check_symbol(symbol)?;
        let n = self
            .region
            .word(self.layout().counters_offset + 8 * symbol)
            .load(Ordering::Relaxed);
        fence(Ordering::Acquire);
        Ok(n)
    }

    /// A consistent copy of `symbol`'s ticker.
    #[inline]
    pub fn ticker(&self, symbol: usize) -> Result<Ticker, Error> {
        let layout = self.region.layout();
        layout.check_symbol(symbol)?;
        let rec = self
            .region
            .words(layout.ticker_offset(symbol), 1 + TICKER_FIELDS);
        let mut out = [0u64; TICKER_FIELDS];
        self.read(&rec[0], &rec[1..], &mut out)?;
        Ok(Ticker::from_words(out))
    }

    /// A consistent copy of `symbol`'s metadata.
    #[inline]
    pub fn metadata(&self, symbol: usize) -> Result<SymbolMeta, Error> {
        let layout = self.region.layout();
        layout.check_symbol(symbol)?;
        let rec = self
            .region
            .words(layout.metadata_record_offset(symbol), 1 + METADATA_WORDS);
        let mut out = [0u64; METADATA_WORDS];
        self.read(&rec[0], &rec[1..], &mut out)?;
        Ok(SymbolMeta::from_words(&out))
    }

    #[inline(always)]
    fn read(&self, seq: &AtomicU64, payload: &[AtomicU64], out: &mut [u64]) -> Result<u64, Error> {
        match protocol::try_read(seq, payload, out) {
            Ok(s) => Ok(s),
            Err(_) => self.read_contended(seq, payload, out),
        }
    }

    #[cold]
    fn read_contended(
        &self,
        seq: &AtomicU64,
        payload: &[AtomicU64],
        out: &mut [u64],
    ) -> Result<u64, Error> {
        // The stall clock restarts whenever the sequence moves: a writer
        // that keeps making progress is never reported, only one that leaves
        // a record mid-write.
        let mut since = Instant::now();
        let mut last = seq.load(Ordering::Relaxed);
        let mut tries = 0u32;
        loop {
            std::hint::spin_loop();
            match protocol::try_read(seq, payload, out) {
                Ok(s) => return Ok(s),
                Err(s) if s != last => {
                    last = s;
                    since = Instant::now();
                }
                Err(_) => {}
            }
            tries = tries.wrapping_add(1);
            if tries.is_multiple_of(256) {
                if tries >= 4_096 {
                    std::thread::yield_now();
                }
                let waited = since.elapsed();
                if waited >= self.stall_timeout {
                    if self.writer_status() != WriterStatus::Active {
                        return Err(Error::WriterDead {
                            pid: self.writer_pid(),
                        });
                    }
                    return Err(Error::WriterStalled(waited));
                }
            }
        }
    }

    /// A cursor at the oldest kline still held in `symbol`'s ring for
    /// `interval`.
    pub fn kline_cursor(&self, symbol: usize, interval: Interval) -> Result<KlineCursor, Error> {
        let (ring, count) = self.ring_state(symbol, interval)?;
        let next = count.saturating_sub(self.layout().kline_capacity() as u64);
        Ok(KlineCursor { ring, next })
    }

    /// A cursor that returns only klines appended from now on.
    pub fn kline_cursor_at_end(
        &self,
        symbol: usize,
        interval: Interval,
    ) -> Result<KlineCursor, Error> {
        let (ring, next) = self.ring_state(symbol, interval)?;
        Ok(KlineCursor { ring, next })
    }

    /// The ring's offset and its write cursor (klines appended so far).
    fn ring_state(&self, symbol: usize, interval: Interval) -> Result<(usize, u64), Error> {
        let ring = self.layout().ring(symbol, interval)?;
        let count = self.region.word(ring).load(Ordering::Relaxed);
        fence(Ordering::Acquire);
        Ok((ring, count))
    }

    /// Klines appended to `symbol`'s ring for `interval` so far.
    #[inline]
    pub fn kline_count(&self, symbol: usize, interval: Interval) -> Result<u64, Error> {
        Ok(self.ring_state(symbol, interval)?.1)
    }

    /// Appends to `out` the klines appended since `cursor` last read, oldest
    /// first, and advances the cursor: O(new klines), never a rescan. Klines
    /// the writer overwrote before they were read are counted in
    /// [`KlineRead::missed`].
    #[inline]
    pub fn read_new_klines(
        &self,
        cursor: &mut KlineCursor,
        out: &mut Vec<Kline>,
    ) -> Result<KlineRead, Error> {
        let layout = self.region.layout();
        let capacity = layout.kline_capacity() as u64;
        let ring = cursor.ring;
        let mut result = KlineRead::default();
        loop {
            let count = self.region.word(ring).load(Ordering::Relaxed);
            fence(Ordering::Acquire);
            if cursor.next + capacity < count {
                let oldest = count - capacity;
                result.missed += oldest - cursor.next;
                cursor.next = oldest;
            }
            let mut lapped = false;
            while cursor.next < count {
                let i = cursor.next;
                let slot = layout.slot_offset(ring, i);
                let rec = self.region.words(slot, 1 + KLINE_WORDS);
                let mut words = [0u64; KLINE_WORDS];
                self.read(&rec[0], &rec[1..], &mut words)?;
                if words[KLINE_WORDS - 1] != i {
                    // Overwritten by a newer kline while we were behind.
                    lapped = true;
                    break;
                }
                out.push(Kline::from_words(&words));
                result.read += 1;
                cursor.next += 1;
            }
            if !lapped {
                return Ok(result);
            }
        }
    }

    /// The newest kline (including one the writer is still updating with
    /// [`crate::Writer::update_last_kline`]), or `None` for an empty ring.
    #[inline]
    pub fn latest_kline(&self, symbol: usize, interval: Interval) -> Result<Option<Kline>, Error> {
        let (ring, count) = self.ring_state(symbol, interval)?;
        if count == 0 {
            return Ok(None);
        }
        let slot = self.layout().slot_offset(ring, count - 1);
        let rec = self.region.words(slot, 1 + KLINE_WORDS);
        let mut words = [0u64; KLINE_WORDS];
        self.read(&rec[0], &rec[1..], &mut words)?;
        Ok(Some(Kline::from_words(&words)))
    }

    /// Copies every kline held in the ring, oldest first, into `out`
    /// (cleared first); returns how many. Each kline is read torn-free; a
    /// kline overwritten during the scan is skipped.
    pub fn scan_klines(
        &self,
        symbol: usize,
        interval: Interval,
        out: &mut Vec<Kline>,
    ) -> Result<usize, Error> {
        out.clear();
        let mut cursor = self.kline_cursor(symbol, interval)?;
        Ok(self.read_new_klines(&mut cursor, out)?.read)
    }

    /// Waits until the update counter exceeds `seen`, at most `timeout`, and
    /// returns the new count. On timeout: [`Error::WriterDead`] if the writer
    /// is gone, [`Error::Timeout`] otherwise.
    pub fn wait_for_update(
        &self,
        seen: u64,
        timeout: Duration,
        mode: WaitMode,
    ) -> Result<u64, Error> {
        let now = self.update_count();
        if now > seen {
            return Ok(now);
        }
        let start = Instant::now();
        let result = match (mode, self.region.waiters()) {
            (WaitMode::Block, Some(waiters)) => loop {
                let epoch = self.region.epoch();
                let e = epoch.load(Ordering::Relaxed);
                fence(Ordering::Acquire);
                let now = self.update_count();
                if now > seen {
                    break Some(now);
                }
                let elapsed = start.elapsed();
                if elapsed >= timeout {
                    break None;
                }
                waiters.fetch_add(1, Ordering::SeqCst);
                // Pairs with the fence in the writer's notify: either the
                // writer sees us registered, or we see its new epoch.
                fence(Ordering::SeqCst);
                if epoch.load(Ordering::Relaxed) == e {
                    sys::futex_wait(epoch, e, timeout - elapsed, self.shared_futex);
                }
                waiters.fetch_sub(1, Ordering::SeqCst);
            },
            _ => loop {
                for _ in 0..128 {
                    std::hint::spin_loop();
                    let now = self.update_count();
                    if now > seen {
                        return Ok(now);
                    }
                }
                if start.elapsed() >= timeout {
                    break None;
                }
                if mode == WaitMode::Block {
                    // No writable reader page: poll gently.
                    std::thread::sleep(Duration::from_micros(20));
                }
            },
        };
        match result {
            Some(now) => Ok(now),
            None => match self.writer_status() {
                WriterStatus::Dead => Err(Error::WriterDead {
                    pid: self.writer_pid(),
                }),
                WriterStatus::Closed => Err(Error::Disconnected),
                WriterStatus::None | WriterStatus::Active => Err(Error::Timeout(timeout)),
            },
        }
    }
}

//! The single writer.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::Error;
use crate::layout::{
    Interval, KLINE_WORDS, Kline, Layout, LayoutConfig, METADATA_WORDS, SymbolMeta, TICKER_FIELDS,
    Ticker, TickerField, hw,
};
use crate::protocol;
use crate::region::Region;
use crate::sys;

pub(crate) const STATE_ACTIVE: u64 = 1;
pub(crate) const STATE_CLOSED: u64 = 2;

/// What [`Writer`] found and mended when it took over a region.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Repair {
    /// Ticker records left mid-write by the previous writer, reset.
    pub tickers: usize,
    /// Kline slots left mid-write, reset.
    pub kline_slots: usize,
    /// Metadata records left mid-write, reset.
    pub metadata: usize,
}

impl Repair {
    /// Total records reset.
    pub fn total(&self) -> usize {
        self.tickers + self.kline_slots + self.metadata
    }
}

/// The one writer of a region.
///
/// Every write is a sequence-locked record update (a handful of plain
/// stores on x86), followed by the notification step: the update counters
/// are bumped and, only if some reader is blocked on the futex, a wake-up
/// system call is made. [`Writer::batch`] writes many records with one
/// notification.
///
/// A second writer on the same region is refused with
/// [`Error::WriterExists`] (in process by a flag, across processes by an
/// advisory `flock`, which the kernel releases when the writer dies).
///
/// ```
/// use vivace_market_shm::{LayoutConfig, Reader, Region, Ticker, TickerField, Writer};
/// let region = Region::in_memory(LayoutConfig::default())?;
/// let mut writer = Writer::attach(region.clone())?;
/// let mut reader = Reader::attach(region);
///
/// let mut t = Ticker::default();
/// t.set(TickerField::Bid, 100.25);
/// writer.write_ticker(7, &t)?;
/// assert_eq!(reader.ticker(7)?.get(TickerField::Bid), 100.25);
/// # Ok::<(), vivace_market_shm::Error>(())
/// ```
pub struct Writer {
    region: Arc<Region>,
    updates: u64,
    shared_futex: bool,
    repair: Repair,
}

impl std::fmt::Debug for Writer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Writer")
            .field("region", &self.region)
            .field("updates", &self.updates)
            .finish()
    }
}

impl Writer {
    /// Becomes the writer of an in-process region (or of a file region
    /// mapped read-write in this process).
    pub fn attach(region: Arc<Region>) -> Result<Writer, Error> {
        if !region.is_writable() {
            return Err(Error::InvalidConfig(
                "a reader's read-only mapping cannot be written".into(),
            ));
        }
        if region.writer_attached.swap(true, Ordering::AcqRel) {
            return Err(Error::WriterExists {
                pid: Some(std::process::id()),
            });
        }
        Ok(Writer::take(region))
    }

    /// Opens the region file at `path`, creating it with `config` if it does
    /// not exist, and becomes its writer.
    ///
    /// An existing file must hold a region with exactly `config`'s layout
    /// ([`Error::LayoutMismatch`] otherwise; the file is left untouched). If
    /// its previous writer died mid-write, the half-written records are
    /// repaired (see [`Writer::repair`]).
    pub fn open_or_create(path: impl AsRef<Path>, config: LayoutConfig) -> Result<Writer, Error> {
        let path = path.as_ref();
        let wanted = Layout::new(config.clone())?;
        let region = match Region::open_file_rw(path) {
            Ok(region) => {
                lock(&region)?;
                if region.layout() != &wanted {
                    return Err(Error::LayoutMismatch {
                        path: path.to_path_buf(),
                        expected: wanted.hash(),
                        found: region.layout().hash(),
                    });
                }
                region
            }
            Err(Error::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
                let region = Region::create_file(path, config)?;
                lock(&region)?;
                region
            }
            Err(e) => return Err(e),
        };
        region.writer_attached.store(true, Ordering::Release);
        Ok(Writer::take(Arc::new(region)))
    }

    /// Creates a new region file at `path` (it must not exist) and becomes its
    /// writer.
    pub fn create(path: impl AsRef<Path>, config: LayoutConfig) -> Result<Writer, Error> {
        let region = Region::create_file(path.as_ref(), config)?;
        lock(&region)?;
        region.writer_attached.store(true, Ordering::Release);
        Ok(Writer::take(Arc::new(region)))
    }

    fn take(region: Arc<Region>) -> Writer {
        let repair = repair(&region);
        let generation = region.header(hw::WRITER_GENERATION).load(Ordering::Relaxed);
        region
            .header(hw::WRITER_GENERATION)
            .store(generation + 1, Ordering::Relaxed);
        region
            .header(hw::WRITER_PID)
            .store(u64::from(std::process::id()), Ordering::Relaxed);
        region
            .header(hw::WRITER_STATE)
            .store(STATE_ACTIVE, Ordering::Release);
        let updates = region.header(hw::UPDATE_COUNT).load(Ordering::Relaxed);
        let shared_futex = region.is_shared_across_processes();
        Writer {
            region,
            updates,
            shared_futex,
            repair,
        }
    }

    /// The region written to.
    pub fn region(&self) -> &Arc<Region> {
        &self.region
    }

    /// The layout of the region.
    #[inline]
    pub fn layout(&self) -> &Layout {
        self.region.layout()
    }

    /// What was repaired when this writer took the region over.
    ///
    /// A record a dead writer left half-written cannot be restored (part of
    /// it was already overwritten), so it is reset to the empty record (all
    /// fields zero, like a never-written record) and published with an even
    /// sequence; readers stop reporting [`Error::WriterDead`] for it.
    pub fn repair(&self) -> Repair {
        self.repair
    }

    /// Updates written so far (the global update counter).
    pub fn update_count(&self) -> u64 {
        self.updates
    }

    /// Writes symbol `symbol`'s ticker and notifies readers.
    #[inline]
    pub fn write_ticker(&mut self, symbol: usize, ticker: &Ticker) -> Result<(), Error> {
        self.write_ticker_quiet(symbol, ticker)?;
        self.notify();
        Ok(())
    }

    #[inline(always)]
    fn write_ticker_quiet(&mut self, symbol: usize, ticker: &Ticker) -> Result<(), Error> {
        let layout = self.region.layout();
        layout.check_symbol(symbol)?;
        let rec = self
            .region
            .words(layout.ticker_offset(symbol), 1 + TICKER_FIELDS);
        protocol::write(&rec[0], &rec[1..], &ticker.to_words());
        self.count(symbol);
        Ok(())
    }

    /// Updates some fields of `symbol`'s ticker in place: `update` is called
    /// with the record held mid-write and stores only the fields it sets,
    /// then the record is published and readers are notified.
    ///
    /// Keep `update` short: readers of this symbol spin while it runs. If it
    /// panics the record is published with the fields set so far.
    #[inline]
    pub fn update_ticker(
        &mut self,
        symbol: usize,
        update: impl FnOnce(&mut TickerUpdate<'_>),
    ) -> Result<(), Error> {
        let layout = self.region.layout();
        layout.check_symbol(symbol)?;
        let rec = self
            .region
            .words(layout.ticker_offset(symbol), 1 + TICKER_FIELDS);
        struct Publish<'a>(&'a AtomicU64, u64);
        impl Drop for Publish<'_> {
            fn drop(&mut self) {
                protocol::end_write(self.0, self.1);
            }
        }
        let guard = Publish(&rec[0], protocol::begin_write(&rec[0]));
        update(&mut TickerUpdate { fields: &rec[1..] });
        drop(guard);
        self.count(symbol);
        self.notify();
        Ok(())
    }

    /// Appends a kline to `symbol`'s ring for `interval` (overwriting the
    /// oldest when full) and notifies readers.
    #[inline]
    pub fn push_kline(
        &mut self,
        symbol: usize,
        interval: Interval,
        kline: &Kline,
    ) -> Result<(), Error> {
        self.push_kline_quiet(symbol, interval, kline)?;
        self.notify();
        Ok(())
    }

    #[inline]
    fn push_kline_quiet(
        &mut self,
        symbol: usize,
        interval: Interval,
        kline: &Kline,
    ) -> Result<(), Error> {
        let ring = self.region.layout().ring(symbol, interval)?;
        let cursor = self.region.word(ring);
        let index = cursor.load(Ordering::Relaxed);
        self.write_kline_slot(ring, index, kline);
        cursor.store(index + 1, Ordering::Release);
        self.count(symbol);
        Ok(())
    }

    /// Writes kline number `index` of the ring at `ring` into its slot.
    #[inline(always)]
    fn write_kline_slot(&self, ring: usize, index: u64, kline: &Kline) {
        let slot = self.region.layout().slot_offset(ring, index);
        let rec = self.region.words(slot, 1 + KLINE_WORDS);
        protocol::write(&rec[0], &rec[1..], &kline.to_words(index));
    }

    /// Rewrites the newest kline of `symbol`'s ring for `interval` (the
    /// forming candle) and notifies readers; appends if the ring is empty.
    #[inline]
    pub fn update_last_kline(
        &mut self,
        symbol: usize,
        interval: Interval,
        kline: &Kline,
    ) -> Result<(), Error> {
        let ring = self.region.layout().ring(symbol, interval)?;
        let count = self.region.word(ring).load(Ordering::Relaxed);
        if count == 0 {
            return self.push_kline(symbol, interval, kline);
        }
        self.write_kline_slot(ring, count - 1, kline);
        self.count(symbol);
        self.notify();
        Ok(())
    }

    /// Sets `symbol`'s metadata and notifies readers.
    pub fn set_metadata(&mut self, symbol: usize, meta: &SymbolMeta) -> Result<(), Error> {
        let layout = self.region.layout();
        layout.check_symbol(symbol)?;
        let words = meta.to_words()?;
        let rec = self
            .region
            .words(layout.metadata_record_offset(symbol), 1 + METADATA_WORDS);
        protocol::write(&rec[0], &rec[1..], &words);
        self.count(symbol);
        self.notify();
        Ok(())
    }

    /// Runs `writes` with a [`Batch`] whose writes are not notified one by
    /// one; readers are notified once at the end. The batch's records are
    /// still individually torn-free, and spinning readers see each as soon as
    /// it is written.
    pub fn batch<R>(&mut self, writes: impl FnOnce(&mut Batch<'_>) -> R) -> R {
        let result = writes(&mut Batch { writer: self });
        self.notify();
        result
    }

    #[inline(always)]
    fn count(&mut self, symbol: usize) {
        let counter = self
            .region
            .word(self.region.layout().counters_offset + 8 * symbol);
        counter.store(counter.load(Ordering::Relaxed) + 1, Ordering::Release);
        self.updates += 1;
    }

    /// Publishes the update counter and wakes blocked readers, with a system
    /// call only when some reader is blocked.
    #[inline(always)]
    fn notify(&mut self) {
        self.region
            .header(hw::UPDATE_COUNT)
            .store(self.updates, Ordering::Release);
        let epoch = self.region.epoch();
        // A sequentially consistent read-modify-write (one locked
        // instruction on x86, cheaper than a store plus a full fence) then a
        // sequentially consistent load: paired with the reader's SeqCst
        // registration and fence in `Reader::wait_for_update`, either this
        // load sees the reader registered, or the reader sees the new epoch
        // and does not sleep. No wake-up is ever lost.
        epoch.fetch_add(1, Ordering::SeqCst);
        if let Some(waiters) = self.region.waiters()
            && waiters.load(Ordering::SeqCst) != 0
        {
            sys::futex_wake_all(epoch, self.shared_futex);
        }
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        self.region
            .header(hw::WRITER_STATE)
            .store(STATE_CLOSED, Ordering::Release);
        self.region.writer_attached.store(false, Ordering::Release);
        // Wake blocked readers so they notice the writer is gone.
        self.notify();
        // Readers in this process may keep the mapping (and its file) alive:
        // release the writer lock now, not when the last of them goes.
        if let Some(file) = &self.region.file {
            sys::unlock(file);
        }
    }
}

/// Writes inside [`Writer::batch`]: the same operations as the writer,
/// notified once when the batch ends.
pub struct Batch<'w> {
    writer: &'w mut Writer,
}

impl Batch<'_> {
    /// As [`Writer::write_ticker`], without the notification.
    #[inline]
    pub fn write_ticker(&mut self, symbol: usize, ticker: &Ticker) -> Result<(), Error> {
        self.writer.write_ticker_quiet(symbol, ticker)
    }
    /// As [`Writer::push_kline`], without the notification.
    #[inline]
    pub fn push_kline(
        &mut self,
        symbol: usize,
        interval: Interval,
        kline: &Kline,
    ) -> Result<(), Error> {
        self.writer.push_kline_quiet(symbol, interval, kline)
    }
}

/// A ticker record held mid-write by [`Writer::update_ticker`].
pub struct TickerUpdate<'a> {
    fields: &'a [AtomicU64],
}

impl TickerUpdate<'_> {
    /// Stores one field.
    #[inline]
    pub fn set(&mut self, field: TickerField, value: f64) {
        self.fields[field as usize].store(value.to_bits(), Ordering::Relaxed);
    }
    /// The field's current value (the writer's own, so no lock is needed).
    #[inline]
    pub fn get(&self, field: TickerField) -> f64 {
        f64::from_bits(self.fields[field as usize].load(Ordering::Relaxed))
    }
}

fn lock(region: &Region) -> Result<(), Error> {
    let file = region.file.as_ref().expect("file regions keep their file");
    let path = match region.kind() {
        crate::RegionKind::File(p) => p.clone(),
        crate::RegionKind::InProcess => Default::default(),
    };
    match sys::try_lock_exclusive(file) {
        Ok(true) => Ok(()),
        Ok(false) => {
            let pid = region.header(hw::WRITER_PID).load(Ordering::Relaxed);
            Err(Error::WriterExists {
                pid: u32::try_from(pid).ok().filter(|&p| p != 0),
            })
        }
        Err(source) => Err(Error::Io { path, source }),
    }
}

/// Resets every record a dead writer left with an odd sequence.
fn repair(region: &Region) -> Repair {
    let layout = region.layout();
    let mut repair = Repair::default();
    // Resets the record at `offset` if it is mid-write; `last` is the value
    // its final payload word gets (a kline slot's index).
    let fix = |offset: usize, words: usize, last: u64| -> bool {
        let rec = region.words(offset, 1 + words);
        let seq = rec[0].load(Ordering::Relaxed);
        if seq & 1 == 0 {
            return false;
        }
        for w in &rec[1..] {
            w.store(0, Ordering::Relaxed);
        }
        rec[words].store(last, Ordering::Relaxed);
        // Odd + 1: even and newer than anything a reader saw.
        rec[0].store(seq + 1, Ordering::Release);
        true
    };
    let capacity = layout.kline_capacity() as u64;
    for s in 0..layout.symbols() {
        repair.tickers += usize::from(fix(layout.ticker_offset(s), TICKER_FIELDS, 0));
        repair.metadata += usize::from(fix(layout.metadata_record_offset(s), METADATA_WORDS, 0));
        for k in 0..layout.intervals().len() {
            let ring = layout.ring_offset(s, k);
            let cursor = region.word(ring).load(Ordering::Relaxed);
            for slot in 0..capacity {
                // The newest published kline this slot holds keeps its index
                // (so incremental readers stay in step); a slot holding none
                // (an append the dead writer never published) gets an index
                // no reader expects.
                let index = match cursor.checked_sub(1) {
                    Some(newest) if newest >= slot => newest - (newest - slot) % capacity,
                    _ => u64::MAX,
                };
                let offset = layout.slot_offset(ring, slot);
                repair.kline_slots += usize::from(fix(offset, KLINE_WORDS, index));
            }
        }
    }
    repair
}

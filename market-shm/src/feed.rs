//! Feed modes: one reader-facing API over shared memory, batched snapshots
//! or per-consumer serialisation.
//!
//! - [`FeedMode::Shared`]: the zero-copy [`Region`]; the writer updates
//!   records in place and readers copy out what they need.
//! - [`FeedMode::Batched`]: for where shared memory is unavailable; the
//!   writer collects updates and [`FeedWriter::publish`] sends one
//!   reference-counted batch to every consumer through a crossbeam channel.
//! - [`FeedMode::Individual`]: the legacy baseline; every publish serialises
//!   the batch into bytes once per consumer (what `postMessage` to each
//!   worker did in the origin).
//!
//! ```
//! use std::time::Duration;
//! use vivace_market_shm::feed::{self, FeedMode};
//! use vivace_market_shm::{LayoutConfig, Ticker, TickerField};
//!
//! for mode in [FeedMode::Shared, FeedMode::Batched, FeedMode::Individual] {
//!     let (mut writer, mut readers) = feed::channel(mode, LayoutConfig::default(), 2)?;
//!     let mut t = Ticker::default();
//!     t.set(TickerField::Last, 42.0);
//!     writer.write_ticker(5, &t)?;
//!     writer.publish()?;
//!     for reader in &mut readers {
//!         reader.wait_for_update(Duration::from_secs(1))?;
//!         assert_eq!(reader.ticker(5)?.get(TickerField::Last), 42.0);
//!     }
//! }
//! # Ok::<(), vivace_market_shm::Error>(())
//! ```

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam::channel::{Receiver, RecvTimeoutError, Sender, TryRecvError};

use crate::error::Error;
use crate::layout::{Interval, Kline, Layout, LayoutConfig, TICKER_FIELDS, Ticker};
use crate::reader::{KlineCursor, KlineRead, Reader, WaitMode};
use crate::region::Region;
use crate::writer::Writer;

/// How updates travel from the writer to the readers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FeedMode {
    /// Zero-copy shared memory.
    Shared,
    /// Reference-counted batches through channels.
    Batched,
    /// A serialised copy per consumer (legacy baseline).
    Individual,
}

impl FeedMode {
    /// The mode's name: `shared`, `batched` or `individual`.
    pub fn name(self) -> &'static str {
        match self {
            FeedMode::Shared => "shared",
            FeedMode::Batched => "batched",
            FeedMode::Individual => "individual",
        }
    }
}

/// The writing side of a feed.
pub trait FeedWriter: Send {
    /// The feed's mode.
    fn mode(&self) -> FeedMode;
    /// The feed's layout.
    fn layout(&self) -> &Layout;
    /// Sets `symbol`'s ticker.
    fn write_ticker(&mut self, symbol: usize, ticker: &Ticker) -> Result<(), Error>;
    /// Appends a kline to `symbol`'s ring for `interval`.
    fn push_kline(&mut self, symbol: usize, interval: Interval, kline: &Kline)
    -> Result<(), Error>;
    /// Makes everything written since the last publish visible to readers
    /// (for [`FeedMode::Shared`] writes are visible at once and this only
    /// notifies).
    fn publish(&mut self) -> Result<(), Error>;
}

/// The reading side of a feed: the same calls whatever the mode.
pub trait FeedReader: Send {
    /// The feed's mode.
    fn mode(&self) -> FeedMode;
    /// Waits until something new was published (at most `timeout`); returns
    /// the number of updates received so far.
    fn wait_for_update(&mut self, timeout: Duration) -> Result<u64, Error>;
    /// `symbol`'s latest ticker.
    fn ticker(&mut self, symbol: usize) -> Result<Ticker, Error>;
    /// Appends the klines of `symbol`'s ring for `interval` that this reader
    /// has not returned yet.
    fn read_new_klines(
        &mut self,
        symbol: usize,
        interval: Interval,
        out: &mut Vec<Kline>,
    ) -> Result<KlineRead, Error>;
}

/// A feed's writer and its readers, as [`channel`] returns them.
pub type FeedEnds = (Box<dyn FeedWriter>, Vec<Box<dyn FeedReader>>);

/// A writer and `consumers` readers connected in `mode`.
pub fn channel(mode: FeedMode, config: LayoutConfig, consumers: usize) -> Result<FeedEnds, Error> {
    match mode {
        FeedMode::Shared => {
            let region = Region::in_memory(config)?;
            let writer = Writer::attach(Arc::clone(&region))?;
            let readers = (0..consumers)
                .map(|_| {
                    Box::new(SharedFeedReader::new(Reader::attach(Arc::clone(&region))))
                        as Box<dyn FeedReader>
                })
                .collect();
            Ok((Box::new(SharedFeedWriter { writer }), readers))
        }
        FeedMode::Batched => channel_feed::<Arc<[Update]>>(config, consumers),
        FeedMode::Individual => channel_feed::<Vec<u8>>(config, consumers),
    }
}

/// A channel feed carrying messages of type `M` to `consumers` readers.
fn channel_feed<M: Message>(config: LayoutConfig, consumers: usize) -> Result<FeedEnds, Error> {
    let layout = Layout::new(config)?;
    let mut readers: Vec<Box<dyn FeedReader>> = Vec::with_capacity(consumers);
    let mut senders = Vec::with_capacity(consumers);
    for _ in 0..consumers {
        let (tx, rx) = crossbeam::channel::unbounded::<M>();
        senders.push(tx);
        readers.push(Box::new(ChannelFeedReader {
            rx,
            state: Mirror::new(&layout),
        }));
    }
    let pending = Pending {
        layout,
        updates: Vec::new(),
    };
    Ok((
        Box::new(ChannelFeedWriter {
            pending,
            consumers: senders,
        }),
        readers,
    ))
}

/// The shared-memory feed writer: a [`Writer`].
pub struct SharedFeedWriter {
    writer: Writer,
}

impl SharedFeedWriter {
    /// Wraps a writer.
    pub fn new(writer: Writer) -> Self {
        SharedFeedWriter { writer }
    }
}

impl FeedWriter for SharedFeedWriter {
    fn mode(&self) -> FeedMode {
        FeedMode::Shared
    }
    fn layout(&self) -> &Layout {
        self.writer.layout()
    }
    fn write_ticker(&mut self, symbol: usize, ticker: &Ticker) -> Result<(), Error> {
        self.writer.write_ticker(symbol, ticker)
    }
    fn push_kline(
        &mut self,
        symbol: usize,
        interval: Interval,
        kline: &Kline,
    ) -> Result<(), Error> {
        self.writer.push_kline(symbol, interval, kline)
    }
    fn publish(&mut self) -> Result<(), Error> {
        self.writer.batch(|_| ());
        Ok(())
    }
}

/// The shared-memory feed reader: a [`Reader`] with one kline cursor per
/// ring.
pub struct SharedFeedReader {
    reader: Reader,
    cursors: Vec<Option<KlineCursor>>,
    seen: u64,
}

impl SharedFeedReader {
    /// Wraps a reader; kline reads start at the oldest kline held.
    pub fn new(reader: Reader) -> Self {
        let rings = reader.layout().symbols() * reader.layout().intervals().len();
        SharedFeedReader {
            reader,
            cursors: vec![None; rings],
            seen: 0,
        }
    }
}

impl FeedReader for SharedFeedReader {
    fn mode(&self) -> FeedMode {
        FeedMode::Shared
    }
    fn wait_for_update(&mut self, timeout: Duration) -> Result<u64, Error> {
        self.seen = self
            .reader
            .wait_for_update(self.seen, timeout, WaitMode::Block)?;
        Ok(self.seen)
    }
    fn ticker(&mut self, symbol: usize) -> Result<Ticker, Error> {
        self.reader.ticker(symbol)
    }
    fn read_new_klines(
        &mut self,
        symbol: usize,
        interval: Interval,
        out: &mut Vec<Kline>,
    ) -> Result<KlineRead, Error> {
        let layout = self.reader.layout();
        layout.check_symbol(symbol)?;
        let ring = symbol * layout.intervals().len() + layout.interval_index(interval)?;
        let cursor = match &mut self.cursors[ring] {
            Some(c) => c,
            slot => slot.insert(self.reader.kline_cursor(symbol, interval)?),
        };
        self.reader.read_new_klines(cursor, out)
    }
}

/// One update travelling through a channel feed.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Update {
    Ticker(u32, Ticker),
    Kline(u32, u8, Kline),
}

fn validate(layout: &Layout, symbol: usize, interval: Option<Interval>) -> Result<u8, Error> {
    layout.check_symbol(symbol)?;
    match interval {
        Some(i) => Ok(layout.interval_index(i)? as u8),
        None => Ok(0),
    }
}

/// Updates validated against the layout and queued until the next publish.
struct Pending {
    layout: Layout,
    updates: Vec<Update>,
}

impl Pending {
    fn ticker(&mut self, symbol: usize, ticker: &Ticker) -> Result<(), Error> {
        validate(&self.layout, symbol, None)?;
        self.updates.push(Update::Ticker(symbol as u32, *ticker));
        Ok(())
    }
    fn kline(&mut self, symbol: usize, interval: Interval, kline: &Kline) -> Result<(), Error> {
        let k = validate(&self.layout, symbol, Some(interval))?;
        self.updates.push(Update::Kline(symbol as u32, k, *kline));
        Ok(())
    }
}

/// The writer of the batched and individual feeds: updates queue until
/// `publish`, which hands each consumer a message (see [`Message::pack`]).
struct ChannelFeedWriter<M> {
    pending: Pending,
    consumers: Vec<Sender<M>>,
}

impl<M: Message> FeedWriter for ChannelFeedWriter<M> {
    fn mode(&self) -> FeedMode {
        M::MODE
    }
    fn layout(&self) -> &Layout {
        &self.pending.layout
    }
    fn write_ticker(&mut self, symbol: usize, ticker: &Ticker) -> Result<(), Error> {
        self.pending.ticker(symbol, ticker)
    }
    fn push_kline(
        &mut self,
        symbol: usize,
        interval: Interval,
        kline: &Kline,
    ) -> Result<(), Error> {
        self.pending.kline(symbol, interval, kline)
    }
    fn publish(&mut self) -> Result<(), Error> {
        if self.pending.updates.is_empty() {
            return Ok(());
        }
        let updates = &self.pending.updates;
        // A consumer that hung up no longer counts.
        if M::PACK_PER_CONSUMER {
            self.consumers
                .retain(|tx| tx.send(M::pack(updates)).is_ok());
        } else {
            let message = M::pack(updates);
            self.consumers.retain(|tx| tx.send(message.clone()).is_ok());
        }
        self.pending.updates.clear();
        Ok(())
    }
}

const TAG_TICKER: u8 = 1;
const TAG_KLINE: u8 = 2;

fn encode(updates: &[Update]) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(updates.len() * (6 + 8 * TICKER_FIELDS));
    for u in updates {
        match u {
            Update::Ticker(s, t) => {
                bytes.push(TAG_TICKER);
                bytes.extend_from_slice(&s.to_le_bytes());
                bytes.push(0);
                for v in t.0 {
                    bytes.extend_from_slice(&v.to_le_bytes());
                }
            }
            Update::Kline(s, k, kl) => {
                bytes.push(TAG_KLINE);
                bytes.extend_from_slice(&s.to_le_bytes());
                bytes.push(*k);
                for v in [kl.open_time, kl.open, kl.high, kl.low, kl.close, kl.volume] {
                    bytes.extend_from_slice(&v.to_le_bytes());
                }
            }
        }
    }
    bytes
}

fn decode(mut bytes: &[u8], out: &mut Vec<Update>) -> Result<(), Error> {
    fn take<'a>(bytes: &mut &'a [u8], n: usize) -> Result<&'a [u8], Error> {
        if bytes.len() < n {
            return Err(Error::Malformed(format!(
                "{} bytes left, need {n}",
                bytes.len()
            )));
        }
        let (head, tail) = bytes.split_at(n);
        *bytes = tail;
        Ok(head)
    }
    fn f64s<const N: usize>(bytes: &mut &[u8]) -> Result<[f64; N], Error> {
        let raw = take(bytes, 8 * N)?;
        Ok(std::array::from_fn(|i| {
            f64::from_le_bytes(raw[8 * i..8 * i + 8].try_into().expect("8 bytes"))
        }))
    }
    while !bytes.is_empty() {
        let head = take(&mut bytes, 6)?;
        let symbol = u32::from_le_bytes(head[1..5].try_into().expect("4 bytes"));
        match head[0] {
            TAG_TICKER => out.push(Update::Ticker(
                symbol,
                Ticker(f64s::<TICKER_FIELDS>(&mut bytes)?),
            )),
            TAG_KLINE => {
                let [open_time, open, high, low, close, volume] = f64s::<6>(&mut bytes)?;
                out.push(Update::Kline(
                    symbol,
                    head[5],
                    Kline {
                        open_time,
                        open,
                        high,
                        low,
                        close,
                        volume,
                    },
                ));
            }
            tag => return Err(Error::Malformed(format!("unknown tag {tag}"))),
        }
    }
    Ok(())
}

/// A consumer's private copy of the market, fed by channel messages.
struct Mirror {
    layout: Layout,
    tickers: Vec<Ticker>,
    klines: Vec<VecDeque<Kline>>,
    missed: Vec<u64>,
    updates: u64,
    scratch: Vec<Update>,
}

impl Mirror {
    fn new(layout: &Layout) -> Self {
        let rings = layout.symbols() * layout.intervals().len();
        Mirror {
            layout: layout.clone(),
            tickers: vec![Ticker::default(); layout.symbols()],
            klines: vec![VecDeque::new(); rings],
            missed: vec![0; rings],
            updates: 0,
            scratch: Vec::new(),
        }
    }

    fn apply(&mut self, updates: &[Update]) {
        let n_int = self.layout.intervals().len();
        let cap = self.layout.kline_capacity();
        for u in updates {
            match *u {
                Update::Ticker(s, t) => self.tickers[s as usize] = t,
                Update::Kline(s, k, kl) => {
                    let ring = s as usize * n_int + usize::from(k);
                    let q = &mut self.klines[ring];
                    if q.len() == cap {
                        q.pop_front();
                        self.missed[ring] += 1;
                    }
                    q.push_back(kl);
                }
            }
        }
        self.updates += updates.len() as u64;
    }
}

/// A message a channel feed carries.
trait Message: Clone + Send + 'static {
    /// The feed mode this message makes.
    const MODE: FeedMode;
    /// Whether `publish` packs once per consumer (serialising for each, the
    /// legacy mode) rather than once for all.
    const PACK_PER_CONSUMER: bool;
    /// One publish's updates as a message.
    fn pack(updates: &[Update]) -> Self;
    /// Folds the message into a consumer's copy of the market.
    fn apply_to(self, mirror: &mut Mirror) -> Result<(), Error>;
}

/// Batched: one reference-counted batch shared by every consumer.
impl Message for Arc<[Update]> {
    const MODE: FeedMode = FeedMode::Batched;
    const PACK_PER_CONSUMER: bool = false;
    fn pack(updates: &[Update]) -> Self {
        updates.into()
    }
    fn apply_to(self, mirror: &mut Mirror) -> Result<(), Error> {
        mirror.apply(&self);
        Ok(())
    }
}

/// Individual: the batch serialised into bytes, once per consumer.
impl Message for Vec<u8> {
    const MODE: FeedMode = FeedMode::Individual;
    const PACK_PER_CONSUMER: bool = true;
    fn pack(updates: &[Update]) -> Self {
        encode(updates)
    }
    fn apply_to(self, mirror: &mut Mirror) -> Result<(), Error> {
        let mut scratch = std::mem::take(&mut mirror.scratch);
        scratch.clear();
        let result = decode(&self, &mut scratch);
        // Updates are validated by the writer; an out-of-range one means a
        // corrupt message.
        let n_int = mirror.layout.intervals().len();
        let bad = scratch.iter().any(|u| match *u {
            Update::Ticker(s, _) => s as usize >= mirror.layout.symbols(),
            Update::Kline(s, k, _) => {
                s as usize >= mirror.layout.symbols() || usize::from(k) >= n_int
            }
        });
        if result.is_ok() && !bad {
            mirror.apply(&scratch);
        }
        mirror.scratch = scratch;
        result.and_then(|()| {
            if bad {
                Err(Error::Malformed("symbol or interval out of range".into()))
            } else {
                Ok(())
            }
        })
    }
}

/// The consumer side of the batched and individual feeds.
struct ChannelFeedReader<M> {
    rx: Receiver<M>,
    state: Mirror,
}

impl<M: Message> ChannelFeedReader<M> {
    fn drain(&mut self) -> Result<(), Error> {
        loop {
            match self.rx.try_recv() {
                Ok(m) => m.apply_to(&mut self.state)?,
                Err(TryRecvError::Empty | TryRecvError::Disconnected) => return Ok(()),
            }
        }
    }
}

impl<M: Message> FeedReader for ChannelFeedReader<M> {
    fn mode(&self) -> FeedMode {
        M::MODE
    }
    fn wait_for_update(&mut self, timeout: Duration) -> Result<u64, Error> {
        let before = self.state.updates;
        self.drain()?;
        let deadline = Instant::now() + timeout;
        while self.state.updates == before {
            match self.rx.recv_deadline(deadline) {
                Ok(m) => m.apply_to(&mut self.state)?,
                Err(RecvTimeoutError::Timeout) => return Err(Error::Timeout(timeout)),
                Err(RecvTimeoutError::Disconnected) => return Err(Error::Disconnected),
            }
        }
        self.drain()?;
        Ok(self.state.updates)
    }
    fn ticker(&mut self, symbol: usize) -> Result<Ticker, Error> {
        self.state.layout.check_symbol(symbol)?;
        self.drain()?;
        Ok(self.state.tickers[symbol])
    }
    fn read_new_klines(
        &mut self,
        symbol: usize,
        interval: Interval,
        out: &mut Vec<Kline>,
    ) -> Result<KlineRead, Error> {
        let k = validate(&self.state.layout, symbol, Some(interval))?;
        self.drain()?;
        let ring = symbol * self.state.layout.intervals().len() + usize::from(k);
        let q = &mut self.state.klines[ring];
        let read = q.len();
        out.extend(q.drain(..));
        Ok(KlineRead {
            read,
            missed: std::mem::take(&mut self.state.missed[ring]),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kline(i: usize) -> Kline {
        let x = i as f64;
        Kline {
            open_time: 60.0 * x,
            open: x,
            high: x + 1.0,
            low: x - 1.0,
            close: x + 0.5,
            volume: 10.0 * x,
        }
    }

    #[test]
    fn every_mode_delivers_the_same_market() {
        let config = LayoutConfig {
            symbols: 4,
            intervals: vec![Interval::M1, Interval::H1],
            kline_capacity: 8,
        };
        for mode in [FeedMode::Shared, FeedMode::Batched, FeedMode::Individual] {
            let (mut w, mut readers) = channel(mode, config.clone(), 3).unwrap();
            for i in 0..12 {
                let t = Ticker([i as f64; TICKER_FIELDS]);
                w.write_ticker(i % 4, &t).unwrap();
                w.push_kline(2, Interval::H1, &kline(i)).unwrap();
            }
            w.publish().unwrap();
            for r in &mut readers {
                assert_eq!(r.mode(), mode);
                r.wait_for_update(Duration::from_secs(5)).unwrap();
                assert_eq!(
                    r.ticker(3).unwrap(),
                    Ticker([11.0; TICKER_FIELDS]),
                    "{mode:?}"
                );
                let mut out = Vec::new();
                let got = r.read_new_klines(2, Interval::H1, &mut out).unwrap();
                // Capacity 8: the first four were overwritten.
                assert_eq!(out, (4..12).map(kline).collect::<Vec<_>>(), "{mode:?}");
                assert_eq!(got.read, 8);
                assert_eq!(
                    r.read_new_klines(2, Interval::H1, &mut out).unwrap().read,
                    0
                );
                assert!(matches!(r.ticker(4), Err(Error::SymbolOutOfRange { .. })));
            }
            assert!(matches!(
                w.push_kline(0, Interval::M5, &kline(0)),
                Err(Error::UnknownInterval(_))
            ));
        }
    }

    #[test]
    fn truncated_individual_messages_are_errors() {
        let bytes = encode(&[Update::Ticker(1, Ticker::default())]);
        let mut out = Vec::new();
        assert!(matches!(
            decode(&bytes[..bytes.len() - 1], &mut out),
            Err(Error::Malformed(_))
        ));
        out.clear();
        decode(&bytes, &mut out).unwrap();
        assert_eq!(out, vec![Update::Ticker(1, Ticker::default())]);
    }

    #[test]
    fn channel_readers_time_out_and_see_disconnection() {
        let (w, mut readers) = channel(FeedMode::Batched, LayoutConfig::default(), 1).unwrap();
        assert!(matches!(
            readers[0].wait_for_update(Duration::from_millis(10)),
            Err(Error::Timeout(_))
        ));
        drop(w);
        assert!(matches!(
            readers[0].wait_for_update(Duration::from_millis(10)),
            Err(Error::Disconnected)
        ));
    }
}

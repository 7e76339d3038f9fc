//! The binary layout of a region, and the records it holds.
//!
//! A region is one contiguous, page-aligned block of little-endian 64-bit
//! words (a heap block in process, a file under `/dev/shm` or elsewhere
//! across processes). Every offset below is in bytes from the start of the
//! region; every record starts on a 64-byte cache line.
//!
//! | offset | size | what |
//! | --- | --- | --- |
//! | 0 | 4096 | **header page** (writer-owned), see below |
//! | 4096 | 4096 | **reader page**: `u32` count of readers blocked on the futex, at 4096; the only bytes readers write |
//! | `counters_offset` = 8192 | `8 × symbols`, rounded up to 64 | per-symbol change counter (`u64`, bumped on every ticker, kline or metadata write of that symbol) |
//! | `metadata_offset` | `256 × symbols` | metadata records |
//! | `tickers_offset` | `128 × symbols` | ticker records (two cache lines each, so neighbouring symbols never share a line) |
//! | `klines_offset` | `ring_stride × symbols × intervals` | kline rings, symbol-major: ring `symbol × intervals + interval` |
//!
//! The total size is rounded up to 4096 bytes.
//!
//! **Header words** (`u64` index = byte offset / 8): 0 magic
//! ([`MAGIC`], the bytes `VIVACEMK`), 1 format version ([`FORMAT_VERSION`]),
//! 2 layout hash, 3 total size in bytes, 4 symbols, 5 intervals, 6 kline
//! capacity, 7 ticker fields (10), 8 `counters_offset`, 9 `metadata_offset`,
//! 10 `tickers_offset`, 11 `klines_offset`, 12 ticker stride (128), 13 ring
//! stride, 14 kline slot stride (64), 15 metadata stride (256), 16–31 the
//! intervals in seconds (unused entries 0). Word 64 (byte 512): writer pid;
//! 65: writer generation (bumped on every take-over); 66: writer state
//! (0 none, 1 active, 2 closed cleanly). Word 128 (byte 1024): global update
//! counter. Byte 1088: the `u32` notification epoch, the futex word readers
//! block on. The magic is written last when a region is created, so a
//! half-created file never opens.
//!
//! The **layout hash** is 64-bit FNV-1a over the little-endian bytes of
//! header words 1 and 4–31, in order.
//!
//! **Records** are sequence-locked (see [`crate::protocol`]): word 0 is the
//! sequence (odd while being written), the payload follows.
//!
//! - Ticker (stride 128): sequence, then the ten [`TickerField`]s as `f64`
//!   bit patterns in declaration order (bid, ask, last, volume, high, low,
//!   open, change, timestamp, checksum).
//! - Kline ring (stride `64 + 64 × capacity`): one cache line whose word 0 is
//!   the **write cursor** (number of klines ever appended), then `capacity`
//!   slots of 64 bytes: sequence, open time, open, high, low, close, volume
//!   (`f64`), and the kline's index (`u64`, position in the append order).
//!   Kline `i` lives in slot `i % capacity`; a reader that finds another index
//!   there has been lapped by the writer.
//! - Metadata (stride 256): sequence, 32 bytes of NUL-padded UTF-8 symbol name
//!   (4 words), price precision (`u64`), status (`u64`, see
//!   [`SymbolStatus`]), 25 reserved words.

use crate::error::Error;

/// The region magic: the ASCII bytes `VIVACEMK` read as a little-endian `u64`.
pub const MAGIC: u64 = u64::from_le_bytes(*b"VIVACEMK");
/// The binary format version this crate reads and writes.
pub const FORMAT_VERSION: u64 = 1;
/// Fields in a ticker record.
pub const TICKER_FIELDS: usize = 10;
/// Payload words in a kline slot.
pub const KLINE_WORDS: usize = 7;
/// Payload words in a metadata record.
pub const METADATA_WORDS: usize = 31;
/// Most intervals a layout may have.
pub const MAX_INTERVALS: usize = 16;
/// Longest symbol name in bytes.
pub const MAX_SYMBOL_NAME: usize = 32;

pub(crate) const PAGE: usize = 4096;
pub(crate) const LINE: usize = 64;
pub(crate) const HEADER_BYTES: usize = PAGE;
pub(crate) const READER_PAGE: usize = PAGE;
pub(crate) const TICKER_STRIDE: usize = 128;
pub(crate) const SLOT_STRIDE: usize = 64;
pub(crate) const METADATA_STRIDE: usize = 256;
pub(crate) const MAX_SYMBOLS: usize = 1 << 20;
pub(crate) const MAX_CAPACITY: usize = 1 << 24;

/// Header word indices (see the module docs). Some are only read by
/// tests: the module is the header map in code.
#[allow(dead_code)]
pub(crate) mod hw {
    pub const MAGIC: usize = 0;
    pub const VERSION: usize = 1;
    pub const HASH: usize = 2;
    pub const TOTAL: usize = 3;
    pub const SYMBOLS: usize = 4;
    pub const INTERVALS: usize = 5;
    pub const CAPACITY: usize = 6;
    pub const FIELDS: usize = 7;
    pub const COUNTERS: usize = 8;
    pub const METADATA: usize = 9;
    pub const TICKERS: usize = 10;
    pub const KLINES: usize = 11;
    pub const TICKER_STRIDE: usize = 12;
    pub const RING_STRIDE: usize = 13;
    pub const SLOT_STRIDE: usize = 14;
    pub const METADATA_STRIDE: usize = 15;
    pub const INTERVAL0: usize = 16;
    pub const WRITER_PID: usize = 64;
    pub const WRITER_GENERATION: usize = 65;
    pub const WRITER_STATE: usize = 66;
    pub const UPDATE_COUNT: usize = 128;
    /// Byte offset of the `u32` futex word.
    pub const EPOCH_BYTE: usize = 1088;
}

/// A kline interval, in seconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Interval(u32);

impl Interval {
    /// One minute.
    pub const M1: Interval = Interval(60);
    /// Five minutes.
    pub const M5: Interval = Interval(300);
    /// Fifteen minutes.
    pub const M15: Interval = Interval(900);
    /// One hour.
    pub const H1: Interval = Interval(3_600);
    /// Four hours.
    pub const H4: Interval = Interval(14_400);
    /// One day.
    pub const D1: Interval = Interval(86_400);
    /// The origin's six intervals: 1m, 5m, 15m, 1h, 4h, 1d.
    pub const STANDARD: [Interval; 6] = [
        Interval::M1,
        Interval::M5,
        Interval::M15,
        Interval::H1,
        Interval::H4,
        Interval::D1,
    ];

    /// An interval of `seconds` (> 0).
    pub fn from_secs(seconds: u32) -> Result<Interval, Error> {
        if seconds == 0 {
            return Err(Error::InvalidConfig(
                "an interval must be at least one second".into(),
            ));
        }
        Ok(Interval(seconds))
    }

    /// The interval's length in seconds.
    pub fn secs(self) -> u32 {
        self.0
    }
}

impl std::fmt::Display for Interval {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = self.0;
        if s.is_multiple_of(86_400) {
            write!(f, "{}d", s / 86_400)
        } else if s.is_multiple_of(3_600) {
            write!(f, "{}h", s / 3_600)
        } else if s.is_multiple_of(60) {
            write!(f, "{}m", s / 60)
        } else {
            write!(f, "{s}s")
        }
    }
}

/// What a region holds: how many symbols, which kline intervals, and how many
/// klines each ring keeps.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LayoutConfig {
    /// Number of symbols (1 to 1,048,576).
    pub symbols: usize,
    /// Kline intervals (1 to 16, distinct).
    pub intervals: Vec<Interval>,
    /// Klines kept per symbol and interval (1 to 16,777,216).
    pub kline_capacity: usize,
}

impl Default for LayoutConfig {
    /// The origin's layout: 100 symbols, the six [`Interval::STANDARD`]
    /// intervals, 1,440 klines per ring.
    fn default() -> Self {
        LayoutConfig {
            symbols: 100,
            intervals: Interval::STANDARD.to_vec(),
            kline_capacity: 1_440,
        }
    }
}

/// A validated layout: the configuration and every offset derived from it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Layout {
    config: LayoutConfig,
    pub(crate) counters_offset: usize,
    pub(crate) metadata_offset: usize,
    pub(crate) tickers_offset: usize,
    pub(crate) klines_offset: usize,
    pub(crate) ring_stride: usize,
    total_size: usize,
    hash: u64,
}

fn round_up(x: usize, to: usize) -> usize {
    x.div_ceil(to) * to
}

impl Layout {
    /// Validates `config` and computes the offsets.
    pub fn new(config: LayoutConfig) -> Result<Layout, Error> {
        if config.symbols == 0 || config.symbols > MAX_SYMBOLS {
            return Err(Error::InvalidConfig(format!(
                "symbols must be 1..={MAX_SYMBOLS}, got {}",
                config.symbols
            )));
        }
        if config.intervals.is_empty() || config.intervals.len() > MAX_INTERVALS {
            return Err(Error::InvalidConfig(format!(
                "a layout needs 1..={MAX_INTERVALS} intervals, got {}",
                config.intervals.len()
            )));
        }
        for (i, a) in config.intervals.iter().enumerate() {
            if a.0 == 0 {
                return Err(Error::InvalidConfig(
                    "an interval must be at least one second".into(),
                ));
            }
            if config.intervals[..i].contains(a) {
                return Err(Error::InvalidConfig(format!(
                    "interval {a} is listed twice"
                )));
            }
        }
        if config.kline_capacity == 0 || config.kline_capacity > MAX_CAPACITY {
            return Err(Error::InvalidConfig(format!(
                "kline capacity must be 1..={MAX_CAPACITY}, got {}",
                config.kline_capacity
            )));
        }
        let s = config.symbols;
        let counters_offset = HEADER_BYTES + READER_PAGE;
        let metadata_offset = round_up(counters_offset + 8 * s, LINE);
        let tickers_offset = metadata_offset + METADATA_STRIDE * s;
        let klines_offset = tickers_offset + TICKER_STRIDE * s;
        let ring_stride = LINE + SLOT_STRIDE * config.kline_capacity;
        let rings = s * config.intervals.len();
        let total_size = round_up(klines_offset + ring_stride * rings, PAGE);
        let mut layout = Layout {
            config,
            counters_offset,
            metadata_offset,
            tickers_offset,
            klines_offset,
            ring_stride,
            total_size,
            hash: 0,
        };
        layout.hash = fnv1a(&layout.geometry_words());
        Ok(layout)
    }

    /// Header words 1 and 4–31 as this layout writes them (the hashed part).
    pub(crate) fn geometry_words(&self) -> Vec<u64> {
        let mut words = vec![
            FORMAT_VERSION,
            self.config.symbols as u64,
            self.config.intervals.len() as u64,
            self.config.kline_capacity as u64,
            TICKER_FIELDS as u64,
            self.counters_offset as u64,
            self.metadata_offset as u64,
            self.tickers_offset as u64,
            self.klines_offset as u64,
            TICKER_STRIDE as u64,
            self.ring_stride as u64,
            SLOT_STRIDE as u64,
            METADATA_STRIDE as u64,
        ];
        for i in 0..MAX_INTERVALS {
            words.push(self.config.intervals.get(i).map_or(0, |iv| u64::from(iv.0)));
        }
        words
    }

    /// The configuration.
    pub fn config(&self) -> &LayoutConfig {
        &self.config
    }
    /// Number of symbols.
    #[inline]
    pub fn symbols(&self) -> usize {
        self.config.symbols
    }
    /// The kline intervals, in ring order.
    #[inline]
    pub fn intervals(&self) -> &[Interval] {
        &self.config.intervals
    }
    /// Klines kept per ring.
    #[inline]
    pub fn kline_capacity(&self) -> usize {
        self.config.kline_capacity
    }
    /// Total region size in bytes.
    pub fn total_size(&self) -> usize {
        self.total_size
    }
    /// The layout hash stored in the header.
    pub fn hash(&self) -> u64 {
        self.hash
    }
    /// Bytes of kline payload (`6 × 8` per kline, as the origin counted).
    pub fn kline_payload_bytes(&self) -> usize {
        self.config.symbols * self.config.intervals.len() * self.config.kline_capacity * 48
    }
    /// Position of `interval` among the layout's intervals.
    #[inline]
    pub fn interval_index(&self, interval: Interval) -> Result<usize, Error> {
        self.config
            .intervals
            .iter()
            .position(|&i| i == interval)
            .ok_or(Error::UnknownInterval(interval))
    }
    #[inline]
    pub(crate) fn check_symbol(&self, symbol: usize) -> Result<(), Error> {
        if symbol < self.config.symbols {
            Ok(())
        } else {
            Err(Error::SymbolOutOfRange {
                symbol,
                symbols: self.config.symbols,
            })
        }
    }
    #[inline]
    pub(crate) fn ticker_offset(&self, symbol: usize) -> usize {
        self.tickers_offset + TICKER_STRIDE * symbol
    }
    #[inline]
    pub(crate) fn metadata_record_offset(&self, symbol: usize) -> usize {
        self.metadata_offset + METADATA_STRIDE * symbol
    }
    /// Offset of `symbol`'s ring for `interval`, both checked.
    #[inline]
    pub(crate) fn ring(&self, symbol: usize, interval: Interval) -> Result<usize, Error> {
        self.check_symbol(symbol)?;
        Ok(self.ring_offset(symbol, self.interval_index(interval)?))
    }
    #[inline]
    pub(crate) fn slot_offset(&self, ring: usize, index: u64) -> usize {
        ring + LINE + SLOT_STRIDE * (index % self.config.kline_capacity as u64) as usize
    }
    #[inline]
    pub(crate) fn ring_offset(&self, symbol: usize, interval_index: usize) -> usize {
        self.klines_offset
            + self.ring_stride * (symbol * self.config.intervals.len() + interval_index)
    }
}

/// 64-bit FNV-1a over the little-endian bytes of `words`.
pub(crate) fn fnv1a(words: &[u64]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for w in words {
        for b in w.to_le_bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    h
}

/// The ten fields of a ticker record, in storage order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(usize)]
pub enum TickerField {
    /// Best bid price.
    Bid = 0,
    /// Best ask price.
    Ask = 1,
    /// Last traded price.
    Last = 2,
    /// Traded volume (24 h).
    Volume = 3,
    /// Highest price (24 h).
    High = 4,
    /// Lowest price (24 h).
    Low = 5,
    /// Opening price (24 h).
    Open = 6,
    /// Price change (24 h).
    Change = 7,
    /// Time of the update, in the feed's clock and unit (the `market_feed`
    /// example writes [`crate::monotonic_nanos`], so readers on the same
    /// machine can measure latency).
    Timestamp = 8,
    /// Free for the feed's integrity check: by the convention of
    /// [`Ticker::with_checksum`], the XOR of the raw bit patterns of the nine
    /// fields before it.
    Checksum = 9,
}

impl TickerField {
    /// All fields in storage order.
    pub const ALL: [TickerField; TICKER_FIELDS] = [
        TickerField::Bid,
        TickerField::Ask,
        TickerField::Last,
        TickerField::Volume,
        TickerField::High,
        TickerField::Low,
        TickerField::Open,
        TickerField::Change,
        TickerField::Timestamp,
        TickerField::Checksum,
    ];
}

/// A ticker: ten `f64` fields, indexed by [`TickerField`].
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Ticker(pub [f64; TICKER_FIELDS]);

impl Ticker {
    /// The value of `field`.
    #[inline]
    pub fn get(&self, field: TickerField) -> f64 {
        self.0[field as usize]
    }
    /// Sets `field`.
    #[inline]
    pub fn set(&mut self, field: TickerField, value: f64) {
        self.0[field as usize] = value;
    }
    /// XOR of the raw bit patterns of the first nine fields.
    #[inline]
    pub fn checksum(&self) -> u64 {
        self.0[..9].iter().fold(0, |acc, v| acc ^ v.to_bits())
    }
    /// This ticker with [`TickerField::Checksum`] holding [`Ticker::checksum`]
    /// (as raw bits).
    #[inline]
    pub fn with_checksum(mut self) -> Ticker {
        self.0[9] = f64::from_bits(self.checksum());
        self
    }
    /// Whether [`TickerField::Checksum`] matches the other nine fields.
    #[inline]
    pub fn checksum_ok(&self) -> bool {
        self.0[9].to_bits() == self.checksum()
    }
    #[inline]
    pub(crate) fn to_words(self) -> [u64; TICKER_FIELDS] {
        self.0.map(f64::to_bits)
    }
    #[inline]
    pub(crate) fn from_words(words: [u64; TICKER_FIELDS]) -> Ticker {
        Ticker(words.map(f64::from_bits))
    }
}

/// One candlestick.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Kline {
    /// Opening time of the kline (the feed's unit, e.g. ms since the epoch).
    pub open_time: f64,
    /// First price.
    pub open: f64,
    /// Highest price.
    pub high: f64,
    /// Lowest price.
    pub low: f64,
    /// Last price.
    pub close: f64,
    /// Traded volume.
    pub volume: f64,
}

impl Kline {
    #[inline]
    pub(crate) fn to_words(self, index: u64) -> [u64; KLINE_WORDS] {
        [
            self.open_time.to_bits(),
            self.open.to_bits(),
            self.high.to_bits(),
            self.low.to_bits(),
            self.close.to_bits(),
            self.volume.to_bits(),
            index,
        ]
    }
    #[inline]
    pub(crate) fn from_words(w: &[u64; KLINE_WORDS]) -> Kline {
        Kline {
            open_time: f64::from_bits(w[0]),
            open: f64::from_bits(w[1]),
            high: f64::from_bits(w[2]),
            low: f64::from_bits(w[3]),
            close: f64::from_bits(w[4]),
            volume: f64::from_bits(w[5]),
        }
    }
}

/// Trading status of a symbol.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum SymbolStatus {
    /// Not set (stored as 0).
    #[default]
    Unknown,
    /// Trading (1).
    Trading,
    /// Halted (2).
    Halted,
    /// Delisted (3).
    Delisted,
}

impl SymbolStatus {
    fn code(self) -> u64 {
        match self {
            SymbolStatus::Unknown => 0,
            SymbolStatus::Trading => 1,
            SymbolStatus::Halted => 2,
            SymbolStatus::Delisted => 3,
        }
    }
    fn from_code(code: u64) -> SymbolStatus {
        match code {
            1 => SymbolStatus::Trading,
            2 => SymbolStatus::Halted,
            3 => SymbolStatus::Delisted,
            _ => SymbolStatus::Unknown,
        }
    }
}

/// Per-symbol metadata.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SymbolMeta {
    /// Symbol name, at most 32 bytes of UTF-8, no NUL.
    pub name: String,
    /// Decimal places prices are quoted with.
    pub price_precision: u8,
    /// Trading status.
    pub status: SymbolStatus,
}

impl SymbolMeta {
    pub(crate) fn to_words(&self) -> Result<[u64; METADATA_WORDS], Error> {
        let bytes = self.name.as_bytes();
        if bytes.len() > MAX_SYMBOL_NAME || bytes.contains(&0) {
            return Err(Error::InvalidMetadata(format!(
                "symbol name {:?} must be at most {MAX_SYMBOL_NAME} bytes without NUL",
                self.name
            )));
        }
        let mut name = [0u8; MAX_SYMBOL_NAME];
        name[..bytes.len()].copy_from_slice(bytes);
        let mut w = [0u64; METADATA_WORDS];
        for (i, chunk) in name.chunks_exact(8).enumerate() {
            w[i] = u64::from_le_bytes(chunk.try_into().expect("8-byte chunk"));
        }
        w[4] = u64::from(self.price_precision);
        w[5] = self.status.code();
        Ok(w)
    }
    pub(crate) fn from_words(w: &[u64; METADATA_WORDS]) -> SymbolMeta {
        let mut name = Vec::with_capacity(MAX_SYMBOL_NAME);
        for word in &w[..4] {
            name.extend_from_slice(&word.to_le_bytes());
        }
        let end = name.iter().position(|&b| b == 0).unwrap_or(name.len());
        name.truncate(end);
        SymbolMeta {
            name: String::from_utf8_lossy(&name).into_owned(),
            price_precision: w[4].min(255) as u8,
            status: SymbolStatus::from_code(w[5]),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_layout_matches_the_origin() {
        let l = Layout::new(LayoutConfig::default()).unwrap();
        assert_eq!(l.kline_payload_bytes(), 41_472_000); // 41.5 MB
        assert_eq!(l.ticker_offset(0) % 64, 0);
        assert_eq!(l.ring_offset(1, 0) - l.ring_offset(0, 5), l.ring_stride);
        assert_eq!(l.total_size() % PAGE, 0);
        assert!(l.total_size() >= l.ring_offset(99, 5) + l.ring_stride);
    }

    #[test]
    fn bad_configs_are_refused() {
        let ok = LayoutConfig::default();
        for bad in [
            LayoutConfig {
                symbols: 0,
                ..ok.clone()
            },
            LayoutConfig {
                intervals: vec![],
                ..ok.clone()
            },
            LayoutConfig {
                intervals: vec![Interval::M1, Interval::M1],
                ..ok.clone()
            },
            LayoutConfig {
                kline_capacity: 0,
                ..ok.clone()
            },
        ] {
            assert!(matches!(Layout::new(bad), Err(Error::InvalidConfig(_))));
        }
        assert!(Interval::from_secs(0).is_err());
    }

    #[test]
    fn hash_depends_on_geometry() {
        let a = Layout::new(LayoutConfig::default()).unwrap();
        let b = Layout::new(LayoutConfig {
            kline_capacity: 1_441,
            ..LayoutConfig::default()
        })
        .unwrap();
        assert_ne!(a.hash(), b.hash());
    }

    #[test]
    fn metadata_round_trips_and_rejects_long_names() {
        let m = SymbolMeta {
            name: "BTCUSDT".into(),
            price_precision: 2,
            status: SymbolStatus::Trading,
        };
        assert_eq!(SymbolMeta::from_words(&m.to_words().unwrap()), m);
        let long = SymbolMeta {
            name: "X".repeat(33),
            ..m
        };
        assert!(matches!(long.to_words(), Err(Error::InvalidMetadata(_))));
    }

    #[test]
    fn checksum_detects_a_changed_field() {
        let t = Ticker([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 0.0]).with_checksum();
        assert!(t.checksum_ok());
        let mut u = t;
        u.set(TickerField::Ask, 2.5);
        assert!(!u.checksum_ok());
        assert_eq!(Interval::H4.to_string(), "4h");
        assert_eq!(Interval::M15.to_string(), "15m");
    }
}

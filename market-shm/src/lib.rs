/*!
Zero-copy single-writer / many-reader market buffers: tickers, kline rings
and symbol metadata in one block of shared memory, in process (`Arc`) or
across processes (a memory-mapped file, e.g. under `/dev/shm`).

The writer updates records in place; readers copy them out torn-free
through per-record sequence locks whose payload lives in atomic words (no
racy non-atomic reads, so no undefined behaviour), and wait for updates by
spinning on a counter or sleeping on a futex. See [`layout`] for the binary
layout (so a program in another language can read a region) and
[`protocol`] for the record protocol.

```
use std::time::Duration;
use vivace_market_shm::{Interval, Kline, LayoutConfig, Reader, Region, WaitMode, Writer};

let region = Region::in_memory(LayoutConfig::default())?;
let mut writer = Writer::attach(region.clone())?;
let reader = Reader::attach(region);
let mut cursor = reader.kline_cursor_at_end(3, Interval::M1)?;

let seen = reader.update_count();
writer.push_kline(3, Interval::M1, &Kline { open_time: 0.0, open: 1.0, high: 2.0, low: 0.5, close: 1.5, volume: 10.0 })?;
reader.wait_for_update(seen, Duration::from_secs(1), WaitMode::Block)?;

let mut new = Vec::new();
reader.read_new_klines(&mut cursor, &mut new)?;
assert_eq!(new[0].close, 1.5);
# Ok::<(), vivace_market_shm::Error>(())
```

Where shared memory is unavailable, [`feed`] offers the same reader-facing
API over channels (batched snapshots, or the legacy serialise-per-consumer
mode). [`indicators`] computes SMA, EMA, RSI, Bollinger bands and VWAP over
the klines on scalar, SIMD or GPU backends.
*/
#![deny(missing_docs)]

pub mod error;
pub mod feed;
pub mod indicators;
pub mod layout;
pub mod protocol;
mod reader;
mod region;
mod sys;
mod writer;

pub use error::Error;
pub use layout::{
    FORMAT_VERSION, Interval, Kline, Layout, LayoutConfig, MAGIC, SymbolMeta, SymbolStatus,
    TICKER_FIELDS, Ticker, TickerField,
};
pub use reader::{DEFAULT_STALL_TIMEOUT, KlineCursor, KlineRead, Reader, WaitMode, WriterStatus};
pub use region::{Region, RegionKind};
pub use sys::monotonic_nanos;
pub use writer::{Batch, Repair, TickerUpdate, Writer};

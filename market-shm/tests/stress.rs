//! A writer at full speed and four reader threads, each making 10^7
//! checked reads: no torn record, no record going back in time.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use common::ticker;
use vivace_market_shm::{Interval, LayoutConfig, Reader, Region, TickerField, Writer};

const SYMBOLS: usize = 4;
const READS_PER_READER: u64 = 10_000_000;

#[test]
fn four_readers_ten_million_reads_each_zero_torn() {
    let config = LayoutConfig {
        symbols: SYMBOLS,
        intervals: vec![Interval::M1],
        kline_capacity: 4,
    };
    let region = Region::in_memory(config).unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (region, stop) = (Arc::clone(&region), Arc::clone(&stop));
        std::thread::spawn(move || {
            let mut w = Writer::attach(region).unwrap();
            let mut i = 1u64;
            while !stop.load(Ordering::Relaxed) {
                for s in 0..SYMBOLS {
                    w.write_ticker(s, &ticker(s, i)).unwrap();
                }
                i += 1;
            }
            i
        })
    };
    let readers: Vec<_> = (0..4)
        .map(|_| {
            let region = Arc::clone(&region);
            std::thread::spawn(move || {
                let r = Reader::attach(region);
                let mut last = [0.0f64; SYMBOLS];
                let (mut torn, mut backwards, mut fresh) = (0u64, 0u64, 0u64);
                for n in 0..READS_PER_READER {
                    let s = (n as usize) % SYMBOLS;
                    let t = r.ticker(s).unwrap();
                    let ts = t.get(TickerField::Timestamp);
                    if ts != 0.0 && !t.checksum_ok() {
                        torn += 1;
                    }
                    if ts < last[s] {
                        backwards += 1;
                    }
                    fresh += u64::from(ts > last[s]);
                    last[s] = ts;
                }
                (torn, backwards, fresh)
            })
        })
        .collect();
    let results: Vec<_> = readers.into_iter().map(|h| h.join().unwrap()).collect();
    stop.store(true, Ordering::Relaxed);
    let writes = writer.join().unwrap();
    eprintln!(
        "writer rounds: {writes}; per reader (torn, backwards, new values seen): {results:?}"
    );
    for (torn, backwards, fresh) in results {
        assert_eq!(torn, 0);
        assert_eq!(backwards, 0);
        // The reads overlapped real writing.
        assert!(fresh > 100, "only {fresh} new values seen");
    }
}

//! Regions in process and on files: round trips, kline cursors, bad files.

mod common;

use std::io::Write as _;
use std::sync::Arc;
use std::time::Duration;

use common::{Cleanup, region_path, ticker};
use vivace_market_shm::{
    Error, FORMAT_VERSION, Interval, Kline, LayoutConfig, Reader, Region, SymbolMeta, SymbolStatus,
    Ticker, TickerField, WaitMode, Writer, WriterStatus,
};

fn small() -> LayoutConfig {
    LayoutConfig {
        symbols: 8,
        intervals: vec![Interval::M1, Interval::M5],
        kline_capacity: 16,
    }
}

fn kline(i: u64) -> Kline {
    let x = i as f64;
    Kline {
        open_time: x * 60_000.0,
        open: x,
        high: x + 2.0,
        low: x - 2.0,
        close: x + 1.0,
        volume: x * 3.0,
    }
}

#[test]
fn tickers_metadata_and_counters_round_trip_in_process() {
    let region = Region::in_memory(small()).unwrap();
    let mut w = Writer::attach(Arc::clone(&region)).unwrap();
    let r = Reader::attach(region);
    assert_eq!(r.writer_status(), WriterStatus::Active);
    assert_eq!(r.ticker(3).unwrap(), Ticker::default());
    w.write_ticker(3, &ticker(3, 7)).unwrap();
    w.update_ticker(3, |t| t.set(TickerField::Bid, -1.5))
        .unwrap();
    let meta = SymbolMeta {
        name: "ETHUSDT".into(),
        price_precision: 2,
        status: SymbolStatus::Trading,
    };
    w.set_metadata(3, &meta).unwrap();
    let got = r.ticker(3).unwrap();
    assert_eq!(got.get(TickerField::Bid), -1.5);
    assert_eq!(
        got.get(TickerField::Ask),
        ticker(3, 7).get(TickerField::Ask)
    );
    assert_eq!(r.metadata(3).unwrap(), meta);
    assert_eq!(r.symbol_changes(3).unwrap(), 3);
    assert_eq!(r.symbol_changes(2).unwrap(), 0);
    assert_eq!(r.update_count(), 3);
    assert!(matches!(
        w.write_ticker(8, &Ticker::default()),
        Err(Error::SymbolOutOfRange {
            symbol: 8,
            symbols: 8
        })
    ));
    assert!(matches!(r.ticker(99), Err(Error::SymbolOutOfRange { .. })));
    assert!(matches!(
        w.set_metadata(
            0,
            &SymbolMeta {
                name: "N".repeat(40),
                ..Default::default()
            }
        ),
        Err(Error::InvalidMetadata(_))
    ));
    drop(w);
    assert_eq!(r.writer_status(), WriterStatus::Closed);
    assert!(matches!(
        r.wait_for_update(3, Duration::from_millis(5), WaitMode::Spin),
        Err(Error::Disconnected)
    ));
}

#[test]
fn a_second_writer_is_refused_and_the_first_can_come_back() {
    let region = Region::in_memory(small()).unwrap();
    let w = Writer::attach(Arc::clone(&region)).unwrap();
    assert!(matches!(
        Writer::attach(Arc::clone(&region)),
        Err(Error::WriterExists { .. })
    ));
    drop(w);
    Writer::attach(region).unwrap();
}

#[test]
fn kline_cursors_read_only_new_klines_and_count_overruns() {
    let region = Region::in_memory(small()).unwrap();
    let mut w = Writer::attach(Arc::clone(&region)).unwrap();
    let r = Reader::attach(region);
    let mut cursor = r.kline_cursor(1, Interval::M5).unwrap();
    let mut out = Vec::new();
    assert_eq!(r.read_new_klines(&mut cursor, &mut out).unwrap().read, 0);
    for i in 0..5 {
        w.push_kline(1, Interval::M5, &kline(i)).unwrap();
    }
    let got = r.read_new_klines(&mut cursor, &mut out).unwrap();
    assert_eq!((got.read, got.missed), (5, 0));
    assert_eq!(out, (0..5).map(kline).collect::<Vec<_>>());
    // 30 more into a ring of 16: the reader missed 14.
    for i in 5..35 {
        w.push_kline(1, Interval::M5, &kline(i)).unwrap();
    }
    out.clear();
    let got = r.read_new_klines(&mut cursor, &mut out).unwrap();
    assert_eq!((got.read, got.missed), (16, 14));
    assert_eq!(out, (19..35).map(kline).collect::<Vec<_>>());
    assert_eq!(cursor.next_index(), 35);
    // The forming candle.
    w.update_last_kline(1, Interval::M5, &kline(99)).unwrap();
    assert_eq!(r.latest_kline(1, Interval::M5).unwrap(), Some(kline(99)));
    assert_eq!(r.latest_kline(1, Interval::M1).unwrap(), None);
    assert_eq!(r.scan_klines(1, Interval::M5, &mut out).unwrap(), 16);
    assert_eq!(out.last(), Some(&kline(99)));
    // Other rings untouched; unknown interval refused.
    assert_eq!(r.kline_count(1, Interval::M1).unwrap(), 0);
    assert!(matches!(
        w.push_kline(1, Interval::H1, &kline(0)),
        Err(Error::UnknownInterval(Interval::H1))
    ));
    let mut end = r.kline_cursor_at_end(1, Interval::M5).unwrap();
    w.push_kline(1, Interval::M5, &kline(100)).unwrap();
    out.clear();
    r.read_new_klines(&mut end, &mut out).unwrap();
    assert_eq!(out, vec![kline(100)]);
}

#[test]
fn blocked_readers_wake_on_publish_and_time_out_otherwise() {
    let region = Region::in_memory(small()).unwrap();
    let mut w = Writer::attach(Arc::clone(&region)).unwrap();
    let r = Reader::attach(region);
    assert!(matches!(
        r.wait_for_update(0, Duration::from_millis(20), WaitMode::Block),
        Err(Error::Timeout(_))
    ));
    let waiter =
        std::thread::spawn(move || r.wait_for_update(0, Duration::from_secs(10), WaitMode::Block));
    std::thread::sleep(Duration::from_millis(50));
    w.write_ticker(0, &ticker(0, 1)).unwrap();
    assert_eq!(waiter.join().unwrap().unwrap(), 1);
}

#[test]
fn file_regions_are_shared_between_mappings_and_readers_map_read_only() {
    let path = region_path("file");
    let _cleanup = Cleanup(path.clone());
    let mut w = Writer::open_or_create(&path, small()).unwrap();
    w.write_ticker(5, &ticker(5, 42)).unwrap();
    w.push_kline(5, Interval::M1, &kline(1)).unwrap();
    let r = Reader::open(&path).unwrap();
    assert_eq!(r.ticker(5).unwrap(), ticker(5, 42));
    assert_eq!(r.latest_kline(5, Interval::M1).unwrap(), Some(kline(1)));
    assert_eq!(r.writer_pid(), Some(std::process::id()));
    assert!(!r.region().is_writable());
    assert!(Writer::attach(Arc::clone(r.region())).is_err());
    // A second writer on the file, even in this process, is refused.
    assert!(matches!(
        Writer::open_or_create(&path, small()),
        Err(Error::WriterExists { .. })
    ));
    assert_eq!(
        std::fs::metadata(&path).unwrap().len() as usize,
        w.layout().total_size()
    );
    drop(w);
    // Reopening keeps the data; another layout is refused, file untouched.
    let other = LayoutConfig {
        kline_capacity: 32,
        ..small()
    };
    assert!(matches!(
        Writer::open_or_create(&path, other),
        Err(Error::LayoutMismatch { .. })
    ));
    let w = Writer::open_or_create(&path, small()).unwrap();
    assert_eq!(w.repair().total(), 0);
    assert_eq!(r.ticker(5).unwrap(), ticker(5, 42));
    assert!(matches!(
        Writer::create(&path, small()),
        Err(Error::Io { .. })
    ));
}

fn write_file(tag: &str, bytes: &[u8]) -> (std::path::PathBuf, Cleanup) {
    let path = region_path(tag);
    std::fs::File::create(&path)
        .unwrap()
        .write_all(bytes)
        .unwrap();
    (path.clone(), Cleanup(path))
}

#[test]
fn bad_files_give_typed_errors() {
    // Missing.
    assert!(matches!(
        Reader::open(region_path("missing")),
        Err(Error::Io { .. })
    ));
    // Empty and not-a-region.
    let (p, _c1) = write_file("empty", b"");
    assert!(matches!(Reader::open(&p), Err(Error::Truncated { .. })));
    let (p, _c2) = write_file("text", &b"hello, this is not a market region".repeat(300));
    assert!(matches!(Reader::open(&p), Err(Error::BadMagic { .. })));

    // A real region, then damaged copies of it.
    let good = region_path("good");
    let _c3 = Cleanup(good.clone());
    drop(Writer::open_or_create(&good, small()).unwrap());
    let bytes = std::fs::read(&good).unwrap();
    Reader::open(&good).unwrap();

    let mut v = bytes.clone();
    v[8..16].copy_from_slice(&(FORMAT_VERSION + 1).to_le_bytes());
    let (p, _c4) = write_file("version", &v);
    assert!(matches!(
        Reader::open(&p),
        Err(Error::UnsupportedVersion {
            found: 2,
            supported: 1,
            ..
        })
    ));

    let (p, _c5) = write_file("truncated", &bytes[..bytes.len() - 4096]);
    assert!(matches!(Reader::open(&p), Err(Error::Truncated { .. })));
    let (p, _c6) = write_file("short-header", &bytes[..100]);
    assert!(matches!(Reader::open(&p), Err(Error::Truncated { .. })));

    let mut v = bytes.clone();
    v[16] ^= 1; // the layout hash
    let (p, _c7) = write_file("hash", &v);
    assert!(matches!(Reader::open(&p), Err(Error::CorruptHeader { .. })));

    let mut v = bytes.clone();
    v[6 * 8..6 * 8 + 8].copy_from_slice(&17u64.to_le_bytes()); // capacity, hash not updated
    let (p, _c8) = write_file("geometry", &v);
    assert!(matches!(Reader::open(&p), Err(Error::CorruptHeader { .. })));

    // The writer refuses damaged files too, and leaves them as they were.
    let (p, _c9) = write_file("text2", &b"not a region".repeat(1000));
    assert!(matches!(
        Writer::open_or_create(&p, small()),
        Err(Error::BadMagic { .. })
    ));
    assert_eq!(std::fs::read(&p).unwrap(), b"not a region".repeat(1000));
}

#[test]
fn dropping_the_writer_releases_the_file_lock_even_while_its_mapping_lives() {
    let path = region_path("unlock");
    let _cleanup = Cleanup(path.clone());
    let w = Writer::open_or_create(&path, small()).unwrap();
    let same_mapping = Reader::attach(Arc::clone(w.region()));
    drop(w);
    let w2 = Writer::open_or_create(&path, small()).unwrap();
    assert_eq!(same_mapping.writer_status(), WriterStatus::Active);
    drop(w2);
}

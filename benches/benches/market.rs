//! vivace-market-shm against itself and its peers, all in one run:
//!
//! - record write: `Writer` batch writes (record + counters, one notification
//!   per 100) and single writes (record + counters + notification), with no
//!   reader, 1 and 4 reader threads polling the same tickers;
//! - snapshot read of one ticker;
//! - write-to-observe across processes: a child process maps the region
//!   read-only and echoes every update back through a second region; one
//!   iteration is a round trip (one-way ≈ half), spinning and futex-blocked;
//! - kline incremental read (1 and 64 new klines from a full 1,440-kline
//!   ring: cost follows the new klines, not the ring) and a full scan of every
//!   ring against a plain `memcpy` of the same number of bytes;
//! - the same ticker workload (write one of 100 tickers / read one) through
//!   crossbeam channels, `RwLock<Vec<_>>`, `arc-swap`, the `seqlock` crate,
//!   and vivace's batched and individual feed modes;
//! - indicators: bulk recompute of 600 series × 1,440 klines on every
//!   backend, and the O(1) incremental update.
//!
//! `cargo bench -p vivace-benches --bench market`

// criterion_group! generates an undocumented public function.
#![allow(missing_docs)]

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, BenchmarkId, Criterion, Throughput};
use vivace_market_shm::feed::{self, FeedMode};
use vivace_market_shm::indicators::{
    IndicatorParams, IndicatorSeries, IndicatorState, KlineHistory, available_indicator_kernels,
};
use vivace_market_shm::{
    Interval, Kline, LayoutConfig, Reader, Region, Ticker, TickerField, WaitMode, Writer,
};

const SYMBOLS: usize = 100;
const ROLE: &str = "VIVACE_BENCH_ECHO";

fn short_group<'c>(c: &'c mut Criterion, name: &str) -> BenchmarkGroup<'c, WallTime> {
    let mut group = c.benchmark_group(name);
    group
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(2))
        .sample_size(20);
    group
}

fn ticker(i: u64) -> Ticker {
    let mut t = Ticker([i as f64; 10]);
    t.set(TickerField::Timestamp, i as f64);
    t.with_checksum()
}

/// Reader threads polling tickers until stopped.
fn spinning_readers(
    region: &Arc<Region>,
    n: usize,
) -> (Arc<AtomicBool>, Vec<std::thread::JoinHandle<u64>>) {
    let stop = Arc::new(AtomicBool::new(false));
    let handles = (0..n)
        .map(|r| {
            let reader = Reader::attach(Arc::clone(region));
            let stop = Arc::clone(&stop);
            std::thread::spawn(move || {
                let mut reads = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    let t = reader.ticker((reads as usize + r) % SYMBOLS).unwrap();
                    black_box(t);
                    reads += 1;
                }
                reads
            })
        })
        .collect();
    (stop, handles)
}

fn record_write(c: &mut Criterion) {
    let mut group = short_group(c, "market/record_write");
    group.throughput(Throughput::Elements(100));
    for readers in [0usize, 1, 4] {
        let region = Region::in_memory(LayoutConfig::default()).unwrap();
        let mut writer = Writer::attach(Arc::clone(&region)).unwrap();
        let (stop, handles) = spinning_readers(&region, readers);
        let mut i = 0u64;
        group.bench_function(
            BenchmarkId::new("batch_of_100", format!("{readers}_readers")),
            |b| {
                b.iter(|| {
                    writer.batch(|batch| {
                        for s in 0..100 {
                            i += 1;
                            batch.write_ticker(s, &ticker(i)).unwrap();
                        }
                    })
                })
            },
        );
        group.bench_function(
            BenchmarkId::new("each_notified", format!("{readers}_readers")),
            |b| {
                b.iter(|| {
                    for s in 0..100 {
                        i += 1;
                        writer.write_ticker(s, &ticker(i)).unwrap();
                    }
                })
            },
        );
        stop.store(true, Ordering::Relaxed);
        for h in handles {
            h.join().unwrap();
        }
    }
    group.finish();
}

fn snapshot_read(c: &mut Criterion) {
    let mut group = short_group(c, "market/snapshot_read");
    group.throughput(Throughput::Elements(100));
    let region = Region::in_memory(LayoutConfig::default()).unwrap();
    let mut writer = Writer::attach(Arc::clone(&region)).unwrap();
    for s in 0..SYMBOLS {
        writer.write_ticker(s, &ticker(s as u64)).unwrap();
    }
    let reader = Reader::attach(region);
    group.bench_function("ticker", |b| {
        b.iter(|| {
            for s in 0..100 {
                black_box(reader.ticker(s).unwrap());
            }
        })
    });
    group.finish();
}

fn temp_path(tag: &str) -> PathBuf {
    let dir = if Path::new("/dev/shm").is_dir() {
        PathBuf::from("/dev/shm")
    } else {
        std::env::temp_dir()
    };
    dir.join(format!("vivace-bench-{tag}-{}", std::process::id()))
}

fn echo_config() -> LayoutConfig {
    LayoutConfig {
        symbols: 1,
        intervals: vec![Interval::M1],
        kline_capacity: 1,
    }
}

/// Child process: reads region `ping` read-only and echoes each update's
/// timestamp into region `pong`, until the ping writer detaches.
fn echo_child(ping: &Path, pong: &Path, mode: WaitMode) {
    let reader = Reader::open(ping).unwrap();
    let mut writer = Writer::open_or_create(pong, echo_config()).unwrap();
    let mut seen = reader.update_count();
    loop {
        match reader.wait_for_update(seen, Duration::from_secs(5), mode) {
            Ok(now) => seen = now,
            Err(_) => return,
        }
        let t = reader.ticker(0).unwrap();
        writer.write_ticker(0, &t).unwrap();
    }
}

fn write_to_observe(c: &mut Criterion) {
    let mut group = short_group(c, "market/write_to_observe_round_trip");
    for (name, mode) in [("spin", WaitMode::Spin), ("futex", WaitMode::Block)] {
        let (ping, pong) = (
            temp_path(&format!("ping-{name}")),
            temp_path(&format!("pong-{name}")),
        );
        let _ = std::fs::remove_file(&ping);
        let _ = std::fs::remove_file(&pong);
        let mut writer = Writer::open_or_create(&ping, echo_config()).unwrap();
        let mut child = std::process::Command::new(std::env::current_exe().unwrap())
            .env(
                ROLE,
                format!("{}\n{}\n{name}", ping.display(), pong.display()),
            )
            .spawn()
            .unwrap();
        // Wait for the child's region.
        let deadline = Instant::now() + Duration::from_secs(10);
        let reader = loop {
            if let Ok(r) = Reader::open(&pong) {
                break r;
            }
            assert!(Instant::now() < deadline, "echo child did not start");
            std::thread::sleep(Duration::from_millis(5));
        };
        let mut i = 0u64;
        group.bench_function(name, |b| {
            b.iter_custom(|iters| {
                let start = Instant::now();
                for _ in 0..iters {
                    i += 1;
                    let seen = reader.update_count();
                    writer.write_ticker(0, &ticker(i)).unwrap();
                    reader
                        .wait_for_update(seen, Duration::from_secs(5), mode)
                        .unwrap();
                }
                start.elapsed()
            })
        });
        drop(writer);
        child.wait().unwrap();
        let _ = std::fs::remove_file(&ping);
        let _ = std::fs::remove_file(&pong);
    }
    group.finish();
}

fn klines(c: &mut Criterion) {
    let mut group = short_group(c, "market/klines");
    let region = Region::in_memory(LayoutConfig::default()).unwrap();
    let mut writer = Writer::attach(Arc::clone(&region)).unwrap();
    let layout = writer.layout().clone();
    let k = |i: u64| Kline {
        open_time: i as f64,
        open: 1.0,
        high: 2.0,
        low: 0.5,
        close: 1.5,
        volume: 10.0,
    };
    for s in 0..layout.symbols() {
        for &interval in layout.intervals() {
            for i in 0..layout.kline_capacity() as u64 {
                writer.push_kline(s, interval, &k(i)).unwrap();
            }
        }
    }
    let reader = Reader::attach(Arc::clone(&region));
    let mut out = Vec::with_capacity(2_000);
    for new in [1u64, 64] {
        let mut cursor = reader.kline_cursor_at_end(0, Interval::M1).unwrap();
        let mut i = 0;
        group.throughput(Throughput::Elements(new));
        group.bench_function(
            BenchmarkId::new("incremental_read_from_full_1440_ring", new),
            |b| {
                b.iter_custom(|iters| {
                    let mut total = Duration::ZERO;
                    for _ in 0..iters {
                        writer.batch(|batch| {
                            for _ in 0..new {
                                i += 1;
                                batch.push_kline(0, Interval::M1, &k(i)).unwrap();
                            }
                        });
                        out.clear();
                        let start = Instant::now();
                        black_box(reader.read_new_klines(&mut cursor, &mut out).unwrap());
                        total += start.elapsed();
                    }
                    total
                })
            },
        );
    }
    // Full scan of every ring vs memcpy of the same bytes.
    let rings = layout.symbols() * layout.intervals().len();
    let ring_bytes = rings * (64 + 64 * layout.kline_capacity());
    group.throughput(Throughput::Bytes(ring_bytes as u64));
    let mut scan_out: Vec<Kline> = Vec::with_capacity(layout.kline_capacity());
    group.bench_function("full_scan_all_rings", |b| {
        b.iter(|| {
            let mut n = 0;
            for s in 0..layout.symbols() {
                for &interval in layout.intervals() {
                    n += reader.scan_klines(s, interval, &mut scan_out).unwrap();
                }
            }
            black_box(n)
        })
    });
    let src = vec![1u8; ring_bytes];
    let mut dst = vec![0u8; ring_bytes];
    group.bench_function("memcpy_same_bytes", |b| {
        b.iter(|| {
            dst.copy_from_slice(black_box(&src));
            black_box(&dst);
        })
    });
    group.finish();
}

fn peers(c: &mut Criterion) {
    let mut group = short_group(c, "market/ticker_workload");
    group.throughput(Throughput::Elements(100));
    // vivace shared memory.
    let region = Region::in_memory(LayoutConfig::default()).unwrap();
    let mut writer = Writer::attach(Arc::clone(&region)).unwrap();
    let reader = Reader::attach(Arc::clone(&region));
    let mut i = 0u64;
    group.bench_function("write/vivace_shared", |b| {
        b.iter(|| {
            writer.batch(|batch| {
                for s in 0..100 {
                    i += 1;
                    batch.write_ticker(s, &ticker(i)).unwrap();
                }
            })
        })
    });
    group.bench_function("read/vivace_shared", |b| {
        b.iter(|| {
            for s in 0..100 {
                black_box(reader.ticker(s).unwrap());
            }
        })
    });
    // crossbeam channel: one message per update; the reader drains.
    let (tx, rx) = crossbeam::channel::unbounded::<(usize, Ticker)>();
    let mut local = vec![Ticker::default(); SYMBOLS];
    group.bench_function("write+read/crossbeam_channel", |b| {
        b.iter(|| {
            for s in 0..100 {
                i += 1;
                tx.send((s, ticker(i))).unwrap();
            }
            while let Ok((s, t)) = rx.try_recv() {
                local[s] = t;
            }
            black_box(&local);
        })
    });
    // RwLock<Vec<Ticker>>.
    let shared = RwLock::new(vec![Ticker::default(); SYMBOLS]);
    group.bench_function("write/rwlock_vec", |b| {
        b.iter(|| {
            for s in 0..100 {
                i += 1;
                shared.write().unwrap()[s] = ticker(i);
            }
        })
    });
    group.bench_function("read/rwlock_vec", |b| {
        b.iter(|| {
            for s in 0..100 {
                black_box(shared.read().unwrap()[s]);
            }
        })
    });
    // arc-swap: one swappable Arc per symbol.
    let swaps: Vec<arc_swap::ArcSwap<Ticker>> = (0..SYMBOLS)
        .map(|_| arc_swap::ArcSwap::from_pointee(Ticker::default()))
        .collect();
    group.bench_function("write/arc_swap", |b| {
        b.iter(|| {
            for (s, slot) in swaps.iter().enumerate().take(100) {
                i += 1;
                slot.store(Arc::new(ticker(i + s as u64)));
            }
        })
    });
    group.bench_function("read/arc_swap", |b| {
        b.iter(|| {
            for slot in swaps.iter().take(100) {
                black_box(**slot.load());
            }
        })
    });
    // The seqlock crate (racy non-atomic reads of the payload).
    let locks: Vec<seqlock::SeqLock<Ticker>> = (0..SYMBOLS)
        .map(|_| seqlock::SeqLock::new(Ticker::default()))
        .collect();
    group.bench_function("write/seqlock_crate", |b| {
        b.iter(|| {
            for (s, l) in locks.iter().enumerate().take(100) {
                i += 1;
                *l.lock_write() = ticker(i + s as u64);
            }
        })
    });
    group.bench_function("read/seqlock_crate", |b| {
        b.iter(|| {
            for l in locks.iter().take(100) {
                black_box(l.read());
            }
        })
    });
    // vivace feed modes: write 100, publish, one consumer reads them.
    for mode in [FeedMode::Shared, FeedMode::Batched, FeedMode::Individual] {
        let (mut w, mut readers) = feed::channel(mode, LayoutConfig::default(), 1).unwrap();
        group.bench_function(format!("write+publish+read/feed_{}", mode.name()), |b| {
            b.iter(|| {
                for s in 0..100 {
                    i += 1;
                    w.write_ticker(s, &ticker(i)).unwrap();
                }
                w.publish().unwrap();
                for s in 0..100 {
                    black_box(readers[0].ticker(s).unwrap());
                }
            })
        });
    }
    group.finish();
}

fn indicators(c: &mut Criterion) {
    let mut group = short_group(c, "market/indicators");
    group.sample_size(10);
    let (series, len) = (600usize, 1_440usize);
    let mut history = KlineHistory::zeroed(series, len);
    let mut x = 0x1234_5678_9abc_def1u64;
    let mut price = vec![100.0f64; series];
    for t in 0..len {
        for (s, p) in price.iter_mut().enumerate() {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            *p *= 1.0 + 0.002 * ((x >> 11) as f64 / (1u64 << 53) as f64 - 0.5);
            history.set(
                t,
                s,
                &Kline {
                    open_time: t as f64,
                    open: *p,
                    high: *p * 1.001,
                    low: *p * 0.999,
                    close: *p,
                    volume: 1.0 + (x % 100) as f64,
                },
            );
        }
    }
    let params = IndicatorParams::default();
    group.throughput(Throughput::Elements((series * len) as u64));
    let mut kernels = available_indicator_kernels();
    match vivace_market_shm::indicators::GpuIndicators::shared() {
        Ok(gpu) => kernels.push(Box::new(gpu)),
        Err(why) => eprintln!("no GPU indicator kernel: {why}"),
    }
    let mut out = IndicatorSeries::default();
    for kernel in &mut kernels {
        let name = kernel.name();
        group.bench_function(BenchmarkId::new("bulk_600x1440", name), |b| {
            b.iter(|| kernel.compute(&params, &history, &mut out).unwrap())
        });
    }
    group.throughput(Throughput::Elements(1));
    let mut state = IndicatorState::new(params).unwrap();
    let mut t = 0usize;
    group.bench_function("incremental_push_one_kline", |b| {
        b.iter(|| {
            t = (t + 1) % len;
            let k = Kline {
                open_time: 0.0,
                open: 0.0,
                high: history.high[t * series],
                low: history.low[t * series],
                close: history.close[t * series],
                volume: history.volume[t * series],
            };
            black_box(state.push(&k))
        })
    });
    group.finish();
}

fn main() {
    if let Ok(spec) = std::env::var(ROLE) {
        let parts: Vec<&str> = spec.split('\n').collect();
        let mode = if parts[2] == "spin" {
            WaitMode::Spin
        } else {
            WaitMode::Block
        };
        echo_child(Path::new(parts[0]), Path::new(parts[1]), mode);
        return;
    }
    let mut c = Criterion::default().configure_from_args();
    record_write(&mut c);
    snapshot_read(&mut c);
    write_to_observe(&mut c);
    klines(&mut c);
    peers(&mut c);
    indicators(&mut c);
    c.final_summary();
}

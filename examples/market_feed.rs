//! Writes a synthetic random-walk market into a shared region file.
//!
//! ```text
//! cargo run --release --example market_feed -- --path FILE [--symbols N]
//!     [--rate UPDATES_PER_S] [--duration S] [--seed X]
//! ```
//!
//! Creates the region (or takes over an existing one with the same layout,
//! repairing records a killed writer left half-written), then writes ticker
//! updates at `--rate` per second (0 = as fast as possible; default 100,000)
//! for `--duration` seconds (default 10) over `--symbols` symbols (default
//! 100). Each ticker's field 10 (checksum) holds the XOR of the raw 64-bit
//! patterns of fields 1–9, so any reader can detect a torn record; field 9
//! (timestamp) is `monotonic_nanos()` at the write. Market time runs 60× real
//! time, so a 1-minute kline closes every second; the forming kline of every
//! interval is updated on each tick. Bad option or unusable file → one line
//! on stderr, exit code 2.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use vivace_examples::{exit_usage, format_rate, or_exit};
use vivace_market_shm::{
    Kline, LayoutConfig, SymbolMeta, SymbolStatus, Ticker, TickerField, Writer, monotonic_nanos,
};

const USAGE: &str =
    "usage: market_feed --path FILE [--symbols N] [--rate UPDATES_PER_S] [--duration S] [--seed X]";

struct Args {
    path: PathBuf,
    symbols: usize,
    rate: f64,
    duration: f64,
    seed: u64,
}

fn parse() -> Args {
    let mut it = std::env::args().skip(1);
    let (mut path, mut symbols, mut rate, mut duration, mut seed) =
        (None, 100usize, 100_000.0, 10.0, 1u64);
    while let Some(arg) = it.next() {
        let mut value = |name: &str| {
            it.next()
                .unwrap_or_else(|| exit_usage(format_args!("{name} needs a value; {USAGE}")))
        };
        match arg.as_str() {
            "--path" => path = Some(PathBuf::from(value("--path"))),
            "--symbols" => {
                let v = value("--symbols");
                symbols = v.parse().ok().filter(|&n| n > 0).unwrap_or_else(|| {
                    exit_usage(format_args!("--symbols: {v:?} is not a positive integer"))
                });
            }
            "--rate" => {
                let v = value("--rate");
                rate = v
                    .parse()
                    .ok()
                    .filter(|r: &f64| r.is_finite() && *r >= 0.0)
                    .unwrap_or_else(|| {
                        exit_usage(format_args!("--rate: {v:?} is not a rate >= 0"))
                    });
            }
            "--duration" => {
                let v = value("--duration");
                duration = v
                    .parse()
                    .ok()
                    .filter(|d: &f64| d.is_finite() && *d > 0.0)
                    .unwrap_or_else(|| {
                        exit_usage(format_args!(
                            "--duration: {v:?} is not a positive number of seconds"
                        ))
                    });
            }
            "--seed" => {
                let v = value("--seed");
                seed = v.parse().unwrap_or_else(|_| {
                    exit_usage(format_args!("--seed: {v:?} is not an unsigned integer"))
                });
            }
            "-h" | "--help" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            other => exit_usage(format_args!("unknown option {other:?}; {USAGE}")),
        }
    }
    let path = path.unwrap_or_else(|| exit_usage(format_args!("--path is required; {USAGE}")));
    Args {
        path,
        symbols,
        rate,
        duration,
        seed,
    }
}

/// xorshift64*: small, fast, reproducible.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn uniform(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

struct Symbol {
    price: f64,
    open: f64,
    high: f64,
    low: f64,
    volume: f64,
    /// Forming kline per interval and the market-time bucket it belongs to.
    forming: Vec<(u64, Kline)>,
}

fn main() {
    let args = parse();
    let config = LayoutConfig {
        symbols: args.symbols,
        ..LayoutConfig::default()
    };
    let mut writer = or_exit(Writer::open_or_create(&args.path, config), "--path");
    let repair = writer.repair();
    if repair.total() > 0 {
        println!("took over a dead writer's region; reset half-written records: {repair:?}");
    }
    let intervals = writer.layout().intervals().to_vec();
    let mut rng = Rng(args.seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
    let mut symbols: Vec<Symbol> = (0..args.symbols)
        .map(|s| {
            let price = 10.0 + 990.0 * rng.uniform();
            let meta = SymbolMeta {
                name: format!("SYM{s:04}"),
                price_precision: 2,
                status: SymbolStatus::Trading,
            };
            or_exit(writer.set_metadata(s, &meta), "metadata");
            Symbol {
                price,
                open: price,
                high: price,
                low: price,
                volume: 0.0,
                forming: vec![(u64::MAX, Kline::default()); intervals.len()],
            }
        })
        .collect();

    println!(
        "market_feed: {} symbols, {} intervals × {} klines, region {} bytes at {}",
        args.symbols,
        intervals.len(),
        writer.layout().kline_capacity(),
        writer.layout().total_size(),
        args.path.display()
    );
    let start = Instant::now();
    let end = Duration::from_secs_f64(args.duration);
    let mut written = 0u64;
    let mut klines_closed = 0u64;
    loop {
        let elapsed = start.elapsed();
        if elapsed >= end {
            break;
        }
        // How many updates are due by now (pacing in small bursts).
        let due = if args.rate == 0.0 {
            written + 1_000
        } else {
            (elapsed.as_secs_f64() * args.rate) as u64
        };
        if due <= written {
            std::thread::sleep(Duration::from_micros(100));
            continue;
        }
        let market_secs = (elapsed.as_secs_f64() * 60.0) as u64;
        while written < due {
            let s = (rng.next() % args.symbols as u64) as usize;
            let sym = &mut symbols[s];
            let step = 1.0 + 0.001 * (rng.uniform() - 0.5);
            sym.price *= step;
            sym.high = sym.high.max(sym.price);
            sym.low = sym.low.min(sym.price);
            let traded = 10.0 * rng.uniform();
            sym.volume += traded;
            let spread = sym.price * 1e-4;
            let mut t = Ticker::default();
            t.set(TickerField::Bid, sym.price - spread);
            t.set(TickerField::Ask, sym.price + spread);
            t.set(TickerField::Last, sym.price);
            t.set(TickerField::Volume, sym.volume);
            t.set(TickerField::High, sym.high);
            t.set(TickerField::Low, sym.low);
            t.set(TickerField::Open, sym.open);
            t.set(TickerField::Change, sym.price - sym.open);
            t.set(TickerField::Timestamp, monotonic_nanos() as f64);
            or_exit(writer.write_ticker(s, &t.with_checksum()), "write");
            for (k, &interval) in intervals.iter().enumerate() {
                let bucket = market_secs / u64::from(interval.secs());
                let (current, kline) = &mut sym.forming[k];
                if *current != bucket {
                    *current = bucket;
                    *kline = Kline {
                        open_time: (bucket * u64::from(interval.secs())) as f64 * 1_000.0,
                        open: sym.price,
                        high: sym.price,
                        low: sym.price,
                        close: sym.price,
                        volume: traded,
                    };
                    or_exit(writer.push_kline(s, interval, kline), "kline");
                    klines_closed += 1;
                } else {
                    kline.high = kline.high.max(sym.price);
                    kline.low = kline.low.min(sym.price);
                    kline.close = sym.price;
                    kline.volume += traded;
                    or_exit(writer.update_last_kline(s, interval, kline), "kline");
                }
            }
            written += 1;
        }
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "wrote {written} ticker updates in {secs:.2} s ({}), opened {klines_closed} klines; {} record writes in all",
        format_rate(written as f64 / secs, "updates/s"),
        writer.update_count()
    );
}

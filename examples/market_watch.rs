//! Watches a region that `market_feed` writes, from another process.
//!
//! ```text
//! cargo run --release --example market_watch -- --path FILE [--duration S]
//! ```
//!
//! Maps the region read-only, spins on the update counter for `--duration`
//! seconds (default 10), and for every symbol whose change counter moved
//! reads its ticker. The writer's liveness (a system call and a `/proc`
//! read) is checked only when no update arrives for 100 ms, never on the
//! hot path. Prints the ticker updates seen, the torn records seen
//! (a ticker whose checksum field is not the XOR of fields 1–9; must be 0),
//! the new 1-minute klines read incrementally, and the write-to-observe
//! latency p50/p99 from the tickers' timestamps (`monotonic_nanos`, shared
//! by every process on the machine). Missing or bad file, or a bad option →
//! one line on stderr, exit code 2.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use vivace_examples::{exit_usage, or_exit};
use vivace_market_shm::{Error, Interval, Reader, TickerField, WaitMode, monotonic_nanos};

const USAGE: &str = "usage: market_watch --path FILE [--duration S]";

fn parse() -> (PathBuf, f64) {
    let mut it = std::env::args().skip(1);
    let (mut path, mut duration) = (None, 10.0);
    while let Some(arg) = it.next() {
        let mut value = |name: &str| {
            it.next()
                .unwrap_or_else(|| exit_usage(format_args!("{name} needs a value; {USAGE}")))
        };
        match arg.as_str() {
            "--path" => path = Some(PathBuf::from(value("--path"))),
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
            "-h" | "--help" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            other => exit_usage(format_args!("unknown option {other:?}; {USAGE}")),
        }
    }
    (
        path.unwrap_or_else(|| exit_usage(format_args!("--path is required; {USAGE}"))),
        duration,
    )
}

fn percentile(sorted: &[u64], q: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    sorted[((sorted.len() - 1) as f64 * q).round() as usize]
}

fn main() {
    let (path, duration) = parse();
    let reader = or_exit(Reader::open(&path), "--path");
    let layout = reader.layout().clone();
    let symbols = layout.symbols();
    let interval = layout.intervals().first().copied().unwrap_or(Interval::M1);
    println!(
        "market_watch: {} symbols, writer {:?}{}",
        symbols,
        reader.writer_status(),
        reader
            .writer_pid()
            .map(|p| format!(" (pid {p})"))
            .unwrap_or_default()
    );
    let mut changes: Vec<u64> = (0..symbols)
        .map(|s| or_exit(reader.symbol_changes(s), "read"))
        .collect();
    let mut last_ts: Vec<f64> = (0..symbols)
        .map(|s| {
            reader
                .ticker(s)
                .map(|t| t.get(TickerField::Timestamp))
                .unwrap_or(0.0)
        })
        .collect();
    let mut cursors: Vec<_> = (0..symbols)
        .map(|s| or_exit(reader.kline_cursor_at_end(s, interval), "read"))
        .collect();
    let mut new_klines = Vec::new();
    let (mut seen, mut torn, mut klines, mut missed) = (0u64, 0u64, 0u64, 0u64);
    let mut latencies: Vec<u64> = Vec::with_capacity(1 << 20);
    let mut count = reader.update_count();
    let start = Instant::now();
    let end = Duration::from_secs_f64(duration);
    let mut stop_reason = "duration reached";
    while start.elapsed() < end {
        match reader.wait_for_update(count, Duration::from_millis(100), WaitMode::Spin) {
            Ok(now) => count = now,
            Err(Error::Timeout(_)) => continue,
            Err(Error::Disconnected) => {
                stop_reason = "the writer detached";
                break;
            }
            Err(Error::WriterDead { .. }) => {
                stop_reason = "the writer died";
                break;
            }
            Err(e) => exit_usage(format_args!("read: {e}")),
        }
        for s in 0..symbols {
            let c = or_exit(reader.symbol_changes(s), "read");
            if c == changes[s] {
                continue;
            }
            changes[s] = c;
            let ticker = match reader.ticker(s) {
                Ok(t) => t,
                Err(Error::WriterDead { .. }) => {
                    stop_reason = "the writer died mid-write";
                    break;
                }
                Err(e) => exit_usage(format_args!("read: {e}")),
            };
            let ts = ticker.get(TickerField::Timestamp);
            if ts != last_ts[s] {
                let now = monotonic_nanos();
                if !ticker.checksum_ok() {
                    torn += 1;
                }
                seen += 1;
                latencies.push(now.saturating_sub(ts as u64));
                last_ts[s] = ts;
            }
            new_klines.clear();
            let read = or_exit(
                reader.read_new_klines(&mut cursors[s], &mut new_klines),
                "read",
            );
            klines += read.read as u64;
            missed += read.missed;
        }
        if stop_reason != "duration reached" {
            break;
        }
    }
    latencies.sort_unstable();
    println!(
        "stopped: {stop_reason} after {:.2} s",
        start.elapsed().as_secs_f64()
    );
    println!("updates seen: {seen}");
    println!("torn records seen: {torn}");
    println!("new {interval} klines read: {klines} (missed {missed})");
    println!(
        "write-to-observe latency: p50 {} ns, p99 {} ns (over {} updates; the writer's stamp to this process seeing it)",
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.99),
        latencies.len()
    );
    if torn > 0 {
        std::process::exit(1);
    }
}

//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};

use vivace_market_shm::{Kline, Ticker, TickerField};

/// A fresh path for a region file: under /dev/shm where it exists.
pub fn region_path(tag: &str) -> PathBuf {
    static N: AtomicU32 = AtomicU32::new(0);
    let dir = if std::path::Path::new("/dev/shm").is_dir() {
        PathBuf::from("/dev/shm")
    } else {
        std::env::temp_dir()
    };
    let path = dir.join(format!(
        "vivace-test-{tag}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_file(&path);
    path
}

/// Removes the file when dropped.
pub struct Cleanup(pub PathBuf);
impl Drop for Cleanup {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// A ticker whose fields derive from `i` and whose checksum field is set.
pub fn ticker(symbol: usize, i: u64) -> Ticker {
    let mut t = Ticker::default();
    for (k, f) in TickerField::ALL[..9].iter().enumerate() {
        t.set(*f, (i as f64) * (k as f64 + 1.0) + symbol as f64);
    }
    t.with_checksum()
}

/// A reproducible random walk of klines with volumes (every 11th zero) and
/// flat stretches (3 bars in 17) that exercise the zero-gain/zero-loss cases.
pub fn walk(seed: u64, len: usize) -> Vec<Kline> {
    let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    let mut rnd = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        (x >> 11) as f64 / (1u64 << 53) as f64
    };
    let mut price = 50.0 + 100.0 * rnd();
    (0..len)
        .map(|t| {
            let open = price;
            price *= 1.0 + 0.02 * (rnd() - 0.5);
            if t % 17 < 3 {
                price = open;
            }
            let high = open.max(price) * (1.0 + 0.005 * rnd());
            let low = open.min(price) * (1.0 - 0.005 * rnd());
            let volume = if t % 11 == 0 { 0.0 } else { 1_000.0 * rnd() };
            Kline {
                open_time: t as f64,
                open,
                high,
                low,
                close: price,
                volume,
            }
        })
        .collect()
}

//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};

use vivace_market_shm::{Ticker, TickerField};

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

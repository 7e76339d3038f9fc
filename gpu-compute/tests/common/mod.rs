//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::sync::{Arc, OnceLock};

use vivace_gpu_compute::{GpuContext, GpuOptions, gpu_required};

/// A context whose dispatch dimension limit is tiny (7 workgroups), so every
/// kernel goes through the 2-D dispatch path on small inputs.
pub fn narrow_context(test: &str) -> Option<Arc<GpuContext>> {
    static NARROW: OnceLock<Option<Arc<GpuContext>>> = OnceLock::new();
    let ctx = NARROW.get_or_init(|| {
        GpuContext::with_options(GpuOptions {
            dispatch_dimension_limit: Some(7),
            ..GpuOptions::default()
        })
        .ok()
        .map(Arc::new)
    });
    match ctx {
        Some(ctx) => Some(Arc::clone(ctx)),
        None => GpuContext::shared_or_skip(test).and(None).or_else(|| {
            assert!(!gpu_required(), "{test}: the narrow context failed");
            None
        }),
    }
}

/// A fresh context of its own, for tests that count pool or cache events.
pub fn private_context(test: &str) -> Option<GpuContext> {
    match GpuContext::new() {
        Ok(ctx) => Some(ctx),
        Err(e) if gpu_required() => panic!("{test}: VIVACE_REQUIRE_GPU=1 but {e}"),
        Err(e) => {
            eprintln!("SKIPPED {test}: {e}");
            None
        }
    }
}

/// Deterministic pseudo-random values (SplitMix64).
pub struct Rng(pub u64);

impl Rng {
    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in [-1, 1).
    pub fn f32(&mut self) -> f32 {
        (self.next_u64() >> 40) as f32 / (1u64 << 23) as f32 - 1.0
    }
    /// `n` values in [-100, 100).
    pub fn f32s(&mut self, n: usize) -> Vec<f32> {
        (0..n).map(|_| self.f32() * 100.0).collect()
    }
    /// `n` arbitrary `u32`s.
    pub fn u32s(&mut self, n: usize) -> Vec<u32> {
        (0..n).map(|_| self.next_u64() as u32).collect()
    }
    /// `n` arbitrary bytes.
    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next_u64() as u8).collect()
    }
}

/// Lengths that stress edges: empty, one, around the workgroup (256),
/// around a scan block (1024) and a few larger odd ones.
pub const EDGE_LENGTHS: &[usize] = &[
    0, 1, 2, 3, 4, 5, 255, 256, 257, 1023, 1024, 1025, 4097, 65_537, 300_001,
];

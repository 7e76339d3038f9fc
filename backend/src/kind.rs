//! Backend kinds and CPU SIMD levels, with cached detection.

use std::fmt;
use std::sync::OnceLock;

/// A SIMD instruction set level that vivace has kernels for.
///
/// Levels belong to one CPU architecture each; [`SimdLevel::detect`] reports
/// the best level the running CPU has. New levels may be added, hence
/// `#[non_exhaustive]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SimdLevel {
    /// x86/x86_64 SSE4.1: 4 f32 lanes.
    Sse41,
    /// x86/x86_64 AVX2 together with FMA: 8 f32 lanes and fused multiply-add.
    /// A CPU with AVX2 but without FMA does not have this level.
    Avx2Fma,
    /// x86_64 AVX-512F (together with AVX2 and FMA): 16 f32 lanes.
    Avx512,
    /// AArch64 Advanced SIMD (NEON): 4 f32 lanes.
    Neon,
    /// WebAssembly 128-bit SIMD (`simd128`): 4 f32 lanes, known at compile time.
    Simd128,
}

impl SimdLevel {
    /// Every level, in no particular order.
    pub const ALL: [SimdLevel; 5] = [
        SimdLevel::Avx512,
        SimdLevel::Avx2Fma,
        SimdLevel::Sse41,
        SimdLevel::Neon,
        SimdLevel::Simd128,
    ];

    /// The best SIMD level this CPU has, or `None` where it has none that
    /// vivace uses. Detection runs once; later calls read the cache.
    pub fn detect() -> Option<SimdLevel> {
        SimdLevel::available().first().copied()
    }

    /// Every SIMD level this CPU has, best first. Cached after the first call.
    pub fn available() -> &'static [SimdLevel] {
        static DETECTED: OnceLock<Vec<SimdLevel>> = OnceLock::new();
        DETECTED.get_or_init(detect_levels).as_slice()
    }

    /// Whether this CPU has this level.
    pub fn is_available(self) -> bool {
        SimdLevel::available().contains(&self)
    }

    /// Human-readable name, e.g. `"AVX2+FMA"`.
    pub fn name(self) -> &'static str {
        match self {
            SimdLevel::Sse41 => "SSE4.1",
            SimdLevel::Avx2Fma => "AVX2+FMA",
            SimdLevel::Avx512 => "AVX-512F",
            SimdLevel::Neon => "NEON",
            SimdLevel::Simd128 => "wasm simd128",
        }
    }

    /// How many `f32` values fit in one register of this level.
    pub fn f32_lanes(self) -> usize {
        match self {
            SimdLevel::Sse41 | SimdLevel::Neon | SimdLevel::Simd128 => 4,
            SimdLevel::Avx2Fma => 8,
            SimdLevel::Avx512 => 16,
        }
    }

    /// The CPU features (as `is_x86_feature_detected!` /
    /// `#[target_feature]` spell them) that this level needs, all of them.
    pub fn required_features(self) -> &'static [&'static str] {
        match self {
            SimdLevel::Sse41 => &["sse4.1"],
            SimdLevel::Avx2Fma => &["avx2", "fma"],
            SimdLevel::Avx512 => &["avx512f", "avx2", "fma"],
            SimdLevel::Neon => &["neon"],
            SimdLevel::Simd128 => &["simd128"],
        }
    }

    /// Why this level is not available here, or `None` if it is.
    pub fn unavailable_reason(self) -> Option<String> {
        if self.is_available() {
            return None;
        }
        Some(format!(
            "this CPU ({}) lacks {} (needs {})",
            std::env::consts::ARCH,
            self.name(),
            self.required_features().join(" + ")
        ))
    }
}

impl fmt::Display for SimdLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
fn detect_levels() -> Vec<SimdLevel> {
    let avx2_fma =
        std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma");
    let mut levels = Vec::new();
    if avx2_fma && std::arch::is_x86_feature_detected!("avx512f") {
        levels.push(SimdLevel::Avx512);
    }
    if avx2_fma {
        levels.push(SimdLevel::Avx2Fma);
    }
    if std::arch::is_x86_feature_detected!("sse4.1") {
        levels.push(SimdLevel::Sse41);
    }
    levels
}

#[cfg(target_arch = "aarch64")]
fn detect_levels() -> Vec<SimdLevel> {
    if std::arch::is_aarch64_feature_detected!("neon") {
        vec![SimdLevel::Neon]
    } else {
        Vec::new()
    }
}

#[cfg(target_arch = "wasm32")]
fn detect_levels() -> Vec<SimdLevel> {
    // WebAssembly has no run-time detection: a module either was compiled
    // with simd128 (and the engine validated it) or was not.
    if cfg!(target_feature = "simd128") {
        vec![SimdLevel::Simd128]
    } else {
        Vec::new()
    }
}

#[cfg(not(any(
    target_arch = "x86",
    target_arch = "x86_64",
    target_arch = "aarch64",
    target_arch = "wasm32"
)))]
fn detect_levels() -> Vec<SimdLevel> {
    Vec::new()
}

/// What a kernel object runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BackendKind {
    /// Plain Rust, one value at a time: the reference implementation.
    Scalar,
    /// Run-time dispatched SIMD at the given level.
    Simd(SimdLevel),
    /// A GPU through wgpu (Vulkan, Metal, DX12 or WebGPU).
    Gpu,
}

impl BackendKind {
    /// A short static label: `"scalar"`, `"simd (AVX2+FMA)"`, `"gpu"`.
    pub fn label(self) -> &'static str {
        match self {
            BackendKind::Scalar => "scalar",
            BackendKind::Gpu => "gpu",
            BackendKind::Simd(SimdLevel::Sse41) => "simd (SSE4.1)",
            BackendKind::Simd(SimdLevel::Avx2Fma) => "simd (AVX2+FMA)",
            BackendKind::Simd(SimdLevel::Avx512) => "simd (AVX-512F)",
            BackendKind::Simd(SimdLevel::Neon) => "simd (NEON)",
            BackendKind::Simd(SimdLevel::Simd128) => "simd (wasm simd128)",
        }
    }

    /// The best SIMD kind of this CPU, if it has one.
    pub fn best_simd() -> Option<BackendKind> {
        SimdLevel::detect().map(BackendKind::Simd)
    }

    /// Whether this is a SIMD kind (at any level).
    pub fn is_simd(self) -> bool {
        matches!(self, BackendKind::Simd(_))
    }
}

impl fmt::Display for BackendKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detection_is_cached_and_consistent() {
        let first = SimdLevel::available();
        let second = SimdLevel::available();
        assert!(std::ptr::eq(first, second), "detection must run once");
        assert_eq!(SimdLevel::detect(), first.first().copied());
        for level in first {
            assert!(level.is_available());
            assert!(level.unavailable_reason().is_none());
        }
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn avx2_without_fma_is_not_avx2_fma() {
        let avx2 = std::arch::is_x86_feature_detected!("avx2");
        let fma = std::arch::is_x86_feature_detected!("fma");
        assert_eq!(SimdLevel::Avx2Fma.is_available(), avx2 && fma);
        // x86_64 always has SSE2; SSE4.1 follows the CPU flag exactly.
        assert_eq!(
            SimdLevel::Sse41.is_available(),
            std::arch::is_x86_feature_detected!("sse4.1")
        );
        assert!(!SimdLevel::Neon.is_available());
        assert!(!SimdLevel::Simd128.is_available());
    }

    #[test]
    fn levels_of_other_architectures_explain_themselves() {
        for level in SimdLevel::ALL {
            if let Some(reason) = level.unavailable_reason() {
                assert!(reason.contains(level.name()), "{reason}");
            }
        }
    }

    #[test]
    fn best_level_is_first() {
        let levels = SimdLevel::available();
        for pair in levels.windows(2) {
            assert!(pair[0].f32_lanes() >= pair[1].f32_lanes());
        }
    }

    #[test]
    fn labels_name_the_level() {
        assert_eq!(BackendKind::Scalar.to_string(), "scalar");
        assert_eq!(BackendKind::Gpu.to_string(), "gpu");
        for level in SimdLevel::ALL {
            let kind = BackendKind::Simd(level);
            assert!(kind.is_simd());
            assert!(kind.label().contains(level.name()));
        }
    }
}

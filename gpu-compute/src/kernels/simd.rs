//! Run-time dispatched SIMD kernels (x86/x86_64: AVX2+FMA, SSE4.1).
//!
//! Each algorithm is written once over the small [`F32Vec`] / [`U32Vec`]
//! traits and instantiated per instruction set inside a
//! `#[target_feature]` function (the memchr / pulp pattern). The only way to
//! reach those functions is through a [`SimdKernels`] whose constructor
//! checked the CPU.

use vivace_backend::{Backend, BackendKind, SimdLevel, Unavailable};

use super::{GenericKernels, ReduceOp, check_histogram_len, check_same_len};
use crate::Result;

/// The generic kernels on one SIMD level.
///
/// Construct with [`SimdKernels::new`] (checks the CPU) or
/// [`SimdKernels::best`]. Levels with kernels here: AVX2+FMA and SSE4.1 on
/// x86/x86_64. Other architectures get `Unavailable` (NEON and wasm simd128
/// versions of these kernels are not written yet).
#[derive(Debug, Clone, Copy)]
pub struct SimdKernels {
    level: SimdLevel,
}

impl SimdKernels {
    /// Kernels for `level`, if this CPU has it and kernels exist for it.
    pub fn new(level: SimdLevel) -> Result<Self, Unavailable> {
        let kind = BackendKind::Simd(level);
        if let Some(reason) = level.unavailable_reason() {
            return Err(Unavailable::new(kind, reason));
        }
        if !matches!(level, SimdLevel::Avx2Fma | SimdLevel::Sse41) {
            return Err(Unavailable::new(
                kind,
                format!("no {level} generic kernels yet"),
            ));
        }
        Ok(SimdKernels { level })
    }

    /// The best level this CPU has kernels for.
    pub fn best() -> Result<Self, Unavailable> {
        SimdKernels::new(SimdLevel::Avx2Fma).or_else(|_| SimdKernels::new(SimdLevel::Sse41))
    }

    /// The level in use.
    pub fn level(&self) -> SimdLevel {
        self.level
    }
}

impl Backend for SimdKernels {
    fn kind(&self) -> BackendKind {
        BackendKind::Simd(self.level)
    }
    fn name(&self) -> String {
        format!("generic kernels ({})", self.level)
    }
}

impl GenericKernels for SimdKernels {
    fn axpy(&mut self, a: f32, x: &[f32], y: &mut [f32]) -> Result<()> {
        check_same_len("axpy x and y", x.len(), y.len())?;
        x86::axpy(self.level, a, x, y);
        Ok(())
    }

    fn reduce(&mut self, op: ReduceOp, x: &[f32]) -> Result<f32> {
        Ok(x86::reduce(self.level, op, x))
    }

    fn inclusive_scan(&mut self, input: &[u32], output: &mut [u32]) -> Result<()> {
        check_same_len("scan input and output", input.len(), output.len())?;
        x86::scan(self.level, input, output);
        Ok(())
    }

    fn histogram(&mut self, bytes: &[u8]) -> Result<[u32; 256]> {
        check_histogram_len(bytes.len())?;
        Ok(x86::histogram(self.level, bytes))
    }
}

/// `SimdKernels::new` only succeeds on x86 for the levels below, so on
/// other architectures these entry points are unreachable.
#[cfg(not(any(target_arch = "x86", target_arch = "x86_64")))]
mod x86 {
    use super::{ReduceOp, SimdLevel};
    pub(super) fn axpy(_: SimdLevel, _: f32, _: &[f32], _: &mut [f32]) {
        unreachable!("SimdKernels cannot be built on this architecture")
    }
    pub(super) fn reduce(_: SimdLevel, _: ReduceOp, _: &[f32]) -> f32 {
        unreachable!("SimdKernels cannot be built on this architecture")
    }
    pub(super) fn scan(_: SimdLevel, _: &[u32], _: &mut [u32]) {
        unreachable!("SimdKernels cannot be built on this architecture")
    }
    pub(super) fn histogram(_: SimdLevel, _: &[u8]) -> [u32; 256] {
        unreachable!("SimdKernels cannot be built on this architecture")
    }
}

#[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
mod x86 {
    #[cfg(target_arch = "x86")]
    use std::arch::x86::*;
    #[cfg(target_arch = "x86_64")]
    use std::arch::x86_64::*;

    use super::{ReduceOp, SimdLevel};

    /// A vector of `f32` lanes. Methods are `unsafe` because they use
    /// instructions the caller must have proven available.
    trait F32Vec: Copy {
        const LANES: usize;
        unsafe fn splat(v: f32) -> Self;
        /// Unaligned load of `LANES` values.
        unsafe fn load(p: *const f32) -> Self;
        /// Unaligned store of `LANES` values.
        unsafe fn store(self, p: *mut f32);
        /// `a·b + c` (fused where the level has FMA).
        unsafe fn mul_add(a: Self, b: Self, c: Self) -> Self;
        unsafe fn add(a: Self, b: Self) -> Self;
        unsafe fn min(a: Self, b: Self) -> Self;
        unsafe fn max(a: Self, b: Self) -> Self;
    }

    /// A vector of `u32` lanes.
    trait U32Vec: Copy {
        const LANES: usize;
        unsafe fn splat(v: u32) -> Self;
        unsafe fn load(p: *const u32) -> Self;
        unsafe fn store(self, p: *mut u32);
        unsafe fn add(a: Self, b: Self) -> Self;
        /// Inclusive prefix sum across the lanes.
        unsafe fn prefix(self) -> Self;
        /// The last lane in every lane.
        unsafe fn broadcast_last(self) -> Self;
        /// The first lane.
        unsafe fn first(self) -> u32;
    }

    #[derive(Clone, Copy)]
    struct Avx(__m256);
    #[derive(Clone, Copy)]
    struct Sse(__m128);
    #[derive(Clone, Copy)]
    struct AvxU(__m256i);
    #[derive(Clone, Copy)]
    struct SseU(__m128i);

    // SAFETY (all impls below): every method is only called from functions
    // compiled with the matching `#[target_feature]`, reached only through a
    // `SimdKernels` whose constructor checked that the CPU has the level;
    // loads and stores are unaligned variants on pointers the callers keep
    // in bounds.
    impl F32Vec for Avx {
        const LANES: usize = 8;
        #[inline(always)]
        unsafe fn splat(v: f32) -> Self {
            // SAFETY: the level is proven by the caller (see above).
            unsafe { Avx(_mm256_set1_ps(v)) }
        }
        #[inline(always)]
        unsafe fn load(p: *const f32) -> Self {
            // SAFETY: the caller guarantees 8 readable values at `p`.
            Avx(unsafe { _mm256_loadu_ps(p) })
        }
        #[inline(always)]
        unsafe fn store(self, p: *mut f32) {
            // SAFETY: the caller guarantees 8 writable values at `p`.
            unsafe { _mm256_storeu_ps(p, self.0) }
        }
        #[inline(always)]
        unsafe fn mul_add(a: Self, b: Self, c: Self) -> Self {
            // SAFETY: the level is proven by the caller (see above).
            unsafe { Avx(_mm256_fmadd_ps(a.0, b.0, c.0)) }
        }
        #[inline(always)]
        unsafe fn add(a: Self, b: Self) -> Self {
            // SAFETY: the level is proven by the caller (see above).
            unsafe { Avx(_mm256_add_ps(a.0, b.0)) }
        }
        #[inline(always)]
        unsafe fn min(a: Self, b: Self) -> Self {
            // SAFETY: the level is proven by the caller (see above).
            unsafe { Avx(_mm256_min_ps(a.0, b.0)) }
        }
        #[inline(always)]
        unsafe fn max(a: Self, b: Self) -> Self {
            // SAFETY: the level is proven by the caller (see above).
            unsafe { Avx(_mm256_max_ps(a.0, b.0)) }
        }
    }

    impl F32Vec for Sse {
        const LANES: usize = 4;
        #[inline(always)]
        unsafe fn splat(v: f32) -> Self {
            // SAFETY: the level is proven by the caller (see above).
            unsafe { Sse(_mm_set1_ps(v)) }
        }
        #[inline(always)]
        unsafe fn load(p: *const f32) -> Self {
            // SAFETY: the caller guarantees 4 readable values at `p`.
            Sse(unsafe { _mm_loadu_ps(p) })
        }
        #[inline(always)]
        unsafe fn store(self, p: *mut f32) {
            // SAFETY: the caller guarantees 4 writable values at `p`.
            unsafe { _mm_storeu_ps(p, self.0) }
        }
        #[inline(always)]
        unsafe fn mul_add(a: Self, b: Self, c: Self) -> Self {
            // SAFETY: the level is proven by the caller (see above).
            unsafe {
                // SSE4.1 has no FMA: multiply, then add (rounded twice).
                Sse(_mm_add_ps(_mm_mul_ps(a.0, b.0), c.0))
            }
        }
        #[inline(always)]
        unsafe fn add(a: Self, b: Self) -> Self {
            // SAFETY: the level is proven by the caller (see above).
            unsafe { Sse(_mm_add_ps(a.0, b.0)) }
        }
        #[inline(always)]
        unsafe fn min(a: Self, b: Self) -> Self {
            // SAFETY: the level is proven by the caller (see above).
            unsafe { Sse(_mm_min_ps(a.0, b.0)) }
        }
        #[inline(always)]
        unsafe fn max(a: Self, b: Self) -> Self {
            // SAFETY: the level is proven by the caller (see above).
            unsafe { Sse(_mm_max_ps(a.0, b.0)) }
        }
    }

    impl U32Vec for AvxU {
        const LANES: usize = 8;
        #[inline(always)]
        unsafe fn splat(v: u32) -> Self {
            // SAFETY: the level is proven by the caller (see above).
            unsafe { AvxU(_mm256_set1_epi32(v as i32)) }
        }
        #[inline(always)]
        unsafe fn load(p: *const u32) -> Self {
            // SAFETY: the caller guarantees 8 readable values at `p`.
            AvxU(unsafe { _mm256_loadu_si256(p.cast()) })
        }
        #[inline(always)]
        unsafe fn store(self, p: *mut u32) {
            // SAFETY: the caller guarantees 8 writable values at `p`.
            unsafe { _mm256_storeu_si256(p.cast(), self.0) }
        }
        #[inline(always)]
        unsafe fn add(a: Self, b: Self) -> Self {
            // SAFETY: the level is proven by the caller (see above).
            unsafe { AvxU(_mm256_add_epi32(a.0, b.0)) }
        }
        #[inline(always)]
        unsafe fn prefix(self) -> Self {
            // SAFETY: the level is proven by the caller (see above).
            unsafe {
                // Scan each 128-bit half by shifting in zeros: 2 steps for 4 lanes.
                let mut x = self.0;
                x = _mm256_add_epi32(x, _mm256_slli_si256::<4>(x));
                x = _mm256_add_epi32(x, _mm256_slli_si256::<8>(x));
                // Carry the low half's total (its lane 3) into the high half.
                let low_total = _mm256_shuffle_epi32::<0xFF>(x);
                let carry = _mm256_permute2x128_si256::<0x08>(low_total, low_total);
                AvxU(_mm256_add_epi32(x, carry))
            }
        }
        #[inline(always)]
        unsafe fn broadcast_last(self) -> Self {
            // SAFETY: the level is proven by the caller (see above).
            unsafe { AvxU(_mm256_permutevar8x32_epi32(self.0, _mm256_set1_epi32(7))) }
        }
        #[inline(always)]
        unsafe fn first(self) -> u32 {
            // SAFETY: the level is proven by the caller (see above).
            unsafe { _mm256_extract_epi32::<0>(self.0) as u32 }
        }
    }

    impl U32Vec for SseU {
        const LANES: usize = 4;
        #[inline(always)]
        unsafe fn splat(v: u32) -> Self {
            // SAFETY: the level is proven by the caller (see above).
            unsafe { SseU(_mm_set1_epi32(v as i32)) }
        }
        #[inline(always)]
        unsafe fn load(p: *const u32) -> Self {
            // SAFETY: the caller guarantees 4 readable values at `p`.
            SseU(unsafe { _mm_loadu_si128(p.cast()) })
        }
        #[inline(always)]
        unsafe fn store(self, p: *mut u32) {
            // SAFETY: the caller guarantees 4 writable values at `p`.
            unsafe { _mm_storeu_si128(p.cast(), self.0) }
        }
        #[inline(always)]
        unsafe fn add(a: Self, b: Self) -> Self {
            // SAFETY: the level is proven by the caller (see above).
            unsafe { SseU(_mm_add_epi32(a.0, b.0)) }
        }
        #[inline(always)]
        unsafe fn prefix(self) -> Self {
            // SAFETY: the level is proven by the caller (see above).
            unsafe {
                let mut x = self.0;
                x = _mm_add_epi32(x, _mm_slli_si128::<4>(x));
                x = _mm_add_epi32(x, _mm_slli_si128::<8>(x));
                SseU(x)
            }
        }
        #[inline(always)]
        unsafe fn broadcast_last(self) -> Self {
            // SAFETY: the level is proven by the caller (see above).
            unsafe { SseU(_mm_shuffle_epi32::<0xFF>(self.0)) }
        }
        #[inline(always)]
        unsafe fn first(self) -> u32 {
            // SAFETY: the level is proven by the caller (see above).
            unsafe { _mm_extract_epi32::<0>(self.0) as u32 }
        }
    }

    // ---- algorithms, written once ----

    #[inline(always)]
    unsafe fn axpy_with<V: F32Vec>(a: f32, x: &[f32], y: &mut [f32]) {
        let n = x.len().min(y.len());
        let body = n - n % V::LANES;
        let (xp, yp) = (x.as_ptr(), y.as_mut_ptr());
        // SAFETY: `splat` needs only the level, which the caller proved.
        let va = unsafe { V::splat(a) };
        let mut i = 0;
        while i < body {
            // SAFETY: i + LANES <= body <= n, so both vectors are in bounds.
            unsafe {
                let r = V::mul_add(va, V::load(xp.add(i)), V::load(yp.add(i)));
                r.store(yp.add(i));
            }
            i += V::LANES;
        }
        for j in body..n {
            y[j] = a.mul_add(x[j], y[j]);
        }
    }

    /// One reduction, as a type so the loop is monomorphised per op.
    trait Combine {
        const OP: ReduceOp;
        unsafe fn vec<V: F32Vec>(a: V, b: V) -> V;
        fn one(a: f32, b: f32) -> f32;
    }
    struct Sum;
    struct Min;
    struct Max;
    impl Combine for Sum {
        const OP: ReduceOp = ReduceOp::Sum;
        #[inline(always)]
        unsafe fn vec<V: F32Vec>(a: V, b: V) -> V {
            // SAFETY: forwarded caller guarantee (level available).
            unsafe { V::add(a, b) }
        }
        #[inline(always)]
        fn one(a: f32, b: f32) -> f32 {
            a + b
        }
    }
    impl Combine for Min {
        const OP: ReduceOp = ReduceOp::Min;
        #[inline(always)]
        unsafe fn vec<V: F32Vec>(a: V, b: V) -> V {
            // SAFETY: forwarded caller guarantee (level available).
            unsafe { V::min(a, b) }
        }
        #[inline(always)]
        fn one(a: f32, b: f32) -> f32 {
            a.min(b)
        }
    }
    impl Combine for Max {
        const OP: ReduceOp = ReduceOp::Max;
        #[inline(always)]
        unsafe fn vec<V: F32Vec>(a: V, b: V) -> V {
            // SAFETY: forwarded caller guarantee (level available).
            unsafe { V::max(a, b) }
        }
        #[inline(always)]
        fn one(a: f32, b: f32) -> f32 {
            a.max(b)
        }
    }

    /// Four independent accumulators hide the add latency.
    #[inline(always)]
    unsafe fn reduce_with<V: F32Vec, C: Combine>(x: &[f32]) -> f32 {
        let step = 4 * V::LANES;
        let body = x.len() - x.len() % step;
        let p = x.as_ptr();
        // SAFETY: the caller proved the level is available.
        let id = unsafe { V::splat(C::OP.identity()) };
        let mut acc = [id; 4];
        let mut i = 0;
        while i < body {
            for (k, a) in acc.iter_mut().enumerate() {
                // SAFETY: i + step <= body <= len, so every lane is in bounds.
                *a = unsafe { C::vec(*a, V::load(p.add(i + k * V::LANES))) };
            }
            i += step;
        }
        // SAFETY: level available, as above.
        let folded = unsafe { C::vec(C::vec(acc[0], acc[1]), C::vec(acc[2], acc[3])) };
        let mut lanes = [0.0f32; 16];
        // SAFETY: `lanes` holds 16 >= LANES values.
        unsafe { folded.store(lanes.as_mut_ptr()) };
        let mut result = lanes[..V::LANES]
            .iter()
            .fold(C::OP.identity(), |a, &b| C::one(a, b));
        for &v in &x[body..] {
            result = C::one(result, v);
        }
        result
    }

    #[inline(always)]
    unsafe fn scan_with<V: U32Vec>(input: &[u32], output: &mut [u32]) {
        let n = input.len().min(output.len());
        let body = n - n % V::LANES;
        let (ip, op) = (input.as_ptr(), output.as_mut_ptr());
        // The running total stays broadcast in a register: the loop-carried
        // chain is one add and one shuffle per vector, and the in-register
        // prefix of the next vector overlaps with it.
        // SAFETY: the level was proven by the caller.
        let mut carry = unsafe { V::splat(0) };
        let mut i = 0;
        while i < body {
            // SAFETY: i + LANES <= body <= n: in bounds for both slices;
            // the level was proven by the caller.
            unsafe {
                let v = V::add(V::load(ip.add(i)).prefix(), carry);
                v.store(op.add(i));
                carry = v.broadcast_last();
            }
            i += V::LANES;
        }
        // SAFETY: as above.
        let mut carry = unsafe { carry.first() };
        for j in body..n {
            carry = carry.wrapping_add(input[j]);
            output[j] = carry;
        }
    }

    /// Loads 8 bytes at a time and counts into four interleaved
    /// sub-histograms (the zstd technique): x86 has no conflict-free
    /// scatter-increment, so the speed-up over the one-table reference comes
    /// from breaking store-to-load dependencies on repeated bytes, not from
    /// lane-parallel counting.
    #[inline(always)]
    fn histogram_with(bytes: &[u8]) -> [u32; 256] {
        let mut tables = [[0u32; 256]; 4];
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let word = u64::from_le_bytes(chunk.try_into().expect("8 bytes"));
            for k in 0..8 {
                let b = ((word >> (8 * k)) & 0xff) as usize;
                tables[k & 3][b] += 1;
            }
        }
        for &b in chunks.remainder() {
            tables[0][usize::from(b)] += 1;
        }
        let mut bins = [0u32; 256];
        for (i, bin) in bins.iter_mut().enumerate() {
            *bin = tables[0][i] + tables[1][i] + tables[2][i] + tables[3][i];
        }
        bins
    }

    // ---- instantiations per instruction set ----

    #[target_feature(enable = "avx2,fma")]
    fn axpy_avx2(a: f32, x: &[f32], y: &mut [f32]) {
        // SAFETY: this function only runs where avx2+fma were detected.
        unsafe { axpy_with::<Avx>(a, x, y) }
    }
    #[target_feature(enable = "sse4.1")]
    fn axpy_sse41(a: f32, x: &[f32], y: &mut [f32]) {
        // SAFETY: this function only runs where sse4.1 was detected.
        unsafe { axpy_with::<Sse>(a, x, y) }
    }
    #[target_feature(enable = "avx2,fma")]
    fn reduce_avx2(op: ReduceOp, x: &[f32]) -> f32 {
        // SAFETY: this function only runs where avx2+fma were detected.
        unsafe {
            match op {
                ReduceOp::Sum => reduce_with::<Avx, Sum>(x),
                ReduceOp::Min => reduce_with::<Avx, Min>(x),
                ReduceOp::Max => reduce_with::<Avx, Max>(x),
            }
        }
    }
    #[target_feature(enable = "sse4.1")]
    fn reduce_sse41(op: ReduceOp, x: &[f32]) -> f32 {
        // SAFETY: this function only runs where sse4.1 was detected.
        unsafe {
            match op {
                ReduceOp::Sum => reduce_with::<Sse, Sum>(x),
                ReduceOp::Min => reduce_with::<Sse, Min>(x),
                ReduceOp::Max => reduce_with::<Sse, Max>(x),
            }
        }
    }
    #[target_feature(enable = "avx2,fma")]
    fn scan_avx2(input: &[u32], output: &mut [u32]) {
        // SAFETY: this function only runs where avx2+fma were detected.
        unsafe { scan_with::<AvxU>(input, output) }
    }
    #[target_feature(enable = "sse4.1")]
    fn scan_sse41(input: &[u32], output: &mut [u32]) {
        // SAFETY: this function only runs where sse4.1 was detected.
        unsafe { scan_with::<SseU>(input, output) }
    }
    #[target_feature(enable = "avx2,fma")]
    fn histogram_avx2(bytes: &[u8]) -> [u32; 256] {
        histogram_with(bytes)
    }
    #[target_feature(enable = "sse4.1")]
    fn histogram_sse41(bytes: &[u8]) -> [u32; 256] {
        histogram_with(bytes)
    }

    // ---- dispatch (a `SimdKernels` exists only for detected levels) ----

    pub(super) fn axpy(level: SimdLevel, a: f32, x: &[f32], y: &mut [f32]) {
        match level {
            // SAFETY: `level` comes from a `SimdKernels`, whose constructor
            // checked that the CPU has it.
            SimdLevel::Avx2Fma => unsafe { axpy_avx2(a, x, y) },
            // SAFETY: as above.
            _ => unsafe { axpy_sse41(a, x, y) },
        }
    }
    pub(super) fn reduce(level: SimdLevel, op: ReduceOp, x: &[f32]) -> f32 {
        match level {
            // SAFETY: `level` was checked by the `SimdKernels` constructor.
            SimdLevel::Avx2Fma => unsafe { reduce_avx2(op, x) },
            // SAFETY: as above.
            _ => unsafe { reduce_sse41(op, x) },
        }
    }
    pub(super) fn scan(level: SimdLevel, input: &[u32], output: &mut [u32]) {
        match level {
            // SAFETY: `level` was checked by the `SimdKernels` constructor.
            SimdLevel::Avx2Fma => unsafe { scan_avx2(input, output) },
            // SAFETY: as above.
            _ => unsafe { scan_sse41(input, output) },
        }
    }
    pub(super) fn histogram(level: SimdLevel, bytes: &[u8]) -> [u32; 256] {
        match level {
            // SAFETY: `level` was checked by the `SimdKernels` constructor.
            SimdLevel::Avx2Fma => unsafe { histogram_avx2(bytes) },
            // SAFETY: as above.
            _ => unsafe { histogram_sse41(bytes) },
        }
    }
}

#[cfg(test)]
mod tests {
    //! Small exhaustive-length checks against the scalar reference, cheap
    //! enough for Miri (which checks the pointer arithmetic of the vector
    //! loops; run it with `-C target-feature=+avx2,+fma,+sse4.1` so the
    //! levels are available under Miri).
    use super::*;
    use crate::kernels::ScalarKernels;

    #[test]
    fn every_available_level_matches_scalar_on_every_short_length() {
        // Built with these features (as the Miri run is), the levels must
        // be available, so this test cannot pass by skipping them.
        if cfg!(all(target_feature = "avx2", target_feature = "fma")) {
            assert!(SimdKernels::new(SimdLevel::Avx2Fma).is_ok());
        }
        if cfg!(target_feature = "sse4.1") {
            assert!(SimdKernels::new(SimdLevel::Sse41).is_ok());
        }
        for level in [SimdLevel::Avx2Fma, SimdLevel::Sse41] {
            let Ok(mut simd) = SimdKernels::new(level) else {
                continue;
            };
            for len in 0..40usize {
                let x: Vec<f32> = (0..len).map(|i| (i as f32 * 0.37).sin() * 8.0).collect();
                let mut y_simd: Vec<f32> = (0..len).map(|i| i as f32 * 0.5).collect();
                let mut y_ref = y_simd.clone();
                simd.axpy(1.5, &x, &mut y_simd).unwrap();
                ScalarKernels.axpy(1.5, &x, &mut y_ref).unwrap();
                for (s, r) in y_simd.iter().zip(&y_ref) {
                    assert!(
                        (s - r).abs() <= 1e-5 * (1.0 + r.abs()),
                        "{level} axpy {len}"
                    );
                }
                for op in [ReduceOp::Min, ReduceOp::Max] {
                    assert_eq!(
                        simd.reduce(op, &x).unwrap(),
                        ScalarKernels.reduce(op, &x).unwrap(),
                        "{level} {op:?} {len}"
                    );
                }
                let sum = simd.sum(&x).unwrap();
                let exact: f32 = x.iter().sum();
                assert!(
                    (sum - exact).abs() <= 1e-4 * (1.0 + exact.abs()),
                    "{level} sum {len}"
                );
                let ints: Vec<u32> = (0..len as u32)
                    .map(|i| i.wrapping_mul(2_654_435_761))
                    .collect();
                let (mut a, mut b) = (vec![0u32; len], vec![0u32; len]);
                simd.inclusive_scan(&ints, &mut a).unwrap();
                ScalarKernels.inclusive_scan(&ints, &mut b).unwrap();
                assert_eq!(a, b, "{level} scan {len}");
                let bytes: Vec<u8> = ints.iter().map(|&v| (v >> 24) as u8).collect();
                assert_eq!(
                    simd.histogram(&bytes).unwrap(),
                    ScalarKernels.histogram(&bytes).unwrap(),
                    "{level} histogram {len}"
                );
            }
        }
    }
}

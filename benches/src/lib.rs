/*!
The vivace benchmark suite (`cargo bench -p vivace-benches`).

Each file under `benches/` puts every backend of one crate, and the peer
crates people use today, on the same input in the same run, with
criterion's `BenchmarkId::new(backend, size)` so one report compares them.
Throughput is reported in the domain's unit (bytes/s for the generic GPU
kernels, biquad-samples/s, interactions/s, pixels/s, updates/s).

This library holds input generators shared by the benchmarks.
*/
#![deny(missing_docs)]

pub mod vectorize;

/// Deterministic pseudo-random `f32` values in `[-1, 1)` (xorshift64*), so
/// every backend and peer sees the same input in every run.
pub fn random_f32(len: usize, seed: u64) -> Vec<f32> {
    let mut state = seed.max(1);
    (0..len)
        .map(|_| {
            state ^= state >> 12;
            state ^= state << 25;
            state ^= state >> 27;
            let bits = state.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 40; // 24 bits
            bits as f32 / (1u64 << 23) as f32 - 1.0
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_values_are_reproducible_and_in_range() {
        let a = random_f32(1000, 7);
        assert_eq!(a, random_f32(1000, 7));
        assert_ne!(a, random_f32(1000, 8));
        assert!(a.iter().all(|&x| (-1.0..1.0).contains(&x)));
        let mean = a.iter().sum::<f32>() / a.len() as f32;
        assert!(mean.abs() < 0.1, "{mean}");
    }
}

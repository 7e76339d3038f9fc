//! Every backend of the generic kernels against the scalar reference, and
//! the scalar reference against independent ones (f64, brute force).

mod common;

use common::{EDGE_LENGTHS, Rng, narrow_context};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use vivace_backend::{BackendKind, Preference, SimdLevel};
use vivace_gpu_compute::GpuContext;
use vivace_gpu_compute::kernels::{
    GenericKernels, GpuKernels, ReduceOp, ScalarKernels, SimdKernels, select_kernels,
};

/// Every SIMD level this machine can run.
fn simd_backends() -> Vec<SimdKernels> {
    [SimdLevel::Avx2Fma, SimdLevel::Sse41]
        .into_iter()
        .filter_map(|level| SimdKernels::new(level).ok())
        .collect()
}

/// The f64 reference sum, and the bound a float32 sum of any order meets:
/// n·ε·Σ|x| (plus a tiny absolute floor).
fn sum_reference(x: &[f32]) -> (f64, f64) {
    let exact: f64 = x.iter().map(|&v| f64::from(v)).sum();
    let magnitude: f64 = x.iter().map(|&v| f64::from(v).abs()).sum();
    let bound = x.len() as f64 * f64::from(f32::EPSILON) * magnitude + 1e-6;
    (exact, bound)
}

fn check_backend(kernels: &mut dyn GenericKernels, rng: &mut Rng, len: usize) {
    let name = kernels.name();
    let x = rng.f32s(len);
    let y0 = rng.f32s(len);
    let a = rng.f32() * 4.0;

    // axpy: against an f64 evaluation; fused and unfused rounding both fit.
    let mut y = y0.clone();
    kernels.axpy(a, &x, &mut y).unwrap();
    for i in 0..len {
        let exact = f64::from(a) * f64::from(x[i]) + f64::from(y0[i]);
        let scale = (f64::from(a) * f64::from(x[i])).abs() + f64::from(y0[i]).abs();
        assert!(
            (f64::from(y[i]) - exact).abs() <= 2.0 * f64::from(f32::EPSILON) * scale + 1e-30,
            "{name} axpy len {len} at {i}: {} vs {exact}",
            y[i]
        );
    }

    // sum within the order-independent bound; min/max exactly.
    let (exact, bound) = sum_reference(&x);
    let sum = f64::from(kernels.sum(&x).unwrap());
    assert!(
        (sum - exact).abs() <= bound,
        "{name} sum len {len}: {sum} vs {exact} (bound {bound})"
    );
    let min = x
        .iter()
        .copied()
        .fold(None, |m: Option<f32>, v| Some(m.map_or(v, |m| m.min(v))));
    let max = x
        .iter()
        .copied()
        .fold(None, |m: Option<f32>, v| Some(m.map_or(v, |m| m.max(v))));
    assert_eq!(kernels.min(&x).unwrap(), min, "{name} min len {len}");
    assert_eq!(kernels.max(&x).unwrap(), max, "{name} max len {len}");

    // scan: exactly the wrapping prefix sums.
    let input = rng.u32s(len);
    let mut out = vec![0u32; len];
    kernels.inclusive_scan(&input, &mut out).unwrap();
    let mut running = 0u32;
    for i in 0..len {
        running = running.wrapping_add(input[i]);
        assert_eq!(out[i], running, "{name} scan len {len} at {i}");
    }

    // histogram: brute-force count per bin value.
    let bytes = rng.bytes(len);
    let bins = kernels.histogram(&bytes).unwrap();
    let mut expected = [0u32; 256];
    for &b in &bytes {
        expected[b as usize] += 1;
    }
    assert_eq!(bins, expected, "{name} histogram len {len}");
    assert_eq!(bins.iter().map(|&c| c as usize).sum::<usize>(), len);
}

#[test]
fn scalar_matches_independent_references_on_edge_lengths() {
    let mut rng = Rng(1);
    for &len in EDGE_LENGTHS {
        check_backend(&mut ScalarKernels, &mut rng, len);
    }
}

#[test]
fn simd_matches_references_on_edge_lengths() {
    let mut rng = Rng(2);
    for mut simd in simd_backends() {
        for &len in EDGE_LENGTHS {
            check_backend(&mut simd, &mut rng, len);
        }
    }
}

#[test]
fn gpu_matches_references_on_edge_lengths() {
    let Some(ctx) = GpuContext::shared_or_skip("gpu_matches_references_on_edge_lengths") else {
        return;
    };
    let mut gpu = GpuKernels::new(ctx);
    let mut rng = Rng(3);
    for &len in EDGE_LENGTHS {
        check_backend(&mut gpu, &mut rng, len);
    }
}

#[test]
fn gpu_two_dimensional_dispatch_on_a_narrow_grid() {
    // Limit 7 workgroups per dimension (so at most 49 in a 2-D grid): these
    // lengths need 8 to 49 workgroups, so every kernel runs on a 2-D grid,
    // most with surplus groups in the last row.
    let Some(ctx) = narrow_context("gpu_two_dimensional_dispatch_on_a_narrow_grid") else {
        return;
    };
    assert_eq!(ctx.dispatch_dimension_limit(), 7);
    let mut gpu = GpuKernels::new(ctx);
    let mut rng = Rng(4);
    for &len in &[1800, 7 * 256 + 1, 12_000, 49 * 256] {
        check_backend(&mut gpu, &mut rng, len);
    }
    // One value more than 49 workgroups hold is a typed error, not garbage.
    let x = vec![1.0f32; 49 * 256 + 1];
    let mut y = x.clone();
    let err = gpu.axpy(1.0, &x, &mut y).unwrap_err();
    assert!(
        matches!(err, vivace_gpu_compute::Error::DispatchTooLarge { .. }),
        "{err}"
    );
}

#[test]
fn gpu_axpy_past_65535_workgroups_uses_a_real_2d_grid() {
    let Some(ctx) = GpuContext::shared_or_skip("gpu_axpy_past_65535_workgroups") else {
        return;
    };
    let limit = ctx.dispatch_dimension_limit() as usize;
    let len = limit * 256 + 777; // one more row than a 1-D grid holds
    let x: Vec<f32> = (0..len).map(|i| (i % 1000) as f32).collect();
    let mut y = vec![1.0f32; len];
    GpuKernels::new(ctx).axpy(2.0, &x, &mut y).unwrap();
    for (i, &v) in y
        .iter()
        .enumerate()
        .step_by(4099)
        .chain([(len - 1, &y[len - 1])])
    {
        assert_eq!(v, 2.0 * (i % 1000) as f32 + 1.0, "at {i}");
    }
}

#[test]
fn scan_wraps_like_u32_arithmetic_on_every_backend() {
    let input = vec![u32::MAX; 3000];
    let mut expected = vec![0u32; 3000];
    ScalarKernels.inclusive_scan(&input, &mut expected).unwrap();
    assert_eq!(expected[1], u32::MAX - 1);
    let mut backends: Vec<Box<dyn GenericKernels>> = simd_backends()
        .into_iter()
        .map(|k| Box::new(k) as Box<dyn GenericKernels>)
        .collect();
    if let Some(ctx) = GpuContext::shared_or_skip("scan_wraps_like_u32_arithmetic") {
        backends.push(Box::new(GpuKernels::new(ctx)));
    }
    for mut k in backends {
        let mut out = vec![0u32; 3000];
        k.inclusive_scan(&input, &mut out).unwrap();
        assert_eq!(out, expected, "{}", k.name());
    }
}

#[test]
fn mismatched_lengths_are_errors_on_every_backend() {
    let mut backends: Vec<Box<dyn GenericKernels>> = vec![Box::new(ScalarKernels)];
    backends.extend(
        simd_backends()
            .into_iter()
            .map(|k| Box::new(k) as Box<dyn GenericKernels>),
    );
    if let Some(ctx) = GpuContext::shared_or_skip("mismatched_lengths_are_errors") {
        backends.push(Box::new(GpuKernels::new(ctx)));
    }
    for mut k in backends {
        let mut y = vec![0.0f32; 3];
        let err = k.axpy(1.0, &[1.0, 2.0], &mut y).unwrap_err();
        assert!(err.to_string().contains("length mismatch"), "{err}");
        assert_eq!(y, [0.0; 3], "nothing written on error");
        let mut out = vec![0u32; 1];
        assert!(k.inclusive_scan(&[1, 2], &mut out).is_err());
    }
}

#[test]
fn selection_follows_the_preference() {
    let auto = select_kernels(Preference::Auto).unwrap();
    match SimdKernels::best() {
        Ok(best) => assert_eq!(auto.kind, BackendKind::Simd(best.level())),
        Err(_) => assert_eq!(auto.kind, BackendKind::Scalar),
    }
    // Auto never picks the GPU for host slices, and says why.
    assert!(auto.skipped.iter().any(|u| u.kind == BackendKind::Gpu));
    assert_eq!(
        select_kernels(Preference::Scalar).unwrap().kind,
        BackendKind::Scalar
    );
    match select_kernels(Preference::Gpu) {
        Ok(s) => assert_eq!(s.kind, BackendKind::Gpu),
        Err(e) => {
            assert!(
                !vivace_gpu_compute::gpu_required(),
                "forced gpu failed: {e}"
            );
            assert!(e.to_string().contains("gpu"), "{e}");
        }
    }
}

/// One backend against scalar on one random input: exact for
/// min/max/scan/histogram; axpy within 2 ulp-scale of its terms (one side
/// may fuse the multiply-add; the scale is |a·x| + |y|, not the result,
/// because the result may cancel); sum within the summation-order bound.
fn assert_matches_scalar(
    kernels: &mut dyn GenericKernels,
    x: &[f32],
    a: f32,
    ints: &[u32],
    bytes: &[u8],
) -> Result<(), TestCaseError> {
    let y0: Vec<f32> = x.iter().map(|v| v * 0.5).collect();
    let (mut y, mut y_ref) = (y0.clone(), y0.clone());
    kernels.axpy(a, x, &mut y).unwrap();
    ScalarKernels.axpy(a, x, &mut y_ref).unwrap();
    for i in 0..x.len() {
        let scale = (a * x[i]).abs() + y0[i].abs();
        prop_assert!((y[i] - y_ref[i]).abs() <= 2.0 * f32::EPSILON * scale + 1e-30);
    }
    let (exact, bound) = sum_reference(x);
    prop_assert!((f64::from(kernels.sum(x).unwrap()) - exact).abs() <= bound);
    prop_assert_eq!(kernels.min(x).unwrap(), ScalarKernels.min(x).unwrap());
    prop_assert_eq!(kernels.max(x).unwrap(), ScalarKernels.max(x).unwrap());
    let (mut out, mut out_ref) = (vec![0u32; ints.len()], vec![0u32; ints.len()]);
    kernels.inclusive_scan(ints, &mut out).unwrap();
    ScalarKernels.inclusive_scan(ints, &mut out_ref).unwrap();
    prop_assert_eq!(out, out_ref);
    prop_assert_eq!(
        kernels.histogram(bytes).unwrap(),
        ScalarKernels.histogram(bytes).unwrap()
    );
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Every SIMD level against scalar on random inputs.
    #[test]
    fn simd_matches_scalar(
        x in prop::collection::vec(-1e4f32..1e4, 0..700),
        a in -8f32..8.0,
        ints in prop::collection::vec(any::<u32>(), 0..700),
        bytes in prop::collection::vec(any::<u8>(), 0..2000),
    ) {
        for mut simd in simd_backends() {
            assert_matches_scalar(&mut simd, &x, a, &ints, &bytes)?;
        }
    }

    /// The GPU against scalar on random inputs (each case is a round trip).
    #[test]
    fn gpu_matches_scalar(
        x in prop::collection::vec(-1e4f32..1e4, 0..5000),
        a in -8f32..8.0,
        ints in prop::collection::vec(any::<u32>(), 0..5000),
        bytes in prop::collection::vec(any::<u8>(), 0..5000),
    ) {
        if let Some(ctx) = GpuContext::shared_or_skip("gpu_matches_scalar") {
            assert_matches_scalar(&mut GpuKernels::new(ctx), &x, a, &ints, &bytes)?;
        }
    }
}

#[test]
fn reduce_ops_have_identities() {
    assert_eq!(ScalarKernels.reduce(ReduceOp::Sum, &[]).unwrap(), 0.0);
    assert_eq!(
        ScalarKernels.reduce(ReduceOp::Min, &[]).unwrap(),
        f32::INFINITY
    );
    assert_eq!(
        ScalarKernels.reduce(ReduceOp::Max, &[]).unwrap(),
        f32::NEG_INFINITY
    );
    assert_eq!(ScalarKernels.min(&[]).unwrap(), None);
}

//! The GPU pixel kernels (feature `gpu`) against scalar on random inputs:
//! luma, ink and the luma histogram bit for bit, k-means labels within the
//! stated distance tolerance, whole tracings identical. Skips without an
//! adapter unless `VIVACE_REQUIRE_GPU=1`.
#![cfg(feature = "gpu")]

use proptest::prelude::*;
use vivace_gpu_compute::GpuContext;
use vivace_vectorize::RgbaRaster;
use vivace_vectorize::color::{ColorOptions, Layering};
use vivace_vectorize::gpu::{ASSIGN_TOLERANCE, GpuPixels};
use vivace_vectorize::oklab::{ColorKernel, LabPlanes, TRANSPARENT, distance2};
use vivace_vectorize::pixels::{PixelKernel, ScalarPixels};
use vivace_vectorize::tracer::{Mode, Tracer, TracerConfig};

/// The GPU kernel for every call (crossover 0), in slices of `slice`
/// pixels so that slicing is exercised on small images.
fn gpu(test: &str, slice: usize) -> Option<GpuPixels> {
    GpuContext::shared_or_skip(test).map(|ctx| GpuPixels::new(ctx, 0).with_slice_pixels(slice))
}

fn raster_strategy() -> impl Strategy<Value = (usize, usize, Vec<u8>)> {
    (1usize..50, 1usize..20).prop_flat_map(|(w, h)| {
        (
            Just(w),
            Just(h),
            proptest::collection::vec(any::<u8>(), w * h * 4),
        )
    })
}

/// GPU labels `got` against the CPU's `want`: where they differ, neither is
/// transparent and the two centroids' distances (the CPU's way, from the
/// CPU's OKLab `lab`) agree within [`ASSIGN_TOLERANCE`].
fn labels_agree(
    got: &[u8],
    want: &[u8],
    lab: &LabPlanes,
    centroids: &[[f32; 3]],
) -> Result<(), String> {
    for (i, (&g, &c)) in got.iter().zip(want).enumerate() {
        if g == c {
            continue;
        }
        if g == TRANSPARENT || c == TRANSPARENT {
            return Err(format!("pixel {i}: transparency differs"));
        }
        let p = lab.get(i);
        let (dg, dc) = (
            distance2(p, centroids[usize::from(g)]),
            distance2(p, centroids[usize::from(c)]),
        );
        if (dg - dc).abs() > ASSIGN_TOLERANCE * dg.max(dc) + 1e-7 {
            return Err(format!("pixel {i}: gpu {g} at {dg}, cpu {c} at {dc}"));
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn luma_ink_and_histogram_match_scalar_bit_for_bit(
        (w, h, px) in raster_strategy(),
        t in any::<u8>(),
        slice in prop_oneof![Just(4usize), Just(64), Just(1 << 20)],
    ) {
        let Some(gpu) = gpu("luma_ink_and_histogram_match_scalar_bit_for_bit", slice) else {
            return Ok(());
        };
        let raster = RgbaRaster::new(w, h, &px).unwrap();
        let (mut want, mut got) = (Vec::new(), Vec::new());
        ScalarPixels.luma(&raster, &mut want).unwrap();
        gpu.luma(&raster, &mut got).unwrap();
        prop_assert_eq!(&got, &want);
        ScalarPixels.threshold(&raster, t, &mut want).unwrap();
        gpu.threshold(&raster, t, &mut got).unwrap();
        prop_assert_eq!(&got, &want);
        prop_assert_eq!(
            gpu.luma_histogram(&raster).unwrap(),
            ScalarPixels.luma_histogram(&raster).unwrap()
        );
    }

    #[test]
    fn assignment_matches_scalar_within_the_tolerance(
        (w, h, px) in raster_strategy(),
        centroids in proptest::collection::vec(
            (0.0f32..1.0, -0.3f32..0.3, -0.3f32..0.3).prop_map(|(l, a, b)| [l, a, b]),
            1..40,
        ),
        with_alpha in any::<bool>(),
        slice in prop_oneof![Just(8usize), Just(1 << 20)],
    ) {
        let Some(gpu) = gpu("assignment_matches_scalar_within_the_tolerance", slice) else {
            return Ok(());
        };
        let raster = RgbaRaster::new(w, h, &px).unwrap();
        let mut lab = LabPlanes::default();
        gpu.oklab(&raster, &mut lab).unwrap();
        let rgba = with_alpha.then_some(px.as_slice());
        let (mut want, mut got) = (vec![0u8; w * h], vec![0u8; w * h]);
        ScalarPixels.assign(&lab, rgba, &centroids, &mut want).unwrap();
        gpu.assign(&lab, rgba, &centroids, &mut got).unwrap();
        if let Err(why) = labels_agree(&got, &want, &lab, &centroids) {
            prop_assert!(false, "{}", why);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// Assignment straight from RGBA (OKLab in the shader) against scalar
    /// OKLab + assignment, with the same bound as from planes; also on
    /// images whose pixels sit exactly on centroids (distance 0).
    #[test]
    fn assignment_from_rgba_matches_scalar_within_the_tolerance(
        (w, h, px) in raster_strategy(),
        centroids in proptest::collection::vec(
            (0.0f32..1.0, -0.3f32..0.3, -0.3f32..0.3).prop_map(|(l, a, b)| [l, a, b]),
            1..40,
        ),
        on_pixels in any::<bool>(),
        slice in prop_oneof![Just(8usize), Just(1 << 20)],
    ) {
        let Some(gpu) = gpu("assignment_from_rgba_matches_scalar_within_the_tolerance", slice) else {
            return Ok(());
        };
        let raster = RgbaRaster::new(w, h, &px).unwrap();
        let mut lab = LabPlanes::default();
        ScalarPixels.oklab(&raster, &mut lab).unwrap();
        let centroids: Vec<[f32; 3]> = if on_pixels {
            (0..lab.len().min(centroids.len())).map(|i| lab.get(i)).collect()
        } else {
            centroids
        };
        let (mut want, mut got) = (vec![0u8; w * h], vec![0u8; w * h]);
        ScalarPixels.assign(&lab, Some(&px), &centroids, &mut want).unwrap();
        gpu.assign_raster(&raster, &centroids, &mut got).unwrap();
        if let Err(why) = labels_agree(&got, &want, &lab, &centroids) {
            prop_assert!(false, "{}", why);
        }
    }
}

#[test]
fn assignment_from_rgba_refuses_bad_centroids_and_label_buffers() {
    let Some(gpu) = gpu("assignment_from_rgba_refuses_bad_centroids", 1 << 20) else {
        return;
    };
    let px = vec![200u8; 16 * 4];
    let raster = RgbaRaster::new(4, 4, &px).unwrap();
    let mut labels = [7u8; 16];
    let many = vec![[0.5f32, 0.0, 0.0]; 255];
    for (centroids, labels_len) in [(&[][..], 16), (&many[..], 16), (&many[..1], 15)] {
        let mut short = vec![7u8; labels_len];
        let out = if labels_len == 16 {
            &mut labels[..]
        } else {
            &mut short[..]
        };
        let result = gpu.assign_raster(&raster, centroids, out);
        assert!(
            matches!(
                result,
                Err(vivace_vectorize::Error::InvalidParameter { .. })
            ),
            "{result:?}"
        );
        assert!(out.iter().all(|&l| l == 7), "labels written on error");
    }
}

/// Flat-colour art: nested rectangles and a disc in five colours, with a
/// transparent corner.
fn flat_art(w: usize, h: usize) -> Vec<u8> {
    let mut px = Vec::with_capacity(w * h * 4);
    for y in 0..h {
        for x in 0..w {
            let (fx, fy) = (x as f64 / w as f64, y as f64 / h as f64);
            let disc = (fx - 0.6).powi(2) + (fy - 0.5).powi(2) < 0.06;
            let c = if x < 6 && y < 6 {
                [0, 0, 0, 0]
            } else if disc {
                [220, 40, 30, 255]
            } else if (0.1..0.4).contains(&fx) && (0.2..0.8).contains(&fy) {
                [30, 90, 200, 255]
            } else if fy > 0.85 {
                [20, 20, 20, 255]
            } else if fx > 0.85 {
                [250, 210, 40, 255]
            } else {
                [245, 245, 240, 255]
            };
            px.extend_from_slice(&c);
        }
    }
    px
}

#[test]
fn tracings_on_the_gpu_equal_the_scalar_ones() {
    let Some(ctx) = GpuContext::shared_or_skip("tracings_on_the_gpu_equal_the_scalar_ones") else {
        return;
    };
    let (w, h) = (180, 120);
    let px = flat_art(w, h);
    let modes = [
        Mode::default(),
        Mode::Color(ColorOptions::default()),
        Mode::Color(ColorOptions {
            layering: Layering::Cutout,
            colors: Some(5),
            ..ColorOptions::default()
        }),
    ];
    for mode in modes {
        let config = TracerConfig {
            mode,
            ..TracerConfig::default()
        };
        let scalar = Tracer::with_kernel(config, Box::new(ScalarPixels)).unwrap();
        let on_gpu = Tracer::with_kernel(
            config,
            Box::new(GpuPixels::new(ctx.clone(), 0).with_slice_pixels(4096)),
        )
        .unwrap();
        let (want, want_svg) = scalar.trace_to_svg(w, h, &px).unwrap();
        let (got, got_svg) = on_gpu.trace_to_svg(w, h, &px).unwrap();
        assert!(!want.shapes.is_empty());
        assert_eq!(got_svg, want_svg, "{:?}", scalar.config().mode);
        assert_eq!(got, want);
    }
}

#[test]
fn calls_below_the_crossover_stay_on_the_cpu_and_the_crossover_is_measured() {
    if GpuContext::shared_or_skip("calls_below_the_crossover_stay_on_the_cpu").is_none() {
        return;
    }
    // A context of its own: the other tests compile pipelines concurrently.
    let ctx = std::sync::Arc::new(GpuContext::new().unwrap());
    let px = flat_art(64, 64);
    let raster = RgbaRaster::new(64, 64, &px).unwrap();
    // Above the size of this image: no GPU work, so no pipeline compiles.
    let gpu = GpuPixels::new(ctx.clone(), 64 * 64 + 1);
    let compiled = ctx.pipeline_stats();
    let mut luma = Vec::new();
    gpu.luma(&raster, &mut luma).unwrap();
    gpu.luma_histogram(&raster).unwrap();
    assert_eq!(ctx.pipeline_stats(), compiled);

    let crossover = gpu.measure_crossover(1 << 17).unwrap();
    let sizes: Vec<usize> = crossover.points.iter().map(|p| p.pixels).collect();
    assert_eq!(sizes, [1 << 16, 1 << 17]);
    assert!(
        crossover
            .points
            .iter()
            .all(|p| p.cpu > std::time::Duration::ZERO)
    );
    // The crossover is a measured size from which the GPU won every time.
    if let Some(n) = crossover.min_pixels {
        let from = sizes.iter().position(|&s| s == n).unwrap();
        assert!(crossover.points[from..].iter().all(|p| p.gpu < p.cpu));
    }
    println!("crossover on {}: {crossover}", ctx.adapter().name);
}

#[test]
fn bad_centroid_counts_are_typed_errors() {
    let Some(gpu) = gpu("bad_centroid_counts_are_typed_errors", 1 << 20) else {
        return;
    };
    let lab = LabPlanes {
        l: vec![0.5; 8],
        a: vec![0.0; 8],
        b: vec![0.0; 8],
    };
    let mut labels = vec![0u8; 8];
    let err = gpu
        .assign(&lab, None, &vec![[0.0; 3]; 300], &mut labels)
        .unwrap_err();
    assert!(err.to_string().contains("254"), "{err}");
}

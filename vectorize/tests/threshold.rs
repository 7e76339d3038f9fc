//! Pixel kernels and binarisation against brute-force references.

use proptest::prelude::*;
use vivace_vectorize::pixels::{ScalarPixels, available_pixel_kernels, luma_of};
use vivace_vectorize::threshold::{histogram, otsu};
use vivace_vectorize::{Error, RgbaRaster, Threshold, binarize};

fn image(w: usize, h: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..w * h * 4)
        .map(|i| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            // Mostly opaque, some fully and partly transparent pixels.
            if i % 4 == 3 {
                [255, 255, 255, 0, 100, 200][(x % 6) as usize]
            } else {
                (x >> 24) as u8
            }
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]
    /// Every SIMD kernel equals scalar bit for bit, any size (remainders).
    #[test]
    fn simd_pixels_match_scalar(w in 0usize..40, h in 0usize..6, seed in any::<u64>(), t in any::<u8>()) {
        let data = image(w, h, seed);
        let raster = RgbaRaster::new(w, h, &data).unwrap();
        let (mut want_l, mut want_i) = (Vec::new(), Vec::new());
        use vivace_vectorize::pixels::PixelKernel;
        ScalarPixels.luma(&raster, &mut want_l).unwrap();
        ScalarPixels.threshold(&raster, t, &mut want_i).unwrap();
        for k in available_pixel_kernels() {
            let (mut l, mut i) = (Vec::new(), Vec::new());
            k.luma(&raster, &mut l).unwrap();
            k.threshold(&raster, t, &mut i).unwrap();
            prop_assert_eq!(&l, &want_l, "{}", k.name());
            prop_assert_eq!(&i, &want_i, "{}", k.name());
        }
    }
}

/// Between-class variance of splitting at `t`, straight from the pixels.
fn between(pixels: &[u8], t: u8) -> f64 {
    let (lo, hi): (Vec<f64>, Vec<f64>) = {
        let lo: Vec<f64> = pixels
            .iter()
            .filter(|&&p| p < t)
            .map(|&p| f64::from(p))
            .collect();
        let hi: Vec<f64> = pixels
            .iter()
            .filter(|&&p| p >= t)
            .map(|&p| f64::from(p))
            .collect();
        (lo, hi)
    };
    if lo.is_empty() || hi.is_empty() {
        return 0.0;
    }
    let (n0, n1) = (lo.len() as f64, hi.len() as f64);
    let (m0, m1) = (lo.iter().sum::<f64>() / n0, hi.iter().sum::<f64>() / n1);
    n0 * n1 * (m0 - m1) * (m0 - m1)
}

#[test]
fn otsu_is_the_brute_force_optimum() {
    for seed in 1..20u64 {
        let data = image(31, 17, seed);
        let raster = RgbaRaster::new(31, 17, &data).unwrap();
        let mut luma = Vec::new();
        use vivace_vectorize::pixels::PixelKernel;
        ScalarPixels.luma(&raster, &mut luma).unwrap();
        let opaque: Vec<u8> = luma
            .iter()
            .zip(data.chunks_exact(4))
            .filter(|(_, p)| p[3] >= 128)
            .map(|(&l, _)| l)
            .collect();
        let t = otsu(&histogram(&luma, &raster));
        let best = (1..=255u8).map(|t| between(&opaque, t)).fold(0.0, f64::max);
        assert!(
            between(&opaque, t) >= best * (1.0 - 1e-12),
            "seed {seed}: t {t}"
        );
    }
    // Two clusters: the split falls between them.
    let mut hist = [0u64; 256];
    hist[40] = 500;
    hist[200] = 300;
    let t = otsu(&hist);
    assert!((41..=200).contains(&t), "{t}");
    assert_eq!(otsu(&[0; 256]), 0);
    let mut flat = [0u64; 256];
    flat[90] = 10;
    assert_eq!(otsu(&flat), 0);
}

/// Naive local thresholds: the window summed pixel by pixel.
fn naive_local(
    data: &[u8],
    w: usize,
    h: usize,
    window: usize,
    rule: impl Fn(u8, u64, u64, u64) -> bool,
) -> Vec<u8> {
    let half = window / 2;
    let luma: Vec<u8> = data
        .chunks_exact(4)
        .map(|p| luma_of([p[0], p[1], p[2], p[3]]))
        .collect();
    let mut out = vec![0u8; w * h];
    for y in 0..h {
        for x in 0..w {
            let (mut n, mut s, mut s2) = (0u64, 0u64, 0u64);
            for yy in y.saturating_sub(half)..(y + half + 1).min(h) {
                for xx in x.saturating_sub(half)..(x + half + 1).min(w) {
                    let v = u64::from(luma[yy * w + xx]);
                    n += 1;
                    s += v;
                    s2 += v * v;
                }
            }
            let i = y * w + x;
            out[i] = u8::from(data[i * 4 + 3] >= 128 && rule(luma[i], n, s, s2));
        }
    }
    out
}

#[test]
fn local_thresholds_match_naive_windows() {
    let (w, h) = (23, 19);
    for seed in 1..6u64 {
        let data = image(w, h, seed);
        let raster = RgbaRaster::new(w, h, &data).unwrap();
        for kernel in available_pixel_kernels() {
            let got = binarize(
                &raster,
                Threshold::BradleyRoth { window: 7, t: 0.15 },
                kernel.as_ref(),
            )
            .unwrap();
            let want = naive_local(&data, w, h, 7, |l, n, s, _| {
                (f64::from(l) * n as f64) < 0.85 * s as f64
            });
            assert_eq!(got.ink, want, "bradley, {}", kernel.name());
            let got = binarize(
                &raster,
                Threshold::Sauvola {
                    window: 9,
                    k: 0.3,
                    r: 128.0,
                },
                kernel.as_ref(),
            )
            .unwrap();
            let want = naive_local(&data, w, h, 9, |l, n, s, s2| {
                let nf = n as f64;
                let m = s as f64 / nf;
                let sd = (s2 as f64 / nf - m * m).max(0.0).sqrt();
                f64::from(l) <= m * (1.0 + 0.3 * (sd / 128.0 - 1.0))
            });
            assert_eq!(got.ink, want, "sauvola, {}", kernel.name());
        }
    }
}

#[test]
fn transparency_empty_images_and_bad_input() {
    // Transparent black is never ink, whatever the threshold.
    let px = [0u8, 0, 0, 0, 0, 0, 0, 255];
    let r = RgbaRaster::new(2, 1, &px).unwrap();
    for t in [
        Threshold::Fixed(255),
        Threshold::Otsu,
        Threshold::BradleyRoth { window: 3, t: 0.0 },
    ] {
        let b = binarize(&r, t, &ScalarPixels).unwrap();
        assert_eq!(b.ink[0], 0, "{t:?}");
    }
    assert_eq!(
        binarize(&r, Threshold::Fixed(255), &ScalarPixels)
            .unwrap()
            .ink,
        vec![0, 1]
    );
    // Empty and 1×N images.
    let empty = RgbaRaster::new(0, 5, &[]).unwrap();
    assert!(
        binarize(&empty, Threshold::Otsu, &ScalarPixels)
            .unwrap()
            .ink
            .is_empty()
    );
    let col = image(1, 9, 3);
    let r = RgbaRaster::new(1, 9, &col).unwrap();
    assert_eq!(
        binarize(
            &r,
            Threshold::Sauvola {
                window: 3,
                k: 0.2,
                r: 128.0
            },
            &ScalarPixels
        )
        .unwrap()
        .ink
        .len(),
        9
    );
    // Typed errors.
    assert!(matches!(
        RgbaRaster::new(2, 2, &[0; 15]),
        Err(Error::BufferSize {
            expected: 16,
            actual: 15,
            ..
        })
    ));
    assert!(matches!(
        RgbaRaster::with_limit(10, 10, &[0; 400], 99),
        Err(Error::TooLarge {
            pixels: 100,
            limit: 99,
            ..
        })
    ));
    assert!(matches!(
        RgbaRaster::new(usize::MAX, usize::MAX, &[]),
        Err(Error::TooLarge { .. })
    ));
    for bad in [
        Threshold::BradleyRoth { window: 4, t: 0.1 },
        Threshold::BradleyRoth { window: 5, t: 1.0 },
        Threshold::Sauvola {
            window: 1,
            k: 0.2,
            r: 128.0,
        },
        Threshold::Sauvola {
            window: 5,
            k: f64::NAN,
            r: 128.0,
        },
        Threshold::Sauvola {
            window: 5,
            k: 0.2,
            r: 0.0,
        },
    ] {
        assert!(
            matches!(
                binarize(&empty, bad, &ScalarPixels),
                Err(Error::InvalidParameter { .. })
            ),
            "{bad:?}"
        );
    }
}

#[test]
fn selection_honours_the_preference() {
    use vivace_backend::{BackendKind, Preference};
    use vivace_vectorize::pixels::select_pixel_kernel;
    assert_eq!(
        select_pixel_kernel(Preference::Scalar).unwrap().kind,
        BackendKind::Scalar
    );
    // Forced GPU: the GPU kernel where the build and the machine have one.
    match select_pixel_kernel(Preference::Gpu) {
        Ok(s) => assert_eq!(s.kind, BackendKind::Gpu),
        Err(e) => assert!(
            !cfg!(feature = "gpu") || !vivace_gpu_compute::gpu_required(),
            "VIVACE_REQUIRE_GPU=1 but: {e}"
        ),
    }
    // Auto never takes the GPU without calibration, and says why.
    let auto = select_pixel_kernel(Preference::Auto).unwrap();
    assert_ne!(auto.kind, BackendKind::Gpu);
    assert!(
        auto.skipped[0]
            .to_string()
            .contains("calibrate_pixel_kernel"),
        "{}",
        auto.skipped[0]
    );
}

mod tracing {
    use vivace_vectorize::BinaryImage;
    use vivace_vectorize::trace::{Path, TraceOptions, TurnPolicy, trace};

    fn random_bitmap(w: usize, h: usize, seed: u64, density: u64) -> BinaryImage {
        let mut x = seed | 1;
        let ink = (0..w * h)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                u8::from(x % 100 < density)
            })
            .collect();
        BinaryImage {
            width: w,
            height: h,
            ink,
        }
    }

    /// Expands the corner list back to unit steps and fills by the even-odd
    /// rule at pixel centres: an independent check that the paths describe
    /// exactly the bitmap.
    fn rasterize(paths: &[Path], w: usize, h: usize) -> Vec<u8> {
        let mut crossings = vec![0u32; w * h];
        for p in paths {
            let n = p.points.len();
            for i in 0..n {
                let (a, b) = (p.points[i], p.points[(i + 1) % n]);
                assert!(a.0 == b.0 || a.1 == b.1, "diagonal segment {a:?} -> {b:?}");
                if a.0 == b.0 {
                    // Vertical edge at x = a.0: it toggles every pixel centre
                    // to its right on the rows it spans.
                    let (y0, y1) = (a.1.min(b.1), a.1.max(b.1));
                    for y in y0..y1 {
                        for x in a.0.max(0)..w as i32 {
                            crossings[y as usize * w + x as usize] ^= 1;
                        }
                    }
                }
            }
        }
        crossings.into_iter().map(|c| c as u8).collect()
    }

    #[test]
    fn traced_paths_fill_back_to_the_exact_bitmap() {
        for seed in 1..40u64 {
            let (w, h) = (1 + (seed as usize * 7) % 23, 1 + (seed as usize * 5) % 17);
            let image = random_bitmap(w, h, seed, 20 + seed % 60);
            for policy in [
                TurnPolicy::Minority,
                TurnPolicy::JoinInk,
                TurnPolicy::SplitInk,
            ] {
                let paths = trace(
                    &image,
                    &TraceOptions {
                        turn_policy: policy,
                        min_area: 0,
                    },
                );
                assert_eq!(rasterize(&paths, w, h), image.ink, "seed {seed} {policy:?}");
                let total: i64 = paths.iter().map(|p| p.area).sum();
                assert_eq!(
                    total,
                    image.ink_count() as i64,
                    "signed areas add up to the ink"
                );
            }
        }
    }

    #[test]
    fn shapes_holes_saddles_and_specks() {
        // Ring: outline + hole.
        let ring = BinaryImage {
            width: 3,
            height: 3,
            ink: vec![1, 1, 1, 1, 0, 1, 1, 1, 1],
        };
        let paths = trace(&ring, &TraceOptions::default());
        assert_eq!(paths.len(), 2);
        assert_eq!(paths.iter().filter(|p| p.is_hole()).count(), 1);
        assert_eq!(
            paths.iter().find(|p| !p.is_hole()).unwrap().points,
            vec![(0, 0), (0, 3), (3, 3), (3, 0)]
        );
        // Diagonal pair: joined (one path) or split (two).
        let diag = BinaryImage {
            width: 2,
            height: 2,
            ink: vec![1, 0, 0, 1],
        };
        assert_eq!(
            trace(
                &diag,
                &TraceOptions {
                    turn_policy: TurnPolicy::JoinInk,
                    min_area: 0
                }
            )
            .len(),
            1
        );
        assert_eq!(
            trace(
                &diag,
                &TraceOptions {
                    turn_policy: TurnPolicy::SplitInk,
                    min_area: 0
                }
            )
            .len(),
            2
        );
        // Minority: a diagonal pair of ink pixels on a light ground joins
        // (one path); the same saddle made by two background pixels inside
        // a dark area joins the background instead (one hole, not two).
        let minority = TraceOptions {
            turn_policy: TurnPolicy::Minority,
            min_area: 0,
        };
        let mut light = vec![0u8; 8 * 8];
        (light[3 * 8 + 3], light[4 * 8 + 4]) = (1, 1);
        let light = BinaryImage {
            width: 8,
            height: 8,
            ink: light,
        };
        assert_eq!(trace(&light, &minority).len(), 1);
        let dark = BinaryImage {
            width: 8,
            height: 8,
            ink: light.ink.iter().map(|&v| 1 - v).collect(),
        };
        let paths = trace(&dark, &minority);
        assert_eq!(paths.iter().filter(|p| p.is_hole()).count(), 1);
        assert_eq!(paths.len(), 2);
        let join = TraceOptions {
            turn_policy: TurnPolicy::JoinInk,
            min_area: 0,
        };
        assert_eq!(trace(&dark, &join).len(), 3, "joined ink splits the hole");
        // Speckle removal: a lone pixel beside a 3×3 block.
        let mut ink = vec![0u8; 6 * 3];
        for y in 0..3 {
            for x in 0..3 {
                ink[y * 6 + x] = 1;
            }
        }
        ink[5] = 1;
        let img = BinaryImage {
            width: 6,
            height: 3,
            ink,
        };
        assert_eq!(trace(&img, &TraceOptions::default()).len(), 2);
        let kept = trace(
            &img,
            &TraceOptions {
                min_area: 2,
                ..TraceOptions::default()
            },
        );
        assert_eq!(kept.len(), 1);
        assert_eq!(kept[0].area, 9);
        // Empty and all-ink images.
        assert!(trace(&BinaryImage::default(), &TraceOptions::default()).is_empty());
        let full = BinaryImage {
            width: 4,
            height: 1,
            ink: vec![1; 4],
        };
        assert_eq!(
            trace(&full, &TraceOptions::default())[0].points,
            vec![(0, 0), (0, 1), (4, 1), (4, 0)]
        );
    }
}

/// Where the architecture has a SIMD pixel kernel it is among the kernels
/// the other tests compare (a silently missing level would go untested).
#[test]
fn the_architectures_simd_kernel_is_available() {
    let names: Vec<String> = available_pixel_kernels().iter().map(|k| k.name()).collect();
    let expected = if cfg!(any(target_arch = "x86", target_arch = "x86_64")) {
        Some("SSE4.1")
    } else if cfg!(target_arch = "aarch64") {
        Some("NEON")
    } else {
        None
    };
    if let Some(level) = expected {
        assert!(
            names.iter().any(|n| n.contains(level)),
            "no {level} pixel kernel among {names:?}"
        );
    }
}

//! The colour pixel stages on every backend against scalar, on random
//! inputs: OKLab planes and k-means labels must be identical (bit for bit),
//! and scalar OKLab must match an f64 reference.

use proptest::prelude::*;
use vivace_vectorize::RgbaRaster;
use vivace_vectorize::oklab::{LabPlanes, TRANSPARENT, oklab_of};
use vivace_vectorize::pixels::{ScalarPixels, available_pixel_kernels};

/// OKLab in f64 from the published matrices.
fn reference(p: [u8; 4]) -> [f64; 3] {
    let lin = |v: u8| {
        let c = f64::from(v) / 255.0;
        if c <= 0.04045 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    };
    let (r, g, b) = (lin(p[0]), lin(p[1]), lin(p[2]));
    let l = (0.4122214708 * r + 0.5363325363 * g + 0.0514459929 * b).cbrt();
    let m = (0.2119034982 * r + 0.6806995451 * g + 0.1073969566 * b).cbrt();
    let s = (0.0883024619 * r + 0.2817188376 * g + 0.6299787005 * b).cbrt();
    [
        0.2104542553 * l + 0.7936177850 * m - 0.0040720468 * s,
        1.9779984951 * l - 2.4285922050 * m + 0.4505937099 * s,
        0.0259040371 * l + 0.7827717662 * m - 0.8086757660 * s,
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn oklab_and_assignment_match_scalar_bit_for_bit(
        (w, h, px) in (1usize..40, 1usize..12).prop_flat_map(|(w, h)| {
            (Just(w), Just(h), proptest::collection::vec(any::<u8>(), w * h * 4))
        }),
        centroids in proptest::collection::vec(
            (0.0f32..1.0, -0.3f32..0.3, -0.3f32..0.3).prop_map(|(l, a, b)| [l, a, b]),
            1..40,
        ),
    ) {
        let raster = RgbaRaster::new(w, h, &px).unwrap();
        let mut want = LabPlanes::default();
        use vivace_vectorize::oklab::ColorKernel;
        ScalarPixels.oklab(&raster, &mut want).unwrap();
        let mut want_labels = vec![0u8; w * h];
        ScalarPixels.assign(&want, Some(&px), &centroids, &mut want_labels).unwrap();
        for k in available_pixel_kernels() {
            let mut got = LabPlanes::default();
            k.oklab(&raster, &mut got).unwrap();
            for plane in 0..3 {
                let (g, x) = match plane {
                    0 => (&got.l, &want.l),
                    1 => (&got.a, &want.a),
                    _ => (&got.b, &want.b),
                };
                prop_assert!(g.iter().zip(x).all(|(a, b)| a.to_bits() == b.to_bits()), "{} plane {plane}", k.name());
            }
            let mut labels = vec![0u8; w * h];
            k.assign(&got, Some(&px), &centroids, &mut labels).unwrap();
            prop_assert_eq!(&labels, &want_labels, "{}", k.name());
            let mut from_rgba = vec![0u8; w * h];
            k.assign_raster(&raster, &centroids, &mut from_rgba).unwrap();
            prop_assert_eq!(&from_rgba, &want_labels, "{} from RGBA", k.name());
        }
        for p in px.chunks_exact(4) {
            let p = [p[0], p[1], p[2], p[3]];
            let (got, want) = (oklab_of(p), reference(p));
            for c in 0..3 {
                prop_assert!((f64::from(got[c]) - want[c]).abs() < 2e-6, "{p:?}: {got:?} vs {want:?}");
            }
        }
    }
}

/// Assignment from RGBA over an image of several parallel chunks (30,000
/// pixels; chunks of 16,384) equals OKLab planes then assignment, on every
/// CPU kernel.
#[test]
fn assignment_from_rgba_across_chunks_equals_planes_then_assignment() {
    let (w, h) = (300, 100);
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    let px: Vec<u8> = (0..w * h * 4)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 32) as u8
        })
        .collect();
    let raster = RgbaRaster::new(w, h, &px).unwrap();
    let centroids: Vec<[f32; 3]> = (0..16)
        .map(|k| {
            let t = k as f32 / 15.0;
            [t, 0.2 * t - 0.1, 0.1 - 0.2 * t]
        })
        .collect();
    for k in available_pixel_kernels() {
        let mut lab = LabPlanes::default();
        k.oklab(&raster, &mut lab).unwrap();
        let (mut want, mut got) = (vec![0u8; w * h], vec![0u8; w * h]);
        k.assign(&lab, Some(&px), &centroids, &mut want).unwrap();
        k.assign_raster(&raster, &centroids, &mut got).unwrap();
        assert_eq!(got, want, "{}", k.name());
        assert!(want.contains(&TRANSPARENT) && want.iter().any(|&l| l != TRANSPARENT));
    }
}

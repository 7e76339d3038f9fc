//! N-body kernels against independent references, and the physics they
//! must conserve.

use proptest::prelude::*;
use vivace_backend::SimdLevel;
use vivace_particles::{
    Accelerations, BarnesHut, Bodies, Body, Gravity, GravityKernel, ScalarDirect, SimdDirect,
    Simulation, ThreadedScalarDirect, ic, select_direct,
};

/// Accelerations in f64, pair by pair: the independent reference.
fn reference(bodies: &Bodies, g: f64, eps: f64) -> Vec<[f64; 3]> {
    let n = bodies.len();
    let f = |v: &[f32], i: usize| f64::from(v[i]);
    (0..n)
        .map(|i| {
            let mut a = [0.0; 3];
            for j in 0..n {
                let d = [
                    f(&bodies.x, j) - f(&bodies.x, i),
                    f(&bodies.y, j) - f(&bodies.y, i),
                    f(&bodies.z, j) - f(&bodies.z, i),
                ];
                let r2 = d[0] * d[0] + d[1] * d[1] + d[2] * d[2] + eps * eps;
                let s = g * f(&bodies.m, j) / (r2 * r2.sqrt());
                for k in 0..3 {
                    a[k] += s * d[k];
                }
            }
            a
        })
        .collect()
}

/// Relative error of each body's acceleration against the reference.
fn errors(acc: &Accelerations, reference: &[[f64; 3]]) -> Vec<f64> {
    reference
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let d = [
                f64::from(acc.ax[i]) - r[0],
                f64::from(acc.ay[i]) - r[1],
                f64::from(acc.az[i]) - r[2],
            ];
            let norm = (r[0] * r[0] + r[1] * r[1] + r[2] * r[2]).sqrt();
            (d[0] * d[0] + d[1] * d[1] + d[2] * d[2]).sqrt() / norm.max(1e-30)
        })
        .collect()
}

fn percentile(mut v: Vec<f64>, p: f64) -> f64 {
    v.sort_by(f64::total_cmp);
    v[((p / 100.0 * v.len() as f64).ceil() as usize).clamp(1, v.len()) - 1]
}

fn kernels() -> Vec<Box<dyn GravityKernel>> {
    let mut all: Vec<Box<dyn GravityKernel>> =
        vec![Box::new(ScalarDirect), Box::new(ThreadedScalarDirect)];
    for level in [SimdLevel::Avx2Fma, SimdLevel::Sse41] {
        if let Ok(k) = SimdDirect::new(level) {
            all.push(Box::new(k));
        }
        if let Ok(k) = SimdDirect::threaded(level) {
            all.push(Box::new(k));
        }
    }
    all
}

#[test]
fn every_direct_kernel_matches_the_f64_reference() {
    // Tolerance: 2e-5 relative (f32 sums of ~1,000 terms; rsqrt + one Newton
    // step is good to ~1e-7 per term).
    let gravity = Gravity::new(1.3, 0.01).unwrap();
    for n in [1, 2, 3, 7, 8, 9, 17, 255, 256, 257, 1000] {
        let bodies = ic::plummer(n, n as u64).unwrap();
        let expected = reference(&bodies, 1.3, 0.01);
        for mut kernel in kernels() {
            let mut acc = Accelerations::default();
            kernel.accelerations(&bodies, &gravity, &mut acc).unwrap();
            let worst = errors(&acc, &expected).into_iter().fold(0.0, f64::max);
            // A lone body feels nothing: its "relative" error is 0/0.
            if n > 1 {
                assert!(
                    worst < 2e-5,
                    "{} n={n}: worst relative error {worst:e}",
                    kernel.name()
                );
            } else {
                assert_eq!((acc.ax[0], acc.ay[0], acc.az[0]), (0.0, 0.0, 0.0));
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    /// SIMD (single and threaded) against scalar on random bodies; the same
    /// 2e-5 relative tolerance, measured against scalar's own magnitude.
    #[test]
    fn simd_matches_scalar_on_random_bodies(
        raw in prop::collection::vec((-10f32..10.0, -10f32..10.0, -10f32..10.0, 0f32..5.0), 1..300),
        eps in 0.001f32..1.0,
    ) {
        let list: Vec<Body> = raw.iter().map(|&(x, y, z, m)| Body { pos: [x, y, z], vel: [0.0; 3], mass: m }).collect();
        let bodies = Bodies::from_bodies(&list).unwrap();
        let gravity = Gravity::new(1.0, eps).unwrap();
        let mut expected = Accelerations::default();
        ScalarDirect.accelerations(&bodies, &gravity, &mut expected).unwrap();
        let scale: f32 = bodies.m.iter().sum::<f32>() / (eps * eps);
        for mut kernel in kernels() {
            let mut acc = Accelerations::default();
            kernel.accelerations(&bodies, &gravity, &mut acc).unwrap();
            for i in 0..bodies.len() {
                for (a, e) in [(acc.ax[i], expected.ax[i]), (acc.ay[i], expected.ay[i]), (acc.az[i], expected.az[i])] {
                    prop_assert!((a - e).abs() <= 2e-5 * (e.abs() + 1e-3 * scale), "{} body {i}: {a} vs {e}", kernel.name());
                }
            }
        }
    }
}

#[test]
fn plummer_energy_drift_stays_below_1e_minus_3_over_1000_steps() {
    let bodies = ic::plummer(1000, 42).unwrap();
    let kernel = select_direct(vivace_backend::Preference::Auto, 1000)
        .unwrap()
        .backend;
    let initial = bodies.clone();
    let mut sim = Simulation::new(bodies, kernel, Gravity::new(1.0, 0.05).unwrap()).unwrap();
    let start = sim.diagnostics();
    // Plummer in N-body units: E ≈ −1/4 (a little higher with softening).
    assert!(
        (start.total_energy() + 0.25).abs() < 0.03,
        "E0 = {}",
        start.total_energy()
    );
    sim.run(1000, 1.0 / 256.0).unwrap();
    let end = sim.diagnostics();
    let drift = ((end.total_energy() - start.total_energy()) / start.total_energy()).abs();
    let moved: f32 = (0..1000)
        .map(|i| (sim.bodies().x[i] - initial.x[i]).abs())
        .sum::<f32>()
        / 1000.0;
    println!(
        "|ΔE/E| after 1000 steps of a 1000-body Plummer sphere: {drift:e} (mean |Δx| {moved})"
    );
    // t ≈ 3.9 ≈ 1.4 crossing times: the bodies really moved.
    assert!(moved > 0.1, "{moved}");
    assert!(drift < 1e-3, "{drift}");
    // Momentum and angular momentum: round-off only.
    let mass_speed: f64 = (0..1000)
        .map(|i| {
            let b = sim.bodies().get(i);
            f64::from(b.mass) * f64::from(b.vel.iter().map(|v| v * v).sum::<f32>().sqrt())
        })
        .sum();
    for k in 0..3 {
        let dp = (end.momentum[k] - start.momentum[k]).abs();
        assert!(
            dp < 1e-5 * mass_speed,
            "momentum {k} moved by {dp:e} (Σm|v| = {mass_speed})"
        );
        let dl = (end.angular_momentum[k] - start.angular_momentum[k]).abs();
        assert!(
            dl < 1e-4 * mass_speed,
            "angular momentum {k} moved by {dl:e}"
        );
    }
}

#[test]
fn barnes_hut_is_within_1e_minus_2_at_theta_half() {
    let bodies = ic::plummer(20_000, 9).unwrap();
    let gravity = Gravity::new(1.0, 0.01).unwrap();
    let mut exact = Accelerations::default();
    SimdDirect::best(true)
        .map(|k| Box::new(k) as Box<dyn GravityKernel>)
        .unwrap_or_else(|_| Box::new(ThreadedScalarDirect))
        .accelerations(&bodies, &gravity, &mut exact)
        .unwrap();
    let as_f64: Vec<[f64; 3]> = (0..bodies.len())
        .map(|i| [exact.ax[i], exact.ay[i], exact.az[i]].map(f64::from))
        .collect();
    for theta in [0.3f32, 0.5, 0.7] {
        let mut bh = BarnesHut::new(theta).unwrap();
        let mut acc = Accelerations::default();
        bh.accelerations(&bodies, &gravity, &mut acc).unwrap();
        let e = errors(&acc, &as_f64);
        let (p50, p99) = (percentile(e.clone(), 50.0), percentile(e, 99.0));
        println!(
            "Barnes-Hut θ={theta}: relative force error p50 {p50:.2e}, p99 {p99:.2e} ({} nodes)",
            bh.node_count()
        );
        if theta == 0.5 {
            assert!(p99 < 1e-2, "p99 {p99}");
        }
    }
}

#[test]
fn bad_input_is_an_error() {
    assert!(Gravity::new(1.0, 0.0).is_err());
    assert!(Gravity::new(f32::NAN, 0.1).is_err());
    assert!(BarnesHut::new(0.0).is_err());
    let bad = [Body {
        pos: [0.0, f32::NAN, 0.0],
        vel: [0.0; 3],
        mass: 1.0,
    }];
    assert!(Bodies::from_bodies(&bad).is_err());
    let negative = [Body {
        pos: [0.0; 3],
        vel: [0.0; 3],
        mass: -1.0,
    }];
    assert!(Bodies::from_bodies(&negative).is_err());
    let mut ragged = ic::plummer(10, 1).unwrap();
    ragged.x.pop();
    let mut acc = Accelerations::default();
    for mut k in kernels() {
        assert!(
            k.accelerations(&ragged, &Gravity::new(1.0, 0.1).unwrap(), &mut acc)
                .is_err()
        );
    }
    let sim = Simulation::new(
        ic::plummer(10, 1).unwrap(),
        ScalarDirect,
        Gravity::new(1.0, 0.1).unwrap(),
    );
    assert!(sim.unwrap().step(0.0).is_err());
}

#[test]
fn initial_conditions_are_reproducible_and_centred() {
    for make in [ic::plummer, ic::uniform_cube, ic::rotating_disc] {
        let a = make(500, 3).unwrap();
        assert_eq!(a, make(500, 3).unwrap());
        assert_ne!(a, make(500, 4).unwrap());
        let d = vivace_particles::Diagnostics::measure(&a, 1.0, 0.05);
        assert!(
            d.momentum.iter().all(|p| p.abs() < 1e-5),
            "{:?}",
            d.momentum
        );
        assert!((a.m.iter().map(|&m| f64::from(m)).sum::<f64>() - 1.0).abs() < 1e-4);
    }
    assert!(ic::plummer(0, 1).is_err());
    // The disc rotates counter-clockwise about +z.
    let disc = ic::rotating_disc(500, 3).unwrap();
    assert!(vivace_particles::Diagnostics::measure(&disc, 1.0, 0.05).angular_momentum[2] > 0.0);
}

#[test]
fn csv_round_trips_and_names_bad_lines() {
    let bodies = ic::plummer(50, 8).unwrap();
    let text = bodies.to_csv();
    assert_eq!(Bodies::from_csv(&text).unwrap(), bodies);
    let cases = [
        ("", 1, "empty"),
        ("x,y,z\n", 1, "header"),
        ("x,y,z,vx,vy,vz,m\n1,2,3,4,5,6\n", 2, "7 fields"),
        (
            "x,y,z,vx,vy,vz,m\n1,2,3,4,5,6,1\n1,2,oops,4,5,6,1\n",
            3,
            "not a number",
        ),
        ("x,y,z,vx,vy,vz,m\n1,2,NaN,4,5,6,1\n", 2, "finite"),
        ("x,y,z,vx,vy,vz,m\n\n1,2,3,4,5,6,-1\n", 3, "mass"),
        ("x,y,z,vx,vy,vz,m\n", 2, "no bodies"),
    ];
    for (text, line, words) in cases {
        match Bodies::from_csv(text) {
            Err(vivace_particles::Error::Csv { line: l, reason }) => {
                assert_eq!(l, line, "{text:?}: {reason}");
                assert!(reason.contains(words), "{text:?}: {reason}");
            }
            other => panic!("{text:?}: expected a CSV error, got {other:?}"),
        }
    }
}

#[cfg(feature = "gpu")]
#[test]
fn gpu_direct_matches_the_f64_reference() {
    use vivace_particles::GpuDirect;
    let Some(ctx) =
        vivace_gpu_compute::GpuContext::shared_or_skip("gpu_direct_matches_the_f64_reference")
    else {
        return;
    };
    let mut gpu = GpuDirect::new(ctx);
    let gravity = Gravity::new(1.3, 0.01).unwrap();
    // Around the 256-body tile and past one workgroup row.
    for n in [1, 2, 255, 256, 257, 1000, 3000] {
        let bodies = ic::plummer(n, n as u64).unwrap();
        let mut acc = Accelerations::default();
        gpu.accelerations(&bodies, &gravity, &mut acc).unwrap();
        if n > 1 {
            let worst = errors(&acc, &reference(&bodies, 1.3, 0.01))
                .into_iter()
                .fold(0.0, f64::max);
            assert!(worst < 2e-5, "n={n}: {worst:e}");
        }
    }
    // A steady run creates no GPU buffers after the first step.
    let bodies = ic::plummer(2000, 5).unwrap();
    let mut acc = Accelerations::default();
    gpu.accelerations(&bodies, &gravity, &mut acc).unwrap();
    let created = gpu.context().pool_stats().created;
    for _ in 0..5 {
        gpu.accelerations(&bodies, &gravity, &mut acc).unwrap();
    }
    assert_eq!(gpu.context().pool_stats().created, created);
}

#[test]
fn barnes_hut_on_a_single_leaf_is_the_direct_sum() {
    let gravity = Gravity::new(1.0, 0.01).unwrap();
    for n in [1, 2, 5, 8] {
        let bodies = ic::plummer(n, 3).unwrap();
        let mut bh = BarnesHut::new(0.5).unwrap();
        let (mut a, mut b) = (Accelerations::default(), Accelerations::default());
        bh.accelerations(&bodies, &gravity, &mut a).unwrap();
        ScalarDirect
            .accelerations(&bodies, &gravity, &mut b)
            .unwrap();
        assert_eq!(bh.node_count(), 1);
        for i in 0..n {
            assert!(
                (a.ax[i] - b.ax[i]).abs() <= 1e-5 * (1.0 + b.ax[i].abs()),
                "n={n}"
            );
        }
    }
}

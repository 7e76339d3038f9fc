//! Seeded, reproducible initial conditions.

use crate::{Bodies, Body, Error};

/// SplitMix64: small, fast, and the same stream on every platform.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator for `seed`.
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }
    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in (0, 1).
    pub fn unit(&mut self) -> f64 {
        ((self.next_u64() >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }
    /// A uniformly random unit vector.
    pub fn direction(&mut self) -> [f64; 3] {
        let z = 2.0 * self.unit() - 1.0;
        let phi = std::f64::consts::TAU * self.unit();
        let s = (1.0 - z * z).max(0.0).sqrt();
        [s * phi.cos(), s * phi.sin(), z]
    }
}

fn check_count(n: usize) -> Result<(), Error> {
    if n == 0 {
        return Err(Error::invalid("body count", "must be at least 1"));
    }
    Ok(())
}

/// Shifts positions and velocities to the centre-of-mass frame.
fn to_centre_of_mass(list: &mut [([f64; 3], [f64; 3], f64)]) {
    let total: f64 = list.iter().map(|b| b.2).sum();
    if total <= 0.0 {
        return;
    }
    for k in 0..3 {
        let pos = list.iter().map(|b| b.0[k] * b.2).sum::<f64>() / total;
        let vel = list.iter().map(|b| b.1[k] * b.2).sum::<f64>() / total;
        for b in list.iter_mut() {
            b.0[k] -= pos;
            b.1[k] -= vel;
        }
    }
}

fn to_bodies(list: &[([f64; 3], [f64; 3], f64)]) -> Bodies {
    let mut bodies = Bodies::with_capacity(list.len());
    for (p, v, m) in list {
        bodies.push(Body {
            pos: p.map(|c| c as f32),
            vel: v.map(|c| c as f32),
            mass: *m as f32,
        });
    }
    bodies
}

/// A Plummer sphere of `n` equal masses in N-body units (G = 1, total mass
/// 1, total energy −1/4, scale radius 3π/16), sampled as in Aarseth, Hénon
/// & Wielen (1974), radii truncated at 10 scale radii, in the
/// centre-of-mass frame.
pub fn plummer(n: usize, seed: u64) -> Result<Bodies, Error> {
    check_count(n)?;
    let mut rng = Rng::new(seed);
    let scale = 3.0 * std::f64::consts::PI / 16.0;
    let mass = 1.0 / n as f64;
    let mut list = Vec::with_capacity(n);
    while list.len() < n {
        let x = rng.unit();
        let r = 1.0 / (x.powf(-2.0 / 3.0) - 1.0).sqrt();
        if r > 10.0 {
            continue;
        }
        // Speed as a fraction q of the escape speed, from g(q) = q²(1 − q²)^3.5.
        let q = loop {
            let (q, y) = (rng.unit(), 0.1 * rng.unit());
            if y < q * q * (1.0 - q * q).powf(3.5) {
                break q;
            }
        };
        let speed = q * std::f64::consts::SQRT_2 * (1.0 + r * r).powf(-0.25);
        let (dp, dv) = (rng.direction(), rng.direction());
        list.push((
            dp.map(|c| c * r * scale),
            dv.map(|c| c * speed / scale.sqrt()),
            mass,
        ));
    }
    to_centre_of_mass(&mut list);
    Ok(to_bodies(&list))
}

/// `n` equal masses (total 1) at rest, uniform in the cube [−1, 1]³ (a cold
/// collapse).
pub fn uniform_cube(n: usize, seed: u64) -> Result<Bodies, Error> {
    check_count(n)?;
    let mut rng = Rng::new(seed);
    let mass = 1.0 / n as f64;
    let mut list: Vec<_> = (0..n)
        .map(|_| {
            let p = [0; 3].map(|_| 2.0 * rng.unit() - 1.0);
            (p, [0.0; 3], mass)
        })
        .collect();
    to_centre_of_mass(&mut list);
    Ok(to_bodies(&list))
}

/// A central mass of 0.5 and `n − 1` bodies (total mass 0.5) in a thin
/// uniform disc of radius 1 in the xy-plane, each on a circular orbit for
/// the mass inside its radius (counter-clockwise seen from +z).
pub fn rotating_disc(n: usize, seed: u64) -> Result<Bodies, Error> {
    check_count(n)?;
    let mut rng = Rng::new(seed);
    let (central, disc_mass) = (0.5, 0.5);
    let mut list = vec![([0.0; 3], [0.0; 3], if n == 1 { 1.0 } else { central })];
    let mass = disc_mass / (n.max(2) - 1) as f64;
    for _ in 1..n {
        let r = rng.unit().sqrt().max(0.05);
        let phi = std::f64::consts::TAU * rng.unit();
        let z = 0.01 * (2.0 * rng.unit() - 1.0);
        let enclosed = central + disc_mass * r * r;
        let v = (enclosed / r).sqrt();
        list.push((
            [r * phi.cos(), r * phi.sin(), z],
            [-v * phi.sin(), v * phi.cos(), 0.0],
            mass,
        ));
    }
    to_centre_of_mass(&mut list);
    Ok(to_bodies(&list))
}

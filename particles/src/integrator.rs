//! Kick-drift-kick leapfrog.

use crate::error::check_positive;
use crate::{Accelerations, Bodies, Error, Gravity, GravityKernel};

/// An N-body system advanced by kick-drift-kick leapfrog (symplectic,
/// second order, time-reversible) with any [`GravityKernel`].
///
/// ```
/// use vivace_particles::{ic, Gravity, ScalarDirect, Simulation};
/// let bodies = ic::plummer(64, 1).unwrap();
/// let mut sim = Simulation::new(bodies, ScalarDirect, Gravity::new(1.0, 0.05).unwrap()).unwrap();
/// let before = sim.diagnostics().total_energy();
/// sim.run(100, 1.0 / 256.0).unwrap();
/// let after = sim.diagnostics().total_energy();
/// assert!(((after - before) / before).abs() < 1e-3);
/// ```
#[derive(Debug)]
pub struct Simulation<K: GravityKernel> {
    bodies: Bodies,
    acc: Accelerations,
    kernel: K,
    gravity: Gravity,
    /// Whether `acc` holds the accelerations of the current positions.
    fresh: bool,
    steps: u64,
}

impl<K: GravityKernel> Simulation<K> {
    /// A simulation of `bodies` (validated).
    pub fn new(bodies: Bodies, kernel: K, gravity: Gravity) -> Result<Self, Error> {
        bodies.validate()?;
        let n = bodies.len();
        Ok(Simulation {
            bodies,
            acc: Accelerations::zeros(n),
            kernel,
            gravity,
            fresh: false,
            steps: 0,
        })
    }

    /// One step of length `dt` (> 0): half kick, drift, new forces, half
    /// kick. Forces are computed once per step (the closing half kick's
    /// forces open the next step).
    pub fn step(&mut self, dt: f32) -> Result<(), Error> {
        check_positive("dt", f64::from(dt))?;
        if !self.fresh {
            self.kernel
                .accelerations(&self.bodies, &self.gravity, &mut self.acc)?;
            self.fresh = true;
        }
        let half = 0.5 * dt;
        let b = &mut self.bodies;
        kick(&mut b.vx, &self.acc.ax, half);
        kick(&mut b.vy, &self.acc.ay, half);
        kick(&mut b.vz, &self.acc.az, half);
        kick(&mut b.x, &b.vx, dt);
        kick(&mut b.y, &b.vy, dt);
        kick(&mut b.z, &b.vz, dt);
        self.fresh = false;
        self.kernel
            .accelerations(&self.bodies, &self.gravity, &mut self.acc)?;
        self.fresh = true;
        let b = &mut self.bodies;
        kick(&mut b.vx, &self.acc.ax, half);
        kick(&mut b.vy, &self.acc.ay, half);
        kick(&mut b.vz, &self.acc.az, half);
        self.steps += 1;
        Ok(())
    }

    /// `steps` steps of `dt`.
    pub fn run(&mut self, steps: u64, dt: f32) -> Result<(), Error> {
        for _ in 0..steps {
            self.step(dt)?;
        }
        Ok(())
    }

    /// The bodies now.
    pub fn bodies(&self) -> &Bodies {
        &self.bodies
    }

    /// Takes the bodies out.
    pub fn into_bodies(self) -> Bodies {
        self.bodies
    }

    /// The force kernel.
    pub fn kernel(&self) -> &K {
        &self.kernel
    }

    /// Steps taken.
    pub fn steps(&self) -> u64 {
        self.steps
    }

    /// Energy and momenta now (f64, exact O(N²) potential).
    pub fn diagnostics(&self) -> crate::Diagnostics {
        crate::Diagnostics::measure(
            &self.bodies,
            f64::from(self.gravity.g),
            f64::from(self.gravity.softening),
        )
    }
}

/// `v += a · dt`, elementwise.
fn kick(v: &mut [f32], a: &[f32], dt: f32) {
    for (v, a) in v.iter_mut().zip(a) {
        *v += a * dt;
    }
}

//! Conserved quantities, in f64.

use rayon::prelude::*;

use crate::Bodies;

/// Energy and momenta of a system.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Diagnostics {
    /// Σ ½ m v².
    pub kinetic: f64,
    /// −G Σ_{i<j} m_i m_j / √(r² + ε²): the potential of the softened force.
    pub potential: f64,
    /// Σ m v.
    pub momentum: [f64; 3],
    /// Σ m r × v.
    pub angular_momentum: [f64; 3],
}

impl Diagnostics {
    /// Kinetic plus potential energy.
    pub fn total_energy(&self) -> f64 {
        self.kinetic + self.potential
    }

    /// Computes every quantity (the potential is an exact O(N²) sum,
    /// parallel over bodies).
    pub fn measure(bodies: &Bodies, g: f64, softening: f64) -> Self {
        let n = bodies.len();
        let eps2 = softening * softening;
        let f = |v: &[f32], i: usize| f64::from(v[i]);
        let mut kinetic = 0.0;
        let mut momentum = [0.0; 3];
        let mut angular = [0.0; 3];
        for i in 0..n {
            let m = f(&bodies.m, i);
            let (p, v) = (
                [f(&bodies.x, i), f(&bodies.y, i), f(&bodies.z, i)],
                [f(&bodies.vx, i), f(&bodies.vy, i), f(&bodies.vz, i)],
            );
            kinetic += 0.5 * m * (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]);
            for k in 0..3 {
                momentum[k] += m * v[k];
            }
            angular[0] += m * (p[1] * v[2] - p[2] * v[1]);
            angular[1] += m * (p[2] * v[0] - p[0] * v[2]);
            angular[2] += m * (p[0] * v[1] - p[1] * v[0]);
        }
        let potential: f64 = (0..n)
            .into_par_iter()
            .map(|i| {
                let (xi, yi, zi, mi) = (
                    f(&bodies.x, i),
                    f(&bodies.y, i),
                    f(&bodies.z, i),
                    f(&bodies.m, i),
                );
                let mut sum = 0.0;
                for j in i + 1..n {
                    let (dx, dy, dz) = (
                        f(&bodies.x, j) - xi,
                        f(&bodies.y, j) - yi,
                        f(&bodies.z, j) - zi,
                    );
                    sum += f(&bodies.m, j) / (dx * dx + dy * dy + dz * dz + eps2).sqrt();
                }
                -g * mi * sum
            })
            .sum();
        Diagnostics {
            kinetic,
            potential,
            momentum,
            angular_momentum: angular,
        }
    }
}

//! Bodies as a structure of arrays.

use crate::Error;

/// One body, for building and reading [`Bodies`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Body {
    /// Position.
    pub pos: [f32; 3],
    /// Velocity.
    pub vel: [f32; 3],
    /// Mass (≥ 0).
    pub mass: f32,
}

/// N bodies as a structure of arrays (f32), the layout every kernel reads.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Bodies {
    /// x positions.
    pub x: Vec<f32>,
    /// y positions.
    pub y: Vec<f32>,
    /// z positions.
    pub z: Vec<f32>,
    /// x velocities.
    pub vx: Vec<f32>,
    /// y velocities.
    pub vy: Vec<f32>,
    /// z velocities.
    pub vz: Vec<f32>,
    /// Masses.
    pub m: Vec<f32>,
}

impl Bodies {
    /// No bodies, with room for `n`.
    pub fn with_capacity(n: usize) -> Self {
        let v = || Vec::with_capacity(n);
        Bodies {
            x: v(),
            y: v(),
            z: v(),
            vx: v(),
            vy: v(),
            vz: v(),
            m: v(),
        }
    }

    /// Bodies from a list, validated (finite values, mass ≥ 0).
    pub fn from_bodies(list: &[Body]) -> Result<Self, Error> {
        let mut bodies = Bodies::with_capacity(list.len());
        for b in list {
            bodies.push(*b);
        }
        bodies.validate()?;
        Ok(bodies)
    }

    /// Appends a body (not validated; see [`Bodies::validate`]).
    pub fn push(&mut self, b: Body) {
        self.x.push(b.pos[0]);
        self.y.push(b.pos[1]);
        self.z.push(b.pos[2]);
        self.vx.push(b.vel[0]);
        self.vy.push(b.vel[1]);
        self.vz.push(b.vel[2]);
        self.m.push(b.mass);
    }

    /// Body `i`.
    pub fn get(&self, i: usize) -> Body {
        Body {
            pos: [self.x[i], self.y[i], self.z[i]],
            vel: [self.vx[i], self.vy[i], self.vz[i]],
            mass: self.m[i],
        }
    }

    /// Number of bodies.
    pub fn len(&self) -> usize {
        self.m.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.m.is_empty()
    }

    /// Checks that all seven arrays have the same length (cheap; every
    /// kernel does it).
    pub fn check_lengths(&self) -> Result<(), Error> {
        let n = self.m.len();
        for (what, len) in [
            ("x", self.x.len()),
            ("y", self.y.len()),
            ("z", self.z.len()),
            ("vx", self.vx.len()),
            ("vy", self.vy.len()),
            ("vz", self.vz.len()),
        ] {
            if len != n {
                return Err(Error::LengthMismatch {
                    what,
                    expected: n,
                    actual: len,
                });
            }
        }
        Ok(())
    }

    /// Checks lengths, that every value is finite and every mass ≥ 0.
    pub fn validate(&self) -> Result<(), Error> {
        self.check_lengths()?;
        let n = self.m.len();
        for i in 0..n {
            let b = self.get(i);
            if !b.pos.iter().chain(&b.vel).all(|v| v.is_finite()) {
                return Err(Error::InvalidBody {
                    index: i,
                    reason: "non-finite position or velocity".into(),
                });
            }
            if !(b.mass.is_finite() && b.mass >= 0.0) {
                return Err(Error::InvalidBody {
                    index: i,
                    reason: format!("mass must be finite and >= 0, got {}", b.mass),
                });
            }
        }
        Ok(())
    }
}

/// Accelerations of N bodies (structure of arrays).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Accelerations {
    /// x components.
    pub ax: Vec<f32>,
    /// y components.
    pub ay: Vec<f32>,
    /// z components.
    pub az: Vec<f32>,
}

impl Accelerations {
    /// Zeroed accelerations for `n` bodies.
    pub fn zeros(n: usize) -> Self {
        Accelerations {
            ax: vec![0.0; n],
            ay: vec![0.0; n],
            az: vec![0.0; n],
        }
    }

    /// Resizes to `n` (reusing the allocation where possible).
    pub fn resize(&mut self, n: usize) {
        self.ax.resize(n, 0.0);
        self.ay.resize(n, 0.0);
        self.az.resize(n, 0.0);
    }

    /// Number of bodies.
    pub fn len(&self) -> usize {
        self.ax.len()
    }

    /// Whether empty.
    pub fn is_empty(&self) -> bool {
        self.ax.is_empty()
    }
}

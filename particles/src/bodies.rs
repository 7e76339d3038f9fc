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
        for b in list.iter() {
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

impl Bodies {
    /// The CSV header [`Bodies::from_csv`] expects and [`Bodies::to_csv`] writes.
    pub const CSV_HEADER: &'static str = "x,y,z,vx,vy,vz,m";

    /// Parses `x,y,z,vx,vy,vz,m` rows after that header line (blank lines
    /// ignored). Errors name the 1-based line: wrong field count, a field
    /// that is not a number, NaN or infinity, a negative mass.
    pub fn from_csv(text: &str) -> Result<Self, Error> {
        let mut lines = text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty());
        let Some((index, header)) = lines.next() else {
            return Err(Error::Csv {
                line: 1,
                reason: format!("empty file: expected the header `{}`", Self::CSV_HEADER),
            });
        };
        let columns: Vec<&str> = header.split(',').map(str::trim).collect();
        if columns.join(",") != Self::CSV_HEADER {
            return Err(Error::Csv {
                line: index + 1,
                reason: format!(
                    "expected the header `{}`, got `{}`",
                    Self::CSV_HEADER,
                    header.trim()
                ),
            });
        }
        let mut bodies = Bodies::default();
        for (index, line) in lines {
            let line_no = index + 1;
            let fields: Vec<&str> = line.split(',').map(str::trim).collect();
            if fields.len() != 7 {
                return Err(Error::Csv {
                    line: line_no,
                    reason: format!("expected 7 fields, got {}", fields.len()),
                });
            }
            let mut values = [0.0f32; 7];
            for (k, (field, value)) in fields.iter().zip(values.iter_mut()).enumerate() {
                let name = columns[k];
                *value = field.parse().map_err(|_| Error::Csv {
                    line: line_no,
                    reason: format!("{name} `{field}` is not a number"),
                })?;
                if !value.is_finite() {
                    return Err(Error::Csv {
                        line: line_no,
                        reason: format!("{name} must be finite, got `{field}`"),
                    });
                }
            }
            if values[6] < 0.0 {
                return Err(Error::Csv {
                    line: line_no,
                    reason: format!("mass must be >= 0, got {}", values[6]),
                });
            }
            bodies.push(Body {
                pos: [values[0], values[1], values[2]],
                vel: [values[3], values[4], values[5]],
                mass: values[6],
            });
        }
        if bodies.is_empty() {
            return Err(Error::Csv {
                line: index + 2,
                reason: "no bodies after the header".into(),
            });
        }
        Ok(bodies)
    }

    /// The bodies as CSV with [`Bodies::CSV_HEADER`], full f32 precision
    /// (values round-trip exactly).
    pub fn to_csv(&self) -> String {
        let mut out = String::with_capacity(64 * (self.len() + 1));
        out.push_str(Self::CSV_HEADER);
        out.push('\n');
        for i in 0..self.len() {
            let b = self.get(i);
            let row = [
                b.pos[0], b.pos[1], b.pos[2], b.vel[0], b.vel[1], b.vel[2], b.mass,
            ];
            let fields: Vec<String> = row.iter().map(|v| format!("{v:?}")).collect();
            out.push_str(&fields.join(","));
            out.push('\n');
        }
        out
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

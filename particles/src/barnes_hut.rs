//! Barnes–Hut: an octree of monopoles, O(N log N) per step.
//!
//! Build: bounding cube, 63-bit Morton codes and a parallel sort (rayon),
//! then the octree over the sorted order, its eight root octants built in
//! parallel. Each node keeps its mass, centre of mass and cube. Traversal
//! (parallel over bodies) uses a cell as a point mass when
//! `d > size / θ + δ`, where `d` is the distance to the cell's centre of
//! mass and `δ` the offset of that centre from the cube's centre (the
//! Salmon–Warren bound, which keeps a body from accepting a cell it sits
//! in). Forces use the same Plummer softening as the direct sum.

use rayon::prelude::*;
use vivace_backend::{Backend, BackendKind};

use crate::{Accelerations, Bodies, Error, Gravity, GravityKernel};

const NONE: u32 = u32::MAX;
/// Morton bits per axis.
const BITS: u32 = 21;

#[derive(Debug, Clone, Copy)]
struct Node {
    com: [f32; 3],
    mass: f32,
    /// Side of the cube.
    size: f32,
    /// Offset of the centre of mass from the cube's centre.
    delta: f32,
    /// Range of the node's bodies in the sorted order.
    start: u32,
    end: u32,
    children: [u32; 8],
}

impl Node {
    /// A node of side `size` over `keys[a..b]`, before its moments and
    /// children are filled in.
    fn empty(a: usize, b: usize, size: f32) -> Self {
        Node {
            com: [0.0; 3],
            mass: 0.0,
            size,
            delta: 0.0,
            start: a as u32,
            end: b as u32,
            children: [NONE; 8],
        }
    }

    fn is_leaf(&self) -> bool {
        self.children.iter().all(|&c| c == NONE)
    }
}

/// Barnes–Hut gravity with opening angle θ.
#[derive(Debug, Clone)]
pub struct BarnesHut {
    theta: f32,
    leaf_size: usize,
    keys: Vec<(u64, u32)>,
    nodes: Vec<Node>,
}

impl BarnesHut {
    /// Opening angle `theta` in (0, 2] (0.5 is the usual; smaller is more
    /// accurate and slower); leaves of up to 8 bodies.
    pub fn new(theta: f32) -> Result<Self, Error> {
        if !(theta.is_finite() && theta > 0.0 && theta <= 2.0) {
            return Err(Error::invalid(
                "theta",
                format!("must be in (0, 2], got {theta}"),
            ));
        }
        Ok(BarnesHut {
            theta,
            leaf_size: 8,
            keys: Vec::new(),
            nodes: Vec::new(),
        })
    }

    /// The opening angle.
    pub fn theta(&self) -> f32 {
        self.theta
    }

    /// Nodes in the last tree built.
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    fn build(&mut self, bodies: &Bodies) {
        let n = bodies.len();
        let (lo, hi) = (0..n)
            .into_par_iter()
            .fold(
                || ([f32::MAX; 3], [f32::MIN; 3]),
                |(mut lo, mut hi), i| {
                    let p = [bodies.x[i], bodies.y[i], bodies.z[i]];
                    for k in 0..3 {
                        lo[k] = lo[k].min(p[k]);
                        hi[k] = hi[k].max(p[k]);
                    }
                    (lo, hi)
                },
            )
            .reduce(
                || ([f32::MAX; 3], [f32::MIN; 3]),
                |a, b| {
                    (
                        [0, 1, 2].map(|k| a.0[k].min(b.0[k])),
                        [0, 1, 2].map(|k| a.1[k].max(b.1[k])),
                    )
                },
            );
        let size = (0..3)
            .map(|k| hi[k] - lo[k])
            .fold(0.0f32, f32::max)
            .max(1e-30)
            * (1.0 + 1e-6);
        let scale = ((1u32 << BITS) - 1) as f32 / size;
        self.keys.clear();
        self.keys.par_extend((0..n).into_par_iter().map(|i| {
            let cell = |v: f32, k: usize| (((v - lo[k]) * scale) as u32).min((1 << BITS) - 1);
            (
                morton(
                    cell(bodies.x[i], 0),
                    cell(bodies.y[i], 1),
                    cell(bodies.z[i], 2),
                ),
                i as u32,
            )
        }));
        self.keys.par_sort_unstable();

        let keys = &self.keys;
        let leaf_size = self.leaf_size;
        self.nodes.clear();
        if n <= leaf_size {
            // Small systems: the root is a leaf.
            self.nodes.push(leaf(keys, bodies, 0, n, lo, size));
            return;
        }

        // The root's eight octants in parallel, then stitched behind the root.
        let ranges = octant_ranges(keys, 0, n, 0);
        let subtrees: Vec<Vec<Node>> = ranges
            .par_iter()
            .enumerate()
            .map(|(octant, &(a, b))| {
                let mut nodes = Vec::new();
                if a < b {
                    let origin = child_origin(lo, size, octant);
                    build_node(
                        &mut nodes,
                        keys,
                        bodies,
                        a,
                        b,
                        1,
                        origin,
                        size * 0.5,
                        leaf_size,
                    );
                }
                nodes
            })
            .collect();
        let mut root = Node::empty(0, n, size);
        self.nodes.push(root);
        let mut moments = Moments::default();
        for (octant, subtree) in subtrees.into_iter().enumerate() {
            if subtree.is_empty() {
                continue;
            }
            let offset = self.nodes.len() as u32;
            root.children[octant] = offset;
            moments.add(&subtree[0]);
            self.nodes.extend(subtree.into_iter().map(|mut node| {
                for c in node.children.iter_mut().filter(|c| **c != NONE) {
                    *c += offset;
                }
                node
            }));
        }
        moments.finish(&mut root, lo, size);
        self.nodes[0] = root;
    }

    fn acceleration(
        &self,
        bodies: &Bodies,
        gravity: &Gravity,
        p: [f32; 3],
        stack: &mut Vec<u32>,
    ) -> [f32; 3] {
        let eps2 = gravity.eps2();
        let inv_theta = 1.0 / self.theta;
        let mut a = [0.0f32; 3];
        let mut add = |d: [f32; 3], m: f32| {
            let r2 = d[0] * d[0] + d[1] * d[1] + d[2] * d[2] + eps2;
            let inv = 1.0 / r2.sqrt();
            let s = m * inv * inv * inv;
            for k in 0..3 {
                a[k] += s * d[k];
            }
        };
        stack.clear();
        stack.push(0);
        while let Some(index) = stack.pop() {
            let node = &self.nodes[index as usize];
            let d = [node.com[0] - p[0], node.com[1] - p[1], node.com[2] - p[2]];
            let dist = (d[0] * d[0] + d[1] * d[1] + d[2] * d[2]).sqrt();
            if dist > node.size * inv_theta + node.delta {
                // Far enough: the whole cell as one point mass (a far leaf
                // too: one interaction instead of up to `leaf_size`).
                add(d, node.mass);
            } else if node.is_leaf() {
                for &(_, j) in &self.keys[node.start as usize..node.end as usize] {
                    let j = j as usize;
                    add(
                        [bodies.x[j] - p[0], bodies.y[j] - p[1], bodies.z[j] - p[2]],
                        bodies.m[j],
                    );
                }
            } else {
                stack.extend(node.children.iter().copied().filter(|&c| c != NONE));
            }
        }
        a.map(|v| v * gravity.g)
    }
}

/// Interleaves three 21-bit coordinates into a 63-bit Morton code.
fn morton(x: u32, y: u32, z: u32) -> u64 {
    fn spread(v: u32) -> u64 {
        let mut v = u64::from(v) & 0x1f_ffff;
        v = (v | (v << 32)) & 0x001f_0000_0000_ffff;
        v = (v | (v << 16)) & 0x001f_0000_ff00_00ff;
        v = (v | (v << 8)) & 0x100f_00f0_0f00_f00f;
        v = (v | (v << 4)) & 0x10c3_0c30_c30c_30c3;
        v = (v | (v << 2)) & 0x1249_2492_4924_9249;
        v
    }
    spread(x) | (spread(y) << 1) | (spread(z) << 2)
}

/// The sub-ranges of `keys[a..b]` in each of the 8 octants at `level`
/// (0 = the root's split).
fn octant_ranges(keys: &[(u64, u32)], a: usize, b: usize, level: u32) -> [(usize, usize); 8] {
    let shift = 3 * (BITS - 1 - level);
    let mut ranges = [(a, a); 8];
    let mut start = a;
    for (octant, range) in ranges.iter_mut().enumerate() {
        let end =
            start + keys[start..b].partition_point(|k| ((k.0 >> shift) & 7) as usize <= octant);
        *range = (start, end);
        start = end;
    }
    ranges
}

fn child_origin(origin: [f32; 3], size: f32, octant: usize) -> [f32; 3] {
    let half = size * 0.5;
    [
        origin[0] + if octant & 1 != 0 { half } else { 0.0 },
        origin[1] + if octant & 2 != 0 { half } else { 0.0 },
        origin[2] + if octant & 4 != 0 { half } else { 0.0 },
    ]
}

#[derive(Default)]
struct Moments {
    mass: f64,
    weighted: [f64; 3],
}

impl Moments {
    fn add(&mut self, node: &Node) {
        let m = f64::from(node.mass);
        self.mass += m;
        for k in 0..3 {
            self.weighted[k] += m * f64::from(node.com[k]);
        }
    }

    fn add_body(&mut self, p: [f32; 3], m: f32) {
        let m = f64::from(m);
        self.mass += m;
        for (w, &c) in self.weighted.iter_mut().zip(&p) {
            *w += m * f64::from(c);
        }
    }

    fn finish(&self, node: &mut Node, origin: [f32; 3], size: f32) {
        let centre = origin.map(|o| o + 0.5 * size);
        node.mass = self.mass as f32;
        node.com = if self.mass > 0.0 {
            [0, 1, 2].map(|k| (self.weighted[k] / self.mass) as f32)
        } else {
            centre
        };
        node.delta = (0..3)
            .map(|k| (node.com[k] - centre[k]).powi(2))
            .sum::<f32>()
            .sqrt();
    }
}

fn leaf(
    keys: &[(u64, u32)],
    bodies: &Bodies,
    a: usize,
    b: usize,
    origin: [f32; 3],
    size: f32,
) -> Node {
    let mut node = Node::empty(a, b, size);
    let mut moments = Moments::default();
    for &(_, j) in &keys[a..b] {
        let j = j as usize;
        moments.add_body([bodies.x[j], bodies.y[j], bodies.z[j]], bodies.m[j]);
    }
    moments.finish(&mut node, origin, size);
    node
}

/// Appends the subtree of `keys[a..b]` (a cube at `origin` of side `size`,
/// `level` splits below the root) and returns nothing: its root is the
/// first node appended.
#[allow(clippy::too_many_arguments)]
fn build_node(
    nodes: &mut Vec<Node>,
    keys: &[(u64, u32)],
    bodies: &Bodies,
    a: usize,
    b: usize,
    level: u32,
    origin: [f32; 3],
    size: f32,
    leaf_size: usize,
) {
    if b - a <= leaf_size || level >= BITS {
        nodes.push(leaf(keys, bodies, a, b, origin, size));
        return;
    }
    let index = nodes.len();
    nodes.push(Node::empty(a, b, size));
    let mut moments = Moments::default();
    for (octant, (ca, cb)) in octant_ranges(keys, a, b, level).into_iter().enumerate() {
        if ca == cb {
            continue;
        }
        let child = nodes.len();
        build_node(
            nodes,
            keys,
            bodies,
            ca,
            cb,
            level + 1,
            child_origin(origin, size, octant),
            size * 0.5,
            leaf_size,
        );
        nodes[index].children[octant] = child as u32;
        moments.add(&nodes[child]);
    }
    let mut node = nodes[index];
    moments.finish(&mut node, origin, size);
    nodes[index] = node;
}

impl Backend for BarnesHut {
    fn kind(&self) -> BackendKind {
        BackendKind::Scalar
    }
    fn name(&self) -> String {
        format!(
            "Barnes-Hut θ={} (scalar × {} threads)",
            self.theta,
            rayon::current_num_threads()
        )
    }
}

impl GravityKernel for BarnesHut {
    fn accelerations(
        &mut self,
        bodies: &Bodies,
        gravity: &Gravity,
        out: &mut Accelerations,
    ) -> Result<(), Error> {
        bodies.check_lengths()?;
        let n = bodies.len();
        out.resize(n);
        if n == 0 {
            return Ok(());
        }
        self.build(bodies);
        let tree = &*self;
        out.ax
            .par_iter_mut()
            .zip(out.ay.par_iter_mut())
            .zip(out.az.par_iter_mut())
            .enumerate()
            .with_min_len(64)
            .for_each_init(Vec::new, |stack, (i, ((ax, ay), az))| {
                let a = tree.acceleration(
                    bodies,
                    gravity,
                    [bodies.x[i], bodies.y[i], bodies.z[i]],
                    stack,
                );
                (*ax, *ay, *az) = (a[0], a[1], a[2]);
            });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn morton_interleaves_bits() {
        assert_eq!(morton(1, 0, 0), 0b001);
        assert_eq!(morton(0, 1, 0), 0b010);
        assert_eq!(morton(0, 0, 1), 0b100);
        assert_eq!(morton(3, 0, 0), 0b001_001);
        let max = (1 << BITS) - 1;
        assert_eq!(morton(max, max, max), (1u64 << 63) - 1);
    }
}

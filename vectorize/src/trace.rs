//! Boundary tracing: every border between ink and background as closed
//! paths on the pixel-corner lattice, outlines and holes alike.
//!
//! Each ink pixel contributes a directed unit edge on every side that
//! faces background, oriented so ink is on the left (screen coordinates,
//! y down). Every lattice vertex then has as many edges in as out, so the
//! edges split into closed cycles; following them gives the paths. Where two
//! ink pixels touch only at a corner (a saddle), the [`TurnPolicy`] decides
//! whether they join. Outlines come out counter-clockwise on screen
//! (positive [`Path::area`]), holes clockwise (negative), so even-odd or
//! non-zero filling reproduces the bitmap exactly.

use crate::threshold::BinaryImage;

/// What to do where ink pixels touch only diagonally.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum TurnPolicy {
    /// Join them: ink is 8-connected (the background 4-connected).
    #[default]
    JoinInk,
    /// Keep them apart: ink is 4-connected.
    SplitInk,
}

/// Tracing options.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TraceOptions {
    /// Saddle handling.
    pub turn_policy: TurnPolicy,
    /// Paths enclosing fewer than this many pixels (by absolute area) are
    /// dropped: specks of ink and pinholes alike (potrace's `turdsize`).
    pub min_area: u64,
}

/// A closed path on the pixel-corner lattice.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Path {
    /// Corner points where the direction changes, in order; the path closes
    /// from the last back to the first.
    pub points: Vec<(i32, i32)>,
    /// Signed enclosed area in pixels: positive for an outline, negative
    /// for a hole.
    pub area: i64,
}

impl Path {
    /// Whether the path is a hole (background enclosed by ink).
    pub fn is_hole(&self) -> bool {
        self.area < 0
    }
}

// Directions: 0 east (+x), 1 south (+y), 2 west, 3 north.
const STEP: [(i32, i32); 4] = [(1, 0), (0, 1), (-1, 0), (0, -1)];

/// Traces every boundary of `image`.
///
/// ```
/// use vivace_vectorize::BinaryImage;
/// use vivace_vectorize::trace::{TraceOptions, trace};
/// // A 3×3 ring: one outline, one hole.
/// let image = BinaryImage { width: 3, height: 3, ink: vec![1, 1, 1, 1, 0, 1, 1, 1, 1] };
/// let paths = trace(&image, &TraceOptions::default());
/// assert_eq!(paths.len(), 2);
/// assert_eq!(paths.iter().map(|p| p.area).sum::<i64>(), 8);
/// ```
pub fn trace(image: &BinaryImage, options: &TraceOptions) -> Vec<Path> {
    let (w, h) = (image.width, image.height);
    let stride = w + 1;
    // Outgoing edge directions per vertex, as a 4-bit mask; `used` marks
    // edges already followed. Built row by row against the rows above and
    // below (a row of background stands in past the top and bottom).
    let mut out = vec![0u8; stride * (h + 1)];
    let background = vec![0u8; w];
    let row = |y: usize| &image.ink[y * w..(y + 1) * w];
    for y in 0..h {
        let (here, above) = (row(y), if y > 0 { row(y - 1) } else { &background });
        let below = if y + 1 < h { row(y + 1) } else { &background };
        let (top, bottom) = (y * stride, (y + 1) * stride);
        for x in 0..w {
            if here[x] != 1 {
                continue;
            }
            if above[x] != 1 {
                out[top + x + 1] |= 1 << 2; // top: west from (x+1, y)
            }
            if below[x] != 1 {
                out[bottom + x] |= 1 << 0; // bottom: east from (x, y+1)
            }
            if x == 0 || here[x - 1] != 1 {
                out[top + x] |= 1 << 1; // left: south from (x, y)
            }
            if x + 1 == w || here[x + 1] != 1 {
                out[bottom + x + 1] |= 1 << 3; // right: north from (x+1, y+1)
            }
        }
    }
    let mut paths = Vec::new();
    // Corners are gathered here and copied out at their final length (a
    // path's own vector grown point by point reallocated again and again).
    let mut points = Vec::new();
    // Scanning vertices row by row, the first one with an edge left is the
    // top-left corner of every path through it, which is never a saddle: it
    // has exactly one edge out, and the walk closes when it returns there.
    for start in 0..out.len() {
        while out[start] != 0 {
            debug_assert_eq!(out[start].count_ones(), 1);
            let mut d = out[start].trailing_zeros() as usize;
            let (sx, sy) = ((start % stride) as i32, (start / stride) as i32);
            let (mut x, mut y) = (sx, sy);
            points.clear();
            let mut area2 = 0i64;
            let mut prev_d = usize::MAX;
            loop {
                out[y as usize * stride + x as usize] &= !(1 << d);
                if d != prev_d {
                    points.push((x, y));
                }
                let (nx, ny) = (x + STEP[d].0, y + STEP[d].1);
                area2 += i64::from(x) * i64::from(ny) - i64::from(nx) * i64::from(y);
                (x, y, prev_d) = (nx, ny, d);
                if (x, y) == (sx, sy) {
                    break;
                }
                let choices = out[y as usize * stride + x as usize];
                d = if choices.count_ones() == 1 {
                    choices.trailing_zeros() as usize
                } else {
                    // A saddle: the two ways on are a left and a right turn.
                    // Ink is on the left, so turning right crosses to the
                    // diagonal ink pixel (joining), turning left hugs this one.
                    match options.turn_policy {
                        TurnPolicy::JoinInk => (d + 1) % 4,
                        TurnPolicy::SplitInk => (d + 3) % 4,
                    }
                };
                debug_assert!(choices & (1 << d) != 0, "the lattice walk lost its edge");
            }
            // Shoelace with y down gives outlines (ink on the left) a
            // negative sum: flip so outlines are positive.
            let area = -area2 / 2;
            if area.unsigned_abs() >= options.min_area {
                paths.push(Path {
                    points: points.clone(),
                    area,
                });
            }
        }
    }
    paths
}

/// An outline and the holes directly inside it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Region {
    /// The outer boundary (positive area).
    pub outline: Path,
    /// Its holes (negative areas); islands inside them are regions of
    /// their own.
    pub holes: Vec<Path>,
}

/// Traces `image` and groups every hole with the outline of the ink around
/// it (the same connected ink component, 8- or 4-connected as the turn
/// policy says), in scan order of the outlines.
///
/// ```
/// use vivace_vectorize::BinaryImage;
/// use vivace_vectorize::trace::{TraceOptions, trace_regions};
/// // Two rings side by side: two regions with one hole each.
/// let row = [1, 1, 1, 0, 1, 1, 1];
/// let mid = [1, 0, 1, 0, 1, 0, 1];
/// let ink = [row, mid, row].concat();
/// let image = BinaryImage { width: 7, height: 3, ink };
/// let regions = trace_regions(&image, &TraceOptions::default());
/// assert_eq!(regions.len(), 2);
/// assert!(regions.iter().all(|r| r.holes.len() == 1));
/// ```
pub fn trace_regions(image: &BinaryImage, options: &TraceOptions) -> Vec<Region> {
    let paths = trace(image, options);
    let mut components = InkComponents::new(image, options.turn_policy);
    let mut region_of_component = vec![usize::MAX; components.runs.len()];
    let mut regions: Vec<Region> = Vec::new();
    let mut holes = Vec::new();
    for path in paths {
        let (x, y) = (path.points[0].0 as usize, path.points[0].1 as usize);
        if path.is_hole() {
            holes.push(path);
        } else {
            // The start is the outline's top-left corner: the pixel below
            // and right of it is ink.
            region_of_component[components.at(x, y)] = regions.len();
            regions.push(Region {
                outline: path,
                holes: Vec::new(),
            });
        }
    }
    for hole in holes {
        // A hole starts at its top-left corner: the pixel above it is the
        // enclosing ink.
        let (x, y) = (hole.points[0].0 as usize, hole.points[0].1 as usize);
        let r = region_of_component[components.at(x, y - 1)];
        // The outline is larger than its holes, so it is never dropped by
        // `min_area` while they are kept.
        if r != usize::MAX {
            regions[r].holes.push(hole);
        }
    }
    regions
}

/// Connected ink components, found on runs rather than pixels: each row's
/// runs of ink are joined with the overlapping (or, 8-connected, diagonally
/// touching) runs of the row above in a union–find. Only the paths' start
/// pixels are ever looked up, so no per-pixel label image is built: the
/// work is one pass over the pixels to find the runs, then per run.
struct InkComponents {
    /// Every row's runs, in row order then x order: `[start, end)` in x.
    runs: Vec<(u32, u32)>,
    /// `row_first[y]..row_first[y + 1]` index row `y`'s runs.
    row_first: Vec<usize>,
    /// Union–find parent of each run.
    parent: Vec<usize>,
}

impl InkComponents {
    fn new(image: &BinaryImage, policy: TurnPolicy) -> InkComponents {
        let (w, h) = (image.width, image.height);
        let mut runs = Vec::new();
        let mut row_first = Vec::with_capacity(h + 1);
        for y in 0..h {
            row_first.push(runs.len());
            let row = &image.ink[y * w..(y + 1) * w];
            let mut x = 0;
            while let Some(start) = row[x..].iter().position(|&v| v == 1) {
                let start = x + start;
                let end = row[start..]
                    .iter()
                    .position(|&v| v != 1)
                    .map_or(w, |n| start + n);
                runs.push((start as u32, end as u32));
                x = end;
            }
        }
        row_first.push(runs.len());
        // Runs meet when they share a column (4-connected), or come within
        // one column (8-connected: a diagonal touch).
        let reach = u32::from(policy == TurnPolicy::JoinInk);
        let mut components = InkComponents {
            parent: (0..runs.len()).collect(),
            runs,
            row_first,
        };
        for y in 1..h {
            let above = components.row_first[y - 1]..components.row_first[y];
            let below = components.row_first[y]..components.row_first[y + 1];
            let (mut a, mut b) = (above.start, below.start);
            while a < above.end && b < below.end {
                let (sa, ea) = components.runs[a];
                let (sb, eb) = components.runs[b];
                if sa < eb + reach && sb < ea + reach {
                    components.union(a, b);
                }
                // Step past whichever run ends first: it meets nothing
                // further on.
                if ea <= eb {
                    a += 1;
                } else {
                    b += 1;
                }
            }
        }
        components
    }

    fn find(&mut self, mut run: usize) -> usize {
        while self.parent[run] != run {
            // Path halving.
            self.parent[run] = self.parent[self.parent[run]];
            run = self.parent[run];
        }
        run
    }

    fn union(&mut self, a: usize, b: usize) {
        let (ra, rb) = (self.find(a), self.find(b));
        // The earlier run is the root: roots stay stable and in scan order.
        let (lo, hi) = (ra.min(rb), ra.max(rb));
        self.parent[hi] = lo;
    }

    /// The component (its root run) of the ink pixel `(x, y)`.
    fn at(&mut self, x: usize, y: usize) -> usize {
        let row = &self.runs[self.row_first[y]..self.row_first[y + 1]];
        let k = row.partition_point(|&(_, end)| end as usize <= x);
        debug_assert!(
            k < row.len() && row[k].0 as usize <= x,
            "({x}, {y}) is not ink"
        );
        self.find(self.row_first[y] + k)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Flood-fill labels, the brute-force reference: `u32::MAX` off ink.
    fn flood_labels(image: &BinaryImage, policy: TurnPolicy) -> Vec<u32> {
        let (w, h) = (image.width, image.height);
        let mut label = vec![u32::MAX; w * h];
        let mut count = 0;
        let mut stack = Vec::new();
        for start in 0..w * h {
            if image.ink[start] != 1 || label[start] != u32::MAX {
                continue;
            }
            label[start] = count;
            stack.push(start);
            while let Some(i) = stack.pop() {
                let (x, y) = ((i % w) as isize, (i / w) as isize);
                for dy in -1..=1isize {
                    for dx in -1..=1isize {
                        let diagonal = dx != 0 && dy != 0;
                        if (dx, dy) == (0, 0) || (diagonal && policy == TurnPolicy::SplitInk) {
                            continue;
                        }
                        let (nx, ny) = (x + dx, y + dy);
                        if image.is_ink(nx, ny) {
                            let j = ny as usize * w + nx as usize;
                            if label[j] == u32::MAX {
                                label[j] = count;
                                stack.push(j);
                            }
                        }
                    }
                }
            }
            count += 1;
        }
        label
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        /// Run components partition the ink exactly as a pixel flood fill
        /// does (same pixels together, different apart), for both
        /// connectivities.
        #[test]
        fn run_components_match_a_flood_fill(
            w in 1usize..24,
            h in 1usize..24,
            density in 1u64..9,
            seed in any::<u64>(),
            join in any::<bool>(),
        ) {
            let mut s = seed | 1;
            let ink = (0..w * h).map(|_| {
                s ^= s << 13; s ^= s >> 7; s ^= s << 17;
                u8::from(s % 10 < density)
            }).collect();
            let image = BinaryImage { width: w, height: h, ink };
            let policy = if join { TurnPolicy::JoinInk } else { TurnPolicy::SplitInk };
            let flood = flood_labels(&image, policy);
            let mut runs = InkComponents::new(&image, policy);
            let ink: Vec<usize> = (0..w * h).filter(|&i| image.ink[i] == 1).collect();
            let component: Vec<usize> = ink.iter().map(|&i| runs.at(i % w, i / w)).collect();
            for (a, &i) in ink.iter().enumerate() {
                for (b, &j) in ink.iter().enumerate().skip(a + 1) {
                    prop_assert_eq!(
                        flood[i] == flood[j],
                        component[a] == component[b],
                        "pixels {} and {}", i, j
                    );
                }
            }
        }
    }
}

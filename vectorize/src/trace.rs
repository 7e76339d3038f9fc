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

/// What to do where ink pixels touch only diagonally (a saddle: the other
/// two pixels around the corner are background, and either the ink pair or
/// the background pair can be joined, not both).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum TurnPolicy {
    /// Join whichever colour is the minority around the saddle, as
    /// potrace's default `minority` policy: thin dark strokes on a light
    /// ground stay connected, and so do thin light gaps in a dark area. The
    /// colours are counted on the border of the 4 × 4 pixel square centred
    /// on the saddle, then of the 6 × 6 and 8 × 8 squares while they tie
    /// (pixels off the image count as background); a tie on all three
    /// joins the ink. Unlike potrace, the count is taken on the image
    /// itself, not on a working copy that earlier paths have inverted, so
    /// the choice depends only on the pixels around the saddle.
    #[default]
    Minority,
    /// Always join the ink: ink is 8-connected (the background 4-connected).
    JoinInk,
    /// Never join the ink: ink is 4-connected (the background 8-connected).
    SplitInk,
}

impl TurnPolicy {
    /// Whether the two ink pixels meeting only at lattice vertex `(x, y)`
    /// (the pixel corner between columns `x - 1`, `x` and rows `y - 1`,
    /// `y`) are joined.
    fn joins_ink_at(self, image: &BinaryImage, x: usize, y: usize) -> bool {
        match self {
            TurnPolicy::JoinInk => true,
            TurnPolicy::SplitInk => false,
            TurnPolicy::Minority => !ink_majority(image, x, y),
        }
    }
}

/// Whether ink outnumbers background around lattice vertex `(x, y)`, on
/// the border of the 2r × 2r pixel square centred on it for r = 2, 3, 4,
/// the first that does not tie deciding; `false` when all three tie.
fn ink_majority(image: &BinaryImage, x: usize, y: usize) -> bool {
    let w = image.width;
    let ink = |px: usize, py: usize| usize::from(image.ink[py * w + px] == 1);
    for r in 2..=4 {
        let border = 8 * r - 4;
        let inked = if x >= r && y >= r && x + r <= w && y + r <= image.height {
            // Inside the image: the top and bottom rows as slices, then
            // the two columns between them.
            let (left, right, top, bottom) = (x - r, x + r - 1, y - r, y + r - 1);
            let rows = image.ink[top * w + left..=top * w + right]
                .iter()
                .chain(&image.ink[bottom * w + left..=bottom * w + right])
                .filter(|&&v| v == 1)
                .count();
            rows + (top + 1..bottom)
                .map(|py| ink(left, py) + ink(right, py))
                .sum::<usize>()
        } else {
            // Near the edge: pixels off the image are background.
            let (x, y, r) = (x as isize, y as isize, r as isize);
            let (left, right, top, bottom) = (x - r, x + r - 1, y - r, y + r - 1);
            let at = |px: isize, py: isize| usize::from(image.is_ink(px, py));
            (left..=right)
                .map(|px| at(px, top) + at(px, bottom))
                .sum::<usize>()
                + (top + 1..bottom)
                    .map(|py| at(left, py) + at(right, py))
                    .sum::<usize>()
        };
        if 2 * inked != border {
            return 2 * inked > border;
        }
    }
    false
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
    // Outgoing edge directions per vertex, as a 4-bit mask (bit d:
    // direction d), cleared as the walks follow them. A vertex row `v`
    // sits between pixel rows `v − 1` (above) and `v` (below), and its
    // vertex `x` between columns `x − 1` and `x`; each of its four edges
    // out is the side of one pixel that faces background:
    // - east (bit 0): the bottom of the pixel above-right, background below;
    // - south (bit 1): the left of the pixel below-right, background left;
    // - west (bit 2): the top of the pixel below-left, background above;
    // - north (bit 3): the right of the pixel above-left, background right.
    // Computed a whole vertex row at a time without branches, from the two
    // pixel rows as 0/1 with a background column padded on either side
    // (index `i` holds column `i − 1`), so the loop vectorises.
    let mut out = vec![0u8; stride * (h + 1)];
    let mut above = vec![0u8; w + 2];
    let mut below = vec![0u8; w + 2];
    for (v, vertices) in out.chunks_exact_mut(stride).enumerate() {
        std::mem::swap(&mut above, &mut below);
        if v < h {
            let row = &image.ink[v * w..(v + 1) * w];
            for (p, &ink) in below[1..=w].iter_mut().zip(row) {
                *p = u8::from(ink == 1);
            }
        } else {
            below.fill(0);
        }
        let (a, b) = (&above[..], &below[..]);
        for (x, vertex) in vertices.iter_mut().enumerate() {
            let (al, ar, bl, br) = (a[x], a[x + 1], b[x], b[x + 1]);
            *vertex = (ar & (br ^ 1))
                | (br & (bl ^ 1)) << 1
                | (bl & (al ^ 1)) << 2
                | (al & (ar ^ 1)) << 3;
        }
    }
    let mut paths = Vec::new();
    // Corners are gathered here and copied out at their final length (a
    // path's own vector grown point by point reallocated again and again).
    let mut points = Vec::new();
    // Scanning vertices row by row, the first one with an edge left is the
    // top-left corner of every path through it, which is never a saddle: it
    // has exactly one edge out, and the walk closes when it returns there.
    let mut start = 0;
    while start < out.len() {
        // Most vertices have no edge: pass over them 16 at a time.
        if let Some(block) = out.get(start..start + 16)
            && u128::from_ne_bytes(block.try_into().expect("16 bytes")) == 0
        {
            start += 16;
            continue;
        }
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
                // One bit set (tested without a population count, which
                // the baseline x86-64 target computes bit by bit).
                d = if choices & (choices - 1) == 0 {
                    choices.trailing_zeros() as usize
                } else {
                    // A saddle: the two ways on are a left and a right turn.
                    // Ink is on the left, so turning right crosses to the
                    // diagonal ink pixel (joining), turning left hugs this
                    // one. Both walks through the saddle ask the same
                    // question, so its two edge pairs stay consistent.
                    let join = options
                        .turn_policy
                        .joins_ink_at(image, x as usize, y as usize);
                    if join { (d + 1) % 4 } else { (d + 3) % 4 }
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
        start += 1;
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
/// it (the same connected ink component, diagonal touches joined as the
/// turn policy says), in scan order of the outlines.
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

/// A word of eight ink bytes (1 in every byte), for scanning rows eight
/// pixels at a time.
const ONES: u64 = u64::from_ne_bytes([1; 8]);

/// The first ink pixel of `row` at or after `from`, eight pixels a step.
fn next_ink(row: &[u8], from: usize) -> Option<usize> {
    let mut x = from;
    while let Some(bytes) = row.get(x..x + 8) {
        // Ink bytes become zero; the lowest zero byte is flagged exactly
        // by the borrow trick (bytes above it may be flagged falsely).
        let v = u64::from_le_bytes(bytes.try_into().expect("8 bytes")) ^ ONES;
        let zero = v.wrapping_sub(ONES) & !v & (ONES << 7);
        if zero != 0 {
            return Some(x + zero.trailing_zeros() as usize / 8);
        }
        x += 8;
    }
    row[x..].iter().position(|&v| v == 1).map(|n| x + n)
}

/// The first pixel of `row` at or after `from` that is not ink (the row's
/// width if none), eight pixels a step.
fn next_background(row: &[u8], from: usize) -> usize {
    let mut x = from;
    while let Some(bytes) = row.get(x..x + 8) {
        let v = u64::from_le_bytes(bytes.try_into().expect("8 bytes")) ^ ONES;
        if v != 0 {
            return x + v.trailing_zeros() as usize / 8;
        }
        x += 8;
    }
    row[x..]
        .iter()
        .position(|&v| v != 1)
        .map_or(row.len(), |n| x + n)
}

/// Connected ink components, found on runs rather than pixels: each row's
/// runs of ink are joined with the overlapping runs of the row above, and
/// with the diagonally touching ones where the turn policy joins that
/// saddle, in a union–find. Only the paths' start
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
            while let Some(start) = next_ink(row, x) {
                let end = next_background(row, start);
                runs.push((start as u32, end as u32));
                x = end;
            }
        }
        row_first.push(runs.len());
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
                // Runs meet where they share a column, or where one ends at
                // the column the other starts (a saddle at that corner)
                // and the policy joins it.
                let meet = (sa < eb && sb < ea)
                    || (ea == sb && policy.joins_ink_at(image, ea as usize, y))
                    || (eb == sa && policy.joins_ink_at(image, sa as usize, y));
                if meet {
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
                        let (nx, ny) = (x + dx, y + dy);
                        // A diagonal step crosses the corner between the
                        // two pixels: allowed where the policy joins ink
                        // there (if it is no saddle, an orthogonal path
                        // joins them anyway).
                        let corner = ((x + dx.max(0)) as usize, (y + dy.max(0)) as usize);
                        let diagonal = dx != 0 && dy != 0;
                        if (dx, dy) == (0, 0)
                            || (diagonal
                                && image.is_ink(nx, ny)
                                && !policy.joins_ink_at(image, corner.0, corner.1))
                        {
                            continue;
                        }
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

    /// A `w × h` bitmap with about `density` tenths of its pixels ink
    /// (xorshift from `seed`).
    fn random_image(w: usize, h: usize, density: u64, seed: u64) -> BinaryImage {
        let mut s = seed | 1;
        let ink = (0..w * h)
            .map(|_| {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                u8::from(s % 10 < density)
            })
            .collect();
        BinaryImage {
            width: w,
            height: h,
            ink,
        }
    }

    /// The saddle majority by plain pixel lookups (off the image is
    /// background), the reference for `ink_majority`'s row-slice path.
    fn majority_by_pixels(image: &BinaryImage, x: isize, y: isize) -> bool {
        for r in 2..=4isize {
            let balance: i32 = (x - r..x + r)
                .flat_map(|px| (y - r..y + r).map(move |py| (px, py)))
                .filter(|&(px, py)| {
                    px == x - r || px == x + r - 1 || py == y - r || py == y + r - 1
                })
                .map(|(px, py)| if image.is_ink(px, py) { 1 } else { -1 })
                .sum();
            if balance != 0 {
                return balance > 0;
            }
        }
        false
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        /// The word-at-a-time run scans find what a byte-by-byte search
        /// finds, on rows holding values other than 0 and 1 too (they are
        /// background).
        #[test]
        fn run_scans_match_a_bytewise_search(
            row in proptest::collection::vec(prop_oneof![Just(0u8), Just(1), Just(2), Just(255), Just(0x81)], 0..40),
            from in 0usize..41,
        ) {
            let from = from.min(row.len());
            let ink = row[from..].iter().position(|&v| v == 1).map(|n| from + n);
            let background = row[from..].iter().position(|&v| v != 1).map_or(row.len(), |n| from + n);
            prop_assert_eq!(next_ink(&row, from), ink);
            prop_assert_eq!(next_background(&row, from), background);
        }

        /// The minority policy's count agrees with plain pixel lookups at
        /// every lattice vertex, inside the image and near its edges.
        #[test]
        fn saddle_majority_matches_pixel_lookups(
            w in 1usize..20,
            h in 1usize..20,
            density in 1u64..10,
            seed in any::<u64>(),
        ) {
            let image = random_image(w, h, density, seed);
            for y in 0..=h {
                for x in 0..=w {
                    prop_assert_eq!(
                        ink_majority(&image, x, y),
                        majority_by_pixels(&image, x as isize, y as isize),
                        "vertex ({}, {})", x, y
                    );
                }
            }
        }

        /// Run components partition the ink exactly as a pixel flood fill
        /// does (same pixels together, different apart), for every turn
        /// policy.
        #[test]
        fn run_components_match_a_flood_fill(
            w in 1usize..24,
            h in 1usize..24,
            density in 1u64..9,
            seed in any::<u64>(),
            policy in prop_oneof![
                Just(TurnPolicy::Minority),
                Just(TurnPolicy::JoinInk),
                Just(TurnPolicy::SplitInk),
            ],
        ) {
            let image = random_image(w, h, density, seed);
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

//! Curve fitting: lattice paths → optimal polygons → corners and cubic
//! Béziers → merged curves.
//!
//! This is the pipeline of Selinger's *Potrace: a polygon-based tracing
//! algorithm* (2003), written afresh in Rust:
//!
//! 1. **Straight runs.** For every point of the unit-step path, the
//!    furthest point such that the run between them is *straight*: it does
//!    not use all four directions and some line passes within half a pixel
//!    of every point (kept as a cone of admissible directions).
//! 2. **Optimal polygon.** Among polygons whose edges are straight runs,
//!    the one with the fewest edges, and among those the smallest penalty
//!    (edge length × RMS distance of the covered points to the edge), by
//!    dynamic programming.
//! 3. **Vertex adjustment.** Each vertex moves to the point within its unit
//!    square that best fits the least-squares lines of its two edges.
//! 4. **Smoothing and corners.** The curve runs from edge midpoint to edge
//!    midpoint; at each vertex, `alpha` (how far the vertex lies from the
//!    chord) decides between a corner (`alpha ≥` [`FitOptions::alpha_max`])
//!    and a cubic Bézier whose control points sit on the polygon edges.
//! 5. **Curve merging.** Runs of Béziers that turn the same way by less
//!    than 179° in total are replaced by one Bézier when it keeps the area
//!    and stays within [`FitOptions::tolerance`] of every edge and curve it
//!    replaces; again the fewest segments win, then the smallest error.

use crate::error::Error;
use crate::trace::Path;

/// A point in pixel coordinates (x right, y down).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Point {
    /// x.
    pub x: f64,
    /// y.
    pub y: f64,
}

impl Point {
    /// The point `(x, y)`.
    pub const fn new(x: f64, y: f64) -> Self {
        Point { x, y }
    }
    fn lerp(self, other: Point, t: f64) -> Point {
        Point::new(
            self.x + t * (other.x - self.x),
            self.y + t * (other.y - self.y),
        )
    }
    fn sub(self, o: Point) -> Point {
        Point::new(self.x - o.x, self.y - o.y)
    }
    fn cross(self, o: Point) -> f64 {
        self.x * o.y - self.y * o.x
    }
    fn dot(self, o: Point) -> f64 {
        self.x * o.x + self.y * o.y
    }
    fn dist(self, o: Point) -> f64 {
        self.sub(o).dot(self.sub(o)).sqrt()
    }
}

/// One segment of a [`Contour`]; it starts where the previous one ended.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Segment {
    /// A straight line to the point.
    Line(Point),
    /// A cubic Bézier with two control points, to the last point.
    Cubic(Point, Point, Point),
}

impl Segment {
    /// Where the segment ends.
    pub fn end(&self) -> Point {
        match *self {
            Segment::Line(p) | Segment::Cubic(_, _, p) => p,
        }
    }
}

/// A curve: starts at `start` and follows `segments`; a closed one ends
/// back at `start`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Contour {
    /// The first point (for a closed contour also the last segment's end).
    pub start: Point,
    /// The segments, in order.
    pub segments: Vec<Segment>,
    /// Whether the contour is closed (a region boundary) rather than an
    /// open stroke.
    pub closed: bool,
}

impl Contour {
    /// Signed area (positive for outlines, negative for holes, as in
    /// [`Path::area`]), exact for lines and Béziers alike.
    pub fn area(&self) -> f64 {
        let mut twice = 0.0;
        let mut p0 = self.start;
        for s in &self.segments {
            match *s {
                Segment::Line(p1) => twice += p0.cross(p1),
                Segment::Cubic(c1, c2, p3) => {
                    // ∮ x dy − y dx of a cubic, closed form.
                    twice += (6.0 * p0.cross(c1)
                        + 3.0 * p0.cross(c2)
                        + p0.cross(p3)
                        + 3.0 * c1.cross(c2)
                        + 3.0 * c1.cross(p3)
                        + 6.0 * c2.cross(p3))
                        / 10.0;
                }
            }
            p0 = s.end();
        }
        // y down: outlines (ink on the left) come out negative.
        -twice / 2.0
    }

    /// Points along the contour, `steps` per Bézier (for rendering and
    /// tests).
    pub fn flatten(&self, steps: usize) -> Vec<Point> {
        let mut out = vec![self.start];
        let mut p0 = self.start;
        for s in &self.segments {
            match *s {
                Segment::Line(p) => out.push(p),
                Segment::Cubic(c1, c2, p3) => {
                    for k in 1..=steps.max(1) {
                        out.push(bezier(k as f64 / steps.max(1) as f64, p0, c1, c2, p3));
                    }
                }
            }
            p0 = s.end();
        }
        out
    }
}

/// Curve-fitting options (potrace's defaults).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FitOptions {
    /// Corner threshold: 0 makes every vertex a corner (a polygon), 4/3 or
    /// more none (potrace `alphamax`, default 1).
    pub alpha_max: f64,
    /// Merge runs of Béziers into fewer ones.
    pub merge_curves: bool,
    /// How far a merged Bézier may stray from what it replaces, in pixels
    /// (potrace `opttolerance`, default 0.2).
    pub tolerance: f64,
}

impl Default for FitOptions {
    fn default() -> Self {
        FitOptions {
            alpha_max: 1.0,
            merge_curves: true,
            tolerance: 0.2,
        }
    }
}

impl FitOptions {
    /// Checks the options.
    pub fn validate(&self) -> Result<(), Error> {
        if !(self.alpha_max.is_finite() && self.alpha_max >= 0.0) {
            return Err(Error::InvalidParameter {
                name: "alpha_max",
                reason: format!("must be finite and ≥ 0, got {}", self.alpha_max),
            });
        }
        if !(self.tolerance.is_finite() && self.tolerance >= 0.0) {
            return Err(Error::InvalidParameter {
                name: "tolerance",
                reason: format!("must be finite and ≥ 0, got {}", self.tolerance),
            });
        }
        Ok(())
    }
}

/// Fits a traced path with lines and cubic Béziers.
///
/// ```
/// use vivace_vectorize::BinaryImage;
/// use vivace_vectorize::fit::{FitOptions, fit};
/// use vivace_vectorize::trace::{TraceOptions, trace};
/// // A filled 8×8 square stays a square: four corners, four straight sides.
/// let image = BinaryImage { width: 10, height: 10, ink: (0..100)
///     .map(|i| u8::from((1..9).contains(&(i % 10)) && (1..9).contains(&(i / 10))))
///     .collect() };
/// let path = &trace(&image, &TraceOptions::default())[0];
/// let contour = fit(path, &FitOptions::default());
/// assert!((contour.area() - 64.0).abs() < 1e-9);
/// ```
pub fn fit(path: &Path, options: &FitOptions) -> Contour {
    let vertices = SCRATCH.with(|scratch| {
        let scratch = &mut *scratch.borrow_mut();
        unit_steps_into(&path.points, &mut scratch.pts);
        let pts = &scratch.pts;
        let sums = Sums::new_in(pts, std::mem::take(&mut scratch.sums));
        straight_runs(pts, &mut scratch.runs);
        optimal_polygon(pts, &sums, &mut scratch.runs, &mut scratch.polygon);
        let mut vertices = adjust_vertices(pts, &sums, &scratch.polygon.poly, false);
        scratch.sums = sums.s;
        // Curve merging never merges across vertex 0, so where it sits
        // matters. An outline's is its top-left corner, as potrace's is. A
        // hole is traced clockwise from its top-left corner; potrace traces
        // it the other way and reverses its vertices, so its vertex 0 is the
        // first one clockwise after that corner: start there too. (Its
        // polygon comes from the walk the other way round, so in places
        // the two tracers' holes still differ.)
        if path.is_hole() && vertices.len() > 1 {
            vertices.rotate_left(1);
        }
        vertices
    });
    let curve = smooth(&vertices, options.alpha_max);
    let curve = if options.merge_curves {
        merge_curves(&curve, options.tolerance)
    } else {
        curve
    };
    curve.to_contour()
}

/// Fits an open lattice chain (4- or 8-connected steps, both ends kept
/// exactly) with
/// lines and cubic Béziers: the fewest straight runs (each within half a
/// pixel of its points, least squared distance among equals), then
/// potrace's corner rule at the inner vertices. Used where a boundary is
/// shared between regions and must be fitted once for both.
///
/// With `merge_tolerance`, straight runs may stray up to `run_slack` pixels
/// (at least ½) from the chord between their lattice ends, the inner
/// vertices are moved within their pixel squares onto the runs' fitted
/// lines, and runs of Béziers are then merged as in [`fit`] (potrace's
/// rule, within `merge_tolerance` pixels), never across a corner and never
/// moving the chain's two ends. Without it, `run_slack` is unused (½).
///
/// The polygon of a lattice chain hugs its staircase at a slack of ½, so
/// smooth runs only merge from a slack of about ¾ on: fewer nodes, at the
/// cost of following the pixels less closely.
pub fn fit_open(
    pts: &[(i64, i64)],
    alpha_max: f64,
    run_slack: f64,
    merge_tolerance: Option<f64>,
) -> Vec<Segment> {
    let n = pts.len();
    let at = |i: usize| Point::new(pts[i].0 as f64, pts[i].1 as f64);
    if n < 3 {
        return vec![Segment::Line(at(n - 1))];
    }
    let sums = Sums::new(pts);
    // Where the inner vertices will be moved onto the runs' fitted lines
    // (below), a run may reach points up to `run_slack` from the chord
    // between its lattice ends (each end may move half a pixel); otherwise
    // half a pixel.
    let slack = if merge_tolerance.is_some() {
        run_slack.max(0.5)
    } else {
        0.5
    };
    // reach[i]: the furthest j such that every point between lies within
    // `slack` of the line p_i → p_j (a cone of directions from p_i, cut
    // down by each point in turn), and the run does not double back.
    let reach: Vec<usize> = (0..n - 1)
        .map(|i| {
            let (mut lo, mut hi) = (f64::NEG_INFINITY, f64::INFINITY);
            let mut base = None;
            let first = (pts[i + 1].0 - pts[i].0, pts[i + 1].1 - pts[i].1);
            let mut j = i + 1;
            while j < n {
                let (dx, dy) = (pts[j].0 - pts[j - 1].0, pts[j].1 - pts[j - 1].1);
                if dx * first.0 + dy * first.1 < 0 {
                    break; // a step against the first: the run turns back
                }
                let d = at(j).sub(at(i));
                let len = d.dot(d).sqrt();
                let angle = d.y.atan2(d.x);
                let base = *base.get_or_insert(angle);
                // The angle relative to the first step, in (−π, π].
                let mut rel = angle - base;
                if rel > std::f64::consts::PI {
                    rel -= std::f64::consts::TAU;
                } else if rel <= -std::f64::consts::PI {
                    rel += std::f64::consts::TAU;
                }
                if rel < lo - 1e-12 || rel > hi + 1e-12 {
                    break;
                }
                if len > slack {
                    let half = (slack / len).asin();
                    lo = lo.max(rel - half);
                    hi = hi.min(rel + half);
                }
                j += 1;
            }
            j - 1
        })
        .collect();
    // Fewest edges from 0 to n − 1, then least squared distance.
    let mut best: Vec<(usize, f64, usize)> = vec![(usize::MAX, f64::INFINITY, 0); n];
    best[0] = (0, 0.0, 0);
    for i in 0..n - 1 {
        let (count, pen, _) = best[i];
        if count == usize::MAX {
            continue;
        }
        for (j, b) in best.iter_mut().enumerate().take(reach[i] + 1).skip(i + 1) {
            let p = pen + chord_penalty(pts, &sums, i, j);
            let c = count + 1;
            if c < b.0 || (c == b.0 && p < b.1) {
                *b = (c, p, i);
            }
        }
    }
    let mut vertices = vec![n - 1];
    while let Some(&v) = vertices.last() {
        if v == 0 {
            break;
        }
        vertices.push(best[v].2);
    }
    vertices.reverse();
    // Merging needs a polygon that turns one way along a smooth run: the
    // lattice vertices zigzag, so they are first moved within their pixel
    // squares onto the runs' fitted lines (as `fit` does).
    let v: Vec<Point> = if merge_tolerance.is_some() {
        adjust_vertices(pts, &sums, &vertices, true)
    } else {
        vertices.iter().map(|&i| at(i)).collect()
    };
    let m = v.len();
    // Piece 0 stands for the start (it is a corner, so no merge reaches
    // past it); piece j (1 ≤ j ≤ m − 2) runs from the previous piece's end
    // round vertex j (a corner or a Bézier) to the next edge's midpoint, the
    // last one to the end of the chain.
    let mut pieces = Vec::with_capacity(m - 1);
    pieces.push(Piece {
        corner: true,
        vertex: v[0],
        c1: v[0],
        c2: v[0],
        end: v[0],
        alpha: 0.0,
    });
    for j in 1..m - 1 {
        let (i, k) = (j - 1, j + 1);
        let from = if i == 0 { v[0] } else { v[i].lerp(v[j], 0.5) };
        let to = if k == m - 1 {
            v[k]
        } else {
            v[j].lerp(v[k], 0.5)
        };
        let alpha = corner_alpha(v[i], v[j], v[k]);
        pieces.push(if alpha >= alpha_max {
            Piece {
                corner: true,
                vertex: v[j],
                c1: v[j],
                c2: v[j],
                end: to,
                alpha,
            }
        } else {
            let a = alpha.clamp(0.55, 1.0);
            Piece {
                corner: false,
                vertex: v[j],
                c1: from.lerp(v[j], a),
                c2: to.lerp(v[j], a),
                end: to,
                alpha: a,
            }
        });
    }
    if let Some(tolerance) = merge_tolerance {
        pieces = merge_pieces(&pieces, tolerance, false);
    }
    let mut segments = segments_of(&pieces[1..]);
    if m == 2 {
        segments.push(Segment::Line(v[1]));
    }
    // The first segment is a zero-length line to the start: drop it, and
    // join lines that continue in the same direction.
    let start = v[0];
    let mut out: Vec<Segment> = Vec::with_capacity(segments.len());
    let mut prev_end = start;
    for s in segments {
        if let Segment::Line(p) = s {
            if p == prev_end {
                continue;
            }
            if let Some(Segment::Line(q)) = out.last().copied() {
                let before = out.len().checked_sub(2).map_or(start, |k| out[k].end());
                if area_sign(before, q, p).abs() < 1e-9 && q.sub(before).dot(p.sub(q)) > 0.0 {
                    *out.last_mut().expect("checked") = Segment::Line(p);
                    prev_end = p;
                    continue;
                }
            }
        }
        prev_end = s.end();
        out.push(s);
    }
    out
}

/// Sum of squared distances of points `i..=j` to the line through p_i and
/// p_j (no wrap).
fn chord_penalty(pts: &[(i64, i64)], sums: &Sums, i: usize, j: usize) -> f64 {
    let (s, k) = sums.over(i, j);
    let (ox, oy) = (
        pts[i].0 as f64 - sums.origin.0,
        pts[i].1 as f64 - sums.origin.1,
    );
    let (dx, dy) = ((pts[j].0 - pts[i].0) as f64, (pts[j].1 - pts[i].1) as f64);
    let len2 = dx * dx + dy * dy;
    // Σ (n·(p − o))² with n = (dy, −dx)/|d|.
    let sxx = s[2] - 2.0 * ox * s[0] + k * ox * ox;
    let syy = s[4] - 2.0 * oy * s[1] + k * oy * oy;
    let sxy = s[3] - ox * s[1] - oy * s[0] + k * ox * oy;
    ((dy * dy * sxx - 2.0 * dx * dy * sxy + dx * dx * syy) / len2).max(0.0)
}

/// potrace's corner measure at `v` between `u` and `w` (4/3 where the
/// chord degenerates).
fn corner_alpha(u: Point, v: Point, w: Point) -> f64 {
    let r = Point::new(-(w.y - u.y).signum_or_zero(), (w.x - u.x).signum_or_zero());
    let denom = r.y * (w.x - u.x) - r.x * (w.y - u.y);
    if denom != 0.0 {
        let dd = (area_sign(u, v, w) / denom).abs();
        (if dd > 1.0 { 1.0 - 1.0 / dd } else { 0.0 }) / 0.75
    } else {
        4.0 / 3.0
    }
}

impl Contour {
    /// The same curve run backwards (outline ↔ hole orientation).
    pub fn reversed(&self) -> Contour {
        let mut segments = Vec::with_capacity(self.segments.len());
        let mut ends: Vec<Point> = std::iter::once(self.start)
            .chain(self.segments.iter().map(Segment::end))
            .collect();
        let last = ends.pop().expect("start is always there");
        for (k, s) in self.segments.iter().enumerate().rev() {
            let to = ends[k];
            segments.push(match *s {
                Segment::Line(_) => Segment::Line(to),
                Segment::Cubic(c1, c2, _) => Segment::Cubic(c2, c1, to),
            });
        }
        Contour {
            start: last,
            segments,
            closed: self.closed,
        }
    }
}

/// Working buffers of [`fit`], sized by the path and reused from path to
/// path on each thread: allocating them afresh for every path was an
/// eighth of a binary trace. They keep the capacity of the longest path a
/// thread has fitted.
#[derive(Default)]
struct Scratch {
    pts: Vec<(i64, i64)>,
    sums: Vec<[f64; 5]>,
    runs: RunScratch,
    polygon: PolygonScratch,
}

thread_local! {
    static SCRATCH: std::cell::RefCell<Scratch> = std::cell::RefCell::default();
}

/// The path as every lattice point on it (unit steps), closing implicitly.
pub(crate) fn unit_steps(corners: &[(i32, i32)]) -> Vec<(i64, i64)> {
    let mut pts = Vec::new();
    unit_steps_into(corners, &mut pts);
    pts
}

/// [`unit_steps`] into `pts` (cleared first).
fn unit_steps_into(corners: &[(i32, i32)], pts: &mut Vec<(i64, i64)>) {
    pts.clear();
    for (i, &(x0, y0)) in corners.iter().enumerate() {
        let (x1, y1) = corners[(i + 1) % corners.len()];
        let (dx, dy) = ((x1 - x0).signum(), (y1 - y0).signum());
        let (mut x, mut y) = (x0, y0);
        while (x, y) != (x1, y1) {
            pts.push((i64::from(x), i64::from(y)));
            x += dx;
            y += dy;
        }
    }
}

/// Prefix sums of x, y, x², xy, y² relative to the first point, for
/// O(1) line fits and penalties over any run.
struct Sums {
    origin: (f64, f64),
    s: Vec<[f64; 5]>,
}

impl Sums {
    fn new(pts: &[(i64, i64)]) -> Self {
        Sums::new_in(pts, Vec::with_capacity(pts.len() + 1))
    }

    /// [`Sums::new`] in a recycled buffer.
    fn new_in(pts: &[(i64, i64)], mut s: Vec<[f64; 5]>) -> Self {
        let origin = (pts[0].0 as f64, pts[0].1 as f64);
        s.clear();
        let mut acc = [0.0; 5];
        s.push(acc);
        for &(x, y) in pts {
            let (x, y) = (x as f64 - origin.0, y as f64 - origin.1);
            acc[0] += x;
            acc[1] += y;
            acc[2] += x * x;
            acc[3] += x * y;
            acc[4] += y * y;
            s.push(acc);
        }
        Sums { origin, s }
    }

    /// Sums and count over points `i..=j` (`j` may run past the end once
    /// or more, wrapping around).
    fn over(&self, i: usize, j: usize) -> ([f64; 5], f64) {
        let n = self.s.len() - 1;
        // Almost every run ends before the end: skip the division then.
        let (laps, j) = if j < n { (0, j) } else { (j / n, j % n) };
        let mut out = [0.0; 5];
        for (k, o) in out.iter_mut().enumerate() {
            *o = self.s[j + 1][k] - self.s[i][k] + laps as f64 * self.s[n][k];
        }
        (out, (j + 1 + laps * n - i) as f64)
    }
}

/// `b` lies in the cyclic interval `[a, c)`.
fn cyclic(a: usize, b: usize, c: usize) -> bool {
    if a <= c {
        a <= b && b < c
    } else {
        a <= b || b < c
    }
}

fn cross_i(a: (i64, i64), b: (i64, i64)) -> i64 {
    a.0 * b.1 - a.1 * b.0
}

/// [`straight_runs`]' buffers: its result `lon` and two working rows.
#[derive(Default)]
struct RunScratch {
    next_turn: Vec<usize>,
    pivot: Vec<usize>,
    lon: Vec<usize>,
}

/// Resizes `v` to `n` entries of `value`, reusing its allocation.
fn refill<T: Copy>(v: &mut Vec<T>, n: usize, value: T) {
    v.clear();
    v.resize(n, value);
}

/// For each point `i`, the furthest `j` (cyclically) such that `i..j` is
/// straight, into `runs.lon`.
fn straight_runs(pts: &[(i64, i64)], runs: &mut RunScratch) {
    let n = pts.len();
    let RunScratch {
        next_turn,
        pivot,
        lon,
    } = runs;
    // next_turn[i]: the first index after i whose point leaves both the
    // row and the column of point i.
    refill(next_turn, n, 0);
    let mut k = 0;
    for i in (0..n).rev() {
        if pts[i].0 != pts[k].0 && pts[i].1 != pts[k].1 {
            k = i + 1;
        }
        next_turn[i] = k;
    }
    refill(pivot, n, 0);
    for i in (0..n).rev() {
        // Directions seen so far, one bit each (a bit mask in a register:
        // a `[bool; 4]` was stored a byte at a time and read back as one
        // word, and that failed store-to-load forwarding on every step).
        let mut seen = 0u8;
        // The cone of admissible directions from point i: `lo` × d ≥ 0
        // and `hi` × d ≤ 0 for every later point's offset d.
        let (mut lo, mut hi) = ((0i64, 0i64), (0i64, 0i64));
        let mut k1 = i;
        let mut k = next_turn[i];
        let found = loop {
            let (dx, dy) = (pts[k].0 - pts[k1].0, pts[k].1 - pts[k1].1);
            let dir = ((3 + 3 * dx.signum() + dy.signum()) / 2) as usize;
            seen |= 1 << dir;
            if seen == 0b1111 {
                break Some(k1);
            }
            let cur = (pts[k].0 - pts[i].0, pts[k].1 - pts[i].1);
            // Conditions combined with `&` and `|`, not `&&` and `||`:
            // the operands are cheap and have no side effects, and the
            // short-circuits (the offsets' signs below most of all)
            // compiled to branches on data the predictor cannot learn.
            if (cross_i(lo, cur) < 0) | (cross_i(hi, cur) > 0) {
                break None;
            }
            if (cur.0.abs() > 1) | (cur.1.abs() > 1) {
                let step = |up: bool| if up { 1 } else { -1 };
                let off = (
                    cur.0 + step((cur.1 >= 0) & ((cur.1 > 0) | (cur.0 < 0))),
                    cur.1 + step((cur.0 <= 0) & ((cur.0 < 0) | (cur.1 < 0))),
                );
                if cross_i(lo, off) >= 0 {
                    lo = off;
                }
                let off = (
                    cur.0 + step((cur.1 <= 0) & ((cur.1 < 0) | (cur.0 < 0))),
                    cur.1 + step((cur.0 >= 0) & ((cur.0 > 0) | (cur.1 < 0))),
                );
                if cross_i(hi, off) <= 0 {
                    hi = off;
                }
            }
            k1 = k;
            k = next_turn[k1];
            if !cyclic(k, i, k1) {
                break None;
            }
        };
        pivot[i] = match found {
            Some(p) => p,
            None => {
                // k1 was the last point inside the cone; go on from it
                // towards k as far as the cone allows.
                let d = (
                    (pts[k].0 - pts[k1].0).signum(),
                    (pts[k].1 - pts[k1].1).signum(),
                );
                let cur = (pts[k1].0 - pts[i].0, pts[k1].1 - pts[i].1);
                let (a, b) = (cross_i(lo, cur), cross_i(lo, d));
                let (c, e) = (cross_i(hi, cur), cross_i(hi, d));
                let mut j = i64::MAX;
                if b < 0 {
                    j = a.div_euclid(-b);
                }
                if e > 0 {
                    j = j.min((-c).div_euclid(e));
                }
                // a ≥ 0 and −c ≥ 0 (k1 was inside the cone), so j ≥ 0;
                // and the cone is never open both ways here. Bound the
                // step anyway.
                (k1 + (j.clamp(0, n as i64) as usize)) % n
            }
        };
    }
    // A run straight from i is straight from every point inside it too:
    // make the ends monotone.
    refill(lon, n, 0);
    let mut j = pivot[n - 1];
    lon[n - 1] = j;
    for i in (0..n - 1).rev() {
        if cyclic(i + 1, pivot[i], j) {
            j = pivot[i];
        }
        lon[i] = j;
    }
    let mut i = n - 1;
    while cyclic((i + 1) % n, j, lon[i]) {
        lon[i] = j;
        if i == 0 {
            break;
        }
        i -= 1;
    }
}

/// Penalty of the polygon edge from point `i` to point `j` (`j` may be
/// ≥ n): the edge length times the RMS distance of the points it covers to
/// the edge.
fn edge_penalty(pts: &[(i64, i64)], sums: &Sums, i: usize, j: usize) -> f64 {
    let n = pts.len();
    let (s, k) = sums.over(i, j);
    let (pi, pj) = (pts[i], pts[if j < n { j } else { j % n }]);
    let px = (pi.0 + pj.0) as f64 / 2.0 - sums.origin.0;
    let py = (pi.1 + pj.1) as f64 / 2.0 - sums.origin.1;
    let ey = (pj.0 - pi.0) as f64;
    let ex = -((pj.1 - pi.1) as f64);
    let a = (s[2] - 2.0 * s[0] * px) / k + px * px;
    let b = (s[3] - s[0] * py - s[1] * px) / k + px * py;
    let c = (s[4] - 2.0 * s[1] * py) / k + py * py;
    (ex * ex * a + 2.0 * ex * ey * b + ey * ey * c)
        .max(0.0)
        .sqrt()
}

/// [`optimal_polygon`]'s buffers: its result `poly` and its working rows.
#[derive(Default)]
struct PolygonScratch {
    back: Vec<usize>,
    hi: Vec<usize>,
    lo: Vec<usize>,
    pen: Vec<f64>,
    prev: Vec<usize>,
    poly: Vec<usize>,
}

/// The optimal polygon through point 0, as point indices, into
/// `polygon.poly`; `runs.lon` from [`straight_runs`] (its `pivot` row is
/// reused here for the edges' reach).
fn optimal_polygon(
    pts: &[(i64, i64)],
    sums: &Sums,
    runs: &mut RunScratch,
    polygon: &mut PolygonScratch,
) {
    let n = pts.len();
    let PolygonScratch {
        back,
        hi,
        lo,
        pen,
        prev,
        poly,
    } = polygon;
    let lon = &runs.lon;
    // reach[i]: the furthest j (no wrap, ≤ n) with an edge i → j.
    let reach = &mut runs.pivot;
    reach.clear();
    reach.extend((0..n).map(|i| {
        let mut c = (lon[(i + n - 1) % n] + n - 1) % n;
        if c == i {
            c = (i + 1) % n;
        }
        if c < i { n } else { c }
    }));
    // back[j]: the smallest i with an edge i → j.
    refill(back, n + 1, 0);
    let mut j = 1;
    for (i, &r) in reach.iter().enumerate() {
        while j <= r {
            back[j] = i;
            j += 1;
        }
    }
    // Greedy bounds: after k edges the walk is between lo[k] and hi[k].
    refill(hi, 1, 0);
    let mut i = 0;
    while i < n {
        i = reach[i];
        hi.push(i.min(n));
    }
    let m = hi.len() - 1;
    refill(lo, m + 1, 0);
    let mut i = n;
    for k in (1..=m).rev() {
        lo[k] = i;
        i = back[i];
    }
    refill(pen, n + 1, 0.0);
    refill(prev, n + 1, 0);
    for k in 1..=m {
        for i in lo[k]..=hi[k] {
            // The minimum kept by selects, not a branch: which candidate
            // wins is data the predictor cannot learn.
            let (mut best, mut best_from) = (f64::INFINITY, 0);
            for from in (back[i]..=hi[k - 1]).rev() {
                let p = edge_penalty(pts, sums, from, i) + pen[from];
                let better = p < best;
                best_from = if better { from } else { best_from };
                best = if better { p } else { best };
            }
            pen[i] = best;
            prev[i] = best_from;
        }
    }
    refill(poly, m, 0);
    let mut i = n;
    for k in (0..m).rev() {
        i = prev[i];
        poly[k] = i;
    }
}

type Quad = [[f64; 3]; 3];

fn quad_value(q: &Quad, w: Point) -> f64 {
    let v = [w.x, w.y, 1.0];
    let mut s = 0.0;
    for a in 0..3 {
        for b in 0..3 {
            s += v[a] * q[a][b] * v[b];
        }
    }
    s
}

/// Centroid and principal direction of points `i..=j` (relative to the
/// sums' origin).
fn line_fit(sums: &Sums, i: usize, j: usize) -> (Point, Point) {
    let (s, k) = sums.over(i, j);
    let ctr = Point::new(s[0] / k, s[1] / k);
    let mut a = (s[2] - s[0] * s[0] / k) / k;
    let b = (s[3] - s[0] * s[1] / k) / k;
    let mut c = (s[4] - s[1] * s[1] / k) / k;
    let lambda = (a + c + ((a - c) * (a - c) + 4.0 * b * b).sqrt()) / 2.0;
    a -= lambda;
    c -= lambda;
    let dir = if a.abs() >= c.abs() {
        let l = (a * a + b * b).sqrt();
        if l == 0.0 {
            Point::default()
        } else {
            Point::new(-b / l, a / l)
        }
    } else {
        let l = (c * c + b * b).sqrt();
        if l == 0.0 {
            Point::default()
        } else {
            Point::new(-c / l, b / l)
        }
    };
    (ctr, dir)
}

/// Moves each polygon vertex to the best point in its unit square: the
/// least squared distance to the fitted lines of its two edges. An `open`
/// chain's first and last vertices stay where they are.
fn adjust_vertices(pts: &[(i64, i64)], sums: &Sums, poly: &[usize], open: bool) -> Vec<Point> {
    let (n, m) = (pts.len(), poly.len());
    let origin = Point::new(sums.origin.0, sums.origin.1);
    // The squared distance to each edge's fitted line, as a quadratic form.
    let lines: Vec<Quad> = (0..m)
        .map(|i| {
            let j = (poly[(i + 1) % m] + n - poly[i]) % n + poly[i];
            let (ctr, dir) = line_fit(sums, poly[i], j);
            let d = dir.dot(dir);
            let mut q = [[0.0; 3]; 3];
            if d != 0.0 {
                let v = [dir.y, -dir.x, dir.x * ctr.y - dir.y * ctr.x];
                for a in 0..3 {
                    for b in 0..3 {
                        q[a][b] = v[a] * v[b] / d;
                    }
                }
            }
            q
        })
        .collect();
    (0..m)
        .map(|i| {
            let p = pts[poly[i]];
            if open && (i == 0 || i == m - 1) {
                return Point::new(p.0 as f64, p.1 as f64);
            }
            let s = Point::new(p.0 as f64, p.1 as f64).sub(origin);
            let (a, b) = (&lines[(i + m - 1) % m], &lines[i]);
            let mut q: Quad = std::array::from_fn(|r| std::array::from_fn(|c| a[r][c] + b[r][c]));
            // Unconstrained minimum; parallel lines make the form singular,
            // so add a term pulling towards s along the free direction.
            let w = loop {
                let det = q[0][0] * q[1][1] - q[0][1] * q[1][0];
                if det != 0.0 {
                    break Point::new(
                        (-q[0][2] * q[1][1] + q[1][2] * q[0][1]) / det,
                        (q[0][2] * q[1][0] - q[1][2] * q[0][0]) / det,
                    );
                }
                let v = if q[0][0] > q[1][1] {
                    [-q[0][1], q[0][0]]
                } else if q[1][1] != 0.0 {
                    [-q[1][1], q[1][0]]
                } else {
                    [1.0, 0.0]
                };
                let d = v[0] * v[0] + v[1] * v[1];
                let v = [v[0], v[1], -v[1] * s.y - v[0] * s.x];
                for r in 0..3 {
                    for c in 0..3 {
                        q[r][c] += v[r] * v[c] / d;
                    }
                }
            };
            if (w.x - s.x).abs() <= 0.5 && (w.y - s.y).abs() <= 0.5 {
                return w.add_origin(origin);
            }
            // The minimum lies on the square's border: its sides, then its
            // corners.
            let mut best = (quad_value(&q, s), s);
            let mut consider = |w: Point| {
                let v = quad_value(&q, w);
                if v < best.0 {
                    best = (v, w);
                }
            };
            for z in [-0.5, 0.5] {
                if q[0][0] != 0.0 {
                    let y = s.y + z;
                    let x = -(q[0][1] * y + q[0][2]) / q[0][0];
                    if (x - s.x).abs() <= 0.5 {
                        consider(Point::new(x, y));
                    }
                }
                if q[1][1] != 0.0 {
                    let x = s.x + z;
                    let y = -(q[1][0] * x + q[1][2]) / q[1][1];
                    if (y - s.y).abs() <= 0.5 {
                        consider(Point::new(x, y));
                    }
                }
            }
            for dx in [-0.5, 0.5] {
                for dy in [-0.5, 0.5] {
                    consider(Point::new(s.x + dx, s.y + dy));
                }
            }
            best.1.add_origin(origin)
        })
        .collect()
}

impl Point {
    fn add_origin(self, o: Point) -> Point {
        Point::new(self.x + o.x, self.y + o.y)
    }
}

/// One piece of the smoothed curve, around polygon vertex `vertex`: from
/// the previous piece's `end` to this `end` (the midpoint of the next edge).
#[derive(Clone, Copy, Debug)]
struct Piece {
    corner: bool,
    vertex: Point,
    c1: Point,
    c2: Point,
    end: Point,
    alpha: f64,
}

struct Curve {
    pieces: Vec<Piece>,
}

impl Curve {
    fn to_contour(&self) -> Contour {
        let m = self.pieces.len();
        Contour {
            start: self.pieces[m - 1].end,
            segments: segments_of(&self.pieces),
            closed: true,
        }
    }
}

/// The segments of consecutive pieces: two lines through a corner's vertex,
/// one Bézier otherwise.
fn segments_of(pieces: &[Piece]) -> Vec<Segment> {
    let mut segments = Vec::with_capacity(2 * pieces.len());
    for p in pieces {
        if p.corner {
            segments.push(Segment::Line(p.vertex));
            segments.push(Segment::Line(p.end));
        } else {
            segments.push(Segment::Cubic(p.c1, p.c2, p.end));
        }
    }
    segments
}

/// (p1 − p0) × (p2 − p0).
fn area_sign(p0: Point, p1: Point, p2: Point) -> f64 {
    p1.sub(p0).cross(p2.sub(p0))
}

/// Corners and Béziers around each vertex.
fn smooth(v: &[Point], alpha_max: f64) -> Curve {
    let m = v.len();
    let pieces = (0..m)
        .map(|j| {
            let (i, k) = ((j + m - 1) % m, (j + 1) % m);
            let end = v[k].lerp(v[j], 0.5);
            // Distance of v[j] from the chord v[i]–v[k], in units of the
            // chord's L∞ width: alpha = 4/3·(1 − 1/dd).
            let alpha = corner_alpha(v[i], v[j], v[k]);
            if alpha >= alpha_max {
                Piece {
                    corner: true,
                    vertex: v[j],
                    c1: v[j],
                    c2: v[j],
                    end,
                    alpha,
                }
            } else {
                let a = alpha.clamp(0.55, 1.0);
                Piece {
                    corner: false,
                    vertex: v[j],
                    c1: v[i].lerp(v[j], 0.5 + 0.5 * a),
                    c2: v[k].lerp(v[j], 0.5 + 0.5 * a),
                    end,
                    alpha: a,
                }
            }
        })
        .collect();
    Curve { pieces }
}

trait SignumOrZero {
    fn signum_or_zero(self) -> f64;
}

impl SignumOrZero for f64 {
    fn signum_or_zero(self) -> f64 {
        if self > 0.0 {
            1.0
        } else if self < 0.0 {
            -1.0
        } else {
            0.0
        }
    }
}

fn bezier(t: f64, p0: Point, p1: Point, p2: Point, p3: Point) -> Point {
    let s = 1.0 - t;
    let (a, b, c, d) = (s * s * s, 3.0 * s * s * t, 3.0 * s * t * t, t * t * t);
    Point::new(
        a * p0.x + b * p1.x + c * p2.x + d * p3.x,
        a * p0.y + b * p1.y + c * p2.y + d * p3.y,
    )
}

/// The parameter in [0, 1] where the Bézier runs parallel to `q1 − q0`, if
/// any.
fn tangent_at(p: [Point; 4], q0: Point, q1: Point) -> Option<f64> {
    let d = q1.sub(q0);
    let a = p[1].sub(p[0]).cross(d);
    let b = p[2].sub(p[1]).cross(d);
    let c = p[3].sub(p[2]).cross(d);
    let (qa, qb, qc) = (a - 2.0 * b + c, -2.0 * a + 2.0 * b, a);
    let disc = qb * qb - 4.0 * qa * qc;
    if qa == 0.0 || disc < 0.0 {
        return None;
    }
    let s = disc.sqrt();
    [(-qb + s) / (2.0 * qa), (-qb - s) / (2.0 * qa)]
        .into_iter()
        .find(|t| (0.0..=1.0).contains(t))
}

/// cos 179°: merged runs must turn by less than this.
const COS_179: f64 = -0.999_847_695_156_391_3;

struct Merged {
    pen: f64,
    c1: Point,
    c2: Point,
    end: Point,
    alpha: f64,
    s: f64,
}

/// Replaces runs of Béziers with single ones where the tolerance allows.
fn merge_curves(curve: &Curve, tolerance: f64) -> Curve {
    Curve {
        pieces: merge_pieces(&curve.pieces, tolerance, true),
    }
}

/// potrace's curve merging over `p`: a closed curve (indices wrap), or an
/// open chain whose piece 0 is a corner standing for its start (nothing
/// merges across either end).
fn merge_pieces(p: &[Piece], tolerance: f64, closed: bool) -> Vec<Piece> {
    let m = p.len();
    if m < 2 {
        return p.to_vec();
    }
    // Turning direction at each Bézier vertex (0 at corners).
    let conv: Vec<f64> = (0..m)
        .map(|i| {
            if p[i].corner {
                0.0
            } else {
                // An open chain's last vertex turns towards its end.
                let next = if !closed && i == m - 1 {
                    p[i].end
                } else {
                    p[(i + 1) % m].vertex
                };
                area_sign(p[(i + m - 1) % m].vertex, p[i].vertex, next).signum_or_zero()
            }
        })
        .collect();
    // Prefix areas of the curve (fan from vertex 0), to compare a merged
    // Bézier's area with what it replaces.
    let mut areac = vec![0.0f64; m + 1];
    let o = p[0].vertex;
    let mut area = 0.0;
    for i in 0..m {
        let i1 = (i + 1) % m;
        if !p[i1].corner && (closed || i1 != 0) {
            let a = p[i1].alpha;
            area += 0.3 * a * (4.0 - a) * area_sign(p[i].end, p[i1].vertex, p[i1].end) / 2.0;
            area += area_sign(o, p[i].end, p[i1].end) / 2.0;
        }
        areac[i + 1] = area;
    }
    let try_merge = |i: usize, j: usize| -> Option<Merged> {
        if i == j {
            return None;
        }
        let i1 = (i + 1) % m;
        let c = conv[i1];
        if c == 0.0 {
            return None;
        }
        let d = p[i].vertex.dist(p[i1].vertex);
        let mut k = i1;
        while k != j {
            let k1 = (k + 1) % m;
            if conv[k1] != c {
                return None;
            }
            // The vertex after k1's (an open chain's last: its end).
            let after = if !closed && k1 == m - 1 {
                p[k1].end
            } else {
                p[(k + 2) % m].vertex
            };
            let e0 = p[i1].vertex.sub(p[i].vertex);
            let e1 = after.sub(p[k1].vertex);
            if e0.cross(e1).signum_or_zero() != c {
                return None;
            }
            if e0.dot(e1) < d * p[k1].vertex.dist(after) * COS_179 {
                return None;
            }
            k = k1;
        }
        let p0 = p[i].end;
        let mut p1 = p[i1].vertex;
        let mut p2 = p[j].vertex;
        let p3 = p[j].end;
        let mut area = areac[j] - areac[i] - area_sign(o, p0, p3) / 2.0;
        if i >= j {
            if !closed {
                return None;
            }
            area += areac[m];
        }
        let a1 = area_sign(p0, p1, p2);
        let a2 = area_sign(p0, p1, p3);
        let a3 = area_sign(p0, p2, p3);
        let a4 = a1 + a3 - a2;
        if a2 == a1 || a3 == a4 {
            return None;
        }
        let t = a3 / (a3 - a4);
        let s = a2 / (a2 - a1);
        let big_a = a2 * t / 2.0;
        if big_a == 0.0 {
            return None;
        }
        let r = area / big_a;
        let alpha = 2.0 - (4.0 - r / 0.3).sqrt();
        if !alpha.is_finite() {
            return None;
        }
        p1 = p0.lerp(p1, t * alpha);
        p2 = p3.lerp(p2, s * alpha);
        let bez = [p0, p1, p2, p3];
        let mut pen = 0.0;
        // Within tolerance of each polygon edge it replaces…
        let mut k = i1;
        while k != j {
            let k1 = (k + 1) % m;
            let t = tangent_at(bez, p[k].vertex, p[k1].vertex)?;
            let pt = bezier(t, p0, p1, p2, p3);
            let d = p[k].vertex.dist(p[k1].vertex);
            if d == 0.0 {
                return None;
            }
            let d1 = area_sign(p[k].vertex, p[k1].vertex, pt) / d;
            if d1.abs() > tolerance {
                return None;
            }
            if p[k1].vertex.sub(p[k].vertex).dot(pt.sub(p[k].vertex)) < 0.0
                || p[k].vertex.sub(p[k1].vertex).dot(pt.sub(p[k1].vertex)) < 0.0
            {
                return None;
            }
            pen += d1 * d1;
            k = k1;
        }
        // …and of each curve piece it replaces.
        let mut k = i;
        while k != j {
            let k1 = (k + 1) % m;
            let t = tangent_at(bez, p[k].end, p[k1].end)?;
            let pt = bezier(t, p0, p1, p2, p3);
            let d = p[k].end.dist(p[k1].end);
            if d == 0.0 {
                return None;
            }
            let mut d1 = area_sign(p[k].end, p[k1].end, pt) / d;
            let mut d2 = area_sign(p[k].end, p[k1].end, p[k1].vertex) / d * 0.75 * p[k1].alpha;
            if d2 < 0.0 {
                d1 = -d1;
                d2 = -d2;
            }
            if d1 < d2 - tolerance {
                return None;
            }
            if d1 < d2 {
                pen += (d1 - d2) * (d1 - d2);
            }
            k = k1;
        }
        Some(Merged {
            pen,
            c1: p1,
            c2: p2,
            end: p3,
            alpha,
            s,
        })
    };
    // Fewest segments from piece 0's end round to itself (an open chain:
    // on to the last piece's end), then least penalty.
    let last = if closed { m } else { m - 1 };
    let mut prev = vec![0usize; m + 1];
    let mut pen = vec![0.0f64; m + 1];
    let mut len = vec![0usize; m + 1];
    let mut merged: Vec<Option<Merged>> = (0..=m).map(|_| None).collect();
    for j in 1..=last {
        prev[j] = j - 1;
        pen[j] = pen[j - 1];
        len[j] = len[j - 1] + 1;
        for i in (0..j.saturating_sub(1)).rev() {
            let Some(o) = try_merge(i, j % m) else {
                break;
            };
            if len[j] > len[i] + 1 || (len[j] == len[i] + 1 && pen[j] > pen[i] + o.pen) {
                prev[j] = i;
                pen[j] = pen[i] + o.pen;
                len[j] = len[i] + 1;
                merged[j] = Some(o);
            }
        }
    }
    let mut pieces = Vec::with_capacity(len[last] + 1);
    let mut j = last;
    while j > 0 {
        let jm = j % m;
        if prev[j] == j - 1 {
            pieces.push(p[jm]);
        } else {
            let o = merged[j]
                .as_ref()
                .expect("a merge is recorded where prev skips");
            pieces.push(Piece {
                corner: false,
                vertex: p[jm].end.lerp(p[jm].vertex, o.s),
                c1: o.c1,
                c2: o.c2,
                end: o.end,
                alpha: o.alpha,
            });
        }
        j = prev[j];
    }
    if !closed {
        pieces.push(p[0]);
    }
    pieces.reverse();
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::threshold::BinaryImage;
    use crate::trace::{TraceOptions, trace};

    fn disc(size: usize, r: f64) -> BinaryImage {
        let c = size as f64 / 2.0;
        let ink = (0..size * size)
            .map(|i| {
                let (x, y) = ((i % size) as f64 + 0.5, (i / size) as f64 + 0.5);
                u8::from((x - c).hypot(y - c) <= r)
            })
            .collect();
        BinaryImage {
            width: size,
            height: size,
            ink,
        }
    }

    /// A ring's hole, fitted as potrace 1.16 fits it (`potrace -b svg` on
    /// the same bitmap, which writes tenths of a pixel): the same start,
    /// the same four Béziers. Cut at its top-left corner instead, the
    /// curve starts at (45.8, 28.3) and its Béziers differ.
    #[test]
    fn a_hole_is_cut_and_merged_where_potrace_does_it() {
        let size = 90;
        let ink = (0..size * size)
            .map(|i| {
                let (x, y) = ((i % size) as f64 + 0.5, (i / size) as f64 + 0.5);
                let r = (x - 44.3).hypot(y - 45.1);
                u8::from(r > 17.0 && r <= 38.0)
            })
            .collect();
        let image = BinaryImage {
            width: size,
            height: size,
            ink,
        };
        let paths = trace(&image, &TraceOptions::default());
        let hole = paths
            .iter()
            .find(|p| p.is_hole())
            .expect("a ring has a hole");
        let c = fit(hole, &FitOptions::default());
        let potrace = [
            (53.9, 31.3),
            (66.4, 39.6),
            (61.5, 60.1),
            (46.6, 61.7),
            (40.7, 62.4),
            (35.7, 60.6),
            (32.1, 56.5),
            (27.9, 51.7),
            (26.4, 46.1),
            (27.8, 41.1),
            (31.3, 29.5),
            (43.9, 24.7),
            (53.9, 31.3),
        ];
        let mut ours = vec![c.start];
        for s in &c.segments {
            match *s {
                Segment::Cubic(a, b, e) => ours.extend([a, b, e]),
                Segment::Line(e) => ours.push(e),
            }
        }
        assert_eq!(ours.len(), potrace.len(), "{:?}", c.segments);
        for (p, &(x, y)) in ours.iter().zip(&potrace) {
            assert!(
                (p.x - x).abs() <= 0.06 && (p.y - y).abs() <= 0.06,
                "{p:?} vs potrace ({x}, {y})"
            );
        }
    }

    #[test]
    fn a_disc_becomes_a_few_curves_of_the_right_area() {
        let image = disc(64, 25.0);
        let paths = trace(&image, &TraceOptions::default());
        assert_eq!(paths.len(), 1);
        let c = fit(&paths[0], &FitOptions::default());
        let exact = std::f64::consts::PI * 25.0 * 25.0;
        assert!(
            (c.area() - exact).abs() / exact < 0.02,
            "area {} vs {exact}",
            c.area()
        );
        // potrace 1.16 gives this disc 6 Béziers.
        assert!(c.segments.len() <= 6, "{} segments", c.segments.len());
        assert!(
            c.segments.iter().all(|s| matches!(s, Segment::Cubic(..))),
            "a disc has no corners"
        );
        // Every point on the curve is within a pixel of the circle.
        for p in c.flatten(16) {
            let r = (p.x - 32.0).hypot(p.y - 32.0);
            assert!((r - 25.0).abs() < 1.0, "{p:?} at radius {r}");
        }
    }

    #[test]
    fn a_rectangle_keeps_straight_sides_and_four_corners() {
        let (w, h) = (40, 30);
        let ink = (0..w * h)
            .map(|i| u8::from((5..35).contains(&(i % w)) && (4..25).contains(&(i / w))))
            .collect();
        let image = BinaryImage {
            width: w,
            height: h,
            ink,
        };
        let c = fit(
            &trace(&image, &TraceOptions::default())[0],
            &FitOptions::default(),
        );
        assert_eq!(c.segments.len(), 8, "{:?}", c.segments);
        assert!(c.segments.iter().all(|s| matches!(s, Segment::Line(_))));
        let corners: Vec<Point> = c.segments.iter().step_by(2).map(Segment::end).collect();
        for want in [(5.0, 4.0), (35.0, 4.0), (35.0, 25.0), (5.0, 25.0)] {
            assert!(
                corners
                    .iter()
                    .any(|p| (p.x - want.0).abs() < 1e-9 && (p.y - want.1).abs() < 1e-9),
                "corner {want:?} missing from {corners:?}"
            );
        }
        assert!((c.area() - 30.0 * 21.0).abs() < 1e-9);
    }

    #[test]
    fn holes_keep_their_sign_and_polygon_mode_has_only_lines() {
        let image = disc(48, 20.0);
        let mut ink = image.ink.clone();
        for (i, v) in ink.iter_mut().enumerate() {
            let (x, y) = ((i % 48) as f64 + 0.5, (i / 48) as f64 + 0.5);
            if (x - 24.0).hypot(y - 24.0) < 10.0 {
                *v = 0;
            }
        }
        let ring = BinaryImage { ink, ..image };
        let paths = trace(&ring, &TraceOptions::default());
        let polygon = FitOptions {
            alpha_max: 0.0,
            ..FitOptions::default()
        };
        for path in &paths {
            let curved = fit(path, &FitOptions::default());
            assert_eq!(curved.area() < 0.0, path.is_hole());
            assert!((curved.area() - path.area as f64).abs() < 0.03 * path.area.abs() as f64);
            let poly = fit(path, &polygon);
            assert!(poly.segments.iter().all(|s| matches!(s, Segment::Line(_))));
        }
    }

    #[test]
    fn single_pixels_and_thin_lines_fit() {
        for (w, h, ink) in [
            (1, 1, vec![1u8]),
            (3, 1, vec![1, 1, 1]),
            (2, 2, vec![1, 0, 0, 1]),
            // A one-pixel hole.
            (3, 3, vec![1, 1, 1, 1, 0, 1, 1, 1, 1]),
        ] {
            let image = BinaryImage {
                width: w,
                height: h,
                ink,
            };
            for path in trace(&image, &TraceOptions::default()) {
                let c = fit(&path, &FitOptions::default());
                assert!(!c.segments.is_empty());
                assert_eq!(c.area() > 0.0, !path.is_hole(), "{c:?}");
            }
        }
    }

    #[test]
    fn open_chains_keep_their_ends_and_stay_near_their_points() {
        // A staircase at 1:3 and an L: ends fixed, every lattice point
        // within a pixel of the fitted curve.
        let mut stairs = vec![];
        for k in 0..30i64 {
            stairs.push((k, k / 3));
        }
        let mut l_shape: Vec<(i64, i64)> = (0..10).map(|y| (0, y)).collect();
        l_shape.extend((1..10).map(|x| (x, 9)));
        for pts in [
            stairs,
            l_shape,
            vec![(0, 0), (1, 0)],
            vec![(0, 0), (1, 0), (1, 1)],
        ] {
            let segs = fit_open(&pts, 1.0, 0.5, None);
            let start = Point::new(pts[0].0 as f64, pts[0].1 as f64);
            let end = pts[pts.len() - 1];
            assert_eq!(
                segs.last().unwrap().end(),
                Point::new(end.0 as f64, end.1 as f64)
            );
            let c = Contour {
                start,
                segments: segs,
                closed: false,
            };
            let curve = c.flatten(32);
            for &(x, y) in &pts {
                let p = Point::new(x as f64, y as f64);
                let d = curve
                    .windows(2)
                    .map(|w| {
                        let (a, b) = (w[0], w[1]);
                        let ab = b.sub(a);
                        let t = (p.sub(a).dot(ab) / ab.dot(ab).max(1e-12)).clamp(0.0, 1.0);
                        a.lerp(b, t).dist(p)
                    })
                    .fold(f64::INFINITY, f64::min);
                assert!(d < 1.0, "{p:?} is {d} from {c:?}");
            }
        }
        // The L keeps its corner as two straight lines.
        let mut l_shape: Vec<(i64, i64)> = (0..10).map(|y| (0, y)).collect();
        l_shape.extend((1..10).map(|x| (x, 9)));
        assert_eq!(
            fit_open(&l_shape, 1.0, 0.5, None),
            vec![
                Segment::Line(Point::new(0.0, 9.0)),
                Segment::Line(Point::new(9.0, 9.0))
            ]
        );
    }

    /// A quarter circle as a 4-connected lattice chain.
    fn arc(r: f64) -> Vec<(i64, i64)> {
        let mut pts = vec![(r.round() as i64, 0)];
        let steps = 2000;
        for k in 1..=steps {
            let t = std::f64::consts::FRAC_PI_2 * k as f64 / steps as f64;
            let q = ((r * t.cos()).round() as i64, (r * t.sin()).round() as i64);
            let last = *pts.last().unwrap();
            if q != last {
                // Stay 4-connected: step x first, then y.
                if q.0 != last.0 && q.1 != last.1 {
                    pts.push((q.0, last.1));
                }
                pts.push(q);
            }
        }
        pts
    }

    #[test]
    fn open_chains_merge_their_curves_keeping_ends_and_accuracy() {
        let pts = arc(60.0);
        let plain = fit_open(&pts, 1.0, 0.5, None);
        // At a slack of ½ the polygon is the staircase: nothing to merge.
        assert_eq!(fit_open(&pts, 1.0, 0.5, Some(0.2)).len(), plain.len());
        let merged = fit_open(&pts, 1.0, 1.0, Some(0.2));
        assert!(
            merged.len() * 2 <= plain.len(),
            "{} merged vs {} plain segments",
            merged.len(),
            plain.len()
        );
        let end = pts[pts.len() - 1];
        assert_eq!(
            merged.last().unwrap().end(),
            Point::new(end.0 as f64, end.1 as f64)
        );
        let c = Contour {
            start: Point::new(pts[0].0 as f64, pts[0].1 as f64),
            segments: merged,
            closed: false,
        };
        let curve = c.flatten(64);
        // Every point of the curve stays within a pixel of the circle.
        for p in &curve {
            let d = (p.x.hypot(p.y) - 60.0).abs();
            assert!(d < 1.0, "{p:?} is {d} off the circle");
        }
        // A corner stops merging: the L is unchanged.
        let mut l_shape: Vec<(i64, i64)> = (0..10).map(|y| (0, y)).collect();
        l_shape.extend((1..10).map(|x| (x, 9)));
        assert_eq!(
            fit_open(&l_shape, 1.0, 1.0, Some(0.2)),
            fit_open(&l_shape, 1.0, 0.5, None)
        );
    }

    #[test]
    fn reversing_twice_is_the_identity_and_flips_the_area() {
        let c = fit(
            &trace(&disc(32, 10.0), &TraceOptions::default())[0],
            &FitOptions::default(),
        );
        let r = c.reversed();
        assert!((r.area() + c.area()).abs() < 1e-9);
        assert_eq!(r.reversed(), c);
    }

    #[test]
    fn bad_options_are_refused() {
        for o in [
            FitOptions {
                alpha_max: -1.0,
                ..FitOptions::default()
            },
            FitOptions {
                tolerance: f64::NAN,
                ..FitOptions::default()
            },
        ] {
            assert!(matches!(o.validate(), Err(Error::InvalidParameter { .. })));
        }
    }
}

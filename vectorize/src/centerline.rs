//! Centerline mode: strokes along the middle of ink lines, for line art,
//! handwriting and plots, where outlines would double every line.
//!
//! Binarise → Zhang–Suen thinning (Zhang & Suen 1984) to a one-pixel,
//! 8-connected skeleton → skeleton graph (chains of pixels between end
//! points and junctions; rings on their own) → pruning of short spurs
//! (branches from an end point to a junction shorter than
//! [`CenterlineOptions::prune`] × the line width there) → each chain fitted
//! with lines and Béziers through the pixel centres, stroked with the width
//! taken from the exact Euclidean distance transform along it
//! (Felzenszwalb & Huttenlocher 2012): twice the mean distance from the
//! skeleton to the background, less one pixel.

use rayon::prelude::*;

use crate::error::Error;
use crate::fit::{Contour, Point, Segment, fit_open};
use crate::pixels::PixelKernel;
use crate::raster::RgbaRaster;
use crate::threshold::{BinaryImage, Threshold, binarize};
use crate::vector::{Color, Shape, Stroke, Vector};

/// Centerline-mode options.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CenterlineOptions {
    /// How ink is told from background (default Otsu).
    pub threshold: Threshold,
    /// Spurs shorter than this many line widths are pruned (default 1.5).
    pub prune: f64,
    /// Chains shorter than this many pixels are dropped (default 3).
    pub min_length: usize,
    /// Corner threshold of the fitting (potrace `alphamax`, default 1).
    pub alpha_max: f64,
    /// Stroke colour (default black).
    pub color: Color,
}

impl Default for CenterlineOptions {
    fn default() -> Self {
        CenterlineOptions {
            threshold: Threshold::Otsu,
            prune: 1.5,
            min_length: 3,
            alpha_max: 1.0,
            color: Color::BLACK,
        }
    }
}

impl CenterlineOptions {
    /// Checks every parameter.
    pub fn validate(&self) -> Result<(), Error> {
        self.threshold.validate()?;
        for (name, v) in [("prune", self.prune), ("alpha_max", self.alpha_max)] {
            if !(v.is_finite() && v >= 0.0) {
                return Err(Error::InvalidParameter {
                    name,
                    reason: format!("must be finite and ≥ 0, got {v}"),
                });
            }
        }
        Ok(())
    }
}

/// Traces the centre lines of the ink of `raster`.
///
/// ```
/// use vivace_vectorize::RgbaRaster;
/// use vivace_vectorize::centerline::{CenterlineOptions, trace_centerline};
/// use vivace_vectorize::pixels::ScalarPixels;
/// // A horizontal bar 5 pixels thick: one stroke about 5 wide.
/// let px: Vec<u8> = (0..40 * 20)
///     .flat_map(|i| if (8..13).contains(&(i / 40)) && (4..36).contains(&(i % 40)) { [0, 0, 0, 255] } else { [255; 4] })
///     .collect();
/// let raster = RgbaRaster::new(40, 20, &px)?;
/// let v = trace_centerline(&raster, &CenterlineOptions::default(), &ScalarPixels)?;
/// assert_eq!(v.shapes.len(), 1);
/// let width = v.shapes[0].stroke.unwrap().width;
/// assert!((width - 5.0).abs() < 1.0, "{width}");
/// # Ok::<(), vivace_vectorize::Error>(())
/// ```
pub fn trace_centerline(
    raster: &RgbaRaster<'_>,
    options: &CenterlineOptions,
    kernel: &dyn PixelKernel,
) -> Result<Vector, Error> {
    options.validate()?;
    let bitmap = binarize(raster, options.threshold, kernel)?;
    Ok(centerline_of(&bitmap, options))
}

/// Traces the centre lines of an already binarised image.
pub fn centerline_of(bitmap: &BinaryImage, options: &CenterlineOptions) -> Vector {
    let (w, h) = (bitmap.width, bitmap.height);
    let dist = distance_transform(bitmap);
    let mut skeleton = bitmap.ink.clone();
    thin(&mut skeleton, w, h);
    let chains = prune(chains(&skeleton, w, h), &dist, w, options.prune);
    let shapes = chains
        .par_iter()
        .filter(|c| c.pixels.len() >= options.min_length)
        .map(|c| {
            let pts: Vec<(i64, i64)> = c
                .pixels
                .iter()
                .map(|&i| ((i % w) as i64, (i / w) as i64))
                .collect();
            let mean =
                c.pixels.iter().map(|&i| dist[i].sqrt()).sum::<f64>() / c.pixels.len() as f64;
            let width = (2.0 * mean - 1.0).max(1.0);
            let centre = |p: Point| Point::new(p.x + 0.5, p.y + 0.5);
            let segments = fit_open(&pts, options.alpha_max, 0.5, None)
                .into_iter()
                .map(|s| match s {
                    Segment::Line(p) => Segment::Line(centre(p)),
                    Segment::Cubic(a, b, p) => Segment::Cubic(centre(a), centre(b), centre(p)),
                })
                .collect();
            Shape {
                contours: vec![Contour {
                    start: Point::new(pts[0].0 as f64 + 0.5, pts[0].1 as f64 + 0.5),
                    segments,
                    closed: c.pixels.len() > 2 && c.pixels.first() == c.pixels.last(),
                }],
                fill: None,
                stroke: Some(Stroke {
                    color: options.color,
                    width,
                }),
            }
        })
        .collect();
    Vector {
        width: w,
        height: h,
        shapes,
    }
}

/// Squared Euclidean distance from each pixel centre to the nearest
/// background pixel centre (0 on background; outside the image counts as
/// background), by two passes of the 1-D lower-envelope transform.
pub fn distance_transform(bitmap: &BinaryImage) -> Vec<f64> {
    let (w, h) = (bitmap.width, bitmap.height);
    const FAR: f64 = 1e20;
    // Pad by one pixel of background on every side.
    let (pw, ph) = (w + 2, h + 2);
    let mut f = vec![0.0f64; pw * ph];
    for y in 0..h {
        for x in 0..w {
            if bitmap.ink[y * w + x] == 1 {
                f[(y + 1) * pw + x + 1] = FAR;
            }
        }
    }
    let mut line = Vec::new();
    let mut out = Vec::new();
    for x in 0..pw {
        line.clear();
        line.extend((0..ph).map(|y| f[y * pw + x]));
        envelope(&line, &mut out);
        for y in 0..ph {
            f[y * pw + x] = out[y];
        }
    }
    for y in 0..ph {
        line.clear();
        line.extend_from_slice(&f[y * pw..(y + 1) * pw]);
        envelope(&line, &mut out);
        f[y * pw..(y + 1) * pw].copy_from_slice(&out);
    }
    (0..w * h)
        .map(|i| f[(i / w + 1) * pw + i % w + 1])
        .collect()
}

/// d(q) = min_p (q − p)² + f(p), by the lower envelope of parabolas.
fn envelope(f: &[f64], d: &mut Vec<f64>) {
    let n = f.len();
    d.clear();
    d.resize(n, 0.0);
    let mut v = vec![0usize; n];
    let mut z = vec![0.0f64; n + 1];
    let mut k = 0;
    z[0] = f64::NEG_INFINITY;
    z[1] = f64::INFINITY;
    let sq = |q: usize| (q * q) as f64;
    for q in 1..n {
        loop {
            let p = v[k];
            let s = ((f[q] + sq(q)) - (f[p] + sq(p))) / (2.0 * q as f64 - 2.0 * p as f64);
            if s <= z[k] && k > 0 {
                k -= 1;
                continue;
            }
            if s <= z[k] {
                // k == 0: replace the first parabola.
                v[0] = q;
                z[1] = f64::INFINITY;
                break;
            }
            k += 1;
            v[k] = q;
            z[k] = s;
            z[k + 1] = f64::INFINITY;
            break;
        }
    }
    let mut k = 0;
    for (q, out) in d.iter_mut().enumerate() {
        while z[k + 1] < q as f64 {
            k += 1;
        }
        let p = v[k];
        *out = (q as f64 - p as f64).powi(2) + f[p];
    }
}

/// Zhang–Suen thinning in place (`1` = ink).
pub fn thin(ink: &mut [u8], w: usize, h: usize) {
    let at = |ink: &[u8], x: isize, y: isize| -> u8 {
        if x < 0 || y < 0 || x >= w as isize || y >= h as isize {
            0
        } else {
            ink[y as usize * w + x as usize]
        }
    };
    let mut remove = Vec::new();
    let mut candidates: Vec<usize> = (0..w * h).filter(|&i| ink[i] == 1).collect();
    loop {
        let mut changed = false;
        for step in 0..2 {
            remove.clear();
            for &i in &candidates {
                if ink[i] == 0 {
                    continue;
                }
                let (x, y) = ((i % w) as isize, (i / w) as isize);
                // P2..P9 clockwise from north.
                let p = [
                    at(ink, x, y - 1),
                    at(ink, x + 1, y - 1),
                    at(ink, x + 1, y),
                    at(ink, x + 1, y + 1),
                    at(ink, x, y + 1),
                    at(ink, x - 1, y + 1),
                    at(ink, x - 1, y),
                    at(ink, x - 1, y - 1),
                ];
                let b: u8 = p.iter().sum();
                let a = (0..8).filter(|&k| p[k] == 0 && p[(k + 1) % 8] == 1).count();
                let (p2, p4, p6, p8) = (p[0], p[2], p[4], p[6]);
                let ok = if step == 0 {
                    p2 * p4 * p6 == 0 && p4 * p6 * p8 == 0
                } else {
                    p2 * p4 * p8 == 0 && p2 * p6 * p8 == 0
                };
                if (2..=6).contains(&b) && a == 1 && ok {
                    remove.push(i);
                }
            }
            for &i in &remove {
                ink[i] = 0;
            }
            changed |= !remove.is_empty();
        }
        if !changed {
            break;
        }
        candidates.retain(|&i| ink[i] == 1);
    }
}

/// A skeleton chain: pixel indices in order; `ends` says which ends are end
/// points (degree 1), as opposed to junctions.
#[derive(Clone, Debug)]
struct Chain {
    pixels: Vec<usize>,
    free_ends: u8,
}

const NEIGHBOURS: [(isize, isize); 8] = [
    (1, 0),
    (1, 1),
    (0, 1),
    (-1, 1),
    (-1, 0),
    (-1, -1),
    (0, -1),
    (1, -1),
];

/// Splits the skeleton into chains between nodes (degree ≠ 2); rings
/// without nodes become closed chains.
fn chains(skel: &[u8], w: usize, h: usize) -> Vec<Chain> {
    let ink = move |x: isize, y: isize| {
        x >= 0
            && y >= 0
            && x < w as isize
            && y < h as isize
            && skel[y as usize * w + x as usize] == 1
    };
    // 8-connected links, except a diagonal one where the two pixels also
    // meet through a pixel beside both (a staircase step): that link is
    // redundant and would make false junctions.
    let neighbours = move |i: usize| {
        let (x, y) = ((i % w) as isize, (i / w) as isize);
        NEIGHBOURS.iter().filter_map(move |&(dx, dy)| {
            let (nx, ny) = (x + dx, y + dy);
            let diagonal_shortcut = dx != 0 && dy != 0 && (ink(x + dx, y) || ink(x, y + dy));
            (ink(nx, ny) && !diagonal_shortcut).then(|| ny as usize * w + nx as usize)
        })
    };
    let degree: Vec<u8> = (0..w * h)
        .map(|i| {
            if skel[i] == 1 {
                neighbours(i).count() as u8
            } else {
                0
            }
        })
        .collect();
    let is_node = |i: usize| skel[i] == 1 && degree[i] != 2;
    // Each skeleton link (pair of neighbouring pixels) is walked once.
    let mut visited = std::collections::HashSet::new();
    let key = |a: usize, b: usize| (a.min(b), a.max(b));
    let mut out = Vec::new();
    let walk =
        |start: usize, first: usize, visited: &mut std::collections::HashSet<(usize, usize)>| {
            let mut pixels = vec![start, first];
            visited.insert(key(start, first));
            let (mut prev, mut cur) = (start, first);
            while !is_node(cur) && cur != start {
                let Some(next) =
                    neighbours(cur).find(|&n| n != prev && !visited.contains(&key(cur, n)))
                else {
                    break;
                };
                visited.insert(key(cur, next));
                pixels.push(next);
                (prev, cur) = (cur, next);
            }
            let free_ends = u8::from(degree[start] == 1) + u8::from(degree[cur] == 1);
            Chain { pixels, free_ends }
        };
    for (i, &d) in degree.iter().enumerate() {
        if is_node(i) {
            if d == 0 {
                out.push(Chain {
                    pixels: vec![i],
                    free_ends: 2,
                });
                continue;
            }
            let ns: Vec<usize> = neighbours(i).collect();
            for n in ns {
                if !visited.contains(&key(i, n)) {
                    out.push(walk(i, n, &mut visited));
                }
            }
        }
    }
    // Rings: degree-2 pixels not yet walked.
    for i in 0..w * h {
        if skel[i] == 1 && degree[i] == 2 {
            let ns: Vec<usize> = neighbours(i).collect();
            if ns.iter().all(|&n| !visited.contains(&key(i, n))) {
                out.push(walk(i, ns[0], &mut visited));
            }
        }
    }
    out
}

/// Drops spurs: chains with one free end shorter than `factor` × the line
/// width at their junction end.
fn prune(chains: Vec<Chain>, dist: &[f64], _w: usize, factor: f64) -> Vec<Chain> {
    chains
        .into_iter()
        .filter(|c| {
            if c.free_ends != 1 {
                return true;
            }
            let junction_width = c
                .pixels
                .iter()
                .map(|&i| 2.0 * dist[i].sqrt())
                .fold(0.0, f64::max);
            c.pixels.len() as f64 >= factor * junction_width
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bitmap(w: usize, h: usize, f: impl Fn(usize, usize) -> bool) -> BinaryImage {
        BinaryImage {
            width: w,
            height: h,
            ink: (0..w * h).map(|i| u8::from(f(i % w, i / w))).collect(),
        }
    }

    #[test]
    fn the_distance_transform_is_exact() {
        let b = bitmap(23, 17, |x, y| (x * 7 + y * 3) % 11 != 0 && x % 9 != 4);
        let d = distance_transform(&b);
        for (i, &got) in d.iter().enumerate() {
            let (x, y) = ((i % 23) as i64, (i / 23) as i64);
            let mut best = i64::MAX;
            // Background includes the ring of pixels just outside.
            for by in -1..=17i64 {
                for bx in -1..=23i64 {
                    let inside = bx >= 0 && by >= 0 && bx < 23 && by < 17;
                    if !inside || b.ink[(by * 23 + bx) as usize] == 0 {
                        best = best.min((bx - x).pow(2) + (by - y).pow(2));
                    }
                }
            }
            assert_eq!(got, best as f64, "pixel ({x}, {y})");
        }
    }

    #[test]
    fn thinning_leaves_a_one_pixel_line_through_the_middle() {
        let (w, h) = (60, 20);
        let mut ink = bitmap(w, h, |x, y| (5..55).contains(&x) && (7..14).contains(&y)).ink;
        thin(&mut ink, w, h);
        let rows: Vec<usize> = (0..w * h).filter(|&i| ink[i] == 1).map(|i| i / w).collect();
        assert!(rows.len() >= 40, "{} pixels left", rows.len());
        assert!(rows.iter().all(|&r| (9..=11).contains(&r)), "{rows:?}");
    }

    #[test]
    fn a_cross_gives_four_strokes_meeting_in_the_middle() {
        let (w, h) = (61, 61);
        let b = bitmap(w, h, |x, y| {
            ((28..33).contains(&x) && (5..56).contains(&y))
                || ((28..33).contains(&y) && (5..56).contains(&x))
        });
        let v = centerline_of(&b, &CenterlineOptions::default());
        assert_eq!(v.shapes.len(), 4, "{:?}", v.shapes.len());
        for s in &v.shapes {
            let width = s.stroke.unwrap().width;
            assert!((width - 5.0).abs() < 1.5, "width {width}");
            let c = &s.contours[0];
            // Each arm reaches from near the centre to near its tip.
            let ends = [c.start, c.segments.last().unwrap().end()];
            let near_centre = ends.iter().any(|p| (p.x - 30.5).hypot(p.y - 30.5) < 4.0);
            let near_tip = ends.iter().any(|p| (p.x - 30.5).hypot(p.y - 30.5) > 20.0);
            assert!(near_centre && near_tip, "{ends:?}");
        }
    }

    #[test]
    fn a_ring_is_one_closed_chain() {
        let b = bitmap(40, 40, |x, y| {
            let r = (x as f64 + 0.5 - 20.0).hypot(y as f64 + 0.5 - 20.0);
            (10.0..14.0).contains(&r)
        });
        let v = centerline_of(&b, &CenterlineOptions::default());
        assert_eq!(v.shapes.len(), 1);
        for p in v.shapes[0].contours[0].flatten(8) {
            let r = (p.x - 20.0).hypot(p.y - 20.0);
            assert!((r - 12.0).abs() < 1.6, "{p:?} at radius {r}");
        }
    }

    #[test]
    fn bad_options_are_refused() {
        let o = CenterlineOptions {
            prune: -1.0,
            ..Default::default()
        };
        assert!(o.validate().is_err());
    }
}

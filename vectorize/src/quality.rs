//! Quality measurement: render an SVG back at the input size (resvg) and
//! compare it with the input: PSNR, SSIM, binary mismatch, and size
//! figures.
//!
//! Both images are composited over white first, so transparency compares
//! as the page it would be shown on.

use crate::error::Error;
use crate::raster::RgbaRaster;
use crate::vector::Vector;

/// How close a tracing is to its input.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Quality {
    /// Peak signal-to-noise ratio over R, G, B in dB (∞ when identical).
    pub psnr_db: f64,
    /// Mean SSIM of luma over 8×8 windows (stride 4), in [−1, 1].
    pub ssim: f64,
    /// Percentage of pixels on the other side of 50 % luma.
    pub mismatch_percent: f64,
    /// Number of `<path>` shapes.
    pub paths: usize,
    /// Number of segments.
    pub segments: usize,
    /// SVG size in bytes.
    pub bytes: usize,
}

/// Renders `svg` into an RGBA8 buffer of `width × height` (the SVG's own
/// size is scaled to fit).
pub fn render_svg(svg: &str, width: usize, height: usize) -> Result<Vec<u8>, Error> {
    let tree = resvg::usvg::Tree::from_str(svg, &resvg::usvg::Options::default())
        .map_err(|e| Error::Svg(e.to_string()))?;
    let mut pixmap = resvg::tiny_skia::Pixmap::new(width as u32, height as u32)
        .ok_or_else(|| Error::Svg(format!("cannot render at {width}×{height}")))?;
    let size = tree.size();
    let transform = resvg::tiny_skia::Transform::from_scale(
        width as f32 / size.width(),
        height as f32 / size.height(),
    );
    resvg::render(&tree, transform, &mut pixmap.as_mut());
    // tiny-skia stores premultiplied alpha: undo it.
    let mut out = Vec::with_capacity(width * height * 4);
    for p in pixmap.pixels() {
        let c = p.demultiply();
        out.extend_from_slice(&[c.red(), c.green(), c.blue(), c.alpha()]);
    }
    Ok(out)
}

/// Composites straight-alpha RGBA over white: RGB as f64 in 0–255.
fn over_white(p: &[u8]) -> [f64; 3] {
    let a = f64::from(p[3]) / 255.0;
    std::array::from_fn(|k| f64::from(p[k]) * a + 255.0 * (1.0 - a))
}

fn luma(rgb: [f64; 3]) -> f64 {
    0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2]
}

/// Compares two RGBA8 images of the same size.
pub fn compare(a: &RgbaRaster<'_>, b: &RgbaRaster<'_>) -> Result<(f64, f64, f64), Error> {
    if (a.width(), a.height()) != (b.width(), b.height()) {
        return Err(Error::InvalidParameter {
            name: "images",
            reason: format!(
                "sizes differ: {}×{} vs {}×{}",
                a.width(),
                a.height(),
                b.width(),
                b.height()
            ),
        });
    }
    let n = a.len();
    if n == 0 {
        return Ok((f64::INFINITY, 1.0, 0.0));
    }
    let mut se = 0.0;
    let mut mismatched = 0usize;
    let mut la = Vec::with_capacity(n);
    let mut lb = Vec::with_capacity(n);
    for (pa, pb) in a.data().chunks_exact(4).zip(b.data().chunks_exact(4)) {
        let (ca, cb) = (over_white(pa), over_white(pb));
        se += (0..3).map(|k| (ca[k] - cb[k]).powi(2)).sum::<f64>();
        let (ya, yb) = (luma(ca), luma(cb));
        mismatched += usize::from((ya < 127.5) != (yb < 127.5));
        la.push(ya);
        lb.push(yb);
    }
    let mse = se / (3 * n) as f64;
    let psnr = if mse == 0.0 {
        f64::INFINITY
    } else {
        10.0 * (255.0f64 * 255.0 / mse).log10()
    };
    let ssim = ssim(&la, &lb, a.width(), a.height());
    Ok((psnr, ssim, 100.0 * mismatched as f64 / n as f64))
}

/// Mean SSIM (Wang et al. 2004 constants) over 8×8 windows with stride 4;
/// images smaller than a window are one window.
fn ssim(a: &[f64], b: &[f64], w: usize, h: usize) -> f64 {
    const C1: f64 = (0.01 * 255.0) * (0.01 * 255.0);
    const C2: f64 = (0.03 * 255.0) * (0.03 * 255.0);
    let (ww, wh) = (w.min(8), h.min(8));
    let (mut total, mut count) = (0.0, 0usize);
    let mut y = 0;
    while y + wh <= h {
        let mut x = 0;
        while x + ww <= w {
            let (mut sa, mut sb, mut saa, mut sbb, mut sab) = (0.0, 0.0, 0.0, 0.0, 0.0);
            for yy in y..y + wh {
                for xx in x..x + ww {
                    let (va, vb) = (a[yy * w + xx], b[yy * w + xx]);
                    sa += va;
                    sb += vb;
                    saa += va * va;
                    sbb += vb * vb;
                    sab += va * vb;
                }
            }
            let k = (ww * wh) as f64;
            let (ma, mb) = (sa / k, sb / k);
            let va = saa / k - ma * ma;
            let vb = sbb / k - mb * mb;
            let cov = sab / k - ma * mb;
            total += ((2.0 * ma * mb + C1) * (2.0 * cov + C2))
                / ((ma * ma + mb * mb + C1) * (va + vb + C2));
            count += 1;
            x += 4;
        }
        y += 4;
    }
    total / count as f64
}

/// Pixels where the background shows through an SVG meant to cover its
/// whole canvas (cutout layers): rendered without anti-aliasing
/// (`shape-rendering="crispEdges"`, so a pixel belongs to the shape whose
/// inside holds its centre) over magenta and over green, the pixels whose
/// colour differs between the two.
pub fn seam_pixels(svg: &str, width: usize, height: usize) -> Result<usize, Error> {
    let with_background = |color: &str| -> Result<Vec<u8>, Error> {
        let Some(open_end) = svg
            .find("<svg")
            .and_then(|i| svg[i..].find('>').map(|j| i + j))
        else {
            return Err(Error::Svg("no <svg> element".into()));
        };
        let doc = format!(
            r#"{} shape-rendering="crispEdges"><rect x="-1" y="-1" width="{}" height="{}" fill="{color}"/>{}"#,
            &svg[..open_end],
            width + 2,
            height + 2,
            &svg[open_end + 1..]
        );
        render_svg(&doc, width, height)
    };
    let a = with_background("#f0f")?;
    let b = with_background("#0f0")?;
    Ok(a.chunks_exact(4)
        .zip(b.chunks_exact(4))
        .filter(|(p, q)| p != q)
        .count())
}

/// Scores an SVG against the image it traced.
pub fn measure_svg(input: &RgbaRaster<'_>, svg: &str) -> Result<Quality, Error> {
    let rendered = render_svg(svg, input.width(), input.height())?;
    let rendered = RgbaRaster::with_limit(input.width(), input.height(), &rendered, u64::MAX)?;
    let (psnr_db, ssim, mismatch_percent) = compare(input, &rendered)?;
    Ok(Quality {
        psnr_db,
        ssim,
        mismatch_percent,
        paths: svg.matches("<path").count(),
        segments: count_segments(svg),
        bytes: svg.len(),
    })
}

/// Scores a traced [`Vector`] (written with `svg`) against its input.
pub fn measure(input: &RgbaRaster<'_>, vector: &Vector, svg: &str) -> Result<Quality, Error> {
    let mut q = measure_svg(input, svg)?;
    q.paths = vector.shapes.len();
    q.segments = vector.segment_count();
    Ok(q)
}

/// Counts drawing segments in SVG path data (any tool's output): each
/// line/curve command's argument groups, `z` not counted.
pub fn count_segments(svg: &str) -> usize {
    let mut total = 0;
    for d in svg.split(" d=\"").skip(1) {
        let d = d.split('"').next().unwrap_or("");
        let mut cmd = ' ';
        let mut args = 0usize;
        let flush = |cmd: char, args: usize| match cmd.to_ascii_lowercase() {
            'l' | 't' => args / 2,
            'h' | 'v' => args,
            'c' => args / 6,
            's' | 'q' => args / 4,
            'a' => args / 7,
            // Extra pairs after a moveto are lines.
            'm' => args.saturating_sub(2) / 2,
            _ => 0,
        };
        let mut in_number = false;
        let mut has_dot = false;
        for ch in d.chars() {
            if ch.is_ascii_alphabetic() && ch != 'e' && ch != 'E' {
                total += flush(cmd, args);
                cmd = ch;
                args = 0;
                in_number = false;
            } else if ch.is_ascii_digit() {
                if !in_number {
                    args += 1;
                    in_number = true;
                    has_dot = false;
                }
            } else if ch == '.' {
                if !in_number || has_dot {
                    args += 1;
                    in_number = true;
                }
                has_dot = true;
            } else if ch == '-' || ch == '+' {
                args += 1;
                in_number = true;
                has_dot = false;
            } else {
                in_number = false;
            }
        }
        total += flush(cmd, args);
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_are_counted_in_any_notation() {
        assert_eq!(count_segments(r#"<path d="M1 1h2v2h-2z"/>"#), 3);
        assert_eq!(
            count_segments(r#"<path d="M0 0c1 1 2 2 3 3 .5.5.5.5 1-1L3 3 4 4"/>"#),
            4
        );
        assert_eq!(count_segments(r#"<path d="M0,0 10,0 10,10Z"/>"#), 2);
    }

    #[test]
    fn a_rendered_square_scores_perfectly() {
        let svg = r##"<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8"><path d="M2 2h4v4h-4z" fill="#000"/></svg>"##;
        let px: Vec<u8> = (0..64)
            .flat_map(|i| {
                let ink = (2..6).contains(&(i % 8)) && (2..6).contains(&(i / 8));
                if ink { [0, 0, 0, 255] } else { [255; 4] }
            })
            .collect();
        let input = RgbaRaster::new(8, 8, &px).unwrap();
        let q = measure_svg(&input, svg).unwrap();
        assert_eq!(q.mismatch_percent, 0.0);
        assert!(
            q.psnr_db.is_infinite() && (q.ssim - 1.0).abs() < 1e-12,
            "{q:?}"
        );
        assert_eq!((q.paths, q.segments), (1, 3));
        // Shifted by a pixel: 8 of 64 pixels on the wrong side.
        let shifted = svg.replace("M2 2", "M3 2");
        let q = measure_svg(&input, &shifted).unwrap();
        assert!((q.mismatch_percent - 12.5).abs() < 1e-9, "{q:?}");
        assert!(q.psnr_db < 20.0 && q.ssim < 0.9);
    }

    #[test]
    fn bad_svg_is_an_error() {
        assert!(matches!(render_svg("<nope", 4, 4), Err(Error::Svg(_))));
    }
}

//! Binarisation: which pixels are ink.
//!
//! Ink is dark and opaque: a pixel is ink when it is opaque (alpha ≥ 128)
//! and its luma ([`crate::pixels::luma_of`]) falls below the threshold —
//! fixed, Otsu's global threshold, or a local one (Bradley–Roth, Sauvola)
//! computed from window sums over an integral image (windows are clipped at
//! the borders).

use crate::error::Error;
use crate::pixels::{OPAQUE_ALPHA, PixelKernel};
use crate::raster::RgbaRaster;

/// How to choose the ink threshold.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Threshold {
    /// Ink below this luma (0–255; 0 means no ink).
    Fixed(u8),
    /// Otsu's method on the histogram of opaque pixels.
    Otsu,
    /// Bradley & Roth (2007): ink where luma < (1 − `t`) × the window mean.
    BradleyRoth {
        /// Window side in pixels (odd, ≥ 3).
        window: usize,
        /// Fraction below the mean, in [0, 1) (0.15 in the paper).
        t: f64,
    },
    /// Sauvola & Pietikäinen (2000): ink where luma ≤ m·(1 + k·(s/r − 1)),
    /// m and s the window mean and standard deviation.
    Sauvola {
        /// Window side in pixels (odd, ≥ 3).
        window: usize,
        /// Sensitivity, typically 0.2–0.5.
        k: f64,
        /// Dynamic range of the standard deviation (128 for 8-bit).
        r: f64,
    },
}

/// A binary image: `ink[y × width + x]` is 1 for ink, 0 otherwise.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BinaryImage {
    /// Width in pixels.
    pub width: usize,
    /// Height in pixels.
    pub height: usize,
    /// 1 for ink, row-major.
    pub ink: Vec<u8>,
}

impl BinaryImage {
    /// Whether `(x, y)` is ink (false outside the image).
    pub fn is_ink(&self, x: isize, y: isize) -> bool {
        x >= 0
            && y >= 0
            && (x as usize) < self.width
            && (y as usize) < self.height
            && self.ink[y as usize * self.width + x as usize] == 1
    }
    /// Number of ink pixels.
    pub fn ink_count(&self) -> usize {
        self.ink.iter().map(|&v| usize::from(v)).sum()
    }
}

fn check_window(window: usize) -> Result<(), Error> {
    if window < 3 || window.is_multiple_of(2) {
        return Err(Error::InvalidParameter {
            name: "window",
            reason: format!("must be odd and ≥ 3, got {window}"),
        });
    }
    Ok(())
}

impl Threshold {
    /// Checks the parameters.
    pub fn validate(&self) -> Result<(), Error> {
        match *self {
            Threshold::Fixed(_) | Threshold::Otsu => Ok(()),
            Threshold::BradleyRoth { window, t } => {
                check_window(window)?;
                if !(0.0..1.0).contains(&t) {
                    return Err(Error::InvalidParameter {
                        name: "t",
                        reason: format!("must be in [0, 1), got {t}"),
                    });
                }
                Ok(())
            }
            Threshold::Sauvola { window, k, r } => {
                check_window(window)?;
                if !(k.is_finite() && r.is_finite() && r > 0.0) {
                    return Err(Error::InvalidParameter {
                        name: "k, r",
                        reason: format!("need finite k and r > 0, got {k}, {r}"),
                    });
                }
                Ok(())
            }
        }
    }
}

/// Histogram of the luma of opaque pixels.
pub fn histogram(luma: &[u8], raster: &RgbaRaster<'_>) -> [u64; 256] {
    // Four sub-histograms break the store-to-load dependency on runs of
    // equal values.
    let mut h = [[0u64; 256]; 4];
    for (i, (&l, p)) in luma.iter().zip(raster.data().chunks_exact(4)).enumerate() {
        if p[3] >= OPAQUE_ALPHA {
            h[i & 3][usize::from(l)] += 1;
        }
    }
    std::array::from_fn(|v| h[0][v] + h[1][v] + h[2][v] + h[3][v])
}

/// Otsu's threshold: the `t` maximising the between-class variance of
/// {luma < t} and {luma ≥ t}; ties go to the smallest `t`. 0 (no ink) for
/// an empty or single-level histogram, where no split has two classes.
pub fn otsu(hist: &[u64; 256]) -> u8 {
    let total: u64 = hist.iter().sum();
    if total == 0 {
        return 0;
    }
    let sum_all: f64 = hist
        .iter()
        .enumerate()
        .map(|(v, &c)| v as f64 * c as f64)
        .sum();
    let (mut best_t, mut best) = (0u8, -1.0f64);
    let (mut w0, mut sum0) = (0u64, 0.0f64);
    // Class 0 = levels below t, for t = 1..=255.
    for t in 1..=255usize {
        w0 += hist[t - 1];
        sum0 += (t - 1) as f64 * hist[t - 1] as f64;
        let w1 = total - w0;
        if w0 == 0 || w1 == 0 {
            continue;
        }
        let m0 = sum0 / w0 as f64;
        let m1 = (sum_all - sum0) / w1 as f64;
        let between = w0 as f64 * w1 as f64 * (m0 - m1) * (m0 - m1);
        if between > best {
            best = between;
            best_t = t as u8;
        }
    }
    best_t
}

/// Binarises `raster` with `threshold`, converting pixels with `kernel`.
///
/// ```
/// use vivace_vectorize::{RgbaRaster, Threshold, binarize, pixels::ScalarPixels};
/// // Black, white, transparent black.
/// let px = [0, 0, 0, 255, 255, 255, 255, 255, 0, 0, 0, 0];
/// let raster = RgbaRaster::new(3, 1, &px)?;
/// let bin = binarize(&raster, Threshold::Otsu, &ScalarPixels)?;
/// assert_eq!(bin.ink, vec![1, 0, 0]);
/// # Ok::<(), vivace_vectorize::Error>(())
/// ```
pub fn binarize(
    raster: &RgbaRaster<'_>,
    threshold: Threshold,
    kernel: &dyn PixelKernel,
) -> Result<BinaryImage, Error> {
    threshold.validate()?;
    let (w, h) = (raster.width(), raster.height());
    let mut ink = Vec::new();
    match threshold {
        Threshold::Fixed(t) => kernel.threshold(raster, t, &mut ink)?,
        Threshold::Otsu => {
            let t = otsu(&kernel.luma_histogram(raster)?);
            kernel.threshold(raster, t, &mut ink)?;
        }
        Threshold::BradleyRoth { window, t } => {
            let mut luma = Vec::new();
            kernel.luma(raster, &mut luma)?;
            let integral = Integral::new(&luma, w, h);
            ink = local(raster, &luma, window, |x, y, l, half| {
                let (count, sum, _) = integral.window(x, y, half);
                // luma < (1 − t)·mean, without dividing.
                (f64::from(l) * count as f64) < (1.0 - t) * sum as f64
            });
        }
        Threshold::Sauvola { window, k, r } => {
            let mut luma = Vec::new();
            kernel.luma(raster, &mut luma)?;
            let integral = Integral::new(&luma, w, h);
            ink = local(raster, &luma, window, |x, y, l, half| {
                let (count, sum, sum_sq) = integral.window(x, y, half);
                let n = count as f64;
                let mean = sum as f64 / n;
                let var = (sum_sq as f64 / n - mean * mean).max(0.0);
                f64::from(l) <= mean * (1.0 + k * (var.sqrt() / r - 1.0))
            });
        }
    }
    Ok(BinaryImage {
        width: w,
        height: h,
        ink,
    })
}

/// Applies a local rule to every opaque pixel.
fn local(
    raster: &RgbaRaster<'_>,
    luma: &[u8],
    window: usize,
    is_ink: impl Fn(usize, usize, u8, usize) -> bool,
) -> Vec<u8> {
    let (w, h) = (raster.width(), raster.height());
    let half = window / 2;
    let alpha = raster.data();
    let mut ink = vec![0u8; w * h];
    for y in 0..h {
        for x in 0..w {
            let i = y * w + x;
            ink[i] = u8::from(alpha[i * 4 + 3] >= OPAQUE_ALPHA && is_ink(x, y, luma[i], half));
        }
    }
    ink
}

/// Summed-area tables of luma and luma², one row and column of zeros first.
struct Integral {
    w: usize,
    h: usize,
    sum: Vec<u64>,
    sum_sq: Vec<u64>,
}

impl Integral {
    fn new(luma: &[u8], w: usize, h: usize) -> Self {
        let stride = w + 1;
        let mut sum = vec![0u64; stride * (h + 1)];
        let mut sum_sq = vec![0u64; stride * (h + 1)];
        for y in 0..h {
            let (mut row, mut row_sq) = (0u64, 0u64);
            for x in 0..w {
                let v = u64::from(luma[y * w + x]);
                row += v;
                row_sq += v * v;
                sum[(y + 1) * stride + x + 1] = sum[y * stride + x + 1] + row;
                sum_sq[(y + 1) * stride + x + 1] = sum_sq[y * stride + x + 1] + row_sq;
            }
        }
        Integral { w, h, sum, sum_sq }
    }

    /// (pixels, Σ luma, Σ luma²) over the window of half-side `half` around
    /// `(x, y)`, clipped to the image.
    fn window(&self, x: usize, y: usize, half: usize) -> (u64, u64, u64) {
        let (x0, y0) = (x.saturating_sub(half), y.saturating_sub(half));
        let (x1, y1) = ((x + half + 1).min(self.w), (y + half + 1).min(self.h));
        let s = self.w + 1;
        let rect = |t: &[u64]| t[y1 * s + x1] + t[y0 * s + x0] - t[y0 * s + x1] - t[y1 * s + x0];
        (
            ((x1 - x0) * (y1 - y0)) as u64,
            rect(&self.sum),
            rect(&self.sum_sq),
        )
    }
}

//! Binary mode: threshold → speckle removal → boundaries with holes →
//! optimal polygons → corners and Béziers → merged curves, one filled shape
//! per ink region.

use rayon::prelude::*;

use crate::error::Error;
use crate::fit::{FitOptions, fit};
use crate::pixels::PixelKernel;
use crate::raster::RgbaRaster;
use crate::threshold::{BinaryImage, Threshold, binarize};
use crate::trace::{Region, TraceOptions, trace_regions};
use crate::vector::{Color, Shape, Vector};

/// Binary-mode options.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BinaryOptions {
    /// How ink is told from background (default Otsu).
    pub threshold: Threshold,
    /// Tracing: saddle policy and speckle size (default: join the local
    /// minority colour at saddles and drop regions under 3 pixels, as
    /// potrace's defaults `turnpolicy minority` and `turdsize 2`).
    pub trace: TraceOptions,
    /// Curve fitting (potrace's defaults).
    pub fit: FitOptions,
    /// Fill colour of the ink (default black).
    pub color: Color,
}

impl Default for BinaryOptions {
    fn default() -> Self {
        BinaryOptions {
            threshold: Threshold::Otsu,
            trace: TraceOptions {
                min_area: 3,
                ..TraceOptions::default()
            },
            fit: FitOptions::default(),
            color: Color::BLACK,
        }
    }
}

impl BinaryOptions {
    /// Checks every parameter.
    pub fn validate(&self) -> Result<(), Error> {
        self.threshold.validate()?;
        self.fit.validate()
    }
}

/// Traces `raster` in binary mode, converting pixels with `kernel`.
///
/// ```
/// use vivace_vectorize::RgbaRaster;
/// use vivace_vectorize::binary::{BinaryOptions, trace_binary};
/// use vivace_vectorize::pixels::ScalarPixels;
/// // A black 4×4 square on white.
/// let px: Vec<u8> = (0..64).flat_map(|i| {
///     let ink = (2..6).contains(&(i % 8)) && (2..6).contains(&(i / 8));
///     if ink { [0, 0, 0, 255] } else { [255; 4] }
/// }).collect();
/// let raster = RgbaRaster::new(8, 8, &px)?;
/// let vector = trace_binary(&raster, &BinaryOptions::default(), &ScalarPixels)?;
/// assert_eq!(vector.shapes.len(), 1);
/// # Ok::<(), vivace_vectorize::Error>(())
/// ```
pub fn trace_binary(
    raster: &RgbaRaster<'_>,
    options: &BinaryOptions,
    kernel: &dyn PixelKernel,
) -> Result<Vector, Error> {
    options.validate()?;
    let bitmap = binarize(raster, options.threshold, kernel)?;
    Ok(vectorize_bitmap(&bitmap, options))
}

/// Traces an already binarised image (options' threshold unused).
pub fn vectorize_bitmap(bitmap: &BinaryImage, options: &BinaryOptions) -> Vector {
    let regions = trace_regions(bitmap, &options.trace);
    Vector {
        width: bitmap.width,
        height: bitmap.height,
        shapes: fit_regions(&regions, &options.fit, options.color),
    }
}

/// Fits every region (in parallel) into a filled shape.
pub(crate) fn fit_regions(
    regions: &[Region],
    fit_options: &FitOptions,
    color: Color,
) -> Vec<Shape> {
    regions
        .par_iter()
        .map(|r| Shape {
            contours: std::iter::once(&r.outline)
                .chain(&r.holes)
                .map(|p| fit(p, fit_options))
                .collect(),
            fill: Some(color),
            stroke: None,
        })
        .collect()
}

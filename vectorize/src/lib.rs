/*!
Raster-to-vector tracing: binary (potrace-style), colour (stacked and cutout
layers) and centerline modes, compact SVG output, and a batch queue.

**Status: in progress** (issue #6). Built so far, tested:

- [`RgbaRaster`]: validated RGBA8 input (buffer size, pixel limit, empty
  images);
- [`pixels`]: RGBA → luma composited over white, and fixed thresholding, on
  scalar and run-time SIMD (AVX2, SSE4.1), bit-identical;
- [`threshold`]: binarisation with a fixed threshold, Otsu's, and the local
  Bradley–Roth and Sauvola thresholds; transparent pixels are never ink;
- [`trace`]: boundary tracing of ink regions with holes into closed lattice
  paths (saddle policy, speckle removal by minimum area).

Polygon and curve fitting, colour quantisation, centerlines, SVG output, the
batch queue and the GPU kernels are not built yet.
*/
#![deny(missing_docs)]

pub mod batch;
pub mod binary;
pub mod centerline;
pub mod color;
pub mod error;
pub mod fit;
pub mod oklab;
pub mod pixels;
#[cfg(feature = "quality")]
pub mod quality;
pub mod raster;
pub mod threshold;
pub mod trace;
pub mod tracer;
pub mod vector;

pub use error::Error;
pub use raster::{DEFAULT_PIXEL_LIMIT, RgbaRaster};
pub use threshold::{BinaryImage, Threshold, binarize};

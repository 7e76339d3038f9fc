/*!
Raster-to-vector tracing: binary (potrace-style), colour (stacked and cutout
layers) and centerline modes, compact SVG output, and a batch queue.

```
use vivace_backend::Preference;
use vivace_vectorize::tracer::{Tracer, TracerConfig};
// A black 6×6 square on a white 10×10 page, traced in binary mode.
let px: Vec<u8> = (0..100)
    .flat_map(|i| {
        let ink = (2..8).contains(&(i % 10)) && (2..8).contains(&(i / 10));
        if ink { [0, 0, 0, 255] } else { [255; 4] }
    })
    .collect();
let tracer = Tracer::new(TracerConfig::default(), Preference::Auto)?;
let (vector, svg) = tracer.trace_to_svg(10, 10, &px)?;
assert_eq!(vector.shapes.len(), 1);
assert!(svg.contains("<path"));
# Ok::<(), vivace_vectorize::Error>(())
```

**Status: in progress** (issue #6). Built and tested:

- input: [`RgbaRaster`] (RGBA8 slice or `image::RgbaImage`, pixel limit,
  empty and 1×N images), transparency kept (transparent pixels make no
  paths);
- [`binary`]: [`threshold`] (fixed, Otsu, Bradley–Roth, Sauvola),
  [`trace`] (boundaries with holes, saddle policy, speckle removal), and
  [`fit`]: potrace's optimal polygons, vertex adjustment, corners, Béziers
  and curve merging (within [`fit::FitOptions::tolerance`]);
- [`color`]: k-means in OKLab (fixed or automatic palette), region
  labelling with speckle merging, stacked layers, and cutout layers whose
  shared boundaries are fitted once (no seams), optionally smoothed and
  merged ([`color::ColorOptions::cutout_slack`]);
- [`centerline`]: distance transform, Zhang–Suen thinning, skeleton graph,
  spur pruning, stroked fitted paths;
- [`vector`]: shapes with fill/stroke and compact relative SVG;
- [`pixels`] and [`oklab`]: the pixel stages (luma, threshold, OKLab,
  k-means assignment) on scalar, AVX2, SSE4.1, NEON and wasm simd128,
  bit-identical; `gpu`
  (feature `gpu`): luma, ink and the luma histogram (bit-identical) and
  k-means assignment (within a stated distance tolerance) on
  vivace-gpu-compute, used from a measured crossover
  ([`pixels::calibrate_pixel_kernel`], [`tracer::Tracer::calibrated`]);
- [`tracer`]: one entry point, options validated once; [`batch`]: the
  batch queue; `quality` (feature `quality`, on by default): resvg render
  back, PSNR, SSIM, mismatch, seam count.

Region labelling runs in bands on the rayon pool (numbering identical to
the serial flood fill); merging small regions stays serial (each merge
depends on the ones before it).
*/
#![deny(missing_docs)]

pub mod batch;
pub mod binary;
pub mod centerline;
pub mod color;
pub mod error;
pub mod fit;
#[cfg(feature = "gpu")]
pub mod gpu;
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

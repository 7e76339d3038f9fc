//! One entry point for every mode: options validated once, a pixel backend
//! chosen once, then any number of images traced.

use vivace_backend::{Backend, Preference, Selection};

use crate::binary::{BinaryOptions, trace_binary};
use crate::centerline::{CenterlineOptions, trace_centerline};
use crate::color::{ColorOptions, trace_color};
use crate::error::Error;
use crate::pixels::{PixelKernel, calibrate_pixel_kernel, select_pixel_kernel};
use crate::raster::{DEFAULT_PIXEL_LIMIT, RgbaRaster};
use crate::vector::{SvgOptions, Vector};

/// What to trace.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Mode {
    /// Black-and-white outlines (potrace-style).
    Binary(BinaryOptions),
    /// Colour regions, stacked or cut out.
    Color(ColorOptions),
    /// Stroked centre lines.
    Centerline(CenterlineOptions),
}

impl Default for Mode {
    fn default() -> Self {
        Mode::Binary(BinaryOptions::default())
    }
}

impl Mode {
    /// Checks every parameter of the mode.
    pub fn validate(&self) -> Result<(), Error> {
        match self {
            Mode::Binary(o) => o.validate(),
            Mode::Color(o) => o.validate(),
            Mode::Centerline(o) => o.validate(),
        }
    }
}

/// Everything a [`Tracer`] needs.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TracerConfig {
    /// Mode and its options.
    pub mode: Mode,
    /// SVG output.
    pub svg: SvgOptions,
    /// Largest image accepted, in pixels (default 100 MP).
    pub pixel_limit: u64,
}

impl Default for TracerConfig {
    fn default() -> Self {
        TracerConfig {
            mode: Mode::default(),
            svg: SvgOptions::default(),
            pixel_limit: DEFAULT_PIXEL_LIMIT,
        }
    }
}

/// A validated configuration with its pixel backend.
///
/// ```
/// use vivace_backend::Preference;
/// use vivace_vectorize::tracer::{Tracer, TracerConfig};
/// let tracer = Tracer::new(TracerConfig::default(), Preference::Auto)?;
/// // A black dot on white.
/// let px: Vec<u8> = (0..100)
///     .flat_map(|i| if i == 55 || i == 56 { [0, 0, 0, 255] } else { [255; 4] })
///     .collect();
/// let (vector, svg) = tracer.trace_to_svg(10, 10, &px)?;
/// assert_eq!(vector.shapes.len(), 0, "two pixels are a speck under the default min_area");
/// assert!(svg.starts_with("<svg"));
/// # Ok::<(), vivace_vectorize::Error>(())
/// ```
pub struct Tracer {
    config: TracerConfig,
    kernel: Selection<Box<dyn PixelKernel>>,
}

impl std::fmt::Debug for Tracer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tracer")
            .field("config", &self.config)
            .field("backend", &self.kernel.backend.name())
            .finish()
    }
}

impl Tracer {
    /// Validates `config` and selects the pixel backend for `preference`.
    pub fn new(config: TracerConfig, preference: Preference) -> Result<Self, Error> {
        config.mode.validate()?;
        // The SVG options are checked by writing an empty document.
        Vector::default().to_svg(&config.svg)?;
        let kernel = select_pixel_kernel(preference)?;
        Ok(Tracer { config, kernel })
    }

    /// Like [`Tracer::new`], but measures where the GPU overtakes the CPU
    /// on this machine for images up to `max_pixels` and uses it from there
    /// ([`calibrate_pixel_kernel`]); worth it for batches of large images.
    pub fn calibrated(
        config: TracerConfig,
        preference: Preference,
        max_pixels: usize,
    ) -> Result<Self, Error> {
        config.mode.validate()?;
        Vector::default().to_svg(&config.svg)?;
        let kernel = calibrate_pixel_kernel(preference, max_pixels)?;
        Ok(Tracer { config, kernel })
    }

    /// Validates `config` and traces with `kernel` (e.g. a
    /// `gpu::GpuPixels` with a crossover of your
    /// choosing).
    pub fn with_kernel(config: TracerConfig, kernel: Box<dyn PixelKernel>) -> Result<Self, Error> {
        config.mode.validate()?;
        Vector::default().to_svg(&config.svg)?;
        let kind = kernel.kind();
        let kernel = Selection {
            backend: kernel,
            kind,
            preference: Preference::Auto,
            skipped: Vec::new(),
        };
        Ok(Tracer { config, kernel })
    }

    /// The configuration.
    pub fn config(&self) -> &TracerConfig {
        &self.config
    }

    /// The pixel backend in use, e.g. `pixels (AVX2+FMA)`.
    pub fn backend_name(&self) -> String {
        self.kernel.backend.name()
    }

    /// Backends passed over before the chosen one, and why.
    pub fn skipped(&self) -> &[vivace_backend::Unavailable] {
        &self.kernel.skipped
    }

    /// Traces an RGBA8 buffer (checked against the pixel limit).
    pub fn trace(&self, width: usize, height: usize, rgba: &[u8]) -> Result<Vector, Error> {
        let raster = RgbaRaster::with_limit(width, height, rgba, self.config.pixel_limit)?;
        self.trace_raster(&raster)
    }

    /// Traces an `image` crate buffer.
    pub fn trace_image(&self, image: &image::RgbaImage) -> Result<Vector, Error> {
        self.trace(
            image.width() as usize,
            image.height() as usize,
            image.as_raw(),
        )
    }

    /// Traces a validated raster.
    pub fn trace_raster(&self, raster: &RgbaRaster<'_>) -> Result<Vector, Error> {
        let kernel = self.kernel.backend.as_ref();
        match &self.config.mode {
            Mode::Binary(o) => trace_binary(raster, o, kernel),
            Mode::Color(o) => trace_color(raster, o, kernel),
            Mode::Centerline(o) => trace_centerline(raster, o, kernel),
        }
    }

    /// Traces and writes SVG.
    pub fn trace_to_svg(
        &self,
        width: usize,
        height: usize,
        rgba: &[u8],
    ) -> Result<(Vector, String), Error> {
        let v = self.trace(width, height, rgba)?;
        let svg = v.to_svg(&self.config.svg)?;
        Ok((v, svg))
    }
}

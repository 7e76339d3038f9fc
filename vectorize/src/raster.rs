//! Validated RGBA input.

use crate::error::Error;

/// Default pixel limit: 100 megapixels.
pub const DEFAULT_PIXEL_LIMIT: u64 = 100_000_000;

/// A borrowed RGBA8 image (row-major, 4 bytes per pixel, straight alpha),
/// checked on construction: the buffer matches `width × height × 4` and the
/// image is within the pixel limit. Empty images (0 × N) are valid.
///
/// ```
/// use vivace_vectorize::RgbaRaster;
/// let pixels = [255u8; 2 * 3 * 4];
/// let raster = RgbaRaster::new(2, 3, &pixels)?;
/// assert_eq!(raster.pixel(1, 2), [255, 255, 255, 255]);
/// assert!(RgbaRaster::new(2, 3, &pixels[..5]).is_err());
/// # Ok::<(), vivace_vectorize::Error>(())
/// ```
#[derive(Clone, Copy, Debug)]
pub struct RgbaRaster<'a> {
    width: usize,
    height: usize,
    data: &'a [u8],
}

impl<'a> RgbaRaster<'a> {
    /// With the default limit ([`DEFAULT_PIXEL_LIMIT`]).
    pub fn new(width: usize, height: usize, data: &'a [u8]) -> Result<Self, Error> {
        Self::with_limit(width, height, data, DEFAULT_PIXEL_LIMIT)
    }

    /// With a pixel limit of `limit`.
    pub fn with_limit(
        width: usize,
        height: usize,
        data: &'a [u8],
        limit: u64,
    ) -> Result<Self, Error> {
        let pixels = width as u128 * height as u128;
        if pixels > u128::from(limit) {
            return Err(Error::TooLarge {
                width,
                height,
                pixels,
                limit,
            });
        }
        // Fits: `pixels ≤ limit`, and a buffer that large could not exist
        // otherwise (checked, for 32-bit targets with a huge limit).
        let Some(expected) = usize::try_from(pixels).ok().and_then(|p| p.checked_mul(4)) else {
            return Err(Error::TooLarge {
                width,
                height,
                pixels,
                limit: (usize::MAX / 4) as u64,
            });
        };
        if data.len() != expected {
            return Err(Error::BufferSize {
                width,
                height,
                expected,
                actual: data.len(),
            });
        }
        Ok(RgbaRaster {
            width,
            height,
            data,
        })
    }

    /// Borrows an `image` crate buffer, with the default pixel limit.
    pub fn from_image(image: &'a image::RgbaImage) -> Result<Self, Error> {
        Self::new(
            image.width() as usize,
            image.height() as usize,
            image.as_raw(),
        )
    }

    /// Width in pixels.
    pub fn width(&self) -> usize {
        self.width
    }
    /// Height in pixels.
    pub fn height(&self) -> usize {
        self.height
    }
    /// The RGBA bytes.
    pub fn data(&self) -> &'a [u8] {
        self.data
    }
    /// Pixels in the image.
    pub fn len(&self) -> usize {
        self.width * self.height
    }
    /// Whether the image has no pixels.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// The pixel at column `x`, row `y`.
    pub fn pixel(&self, x: usize, y: usize) -> [u8; 4] {
        let i = (y * self.width + x) * 4;
        [
            self.data[i],
            self.data[i + 1],
            self.data[i + 2],
            self.data[i + 3],
        ]
    }
}

//! The batch queue: many image files traced on a thread pool, with
//! recycled image buffers, options validated once (by [`Tracer::new`]), a
//! progress callback, cancellation, and per-image errors that do not stop
//! the batch.
//!
//! Image files are decoded straight into buffers taken from a
//! [`BufferPool`] and given back after tracing, so once the pool holds a
//! buffer per worker, decoding a same-sized image allocates no new image
//! buffer of ours. Not pooled: the decoders' own working memory (the png
//! crate keeps the filtered rows, about one byte per pixel per channel,
//! fresh per file) and the tracing stages' working buffers.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use rayon::prelude::*;

use crate::error::Error;
use crate::raster::RgbaRaster;
use crate::tracer::Tracer;

/// Recycled byte buffers.
#[derive(Debug, Default)]
pub struct BufferPool {
    free: std::sync::Mutex<Vec<Vec<u8>>>,
}

impl BufferPool {
    /// An empty pool.
    pub fn new() -> Self {
        Self::default()
    }
    /// A buffer (empty, with whatever capacity it had).
    pub fn take(&self) -> Vec<u8> {
        let mut b = self
            .free
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .pop()
            .unwrap_or_default();
        b.clear();
        b
    }
    /// Gives a buffer back.
    pub fn give(&self, buffer: Vec<u8>) {
        self.free
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(buffer);
    }
    /// Buffers waiting in the pool.
    pub fn len(&self) -> usize {
        self.free.lock().unwrap_or_else(|e| e.into_inner()).len()
    }
    /// Whether the pool is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Decodes an image file (PNG or JPEG) into `rgba` as RGBA8, reusing its
/// capacity and `scratch`'s; refuses images over `pixel_limit` before
/// decoding them. Returns `(width, height)`.
pub fn load_rgba(
    path: &Path,
    pixel_limit: u64,
    rgba: &mut Vec<u8>,
    scratch: &mut Vec<u8>,
) -> Result<(usize, usize), Error> {
    use image::ImageDecoder;
    let image_error = |e: &dyn std::fmt::Display| Error::Image {
        path: path.display().to_string(),
        reason: e.to_string(),
    };
    let reader = image::ImageReader::open(path)
        .map_err(|e| image_error(&e))?
        .with_guessed_format()
        .map_err(|e| image_error(&e))?;
    let decoder = reader.into_decoder().map_err(|e| image_error(&e))?;
    let (w, h) = decoder.dimensions();
    let (w, h) = (w as usize, h as usize);
    let pixels = w as u128 * h as u128;
    if pixels > u128::from(pixel_limit) {
        return Err(Error::TooLarge {
            width: w,
            height: h,
            pixels,
            limit: pixel_limit,
        });
    }
    let color = decoder.color_type();
    let bytes = decoder.total_bytes() as usize;
    scratch.clear();
    scratch.resize(bytes, 0);
    decoder.read_image(scratch).map_err(|e| image_error(&e))?;
    rgba.clear();
    rgba.reserve(w * h * 4);
    use image::ColorType as C;
    let u16_at = |b: &[u8], k: usize| u16::from_ne_bytes([b[2 * k], b[2 * k + 1]]);
    let f32_at = |b: &[u8], k: usize| {
        f32::from_ne_bytes([b[4 * k], b[4 * k + 1], b[4 * k + 2], b[4 * k + 3]])
    };
    let to8 = |v: u16| ((u32::from(v) * 255 + 32_767) / 65_535) as u8;
    let f8 = |v: f32| (v.clamp(0.0, 1.0) * 255.0).round() as u8;
    match color {
        C::L8 => rgba.extend(scratch.iter().flat_map(|&l| [l, l, l, 255])),
        C::La8 => rgba.extend(
            scratch
                .chunks_exact(2)
                .flat_map(|p| [p[0], p[0], p[0], p[1]]),
        ),
        C::Rgb8 => rgba.extend(
            scratch
                .chunks_exact(3)
                .flat_map(|p| [p[0], p[1], p[2], 255]),
        ),
        C::Rgba8 => rgba.extend_from_slice(scratch),
        C::L16 => rgba.extend(scratch.chunks_exact(2).flat_map(|p| {
            let l = to8(u16_at(p, 0));
            [l, l, l, 255]
        })),
        C::La16 => rgba.extend(scratch.chunks_exact(4).flat_map(|p| {
            let l = to8(u16_at(p, 0));
            [l, l, l, to8(u16_at(p, 1))]
        })),
        C::Rgb16 => rgba.extend(
            scratch
                .chunks_exact(6)
                .flat_map(|p| [to8(u16_at(p, 0)), to8(u16_at(p, 1)), to8(u16_at(p, 2)), 255]),
        ),
        C::Rgba16 => rgba.extend(
            scratch
                .chunks_exact(8)
                .flat_map(|p| std::array::from_fn::<u8, 4, _>(|k| to8(u16_at(p, k)))),
        ),
        C::Rgb32F => rgba.extend(
            scratch
                .chunks_exact(12)
                .flat_map(|p| [f8(f32_at(p, 0)), f8(f32_at(p, 1)), f8(f32_at(p, 2)), 255]),
        ),
        C::Rgba32F => rgba.extend(
            scratch
                .chunks_exact(16)
                .flat_map(|p| std::array::from_fn::<u8, 4, _>(|k| f8(f32_at(p, k)))),
        ),
        other => {
            return Err(image_error(&format!("unsupported colour type {other:?}")));
        }
    }
    Ok((w, h))
}

/// One image to trace: read `input`, write the SVG to `output`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BatchJob {
    /// The image file (PNG or JPEG).
    pub input: PathBuf,
    /// Where the SVG goes (written whole, then renamed into place).
    pub output: PathBuf,
}

/// What one image gave.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BatchStats {
    /// Width in pixels.
    pub width: usize,
    /// Height in pixels.
    pub height: usize,
    /// Shapes written.
    pub paths: usize,
    /// Segments written.
    pub segments: usize,
    /// SVG bytes.
    pub bytes: usize,
    /// Decode + trace + write time.
    pub elapsed: Duration,
}

/// One job's outcome.
#[derive(Clone, Debug, PartialEq)]
pub struct BatchResult {
    /// The job.
    pub job: BatchJob,
    /// Its figures, or why it failed ([`Error::Cancelled`] if it never ran).
    pub outcome: Result<BatchStats, Error>,
}

/// Progress after each finished job.
#[derive(Clone, Copy, Debug)]
pub struct BatchProgress<'a> {
    /// Jobs finished so far (including this one).
    pub done: usize,
    /// Jobs in the batch.
    pub total: usize,
    /// The job just finished.
    pub result: &'a BatchResult,
}

/// Cancels a running batch from any thread: jobs not yet started finish
/// as [`Error::Cancelled`].
#[derive(Clone, Debug, Default)]
pub struct CancelToken(Arc<AtomicBool>);

impl CancelToken {
    /// A fresh token.
    pub fn new() -> Self {
        Self::default()
    }
    /// Requests cancellation.
    pub fn cancel(&self) {
        self.0.store(true, Ordering::Relaxed);
    }
    /// Whether cancellation was requested.
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

/// Traces many images on a thread pool.
///
/// ```no_run
/// use vivace_backend::Preference;
/// use vivace_vectorize::batch::{BatchJob, BatchProcessor, CancelToken};
/// use vivace_vectorize::tracer::{Tracer, TracerConfig};
/// let tracer = Tracer::new(TracerConfig::default(), Preference::Auto)?;
/// let batch = BatchProcessor::new(tracer, 0)?;
/// let jobs = vec![BatchJob { input: "a.png".into(), output: "a.svg".into() }];
/// let results = batch.run(&jobs, |p| eprintln!("{}/{}", p.done, p.total), &CancelToken::new());
/// assert_eq!(results.len(), 1);
/// # Ok::<(), vivace_vectorize::Error>(())
/// ```
#[derive(Debug)]
pub struct BatchProcessor {
    tracer: Tracer,
    pool: rayon::ThreadPool,
    buffers: BufferPool,
}

impl BatchProcessor {
    /// A processor with `threads` workers (0: one per core).
    pub fn new(tracer: Tracer, threads: usize) -> Result<Self, Error> {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .map_err(|e| Error::InvalidParameter {
                name: "threads",
                reason: e.to_string(),
            })?;
        Ok(BatchProcessor {
            tracer,
            pool,
            buffers: BufferPool::new(),
        })
    }

    /// The tracer.
    pub fn tracer(&self) -> &Tracer {
        &self.tracer
    }

    /// The image-buffer pool (for inspection).
    pub fn buffers(&self) -> &BufferPool {
        &self.buffers
    }

    /// Runs every job; results come back in job order. `progress` is called
    /// after each job, from the worker that did it.
    pub fn run(
        &self,
        jobs: &[BatchJob],
        progress: impl Fn(&BatchProgress<'_>) + Sync,
        cancel: &CancelToken,
    ) -> Vec<BatchResult> {
        let done = AtomicUsize::new(0);
        self.pool.install(|| {
            jobs.par_iter()
                .with_max_len(1)
                .map(|job| {
                    let outcome = if cancel.is_cancelled() {
                        Err(Error::Cancelled)
                    } else {
                        self.one(job)
                    };
                    let result = BatchResult {
                        job: job.clone(),
                        outcome,
                    };
                    let d = done.fetch_add(1, Ordering::Relaxed) + 1;
                    progress(&BatchProgress {
                        done: d,
                        total: jobs.len(),
                        result: &result,
                    });
                    result
                })
                .collect()
        })
    }

    fn one(&self, job: &BatchJob) -> Result<BatchStats, Error> {
        let start = Instant::now();
        let mut rgba = self.buffers.take();
        let mut scratch = self.buffers.take();
        let traced = load_rgba(
            &job.input,
            self.tracer.config().pixel_limit,
            &mut rgba,
            &mut scratch,
        )
        .and_then(|(w, h)| {
            let raster = RgbaRaster::with_limit(w, h, &rgba, self.tracer.config().pixel_limit)?;
            let v = self.tracer.trace_raster(&raster)?;
            let svg = v.to_svg(&self.tracer.config().svg)?;
            Ok((w, h, v, svg))
        });
        self.buffers.give(rgba);
        self.buffers.give(scratch);
        let (width, height, v, svg) = traced?;
        write_atomically(&job.output, svg.as_bytes())?;
        Ok(BatchStats {
            width,
            height,
            paths: v.shapes.len(),
            segments: v.segment_count(),
            bytes: svg.len(),
            elapsed: start.elapsed(),
        })
    }
}

/// Writes `bytes` to a temporary file beside `path`, then renames it into
/// place: `path` is never left half-written.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    let io = |e: std::io::Error| Error::Io {
        path: path.display().to_string(),
        reason: e.to_string(),
    };
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(format!(".{}.tmp", std::process::id()));
    let tmp = PathBuf::from(tmp);
    std::fs::write(&tmp, bytes).map_err(io)?;
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        io(e)
    })
}

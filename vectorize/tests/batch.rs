//! The batch queue on real files: order, per-image errors, progress,
//! cancellation, atomic output, and recycled image buffers (no large
//! allocation when decoding after warm-up, counted by a global allocator).

use std::alloc::{GlobalAlloc, Layout, System};
use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use vivace_backend::Preference;
use vivace_vectorize::Error;
use vivace_vectorize::batch::{BatchJob, BatchProcessor, CancelToken, load_rgba};
use vivace_vectorize::tracer::{Tracer, TracerConfig};

/// Counts allocations of at least `LARGE` bytes.
struct Counting;
static LARGE: AtomicUsize = AtomicUsize::new(usize::MAX);
static LARGE_ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

// SAFETY: defers to the system allocator; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if layout.size() >= LARGE.load(Ordering::Relaxed) {
            LARGE_ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        }
        // SAFETY: same contract as ours.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as ours.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if new_size >= LARGE.load(Ordering::Relaxed) {
            LARGE_ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        }
        // SAFETY: same contract as ours.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Tests touching the counters run one at a time.
static SERIAL: Mutex<()> = Mutex::new(());

fn dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("vivace-batch-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A disc of radius `r` as a grey PNG.
fn write_disc(path: &std::path::Path, size: u32, r: f64) {
    let img = image::GrayImage::from_fn(size, size, |x, y| {
        let c = f64::from(size) / 2.0;
        let d = (f64::from(x) + 0.5 - c).hypot(f64::from(y) + 0.5 - c);
        image::Luma([if d < r { 0 } else { 255 }])
    });
    img.save(path).unwrap();
}

#[test]
fn a_batch_keeps_order_and_survives_bad_files() {
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let d = dir("order");
    let mut jobs = Vec::new();
    for k in 0..6 {
        let input = d.join(format!("img{k}.png"));
        if k == 3 {
            std::fs::write(&input, b"not a png at all").unwrap();
        } else {
            write_disc(&input, 64, 10.0 + k as f64);
        }
        jobs.push(BatchJob {
            input,
            output: d.join(format!("img{k}.svg")),
        });
    }
    jobs.push(BatchJob {
        input: d.join("missing.png"),
        output: d.join("missing.svg"),
    });
    let tracer = Tracer::new(TracerConfig::default(), Preference::Auto).unwrap();
    let batch = BatchProcessor::new(tracer, 2).unwrap();
    let calls = AtomicUsize::new(0);
    let results = batch.run(
        &jobs,
        |p| {
            calls.fetch_add(1, Ordering::Relaxed);
            assert!(p.done <= p.total);
        },
        &CancelToken::new(),
    );
    assert_eq!(calls.load(Ordering::Relaxed), jobs.len());
    for (k, r) in results.iter().enumerate() {
        assert_eq!(r.job, jobs[k], "results come back in job order");
        match k {
            3 | 6 => {
                assert!(matches!(r.outcome, Err(Error::Image { .. })), "{r:?}");
                assert!(!r.job.output.exists(), "no output for a failed image");
            }
            _ => {
                let s = r.outcome.as_ref().unwrap();
                assert_eq!((s.width, s.height, s.paths), (64, 64, 1));
                let svg = std::fs::read_to_string(&r.job.output).unwrap();
                assert_eq!(svg.len(), s.bytes);
            }
        }
    }
    // No temporary files are left behind.
    assert!(
        std::fs::read_dir(&d).unwrap().all(|e| !e
            .unwrap()
            .path()
            .to_string_lossy()
            .ends_with(".tmp"))
    );
}

#[test]
fn cancelling_stops_the_jobs_not_yet_started() {
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let d = dir("cancel");
    let input = d.join("disc.png");
    write_disc(&input, 32, 8.0);
    let jobs: Vec<BatchJob> = (0..8)
        .map(|k| BatchJob {
            input: input.clone(),
            output: d.join(format!("{k}.svg")),
        })
        .collect();
    let tracer = Tracer::new(TracerConfig::default(), Preference::Auto).unwrap();
    let batch = BatchProcessor::new(tracer, 1).unwrap();
    let cancel = CancelToken::new();
    let results = batch.run(
        &jobs,
        |p| {
            if p.done == 2 {
                cancel.cancel()
            }
        },
        &cancel,
    );
    let ok = results.iter().filter(|r| r.outcome.is_ok()).count();
    let cancelled = results
        .iter()
        .filter(|r| matches!(r.outcome, Err(Error::Cancelled)))
        .count();
    assert_eq!((ok, cancelled), (2, 6));
}

#[test]
fn decoding_reuses_image_buffers_after_warm_up() {
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let d = dir("pool");
    let input = d.join("big.png");
    write_disc(&input, 512, 100.0);
    let (mut rgba, mut scratch) = (Vec::new(), Vec::new());
    load_rgba(&input, u64::MAX, &mut rgba, &mut scratch).unwrap();
    assert_eq!(rgba.len(), 512 * 512 * 4);
    // Large = the RGBA image, 4 bytes per pixel. Not counted, because not
    // ours: the png crate's own inflate buffers (64 KiB) and its buffer of
    // filtered rows (height × (row bytes + 1): here 257 KiB), fresh per file.
    LARGE.store(512 * 512 * 4, Ordering::Relaxed);
    LARGE_ALLOCATIONS.store(0, Ordering::Relaxed);
    for _ in 0..5 {
        load_rgba(&input, u64::MAX, &mut rgba, &mut scratch).unwrap();
    }
    let large = LARGE_ALLOCATIONS.load(Ordering::Relaxed);
    LARGE.store(usize::MAX, Ordering::Relaxed);
    assert_eq!(
        large, 0,
        "large allocations while decoding into warm buffers"
    );
    // And the pixel limit refuses before decoding.
    assert!(matches!(
        load_rgba(&input, 1000, &mut rgba, &mut scratch),
        Err(Error::TooLarge { .. })
    ));
}

//! Per-frame work allocates nothing: statistics, governors, the knob map
//! when nothing changes, and the monitor. A counting global allocator
//! watches.
//!
//! Only the test thread's allocations count: the test harness's own thread
//! may allocate at any moment (it did, four times, mid-test in a CI run).

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use vivace_perf_adapt::{
    BudgetConfig, BudgetGovernor, FrameStats, Governor, PerformanceMonitor, QualityMap,
    StepGovernor,
};

struct Counting;

thread_local! {
    // Const-initialised: reading it never allocates.
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

fn count() {
    // `try_with`: a thread being torn down has no slot (and is not ours).
    let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
}

fn allocations() -> usize {
    ALLOCATIONS.with(Cell::get)
}

// SAFETY: forwards to the system allocator unchanged; only counts calls.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count();
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count();
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[test]
fn per_frame_work_does_not_allocate() {
    let mut stats = FrameStats::new(120).unwrap();
    let mut budget = BudgetGovernor::new(BudgetConfig::new(60.0)).unwrap();
    let mut step = StepGovernor::new(60.0).unwrap();
    let mut monitor = PerformanceMonitor::new(60.0, 120).unwrap();
    let mut map = QualityMap::origin();
    map.apply(0.5);

    let before = allocations();
    let mut q = budget.quality();
    for frame in 0..10_000 {
        let ms = 3.0 + 20.0 * q + if frame % 97 == 0 { 30.0 } else { 0.0 };
        stats.push(ms);
        std::hint::black_box(stats.p99());
        q = budget.on_frame(ms);
        step.on_frame(ms);
        monitor.record_task(1.5);
        monitor.record_gpu(4.0);
        monitor.record_frame(ms);
        monitor.set_quality(q);
        std::hint::black_box(monitor.report().fps);
        map.apply(0.5);
    }
    let after = allocations();
    assert_eq!(after - before, 0, "allocations during 10,000 frames");
}

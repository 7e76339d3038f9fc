//! Field updates and direct-sum steps allocate nothing after warm-up. A
//! counting global allocator watches the threads doing the frame's work:
//! the test thread and the pool's workers (the test harness's own threads
//! are not counted).
//!
//! The frame loop runs inside the thread pool (`ThreadPool::install`), as a
//! real-time loop should: then rayon's tasks go to the worker's own deque.
//! Called from a thread outside the pool, each parallel call is injected
//! through rayon's global queue, which allocates one block per 63 calls.

use std::sync::atomic::{AtomicUsize, Ordering};

use vivace_particles::field::{FieldMode, FieldParams, ParticleField};
use vivace_particles::{Gravity, Simulation, ic, select_direct};
use vivace_test_support::CountingAllocator;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    /// Whether this thread's allocations count.
    static COUNTED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Counts the allocations of threads that opted in, into one total.
fn count() {
    if COUNTED.with(|c| c.get()) {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
    }
}

#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator::new(count);

#[test]
fn frames_allocate_nothing_after_warm_up() {
    let mut field = ParticleField::random(100_000, 1).unwrap();
    let kernel = select_direct(vivace_backend::Preference::Auto, 1000)
        .unwrap()
        .backend;
    let mut sim = Simulation::new(
        ic::plummer(2_000, 1).unwrap(),
        kernel,
        Gravity::new(1.0, 0.05).unwrap(),
    )
    .unwrap();
    let modes = [
        FieldMode::Wave,
        FieldMode::Swirl,
        FieldMode::Orbit,
        FieldMode::Physics,
    ];
    // Warm-up: the thread pool starts, buffers reach their size.
    for (frame, &mode) in modes.iter().enumerate() {
        let params = FieldParams {
            mode,
            ..FieldParams::default()
        };
        field
            .update(&params, frame as f32 / 60.0, 1.0 / 60.0)
            .unwrap();
    }
    sim.step(1e-3).unwrap();

    COUNTED.with(|c| c.set(true));
    let pool = rayon::ThreadPoolBuilder::new()
        .start_handler(|_| COUNTED.with(|c| c.set(true)))
        .build()
        .unwrap();
    let (before, after) = pool.install(|| {
        // Warm the pool too: each worker registers with crossbeam's epoch
        // collector (one allocation per thread, once) the first time it
        // steals work.
        for frame in 0..40 {
            let params = FieldParams {
                mode: modes[frame % modes.len()],
                ..FieldParams::default()
            };
            field
                .update(&params, frame as f32 / 60.0, 1.0 / 60.0)
                .unwrap();
        }
        sim.step(1e-3).unwrap();
        let before = ALLOCATIONS.load(Ordering::Relaxed);
        for frame in 0..200 {
            let params = FieldParams {
                mode: modes[frame % modes.len()],
                ..FieldParams::default()
            };
            field
                .update(&params, frame as f32 / 60.0, 1.0 / 60.0)
                .unwrap();
            if frame % 20 == 0 {
                sim.step(1e-3).unwrap();
            }
        }
        (before, ALLOCATIONS.load(Ordering::Relaxed))
    });
    assert_eq!(after - before, 0, "allocations in 200 frames after warm-up");
}

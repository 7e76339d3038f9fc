//! Helpers shared by vivace's own tests; not published.
#![deny(missing_docs)]
//!
//! [`CountingAllocator::per_thread`] forwards to the system allocator and
//! counts, per thread, every allocation and reallocation, so a test can
//! assert that its real-time loop allocates nothing:
//!
//! ```
//! use vivace_test_support::{CountingAllocator, thread_allocations};
//!
//! #[global_allocator]
//! static GLOBAL: CountingAllocator = CountingAllocator::per_thread();
//!
//! let before = thread_allocations();
//! let v = vec![1u8; 16];
//! assert_eq!(thread_allocations() - before, 1);
//! # drop(v);
//! ```
//!
//! Only the calling thread's allocations count: the test harness's own
//! thread may allocate at any moment (it once did, mid-test, and failed a
//! test that counted every thread). A test that counts differently (across
//! a thread pool, say) passes its own hook to [`CountingAllocator::new`].

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

thread_local! {
    // Const-initialised: reading it never allocates.
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

fn count() {
    // `try_with`: a thread being torn down has no slot (and is not ours).
    let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
}

/// Allocations and reallocations made so far by the calling thread, while
/// [`CountingAllocator::per_thread`] is the global allocator.
pub fn thread_allocations() -> usize {
    ALLOCATIONS.with(Cell::get)
}

/// A global allocator that forwards to [`System`] and calls a hook before
/// each allocation and reallocation.
pub struct CountingAllocator {
    on_alloc: fn(),
}

impl CountingAllocator {
    /// Counts each thread's allocations (read them with
    /// [`thread_allocations`]).
    pub const fn per_thread() -> Self {
        Self::new(count)
    }

    /// Calls `on_alloc` before each allocation and reallocation; it runs
    /// inside the allocator, so it must not allocate itself.
    pub const fn new(on_alloc: fn()) -> Self {
        CountingAllocator { on_alloc }
    }
}

// SAFETY: forwards to the system allocator unchanged; only calls the hook,
// which must not allocate (documented on `new`).
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        (self.on_alloc)();
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        (self.on_alloc)();
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

//! Buffers recycled by role and size class.
//!
//! Creating a wgpu buffer is a driver call with an allocation behind it; in
//! a frame loop that runs the same dispatches every frame it is pure
//! overhead. The pool keeps every buffer it ever created, keyed by role
//! (storage, uniform, readback) and size class (the next power of two,
//! at least 256 bytes), and hands a free one back out when the same class is
//! asked for again. After warm-up a steady loop creates no buffers at all;
//! [`PoolStats`] proves it.

use std::collections::HashMap;
use std::sync::Arc;

use parking_lot::Mutex;

use crate::{Error, Result};

/// What a pooled buffer is for; it fixes the wgpu usage flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BufferRole {
    /// Kernel data: `STORAGE | COPY_SRC | COPY_DST`.
    Storage,
    /// Kernel parameters: `UNIFORM | COPY_DST`.
    Uniform,
    /// Host-visible readback staging: `MAP_READ | COPY_DST`.
    Readback,
}

impl BufferRole {
    fn usage(self) -> wgpu::BufferUsages {
        use wgpu::BufferUsages as U;
        match self {
            BufferRole::Storage => U::STORAGE | U::COPY_SRC | U::COPY_DST,
            BufferRole::Uniform => U::UNIFORM | U::COPY_DST,
            BufferRole::Readback => U::MAP_READ | U::COPY_DST,
        }
    }
}

/// Counters of a [`GpuContext`](crate::GpuContext)'s buffer pool.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PoolStats {
    /// wgpu buffers created since the context was made.
    pub created: u64,
    /// Requests served from a free buffer instead.
    pub reused: u64,
    /// Bytes in every buffer the pool owns (free or in use).
    pub bytes_held: u64,
    /// Bytes in free buffers, ready for reuse.
    pub bytes_free: u64,
}

/// The size class for a request: the next power of two of at least 256
/// bytes, or the request rounded up to 4 bytes where the power of two would
/// pass `max_buffer_size`.
pub(crate) fn size_class(bytes: u64, max_buffer_size: u64) -> u64 {
    let class = bytes.max(256).next_power_of_two();
    if class <= max_buffer_size {
        class
    } else {
        bytes.div_ceil(4) * 4
    }
}

pub(crate) struct BufferPool {
    device: wgpu::Device,
    max_buffer_size: u64,
    state: Mutex<PoolState>,
}

#[derive(Default)]
struct PoolState {
    free: HashMap<(BufferRole, u64), Vec<wgpu::Buffer>>,
    stats: PoolStats,
}

impl BufferPool {
    pub(crate) fn new(device: wgpu::Device, max_buffer_size: u64) -> Self {
        BufferPool {
            device,
            max_buffer_size,
            state: Mutex::new(PoolState::default()),
        }
    }

    pub(crate) fn stats(&self) -> PoolStats {
        self.state.lock().stats
    }

    /// Drops every free buffer (in-use ones return to the pool as usual).
    pub(crate) fn trim(&self) {
        let mut state = self.state.lock();
        let freed: u64 = state.free.values().flatten().map(wgpu::Buffer::size).sum();
        state.free.clear();
        state.stats.bytes_held -= freed;
        state.stats.bytes_free = 0;
    }

    /// A buffer of at least `bytes` for `role`, reused where possible.
    pub(crate) fn acquire(self: &Arc<Self>, role: BufferRole, bytes: u64) -> Result<PooledBuffer> {
        let class = size_class(bytes, self.max_buffer_size);
        if let Some(buffer) = self.take_free(role, class) {
            return Ok(PooledBuffer {
                buffer: Some(buffer),
                role,
                pool: Arc::clone(self),
            });
        }
        // A miss: create it, catching out-of-memory in an error scope so it
        // becomes an `Error` instead of a panic in the uncaptured handler.
        let scope = self.device.push_error_scope(wgpu::ErrorFilter::OutOfMemory);
        let buffer = self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("vivace pooled buffer"),
            size: class,
            usage: role.usage(),
            mapped_at_creation: false,
        });
        if let Some(error) = pollster::block_on(scope.pop()) {
            return Err(Error::OutOfMemory {
                what: format!("a {class}-byte {role:?} buffer ({error})"),
            });
        }
        let mut state = self.state.lock();
        state.stats.created += 1;
        state.stats.bytes_held += class;
        drop(state);
        Ok(PooledBuffer {
            buffer: Some(buffer),
            role,
            pool: Arc::clone(self),
        })
    }

    fn take_free(&self, role: BufferRole, class: u64) -> Option<wgpu::Buffer> {
        let mut state = self.state.lock();
        let buffer = state.free.get_mut(&(role, class))?.pop()?;
        state.stats.reused += 1;
        state.stats.bytes_free -= class;
        Some(buffer)
    }

    fn release(&self, role: BufferRole, buffer: wgpu::Buffer) {
        let mut state = self.state.lock();
        let class = buffer.size();
        state.stats.bytes_free += class;
        state.free.entry((role, class)).or_default().push(buffer);
    }
}

/// A wgpu buffer on loan from the pool; it goes back when dropped.
///
/// Returning a buffer while a submission that uses it is still in flight is
/// safe: the queue executes in order, so the next user's writes land after
/// the earlier submission has read it.
pub struct PooledBuffer {
    buffer: Option<wgpu::Buffer>,
    role: BufferRole,
    pool: Arc<BufferPool>,
}

impl PooledBuffer {
    /// The underlying wgpu buffer (its size is the size class, which may be
    /// larger than what was asked for).
    pub fn raw(&self) -> &wgpu::Buffer {
        self.buffer.as_ref().expect("present until drop")
    }

    /// What the buffer is for.
    pub fn role(&self) -> BufferRole {
        self.role
    }
}

impl Drop for PooledBuffer {
    fn drop(&mut self) {
        if let Some(buffer) = self.buffer.take() {
            self.pool.release(self.role, buffer);
        }
    }
}

impl std::fmt::Debug for PooledBuffer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PooledBuffer")
            .field("role", &self.role)
            .field("size", &self.raw().size())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::size_class;

    #[test]
    fn size_classes_are_powers_of_two_from_256() {
        assert_eq!(size_class(0, 1 << 30), 256);
        assert_eq!(size_class(1, 1 << 30), 256);
        assert_eq!(size_class(256, 1 << 30), 256);
        assert_eq!(size_class(257, 1 << 30), 512);
        assert_eq!(size_class(3 << 20, 1 << 30), 4 << 20);
    }

    #[test]
    fn classes_never_pass_the_device_limit() {
        // 600 MiB rounds to 1 GiB, past a 768 MiB limit: keep it exact.
        let limit = 768 << 20;
        assert_eq!(size_class(600 << 20, limit), 600 << 20);
        assert_eq!(size_class(601, 700), 604);
    }
}

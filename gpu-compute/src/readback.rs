//! Non-blocking readback for frame loops.

use std::marker::PhantomData;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};

use bytemuck::Pod;

use crate::pool::{BufferRole, PooledBuffer};
use crate::recording::{copy_mapped, poll_error};
use crate::{Error, GpuBuffer, GpuContext, Recording, Result};

const IDLE: u8 = 0;
const PENDING: u8 = 1;
const READY: u8 = 2;
const FAILED: u8 = 3;

struct Slot {
    staging: PooledBuffer,
    state: Arc<AtomicU8>,
    frame: u64,
}

/// A ring of staging buffers so a frame loop never waits on `map_async`:
/// submit this frame's work with [`ReadbackRing::submit`], and pick up the
/// oldest finished frame's result with [`ReadbackRing::try_collect`]
/// (usually the previous frame's).
///
/// ```no_run
/// use std::sync::Arc;
/// use vivace_gpu_compute::{GpuContext, ReadbackRing};
/// let ctx = GpuContext::shared()?;
/// let data = ctx.upload(&[0u32; 64])?;
/// let mut ring = ReadbackRing::<u32>::new(Arc::clone(&ctx), 64, 3)?;
/// let mut latest = [0u32; 64];
/// for _frame in 0..10 {
///     let recording = ctx.record(); // ... dispatches that write `data` ...
///     ring.submit(recording, &data)?;
///     if let Some(frame) = ring.try_collect(&mut latest)? {
///         println!("frame {frame} is back");
///     }
/// }
/// # Ok::<(), vivace_gpu_compute::Error>(())
/// ```
pub struct ReadbackRing<T: Pod> {
    ctx: Arc<GpuContext>,
    slots: Vec<Slot>,
    len: usize,
    next_submit: usize,
    next_collect: usize,
    frames: u64,
    _values: PhantomData<T>,
}

impl<T: Pod> ReadbackRing<T> {
    /// A ring of `slots` staging buffers (at least 1; 2–3 is typical) for
    /// results of `len` values.
    pub fn new(ctx: Arc<GpuContext>, len: usize, slots: usize) -> Result<Self> {
        let bytes = (len as u64)
            .saturating_mul(size_of::<T>() as u64)
            .div_ceil(4)
            .max(1)
            * 4;
        let slots = (0..slots.max(1))
            .map(|_| {
                Ok(Slot {
                    staging: ctx.acquire(BufferRole::Readback, bytes)?,
                    state: Arc::new(AtomicU8::new(IDLE)),
                    frame: 0,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(ReadbackRing {
            ctx,
            slots,
            len,
            next_submit: 0,
            next_collect: 0,
            frames: 0,
            _values: PhantomData,
        })
    }

    /// Results submitted but not yet collected.
    pub fn in_flight(&self) -> usize {
        self.slots
            .iter()
            .filter(|s| s.state.load(Ordering::Acquire) != IDLE)
            .count()
    }

    /// Submits `recording` followed by a copy of `src` into the next slot,
    /// and starts mapping it. Returns the frame number. Never blocks; when
    /// every slot is in flight it fails with `ReadbackRingFull` (skip the
    /// frame's readback, or collect first).
    pub fn submit(&mut self, mut recording: Recording<'_>, src: &GpuBuffer<T>) -> Result<u64> {
        if src.len() != self.len {
            return Err(Error::LengthMismatch {
                what: "readback ring result length",
                expected: self.len,
                actual: src.len(),
            });
        }
        let slot = &mut self.slots[self.next_submit];
        if slot.state.load(Ordering::Acquire) != IDLE {
            return Err(Error::ReadbackRingFull {
                slots: self.slots.len(),
            });
        }
        recording.copy_raw_to(src, slot.staging.raw());
        recording.submit()?;
        self.frames += 1;
        slot.frame = self.frames;
        slot.state.store(PENDING, Ordering::Release);
        let state = Arc::clone(&slot.state);
        let bytes = slot.staging.raw().size();
        slot.staging
            .raw()
            .map_async(wgpu::MapMode::Read, 0..bytes, move |result| {
                state.store(
                    if result.is_ok() { READY } else { FAILED },
                    Ordering::Release,
                );
            });
        self.next_submit = (self.next_submit + 1) % self.slots.len();
        Ok(self.frames)
    }

    /// Copies the oldest finished result into `out` and returns its frame
    /// number; `None` when it is not ready yet (or nothing is in flight).
    /// Never blocks.
    pub fn try_collect(&mut self, out: &mut [T]) -> Result<Option<u64>> {
        self.ctx
            .device()
            .poll(wgpu::PollType::Poll)
            .map_err(|e| poll_error(&self.ctx, e))?;
        self.take_ready(out)
    }

    /// Waits for the oldest in-flight result and copies it into `out`;
    /// `None` when nothing is in flight.
    pub fn collect_blocking(&mut self, out: &mut [T]) -> Result<Option<u64>> {
        if self.slots[self.next_collect].state.load(Ordering::Acquire) == PENDING {
            self.ctx
                .device()
                .poll(wgpu::PollType::wait_indefinitely())
                .map_err(|e| poll_error(&self.ctx, e))?;
        }
        self.take_ready(out)
    }

    fn take_ready(&mut self, out: &mut [T]) -> Result<Option<u64>> {
        if out.len() != self.len {
            return Err(Error::LengthMismatch {
                what: "readback ring target",
                expected: self.len,
                actual: out.len(),
            });
        }
        self.ctx.check_health()?;
        let slot = &self.slots[self.next_collect];
        match slot.state.load(Ordering::Acquire) {
            READY => {
                copy_mapped(slot.staging.raw(), bytemuck::cast_slice_mut(out))?;
            }
            FAILED => {
                slot.staging.raw().unmap();
                slot.state.store(IDLE, Ordering::Release);
                self.next_collect = (self.next_collect + 1) % self.slots.len();
                return Err(Error::Map {
                    reason: format!("readback of frame {} failed", slot.frame),
                });
            }
            _ => return Ok(None),
        }
        let frame = slot.frame;
        slot.state.store(IDLE, Ordering::Release);
        self.next_collect = (self.next_collect + 1) % self.slots.len();
        Ok(Some(frame))
    }
}

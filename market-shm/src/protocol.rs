//! The record protocol: a sequence lock whose payload lives in atomic words.
//!
//! Every record in a region (ticker, kline slot, metadata) is one sequence
//! word followed by payload words. The single writer
//!
//! 1. stores `seq + 1` (odd: "write in progress"), Relaxed;
//! 2. issues a Release fence;
//! 3. stores each payload word, Relaxed;
//! 4. stores `seq + 2` (even again), Release.
//!
//! A reader
//!
//! 1. loads `s1 = seq`, Relaxed, then issues an Acquire fence; if `s1` is odd
//!    a write is in progress and the attempt fails;
//! 2. loads each payload word, Relaxed;
//! 3. issues an Acquire fence and loads `s2 = seq`, Relaxed;
//! 4. succeeds only if `s1 == s2`.
//!
//! This is the fence-based seqlock of H.-J. Boehm, "Can seqlocks get along
//! with programming language memory models?" (MSPC 2012). Because the payload
//! words are atomics, a torn read is never undefined behaviour: it is merely
//! detected (`s1 != s2`) and retried. Readers use **only Relaxed loads and
//! fences**, never a read-modify-write or a stronger load, so the protocol
//! works on memory a reader mapped read-only.
//!
//! The functions are generic over [`SeqWord`] so that the very code the
//! crate runs is also model-checked by loom (`tests/loom.rs`, run with
//! `RUSTFLAGS="--cfg loom"`).

use std::sync::atomic::{AtomicU64, Ordering, fence};

/// A 64-bit atomic word as the record protocol needs it.
///
/// Implemented for [`AtomicU64`]; the loom model implements it for loom's
/// atomic so the protocol can be checked under every interleaving.
pub trait SeqWord {
    /// Atomically loads the word.
    fn load(&self, order: Ordering) -> u64;
    /// Atomically stores the word.
    fn store(&self, value: u64, order: Ordering);
    /// A memory fence of the same memory model as the word.
    fn fence(order: Ordering);
}

impl SeqWord for AtomicU64 {
    #[inline(always)]
    fn load(&self, order: Ordering) -> u64 {
        AtomicU64::load(self, order)
    }
    #[inline(always)]
    fn store(&self, value: u64, order: Ordering) {
        AtomicU64::store(self, value, order)
    }
    #[inline(always)]
    fn fence(order: Ordering) {
        fence(order)
    }
}

/// Marks the record as being written (odd sequence) and returns the sequence
/// value it had, which [`end_write`] needs. Only the single writer may call it.
#[inline(always)]
pub fn begin_write<W: SeqWord>(seq: &W) -> u64 {
    let s = seq.load(Ordering::Relaxed);
    seq.store(s.wrapping_add(1), Ordering::Relaxed);
    W::fence(Ordering::Release);
    s
}

/// Publishes the record: the sequence becomes `begun + 2` (even).
#[inline(always)]
pub fn end_write<W: SeqWord>(seq: &W, begun: u64) {
    seq.store(begun.wrapping_add(2), Ordering::Release);
}

/// Writes `values` into `payload` under the record's sequence lock.
///
/// `payload` and `values` have the same length (checked in debug builds).
#[inline(always)]
pub fn write<W: SeqWord>(seq: &W, payload: &[W], values: &[u64]) {
    debug_assert_eq!(payload.len(), values.len());
    let s = begin_write(seq);
    for (word, &value) in payload.iter().zip(values) {
        word.store(value, Ordering::Relaxed);
    }
    end_write(seq, s);
}

/// One attempt to read a consistent copy of the record into `out`.
///
/// Returns `Ok(seq)` (the even sequence the copy belongs to) when the copy is
/// consistent, `Err(seq)` with the sequence that was seen otherwise (odd: a
/// write is in progress; even: a write happened during the copy). On `Err`,
/// `out` holds garbage and must not be used.
#[inline(always)]
pub fn try_read<W: SeqWord>(seq: &W, payload: &[W], out: &mut [u64]) -> Result<u64, u64> {
    debug_assert_eq!(payload.len(), out.len());
    let s1 = seq.load(Ordering::Relaxed);
    W::fence(Ordering::Acquire);
    if s1 & 1 == 1 {
        return Err(s1);
    }
    for (slot, word) in out.iter_mut().zip(payload) {
        *slot = word.load(Ordering::Relaxed);
    }
    W::fence(Ordering::Acquire);
    let s2 = seq.load(Ordering::Relaxed);
    if s1 == s2 { Ok(s1) } else { Err(s2) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn record(n: usize) -> (AtomicU64, Vec<AtomicU64>) {
        (
            AtomicU64::new(0),
            (0..n).map(|_| AtomicU64::new(0)).collect(),
        )
    }

    #[test]
    fn write_then_read_round_trips_and_advances_by_two() {
        let (seq, payload) = record(4);
        write(&seq, &payload, &[1, 2, 3, 4]);
        let mut out = [0; 4];
        assert_eq!(try_read(&seq, &payload, &mut out), Ok(2));
        assert_eq!(out, [1, 2, 3, 4]);
        write(&seq, &payload, &[5, 6, 7, 8]);
        assert_eq!(try_read(&seq, &payload, &mut out), Ok(4));
        assert_eq!(out, [5, 6, 7, 8]);
    }

    #[test]
    fn a_read_during_a_write_fails() {
        let (seq, payload) = record(2);
        let begun = begin_write(&seq);
        payload[0].store(9, Ordering::Relaxed);
        let mut out = [0; 2];
        assert_eq!(try_read(&seq, &payload, &mut out), Err(1));
        end_write(&seq, begun);
        assert_eq!(try_read(&seq, &payload, &mut out), Ok(2));
        assert_eq!(out, [9, 0]);
    }

    /// Two threads under Miri (and natively): every successful read is one
    /// of the written records, never a mix.
    #[test]
    fn concurrent_reads_are_never_torn() {
        let writes: u64 = if cfg!(miri) { 200 } else { 200_000 };
        let rec = Arc::new(record(3));
        let writer = {
            let rec = Arc::clone(&rec);
            std::thread::spawn(move || {
                for i in 1..=writes {
                    write(&rec.0, &rec.1, &[i, i.wrapping_mul(3), i ^ 0xdead_beef]);
                }
            })
        };
        let mut consistent = 0u64;
        let mut out = [0; 3];
        while !writer.is_finished() || consistent == 0 {
            if try_read(&rec.0, &rec.1, &mut out).is_ok() {
                let i = out[0];
                assert_eq!(
                    out,
                    [
                        i,
                        i.wrapping_mul(3),
                        if i == 0 { 0 } else { i ^ 0xdead_beef }
                    ]
                );
                consistent += 1;
            }
        }
        writer.join().unwrap();
        assert!(consistent > 0);
    }
}

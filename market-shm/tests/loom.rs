//! A loom model of the record protocol: the crate's own `protocol`
//! functions, run over loom's atomics under every interleaving and every
//! permitted reordering of Relaxed accesses.
//!
//! `RUSTFLAGS="--cfg loom" cargo test -p vivace-market-shm --test loom --release`
#![cfg(loom)]

use std::sync::atomic::Ordering;

use loom::sync::Arc;
use loom::sync::atomic::AtomicU64;
use vivace_market_shm::protocol::{self, SeqWord};

struct Word(AtomicU64);

impl SeqWord for Word {
    fn load(&self, order: Ordering) -> u64 {
        self.0.load(order)
    }
    fn store(&self, value: u64, order: Ordering) {
        self.0.store(value, order)
    }
    fn fence(order: Ordering) {
        loom::sync::atomic::fence(order)
    }
}

struct Record {
    seq: Word,
    payload: [Word; 2],
}

fn record() -> Arc<Record> {
    Arc::new(Record {
        seq: Word(AtomicU64::new(0)),
        payload: [Word(AtomicU64::new(0)), Word(AtomicU64::new(0))],
    })
}

/// The model checker, bounded to three preemptions per execution (loom's
/// advice for keeping the state space tractable; the bugs seqlocks have
/// need one or two).
fn model(f: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = Some(3);
    builder.check(f);
}

/// A deliberately broken writer (no Release fence after marking the record
/// odd, Relaxed publication): the model must catch it, which shows the
/// model can fail.
fn broken_write(rec: &Record, values: &[u64]) {
    let s = rec.seq.load(Ordering::Relaxed);
    rec.seq.store(s + 1, Ordering::Relaxed);
    for (w, &v) in rec.payload.iter().zip(values) {
        w.store(v, Ordering::Relaxed);
    }
    rec.seq.store(s + 2, Ordering::Relaxed);
}

#[test]
#[should_panic]
fn the_model_catches_a_broken_protocol() {
    model(|| {
        let rec = record();
        let writer = {
            let rec = Arc::clone(&rec);
            loom::thread::spawn(move || {
                broken_write(&rec, &[1, 1]);
                broken_write(&rec, &[2, 2]);
            })
        };
        let mut out = [0u64; 2];
        if let Ok(seq) = protocol::try_read(&rec.seq, &rec.payload, &mut out) {
            assert!(
                out[0] == out[1] && out[0] == seq / 2,
                "torn read {out:?} at seq {seq}"
            );
        }
        writer.join().unwrap();
    });
}

/// Two writes of uniform records against a reader's two attempts: every
/// successful copy is uniform (all words equal), and its sequence says which
/// write it is.
#[test]
fn successful_reads_are_never_torn() {
    model(|| {
        let rec = record();
        let writer = {
            let rec = Arc::clone(&rec);
            loom::thread::spawn(move || {
                protocol::write(&rec.seq, &rec.payload, &[1, 1]);
                protocol::write(&rec.seq, &rec.payload, &[2, 2]);
            })
        };
        for _ in 0..2 {
            let mut out = [0u64; 2];
            if let Ok(seq) = protocol::try_read(&rec.seq, &rec.payload, &mut out) {
                assert!(out[0] == out[1], "torn read {out:?} at seq {seq}");
                assert_eq!(out[0], seq / 2, "copy {out:?} does not belong to seq {seq}");
            }
        }
        writer.join().unwrap();
        // After the writer is done, a read always succeeds with the last write.
        let mut out = [0u64; 2];
        assert_eq!(protocol::try_read(&rec.seq, &rec.payload, &mut out), Ok(4));
        assert_eq!(out, [2, 2]);
    });
}

/// A writer that begins a write and never ends it (a crash): readers never
/// succeed on that record.
#[test]
fn an_abandoned_write_is_never_read() {
    model(|| {
        let rec = record();
        let writer = {
            let rec = Arc::clone(&rec);
            loom::thread::spawn(move || {
                protocol::write(&rec.seq, &rec.payload, &[1, 1]);
                let _ = protocol::begin_write(&rec.seq);
                rec.payload[0].store(7, Ordering::Relaxed);
            })
        };
        let mut out = [0u64; 2];
        if let Ok(seq) = protocol::try_read(&rec.seq, &rec.payload, &mut out) {
            assert!(
                out == [0, 0] && seq == 0 || out == [1, 1] && seq == 2,
                "{out:?} at {seq}"
            );
        }
        writer.join().unwrap();
        assert!(protocol::try_read(&rec.seq, &rec.payload, &mut out).is_err());
    });
}

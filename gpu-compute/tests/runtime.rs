//! The runtime itself: pool reuse, pipeline caching, typed errors,
//! non-blocking readback and timing.

mod common;

use std::sync::Arc;

use common::private_context;
use vivace_gpu_compute::kernels::{GpuKernels, ReduceOp};
use vivace_gpu_compute::{ComputeKernel, Error, GpuContext, ReadbackRing, TimingSource};

/// One frame of a steady loop: axpy, sum, scan and histogram on resident
/// buffers, with the results read back.
fn frame(ctx: &GpuContext, kernels: &GpuKernels, len: usize) -> (f32, u32) {
    let x = ctx.upload(&vec![1.0f32; len]).unwrap();
    let y = ctx.upload(&vec![2.0f32; len]).unwrap();
    let ints = ctx.upload(&vec![1u32; len]).unwrap();
    let scanned = ctx.alloc::<u32>(len).unwrap();
    let bytes = ctx.upload(&vec![9u8; len]).unwrap();
    let bins = ctx.alloc::<u32>(256).unwrap();

    let mut rec = ctx.record();
    kernels.record_axpy(&mut rec, 3.0, &x, &y).unwrap();
    let sum = kernels.record_reduce(&mut rec, ReduceOp::Sum, &y).unwrap();
    kernels.record_scan(&mut rec, &ints, &scanned).unwrap();
    kernels.record_histogram(&mut rec, &bytes, &bins).unwrap();
    rec.submit().unwrap();

    let mut total = [0.0f32];
    ctx.read(&sum, &mut total).unwrap();
    let mut last = vec![0u32; len];
    ctx.read(&scanned, &mut last).unwrap();
    let mut hist = [0u32; 256];
    ctx.read(&bins, &mut hist).unwrap();
    assert_eq!(hist[9] as usize, len);
    (total[0], last[len - 1])
}

#[test]
fn steady_loop_creates_no_buffers_and_compiles_nothing_after_warmup() {
    let Some(ctx) = private_context("steady_loop_creates_no_buffers") else {
        return;
    };
    let kernels = GpuKernels::new(Arc::new(ctx));
    let ctx = kernels.context();
    let len = 100_000;
    for _ in 0..2 {
        frame(ctx, &kernels, len); // warm-up
    }
    let pool_before = ctx.pool_stats();
    let pipes_before = ctx.pipeline_stats();
    assert!(pool_before.created > 0);
    assert!(pipes_before.misses >= 4, "{pipes_before:?}");
    for _ in 0..10 {
        let (sum, last) = frame(ctx, &kernels, len);
        assert_eq!(sum, 5.0 * len as f32);
        assert_eq!(last as usize, len);
    }
    let pool_after = ctx.pool_stats();
    let pipes_after = ctx.pipeline_stats();
    assert_eq!(
        pool_after.created, pool_before.created,
        "new buffers after warm-up"
    );
    assert!(pool_after.reused > pool_before.reused);
    assert_eq!(pool_after.bytes_held, pool_before.bytes_held);
    assert_eq!(
        pipes_after.misses, pipes_before.misses,
        "recompiled after warm-up"
    );
    assert!(
        pipes_after.hits > pipes_before.hits,
        "100% hits after warm-up"
    );

    // Everything in the pool is free between frames; trimming releases it.
    assert_eq!(pool_after.bytes_free, pool_after.bytes_held);
    ctx.trim_pool();
    assert_eq!(ctx.pool_stats().bytes_held, 0);
}

#[test]
fn buffers_past_the_device_limit_are_refused_before_wgpu() {
    let Some(ctx) = GpuContext::shared_or_skip("buffers_past_the_device_limit") else {
        return;
    };
    let limit = ctx
        .limits()
        .max_storage_buffer_binding_size
        .min(ctx.limits().max_buffer_size);
    let created = ctx.pool_stats().created;
    let too_many = (limit / 4 + 1) as usize;
    let err = ctx.alloc::<f32>(too_many).unwrap_err();
    match err {
        Error::BufferTooLarge {
            requested,
            limit: l,
            ..
        } => {
            assert_eq!(requested, too_many as u64 * 4);
            assert_eq!(l, limit);
        }
        other => panic!("expected BufferTooLarge, got {other}"),
    }
    // Overflowing byte counts are refused too, not wrapped.
    assert!(matches!(
        ctx.alloc::<u64>(usize::MAX),
        Err(Error::BufferTooLarge { .. })
    ));
    assert_eq!(ctx.pool_stats().created, created, "no buffer was created");
}

#[test]
fn wgsl_errors_are_typed_errors_not_panics() {
    let Some(ctx) = GpuContext::shared_or_skip("wgsl_errors_are_typed_errors") else {
        return;
    };
    static BROKEN: ComputeKernel = ComputeKernel {
        label: "broken",
        source: "@compute @workgroup_size(64) fn main() { let x: u32 = not_defined; }",
        entry_point: "main",
        workgroup_size: 64,
    };
    let err = ctx.pipeline(&BROKEN).unwrap_err();
    match &err {
        Error::Shader { kernel, message } => {
            assert_eq!(kernel, "broken");
            assert!(message.contains("not_defined"), "{message}");
        }
        other => panic!("expected Shader, got {other}"),
    }
    static NO_ENTRY: ComputeKernel = ComputeKernel {
        label: "no_entry",
        source: "@compute @workgroup_size(64) fn main() {}",
        entry_point: "missing",
        workgroup_size: 64,
    };
    assert!(matches!(ctx.pipeline(&NO_ENTRY), Err(Error::Shader { .. })));
    // The context is still healthy afterwards.
    ctx.check_health().unwrap();
    let back = {
        let b = ctx.upload(&[4u32, 5]).unwrap();
        let mut out = [0u32; 2];
        ctx.read(&b, &mut out).unwrap();
        out
    };
    assert_eq!(back, [4, 5]);
}

#[test]
fn readback_lengths_must_match() {
    let Some(ctx) = GpuContext::shared_or_skip("readback_lengths_must_match") else {
        return;
    };
    let b = ctx.upload(&[1.0f32, 2.0, 3.0]).unwrap();
    let mut short = [0.0f32; 2];
    assert!(matches!(
        ctx.read(&b, &mut short),
        Err(Error::LengthMismatch { .. })
    ));
    assert!(matches!(
        ctx.write(&b, &[0.0; 4]),
        Err(Error::LengthMismatch { .. })
    ));
    // Odd byte lengths round-trip exactly (padding never leaks in).
    let odd = ctx.upload(&[1u8, 2, 3, 4, 5, 6, 7]).unwrap();
    let mut out = [0u8; 7];
    ctx.read(&odd, &mut out).unwrap();
    assert_eq!(out, [1, 2, 3, 4, 5, 6, 7]);
}

#[test]
fn readback_ring_returns_frames_in_order_without_blocking() {
    let Some(ctx) = GpuContext::shared_or_skip("readback_ring") else {
        return;
    };
    let kernels = GpuKernels::new(Arc::clone(&ctx));
    let len = 4096;
    let x = ctx.upload(&vec![1.0f32; len]).unwrap();
    let y = ctx.upload(&vec![0.0f32; len]).unwrap();
    let mut ring = ReadbackRing::<f32>::new(Arc::clone(&ctx), len, 3).unwrap();
    let mut out = vec![0.0f32; len];
    let mut collected = Vec::new();
    for frame in 1..=20u64 {
        let mut rec = ctx.record();
        kernels.record_axpy(&mut rec, 1.0, &x, &y).unwrap();
        match ring.submit(rec, &y) {
            Ok(n) => assert!(n <= frame),
            Err(Error::ReadbackRingFull { slots }) => assert_eq!(slots, 3),
            Err(e) => panic!("{e}"),
        }
        if let Some(n) = ring.try_collect(&mut out).unwrap() {
            // Frame n's copy ran after n axpys... unless frames were
            // skipped while the ring was full; y only grows, by whole steps.
            assert!(out[0] >= n as f32 && out.iter().all(|&v| v == out[0]));
            collected.push(n);
        }
    }
    while let Some(n) = ring.collect_blocking(&mut out).unwrap() {
        collected.push(n);
    }
    assert_eq!(ring.in_flight(), 0);
    assert!(!collected.is_empty());
    assert!(collected.windows(2).all(|w| w[0] < w[1]), "{collected:?}");
    let mut wrong = vec![0.0f32; len - 1];
    assert!(ring.try_collect(&mut wrong).is_err());
}

#[test]
fn timed_recordings_label_their_source() {
    let Some(ctx) = GpuContext::shared_or_skip("timed_recordings") else {
        return;
    };
    let kernels = GpuKernels::new(Arc::clone(&ctx));
    let x = ctx.upload(&vec![1.0f32; 1 << 16]).unwrap();
    let y = ctx.upload(&vec![1.0f32; 1 << 16]).unwrap();
    let mut rec = ctx.record_timed();
    kernels.record_axpy(&mut rec, 2.0, &x, &y).unwrap();
    let timing = rec.submit_and_wait().unwrap();
    let expected = if ctx.has_timestamps() {
        TimingSource::Timestamps
    } else {
        TimingSource::WallClock
    };
    assert_eq!(timing.source, expected);
    assert!(timing.to_string().contains(if ctx.has_timestamps() {
        "timestamps"
    } else {
        "wall clock"
    }));
    let mut out = vec![0.0f32; 1 << 16];
    ctx.read(&y, &mut out).unwrap();
    assert!(out.iter().all(|&v| v == 3.0));
}

#[test]
fn adapter_summary_and_report_line_name_the_adapter() {
    let Some(ctx) = GpuContext::shared_or_skip("adapter_summary") else {
        return;
    };
    let line = ctx.report_line();
    assert!(line.contains(&ctx.adapter().name), "{line}");
    if ctx.adapter().is_software() {
        assert!(line.contains("software"), "{line}");
    }
    let mut report = vivace_backend::CapabilityReport::detect();
    GpuContext::add_to_report(&mut report);
    assert!(report.to_string().contains("gpu:"));
    assert!(!vivace_gpu_compute::list_adapters().is_empty());
}

#[test]
fn unmatched_adapter_name_is_an_error_listing_the_adapters() {
    // Only this test sets the variable, in a child process, so the rest of
    // the suite is unaffected.
    if std::env::var_os("VIVACE_TEST_CHILD").is_some() {
        let err = GpuContext::new().unwrap_err();
        assert!(matches!(err, Error::NoAdapter { .. }), "{err}");
        assert!(err.to_string().contains("no-such-adapter"), "{err}");
        return;
    }
    if GpuContext::shared_or_skip("unmatched_adapter_name").is_none() {
        return;
    }
    let status = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "unmatched_adapter_name_is_an_error_listing_the_adapters",
            "--nocapture",
        ])
        .env("VIVACE_TEST_CHILD", "1")
        .env("WGPU_ADAPTER_NAME", "no-such-adapter")
        .status()
        .unwrap();
    assert!(status.success());
}

#[test]
fn a_lost_device_is_a_typed_error_on_the_next_call() {
    let Some(ctx) = private_context("a_lost_device_is_a_typed_error") else {
        return;
    };
    let before = ctx.upload(&[1.0f32; 16]).unwrap();
    ctx.device().destroy();
    let mut out = [0.0f32; 16];
    let err = ctx.read(&before, &mut out).unwrap_err();
    assert!(matches!(err, Error::DeviceLost { .. }), "{err}");
    assert!(
        matches!(ctx.check_health(), Err(Error::DeviceLost { .. })),
        "lost is remembered: first {err}, then {:?}",
        ctx.check_health()
    );
}

#[test]
fn gathered_writes_pack_the_parts_and_refuse_a_wrong_length() {
    let Some(ctx) = GpuContext::shared_or_skip("gathered_writes") else {
        return;
    };
    // Rows of 100 floats; the middle 30 of each, packed.
    let rows: Vec<Vec<f32>> = (0..5)
        .map(|r| (0..100).map(|i| (r * 1000 + i) as f32).collect())
        .collect();
    let buffer = ctx.alloc::<f32>(160).unwrap();
    ctx.write(&buffer, &vec![-1.0f32; 160]).unwrap();
    ctx.write_gathered(&buffer, 150, rows.iter().map(|r| &r[40..70]))
        .unwrap();
    let mut out = vec![0.0f32; 160];
    ctx.read(&buffer, &mut out).unwrap();
    let expected: Vec<f32> = rows
        .iter()
        .flat_map(|r| r[40..70].iter().copied())
        .chain(std::iter::repeat_n(-1.0, 10))
        .collect();
    assert_eq!(out, expected);

    // A length that does not match the parts, or overruns the buffer, is
    // an error and leaves the buffer as it was.
    let wrong = ctx.write_gathered(&buffer, 149, rows.iter().map(|r| &r[40..70]));
    assert!(
        matches!(wrong, Err(Error::LengthMismatch { .. })),
        "{wrong:?}"
    );
    let long = ctx.write_gathered(&buffer, 500, rows.iter().map(|r| &r[..]));
    assert!(
        matches!(long, Err(Error::LengthMismatch { .. })),
        "{long:?}"
    );
    ctx.read(&buffer, &mut out).unwrap();
    assert_eq!(out, expected);

    // Bytes that are not whole words go through the packed fallback.
    let bytes = ctx.alloc::<u8>(7).unwrap();
    ctx.write_gathered(&bytes, 7, [&[1u8, 2, 3][..], &[4, 5, 6, 7][..]])
        .unwrap();
    let mut back = [0u8; 7];
    ctx.read(&bytes, &mut back).unwrap();
    assert_eq!(back, [1, 2, 3, 4, 5, 6, 7]);
}

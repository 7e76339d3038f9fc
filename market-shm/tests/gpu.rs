//! The GPU indicator kernel against scalar (feature `gpu`).
#![cfg(feature = "gpu")]

use vivace_backend::{Backend, Preference};
use vivace_gpu_compute::GpuContext;
use vivace_market_shm::Kline;
use vivace_market_shm::indicators::{
    GpuIndicators, IndicatorKernel, IndicatorParams, IndicatorSeries, KlineHistory,
    ScalarIndicators, select_indicator_kernel,
};

fn walk(seed: u64, len: usize) -> Vec<Kline> {
    let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    let mut rnd = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        (x >> 11) as f64 / (1u64 << 53) as f64
    };
    let mut price = 20.0 + 200.0 * rnd();
    (0..len)
        .map(|t| {
            let open = price;
            price *= 1.0 + 0.01 * (rnd() - 0.5);
            let volume = if t % 13 == 0 { 0.0 } else { 500.0 * rnd() };
            Kline {
                open_time: t as f64,
                open,
                high: open.max(price) * 1.002,
                low: open.min(price) * 0.998,
                close: price,
                volume,
            }
        })
        .collect()
}

#[test]
fn gpu_matches_scalar_within_the_documented_tolerance() {
    let Some(ctx) =
        GpuContext::shared_or_skip("gpu_matches_scalar_within_the_documented_tolerance")
    else {
        return;
    };
    let mut gpu = GpuIndicators::new(ctx);
    assert_eq!(gpu.kind(), vivace_backend::BackendKind::Gpu);
    for params in [
        IndicatorParams::default(),
        IndicatorParams {
            sma_period: 3,
            ema_period: 50,
            rsi_period: 5,
            bollinger_period: 30,
            bollinger_k: 1.0,
            vwap_period: 7,
        },
    ] {
        // 70 series: more than one workgroup, not a multiple of 64.
        let series: Vec<Vec<Kline>> = (0..70).map(|s| walk(s + 11, 600)).collect();
        let history = KlineHistory::from_series(&series).unwrap();
        let (mut want, mut got) = (IndicatorSeries::default(), IndicatorSeries::default());
        ScalarIndicators
            .compute(&params, &history, &mut want)
            .unwrap();
        gpu.compute(&params, &history, &mut got).unwrap();
        let mut worst = [0.0f64; 7];
        for (i, (g, w)) in got.values.iter().zip(&want.values).enumerate() {
            let o = i / (history.len() * history.series());
            assert_eq!(
                g.is_nan(),
                w.is_nan(),
                "value {i} (output {o}): gpu {g} vs scalar {w}"
            );
            if w.is_nan() {
                continue;
            }
            let err = if o == 2 {
                (g - w).abs()
            } else {
                (g - w).abs() / w.abs()
            };
            worst[o] = worst[o].max(err);
            let tol = if o == 2 { 0.05 } else { 1e-4 };
            assert!(err <= tol, "value {i} (output {o}): gpu {g} vs scalar {w}");
        }
        eprintln!("worst error per output (relative; RSI absolute): {worst:?}");
    }
}

#[test]
fn forcing_gpu_selects_it_and_auto_skips_small_workloads() {
    if GpuContext::shared_or_skip("forcing_gpu_selects_it_and_auto_skips_small_workloads").is_none()
    {
        return;
    }
    let forced = select_indicator_kernel(Preference::Gpu, 10).unwrap();
    assert!(forced.backend.name().contains("gpu"));
    let auto = select_indicator_kernel(Preference::Auto, 10).unwrap();
    assert_ne!(auto.kind, vivace_backend::BackendKind::Gpu);
}

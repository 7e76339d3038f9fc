//! The GPU indicator kernel against scalar (feature `gpu`).
#![cfg(feature = "gpu")]

mod common;
use common::walk;

use vivace_backend::{Backend, Preference};
use vivace_gpu_compute::GpuContext;
use vivace_market_shm::Kline;
use vivace_market_shm::indicators::{
    GpuIndicators, IndicatorKernel, IndicatorParams, IndicatorSeries, KlineHistory,
    ScalarIndicators, select_indicator_kernel,
};

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

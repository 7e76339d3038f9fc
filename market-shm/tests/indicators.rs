//! Indicators: scalar against a brute-force f64 reference, incremental
//! against bulk, SIMD against scalar (bit for bit), and the region-fed
//! tracker.

use std::sync::Arc;

mod common;
use common::walk;

use proptest::prelude::*;
use vivace_market_shm::indicators::{
    IndicatorKernel, IndicatorParams, IndicatorSeries, IndicatorState, IndicatorValues,
    KlineHistory, MarketIndicators, ScalarIndicators, available_indicator_kernels,
};
use vivace_market_shm::{Error, Interval, Kline, LayoutConfig, Reader, Region, Writer};

/// The definitions, computed directly in f64 from the whole window each bar.
fn reference(p: &IndicatorParams, bars: &[Kline]) -> Vec<[f64; 7]> {
    let closes: Vec<f64> = bars.iter().map(|b| b.close).collect();
    let mut out = Vec::new();
    let (mut ema, mut gain, mut loss) = (0.0, 0.0, 0.0);
    for t in 0..bars.len() {
        let window = |n: usize| &closes[t + 1 - n..=t];
        let sma = if t + 1 >= p.sma_period {
            window(p.sma_period).iter().sum::<f64>() / p.sma_period as f64
        } else {
            f64::NAN
        };
        ema = if t == 0 {
            closes[0]
        } else {
            ema + 2.0 / (p.ema_period as f64 + 1.0) * (closes[t] - ema)
        };
        if t >= 1 {
            let d = closes[t] - closes[t - 1];
            if t <= p.rsi_period {
                // Plain mean of the first p differences.
                let diffs: Vec<f64> = (1..=t).map(|i| closes[i] - closes[i - 1]).collect();
                gain = diffs.iter().map(|d| d.max(0.0)).sum::<f64>() / t as f64;
                loss = diffs.iter().map(|d| (-d).max(0.0)).sum::<f64>() / t as f64;
            } else {
                let n = p.rsi_period as f64;
                gain = (gain * (n - 1.0) + d.max(0.0)) / n;
                loss = (loss * (n - 1.0) + (-d).max(0.0)) / n;
            }
        }
        let rsi = if t < p.rsi_period {
            f64::NAN
        } else if loss == 0.0 {
            if gain == 0.0 { 50.0 } else { 100.0 }
        } else {
            100.0 - 100.0 / (1.0 + gain / loss)
        };
        let (mid, up, lo) = if t + 1 >= p.bollinger_period {
            let w = window(p.bollinger_period);
            let m = w.iter().sum::<f64>() / w.len() as f64;
            let sd = (w.iter().map(|c| (c - m) * (c - m)).sum::<f64>() / w.len() as f64).sqrt();
            (m, m + p.bollinger_k * sd, m - p.bollinger_k * sd)
        } else {
            (f64::NAN, f64::NAN, f64::NAN)
        };
        let vwap = if t + 1 >= p.vwap_period {
            let w = &bars[t + 1 - p.vwap_period..=t];
            let v: f64 = w.iter().map(|b| b.volume).sum();
            let pv: f64 = w
                .iter()
                .map(|b| (b.high + b.low + b.close) / 3.0 * b.volume)
                .sum();
            if v > 0.0 { pv / v } else { f64::NAN }
        } else {
            f64::NAN
        };
        out.push([sma, ema, rsi, mid, up, lo, vwap]);
    }
    out
}

fn close_enough(got: f64, want: f64, rel: f64, abs: f64) -> bool {
    (got.is_nan() && want.is_nan()) || (got - want).abs() <= rel * want.abs() + abs
}

#[test]
fn scalar_matches_the_brute_force_reference() {
    for params in [
        IndicatorParams::default(),
        IndicatorParams {
            sma_period: 1,
            ema_period: 1,
            rsi_period: 1,
            bollinger_period: 2,
            bollinger_k: 0.5,
            vwap_period: 1,
        },
        IndicatorParams {
            sma_period: 50,
            ema_period: 9,
            rsi_period: 30,
            bollinger_period: 7,
            bollinger_k: 3.0,
            vwap_period: 100,
        },
    ] {
        let series: Vec<Vec<Kline>> = (0..3).map(|s| walk(s + 1, 1_440)).collect();
        let history = KlineHistory::from_series(&series).unwrap();
        let mut out = IndicatorSeries::default();
        ScalarIndicators
            .compute(&params, &history, &mut out)
            .unwrap();
        for (s, bars) in series.iter().enumerate() {
            let want = reference(&params, bars);
            for (t, w) in want.iter().enumerate() {
                let got = out.get(t, s).to_array();
                for o in 0..7 {
                    // Prices ~100: 1e-9 relative; RSI (0–100) and the bands'
                    // σ (a difference of running sums) 1e-7 absolute.
                    assert!(
                        close_enough(got[o], w[o], 1e-9, 1e-7),
                        "series {s} bar {t} output {o}: {} vs reference {} ({params:?})",
                        got[o],
                        w[o]
                    );
                }
            }
        }
    }
}

#[test]
fn incremental_state_equals_the_bulk_kernel_bit_for_bit() {
    let params = IndicatorParams {
        sma_period: 10,
        vwap_period: 30,
        ..IndicatorParams::default()
    };
    let bars = walk(9, 500);
    let history = KlineHistory::from_series(std::slice::from_ref(&bars)).unwrap();
    let mut out = IndicatorSeries::default();
    ScalarIndicators
        .compute(&params, &history, &mut out)
        .unwrap();
    let mut state = IndicatorState::new(params).unwrap();
    for (t, b) in bars.iter().enumerate() {
        let got = state.push(b).to_array().map(f64::to_bits);
        assert_eq!(got, out.get(t, 0).to_array().map(f64::to_bits), "bar {t}");
    }
    assert_eq!(state.count(), 500);
}

fn bits(s: &IndicatorSeries) -> Vec<u64> {
    s.values
        .iter()
        .map(|v| if v.is_nan() { u64::MAX } else { v.to_bits() })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]
    /// Every SIMD kernel equals scalar bit for bit (NaN patterns included),
    /// for any series count (remainders go to scalar) and periods.
    #[test]
    fn simd_matches_scalar_exactly(
        n_series in 1usize..11,
        len in 0usize..300,
        seed in any::<u64>(),
        sma in 1usize..40, ema in 1usize..40, rsi in 1usize..40, bb in 1usize..40, vwap in 1usize..40,
        k in 0.0f64..4.0,
    ) {
        let params = IndicatorParams { sma_period: sma, ema_period: ema, rsi_period: rsi, bollinger_period: bb, bollinger_k: k, vwap_period: vwap };
        let series: Vec<Vec<Kline>> = (0..n_series as u64).map(|s| walk(seed ^ s, len)).collect();
        let history = KlineHistory::from_series(&series).unwrap();
        let mut want = IndicatorSeries::default();
        ScalarIndicators.compute(&params, &history, &mut want).unwrap();
        for mut kernel in available_indicator_kernels() {
            let mut got = IndicatorSeries::default();
            kernel.compute(&params, &history, &mut got).unwrap();
            prop_assert_eq!(bits(&got), bits(&want), "{}", kernel.name());
        }
    }
}

#[test]
fn bad_parameters_and_ragged_histories_are_errors() {
    assert!(matches!(
        IndicatorState::new(IndicatorParams {
            sma_period: 0,
            ..Default::default()
        }),
        Err(Error::InvalidParameter(_))
    ));
    assert!(matches!(
        IndicatorState::new(IndicatorParams {
            bollinger_k: f64::NAN,
            ..Default::default()
        }),
        Err(Error::InvalidParameter(_))
    ));
    assert!(matches!(
        KlineHistory::from_series(&[walk(1, 3), walk(2, 4)]),
        Err(Error::InvalidParameter(_))
    ));
    let mut h = KlineHistory::zeroed(2, 3);
    h.volume.pop();
    for mut kernel in available_indicator_kernels() {
        let mut out = IndicatorSeries::default();
        assert!(matches!(
            kernel.compute(&IndicatorParams::default(), &h, &mut out),
            Err(Error::InvalidParameter(_))
        ));
    }
}

#[test]
fn market_indicators_follow_the_region_incrementally() {
    let config = LayoutConfig {
        symbols: 3,
        intervals: vec![Interval::M1, Interval::M5],
        kline_capacity: 64,
    };
    let region = Region::in_memory(config).unwrap();
    let mut w = Writer::attach(Arc::clone(&region)).unwrap();
    let r = Reader::attach(region);
    let params = IndicatorParams::default();
    let mut tracker = MarketIndicators::new(&r, params).unwrap();
    let bars = walk(3, 100);
    let mut direct = IndicatorState::new(params).unwrap();
    let mut last = IndicatorValues::default();
    for (i, chunk) in bars.chunks(7).enumerate() {
        for b in chunk {
            w.push_kline(2, Interval::M5, b).unwrap();
            last = direct.push(b);
        }
        assert_eq!(
            tracker.update(&r).unwrap(),
            chunk.len(),
            "chunk {i}: only the new klines are read"
        );
        assert_eq!(
            tracker
                .latest(2, Interval::M5)
                .unwrap()
                .to_array()
                .map(f64::to_bits),
            last.to_array().map(f64::to_bits)
        );
    }
    assert_eq!(tracker.update(&r).unwrap(), 0);
    assert!(tracker.latest(0, Interval::M1).unwrap().sma.is_nan());
    assert!(matches!(
        tracker.latest(3, Interval::M1),
        Err(Error::SymbolOutOfRange { .. })
    ));
    assert!(matches!(
        tracker.latest(0, Interval::H1),
        Err(Error::UnknownInterval(_))
    ));
}

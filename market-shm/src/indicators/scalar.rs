//! The scalar reference: one series at a time, O(1) per bar.

use vivace_backend::{Backend, BackendKind};

use super::{IndicatorKernel, IndicatorParams, IndicatorSeries, KlineHistory, OUTPUTS};
use crate::error::Error;
use crate::layout::Kline;

/// Running state of one series.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Core {
    pub count: u64,
    pub prev_close: f64,
    pub ema: f64,
    pub avg_gain: f64,
    pub avg_loss: f64,
    /// The first close: the SMA sum is kept on `close − shift`.
    pub shift: f64,
    /// The Bollinger sums are kept on `close − bb_shift`, re-anchored to the
    /// current close every `bollinger_period` bars (recomputed from the
    /// window), so σ stays accurate however far the price wanders.
    pub bb_shift: f64,
    pub sum_sma: f64,
    pub sum_bb: f64,
    pub sum_bb2: f64,
    pub sum_pv: f64,
    pub sum_v: f64,
    /// Bars with non-zero volume in the VWAP window (exact: small integers).
    pub traded: f64,
}

/// Typical price × volume.
#[inline(always)]
pub(crate) fn price_volume(high: f64, low: f64, close: f64, volume: f64) -> f64 {
    (high + low + close) / 3.0 * volume
}

/// RSI from the average gain and loss.
#[inline(always)]
pub(crate) fn rsi(gain: f64, loss: f64) -> f64 {
    if loss == 0.0 {
        if gain == 0.0 { 50.0 } else { 100.0 }
    } else {
        100.0 - 100.0 / (1.0 + gain / loss)
    }
}

/// Folds one bar into `c`. `lookback(age)` returns the entry (close,
/// price × volume, volume) of the bar `age` bars before this one; it is
/// called only for 1 ≤ age ≤ the bars seen. Returns the outputs and this
/// bar's entry. Every SIMD kernel repeats these operations in this order.
#[inline(always)]
pub(crate) fn step(
    p: &IndicatorParams,
    c: &mut Core,
    k: &Kline,
    lookback: impl Fn(usize) -> [f64; 3],
) -> ([f64; OUTPUTS], [f64; 3]) {
    let t = c.count;
    let close = k.close;
    if t == 0 {
        c.shift = close;
        c.bb_shift = close;
        c.ema = close;
    } else {
        let alpha = 2.0 / (p.ema_period as f64 + 1.0);
        c.ema = c.ema + alpha * (close - c.ema);
        let d = close - c.prev_close;
        let gain = d.max(0.0);
        let loss = (-d).max(0.0);
        let n = (t.min(p.rsi_period as u64)) as f64;
        c.avg_gain = c.avg_gain + (gain - c.avg_gain) / n;
        c.avg_loss = c.avg_loss + (loss - c.avg_loss) / n;
    }
    let x = close - c.shift;
    let xb = close - c.bb_shift;
    let pv = price_volume(k.high, k.low, close, k.volume);
    c.sum_sma += x;
    c.sum_bb += xb;
    c.sum_bb2 += xb * xb;
    c.sum_pv += pv;
    c.sum_v += k.volume;
    c.traded += if k.volume > 0.0 { 1.0 } else { 0.0 };
    if t >= p.sma_period as u64 {
        c.sum_sma -= lookback(p.sma_period)[0] - c.shift;
    }
    if t >= p.bollinger_period as u64 {
        let y = lookback(p.bollinger_period)[0] - c.bb_shift;
        c.sum_bb -= y;
        c.sum_bb2 -= y * y;
    }
    if t >= p.vwap_period as u64 {
        let old = lookback(p.vwap_period);
        c.sum_pv -= old[1];
        c.sum_v -= old[2];
        c.traded -= if old[2] > 0.0 { 1.0 } else { 0.0 };
    }
    let seen = t + 1;
    if seen.is_multiple_of(p.bollinger_period as u64) {
        // Re-anchor on this close: its own deviation is 0.
        c.bb_shift = close;
        let (mut s1, mut s2) = (0.0, 0.0);
        for age in 1..p.bollinger_period {
            let y = lookback(age)[0] - close;
            s1 += y;
            s2 += y * y;
        }
        c.sum_bb = s1;
        c.sum_bb2 = s2;
    }
    if seen.is_multiple_of(p.vwap_period as u64) {
        // Recompute the VWAP sums from the window: no drift builds up.
        let (mut s_pv, mut s_v) = (pv, k.volume);
        for age in 1..p.vwap_period {
            let old = lookback(age);
            s_pv += old[1];
            s_v += old[2];
        }
        c.sum_pv = s_pv;
        c.sum_v = s_v;
    }
    let nan = f64::NAN;
    let sma = if seen >= p.sma_period as u64 {
        c.sum_sma / p.sma_period as f64 + c.shift
    } else {
        nan
    };
    let rsi = if t >= p.rsi_period as u64 {
        rsi(c.avg_gain, c.avg_loss)
    } else {
        nan
    };
    let (mid, upper, lower) = if seen >= p.bollinger_period as u64 {
        let n = p.bollinger_period as f64;
        let m = c.sum_bb / n;
        let var = (c.sum_bb2 / n - m * m).max(0.0);
        let sd = var.sqrt();
        let mid = m + c.bb_shift;
        (mid, mid + p.bollinger_k * sd, mid - p.bollinger_k * sd)
    } else {
        (nan, nan, nan)
    };
    let vwap = if seen >= p.vwap_period as u64 && c.traded > 0.0 {
        c.sum_pv / c.sum_v
    } else {
        nan
    };
    c.prev_close = close;
    c.count = seen;
    (
        [sma, c.ema, rsi, mid, upper, lower, vwap],
        [close, pv, k.volume],
    )
}

/// The scalar reference kernel: each series in turn, bar by bar.
#[derive(Clone, Copy, Debug, Default)]
pub struct ScalarIndicators;

impl Backend for ScalarIndicators {
    fn kind(&self) -> BackendKind {
        BackendKind::Scalar
    }
    fn name(&self) -> String {
        "indicators (scalar)".into()
    }
}

impl IndicatorKernel for ScalarIndicators {
    fn compute(
        &mut self,
        params: &IndicatorParams,
        history: &KlineHistory,
        out: &mut IndicatorSeries,
    ) -> Result<(), Error> {
        super::prepare(params, history, out)?;
        compute_series(params, history, 0..history.series(), out);
        Ok(())
    }
}

/// Series `series` of `h` into `out`, bar by bar across the series (so the
/// history and the output planes stream row by row).
pub(crate) fn compute_series(
    params: &IndicatorParams,
    h: &KlineHistory,
    series: std::ops::Range<usize>,
    out: &mut IndicatorSeries,
) {
    let n = h.series();
    let plane = h.len() * n;
    let mut cores = vec![Core::default(); series.len()];
    for t in 0..h.len() {
        for (core, s) in cores.iter_mut().zip(series.clone()) {
            let i = t * n + s;
            let k = Kline {
                open_time: 0.0,
                open: 0.0,
                high: h.high[i],
                low: h.low[i],
                close: h.close[i],
                volume: h.volume[i],
            };
            let lookback = |age: usize| {
                let j = (t - age) * n + s;
                [
                    h.close[j],
                    price_volume(h.high[j], h.low[j], h.close[j], h.volume[j]),
                    h.volume[j],
                ]
            };
            let (values, _) = step(params, core, &k, lookback);
            for (o, v) in values.into_iter().enumerate() {
                out.values[o * plane + i] = v;
            }
        }
    }
}

//! Indicators over klines: SMA, EMA, RSI, Bollinger bands and VWAP.
//!
//! Definitions (`p` is a period, `cₜ` the close of bar `t`, counting from 0):
//!
//! - **SMA(p)**: mean of the last `p` closes; NaN for the first `p − 1` bars.
//! - **EMA(p)**: `α = 2/(p+1)`, seeded with the first close:
//!   `e₀ = c₀`, `eₜ = eₜ₋₁ + α (cₜ − eₜ₋₁)`.
//! - **RSI(p)**, Wilder's: gains and losses of `cₜ − cₜ₋₁`; their averages
//!   are the plain mean of the first `p` differences, then Wilder-smoothed
//!   (`a ← a + (x − a)/p`); `RSI = 100 − 100/(1 + gain/loss)`, 100 when the
//!   average loss is 0 (50 when both are 0); NaN for the first `p` bars.
//! - **Bollinger(p, k)**: middle = SMA(p), upper/lower = middle ± k·σ with σ
//!   the population standard deviation of the last `p` closes; NaN for the
//!   first `p − 1` bars.
//! - **VWAP(p)**: rolling `Σ typical·volume / Σ volume` over the last `p`
//!   bars, typical = (high + low + close)/3; NaN for the first `p − 1` bars
//!   and where the window's volume is 0.
//!
//! Windowed sums are kept as running sums (add the new bar, subtract the one
//! leaving), on prices shifted to keep round-off small; the Bollinger sums
//! are re-anchored on the current close every `bollinger_period` bars, so
//! every update is O(1) amortised and σ stays accurate for flat windows.
//!
//! Two ways to use them:
//!
//! - [`IndicatorState`]: one series, updated incrementally as klines arrive,
//!   O(1) per kline; [`MarketIndicators`] keeps one per symbol × interval of
//!   a region and feeds them from kline cursors, so an update costs O(new
//!   klines).
//! - [`IndicatorKernel`]: recompute full indicator series for many series
//!   at once over a [`KlineHistory`] (a dashboard opening, a parameter
//!   change), on scalar, SIMD (AVX2 / SSE2 across series) or GPU backends,
//!   chosen with [`select_indicator_kernel`].
//!
//! The scalar kernel and [`IndicatorState`] are the same code, so they agree
//! bit for bit; the SIMD kernels do the same operations in the same order
//! (no FMA contraction) and also agree bit for bit; the GPU kernel works in
//! `f32` and agrees within the tolerance documented on `GpuIndicators`
//! (feature `gpu`).

#[cfg(feature = "gpu")]
mod gpu;
mod scalar;
mod simd;

use vivace_backend::{Backend, BackendKind, Candidate, Preference, SelectError, Selection, select};

use crate::error::Error;
use crate::layout::{Interval, Kline};
use crate::reader::{KlineCursor, Reader};

#[cfg(feature = "gpu")]
pub use gpu::GpuIndicators;
pub use scalar::ScalarIndicators;
pub use simd::SimdIndicators;

/// Longest period accepted.
pub const MAX_PERIOD: usize = 100_000;

/// Indicator periods.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct IndicatorParams {
    /// SMA period (default 20).
    pub sma_period: usize,
    /// EMA period (default 20).
    pub ema_period: usize,
    /// RSI period (default 14).
    pub rsi_period: usize,
    /// Bollinger period (default 20).
    pub bollinger_period: usize,
    /// Bollinger width in standard deviations (default 2).
    pub bollinger_k: f64,
    /// VWAP window in bars (default 20).
    pub vwap_period: usize,
}

impl Default for IndicatorParams {
    fn default() -> Self {
        IndicatorParams {
            sma_period: 20,
            ema_period: 20,
            rsi_period: 14,
            bollinger_period: 20,
            bollinger_k: 2.0,
            vwap_period: 20,
        }
    }
}

impl IndicatorParams {
    /// Checks every period is in `1..=MAX_PERIOD` and `k` is finite and ≥ 0.
    pub fn validate(&self) -> Result<(), Error> {
        for (name, p) in [
            ("sma_period", self.sma_period),
            ("ema_period", self.ema_period),
            ("rsi_period", self.rsi_period),
            ("bollinger_period", self.bollinger_period),
            ("vwap_period", self.vwap_period),
        ] {
            if p == 0 || p > MAX_PERIOD {
                return Err(Error::InvalidParameter(format!(
                    "{name} must be 1..={MAX_PERIOD}, got {p}"
                )));
            }
        }
        if !self.bollinger_k.is_finite() || self.bollinger_k < 0.0 {
            return Err(Error::InvalidParameter(format!(
                "bollinger_k must be finite and >= 0, got {}",
                self.bollinger_k
            )));
        }
        Ok(())
    }

    pub(crate) fn window(&self) -> usize {
        self.sma_period
            .max(self.bollinger_period)
            .max(self.vwap_period)
    }
}

/// Indicator values after one bar (NaN while warming up).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct IndicatorValues {
    /// Simple moving average of the close.
    pub sma: f64,
    /// Exponential moving average of the close.
    pub ema: f64,
    /// Relative strength index, 0–100.
    pub rsi: f64,
    /// Bollinger middle band.
    pub bollinger_mid: f64,
    /// Bollinger upper band.
    pub bollinger_upper: f64,
    /// Bollinger lower band.
    pub bollinger_lower: f64,
    /// Rolling volume-weighted average price.
    pub vwap: f64,
}

/// Number of outputs in [`IndicatorValues`].
pub const OUTPUTS: usize = 7;

impl IndicatorValues {
    /// The values in field order.
    pub fn to_array(self) -> [f64; OUTPUTS] {
        [
            self.sma,
            self.ema,
            self.rsi,
            self.bollinger_mid,
            self.bollinger_upper,
            self.bollinger_lower,
            self.vwap,
        ]
    }
    /// From values in field order.
    pub fn from_array(a: [f64; OUTPUTS]) -> Self {
        IndicatorValues {
            sma: a[0],
            ema: a[1],
            rsi: a[2],
            bollinger_mid: a[3],
            bollinger_upper: a[4],
            bollinger_lower: a[5],
            vwap: a[6],
        }
    }
}

/// One series' indicator state, updated O(1) per kline.
///
/// ```
/// use vivace_market_shm::Kline;
/// use vivace_market_shm::indicators::{IndicatorParams, IndicatorState};
/// let params = IndicatorParams { sma_period: 2, ..IndicatorParams::default() };
/// let mut state = IndicatorState::new(params)?;
/// let bar = |c: f64| Kline { close: c, high: c, low: c, open: c, volume: 1.0, open_time: 0.0 };
/// assert!(state.push(&bar(10.0)).sma.is_nan());
/// assert_eq!(state.push(&bar(20.0)).sma, 15.0);
/// # Ok::<(), vivace_market_shm::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct IndicatorState {
    params: IndicatorParams,
    core: scalar::Core,
    /// Ring of the last `window` bars: close, price × volume, volume.
    ring: Vec<[f64; 3]>,
}

impl IndicatorState {
    /// A fresh state.
    pub fn new(params: IndicatorParams) -> Result<Self, Error> {
        params.validate()?;
        Ok(IndicatorState {
            params,
            core: scalar::Core::default(),
            ring: vec![[0.0; 3]; params.window()],
        })
    }

    /// Bars seen.
    pub fn count(&self) -> u64 {
        self.core.count
    }

    /// The parameters.
    pub fn params(&self) -> &IndicatorParams {
        &self.params
    }

    /// Adds one closed kline and returns the indicators after it.
    pub fn push(&mut self, kline: &Kline) -> IndicatorValues {
        let window = self.ring.len() as u64;
        let ring = &self.ring;
        let count = self.core.count;
        let lookback = |age: usize| ring[((count - age as u64) % window) as usize];
        let (values, entry) = scalar::step(&self.params, &mut self.core, kline, lookback);
        let slot = ((self.core.count - 1) % window) as usize;
        self.ring[slot] = entry;
        IndicatorValues::from_array(values)
    }
}

/// Kline histories of many series, time-major: field `[t × series + s]`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct KlineHistory {
    series: usize,
    len: usize,
    /// Closes.
    pub close: Vec<f64>,
    /// Highs.
    pub high: Vec<f64>,
    /// Lows.
    pub low: Vec<f64>,
    /// Volumes.
    pub volume: Vec<f64>,
}

impl KlineHistory {
    /// `len` bars of `series` series, all zero.
    pub fn zeroed(series: usize, len: usize) -> Self {
        let n = series * len;
        KlineHistory {
            series,
            len,
            close: vec![0.0; n],
            high: vec![0.0; n],
            low: vec![0.0; n],
            volume: vec![0.0; n],
        }
    }

    /// From one kline slice per series, all the same length.
    pub fn from_series(series: &[Vec<Kline>]) -> Result<Self, Error> {
        let len = series.first().map_or(0, Vec::len);
        if let Some(bad) = series.iter().position(|s| s.len() != len) {
            return Err(Error::InvalidParameter(format!(
                "series {bad} has {} bars, series 0 has {len}",
                series[bad].len()
            )));
        }
        let mut h = KlineHistory::zeroed(series.len(), len);
        for (s, bars) in series.iter().enumerate() {
            for (t, k) in bars.iter().enumerate() {
                h.set(t, s, k);
            }
        }
        Ok(h)
    }

    /// Sets bar `t` of series `s`.
    pub fn set(&mut self, t: usize, s: usize, k: &Kline) {
        let i = t * self.series + s;
        self.close[i] = k.close;
        self.high[i] = k.high;
        self.low[i] = k.low;
        self.volume[i] = k.volume;
    }

    /// Number of series.
    pub fn series(&self) -> usize {
        self.series
    }
    /// Bars per series.
    pub fn len(&self) -> usize {
        self.len
    }
    /// Whether there are no bars.
    pub fn is_empty(&self) -> bool {
        self.len == 0 || self.series == 0
    }

    pub(crate) fn check(&self) -> Result<(), Error> {
        let n = self.series * self.len;
        for (name, v) in [
            ("close", &self.close),
            ("high", &self.high),
            ("low", &self.low),
            ("volume", &self.volume),
        ] {
            if v.len() != n {
                return Err(Error::InvalidParameter(format!(
                    "{name} has {} values, {} series × {} bars need {n}",
                    v.len(),
                    self.series,
                    self.len
                )));
            }
        }
        Ok(())
    }
}

/// Indicator series for many series: one time-major plane per output, in
/// [`IndicatorValues`] field order; output `o` of bar `t`, series `s` at
/// `[(o × bars + t) × series + s]` (see [`IndicatorSeries::index`]).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct IndicatorSeries {
    series: usize,
    len: usize,
    /// The values.
    pub values: Vec<f64>,
}

impl IndicatorSeries {
    /// Indicators of bar `t` of series `s`.
    pub fn get(&self, t: usize, s: usize) -> IndicatorValues {
        IndicatorValues::from_array(std::array::from_fn(|o| self.values[self.index(o, t, s)]))
    }
    /// Position of output `o` (0–6) of bar `t`, series `s` in `values`.
    #[inline]
    pub fn index(&self, o: usize, t: usize, s: usize) -> usize {
        (o * self.len + t) * self.series + s
    }
    /// One output's plane: bar `t`, series `s` at `[t × series + s]`.
    pub fn plane(&self, o: usize) -> &[f64] {
        let n = self.len * self.series;
        &self.values[o * n..(o + 1) * n]
    }
    /// Number of series.
    pub fn series(&self) -> usize {
        self.series
    }
    /// Bars per series.
    pub fn len(&self) -> usize {
        self.len
    }
    /// Whether there are no values.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }
    pub(crate) fn resize_for(&mut self, history: &KlineHistory) {
        self.series = history.series;
        self.len = history.len;
        self.values.clear();
        self.values
            .resize(history.series * history.len * OUTPUTS, f64::NAN);
    }
}

/// Validates a bulk computation and sizes `out` for it.
pub(crate) fn prepare(
    params: &IndicatorParams,
    history: &KlineHistory,
    out: &mut IndicatorSeries,
) -> Result<(), Error> {
    params.validate()?;
    history.check()?;
    out.resize_for(history);
    Ok(())
}

/// Computes full indicator series for many series at once.
pub trait IndicatorKernel: Backend + Send {
    /// Fills `out` with the indicators of every bar of every series.
    fn compute(
        &mut self,
        params: &IndicatorParams,
        history: &KlineHistory,
        out: &mut IndicatorSeries,
    ) -> Result<(), Error>;
}

/// The chain GPU (feature `gpu`, only from `gpu_min_values` series × bars
/// up) → AVX2 → SSE2 → scalar, resolved against `preference`.
///
/// ```
/// use vivace_backend::Preference;
/// use vivace_market_shm::indicators::select_indicator_kernel;
/// let chosen = select_indicator_kernel(Preference::Scalar, 0)?;
/// assert_eq!(chosen.backend.name(), "indicators (scalar)");
/// # Ok::<(), vivace_backend::SelectError>(())
/// ```
pub fn select_indicator_kernel(
    preference: Preference,
    values: usize,
) -> Result<Selection<Box<dyn IndicatorKernel>>, SelectError> {
    let mut chain: Vec<Candidate<'_, Box<dyn IndicatorKernel>>> = Vec::new();
    chain.push(Candidate::new(BackendKind::Gpu, move || {
        gpu_candidate(preference, values)
    }));
    for level in simd::LEVELS {
        chain.push(Candidate::new(BackendKind::Simd(level), move || {
            SimdIndicators::new(level).map(|k| Box::new(k) as Box<dyn IndicatorKernel>)
        }));
    }
    chain.push(Candidate::new(BackendKind::Scalar, || {
        Ok(Box::new(ScalarIndicators) as Box<dyn IndicatorKernel>)
    }));
    select(preference, chain)
}

/// `Auto` considers the GPU only from this many series × bars up (a forced
/// `gpu` preference ignores it). It is an estimate, not a calibration: the
/// GPU kernel runs one invocation per series, so it needs thousands of
/// series to fill a real GPU: on an NVIDIA H100, 600 series × 1,440 bars
/// took 32.1 ms against 23.6 ms on one AVX2 core (and on lavapipe, a CPU,
/// it never beats the SIMD kernel). Larger sizes were not measured there.
pub const GPU_MIN_VALUES: usize = 4_000_000;

#[cfg(feature = "gpu")]
fn gpu_candidate(
    preference: Preference,
    values: usize,
) -> Result<Box<dyn IndicatorKernel>, vivace_backend::Unavailable> {
    if !preference.is_forced() && values < GPU_MIN_VALUES {
        return Err(vivace_backend::Unavailable::new(
            BackendKind::Gpu,
            format!("{values} series × bars is below the GPU crossover ({GPU_MIN_VALUES})"),
        ));
    }
    GpuIndicators::shared().map(|k| Box::new(k) as Box<dyn IndicatorKernel>)
}

#[cfg(not(feature = "gpu"))]
fn gpu_candidate(
    _: Preference,
    _: usize,
) -> Result<Box<dyn IndicatorKernel>, vivace_backend::Unavailable> {
    Err(vivace_backend::Unavailable::new(
        BackendKind::Gpu,
        "vivace-market-shm was built without its `gpu` feature",
    ))
}

/// Every indicator kernel this build and CPU can run (scalar first), for
/// tests and benchmarks that compare them.
pub fn available_indicator_kernels() -> Vec<Box<dyn IndicatorKernel>> {
    let mut kernels: Vec<Box<dyn IndicatorKernel>> = vec![Box::new(ScalarIndicators)];
    for level in simd::LEVELS {
        if let Ok(k) = SimdIndicators::new(level) {
            kernels.push(Box::new(k));
        }
    }
    kernels
}

/// Indicators for every symbol × interval of a region, kept up to date from
/// kline cursors: [`MarketIndicators::update`] costs O(new klines).
#[derive(Debug)]
pub struct MarketIndicators {
    intervals: Vec<Interval>,
    states: Vec<IndicatorState>,
    latest: Vec<IndicatorValues>,
    cursors: Vec<KlineCursor>,
    scratch: Vec<Kline>,
}

impl MarketIndicators {
    /// Starts at the oldest kline each ring of `reader`'s region holds.
    pub fn new(reader: &Reader, params: IndicatorParams) -> Result<Self, Error> {
        let layout = reader.layout();
        let intervals = layout.intervals().to_vec();
        let state = IndicatorState::new(params)?;
        let mut cursors = Vec::new();
        for s in 0..layout.symbols() {
            for &i in &intervals {
                cursors.push(reader.kline_cursor(s, i)?);
            }
        }
        let n = cursors.len();
        Ok(MarketIndicators {
            intervals,
            states: vec![state; n],
            latest: vec![IndicatorValues::from_array([f64::NAN; OUTPUTS]); n],
            cursors,
            scratch: Vec::new(),
        })
    }

    /// Reads every kline appended since the last update and folds it in;
    /// returns how many klines were processed.
    pub fn update(&mut self, reader: &Reader) -> Result<usize, Error> {
        let mut total = 0;
        for ((cursor, state), latest) in self
            .cursors
            .iter_mut()
            .zip(&mut self.states)
            .zip(&mut self.latest)
        {
            self.scratch.clear();
            reader.read_new_klines(cursor, &mut self.scratch)?;
            for k in &self.scratch {
                *latest = state.push(k);
            }
            total += self.scratch.len();
        }
        Ok(total)
    }

    /// The latest indicators of `symbol` on `interval`.
    pub fn latest(&self, symbol: usize, interval: Interval) -> Result<IndicatorValues, Error> {
        let k = self
            .intervals
            .iter()
            .position(|&i| i == interval)
            .ok_or(Error::UnknownInterval(interval))?;
        let symbols = self.cursors.len() / self.intervals.len();
        if symbol >= symbols {
            return Err(Error::SymbolOutOfRange { symbol, symbols });
        }
        Ok(self.latest[symbol * self.intervals.len() + k])
    }
}

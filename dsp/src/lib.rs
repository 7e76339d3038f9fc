/*!
Audio DSP for real-time mixers: RBJ biquads, a 3-band EQ, a feed-forward
compressor, a channel strip and a mixer of thousands of strips, on scalar
and SIMD-across-channels backends chosen at run time, and a GPU backend
(feature `gpu`) for offline rendering where calibration shows it pays;
wavetable oscillators, a voice pool and test signals.

- [`Coefficients`] / [`FilterShape`]: RBJ Audio-EQ-Cookbook designs in f64;
  [`Biquad`] (one channel, ramped retuning) and [`BiquadBank`] (one filter
  per channel of interleaved audio, SIMD across channels).
- [`StripSettings`]: [`EqSettings`] (low shelf, peaking mid, high shelf,
  each bypassable) → [`CompressorSettings`] (stereo-linked, soft knee,
  dB-domain attack/release) → gain → constant-power pan → mono → meters.
- [`Mixer`]: any number of strips summed to a stereo bus; `process` is
  real-time safe (no allocation, lock or system call) and ramps every
  parameter change across the block.
- Kernels ([`StripKernel`]): [`ScalarStrips`] (reference),
  [`SimdStrips`] (8 strips per AVX2+FMA register, 4 per SSE4.1) and
  `GpuStrips` (feature `gpu`: one GPU invocation per strip, for bulk
  rendering; [`calibrate_strip_kernel`] / [`Mixer::calibrated`] pick it
  only where it measured faster).
- [`osc`]: wavetable oscillators and a voice pool; [`signals`]: sine,
  white and pink noise, impulse, log sweep.

# Example

```
use vivace_dsp::{CompressorSettings, Mixer, MixerConfig, StripSettings, Bell};
use vivace_backend::Preference;

let mut mixer = Mixer::new(MixerConfig::new(48_000.0, 2), Preference::Auto)?;
let mut vocal = StripSettings::default();
vocal.eq.mid = Some(Bell { frequency: 3_000.0, gain_db: 3.0, q: 1.0 });
vocal.compressor = Some(CompressorSettings::default());
vocal.pan = -0.3;
mixer.set_strip(0, &vocal)?;

let input = vec![0.1f32; 2 * 2 * 128]; // 2 strips × stereo × 128 frames, planar
let (mut left, mut right) = (vec![0.0; 128], vec![0.0; 128]);
mixer.process(&input, &mut left, &mut right)?;
# Ok::<(), vivace_dsp::Error>(())
```
*/
#![deny(missing_docs)]
// Kernels walk several parallel arrays (bands × coefficients × sides) by
// index; zipped iterators would hide which lane is which.
#![allow(clippy::needless_range_loop)]

mod bank;
mod bank_biquad;
mod biquad;
mod error;
#[cfg(feature = "gpu")]
mod gpu;
mod kernel;
mod mixer;
pub mod osc;
pub mod signals;
mod simd;
mod strip;

pub use bank::{GROUP, StripBank};
pub use bank_biquad::BiquadBank;
pub use biquad::{ANTI_DENORMAL, Biquad, Coefficients, FilterShape};
pub use error::Error;
#[cfg(feature = "gpu")]
pub use gpu::GpuStrips;
pub use kernel::{
    ScalarStrips, SimdStrips, StripKernel, calibrate_strip_kernel, select_strip_kernel,
};
pub use mixer::{Mixer, MixerConfig, StripMeters};
pub use strip::{Bell, CompressorSettings, EqSettings, Shelf, StripSettings};

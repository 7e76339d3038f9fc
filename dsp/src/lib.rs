/*!
Audio DSP for real-time mixers: RBJ biquad EQ, a feed-forward compressor, a channel strip (EQ, compressor, gain, pan, meters), a mixer of thousands of strips, wavetable oscillators and test signals.

**Status: planned.** This crate holds no code yet; its design and
acceptance criteria are tracked in issue #4. It is part of the workspace
now so that its name, folder and place in the dependency graph are fixed:
like every vivace domain crate it will depend on `vivace-backend`, offer
scalar, SIMD and GPU kernels chosen at run time, and never depend on
another domain crate.
*/
#![deny(missing_docs)]

/*!
The shared backend vocabulary of vivace.

Every vivace crate offers the same kernels on several backends (plain scalar
code, run-time dispatched SIMD, and a GPU through wgpu) and picks one when
the program runs. This crate holds only the words they all share, so that a
program can ask every crate the same questions ("what did you choose, and
why?") and force every crate onto one backend with one switch:

- [`BackendKind`] and [`SimdLevel`]: what a kernel runs on. [`SimdLevel::detect`]
  runs CPU feature detection once and caches it.
- [`Preference`]: `Auto` or a forced kind; [`Preference::from_env`] reads
  `VIVACE_BACKEND=auto|scalar|simd|gpu`.
- [`select`]: walks a fallback chain of [`Candidate`]s best-first and returns
  the first that builds, with every skipped candidate and its [`Unavailable`]
  reason. A *forced* backend that cannot be built is an error, never a silent
  fallback.
- [`Calibrator`]: times every available candidate on a caller's workload
  (warm-up, several runs, median) and keeps the fastest, for crossovers that
  depend on the machine (GPU against CPU above some problem size).
- [`Backend`]: the trait every kernel object in the workspace implements.
- [`CapabilityReport`]: what this machine offers, printable.

# Design

The crate is dependency-free and `#![forbid(unsafe_code)]`: it is at the
bottom of every dependency graph in the workspace and must stay cheap to
build and easy to audit. SIMD kernels themselves live in the domain crates,
behind types whose constructor checks [`SimdLevel::is_available`] (the memchr
pattern: owning the type is the proof that the CPU has the features).

```
use vivace_backend::{select, BackendKind, Candidate, Preference, Unavailable};

// A chain for some kernel: GPU first, then scalar.
let chain = vec![
    Candidate::new(BackendKind::Gpu, || {
        Err(Unavailable::new(BackendKind::Gpu, "no adapter on this machine"))
    }),
    Candidate::new(BackendKind::Scalar, || Ok("scalar kernel")),
];
let selection = select(Preference::Auto, chain).unwrap();
assert_eq!(selection.kind, BackendKind::Scalar);
assert_eq!(selection.skipped[0].reason, "no adapter on this machine");
println!("{selection}"); // chose scalar (preference auto); skipped gpu: no adapter on this machine
```
*/
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod calibrate;
mod kind;
mod preference;
mod report;
mod select;

pub use calibrate::{CalibrateError, Calibration, Calibrator, Timing};
pub use kind::{BackendKind, SimdLevel};
pub use preference::{Preference, PreferenceError};
pub use report::CapabilityReport;
pub use select::{Candidate, SelectError, Selection, Unavailable, select};

/// A kernel object bound to one backend.
///
/// Every kernel type in the workspace (a scalar biquad bank, an AVX2 N-body
/// solver, a GPU reduction) implements this, so programs and benchmarks can
/// report what they run on without knowing the concrete type.
pub trait Backend {
    /// The backend this object runs on.
    fn kind(&self) -> BackendKind;

    /// A short human-readable name, e.g. `"axpy (AVX2+FMA)"`.
    ///
    /// Defaults to the kind's label.
    fn name(&self) -> String {
        self.kind().label().to_string()
    }
}

impl<T: Backend + ?Sized> Backend for Box<T> {
    fn kind(&self) -> BackendKind {
        (**self).kind()
    }
    fn name(&self) -> String {
        (**self).name()
    }
}

impl<T: Backend + ?Sized> Backend for &T {
    fn kind(&self) -> BackendKind {
        (**self).kind()
    }
    fn name(&self) -> String {
        (**self).name()
    }
}

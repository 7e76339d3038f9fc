//! Selection along a fallback chain.

use std::fmt;
use std::ops::ControlFlow;

use crate::{BackendKind, Preference};

/// Why a backend could not be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unavailable {
    /// The backend that could not be used.
    pub kind: BackendKind,
    /// Why, in words a user can act on (e.g. "no GPU adapter found").
    pub reason: String,
}

impl Unavailable {
    /// A new reason for `kind` being unavailable.
    pub fn new(kind: BackendKind, reason: impl Into<String>) -> Self {
        Unavailable {
            kind,
            reason: reason.into(),
        }
    }
}

impl fmt::Display for Unavailable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind, self.reason)
    }
}

impl std::error::Error for Unavailable {}

/// One entry of a fallback chain: a backend kind and how to build it.
///
/// Building may fail with [`Unavailable`] (no adapter, CPU lacks the
/// features, problem too small to pay for the GPU…); [`select`] then moves
/// on to the next candidate.
pub struct Candidate<'a, T> {
    kind: BackendKind,
    build: Box<dyn FnOnce() -> Result<T, Unavailable> + 'a>,
}

impl<'a, T> Candidate<'a, T> {
    /// A candidate of `kind`, built by `build` only if selection reaches it.
    pub fn new(kind: BackendKind, build: impl FnOnce() -> Result<T, Unavailable> + 'a) -> Self {
        Candidate {
            kind,
            build: Box::new(build),
        }
    }

    /// The kind this candidate would run on.
    pub fn kind(&self) -> BackendKind {
        self.kind
    }

    /// Builds the candidate.
    pub fn build(self) -> Result<T, Unavailable> {
        (self.build)()
    }
}

impl<T> fmt::Debug for Candidate<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Candidate")
            .field("kind", &self.kind)
            .finish_non_exhaustive()
    }
}

/// The outcome of [`select`]: the chosen backend and why the others were not.
#[derive(Debug)]
pub struct Selection<T> {
    /// The built backend.
    pub backend: T,
    /// Its kind.
    pub kind: BackendKind,
    /// The preference that selection honoured.
    pub preference: Preference,
    /// Every candidate before the chosen one, with the reason it was skipped
    /// (excluded by a forced preference, or unavailable).
    pub skipped: Vec<Unavailable>,
}

impl<T> Selection<T> {
    /// Keeps the explanation and transforms the backend.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Selection<U> {
        Selection {
            backend: f(self.backend),
            kind: self.kind,
            preference: self.preference,
            skipped: self.skipped,
        }
    }
}

impl<T> fmt::Display for Selection<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "chose {} (preference {})", self.kind, self.preference)?;
        write_skipped(f, &self.skipped)
    }
}

fn write_skipped(f: &mut fmt::Formatter<'_>, skipped: &[Unavailable]) -> fmt::Result {
    for (i, why) in skipped.iter().enumerate() {
        let sep = if i == 0 { "; skipped " } else { ", " };
        write!(f, "{sep}{why}")?;
    }
    Ok(())
}

/// Why [`select`] found nothing to run on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SelectError {
    /// The preference forced a kind, and no candidate of that kind could be
    /// built. `tried` holds every candidate of the forced kind with its reason
    /// (empty when the chain has no candidate of that kind at all).
    ForcedUnavailable {
        /// The forced preference.
        preference: Preference,
        /// The candidates of that kind and why each failed.
        tried: Vec<Unavailable>,
    },
    /// `Auto`, and every candidate in the chain failed (a chain that ends in
    /// scalar never gives this).
    NoneAvailable {
        /// Every candidate and why it failed.
        tried: Vec<Unavailable>,
    },
}

impl fmt::Display for SelectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SelectError::ForcedUnavailable { preference, tried } if tried.is_empty() => write!(
                f,
                "backend {preference} was forced but this kernel has no {preference} implementation"
            ),
            SelectError::ForcedUnavailable { preference, tried } => {
                write!(f, "backend {preference} was forced but is unavailable: ")?;
                join(f, tried)
            }
            SelectError::NoneAvailable { tried } => {
                write!(f, "no backend is available: ")?;
                join(f, tried)
            }
        }
    }
}

fn join(f: &mut fmt::Formatter<'_>, list: &[Unavailable]) -> fmt::Result {
    for (i, why) in list.iter().enumerate() {
        if i > 0 {
            f.write_str("; ")?;
        }
        write!(f, "{why}")?;
    }
    Ok(())
}

impl std::error::Error for SelectError {}

/// Walks `chain` best-first and returns the first candidate that `preference`
/// admits and that builds.
///
/// Under `Auto` an unavailable candidate is skipped (with its reason) and
/// the next one tried. Under a forced preference, candidates of other kinds
/// are skipped as "excluded", and if no candidate of the forced kind builds
/// the result is [`SelectError::ForcedUnavailable`]: never a silent fallback.
pub fn select<'a, T>(
    preference: Preference,
    chain: impl IntoIterator<Item = Candidate<'a, T>>,
) -> Result<Selection<T>, SelectError> {
    let mut chosen = None;
    let (skipped, tried) = walk(preference, chain, |kind, backend| {
        chosen = Some((kind, backend));
        ControlFlow::Break(())
    });
    match chosen {
        Some((kind, backend)) => Ok(Selection {
            backend,
            kind,
            preference,
            skipped,
        }),
        None => Err(nothing_available(preference, tried)),
    }
}

/// Walks `chain` under `preference`, handing every candidate that is
/// admitted and builds to `on_built` until it breaks. Returns the skipped
/// candidates (excluded or failed, with reasons) and, of those, the ones
/// that were admitted but failed to build.
pub(crate) fn walk<'a, T>(
    preference: Preference,
    chain: impl IntoIterator<Item = Candidate<'a, T>>,
    mut on_built: impl FnMut(BackendKind, T) -> ControlFlow<()>,
) -> (Vec<Unavailable>, Vec<Unavailable>) {
    let mut skipped = Vec::new();
    let mut tried = Vec::new();
    for candidate in chain {
        let kind = candidate.kind();
        if !preference.admits(kind) {
            skipped.push(Unavailable::new(
                kind,
                format!("excluded by preference {preference}"),
            ));
            continue;
        }
        match candidate.build() {
            Ok(backend) => {
                if on_built(kind, backend).is_break() {
                    break;
                }
            }
            Err(why) => {
                tried.push(why.clone());
                skipped.push(why);
            }
        }
    }
    (skipped, tried)
}

/// The error for a walk that built nothing.
pub(crate) fn nothing_available(preference: Preference, tried: Vec<Unavailable>) -> SelectError {
    if preference.is_forced() {
        SelectError::ForcedUnavailable { preference, tried }
    } else {
        SelectError::NoneAvailable { tried }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SimdLevel;

    const AVX2: BackendKind = BackendKind::Simd(SimdLevel::Avx2Fma);
    const SSE: BackendKind = BackendKind::Simd(SimdLevel::Sse41);

    fn ok(kind: BackendKind) -> Candidate<'static, BackendKind> {
        Candidate::new(kind, move || Ok(kind))
    }

    fn missing(kind: BackendKind, why: &'static str) -> Candidate<'static, BackendKind> {
        Candidate::new(kind, move || Err(Unavailable::new(kind, why)))
    }

    #[test]
    fn auto_takes_the_first_available_and_reports_the_skipped() {
        let chain = vec![
            missing(BackendKind::Gpu, "no adapter"),
            missing(AVX2, "no avx2"),
            ok(SSE),
            ok(BackendKind::Scalar),
        ];
        let s = select(Preference::Auto, chain).unwrap();
        assert_eq!(s.backend, SSE);
        assert_eq!(s.kind, SSE);
        assert_eq!(
            s.skipped,
            vec![
                Unavailable::new(BackendKind::Gpu, "no adapter"),
                Unavailable::new(AVX2, "no avx2"),
            ]
        );
        let text = s.to_string();
        assert!(
            text.starts_with("chose simd (SSE4.1) (preference auto)"),
            "{text}"
        );
        assert!(text.contains("gpu: no adapter"), "{text}");
    }

    #[test]
    fn candidates_after_the_chosen_one_are_never_built() {
        let chain = vec![
            ok(BackendKind::Scalar),
            Candidate::new(BackendKind::Gpu, || -> Result<BackendKind, _> {
                panic!("must not be built")
            }),
        ];
        assert_eq!(
            select(Preference::Auto, chain).unwrap().kind,
            BackendKind::Scalar
        );
    }

    #[test]
    fn forced_kind_skips_the_others_as_excluded() {
        let chain = vec![ok(BackendKind::Gpu), ok(AVX2), ok(BackendKind::Scalar)];
        let s = select(Preference::Scalar, chain).unwrap();
        assert_eq!(s.kind, BackendKind::Scalar);
        assert_eq!(s.skipped.len(), 2);
        assert!(s.skipped.iter().all(|u| u.reason.contains("excluded")));
    }

    #[test]
    fn forced_simd_walks_the_simd_levels_best_first() {
        let chain = vec![missing(AVX2, "no avx2"), ok(SSE), ok(BackendKind::Scalar)];
        assert_eq!(select(Preference::Simd, chain).unwrap().kind, SSE);
    }

    #[test]
    fn forced_unavailable_is_an_error_not_a_fallback() {
        let chain = vec![
            missing(BackendKind::Gpu, "no adapter"),
            ok(AVX2),
            ok(BackendKind::Scalar),
        ];
        let err = select(Preference::Gpu, chain).unwrap_err();
        assert_eq!(
            err,
            SelectError::ForcedUnavailable {
                preference: Preference::Gpu,
                tried: vec![Unavailable::new(BackendKind::Gpu, "no adapter")],
            }
        );
        assert_eq!(
            err.to_string(),
            "backend gpu was forced but is unavailable: gpu: no adapter"
        );
    }

    #[test]
    fn forced_kind_absent_from_the_chain_is_an_error() {
        let err = select(Preference::Gpu, vec![ok(BackendKind::Scalar)]).unwrap_err();
        assert!(matches!(
            &err,
            SelectError::ForcedUnavailable { tried, .. } if tried.is_empty()
        ));
        assert!(err.to_string().contains("no gpu implementation"));
    }

    #[test]
    fn auto_with_nothing_available_lists_every_reason() {
        let chain = vec![missing(BackendKind::Gpu, "a"), missing(SSE, "b")];
        let err = select(Preference::Auto, chain).unwrap_err();
        assert_eq!(
            err.to_string(),
            "no backend is available: gpu: a; simd (SSE4.1): b"
        );
        let empty: Vec<Candidate<'_, ()>> = Vec::new();
        assert!(matches!(
            select(Preference::Auto, empty),
            Err(SelectError::NoneAvailable { tried }) if tried.is_empty()
        ));
    }

    #[test]
    fn map_keeps_the_explanation() {
        let chain = vec![missing(BackendKind::Gpu, "x"), ok(BackendKind::Scalar)];
        let s = select(Preference::Auto, chain).unwrap().map(|k| k.label());
        assert_eq!(s.backend, "scalar");
        assert_eq!(s.skipped.len(), 1);
    }
}

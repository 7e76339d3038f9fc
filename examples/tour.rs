//! The vivace tour: what this machine offers, what each backend preference
//! resolves to and why, and a short real workload from every crate that
//! has landed.
//!
//! ```text
//! cargo run --release --example tour
//! VIVACE_BACKEND=scalar cargo run --release --example tour
//! ```
//!
//! A forced backend (`VIVACE_BACKEND=gpu|simd|scalar`) that is unavailable
//! ends the tour with a one-line reason and exit code 2.

use vivace_backend::{
    BackendKind, Candidate, CapabilityReport, Preference, SimdLevel, Unavailable, select,
};
use vivace_examples::{exit_usage, or_exit};

/// The standard chain every vivace crate walks: GPU, SIMD best first, scalar.
fn standard_chain<'a>() -> Vec<Candidate<'a, BackendKind>> {
    let mut chain = vec![Candidate::new(BackendKind::Gpu, || {
        Err(Unavailable::new(
            BackendKind::Gpu,
            "no GPU runtime in this build yet (vivace-gpu-compute has not landed)",
        ))
    })];
    for level in [
        SimdLevel::Avx512,
        SimdLevel::Avx2Fma,
        SimdLevel::Sse41,
        SimdLevel::Neon,
        SimdLevel::Simd128,
    ] {
        let kind = BackendKind::Simd(level);
        chain.push(Candidate::new(kind, move || {
            match level.unavailable_reason() {
                None => Ok(kind),
                Some(reason) => Err(Unavailable::new(kind, reason)),
            }
        }));
    }
    chain.push(Candidate::new(BackendKind::Scalar, || {
        Ok(BackendKind::Scalar)
    }));
    chain
}

fn main() {
    let preference = or_exit(Preference::from_env(), Preference::ENV_VAR);

    println!("vivace tour\n");
    println!("capability report:");
    println!("{}\n", CapabilityReport::detect());

    println!("backend selection on the standard chain (gpu, simd best first, scalar):");
    for candidate_preference in [
        Preference::Auto,
        Preference::Scalar,
        Preference::Simd,
        Preference::Gpu,
    ] {
        match select(candidate_preference, standard_chain()) {
            Ok(selection) => {
                // Candidates a forced preference excludes are noise here;
                // show only the ones that were tried and failed.
                let failed: Vec<String> = selection
                    .skipped
                    .iter()
                    .filter(|u| candidate_preference.admits(u.kind))
                    .map(ToString::to_string)
                    .collect();
                println!(
                    "  {:<6} -> {}",
                    candidate_preference.as_str(),
                    selection.kind
                );
                for why in failed {
                    println!("             skipped {why}");
                }
            }
            Err(e) => println!("  {:<6} -> error: {e}", candidate_preference.as_str()),
        }
    }

    let chosen = match select(preference, standard_chain()) {
        Ok(selection) => selection,
        Err(e) => exit_usage(format_args!("{}={preference}: {e}", Preference::ENV_VAR)),
    };
    println!("\nthis run (VIVACE_BACKEND={preference}): {}", chosen.kind);
}

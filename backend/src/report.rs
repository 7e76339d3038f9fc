//! A printable report of what this machine offers.

use std::fmt;

use crate::SimdLevel;

/// What this machine offers to vivace: CPU architecture, SIMD levels,
/// threads, and any lines other crates add (vivace-gpu-compute adds the GPU).
///
/// ```
/// let report = vivace_backend::CapabilityReport::detect().with_line("gpu", "none");
/// let text = report.to_string();
/// assert!(text.contains("threads"));
/// assert!(text.contains("gpu"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CapabilityReport {
    /// CPU architecture (`std::env::consts::ARCH`).
    pub arch: &'static str,
    /// Operating system (`std::env::consts::OS`).
    pub os: &'static str,
    /// Every SIMD level this CPU has, best first.
    pub simd_levels: &'static [SimdLevel],
    /// Hardware threads available to this process.
    pub threads: usize,
    /// Further `(topic, text)` lines added by other crates.
    pub extra: Vec<(String, String)>,
}

impl CapabilityReport {
    /// Detects the CPU side of the report (cached SIMD detection).
    pub fn detect() -> Self {
        CapabilityReport {
            arch: std::env::consts::ARCH,
            os: std::env::consts::OS,
            simd_levels: SimdLevel::available(),
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
            extra: Vec::new(),
        }
    }

    /// The best SIMD level, if any.
    pub fn simd(&self) -> Option<SimdLevel> {
        self.simd_levels.first().copied()
    }

    /// Adds a `topic: text` line (builder style).
    pub fn with_line(mut self, topic: impl Into<String>, text: impl Into<String>) -> Self {
        self.push_line(topic, text);
        self
    }

    /// Adds a `topic: text` line.
    pub fn push_line(&mut self, topic: impl Into<String>, text: impl Into<String>) {
        self.extra.push((topic.into(), text.into()));
    }
}

impl fmt::Display for CapabilityReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let width = self
            .extra
            .iter()
            .map(|(topic, _)| topic.len())
            .chain([7])
            .max()
            .unwrap_or(7)
            + 1;
        writeln!(f, "  {:<width$} {} ({})", "cpu:", self.arch, self.os)?;
        let simd = match self.simd_levels {
            [] => "none (scalar only)".to_string(),
            [best] => best.to_string(),
            [best, rest @ ..] => {
                let rest: Vec<_> = rest.iter().map(|l| l.name()).collect();
                format!("{best} (also {})", rest.join(", "))
            }
        };
        writeln!(f, "  {:<width$} {simd}", "simd:")?;
        write!(f, "  {:<width$} {}", "threads:", self.threads)?;
        for (topic, text) in &self.extra {
            write!(f, "\n  {:<width$} {text}", format!("{topic}:"))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_names_arch_simd_and_threads() {
        let report = CapabilityReport::detect();
        assert!(report.threads >= 1);
        assert_eq!(report.simd(), SimdLevel::detect());
        let text = report.to_string();
        assert!(text.contains(std::env::consts::ARCH), "{text}");
        assert!(
            text.contains(&format!("threads: {}", report.threads)),
            "{text}"
        );
        match report.simd() {
            Some(level) => assert!(text.contains(level.name()), "{text}"),
            None => assert!(text.contains("scalar only"), "{text}"),
        }
    }

    #[test]
    fn extra_lines_are_appended_in_order() {
        let report = CapabilityReport::detect()
            .with_line("gpu", "llvmpipe (software)")
            .with_line("audio", "48 kHz");
        let text = report.to_string();
        let gpu = text.find("gpu:").unwrap();
        let audio = text.find("audio:").unwrap();
        assert!(gpu < audio);
        assert!(text.ends_with("48 kHz"));
    }
}

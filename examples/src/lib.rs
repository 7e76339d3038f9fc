/*!
Helpers shared by the vivace example programs (`cargo run --release
--example NAME`; the programs are the `*.rs` files next to this crate's
`Cargo.toml`).

Every example follows one convention for bad input: print one line that
says what is wrong to stderr and exit with code 2 ([`exit_usage`]).
*/
#![deny(missing_docs)]

use std::fmt::Display;

/// Exit code for bad input or an unusable configuration.
pub const EXIT_USAGE: i32 = 2;

/// Prints `error: {message}` as one line on stderr and exits with code 2.
pub fn exit_usage(message: impl Display) -> ! {
    let text = message.to_string().replace('\n', " ");
    eprintln!("error: {text}");
    std::process::exit(EXIT_USAGE)
}

/// Unwraps `result`, or exits with code 2 and a one-line message naming
/// `context`.
pub fn or_exit<T, E: Display>(result: Result<T, E>, context: &str) -> T {
    result.unwrap_or_else(|e| exit_usage(format_args!("{context}: {e}")))
}

/// Formats a rate with an SI prefix: `format_rate(2.5e9, "B/s")` is
/// `"2.50 GB/s"`.
pub fn format_rate(per_second: f64, unit: &str) -> String {
    let (value, prefix) = match per_second.abs() {
        x if x >= 1e12 => (per_second / 1e12, "T"),
        x if x >= 1e9 => (per_second / 1e9, "G"),
        x if x >= 1e6 => (per_second / 1e6, "M"),
        x if x >= 1e3 => (per_second / 1e3, "k"),
        _ => (per_second, ""),
    };
    format!("{value:.2} {prefix}{unit}")
}

/// Draws frame time (top, blue, with the budget as a red line) and quality
/// (bottom, green; `reference` quality in grey if given) over frames into a
/// PNG. No text, so no font is needed; say what the lines are on stdout.
pub fn plot_frames(
    path: &std::path::Path,
    frame_ms: &[f64],
    quality: &[f64],
    reference: Option<&[f64]>,
    budget_ms: f64,
) -> Result<(), Box<dyn std::error::Error>> {
    use plotters::prelude::*;
    let root = BitMapBackend::new(path, (1200, 700)).into_drawing_area();
    root.fill(&WHITE)?;
    let (top, bottom) = root.split_vertically(350);
    let frames = frame_ms.len().max(2) as f64;
    let max_ms = frame_ms
        .iter()
        .copied()
        .fold(budget_ms * 1.5, f64::max)
        .min(budget_ms * 4.0);
    let series = |values: &[f64], cap: f64| -> Vec<(f64, f64)> {
        values
            .iter()
            .enumerate()
            .map(|(i, &v)| (i as f64, v.min(cap)))
            .collect()
    };
    let mut chart = ChartBuilder::on(&top)
        .margin(15)
        .build_cartesian_2d(0f64..frames, 0f64..max_ms)?;
    chart.draw_series(LineSeries::new(series(frame_ms, max_ms), &BLUE))?;
    chart.draw_series(LineSeries::new(
        [(0.0, budget_ms), (frames, budget_ms)],
        &RED,
    ))?;
    let mut chart = ChartBuilder::on(&bottom)
        .margin(15)
        .build_cartesian_2d(0f64..frames, 0f64..1.05)?;
    if let Some(reference) = reference {
        chart.draw_series(LineSeries::new(
            series(reference, 1.05),
            &RGBColor(160, 160, 160),
        ))?;
    }
    chart.draw_series(LineSeries::new(series(quality, 1.05), &GREEN))?;
    root.present()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_use_si_prefixes() {
        assert_eq!(format_rate(2.5e9, "B/s"), "2.50 GB/s");
        assert_eq!(format_rate(999.0, "op/s"), "999.00 op/s");
        assert_eq!(format_rate(1.5e6, "op/s"), "1.50 Mop/s");
    }
}

//! Draws what vivace-dsp settings do: the 3-band EQ's magnitude response
//! and the compressor's static curve, as PNG files.
//!
//! ```text
//! cargo run --release --example dsp_plots -- [--out DIR]
//! ```
//!
//! `eq_response.png`: magnitude (−15 … +15 dB) over 20 Hz … 20 kHz on a log
//! axis; grey = each band alone (low shelf 120 Hz +6 dB, bell 1 kHz −8 dB
//! Q 1.4, high shelf 8 kHz +4 dB), blue = the whole EQ, black = 0 dB.
//! `compressor_curve.png`: output level against input level (−60 … 0 dBFS);
//! black = unity, blue = hard knee, green = 12 dB soft knee, both −24 dB
//! threshold, 4:1. The plots carry no text (no font is bundled); this
//! description is printed when they are written.

use std::path::PathBuf;

use plotters::prelude::*;
use vivace_dsp::{Bell, CompressorSettings, EqSettings, Shelf};
use vivace_examples::{exit_usage, or_exit};

const FS: f64 = 48_000.0;

fn main() {
    let mut out = PathBuf::from(".");
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--out" => {
                out = PathBuf::from(
                    args.next()
                        .unwrap_or_else(|| exit_usage("--out needs a directory")),
                )
            }
            other => exit_usage(format_args!(
                "unknown argument {other}; usage: dsp_plots [--out DIR]"
            )),
        }
    }
    if !out.is_dir() {
        exit_usage(format_args!("{} is not a directory", out.display()));
    }
    let eq = EqSettings {
        low_shelf: Some(Shelf::new(120.0, 6.0)),
        mid: Some(Bell {
            frequency: 1_000.0,
            gain_db: -8.0,
            q: 1.4,
        }),
        high_shelf: Some(Shelf::new(8_000.0, 4.0)),
    };
    let eq_path = out.join("eq_response.png");
    or_exit(plot_eq(&eq, &eq_path), "eq plot");
    let curve_path = out.join("compressor_curve.png");
    or_exit(plot_compressor(&curve_path), "compressor plot");
    println!(
        "wrote {}: EQ magnitude, 20 Hz–20 kHz (log), −15…+15 dB; grey: bands, blue: EQ, black: 0 dB",
        eq_path.display()
    );
    println!(
        "wrote {}: compressor static curve, −60…0 dBFS in and out; black: unity, blue: hard knee, green: 12 dB knee (T −24 dB, 4:1)",
        curve_path.display()
    );
}

fn plot_eq(eq: &EqSettings, path: &std::path::Path) -> Result<(), Box<dyn std::error::Error>> {
    let root = BitMapBackend::new(path, (1000, 500)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .margin(20)
        .build_cartesian_2d((20f64..20_000f64).log_scale(), -15f64..15f64)?;
    let freqs: Vec<f64> = (0..=400)
        .map(|k| 20.0 * 1000f64.powf(k as f64 / 400.0))
        .collect();
    let bands = eq.coefficients(FS)?;
    for c in bands.iter().flatten() {
        chart.draw_series(LineSeries::new(
            freqs.iter().map(|&f| (f, c.magnitude_db(f, FS))),
            &RGBColor(170, 170, 170),
        ))?;
    }
    let total: Vec<(f64, f64)> = freqs
        .iter()
        .map(|&f| (f, eq.magnitude_db(f, FS).unwrap_or(0.0)))
        .collect();
    chart.draw_series(LineSeries::new(total, BLUE.stroke_width(2)))?;
    chart.draw_series(LineSeries::new([(20.0, 0.0), (20_000.0, 0.0)], &BLACK))?;
    root.present()?;
    Ok(())
}

fn plot_compressor(path: &std::path::Path) -> Result<(), Box<dyn std::error::Error>> {
    let root = BitMapBackend::new(path, (600, 600)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .margin(20)
        .build_cartesian_2d(-60f64..0f64, -60f64..0f64)?;
    chart.draw_series(LineSeries::new([(-60.0, -60.0), (0.0, 0.0)], &BLACK))?;
    for (knee, color) in [(0.0, BLUE), (12.0, GREEN)] {
        let comp = CompressorSettings {
            threshold_db: -24.0,
            ratio: 4.0,
            knee_db: knee,
            ..Default::default()
        };
        let points = (0..=600).map(|k| {
            let x = -60.0 + k as f64 * 0.1;
            (x, comp.static_curve_db(x))
        });
        chart.draw_series(LineSeries::new(points, color.stroke_width(2)))?;
    }
    root.present()?;
    Ok(())
}

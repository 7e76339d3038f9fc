//! Replays a frame-load trace through a quality governor.
//!
//! ```text
//! cargo run --release --example governor_sim -- --trace TRACE.csv --target-fps F \
//!     --governor step|default [--output OUT.csv] [--plot OUT.png]
//! ```
//!
//! TRACE.csv has the header `fixed_ms,variable_ms` and one row per frame;
//! the frame time at quality q is `fixed_ms + variable_ms × q`. OUT.csv gets
//! `frame,quality,frame_ms`. Prints the scores (frames over budget, p99,
//! mean quality, reversals, settling after load steps, shortfall against an
//! oracle that knows the load). `--plot` draws frame time (top, with the
//! budget line) and quality (bottom, with the oracle's in grey). Bad input:
//! one line naming the problem (and the CSV line), exit code 2.

use std::path::PathBuf;

use vivace_examples::{exit_usage, or_exit, plot_frames};
use vivace_perf_adapt::sim::{FrameRecord, Scenario, simulate};
use vivace_perf_adapt::{BudgetConfig, BudgetGovernor, Governor, QualityBounds, StepGovernor};

const USAGE: &str = "usage: governor_sim --trace TRACE.csv --target-fps F --governor step|default [--output OUT.csv] [--plot OUT.png]";

struct Args {
    trace: PathBuf,
    target_fps: f64,
    governor: String,
    output: Option<PathBuf>,
    plot: Option<PathBuf>,
}

fn parse_args() -> Args {
    let mut args = std::env::args().skip(1);
    let (mut trace, mut fps, mut governor, mut output, mut plot) = (None, None, None, None, None);
    while let Some(flag) = args.next() {
        let mut value = || {
            args.next()
                .unwrap_or_else(|| exit_usage(format_args!("{flag} needs a value; {USAGE}")))
        };
        match flag.as_str() {
            "--trace" => trace = Some(PathBuf::from(value())),
            "--target-fps" => {
                let v = value();
                let parsed: f64 = v.parse().unwrap_or_else(|_| {
                    exit_usage(format_args!("--target-fps `{v}` is not a number"))
                });
                if !(parsed.is_finite() && parsed > 0.0) {
                    exit_usage(format_args!("--target-fps must be > 0, got {v}"));
                }
                fps = Some(parsed);
            }
            "--governor" => {
                let v = value();
                if v != "step" && v != "default" {
                    exit_usage(format_args!(
                        "--governor must be step or default, got `{v}`"
                    ));
                }
                governor = Some(v);
            }
            "--output" => output = Some(PathBuf::from(value())),
            "--plot" => plot = Some(PathBuf::from(value())),
            "-h" | "--help" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            other => exit_usage(format_args!("unknown option `{other}`; {USAGE}")),
        }
    }
    Args {
        trace: trace.unwrap_or_else(|| exit_usage(format_args!("--trace is required; {USAGE}"))),
        target_fps: fps
            .unwrap_or_else(|| exit_usage(format_args!("--target-fps is required; {USAGE}"))),
        governor: governor
            .unwrap_or_else(|| exit_usage(format_args!("--governor is required; {USAGE}"))),
        output,
        plot,
    }
}

fn main() {
    let args = parse_args();
    let text = or_exit(
        std::fs::read_to_string(&args.trace),
        &args.trace.display().to_string(),
    );
    let name = args.trace.display().to_string();
    let scenario = or_exit(
        Scenario::from_trace_csv(&name, &text, args.target_fps),
        &name,
    );

    let config = BudgetConfig::new(args.target_fps);
    let mut governor: Box<dyn Governor> = match args.governor.as_str() {
        "step" => Box::new(or_exit(StepGovernor::new(args.target_fps), "governor")),
        _ => Box::new(or_exit(BudgetGovernor::new(config), "governor")),
    };
    let run = simulate(
        &scenario,
        governor.as_mut(),
        config.headroom,
        QualityBounds::default(),
    );

    let s = &run.scores;
    println!(
        "trace:        {} ({} frames, budget {:.2} ms at {} FPS)",
        name,
        run.trace.len(),
        scenario.budget_ms(),
        args.target_fps
    );
    println!("governor:     {}", governor.name());
    println!(
        "over budget:  {:.1}% of frames (oracle {:.1}%)",
        s.over_budget_pct, s.oracle_over_budget_pct
    );
    println!("p99 frame:    {:.2} ms", s.p99_ms);
    println!(
        "mean quality: {:.3} (oracle {:.3})",
        s.mean_quality, s.oracle_mean_quality
    );
    println!(
        "reversals:    {} (at most {} between load steps)",
        s.reversals, s.max_reversals_per_step
    );
    println!(
        "load steps:   {} at frames {:?}",
        s.settle_frames.len(),
        scenario.load_steps()
    );
    println!("settle:       {:?} frames", s.settle_frames);
    println!(
        "shortfall:    {:.3} mean quality below the oracle",
        s.shortfall
    );

    if let Some(path) = &args.output {
        let mut csv = String::from("frame,quality,frame_ms\n");
        for r in &run.trace {
            csv.push_str(&format!("{},{:.6},{:.6}\n", r.frame, r.quality, r.frame_ms));
        }
        or_exit(std::fs::write(path, csv), &path.display().to_string());
        println!("wrote {}", path.display());
    }
    if let Some(path) = &args.plot {
        let column = |f: fn(&FrameRecord) -> f64| run.trace.iter().map(f).collect::<Vec<_>>();
        let plotted = plot_frames(
            path,
            &column(|r| r.frame_ms),
            &column(|r| r.quality),
            Some(&column(|r| r.oracle_quality)),
            scenario.budget_ms(),
        );
        or_exit(plotted, &path.display().to_string());
        println!(
            "plotted {} (top: frame time, red line = budget; bottom: quality, grey = oracle)",
            path.display()
        );
    }
}

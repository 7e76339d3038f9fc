//! Runs an N-body system with kick-drift-kick leapfrog.
//!
//! ```text
//! cargo run --release --example nbody -- (--input BODIES.csv | --generate plummer:N:SEED) \
//!     --steps N --dt DT --softening EPS [--g G] [--method direct|barnes-hut] [--theta T] \
//!     [--backend auto|scalar|simd|gpu] [--output OUT.csv]
//! ```
//!
//! CSV: a header `x,y,z,vx,vy,vz,m`, one body a row; the output has the same
//! columns after the steps. Prints the initial and final total energy, the
//! relative drift and the speed. Bad input: one line naming the problem
//! (and the CSV line), exit code 2.

use std::path::PathBuf;
use std::time::Instant;

use vivace_backend::{Backend, BackendKind, Preference};
use vivace_examples::{exit_usage, format_rate, or_exit};
use vivace_particles::{BarnesHut, Bodies, Gravity, GravityKernel, Simulation, ic, select_direct};

const USAGE: &str = "usage: nbody (--input BODIES.csv | --generate plummer:N:SEED) --steps N --dt DT --softening EPS [--g G] [--method direct|barnes-hut] [--theta T] [--backend auto|scalar|simd|gpu] [--output OUT.csv]";

struct Args {
    input: Option<PathBuf>,
    generate: Option<(usize, u64)>,
    steps: u64,
    dt: f32,
    softening: f32,
    g: f32,
    barnes_hut: bool,
    theta: f32,
    backend: Preference,
    output: Option<PathBuf>,
}

fn number<T: std::str::FromStr>(flag: &str, value: &str) -> T {
    value
        .parse()
        .unwrap_or_else(|_| exit_usage(format_args!("{flag} `{value}` is not a valid number")))
}

fn parse_args() -> Args {
    let mut args = std::env::args().skip(1);
    let mut a = Args {
        input: None,
        generate: None,
        steps: 0,
        dt: 0.0,
        softening: 0.0,
        g: 1.0,
        barnes_hut: false,
        theta: 0.5,
        backend: Preference::Auto,
        output: None,
    };
    let (mut steps, mut dt, mut softening) = (None, None, None);
    while let Some(flag) = args.next() {
        let mut value = || {
            args.next()
                .unwrap_or_else(|| exit_usage(format_args!("{flag} needs a value; {USAGE}")))
        };
        match flag.as_str() {
            "--input" => a.input = Some(PathBuf::from(value())),
            "--generate" => {
                let spec = value();
                let parts: Vec<&str> = spec.split(':').collect();
                match parts.as_slice() {
                    ["plummer", n, seed] => {
                        let n: usize = number("--generate N", n);
                        if n == 0 {
                            exit_usage("--generate needs at least 1 body");
                        }
                        a.generate = Some((n, number("--generate SEED", seed)));
                    }
                    _ => exit_usage(format_args!(
                        "--generate must be plummer:N:SEED, got `{spec}`"
                    )),
                }
            }
            "--steps" => steps = Some(number::<u64>("--steps", &value())),
            "--dt" => dt = Some(number::<f32>("--dt", &value())),
            "--softening" => softening = Some(number::<f32>("--softening", &value())),
            "--g" => a.g = number("--g", &value()),
            "--method" => {
                a.barnes_hut = match value().as_str() {
                    "direct" => false,
                    "barnes-hut" => true,
                    other => exit_usage(format_args!(
                        "--method must be direct or barnes-hut, got `{other}`"
                    )),
                }
            }
            "--theta" => a.theta = number("--theta", &value()),
            "--backend" => a.backend = or_exit(value().parse::<Preference>(), "--backend"),
            "--output" => a.output = Some(PathBuf::from(value())),
            "-h" | "--help" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            other => exit_usage(format_args!("unknown option `{other}`; {USAGE}")),
        }
    }
    if a.input.is_some() == a.generate.is_some() {
        exit_usage(format_args!(
            "give exactly one of --input or --generate; {USAGE}"
        ));
    }
    a.steps = steps.unwrap_or_else(|| exit_usage(format_args!("--steps is required; {USAGE}")));
    a.dt = dt.unwrap_or_else(|| exit_usage(format_args!("--dt is required; {USAGE}")));
    a.softening =
        softening.unwrap_or_else(|| exit_usage(format_args!("--softening is required; {USAGE}")));
    if !(a.dt.is_finite() && a.dt > 0.0) {
        exit_usage(format_args!("--dt must be > 0, got {}", a.dt));
    }
    a
}

fn main() {
    let args = parse_args();
    let bodies = match (&args.input, args.generate) {
        (Some(path), _) => {
            let text = or_exit(std::fs::read_to_string(path), &path.display().to_string());
            or_exit(Bodies::from_csv(&text), &path.display().to_string())
        }
        (None, Some((n, seed))) => or_exit(ic::plummer(n, seed), "--generate"),
        (None, None) => unreachable!("checked in parse_args"),
    };
    let gravity = or_exit(Gravity::new(args.g, args.softening), "parameters");
    let n = bodies.len();

    let kernel: Box<dyn GravityKernel> = if args.barnes_hut {
        if !matches!(args.backend, Preference::Auto | Preference::Scalar) {
            exit_usage(format_args!(
                "--method barnes-hut runs on scalar x threads only; --backend {} is not available for it",
                args.backend
            ));
        }
        Box::new(or_exit(BarnesHut::new(args.theta), "--theta"))
    } else {
        let selection = or_exit(select_direct(args.backend, n), "--backend");
        for why in selection
            .skipped
            .iter()
            .filter(|u| args.backend.admits(u.kind))
        {
            println!("skipped {why}");
        }
        selection.backend
    };
    println!("bodies:   {n}");
    println!("method:   {}", kernel.name());

    let mut sim = or_exit(Simulation::new(bodies, kernel, gravity), "bodies");
    let e0 = sim.diagnostics().total_energy();
    let start = Instant::now();
    or_exit(sim.run(args.steps, args.dt), "simulation");
    let elapsed = start.elapsed().as_secs_f64();
    let e1 = sim.diagnostics().total_energy();

    println!("steps:    {} of dt = {}", args.steps, args.dt);
    println!("energy:   initial {e0:.9}, final {e1:.9}");
    println!("drift:    |ΔE/E| = {:.3e}", ((e1 - e0) / e0).abs());
    // One force evaluation per step (plus the first); the direct sum does
    // N² pair interactions per evaluation.
    let evaluations = (args.steps + u64::from(args.steps > 0)) as f64;
    println!(
        "time:     {elapsed:.3} s ({:.1} steps/s)",
        args.steps as f64 / elapsed.max(1e-12)
    );
    if args.barnes_hut {
        println!(
            "speed:    {} (direct-sum equivalent: {})",
            format_rate(
                evaluations * n as f64 / elapsed.max(1e-12),
                "body-updates/s"
            ),
            format_rate(
                evaluations * (n * n) as f64 / elapsed.max(1e-12),
                "interactions/s"
            )
        );
    } else {
        println!(
            "speed:    {}",
            format_rate(
                evaluations * (n * n) as f64 / elapsed.max(1e-12),
                "interactions/s"
            )
        );
    }
    if sim.kernel().kind() == BackendKind::Gpu {
        println!("          (GPU time includes the per-step upload and readback)");
    }
    if let Some(path) = &args.output {
        or_exit(
            std::fs::write(path, sim.bodies().to_csv()),
            &path.display().to_string(),
        );
        println!("wrote {}", path.display());
    }
}

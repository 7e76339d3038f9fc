//! Lists every GPU adapter wgpu can see, the one vivace picks, and its
//! limits and features; with `--crossovers`, also where the GPU starts to
//! pay on this machine, measured the way the crates' calibration measures
//! it (the dsp strip kernel for offline rendering, the vectorize pixel
//! stages).
//!
//! ```text
//! cargo run --release --example gpu_info [-- --crossovers]
//! WGPU_BACKEND=vulkan WGPU_ADAPTER_NAME=llvmpipe cargo run --release --example gpu_info
//! ```
//!
//! Exits with code 2 and one line when no adapter can be used or an
//! argument is not understood.

use vivace_backend::Preference;
use vivace_examples::{exit_usage, or_exit};
use vivace_gpu_compute::{GpuContext, list_adapters};

const USAGE: &str = "usage: gpu_info [--crossovers]";

fn main() {
    let mut crossovers = false;
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "--crossovers" => crossovers = true,
            "-h" | "--help" => {
                println!("{USAGE}");
                return;
            }
            other => exit_usage(format_args!("unknown argument {other:?}; {USAGE}")),
        }
    }
    let adapters = list_adapters();
    println!("adapters wgpu can see ({}):", adapters.len());
    for (summary, limits, features) in &adapters {
        println!("  - {summary}");
        println!("      driver: {}", summary.driver);
        println!(
            "      max buffer {} MiB, max storage binding {} MiB, {} workgroups per dimension",
            limits.max_buffer_size >> 20,
            limits.max_storage_buffer_binding_size >> 20,
            limits.max_compute_workgroups_per_dimension
        );
        println!(
            "      timestamp queries: {}",
            if features.contains(vivace_gpu_compute::wgpu::Features::TIMESTAMP_QUERY) {
                "yes"
            } else {
                "no"
            }
        );
    }

    let ctx = GpuContext::new().unwrap_or_else(|e| exit_usage(e));
    println!("\nchosen: {}", ctx.report_line());
    let limits = ctx.limits();
    println!("device limits requested:");
    println!(
        "  max_buffer_size:                  {}",
        limits.max_buffer_size
    );
    println!(
        "  max_storage_buffer_binding_size:  {}",
        limits.max_storage_buffer_binding_size
    );
    println!(
        "  max_compute_workgroups_per_dim:   {}",
        limits.max_compute_workgroups_per_dimension
    );
    println!(
        "  max_compute_invocations_per_wg:   {}",
        limits.max_compute_invocations_per_workgroup
    );
    println!(
        "  max_compute_workgroup_storage:    {}",
        limits.max_compute_workgroup_storage_size
    );
    println!("device features: {:?}", ctx.features());
    if crossovers {
        print_crossovers();
    }
}

/// The dsp strip kernel calibrated for offline renders of growing width,
/// then the vectorize pixel stages' crossover up to 16 MP.
fn print_crossovers() {
    use vivace_dsp::{MixerConfig, calibrate_strip_kernel};
    let block = 4096;
    println!("\ndsp offline render ({block}-frame blocks, full strips), calibrated:");
    for strips in [64usize, 256, 1024, 4096, 16384] {
        let config = MixerConfig::new(48_000.0, strips).with_max_block(block);
        let selection = or_exit(calibrate_strip_kernel(Preference::Auto, &config), "dsp");
        println!("  {strips:>6} strips: {} chosen", selection.kind);
        for skipped in &selection.skipped {
            println!("      {skipped}");
        }
    }
    let gpu = or_exit(vivace_vectorize::gpu::GpuPixels::shared(), "vectorize");
    let crossover = or_exit(gpu.measure_crossover(1 << 24), "vectorize");
    println!("\nvectorize pixel stages (luma histogram + 16-colour assignment):");
    match crossover.min_pixels {
        Some(n) => println!("  GPU from {n} pixels"),
        None => println!("  GPU never faster"),
    }
    for p in &crossover.points {
        println!(
            "  {:>9} px: cpu {:>10.3?}, gpu {:>10.3?}",
            p.pixels, p.cpu, p.gpu
        );
    }
}
